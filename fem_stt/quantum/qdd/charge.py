"""Charge density of a 2DEG: the density-gradient model, eq. (6) of seed 001.

Barletti, Holzinger, Jüngel (seed 001), Theorem 1.2, eq. (6), scaled units (Sec. 2.1):

    d_t n0 = tau div( grad n0 + n0 grad V - (eps^2/6) n0 grad(Lap sqrt n0 / sqrt n0) ),

decoupled from the spin density. Written as the gradient flow of the free energy
``E_DG = int n0 (log n0 - 1) + n0 V + (eps^2/6) |grad sqrt n0|^2``
(``models/qdd_rashba.md`` Sec. 4): ``d_t n0 = tau div(n0 grad F)`` with the quantum
quasi-Fermi potential ``F = dE_DG/dn0 = log n0 + V - (eps^2/6) Lap sqrt n0 / sqrt n0``
and ``dE_DG/dt = -tau int n0 |grad F|^2 <= 0`` with no-flux walls.

Unknowns ``rho = log n0`` (so n0 = e^rho > 0 for free) and F, mixed P_k x P_k. With
``Lap sqrt n0 / sqrt n0 = Lap rho/2 + |grad rho|^2/4`` the weak form (tests psi, chi) is

    int (d_t e^rho) psi + tau int e^rho grad F.grad psi = 0,
    int (F - rho - V) chi - (eps^2/12) int grad rho.grad chi + (eps^2/24) int |grad rho|^2 chi = 0.

Contacts (ohmic, Ancona type): ``rho = log n_D``, ``F = V + log n_D`` (Bohm potential
``Q = F - rho - V`` zero). Walls: natural (``d_nu rho = 0``, ``n0 d_nu F = 0``). With psi = 1
and no-flux walls BDF1/BDF2 conserve ``int n0`` exactly (up to the Newton tolerance).
The particle flux density is ``J = -tau n0 grad F`` (d_t n0 + div J = 0).
Stationary problems are solved by continuation in the potential (lambda V, lambda: 0 -> 1)
and then in eps (0 -> eps), with step halving when Newton fails.
"""
from __future__ import annotations

import logging
import math
from typing import Dict, Optional

import dolfinx.fem
import numpy as np
import ufl
from mpi4py import MPI

from ... import _compat
from ...errors import ParameterError, SolverError, require_nonnegative, require_positive
from .channel import DRAIN, SOURCE, Channel
from .fields import d, scalar_field
from .solver import BDFStepper, Newton, constant

log = logging.getLogger(__name__)


