r"""Spin-cluster Hamiltonians from named terms, in joules (seed 004, eq. 10 and the text above eq. 1).

With S_k = hbar s_k (dimensionless spin matrices s_k, :mod:`.spins`):

==============================  ==========================================  =================================
term                            operator [J]                                 parameters (SI)
==============================  ==========================================  =================================
:meth:`Hamiltonian.zeeman`      -gamma_g hbar B_k(t) . s_k                   B_k [T], constant or t [s] -> 3
:meth:`Hamiltonian.exchange`    4 J_ij s_i . s_j = (4 J/hbar^2) S_i . S_j     J_ij [J]; J > 0 antiferromagnetic
:meth:`Hamiltonian.dmi`         4 D_ij . (s_i x s_j)                         D_ij [J] (3-vector)
:meth:`Hamiltonian.anisotropy`  -K_k (e_k . s_k)^2                           K_k [J] (> 0: easy axis e_k)
:meth:`Hamiltonian.add_matrix`  any Hermitian (n, n) matrix                  [J]
==============================  ==========================================  =================================

For a dimer of spins 1/2 (s = sigma/2) the first three give eq. 10,
H = -(hbar gamma_g/2) B.(sigma_1 + sigma_2) + J sigma_1.sigma_2 + D.(sigma_1 x sigma_2);
for B || x and D = 0 its spectrum is the singlet at -3J and the x-triplet at J -/+ hbar gamma_g B, J.
The normalisation 4/hbar^2 is kept for every s (so a spin-s exchange of strength J is 4 J s_i.s_j).

Operators are assembled sparse (scipy CSR); :meth:`Hamiltonian.dense` gives the dense matrix for the
density-matrix integrators, :meth:`Hamiltonian.sparse` the sparse one for pure-state propagation.
:func:`dimer_hamiltonian` and :func:`chain_hamiltonian` take the paper's reduced numbers and convert
them with a :class:`~.units.ReducedUnits` object.
"""
from __future__ import annotations

import dataclasses
from typing import Callable, List, Optional

import numpy as np
import scipy.sparse as sp

from ...constants import HBAR
from ...errors import ParameterError, require_positive, vector_of_time
from .spins import SpinCluster, unit_vector
from .units import PAPER, ReducedUnits

HERMITIAN_TOL = 1e-10  #: relative tolerance of the Hermiticity checks (matrices and density matrices)


def _finite(name, x) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise ParameterError(name, f"must be a finite number, got {x!r}") from None
    if not np.isfinite(v):
        raise ParameterError(name, f"must be a finite number, got {x!r}")
    return v


def _vector(name, v) -> np.ndarray:
    a = np.asarray(v, dtype=float) if not isinstance(v, str) else np.array([np.nan])
    if a.shape != (3,) or not np.all(np.isfinite(a)):
        raise ParameterError(name, f"must be 3 finite numbers, got {v!r}")
    return a


def check_hermitian(name: str, M, n: Optional[int] = None) -> np.ndarray:
    """Return M as a complex array after checking shape (n, n) and ||M - M^H|| <= 1e-10 ||M||.

    Raises ParameterError naming ``name``.
    """
    if sp.issparse(M):
        M = M.toarray()
    try:
        A = np.asarray(M, dtype=complex)
    except (TypeError, ValueError):
        raise ParameterError(name, "must be a square complex matrix") from None
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ParameterError(name, f"must be a square matrix, got shape {A.shape}")
    if n is not None and A.shape[0] != n:
        raise ParameterError(name, f"must be ({n}, {n}) to match the spins, got {A.shape}")
    if not np.all(np.isfinite(A)):
        raise ParameterError(name, "must hold finite numbers")
    scale = max(np.abs(A).max(), 1e-300)
    err = np.abs(A - A.conj().T).max()
    if err > HERMITIAN_TOL * scale:
        raise ParameterError(name, f"must be Hermitian; max|M - M^H| = {err:.3g} (relative {err / scale:.3g})")
    return A


@dataclasses.dataclass
class Zeeman:
    site: int
    B: Callable  # t [s] -> (3,) tesla
    constant: bool


@dataclasses.dataclass
class Exchange:
    i: int
    j: int
    J: float


@dataclasses.dataclass
class DMI:
    i: int
    j: int
    D: np.ndarray


@dataclasses.dataclass
class Anisotropy:
    site: int
    K: float
    axis: np.ndarray


@dataclasses.dataclass
class MatrixTerm:
    M: np.ndarray


