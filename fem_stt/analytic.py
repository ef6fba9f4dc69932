"""Closed-form reference solutions used by tests, benchmarks and demos.

Each function cites the paper and equation it implements.
"""
from __future__ import annotations

import math

import numpy as np


def _aharoni_dz(a: float, b: float, c: float) -> float:
    """D_z of a 2a x 2b x 2c prism: Aharoni, J. Appl. Phys. 83, 3432 (1998), Eq. (1)."""
    r = math.sqrt(a * a + b * b + c * c)
    ab, bc, ac = math.sqrt(a * a + b * b), math.sqrt(b * b + c * c), math.sqrt(a * a + c * c)
    pi_dz = ((b * b - c * c) / (2 * b * c) * math.log((r - a) / (r + a))
             + (a * a - c * c) / (2 * a * c) * math.log((r - b) / (r + b))
             + b / (2 * c) * math.log((ab + a) / (ab - a))
             + a / (2 * c) * math.log((ab + b) / (ab - b))
             + c / (2 * a) * math.log((bc - b) / (bc + b))
             + c / (2 * b) * math.log((ac - a) / (ac + a))
             + 2 * math.atan(a * b / (c * r))
             + (a**3 + b**3 - 2 * c**3) / (3 * a * b * c)
             + (a * a + b * b - 2 * c * c) / (3 * a * b * c) * r
             + c / (a * b) * (ac + bc)
             - (ab**3 + bc**3 + ac**3) / (3 * a * b * c))
    return pi_dz / math.pi


def prism_demag_factors(lx: float, ly: float, lz: float) -> np.ndarray:
    """Demagnetizing factors (Nx, Ny, Nz) of a uniformly magnetized rectangular prism.

    Parameters
    ----------
    lx, ly, lz : edge lengths (any common unit), > 0.

    Returns
    -------
    ndarray, shape (3,), summing to 1.

    Source: A. Aharoni, J. Appl. Phys. 83, 3432 (1998), Eq. (1), with the other two
    factors by cyclic permutation of the edges.
    """
    if min(lx, ly, lz) <= 0:
        raise ValueError(f"prism edges must be > 0, got {(lx, ly, lz)}")
    a, b, c = lx / 2, ly / 2, lz / 2
    return np.array([_aharoni_dz(b, c, a), _aharoni_dz(c, a, b), _aharoni_dz(a, b, c)])


def ellipsoid_demag_factors(a: float, b: float, c: float) -> np.ndarray:
    """Demagnetizing factors of an ellipsoid with semi-axes a, b, c (any common unit).

    N_i = (a b c / 2) int_0^inf ds / ((s + a_i^2) sqrt((s+a^2)(s+b^2)(s+c^2)))
    (Osborn, Phys. Rev. 67, 351 (1945)), evaluated with adaptive quadrature (scipy).
    """
    from scipy.integrate import quad
    ax = (a, b, c)
    out = []
    for ai in ax:
        f = lambda s, ai=ai: 1.0 / ((s + ai * ai) * math.sqrt((s + a * a) * (s + b * b) * (s + c * c)))
        val, _ = quad(f, 0, math.inf, epsabs=0, epsrel=1e-12, limit=200)
        out.append(0.5 * a * b * c * val)
    return np.array(out)
