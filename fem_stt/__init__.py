"""fem_stt: finite-element spin-transfer torque in magnetic multilayers (DOLFINx, Gmsh, PETSc)."""
import os as _os

# numba's colored error messages start colorama, whose exit handler writes "\x1b[0m" to stdout
# (into the middle of another rank's output under mpirun); plain messages avoid that. Set here,
# before any module of the package imports numba.
_os.environ.setdefault("NUMBA_DISABLE_ERROR_MESSAGE_HIGHLIGHTING", "1")

__version__ = "0.1.0"

from .errors import MeshError, ParameterError, SolverError  # noqa: F401
from .materials import LIBRARY, Material, get_material  # noqa: F401

__all__ = ["LIBRARY", "Material", "MeshError", "ParameterError", "SolverError", "get_material", "__version__"]
