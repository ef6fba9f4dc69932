"""A distributed DOLFINx mesh with named regions, materials and per-cell coefficients.

:class:`Domain` wraps the mesh, the cell and facet tags, the name -> tag maps (read
from the Gmsh physical names on rank 0 and broadcast, so every rank knows them), the
material of every region and, when the mesh has an open-boundary ``shell`` group, the
shell geometry used by :mod:`fem_stt.magnetostatics`.

Works the same for meshes built by :mod:`fem_stt.geometry` and for a user's own
``.msh`` with named physical groups (custom geometry): pass ``materials`` for the
user's regions; ``air`` and ``shell`` are vacuum.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, Iterable, Mapping, Optional, Sequence, Union

import numpy as np
import ufl
from mpi4py import MPI

from . import _compat
from .errors import MeshError, ParameterError
from .geometry.builder import ShellGeometry
from .geometry.shapes import AIR, SHELL
from .materials import Material, get_material

NON_MAGNETIC_GROUPS = (AIR, SHELL)


def _read_names(path: Path):
    import gmsh
    names = {2: {}, 3: {}}
    for dim, tag in gmsh.model.getPhysicalGroups():
        if dim in names:
            nm = gmsh.model.getPhysicalName(dim, tag) or f"{'cells' if dim == 3 else 'facets'}_{tag}"
            if nm in names[dim]:
                raise MeshError(f"{path}: physical name '{nm}' is used by two groups of dimension {dim}")
            names[dim][nm] = int(tag)
    return names[3], names[2]


class Domain:
    """Mesh + named regions + materials.

    Attributes
    ----------
    mesh : dolfinx.mesh.Mesh  (coordinates in metres)
    cell_tags, facet_tags : dolfinx MeshTags
    regions : dict name -> cell tag (all cell groups, incl. ``air``/``shell``)
    facet_groups : dict name -> facet tag
    materials : dict region name -> Material (every region but ``air``/``shell``)
    shell : ShellGeometry or None
    source : Path of the ``.msh``
    """

    def __init__(self, mesh, cell_tags, facet_tags, regions: Dict[str, int], facet_groups: Dict[str, int],
                 materials: Dict[str, Material], shell: Optional[ShellGeometry], source: Optional[Path] = None):
        self.mesh = mesh
        self.cell_tags = cell_tags
        self.facet_tags = facet_tags
        self.regions = dict(regions)
        self.facet_groups = dict(facet_groups)
        self.materials = dict(materials)
        self.shell = shell
        self.source = source
        self.comm = mesh.comm
        self._check_materials(self.regions, self.materials, source)
        self.dx = ufl.Measure("dx", domain=mesh, subdomain_data=cell_tags)
        self.ds = ufl.Measure("ds", domain=mesh, subdomain_data=facet_tags)
        self.dS = ufl.Measure("dS", domain=mesh, subdomain_data=facet_tags)

    @staticmethod
    def _check_materials(regions, materials, source):
        missing = [r for r in regions if r not in NON_MAGNETIC_GROUPS and r not in materials]
        if missing:
            raise ParameterError("materials", f"region(s) {missing} of {source} have no material; "
                                 f"give materials={{name: Material or library name}}")
        unknown = [r for r in materials if r not in regions]
        if unknown:
            raise ParameterError("materials", f"region(s) {unknown} are not cell groups of {source}; "
                                 f"groups: {sorted(regions)}")

    # ------------------------------------------------------------------ loading
    @classmethod
    def from_msh(cls, path: Union[str, Path], materials: Optional[Mapping[str, Union[str, Material]]] = None,
                 comm=None, length_scale: float = 1.0, required_regions: Sequence[str] = (),
                 required_facets: Sequence[str] = ()) -> "Domain":
        """Load a Gmsh ``.msh`` (built here or by the user) on ``comm``.

        Parameters
        ----------
        path : ``.msh`` file with named physical groups (3D cells; facets optional).
        materials : region name -> Material or library name; overrides/extends the
            materials of the JSON sidecar that :mod:`fem_stt.geometry` writes.
        length_scale : factor [m per file unit], e.g. 1e-9 for a file in nanometres.
        required_regions, required_facets : group names that must exist.

        Raises
        ------
        FileNotFoundError, MeshError (missing group, bad shell), ParameterError (materials).
        """
        comm = comm or MPI.COMM_WORLD
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"mesh file {path} does not exist")
        if not float(length_scale) > 0:
            raise ParameterError("length_scale", f"must be > 0 [m per file unit], got {length_scale!r}")
        side = path.with_suffix(".json")
        meta = json.loads(side.read_text()) if side.is_file() else {}
        import gmsh

        err, names = None, None
        if comm.rank == 0:
            gmsh.initialize()
            gmsh.option.setNumber("General.Terminal", 0)
            try:
                gmsh.open(str(path))
                names = _read_names(path)
                if not names[0]:
                    raise MeshError(f"{path} has no 3D physical groups: name the cell regions in Gmsh")
                req_c = [r for r in required_regions if r not in names[0]]
                req_f = [r for r in required_facets if r not in names[1]]
                if req_c or req_f:
                    raise MeshError(f"{path} lacks required physical group(s): cells {req_c}, facets {req_f}; "
                                    f"has cells {sorted(names[0])}, facets {sorted(names[1])}")
            except Exception as e:
                err = e
        err = comm.bcast(err, root=0)
        if err is not None:
            if comm.rank == 0:
                gmsh.finalize()
            raise err
        names = comm.bcast(names, root=0)
        mats = {}
        for r, d in meta.get("regions", {}).items():
            mats[r] = Material(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in d["material"].items()})
        for r, m in (materials or {}).items():
            mats[r] = get_material(m, f"materials['{r}']")
        cls._check_materials(names[0], mats, path)  # before the (expensive) mesh distribution
        try:
            mesh, ct, ft = _compat.model_to_mesh(gmsh.model, comm, 0, gdim=3)
        finally:
            if comm.rank == 0:
                gmsh.finalize()
        if length_scale != 1.0:
            mesh.geometry.x[:] *= float(length_scale)
        mesh.name = path.stem

        shell = ShellGeometry.from_dict(meta["shell"]) if meta.get("shell") and length_scale == 1.0 else None
        dom = cls(mesh, ct, ft, names[0], names[1], mats, shell, path)
        if SHELL in dom.regions and dom.shell is None:
            dom.shell = dom._infer_shell()
        return dom

    # ------------------------------------------------------------------ regions
    def cells(self, names: Union[str, Iterable[str]]) -> np.ndarray:
        """Local cell indices (owned and ghost) of the given region(s)."""
        names = [names] if isinstance(names, str) else list(names)
        for n in names:
            if n not in self.regions:
                raise ParameterError("region", f"unknown region {n!r}; regions: {sorted(self.regions)}")
        tags = [self.regions[n] for n in names]
        return np.sort(self.cell_tags.indices[np.isin(self.cell_tags.values, tags)]).astype(np.int32)

    def facets(self, name: str) -> np.ndarray:
        """Local facet indices of the named facet group."""
        if name not in self.facet_groups:
            raise ParameterError("facet group", f"unknown facet group {name!r}; groups: {sorted(self.facet_groups)}")
        return self.facet_tags.indices[self.facet_tags.values == self.facet_groups[name]].astype(np.int32)

    def measure(self, names: Union[str, Iterable[str]], **kw):
        """``dx`` restricted to the union of the named regions."""
        names = [names] if isinstance(names, str) else list(names)
        if not names:
            raise ParameterError("region", "empty region list")
        self.cells(names)  # validates
        return self.dx(tuple(self.regions[n] for n in names), **kw)

    def restricted_form(self, a, u, v, regions):
        """``a`` (a bilinear form over ``regions``) made assemblable on the whole mesh.

        Returns (form, bc, outside): ``form`` = ``a`` plus a structurally present, zero-valued
        block on the other regions (every row then has a diagonal entry); ``bc`` a zero
        Dirichlet condition on the dofs (block indices) of u's space that touch no cell of
        ``regions``, listed in ``outside``. Assembled with ``bc`` the matrix has identity rows
        there, so vectors that are zero off ``regions`` pass through unchanged.
        """
        import dolfinx.fem
        from petsc4py import PETSc
        V = u.ufl_function_space()
        others = [r for r in self.regions if r not in regions]
        if others:
            zero = dolfinx.fem.Constant(self.mesh, PETSc.ScalarType(0.0))
            a = a + zero * ufl.inner(u, v) * self.measure(others)
        im = V.dofmap.index_map
        inside = np.zeros(im.size_local + im.num_ghosts, dtype=bool)
        inside[_compat.locate_dofs_topological(V, 3, self.cells(regions))] = True
        outside = np.flatnonzero(~inside).astype(np.int32)
        return a, dolfinx.fem.dirichletbc(dolfinx.fem.Function(V), outside), outside

    @property
    def magnetic_regions(self) -> list:
        """Names of the regions whose material has Ms > 0, in tag order."""
        return [r for r, _ in sorted(self.regions.items(), key=lambda kv: kv[1])
                if r in self.materials and self.materials[r].magnetic]

    def dg0(self, values: Mapping[str, float], default: float = 0.0, name: str = "coefficient"):
        """Piecewise-constant (DG0) function with ``values[region]`` on each region."""
        import dolfinx.fem
        V = _compat.function_space(self.mesh, "DG", 0)
        f = dolfinx.fem.Function(V, name=name)
        f.x.array[:] = default
        for r, v in values.items():
            f.x.array[self.cells(r)] = v
        f.x.scatter_forward()
        return f

    def material_field(self, attribute: str, name: Optional[str] = None):
        """DG0 function of a material attribute (e.g. ``"Ms"``), 0 in air and shell."""
        return self.dg0({r: getattr(m, attribute) for r, m in self.materials.items()}, name=name or attribute)

    def volume(self, names: Union[str, Iterable[str]]) -> float:
        """Volume [m^3] of the union of the named regions (global over ranks)."""
        import dolfinx.fem
        val = dolfinx.fem.assemble_scalar(_compat.form(1.0 * self.measure(names)))
        return self.comm.allreduce(val, op=MPI.SUM)

    def num_cells_global(self) -> int:
        return self.mesh.topology.index_map(3).size_global

    def check_magnets_inside(self):
        """Raise MeshError if a magnetic cell touches the mesh's outer boundary."""
        mags = self.magnetic_regions
        if not mags:
            return
        facets = _compat.exterior_facets(self.mesh)
        f2c = self.mesh.topology.connectivity(2, 3)
        mag_cells = np.zeros(self.mesh.topology.index_map(3).size_local + self.mesh.topology.index_map(3).num_ghosts,
                             dtype=bool)
        mag_cells[self.cells(mags)] = True
        touching = int(any(mag_cells[f2c.links(f)].any() for f in facets))
        if self.comm.allreduce(touching, op=MPI.MAX):
            raise MeshError(f"{self.source}: a magnetic region ({mags}) touches the outer boundary of the mesh; "
                            f"surround the magnets by a non-magnetic region and an open-boundary '{SHELL}'")

    def _infer_shell(self) -> ShellGeometry:
        """Infer the shell (box or sphere, centre, inner size, ratio) of a user mesh from its vertices."""
        x = self.mesh.geometry.x
        dofmap = self.mesh.geometry.dofmap
        shell_cells = self.cells(SHELL)
        # the shell's inner boundary: vertices shared by shell cells and air cells (or any other cells)
        other = self.cells(AIR if AIR in self.regions else [r for r in self.regions if r != SHELL])
        cell_nodes = dofmap.array.reshape(-1, 4)
        vs = np.unique(cell_nodes[shell_cells].ravel())
        vo = np.intersect1d(vs, np.unique(cell_nodes[other].ravel()))
        xs, xo = x[vs], x[vo]
        comm = self.comm

        def gmin(a):  # elementwise over ranks (buffer Allreduce; pickled allreduce is not elementwise)
            out = np.empty(3)
            comm.Allreduce(np.ascontiguousarray(a.min(axis=0) if len(a) else np.full(3, np.inf)), out, op=MPI.MIN)
            return out

        def gmax(a):
            out = np.empty(3)
            comm.Allreduce(np.ascontiguousarray(a.max(axis=0) if len(a) else np.full(3, -np.inf)), out, op=MPI.MAX)
            return out
        lo, hi = np.minimum(gmin(xs), gmin(xo)), np.maximum(gmax(xs), gmax(xo))
        c = 0.5 * (lo + hi)
        b = 0.5 * (hi - lo)
        R2 = comm.allreduce(np.linalg.norm(xs - c, axis=1).max() if len(xs) else 0.0, op=MPI.MAX)
        tol = 1e-6
        if abs(R2 - np.linalg.norm(b)) <= tol * R2:
            a = np.maximum(np.abs(gmin(xo) - c), np.abs(gmax(xo) - c))
            ratios = b / a
            if np.ptp(ratios) > 1e-4 * ratios.mean():
                raise MeshError(f"{self.source}: the outer box of '{SHELL}' must be its inner box scaled by one factor "
                                f"about the centre; ratios per axis {ratios}")
            shell = ShellGeometry("box", tuple(c), tuple(a), float(ratios.mean()))
        else:
            R1 = comm.allreduce(np.linalg.norm(xo - c, axis=1).max() if len(xo) else 0.0, op=MPI.MAX)
            shell = ShellGeometry("sphere", tuple(c), (R1, R1, R1), float(R2 / R1))
        if not shell.ratio > 1.0 + 1e-6:
            raise MeshError(f"{self.source}: could not identify a '{SHELL}' around the other regions")
        return shell
