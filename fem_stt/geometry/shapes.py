"""Geometric descriptions (no Gmsh calls): cross-sections, layers, bodies, surroundings.

All lengths are in metres. Every constructor validates its input and raises
:class:`fem_stt.errors.ParameterError` naming the parameter, so that bad input is
caught before any meshing starts.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Optional, Sequence, Tuple, Union

from ..errors import ParameterError, require_positive
from ..materials import Material, get_material

#: Physical-group names reserved for the non-magnetic surroundings and the open boundary.
AIR = "air"
SHELL = "shell"
OUTER_BOUNDARY = "outer_boundary"
BOTTOM_ELECTRODE = "bottom_electrode"
TOP_ELECTRODE = "top_electrode"
RESERVED_NAMES = (AIR, SHELL, OUTER_BOUNDARY, BOTTOM_ELECTRODE, TOP_ELECTRODE)


def interface_name(lower: str, upper: str) -> str:
    """Physical-group name of the interface facets between two adjacent layers."""
    return f"interface_{lower}_{upper}"


def _check_name(parameter: str, name) -> str:
    if not isinstance(name, str) or not name or not name.replace("_", "").replace("-", "").isalnum():
        raise ParameterError(parameter, f"must be a non-empty name of letters, digits, '_' or '-', got {name!r}")
    if name in RESERVED_NAMES or name.startswith("interface_"):
        raise ParameterError(parameter, f"{name!r} is reserved for the surroundings; reserved: {list(RESERVED_NAMES)} and 'interface_*'")
    return name


@dataclasses.dataclass(frozen=True)
class CrossSection:
    """Lateral (x, y) cross-section of a layer, centred on the stack axis.

    Parameters
    ----------
    shape : {"rectangle", "ellipse", "circle"}
    width : float
        Extent along x [m] (the diameter of a circle), > 0.
    depth : float, optional
        Extent along y [m], > 0; must be omitted or equal to ``width`` for a circle.
    """

    shape: str
    width: float
    depth: Optional[float] = None

    def __post_init__(self):
        if self.shape not in ("rectangle", "ellipse", "circle"):
            raise ParameterError("cross_section.shape", f"must be 'rectangle', 'ellipse' or 'circle', got {self.shape!r}")
        require_positive("cross_section.width", self.width, "m")
        if self.shape == "circle":
            if self.depth is not None and float(self.depth) != float(self.width):
                raise ParameterError("cross_section.depth", "a circle has depth == width (its diameter); use 'ellipse'")
            object.__setattr__(self, "depth", float(self.width))
        else:
            if self.depth is None:
                raise ParameterError("cross_section.depth", f"is required for a {self.shape}")
            require_positive("cross_section.depth", self.depth, "m")
        object.__setattr__(self, "width", float(self.width))
        object.__setattr__(self, "depth", float(self.depth))

    @property
    def area(self) -> float:
        """Cross-section area [m^2]."""
        if self.shape == "rectangle":
            return self.width * self.depth
        return math.pi * self.width * self.depth / 4.0

    def fits_inside(self, other: "CrossSection") -> bool:
        """True if this cross-section lies inside ``other`` (both centred on the axis)."""
        if other.shape == "rectangle":
            return self.width <= other.width * (1 + 1e-12) and self.depth <= other.depth * (1 + 1e-12)
        # other is an ellipse: test the extreme points of self
        a, b = other.width / 2.0, other.depth / 2.0
        if self.shape == "rectangle":
            pts = [(self.width / 2.0, self.depth / 2.0)]
        else:
            t = [k * math.pi / 180.0 for k in range(0, 91)]
            pts = [(self.width / 2.0 * math.cos(s), self.depth / 2.0 * math.sin(s)) for s in t]
        return all((x / a) ** 2 + (y / b) ** 2 <= 1.0 + 1e-12 for x, y in pts)


def rectangle(width: float, depth: float) -> CrossSection:
    """Rectangular cross-section ``width`` (x) by ``depth`` (y) [m]."""
    return CrossSection("rectangle", width, depth)


def ellipse(width: float, depth: float) -> CrossSection:
    """Elliptic cross-section with axes ``width`` (x) and ``depth`` (y) [m]."""
    return CrossSection("ellipse", width, depth)


def circle(diameter: float) -> CrossSection:
    """Circular cross-section of the given diameter [m]."""
    return CrossSection("circle", diameter)


@dataclasses.dataclass(frozen=True)
class Layer:
    """One layer of a stack along z.

    Parameters
    ----------
    name : str
        Physical-group name of the layer's cells (e.g. ``"FM1"``).
    thickness : float
        Extent along z [m], > 0.
    material : str or Material
        A library name (see :data:`fem_stt.materials.LIBRARY`) or a :class:`Material`.
    cross_section : CrossSection
        Lateral shape.
    mesh_size : float, optional
        Target cell size in the layer [m]; defaults to the stack's ``mesh_size``.
    """

    name: str
    thickness: float
    material: Union[str, Material]
    cross_section: CrossSection
    mesh_size: Optional[float] = None


@dataclasses.dataclass(frozen=True)
class Body:
    """A magnetic (or conducting) body of simple shape, for studies that are not layer stacks.

    Parameters
    ----------
    name : str
        Physical-group name.
    material : str or Material
    shape : {"box", "sphere", "ellipsoid"}
    center : 3 floats [m]
    size : 3 floats [m]
        Edge lengths of a box, or diameters of an ellipsoid; a sphere uses ``size[0]``.
    mesh_size : float, optional
        Target cell size [m].
    """

    name: str
    material: Union[str, Material]
    shape: str
    center: Tuple[float, float, float]
    size: Tuple[float, float, float]
    mesh_size: Optional[float] = None


@dataclasses.dataclass(frozen=True)
class Surrounding:
    """Non-magnetic region around the magnets plus an outer shell for the open boundary.

    The shell carries the transformation of Brunotte, Meunier & Imhoff (IEEE Trans.
    Magn. 28, 1663 (1992)) that maps it onto all of the exterior space, so the stray
    field decays as in free space (see :mod:`fem_stt.magnetostatics`).

    Parameters
    ----------
    shape : {"box", "sphere"}
        Shape of the air region and of the shell around it.
    padding : float
        Gap between the magnets' bounding box and the air region's boundary, as a
        fraction (> 0) of the largest extent of the bounding box.
    shell_ratio : float
        Outer over inner size of the shell, > 1.
    mesh_size : float, optional
        Cell size at the shell [m] (the air cells grade from the magnet size to this).
    grading : float
        Growth rate of the cell size with distance from the magnets, in (0, 2].
    size : 3 floats, optional
        Explicit extents (x, y, z) [m] of the air region (box), or its diameter in
        ``size[0]`` (sphere), centred on the magnets; overrides ``padding``. The magnets
        must fit strictly inside it.
    """

    shape: str = "box"
    padding: float = 0.5
    shell_ratio: float = 2.0
    mesh_size: Optional[float] = None
    grading: float = 0.5
    size: Optional[Tuple[float, float, float]] = None

    def __post_init__(self):
        if self.shape not in ("box", "sphere"):
            raise ParameterError("surrounding.shape", f"must be 'box' or 'sphere', got {self.shape!r}")
        require_positive("surrounding.padding", self.padding)
        if not float(self.shell_ratio) > 1.0 or not math.isfinite(float(self.shell_ratio)):
            raise ParameterError("surrounding.shell_ratio", f"must be > 1 (outer/inner shell size), got {self.shell_ratio!r}")
        if self.mesh_size is not None:
            require_positive("surrounding.mesh_size", self.mesh_size, "m")
        g = float(self.grading)
        if not 0.0 < g <= 2.0:
            raise ParameterError("surrounding.grading", f"must be in (0, 2], got {self.grading!r}")
        if self.size is not None:
            if len(self.size) != 3:
                raise ParameterError("surrounding.size", f"must be 3 numbers [m], got {self.size!r}")
            for k in range(3 if self.shape == "box" else 1):
                require_positive(f"surrounding.size[{k}]", self.size[k], "m")


def validate_layers(layers: Sequence[Layer], mesh_size: float, interface_mesh_size: Optional[float]):
    """Check a layer list; return the resolved materials. Raises ParameterError."""
    if not layers:
        raise ParameterError("layers", "must contain at least one Layer")
    require_positive("mesh_size", mesh_size, "m")
    if interface_mesh_size is not None:
        require_positive("interface_mesh_size", interface_mesh_size, "m")
    seen = set()
    materials = []
    for i, layer in enumerate(layers):
        p = f"layers[{i}]"
        if not isinstance(layer, Layer):
            raise ParameterError(p, f"must be a fem_stt.geometry.Layer, got {type(layer).__name__}")
        _check_name(f"{p}.name", layer.name)
        if layer.name in seen:
            raise ParameterError(f"{p}.name", f"duplicate layer name {layer.name!r}")
        seen.add(layer.name)
        require_positive(f"{p}.thickness", layer.thickness, "m")
        if not isinstance(layer.cross_section, CrossSection):
            raise ParameterError(f"{p}.cross_section", "must be a CrossSection (rectangle(), ellipse() or circle())")
        if layer.mesh_size is not None:
            require_positive(f"{p}.mesh_size", layer.mesh_size, "m")
        materials.append(get_material(layer.material, f"{p}.material"))
    return materials


def validate_bodies(bodies: Sequence[Body], mesh_size: float):
    """Check a body list; return the resolved materials. Raises ParameterError."""
    if not bodies:
        raise ParameterError("bodies", "must contain at least one Body")
    require_positive("mesh_size", mesh_size, "m")
    seen = set()
    materials = []
    for i, b in enumerate(bodies):
        p = f"bodies[{i}]"
        _check_name(f"{p}.name", b.name)
        if b.name in seen:
            raise ParameterError(f"{p}.name", f"duplicate body name {b.name!r}")
        seen.add(b.name)
        if b.shape not in ("box", "sphere", "ellipsoid"):
            raise ParameterError(f"{p}.shape", f"must be 'box', 'sphere' or 'ellipsoid', got {b.shape!r}")
        if len(b.center) != 3 or not all(math.isfinite(float(c)) for c in b.center):
            raise ParameterError(f"{p}.center", f"must be 3 finite numbers [m], got {b.center!r}")
        if len(b.size) != 3:
            raise ParameterError(f"{p}.size", f"must be 3 numbers [m], got {b.size!r}")
        for k in range(3 if b.shape != "sphere" else 1):
            require_positive(f"{p}.size[{k}]", b.size[k], "m")
        if b.mesh_size is not None:
            require_positive(f"{p}.mesh_size", b.mesh_size, "m")
        materials.append(get_material(b.material, f"{p}.material"))
    return materials
