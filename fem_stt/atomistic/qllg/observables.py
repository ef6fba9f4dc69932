r"""Observables of spin-cluster states (seed 004, eqs. 4-9 and the text around Figs. 1-4); event finders.

A *state* is a density matrix rho (n, n) or a state vector psi (n,) (pure runs); ``dims`` are the
site dimensions 2 s_k + 1 (``SpinCluster.dims``).

- :func:`reduced_density_matrix`: partial trace onto the chosen sites, O(n^2) (O(n) for psi).
- :func:`bloch_vectors`: r_k = <s_k> / s_k, shape (N, 3); for spin 1/2 r_k = Tr(rho sigma^(k)) (the
  paper's r = (hbar/2) eta). Length 1 for a coherent state.
- :func:`correlation_matrix`: T_kl = Tr(rho sigma_k x sigma_l) (3, 3) of a two-qubit rho (eq. 9);
  :func:`t_matrix` the full 4 x 4 T_alpha,beta with T_00 = 1, T_k0 = r_1k, T_0l = r_2l.
- :func:`bell_nonlocality`: Horodecki (Phys. Lett. A 200, 340 (1995)) with M = u1^2 + u2^2, the two
  largest eigenvalues of T^T T: B = sqrt(max(M - 1, 0)) (the paper's definition, ``root=True``) or
  max(M - 1, 0) (what the paper's figures plot, ``root=False``). CHSH is violated iff M > 1.
- :func:`concurrence`: Wootters (PRL 80, 2245 (1998)), C = max(0, l1 - l2 - l3 - l4), l_i the
  decreasing square roots of the eigenvalues of rho (sigma_y x sigma_y) rho* (sigma_y x sigma_y).
- :func:`singlet_fidelity` <Psi-|rho|Psi->, :func:`negativity`, :func:`purity` Tr rho^2,
  :func:`von_neumann_entropy` -Tr rho ln rho [nats].
- :func:`crossings`, :func:`zero_intervals`: threshold crossings of a sampled series, refined by
  Brent's method on a continuous function (a trajectory's dense output) when one is given.
"""
from __future__ import annotations

from typing import Callable, Optional, Sequence

import numpy as np
from scipy.optimize import brentq

from ...errors import ParameterError
from .spins import PAULI, bell_state, spin_matrices

_SIGMA = (PAULI["x"], PAULI["y"], PAULI["z"])
_SYSY = np.kron(PAULI["y"], PAULI["y"])
# sigma_alpha x sigma_beta transposed, (4, 4, 4, 4): T_ab = sum_ij rho_ij (sigma_a x sigma_b)_ji
_PAULI_PAIRS_T = np.array([[np.kron(a, b).T for b in (np.eye(2),) + _SIGMA] for a in (np.eye(2),) + _SIGMA])


def reduced_density_matrix(state: np.ndarray, dims: Sequence[int], sites: Sequence[int]) -> np.ndarray:
    """Partial trace of rho (n, n) or |psi><psi| (psi (n,)) onto ``sites`` (kept in the given order).

    Returns a complex (d, d) array, d = prod(dims[sites]). Raises ParameterError for bad sites or shapes.
    """
    dims = tuple(int(d) for d in dims)
    N, n = len(dims), int(np.prod(dims))
    sites = [int(s) for s in sites]
    if not sites or len(set(sites)) != len(sites) or any(not 0 <= s < N for s in sites):
        raise ParameterError("sites", f"must be distinct site indices in [0, {N - 1}], got {sites}")
    rest = [k for k in range(N) if k not in sites]
    dk = int(np.prod([dims[s] for s in sites]))
    dr = n // dk
    state = np.asarray(state)
    if state.shape == (n,):
        psi = state.reshape(dims).transpose(sites + rest).reshape(dk, dr)
        return psi @ psi.conj().T
    if state.shape != (n, n):
        raise ParameterError("state", f"must have shape ({n},) or ({n}, {n}), got {state.shape}")
    r = state.reshape(dims + dims).transpose(sites + rest + [N + k for k in sites] + [N + k for k in rest])
    return np.einsum("arbr->ab", r.reshape(dk, dr, dk, dr))


