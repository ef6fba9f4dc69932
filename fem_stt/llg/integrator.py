r"""Tangent-plane integrator for the Landau-Lifshitz-Gilbert equation.

LLG (Gilbert form, SI; DESIGN.md sec. 1):

    dm/dt = -gamma0 m x H_eff + alpha m x dm/dt,      |m| = 1,

equivalently, for v = dm/dt tangent to m,  alpha v + m x v = gamma0 H_eff,perp.

Scheme (Alouges, Numer. Math. 2008; second order: Alouges, Kritsikis & Toussaint,
Numer. Math. 2012). With the nodal forces F_i = mu0 (int Ms phi_i) H_eff,i of
:mod:`fem_stt.llg.field` and lumped weights W_alpha,i = mu0 int Ms alpha/gamma0 phi_i,
W_gamma,i = mu0 int Ms/gamma0 phi_i, each step finds v_i with v_i . m_i = 0 at every
magnetic vertex such that, for all tangent phi,

    sum_i (W_alpha,i' v_i + W_gamma,i m_i x v_i) . phi_i + theta k (K_ex v) . phi
        = (-K_ex m + F_rest(m*, t*)) . phi,

then m_i <- (m_i + k v_i) / |m_i + k v_i|.

- ``order=1``: theta = 1 (default; any theta in [1/2, 1] is unconditionally stable for
  exchange), m* = m^n, t* = t^n, W_alpha' = W_alpha.  First order in k.
- ``order=2``: theta = 1/2, explicit terms at the extrapolated midpoint
  m* = m^n + (k/2)(m^n - m^{n-1})/k_{n-1}, t* = t^n + k/2, and the damping weight
  corrected by W_alpha,i' = W_alpha,i + (k/2) m_i.F_i. The correction follows from
  writing the LLG at t^{n+1/2} in the tangent plane of m^n: the projection
  (m + k v)/|m + k v| = m + k v - (k^2/2)|v|^2 m + O(k^3) reproduces the normal part
  of the exact chord, m^{n+1/2} x v = m^n x v + O(k^2) since v x v = 0, and the
  remaining O(k) term -(k/2) gamma0 (m.H) v is moved to the left-hand side (the
  alpha -> alpha + (k/2) gamma0 m.H modification of Alouges-Kritsikis-Toussaint).

The tangent constraint is imposed by a local orthonormal basis (e1_i, e2_i) per vertex,
v_i = P_i x_i with P_i = [e1_i e2_i]; the reduced matrix is R = P^T K_ex P, assembled
directly as the 2x2 blocks R_ij = k_ij E_i^T E_j of the scalar stiffness k (K_ex = k (x) I_3;
a fixed sparsity written in place each step, :class:`fem_stt.llg.field.TangentStiffness`) plus the 2x2 blocks
[[W_alpha', -W_gamma], [W_gamma, W_alpha']] (from m x e1 = e2, m x e2 = -e1).
It is solved by GMRES + block Jacobi/ILU, started from the previous step's velocity; a step whose largest nodal rotation
atan(k |v_i|) exceeds ``max_rotation`` (or that is not finite) is rejected and
retried with k/2.

Step-size control. Without ``tolerance`` the step grows by 1.5 while the largest rotation
stays below ``max_rotation``/2 (a stability-style cap). With ``tolerance`` the step is set
by an estimate of the local error (Milne's device, as in variable-step multistep codes):
the accepted states m^{n-p}, ..., m^n (p = ``order``) define the polynomial predictor P of
degree p in t (Lagrange extrapolation over the actual step sizes), and

    err = max_i |m_i^{n+1} - P_i(t^{n+1})| / |P_i(t^{n+1})|       (over free magnetic vertices)

is O(k^{p+1}) like the scheme's own local error, which it bounds from above (for a
trapezoidal-type error constant C = -1/12 the local error is ~err/13). A step with
err > tolerance is rejected; the next step is k (0.9 tolerance/err)^{1/(p+1)}, within
[0.2 k, 2 k] and [dt_min, dt_max]. ``max_rotation`` stays as a safety cap; the first p steps
after a start (no history yet) use the rotation rule.
"""
from __future__ import annotations

import logging
import math
import time
from typing import Callable, Dict, Optional

import dolfinx.fem
import numpy as np
from mpi4py import MPI
from petsc4py import PETSc

from ..constants import MU0
from ..errors import ParameterError, SolverError, require_positive
from ..fembem import FemBemStrayField
from ..geometry.shapes import SHELL
from ..magnetostatics import KSP_REASONS, StrayField
from .columns import VertexColumns
from .field import Exchange, LocalTerms, MagneticVertices, TangentStiffness

log = logging.getLogger(__name__)


def tangent_basis(m: np.ndarray):
    """Orthonormal e1, e2 (each (n, 3)) with e1, e2, m right-handed; m must be unit (zero rows allowed)."""
    n = len(m)
    mm = m.copy()
    zero = np.einsum("ij,ij->i", mm, mm) < 0.5
    mm[zero] = (0.0, 0.0, 1.0)
    a = np.zeros_like(mm)
    a[np.arange(n), np.argmin(np.abs(mm), axis=1)] = 1.0
    e1 = np.cross(a, mm)
    e1 /= np.linalg.norm(e1, axis=1)[:, None]
    e2 = np.cross(mm, e1)
    return e1, e2


