r"""Thin-film constraint: m uniform through the thickness of an extruded magnetic layer.

On a mesh made by extruding one triangulation through a layer's thickness
(:class:`fem_stt.geometry.stack.LayerStack` with ``extruded=True``), the magnetic vertices with
the same (x, y) in one magnetic region form a *column*. The constrained space

    V_c = { m in (P1)^3 : m_i = m_j whenever vertices i and j are in one column } = C V_col,

with C the (n_vertices x n_columns) 0/1 column-incidence matrix, is the finite-element form of
the thin-film approximation m = m(x, y) (the same assumption as a finite-difference grid one
cell thick, e.g. OOMMF and magnum.np on muMAG SP4). The Galerkin restriction of the LLG
tangent-plane step (:mod:`fem_stt.llg.integrator`) to column-uniform velocities v = C v_c is

    C^T (W + theta k K_ex) C v_c = C^T F,

i.e. column sums of the lumped weights W and of the nodal forces F [J], and the column
stiffness K_col = C^T K_ex C, which holds the in-plane exchange (2A int_layer grad_xy m .
grad_xy phi) and none of the exchange modes across the thickness (stiffness ~ 2A/(mu0 Ms dz^2),
dz the cell height), which otherwise set the conditioning and, with an error-controlled step,
the step size. The stray field is still the 3D potential on the whole mesh, so its resolution
through the thickness (several cells) is kept. The approximation is exact for m independent
of z and is the usual one for films thinner than the exchange length sqrt(2A/(mu0 Ms^2)).
"""
from __future__ import annotations

import numpy as np
from mpi4py import MPI
from petsc4py import PETSc

from ..errors import ParameterError


