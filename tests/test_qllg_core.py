"""q-LLG core (seed 004, eq. 3): spin operators, the eigenbasis right-hand side against a dense Kronecker
solve, the invariants (spectrum, energy decrease and its closed-form rate), the closed forms against the
integrators, the order of RKMK4, the passive-state fixed point, q-LL vs q-LLG."""
import numpy as np
import pytest

from fem_stt.atomistic.qllg import (PAPER, QLLG, Hamiltonian, SpinCluster, bell_state, dimer_hamiltonian,
                                    dissipation_rate, passive_state, projector, rhs, rhs_kronecker, spin_matrices,
                                    werner_state)
from fem_stt.atomistic.qllg.equation import residual
from fem_stt.atomistic.qllg.spins import PAULI
from fem_stt.constants import HBAR

KAPPA = 0.5
TAU = PAPER.time_unit  # 10 ps


def random_rho(rng, n, rank=None):
    rank = n if rank is None else rank
    A = rng.normal(size=(n, rank)) + 1j * rng.normal(size=(n, rank))
    r = A @ A.conj().T
    return r / np.trace(r).real


def random_hermitian(rng, n):
    A = rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))
    return A + A.conj().T


def comm(a, b):
    return a @ b - b @ a


@pytest.mark.parametrize("s", [0.5, 1.0, 1.5, 2.0, 2.5])
def test_spin_matrices_algebra(s):
    sx, sy, sz = spin_matrices(s)
    assert np.abs(comm(sx, sy) - 1j * sz).max() < 1e-13
    assert np.abs(comm(sy, sz) - 1j * sx).max() < 1e-13
    assert np.abs(sx @ sx + sy @ sy + sz @ sz - s * (s + 1) * np.eye(sx.shape[0])).max() < 1e-12
    # eq. 6: Tr(S_k S_l) = s(s+1)(2s+1)/3 delta_kl (hbar = 1)
    ops = (sx, sy, sz)
    G = np.array([[np.trace(a @ b).real for b in ops] for a in ops])
    assert np.abs(G - s * (s + 1) * (2 * s + 1) / 3 * np.eye(3)).max() < 1e-12


def test_dimer_hamiltonian_is_eq10_and_has_the_stated_spectrum():
    """Eq. 10 written with Pauli matrices directly, and the spectrum for B || x, D = 0 (spec section 1)."""
    sx, sy, sz = PAULI["x"], PAULI["y"], PAULI["z"]
    k = np.kron
    J, D, B = 0.7, 0.3, np.array([0.2, -0.5, 1.1])
    ref = (-0.5 * sum(B[a] * (k(o, np.eye(2)) + k(np.eye(2), o)) for a, o in enumerate((sx, sy, sz)))
           + J * (k(sx, sx) + k(sy, sy) + k(sz, sz)) + D * (k(sx, sy) - k(sy, sx)))
    H = dimer_hamiltonian(J, D, B).dense() / PAPER.energy_unit
    assert np.abs(H - ref).max() < 1e-14
    w = np.linalg.eigvalsh(dimer_hamiltonian(1.0, 0.0, (1, 0, 0)).dense() / PAPER.energy_unit)
    assert np.allclose(w, [-3.0, 0.0, 1.0, 2.0], atol=1e-14)  # singlet -3J; J - 1, J, J + 1


def _cases(rng):
    """(rho, Omega) pairs: dimer, spin 1 + spin 1/2, three spins 1/2 with all terms, random H."""
    out = []
    H = dimer_hamiltonian(1.0, 0.4, (1, 1, 1) / np.sqrt(3))
    out.append((random_rho(rng, 4), H.dense() / HBAR))
    H2 = Hamiltonian(SpinCluster([1.0, 0.5])).zeeman((0.3, 0.0, 1.0)).exchange(0, 1, 2e-23).dmi(0, 1, (1e-23, 0, 5e-24))
    H2.anisotropy(0, 3e-23, (1, 1, 0))
    out.append((random_rho(rng, 6), H2.dense() / HBAR))
    H3 = Hamiltonian(SpinCluster([0.5] * 3)).zeeman((0, 0, 1.0)).exchange(0, 1, -1e-23).exchange(1, 2, 2e-23)
    H3.dmi(0, 2, (0, 1e-23, 0))
    out.append((random_rho(rng, 8, rank=3), H3.dense() / HBAR))
    out.append((random_rho(rng, 5), random_hermitian(rng, 5) * 1e11))
    out.append((werner_state(bell_state("Psi+"), 0.9), H.dense() / HBAR))  # degenerate spectrum
    return out


