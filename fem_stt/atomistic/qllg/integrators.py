r"""Time integration of the q-LLG (seed 004, eq. 3) and q-LL equations; all times in seconds, H in joules.

:class:`QLLG` integrates the density matrix rho (n, n) by one of

- ``method="adaptive"`` (default): Dormand-Prince 8(5,3) (scipy ``DOP853``) on the real view of rho,
  right-hand side :func:`.equation.rhs` (one ``eigh`` per call), rtol = atol = 1e-12 by default;
  dense output (7th order) between steps for the output times and for event refinement.
- ``method="rkmk4"``: the Runge-Kutta-Munthe-Kaas method of order 4 on the unitary group
  (Munthe-Kaas, BIT 38, 92 (1998); Iserles et al., Acta Numerica 9, 215 (2000)), isospectral by
  construction. The Lie-algebra field is F(rho) = -i G(rho) (drho/dt = [F, rho], :func:`.equation.generator`);
  a step of size h with RK4 coefficients

      k1 = F(rho),  u2 = h k1/2,  k2 = dexpinv(u2, F(e^u2 . rho)),  u3 = h k2/2,  k3 = dexpinv(u3, F(e^u3 . rho)),
      u4 = h k3,  k4 = dexpinv(u4, F(e^u4 . rho)),  u = h (k1 + 2 k2 + 2 k3 + k4)/6,  rho <- e^u rho e^-u,

  with dexpinv(u, k) = k - [u, k]/2 + [u, [u, k]]/12 and e^u from the ``eigh`` of the Hermitian i u
  (exactly unitary). rho is carried as (p, V) with fixed eigenvalues p and unitary V, so the
  spectrum is conserved to round-off (V is reset to the nearest unitary, U W^H of its SVD, at every
  output so that round-off does not accumulate). Fixed step ``dt`` (each output interval is split evenly).
- ``method="closed_form"``: for a pure state or a Werner-class state rho = (1-p)/n 1 + p|phi><phi| and a
  time-independent H (spec qllg.md, section 1(d, e)):

      phi(t) = exp(-i H tau / hbar) phi(0) / ||.||,   tau = t / (1 + i kappa p)   (q-LLG)
                                                      tau = t (1 - i kappa p)     (q-LL)

  (complex-time Schrödinger evolution; p = 1 for pure states). Overlaps with H's eigenvectors below
  ``overlap_tol`` (relative) are set to zero: round-off in them would be amplified by
  exp(kappa dE t / (hbar (1 + kappa^2))).

:class:`PureStateQLLG` propagates a state vector psi (n,) for large N with a sparse H: the closed
form by Krylov ``expm_multiply`` (time-independent H; above ``LEAN_NNZ`` nonzeros through a
LinearOperator, so that no copy of H is made: 2x slower, 10x less memory) or the normalised complex-time Schrödinger
equation dpsi/dt = -(i/hbar) (H - <H>) psi / (1 + i kappa) by DOP853 (any H). A pure state stays pure under
eq. 3, and this equation is eq. 3 restricted to pure states.

Every run returns a :class:`Trajectory` with the output times [s], the states (when stored), the
energy [J], the spectrum of rho and the requested observables, plus ``stats`` (right-hand-side
calls, steps, wall time, spectrum drift, trace and Hermiticity errors, largest energy increase).
"""
from __future__ import annotations

import bisect
import time
from typing import Callable, Dict, Optional

import numpy as np
import scipy.sparse.linalg as spla
from scipy.integrate import DOP853

from ...constants import HBAR
from ...errors import ParameterError, SolverError, require_positive
from .equation import (check_density_matrix, check_equation, check_kappa, eigen, eigh, generator_eigenbasis, rhs)
from .hamiltonian import Hamiltonian

