"""Schrödinger-Poisson(-LLG) on bounded balls (seed 000), in the seed's scaled units."""
from .schrodinger import SchrodingerPoisson
from .space import QuantumSpace, scaled_material, spinor
from .spllg import SPLLG, SpinDensityField
from .states import MixedState, ball_eigenpairs

__all__ = ["MixedState", "QuantumSpace", "SPLLG", "SchrodingerPoisson", "SpinDensityField", "ball_eigenpairs",
           "scaled_material", "spinor"]
