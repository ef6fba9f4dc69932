"""Validation cases with independent reference answers, shared by tests and benchmarks.

Demagnetizing factors of uniformly magnetized bodies: rectangular prisms against
Aharoni's closed form (J. Appl. Phys. 83, 3432 (1998)), spheres against 1/3.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Optional

import numpy as np

from .analytic import prism_demag_factors
from .constants import MU0
from .errors import ParameterError
from .geometry import Body, BodyGeometry, Layer, LayerStack, Surrounding, rectangle

NM = 1e-9


@dataclasses.dataclass(frozen=True)
class DemagCase:
    """A body, its reference demag factors (Nx, Ny, Nz) and its exact volume [m^3]."""

    shape: str  # "prism" or "sphere"
    dims: tuple  # edge lengths [m] (prism) or diameter (sphere)
    N_ref: tuple
    volume: float

    def geometry(self, h: float, surrounding: Optional[Surrounding] = None, name: Optional[str] = None,
                 magnet_only: bool = False):
        """Gmsh geometry of the case with cell size ``h`` [m] in the magnet; ``magnet_only``:
        no air and no shell (for FEM-BEM)."""
        sur = None if magnet_only else (surrounding or Surrounding())
        tag = name or (f"demag_{self.shape}_{'x'.join(f'{d / NM:g}' for d in self.dims)}_h{h / NM:g}"
                       + ("_bare" if magnet_only else ""))
        if self.shape == "prism":
            return LayerStack([Layer("magnet", self.dims[2], "Py", rectangle(self.dims[0], self.dims[1]))],
                              mesh_size=h, surrounding=sur, name=tag)
        return BodyGeometry([Body("magnet", "Py", "sphere", (0.0, 0.0, 0.0), (self.dims[0],) * 3)],
                            mesh_size=h, surrounding=sur, name=tag)


def prism_case(lx: float, ly: float, lz: float) -> DemagCase:
    return DemagCase("prism", (lx, ly, lz), tuple(prism_demag_factors(lx, ly, lz)), lx * ly * lz)


def sphere_case(diameter: float) -> DemagCase:
    return DemagCase("sphere", (diameter,), (1 / 3, 1 / 3, 1 / 3), np.pi * diameter**3 / 6)


#: The cases of the foundation issue: cube, 1 x 1 x 0.1, 2 x 1 x 0.5, each layer of the
#: seed device alone (FM1 128x64x200 nm, spacer-sized 128x64x20 nm, FM2 128x64x60 nm), sphere.
CASES = {
    "cube": prism_case(100 * NM, 100 * NM, 100 * NM),
    "plate_1x1x0.1": prism_case(100 * NM, 100 * NM, 10 * NM),
    "prism_2x1x0.5": prism_case(200 * NM, 100 * NM, 50 * NM),
    "seed_FM1": prism_case(128 * NM, 64 * NM, 200 * NM),
    "seed_spacer": prism_case(128 * NM, 64 * NM, 20 * NM),
    "seed_FM2": prism_case(128 * NM, 64 * NM, 60 * NM),
    "sphere": sphere_case(100 * NM),
}


def run_demag_case(case: DemagCase, h: float, comm=None, mesh_dir=Path("meshes"), surrounding=None,
                   open_boundary: str = "shell", **solver_kw):
    """Mesh ``case`` at cell size ``h`` [m], solve for m along x, y, z.

    ``open_boundary``: ``"shell"`` (:class:`~fem_stt.magnetostatics.StrayField`, magnet in air
    + shell) or ``"fembem"`` (:class:`~fem_stt.fembem.FemBemStrayField`, the magnet alone).

    Returns a dict with ``N`` (3x3 tensor), ``energy`` (3 energies [J], m along x, y, z),
    ``dofs``, ``cells`` and ``volume`` (mesh volume of the magnet [m^3]).
    """
    from mpi4py import MPI

    from .fembem import FemBemStrayField
    from .magnetostatics import StrayField, demag_tensor

    if open_boundary not in ("shell", "fembem"):
        raise ParameterError("open_boundary", f"must be 'shell' or 'fembem', got {open_boundary!r}")
    comm = comm or MPI.COMM_WORLD
    geo = case.geometry(h, surrounding, magnet_only=open_boundary == "fembem")
    from .geometry.stack import _spec_hash
    dom = geo.mesh(path=Path(mesh_dir) / f"{geo.name}_{_spec_hash(geo.spec())[:8]}.msh", comm=comm)
    solver = (StrayField if open_boundary == "shell" else FemBemStrayField)(dom, **solver_kw)
    Ms = dom.materials["magnet"].Ms
    N, E = demag_tensor(solver, return_energies=True)
    return {"N": N, "energy": E, "dofs": solver.num_dofs, "cells": dom.num_cells_global(),
            "volume": dom.volume("magnet"), "Ms": Ms, "iterations": getattr(solver, "last_iterations", 0)}


def energy_reference(case: DemagCase, Ms: float) -> np.ndarray:
    """(mu0/2) N_i Ms^2 V for m along each axis [J]."""
    return 0.5 * MU0 * np.asarray(case.N_ref) * Ms**2 * case.volume


# ---------------------------------------------------------------------------- muMAG SP4
#: muMAG standard problem 4 (https://www.ctcms.nist.gov/~rdm/std4/spec4.html):
#: permalloy film 500 x 125 x 3 nm, Ms = 8e5 A/m, A = 1.3e-11 J/m, alpha = 0.02.
SP4_FIELDS_mT = {1: (-24.6, 4.3, 0.0), 2: (-35.5, -6.3, 0.0)}
SP4_S_STATE = (0.96697, 0.12527, 0.0)  # relaxed <m>, mumax3 (shared/reference/README.md)
SP4_CROSSING_PS = {1: 138.419, 2: 136.685}  # first zero crossing of <mx>, NIST/OOMMF 1 nm cells


def sp4_domain(h: float, comm=None, mesh_dir=Path("meshes"), open_boundary: str = "fembem",
               edge_size: Optional[float] = None):
    """The SP4 film (region ``film``, 500 x 125 x 3 nm) with cell size ``h`` [m].

    ``open_boundary="fembem"``: the film alone (for :class:`fem_stt.fembem.FemBemStrayField`);
    ``"shell"``: the film in an air box + shell. ``edge_size`` [m]: finer cells near the
    film's edges (where the stray field of the film is singular).
    """
    from mpi4py import MPI
    from .geometry.stack import _spec_hash
    from .materials import Material
    if open_boundary not in ("fembem", "shell"):
        raise ParameterError("open_boundary", f"must be 'fembem' or 'shell', got {open_boundary!r}")
    comm = comm or MPI.COMM_WORLD
    py = Material("Py_sp4", Ms=8.0e5, A=1.3e-11, alpha=0.02)
    sur = Surrounding(padding=0.2, grading=1.0) if open_boundary == "shell" else None
    tag = "" if open_boundary == "shell" else "_film"
    tag += f"_e{edge_size / NM:g}nm" if edge_size else ""
    st = LayerStack([Layer("film", 3 * NM, py, rectangle(500 * NM, 125 * NM))], mesh_size=h, surrounding=sur,
                    edge_mesh_size=edge_size, name=f"sp4_h{h / NM:g}nm{tag}")
    return st.mesh(path=Path(mesh_dir) / f"{st.name}_{_spec_hash(st.spec())[:8]}.msh", comm=comm)


def first_zero_crossing(t: np.ndarray, y: np.ndarray) -> float:
    """Linearly interpolated time of the first sign change of y(t) (NaN if none)."""
    s = np.sign(y)
    idx = np.flatnonzero(s[1:] * s[:-1] < 0)
    if not len(idx):
        return float("nan")
    i = idx[0]
    return float(t[i] - y[i] * (t[i + 1] - t[i]) / (y[i + 1] - y[i]))


def sp4_initial_state(x):
    """The usual start for relaxing the S-state: m along (1, 0.25, 0.1)."""
    return np.vstack([np.ones_like(x[0]), 0.25 * np.ones_like(x[0]), 0.1 * np.ones_like(x[0])])


def load_oommf_reference(reference_dir: Path, field: int):
    """OOMMF <m_y>(t) trace of SP4 field 1 or 2 from shared/reference/sp4: (t [s], my), or None.

    The files' time column is in seconds (0 ... 5e-9; shared/reference/README.md says ns).
    """
    f = Path(reference_dir) / f"oommf_field{field}_my.csv"
    if not f.is_file():
        return None
    data = np.genfromtxt(f, delimiter=",", skip_header=1)
    t = data[:, 0]
    if t.max() > 1e-6:  # a file in ns
        t = t * 1e-9
    return t, data[:, 1]
