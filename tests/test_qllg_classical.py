"""Classical limits of q-LLG (seed 004, eqs. 1, 2, 4, 8; spec qllg.md section 4): the classical LLG against
its closed form, single spins (pure, mixed, spin 1 with a time-dependent field), the ferromagnetic product
state, the mean-field q-LLG against LLG with Jc = 2J, and the exchange conventions."""
import numpy as np
import pytest
from scipy.integrate import solve_ivp

from fem_stt.atomistic.qllg import (PAPER, QLLG, Hamiltonian, SpinCluster, dimer_hamiltonian, projector, rhs,
                                    single_spin_state)
from fem_stt.atomistic.qllg.classical import ClassicalLLG, compare
from fem_stt.atomistic.qllg.observables import bloch_vectors, concurrence
from fem_stt.atomistic.qllg.spins import PAULI, bloch_state
from fem_stt.constants import HBAR
from fem_stt.errors import ParameterError

KAPPA = 0.5
TAU = PAPER.time_unit
T80 = np.linspace(0, 8 * TAU, 161)


def test_classical_llg_matches_its_closed_form():
    """B = B z: tan(theta/2) = tan(theta0/2) exp(-alpha gamma B t/(1+alpha^2)), phi = phi0 - gamma B t/(1+alpha^2)."""
    B, a, th0, ph0 = 0.7, 0.3, 2.5, 0.4
    H = Hamiltonian(SpinCluster([0.5])).zeeman((0, 0, B))
    tr = ClassicalLLG(H, a).solve([[np.sin(th0) * np.cos(ph0), np.sin(th0) * np.sin(ph0), np.cos(th0)]], T80)
    g = H.gamma_g * B / (1 + a ** 2)
    th = 2 * np.arctan(np.tan(th0 / 2) * np.exp(-a * g * T80))
    ph = ph0 - g * T80
    exact = np.stack([np.sin(th) * np.cos(ph), np.sin(th) * np.sin(ph), np.cos(th)], axis=1)
    assert np.abs(tr.n[:, 0] - exact).max() < 1e-10
    assert np.all(np.diff(tr.energy) <= 1e-30)


def _single_spin_bloch(H, rho0, s):
    tr = QLLG(H, KAPPA).solve(rho0, T80, observe={"r": lambda st, t: bloch_vectors(st, [s])[0]})
    return tr.observables["r"]


def test_single_spin_half_follows_llg_alpha_kappa():
    H = Hamiltonian(SpinCluster([0.5])).zeeman((0.4, -0.2, 1.0))
    n0 = np.array([0.3, 0.4, -0.8]) / np.linalg.norm([0.3, 0.4, -0.8])
    r = _single_spin_bloch(H, bloch_state(n0), 0.5)
    m = ClassicalLLG(H, KAPPA).solve(n0[None], T80).n[:, 0]
    assert np.abs(r - m).max() < 1e-9


def test_mixed_single_spin_follows_llg_alpha_kappa_r():
    """Eq. 8: a mixed spin 1/2 with |r| = 0.6 follows LLG with alpha = kappa |r|, visibly not alpha = kappa."""
    H = Hamiltonian(SpinCluster([0.5])).zeeman((1.0, 0, 0))
    n0 = np.array([0.0, 0.6, -0.8])
    r = _single_spin_bloch(H, bloch_state(0.6 * n0), 0.5)
    assert np.abs(np.linalg.norm(r, axis=1) - 0.6).max() < 1e-10
    good = ClassicalLLG(H, KAPPA * 0.6).solve(n0[None], T80).n[:, 0]
    bad = ClassicalLLG(H, KAPPA).solve(n0[None], T80).n[:, 0]
    assert np.abs(r / 0.6 - good).max() < 1e-9
    assert np.abs(r / 0.6 - bad).max() > 0.1


