r"""Spin-s operators of N-site clusters and standard states (seed 004, eqs. 4, 9).

Spin matrices are dimensionless, S = hbar s: s_z = diag(s, s-1, ..., -s) in the basis
|s, m> with m descending, so |0> = |up> for spin 1/2 (the paper's basis, sigma_z|up> = +|up>).
Site operators are embedded as 1 x ... x s_k x ... x 1 with site 0 the leftmost Kronecker factor;
for two spins 1/2 the basis is |up up>, |up down>, |down up>, |down down> (|up down> is index 1).

States (all density matrices: complex (n, n), Hermitian, trace 1, positive; n = prod(2 s_k + 1)):

- :meth:`SpinCluster.coherent`: product of spin-coherent states along unit vectors;
- :meth:`SpinCluster.product`: product of single-site density matrices, e.g. :func:`bloch_state`;
- :func:`bell_state` ('Phi+', 'Phi-', 'Psi+', 'Psi-'), :func:`werner_state`
  rho = (1 - p)/n 1 + p |phi><phi| (Werner, PRA 40, 4277 (1989));
- :func:`single_spin_state`: eq. 4, rho = (1 + eta.S)/(2s + 1) (eta in units of 1/hbar).
"""
from __future__ import annotations

import functools
from typing import Sequence

import numpy as np
import scipy.sparse as sp

from ...errors import ParameterError

PAULI = {"x": np.array([[0, 1], [1, 0]], dtype=complex), "y": np.array([[0, -1j], [1j, 0]]),
         "z": np.array([[1, 0], [0, -1]], dtype=complex)}


def _check_spin(name: str, s) -> float:
    try:
        v = float(s)
    except (TypeError, ValueError):
        raise ParameterError(name, f"must be a positive half-integer (1/2, 1, 3/2, ...), got {s!r}") from None
    if not (v > 0 and abs(2 * v - round(2 * v)) < 1e-12 and v <= 64):
        raise ParameterError(name, f"must be a positive half-integer (1/2, 1, 3/2, ... <= 64), got {s!r}")
    return round(2 * v) / 2


@functools.lru_cache(maxsize=64)
def spin_matrices(s: float):
    """Dimensionless spin-s matrices (s_x, s_y, s_z), each complex (2s+1, 2s+1), S = hbar s.

    [s_x, s_y] = i s_z (cyclic) and s.s = s(s+1) 1; basis m = s, s-1, ..., -s.
    Raises ParameterError unless s is a positive half-integer.
    """
    s = _check_spin("s", s)
    m = s - np.arange(int(round(2 * s)) + 1)
    sp_ = np.diag(np.sqrt(s * (s + 1) - m[1:] * (m[1:] + 1)), 1).astype(complex)  # s+ |m> = c |m+1>
    sx = 0.5 * (sp_ + sp_.T)
    sy = -0.5j * (sp_ - sp_.T)
    sz = np.diag(m).astype(complex)
    for a in (sx, sy, sz):
        a.setflags(write=False)
    return sx, sy, sz


def unit_vector(name: str, v) -> np.ndarray:
    """A 3-vector normalised to length 1 (ParameterError naming ``name`` if not 3 finite numbers or zero)."""
    a = np.asarray(v, dtype=float) if not isinstance(v, str) else np.array([np.nan])
    if a.shape != (3,) or not np.all(np.isfinite(a)) or np.linalg.norm(a) == 0:
        raise ParameterError(name, f"must be 3 finite numbers, not all zero, got {v!r}")
    return a / np.linalg.norm(a)


def coherent_state(s: float, direction) -> np.ndarray:
    """Spin-coherent state |n> of spin s (complex (2s+1,)): <s> = s n, the highest weight of n.s."""
    n = unit_vector("direction", direction)
    sx, sy, sz = spin_matrices(s)
    w, V = np.linalg.eigh(n[0] * sx + n[1] * sy + n[2] * sz)
    psi = V[:, -1]
    k = np.argmax(np.abs(psi))
    return psi * (abs(psi[k]) / psi[k])  # fix the global phase (largest component real > 0)


