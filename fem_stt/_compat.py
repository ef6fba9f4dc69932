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


def create_matrix(a, blocked: bool = False):
    """Matrix with the sparsity of the compiled form ``a`` (values unset). ``blocked``: ask
    DOLFINx for its block-structured ("baij") creation path; for vector P1 spaces (block size 3)
    re-assembly inserts 3 x 3 blocks and costs ~1/3 of the default (same values)."""
    return dolfinx.fem.petsc.create_matrix(a, "baij") if blocked else dolfinx.fem.petsc.create_matrix(a)


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


# ---------------------------------------------------------------------------- added for fem_stt.quantum.qdd
def interval_mesh(comm, vertices):
    """1D mesh whose vertices are the sorted coordinates ``vertices`` (a uniform interval mesh
    whose vertex i is moved to ``vertices[i]``)."""
    v = np.asarray(vertices, dtype=float)
    mesh = dolfinx.mesh.create_interval(comm, len(v) - 1, [v[0], v[-1]])
    x = mesh.geometry.x
    i = np.rint((x[:, 0] - v[0]) / (v[-1] - v[0]) * (len(v) - 1)).astype(np.int64)
    x[:, 0] = v[np.clip(i, 0, len(v) - 1)]
    return mesh


def meshtags(mesh, dim: int, indices, values):
    """MeshTags of dimension ``dim`` (indices sorted here)."""
    indices = np.asarray(indices, dtype=np.int32)
    values = np.asarray(values, dtype=np.int32)
    order = np.argsort(indices)
    return dolfinx.mesh.meshtags(mesh, dim, indices[order], values[order])


def locate_entities_boundary(mesh, dim: int, marker):
    mesh.topology.create_connectivity(dim, mesh.topology.dim)
    return dolfinx.mesh.locate_entities_boundary(mesh, dim, marker)


def mixed_space(mesh, parts):
    """Mixed space of ``parts`` = [(family, degree, shape or None), ...] (e.g. two [P2]^3 blocks)."""
    if DOLFINX_VERSION >= (0, 8):
        import basix.ufl
        els = [basix.ufl.element(f, mesh.basix_cell(), d, shape=s) for f, d, s in parts]
        return dolfinx.fem.functionspace(mesh, basix.ufl.mixed_element(els))
    import ufl
    cell = mesh.ufl_cell()
    els = [ufl.FiniteElement(f, cell, d) if s is None else ufl.VectorElement(f, cell, d, dim=s[0])
           for f, d, s in parts]
    return dolfinx.fem.FunctionSpace(mesh, ufl.MixedElement(els))


def collapse(V):
    """(collapsed space, dofs of the sub-space in the parent, int32 array) of a sub-space ``V``."""
    Vc, dofs = V.collapse()
    return Vc, np.asarray(dofs, dtype=np.int32)


def locate_sub_dofs(V_sub, V_collapsed, dim: int, entities):
    """Dofs of a sub-space on ``entities``: (dofs in the parent, dofs in the collapsed space)."""
    return dolfinx.fem.locate_dofs_topological((V_sub, V_collapsed), dim, entities)


def create_vector(L):
    return dolfinx.fem.petsc.create_vector(L)


def assemble_scalar(M, comm) -> float:
    """Assemble the functional ``M`` (a compiled form) and sum over ``comm``."""
    from mpi4py import MPI
    return comm.allreduce(dolfinx.fem.assemble_scalar(M), op=MPI.SUM)


class NonlinearForms:
    """Residual and Jacobian callbacks for a PETSc SNES on DOLFINx forms.

    ``F`` is the residual form in ``u``, ``J`` its Jacobian form; Dirichlet conditions ``bcs``
    are imposed by lifting (the residual at a constrained dof is ``u - g``).
    """

    def __init__(self, F, J, u, bcs=()):
        self.L, self.a, self.u, self.bcs = form(F), form(J), u, list(bcs)
        self.b = create_vector(self.L)
        self.A = create_matrix(self.a)

    def residual(self, snes, x, b):
        x.ghostUpdate(addv=PETSc.InsertMode.INSERT, mode=PETSc.ScatterMode.FORWARD)
        x.copy(self.u.vector)
        self.u.x.scatter_forward()
        with b.localForm() as loc:
            loc.set(0.0)
        dolfinx.fem.petsc.assemble_vector(b, self.L)
        dolfinx.fem.petsc.apply_lifting(b, [self.a], bcs=[self.bcs], x0=[x], scale=-1.0)
        b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
        dolfinx.fem.petsc.set_bc(b, self.bcs, x, -1.0)

    def jacobian(self, snes, x, A, P):
        A.zeroEntries()
        dolfinx.fem.petsc.assemble_matrix(A, self.a, bcs=self.bcs)
        A.assemble()


def eval_points(f, points) -> np.ndarray:
    """Values of ``f`` at ``points`` (n, 3) on every rank (any cell type and dimension); NaN where
    no owned cell holds the point. Collective."""
    import dolfinx.geometry
    mesh = f.function_space.mesh
    tdim = mesh.topology.dim
    points = np.ascontiguousarray(points, dtype=np.float64)
    tree = dolfinx.geometry.BoundingBoxTree(mesh, tdim)
    cand = dolfinx.geometry.compute_collisions(tree, points)
    cells = dolfinx.geometry.compute_colliding_cells(mesh, cand, points)
    bs = int(np.prod(f.ufl_shape)) if f.ufl_shape else 1
    nloc = mesh.topology.index_map(tdim).size_local
    local = np.full((len(points), bs), np.nan)
    idx, cl = [], []
    for i in range(len(points)):
        links = cells.links(i)
        links = links[links < nloc]
        if len(links):
            idx.append(i)
            cl.append(links[0])
    if idx:
        local[idx] = f.eval(points[idx], np.array(cl, dtype=np.int32)).reshape(len(idx), bs)
    out = np.full_like(local, np.nan)
    for a in mesh.comm.allgather(local):
        mask = np.isnan(out[:, 0]) & ~np.isnan(a[:, 0])
        out[mask] = a[mask]
    return out


def interpolate_expression(f, expr):
    """Interpolate the UFL expression ``expr`` into the Function ``f`` (at its space's points)."""
    pts = f.function_space.element.interpolation_points
    pts = pts() if callable(pts) else pts
    f.interpolate(dolfinx.fem.Expression(expr, pts))
    f.x.scatter_forward()
    return f
