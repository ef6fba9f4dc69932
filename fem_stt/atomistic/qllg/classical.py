r"""Classical atomistic LLG for the same cluster and named terms (seed 004, eqs. 1-2), for comparison.

Unit vectors n_k (one per site, spin s_k) replace the spin operators: S_k -> hbar s_k n_k (spin-coherent
states). The classical energy [J] of a :class:`~.hamiltonian.Hamiltonian`'s terms is

    E(n) = sum_k [-gamma_g hbar s_k B_k.n_k - K_k s_k (s_k - 1/2) (e_k.n_k)^2]
           + c sum_(i,j) [4 J_ij s_i s_j n_i.n_j + 4 s_i s_j D_ij.(n_i x n_j)],

the effective field B_k = -(1/(gamma_g hbar s_k)) dE/dn_k [T], and eq. 2 (the LL form of eq. 1, alpha
dimensionless), with gamma_g from the Hamiltonian,

    dn_k/dt = gamma_g/(1 + alpha^2) [n_k x B_k - alpha n_k x (n_k x B_k)].

The exchange convention ``c`` (model spec qllg.md, section 4):

- ``convention="mean_field"`` (c = 1): E is <H> in the product of coherent states, so the
  single-site mean field of the quantum H drives each n_k. For the dimer of eq. 10 in reduced units:
  B_1 = b - 2J n_2 + 2D z x n_2, i.e. "Jc = 2J, Dc = 2D". A mean-field q-LLG (each spin's rho in its
  mean-field Hamiltonian) follows this LLG with alpha = kappa exactly.
- ``convention="paper"`` (c = 1/2): B_1 = b - J n_2 + D z x n_2, "Jc = J, Dc = D", the convention of the
  paper's Fig. 1 classical curves.

The anisotropy coefficient K s(s - 1/2) is <(e.s)^2> of a coherent state less its constant part (zero
for spin 1/2, where (e.sigma)^2 = 1). Matrix terms have no classical counterpart (ParameterError).

:func:`compare` gives the deviation metrics of a quantum and a classical run (max_t |r_k - n_k|,
end states, times to reach 0.9 / 0.99 of saturation along an axis).
"""
from __future__ import annotations

import time

import numpy as np
from scipy.integrate import solve_ivp

from ...constants import HBAR
from ...errors import ParameterError, SolverError, require_positive
from .hamiltonian import DMI, Anisotropy, Exchange, Hamiltonian, MatrixTerm, Zeeman
from .integrators import check_times
from .observables import crossings

CONVENTIONS = {"mean_field": 1.0, "paper": 0.5}