def test_spin_one_eq4_state_in_a_rotating_field_follows_eq8():
    """Eq. 8 for s = 1: alpha = kappa |eta| / (2s + 1) (hbar = 1), here with B(t) rotating in the xy plane."""
    w = 0.3 / TAU
    H = Hamiltonian(SpinCluster([1.0])).zeeman(lambda t: (np.cos(w * t), np.sin(w * t), 0.5))
    eta = 0.8 * np.array([0.0, 0.6, 0.8])
    r = _single_spin_bloch(H, single_spin_state(1.0, eta), 1.0)
    m = ClassicalLLG(H, KAPPA * np.linalg.norm(eta) / 3).solve(eta[None], T80).n[:, 0]
    scale = (1 + 1) * np.linalg.norm(eta) / 3  # |<s>/s| = (s+1)|eta|/3 (eq. 5)
    assert np.abs(r / scale - m).max() < 1e-9


@pytest.mark.parametrize("J", [-1.0, 1.0])
def test_ferromagnetic_product_state_follows_llg(J):
    """n1 = n2, D = 0: the product of equal coherent states stays a product (C = 0) and each Bloch
    vector follows LLG with alpha = kappa, for both signs of J and both exchange conventions."""
    H = dimer_hamiltonian(J, 0.0, (1.0, 0.3, -0.2))
    n = np.array([0.0, 0.6, 0.8])
    obs = {"r": lambda st, t: bloch_vectors(st, [0.5, 0.5]), "C": lambda st, t: concurrence(st)}
    tr = QLLG(H, KAPPA).solve(projector(H.cluster.coherent([n, n])), T80, observe=obs)
    for conv in ("paper", "mean_field"):
        m = ClassicalLLG(H, KAPPA, conv).solve([n, n], T80).n
        assert np.abs(tr.observables["r"] - m).max() < 1e-9
    assert tr.observables["C"].max() < 1e-9


def test_mean_field_qllg_equals_llg_with_jc_2j():
    """Two single-spin rho's, each in its mean-field Hamiltonian -(hbar gamma/2) sigma.B_mf with
    B_mf,1 = B - (2/gamma hbar)(J r2 - D z x r2) (eq. 10's mean field), follow LLG(mean_field) exactly."""
    J, D, b = 0.8, 0.5, np.array([0.3, 1.0, -0.4])
    H = dimer_hamiltonian(J, D, b)
    E0, B0, gh = PAPER.energy_unit, PAPER.B0, PAPER.gamma_g * HBAR
    z = np.array([0.0, 0.0, 1.0])
    sig = (PAULI["x"], PAULI["y"], PAULI["z"])

    def mf_rhs(t, y):
        rho1, rho2 = y[:8].view(complex).reshape(2, 2), y[8:].view(complex).reshape(2, 2)
        r1 = np.array([np.trace(rho1 @ s).real for s in sig])
        r2 = np.array([np.trace(rho2 @ s).real for s in sig])
        B1 = b * B0 - 2 * (J * E0 * r2 - D * E0 * np.cross(z, r2)) / gh
        B2 = b * B0 - 2 * (J * E0 * r1 + D * E0 * np.cross(z, r1)) / gh
        out = []
        for rho, Bk in ((rho1, B1), (rho2, B2)):
            Om = -0.5 * PAPER.gamma_g * sum(Bk[a] * sig[a] for a in range(3))
            out.append(rhs(rho, Om, KAPPA).view(float).ravel())
        return np.concatenate(out)

    n1, n2 = np.array([0.0, 0.0, 1.0]), np.array([0.6, 0.0, -0.8])
    y0 = np.concatenate([bloch_state(n1).view(float).ravel(), bloch_state(n2).view(float).ravel()])
    sol = solve_ivp(mf_rhs, (0, T80[-1]), y0, method="DOP853", t_eval=T80, rtol=1e-12, atol=1e-12)
    r1 = np.array([[np.trace(sol.y[:8, k].view(complex).reshape(2, 2) @ s).real for s in sig]
                   for k in range(T80.size)])
    m = ClassicalLLG(H, KAPPA, "mean_field").solve([n1, n2], T80).n
    assert np.abs(r1 - m[:, 0]).max() < 1e-9
    assert np.abs(r1 - ClassicalLLG(H, KAPPA, "paper").solve([n1, n2], T80).n[:, 0]).max() > 0.05


