r"""Schrödinger-Poisson system on the ball B_R (seed 000, eqs. 2.45, 2.46, 2.49; scaled units).

Equations (eps > 0 the scaled Planck constant, m the magnetization, 0 outside Omega)::

    i eps d_t psi_j = -(eps^2/2) Lap psi_j + V psi_j - (eps/2) m.sigma psi_j   in B_R,  psi_j = 0 on |x| = R,
    -Lap V = rho = sum_j lambda_j |psi_j|^2                                    in B_R,  V = 0 on |x| = R.

Discretization. P1 in space (all products of three P1 functions integrated exactly), so
the semi-discrete system is Hamiltonian with the discrete energy

    E_S(psi, m) = sum_j lambda_j [ (eps^2/2) ||grad psi_j||^2 - (eps/2) (m.sigma psi_j, psi_j)_Omega ]
                  + (1/2) ||grad V||^2,

whose first and last terms are F_SC (seed eq. 3.18). Time: Crank-Nicolson,

    i eps (psi^{n+1} - psi^n)/k = H(V^{n+1/2}, m^{n+1/2}) (psi^{n+1} + psi^n)/2,
    V^{n+1/2} = (V^n + V^{n+1})/2,   m^{n+1/2} = (m^n + m^{n+1})/2,

(Delfour, Fortin & Payre, J. Comput. Phys. 44, 277 (1981) for the nonlinear potential).
For any V^{n+1/2}, m^{n+1/2} the step is the Cayley transform of a Hermitian operator, so
every ||psi_j|| -- and the total mass (seed eq. 3.12) -- is conserved to solver tolerance.
The implicit V^{n+1} is found by fixed-point iteration (predictor: linear extrapolation of
V); at convergence E_S(psi^{n+1}, m^{n+1/2}) = E_S(psi^n, m^{n+1/2}) exactly, which is what
makes the coupled energy law (3.17) second order in k (see :mod:`fem_stt.quantum.spllg`).

Real arithmetic: with psi = a + i b (a, b real 2-vectors) and m.sigma = S_R + i S_I,
S_R = [[m3, m1], [m1, -m3]], S_I = [[0, -m2], [m2, 0]], H psi = h_r + i h_i with
h_r = L a + V a - (eps/2)(S_R a - S_I b), h_i = L b + V b - (eps/2)(S_R b + S_I a), and
the CN matrix acting on chi = psi^{n+1} + psi^n (tested with real (p, q)) is

    (p, a) - c [(eps^2/2)(grad p, grad b) + (V p, b) - (eps/2)(p, S_R b + S_I a)_Omega]
  + (q, b) + c [(eps^2/2)(grad q, grad a) + (V q, a) - (eps/2)(q, S_R a - S_I b)_Omega],

c = k/(2 eps), right-hand side 2 M psi^n; then psi^{n+1} = chi - psi^n.
"""
from __future__ import annotations

import logging
import time
from typing import Iterable, Optional

import dolfinx
import dolfinx.fem
import dolfinx.fem.petsc
import dolfinx.la
import numpy as np
import ufl
from mpi4py import MPI
from petsc4py import PETSc

from .. import _compat
from ..errors import ParameterError, SolverError, require_positive
from ..magnetostatics import KSP_REASONS
from .space import QUAD, current_density_ufl, im, re, spin_current_ufl, spin_density_ufl
from .states import MixedState

log = logging.getLogger(__name__)


