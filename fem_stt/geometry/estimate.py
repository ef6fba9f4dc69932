"""Mesh-size sanity before meshing: the number of cells, vertices and the memory a geometry
will need, and warnings for cells that do not resolve the magnetic length scales.

The estimate uses the volume a Gmsh tetrahedron of target size h occupies on average,
``V_cell = C_V h^3`` with ``C_V = 0.15`` (measured: the seed device at h = 10 nm has
2.29e6 nm^3 in 12,022 cells, V_cell = 0.19 h^3; the smaller constant errs towards more
cells), about ``N_cells / 4.3`` vertices, ``A / (0.8 h^2)`` boundary vertices on a magnet
surface of area A, and memory ~ ``MEMORY_PER_CELL`` per cell (FEM matrices, preconditioners,
the stray-field and spin-transport systems; ~60 kB measured per cell of the seed device on
2 ranks) plus ``4 n_b^2`` bytes for a dense FEM-BEM operator when the mesh has no shell.
Refinement near interfaces and edges and the graded air region are added with the same
rule over the volume they refine. It is an order-of-magnitude estimate (within ~2x for the
project's layer stacks), enough to refuse a mesh that cannot fit the machine before Gmsh
starts (``mesh_size = "1e-6 nm"`` would otherwise hang) and to say what a case costs.

Warnings (:class:`MeshSizeWarning`): a magnetic region whose cell size exceeds its exchange
length l_ex = sqrt(2 A / (mu0 Ms^2)) (micromagnetic textures are not resolved below it),
and a region whose cell size exceeds its own thickness (one cell across).
"""
from __future__ import annotations

import math
import os
import warnings
from typing import Dict, List, Optional

from ..constants import MU0
from ..errors import ParameterError

C_V = 0.15  #: mean tetrahedron volume / h^3 for a Gmsh mesh of target size h
VERTICES_PER_CELL = 1.0 / 4.3
BOUNDARY_AREA_PER_VERTEX = 0.8  #: boundary-vertex density: one per 0.8 h^2
MEMORY_PER_CELL = 60e3  #: bytes per cell, all solvers together
MEMORY_BASE = 400e6  #: bytes per MPI rank (Python, DOLFINx, PETSc, compiled forms)


class MeshSizeWarning(UserWarning):
    """A cell size that does not resolve a length scale of the problem (the run proceeds)."""


def machine_memory() -> float:
    """Physical memory of this machine [bytes] (0 if unknown)."""
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 0.0


def exchange_length(material) -> Optional[float]:
    """l_ex = sqrt(2 A / (mu0 Ms^2)) [m] of a magnetic material (None if Ms = 0 or A = 0)."""
    if material.Ms <= 0 or material.A <= 0:
        return None
    return math.sqrt(2.0 * material.A / (MU0 * material.Ms**2))


def cells_for(volume: float, h: float) -> float:
    """Estimated number of tetrahedra of target size h [m] in a volume [m^3]."""
    return volume / (C_V * h**3)


def estimate(regions: List[dict], refinements: List[dict] = (), air: Optional[dict] = None,
             fembem_surface: float = 0.0, fembem_h: Optional[float] = None, ranks: int = 1) -> Dict[str, float]:
    """Cells, vertices, boundary vertices and memory of a mesh.

    Parameters
    ----------
    regions : [{"name", "volume" [m^3], "h" [m]}] the meshed solids; a region's optional
        ``"cells"`` replaces its count from the volume (structured meshes).
    refinements : [{"volume" [m^3], "h" [m], "h_base" [m]}] finer cells over a volume that
        the regions already count at ``h_base`` (interfaces, edges).
    air : {"volume" [m^3], "inner_volume" [m^3], "h_near" [m], "h_far" [m], "grading"} the air and
        shell region around magnets of ``inner_volume``, its cells growing with the distance d
        from the magnets as h = min(h_near + grading d, h_far) (as the mesh builder grades them),
        counted over spherical shells of the same volumes; or None.
    fembem_surface : magnet surface area [m^2] when the stray field is computed by FEM-BEM
        (dense operator of n_b^2 single-precision entries); fembem_h its cell size.
    ranks : MPI ranks (each carries MEMORY_BASE).

    Returns dict(cells, vertices, boundary_vertices, memory_bytes).
    """
    cells = sum(r["cells"] if r.get("cells") is not None else cells_for(r["volume"], r["h"]) for r in regions)
    for f in refinements:
        if f["h"] < f["h_base"]:
            cells += cells_for(f["volume"], f["h"]) - cells_for(f["volume"], f["h_base"])
    if air is not None:
        r0 = (3.0 * air["inner_volume"] / (4.0 * math.pi)) ** (1.0 / 3.0)
        r1 = (3.0 * (air["inner_volume"] + air["volume"]) / (4.0 * math.pi)) ** (1.0 / 3.0)
        n = 400
        dr = (r1 - r0) / n
        for i in range(n):  # midpoint rule over spherical shells
            r = r0 + (i + 0.5) * dr
            h = min(air["h_near"] + air["grading"] * (r - r0), air["h_far"])
            cells += 4.0 * math.pi * r * r * dr / (C_V * h**3)
    nb = fembem_surface / (BOUNDARY_AREA_PER_VERTEX * fembem_h**2) if fembem_surface and fembem_h else 0.0
    mem = MEMORY_BASE * ranks + MEMORY_PER_CELL * cells + 4.0 * nb**2
    return {"cells": cells, "vertices": cells * VERTICES_PER_CELL, "boundary_vertices": nb, "memory_bytes": mem}


def check(est: Dict[str, float], parameter: str, max_memory: Optional[float] = None) -> None:
    """Raise ParameterError naming ``parameter`` if the estimate exceeds ``max_memory`` [bytes]
    (default: this machine's physical memory)."""
    limit = machine_memory() if max_memory is None else float(max_memory)
    if limit > 0 and est["memory_bytes"] > limit:
        raise ParameterError(
            parameter,
            f"the mesh would have ~{est['cells']:.3g} cells ({est['vertices']:.3g} vertices) and need ~"
            f"{est['memory_bytes'] / 2**30:.3g} GiB, more than the {limit / 2**30:.3g} GiB this machine has; "
            "use a larger cell size")


def warn_resolution(regions: List[dict]) -> List[str]:
    """Warn (MeshSizeWarning) for cells larger than a magnetic region's exchange length or than a
    region's thickness; ``regions``: [{"name", "h", "material", "thickness" (or None), "param"}].
    Returns the messages."""
    msgs = []
    for r in regions:
        lex = exchange_length(r["material"])
        if lex is not None and r["h"] > lex * (1 + 1e-9):
            msgs.append(f"{r['param']}: cell size {r['h'] * 1e9:.3g} nm in magnetic region '{r['name']}' exceeds its "
                        f"exchange length sqrt(2A/(mu0 Ms^2)) = {lex * 1e9:.3g} nm: textures are under-resolved")
        t = r.get("thickness")
        if t is not None and r["h"] > t * (1 + 1e-9):
            msgs.append(f"{r['param']}: cell size {r['h'] * 1e9:.3g} nm exceeds the thickness {t * 1e9:.3g} nm of "
                        f"'{r['name']}' (less than one cell across)")
    for m in msgs:
        warnings.warn(m, MeshSizeWarning, stacklevel=3)
    return msgs