class LLG:
    """Time integration of the LLG equation on the magnetic regions of a Domain.

    Parameters
    ----------
    domain : fem_stt.domain.Domain
    m0 : initial unit magnetization: a 3-vector, a dict region -> 3-vector, or a
        callable x -> (3, n) array (x has shape (3, n), metres). Normalized; must be
        non-zero at every magnetic vertex.
    H_ext : external field [A/m]: None, a 3-vector, or a callable t -> 3-vector.
    demag : include the stray field.
    demag_method : ``"shell"`` (:class:`fem_stt.magnetostatics.StrayField`: P2 potential on
        magnets + air + transformed shell) or ``"fembem"`` (:class:`fem_stt.fembem.FemBemStrayField`:
        P1 potential on the magnets only, Fredkin-Koehler open boundary); default ``"shell"``
        when the mesh has a ``shell`` group, else ``"fembem"``.
    order : 1 or 2 (see module docstring).
    theta : implicitness of exchange in [1/2, 1]; default 1 (order 1) or 1/2 (order 2).
    dt : initial time step [s]; dt_min, dt_max : bounds [s].
    max_rotation : largest accepted nodal rotation per step [rad], in (0, 1].
    tolerance : local error per step (dimensionless, max norm over vertices; module docstring)
        for error-controlled steps, in (0, 0.1]; None (default) for the rotation rule alone.
    precession : False drops the m x v term (pure damping, for relaxation).
    stray_field_options : keyword arguments for the stray-field class (``"shell"``: default
        rtol 1e-6, warm-started solves inside the time loop; ``"fembem"``: e.g. ``compression``,
        :class:`fem_stt.fembem.FemBemStrayField`).
    fixed : names of magnetic regions whose m is held fixed (a pinned reference layer); a
        fixed region must not share vertices with a free magnetic region.
    alpha_tensor : dict magnetic region -> (3, 3) Gilbert damping tensor (symmetric, positive
        semi-definite, lab frame), replacing that region's scalar ``alpha``: the damping term of the
        LLG becomes m x (alpha_tensor dm/dt) (e.g. the NEGF tensor of
        :func:`fem_stt.atomistic.negf.bridge.bulk_damping_k`; only its block transverse to m acts).
    thin_film : keep m uniform through the thickness of each magnetic layer of an extruded mesh
        (:mod:`fem_stt.llg.columns`: the tangent-plane step solved for one velocity per vertex
        column; m0 is replaced by its column averages, normalized). The stray field stays 3D.

    Raises
    ------
    ParameterError for invalid parameters or an initial magnetization that is zero at
    a magnetic vertex (or, with ``thin_film``, has a zero column average), and (``thin_film``)
    for magnetic layers that are not extruded meshes; MeshError if ``demag_method="shell"`` and
    the mesh has no shell.
    """

    def __init__(self, domain, m0, H_ext=None, demag: bool = True, demag_method: Optional[str] = None,
                 order: int = 2, theta: Optional[float] = None,
                 dt: float = 1e-13, dt_min: Optional[float] = None, dt_max: Optional[float] = None,
                 max_rotation: float = 0.05, tolerance: Optional[float] = None, precession: bool = True,
                 ksp_rtol: float = 1e-10,
                 stray_field_options: Optional[dict] = None, fixed=(), alpha_tensor: Optional[dict] = None,
                 thin_film: bool = False):
        # ---- validate everything before building operators
        if demag_method not in (None, "shell", "fembem"):
            raise ParameterError("demag_method", f"must be 'shell' or 'fembem', got {demag_method!r}")
        if order not in (1, 2):
            raise ParameterError("order", f"must be 1 or 2, got {order!r}")
        theta = (1.0 if order == 1 else 0.5) if theta is None else theta
        if not 0.5 <= float(theta) <= 1.0:
            raise ParameterError("theta", f"must be in [1/2, 1], got {theta!r}")
        self.dt = require_positive("dt", dt, "s")
        self.dt_min = require_positive("dt_min", dt_min if dt_min is not None else self.dt * 2.0**-20, "s")
        self.dt_max = require_positive("dt_max", dt_max if dt_max is not None else max(self.dt, 1e-12), "s")
        if self.dt_min > self.dt:
            raise ParameterError("dt_min", f"must be <= dt = {self.dt:g} s, got {self.dt_min:g}")
        if self.dt_max < self.dt:
            raise ParameterError("dt_max", f"must be >= dt = {self.dt:g} s, got {self.dt_max:g}")
        require_positive("max_rotation", max_rotation, "rad")
        if max_rotation > 1.0:
            raise ParameterError("max_rotation", f"must be in (0, 1] rad, got {max_rotation!r}")
        require_positive("ksp_rtol", ksp_rtol)
        if tolerance is not None:
            require_positive("tolerance", tolerance)
            if tolerance > 0.1:
                raise ParameterError("tolerance", f"must be in (0, 0.1] (local error in m per step), got {tolerance!r}")
        self.tolerance = None if tolerance is None else float(tolerance)
        for r in domain.magnetic_regions:
            mat = domain.materials[r]
            if mat.Ms <= 0:
                raise ParameterError(f"materials['{r}'].Ms", f"must be > 0 A/m, got {mat.Ms}")
        alpha_tensor = dict(alpha_tensor or {})
        for r, a in alpha_tensor.items():
            if r not in domain.magnetic_regions:
                raise ParameterError(f"alpha_tensor['{r}']", f"not a magnetic region; magnetic: {domain.magnetic_regions}")
            a = np.asarray(a, dtype=float)
            if a.shape != (3, 3) or not np.all(np.isfinite(a)):
                raise ParameterError(f"alpha_tensor['{r}']", f"must be a finite 3 x 3 matrix, got shape {a.shape}")
            scale = max(float(np.abs(a).max()), 1e-300)
            if np.abs(a - a.T).max() > 1e-10 * scale:
                raise ParameterError(f"alpha_tensor['{r}']", "must be symmetric (a Gilbert damping tensor)")
            if np.linalg.eigvalsh(a).min() < -1e-10 * scale:
                raise ParameterError(f"alpha_tensor['{r}']", "must be positive semi-definite (damping >= 0 in every "
                                                             f"direction), eigenvalues {np.linalg.eigvalsh(a)}")
            alpha_tensor[r] = 0.5 * (a + a.T)
        if not isinstance(thin_film, (bool, np.bool_)):
            raise ParameterError("thin_film", f"must be True or False, got {thin_film!r}")
        self.order, self.theta, self.max_rotation, self.precession = order, float(theta), float(max_rotation), precession
        self.domain = domain
        self.comm = domain.comm
        self.mv = mv = MagneticVertices(domain)
        self.columns = VertexColumns(mv) if thin_film else None
        self.local_terms = LocalTerms(mv, H_ext)
        self.m = dolfinx.fem.Function(mv.Vm, name="m")
        self._set_m(self.m, m0, "m0")
        self.fixed = tuple(fixed)
        self._fixed = np.zeros(mv.n_local, dtype=bool)
        for r in self.fixed:
            if r not in mv.regions:
                raise ParameterError("fixed", f"'{r}' is not a magnetic region; magnetic: {mv.regions}")
            self._fixed[dolfinx.fem.locate_dofs_topological(mv.V1, 3, domain.cells(r))] = True
        if self.fixed:
            free = [r for r in mv.regions if r not in self.fixed]
            free_v = np.zeros(mv.n_local, dtype=bool)
            if free:
                free_v[dolfinx.fem.locate_dofs_topological(mv.V1, 3, domain.cells(free))] = True
            if self.comm.allreduce(int((free_v & self._fixed).any()), op=MPI.MAX):
                raise ParameterError("fixed", f"fixed regions {list(self.fixed)} share vertices with free magnetic "
                                              f"regions {free}: exchange would couple them")

        # ---- operators, built once
        self.exchange = Exchange(mv)
        # inside the time loop the potential is warm-started and a residual of 1e-6 relative
        # to the right-hand side is far below the discretization error (~1e-2 in N)
        self.stray = None
        if demag:
            self.demag_method = demag_method or ("shell" if SHELL in domain.regions else "fembem")
            if self.demag_method == "shell":
                sf_opts = {"rtol": 1e-6}
                sf_opts.update(stray_field_options or {})
                self.stray = StrayField(domain, Vm=mv.Vm, **sf_opts)
            else:
                self.stray = FemBemStrayField(domain, Vm=mv.Vm, **(stray_field_options or {}))
        else:
            self.demag_method = None
        self._m_work = dolfinx.fem.Function(mv.Vm, name="m_work")
        self.v = dolfinx.fem.Function(mv.Vm, name="v")
        no, N = mv.n_owned, mv.V1.dofmap.index_map.size_global
        r0 = mv.V1.dofmap.index_map.local_range[0]
        gcols = 2 * (r0 + np.arange(no))
        self._P_indptr = np.arange(0, 2 * 3 * no + 1, 2, dtype=PETSc.IntType)
        self._P_indices = np.repeat(np.column_stack([gcols, gcols + 1]), 3, axis=0).ravel().astype(PETSc.IntType)
        self.P = PETSc.Mat().createAIJ(size=((3 * no, 3 * N), (2 * no, 2 * N)), comm=self.comm,
                                       csr=(self._P_indptr, self._P_indices, np.zeros(6 * no)))
        self.P.assemble()
        self._update_P()
        # R = P^T K_ex P assembled directly from the scalar stiffness (TangentStiffness); the system
        # matrix LHS = c R + (2 x 2 diagonal blocks) shares R's sparsity, written whole each step.
        # thin_film: the unknowns are the columns' velocities, R from K_col = C^T K_ex C (columns.py)
        if self.columns is None:
            self._tangent, nr, NR = TangentStiffness(self.exchange.K, no, r0), no, N
        else:
            K_col = self.exchange.K.PtAP(self.columns.matrix(3))
            self._tangent = TangentStiffness(K_col, self.columns.n_owned, self.columns.r0)
            nr, NR = self.columns.n_owned, self.columns.n_global
        self._R_indptr, self._R_indices, self._diag_pos = self._tangent.structure
        self._R_vals = np.zeros(len(self._R_indices))
        self._L_vals = np.zeros(len(self._R_indices))
        self.LHS = PETSc.Mat().createAIJ(size=((2 * nr, 2 * NR), (2 * nr, 2 * NR)), comm=self.comm,
                                         csr=(self._R_indptr, self._R_indices, self._L_vals))
        self.LHS.assemble()
        inactive = ~mv.active[:no]
        self._w_alpha = np.where(inactive, 0.0, mv.w_alpha[:no])
        self._w_gamma = np.where(inactive, 0.0, mv.w_gamma[:no]) if precession else np.zeros(no)
        # the reduced system is scaled by 1/w_ref (entries O(1)): SI weights on nanometre
        # meshes are ~1e-31, below the absolute zero-pivot threshold of ILU
        wsum = mv.owned_sum(np.where(mv.active, mv.w_alpha + mv.w_gamma, 0.0))
        nact = self.comm.allreduce(int(mv.active[:no].sum()), op=MPI.SUM)
        self._scale = nact / wsum
        self._w_alpha[inactive] = 1.0 / self._scale  # identity blocks (after scaling) on non-magnetic vertices
        # tensor damping: per vertex W_i = sum_r (mu0 int_r Ms/gamma0 phi_i) alpha_r, scalar alpha elsewhere
        self._w_alpha_tensor = None
        if alpha_tensor:
            from .field import _lumped
            gamma0 = domain.dg0({r: m.gamma0 for r, m in domain.materials.items()}, default=1.0)
            Ms = domain.material_field("Ms")
            W = self._w_alpha[:, None, None] * np.eye(3)[None]
            for r, a in alpha_tensor.items():  # replace region r's scalar contribution by its tensor
                w_r = MU0 * _lumped(mv.V1, Ms / gamma0, domain.measure(r))[:no]  # mu0 int_r Ms/gamma0 phi_i
                W += w_r[:, None, None] * (a - domain.materials[r].alpha * np.eye(3))[None]
            self._w_alpha_tensor = W
        self.ksp = PETSc.KSP().create(self.comm)
        self.ksp.setOperators(self.LHS)
        self.ksp.setType("gmres")
        self.ksp.setTolerances(rtol=ksp_rtol, atol=1e-300, max_it=500)
        # warm start: each step's GMRES starts from P^T v, the previous step's velocity v in the new
        # tangent basis (v is kept with the step history; the stopping rule ||r|| <= rtol ||b|| does
        # not depend on the guess). SP4: 19 -> 13 iterations per step at rtol 1e-6
        self.ksp.setInitialGuessNonzero(True)
        self.ksp.getPC().setType("bjacobi" if self.comm.size > 1 else "ilu")
        self.rhs = self.exchange.K.createVecLeft()
        self._fwork = self.exchange.K.createVecLeft()
        self.x = self.LHS.createVecRight()
        self.b = self.LHS.createVecLeft()
        # the tangent-plane vectors of the vertices (P^T F, P^T v); the same as x, b without thin_film
        self._xv, self._bv = (self.x, self.b) if self.columns is None else (self.P.createVecRight(), self.P.createVecRight())

        self.t = 0.0
        self.step_count = 0
        self.rejected = 0
        self._history = []  # [(m^{n-1}, k_{n-1}), (m^{n-2}, k_{n-2})]: local arrays, newest first
        self.last_rotation = 0.0
        self.last_error = None
        self.field_evaluations = 0
        self.timings = {"stray_field": 0.0, "assembly": 0.0, "linear_solve": 0.0, "update": 0.0}
        self.terms = []

    def add_term(self, term):
        """Add an explicit field or torque term (e.g. :class:`fem_stt.spin.coupling.SpinAccumulationTorque`).

        ``term`` needs ``name`` (str) and ``force(m_func, t) -> (n_local, 3)`` nodal forces [J]
        (F_i = mu0 int Ms phi_i H_i); a torque T enters as the field (1/gamma0) m x T. Optional:
        ``energy(m_func, t) -> float`` [J] for energy-type terms. The term is evaluated with the
        other explicit terms (at the extrapolated midpoint for order 2); its wall time is
        accumulated in ``timings[term.name]``.
        """
        if not hasattr(term, "force") or not hasattr(term, "name"):
            raise ParameterError("term", "must have a name and a force(m_func, t) method")
        self.terms.append(term)
        self.timings.setdefault(term.name, 0.0)

    # ------------------------------------------------------------------ state
    def _set_m(self, f, m0, name):
        mv = self.mv
        x = mv.Vm.tabulate_dof_coordinates()[: mv.n_local]
        arr = f.x.array.reshape(-1, 3)
        if callable(m0):
            vals = np.asarray(m0(x.T.copy()), dtype=float)
            if vals.shape != (3, len(x)):
                raise ParameterError(name, f"callable must return shape (3, n), got {vals.shape}")
            arr[:] = vals.T
        elif isinstance(m0, dict):
            arr[:] = 0.0
            for r, vec in m0.items():
                if r not in mv.regions:
                    raise ParameterError(f"{name}['{r}']", f"not a magnetic region; magnetic: {mv.regions}")
                dofs = dolfinx.fem.locate_dofs_topological(mv.V1, 3, self.domain.cells(r))
                arr[dofs] = np.asarray(vec, dtype=float)
        else:
            vec = np.asarray(m0, dtype=float)
            if vec.shape != (3,):
                raise ParameterError(name, f"must be a 3-vector, a dict region -> 3-vector or a callable, got {m0!r}")
            arr[:] = vec
        nrm = np.linalg.norm(arr, axis=1)
        bad = mv.active & ~(nrm > 1e-12) | ~np.isfinite(nrm)
        if self.comm.allreduce(int(bad[: mv.n_owned].any()), op=MPI.MAX):
            i = int(np.flatnonzero(bad)[0]) if bad.any() else None
            where = f" (e.g. at x = {x[i]})" if i is not None else ""
            raise ParameterError(name, f"is zero or not finite at a magnetic vertex{where}; |m| must be > 0 everywhere")
        arr[mv.active] /= nrm[mv.active, None]
        arr[~mv.active] = 0.0
        if self.columns is not None:  # thin film: the weighted column averages, normalized
            arr[: mv.n_owned] = self._column_average(arr, name)
        f.x.scatter_forward()

    def _column_average(self, m: np.ndarray, name: str) -> np.ndarray:
        """thin_film: the unit vectors (n_owned, 3) of the weighted column averages sum_col w_i m_i of the
        vertex values m (n_local or n_owned rows), copied to every vertex of the column. Raises
        ParameterError (``name``) if an average is zero. Collective."""
        mv, cols, no = self.mv, self.columns, self.mv.n_owned
        mc = cols.sum(mv.w_Ms[:no, None] * m[:no]) / cols.weight[:, None]
        nc = np.linalg.norm(mc, axis=1)
        bad = ~(nc > 1e-12)
        if self.comm.allreduce(int(bad.any()), op=MPI.MAX):
            x = mv.V1.tabulate_dof_coordinates()
            where = f" (e.g. at x = {x[cols.rep[np.flatnonzero(bad)[0]]]})" if bad.any() else ""
            raise ParameterError(name, f"averages to zero over a vertex column{where}; thin_film needs a "
                                       "non-zero average through the thickness")
        return cols.spread(mc / nc[:, None])

    def set_external_field(self, H_ext):
        """Replace the external field (None, a 3-vector [A/m] or a callable t -> 3-vector); validated."""
        self.local_terms.set_field(H_ext)

    def get_state(self) -> dict:
        """Everything a restart needs, as local arrays: m (n_local, 3), the step history
        ``history`` = [(m^{n-1}, k_{n-1}), (m^{n-2}, k_{n-2})] (newest first; used for the
        second-order extrapolation and the error estimate), the last tangent velocity ``v``
        (n_local, 3) [1/s] and the stray-field potential (the warm starts of the linear solves),
        t, dt, step and rejection counters."""
        return {"m": self.m_array.copy(), "history": [(mh.copy(), kh) for mh, kh in self._history],
                "v": self.v.x.array.reshape(-1, 3)[: self.mv.n_local].copy(),
                "u": None if self.stray is None else self.stray.u.x.array.copy(),
                "t": self.t, "dt": self.dt, "step": self.step_count, "rejected": self.rejected}

    def set_state(self, state: dict):
        """Inverse of :meth:`get_state` (arrays in this rank's local numbering). With thin_film, m and the
        history are replaced by their normalized column averages (a no-op for a thin_film run's state)."""
        self.m.x.array.reshape(-1, 3)[: self.mv.n_local] = state["m"]
        self._history = [(np.array(mh), float(kh)) for mh, kh in state.get("history", [])]
        if self.columns is not None:  # (a no-op for a state of a thin_film run)
            no = self.mv.n_owned
            self.m_array[:no] = self._column_average(self.m_array, "state['m']")
            for mh, _ in self._history:
                mh[:no] = self._column_average(mh, "state['history']")
        self.m.x.scatter_forward()
        if self.stray is not None and state.get("u") is not None:
            self.stray.u.x.array[:] = state["u"]
        self.v.x.array[:] = 0.0
        if state.get("v") is not None:
            self.v.x.array.reshape(-1, 3)[: self.mv.n_local] = state["v"]
        self.t, self.dt = float(state["t"]), float(state["dt"])
        self.step_count, self.rejected = int(state["step"]), int(state["rejected"])

    def set_magnetization(self, m0):
        """Replace m (same forms as ``m0``); resets the step history used for extrapolation."""
        self._set_m(self.m, m0, "m")
        self._forget_steps()

    def _forget_steps(self):
        """Drop what the time steps carry from one step to the next: the history (extrapolation, error
        estimate) and the last velocity v (the linear solver's warm start)."""
        self._history = []
        self.v.x.array[:] = 0.0

    @property
    def m_array(self) -> np.ndarray:
        """Local (owned + ghost) vertex values of m, shape (n_local, 3), 0 off the magnets."""
        return self.m.x.array.reshape(-1, 3)[: self.mv.n_local]

    def average(self, region: Optional[str] = None) -> np.ndarray:
        """<m> over a magnetic region (default: all magnetic regions), shape (3,)."""
        regions = [region] if region else self.mv.regions
        w = sum(self.mv.region_weights[r] for r in regions)
        return self.mv.owned_sum(w[:, None] * self.m_array) / self.mv.owned_sum(w)

    # ------------------------------------------------------------------ fields
    def _update_P(self):
        e1, e2 = tangent_basis(self.m_array[: self.mv.n_owned])
        self._e1, self._e2 = e1, e2
        vals = np.stack([e1, e2], axis=2).reshape(-1)  # rows (vertex, component), cols (e1, e2)
        self.P.setValuesCSR(self._P_indptr, self._P_indices, vals)
        self.P.assemble()

    def _tangent_values(self):
        """R = P^T K_ex P in the current tangent basis (of the columns' representatives with thin_film)."""
        if self.columns is None:
            self._tangent.values(self._e1, self._e2, self._R_vals)
        else:
            r = self.columns.rep
            self._tangent.values(self._e1[r], self._e2[r], self._R_vals)

    def _set_lhs(self, c: float, blocks: np.ndarray):
        """LHS = c R + blocks on the diagonal (blocks (n_owned, 4): a11 a12 a21 a22 per vertex; summed over
        each column with thin_film, whose vertices share one tangent basis)."""
        if self.columns is not None:
            blocks = self.columns.sum(blocks)
        np.multiply(self._R_vals, c, out=self._L_vals)
        self._L_vals[self._diag_pos] += blocks
        self.LHS.setValuesCSR(self._R_indptr, self._R_indices, self._L_vals)
        self.LHS.assemble()

    def _solve_tangent(self) -> int:
        """Solve LHS x = b for the vertices' tangent vectors: self._bv (right-hand side P^T F) and
        self._xv (guess in, solution out). With thin_film the system is C^T LHS C x_c = C^T b, the guess
        the representatives' values and x = C x_c. Returns the KSP converged reason."""
        if self.columns is not None:
            C2 = self.columns.matrix(2)
            C2.multTranspose(self._bv, self.b)
            self.x.array[:] = self._xv.array.reshape(-1, 2)[self.columns.rep].ravel()
        self.ksp.solve(self.b, self.x)  # PETSc sees the changed LHS values and redoes the ILU
        if self.columns is not None:
            C2.mult(self.x, self._xv)
        return self.ksp.getConvergedReason()

    def _rest_force(self, m_func, t) -> np.ndarray:
        """Explicit force (anisotropy, Zeeman, stray field) at m_func, time t; (n_local, 3)."""
        m = m_func.x.array.reshape(-1, 3)[: self.mv.n_local]
        self.field_evaluations += 1
        F = self.local_terms.force(m, t)
        if self.stray is not None:
            t0 = time.perf_counter()
            H = self.stray.solve(m_func).x.array.reshape(-1, 3)[: self.mv.n_local]
            self.timings["stray_field"] += time.perf_counter() - t0
            F += self.mv.w_Ms[:, None] * H
        for term in self.terms:
            t0 = time.perf_counter()
            F += term.force(m_func, t)
            self.timings[term.name] += time.perf_counter() - t0
        return F

    def effective_field(self) -> np.ndarray:
        """Nodal H_eff = F_i / (mu0 int Ms phi_i) [A/m] at the current m, (n_owned, 3); 0 off magnets.
        With thin_film: the weighted mean of H_eff over each vertex column (the field the constrained m feels)."""
        F = self._total_force(self.m)
        a = self.mv.active[: self.mv.n_owned]
        H = np.zeros_like(F)
        H[a] = F[a] / self.mv.w_Ms[: self.mv.n_owned][a, None]
        return H

    def max_torque(self) -> float:
        """max_i |m_i x H_eff,i| over magnetic vertices [A/m] (global)."""
        H = self.effective_field()
        tq = np.linalg.norm(np.cross(self.m_array[: self.mv.n_owned], H), axis=1)
        return self.comm.allreduce(float(tq.max()) if len(tq) else 0.0, op=MPI.MAX)

    def energies(self) -> Dict[str, float]:
        """Energies [J] of every term at the current m and t, and their sum ``total``."""
        out = {"exchange": self.exchange.energy(self.m.vector)}
        out.update(self.local_terms.energies(self.m_array, self.t))
        if self.stray is not None:
            self.stray.solve(self.m)
            out["demag"] = self.stray.energy()
        for term in self.terms:
            if hasattr(term, "energy"):
                out[term.name] = term.energy(self.m, self.t)
        out["total"] = sum(out.values())
        return out

    # ------------------------------------------------------------------ stepping
    def step(self) -> float:
        """Advance by one accepted step; returns the step size used [s].

        Raises SolverError (after leaving m at the last good state) if even ``dt_min`` fails.
        """
        mv, no = self.mv, self.mv.n_owned
        m = self.m_array
        self._update_P()
        tA = time.perf_counter()
        self._tangent_values()
        self.P.multTranspose(self.v.vector, self._xv)  # warm start: the last velocity in this basis
        self.exchange.force(self.m.vector, self._fwork)  # -K m: m does not change across retries
        f_ex = self._fwork.array.reshape(-1, 3).copy()
        self.timings["assembly"] += time.perf_counter() - tA
        F_order1 = self._rest_force(self.m, self.t) if self.order == 1 else None  # nor does it for order 1
        fex = self.rhs
        controlled = self.tolerance is not None and len(self._history) >= self.order
        while True:
            k = self.dt
            err = None
            if self.order == 1:
                F = F_order1
            elif self._history:
                m_prev, k_prev = self._history[0]
                mh = m + (0.5 * k / k_prev) * (m - m_prev)
                nrm = np.linalg.norm(mh, axis=1)
                mh[mv.active] /= nrm[mv.active, None]
                self._m_work.x.array.reshape(-1, 3)[: mv.n_local] = mh
                F = self._rest_force(self._m_work, self.t + 0.5 * k)
            else:  # order 2, first step: no history to extrapolate from
                F = self._rest_force(self.m, self.t + 0.5 * k)
            tA = time.perf_counter()
            Fo = fex.array.reshape(-1, 3)
            Fo[:] = f_ex + F[:no]
            w_alpha = self._w_alpha.copy()
            if self.order == 2:
                w_alpha += 0.5 * k * np.where(mv.active[:no], np.einsum("ij,ij->i", m[:no], Fo), 0.0)
            sc = self._scale
            if self._w_alpha_tensor is None:
                blocks = sc * np.column_stack([w_alpha, -self._w_gamma, self._w_gamma, w_alpha])
            else:  # [e1 e2]^T W [e1 e2] + the order-2 corrections on the diagonal
                W, e1, e2 = self._w_alpha_tensor, self._e1, self._e2
                corr = w_alpha - self._w_alpha
                if self.order == 2 and self._history:
                    # The midpoint equation holds in the tangent plane of m_h = m + (k/2) v, where the true
                    # velocity has the normal part -(k/2)|v|^2 m. Written in the tangent plane of m, the
                    # damping P_{m_h}(W v_h) becomes P_m(W v) - (k/2)(m.W v) v - (k/2)|v|^2 P_m(W m) + O(k^2):
                    # two O(k) terms that vanish for a scalar damping (W m || m, m.W v = 0). They are
                    # linearized with the previous step's tangential velocity (an O(k^2) error in an O(k)
                    # term): the first on the diagonal, the second into the force.
                    m_prev, k_prev = self._history[0]
                    mo = m[:no]
                    v_prev = (mo - m_prev[:no]) / k_prev
                    v_prev -= np.einsum("ij,ij->i", mo, v_prev)[:, None] * mo
                    corr = corr - 0.5 * k * np.einsum("ij,ijk,ik->i", mo, W, v_prev)
                    Fo += (0.5 * k * np.einsum("ij,ij->i", v_prev, v_prev))[:, None] * np.einsum("ijk,ik->ij", W, mo)
                a11 = np.einsum("ij,ijk,ik->i", e1, W, e1) + corr
                a12 = np.einsum("ij,ijk,ik->i", e1, W, e2)
                a21 = np.einsum("ij,ijk,ik->i", e2, W, e1)
                a22 = np.einsum("ij,ijk,ik->i", e2, W, e2) + corr
                blocks = sc * np.column_stack([a11, a12 - self._w_gamma, a21 + self._w_gamma, a22])
            self._set_lhs(sc * self.theta * k, blocks)
            self.P.multTranspose(fex, self._bv)
            self._bv.scale(sc)
            self.timings["assembly"] += time.perf_counter() - tA
            tS = time.perf_counter()
            reason = self._solve_tangent()
            self.timings["linear_solve"] += time.perf_counter() - tS
            tU = time.perf_counter()
            ok = reason > 0
            if ok:
                self.P.mult(self._xv, self.v.vector)
                self.v.x.scatter_forward()
                v = self.v.x.array.reshape(-1, 3)[: mv.n_local]
                v[self._fixed] = 0.0  # pinned regions (exchange-decoupled from the free ones)
                rot_local = float(np.max(np.arctan(k * np.linalg.norm(v[:no][mv.active[:no]], axis=1)), initial=0.0))
                if not np.isfinite(rot_local):
                    rot_local = math.inf
                rot = self.comm.allreduce(rot_local, op=MPI.MAX)
                ok = rot <= self.max_rotation
            else:
                rot = math.nan
                log.debug("tangent-plane GMRES failed: %s", KSP_REASONS.get(reason, reason))
            if ok:
                new = m + k * v
                nrm = np.linalg.norm(new, axis=1)
                new[mv.active] /= nrm[mv.active, None]
                new[~mv.active] = 0.0
                if self.columns is not None:  # (v is column-uniform; this only removes round-off)
                    new[:no] = self.columns.uniform(new[:no])
                if controlled:
                    err = self._error_estimate(new, k)
                    ok = err <= self.tolerance
            if ok:
                break
            self.rejected += 1
            self.timings["update"] += time.perf_counter() - tU
            k_new = k * max(0.2, 0.9 * (self.tolerance / err) ** (1.0 / (self.order + 1))) if err is not None else k * 0.5
            if k_new < self.dt_min:
                raise SolverError(f"LLG step rejected at t = {self.t:.6e} s even with dt_min = {self.dt_min:g} s "
                                  f"(rotation {rot:.3g} rad, error estimate {err}, KSP "
                                  f"{KSP_REASONS.get(reason, reason)}); m is the last good state")
            self.dt = k_new
        self._history = [(m.copy(), k)] + self._history[: 1]
        self.m.x.array.reshape(-1, 3)[: mv.n_local] = new
        self.m.x.scatter_forward()
        self.t += k
        self.step_count += 1
        self.last_rotation, self.last_error = rot, err
        if err is not None:
            grow = min(2.0, max(0.2, 0.9 * (self.tolerance / max(err, 1e-300)) ** (1.0 / (self.order + 1))))
            self.dt = min(max(k * grow, self.dt_min), self.dt_max)
        elif rot < 0.5 * self.max_rotation:
            self.dt = min(k * 1.5, self.dt_max)
        self.timings["update"] += time.perf_counter() - tU
        return k

    def _error_estimate(self, new: np.ndarray, k: float) -> float:
        """Milne's device (module docstring): max over free magnetic vertices of |m^{n+1} - P(t^{n+1})|,
        P the degree-``order`` Lagrange extrapolation of m^n, m^{n-1}, ... to the new time."""
        mv, no = self.mv, self.mv.n_owned
        # nodes at times 0, -k1, -(k1 + k2) relative to t^n; evaluate at tau = k
        ts = [0.0]
        for _, kh in self._history[: self.order]:
            ts.append(ts[-1] - kh)
        states = [self.m_array] + [mh for mh, _ in self._history[: self.order]]
        pred = np.zeros_like(new[:no])
        for j, (tj, mj) in enumerate(zip(ts, states)):
            w = np.prod([(k - ti) / (tj - ti) for i, ti in enumerate(ts) if i != j])
            pred += w * mj[:no]
        sel = mv.active[:no] & ~self._fixed[:no]
        pn = np.linalg.norm(pred[sel], axis=1)
        loc = float(np.max(np.linalg.norm(new[:no][sel] - pred[sel], axis=1) / pn, initial=0.0))
        return self.comm.allreduce(loc, op=MPI.MAX)

    def advance(self, t_end: float, callback: Optional[Callable[["LLG"], None]] = None):
        """Step until t = t_end exactly (the last step is shortened); callback after every step."""
        if not t_end >= self.t:
            raise ParameterError("t_end", f"must be >= current time {self.t:g} s, got {t_end!r}")
        while self.t < t_end * (1 - 1e-12):
            saved = self.dt
            if self.t + self.dt > t_end:
                self.dt = t_end - self.t
            k = self.step()
            if k < saved and self.t >= t_end * (1 - 1e-12):
                self.dt = max(saved, self.dt)  # do not let the clipped last step shrink the next run
            if callback is not None:
                callback(self)

    def _total_force(self, m_func) -> np.ndarray:
        """Nodal force F = -dE/dm (all terms) at m_func, owned vertices, (n_owned, 3) [J]."""
        F = self._rest_force(m_func, self.t)[: self.mv.n_owned]
        self.exchange.force(m_func.vector, self._fwork)
        F += self._fwork.array.reshape(-1, 3)
        if self.columns is not None:  # thin film: the force on a column, spread by the vertex weights
            F = self.columns.average(F)
        return F

    def _move_along(self, d: np.ndarray, tau: float) -> np.ndarray:
        """m_i <- (m_i + tau d_i)/|m_i + tau d_i| on the owned magnetic vertices (0 elsewhere), ghosts
        updated; returns the owned m before the move (the relaxation methods' common update)."""
        mv, no = self.mv, self.mv.n_owned
        m_old = self.m_array[:no].copy()
        new = self.m_array.copy()
        new[:no] = m_old + tau * d
        nrm = np.linalg.norm(new, axis=1)
        new[mv.active] /= nrm[mv.active, None]
        new[~mv.active] = 0.0
        if self.columns is not None:  # (d is column-uniform; this only removes round-off)
            new[:no] = self.columns.uniform(new[:no])
        self.m.x.array.reshape(-1, 3)[: mv.n_local] = new
        self.m.x.scatter_forward()
        return m_old

    def relax(self, tol: float = 10.0, max_iterations: int = 5000, max_rotation: float = 0.3,
              callback: Optional[Callable[["LLG"], None]] = None, method: str = "bb") -> dict:
        """Minimize the energy at fixed t: ``method="bb"`` (below), ``"pbb"`` (:meth:`relax_pbb`, exchange-
        preconditioned BB: use it on meshes with small or flat cells) or ``"damping"`` (:meth:`relax_damped`).

        ``"bb"``: projected steepest descent with Barzilai-Borwein steps.
        Iteration (Exl et al., J. Appl. Phys. 115, 17D118 (2014)): d_i = H_eff,perp at vertex
        i, m_i <- (m_i + tau d_i)/|m_i + tau d_i|, with tau alternating between the two BB
        formulas tau1 = (s.s)/(s.z), tau2 = (s.z)/(z.z) (s = m change, z = -(d change),
        volume-weighted sums), capped so that no vertex turns by more than ``max_rotation``.
        Stops when max_i |m_i x H_eff,i| < ``tol`` [A/m]. Each iteration costs one
        stray-field solve. The time and the step history are left unchanged.

        Returns dict(iterations, max_torque, converged). Raises ParameterError for tol <= 0.
        """
        if method not in ("bb", "pbb", "damping"):
            raise ParameterError("method", f"must be 'bb', 'pbb' or 'damping', got {method!r}")
        if method == "damping":
            return self.relax_damped(tol=tol, max_steps=max_iterations, callback=callback)
        if method == "pbb":
            return self.relax_pbb(tol=tol, max_iterations=max_iterations, max_rotation=max_rotation,
                                  callback=callback)
        require_positive("tol", tol, "A/m")
        require_positive("max_rotation", max_rotation, "rad")
        mv, no = self.mv, self.mv.n_owned
        act = mv.active[:no]
        wv = np.where(act, mv.w_Ms[:no], 0.0)  # volume-like weights for the BB inner products
        inv_w = np.where(act, 1.0 / np.where(act, mv.w_Ms[:no], 1.0), 0.0)

        def direction():
            F = self._total_force(self.m)
            m = self.m_array[:no]
            H = F * inv_w[:, None]
            d = H - np.einsum("ij,ij->i", m, H)[:, None] * m  # H_eff,perp [A/m]
            d[self._fixed[:no]] = 0.0
            return d

        def gmax(a):
            return self.comm.allreduce(float(a.max()) if len(a) else 0.0, op=MPI.MAX)

        def gdot(a, b):
            return self.comm.allreduce(float(np.einsum("i,ij,ij->", wv, a, b)), op=MPI.SUM)

        d = direction()
        torque = gmax(np.linalg.norm(d, axis=1))
        tau = max_rotation / 10 / max(torque, 1e-300)
        it = 0
        while torque >= tol and it < max_iterations:
            dmax = gmax(np.linalg.norm(d, axis=1))
            tau = min(tau, max_rotation / max(dmax, 1e-300))
            m_old = self._move_along(d, tau)
            d_new = direction()
            s_ = self.m_array[:no] - m_old
            z = -(d_new - d)
            sz, ss, zz = gdot(s_, z), gdot(s_, s_), gdot(z, z)
            it += 1
            if sz > 0 and np.isfinite(sz):
                tau = ss / sz if it % 2 else sz / zz
            else:
                tau = max_rotation / max(gmax(np.linalg.norm(d_new, axis=1)), 1e-300)
            d = d_new
            torque = gmax(np.linalg.norm(d, axis=1))
            if callback is not None:
                callback(self)
            if it % 50 == 0:
                log.info("relax: iteration %d, max |m x H| = %.3g A/m", it, torque)
        self._forget_steps()
        return {"iterations": it, "max_torque": torque, "converged": torque < tol}

    def _precondition(self, F: np.ndarray, c: float) -> np.ndarray:
        """Tangent d (n_owned, 3) [A/m] with P^T (W_Ms + c K_ex) P x = P^T F, d = P x, at the current m.

        W_Ms = mu0 int Ms phi_i (lumped, 3 x 3 identity blocks), K_ex the exchange stiffness, P the
        tangent basis of m; F (n_owned, 3) nodal forces [J]; c [m/A] >= 0 (c = 0: d = H_eff,perp).
        Costs one tangent-plane assembly, one ILU and one GMRES solve, like a time step. Fixed vertices get d = 0.
        """
        mv, no = self.mv, self.mv.n_owned
        self._update_P()
        self._tangent_values()
        act = mv.active[:no]
        sc = self._scale_Ms
        w = np.where(act, mv.w_Ms[:no], 1.0 / sc)
        zero = np.zeros(no)
        self._set_lhs(sc * c, sc * np.column_stack([w, zero, zero, w]))
        self.rhs.array.reshape(-1, 3)[:] = F
        self.P.multTranspose(self.rhs, self._bv)
        self._bv.scale(sc)
        self._xv.set(0.0)  # (the time steps' warm start does not apply here)
        reason = self._solve_tangent()
        if reason <= 0:
            raise SolverError(f"preconditioner solve failed: {KSP_REASONS.get(reason, reason)}")
        self.P.mult(self._xv, self._fwork)
        d = self._fwork.array.reshape(-1, 3).copy()
        d[self._fixed[:no]] = 0.0
        return d

    def relax_pbb(self, tol: float = 10.0, max_iterations: int = 2000, max_rotation: float = 0.3,
                  preconditioner: float = 1.0, callback: Optional[Callable[["LLG"], None]] = None) -> dict:
        r"""Minimize the energy at fixed t by exchange-preconditioned Barzilai-Borwein descent.

        Plain BB steps (:meth:`relax`, ``method="bb"``) are limited by the stiffest exchange
        mode, ~2A/(mu0 Ms h_min^2): on the graded SP4 mesh (2.5 nm cells at the edges, flat
        tetrahedra) that is ~2e9 A/m against ~3e4 A/m of the soft S-state mode, and BB stalls.
        Here the descent direction is preconditioned by the implicit exchange of the damped flow,

            (W_Ms + c K_ex) d = F_perp     (tangent plane of m; c = ``preconditioner`` / max Ms [m/A]),

        so exchange modes stiffer than Ms / ``preconditioner`` are compressed to ~Ms and the
        spectrum left is that of the stray field and the soft modes. m_i <- (m_i + tau d_i)/|...|
        with tau alternating between the preconditioned BB steps tau1 = (s.M s)/(s.y) and
        tau2 = (s.y)/(y.M^{-1} y) (s = change of m, y = -(change of F_perp), M = W_Ms + c K_ex,
        M^{-1} y = -(change of d); Barzilai & Borwein, IMA J. Numer. Anal. 8, 141 (1988); Exl et
        al., J. Appl. Phys. 115, 17D118 (2014) for the unpreconditioned micromagnetic case), capped
        so that no vertex turns by more than ``max_rotation`` [rad]; when s.y <= 0 (non-convex
        region) tau is reset to the cap. Stopping rule: max_i |m_i x H_eff,i| < ``tol`` [A/m]
        (H_eff from the same stray-field solve as the next direction, so each iteration costs one
        stray-field solve and one tangent-plane solve). Time and step history are left unchanged.

        Returns dict(iterations, max_torque, converged, field_evaluations).
        Raises ParameterError for tol, max_rotation or preconditioner <= 0 or max_rotation > 1,
        before any solve.
        """
        require_positive("tol", tol, "A/m")
        require_positive("max_rotation", max_rotation, "rad")
        if max_rotation > 1.0:
            raise ParameterError("max_rotation", f"must be in (0, 1] rad, got {max_rotation!r}")
        require_positive("preconditioner", preconditioner)
        if not (isinstance(max_iterations, (int, np.integer)) and max_iterations >= 0):
            raise ParameterError("max_iterations", f"must be an integer >= 0, got {max_iterations!r}")
        mv, no = self.mv, self.mv.n_owned
        act = mv.active[:no]
        Ms_max = max(self.domain.materials[r].Ms for r in mv.regions)
        c = float(preconditioner) / Ms_max
        if not hasattr(self, "_scale_Ms"):
            self._scale_Ms = self.comm.allreduce(int(act.sum()), op=MPI.SUM) / mv.owned_sum(np.where(mv.active, mv.w_Ms, 0.0))
        inv_w = np.where(act, 1.0 / np.where(act, mv.w_Ms[:no], 1.0), 0.0)
        Ks, svec = self.exchange.K.createVecLeft(), self.exchange.K.createVecRight()
        fe0 = self.field_evaluations

        def force_perp():
            F = self._total_force(self.m)
            F[~act] = 0.0
            m = self.m_array[:no]
            F -= np.einsum("ij,ij->i", m, F)[:, None] * m
            F[self._fixed[:no]] = 0.0
            return F

        def gmax(a):
            return self.comm.allreduce(float(a.max()) if len(a) else 0.0, op=MPI.MAX)

        def gsum(x):
            return self.comm.allreduce(float(x), op=MPI.SUM)

        g = force_perp()
        torque = gmax(np.linalg.norm(g, axis=1) * inv_w)
        it = 0
        d = self._precondition(g, c) if torque >= tol else None
        tau = 0.1 * max_rotation / max(gmax(np.linalg.norm(d, axis=1)), 1e-300) if d is not None else 0.0
        while torque >= tol and it < max_iterations:
            tau = min(tau, max_rotation / max(gmax(np.linalg.norm(d, axis=1)), 1e-300))
            m_old = self._move_along(d, tau)
            g_new = force_perp()
            torque = gmax(np.linalg.norm(g_new, axis=1) * inv_w)
            it += 1
            if callback is not None:
                callback(self)
            if torque < tol:
                break
            d_new = self._precondition(g_new, c)
            s_ = self.m_array[:no] - m_old
            sy = gsum(-np.einsum("ij,ij->", s_, g_new - g))
            if it % 2:
                svec.array[:] = s_.ravel()
                self.exchange.K.mult(svec, Ks)
                sMs = gsum(np.einsum("i,ij,ij->", np.where(act, mv.w_Ms[:no], 0.0), s_, s_)) + c * Ks.dot(svec)
                tau_bb = sMs / sy if sy > 0 else math.nan
            else:
                yMy = gsum(np.einsum("ij,ij->", g_new - g, d_new - d))
                tau_bb = sy / yMy if sy > 0 and yMy > 0 else math.nan
            tau = tau_bb if np.isfinite(tau_bb) else math.inf  # the rotation cap applies next
            g, d = g_new, d_new
            if it % 50 == 0:
                log.info("relax (pbb): iteration %d, max |m x H| = %.3g A/m", it, torque)
        self._forget_steps()
        return {"iterations": it, "max_torque": torque, "converged": torque < tol,
                "field_evaluations": self.field_evaluations - fe0}

    def relax_damped(self, tol: float = 10.0, max_steps: int = 5000, dt_max: float = 5e-12, max_rotation: float = 0.2,
                     check_every: int = 5, callback: Optional[Callable[["LLG"], None]] = None) -> dict:
        """Relax by the overdamped LLG flow dm/dt = gamma0 H_eff,perp, at fixed t.

        The tangent-plane step of :meth:`step` with precession off, every damping weight
        replaced by mu0 int Ms/gamma0 phi_i (alpha = 1 in the Gilbert weights) and theta = 1
        (exchange backward Euler: the discrete exchange energy decreases for any step,
        Alouges 2008; the explicit terms are first order), the other terms at m^n. Steps grow by 1.5x while
        the largest rotation is below ``max_rotation``/2, up to ``dt_max`` [s] (the explicit
        stray field limits it: gamma0 Ms dt_max ~ 1). Stops when max_i |m_i x H_eff,i| < ``tol``
        [A/m] (checked every ``check_every`` steps). Time, step counters, dt and the step
        history are restored afterwards.

        Returns dict(iterations, max_torque, converged, pseudo_time_s).
        Raises ParameterError for tol, dt_max or max_rotation <= 0.
        """
        require_positive("tol", tol, "A/m")
        require_positive("dt_max", dt_max, "s")
        require_positive("max_rotation", max_rotation, "rad")
        no = self.mv.n_owned
        act = self.mv.active[:no]
        saved = dict(w_alpha=self._w_alpha, w_alpha_tensor=self._w_alpha_tensor, w_gamma=self._w_gamma, order=self.order,
                     theta=self.theta, t=self.t,
                     dt=self.dt, dt_max=self.dt_max, max_rotation=self.max_rotation, step_count=self.step_count,
                     rejected=self.rejected, tolerance=self.tolerance)
        self._w_alpha = np.where(act, self.mv.w_gamma[:no], 1.0 / self._scale)
        self._w_alpha_tensor = None
        self._w_gamma = np.zeros(no)
        self.order, self.theta, self.max_rotation, self.tolerance = 1, 1.0, float(max_rotation), None
        self._forget_steps()
        self.dt_max = max(float(dt_max), self.dt_min)
        self.dt = min(self.dt, self.dt_max)
        t_fixed, tau, it = self.t, 0.0, 0
        try:
            torque = self.max_torque()
            while torque >= tol and it < max_steps:
                tau += self.step()
                self.t = t_fixed
                it += 1
                if callback is not None:
                    callback(self)
                if it % check_every == 0:
                    torque = self.max_torque()
                    if it % (10 * check_every) == 0:
                        log.info("relax (damped): step %d, pseudo-time %.3g s, max |m x H| = %.3g A/m", it, tau, torque)
            if it % check_every:
                torque = self.max_torque()
        finally:
            self._w_alpha, self._w_gamma = saved["w_alpha"], saved["w_gamma"]
            self._w_alpha_tensor = saved["w_alpha_tensor"]
            self.order, self.theta, self.t, self.dt = saved["order"], saved["theta"], saved["t"], saved["dt"]
            self.dt_max, self.max_rotation = saved["dt_max"], saved["max_rotation"]
            self.step_count, self.rejected = saved["step_count"], saved["rejected"]
            self.tolerance = saved["tolerance"]
            self._forget_steps()
        return {"iterations": it, "max_torque": torque, "converged": torque < tol, "pseudo_time_s": tau}
