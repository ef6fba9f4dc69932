"""q-LLG observables against closed forms and QuTiP (an independent implementation), and the event finders."""
import numpy as np
import pytest

from fem_stt.atomistic.qllg import SpinCluster, bell_state, projector, werner_state
from fem_stt.atomistic.qllg.observables import (bell_nonlocality, bloch_vectors, chsh_m, concurrence,
                                                correlation_matrix, crossings, negativity, purity,
                                                reduced_density_matrix, singlet_fidelity, two_qubit_observables,
                                                von_neumann_entropy, zero_intervals)
from fem_stt.atomistic.qllg.spins import bloch_state, coherent_state, single_spin_state, spin_matrices


def random_rho(rng, n, rank=None):
    rank = n if rank is None else rank
    A = rng.normal(size=(n, rank)) + 1j * rng.normal(size=(n, rank))
    r = A @ A.conj().T
    return r / np.trace(r).real


def test_reduced_density_matrix_of_products_and_pure_states():
    rng = np.random.default_rng(0)
    cl = SpinCluster([0.5, 1.0, 0.5])
    parts = [random_rho(rng, d) for d in cl.dims]
    rho = cl.product(parts)
    for k in range(3):
        assert np.abs(reduced_density_matrix(rho, cl.dims, [k]) - parts[k]).max() < 1e-15
    assert np.abs(reduced_density_matrix(rho, cl.dims, [2, 0]) - np.kron(parts[2], parts[0])).max() < 1e-15
    psi = rng.normal(size=cl.n) + 1j * rng.normal(size=cl.n)
    psi /= np.linalg.norm(psi)
    for sites in ([1], [0, 2], [2, 1, 0]):
        a = reduced_density_matrix(psi, cl.dims, sites)
        b = reduced_density_matrix(np.outer(psi, psi.conj()), cl.dims, sites)
        assert np.abs(a - b).max() < 1e-15


@pytest.mark.parametrize("s", [0.5, 1.0, 2.5])
def test_bloch_vectors_of_coherent_states_and_eq5(s):
    n = np.array([0.3, -0.5, 0.8]) / np.linalg.norm([0.3, -0.5, 0.8])
    assert np.abs(bloch_vectors(coherent_state(s, n), [s])[0] - n).max() < 1e-14
    # eq. 5: <S> = s(s+1) eta / 3 (hbar = 1) for rho = (1 + eta.S)/(2s+1)
    eta = 0.3 / s * n
    r = bloch_vectors(single_spin_state(s, eta), [s])[0]
    assert np.abs(s * r - s * (s + 1) * eta / 3).max() < 1e-14
    # eq. 7: |eta|^2 = 3 (2s+1) / (s (s+1)) (Tr rho^2 - 1/(2s+1))
    rho = single_spin_state(s, eta)
    assert np.dot(eta, eta) == pytest.approx(3 * (2 * s + 1) / (s * (s + 1)) * (purity(rho) - 1 / (2 * s + 1)))


def test_two_qubit_measures_closed_forms():
    # a|00> + b|11>: C = 2|ab|, T = diag(2ab, -2ab, 1) for real a, b; M = 1 + 4a^2b^2 so B = C (pure)
    for a in (1.0, 0.9, 0.6, np.sqrt(0.5)):
        b = np.sqrt(1 - a ** 2)
        psi = np.array([a, 0, 0, b])
        assert concurrence(psi) == pytest.approx(2 * a * b, abs=1e-12)
        assert np.abs(correlation_matrix(psi) - np.diag([2 * a * b, -2 * a * b, 1])).max() < 1e-14
        assert bell_nonlocality(psi) == pytest.approx(2 * a * b, abs=1e-12)
    # Werner(Psi-, p): C = max(0, (3p-1)/2), M = 2p^2, singlet fidelity (1+3p)/4, negativity max(0,(3p-1)/4)
    for p in (0.0, 0.2, 0.5, 0.9, 1.0):
        rho = werner_state(bell_state("Psi-"), p)
        assert concurrence(rho) == pytest.approx(max(0, (3 * p - 1) / 2), abs=1e-12)
        assert chsh_m(rho) == pytest.approx(2 * p ** 2, abs=1e-14)
        assert bell_nonlocality(rho, root=False) == pytest.approx(max(0, 2 * p ** 2 - 1), abs=1e-14)
        assert singlet_fidelity(rho) == pytest.approx((1 + 3 * p) / 4, abs=1e-14)
        assert negativity(rho) == pytest.approx(max(0, (3 * p - 1) / 4), abs=1e-12)
    assert np.abs(correlation_matrix(bell_state("Psi-")) + np.eye(3)).max() < 1e-15
    assert concurrence(np.kron(bloch_state([0, 0.6, 0.8]), bloch_state([0.6, 0, 0.8]))) < 1e-12


