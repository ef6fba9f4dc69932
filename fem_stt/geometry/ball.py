"""A ball B_R with a magnetic subdomain Omega inside it (seed 000, Sec. 2.1-2.2).

The Schrödinger-Poisson-LLG system of seed 000 lives on the ball B_R = {|x| < R}
(wave functions and the Poisson potential vanish on the sphere |x| = R, eqs. 2.45-2.46)
with the magnet Omega inside it (eq. 2.47). The stray field of Omega, however, lives in
all of R^3, so the mesh also carries the open-boundary shell R < |x| < shell_ratio * R
of :mod:`fem_stt.magnetostatics`. Physical groups:

- cells: the magnet's name (default ``Omega``), ``air`` (B_R minus Omega), ``shell``;
- facets: ``ball_boundary`` (the sphere |x| = R), ``outer_boundary`` (outside of the shell).

Lengths are in the units of the study (the quantum module uses the seed's scaled units);
the ball is centred at the origin.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Optional

import numpy as np

from ..errors import ParameterError, require_positive
from . import builder
from .shapes import Body, Surrounding
from .stack import _body_maker, _body_points, _Meshable

BALL_BOUNDARY = "ball_boundary"


@dataclasses.dataclass(frozen=True)
class BallGeometry(_Meshable):
    """Ball of radius ``radius`` around the origin containing the magnet ``magnet``.

    Parameters
    ----------
    radius : float
        R, radius of the ball (> 0).
    magnet : Body
        The magnetic subdomain Omega ("sphere", "box" or "ellipsoid"); must lie strictly
        inside the ball (a gap of at least ``mesh_size / 2``).
    mesh_size : float
        Cell size in the ball (> 0); the magnet uses ``magnet.mesh_size`` if given.
    shell_ratio : float
        Outer over inner radius of the open-boundary shell (> 1).
    shell_mesh_size : float, optional
        Cell size in the shell (default ``2 * mesh_size``); the shell only carries the
        stray-field potential.
    name : str
        Mesh file stem.

    Raises
    ------
    ParameterError
        For a non-positive size, a bad magnet, or a magnet not strictly inside the ball
        (parameter ``magnet``), before any meshing.
    """

    radius: float
    magnet: Body
    mesh_size: float
    shell_ratio: float = 2.0
    shell_mesh_size: Optional[float] = None
    name: str = "ball"

    def __post_init__(self):
        R = require_positive("radius", self.radius)
        require_positive("mesh_size", self.mesh_size)
        if self.shell_mesh_size is not None:
            require_positive("shell_mesh_size", self.shell_mesh_size)
        if not float(self.shell_ratio) > 1.0 or not math.isfinite(float(self.shell_ratio)):
            raise ParameterError("shell_ratio", f"must be > 1, got {self.shell_ratio!r}")
        if not isinstance(self.magnet, Body):
            raise ParameterError("magnet", "must be a fem_stt.geometry.Body (sphere, box or ellipsoid)")
        mats = builder_validate(self.magnet, self.mesh_size)
        object.__setattr__(self, "_materials", mats)
        pts = _body_points(self.magnet)
        if self.magnet.shape == "box":
            far = float(np.linalg.norm(pts, axis=1).max())
        elif self.magnet.shape == "sphere":
            far = float(np.linalg.norm(self.magnet.center)) + self.magnet.size[0] / 2
        else:
            far = float(np.linalg.norm(self.magnet.center)) + max(self.magnet.size) / 2
        if far > R - 0.5 * float(self.mesh_size):
            raise ParameterError("magnet", f"Omega must lie inside the ball: its farthest point is at |x| = {far:.4g}, "
                                           f"the ball radius is {R:.4g} (a gap of at least mesh_size/2 = "
                                           f"{0.5 * self.mesh_size:.4g} is required)")
        object.__setattr__(self, "surrounding",
                           Surrounding(shape="sphere", size=(2 * R, 2 * R, 2 * R), shell_ratio=self.shell_ratio,
                                       mesh_size=self.mesh_size, grading=2.0))
        object.__setattr__(self, "_shell", builder.ShellGeometry("sphere", (0.0, 0.0, 0.0), (R, R, R),
                                                                 float(self.shell_ratio)))

    def _solids(self):
        b = self.magnet
        return [builder.Solid(b.name, self._materials[0], float(b.mesh_size or self.mesh_size), _body_maker(b),
                              _body_points(b), param="magnet")]

    def spec(self) -> dict:
        return {"kind": "ball", "radius": self.radius,
                "magnet": dict(dataclasses.asdict(self.magnet), material=builder.material_to_dict(self._materials[0])),
                "mesh_size": self.mesh_size, "shell_ratio": self.shell_ratio, "shell_mesh_size": self.shell_mesh_size}

    def _facets(self, gmsh, vol_of, unit):
        R = self.radius / unit
        tol = 1e-3 * R
        magnet = {t for d, t in gmsh.model.getBoundary([(3, v) for v in vol_of[self.magnet.name]], oriented=False)}
        out = []
        for d, t in gmsh.model.getEntities(2):
            if t in magnet:
                continue
            bb = gmsh.model.getBoundingBox(2, t)
            if all(abs(abs(c) - R) < tol for c in bb):
                out.append(t)
        return {BALL_BOUNDARY: sorted(out)}

    def _estimate_parts(self):
        """Regions for :meth:`mesh_estimate`: the magnet and the rest of the ball, both at
        their cell sizes (the shell beyond R is the estimate's graded air region)."""
        b = self.magnet
        a, bb, c = (x / 2 for x in b.size) if b.shape != "sphere" else (b.size[0] / 2,) * 3
        vol = 8 * a * bb * c if b.shape == "box" else 4 / 3 * math.pi * a * bb * c
        h = float(b.mesh_size or self.mesh_size)
        ball = 4 / 3 * math.pi * float(self.radius) ** 3
        regions = [{"name": b.name, "volume": vol, "h": h, "material": self._materials[0],
                    "thickness": 2 * min(a, bb, c), "param": "magnet.mesh_size" if b.mesh_size else "mesh_size"},
                   {"name": "air", "volume": max(ball - vol, 0.0), "h": float(self.mesh_size),
                    "material": _Vacuum(),
                    "thickness": 2 * float(self.radius), "param": "mesh_size"}]
        return regions, [], 0.0

    def _builder_kwargs(self) -> dict:
        return {"facet_groups": self._facets,
                "shell_size": self.shell_mesh_size if self.shell_mesh_size is not None else 2.0 * self.mesh_size}


def builder_validate(body: Body, mesh_size: float):
    """Validate the magnet body (name, shape, sizes, material); returns ``[Material]``."""
    from .shapes import validate_bodies
    try:
        return validate_bodies([body], mesh_size)
    except ParameterError as e:
        raise ParameterError(e.parameter.replace("bodies[0]", "magnet"), str(e).split(": ", 1)[1]) from None


class _Vacuum:
    """Material stand-in for the non-magnetic part of the ball in :meth:`BallGeometry.mesh_estimate`."""
    name = "vacuum"
    Ms = 0.0
