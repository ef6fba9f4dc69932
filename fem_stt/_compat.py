"""Every DOLFINx-version-specific call lives here (written against DOLFINx 0.5.2).

Newer DOLFINx (0.9+) renames ``FunctionSpace(mesh, ("CG", 1))`` to
``functionspace(mesh, ("Lagrange", 1))``, moves ``dolfinx.io.gmshio`` to
``dolfinx.io.gmsh`` and adds ``petsc_options_prefix``; adapt only this module.
"""
from __future__ import annotations

import dolfinx
import dolfinx.fem
import dolfinx.fem.petsc
import dolfinx.mesh
import numpy as np
from petsc4py import PETSc

DOLFINX_VERSION = tuple(int(x) for x in dolfinx.__version__.split(".")[:2])


def function_space(mesh, family: str, degree: int, shape=None):
    """Scalar (``shape=None``) or vector (``shape=(3,)``) function space."""
    if DOLFINX_VERSION >= (0, 8):
        el = (family, degree) if shape is None else (family, degree, shape)
        return dolfinx.fem.functionspace(mesh, el)
    fam = {"Lagrange": "CG", "P": "CG"}.get(family, family)
    if shape is None:
        return dolfinx.fem.FunctionSpace(mesh, (fam, degree))
    return dolfinx.fem.VectorFunctionSpace(mesh, (fam, degree), dim=shape[0])


def coordinate_bisection(points: np.ndarray, nparts: int) -> np.ndarray:
    """Recursive coordinate bisection: part index (0..nparts-1) of each point, (n,) int32.

    Each split halves (in proportion to the part counts on either side) along the axis of
    largest extent, with a stable sort, so the result depends only on the points: the same
    mesh is distributed the same way on every run (Debian's SCOTCH is not repeatable; the
    round-off differences of another partition grow in chaotic magnetization dynamics)."""
    out = np.zeros(len(points), dtype=np.int32)

    def split(idx, n, first):
        if n == 1 or len(idx) == 0:
            out[idx] = first
            return
        ax = int(np.argmax(np.ptp(points[idx], axis=0)))
        order = idx[np.argsort(points[idx, ax], kind="stable")]
        n1 = n // 2
        cut = int(round(len(order) * n1 / n))
        split(order[:cut], n1, first)
        split(order[cut:], n - n1, first + n1)

    split(np.arange(len(points)), int(nparts), 0)
    return out


def _fixed_partitioner(owner: np.ndarray):
    """A DOLFINx cell partitioner returning the precomputed ``owner`` of each cell (rank that
    holds the cells: all of them; other ranks: none), plus, when ghosting, the ranks of the
    cell's facet neighbours (the shared-facet ghost layer), as DOLFINx's own partitioners do."""
    import dolfinx.cpp.graph as cgraph

    def part(comm, nparts, graph, ghosting):
        n = graph.num_nodes
        if n == 0:
            return cgraph.AdjacencyList_int32(np.zeros(0, np.int32), np.zeros(1, np.int32))
        if len(owner) != n:
            raise RuntimeError("partitioner: cell count differs from the precomputed partition")
        if not ghosting:
            return cgraph.AdjacencyList_int32(owner.astype(np.int32))
        off, nb = graph.offsets, graph.array  # all cells are on this rank: global = local index
        src = np.repeat(np.arange(n), np.diff(off))
        po = owner[nb]
        mask = po != owner[src]
        pairs = np.unique(np.column_stack([src[mask], po[mask]]), axis=0)  # (cell, ghost rank), sorted
        offs = np.concatenate([[0], np.cumsum(np.bincount(pairs[:, 0], minlength=n) + 1)]).astype(np.int32)
        data = np.empty(offs[-1], np.int32)
        data[offs[:-1]] = owner
        rank_in_cell = np.arange(len(pairs)) - np.searchsorted(pairs[:, 0], pairs[:, 0])
        data[offs[pairs[:, 0]] + 1 + rank_in_cell] = pairs[:, 1]
        return cgraph.AdjacencyList_int32(data, offs)
    return part


