"""Quantum drift-diffusion with Rashba spin-orbit coupling in a 2D electron gas (seed 001).

Barletti, Holzinger, Jüngel, "Formal derivation of quantum drift-diffusion equations with
spin-orbit interaction" (``../shared/seeds/001_*``), the local model of Theorem 1.2 in the
paper's scaling (Sec. 2.1; lengths in x0, time in t_E = m x0/p0, potential in kB T0/q,
density matrix N = n0 s0 + eps n.s):

- charge, density-gradient model (6):
  ``d_t n0 = tau div(grad n0 + n0 grad V - (eps^2/6) n0 grad(Lap sqrt n0 / sqrt n0))``
  (:class:`DensityGradient`, unknowns rho = log n0 and the quasi-Fermi potential F);
- spin, eq. (7) (fourth order, eps > 0) and its eps -> 0 limit (10)
  ``d_t n = tau div(grad n + n grad V) - 2 alpha tau (2 grad^perp x n + grad^perp V x n)
  - 4 alpha^2 tau (n1, n2, 2 n3)`` (:class:`SpinDiffusion`);
- SI front end (:mod:`.units`: effective mass, Rashba constant [eV m], mobility, temperature,
  channel size, bias -> eps, alpha, tau, E) and a device model with outputs
  (:class:`RashbaChannel`);
- meshes: :class:`Channel` (1D interval, 2D Gmsh rectangle or a user's ``.msh`` with named
  contacts and walls);
- independent references (:mod:`.reference1d`, :mod:`.reference2d`: numpy/scipy only).

Errata and switches (``../shared/models/qdd_rashba.md``): the coefficient c of
grad^perp x n in (7) (2 by default, 1 as printed), the eps^2 spin flux variant
(``spin_flux_eps2``), the wall condition (covariant no-flux by default, plain Neumann).
"""
from .channel import DRAIN, SOURCE, WALLS, Channel
from .charge import DensityGradient
from .spin import SpinDiffusion

__all__ = ["Channel", "DensityGradient", "DRAIN", "SOURCE", "SpinDiffusion", "WALLS"]