def single_spin_state(s: float, eta) -> np.ndarray:
    """Eq. 4: rho = (1 + eta.S)/(2s+1) with eta in units of 1/hbar (eta.S = eta.s dimensionless).

    Raises ParameterError if eta is not 3 finite numbers or rho is not positive.
    """
    eta = np.asarray(eta, dtype=float)
    if eta.shape != (3,) or not np.all(np.isfinite(eta)):
        raise ParameterError("eta", f"must be 3 finite numbers, got {eta!r}")
    sx, sy, sz = spin_matrices(s)
    d = sx.shape[0]
    rho = (np.eye(d) + eta[0] * sx + eta[1] * sy + eta[2] * sz) / d
    if np.linalg.eigvalsh(rho)[0] < -1e-14:
        raise ParameterError("eta", f"|eta| = {np.linalg.norm(eta):g} gives a non-positive rho; need "
                                    f"|eta| <= 1/s = {1 / s:g} for spin {s:g}")
    return rho


def bloch_state(r) -> np.ndarray:
    """Spin-1/2 density matrix (1 + r.sigma)/2 (complex (2, 2)) with Bloch vector r, |r| <= 1."""
    r = np.asarray(r, dtype=float)
    if r.shape != (3,) or not np.all(np.isfinite(r)) or np.linalg.norm(r) > 1 + 1e-12:
        raise ParameterError("r", f"must be 3 finite numbers with |r| <= 1, got {r!r}")
    return 0.5 * (np.eye(2) + r[0] * PAULI["x"] + r[1] * PAULI["y"] + r[2] * PAULI["z"])


_BELL = {"Phi+": (0, 3, 1), "Phi-": (0, 3, -1), "Psi+": (1, 2, 1), "Psi-": (1, 2, -1)}


def bell_state(name: str) -> np.ndarray:
    """Two-qubit Bell vector (complex (4,)): Phi+- = (|uu> +- |dd>)/sqrt2, Psi+- = (|ud> +- |du>)/sqrt2."""
    if name not in _BELL:
        raise ParameterError("name", f"must be one of {sorted(_BELL)}, got {name!r}")
    i, j, sgn = _BELL[name]
    v = np.zeros(4, dtype=complex)
    v[i], v[j] = 1 / np.sqrt(2), sgn / np.sqrt(2)
    return v


def projector(psi) -> np.ndarray:
    """|psi><psi| of a (normalised here) state vector (complex (n, n))."""
    psi = np.asarray(psi, dtype=complex)
    nrm = np.linalg.norm(psi)
    if psi.ndim != 1 or not np.isfinite(nrm) or nrm == 0:
        raise ParameterError("psi", "must be a non-zero finite state vector")
    psi = psi / nrm
    return np.outer(psi, psi.conj())


def werner_state(psi, p: float) -> np.ndarray:
    """Werner state rho = (1 - p)/n 1 + p |psi><psi| (complex (n, n)); 0 <= p <= 1.

    For two qubits with a Bell vector psi it is Bell-nonlocal iff p > 1/sqrt2 (ref. 25 of seed 004).
    """
    p = float(p)
    if not 0.0 <= p <= 1.0:
        raise ParameterError("p", f"must be in [0, 1], got {p!r}")
    P = projector(psi)
    n = P.shape[0]
    return (1 - p) / n * np.eye(n) + p * P