def test_observables_against_qutip():
    qutip = pytest.importorskip("qutip")
    rng = np.random.default_rng(4)
    for rank in (1, 2, 4):
        rho = random_rho(rng, 4, rank)
        q = qutip.Qobj(rho, dims=[[2, 2], [2, 2]])
        assert concurrence(rho) == pytest.approx(qutip.concurrence(q), abs=1e-7)
        assert von_neumann_entropy(rho) == pytest.approx(qutip.entropy_vn(q), abs=1e-10)
        assert np.abs(reduced_density_matrix(rho, [2, 2], [1]) - q.ptrace(1).full()).max() < 1e-15
        d = two_qubit_observables(rho)
        assert d["C"] == concurrence(rho) and d["M"] == pytest.approx(chsh_m(rho), abs=1e-14)
        sx = np.kron(qutip.sigmax().full(), np.eye(2))
        assert d["r1"][0] == pytest.approx(np.trace(rho @ sx).real, abs=1e-15)


def test_crossings_and_zero_intervals():
    t = np.linspace(0, 10, 41)
    f = lambda s: np.sin(s)  # noqa: E731
    c = crossings(t, f(t), 0.5, f)
    exact = [np.pi / 6, 5 * np.pi / 6, 2 * np.pi + np.pi / 6, 2 * np.pi + 5 * np.pi / 6]
    assert np.abs(c - exact).max() < 1e-12
    assert np.abs(crossings(t, f(t), 0.5, f, direction=-1) - exact[1::2]).max() < 1e-12
    lin = crossings(t, f(t), 0.5)  # linear interpolation only
    assert np.abs(lin - exact).max() < 1e-2
    iv = zero_intervals(t, f(t), f)  # where sin <= 0
    assert len(iv) == 2 and abs(iv[0][0] - np.pi) < 1e-12 and abs(iv[0][1] - 2 * np.pi) < 1e-12
    assert abs(iv[1][0] - 3 * np.pi) < 1e-12 and iv[1][1] == float("inf")


def test_states_and_spin_matrices_bad_input():
    from fem_stt.errors import ParameterError
    with pytest.raises(ParameterError, match="s"):
        spin_matrices(0.3)
    with pytest.raises(ParameterError, match="spins"):
        SpinCluster([])
    with pytest.raises(ParameterError, match="eta"):
        single_spin_state(0.5, [0, 0, 2.5])
    with pytest.raises(ParameterError, match="p"):
        werner_state(bell_state("Psi+"), 1.2)
    with pytest.raises(ParameterError, match="name"):
        bell_state("Chi+")
    with pytest.raises(ParameterError, match="sites"):
        reduced_density_matrix(np.eye(4) / 4, [2, 2], [0, 0])
    with pytest.raises(ParameterError, match="directions"):
        SpinCluster([0.5, 0.5]).coherent([[0, 0, 1]])
    assert np.abs(projector([1, 1j]) - 0.5 * np.array([[1, -1j], [1j, 1]])).max() < 1e-15
