"""Newton (PETSc SNES) and error-controlled BDF1/BDF2 time stepping shared by the QDD solvers.

Newton: SNES ``newtonls`` with a line search (``bt`` for nonlinear problems, ``basic`` for
linear ones) and a direct LU solve (MUMPS) of each Newton system; the converged reason is
checked after every solve and a failure raises :class:`fem_stt.errors.SolverError`. PETSc
options reach the solvers with the prefixes ``qdd_charge_`` and ``qdd_spin_`` (e.g.
``PETSC_OPTIONS="-qdd_spin_snes_monitor"``).

Time stepping: implicit BDF1 (backward Euler) and variable-step BDF2,
``(a0 u^{n+1} + a1 u^n + a2 u^{n-1}) / h_n = f(u^{n+1})`` with ``w = h_n/h_{n-1}``,
``a0 = (1+2w)/(1+w)``, ``a1 = -(1+w)``, ``a2 = w^2/(1+w)``. The local error is estimated
(Milne's device) from the distance to an explicit predictor through the previous
solutions: ``LTE ~ r (u^{n+1} - p)``, with ``r = h/(2h + h1)`` (BDF1, linear predictor)
and ``r = h (h + h1)/(3h^2 + 4h h1 + 2h h2 + h1^2 + h1 h2)`` (BDF2, quadratic predictor;
2/11 at constant steps), derived from the Taylor expansions of both.
"""
from __future__ import annotations

import logging
import math
from typing import Callable, List, Optional

import dolfinx.fem
import numpy as np
from mpi4py import MPI
from petsc4py import PETSc

from ... import _compat
from ...errors import ParameterError, SolverError, require_positive

log = logging.getLogger(__name__)

SNES_REASONS = {v: k for k, v in PETSc.SNES.ConvergedReason.__dict__.items() if isinstance(v, int)}


class Newton:
    """Newton's method for ``F(u) = 0`` (DOLFINx residual form ``F``, Jacobian ``ufl.derivative``).

    Parameters
    ----------
    F : ufl residual form in ``u``; J : its Jacobian form; u : the unknown Function;
    bcs : Dirichlet conditions; linear : the problem is linear in u (one Newton step, no
    line search); rtol, atol : SNES tolerances on the residual norm; max_it : iterations.
    """

    def __init__(self, F, J, u, bcs=(), linear: bool = False, rtol: float = 1e-10, atol: float = 1e-11,
                 max_it: int = 30, prefix: str = "qdd_"):
        self.problem = _compat.NonlinearForms(F, J, u, bcs)
        self.u = u
        comm = u.function_space.mesh.comm
        snes = PETSc.SNES().create(comm)
        snes.setFunction(self.problem.residual, self.problem.b)
        snes.setJacobian(self.problem.jacobian, self.problem.A)
        snes.setType("newtonls")
        snes.setTolerances(rtol=rtol, atol=atol, stol=0.0, max_it=max_it)
        opts = PETSc.Options()
        opts[f"{prefix}snes_linesearch_type"] = "basic" if linear else "bt"
        ksp = snes.getKSP()
        ksp.setType("preonly")
        pc = ksp.getPC()
        pc.setType("lu")
        pc.setFactorSolverType("mumps")
        snes.setOptionsPrefix(prefix)
        snes.setFromOptions()
        self.snes = snes
        self.iterations = 0
        self.x = self.problem.b.duplicate()

    def solve(self, what: str = "Newton solve") -> int:
        """Solve from the current u (initial guess); returns the Newton iterations.

        Raises SolverError (with the SNES converged reason) unless SNES converged and the
        solution is finite; u is then left at the last iterate."""
        self.u.vector.copy(self.x)
        self.snes.solve(None, self.x)
        reason = self.snes.getConvergedReason()
        self.iterations = self.snes.getIterationNumber()
        self.x.copy(self.u.vector)
        self.u.x.scatter_forward()
        finite = self.u.function_space.mesh.comm.allreduce(bool(np.all(np.isfinite(self.u.x.array))), op=MPI.LAND)
        if reason <= 0 or not finite:
            raise SolverError(f"{what} did not converge: SNES reason {SNES_REASONS.get(reason, reason)} after "
                              f"{self.iterations} iterations, residual {self.snes.getFunctionNorm():.3e}"
                              f"{'' if finite else ' (non-finite values)'}")
        return self.iterations


def owned(f) -> np.ndarray:
    """Owned dof values of a Function (a view)."""
    im = f.function_space.dofmap.index_map
    return f.x.array[: im.size_local * f.function_space.dofmap.index_map_bs]


def global_norm(a: np.ndarray, comm) -> float:
    return math.sqrt(comm.allreduce(float(np.dot(a, a)), op=MPI.SUM))