class SpinCluster:
    """N spins with spins s_k (any positive half-integers, mixed allowed).

    Parameters
    ----------
    spins : sequence of N spin quantum numbers, e.g. ``[0.5, 0.5]`` or ``[1, 0.5, 1.5]``.

    Attributes: ``spins`` (tuple), ``dims`` (2 s_k + 1), ``n`` (Hilbert-space dimension).
    Raises ParameterError for an empty list or a spin that is not a positive half-integer.
    """

    def __init__(self, spins: Sequence[float]):
        if isinstance(spins, (int, float)) or len(spins) == 0:
            raise ParameterError("spins", f"must be a non-empty list of spin quantum numbers, got {spins!r}")
        self.spins = tuple(_check_spin(f"spins[{k}]", s) for k, s in enumerate(spins))
        self.dims = tuple(int(round(2 * s)) + 1 for s in self.spins)
        self.n = int(np.prod(self.dims))
        if self.n > 2 ** 26:
            raise ParameterError("spins", f"Hilbert space dimension {self.n} > 2^26 is beyond this code")

    @classmethod
    def uniform(cls, N: int, s: float = 0.5) -> "SpinCluster":
        if not isinstance(N, (int, np.integer)) or N < 1:
            raise ParameterError("N", f"must be an integer >= 1, got {N!r}")
        return cls([s] * int(N))

    @property
    def N(self) -> int:
        return len(self.spins)

    def __repr__(self):
        return f"SpinCluster(spins={list(self.spins)}, n={self.n})"

    def site(self, k: int) -> int:
        if not isinstance(k, (int, np.integer)) or not 0 <= k < self.N:
            raise ParameterError("site", f"must be an integer in [0, {self.N - 1}], got {k!r}")
        return int(k)

    def embed(self, k: int, op) -> sp.csr_matrix:
        """1 x ... x op x ... x 1 (op on site k), sparse complex (n, n)."""
        k = self.site(k)
        left = int(np.prod(self.dims[:k]))
        right = int(np.prod(self.dims[k + 1:]))
        return sp.kron(sp.kron(sp.identity(left, format="csr"), sp.csr_matrix(op)),
                       sp.identity(right, format="csr"), format="csr")

    @functools.lru_cache(maxsize=None)
    def spin_operators(self, k: int):
        """(s_x, s_y, s_z) of site k embedded in the cluster: three sparse complex (n, n) matrices."""
        return tuple(self.embed(k, a) for a in spin_matrices(self.spins[self.site(k)]))

    # ------------------------------------------------------------------ states
    def coherent(self, directions) -> np.ndarray:
        """Product of spin-coherent states along the given unit vectors (one per site): state vector (n,)."""
        dirs = np.asarray(directions, dtype=float)
        if dirs.shape != (self.N, 3):
            raise ParameterError("directions", f"must have shape ({self.N}, 3), got {dirs.shape}")
        psi = np.ones(1, dtype=complex)
        for k in range(self.N):
            psi = np.kron(psi, coherent_state(self.spins[k], dirs[k]))
        return psi

    def product(self, site_states) -> np.ndarray:
        """Kronecker product of single-site density matrices (site k: (2 s_k + 1)^2): rho (n, n)."""
        if len(site_states) != self.N:
            raise ParameterError("site_states", f"must hold {self.N} density matrices, got {len(site_states)}")
        rho = np.ones((1, 1), dtype=complex)
        for k, r in enumerate(site_states):
            r = np.asarray(r, dtype=complex)
            if r.shape != (self.dims[k],) * 2:
                raise ParameterError(f"site_states[{k}]", f"must have shape {(self.dims[k],) * 2}, got {r.shape}")
            rho = np.kron(rho, r)
        return rho

    def basis_state(self, labels: str) -> np.ndarray:
        """Product basis vector from a string of 'u'/'d' (spin 1/2 only), e.g. 'ud' = |up down>."""
        if len(labels) != self.N or any(c not in "ud" for c in labels) or any(d != 2 for d in self.dims):
            raise ParameterError("labels", f"must be {self.N} letters 'u'/'d' on a spin-1/2 cluster, got {labels!r}")
        idx = int("".join("0" if c == "u" else "1" for c in labels), 2)
        v = np.zeros(self.n, dtype=complex)
        v[idx] = 1.0
        return v
