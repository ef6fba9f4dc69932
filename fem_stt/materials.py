"""Material parameter sets in SI units and a small library of common metals.

A :class:`Material` carries the micromagnetic parameters used by the stray-field and
LLG solvers. ``Ms = 0`` marks a non-magnetic conductor or insulator (spacer, vacuum).

Library values are typical room-temperature bulk values; the permalloy set is the
one of muMAG standard problem 4 (https://www.ctcms.nist.gov/~rdm/std4/spec4.html),
the others follow J. M. D. Coey, *Magnetism and Magnetic Materials* (CUP, 2010).
Override them per study with :func:`dataclasses.replace` or a new :class:`Material`.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Dict, Tuple, Union

from .constants import GAMMA0, MU0
from .errors import ParameterError, require_nonnegative, require_positive


@dataclasses.dataclass(frozen=True)
class Material:
    """Micromagnetic parameters of one region (SI units).

    Parameters
    ----------
    name : str
        Label used in output and error messages.
    Ms : float
        Saturation magnetization [A/m], >= 0 (0 = non-magnetic).
    A : float
        Exchange stiffness [J/m], >= 0.
    alpha : float
        Gilbert damping [1], >= 0.
    gamma0 : float
        mu0 * gyromagnetic ratio [m/(A s)], > 0 (default 2.2128e5).
    K1 : float
        Uniaxial anisotropy constant [J/m^3]; energy density -K1 (m.u)^2, so K1 > 0 is an easy axis.
    K1_axis : tuple of 3 floats
        Uniaxial axis u (normalized on construction).
    Kc1 : float
        Cubic anisotropy constant [J/m^3]; energy density Kc1 (a1^2 a2^2 + a2^2 a3^2 + a3^2 a1^2)
        with a_i = m.c_i (seed 000, eq. 1.11); Kc1 > 0 makes the cube axes easy.
    Kc_axes : 2 x 3 floats
        First two cubic axes c1, c2 (orthonormalized on construction; c3 = c1 x c2).

    Raises
    ------
    ParameterError
        If a value is outside its range (the message names the field).
    """

    name: str
    Ms: float
    A: float = 0.0
    alpha: float = 0.0
    gamma0: float = GAMMA0
    K1: float = 0.0
    K1_axis: Tuple[float, float, float] = (0.0, 0.0, 1.0)
    Kc1: float = 0.0
    Kc_axes: Tuple[Tuple[float, float, float], Tuple[float, float, float]] = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0))

    def __post_init__(self):
        require_nonnegative(f"material '{self.name}'.Ms", self.Ms, "A/m")
        require_nonnegative(f"material '{self.name}'.A", self.A, "J/m")
        require_nonnegative(f"material '{self.name}'.alpha", self.alpha)
        require_positive(f"material '{self.name}'.gamma0", self.gamma0, "m/(A s)")
        if not math.isfinite(float(self.K1)):
            raise ParameterError(f"material '{self.name}'.K1", f"must be finite, got {self.K1!r}")
        u = tuple(float(c) for c in self.K1_axis)
        n = math.sqrt(sum(c * c for c in u)) if len(u) == 3 else 0.0
        if not n > 0.0:
            raise ParameterError(f"material '{self.name}'.K1_axis", f"must be a non-zero 3-vector, got {self.K1_axis!r}")
        object.__setattr__(self, "K1_axis", tuple(c / n for c in u))
        if not math.isfinite(float(self.Kc1)):
            raise ParameterError(f"material '{self.name}'.Kc1", f"must be finite, got {self.Kc1!r}")
        try:
            c1 = [float(c) for c in self.Kc_axes[0]]
            c2 = [float(c) for c in self.Kc_axes[1]]
            assert len(c1) == 3 and len(c2) == 3
        except (TypeError, ValueError, IndexError, AssertionError):
            raise ParameterError(f"material '{self.name}'.Kc_axes", f"must be two 3-vectors, got {self.Kc_axes!r}") from None
        n1 = math.sqrt(sum(c * c for c in c1))
        if n1 == 0:
            raise ParameterError(f"material '{self.name}'.Kc_axes", "c1 must be non-zero")
        c1 = [c / n1 for c in c1]
        d = sum(a * b for a, b in zip(c1, c2))
        c2 = [b - d * a for a, b in zip(c1, c2)]  # Gram-Schmidt
        n2 = math.sqrt(sum(c * c for c in c2))
        if n2 < 1e-12:
            raise ParameterError(f"material '{self.name}'.Kc_axes", "c1 and c2 must not be parallel")
        object.__setattr__(self, "Kc_axes", (tuple(c1), tuple(c / n2 for c in c2)))

    @property
    def magnetic(self) -> bool:
        """True if ``Ms > 0``."""
        return self.Ms > 0.0

    @property
    def exchange_length(self) -> float:
        """Exchange length l_ex = sqrt(2 A / (mu0 Ms^2)) [m]; ``inf`` for a non-magnetic material."""
        return math.sqrt(2.0 * self.A / (MU0 * self.Ms**2)) if self.magnetic else math.inf


LIBRARY: Dict[str, Material] = {
    m.name: m
    for m in (
        Material("Py", Ms=8.0e5, A=1.3e-11, alpha=0.02),
        # the spin-valve parameter set of Garcia-Cervera & Wang (2007) / Abert et al. (2015)
        Material("Py_stt", Ms=8.0e5, A=1.3e-11, alpha=0.1, K1=500.0, K1_axis=(1.0, 0.0, 0.0)),
        Material("Fe", Ms=1.71e6, A=2.1e-11, alpha=0.002),
        Material("Co", Ms=1.44e6, A=3.1e-11, alpha=0.01, K1=4.1e5, K1_axis=(0.0, 0.0, 1.0)),
        Material("Ni", Ms=4.9e5, A=0.9e-11, alpha=0.045),
        Material("Cu", Ms=0.0),
        Material("vacuum", Ms=0.0),
    )
}


def get_material(material: Union[str, Material], parameter: str = "material") -> Material:
    """Return a :class:`Material` from the library by name, or ``material`` itself.

    Raises
    ------
    ParameterError
        If ``material`` is a string that names no library material.
    """
    if isinstance(material, Material):
        return material
    if isinstance(material, str) and material in LIBRARY:
        return LIBRARY[material]
    raise ParameterError(parameter, f"unknown material {material!r}; known: {sorted(LIBRARY)} or a fem_stt.Material")
