"""Layer stacks along z (ferromagnet / spacer / ferromagnet pillars) and simple bodies.

A :class:`LayerStack` is an ordered list of :class:`~fem_stt.geometry.shapes.Layer`
from bottom (z = 0) to top, centred on the z axis, optionally wrapped in a
non-magnetic surrounding region and an open-boundary shell. :meth:`LayerStack.build`
writes a Gmsh ``.msh`` with physical groups

- cells: one per layer (its name), ``air``, ``shell``;
- facets: ``bottom_electrode`` (bottom face of the first layer), ``top_electrode``
  (top face of the last layer), ``interface_<lower>_<upper>`` between adjacent layers,
  ``outer_boundary`` (outside of the shell);

and :meth:`LayerStack.mesh` loads it as a :class:`fem_stt.domain.Domain`.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import warnings
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np

from ..errors import ParameterError, require_positive
from ..materials import Material
from . import builder, estimate
from .shapes import (BOTTOM_ELECTRODE, TOP_ELECTRODE, Body, CrossSection, Layer, Surrounding, interface_name,
                     rectangle, validate_bodies, validate_layers)

DEFAULT_MESH_DIR = Path("meshes")


def _rim_points(cs: CrossSection, z0: float, z1: float) -> np.ndarray:
    """Sample points [m] on the lateral rim of a layer (for fit checks)."""
    if cs.shape == "rectangle":
        xy = [(sx * cs.width / 2, sy * cs.depth / 2) for sx in (-1, 1) for sy in (-1, 1)]
    else:
        t = np.linspace(0.0, 2 * math.pi, 361)
        xy = list(zip(cs.width / 2 * np.cos(t), cs.depth / 2 * np.sin(t)))
    return np.array([(x, y, z) for x, y in xy for z in (z0, z1)])


def _footprint_maker(cs: CrossSection, z0: float = 0.0):
    """The cross-section ``cs`` as a surface at height ``z0`` [m] (``make(occ, s)`` returns its tag)."""
    def make(occ, s):
        w, d, zz = cs.width * s, cs.depth * s, z0 * s
        if cs.shape == "rectangle":
            return occ.addRectangle(-w / 2, -d / 2, zz, w, d)
        rx, ry = w / 2, d / 2
        disk = occ.addDisk(0, 0, zz, max(rx, ry), min(rx, ry))  # OCC needs major >= minor
        if ry > rx:
            occ.rotate([(2, disk)], 0, 0, 0, 0, 0, 1, math.pi / 2)
        return disk
    return make


def _layer_maker(cs: CrossSection, z0: float, t: float):
    def make(occ, s):
        w, d, zz, tt = cs.width * s, cs.depth * s, z0 * s, t * s
        if cs.shape == "rectangle":
            return occ.addBox(-w / 2, -d / 2, zz, w, d, tt)
        if cs.shape == "circle":
            return occ.addCylinder(0, 0, zz, 0, 0, tt, w / 2)
        ext = occ.extrude([(2, _footprint_maker(cs, z0)(occ, s))], 0, 0, tt)
        return [tag for dim, tag in ext if dim == 3][0]
    return make


def _body_maker(b: Body):
    def make(occ, s):
        c = [x * s for x in b.center]
        sz = [x * s for x in b.size]
        if b.shape == "box":
            return occ.addBox(c[0] - sz[0] / 2, c[1] - sz[1] / 2, c[2] - sz[2] / 2, *sz)
        if b.shape == "sphere":
            return occ.addSphere(*c, sz[0] / 2)
        tag = occ.addSphere(*c, 1.0)
        occ.dilate([(3, tag)], *c, sz[0] / 2, sz[1] / 2, sz[2] / 2)
        return tag
    return make


def _body_points(b: Body) -> np.ndarray:
    c = np.asarray(b.center, float)
    if b.shape == "box":
        h = np.asarray(b.size, float) / 2
        return np.array([c + h * np.array([i, j, k]) for i in (-1, 1) for j in (-1, 1) for k in (-1, 1)])
    semi = np.full(3, b.size[0] / 2) if b.shape == "sphere" else np.asarray(b.size, float) / 2
    return np.vstack([c + semi * e for e in np.vstack([np.eye(3), -np.eye(3)])])


def _spec_hash(spec: dict) -> str:
    key = dict(spec, builder_format=builder.FORMAT_VERSION)
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _write_or_reuse(path: Path, spec: dict, overwrite: bool, build_fn, comm) -> Path:
    """Build on rank 0 unless ``path`` already holds a mesh of the same spec; broadcast errors."""
    h = _spec_hash(spec)
    err = None
    if comm.rank == 0:
        try:
            side = path.with_suffix(".json")
            reuse = False
            if path.exists() and side.exists():
                try:
                    reuse = json.loads(side.read_text()).get("spec_hash") == h
                except (OSError, ValueError):
                    reuse = False
                if not reuse and not overwrite:
                    raise FileExistsError(
                        f"{path} already holds a different mesh; pass overwrite=True or choose another path")
            elif path.exists() and not overwrite:
                raise FileExistsError(f"{path} exists without its .json sidecar; pass overwrite=True or another path")
            if not reuse:
                build_fn(h)
        except Exception as e:  # re-raised on every rank below
            err = e
    err = comm.bcast(err, root=0)
    if err is not None:
        raise err
    return path


def _area_perimeter(cs: CrossSection):
    """Area [m^2] and perimeter [m] of a cross-section (Ramanujan's perimeter for an ellipse)."""
    if cs.shape == "rectangle":
        return cs.width * cs.depth, 2.0 * (cs.width + cs.depth)
    a, b = cs.width / 2, cs.depth / 2
    return math.pi * a * b, math.pi * (3 * (a + b) - math.sqrt((3 * a + b) * (a + 3 * b)))


class _Meshable:
    """``build`` and ``mesh`` shared by the geometry descriptions (subclasses give ``_solids``,
    ``spec``, ``surrounding``, ``_shell``, ``name``, ``_builder_kwargs`` and ``_estimate_parts``)."""

    def mesh_estimate(self, ranks: int = 1) -> dict:
        """Estimated cells, vertices, boundary vertices and memory [bytes] of the mesh
        (:mod:`fem_stt.geometry.estimate`), without meshing."""
        regions, refinements, surface = self._estimate_parts()
        air = None
        if self._shell is not None:
            sh = self._shell
            inner = np.asarray(sh.inner, float)
            vol = (8.0 * float(np.prod(inner)) if sh.shape == "box" else 4.0 / 3.0 * math.pi * inner[0]**3) * sh.ratio**3
            hmin = min(r["h"] for r in regions)
            h_far = self.surrounding.mesh_size or (sh.ratio - 1.0) * float(inner.min()) / 3.0
            vm = sum(r["volume"] for r in regions)
            air = {"volume": max(vol - vm, 0.0), "inner_volume": vm, "h_near": hmin, "h_far": max(h_far, hmin),
                   "grading": self.surrounding.grading}
        mags = [r for r in regions if r["material"].Ms > 0]
        h_mag = min((r["h"] for r in mags), default=None)
        return estimate.estimate(regions, refinements, air, fembem_surface=surface if air is None else 0.0,
                                 fembem_h=h_mag, ranks=ranks)

    def check_mesh_size(self, ranks: int = 1, max_memory: Optional[float] = None) -> dict:
        """Refuse (ParameterError naming ``mesh_size``) a mesh whose estimate exceeds ``max_memory``
        [bytes] (default: this machine's memory); warn (MeshSizeWarning) for cells larger than a
        magnetic region's exchange length or a region's thickness. Returns the estimate."""
        est = self.mesh_estimate(ranks)
        estimate.check(est, "mesh_size", max_memory)
        regions, _, _ = self._estimate_parts()
        est["warnings"] = estimate.warn_resolution(regions)
        return est

    def build(self, path: Union[str, Path, None] = None, comm=None, overwrite: bool = False,
              verbose: bool = False) -> Path:
        """Mesh with Gmsh on rank 0 and write ``path`` (default ``meshes/<name>.msh``).

        A file already holding the mesh of the same specification is re-used; a file
        holding a different mesh raises ``FileExistsError`` unless ``overwrite=True``.
        Returns the path on every rank.
        """
        from mpi4py import MPI
        comm = comm or MPI.COMM_WORLD
        path = Path(path) if path is not None else DEFAULT_MESH_DIR / f"{self.name}.msh"
        spec = self.spec()
        est = None
        if comm.rank == 0:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", estimate.MeshSizeWarning)  # warned once, at check or construction
                    est = self.mesh_estimate(comm.size)
            except Exception as exc:  # every rank raises, none waits in bcast
                est = exc
        est = comm.bcast(est, root=0)
        if isinstance(est, Exception):
            raise est
        estimate.check(est, "mesh_size")

        def do(h):
            builder.build(self._solids(), self.surrounding, path, shell=self._shell,
                          extra_metadata={"spec": spec, "spec_hash": h}, verbose=verbose, **self._builder_kwargs())
        return _write_or_reuse(path, spec, overwrite, do, comm)

    def mesh(self, path=None, comm=None, overwrite: bool = False):
        """Build (or re-use) the mesh and load it: returns a :class:`fem_stt.domain.Domain`."""
        from mpi4py import MPI

        from ..domain import Domain
        comm = comm or MPI.COMM_WORLD
        return Domain.from_msh(self.build(path, comm=comm, overwrite=overwrite), comm=comm)


@dataclasses.dataclass(frozen=True)
class LayerStack(_Meshable):
    """Ordered layers along z, bottom first (see module docstring for the physical groups).

    Parameters
    ----------
    layers : sequence of Layer
        Bottom to top; the first layer's bottom face is at z = 0.
    mesh_size : float
        Default cell size in the layers [m].
    interface_mesh_size : float, optional
        Finer cell size [m] near the interfaces between layers.
    edge_mesh_size : float, optional
        Finer cell size [m] near the edges of the layers (where the stray field of a
        uniformly magnetized body is singular); improves thin-film demag accuracy.
    surrounding : Surrounding or None
        Air region + open-boundary shell (needed for the stray field unless it is computed by
        FEM-BEM, :class:`fem_stt.fembem.FemBemStrayField`); ``None`` meshes only the stack.
    name : str
        Mesh file stem.
    extruded : bool
        Mesh the stack as columns: one triangulation of the common cross-section (cells of
        ``mesh_size``, ``edge_mesh_size`` along its rim) extruded through the layers, with
        ``max(1, round(thickness / size))`` cells across each layer (``size``: the layer's
        ``mesh_size`` or the stack's), each prism split into three tetrahedra. Vertices then
        line up along z, so a field that does not vary through the thickness is represented
        exactly; an unstructured mesh of a film one or two cells thick joins top and bottom
        vertices at different (x, y) and so adds spurious z-gradients, and exchange energy, of
        the order of the in-plane gradient times (offset / thickness). Needs
        ``surrounding=None``, one cross-section for all layers and no ``interface_mesh_size``.

    Raises
    ------
    ParameterError
        On construction, for any invalid layer, size or material (before meshing).
    """

    layers: Sequence[Layer]
    mesh_size: float
    interface_mesh_size: Optional[float] = None
    surrounding: Optional[Surrounding] = dataclasses.field(default_factory=Surrounding)
    name: str = "stack"
    edge_mesh_size: Optional[float] = None
    extruded: bool = False

    def __post_init__(self):
        object.__setattr__(self, "layers", tuple(self.layers))
        if self.edge_mesh_size is not None:
            require_positive("edge_mesh_size", self.edge_mesh_size, "m")
        mats = validate_layers(self.layers, self.mesh_size, self.interface_mesh_size)
        object.__setattr__(self, "_materials", tuple(mats))
        if self.surrounding is not None and not isinstance(self.surrounding, Surrounding):
            raise ParameterError("surrounding", "must be a fem_stt.geometry.Surrounding or None")
        if self.extruded not in (True, False):
            raise ParameterError("extruded", f"must be true or false, got {self.extruded!r}")
        if self.extruded:
            if self.surrounding is not None:
                raise ParameterError("extruded", "an extruded stack is meshed without a surrounding region: "
                                                 "set surrounding=None (case file: [geometry.surrounding] none = true; stray field by FEM-BEM)")
            if self.interface_mesh_size is not None:
                raise ParameterError("extruded", "interface_mesh_size does not apply to an extruded stack; "
                                                 "set the layers' mesh_size (cells along z) instead")
            for i, lay in enumerate(self.layers[1:], start=1):
                if lay.cross_section != self.layers[0].cross_section:
                    raise ParameterError(f"layers[{i}].cross_section",
                                         f"an extruded stack needs one cross-section for all layers: "
                                         f"{lay.cross_section} differs from layers[0]'s {self.layers[0].cross_section}")
        # placement and fit checks, still before any meshing
        object.__setattr__(self, "_shell",
                           builder.surrounding_geometry(self._solids(), self.surrounding) if self.surrounding else None)

    @property
    def z_interfaces(self):
        """z coordinates [m] of the layer boundaries, bottom (0) to top, length len(layers)+1."""
        return tuple(np.concatenate([[0.0], np.cumsum([lay.thickness for lay in self.layers])]))

    @property
    def materials(self):
        """Resolved :class:`Material` per layer."""
        return dict(zip((lay.name for lay in self.layers), self._materials))

    def _solids(self):
        zs = self.z_interfaces
        out = []
        for i, (lay, mat) in enumerate(zip(self.layers, self._materials)):
            s = builder.Solid(lay.name, mat, float(self.mesh_size if self.extruded else lay.mesh_size or self.mesh_size),
                              _layer_maker(lay.cross_section, zs[i], lay.thickness),
                              _rim_points(lay.cross_section, zs[i], zs[i + 1]), param=f"layers[{i}]")
            out.append(s)
        return out

    def spec(self) -> dict:
        """JSON-serialisable description (used for the sidecar and the mesh cache key)."""
        return {
            "kind": "layer_stack",
            "layers": [{"name": lay.name, "thickness": lay.thickness, "material": builder.material_to_dict(m),
                        "cross_section": dataclasses.asdict(lay.cross_section), "mesh_size": lay.mesh_size}
                       for lay, m in zip(self.layers, self._materials)],
            "mesh_size": self.mesh_size,
            "interface_mesh_size": self.interface_mesh_size,
            "edge_mesh_size": self.edge_mesh_size,
            "surrounding": dataclasses.asdict(self.surrounding) if self.surrounding else None,
            **({"extruded": True} if self.extruded else {}),  # absent when False: earlier meshes keep their hash
        }

    @property
    def cells_along_z(self):
        """Cells across each layer of an extruded stack (``None`` for an unstructured one)."""
        if not self.extruded:
            return None
        return tuple(max(1, round(lay.thickness / float(lay.mesh_size or self.mesh_size))) for lay in self.layers)

    def _facets(self, gmsh, vol_of, unit):
        zs = [z / unit for z in self.z_interfaces]
        tol = 1e-6 * max(zs[-1], 1.0)

        def bnd(name):
            return {t for d, t in gmsh.model.getBoundary([(3, v) for v in vol_of[name]], oriented=False)}

        def plane(surfs, z):
            out = []
            for t in surfs:
                bb = gmsh.model.getBoundingBox(2, t)
                if abs(bb[2] - z) < tol and abs(bb[5] - z) < tol:
                    out.append(t)
            return sorted(out)

        names = [lay.name for lay in self.layers]
        groups = {BOTTOM_ELECTRODE: plane(bnd(names[0]), zs[0]), TOP_ELECTRODE: plane(bnd(names[-1]), zs[-1])}
        for i in range(len(names) - 1):
            groups[interface_name(names[i], names[i + 1])] = sorted(bnd(names[i]) & bnd(names[i + 1]))
        return groups

    def _builder_kwargs(self) -> dict:
        kw = {"facet_groups": self._facets, "interface_size": self.interface_mesh_size,
              "edge_size": self.edge_mesh_size}
        if self.extruded:
            kw.update(footprint=_footprint_maker(self.layers[0].cross_section),
                      columns=[(lay.thickness, n) for lay, n in zip(self.layers, self.cells_along_z)])
        return kw

    def _footprint_triangles(self):
        """Estimated triangles of an extruded stack's cross-section: area / (0.433 h^2) (the
        equilateral triangle of side h), plus the strip along the rim refined to edge_mesh_size
        (Gmsh's threshold: that size within one edge size of the rim, growing linearly back to h
        over the next 2 (h - edge))."""
        area, perim = _area_perimeter(self.layers[0].cross_section)
        h, tri = float(self.mesh_size), 0.25 * math.sqrt(3.0)
        n = area / (tri * h**2)
        e = self.edge_mesh_size
        if e is not None and e < h:
            d = np.linspace(0.0, e + 2.0 * (h - e), 201)
            size = np.clip(e + 0.5 * (d - e), e, h)
            f = perim * (1.0 / (tri * size**2) - 1.0 / (tri * h**2))
            n += float(np.sum(0.5 * (f[1:] + f[:-1]) * np.diff(d)))
        return n

    def _estimate_parts(self):
        regions, refinements, surface = [], [], 0.0
        for i, (lay, mat) in enumerate(zip(self.layers, self._materials)):
            area, perim = _area_perimeter(lay.cross_section)
            if mat.Ms > 0:
                surface += 2.0 * area + perim * lay.thickness
            if self.extruded:  # three tetrahedra per prism; the cells along z are thinner than the layer
                regions.append({"name": lay.name, "volume": area * lay.thickness, "h": float(self.mesh_size),
                                "cells": 3.0 * self.cells_along_z[i] * self._footprint_triangles(), "material": mat,
                                "thickness": None, "param": "mesh_size"})
                continue
            h = float(lay.mesh_size or self.mesh_size)
            regions.append({"name": lay.name, "volume": area * lay.thickness, "h": h, "material": mat,
                            "thickness": lay.thickness, "param": f"layers[{i}].mesh_size" if lay.mesh_size else "mesh_size"})
            if self.edge_mesh_size is not None:  # a tube of radius h around the rims and the vertical edges
                length = 2.0 * perim + (4.0 * lay.thickness if lay.cross_section.shape == "rectangle" else 0.0)
                refinements.append({"volume": 0.25 * math.pi * h**2 * length, "h": self.edge_mesh_size, "h_base": h})
        if self.interface_mesh_size is not None:
            for a, b in zip(regions[:-1], regions[1:]):
                area = min(a["volume"] / a["thickness"], b["volume"] / b["thickness"])
                for r in (a, b):
                    refinements.append({"volume": area * min(r["h"], r["thickness"]), "h": self.interface_mesh_size,
                                        "h_base": r["h"]})
        return regions, refinements, surface


@dataclasses.dataclass(frozen=True)
class BodyGeometry(_Meshable):
    """Simple bodies (boxes, spheres, ellipsoids) in a surrounding region; see :class:`Body`."""

    bodies: Sequence[Body]
    mesh_size: float
    surrounding: Optional[Surrounding] = dataclasses.field(default_factory=Surrounding)
    name: str = "bodies"

    def __post_init__(self):
        object.__setattr__(self, "bodies", tuple(self.bodies))
        mats = validate_bodies(self.bodies, self.mesh_size)
        object.__setattr__(self, "_materials", tuple(mats))
        object.__setattr__(self, "_shell",
                           builder.surrounding_geometry(self._solids(), self.surrounding) if self.surrounding else None)

    def _solids(self):
        return [builder.Solid(b.name, m, float(b.mesh_size or self.mesh_size), _body_maker(b), _body_points(b),
                              param=f"bodies[{i}]")
                for i, (b, m) in enumerate(zip(self.bodies, self._materials))]

    def spec(self) -> dict:
        return {"kind": "bodies",
                "bodies": [dict(dataclasses.asdict(b), material=builder.material_to_dict(m))
                           for b, m in zip(self.bodies, self._materials)],
                "mesh_size": self.mesh_size,
                "surrounding": dataclasses.asdict(self.surrounding) if self.surrounding else None}

    def _builder_kwargs(self) -> dict:
        return {}

    def _estimate_parts(self):
        regions, surface = [], 0.0
        for i, (b, mat) in enumerate(zip(self.bodies, self._materials)):
            a, bb, c = (x / 2 for x in b.size) if b.shape != "sphere" else (b.size[0] / 2,) * 3
            if b.shape == "box":
                vol, area = 8 * a * bb * c, 8 * (a * bb + bb * c + a * c)
            else:  # ellipsoid surface: Knud Thomsen's approximation
                p = 1.6075
                vol = 4 / 3 * math.pi * a * bb * c
                area = 4 * math.pi * (((a * bb) ** p + (a * c) ** p + (bb * c) ** p) / 3) ** (1 / p)
            h = float(b.mesh_size or self.mesh_size)
            regions.append({"name": b.name, "volume": vol, "h": h, "material": mat, "thickness": 2 * min(a, bb, c),
                            "param": f"bodies[{i}].mesh_size" if b.mesh_size else "mesh_size"})
            if mat.Ms > 0:
                surface += area
        return regions, [], surface


def seed_device(mesh_size: float = 8e-9, ferromagnet: Union[str, Material] = "Py",
                spacer: Union[str, Material] = "Cu", interface_mesh_size: Optional[float] = None,
                surrounding: Optional[Surrounding] = Surrounding(), name: str = "seed_device") -> LayerStack:
    """The FM1 / spacer / FM2 pillar of seed 002 ("Experiment setup").

    FM1 128 x 64 x 200 nm (bottom), spacer 128 x 64 x 20 nm, FM2 128 x 64 x 60 nm (top);
    current is applied from FM1 to FM2. Layers are named ``FM1``, ``spacer``, ``FM2``.
    """
    cs = rectangle(128e-9, 64e-9)
    return LayerStack(
        layers=[Layer("FM1", 200e-9, ferromagnet, cs), Layer("spacer", 20e-9, spacer, cs),
                Layer("FM2", 60e-9, ferromagnet, cs)],
        mesh_size=mesh_size, interface_mesh_size=interface_mesh_size, surrounding=surrounding, name=name)