@pytest.mark.parametrize("kappa", [0.0, 0.5, 3.0])
def test_rhs_eigenbasis_equals_kronecker_solve(kappa):
    rng = np.random.default_rng(1)
    for rho, Om in _cases(rng):
        a = rhs(rho, Om, kappa)
        b = rhs_kronecker(rho, Om, kappa)
        scale = np.abs(a).max()
        assert np.abs(a - b).max() <= 1e-13 * scale
        assert np.abs(a - a.conj().T).max() == 0.0  # Hermitian exactly
        assert abs(np.trace(a)) <= 1e-14 * scale
        assert residual(rho, a, Om, kappa) <= 1e-13 * scale  # eq. 3 itself


def test_qll_rhs_is_wiesers_formula():
    rng = np.random.default_rng(2)
    for rho, Om in _cases(rng):
        a = rhs(rho, Om, KAPPA, "qll")
        ref = 1j * comm(rho, Om) - KAPPA * comm(rho, comm(rho, Om))
        assert np.abs(a - ref).max() <= 1e-13 * np.abs(a).max()
        assert np.abs(rhs_kronecker(rho, Om, KAPPA, "qll") - ref).max() <= 1e-13 * np.abs(a).max()


def test_dissipation_formula_equals_tr_rhodot_h():
    rng = np.random.default_rng(3)
    for rho, Om in _cases(rng):
        H = Om * HBAR
        for eq in ("qllg", "qll"):
            direct = np.real(np.sum(rhs_kronecker(rho, Om, KAPPA, eq) * H.T))
            assert dissipation_rate(rho, H, KAPPA, eq) == pytest.approx(direct, rel=1e-12, abs=0)
            assert dissipation_rate(rho, H, KAPPA, eq) <= 0


def fig_cases():
    """(name, H, rho0, t_end [s]) for the figures' spans: Fig. 1 (80 ps), Fig. 4 (60 ps), a generic state."""
    cl = SpinCluster([0.5, 0.5])
    ud = projector(cl.basis_state("ud"))
    b111 = np.ones(3) / np.sqrt(3)
    rng = np.random.default_rng(7)
    return [("fig1d", dimer_hamiltonian(1.0, 0.6), ud, 8 * TAU),
            ("fig4_afm_psi-", dimer_hamiltonian(1.0, 0.4, b111), werner_state(bell_state("Psi-"), 0.9), 6 * TAU),
            ("generic", dimer_hamiltonian(-1.0, 0.4, b111), random_rho(rng, 4), 6 * TAU)]


@pytest.fixture(scope="module")
def runs():
    out = {}
    for name, H, rho0, T in fig_cases():
        t = np.linspace(0, T, 241)
        m = QLLG(H, KAPPA)
        out[name] = (m, rho0, m.solve(rho0, t), m.solve(rho0, t, method="rkmk4", dt=0.005 * TAU))
    return out


def test_invariants_spectrum_energy(runs):
    for name, (m, rho0, ad, rk) in runs.items():
        assert ad.stats["spectrum_drift"] <= 1e-10, name
        assert rk.stats["spectrum_drift"] <= 1e-12, name
        for tr in (ad, rk):
            assert tr.stats["trace_error"] <= 1e-12 and tr.stats["hermiticity_error"] <= 1e-14
            E0 = abs(tr.energy).max()
            assert np.all(np.diff(tr.energy) <= 1e-12 * E0), name  # energy never increases
        assert np.abs(ad.states - rk.states).max() <= 1e-9, name


def test_energy_follows_the_closed_form_dissipation_rate(runs):
    """E(t) - E(0) equals the integral of the closed-form rate along the (dense) trajectory, to 1e-8."""
    xg, wg = np.polynomial.legendre.leggauss(10)
    for name, (m, rho0, ad, _) in runs.items():
        H = m.H()
        acc, worst = 0.0, 0.0
        for k in range(1, ad.t.size):
            a, b = ad.t[k - 1], ad.t[k]
            ts = 0.5 * (b - a) * xg + 0.5 * (a + b)
            acc += 0.5 * (b - a) * sum(w * dissipation_rate(ad.state_at(s), H, KAPPA) for s, w in zip(ts, wg))
            worst = max(worst, abs(ad.energy[k] - ad.energy[0] - acc))
        scale = abs(ad.energy[-1] - ad.energy[0])
        assert scale > 0.1 * PAPER.energy_unit or name == "generic"
        assert worst <= 1e-8 * max(scale, 1e-3 * PAPER.energy_unit), (name, worst / scale)