def test_exchange_conventions_fields_are_the_papers():
    """Dimer, reduced units: B1 = b - Jc n2 + Dc z x n2 with (Jc, Dc) = (J, D) (paper) or (2J, 2D) (mean field)."""
    J, D, b = 1.3, 0.6, np.array([1.0, 0.2, 0.0])
    H = dimer_hamiltonian(J, D, b)
    n = np.array([[0.0, 0.6, 0.8], [1.0, 0.0, 0.0]])
    z = np.array([0.0, 0.0, 1.0])
    for conv, c in (("paper", 1.0), ("mean_field", 2.0)):
        B = ClassicalLLG(H, KAPPA, conv).field(n) / PAPER.B0
        assert np.abs(B[0] - (b - c * J * n[1] + c * D * np.cross(z, n[1]))).max() < 1e-12
        assert np.abs(B[1] - (b - c * J * n[0] - c * D * np.cross(z, n[0]))).max() < 1e-12


def test_fig1a_ferromagnet_saturates_along_the_field_in_both_descriptions():
    H = dimer_hamiltonian(-1.0, 0.0)
    tr = QLLG(H, KAPPA).solve(projector(H.cluster.basis_state("ud")), T80,
                              observe={"r": lambda st, t: bloch_vectors(st, [0.5, 0.5])})
    for conv in ("paper", "mean_field"):
        c = ClassicalLLG(H, KAPPA, conv).solve([[0, 0, 1], [0, 0, -1]], T80)
        d = compare(T80, tr.observables["r"], c.n)
        assert np.abs(np.array(d["r_end"]) - [1, 0, 0]).max() < 1e-3
        assert np.abs(np.array(d["m_end"]) - [1, 0, 0]).max() < 1e-3
        assert d["max_dev"] > 0.3  # entanglement builds up: only qualitative agreement
        assert 5e-12 < d["t_sat_quantum"][0.9] < 3e-11 and 5e-12 < d["t_sat_classical"][0.9] < 3e-11


def test_classical_bad_input():
    H = dimer_hamiltonian(1.0)
    with pytest.raises(ParameterError, match="convention"):
        ClassicalLLG(H, KAPPA, "quantum")
    with pytest.raises(ParameterError, match="alpha"):
        ClassicalLLG(H, -0.1)
    with pytest.raises(ParameterError, match="n0"):
        ClassicalLLG(H, KAPPA).solve([[0, 0, 1]], T80)
    with pytest.raises(ParameterError, match="hamiltonian"):
        ClassicalLLG(Hamiltonian(SpinCluster([0.5])).add_matrix(np.eye(2) * 1e-23), KAPPA)


@pytest.mark.parametrize("convention", ["paper", "mean_field"])
def test_field_is_minus_the_energy_gradient(convention):
    """B_k = -(1/(gamma hbar s_k)) dE/dn_k for every term (mixed spins, anisotropy, DMI), by central differences."""
    H = Hamiltonian(SpinCluster([1.0, 0.5, 1.5])).zeeman((0.3, -0.2, 0.9)).zeeman((0.0, 0.5, 0.0), site=2)
    H.exchange(0, 1, 2e-23).exchange(1, 2, -1e-23).dmi(0, 2, (1e-23, -2e-23, 5e-24))
    H.anisotropy(0, 3e-23, (1, 1, 0)).anisotropy(2, -2e-23, (0, 0, 1))
    c = ClassicalLLG(H, KAPPA, convention)
    rng = np.random.default_rng(3)
    n = rng.normal(size=(3, 3))
    B = c.field(n)
    h = 1e-6
    for k, s in enumerate((1.0, 0.5, 1.5)):
        for a in range(3):
            npl, nmi = n.copy(), n.copy()
            npl[k, a] += h
            nmi[k, a] -= h
            dE = (c.energy(npl) - c.energy(nmi)) / (2 * h)
            assert B[k, a] == pytest.approx(-dE / (H.gamma_g * HBAR * s), rel=1e-7, abs=1e-9)