class Hamiltonian:
    """A spin-cluster Hamiltonian built from named terms (module docstring), in joules.

    Parameters
    ----------
    cluster : SpinCluster
    gamma_g : gyromagnetic ratio [rad s^-1 T^-1] of the Zeeman terms (> 0); default the paper's 1e11.

    Each ``add`` method validates its input (ParameterError naming the parameter) and returns self.
    """

    def __init__(self, cluster: SpinCluster, gamma_g: float = PAPER.gamma_g):
        if not isinstance(cluster, SpinCluster):
            raise ParameterError("cluster", f"must be a SpinCluster, got {type(cluster).__name__}")
        self.cluster = cluster
        self.gamma_g = require_positive("gamma_g", gamma_g, "rad/(s T)")
        self.terms: List = []
        self._static = None
        self._dense_static = None
        self._dense_ops = {}

    @property
    def n(self) -> int:
        return self.cluster.n

    # ------------------------------------------------------------------ terms
    def _changed(self):
        self._static = None
        self._dense_static = None

    def zeeman(self, B, site: Optional[int] = None) -> "Hamiltonian":
        """-gamma_g hbar B.s on ``site`` (all sites if None); B [T]: 3 numbers or a function t [s] -> 3 numbers."""
        f = vector_of_time("B", B, "T")
        sites = range(self.cluster.N) if site is None else [self.cluster.site(site)]
        for k in sites:
            self.terms.append(Zeeman(k, f, not callable(B)))
        self._changed()
        return self

    def exchange(self, i: int, j: int, J: float) -> "Hamiltonian":
        """4 J s_i.s_j [J] (eq. 10's (4J/hbar^2) S_i.S_j); J > 0 antiferromagnetic."""
        i, j = self._pair(i, j)
        self.terms.append(Exchange(i, j, _finite("J", J)))
        self._changed()
        return self

    def dmi(self, i: int, j: int, D) -> "Hamiltonian":
        """4 D.(s_i x s_j) [J] (eq. 10's (4D/hbar^2).(S_i x S_j)); D a 3-vector in joules."""
        i, j = self._pair(i, j)
        self.terms.append(DMI(i, j, _vector("D", D)))
        self._changed()
        return self

    def anisotropy(self, site: int, K: float, axis) -> "Hamiltonian":
        """-K (e.s)^2 [J] on ``site``; K > 0 favours the axis e (a constant for spin 1/2)."""
        self.terms.append(Anisotropy(self.cluster.site(site), _finite("K", K), unit_vector("axis", axis)))
        self._changed()
        return self

    def add_matrix(self, M) -> "Hamiltonian":
        """Any Hermitian (n, n) matrix [J] (dense or sparse)."""
        self.terms.append(MatrixTerm(check_hermitian("M", M, self.n)))
        self._changed()
        return self

    def _pair(self, i, j):
        i, j = self.cluster.site(i), self.cluster.site(j)
        if i == j:
            raise ParameterError("j", f"a pair needs two different sites, got i = j = {i}")
        return i, j

    # ------------------------------------------------------------------ matrices
    @property
    def time_dependent(self) -> bool:
        return any(isinstance(t, Zeeman) and not t.constant for t in self.terms)

    def _term_sparse(self, term, t=0.0):
        c = self.cluster
        if isinstance(term, Zeeman):
            b = term.B(t)
            return -HBAR * self.gamma_g * sum(b[a] * c.spin_operators(term.site)[a] for a in range(3) if b[a] != 0)
        if isinstance(term, Exchange):
            si, sj = c.spin_operators(term.i), c.spin_operators(term.j)
            return 4 * term.J * sum(si[a] @ sj[a] for a in range(3))
        if isinstance(term, DMI):
            si, sj = c.spin_operators(term.i), c.spin_operators(term.j)
            cross = [si[1] @ sj[2] - si[2] @ sj[1], si[2] @ sj[0] - si[0] @ sj[2], si[0] @ sj[1] - si[1] @ sj[0]]
            return 4 * sum(term.D[a] * cross[a] for a in range(3) if term.D[a] != 0)
        if isinstance(term, Anisotropy):
            s = c.spin_operators(term.site)
            es = sum(term.axis[a] * s[a] for a in range(3))
            return -term.K * (es @ es)
        return sp.csr_matrix(term.M)

    def _static_sparse(self):
        if self._static is None:
            H = sp.csr_matrix((self.n, self.n), dtype=complex)
            for term in self.terms:
                if not (isinstance(term, Zeeman) and not term.constant):
                    H = H + self._term_sparse(term)
            self._static = H.tocsr()
        return self._static

    def sparse(self, t: float = 0.0) -> sp.csr_matrix:
        """H(t) [J] as a sparse complex (n, n) CSR matrix (t [s] matters only for time-dependent fields)."""
        H = self._static_sparse()
        for term in self.terms:
            if isinstance(term, Zeeman) and not term.constant:
                H = H + self._term_sparse(term, t)
        return H.tocsr()

    def dense(self, t: float = 0.0) -> np.ndarray:
        """H(t) [J] as a dense complex (n, n) array; the static part is assembled once (and returned
        read-only when H does not depend on time)."""
        if self._dense_static is None:
            self._dense_static = self._static_sparse().toarray()
            self._dense_static.setflags(write=False)  # shared by every caller: read-only
        if not self.time_dependent:
            return self._dense_static
        H = self._dense_static.copy()
        for term in self.terms:
            if isinstance(term, Zeeman) and not term.constant:
                k = term.site
                if k not in self._dense_ops:
                    self._dense_ops[k] = [o.toarray() for o in self.cluster.spin_operators(k)]
                b = term.B(t)
                for a in range(3):
                    if b[a] != 0:
                        H -= (HBAR * self.gamma_g * b[a]) * self._dense_ops[k][a]
        return H

    def ground_state(self, t: float = 0.0):
        """Lowest eigenvalue [J] and eigenvector (n,) of H(t) (dense eigh)."""
        w, V = np.linalg.eigh(self.dense(t))
        return w[0], V[:, 0]

    def describe(self, units: ReducedUnits = PAPER) -> str:
        """The terms in words, with energies also in the reduced unit of ``units``."""
        E0 = units.energy_unit
        out = [f"{self.cluster!r}, gamma_g = {self.gamma_g:.6g} rad/(s T)"]
        for term in self.terms:
            if isinstance(term, Zeeman):
                out.append(f"  Zeeman site {term.site}: B = " + (f"{np.round(term.B(0.0), 6).tolist()} T"
                                                                 if term.constant else "B(t) (function)"))
            elif isinstance(term, Exchange):
                out.append(f"  exchange ({term.i},{term.j}): J = {term.J:.5g} J = {term.J / E0:.5g} E0")
            elif isinstance(term, DMI):
                out.append(f"  DMI ({term.i},{term.j}): D = {np.round(term.D / E0, 6).tolist()} E0")
            elif isinstance(term, Anisotropy):
                out.append(f"  anisotropy site {term.site}: K = {term.K / E0:.5g} E0 "
                           f"along {term.axis.round(6).tolist()}")
            else:
                out.append(f"  matrix term ({self.n} x {self.n})")
        return "\n".join(out)