def model_to_mesh(model, comm, rank: int, gdim: int = 3):
    """Gmsh model on ``rank`` -> (mesh, cell_tags, facet_tags), distributed by recursive
    coordinate bisection of the cell centroids (:func:`coordinate_bisection`): repeatable."""
    if comm.size == 1:  # nothing to partition
        partitioner = dolfinx.mesh.create_cell_partitioner()
    else:
        owner = np.zeros(0, dtype=np.int32)
        if comm.rank == rank:
            from dolfinx.io import gmshio as _g
            x = _g.extract_geometry(model)
            top = _g.extract_topology_and_markers(model)
            cell_type = max(top, key=lambda e: model.mesh.getElementProperties(e)[1])  # highest dimension
            cells = np.asarray(top[cell_type]["topology"], dtype=np.int64)
            owner = coordinate_bisection(x[cells].mean(axis=1), comm.size)
        partitioner = dolfinx.mesh.create_cell_partitioner(_fixed_partitioner(owner))
    if DOLFINX_VERSION >= (0, 9):
        from dolfinx.io import gmsh as gmshio
        data = gmshio.model_to_mesh(model, comm, rank, gdim=gdim, partitioner=partitioner)
        return data.mesh, data.cell_tags, data.facet_tags
    from dolfinx.io import gmshio
    if DOLFINX_VERSION >= (0, 6):
        return gmshio.model_to_mesh(model, comm, rank, gdim=gdim, partitioner=partitioner)
    # 0.5: model_to_mesh has no partitioner argument; hand it to the create_mesh it calls
    create_mesh = gmshio.create_mesh
    gmshio.create_mesh = lambda *a, **k: create_mesh(*a, partitioner=partitioner, **k)
    try:
        return gmshio.model_to_mesh(model, comm, rank, gdim=gdim)
    finally:
        gmshio.create_mesh = create_mesh


def form(a, **kw):
    return dolfinx.fem.form(a, **kw)


def assemble_matrix(a, bcs=()):
    A = dolfinx.fem.petsc.assemble_matrix(a, bcs=list(bcs))
    A.assemble()
    return A



def assemble_vector(L):
    return dolfinx.fem.petsc.assemble_vector(L)


def create_matrix(a):
    """Matrix with the sparsity of the compiled form ``a`` (values unset)."""
    return dolfinx.fem.petsc.create_matrix(a)


def assemble_matrix_into(A, a, bcs=()):
    """Re-assemble ``a`` into the existing matrix ``A`` (same sparsity); identity rows for ``bcs``."""
    A.zeroEntries()
    dolfinx.fem.petsc.assemble_matrix(A, a, bcs=list(bcs))
    A.assemble()
    return A


def assemble_vector_into(b, L, bcs=()):
    """Re-assemble ``L`` into ``b``, add ghost contributions, and set the ``bcs`` values."""
    with b.localForm() as loc:
        loc.set(0.0)
    dolfinx.fem.petsc.assemble_vector(b, L)
    b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
    if bcs:
        dolfinx.fem.petsc.set_bc(b, list(bcs))
    return b


def assemble_vector_local(L) -> np.ndarray:
    """Assemble the linear form ``L``; return this rank's owned + ghost values (ghost contributions
    summed onto their owners, then the owners' totals copied back to the ghosts)."""
    vec = dolfinx.fem.petsc.assemble_vector(L)
    vec.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
    vec.ghostUpdate(addv=PETSc.InsertMode.INSERT, mode=PETSc.ScatterMode.FORWARD)
    with vec.localForm() as loc:
        out = loc.array.copy()
    vec.destroy()
    return out


def locate_dofs_topological(V, dim, entities):
    return dolfinx.fem.locate_dofs_topological(V, dim, entities)


def dirichlet_bc(value, dofs, V):
    return dolfinx.fem.dirichletbc(value, dofs, V)


def exterior_facets(mesh) -> np.ndarray:
    mesh.topology.create_connectivity(mesh.topology.dim - 1, mesh.topology.dim)
    return dolfinx.mesh.exterior_facet_indices(mesh.topology)



def xdmf_file(comm, path, mode="w"):
    from dolfinx.io import XDMFFile
    return XDMFFile(comm, str(path), mode)