class DensityGradient(BDFStepper):
    """Stationary and transient solver of the density-gradient model (6).

    Parameters
    ----------
    channel : Channel (scaled coordinates).
    eps : scaled Planck constant (>= 0; 0 gives classical drift-diffusion (9)).
    tau : scaled momentum relaxation time (> 0).
    V : potential energy [kB T0]: number, numpy callable, Function or UFL expression.
    contacts : facet group -> contact density n_D > 0 (default source and drain at 1);
        ``{}`` for a closed channel (all walls).
    degree : Lagrange degree of rho and F (1 default; 2 for accuracy studies and for the
        Hessian of n0 needed by the eps > 0 spin equation).
    n_init : initial density (number or numpy callable), > 0 everywhere.

    Raises ParameterError (naming the parameter) for bad input before assembly.
    """

    def __init__(self, channel: Channel, eps: float, tau: float, V=0.0, contacts: Optional[Dict[str, float]] = None,
                 degree: int = 1, n_init=None, rtol: float = 1e-10, atol: float = 1e-12):
        if not isinstance(channel, Channel):
            raise ParameterError("channel", "must be a fem_stt.quantum.qdd.Channel")
        self.channel = channel
        self.eps = require_nonnegative("eps", eps)
        self.tau = require_positive("tau", tau)
        contacts = {SOURCE: 1.0, DRAIN: 1.0} if contacts is None else contacts
        if not isinstance(contacts, dict):
            raise ParameterError("contacts", "must be a dict facet group -> contact density n_D > 0")
        channel.require(list(contacts), "contacts")
        self.contacts = {k: require_positive(f"contacts[{k!r}]", v) for k, v in contacts.items()}
        if int(degree) < 1:
            raise ParameterError("degree", f"must be >= 1, got {degree!r}")
        self.degree = int(degree)
        mesh = channel.mesh
        self._V_user = scalar_field(mesh, V, "V")
        self.lam = constant(mesh, 1.0)  # continuation factor of the potential
        self.eps_c = constant(mesh, self.eps)
        self._tau = constant(mesh, self.tau)
        self.V = self.lam * self._V_user
        self.W = _compat.mixed_space(mesh, [("CG", self.degree, None), ("CG", self.degree, None)])
        self.u = dolfinx.fem.Function(self.W, name="charge")
        self._old = [dolfinx.fem.Function(self.W), dolfinx.fem.Function(self.W)]
        self._k = [constant(mesh, 0.0) for _ in range(3)]
        self._init_stepper()
        self._Vs, self._rho_dofs = _compat.collapse(self.W.sub(0))
        self._Fs, self._F_dofs = _compat.collapse(self.W.sub(1))
        self._V_h = dolfinx.fem.Function(self._Fs)  # lambda V at the F dofs (contact values of F)
        self.bcs, self._bc_values, self._contact_dofs = self._dirichlet()
        self.dx = ufl.dx(domain=mesh, metadata={"quadrature_degree": 2 * self.degree + 3})
        self.F = self._residual()
        self.newton = Newton(self.F, ufl.derivative(self.F, self.u), self.u, self.bcs, rtol=rtol, atol=atol,
                             prefix="qdd_charge_")
        self._F_form = _compat.form(self.F)
        rho, _ = ufl.split(self.u)
        self._mass_form = _compat.form(ufl.exp(rho) * self.dx)
        self._energy_form = _compat.form(self._energy_density() * self.dx)
        self.set_state(1.0 if n_init is None else n_init, name="n_init")

    # ------------------------------------------------------------------ set-up
    def _dirichlet(self):
        fdim = self.channel.tdim - 1
        bcs, values, dofs = [], {}, {}
        for name, nD in self.contacts.items():
            facets = self.channel.facets(name)
            g_rho = dolfinx.fem.Function(self._Vs)
            g_rho.x.array[:] = math.log(nD)
            pr = _compat.locate_sub_dofs(self.W.sub(0), self._Vs, fdim, facets)
            pf = _compat.locate_sub_dofs(self.W.sub(1), self._Fs, fdim, facets)
            g_F = dolfinx.fem.Function(self._Fs)
            bcs += [dolfinx.fem.dirichletbc(g_rho, pr, self.W.sub(0)), dolfinx.fem.dirichletbc(g_F, pf, self.W.sub(1))]
            values[name] = (g_F, math.log(nD))
            dofs[name] = np.asarray(pr[0], dtype=np.int32)
        return bcs, values, dofs

    def _update_contact_potential(self):
        """F = lambda V + log n_D on the contacts (after a change of lambda)."""
        _compat.interpolate_expression(self._V_h, self.V)
        for g_F, lognD in self._bc_values.values():
            g_F.x.array[:] = self._V_h.x.array + lognD

    def _residual(self):
        gd = self.channel.tdim
        rho, F = ufl.split(self.u)
        r1, _ = ufl.split(self._old[0])
        r2, _ = ufl.split(self._old[1])
        psi, chi = ufl.TestFunctions(self.W)
        k0, k1, k2 = self._k
        e2 = self.eps_c ** 2
        grad_rho_sq = sum(d(rho, i, gd) ** 2 for i in range(gd))
        R = (k0 * ufl.exp(rho) + k1 * ufl.exp(r1) + k2 * ufl.exp(r2)) * psi * self.dx
        R += self._tau * ufl.exp(rho) * sum(d(F, i, gd) * d(psi, i, gd) for i in range(gd)) * self.dx
        R += ((F - rho - self.V) * chi - e2 / 12 * sum(d(rho, i, gd) * d(chi, i, gd) for i in range(gd))
              + e2 / 24 * grad_rho_sq * chi) * self.dx
        return R

    def _energy_density(self):
        rho, _ = ufl.split(self.u)
        gd = self.channel.tdim
        return ufl.exp(rho) * (rho - 1 + self.V + self.eps_c ** 2 / 24 * sum(d(rho, i, gd) ** 2 for i in range(gd)))

    # ------------------------------------------------------------------ state
    def set_state(self, n_init, name: str = "n_init"):
        """Set n0 (number or numpy callable, > 0) and F = log n0 + V; resets the time history."""
        f = dolfinx.fem.Function(self._Vs)
        if callable(n_init):
            try:
                f.interpolate(lambda x: np.asarray(n_init(x), dtype=float) * np.ones(x.shape[1]))
            except Exception as e:
                raise ParameterError(name, f"the function n0(x) failed: {e}") from None
        else:
            try:
                f.x.array[:] = float(n_init)
            except (TypeError, ValueError):
                raise ParameterError(name, f"must be a number or a function of x, got {n_init!r}") from None
        ok = bool(np.all(np.isfinite(f.x.array)) and np.all(f.x.array > 0))
        if not self.channel.comm.allreduce(ok, op=MPI.LAND):
            mn = self.channel.comm.allreduce(float(np.min(f.x.array)) if len(f.x.array) else np.inf, op=MPI.MIN)
            raise ParameterError(name, f"the density must be > 0 and finite everywhere (min {mn:.4g})")
        self.u.x.array[self._rho_dofs] = np.log(f.x.array)
        self._update_contact_potential()
        self.u.x.array[self._F_dofs] = np.log(f.x.array) + self._V_h.x.array
        self.u.x.scatter_forward()
        for o in self._old:
            o.x.array[:] = self.u.x.array
        self._init_stepper()

    def rho(self):
        """UFL expression of rho = log n0 (a view on the unknown; for the spin equation)."""
        return ufl.split(self.u)[0]

    def _collapsed(self, dofs, space, name):
        f = dolfinx.fem.Function(space, name=name)
        f.x.array[:] = self.u.x.array[dofs]
        return f

    def n0(self):
        """n0 = e^rho as a Function (P_degree)."""
        f = self._collapsed(self._rho_dofs, self._Vs, "n0")
        f.x.array[:] = np.exp(f.x.array)
        return f

    def quasi_fermi(self):
        return self._collapsed(self._F_dofs, self._Fs, "F")

    def bohm(self):
        """Bohm potential Q = F - rho - V = -(eps^2/6) Lap sqrt n0/sqrt n0 (P_degree)."""
        f = self._collapsed(self._F_dofs, self._Fs, "Q")
        f.x.array[:] -= self.u.x.array[self._rho_dofs]
        _compat.interpolate_expression(self._V_h, self.V)
        f.x.array[:] -= self._V_h.x.array
        return f

    def _error_part(self, arr):
        nown = self.W.dofmap.index_map.size_local
        idx = self._rho_dofs[self._rho_dofs < nown]
        return np.exp(arr[idx])

    # ------------------------------------------------------------------ solves
    def _solve_implicit(self, what: str) -> int:
        return self.newton.solve(f"density-gradient {what}")

    def _try(self, what):
        saved = self.u.x.array.copy()
        try:
            return self.newton.solve(what)
        except SolverError:
            self.u.x.array[:] = saved
            raise

    def solve(self, continuation: bool = True, max_halvings: int = 12) -> int:
        """Stationary solution. Tries Newton at the full potential and eps from the current state;
        on failure (``continuation=True``) ramps lambda V (lambda 0 -> 1) at eps = 0 and then eps
        (eps^2 linearly), halving a step whenever Newton fails. Returns the total Newton iterations.
        The solution becomes the initial state (t = 0) of later time steps.

        Raises SolverError (state restored) if Newton fails without continuation or a
        continuation step needs more than ``max_halvings`` halvings."""
        for k in self._k:
            k.value = 0.0
        start = self.u.x.array.copy()
        try:
            its = self._try("stationary density-gradient solve")
            self.reset_history()
            return its
        except SolverError:
            if not continuation:
                raise
        self.u.x.array[:] = start
        try:
            total = self._continuation(max_halvings)
        except SolverError:
            self.u.x.array[:] = start  # never leave a partial continuation state behind
            raise
        finally:
            self.lam.value, self.eps_c.value = 1.0, self.eps
            self._update_contact_potential()
        total += self._try("stationary density-gradient solve")
        log.info("density gradient: stationary by continuation, %d Newton iterations", total)
        self.reset_history()
        return total

    def _continuation(self, max_halvings: int) -> int:
        total = 0
        for param, target in (("lambda", 1.0), ("eps^2", self.eps ** 2)):
            s, ds = 0.0, target / 4
            if param == "lambda":
                self.eps_c.value = 0.0
                self.lam.value = 0.0
                self._update_contact_potential()
                total += self._try("density-gradient continuation (lambda = 0)")
            halvings = 0
            while s < target * (1 - 1e-14) and target > 0:
                s_new = min(target, s + ds)
                if param == "lambda":
                    self.lam.value = s_new
                    self._update_contact_potential()
                else:
                    self.eps_c.value = math.sqrt(s_new)
                try:
                    total += self._try(f"density-gradient continuation ({param} = {s_new:.4g})")
                    s, ds = s_new, ds * 1.5
                except SolverError:
                    halvings += 1
                    ds *= 0.5
                    if halvings > max_halvings:
                        raise SolverError(f"density-gradient continuation stalled at {param} = {s:.4g} "
                                          f"(target {target:.4g}) after {max_halvings} step halvings") from None
        return total

    # ------------------------------------------------------------------ outputs
    def mass(self) -> float:
        """Total (scaled) charge int n0."""
        return _compat.assemble_scalar(self._mass_form, self.channel.comm)

    def free_energy(self) -> float:
        """E_DG = int n0 (log n0 - 1) + n0 V + (eps^2/6) |grad sqrt n0|^2."""
        return _compat.assemble_scalar(self._energy_form, self.channel.comm)

    def contact_currents(self) -> Dict[str, float]:
        """Particle current leaving through each contact, ``int_contact J.nu`` with
        ``J = -tau n0 grad F`` (reaction method: the unconstrained residual of the continuity
        equation at the contact's rho dofs) [scaled: n0 x0^(d-1)/t_E]."""
        r = _compat.assemble_vector_local(self._F_form)
        nown = self.W.dofmap.index_map.size_local
        return {name: -self.channel.comm.allreduce(float(r[dofs[dofs < nown]].sum()), op=MPI.SUM)
                for name, dofs in self._contact_dofs.items()}

    def current_density(self):
        """Particle flux density J = -tau n0 grad F as a [P1]^tdim Function [scaled: N0 x0 / t_E]
        (lumped L2 projection)."""
        mesh, gd = self.channel.mesh, self.channel.tdim
        rho, F = ufl.split(self.u)
        V1 = _compat.function_space(mesh, "CG", 1, shape=(gd,))
        v = ufl.TestFunction(V1)
        one = dolfinx.fem.Function(V1)
        one.x.array[:] = 1.0
        lump = _compat.assemble_vector_local(_compat.form(ufl.inner(one, v) * ufl.dx))
        J = -self._tau * ufl.exp(rho) * ufl.grad(F)
        f = dolfinx.fem.Function(V1, name="J")
        f.x.array[:] = _compat.assemble_vector_local(_compat.form(ufl.inner(J, v) * ufl.dx)) / lump
        return f

    def values(self, points, what: str = "n0") -> np.ndarray:
        """n0 [N0], F or Q [kB T] (``what``) at ``points`` (array (npts, tdim), scaled coordinates)
        -> array (npts,) (NaN outside the mesh); collective over the ranks."""
        f = {"n0": self.n0, "F": self.quasi_fermi, "Q": self.bohm}[what]()
        pts = np.zeros((len(points), 3))
        P = np.asarray(points, dtype=float).reshape(len(points), -1)
        pts[:, : P.shape[1]] = P
        return _compat.eval_points(f, pts)[:, 0]

    def dofs_global(self) -> int:
        return self.W.dofmap.index_map.size_global