METHODS = ("adaptive", "rkmk4", "closed_form")
SPECTRUM_MAX_N = 256  #: above this dimension the spectrum is computed at the first and last output only
STORE_MAX_N = 64  #: default: store every output state up to this dimension
OVERLAP_TOL = 1e-13  #: default relative cut-off of the closed forms' eigen-overlaps (see module docstring)
WERNER_TOL = 1e-12  #: eigenvalue spread below which rho counts as (1-p)/n 1 + p|phi><phi|
LEAN_NNZ = 2 ** 24  #: above this many nonzeros of H, Krylov works on an operator instead of copies of H


def check_times(t_eval) -> np.ndarray:
    """Output times [s]: a 1-D array of >= 2 finite, strictly increasing values (ParameterError otherwise)."""
    t = np.asarray(t_eval, dtype=float) if not isinstance(t_eval, str) else np.array([np.nan])
    if t.ndim != 1 or t.size < 2 or not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
        raise ParameterError("t_eval", "must be >= 2 finite, strictly increasing times [s] (the first is the start)")
    return t


class Trajectory:
    """The outcome of a run at the output times.

    Attributes
    ----------
    t : (nt,) output times [s].
    states : (nt, n, n) density matrices, (nt, n) state vectors (pure runs), or None (not stored).
    energy : (nt,) Tr(rho H(t)) [J].
    spectrum : (nt, n) ascending eigenvalues of rho at each output (rows of NaN where not computed).
    observables : dict name -> (nt, ...) arrays of the ``observe`` callables.
    stats : dict of run statistics (see the module docstring).
    pure : True for state-vector runs.
    """

    def __init__(self, t, pure: bool = False):
        self.t = np.asarray(t, dtype=float)
        self.pure = pure
        self.states = None
        self.energy = None
        self.spectrum = None
        self.observables: Dict[str, np.ndarray] = {}
        self.stats: Dict[str, object] = {}
        self._dense = None  # callable t -> state, or None

    def __len__(self):
        return self.t.size

    def state(self, k: int) -> np.ndarray:
        """The stored state at output index k."""
        if self.states is None:
            raise ParameterError("store_states", "states were not stored in this run (pass store_states=True)")
        return self.states[k]

    def state_at(self, t: float) -> np.ndarray:
        """The state at any time within the run: the integrator's dense output (adaptive runs), the
        closed form, else ParameterError."""
        if self._dense is None:
            raise ParameterError("t", "this trajectory has no dense output (use method='adaptive' or "
                                      "'closed_form' with dense_output=True)")
        if not self.t[0] - 1e-15 * abs(self.t[-1]) <= t <= self.t[-1] * (1 + 1e-15):
            raise ParameterError("t", f"must lie in [{self.t[0]:g}, {self.t[-1]:g}] s, got {t!r}")
        return self._dense(t)

    @property
    def spectrum_drift(self) -> float:
        """max over outputs of max_i |lambda_i(t) - lambda_i(0)| (NaN rows skipped)."""
        if self.spectrum is None:
            return float("nan")
        d = np.abs(self.spectrum - self.spectrum[0])
        return float(np.nanmax(d)) if np.any(np.isfinite(d)) else float("nan")


