"""Spin vector density of a 2DEG with Rashba coupling: eq. (7) of seed 001 and its eps -> 0 form (10).

Barletti, Holzinger, Jüngel, "Formal derivation of quantum drift-diffusion equations with
spin-orbit interaction" (seed 001), Theorem 1.2, in the paper's scaled units (Sec. 2.1:
length x0, time t_E = m x0/p0, potential kB T0/q, spin density eps*n):

    d_t n = tau div(grad n + n grad V) - 2 alpha tau (c grad^perp x n + grad^perp V x n)
            - 4 alpha^2 tau (2n + n^perpperp)                                              (10)
            + (eps^2 tau/12) div(n A - grad Lap n + grad n C + B grad n0 + D)
            + (eps^2/6) n x B + (eps^2 tau/(3 n0)) n x (n x B)                              (7)

with A, B, C, D of Theorem 1.2 (n0 from the density-gradient model (6), frozen per step).
The paper prints c = 1 in (7) and c = 2 in (10); c = 2 (default) is the consistent value
(``models/qdd_rashba.md``, erratum E1), c = 1 reproduces (7) "as printed". With c = 2 the
eps = 0 part is SU(2)-covariant, ``tau sum_i D_i(D_i n + n d_i V)`` with the covariant
derivative ``D_i n = d_i n - 2 alpha e_i^perp x n``.

Weak form (test phi; w = -Lap n as a mixed variable with test psi when eps > 0):

    int d_t n.phi + tau sum_i (D_i n + n d_i V).D_i phi + 2 alpha tau (c - 2) (grad^perp x n).phi
      + (eps^2 tau/12) sum_i G_i.d_i phi - P.phi = 0,      int w.psi - grad n : grad psi = 0,

``G_i = n A_i + d_i w + sum_j d_j n C_ji + B d_i n0 + D_i``,
``P = (eps^2/6) n x B + (eps^2 tau/(3 n0)) n x (n x B)``, ``B = -w/n0 - grad n.grad n0/n0^2``.
The second derivatives of n in D are ``n'' = -w`` in 1D and the cellwise Hessian of the P2
spin density in 2D (P2 then converges at second order when n0 is non-uniform; so does a P2
rho, whose Hessian enters A and C).

Boundary conditions: on a contact (Dirichlet group) the given components of n (and w = 0);
on every other boundary facet (walls) the natural condition, i.e. the covariant no-flux
``nu.[tau (D n + n grad V) + (eps^2 tau/12) G] = 0`` (``wall_bc="covariant"``, default), or
the plain ``nu.(grad n + n grad V) = 0`` (``wall_bc="neumann"``, adds
``tau int_walls 2 alpha (sum_i nu_i e_i^perp x n).phi``), with ``d_nu n = 0`` when eps > 0.

The eps^2 spin flux of (7) is ambiguous (erratum E2): ``spin_flux_eps2 = "printed"``
(default, (7) as printed), ``"cancelled"`` (drops the |n|^2 terms ``-4 n.grad n/n0^2`` of A
and ``4|n/n0|^2`` of C, which cancel against the re-derived flux of (51)), or
``"printed+51"`` (adds the flux ``(eps^2/(3 n0)) grad n x n`` of (51) as printed, i.e.
``-(eps^2 tau/3) n x B``).
"""
from __future__ import annotations

import logging
from typing import Dict, Optional

import dolfinx.fem
import numpy as np
import ufl
from mpi4py import MPI

from ... import _compat
from ...errors import ParameterError, SolverError, require_nonnegative, require_positive
from .channel import DRAIN, SOURCE, Channel
from .fields import E_PERP, d, scalar_field
from .solver import BDFStepper, Newton, constant

log = logging.getLogger(__name__)

WALL_BCS = ("covariant", "neumann")
EPS2_FLUX_VARIANTS = ("printed", "cancelled", "printed+51")


