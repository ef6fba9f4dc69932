"""Quantum models, each in its seed's scaled units.

- Schrödinger-Poisson(-LLG) on bounded balls (seed 000): this package's modules
  (:class:`SchrodingerPoisson`, :class:`SPLLG`, ...).
- Quantum drift-diffusion with Rashba spin-orbit coupling in a 2D electron gas (seed 001):
  the subpackage :mod:`fem_stt.quantum.qdd`.
"""
from .schrodinger import SchrodingerPoisson
from .space import QuantumSpace, scaled_material, spinor
from .spllg import SPLLG, SpinDensityField
from .states import MixedState, ball_eigenpairs

__all__ = ["MixedState", "QuantumSpace", "SPLLG", "SchrodingerPoisson", "SpinDensityField", "ball_eigenpairs",
           "scaled_material", "spinor"]