class _Recorder:
    """Fills a Trajectory output by output: energy, spectrum, observables, optional states, checks."""

    def __init__(self, traj: Trajectory, n: int, energy_fn, observe, store: bool, progress: bool):
        nt = traj.t.size
        self.traj, self.energy_fn = traj, energy_fn
        if callable(observe):  # one callable returning a dict of arrays (shares work between observables)
            self.observe = observe
        else:
            self.observe = dict(observe or {})
            for name, f in self.observe.items():
                if not callable(f):
                    raise ParameterError(f"observe[{name!r}]", "must be a callable (state, t) -> array")
        traj.energy = np.empty(nt)
        traj.spectrum = None if traj.pure else np.full((nt, n), np.nan)
        if store:
            traj.states = np.empty((nt, n) if traj.pure else (nt, n, n), dtype=complex)
        self.store = store
        self.full_spectrum = n <= SPECTRUM_MAX_N
        self.trace_err = 0.0
        self.herm_err = 0.0
        self.norm_err = 0.0
        self.bar = None
        if progress:
            from tqdm import tqdm
            self.bar = tqdm(total=nt, desc="q-LLG", unit="out")

    def __call__(self, k: int, state: np.ndarray):
        tr = self.traj
        t = tr.t[k]
        if tr.pure:
            self.norm_err = max(self.norm_err, abs(np.vdot(state, state).real - 1))
        else:
            self.trace_err = max(self.trace_err, abs(np.trace(state) - 1))
            self.herm_err = max(self.herm_err, float(np.abs(state - state.conj().T).max()))
            if self.full_spectrum or k in (0, tr.t.size - 1):
                tr.spectrum[k] = np.linalg.eigvalsh(0.5 * (state + state.conj().T))
        tr.energy[k] = self.energy_fn(state, t)
        values = self.observe(state, t) if callable(self.observe) else \
            {name: f(state, t) for name, f in self.observe.items()}
        for name, v in values.items():
            v = np.asarray(v)
            if name not in tr.observables:
                tr.observables[name] = np.full((tr.t.size,) + v.shape, np.nan, dtype=v.dtype)
            tr.observables[name][k] = v
        if self.store:
            tr.states[k] = state
        if self.bar is not None:
            self.bar.update(1)

    def finish(self, wall: float, **stats):
        tr = self.traj
        if self.bar is not None:
            self.bar.close()
        dE = np.diff(tr.energy)
        tr.stats.update(stats)
        tr.stats.update({"wall_s": wall, "energy_increase_max_J": float(max(dE.max(), 0.0)) if dE.size else 0.0})
        if tr.pure:
            tr.stats["norm_error"] = self.norm_err
        else:
            tr.stats.update({"spectrum_drift": tr.spectrum_drift, "trace_error": float(self.trace_err),
                             "hermiticity_error": self.herm_err})
        return tr


def _expm_antihermitian(u: np.ndarray) -> np.ndarray:
    """e^u for anti-Hermitian u, from the eigh of i u (unitary to round-off)."""
    h = 1j * u
    w, W = eigh(0.5 * (h + h.conj().T))
    return (W * np.exp(-1j * w)) @ W.conj().T


def _dexpinv(u: np.ndarray, k: np.ndarray) -> np.ndarray:
    """dexp_u^{-1}(k) to the order needed by RKMK4: k - [u,k]/2 + [u,[u,k]]/12."""
    c = u @ k - k @ u
    return k - 0.5 * c + (u @ c - c @ u) / 12.0


def _complex_time_evolution(w, W, psi0, kappa_eff, equation, overlap_tol):
    """psi(t) factory for the closed forms: eigenpairs (w [rad/s], W) of H/hbar, returns t -> psi(t)."""
    c = W.conj().T @ psi0
    keep = np.abs(c) > overlap_tol * np.abs(c).max()
    c, wk, Wk = c[keep], w[keep], W[:, keep]
    w0 = wk.min()
    z = 1.0 / (1.0 + 1j * kappa_eff) if equation == "qllg" else (1.0 - 1j * kappa_eff)

    def psi(t):
        a = c * np.exp(-1j * (wk - w0) * z * t)  # |factor| <= 1: no overflow
        v = Wk @ a
        return v / np.linalg.norm(v)
    return psi


def werner_decomposition(rho: np.ndarray, tol: float = WERNER_TOL):
    """(p, phi) with rho = (1-p)/n 1 + p |phi><phi|, or None if rho is not of that form
    (largest eigenvalue simple, the n-1 others equal within ``tol``). p = 1 for a pure state."""
    lam, V = np.linalg.eigh(0.5 * (rho + rho.conj().T))
    rest = lam[:-1]
    if rest.size and rest.max() - rest.min() > tol:
        return None
    p = lam[-1] - (rest.mean() if rest.size else 0.0)
    if p <= tol:
        return None
    return float(p), V[:, -1]


