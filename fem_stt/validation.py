"""Validation cases with independent reference answers, shared by tests and benchmarks.

Demagnetizing factors of uniformly magnetized bodies: rectangular prisms against
Aharoni's closed form (J. Appl. Phys. 83, 3432 (1998)), spheres against 1/3.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Optional, Tuple

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


#: cells through the film's thickness of the SP4 demo's FEM-BEM mesh, with m uniform through them
#: (README, "mesh study")
SP4_CELLS_ALONG_Z = 3


def require_cells_along_z(n) -> None:
    """ParameterError unless ``n`` is None (unstructured mesh) or an integer >= 1."""
    if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1):
        raise ParameterError("cells_along_z", f"must be an integer >= 1 (or None: unstructured mesh), got {n!r}")


def sp4_mesh_options(cells_along_z=None, thin_film=None, open_boundary: str = "fembem"):
    """The SP4 runs' mesh choice, resolved and validated: returns (cells_along_z or None, thin_film).

    ``cells_along_z``: None for the default (:data:`SP4_CELLS_ALONG_Z` extruded cells with FEM-BEM,
    an unstructured mesh with the shell), 0 for an unstructured mesh, N >= 1 for N extruded cells
    (FEM-BEM only). ``thin_film`` (LLG: m uniform through the thickness): None for True exactly on an
    extruded mesh. Raises ParameterError (``cells_along_z``, ``thin_film``) before any work.
    """
    if cells_along_z is None:
        cells_along_z = SP4_CELLS_ALONG_Z if open_boundary == "fembem" else 0
    if not (isinstance(cells_along_z, (int, np.integer)) and not isinstance(cells_along_z, bool) and cells_along_z == 0):
        require_cells_along_z(cells_along_z)
    cells_along_z = cells_along_z or None  # None: unstructured
    if cells_along_z is not None and open_boundary != "fembem":
        raise ParameterError("cells_along_z", "an extruded mesh needs open_boundary='fembem' (0: unstructured mesh)")
    if thin_film is None:
        thin_film = cells_along_z is not None
    if not isinstance(thin_film, (bool, np.bool_)):
        raise ParameterError("thin_film", f"must be True, False or None, got {thin_film!r}")
    if thin_film and cells_along_z is None:
        raise ParameterError("thin_film", "needs an extruded mesh (cells_along_z >= 1)")
    return cells_along_z, bool(thin_film)


def sp4_domain(h: float, comm=None, mesh_dir=Path("meshes"), open_boundary: str = "fembem",
               edge_size: Optional[float] = None, cells_along_z: Optional[int] = None,
               size: Tuple[float, float] = (500 * NM, 125 * NM)):
    """The SP4 film (region ``film``, 500 x 125 x 3 nm; ``size`` [m] for another in-plane size of the
    same film and mesh) with cell size ``h`` [m].

    ``open_boundary="fembem"``: the film alone (for :class:`fem_stt.fembem.FemBemStrayField`);
    ``"shell"``: the film in an air box + shell. ``edge_size`` [m]: finer cells near the
    film's edges (where the stray field of the film is singular). ``cells_along_z`` (an
    integer >= 1): one triangulation of the film extruded through its thickness in that many
    cells (:class:`LayerStack` ``extruded``; ``"fembem"`` only); None: an unstructured mesh.
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
    require_cells_along_z(cells_along_z)
    extruded = cells_along_z is not None
    tag += f"_extruded{cells_along_z}" if extruded else ""
    lx, ly = size
    name = "sp4" if (lx, ly) == (500 * NM, 125 * NM) else f"film_{lx / NM:g}x{ly / NM:g}nm"
    film = Layer("film", 3 * NM, py, rectangle(lx, ly), mesh_size=3 * NM / cells_along_z if extruded else None)
    st = LayerStack([film], mesh_size=h, surrounding=sur,
                    edge_mesh_size=edge_size, name=f"{name}_h{h / NM:g}nm{tag}", extruded=extruded)
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


# ---------------------------------------------------------------------------- muMAG SP5
#: muMAG standard problem 5 (https://www.ctcms.nist.gov/~rdm/std5/spec5.xhtml; Najafi et al.,
#: J. Appl. Phys. 105, 113914 (2009)): permalloy 100 x 100 x 10 nm, Ms = 8e5 A/m,
#: A = 1.3e-11 J/m, alpha = 0.1, gamma0 = 2.211e5 m/(A s), no anisotropy; relaxed vortex, then a
#: charge current j = 1e12 A/m^2 along +x with P = 1 and non-adiabaticity xi = 0.05
#: (Zhang & Li, PRL 93, 127204 (2004); seed 003 eq. 37).
SP5_SIZE = (100 * NM, 100 * NM, 10 * NM)
SP5_MATERIAL = {"Ms": 8.0e5, "A": 1.3e-11, "alpha": 0.1, "gamma0": 2.211e5}
SP5_CURRENT = 1e12  # |j| [A/m^2], along +x
SP5_POLARIZATION = 1.0
SP5_XI = 0.05
#: <m>(1 ns), mumax3 regression value (32 x 32 x 4 cells; shared/reference/README.md)
SP5_M_1NS_MUMAX3 = (-0.23480, -0.09454, 0.02296)
#: published bounds over 0 ... 8 ns (shared/reference/README.md): min <m_x> and max <m_x>
SP5_MX_MIN_BOUNDS = (-0.35, -0.30)
SP5_MX_MAX_BOUNDS = (-0.03, 0.0)


