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


def model_to_mesh(model, comm, rank: int, gdim: int = 3):
    """Gmsh model on ``rank`` -> (mesh, cell_tags, facet_tags)."""
    if DOLFINX_VERSION >= (0, 9):
        from dolfinx.io import gmsh as gmshio
        data = gmshio.model_to_mesh(model, comm, rank, gdim=gdim)
        return data.mesh, data.cell_tags, data.facet_tags
    from dolfinx.io import gmshio
    return gmshio.model_to_mesh(model, comm, rank, gdim=gdim)


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
