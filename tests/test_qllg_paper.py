"""The paper's statements on the dimer (seed 004, Figs. 1-4) as assertions, with independent routes for the
asymptotes (ground state of eq. 10) and the Werner / pure-state identities (spec qllg.md section 2)."""
import numpy as np
import pytest

from fem_stt.atomistic.qllg import QLLG, bell_state
from fem_stt.atomistic.qllg.observables import bloch_vectors, concurrence, correlation_matrix, zero_intervals
from fem_stt.atomistic.qllg.paper import KAPPA, DimerCase, figure_cases, initial_state, run_case

PS = 1e-12


@pytest.fixture(scope="module")
def figs():
    out = {}
    for cases in figure_cases().values():
        for c in cases:
            out[c.name] = (c, run_case(c, n_out=601))
    return out


def ground(case: DimerCase):
    H = case.hamiltonian().dense()
    w, W = np.linalg.eigh(H)
    assert w[1] - w[0] > 1e-3 * abs(w).max()  # non-degenerate: the asymptote is unique
    return W[:, 0]


def at(tr, t_ps):
    return int(np.argmin(np.abs(tr.t - t_ps * PS)))


def test_fig1b_afm_dimer_tends_to_the_singlet(figs):
    c, tr = figs["fig1b"]
    F = tr.observables["F_singlet"]
    assert F[at(tr, 40)] > 0.999
    assert np.abs(np.linalg.norm(tr.observables["r1"][at(tr, 40):], axis=1)).max() < 1e-2
    assert np.abs(tr.observables["T"][-1] + np.eye(3)).max() < 1e-3  # T -> diag(-1, -1, -1)
    assert tr.observables["purity"].min() > 1 - 1e-10  # the quenched Bloch vector is not a loss of purity


def test_fig1a_fm_saturates_along_b(figs):
    for name in ("fig1a", "fig1c"):
        c, tr = figs[name]
        r_end = tr.observables["r1"][-1]
        g = bloch_vectors(ground(c), [0.5, 0.5])[0]
        assert np.abs(r_end - g).max() < 1e-3, name  # the lowest eigenstate with nonzero overlap
    assert np.abs(figs["fig1a"][1].observables["r1"][-1] - [1, 0, 0]).max() < 1e-4


def test_fig1d_fig2b_dmi_keeps_a_small_bloch_vector_and_antisymmetric_t(figs):
    c, tr = figs["fig1d"]
    r = np.linalg.norm(tr.observables["r1"][-1])
    g = ground(c)
    assert 0.05 < r < 0.3
    assert r == pytest.approx(np.linalg.norm(bloch_vectors(g, [0.5, 0.5])[0]), abs=1e-3)
    T = figs["fig2b"][1].observables["T"][-1]
    Tg = correlation_matrix(g)
    assert abs(T[0, 1] + T[1, 0]) < 1e-3 and abs(T[0, 1]) > 0.3  # T_xy = -T_yx ("symmetric splitting")
    assert np.abs(T - Tg).max() < 2e-3


def test_fig3_pure_psi_plus(figs):
    """D = 0: B decays monotonically and the state tends to |->->> (no singlet component); D != 0: B tends
    to the ground-state value (near-maximal, not 1). For pure states B = C."""
    c, tr = figs["fig3_pure_D0"]
    B = tr.observables["B"]
    assert np.all(np.diff(B) <= 1e-9)
    assert B[-1] < 0.05
    for name in ("fig3_pure_D0.2", "fig3_pure_D0.4", "fig3_pure_D0.6"):
        c, tr = figs[name]
        assert np.abs(tr.observables["B"] - tr.observables["C"]).max() < 1e-6
        Bg = concurrence(ground(c))
        assert 0.9 < Bg < 1 - 1e-3 and tr.observables["B"][-1] == pytest.approx(Bg, abs=5e-3)


def test_fig3_werner_d0_loses_nonlocality_for_good(figs):
    c, tr = figs["fig3_werner_D0"]
    assert tr.observables["B"][0] == pytest.approx(np.sqrt(2 * 0.9 ** 2 - 1), abs=1e-12)
    iv = zero_intervals(tr.t, tr.observables["M"] - 1, lambda s: _m(tr, s) - 1)
    assert len(iv) == 1 and iv[0][1] == np.inf and 5 * PS < iv[0][0] < 30 * PS


def _m(tr, s):
    from fem_stt.atomistic.qllg.observables import chsh_m
    return chsh_m(tr.state_at(s))


def test_fig4_werner_revivals_for_afm_and_death_for_fm(figs):
    finite = 0
    for J, kind in ((1, "AFM"), (-1, "FM")):
        for b in ("Phi+", "Phi-", "Psi+", "Psi-"):
            c, tr = figs[f"fig4_{kind}_{b}"]
            assert tr.observables["B"][0] == pytest.approx(np.sqrt(2 * 0.9 ** 2 - 1), abs=1e-12)
            iv = zero_intervals(tr.t, tr.observables["M"] - 1, lambda s: _m(tr, s) - 1)
            if kind == "AFM":
                assert tr.observables["B"][-1] > 0.5  # nonlocal at the end
                finite += sum(1 for a, e in iv if e < np.inf)
            else:
                assert iv and iv[-1][1] == np.inf  # B = 0 from some time on
    assert finite >= 3  # revivals: B = 0 on finite windows, then nonlocal again


def test_werner_identities_for_b_and_c(figs):
    """Werner(phi, p) with phi following pure q-LLG at kappa p: B = sqrt(max(0, p^2 (1 + C_phi^2) - 1)),
    C = max(0, p C_phi - (1 - p)/2); C_phi from the closed form of the pure state."""
    p = 0.9
    for name in ("fig4_AFM_Phi+", "fig4_FM_Psi-", "fig3_werner_D0.4"):
        c, tr = figs[name]
        phi0 = bell_state(c.initial.split(":")[1])
        f, _ = QLLG(c.hamiltonian(), KAPPA * p).closed_form_factory(np.outer(phi0, phi0.conj()))
        Cphi = np.array([concurrence(f(t)) for t in tr.t])
        assert np.abs(tr.observables["B"] - np.sqrt(np.maximum(0, p ** 2 * (1 + Cphi ** 2) - 1))).max() < 1e-6
        assert np.abs(tr.observables["C"] - np.maximum(0, p * Cphi - (1 - p) / 2)).max() < 1e-6


def test_purity_and_entropy_conserved_in_every_figure(figs):
    for name, (c, tr) in figs.items():
        assert np.ptp(tr.observables["purity"]) < 1e-10, name
        assert np.ptp(tr.observables["S_vN"]) < 1e-9, name
        assert tr.stats["spectrum_drift"] < 1e-10, name
        assert initial_state(c.initial).shape == (4, 4)
