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

import numba
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
        self.mv = mv
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


class TangentStiffness:
    r"""A stiffness K = k (x) I_3 written in a tangent basis: R = P^T K P, sparsity built once.

    For K = k (x) I_3 (a scalar P1 stiffness k times the 3 x 3 identity per node pair; for K_ex with
    the unit diagonal rows of non-magnetic vertices) and P = diag(E_i), E_i = [e1_i e2_i] (3 x 2),
    R is made of the 2 x 2 blocks R_ij = k_ij E_i^T E_j (Alouges, Numer. Math. 2008: the
    tangent-plane system).

    Parameters: ``K`` a PETSc AIJ matrix over 3 n nodal values (the vertices' K_ex, or the column
    stiffness C^T K_ex C of :class:`fem_stt.llg.columns.VertexColumns`); ``n_owned``, ``r0``: this
    rank's owned nodes and the global index of its first.

    Attributes: ``structure`` = (indptr, indices, diagonal): R's owned rows in CSR (2 per owned
    node, global columns 2 J, 2 J + 1; the layout :meth:`values` fills) and the positions in it of
    the diagonal 2 x 2 blocks, (n_owned, 4) for a11 a12 a21 a22.

    Raises SolverError if K is not of the form k (x) I_3 (a coupling between components) or lacks a
    diagonal entry.
    """

    def __init__(self, K: PETSc.Mat, n_owned: int, r0: int):
        from ..errors import SolverError
        no = n_owned
        indptr, cols, vals = K.getValuesCSR()
        rows = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
        comm = K.comm.tompi4py()

        def fail_together(message):  # every rank raises (a lone rank would leave the others in createMPI)
            messages = [m for m in comm.allgather(message) if m]
            if messages:
                raise SolverError(messages[0])
        # K_ex = k (x) I_3: entries only between equal components, the same values for the 3 components
        fail_together("exchange stiffness couples different components of m; the tangent-plane assembly assumes "
                      "K_ex = k (x) I_3" if np.any((vals != 0.0) & (rows % 3 != cols % 3)) else None)
        keep = (rows % 3 == 0) & (cols % 3 == 0)
        vrow, gcol, k = rows[keep] // 3, cols[keep] // 3, vals[keep]
        # (in parallel the components' off-process sums differ in the last bits: compare to round-off)
        rowmax = np.zeros(len(indptr) - 1)
        np.maximum.at(rowmax, rows, np.abs(vals))
        tol = 1e-12 * rowmax[rows[keep]]
        same = True
        for c in (1, 2):
            sel = (rows % 3 == c) & (cols % 3 == c)
            same &= (np.array_equal(rows[sel] // 3, vrow) and np.array_equal(cols[sel] // 3, gcol)
                     and bool(np.all(np.abs(vals[sel] - k) <= tol)))
        fail_together(None if same else "exchange stiffness differs between components of m; the tangent-plane "
                                        "assembly assumes K_ex = k (x) I_3")
        order = np.lexsort((gcol, vrow))  # rows ascending, global columns ascending within a row
        vrow, gcol, k = vrow[order], gcol[order], k[order]
        # The columns of a row reach vertices of every cell around it, also ones this rank does not
        # ghost (cells are not ghosted: another rank's cell adds to an owned row): their tangent basis
        # comes through a PETSc scatter from the owners, set up here once
        needed = np.unique(gcol)
        lcol = np.searchsorted(needed, gcol)
        self._E_owned = PETSc.Vec().createMPI((6 * no, PETSc.DECIDE), comm=K.comm)
        self._E_cols = PETSc.Vec().createSeq(6 * len(needed), comm=PETSc.COMM_SELF)
        src = PETSc.IS().createGeneral((6 * needed[:, None] + np.arange(6)).ravel().astype(PETSc.IntType),
                                       comm=PETSc.COMM_SELF)
        self._E_scatter = PETSc.Scatter().create(self._E_owned, src, self._E_cols, None)
        kptr = np.zeros(no + 1, dtype=np.int64)
        np.add.at(kptr, vrow + 1, 1)
        kptr = np.cumsum(kptr)
        self._k = (kptr, lcol, np.ascontiguousarray(k, dtype=float))
        n = np.diff(kptr)
        # R rows 2i and 2i+1 each hold 2 n_i entries: columns 2J, 2J+1 for every J in row i of k
        r_indptr = np.zeros(2 * no + 1, dtype=np.int64)
        r_indptr[1::2] = 4 * kptr[:-1] + 2 * n
        r_indptr[2::2] = 4 * kptr[1:]
        pair = np.column_stack([2 * gcol, 2 * gcol + 1]).ravel()  # per k entry, in row order
        idx = np.empty(4 * len(gcol), dtype=np.int64)
        seg = np.repeat(np.arange(no), 2 * n)  # vertex of every entry of one 'half' (row 2i or 2i+1)
        within = np.arange(len(pair)) - np.repeat(2 * kptr[:-1], 2 * n)
        idx[r_indptr[2 * seg] + within] = pair
        idx[r_indptr[2 * seg + 1] + within] = pair
        # positions of the diagonal 2 x 2 blocks (k_ii is always stored)
        diag_p = np.flatnonzero(gcol == r0 + np.repeat(np.arange(no), n))
        fail_together("exchange stiffness lacks a diagonal entry" if len(diag_p) != no else None)
        q = 4 * kptr[:-1] + 2 * (diag_p - kptr[:-1])
        diagonal = np.column_stack([q, q + 1, q + 2 * n, q + 2 * n + 1])
        self.structure = (r_indptr.astype(PETSc.IntType), idx.astype(PETSc.IntType), diagonal)

    def values(self, e1: np.ndarray, e2: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Values of R = P^T K P (layout of ``structure``) for the tangent basis
        e1, e2 (each (n_owned, 3), owned vertices); written into ``out`` and returned. Collective
        (the basis of off-process columns is scattered from its owners)."""
        kptr, lcol, k = self._k
        self._E_owned.array.reshape(-1, 6)[:] = np.hstack([e1, e2])
        self._E_scatter.scatter(self._E_owned, self._E_cols, PETSc.InsertMode.INSERT, PETSc.ScatterMode.FORWARD)
        ec = self._E_cols.array.reshape(-1, 6)
        _tangent_blocks(kptr, lcol, k, e1, e2, ec[:, :3], ec[:, 3:], out)
        return out


@numba.njit(cache=True)
def _tangent_blocks(kptr, lcol, k, e1, e2, f1, f2, out):
    """R_ij = k_ij E_i^T E_j into R's CSR values: row 2i holds (e1_i.e1_j, e1_i.e2_j) k_ij for
    every j of row i of k, row 2i+1 (e2_i.e1_j, e2_i.e2_j) k_ij; e1, e2 of the row vertices i,
    f1, f2 of the column vertices (index lcol)."""
    for i in range(len(kptr) - 1):
        p0, p1 = kptr[i], kptr[i + 1]
        half = 2 * (p1 - p0)
        for p in range(p0, p1):
            j = lcol[p]
            a11 = e1[i, 0] * f1[j, 0] + e1[i, 1] * f1[j, 1] + e1[i, 2] * f1[j, 2]
            a12 = e1[i, 0] * f2[j, 0] + e1[i, 1] * f2[j, 1] + e1[i, 2] * f2[j, 2]
            a21 = e2[i, 0] * f1[j, 0] + e2[i, 1] * f1[j, 1] + e2[i, 2] * f1[j, 2]
            a22 = e2[i, 0] * f2[j, 0] + e2[i, 1] * f2[j, 1] + e2[i, 2] * f2[j, 2]
            q = 4 * p0 + 2 * (p - p0)
            out[q] = k[p] * a11
            out[q + 1] = k[p] * a12
            out[q + half] = k[p] * a21
            out[q + half + 1] = k[p] * a22


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