def bloch_vectors(state: np.ndarray, spins: Sequence[float]) -> np.ndarray:
    """r_k = <s_k>/s_k for every site (N, 3): the Bloch vectors (spin 1/2: Tr(rho_k sigma))."""
    dims = [int(round(2 * s)) + 1 for s in spins]
    out = np.empty((len(spins), 3))
    for k, s in enumerate(spins):
        rk = reduced_density_matrix(state, dims, [k])
        out[k] = [np.real(np.sum(rk * a.T)) / s for a in spin_matrices(s)]
    return out


def _two_qubit(rho: np.ndarray) -> np.ndarray:
    rho = np.asarray(rho)
    if rho.shape == (4,):
        rho = np.outer(rho, rho.conj())
    if rho.shape != (4, 4):
        raise ParameterError("rho", f"must be a two-qubit density matrix (4, 4) or vector (4,), got {rho.shape}")
    return rho


def t_matrix(rho: np.ndarray) -> np.ndarray:
    """T_alpha,beta = Tr(rho sigma_alpha x sigma_beta), alpha, beta in {0, x, y, z}: real (4, 4) (eq. 9)."""
    rho = _two_qubit(rho)
    return np.einsum("abij,ij->ab", _PAULI_PAIRS_T, rho).real


def correlation_matrix(rho: np.ndarray) -> np.ndarray:
    """The 3 x 3 correlation matrix T_kl = Tr(rho sigma_k x sigma_l), k, l in {x, y, z} (eq. 9)."""
    return t_matrix(rho)[1:, 1:]


def chsh_m(rho: np.ndarray) -> float:
    """M(rho) = u1^2 + u2^2, the two largest eigenvalues of T^T T (Horodecki); CHSH violated iff M > 1."""
    return _m_of_t(correlation_matrix(rho))


def _m_of_t(T: np.ndarray) -> float:
    u2 = np.linalg.eigvalsh(T.T @ T)
    return float(u2[2] + u2[1])


def bell_nonlocality(rho: np.ndarray, root: bool = True) -> float:
    """B = sqrt(max(M - 1, 0)) (root=True, the paper's definition) or max(M - 1, 0) (root=False, what
    the paper's figures plot); M from :func:`chsh_m`. In [0, 1]."""
    m1 = max(chsh_m(rho) - 1.0, 0.0)
    return float(np.sqrt(m1)) if root else float(m1)


def concurrence(rho: np.ndarray) -> float:
    """Wootters concurrence of a two-qubit state, in [0, 1] (module docstring).

    The l_i are computed as the singular values of sqrt(rho) Y sqrt(rho)* Y (Y = sigma_y x sigma_y), the
    eigenvalues of sqrt(sqrt(rho) rho~ sqrt(rho)); eigenvalues of rho below 1e-14 count as zero, so a pure
    product state gives C = 0 to round-off (and any state C to ~1e-7 or better)."""
    rho = _two_qubit(rho)
    rho = 0.5 * (rho + rho.conj().T)
    w, V = np.linalg.eigh(rho)
    w = np.where(w > 1e-14 * max(w.max(), 1e-300), w, 0.0)
    sq = (V * np.sqrt(w)) @ V.conj().T
    lam = np.linalg.svd(sq @ _SYSY @ sq.conj() @ _SYSY, compute_uv=False)
    return float(max(0.0, lam[0] - lam[1] - lam[2] - lam[3]))


def negativity(rho: np.ndarray) -> float:
    """Sum of |negative eigenvalues| of the partial transpose (over qubit 2) of a two-qubit state."""
    rho = _two_qubit(rho)
    pt = rho.reshape(2, 2, 2, 2).transpose(0, 3, 2, 1).reshape(4, 4)
    w = np.linalg.eigvalsh(0.5 * (pt + pt.conj().T))
    return float(-w[w < 0].sum())