def _hamiltonian_of_time(hamiltonian, sparse: bool):
    """(Hamiltonian or None, n, time_dependent, t -> H(t) [J] dense or sparse) of a Hamiltonian or a matrix."""
    import scipy.sparse as sp
    from .hamiltonian import check_hermitian
    if isinstance(hamiltonian, Hamiltonian):
        for term in hamiltonian.terms:  # time-dependent fields are checked at t = 0
            if hasattr(term, "B"):
                term.B(0.0)
        return (hamiltonian, hamiltonian.n, hamiltonian.time_dependent,
                hamiltonian.sparse if sparse else hamiltonian.dense)
    if sparse and sp.issparse(hamiltonian):
        H = hamiltonian.tocsr().astype(complex)
        if H.shape[0] != H.shape[1] or abs(H - H.conj().T).max() > 1e-10 * max(abs(H).max(), 1e-300):
            raise ParameterError("hamiltonian", "must be a square Hermitian matrix")
    else:
        H = check_hermitian("hamiltonian", hamiltonian)
        H = sp.csr_matrix(H) if sparse else H
    return None, H.shape[0], False, (lambda t, H=H: H)


class QLLG:
    """The q-LLG master equation (eq. 3) or q-LL for a density matrix, with a Hamiltonian in joules.

    Parameters
    ----------
    hamiltonian : Hamiltonian (named terms, SI) or a Hermitian (n, n) array [J].
    kappa : dimensionless damping >= 0 (the paper uses 0.5).
    equation : "qllg" (eq. 3, default) or "qll" (Wieser's q-LL).

    Raises ParameterError for kappa < 0, an unknown equation or a non-Hermitian matrix.
    """

    def __init__(self, hamiltonian, kappa: float = 0.5, equation: str = "qllg"):
        self.kappa = check_kappa(kappa)
        self.equation = check_equation(equation)
        self.hamiltonian, self.n, self.time_dependent, self._H = _hamiltonian_of_time(hamiltonian, sparse=False)

    def H(self, t: float = 0.0) -> np.ndarray:
        """H(t) [J], dense (n, n)."""
        return self._H(t)

    def omega(self, t: float = 0.0) -> np.ndarray:
        """Omega(t) = H(t)/hbar [rad/s], dense (n, n)."""
        return self._H(t) / HBAR

    def rhs(self, rho: np.ndarray, t: float = 0.0) -> np.ndarray:
        """drho/dt [1/s] at time t [s] (eigenbasis formula of :mod:`.equation`)."""
        return rhs(rho, self.omega(t), self.kappa, self.equation)

    def energy(self, rho: np.ndarray, t: float = 0.0) -> float:
        """Tr(rho H(t)) [J]."""
        return float(np.real(np.sum(rho * self._H(t).T)))

    # ------------------------------------------------------------------ solve
    def solve(self, rho0, t_eval, method: str = "adaptive", rtol: float = 1e-12, atol: float = 1e-12,
              dt: Optional[float] = None, observe: Optional[Dict[str, Callable]] = None,
              store_states: Optional[bool] = None, dense_output: Optional[bool] = None,
              overlap_tol: float = OVERLAP_TOL, progress: bool = False) -> Trajectory:
        """Integrate from rho(t_eval[0]) = rho0 and return a :class:`Trajectory` at ``t_eval`` [s].

        Parameters
        ----------
        rho0 : density matrix (n, n): Hermitian, trace 1, positive (each to 1e-10).
        t_eval : >= 2 strictly increasing output times [s]; the first is the initial time.
        method : "adaptive" (DOP853, rtol/atol), "rkmk4" (fixed step ``dt`` [s]) or "closed_form".
        observe : dict name -> callable(rho, t) -> array, or one callable(rho, t) -> dict name -> array,
            evaluated at every output.
        store_states : keep every output rho (default: n <= 64).
        dense_output : keep the adaptive run's interpolants for :meth:`Trajectory.state_at`
            (default: n <= 64).

        Raises ParameterError for bad input (before any work), SolverError if DOP853 fails.
        """
        rho0 = check_density_matrix(rho0, self.n, "rho0")
        t = check_times(t_eval)
        if method not in METHODS:
            raise ParameterError("method", f"must be one of {METHODS}, got {method!r}")
        if method == "adaptive":
            rtol = require_positive("rtol", rtol)
            atol = require_positive("atol", atol)
        if method == "rkmk4":
            if dt is None:
                raise ParameterError("dt", "the rkmk4 method needs a time step dt > 0 [s]")
            dt = require_positive("dt", dt, "s")
        store = self.n <= STORE_MAX_N if store_states is None else bool(store_states)
        dense = self.n <= STORE_MAX_N if dense_output is None else bool(dense_output)
        traj = Trajectory(t)
        rec = _Recorder(traj, self.n, self.energy, observe, store, progress)
        t0 = time.perf_counter()
        if method == "adaptive":
            stats = self._adaptive(rho0, t, rtol, atol, rec, dense)
        elif method == "rkmk4":
            stats = self._rkmk4(rho0, t, dt, rec)
        else:
            stats = self._closed_form(rho0, t, rec, overlap_tol, dense)
        return rec.finish(time.perf_counter() - t0, method=method, equation=self.equation, kappa=self.kappa,
                          n=self.n, **stats)

    def _adaptive(self, rho0, t, rtol, atol, rec, dense):
        n = self.n

        def fun(tt, y):
            rho = np.ascontiguousarray(y).view(complex).reshape(n, n)
            return self.rhs(rho, tt).view(float).ravel()

        to_rho = lambda y: np.ascontiguousarray(y).view(complex).reshape(n, n).copy()  # noqa: E731
        solver = DOP853(fun, t[0], rho0.astype(complex).view(float).ravel(), t_bound=t[-1], rtol=rtol, atol=atol)
        rec(0, rho0.astype(complex))
        k, steps, interps = 1, 0, []
        while solver.status == "running":
            msg = solver.step()
            if solver.status == "failed":
                raise SolverError(f"DOP853 failed at t = {solver.t:g} s: {msg}")
            steps += 1
            interp = None
            if dense or (k < t.size and t[k] <= solver.t):
                interp = solver.dense_output()
            if dense:
                interps.append((solver.t, interp))
            while k < t.size and t[k] <= solver.t:
                rec(k, to_rho(solver.y if t[k] == solver.t else interp(t[k])))
                k += 1
        if k < t.size:
            raise SolverError(f"DOP853 stopped at t = {solver.t:g} s before the last output time {t[-1]:g} s")
        if dense:
            ends = [e for e, _ in interps]

            def state_at(tt):
                if tt <= t[0]:
                    return rho0.astype(complex)
                i = min(bisect.bisect_left(ends, tt), len(ends) - 1)
                return to_rho(interps[i][1](tt))
            rec.traj._dense = state_at
        return {"nfev": int(solver.nfev), "steps": steps, "rtol": rtol, "atol": atol}

    def _rkmk4(self, rho0, t, dt, rec):
        p, V = eigen(rho0)
        kappa, eq = self.kappa, self.equation

        def F(Vs, ts):
            Gb, _ = generator_eigenbasis(p, Vs, self.omega(ts), kappa, eq)
            f = -1j * (Vs @ Gb @ Vs.conj().T)
            return 0.5 * (f - f.conj().T)

        rec(0, rho0.astype(complex))
        steps = 0
        for k in range(1, t.size):
            m = max(1, int(np.ceil((t[k] - t[k - 1]) / dt - 1e-9)))
            h = (t[k] - t[k - 1]) / m
            for j in range(m):
                tj = t[k - 1] + j * h
                k1 = F(V, tj)
                u = 0.5 * h * k1
                k2 = _dexpinv(u, F(_expm_antihermitian(u) @ V, tj + 0.5 * h))
                u = 0.5 * h * k2
                k3 = _dexpinv(u, F(_expm_antihermitian(u) @ V, tj + 0.5 * h))
                u = h * k3
                k4 = _dexpinv(u, F(_expm_antihermitian(u) @ V, tj + h))
                V = _expm_antihermitian(h / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)) @ V
                steps += 1
            U, _, Wh = np.linalg.svd(V)  # nearest unitary: removes the round-off drift of the products
            V = U @ Wh
            rec(k, (V * p) @ V.conj().T)
        return {"nfev": 4 * steps, "steps": steps, "dt": dt}

    def closed_form_factory(self, rho0, overlap_tol: float = OVERLAP_TOL):
        """t [s] -> rho(t) for a pure or Werner-class rho0 and a time-independent H (module docstring).

        Raises ParameterError if H depends on time or rho0 is not of the form (1-p)/n 1 + p|phi><phi|."""
        if self.time_dependent:
            raise ParameterError("hamiltonian", "the closed form needs a time-independent H")
        dec = werner_decomposition(rho0)
        if dec is None:
            raise ParameterError("rho0", "the closed form needs a pure state or (1-p)/n 1 + p|phi><phi| "
                                         "(one eigenvalue above n-1 equal ones)")
        p, phi = dec
        w, W = np.linalg.eigh(self.omega(0.0))
        psi = _complex_time_evolution(w, W, phi, self.kappa * p, self.equation, overlap_tol)
        n = self.n

        def rho(t):
            v = psi(t)
            return (1 - p) / n * np.eye(n) + p * np.outer(v, v.conj())
        return rho, p

    def _closed_form(self, rho0, t, rec, overlap_tol, dense):
        f, p = self.closed_form_factory(rho0, overlap_tol)
        t0 = t[0]
        for k in range(t.size):
            rec(k, f(t[k] - t0))
        if dense:
            rec.traj._dense = lambda tt: f(tt - t0)
        return {"werner_p": p, "overlap_tol": overlap_tol}


