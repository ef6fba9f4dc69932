r"""Micromagnetic effective-field terms, their energies, and the vertex weights they use.

Units: SI. The LLG solver works with nodal *forces*

    F_i = -dE/dm_i = mu0 (int Ms phi_i dx) H_eff,i     [J]

(the variational derivative of the discrete energy E(m_1, ..., m_n) at vertex i), so
terms of regions with different Ms, A, K add consistently. Energies use vertex
quadrature (lumped mass), the same rule that produces the forces, except the
exchange energy, which is exact for P1.

Energy densities (seed 002 "Model equations"; seed 000 eqs. 1.7, 1.11):

- exchange      A |grad m|^2                        F = -K_ex m,  K_ex = (2A grad u, grad v)_magnet
- uniaxial      -K1 (m.u)^2                         F_i = w_i 2 K1 (m_i.u) u,   w_i = int phi_i
- cubic         Kc1 (a1^2 a2^2 + a2^2 a3^2 + a3^2 a1^2),  a_j = m.c_j
                                                     F_i = -w_i 2 Kc1 sum_j a_j (a_k^2 + a_l^2) c_j
- Zeeman        -mu0 Ms m.H_ext(t)                  F_i = mu0 (int Ms phi_i) H_ext
- stray field   -(mu0/2) Ms m.H_d                   F_i = mu0 (int Ms phi_i) H_d,i   (H_d from fem_stt.magnetostatics)
"""
from __future__ import annotations

from typing import Callable, Dict, Optional, Sequence, Union

import numpy as np
import ufl
from mpi4py import MPI
from petsc4py import PETSc

from .. import _compat
from ..constants import MU0
from ..errors import ParameterError, vector_of_time


def _lumped(V1, coefficient, dx) -> np.ndarray:
    """Local array (owned + ghost) of int coefficient * phi_i dx for the scalar P1 space V1."""
    v = ufl.TestFunction(V1)
    return _compat.assemble_vector_local(_compat.form(coefficient * v * dx))


class MagneticVertices:
    """The P1 spaces of m and the per-vertex weights of the magnetic regions.

    Attributes
    ----------
    V1, Vm : scalar and vector P1 spaces on the whole mesh (same vertex numbering)
    n_owned, n_local : owned and owned+ghost vertex counts on this rank
    active : bool array (n_local,): vertex belongs to a magnetic cell
    w_Ms : (n_local,) mu0 int Ms phi_i  [T m^3]
    w_alpha, w_gamma : (n_local,) mu0 int Ms alpha/gamma0 phi_i, mu0 int Ms/gamma0 phi_i [J s]
    region_weights : dict region -> (n_local,) int_region phi_i  [m^3]
    """

    def __init__(self, domain):
        mags = domain.magnetic_regions
        if not mags:
            raise ParameterError("materials", f"{domain.source}: no region has a material with Ms > 0")
        self.domain = domain
        self.regions = mags
        mesh = domain.mesh
        self.V1 = _compat.function_space(mesh, "CG", 1)
        self.Vm = _compat.function_space(mesh, "CG", 1, shape=(3,))
        im1, imm = self.V1.dofmap.index_map, self.Vm.dofmap.index_map
        assert im1.size_local == imm.size_local and im1.num_ghosts == imm.num_ghosts
        self.n_owned = im1.size_local
        self.n_local = im1.size_local + im1.num_ghosts
        self.dxm = domain.measure(mags)
        cell_dofs = _compat.locate_dofs_topological(self.V1, 3, domain.cells(mags))
        self.active = np.zeros(self.n_local, dtype=bool)
        self.active[cell_dofs] = True
        Ms = domain.material_field("Ms")
        alpha = domain.material_field("alpha")
        gamma0 = domain.dg0({r: m.gamma0 for r, m in domain.materials.items()}, default=1.0)
        self.w_Ms = MU0 * _lumped(self.V1, Ms, self.dxm)
        self.w_alpha = MU0 * _lumped(self.V1, Ms * alpha / gamma0, self.dxm)
        self.w_gamma = MU0 * _lumped(self.V1, Ms / gamma0, self.dxm)
        self.region_weights = {r: _lumped(self.V1, 1.0, domain.measure(r)) for r in mags}

    def owned_sum(self, local_values: np.ndarray) -> np.ndarray:
        """Global sum over vertices (owned entries only) of a (n_local, ...) array."""
        loc = np.asarray(local_values[: self.n_owned].sum(axis=0), dtype=float)
        return self.domain.comm.allreduce(loc, op=MPI.SUM) if loc.ndim == 0 else _allreduce_array(
            self.domain.comm, loc)

    def average(self, m: np.ndarray, region: str) -> np.ndarray:
        """Volume average <m> over a magnetic region (exact for P1 m), shape (3,)."""
        w = self.region_weights[region]
        return self.owned_sum(w[:, None] * m) / self.owned_sum(w)