def singlet_fidelity(rho: np.ndarray) -> float:
    """<Psi-|rho|Psi-> for a two-qubit state."""
    rho = _two_qubit(rho)
    v = bell_state("Psi-")
    return float(np.real(v.conj() @ rho @ v))


def two_qubit_observables(rho: np.ndarray) -> dict:
    """All two-qubit quantities of one state at once: r1, r2 (3,), T (3, 3), C, M, B (with the root),
    B2 (without), F_singlet (the functions above, sharing the Pauli expansion)."""
    rho = _two_qubit(rho)
    T4 = t_matrix(rho)
    M = _m_of_t(T4[1:, 1:])
    return {"r1": T4[1:, 0], "r2": T4[0, 1:], "T": T4[1:, 1:], "C": concurrence(rho), "M": M,
            "B": float(np.sqrt(max(M - 1, 0.0))), "B2": float(max(M - 1, 0.0)), "F_singlet": singlet_fidelity(rho)}


def purity(rho: np.ndarray) -> float:
    """Tr rho^2 (1 for a state vector)."""
    rho = np.asarray(rho)
    if rho.ndim == 1:
        return 1.0
    return float(np.real(np.sum(rho * rho.T)))


def von_neumann_entropy(rho: np.ndarray) -> float:
    """S = -Tr rho ln rho [nats] (0 for a state vector)."""
    rho = np.asarray(rho)
    if rho.ndim == 1:
        return 0.0
    p = np.linalg.eigvalsh(0.5 * (rho + rho.conj().T))
    p = p[p > 1e-300]
    return float(-np.sum(p * np.log(p)))


# ---------------------------------------------------------------------------- events
def crossings(t: np.ndarray, y: np.ndarray, level: float, f: Optional[Callable[[float], float]] = None,
              direction: int = 0, xtol: float = 1e-18):
    """Times where the sampled series y(t) crosses ``level``.

    direction: +1 upward only, -1 downward only, 0 both. With ``f`` (a continuous function of t
    evaluating the same quantity, e.g. via a trajectory's dense output) each crossing is refined by
    Brent's method to ``xtol`` [s]; without it, by linear interpolation. Returns (k,) times [s].
    """
    t = np.asarray(t, dtype=float)
    g = np.asarray(y, dtype=float) - level
    out = []
    for i in range(t.size - 1):
        a, b = g[i], g[i + 1]
        if a == 0.0 and i == 0:
            continue
        if (a < 0 <= b and direction >= 0) or (a > 0 >= b and direction <= 0):
            if f is not None and b != 0.0:
                out.append(brentq(lambda s: f(s) - level, t[i], t[i + 1], xtol=xtol, rtol=4 * np.finfo(float).eps))
            else:
                out.append(t[i] + (t[i + 1] - t[i]) * a / (a - b))
    return np.array(out)


def zero_intervals(t: np.ndarray, m_minus_1: np.ndarray, f: Optional[Callable[[float], float]] = None):
    """Intervals where B = 0, i.e. M - 1 <= 0 (pass the series M(t) - 1 and optionally a function of t).

    Returns a list of [start, end] pairs [s]; an interval open at the end of the run has end = inf.
    """
    t = np.asarray(t, dtype=float)
    g = np.asarray(m_minus_1, dtype=float)
    down = crossings(t, g, 0.0, f, direction=-1)
    up = crossings(t, g, 0.0, f, direction=+1)
    edges = sorted([(s, "in") for s in down] + [(s, "out") for s in up])
    inside = g[0] < 0 or (g[0] == 0 and g.size > 1 and g[1] <= 0)  # a touch of 0 at t0 does not count
    out, start = [], (t[0] if inside else None)
    for s, kind in edges:
        if kind == "in" and start is None:
            start = s
        elif kind == "out" and start is not None:
            out.append([start, s])
            start = None
    if start is not None:
        out.append([start, float("inf")])
    return out