class PureStateQLLG:
    """Eq. 3 for a pure state psi (n,) with a sparse H: large clusters (N ~ 20) where rho no longer fits.

    Parameters as :class:`QLLG` (hamiltonian must be a :class:`Hamiltonian`, or a sparse/dense Hermitian
    matrix [J]). ``solve(..., method="krylov")`` needs a time-independent H; ``"adaptive"`` works for any.
    """

    def __init__(self, hamiltonian, kappa: float = 0.5, equation: str = "qllg"):
        self.kappa = check_kappa(kappa)
        self.equation = check_equation(equation)
        self.hamiltonian, self.n, self.time_dependent, self._H = _hamiltonian_of_time(hamiltonian, sparse=True)
        # the complex-time factor of the pure-state equation (module docstring)
        self.z = 1.0 / (1.0 + 1j * self.kappa) if self.equation == "qllg" else (1.0 - 1j * self.kappa)

    def energy(self, psi, t: float = 0.0) -> float:
        """<psi|H(t)|psi> [J]."""
        return float(np.vdot(psi, self._H(t) @ psi).real)

    def rhs(self, psi, t: float = 0.0):
        """dpsi/dt = -(i/hbar) z (H - <H>) psi [1/s], z = 1/(1 + i kappa) (q-LLG) or 1 - i kappa (q-LL)."""
        Hpsi = self._H(t) @ psi
        return (-1j * self.z / HBAR) * (Hpsi - np.vdot(psi, Hpsi) * psi)

    def solve(self, psi0, t_eval, method: str = "krylov", rtol: float = 1e-10, atol: float = 1e-12,
              observe: Optional[Dict[str, Callable]] = None, store_states: Optional[bool] = None,
              progress: bool = False) -> Trajectory:
        """Propagate psi0 (n,) (normalised here) to the output times ``t_eval`` [s].

        method : "krylov" (expm_multiply of the closed form between outputs, renormalised; static H)
                 or "adaptive" (DOP853 on the equation of :meth:`rhs`).
        observe : dict name -> callable(psi, t) -> array, or one callable(psi, t) -> dict.
        Raises ParameterError for bad input, SolverError if DOP853 fails.
        """
        psi0 = np.asarray(psi0, dtype=complex)
        if psi0.shape != (self.n,) or not np.all(np.isfinite(psi0)) or np.linalg.norm(psi0) == 0:
            raise ParameterError("psi0", f"must be a non-zero finite vector of length {self.n}")
        psi0 = psi0 / np.linalg.norm(psi0)
        t = check_times(t_eval)
        if method not in ("krylov", "adaptive"):
            raise ParameterError("method", f"must be 'krylov' or 'adaptive', got {method!r}")
        if method == "krylov" and self.time_dependent:
            raise ParameterError("method", "'krylov' needs a time-independent H; use 'adaptive'")
        rtol = require_positive("rtol", rtol)
        atol = require_positive("atol", atol)
        store = self.n <= 4096 if store_states is None else bool(store_states)
        traj = Trajectory(t, pure=True)
        rec = _Recorder(traj, self.n, self.energy, observe, store, progress)
        t0 = time.perf_counter()
        rec(0, psi0)
        if method == "krylov":
            import scipy.sparse as sp
            H = self._H(0.0)
            lean = H.nnz > LEAN_NNZ
            trH = complex(H.diagonal().sum())
            I = None if lean else sp.identity(self.n, dtype=complex, format="csr")
            psi = psi0
            for k in range(1, t.size):
                E = np.vdot(psi, H @ psi).real  # shift by <H>: the norm stays O(1) over the interval
                c = -1j * self.z * (t[k] - t[k - 1]) / HBAR
                if lean:  # A = c (H - E) as an operator: no copies of a large H (slower 1-norm estimates)
                    A = spla.LinearOperator((self.n, self.n), dtype=complex,
                                            matvec=lambda v, c=c, E=E: c * (H @ v - E * v),
                                            rmatvec=lambda v, c=c, E=E: np.conj(c) * (H @ v - E * v))
                    psi = spla.expm_multiply(A, psi, traceA=c * (trH - E * self.n))
                else:
                    psi = spla.expm_multiply(c * (H - E * I), psi)
                nrm = np.linalg.norm(psi)
                if not np.isfinite(nrm) or nrm == 0:
                    raise SolverError(f"Krylov propagation lost the state at t = {t[k]:g} s (norm {nrm})")
                psi = psi / nrm
                rec(k, psi)
            stats = {"steps": t.size - 1}
        else:
            solver = DOP853(lambda tt, y: self.rhs(y, tt), t[0], psi0, t_bound=t[-1], rtol=rtol, atol=atol)
            k, steps = 1, 0
            while solver.status == "running":
                msg = solver.step()
                if solver.status == "failed":
                    raise SolverError(f"DOP853 failed at t = {solver.t:g} s: {msg}")
                steps += 1
                if k < t.size and t[k] <= solver.t:
                    interp = solver.dense_output()
                    while k < t.size and t[k] <= solver.t:
                        v = solver.y if t[k] == solver.t else interp(t[k])
                        rec(k, v / np.linalg.norm(v))
                        k += 1
            stats = {"steps": steps, "nfev": int(solver.nfev), "rtol": rtol, "atol": atol}
        return rec.finish(time.perf_counter() - t0, method=method, equation=self.equation, kappa=self.kappa,
                          n=self.n, **stats)