class VertexColumns:
    """The columns of the magnetic vertices of an extruded mesh, and the matrices that sum over
    them and copy column values to their vertices.

    Parameters
    ----------
    mv : :class:`fem_stt.llg.field.MagneticVertices`

    Attributes
    ----------
    n_owned, n_global : columns owned by this rank, in all
    r0 : global index of this rank's first column
    rep : (n_owned,) local index of each owned column's representative vertex (owned by this rank)
    vertex_count : (n_owned,) vertices per owned column
    column_of : (n_owned vertices,) global index of each owned vertex's column, -1 off the magnets
    weight : (n_owned,) column sums of ``mv.w_Ms`` [T m^3]

    Raises
    ------
    ParameterError (``thin_film``) if a magnetic vertex belongs to two magnetic regions, if a column
    has a single vertex (the mesh is not extruded through the layer) or if the columns of one region
    hold different numbers of vertices (not one triangulation extruded).
    """

    def __init__(self, mv):
        self.mv = mv
        comm = self.comm = mv.domain.comm
        no = mv.n_owned
        im = mv.V1.dofmap.index_map
        g0 = im.local_range[0]
        act = mv.active[:no]
        member = np.column_stack([mv.region_weights[r][:no] > 0 for r in mv.regions])
        both = act & (member.sum(axis=1) > 1)
        x = mv.V1.tabulate_dof_coordinates()[:no]
        if comm.allreduce(int(both.any()), op=MPI.MAX):
            where = f" (e.g. at x = {x[np.flatnonzero(both)[0]]} m)" if both.any() else ""
            raise ParameterError("thin_film", "needs magnetic regions that do not touch: a vertex belongs to two "
                                              f"magnetic regions{where}")
        own = np.flatnonzero(act)
        region = np.argmax(member[own], axis=1)
        # all ranks group the same gathered list: (global vertex index, rank, region, x, y)
        lo, hi = np.empty(3), np.empty(3)
        comm.Allreduce(x[own].min(axis=0) if len(own) else np.full(3, np.inf), lo, op=MPI.MIN)
        comm.Allreduce(x[own].max(axis=0) if len(own) else np.full(3, -np.inf), hi, op=MPI.MAX)
        L = float(np.max(hi - lo)) if np.all(np.isfinite(hi - lo)) else 0.0
        q = 1e-9 * (L or 1.0)  # x, y of an extruded column are copies (to round-off); round far below any cell
        key = np.column_stack([region, np.rint(x[own, 0] / q), np.rint(x[own, 1] / q)]).astype(np.int64)
        parts = comm.allgather((g0 + own, key))
        gid = np.concatenate([p[0] for p in parts])
        rank = np.concatenate([np.full(len(p[0]), r) for r, p in enumerate(parts)])
        keys = np.concatenate([p[1] for p in parts]) if len(gid) else np.zeros((0, 3), dtype=np.int64)
        order = np.argsort(gid, kind="stable")
        gid, rank, keys = gid[order], rank[order], keys[order]
        _, col, count = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
        col = col.ravel()
        ncol = len(count)
        if ncol and count.min() < 2:
            i = int(np.flatnonzero(count[col] < 2)[0])
            raise ParameterError("thin_film", "needs a mesh extruded through each magnetic layer (LayerStack("
                                              f"extruded=True)): {int((count < 2).sum())} of {ncol} vertex columns "
                                              f"hold a single vertex (e.g. global vertex {gid[i]})")
        for reg in np.unique(keys[:, 0]):
            c = count[np.unique(col[keys[:, 0] == reg])]
            if c.min() != c.max():
                raise ParameterError("thin_film", f"magnetic region '{mv.regions[reg]}': its vertex columns hold "
                                                  f"{c.min()} to {c.max()} vertices; the constraint needs one "
                                                  "triangulation extruded through the layer")
        # representative: the column's lowest global vertex index (gid is sorted, so the first
        # occurrence); the column is owned by that vertex's rank, numbered rank by rank
        first = np.full(ncol, len(gid))
        np.minimum.at(first, col, np.arange(len(gid)))
        owner = rank[first]
        new = np.lexsort((gid[first], owner))  # new numbering -> old column id
        number = np.empty(ncol, dtype=np.int64)
        number[new] = np.arange(ncol)
        mine = owner[new] == comm.rank
        self.n_global = ncol
        self.n_owned = int(mine.sum())
        self.r0 = int(np.searchsorted(owner[new], comm.rank))
        self.rep = (gid[first[new[mine]]] - g0).astype(np.int64)
        self.vertex_count = count[new[mine]]
        # column (global number) of every owned magnetic vertex of this rank
        sel = rank == comm.rank
        self.column_of = np.full(no, -1, dtype=np.int64)
        self.column_of[gid[sel] - g0] = number[col[sel]]
        self._mats = {}
        self.weight = self.sum(mv.w_Ms[:no, None])[:, 0]

    def matrix(self, bs: int) -> PETSc.Mat:
        """C (x) I_bs: (bs n_vertices) x (bs n_columns) PETSc AIJ, rows of owned vertices (zero rows off
        the magnets), built on first use."""
        if bs not in self._mats:
            no = len(self.column_of)
            rows = np.flatnonzero(self.column_of >= 0)
            nnz = np.zeros(bs * no, dtype=np.int64)
            for d in range(bs):
                nnz[bs * rows + d] = 1
            indptr = np.concatenate([[0], np.cumsum(nnz)]).astype(PETSc.IntType)
            cols = (bs * self.column_of[rows][:, None] + np.arange(bs)).ravel().astype(PETSc.IntType)
            C = PETSc.Mat().createAIJ(size=((bs * no, PETSc.DETERMINE), (bs * self.n_owned, bs * self.n_global)),
                                      csr=(indptr, cols, np.ones(len(cols))), comm=self.comm)
            C.assemble()
            self._mats[bs] = (C, C.createVecRight(), C.createVecLeft())
        return self._mats[bs][0]

    def _apply(self, a: np.ndarray, transpose: bool) -> np.ndarray:
        a = np.asarray(a, dtype=float)
        bs = a.shape[1]
        C, xc, xv = self.matrix(bs), *self._mats[bs][1:]
        src, dst = (xv, xc) if transpose else (xc, xv)
        src.array[:] = a.ravel()
        (C.multTranspose if transpose else C.mult)(src, dst)
        return dst.array.reshape(-1, bs).copy()

    def sum(self, a: np.ndarray) -> np.ndarray:
        """Column sums C^T a of per-vertex values a (n_owned vertices, bs) -> (n_owned columns, bs). Collective."""
        return self._apply(a, transpose=True)

    def spread(self, ac: np.ndarray) -> np.ndarray:
        """Column values copied to their vertices, C a_c: (n_owned columns, bs) -> (n_owned vertices, bs)
        (0 off the magnets). Collective."""
        return self._apply(ac, transpose=False)

    def uniform(self, a: np.ndarray) -> np.ndarray:
        """Per-vertex values (n_owned, bs) made column-uniform by copying each representative's value. Collective."""
        return self.spread(np.asarray(a)[self.rep])

    def average(self, F: np.ndarray) -> np.ndarray:
        """Nodal forces F (n_owned vertices, 3) [J] redistributed over each column in proportion to the
        vertex weights w_i = ``mv.w_Ms``: w_i (sum_col F)/``weight``. Column sums are unchanged and
        F_i/w_i (the nodal field) becomes the column's weighted mean field. Collective."""
        w = self.mv.w_Ms[: len(self.column_of)]
        return w[:, None] * self.spread(self.sum(F) / self.weight[:, None])