def dimer_hamiltonian(J: float, D: float = 0.0, B=(1.0, 0.0, 0.0), units: ReducedUnits = PAPER) -> Hamiltonian:
    """Eq. 10 for two spins 1/2 from the paper's reduced numbers: J, D in E0 = hbar gamma_g B0,
    D along z, B in B0 (a 3-vector or a function of the reduced time t/tau0)."""
    return chain_hamiltonian(2, J, D, B, units)


def chain_hamiltonian(N: int, J: float, D: float = 0.0, B=(1.0, 0.0, 0.0), units: ReducedUnits = PAPER,
                      periodic: bool = False, s: float = 0.5) -> Hamiltonian:
    """Open (or periodic) chain of N spins s with nearest-neighbour exchange J, DMI D z-hat on each
    bond (k, k+1) and a uniform field B, all in the paper's reduced units (converted with ``units``).

    B: 3 numbers [B0] or a function tau -> 3 numbers with tau = t/tau0.
    """
    cluster = SpinCluster.uniform(N, s)
    H = Hamiltonian(cluster, gamma_g=units.gamma_g)
    if callable(B):
        H.zeeman(lambda t, f=B: units.field(np.asarray(f(units.to_reduced_time(t)), dtype=float)))
    else:
        H.zeeman(units.field(_vector("B", B)))
    bonds = [(k, k + 1) for k in range(N - 1)] + ([(N - 1, 0)] if periodic and N > 2 else [])
    Jd, Dd = _finite("J", J), _finite("D", D)
    for i, j in bonds:
        if Jd != 0:
            H.exchange(i, j, units.energy(Jd))
        if Dd != 0:
            H.dmi(i, j, units.energy(np.array([0.0, 0.0, Dd])))
    return H