class SchrodingerPoisson:
    """Crank-Nicolson time stepping of a mixed state with the self-consistent Poisson potential.

    Parameters
    ----------
    state : MixedState (its orbitals are advanced in place)
    eps : semiclassical parameter, > 0
    m : vector P1 Function of the magnetization (0 outside the magnet) or None (no spin coupling);
        the coupling uses the values stored in :attr:`m_mid` at each step (set by the caller,
        default: m itself)
    coupling_regions : cell groups where -(eps/2) m.sigma acts (default: the magnetic regions)
    poisson : solve -Lap V = rho (False: V = 0, the linear Schrödinger equation)
    ksp_rtol : relative residual of the GMRES solves of the CN system (mass is conserved to
        about this level per step)
    fixed_point_tol, max_fixed_point : stopping rule of the V^{n+1} iteration
        (relative change of V^{n+1/2} in the max norm)

    Raises
    ------
    ParameterError for eps <= 0, tolerances <= 0, or coupling regions outside the ball;
    SolverError if a solve fails or the
    fixed point does not converge.
    """

    def __init__(self, state: MixedState, eps: float, m: Optional[dolfinx.fem.Function] = None,
                 coupling_regions: Optional[Iterable[str]] = None, poisson: bool = True, ksp_rtol: float = 1e-13,
                 fixed_point_tol: float = 1e-12, max_fixed_point: int = 40):
        self.eps = require_positive("eps", eps)
        require_positive("ksp_rtol", ksp_rtol)
        require_positive("fixed_point_tol", fixed_point_tol)
        if int(max_fixed_point) < 1:
            raise ParameterError("max_fixed_point", f"must be >= 1, got {max_fixed_point!r}")
        self.fixed_point_tol, self.max_fixed_point = float(fixed_point_tol), int(max_fixed_point)
        self.state = state
        self.space = sp = state.space
        dom = sp.domain
        self.comm = sp.comm
        self.poisson = bool(poisson)
        mesh = dom.mesh
        self.psi = state.orbitals
        self.lam = [dolfinx.fem.Constant(mesh, PETSc.ScalarType(v)) for v in state.occupations]
        self.n = len(self.psi)

        # ---- magnetization coupling
        if m is None:
            self.m = None
            self.m_mid = None
            self.dxc = None
        else:
            if coupling_regions is None:
                coupling_regions = dom.magnetic_regions
            coupling_regions = list(coupling_regions)
            if not coupling_regions:
                raise ParameterError("coupling_regions", "no region given and the domain has no magnetic region")
            for r in coupling_regions:
                if r not in sp.ball_regions:
                    raise ParameterError("coupling_regions", f"'{r}' is not part of the ball {sp.ball_regions}")
            self.m = m
            self.m_mid = dolfinx.fem.Function(m.function_space, name="m_mid")
            self.m_mid.x.array[:] = m.x.array
            self.dxc = dom.measure(coupling_regions, metadata=QUAD)
        self.coupling_regions = None if m is None else coupling_regions

        # ---- potential
        V1 = sp.V1
        self.V = dolfinx.fem.Function(V1, name="V")
        self.V_mid = dolfinx.fem.Function(V1, name="V_mid")
        self._V_old = np.zeros_like(self.V.x.array)
        self._V_prev = None  # (V^{n-1}, k_{n-1}) for the predictor
        u1, v1 = ufl.TrialFunction(V1), ufl.TestFunction(V1)
        rho = sum(lam * ufl.inner(p, p) for lam, p in zip(self.lam, self.psi))
        self._rho = rho
        if self.poisson:
            aP = sp.with_diagonal(ufl.inner(ufl.grad(u1), ufl.grad(v1)) * sp.dx, u1, v1)
            self._AP = _compat.assemble_matrix(_compat.form(aP), bcs=[sp.bc1])
            self._LP = _compat.form(rho * v1 * sp.dx)
            self._bP = dolfinx.fem.petsc.create_vector(self._LP)
            self._kspP = PETSc.KSP().create(self.comm)
            self._kspP.setOperators(self._AP)
            self._kspP.setType("preonly")
            pc = self._kspP.getPC()
            pc.setType("lu")
            pc.setFactorSolverType("mumps")
            self._kspP.setUp()

        # ---- Crank-Nicolson operator on the four-component space
        V4 = sp.V4
        self.c = dolfinx.fem.Constant(mesh, PETSc.ScalarType(0.0))
        t4, s4 = ufl.TrialFunction(V4), ufl.TestFunction(V4)
        a, b, p, q = re(t4), im(t4), re(s4), im(s4)
        e = self.eps
        c = self.c
        form = (ufl.inner(p, a) + ufl.inner(q, b)) * sp.dx
        kin = 0.5 * e * e
        form += c * kin * (ufl.inner(ufl.grad(q), ufl.grad(a)) - ufl.inner(ufl.grad(p), ufl.grad(b))) * sp.dx
        form += c * self.V_mid * (ufl.inner(q, a) - ufl.inner(p, b)) * sp.dx
        if self.m is not None:
            mm = self.m_mid
            SR = ufl.as_matrix([[mm[2], mm[0]], [mm[0], -mm[2]]])
            SI = ufl.as_matrix([[0.0, -mm[1]], [mm[1], 0.0]])
            form += c * 0.5 * e * (ufl.inner(p, SR * b + SI * a) - ufl.inner(q, SR * a - SI * b)) * self.dxc
        self._a = _compat.form(sp.with_diagonal(form, t4, s4))
        self.A = _compat.create_matrix(self._a)
        self._M4 = _compat.assemble_matrix(_compat.form(sp.with_diagonal(ufl.inner(t4, s4) * sp.dx, t4, s4)),
                                           bcs=[sp.bc4])
        self.ksp = PETSc.KSP().create(self.comm)
        self.ksp.setOperators(self.A)
        self.ksp.setType("gmres")
        self.ksp.setTolerances(rtol=ksp_rtol, atol=1e-300, max_it=1000)
        self.ksp.getPC().setType("bjacobi" if self.comm.size > 1 else "ilu")
        imap4 = V4.dofmap.index_map
        self._rhs = [dolfinx.la.create_petsc_vector(imap4, V4.dofmap.index_map_bs) for _ in range(self.n)]
        self._chi = [sp.new_orbital("chi") for _ in range(self.n)]
        self._old = [f.x.array.copy() for f in self.psi]

        # ---- energies and observables
        self._kin = _compat.form(sum(lam * ufl.inner(ufl.grad(p_), ufl.grad(p_)) for lam, p_ in zip(self.lam, self.psi))
                                 * sp.dx)
        self._hartree = _compat.form(ufl.inner(ufl.grad(self.V), ufl.grad(self.V)) * sp.dx)
        self._sdens = sum(lam * spin_density_ufl(p_) for lam, p_ in zip(self.lam, self.psi))
        self._jdens = sum(lam * current_density_ufl(p_, e) for lam, p_ in zip(self.lam, self.psi))
        self._Js = sum(lam * spin_current_ufl(p_, e) for lam, p_ in zip(self.lam, self.psi))
        self._int_forms = {
            "mass": _compat.form(rho * sp.dx),
            **{f"s{k + 1}": _compat.form(self._sdens[k] * sp.dx) for k in range(3)},
            **{f"j{k + 1}": _compat.form(self._jdens[k] * sp.dx) for k in range(3)},
            **{f"Js{a_ + 1}{k + 1}": _compat.form(self._Js[a_, k] * sp.dx) for a_ in range(3) for k in range(3)},
        }
        if self.m is not None:
            self._coupling = _compat.form(ufl.inner(self._sdens, self.m) * self.dxc)
        self.t = 0.0
        self.step_count = 0
        self.last_fixed_point_iterations = 0
        self.timings = {"cn_assembly": 0.0, "cn_solve": 0.0, "poisson": 0.0}
        if self.poisson:
            self.solve_poisson()

    # ------------------------------------------------------------------ pieces
    def solve_poisson(self):
        """V <- solution of -Lap V = rho(psi) in B_R, V = 0 on the sphere (MUMPS, factorized once)."""
        t0 = time.perf_counter()
        _compat.assemble_vector_into(self._bP, self._LP, bcs=[self.space.bc1])
        self._kspP.solve(self._bP, self.V.vector)
        reason = self._kspP.getConvergedReason()
        if reason <= 0:
            raise SolverError(f"Poisson solve failed: {KSP_REASONS.get(reason, reason)}")
        self.V.x.scatter_forward()
        self.timings["poisson"] += time.perf_counter() - t0

    def _solve_cn(self, k: float):
        """One CN solve for every orbital with the current V_mid and m_mid; writes psi in place."""
        t0 = time.perf_counter()
        self.c.value = k / (2.0 * self.eps)
        _compat.assemble_matrix_into(self.A, self._a, bcs=[self.space.bc4])
        self.timings["cn_assembly"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        for j, f in enumerate(self.psi):
            x = self._chi[j]
            self.ksp.solve(self._rhs[j], x.vector)
            reason = self.ksp.getConvergedReason()
            if reason <= 0:
                raise SolverError(f"Crank-Nicolson GMRES failed for orbital {j} at t = {self.t:g}: "
                                  f"{KSP_REASONS.get(reason, reason)}")
            x.x.scatter_forward()
            f.x.array[:] = x.x.array - self._old[j]
        self.timings["cn_solve"] += time.perf_counter() - t0

    def step(self, k: float):
        """Advance all orbitals (and V) from t to t + k.

        The caller sets :attr:`m_mid` (the magnetization at t + k/2) beforehand when coupled.
        Returns the number of fixed-point iterations. Raises SolverError if the V iteration does
        not reach ``fixed_point_tol`` in ``max_fixed_point`` iterations (the state is then restored).
        """
        k = require_positive("k", k)
        for j, f in enumerate(self.psi):
            self._old[j][:] = f.x.array
            self._M4.mult(f.vector, self._rhs[j])
            self._rhs[j].scale(2.0)
            dolfinx.fem.petsc.set_bc(self._rhs[j], [self.space.bc4])
        if self.poisson:
            self._V_old[:] = self.V.x.array
            if self._V_prev is not None:  # predictor: V at t + k/2 by linear extrapolation
                Vp, kp = self._V_prev
                self.V_mid.x.array[:] = self._V_old + (0.5 * k / kp) * (self._V_old - Vp)
            else:
                self.V_mid.x.array[:] = self._V_old
        it = 0
        while True:
            it += 1
            self._solve_cn(k)
            if not self.poisson:
                break
            self.solve_poisson()
            new_mid = 0.5 * (self._V_old + self.V.x.array)
            scale = self.comm.allreduce(float(np.abs(new_mid).max(initial=0.0)), op=MPI.MAX)
            change = self.comm.allreduce(float(np.abs(new_mid - self.V_mid.x.array).max(initial=0.0)), op=MPI.MAX)
            self.V_mid.x.array[:] = new_mid
            if change <= self.fixed_point_tol * max(scale, 1e-300):
                break
            if it >= self.max_fixed_point:
                for j, f in enumerate(self.psi):
                    f.x.array[:] = self._old[j]
                self.V.x.array[:] = self._V_old
                raise SolverError(f"the Poisson fixed point did not converge in {it} iterations at t = {self.t:g} "
                                  f"(relative change {change / max(scale, 1e-300):.3g}); reduce the time step")
        if self.poisson:
            self._V_prev = (self._V_old.copy(), k)
        self.t += k
        self.step_count += 1
        self.last_fixed_point_iterations = it
        return it

    # ------------------------------------------------------------------ diagnostics
    def _scalar(self, form) -> float:
        return self.comm.allreduce(dolfinx.fem.assemble_scalar(form), op=MPI.SUM)

    def mass(self) -> float:
        """sum_j lambda_j ||psi_j||^2 with the exact P1 mass matrix (seed eq. 3.12)."""
        return float(np.dot(self.state.occupations, self.space.norms2(self.psi)))

    def energies(self) -> dict:
        """kinetic = (eps^2/2) sum lambda ||grad psi||^2, hartree = (1/2)||grad V||^2, F_SC = their sum
        (seed eq. 3.18); coupling = -(eps/2) int_Omega s.m with the current :attr:`m` (0 if uncoupled)."""
        kin = 0.5 * self.eps ** 2 * self._scalar(self._kin)
        har = 0.5 * self._scalar(self._hartree) if self.poisson else 0.0
        out = {"kinetic": kin, "hartree": har, "F_SC": kin + har}
        out["coupling"] = -0.5 * self.eps * self._scalar(self._coupling) if self.m is not None else 0.0
        return out

    def integrals(self) -> dict:
        """Integrals over B_R of rho (mass), s (s1..s3), j (j1..j3) and J_s (Js11..Js33), seed eqs. 1.3a-d."""
        return {k: self._scalar(f) for k, f in self._int_forms.items()}

    def observables(self) -> dict:
        """Vertex fields for output (lumped L2 projections onto P1 over B_R):
        rho (scalar), s, j (3-vectors), J_s1, J_s2, J_s3 (rows alpha of J_s: the flux of spin
        component alpha, 3-vectors), V. Returns dict name -> Function."""
        sp = self.space
        if not hasattr(self, "_obs"):
            V3 = _compat.function_space(sp.domain.mesh, "CG", 1, shape=(3,))
            v1, v3 = ufl.TestFunction(sp.V1), ufl.TestFunction(V3)
            self._obs = {"rho": (dolfinx.fem.Function(sp.V1, name="rho"), _compat.form(self._rho * v1 * sp.dx)),
                         "s": (dolfinx.fem.Function(V3, name="s"), _compat.form(ufl.inner(self._sdens, v3) * sp.dx)),
                         "j": (dolfinx.fem.Function(V3, name="j"), _compat.form(ufl.inner(self._jdens, v3) * sp.dx))}
            for a_ in range(3):
                row = ufl.as_vector([self._Js[a_, k] for k in range(3)])
                self._obs[f"J_s{a_ + 1}"] = (dolfinx.fem.Function(V3, name=f"J_s{a_ + 1}"),
                                             _compat.form(ufl.inner(row, v3) * sp.dx))
            w = sp.lumped
            self._inv_w = np.where(w > 0, 1.0 / np.where(w > 0, w, 1.0), 0.0)
        out = {}
        for name, (f, L) in self._obs.items():
            vals = _compat.assemble_vector_local(L).reshape(len(self._inv_w), -1) * self._inv_w[:, None]
            f.x.array[: vals.size] = vals.ravel()
            out[name] = f
        out["V"] = self.V
        return out
