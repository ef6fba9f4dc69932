r"""Stray field by the hybrid FEM-BEM method (no air, exact open boundary).

Fredkin & Koehler, IEEE Trans. Magn. 26, 415 (1990). With M = Ms m [A/m] on the magnetic
cells Omega and the potential u [A], H_d = -grad u (DESIGN.md sec. 1), split u = u1 + u2:

1. u1 solves the Neumann problem in Omega and is zero outside::

       (grad u1, grad v)_Omega = (M, grad v)_Omega   for all P1 v
       (Lap u1 = div M in Omega, du1/dn = M.n on dOmega).

2. u2 is harmonic inside and outside Omega, has a continuous normal derivative and jumps by
   u2_out - u2_in = u1 across dOmega (so that u = u1 + u2 is continuous): it is the
   double-layer potential of u1,

       u2(x) = (1/4pi) int_dOmega u1(y) d/dn_y (1/|x - y|) dS_y        (n outward),

   whose interior trace on dOmega is

       u2(x) = (1/4pi) int_dOmega u1(y) d/dn_y (1/|x - y|) dS_y + (Omega(x)/(4pi) - 1) u1(x),

   with Omega(x) the interior solid angle at x (2 pi on smooth parts). For P1 u1 on flat
   triangles the integral is evaluated exactly with Lindholm's formula, IEEE Trans. Magn.
   20, 2025 (1984) (as written out in A. Knittel, PhD thesis, Southampton 2011, sec. 2.2.4):
   for a triangle with corners p_1..p_3 counter-clockwise about its outward normal n, area A,
   rho_i = p_i - x, s_i = |p_{i+1} - p_i|, xi_i = (p_{i+1} - p_i)/s_i, eta_i = n x xi_i,
   zeta = n.rho_1, gamma_ij = xi_{i+1}.xi_j, P_j = ln((|rho_j| + |rho_{j+1}| + s_j) /
   (|rho_j| + |rho_{j+1}| - s_j)) and Omega_T the signed solid angle of the triangle seen
   from x (Van Oosterom & Strackee, IEEE Trans. Biomed. Eng. 30, 125 (1983)),

       L_i = s_{i+1} / (8 pi A) [ (eta_{i+1}.rho_{i+1}) Omega_T - zeta sum_j gamma_ij P_j ],

   so that  (1/4pi) int_T phi_i(y) d/dn_y (1/|x - y|) dS_y = L_i  (sum_i L_i = -Omega_T / 4pi,
   since eta_i points into the triangle). The boundary values g = B u1 use the dense matrix

       B = L + diag(Omega_i / (4pi) - 1),   Omega_i = sum_T Omega_T(x_i),

   where Omega_i, computed from the same triangles, is the interior solid angle at node i;
   then B 1 = -1 to rounding, so the constant left free in each connected part of u1 cancels
   exactly in u1 + u2.

3. u2 in Omega: Laplace's equation with the Dirichlet data g.

H_d at the vertices is the lumped L2 projection of -grad u onto P1 (as in
:class:`fem_stt.magnetostatics.StrayField`), the energy (mu0/2) int M.grad u.

The mesh needs only the magnets (a surrounding region is allowed and ignored). The dense
B (n_boundary x n_boundary; each rank stores the rows of the boundary vertices it owns,
4 n_b^2 / ranks bytes in single precision) and the two sparse LU factorizations (MUMPS) are built once; a
solve is two forward/back substitutions, one all-gather of the boundary values of u1 and
a dense mat-vec. There is no H-matrix compression: past ~40,000 boundary vertices the
memory (6 GB) is the limit.
"""
from __future__ import annotations

import itertools
import math
import time
from typing import Optional

import dolfinx
import dolfinx.fem
import numpy as np
import scipy.sparse
import ufl
from mpi4py import MPI
from petsc4py import PETSc

from . import _compat
from .errors import MeshError, ParameterError, SolverError
from .magnetostatics import PotentialField, _inverse_lumped_mass

_counter = itertools.count()


def _aligned_empty(n: int, dtype, align: int = 64) -> np.ndarray:
    """An uninitialized 1D array of n items whose data pointer is a multiple of ``align`` bytes."""
    dtype = np.dtype(dtype)
    buf = np.empty(n * dtype.itemsize + align, dtype=np.uint8)
    off = (-buf.ctypes.data) % align
    return buf[off: off + n * dtype.itemsize].view(dtype)