def _dot(m: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Row-wise m_i . u for m (n, 3): numpy's C loop, not BLAS, whose kernels sum in an order that
    depends on the arrays' memory alignment (results then differ in the last bits from run to run)."""
    return np.einsum("ij,j->i", m, u)


def _allreduce_array(comm, a):
    out = np.empty_like(a)
    comm.Allreduce(np.ascontiguousarray(a), out, op=MPI.SUM)
    return out


class Exchange:
    """Exchange A |grad m|^2: stiffness K_ex (vector P1, magnetic cells only), built once.

    Rows of non-magnetic vertices carry 1 on the diagonal (their m is 0), so K_ex can be
    used in the tangent-plane system without special cases.
    """

    def __init__(self, mv: MagneticVertices):
        dom = mv.domain
        A = dom.material_field("A")
        u, v = ufl.TrialFunction(mv.Vm), ufl.TestFunction(mv.Vm)
        a, bc, _ = dom.restricted_form(2.0 * A * ufl.inner(ufl.grad(u), ufl.grad(v)) * mv.dxm, u, v, mv.regions)
        self.K = _compat.assemble_matrix(_compat.form(a), bcs=[bc])
        self._tmp = self.K.createVecLeft()

    def force(self, m_vec: PETSc.Vec, out: PETSc.Vec):
        """out = -K_ex m (owned entries)."""
        self.K.mult(m_vec, out)
        out.scale(-1.0)

    def energy(self, m_vec: PETSc.Vec) -> float:
        self.K.mult(m_vec, self._tmp)
        return 0.5 * self._tmp.dot(m_vec)


class LocalTerms:
    """Uniaxial and cubic anisotropy and the Zeeman field: vertex-local, explicit terms."""

    def __init__(self, mv: MagneticVertices, H_ext: Union[None, Sequence[float], Callable[[float], Sequence[float]]]):
        self.mv = mv
        self.uniaxial = []
        self.cubic = []
        for r in mv.regions:
            mat = mv.domain.materials[r]
            w = mv.region_weights[r]
            if mat.K1 != 0.0:
                self.uniaxial.append((mat.K1 * w, np.asarray(mat.K1_axis)))
            if mat.Kc1 != 0.0:
                c1, c2 = np.asarray(mat.Kc_axes[0]), np.asarray(mat.Kc_axes[1])
                self.cubic.append((mat.Kc1 * w, np.vstack([c1, c2, np.cross(c1, c2)])))
        self.set_field(H_ext)

    def set_field(self, H_ext):
        """None, a constant 3-vector [A/m], or a callable t -> 3-vector (checked when called)."""
        self.H_ext = None if H_ext is None else vector_of_time("H_ext", H_ext, "A/m")

    def field_at(self, t: float) -> Optional[np.ndarray]:
        return None if self.H_ext is None else self.H_ext(t)

    def force(self, m: np.ndarray, t: float) -> np.ndarray:
        """F (n_local, 3) [J] of anisotropies and Zeeman at time t."""
        F = np.zeros_like(m)
        for w, u in self.uniaxial:
            F += (2.0 * w * _dot(m, u))[:, None] * u
        for w, C in self.cubic:
            a = np.einsum("ij,kj->ik", m, C)  # (n, 3) direction cosines
            a2 = a * a
            g = a * (a2.sum(axis=1)[:, None] - a2)  # a_j (a_k^2 + a_l^2)
            F -= 2.0 * w[:, None] * np.einsum("ij,jk->ik", g, C)
        h = self.field_at(t)
        if h is not None:
            F += self.mv.w_Ms[:, None] * h
        return F

    def energies(self, m: np.ndarray, t: float) -> Dict[str, float]:
        mv = self.mv
        out = {}
        if self.uniaxial:
            out["uniaxial"] = float(sum(mv.owned_sum(-w * _dot(m, u) ** 2) for w, u in self.uniaxial))
        if self.cubic:
            e = 0.0
            for w, C in self.cubic:
                a2 = np.einsum("ij,kj->ik", m, C) ** 2
                e += mv.owned_sum(w * (a2[:, 0] * a2[:, 1] + a2[:, 1] * a2[:, 2] + a2[:, 2] * a2[:, 0]))
            out["cubic"] = float(e)
        h = self.field_at(t)
        if h is not None:
            out["zeeman"] = float(mv.owned_sum(-mv.w_Ms * _dot(m, h)))
        return out
