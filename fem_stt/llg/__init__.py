"""Landau-Lifshitz-Gilbert: effective-field terms and energies (field), tangent-plane integrator."""
from .field import Exchange, LocalTerms, MagneticVertices
from .integrator import LLG, tangent_basis

__all__ = ["Exchange", "LocalTerms", "MagneticVertices", "LLG", "tangent_basis"]