def solid_angles(x: np.ndarray, tri: np.ndarray) -> np.ndarray:
    """Signed solid angles [sr] of triangles seen from points, shape (n_x, n_t).

    x : (n_x, 3) points; tri : (n_t, 3, 3) corners (t, corner, xyz). Positive when x lies
    on the side opposite to the normal (p2 - p1) x (p3 - p1). Van Oosterom & Strackee (1983):
    tan(Omega/2) = rho1.(rho2 x rho3) / (r1 r2 r3 + r1 rho2.rho3 + r2 rho1.rho3 + r3 rho1.rho2).
    """
    rho = tri[None, :, :, :] - x[:, None, None, :]
    return _solid_angles(rho, np.linalg.norm(rho, axis=-1))


def _solid_angles(rho: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Solid angles from rho = corners - x, shape (n_x, n_t, 3, 3), and r = |rho| (n_x, n_t, 3)."""
    det = np.einsum("xtk,xtk->xt", rho[:, :, 0], np.cross(rho[:, :, 1], rho[:, :, 2]))
    d01 = np.einsum("xtk,xtk->xt", rho[:, :, 0], rho[:, :, 1])
    d02 = np.einsum("xtk,xtk->xt", rho[:, :, 0], rho[:, :, 2])
    d12 = np.einsum("xtk,xtk->xt", rho[:, :, 1], rho[:, :, 2])
    den = r[..., 0] * r[..., 1] * r[..., 2] + r[..., 0] * d12 + r[..., 1] * d02 + r[..., 2] * d01
    return 2.0 * np.arctan2(det, den)


def lindholm_weights(x: np.ndarray, tri: np.ndarray, exclude: Optional[np.ndarray] = None):
    """Lindholm's double-layer weights of linear triangles (module docstring, step 2).

    Parameters
    ----------
    x : (n_x, 3) observation points [m].
    tri : (n_t, 3, 3) triangle corners, counter-clockwise about the outward normal [m].
    exclude : optional bool (n_x, n_t): pairs where x is a corner of the triangle (the
        weights are then 0: the kernel vanishes on the flat triangle itself).

    Returns
    -------
    L : (n_x, n_t, 3) weights (dimensionless), Omega : (n_x, n_t) signed solid angles [sr].
    """
    e = np.roll(tri, -1, axis=1) - tri  # e_i = p_{i+1} - p_i
    s = np.linalg.norm(e, axis=-1)  # (n_t, 3)
    nrm = np.cross(e[:, 0], -e[:, 2])  # (p2 - p1) x (p3 - p1)
    area = 0.5 * np.linalg.norm(nrm, axis=-1)
    n = nrm / (2.0 * area)[:, None]
    xi = e / s[..., None]
    eta = np.cross(n[:, None, :], xi)
    gamma = np.einsum("tik,tjk->tij", np.roll(xi, -1, axis=1), xi)  # xi_{i+1}.xi_j
    rho = tri[None, :, :, :] - x[:, None, None, :]
    r = np.linalg.norm(rho, axis=-1)  # (n_x, n_t, 3)
    eta0 = np.einsum("tik,xtik->xti", eta, rho)
    zeta = np.einsum("tk,xtk->xt", n, rho[:, :, 0])
    rs = r + np.roll(r, -1, axis=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        P = np.log((rs + s[None]) / (rs - s[None]))
    omega = _solid_angles(rho, r)
    if exclude is not None:
        P[exclude] = 0.0
        omega[exclude] = 0.0
    gP = np.einsum("tij,xtj->xti", gamma, P)
    L = (np.roll(s, -1, axis=1) / (8.0 * math.pi * area)[:, None])[None] * (
        np.roll(eta0, -1, axis=2) * omega[..., None] - zeta[..., None] * gP)
    return L, omega  # excluded pairs: omega = P = 0, hence L = 0


class FemBemStrayField(PotentialField):
    """Stray field of the magnetic regions by FEM-BEM (Fredkin-Koehler); see the module docstring.

    Parameters
    ----------
    domain : Domain with at least one magnetic region; other regions (if any) are ignored.
    Vm : vector P1 space of m (default: created on the mesh).
    chunk_pairs : (point, triangle) pairs per vectorized block while B is built (memory).
    dense_dtype : storage of the dense B, ``"float32"`` (default) or ``"float64"``. B is
        computed in double precision; single-precision storage halves the memory and the
        memory traffic of the per-solve mat-vec (which is bandwidth-bound) and changes H_d by
        ~1e-7 relative, four orders below the discretization error.

    Attributes
    ----------
    u : total potential u1 + u2 [A] (scalar P1), H : nodal H_d [A/m] (Vm),
    num_boundary_nodes : global number of boundary vertices n_b, setup_s : setup time [s].

    Raises
    ------
    MeshError if no region is magnetic or the magnets have no boundary triangles;
    SolverError if a factorization fails.
    """

    def __init__(self, domain, Vm=None, chunk_pairs: int = 1_500_000, dense_dtype: str = "float32"):
        t0 = time.perf_counter()
        mags = domain.magnetic_regions
        if not mags:
            raise MeshError(f"{domain.source}: no region has a material with Ms > 0")
        if int(chunk_pairs) < 1:
            raise ParameterError("chunk_pairs", f"must be >= 1, got {chunk_pairs!r}")
        if dense_dtype not in ("float32", "float64"):
            raise ParameterError("dense_dtype", f"must be 'float32' or 'float64', got {dense_dtype!r}")
        self.domain = domain
        self.magnetic_regions = mags
        mesh = domain.mesh
        self.comm = comm = mesh.comm
        self.V = V = _compat.function_space(mesh, "CG", 1)
        self.Vm = Vm or _compat.function_space(mesh, "CG", 1, shape=(3,))
        self.u = dolfinx.fem.Function(V, name="u")
        self.u1 = dolfinx.fem.Function(V, name="u1")
        self.u2 = dolfinx.fem.Function(V, name="u2")
        self.H = dolfinx.fem.Function(self.Vm, name="H_d")
        im = V.dofmap.index_map
        self.n_owned = no = im.size_local
        self.r0 = r0 = im.local_range[0]
        n_local = no + im.num_ghosts

        # ---- boundary triangles of the magnetic set, gathered on every rank
        tri_g, tri_x = self._boundary_triangles()
        self.boundary_dofs_global = gb = np.unique(tri_g.ravel())
        nb = len(gb)
        if nb == 0:
            raise MeshError(f"{domain.source}: the magnetic regions {mags} have no boundary triangles")
        self.num_boundary_nodes = nb
        own = (gb >= r0) & (gb < r0 + no)
        self._own_rows_local = (gb[own] - r0).astype(np.int32)  # local dof indices of my rows
        counts = comm.allgather(int(own.sum()))
        self._counts = np.array(counts)
        self._displs = np.concatenate([[0], np.cumsum(counts)[:-1]])
        self._row0 = int(self._displs[comm.rank])
        x_rows = V.tabulate_dof_coordinates()[self._own_rows_local]
        cols = np.searchsorted(gb, tri_g)  # (n_t, 3) boundary index of each corner
        self.B = self._bem_matrix(x_rows, gb[own], tri_g, tri_x, cols, nb, int(chunk_pairs), np.dtype(dense_dtype))

        # ---- FEM operators (magnetic cells; identity rows elsewhere)
        dxm = domain.measure(mags)
        u, v = ufl.TrialFunction(V), ufl.TestFunction(V)
        a2, bc_off, outside = domain.restricted_form(ufl.inner(ufl.grad(u), ufl.grad(v)) * dxm, u, v, mags)
        active = np.ones(n_local, dtype=bool)
        active[outside] = False
        # u1: Neumann problem, made non-singular by a tiny mass shift delta ~ 1e-9 / diam^2
        # (changes u1 by a relative ~1e-9 and, through the free constant, nothing in u)
        xg = V.tabulate_dof_coordinates()[:n_local][active]
        lo = np.empty(3)
        hi = np.empty(3)
        comm.Allreduce(xg.min(axis=0) if len(xg) else np.full(3, np.inf), lo, op=MPI.MIN)
        comm.Allreduce(xg.max(axis=0) if len(xg) else np.full(3, -np.inf), hi, op=MPI.MAX)
        diam = float(np.linalg.norm(hi - lo))
        delta = dolfinx.fem.Constant(mesh, PETSc.ScalarType(1e-9 / diam**2))
        self.K1 = _compat.assemble_matrix(_compat.form(a2 + delta * u * v * dxm), bcs=[bc_off])
        self.K0 = _compat.assemble_matrix(_compat.form(a2))
        bl = np.zeros(n_local, dtype=bool)
        gl = im.local_to_global(np.arange(n_local, dtype=np.int32))
        bl[np.isin(gl, gb)] = True
        self._bdofs_local = np.flatnonzero(bl).astype(np.int32)
        bc2 = _compat.dirichlet_bc(PETSc.ScalarType(0.0), np.union1d(self._bdofs_local, outside).astype(np.int32), V)
        self.K2 = _compat.assemble_matrix(_compat.form(a2), bcs=[bc2])
        self.Ms = domain.material_field("Ms")
        mt, phi = ufl.TrialFunction(self.Vm), ufl.TestFunction(self.Vm)
        self.Bm = _compat.assemble_matrix(_compat.form(self.Ms * ufl.inner(mt, ufl.grad(v)) * dxm))
        self.C = _compat.assemble_matrix(_compat.form(-ufl.inner(ufl.grad(u), phi) * dxm))
        self._inv_lumped = _inverse_lumped_mass(self.Vm, dxm)
        self.b = self.K1.createVecLeft()
        self.b2 = self.K2.createVecLeft()
        self._g = self.K0.createVecRight()
        self.ksp1 = self._lu(self.K1)
        self.ksp2 = self._lu(self.K2)
        self._ub_own = np.empty(len(self._own_rows_local))
        self._ub = np.empty(nb)
        # 64-byte aligned operands of the per-solve mat-vec: OpenBLAS takes different code paths
        # (summation orders) for differently aligned vectors, and numpy's small allocations are only
        # 16-byte aligned, so the result changed in the last bits from run to run
        self._ub_lo = _aligned_empty(nb, self.B.dtype)
        self._g_out = _aligned_empty(len(self._own_rows_local), self.B.dtype)
        self.timings = {"fem": 0.0, "bem": 0.0}
        self.setup_s = time.perf_counter() - t0

    # ------------------------------------------------------------------ setup helpers
    def _lu(self, A):
        """Sparse LU (MUMPS) of A. On several ranks the factorization is redundant (PCREDUNDANT:
        the matrix gathered onto every rank and factored there by sequential MUMPS): for the
        magnets-only Poisson problems (~1e4-1e5 dofs) this is faster than distributed MUMPS
        (4.1 vs 7.5 ms CPU per solve on the seed device at 10 nm, 2 ranks) and repeatable, while
        distributed MUMPS assembles contributions in message-arrival order and changed the last
        bits of u from run to run."""
        ksp = PETSc.KSP().create(self.comm)
        prefix = f"fem_stt_fembem_{next(_counter)}_"
        ksp.setOptionsPrefix(prefix)
        ksp.setOperators(A)
        ksp.setType("preonly")
        pc = ksp.getPC()
        if self.comm.size > 1:
            pc.setType("redundant")
            opts = PETSc.Options()
            opts[f"{prefix}redundant_pc_type"] = "lu"
            opts[f"{prefix}redundant_pc_factor_mat_solver_type"] = "mumps"
        else:
            pc.setType("lu")
            pc.setFactorSolverType("mumps")
        ksp.setFromOptions()
        try:
            ksp.setUp()
        except PETSc.Error as e:
            raise SolverError(f"FEM-BEM: LU factorization failed ({e})") from e
        return ksp

    def _boundary_triangles(self):
        """All boundary triangles of the magnetic cells, on every rank.

        Returns (tri_g (n_t, 3) global P1 dof indices, tri_x (n_t, 3, 3) corners [m]), corners
        counter-clockwise about the outward normal. A facet is a boundary facet if exactly
        one of its cells is magnetic; only facets of owned cells are inspected (their other
        cell is present as a ghost: DOLFINx's default shared-facet ghosting), then duplicates
        across ranks are removed.
        """
        dom, V = self.domain, self.V
        mesh = dom.mesh
        top = mesh.topology
        top.create_connectivity(2, 3)
        top.create_connectivity(3, 2)
        top.create_connectivity(2, 0)
        nc_own = top.index_map(3).size_local
        nc = nc_own + top.index_map(3).num_ghosts
        if self.comm.size > 1 and self.comm.allreduce(top.index_map(3).num_ghosts, op=MPI.SUM) == 0:
            raise MeshError("FEM-BEM needs a mesh distributed with ghost cells (GhostMode.shared_facet)")
        is_mag = np.zeros(nc, dtype=bool)
        is_mag[dom.cells(self.magnetic_regions)] = True
        c2f = top.connectivity(3, 2).array.reshape(-1, 4)
        f2c = top.connectivity(2, 3)
        cand = np.unique(c2f[:nc_own][is_mag[:nc_own]].ravel())
        off = f2c.offsets
        ncell = off[cand + 1] - off[cand]
        first = f2c.array[off[cand]]
        second = np.where(ncell > 1, f2c.array[np.minimum(off[cand] + 1, len(f2c.array) - 1)], -1)
        nmag = is_mag[first].astype(int) + np.where(second >= 0, is_mag[np.maximum(second, 0)], False)
        sel = nmag == 1
        facets, first, second = cand[sel], first[sel], second[sel]
        mag_cell = np.where(is_mag[first], first, second)
        # vertex -> P1 dof (P1 dof j of a cell sits at its local vertex j)
        c2v = top.connectivity(3, 0).array.reshape(-1, 4)
        cdofs = V.dofmap.list.array.reshape(-1, 4)
        v2d = np.empty(top.index_map(0).size_local + top.index_map(0).num_ghosts, dtype=np.int64)
        v2d[c2v] = cdofs
        fv = top.connectivity(2, 0).array.reshape(-1, 3)[facets]
        fd = v2d[fv]  # local dofs (n_f, 3)
        X = V.tabulate_dof_coordinates()
        px = X[fd]  # (n_f, 3, 3)
        centroid = X[cdofs[mag_cell]].mean(axis=1)
        nrm = np.cross(px[:, 1] - px[:, 0], px[:, 2] - px[:, 0])
        flip = np.einsum("ij,ij->i", nrm, px[:, 0] - centroid) < 0
        fd[flip] = fd[flip][:, [0, 2, 1]]
        px[flip] = px[flip][:, [0, 2, 1]]
        gd = V.dofmap.index_map.local_to_global(fd.ravel().astype(np.int32)).reshape(-1, 3)
        all_g = np.vstack(self.comm.allgather(gd.astype(np.int64)))
        all_x = np.vstack(self.comm.allgather(px))
        _, keep = np.unique(np.sort(all_g, axis=1), axis=0, return_index=True)
        keep = np.sort(keep)
        return all_g[keep], all_x[keep]

    def _bem_matrix(self, x_rows, g_rows, tri_g, tri_x, cols, nb, chunk_pairs, dtype):
        """Dense B rows (n_rows, n_b) for the boundary vertices this rank owns (computed in
        double precision, stored as ``dtype``)."""
        nt = len(tri_g)
        S = scipy.sparse.csr_matrix((np.ones(3 * nt), (np.arange(3 * nt), cols.ravel())), shape=(3 * nt, nb))
        ST = S.T.tocsr()
        nr = len(x_rows)
        B = np.empty((nr, nb), dtype=dtype)
        step = max(1, chunk_pairs // max(nt, 1))
        omega_i = np.empty(nr)
        for a in range(0, nr, step):
            b = min(nr, a + step)
            excl = (tri_g[None, :, :] == g_rows[a:b, None, None]).any(axis=2)
            L, om = lindholm_weights(x_rows[a:b], tri_x, excl)
            Bc = (ST @ L.reshape(b - a, 3 * nt).T).T
            omega_i[a:b] = om.sum(axis=1)
            rows = np.arange(b - a)
            Bc[rows, self._row0 + a + rows] += omega_i[a:b] / (4.0 * math.pi) - 1.0
            B[a:b] = Bc
        self.solid_angle = omega_i  # interior solid angle at my boundary rows [sr]
        return B

    # ------------------------------------------------------------------ interface
    def solve(self, m) -> dolfinx.fem.Function:
        """Compute u and H_d for the unit magnetization ``m``.

        Parameters
        ----------
        m : Function in ``Vm`` (vector P1, values (n_vertices, 3), unitless); only its values
            on magnetic cells matter.

        Returns
        -------
        H_d : Function in ``Vm`` [A/m], the lumped L2 projection of -grad u onto the
            magnetic vertices (0 elsewhere); ``self.u`` holds u = u1 + u2 [A].
        """
        t0 = time.perf_counter()
        self.Bm.mult(m.vector, self.b)
        self.ksp1.solve(self.b, self.u1.vector)
        t1 = time.perf_counter()
        u1 = self.u1.vector.array_r
        self._ub_own[:] = u1[self._own_rows_local]
        self.comm.Allgatherv(self._ub_own, [self._ub, self._counts, self._displs, MPI.DOUBLE])
        self._ub_lo[:] = self._ub
        g = np.matmul(self.B, self._ub_lo, out=self._g_out)
        t2 = time.perf_counter()
        self._g.set(0.0)
        self._g.array[self._own_rows_local] = g
        self.K0.mult(self._g, self.b2)
        self.b2.scale(-1.0)
        self.b2.array[self._own_rows_local] = g
        self.ksp2.solve(self.b2, self.u2.vector)
        if self.ksp1.getConvergedReason() < 0 or self.ksp2.getConvergedReason() < 0:
            raise SolverError("FEM-BEM: a potential solve failed")
        self.u.vector.waxpy(1.0, self.u1.vector, self.u2.vector)
        self.u.x.scatter_forward()
        self.C.mult(self.u.vector, self.H.vector)
        self.H.vector.pointwiseMult(self.H.vector, self._inv_lumped)
        self.H.x.scatter_forward()
        t3 = time.perf_counter()
        self.timings["fem"] += (t1 - t0) + (t3 - t2)
        self.timings["bem"] += t2 - t1
        return self.H