def test_closed_forms_equal_the_integrators(runs):
    for name in ("fig1d", "fig4_afm_psi-"):
        m, rho0, ad, rk = runs[name]
        cf = m.solve(rho0, ad.t, method="closed_form")
        assert np.abs(cf.states - ad.states).max() <= 1e-9, name
        assert np.abs(cf.states - rk.states).max() <= 1e-9, name
    # q-LL closed form against the q-LL integrator
    m, rho0, ad, _ = runs["fig4_afm_psi-"]
    mq = QLLG(m.hamiltonian, KAPPA, "qll")
    assert np.abs(mq.solve(rho0, ad.t, method="closed_form").states - mq.solve(rho0, ad.t).states).max() <= 1e-9


def test_qll_is_rescaled_qllg_for_pure_and_werner_but_not_generic(runs):
    """Spec section 1(d-f): q-LLG(t) = q-LL(t/(1 + kappa^2 p^2)) for the Werner class (p = 1: pure);
    a generic mixed state differs under every natural rescaling."""
    for name, p in (("fig1d", 1.0), ("fig4_afm_psi-", 0.9)):
        m, rho0, ad, _ = runs[name]
        ql = QLLG(m.hamiltonian, KAPPA, "qll").solve(rho0, ad.t / (1 + KAPPA ** 2 * p ** 2))
        assert np.abs(ql.states - ad.states).max() <= 1e-9
    m, rho0, ad, _ = runs["generic"]
    lam = np.linalg.eigvalsh(rho0)
    scales = {"1": 1.0, "1+k^2": 1 + KAPPA ** 2, "1+k^2 dp^2": 1 + KAPPA ** 2 * (lam[-1] - lam[0]) ** 2}
    dev = {k: np.abs(QLLG(m.hamiltonian, KAPPA, "qll").solve(rho0, ad.t / s).states - ad.states).max()
           for k, s in scales.items()}
    assert min(dev.values()) > 1e-2, dev


def test_rkmk4_order_four():
    rng = np.random.default_rng(11)
    H = dimer_hamiltonian(1.0, 0.4, np.ones(3) / np.sqrt(3))
    rho0 = random_rho(rng, 4)
    m = QLLG(H, KAPPA)
    T = 2 * TAU
    ref = m.solve(rho0, [0, T], rtol=1e-13, atol=1e-14).states[-1]
    errs = [np.abs(m.solve(rho0, [0, T], method="rkmk4", dt=T / k).states[-1] - ref).max() for k in (10, 20, 40, 80)]
    orders = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    assert np.all(np.abs(orders - 4) <= 0.3), (errs, orders)


def test_generic_state_tends_to_the_passive_state():
    """Spec section 1(c): a generic rank-4 dimer state, 3000 ps. Near the passive state each coherence
    (a, b) in H's eigenbasis decays at kappa |Delta_ab| |E_a - E_b| / (hbar (1 + kappa^2 Delta_ab^2))
    (linearisation of eq. 3): the slowest one must set the observed rate."""
    rng = np.random.default_rng(5)
    H = dimer_hamiltonian(1.0, 0.4, np.ones(3) / np.sqrt(3))
    rho0 = random_rho(rng, 4)
    tr = QLLG(H, KAPPA).solve(rho0, np.linspace(0, 300 * TAU, 61), store_states=True)
    target = passive_state(rho0, H.dense())
    d = np.abs(tr.states - target).max(axis=(1, 2))
    assert d[0] > 0.1 and d[-1] <= 1e-5, d[-1]
    assert tr.stats["spectrum_drift"] <= 1e-10
    E, W = np.linalg.eigh(H.dense())
    p = np.sort(np.linalg.eigvalsh(rho0))[::-1]
    rates = {(a, b): KAPPA * (p[a] - p[b]) * (E[b] - E[a]) / HBAR / (1 + KAPPA ** 2 * (p[a] - p[b]) ** 2)
             for a in range(4) for b in range(a + 1, 4)}
    (a, b), slowest = min(rates.items(), key=lambda kv: kv[1])
    coh = np.abs(np.einsum("i,kij,j->k", W[:, a].conj(), tr.states, W[:, b]))
    sel = tr.t >= 200 * TAU
    fit = -np.polyfit(tr.t[sel], np.log(coh[sel]), 1)[0]
    assert fit == pytest.approx(slowest, rel=1e-3, abs=0), (fit * TAU, slowest * TAU)