class BDFStepper:
    """Implicit BDF1/BDF2 time stepping with error control for a solver that provides

    - ``u`` (the unknown Function), ``_old`` ([u^n, u^{n-1}] Functions used by its forms),
    - ``_k`` (three dolfinx Constants a0/h, a1/h, a2/h of its time derivative),
    - ``_solve_implicit(what) -> iterations`` (raises SolverError),
    - ``_error_part(array) -> array`` (owned dofs that enter the error norm),
    - ``t`` (scaled time).
    """

    def _init_stepper(self):
        self.t = 0.0
        self._h_prev: List[float] = []  # previous accepted step sizes, newest first
        self._states: List[np.ndarray] = []  # previous accepted states (full local arrays), newest first
        self.steps = 0
        self.rejected = 0
        self.newton_iterations: List[int] = []

    def reset_history(self):
        """Start time stepping from the current state (e.g. after a stationary solve): the BDF
        history is the current u, t = 0, counters cleared."""
        for o in self._old:
            o.x.array[:] = self.u.x.array
        self._init_stepper()

    def _set_bdf(self, h: float, order: int):
        if order == 2 and self._h_prev:
            w = h / self._h_prev[0]
            a = ((1 + 2 * w) / (1 + w), -(1 + w), w * w / (1 + w))
        else:
            a = (1.0, -1.0, 0.0)
        for k, ak in zip(self._k, a):
            k.value = ak / h

    def _shift(self, h: float):
        self._states.insert(0, self._old[0].x.array.copy())
        del self._states[3:]
        self._h_prev.insert(0, h)
        del self._h_prev[3:]
        self._old[1].x.array[:] = self._old[0].x.array
        self._old[0].x.array[:] = self.u.x.array
        self.t += h
        self.steps += 1

    def _undo(self, h: float):
        """Revert the last accepted step (used when its error estimate rejects it)."""
        self.u.x.array[:] = self._states[0]
        self._old[0].x.array[:] = self._states[0]
        self._old[1].x.array[:] = self._states[1] if len(self._states) > 1 else self._states[0]
        self._states.pop(0)
        self._h_prev.pop(0)
        self.t -= h
        self.steps -= 1

    def step(self, dt: float, order: int = 2) -> int:
        """One implicit step of size ``dt`` (BDF2 once a previous step exists, else BDF1).

        Raises SolverError (u restored to the last state) if Newton fails."""
        require_positive("dt", dt)
        if order not in (1, 2):
            raise ParameterError("order", f"must be 1 or 2, got {order!r}")
        self._set_bdf(dt, order)
        try:
            its = self._solve_implicit(f"time step t = {self.t:.6g} -> {self.t + dt:.6g}")
            self._after_step()
        except SolverError:
            self.u.x.array[:] = self._old[0].x.array
            raise
        self._shift(dt)
        self.newton_iterations.append(its)
        return its

    def _after_step(self):
        """Hook: checks on the new state before it is accepted (raise SolverError to refuse)."""

    def _predictor(self, h: float, order: int):
        """(predictor array, ratio r, BDF order) from the previous states, or (None, None, 1)."""
        s = [self._old[0].x.array] + self._states
        hs = self._h_prev
        if order == 2 and len(s) >= 3 and len(hs) >= 2:  # quadratic through t_n, t_{n-1}, t_{n-2}
            h1, h2 = hs[0], hs[1]
            ts = np.array([0.0, -h1, -h1 - h2])
            tq = h
            wts = [np.prod([(tq - ts[j]) / (ts[i] - ts[j]) for j in range(3) if j != i]) for i in range(3)]
            p = wts[0] * s[0] + wts[1] * s[1] + wts[2] * s[2]
            r = h * (h + h1) / (3 * h * h + 4 * h * h1 + 2 * h * h2 + h1 * h1 + h1 * h2)
            return p, r, 2
        if len(s) >= 2 and len(hs) >= 1:
            h1 = hs[0]
            p = s[0] + (s[0] - s[1]) * h / h1
            return p, h / (2 * h + h1), 1
        return None, None, 1

    def run(self, t_end: float, dt: float, order: int = 2, rtol: Optional[float] = None, atol: float = 1e-8,
            dt_min: float = 1e-12, dt_max: Optional[float] = None,
            callback: Optional[Callable[["BDFStepper"], None]] = None) -> "BDFStepper":
        """Integrate to ``t_end``.

        ``rtol=None``: fixed steps ``dt`` (BDF1 first step, then BDF``order``). ``rtol`` given:
        error-controlled steps starting at ``dt``; a step is accepted when the estimated local
        error (RMS over the dofs of :meth:`_error_part`) is below ``atol + rtol * |u|``; the
        next step is ``h (0.9 / err)^(1/(q+1))`` clipped to [0.2 h, 2 h] and [dt_min, dt_max].
        A Newton failure quarters the step. Raises SolverError below ``dt_min``.
        """
        require_positive("t_end", t_end)
        require_positive("dt", dt)
        comm = self.u.function_space.mesh.comm
        h = float(dt)
        dt_max = float(dt_max) if dt_max else float(t_end)
        eps_t = 1e-12 * max(1.0, abs(t_end))
        while self.t < t_end - eps_t:
            h = min(h, t_end - self.t)
            if rtol is None:
                self.step(h, order)
                if callback:
                    callback(self)
                continue
            p, r, q = self._predictor(h, order)
            if p is not None:
                self.u.x.array[:] = p
            try:
                self.step(h, q)
            except SolverError:
                self.rejected += 1
                h *= 0.25
                if h < dt_min:
                    raise
                continue
            if p is None:
                if callback:
                    callback(self)
                continue
            e = self._error_part(self.u.x.array) - self._error_part(p)
            scale = atol + rtol * global_norm(self._error_part(self.u.x.array), comm) / math.sqrt(
                max(1, comm.allreduce(len(e), op=MPI.SUM)))
            err = r * global_norm(e, comm) / math.sqrt(max(1, comm.allreduce(len(e), op=MPI.SUM))) / scale
            fac = min(2.0, max(0.2, 0.9 * (1.0 / max(err, 1e-10)) ** (1.0 / (q + 1))))
            if err > 1.0:
                self._undo(h)
                self.rejected += 1
                h *= fac
                if h < dt_min:
                    raise SolverError(f"time step below dt_min = {dt_min:g} at t = {self.t:.6g} (error {err:.3g})")
                continue
            if callback:
                callback(self)
            h = min(h * fac, dt_max)
        return self


def constant(mesh, value: float = 0.0):
    return dolfinx.fem.Constant(mesh, PETSc.ScalarType(value))
