"""fem_stt: finite-element spin-transfer torque in magnetic multilayers (DOLFINx, Gmsh, PETSc)."""
__version__ = "0.1.0"

from .errors import MeshError, ParameterError, SolverError  # noqa: F401
from .materials import LIBRARY, Material, get_material  # noqa: F401

__all__ = ["LIBRARY", "Material", "MeshError", "ParameterError", "SolverError", "get_material", "__version__"]