class ClassicalLLG:
    """Classical LLG of unit vectors for the terms of a :class:`Hamiltonian` (module docstring).

    Parameters
    ----------
    hamiltonian : Hamiltonian (no matrix terms).
    alpha : Gilbert damping >= 0, a number or one per site (N,).
    convention : "paper" (Jc = J) or "mean_field" (Jc = 2J).
    """

    def __init__(self, hamiltonian: Hamiltonian, alpha=0.5, convention: str = "paper"):
        if not isinstance(hamiltonian, Hamiltonian):
            raise ParameterError("hamiltonian", "must be a Hamiltonian of named terms")
        if convention not in CONVENTIONS:
            raise ParameterError("convention", f"must be one of {sorted(CONVENTIONS)}, got {convention!r}")
        cl = hamiltonian.cluster
        N = cl.N
        a = np.broadcast_to(np.asarray(alpha, dtype=float), (N,)) if np.ndim(alpha) in (0, 1) else None
        if a is None or a.shape != (N,) or not np.all(np.isfinite(a)) or np.any(a < 0):
            raise ParameterError("alpha", f"must be a number >= 0 or {N} of them, got {alpha!r}")
        self.hamiltonian, self.alpha, self.convention = hamiltonian, a.copy(), convention
        self.N, self.gamma_g = N, hamiltonian.gamma_g
        s = np.array(cl.spins)
        self.s = s
        c = CONVENTIONS[convention]
        gh = hamiltonian.gamma_g * HBAR
        self._J = np.zeros((N, N))        # B_i -= sum_j _J[i, j] n_j        [T]
        self._D = np.zeros((N, N, 3))     # B_i += sum_j _D[i, j] x n_j      [T]
        self._K = []                      # (k, coefficient [T], axis): B_k += coeff (e.n_k) e
        self._zeeman = []
        self._pairs = []                  # for the energy: (i, j, J [J], D [J])
        self._L = None                    # the linear part of the field, built on first use
        for term in hamiltonian.terms:
            if isinstance(term, Zeeman):
                self._zeeman.append(term)
            elif isinstance(term, Exchange):
                i, j = term.i, term.j
                self._J[i, j] += c * 4 * term.J * s[j] / gh
                self._J[j, i] += c * 4 * term.J * s[i] / gh
                self._pairs.append((i, j, c * term.J, np.zeros(3)))
            elif isinstance(term, DMI):
                i, j = term.i, term.j
                self._D[i, j] += c * 4 * s[j] * term.D / gh
                self._D[j, i] -= c * 4 * s[i] * term.D / gh
                self._pairs.append((i, j, 0.0, c * term.D))
            elif isinstance(term, Anisotropy):
                k = term.site
                self._K.append((k, 2 * term.K * (s[k] - 0.5) / gh, term.axis, term.K * s[k] * (s[k] - 0.5)))
            elif isinstance(term, MatrixTerm):
                raise ParameterError("hamiltonian", "a matrix term has no classical counterpart")

    def _linear_map(self) -> np.ndarray:
        """(3N, 3N) matrix L with B_exchange + B_DMI + B_anisotropy = L vec(n): one product per call."""
        N = self.N
        L = -np.kron(self._J, np.eye(3))
        eps = np.zeros((3, 3, 3))  # Levi-Civita: (D x n)_a = eps_abc D_b n_c
        eps[0, 1, 2] = eps[1, 2, 0] = eps[2, 0, 1] = 1.0
        eps[0, 2, 1] = eps[2, 1, 0] = eps[1, 0, 2] = -1.0
        for i in range(N):
            for j in range(N):
                if np.any(self._D[i, j]):
                    L[3 * i:3 * i + 3, 3 * j:3 * j + 3] += np.einsum("abc,b->ac", eps, self._D[i, j])
        for k, coeff, e, _ in self._K:
            L[3 * k:3 * k + 3, 3 * k:3 * k + 3] += coeff * np.outer(e, e)
        return L

    def field(self, n: np.ndarray, t: float = 0.0) -> np.ndarray:
        """Effective fields B_k [T], shape (N, 3), for unit vectors n (N, 3) at time t [s]."""
        if self._L is None:
            self._L = self._linear_map()
            self._B_static = np.zeros((self.N, 3))
            for term in self._zeeman:
                if term.constant:
                    self._B_static[term.site] += term.B(0.0)
        B = (self._L @ n.ravel()).reshape(self.N, 3) + self._B_static
        for term in self._zeeman:
            if not term.constant:
                B[term.site] += term.B(t)
        return B

    def energy(self, n: np.ndarray, t: float = 0.0) -> float:
        """Classical energy E(n) [J] of the module docstring (the convention's c included)."""
        gh = self.gamma_g * HBAR
        E = 0.0
        for term in self._zeeman:
            E -= gh * self.s[term.site] * term.B(t) @ n[term.site]
        for k, _, e, Ks in self._K:
            E -= Ks * (e @ n[k]) ** 2
        for i, j, J, D in self._pairs:
            E += 4 * self.s[i] * self.s[j] * (J * n[i] @ n[j] + D @ np.cross(n[i], n[j]))
        return float(E)

    def rhs(self, n: np.ndarray, t: float = 0.0) -> np.ndarray:
        """dn/dt [1/s] of eq. 2, shape (N, 3)."""
        B = self.field(n, t)
        nxB = np.cross(n, B)
        a = self.alpha[:, None]
        return self.gamma_g / (1 + a ** 2) * (nxB - a * np.cross(n, nxB))

    def solve(self, n0, t_eval, rtol: float = 1e-12, atol: float = 1e-12) -> "ClassicalTrajectory":
        """Integrate from unit vectors n0 (N, 3) (normalised here) at t_eval[0]; DOP853, outputs at t_eval [s].

        Raises ParameterError for bad input, SolverError if the integrator fails.
        """
        n0 = np.asarray(n0, dtype=float)
        if n0.shape != (self.N, 3) or not np.all(np.isfinite(n0)) or np.any(np.linalg.norm(n0, axis=1) == 0):
            raise ParameterError("n0", f"must be {self.N} non-zero finite 3-vectors, shape ({self.N}, 3)")
        n0 = n0 / np.linalg.norm(n0, axis=1, keepdims=True)
        t = check_times(t_eval)
        rtol, atol = require_positive("rtol", rtol), require_positive("atol", atol)
        t0 = time.perf_counter()
        sol = solve_ivp(lambda tt, y: self.rhs(y.reshape(-1, 3), tt).ravel(), (t[0], t[-1]), n0.ravel(),
                        method="DOP853", t_eval=t, rtol=rtol, atol=atol)
        if not sol.success:
            raise SolverError(f"classical LLG (DOP853) failed: {sol.message}")
        n = sol.y.T.reshape(t.size, self.N, 3)
        tr = ClassicalTrajectory(t, n, np.array([self.energy(n[k], t[k]) for k in range(t.size)]))
        tr.stats = {"nfev": int(sol.nfev), "wall_s": time.perf_counter() - t0, "convention": self.convention,
                    "norm_error": float(np.abs(np.linalg.norm(n, axis=2) - 1).max())}
        return tr