def _contact_values(contacts, channel: Channel) -> Dict[str, tuple]:
    if not isinstance(contacts, dict):
        raise ParameterError("contacts", "must be a dict facet group -> 3 spin components (None = free)")
    channel.require(list(contacts), "contacts")
    out = {}
    for name, val in contacts.items():
        vals = list(val) if isinstance(val, (list, tuple, np.ndarray)) else None
        if vals is None or len(vals) != 3:
            raise ParameterError(f"contacts[{name!r}]", f"must be 3 spin components (numbers or None), got {val!r}")
        for v in vals:
            if v is not None and not (isinstance(v, (int, float, np.floating)) and np.isfinite(v)):
                raise ParameterError(f"contacts[{name!r}]", f"components must be finite numbers or None, got {val!r}")
        out[name] = tuple(None if v is None else float(v) for v in vals)
    return out


class SpinDiffusion(BDFStepper):
    """Stationary and transient solver of the spin equation (7) (eps > 0) or (10) (eps = 0).

    Parameters
    ----------
    channel : Channel (1D or 2D, coordinates in scaled units x / x0).
    alpha : scaled Rashba constant ``m x0 alpha_R/hbar`` (>= 0).
    tau : scaled momentum relaxation time (> 0).
    eps : scaled Planck constant (>= 0); eps = 0 solves (10) with n in [P1]^3, eps > 0 solves
        (7) with (n, w) in [P2]^3 x [P2]^3 (``degree`` overrides).
    c : coefficient of grad^perp x n (2 default, 1 as printed in (7)).
    V : electric potential energy (scaled by kB T0): number, numpy callable, Function or UFL expression.
    rho : log n0 (charge density from (6)); None means n0 = 1. Needed only for eps > 0.
    contacts : facet group -> 3 components of n imposed there (None leaves a component free).
        Default ``{"source": (1, 0, 0), "drain": (0, 0, 0)}``.
    wall_bc : "covariant" (default) or "neumann".
    spin_flux_eps2 : "printed" (default), "cancelled" or "printed+51".
    n_init : initial spin density for transients: 3 numbers or numpy callable x -> (3, npts).

    Raises
    ------
    ParameterError for bad parameters (naming them) before any assembly; SolverError from
    solves that do not converge or that leave the density matrix non-positive (eps|n| >= n0).
    """

    def __init__(self, channel: Channel, alpha: float, tau: float, eps: float = 0.0, c: float = 2.0, V=0.0,
                 rho=None, contacts: Optional[dict] = None, wall_bc: str = "covariant",
                 spin_flux_eps2: str = "printed", degree: Optional[int] = None, n_init=None,
                 rtol: float = 1e-10, atol: float = 1e-12):
        self.alpha = require_nonnegative("alpha", alpha)
        self.tau = require_positive("tau", tau)
        self.eps = require_nonnegative("eps", eps)
        try:
            self.c = float(c)
        except (TypeError, ValueError):
            raise ParameterError("c", f"must be a number (2 or 1), got {c!r}") from None
        if not np.isfinite(self.c):
            raise ParameterError("c", f"must be finite, got {c!r}")
        if wall_bc not in WALL_BCS:
            raise ParameterError("wall_bc", f"must be one of {WALL_BCS}, got {wall_bc!r}")
        if spin_flux_eps2 not in EPS2_FLUX_VARIANTS:
            raise ParameterError("spin_flux_eps2", f"must be one of {EPS2_FLUX_VARIANTS}, got {spin_flux_eps2!r}")
        self.wall_bc, self.spin_flux_eps2 = wall_bc, spin_flux_eps2
        if not isinstance(channel, Channel):
            raise ParameterError("channel", "must be a fem_stt.quantum.qdd.Channel")
        self.channel = channel
        self.contacts = _contact_values({SOURCE: (1.0, 0.0, 0.0), DRAIN: (0.0, 0.0, 0.0)}
                                        if contacts is None else contacts, channel)
        self.degree = int(degree) if degree is not None else (1 if self.eps == 0 else 2)
        if self.degree < 1 or (self.eps > 0 and self.degree < 2):
            raise ParameterError("degree", f"must be >= 1 (>= 2 for eps > 0: the eps^2 flux needs the Hessian "
                                           f"of n), got {degree!r}")
        mesh = channel.mesh
        self.mixed = self.eps > 0
        self.gdim = channel.tdim
        self.V = scalar_field(mesh, V, "V")
        self.rho = None if rho is None else scalar_field(mesh, rho, "rho")
        if self.mixed:
            self.W = _compat.mixed_space(mesh, [("CG", self.degree, (3,)), ("CG", self.degree, (3,))])
            self.Vn, self._n_dofs = _compat.collapse(self.W.sub(0))
        else:
            self.W = _compat.function_space(mesh, "CG", self.degree, shape=(3,))
            self.Vn, self._n_dofs = self.W, None
        # parameters enter the forms as Constants: a new alpha, tau or eps needs no new JIT compilation
        self._alpha, self._tau, self._eps = (constant(mesh, v) for v in (self.alpha, self.tau, self.eps))
        self.u = dolfinx.fem.Function(self.W, name="spin")
        self._old = [dolfinx.fem.Function(self.W), dolfinx.fem.Function(self.W)]
        self._k = [constant(mesh, 0.0) for _ in range(3)]
        self._init_stepper()
        self.bcs, self._contact_dofs = self._dirichlet()
        self.F = self._residual()
        self.newton = Newton(self.F, ufl.derivative(self.F, self.u), self.u, self.bcs, linear=not self.mixed,
                             rtol=rtol, atol=atol, prefix="qdd_spin_")
        self._F_form = _compat.form(self.F)
        if n_init is not None:
            self.set_state(n_init)
        self._check_contact_positivity()

    # ------------------------------------------------------------------ set-up
    def _sub(self, k: int, block: int = 0):
        return self.W.sub(block).sub(k) if self.mixed else self.W.sub(k)

    def _dirichlet(self):
        fdim = self.channel.tdim - 1
        bcs, dofs = [], {}
        for name, vals in self.contacts.items():
            facets = self.channel.facets(name)
            dofs[name] = {}
            for k, v in enumerate(vals):
                if v is None:
                    continue
                blocks = (0, 1) if self.mixed else (0,)
                for b in blocks:
                    S = self._sub(k, b)
                    Sc, _ = _compat.collapse(S)
                    g = dolfinx.fem.Function(Sc)
                    g.x.array[:] = v if b == 0 else 0.0
                    pd = _compat.locate_sub_dofs(S, Sc, fdim, facets)
                    bcs.append(dolfinx.fem.dirichletbc(g, pd, S))
                    if b == 0:
                        dofs[name][k] = np.asarray(pd[0], dtype=np.int32)
        return bcs, dofs

    def _split(self, u):
        if self.mixed:
            n, w = ufl.split(u)
            return n, w
        return u, None

    def _residual(self):
        gd, mesh = self.gdim, self.channel.mesh
        a, tau, c = self._alpha, self._tau, self.c
        n, w = self._split(self.u)
        n1, _ = self._split(self._old[0])
        n2, _ = self._split(self._old[1])
        if self.mixed:
            phi, psi = ufl.TestFunctions(self.W)
        else:
            phi, psi = ufl.TestFunction(self.W), None
        V = self.V

        def D(f, i):  # SU(2) covariant derivative
            return d(f, i, gd) - 2 * a * ufl.cross(E_PERP[i], f)
        dx = ufl.dx(domain=mesh, metadata={"quadrature_degree": 2 * self.degree + 2})
        k0, k1, k2 = self._k
        F = ufl.inner(k0 * n + k1 * n1 + k2 * n2, phi) * dx
        F += tau * sum(ufl.inner(D(n, i) + n * d(V, i, gd), D(phi, i)) for i in range(2)) * dx
        if c != 2.0:
            grad_perp_x_n = sum(ufl.cross(E_PERP[i], d(n, i, gd)) for i in range(2))
            F += 2 * a * tau * (c - 2.0) * ufl.inner(grad_perp_x_n, phi) * dx
        if self.wall_bc == "neumann":
            ds_w = self.channel.wall_measure([g for g, v in self.contacts.items() if all(x is not None for x in v)])
            nu = ufl.FacetNormal(mesh)
            rot = sum(nu[i] * ufl.cross(E_PERP[i], n) for i in range(gd))
            F += tau * 2 * a * ufl.inner(rot, phi) * ds_w
        if self.mixed:
            F += self._eps2_terms(n, w, phi, dx)
            F += (ufl.inner(w, psi) - sum(ufl.inner(d(n, i, gd), d(psi, i, gd)) for i in range(gd))) * dx
        return F

    def _eps2_terms(self, n, w, phi, dx):
        """(eps^2 tau/12) sum_i G_i.d_i phi - P.phi of eq. (7) (see the module docstring)."""
        gd, tau, eps = self.gdim, self._tau, self._eps
        if self.rho is not None:
            rho = self.rho
            n0 = ufl.exp(rho)
            g = [d(rho, i, gd) for i in range(2)]
            H = [[d(d(rho, i, gd), j, gd) + g[i] * g[j] for j in range(2)] for i in range(2)]  # d_ij n0 / n0
        else:
            n0 = 1.0
            g = [0.0, 0.0]
            H = [[0.0, 0.0], [0.0, 0.0]]
        L0 = H[0][0] + H[1][1]  # Lap n0 / n0
        gg = g[0] ** 2 + g[1] ** 2
        dn = [d(n, i, gd) for i in range(2)]
        keep = 0.0 if self.spin_flux_eps2 == "cancelled" else 1.0
        B = -w / n0 - (dn[0] * g[0] + dn[1] * g[1]) / n0
        A = [2 * gg * g[i] - keep * 4 * ufl.inner(n, dn[i]) / n0 ** 2 - g[i] * L0 - (g[0] * H[0][i] + g[1] * H[1][i])
             for i in range(2)]
        Cs = L0 - gg + keep * 4 * ufl.inner(n, n) / n0 ** 2
        G = []
        for i in range(2):
            hess = (lambda i, j: -w) if gd == 1 else (lambda i, j: d(dn[i], j, gd))  # 1D: n'' = -w
            Di = sum(g[j] * hess(i, j) for j in range(gd)) - (dn[0] * g[0] + dn[1] * g[1]) * g[i]
            Gi = n * A[i] + d(w, i, gd) + dn[i] * Cs + sum(dn[j] * H[j][i] for j in range(2)) + B * n0 * g[i] + Di
            G.append(Gi)
        P = (eps ** 2 / 6) * ufl.cross(n, B) + (eps ** 2 * tau / 3) / n0 * ufl.cross(n, ufl.cross(n, B))
        if self.spin_flux_eps2 == "printed+51":
            P += -(eps ** 2 * tau / 3) * ufl.cross(n, B)
        return ((eps ** 2 * tau / 12) * sum(ufl.inner(G[i], d(phi, i, gd)) for i in range(gd))
                - ufl.inner(P, phi)) * dx

    def set_alpha(self, alpha: float):
        """Change the Rashba constant (scaled) without rebuilding the forms."""
        self.alpha = require_nonnegative("alpha", alpha)
        self._alpha.value = self.alpha

    # ------------------------------------------------------------------ state
    def set_state(self, n_init):
        """Set n (and reset the time history) from 3 numbers or a numpy callable x -> (3, npts)."""
        if callable(n_init):
            f = n_init
        else:
            v = np.asarray(n_init, dtype=float)
            if v.shape != (3,) or not np.all(np.isfinite(v)):
                raise ParameterError("n_init", f"must be 3 finite numbers or a function x -> (3, npts), got {n_init!r}")
            f = (lambda x, v=v: np.outer(v, np.ones(x.shape[1])))
        tmp = dolfinx.fem.Function(self.Vn)
        try:
            tmp.interpolate(f)
        except Exception as e:
            raise ParameterError("n_init", f"the function x -> (3, npts) failed: {e}") from None
        if self.mixed:
            self.u.x.array[self._n_dofs] = tmp.x.array
        else:
            self.u.x.array[:] = tmp.x.array
        self.u.x.scatter_forward()
        for o in self._old:
            o.x.array[:] = self.u.x.array
        self._init_stepper()
        self.check_positivity("n_init")

    def n(self) -> dolfinx.fem.Function:
        """The spin density n as a Function of [P_degree]^3 (a copy for the mixed space)."""
        if not self.mixed:
            return self.u
        f = dolfinx.fem.Function(self.Vn, name="n")
        f.x.array[:] = self.u.x.array[self._n_dofs]
        return f

    def w(self) -> Optional[dolfinx.fem.Function]:
        """w = -Lap n (mixed variable, eps > 0), or None."""
        if not self.mixed:
            return None
        Vw, dofs = _compat.collapse(self.W.sub(1))
        f = dolfinx.fem.Function(Vw, name="w")
        f.x.array[:] = self.u.x.array[dofs]
        return f

    def _error_part(self, arr):
        im = self.W.dofmap.index_map
        nown = im.size_local * self.W.dofmap.index_map_bs
        if not self.mixed:
            return arr[:nown]
        idx = self._n_dofs[self._n_dofs < nown]
        return arr[idx]

    # ------------------------------------------------------------------ positivity (eps|n| < n0)
    def _check_contact_positivity(self):
        if self.eps == 0:
            return
        for name, vals in self.contacts.items():
            if all(v is not None for v in vals) and self.eps * np.linalg.norm(vals) >= self._n0_min_on(name):
                raise ParameterError(f"contacts[{name!r}]", f"the density matrix must stay positive: eps |n| = "
                                     f"{self.eps * np.linalg.norm(vals):.4g} >= n0 = {self._n0_min_on(name):.4g} "
                                     f"(lower the injected spin or eps)")

    def _n0_blocks(self) -> np.ndarray:
        """n0 at the (local) nodes of the spin space, one value per node."""
        if self.rho is None:
            return np.ones(len(self.Vn.tabulate_dof_coordinates()))
        f = dolfinx.fem.Function(self.Vn)
        n0 = ufl.exp(self.rho)
        _compat.interpolate_expression(f, ufl.as_vector((n0, n0, n0)))
        return f.x.array.reshape(-1, 3)[:, 0]

    def _n0_min_on(self, name):
        if self.rho is None:
            return 1.0
        blocks = _compat.locate_dofs_topological(self.Vn, self.channel.tdim - 1, self.channel.facets(name))
        n0 = self._n0_blocks()
        loc = float(n0[blocks].min()) if len(blocks) else np.inf
        return self.channel.comm.allreduce(loc, op=MPI.MIN)

    def positivity_margin(self) -> float:
        """min over the dofs of (n0 - eps |n|) (> 0 for a positive density matrix)."""
        nv = self.n().x.array.reshape(-1, 3)
        n0 = self._n0_blocks()
        loc = float(np.min(n0 - self.eps * np.linalg.norm(nv, axis=1))) if len(n0) else np.inf
        return self.channel.comm.allreduce(loc, op=MPI.MIN)

    def check_positivity(self, what: str = "n"):
        if self.eps > 0 and self.positivity_margin() <= 0:
            msg = (f"the density matrix N = n0 s0 + eps n.s is not positive (eps|n| >= n0 somewhere, "
                   f"margin {self.positivity_margin():.3g}); lower the spin amplitude or eps")
            if what == "n":
                raise SolverError(msg)
            raise ParameterError(what, msg)

    def _after_step(self):
        self.check_positivity()

    # ------------------------------------------------------------------ solves
    def _solve_implicit(self, what: str) -> int:
        return self.newton.solve(f"spin {what}")

    def solve(self) -> int:
        """Stationary solution from the current state (initial guess); returns Newton iterations.
        The solution becomes the initial state (t = 0) of later time steps.

        Raises SolverError if Newton fails (the state is restored) or positivity is lost."""
        for k in self._k:
            k.value = 0.0
        saved = self.u.x.array.copy()
        try:
            its = self.newton.solve("stationary spin solve")
        except SolverError:
            self.u.x.array[:] = saved
            raise
        try:
            self.check_positivity()
        except SolverError:
            self.u.x.array[:] = saved
            raise
        self.reset_history()
        return its

    # ------------------------------------------------------------------ outputs
    def contact_currents(self) -> Dict[str, np.ndarray]:
        """Spin current leaving the channel through each Dirichlet contact (reaction method),
        ``I_k = int_contact J_k.nu`` with ``J_i = -tau (D_i n + n d_i V) - (eps^2 tau/12) G_i``,
        from the unconstrained residual at the contact's dofs [scaled: n x0^(d-1) / t_E];
        shape (3,), NaN for components that are free on that contact."""
        r = _compat.assemble_vector_local(self._F_form)
        im = self.W.dofmap.index_map
        nown = im.size_local * self.W.dofmap.index_map_bs
        out = {}
        for name, comp in self._contact_dofs.items():
            vals = np.full(3, np.nan)
            for k, dofs in comp.items():
                vals[k] = -self.channel.comm.allreduce(float(r[dofs[dofs < nown]].sum()), op=MPI.SUM)
            out[name] = vals
        return out

    def spin_current(self):
        """Spin current density J_i (i = x, y) as two [P1]^3 Functions [scaled: n x0 / t_E] (lumped
        L2 projection of ``-tau (D_i n + n d_i V)``; the eps^2 part of the flux is left out)."""
        mesh, gd = self.channel.mesh, self.gdim
        n, _ = self._split(self.u)
        V1 = _compat.function_space(mesh, "CG", 1, shape=(3,))
        v = ufl.TestFunction(V1)
        one = dolfinx.fem.Function(V1)
        one.x.array[:] = 1.0
        lump = _compat.assemble_vector_local(_compat.form(ufl.inner(one, v) * ufl.dx))
        out = []
        for i in range(2):
            Ji = -self._tau * (d(n, i, gd) - 2 * self._alpha * ufl.cross(E_PERP[i], n) + n * d(self.V, i, gd))
            f = dolfinx.fem.Function(V1, name=f"J_spin_{'xy'[i]}")
            f.x.array[:] = _compat.assemble_vector_local(_compat.form(ufl.inner(Ji, v) * ufl.dx)) / lump
            out.append(f)
        return out

    def lyapunov(self) -> float:
        """(1/2) int e^V |n|^2 [scaled] (non-increasing at eps = 0 with covariant walls and zero
        contacts, ``models/qdd_rashba.md`` Sec. 4)."""
        n, _ = self._split(self.u)
        return _compat.assemble_scalar(_compat.form(0.5 * ufl.exp(self.V) * ufl.inner(n, n) * ufl.dx(
            domain=self.channel.mesh)), self.channel.comm)

    def norm(self) -> float:
        """||n||_L2 over the channel [scaled]."""
        n, _ = self._split(self.u)
        return float(np.sqrt(_compat.assemble_scalar(_compat.form(ufl.inner(n, n) * ufl.dx(domain=self.channel.mesh)),
                                                     self.channel.comm)))

    def values(self, points) -> np.ndarray:
        """n at ``points`` (array (npts, tdim) or (npts, 3), scaled coordinates) -> array (npts, 3)
        (NaN outside the mesh); collective over the ranks."""
        pts = np.zeros((len(points), 3))
        P = np.asarray(points, dtype=float).reshape(len(points), -1)
        pts[:, : P.shape[1]] = P
        return _compat.eval_points(self.n(), pts)

    def dofs_global(self) -> int:
        return self.W.dofmap.index_map.size_global * self.W.dofmap.index_map_bs
