"""Channel meshes of a 2D electron gas: 1D intervals and 2D Gmsh meshes with named contacts and walls.

A :class:`Channel` is the QDD counterpart of :class:`fem_stt.domain.Domain` for 1D/2D
meshes: the DOLFINx mesh, its facet tags and the name -> tag map of the facet groups
(read from the Gmsh physical names on rank 0 and broadcast). Coordinates are in the
length unit of the model that uses the channel (the paper's scaled units, x / x0, for
the solvers of this package; :class:`~fem_stt.quantum.qdd.device.RashbaChannel` builds
them from SI sizes).

Facet groups of the built meshes:

- ``source`` (x = 0) and ``drain`` (x = L): ohmic contacts;
- ``walls`` (2D only: y = 0 and y = W): insulating walls.

A user's ``.msh`` (2D triangles, named 1D physical groups) loads with
:meth:`Channel.from_msh`; every boundary facet that is in no Dirichlet group is a wall.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, Optional, Sequence, Union

import numpy as np
import ufl
from mpi4py import MPI

from ... import _compat
from ...errors import MeshError, ParameterError, require_positive
from ...geometry.builder import gmsh_session

SOURCE, DRAIN, WALLS = "source", "drain", "walls"


class Channel:
    """A 1D or 2D mesh with named facet groups.

    Attributes
    ----------
    mesh : dolfinx.mesh.Mesh (tdim 1 or 2)
    facet_tags : MeshTags of dimension tdim - 1
    facet_groups : dict name -> facet tag
    length, width : extent along x and y (width 0 in 1D)
    comm, tdim, ds (facet measure with the tags), dx
    """

    def __init__(self, mesh, facet_tags, facet_groups: Dict[str, int], source: Optional[Path] = None):
        self.mesh = mesh
        self.facet_tags = facet_tags
        self.facet_groups = dict(facet_groups)
        self.source = source
        self.comm = mesh.comm
        self.tdim = mesh.topology.dim
        if self.tdim not in (1, 2):
            raise MeshError(f"a channel mesh must be 1D or 2D, got a {self.tdim}D mesh ({source})")
        self.dx = ufl.Measure("dx", domain=mesh)
        self.ds = ufl.Measure("ds", domain=mesh, subdomain_data=facet_tags)
        x = mesh.geometry.x
        lo, hi = np.empty(3), np.empty(3)  # elementwise over ranks (buffer Allreduce)
        self.comm.Allreduce(np.ascontiguousarray(x.min(axis=0) if len(x) else np.full(3, np.inf)), lo, op=MPI.MIN)
        self.comm.Allreduce(np.ascontiguousarray(x.max(axis=0) if len(x) else np.full(3, -np.inf)), hi, op=MPI.MAX)
        self.bounds = (lo, hi)
        self.length = float(hi[0] - lo[0])
        self.width = float(hi[1] - lo[1]) if self.tdim == 2 else 0.0

    # ------------------------------------------------------------------ construction
    @classmethod
    def interval(cls, length: float, cells: Optional[int] = None, vertices: Optional[Sequence[float]] = None,
                 comm=None) -> "Channel":
        """1D channel [0, length] with ``cells`` uniform cells or the given sorted ``vertices``.

        Facet groups ``source`` (x = 0) and ``drain`` (x = length).
        Raises ParameterError for a non-positive length, fewer than 2 cells, or unsorted vertices.
        """
        comm = comm or MPI.COMM_WORLD
        L = require_positive("length", length)
        if vertices is None:
            if cells is None or int(cells) < 2:
                raise ParameterError("cells", f"give cells >= 2 (or vertices), got {cells!r}")
            vertices = np.linspace(0.0, L, int(cells) + 1)
        v = np.asarray(vertices, dtype=float)
        if v.ndim != 1 or len(v) < 3 or not np.all(np.diff(v) > 0) or abs(v[0]) > 1e-14 * L \
                or abs(v[-1] - L) > 1e-12 * L:
            raise ParameterError("vertices", "must be a strictly increasing sequence from 0 to length (>= 3 points)")
        mesh = _compat.interval_mesh(comm, v)
        tol = 1e-9 * L
        left = _compat.locate_entities_boundary(mesh, 0, lambda x: np.abs(x[0]) < tol)
        right = _compat.locate_entities_boundary(mesh, 0, lambda x: np.abs(x[0] - L) < tol)
        tags = _compat.meshtags(mesh, 0, np.concatenate([left, right]),
                                np.concatenate([np.full(len(left), 1), np.full(len(right), 2)]))
        return cls(mesh, tags, {SOURCE: 1, DRAIN: 2})

    @classmethod
    def graded_interval(cls, length: float, h_max: float, h_min: float, refine_at: Sequence[float] = (),
                        width: float = 0.0, comm=None) -> "Channel":
        """1D channel with cell size ``h_min`` within ``width`` of the points ``refine_at`` (and
        growing linearly, slope 1/4, to ``h_max`` away from them). For boundary and barrier layers."""
        L = require_positive("length", length)
        hM, hm = require_positive("h_max", h_max), require_positive("h_min", h_min)

        def size(x):
            d = np.min([np.abs(x - p) for p in refine_at], axis=0) if len(refine_at) else np.full_like(x, np.inf)
            return np.clip(hm + 0.25 * np.maximum(d - width, 0.0), hm, hM)
        pts = [0.0]
        while pts[-1] < L:
            pts.append(pts[-1] + float(size(np.array([pts[-1]]))[0]))
        v = np.array(pts)
        v *= L / v[-1]
        return cls.interval(L, vertices=v, comm=comm)

    @classmethod
    def rectangle(cls, length: float, width: float, mesh_size: float, structured: bool = True,
                  path: Union[str, Path, None] = None, comm=None) -> "Channel":
        """2D channel [0, length] x [0, width] meshed by Gmsh on rank 0 and distributed.

        ``structured=True``: a transfinite grid of right triangles with alternating diagonals
        (even number of rows, so the mesh is symmetric about y = width/2); otherwise an
        unstructured Delaunay mesh. Physical groups: cells ``channel``, facets ``source``
        (x = 0), ``drain`` (x = length), ``walls`` (y = 0, y = width). ``path``: also write the
        ``.msh`` there (rank 0).
        """
        comm = comm or MPI.COMM_WORLD
        L, W = require_positive("length", length), require_positive("width", width)
        h = require_positive("mesh_size", mesh_size)
        if h > min(L, W):
            raise ParameterError("mesh_size", f"must be <= min(length, width) = {min(L, W):g}, got {h:g}")
        nx = max(2, int(round(L / h)))
        ny = max(2, 2 * int(round(W / h / 2)))
        import gmsh
        with gmsh_session():
            if comm.rank == 0:
                gmsh.model.add("channel")
                geo = gmsh.model.geo
                p = [geo.addPoint(0, 0, 0, h), geo.addPoint(L, 0, 0, h), geo.addPoint(L, W, 0, h),
                     geo.addPoint(0, W, 0, h)]
                bottom, right, top, left = (geo.addLine(p[0], p[1]), geo.addLine(p[1], p[2]),
                                            geo.addLine(p[2], p[3]), geo.addLine(p[3], p[0]))
                loop = geo.addCurveLoop([bottom, right, top, left])
                surf = geo.addPlaneSurface([loop])
                if structured:
                    for ln, n in ((bottom, nx), (top, nx), (left, ny), (right, ny)):
                        geo.mesh.setTransfiniteCurve(ln, n + 1)
                    geo.mesh.setTransfiniteSurface(surf, "Alternate")
                geo.synchronize()
                gmsh.model.addPhysicalGroup(2, [surf], 1)
                gmsh.model.setPhysicalName(2, 1, "channel")
                for tag, (name, lines) in enumerate(((SOURCE, [left]), (DRAIN, [right]), (WALLS, [bottom, top])), 1):
                    gmsh.model.addPhysicalGroup(1, lines, tag)
                    gmsh.model.setPhysicalName(1, tag, name)
                gmsh.model.mesh.generate(2)
                if path is not None:
                    Path(path).parent.mkdir(parents=True, exist_ok=True)
                    gmsh.write(str(path))
            mesh, _, ft = _compat.model_to_mesh(gmsh.model, comm, 0, gdim=2)
        return cls(mesh, ft, {SOURCE: 1, DRAIN: 2, WALLS: 3}, Path(path) if path else None)

    @classmethod
    def from_msh(cls, path: Union[str, Path], required_facets: Sequence[str] = (SOURCE, DRAIN),
                 length_scale: float = 1.0, comm=None) -> "Channel":
        """Load a 2D Gmsh ``.msh`` with named 1D physical groups (contacts, walls).

        ``length_scale``: factor from file units to the channel's length unit.
        Raises FileNotFoundError, MeshError (not 2D, or a required group missing, naming the
        groups it has).
        """
        comm = comm or MPI.COMM_WORLD
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"mesh file {path} does not exist")
        require_positive("length_scale", length_scale)
        import gmsh
        with gmsh_session():
            err, names = None, None
            if comm.rank == 0:
                try:
                    gmsh.open(str(path))
                    if gmsh.model.getDimension() != 2:
                        raise MeshError(f"{path}: a channel mesh must be 2D (triangles), got dimension "
                                        f"{gmsh.model.getDimension()}")
                    names = {}
                    for dim, tag in gmsh.model.getPhysicalGroups(1):
                        names[gmsh.model.getPhysicalName(dim, tag) or f"facets_{tag}"] = int(tag)
                    missing = [r for r in required_facets if r not in names]
                    if missing:
                        raise MeshError(f"{path} lacks the named contact/wall group(s) {missing}; "
                                        f"its 1D physical groups: {sorted(names)}")
                except Exception as e:
                    err = e
            err = comm.bcast(err, root=0)
            if err is not None:
                raise err
            names = comm.bcast(names, root=0)
            mesh, _, ft = _compat.model_to_mesh(gmsh.model, comm, 0, gdim=2)
        if length_scale != 1.0:
            mesh.geometry.x[:] *= float(length_scale)
        return cls(mesh, ft, names, path)

    # ------------------------------------------------------------------ groups
    def facets(self, name: str) -> np.ndarray:
        """Local facet indices of the named group (ParameterError for an unknown name)."""
        if name not in self.facet_groups:
            raise ParameterError("contacts", f"unknown facet group {name!r}; the channel has {sorted(self.facet_groups)}")
        return self.facet_tags.indices[self.facet_tags.values == self.facet_groups[name]].astype(np.int32)

    def require(self, names: Sequence[str], parameter: str = "contacts"):
        """Raise ParameterError naming ``parameter`` unless every name is a facet group."""
        missing = [n for n in names if n not in self.facet_groups]
        if missing:
            raise ParameterError(parameter, f"the channel mesh has no facet group(s) {missing}; "
                                            f"its groups: {sorted(self.facet_groups)}")

    def measure(self, names: Sequence[str]):
        """``ds`` restricted to the union of the named facet groups (None for an empty list)."""
        names = list(names)
        if not names:
            return None
        self.require(names)
        return self.ds(tuple(self.facet_groups[n] for n in names))

    def wall_measure(self, contacts: Sequence[str]):
        """``ds`` over every boundary facet that is not in one of the ``contacts`` groups
        (untagged boundary facets count as walls)."""
        if not contacts:
            return self.ds
        self.require(contacts)
        fdim = self.tdim - 1
        bnd = _compat.exterior_facets(self.mesh)
        contact_facets = np.concatenate([self.facets(c) for c in contacts])
        wall = np.setdiff1d(bnd, contact_facets)
        tags = _compat.meshtags(self.mesh, fdim, wall, np.full(len(wall), 1))
        return ufl.Measure("ds", domain=self.mesh, subdomain_data=tags)(1)

    def coordinate(self):
        return ufl.SpatialCoordinate(self.mesh)

    def num_vertices_global(self) -> int:
        return self.mesh.topology.index_map(0).size_global