class ClassicalTrajectory:
    """t (nt,) [s], n (nt, N, 3) unit vectors, energy (nt,) [J], stats."""

    def __init__(self, t, n, energy):
        self.t, self.n, self.energy = t, n, energy
        self.stats = {}


def saturation_times(t: np.ndarray, x: np.ndarray, levels=(0.9, 0.99)) -> dict:
    """First times [s] at which the series x(t) reaches each level (upward); NaN if never."""
    out = {}
    for lv in levels:
        c = crossings(t, x, lv, direction=+1)
        out[lv] = float(c[0]) if c.size else float("nan")
    return out


def compare(t: np.ndarray, r: np.ndarray, m: np.ndarray, axis=(1.0, 0.0, 0.0), levels=(0.9, 0.99),
            part: float = 0.1) -> dict:
    """Deviation metrics between quantum Bloch vectors r and classical unit vectors m, both (nt, N, 3).

    Returns max_dev (max_t max_k |r_k - m_k|), max_dev_site (N,), end_dev (at the last time),
    r_end and m_end (N, 3), |r| min, the first time the deviation exceeds ``part`` (the two part),
    and the times at which site 0's component along ``axis`` reaches ``levels`` (quantum and classical).
    """
    r, m = np.asarray(r), np.asarray(m)
    if r.shape != m.shape or r.ndim != 3:
        raise ParameterError("r", f"r and m must both have shape (nt, N, 3), got {r.shape} and {m.shape}")
    e = np.asarray(axis, dtype=float) / np.linalg.norm(axis)
    dev = np.linalg.norm(r - m, axis=2)  # (nt, N)
    worst = dev.max(axis=1)
    c = crossings(t, worst, part, direction=+1)
    return {"max_dev": float(worst.max()), "max_dev_site": dev.max(axis=0).tolist(),
            "end_dev": float(dev[-1].max()), "r_end": r[-1].tolist(), "m_end": m[-1].tolist(),
            "min_abs_r": float(np.linalg.norm(r, axis=2).min()),
            "t_part": float(c[0]) if c.size else float("nan"),
            "t_sat_quantum": saturation_times(t, r[:, 0] @ e, levels),
            "t_sat_classical": saturation_times(t, m[:, 0] @ e, levels)}
