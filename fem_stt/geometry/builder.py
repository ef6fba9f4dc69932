"""Gmsh (OpenCASCADE) construction of magnets, their surroundings and the open-boundary shell.

The model is built on MPI rank 0 in an internal length unit chosen so that
coordinates are O(1..1000) (OpenCASCADE tolerances are absolute, ~1e-7), meshed, and
written as ``.msh`` scaled to metres (``Mesh.ScalingFactor``), so every file the
project writes is in SI units. A JSON sidecar next to the ``.msh`` records the
regions, their materials and the shell geometry.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..errors import MeshError, ParameterError
from ..materials import Material
from .shapes import AIR, OUTER_BOUNDARY, SHELL, Surrounding

FORMAT_VERSION = 2  # bump when the meshes built for a given spec change (invalidates cached meshes)


@contextlib.contextmanager
def gmsh_session():
    """Initialize Gmsh for one build or read and finalize it afterwards (Gmsh 4.8 has no isInitialized)."""
    import gmsh
    gmsh.initialize()
    try:
        gmsh.option.setNumber("General.Terminal", 0)
        yield gmsh
    finally:
        gmsh.finalize()


def material_to_dict(m: Material) -> dict:
    return dataclasses.asdict(m)


def choose_unit(extent_m: float) -> float:
    """Internal Gmsh length unit [m] for a model whose largest extent is ``extent_m``."""
    return 10.0 ** (math.floor(math.log10(extent_m)) - 2)


@dataclasses.dataclass
class Solid:
    """A magnet or conductor to be meshed: a name, a material, a target size and an OCC builder.

    ``make(occ, s)`` creates the OCC volume with lengths multiplied by ``s`` (metres ->
    internal unit) and returns its tag; ``points`` are sample points [m] on the solid's
    boundary used to check that it fits inside the surroundings.
    """

    name: str
    material: Material
    mesh_size: float
    make: Callable
    points: np.ndarray
    param: str = "solid"  # parameter path in error messages, e.g. "layers[2]"


@dataclasses.dataclass
class ShellGeometry:
    """Geometry of the open-boundary shell (metres).

    For ``shape == "sphere"``: inner radius ``inner[0]``; for ``"box"``: inner half-sizes
    ``inner``. The outer boundary is the inner one scaled by ``ratio`` about ``center``.
    """

    shape: str
    center: Tuple[float, float, float]
    inner: Tuple[float, float, float]
    ratio: float

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d):
        return cls(d["shape"], tuple(d["center"]), tuple(d["inner"]), float(d["ratio"]))


def surrounding_geometry(solids: Sequence[Solid], surrounding: Surrounding) -> ShellGeometry:
    """Place the air region and shell around ``solids``; raise ParameterError if they do not fit."""
    pts = np.vstack([s.points for s in solids])
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    center = 0.5 * (lo + hi)
    half = 0.5 * (hi - lo)
    if surrounding.size is not None:
        size = np.asarray(surrounding.size, dtype=float)
        if surrounding.shape == "box":
            inner = 0.5 * size
            for s in solids:
                rel = np.abs(s.points - center) / inner
                worst = rel.max()
                if worst > 1.0 + 1e-9:
                    axis = int(np.argmax(np.abs(s.points - center).max(axis=0) / inner))
                    par = f"{s.param}.cross_section" if axis < 2 and s.param.startswith("layers") else "surrounding.size"
                    raise ParameterError(
                        par,
                        f"'{s.name}' does not fit inside the surrounding region: extent {2 * np.abs(s.points - center).max(axis=0)[axis]:.4g} m "
                        f"along {'xyz'[axis]} exceeds surrounding.size[{axis}] = {size[axis]:.4g} m")
                if worst > 1.0 - 1e-9:
                    raise ParameterError(
                        "surrounding.size",
                        f"magnet '{s.name}' touches the outer boundary of the surrounding region; the open-boundary "
                        f"shell needs a gap of air: make surrounding.size larger than the magnets' extent {2 * half}")
            inner_t = tuple(inner)
        else:
            R1 = 0.5 * size[0]
            for s in solids:
                r = np.linalg.norm(s.points - center, axis=1).max()
                if r > R1 * (1 + 1e-9):
                    raise ParameterError(f"{s.param}.cross_section" if s.param.startswith("layers") else "surrounding.size[0]",
                                         f"'{s.name}' does not fit inside the surrounding sphere of diameter {size[0]:.4g} m "
                                         f"(needs > {2 * r:.4g} m)")
                if r > R1 * (1 - 1e-9):
                    raise ParameterError("surrounding.size[0]",
                                         f"magnet '{s.name}' touches the boundary of the surrounding sphere; leave a gap of air")
            inner_t = (R1, R1, R1)
    else:
        gap = surrounding.padding * float(2.0 * half.max())
        if surrounding.shape == "box":
            inner_t = tuple(half + gap)
        else:
            R1 = float(np.linalg.norm(pts - center, axis=1).max()) + gap
            inner_t = (R1, R1, R1)
    return ShellGeometry(surrounding.shape, tuple(float(c) for c in center), tuple(float(a) for a in inner_t),
                         float(surrounding.shell_ratio))


def _bbox_is_plane(bb, axis, value, tol):
    return abs(bb[axis] - value) < tol and abs(bb[axis + 3] - value) < tol


def build(solids: Sequence[Solid], surrounding: Optional[Surrounding], path: Path, *,
          facet_groups: Optional[Callable] = None, interface_size: Optional[float] = None,
          extra_metadata: Optional[dict] = None,
          edge_size: Optional[float] = None,
          shell: Optional[ShellGeometry] = None, shell_size: Optional[float] = None,
          footprint: Optional[Callable] = None, columns: Sequence[Tuple[float, int]] = (),
          verbose: bool = False) -> dict:
    """Mesh ``solids`` (plus air and shell) with Gmsh on the calling process and write ``path``.

    Must be called on one rank only. Returns the metadata written to the JSON sidecar.

    Parameters
    ----------
    solids : Solid list, in the order of their physical tags 1..n.
    surrounding : Surrounding or None (None: only the solids are meshed; no stray field possible).
    path : output ``.msh`` path; the sidecar is ``path.with_suffix('.json')``.
    facet_groups : callable(gmsh, vol_of: dict name->volume tag, unit) -> dict name -> surface tags.
    interface_size : finer cell size [m] near the surfaces returned for names starting with 'interface_'.
    edge_size : finer cell size [m] near the edges (curves) of the magnets' boundaries.
    shell_size : cell size [m] inside the shell; by default the air region's grading continues into it.
    footprint, columns : build the solids as columns instead of with ``Solid.make``:
        ``footprint(occ, s)`` makes the common cross-section at z = 0 (a surface, returns its tag)
        and solid i is that surface's extrusion by ``columns[i] = (thickness [m], cells along z)``
        on top of solid i-1, meshed as prisms split into tetrahedra over one triangulation of the
        cross-section (Gmsh's structured extrusion). Only without ``shell``.
    """
    import gmsh

    pts = np.vstack([s.points for s in solids])
    extent = float((pts.max(axis=0) - pts.min(axis=0)).max())
    if shell is not None:
        extent = max(extent, 2 * shell.ratio * max(shell.inner))
    unit = choose_unit(extent)
    sc = 1.0 / unit

    with gmsh_session():
        gmsh.option.setNumber("General.Terminal", 1 if verbose else 0)
        gmsh.model.add(path.stem)
        occ = gmsh.model.occ
        outer_vols = inner_vols = set()
        if footprint is not None:  # the columns share their faces already: nothing to fragment
            if shell is not None or len(columns) != len(solids):
                raise ValueError("footprint/columns: one (thickness, cells) per solid and no shell")
            surf, solid_vols = footprint(occ, sc), []
            for thickness, cells in columns:
                ext = occ.extrude([(2, surf)], 0, 0, thickness * sc, numElements=[int(cells)], recombine=False)
                surf = ext[0][1]  # the top face, bottom of the next column
                solid_vols.append([t for d, t in ext if d == 3])
        elif shell is not None:
            objs = [(3, s.make(occ, sc)) for s in solids]
            c = [x * sc for x in shell.center]
            a = [x * sc for x in shell.inner]
            r = shell.ratio
            if shell.shape == "box":
                inner = occ.addBox(c[0] - a[0], c[1] - a[1], c[2] - a[2], 2 * a[0], 2 * a[1], 2 * a[2])
                outer = occ.addBox(c[0] - r * a[0], c[1] - r * a[1], c[2] - r * a[2], 2 * r * a[0], 2 * r * a[1], 2 * r * a[2])
            else:
                inner = occ.addSphere(c[0], c[1], c[2], a[0])
                outer = occ.addSphere(c[0], c[1], c[2], r * a[0])
            _, out_map = occ.fragment([(3, outer)], [(3, inner)] + objs)
            outer_vols = {t for d, t in out_map[0] if d == 3}
            inner_vols = {t for d, t in out_map[1] if d == 3}
            solid_vols = [[t for d, t in m if d == 3] for m in out_map[2:]]
        else:
            objs = [(3, s.make(occ, sc)) for s in solids]
            if len(objs) > 1:
                _, out_map = occ.fragment(objs[:1], objs[1:])
                solid_vols = [[t for d, t in m if d == 3] for m in out_map]
            else:
                solid_vols = [[objs[0][1]]]
        occ.synchronize()

        all_solid = [t for vs in solid_vols for t in vs]
        if len(set(all_solid)) != len(all_solid):
            raise ParameterError("solids", "two magnets/layers overlap; they must only touch")
        air_vols = sorted(inner_vols - set(all_solid))
        shell_vols = sorted(outer_vols - inner_vols)

        cell_groups: Dict[str, List[int]] = {s.name: vs for s, vs in zip(solids, solid_vols)}
        if shell is not None:
            cell_groups[AIR] = air_vols
            cell_groups[SHELL] = shell_vols
        vol_of = {s.name: vs for s, vs in zip(solids, solid_vols)}

        def boundary(vs):
            return {t for d, t in gmsh.model.getBoundary([(3, v) for v in vs], oriented=False, combined=False)}

        facet_sets: Dict[str, List[int]] = {}
        if facet_groups is not None:
            facet_sets.update(facet_groups(gmsh, vol_of, unit))
        if shell is not None:
            outer_surfs = boundary(shell_vols) - boundary(air_vols)
            facet_sets[OUTER_BOUNDARY] = sorted(outer_surfs)
        for k, v in facet_sets.items():
            if not v:
                raise MeshError(f"Gmsh produced no surfaces for facet group '{k}'")

        tags = {}
        for i, (name, vs) in enumerate(cell_groups.items(), start=1):
            gmsh.model.addPhysicalGroup(3, vs, i)
            gmsh.model.setPhysicalName(3, i, name)
            tags[name] = i
        ftags = {}
        for i, (name, ss) in enumerate(facet_sets.items(), start=1):
            gmsh.model.addPhysicalGroup(2, ss, i)
            gmsh.model.setPhysicalName(2, i, name)
            ftags[name] = i

        # --- mesh-size fields (internal units) ---
        f = gmsh.model.mesh.field
        fields = []

        def restrict(field, vs):
            """Restrict ``field`` to volumes ``vs`` and their boundary surfaces and curves."""
            surfs = sorted(boundary(vs))
            curves = sorted({abs(t) for d, t in gmsh.model.getBoundary([(2, x) for x in surfs], combined=False,
                                                                          oriented=False)})
            fr = f.add("Restrict")
            f.setNumber(fr, "InField", field)
            f.setNumbers(fr, "VolumesList", list(vs))
            f.setNumbers(fr, "SurfacesList", surfs)
            f.setNumbers(fr, "CurvesList", curves)
            return fr

        hmin = min(s.mesh_size for s in solids) * sc
        for s, vs in zip(solids, solid_vols):
            fc = f.add("MathEval")
            f.setString(fc, "F", repr(s.mesh_size * sc))
            fields.append(restrict(fc, vs))
        magnet_surfs = sorted(boundary(all_solid))
        if shell is not None:
            h_far = (surrounding.mesh_size * sc if surrounding and surrounding.mesh_size
                     else (shell.ratio - 1.0) * min(shell.inner) * sc / 3.0)
            h_far = max(h_far, hmin)
            grading = surrounding.grading if surrounding else 0.5
            fd = f.add("Distance")
            f.setNumbers(fd, "SurfacesList", magnet_surfs)
            f.setNumber(fd, "NumPointsPerCurve", 20)
            ft = f.add("Threshold")
            f.setNumber(ft, "InField", fd)
            f.setNumber(ft, "SizeMin", hmin)
            f.setNumber(ft, "SizeMax", h_far)
            f.setNumber(ft, "DistMin", 0.0)
            f.setNumber(ft, "DistMax", (h_far - hmin) / grading + 1e-12)
            if shell_size is None:
                fields.append(restrict(ft, air_vols + shell_vols))
            else:
                fields.append(restrict(ft, air_vols))
                fs = f.add("MathEval")
                f.setString(fs, "F", repr(max(shell_size * sc, hmin)))
                fields.append(restrict(fs, shell_vols))
        hmax = max(s.mesh_size for s in solids) * sc

        def refine_near(size, surfaces=(), curves=()):
            """Cell size ``size`` [internal units] near the given entities, grading back to hmax."""
            fd = f.add("Distance")
            if surfaces:
                f.setNumbers(fd, "SurfacesList", list(surfaces))
            if curves:
                f.setNumbers(fd, "CurvesList", list(curves))
                f.setNumber(fd, "NumPointsPerCurve", 200)
            ft = f.add("Threshold")
            f.setNumber(ft, "InField", fd)
            f.setNumber(ft, "SizeMin", size)
            f.setNumber(ft, "SizeMax", 1e22)
            f.setNumber(ft, "DistMin", size)
            f.setNumber(ft, "DistMax", size + (hmax - size) / 0.5 + 1e-12)
            fields.append(ft)

        iface = [t for k, v in facet_sets.items() if k.startswith("interface_") for t in v]
        if interface_size is not None and iface:
            refine_near(interface_size * sc, surfaces=iface)
        if edge_size is not None:
            # the stray field of a uniformly magnetized body is singular (log) at its edges:
            # for thin films most of the demag-factor error sits in a strip along the edges
            edges = sorted({abs(t) for d, t in gmsh.model.getBoundary([(2, x) for x in magnet_surfs],
                                                                      combined=False, oriented=False)})
            refine_near(edge_size * sc, curves=edges)
        fmin = f.add("Min")
        f.setNumbers(fmin, "FieldsList", fields)
        f.setAsBackgroundMesh(fmin)
        gmsh.option.setNumber("Mesh.MeshSizeExtendFromBoundary", 0)
        gmsh.option.setNumber("Mesh.MeshSizeFromPoints", 0)
        gmsh.option.setNumber("Mesh.MeshSizeFromCurvature", 0)
        gmsh.option.setNumber("Mesh.Optimize", 1)
        gmsh.option.setNumber("Mesh.MshFileVersion", 4.1)
        gmsh.option.setNumber("Mesh.Binary", 1)
        gmsh.option.setNumber("Mesh.SaveAll", 0)
        gmsh.model.mesh.generate(3)

        path.parent.mkdir(parents=True, exist_ok=True)
        gmsh.option.setNumber("Mesh.ScalingFactor", unit)
        tmp = path.with_name(path.name + ".tmp.msh")
        gmsh.write(str(tmp))
        os.replace(tmp, path)
        gmsh.option.setNumber("Mesh.ScalingFactor", 1.0)
        ntet = sum(len(t) for t in gmsh.model.mesh.getElements(3)[1])

    meta = {
        "format_version": FORMAT_VERSION,
        "mesh": path.name,
        "cells": int(ntet),
        "regions": {s.name: {"tag": tags[s.name], "material": material_to_dict(s.material), "mesh_size": s.mesh_size}
                    for s in solids},
        "cell_groups": tags,
        "facet_groups": ftags,
        "shell": shell.to_dict() if shell is not None else None,
    }
    if extra_metadata:
        meta.update(extra_metadata)
    side = path.with_suffix(".json")
    tmp = side.with_name(side.name + ".tmp")
    tmp.write_text(json.dumps(meta, indent=2))
    os.replace(tmp, side)
    return meta