def sp5_drift_speed(j: float = SP5_CURRENT, P: float = SP5_POLARIZATION, Ms: float = SP5_MATERIAL["Ms"],
                    xi: Optional[float] = None) -> float:
    """Drift speed |u| = mu_B P j / (e Ms) [m/s] of the SP5 specification (72.35 m/s for the
    SP5 values); with ``xi`` the Zhang-Li/mumax3 convention |u| / (1 + xi^2) (72.17 m/s).

    fem_stt's :class:`fem_stt.spin.ZhangLiTorque` uses the first (no 1/(1 + xi^2)); its u points
    along the electron flow, i.e. along -j for a charge current j (fem_stt.spin.parameters).
    Raises ParameterError for j, Ms <= 0, P outside [0, 1] or xi < 0.
    """
    from .constants import E_CHARGE, MU_B
    from .errors import require_nonnegative, require_positive
    require_positive("j", j, "A/m^2")
    require_positive("Ms", Ms, "A/m")
    if not 0.0 <= float(P) <= 1.0:
        raise ParameterError("P", f"must be in [0, 1], got {P!r}")
    u = MU_B * float(P) * float(j) / (E_CHARGE * float(Ms))
    if xi is not None:
        u /= 1.0 + require_nonnegative("xi", xi) ** 2
    return u


def sp5_domain(h: float, comm=None, mesh_dir=Path("meshes"), edge_size: Optional[float] = None):
    """The SP5 film (region ``film``, 100 x 100 x 10 nm, centred on the z axis, z in [0, 10 nm]),
    meshed alone (no air; for the FEM-BEM stray field) with cell size ``h`` [m] and, with
    ``edge_size`` [m], finer cells along the film's edges. Raises ParameterError for h <= 0."""
    from mpi4py import MPI
    from .errors import require_positive
    from .geometry.stack import _spec_hash
    from .materials import Material
    require_positive("h", h, "m")
    comm = comm or MPI.COMM_WORLD
    py = Material("Py_sp5", **SP5_MATERIAL)
    tag = f"_e{edge_size / NM:g}nm" if edge_size else ""
    st = LayerStack([Layer("film", SP5_SIZE[2], py, rectangle(SP5_SIZE[0], SP5_SIZE[1]))], mesh_size=h,
                    surrounding=None, edge_mesh_size=edge_size, name=f"sp5_h{h / NM:g}nm{tag}")
    return st.mesh(path=Path(mesh_dir) / f"{st.name}_{_spec_hash(st.spec())[:8]}.msh", comm=comm)


def sp5_vortex(circulation: int = 1, polarity: int = 1, core_radius: float = 10 * NM, center=(0.0, 0.0)):
    """Vortex start for relaxing the SP5 state, as a callable x (3, n) [m] -> (3, n).

    m ~ (-c (y - yc), c (x - xc), p r0 exp(-r^2 / r0^2)) (not normalized; the LLG normalizes),
    r the distance to ``center`` (xc, yc) [m] in the film plane, r0 = ``core_radius`` [m]:
    ``circulation`` c = +1 is counter-clockwise seen from +z, ``polarity`` p = +1 a core along +z
    (mumax3's ``vortex(1, 1)``, the start of the SP5 reference runs). At the centre m = (0, 0, p).
    Raises ParameterError unless c, p are +1 or -1 and r0 > 0.
    """
    from .errors import require_positive
    if circulation not in (1, -1):
        raise ParameterError("circulation", f"must be +1 (counter-clockwise) or -1, got {circulation!r}")
    if polarity not in (1, -1):
        raise ParameterError("polarity", f"must be +1 (core along +z) or -1, got {polarity!r}")
    r0 = require_positive("core_radius", core_radius, "m")
    xc, yc = (float(v) for v in center)

    def m0(x):
        dx, dy = x[0] - xc, x[1] - yc
        return np.vstack([-circulation * dy, circulation * dx,
                          polarity * r0 * np.exp(-(dx**2 + dy**2) / r0**2)])
    return m0


def vortex_core_position(llg, threshold: float = 0.5) -> np.ndarray:
    """In-plane vortex-core centre (x, y) [m]: the centroid of (|m_z| - threshold)_+ over the
    magnet's vertices, weighted by the lumped vertex volumes. Collective (call on every rank).
    Returns (nan, nan) if |m_z| <= threshold everywhere. Raises ParameterError unless
    0 <= threshold < 1."""
    if not 0.0 <= float(threshold) < 1.0:
        raise ParameterError("threshold", f"must be in [0, 1), got {threshold!r}")
    mv = llg.mv
    w = sum(mv.region_weights[r] for r in mv.regions)
    x = mv.Vm.tabulate_dof_coordinates()[: mv.n_local]
    wz = w * np.clip(np.abs(llg.m_array[:, 2]) - threshold, 0.0, None)
    den = mv.owned_sum(wz)
    if not den > 0:
        return np.array([np.nan, np.nan])
    return np.array([mv.owned_sum(wz * x[:, 0]), mv.owned_sum(wz * x[:, 1])]) / den
