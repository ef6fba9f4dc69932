"""Pure-state propagation of eq. 3 for larger clusters: Krylov (expm_multiply) and DOP853 on the normalised
complex-time Schrödinger equation, against the dense density-matrix integrator and the classical identity
of a ferromagnetic chain in a uniform coherent state."""
import numpy as np
import pytest

from fem_stt.atomistic.qllg import PAPER, PureStateQLLG, QLLG, chain_hamiltonian
from fem_stt.atomistic.qllg.classical import ClassicalLLG
from fem_stt.atomistic.qllg.observables import bloch_vectors
from fem_stt.atomistic.qllg.paper import chain_run, neel_directions
from fem_stt.errors import ParameterError

KAPPA = 0.5
TAU = PAPER.time_unit


@pytest.mark.parametrize("equation, lean", [("qllg", False), ("qll", False), ("qllg", True)])
def test_krylov_equals_the_dense_closed_form(equation, lean, monkeypatch):
    if lean:  # the LinearOperator path used for large H
        monkeypatch.setattr("fem_stt.atomistic.qllg.integrators.LEAN_NNZ", 0)
    H = chain_hamiltonian(6, 1.0, 0.6, (1.0, 0.2, 0.0))
    psi0 = H.cluster.coherent(neel_directions(6))
    t = np.linspace(0, 6 * TAU, 31)
    kr = PureStateQLLG(H, KAPPA, equation).solve(psi0, t, store_states=True)
    cf = QLLG(H, KAPPA, equation).solve(np.outer(psi0, psi0.conj()), t, method="closed_form")
    rho_kr = np.einsum("ki,kj->kij", kr.states, kr.states.conj())
    assert np.abs(rho_kr - cf.states).max() < 1e-9
    assert kr.stats["norm_error"] < 1e-13
    assert np.all(np.diff(kr.energy) <= 1e-12 * np.abs(kr.energy).max())


def test_adaptive_pure_state_with_a_time_dependent_field_equals_the_density_matrix_run():
    B = lambda tau: (np.cos(0.5 * tau), 0.3, np.sin(0.5 * tau))  # noqa: E731  (reduced time -> B/B0)
    H = chain_hamiltonian(4, -1.0, 0.4, B)
    assert H.time_dependent
    psi0 = H.cluster.coherent([[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, -1]])
    t = np.linspace(0, 4 * TAU, 41)
    spins = H.cluster.spins
    obs = {"r": lambda s, tt: bloch_vectors(s, spins)}
    pure = PureStateQLLG(H, KAPPA).solve(psi0, t, method="adaptive", rtol=1e-12, atol=1e-13, observe=obs)
    dense = QLLG(H, KAPPA).solve(np.outer(psi0, psi0.conj()), t, observe=obs)
    assert np.abs(pure.observables["r"] - dense.observables["r"]).max() < 1e-8
    with pytest.raises(ParameterError, match="method"):
        PureStateQLLG(H, KAPPA).solve(psi0, t, method="krylov")


def test_ferromagnetic_chain_in_a_uniform_coherent_state_is_classical():
    """J < 0, D = 0, all spins along one direction: the state stays in the maximal-spin multiplet, where
    the exchange is constant, so every Bloch vector follows single-spin LLG (alpha = kappa)."""
    N = 8
    dirs = np.tile([0.0, 0.6, 0.8], (N, 1))
    H, tr = chain_run(N, -1.0, 0.0, t_end_ps=40.0, n_out=81, directions=dirs)
    for conv in ("paper", "mean_field"):
        m = ClassicalLLG(H, KAPPA, conv).solve(dirs, tr.t).n
        assert np.abs(tr.observables["r"] - m).max() < 1e-9
    assert tr.observables["C01"].max() < 1e-9


def test_pure_state_bad_input():
    H = chain_hamiltonian(3, 1.0)
    with pytest.raises(ParameterError, match="psi0"):
        PureStateQLLG(H, KAPPA).solve(np.zeros(8), [0, 1e-12])
    with pytest.raises(ParameterError, match="psi0"):
        PureStateQLLG(H, KAPPA).solve(np.ones(4), [0, 1e-12])
    with pytest.raises(ParameterError, match="kappa"):
        PureStateQLLG(H, -1.0)
    with pytest.raises(ParameterError, match="t_eval"):
        PureStateQLLG(H, KAPPA).solve(np.ones(8), [1e-12, 0])
