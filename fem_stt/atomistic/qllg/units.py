r"""The paper's reduced units and SI, converted in this one place.

Seed 004 (Liu et al., PRL 133, 266704 (2024), text below eq. 10) works with hbar = gamma_g = B0 = 1:

- field unit B0 [T];
- energy unit E0 = hbar gamma_g B0 [J];
- time unit tau0 = 1 / (gamma_g B0) [s].

The paper quotes "|J|/B0 = 1 mu_B = 6.58e-2 meV/T" and "(gamma_g B0)^-1 ~ 10 ps": both hold for
gamma_g = 1e11 rad s^-1 T^-1 (hbar * 1e11 s^-1 = 6.58e-2 meV), which is :data:`PAPER` (B0 = 1 T,
E0 = 1.0546e-23 J = 6.582e-2 meV, tau0 = 10 ps). The electron's gamma_e = 1.7609e11 rad s^-1 T^-1
(:meth:`ReducedUnits.electron`) would give tau0 = 5.68 ps (model spec qllg.md, section 7.1).

Every public interface of :mod:`fem_stt.atomistic.qllg` is SI (joules, tesla, seconds); the
classes and helpers that take the paper's numbers (``J = 1``, ``t = 8`` for 80 ps) convert them
with a :class:`ReducedUnits` object, and runs print :meth:`ReducedUnits.describe`.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ...constants import GAMMA_E, HBAR
from ...errors import require_positive

MEV = 1.602176634e-22  #: one meV in joules


@dataclasses.dataclass(frozen=True)
class ReducedUnits:
    """hbar = gamma_g = B0 = 1 units of seed 004.

    Parameters
    ----------
    gamma_g : gyromagnetic ratio [rad s^-1 T^-1] (> 0) used in the Zeeman term -gamma_g B.S (eq. 10).
    B0 : field unit [T] (> 0).

    Raises ParameterError for a value that is not > 0 and finite.
    """
    gamma_g: float = 1e11
    B0: float = 1.0

    def __post_init__(self):
        object.__setattr__(self, "gamma_g", require_positive("gamma_g", self.gamma_g, "rad/(s T)"))
        object.__setattr__(self, "B0", require_positive("B0", self.B0, "T"))

    @classmethod
    def paper(cls) -> "ReducedUnits":
        """gamma_g = 1e11 rad/(s T), B0 = 1 T: tau0 = 10 ps, E0 = 6.582e-2 meV (the paper's numbers)."""
        return cls(1e11, 1.0)

    @classmethod
    def electron(cls, B0: float = 1.0) -> "ReducedUnits":
        """gamma_g = gamma_e = 1.76086e11 rad/(s T) (CODATA): tau0 = 5.68 ps at B0 = 1 T."""
        return cls(GAMMA_E, B0)

    # ------------------------------------------------------------------ scales
    @property
    def energy_unit(self) -> float:
        """E0 = hbar gamma_g B0 [J]."""
        return HBAR * self.gamma_g * self.B0

    @property
    def time_unit(self) -> float:
        """tau0 = 1 / (gamma_g B0) [s]."""
        return 1.0 / (self.gamma_g * self.B0)

    # ------------------------------------------------------------------ reduced -> SI
    def energy(self, x):
        """Reduced energy (multiples of E0) -> joules; scalars or arrays."""
        return np.asarray(x, dtype=float) * self.energy_unit if np.ndim(x) else float(x) * self.energy_unit

    def time(self, x):
        """Reduced time (multiples of tau0) -> seconds; scalars or arrays."""
        return np.asarray(x, dtype=float) * self.time_unit if np.ndim(x) else float(x) * self.time_unit

    def field(self, x):
        """Reduced field (multiples of B0) -> tesla; scalars or arrays."""
        return np.asarray(x, dtype=float) * self.B0 if np.ndim(x) else float(x) * self.B0

    # ------------------------------------------------------------------ SI -> reduced
    def to_reduced_energy(self, E):
        """Joules -> multiples of E0."""
        return np.asarray(E) / self.energy_unit

    def to_reduced_time(self, t):
        """Seconds -> multiples of tau0."""
        return np.asarray(t) / self.time_unit

    def describe(self) -> str:
        """One line with the unit choice (printed by the demo, the case runner and the benchmark)."""
        return (f"units: hbar = gamma_g = B0 = 1 with gamma_g = {self.gamma_g:.6g} rad/(s T), B0 = {self.B0:g} T; "
                f"energy unit hbar*gamma_g*B0 = {self.energy_unit:.5g} J = {self.energy_unit / MEV:.5g} meV; "
                f"time unit 1/(gamma_g*B0) = {self.time_unit * 1e12:.5g} ps")

    def as_dict(self) -> dict:
        return {"gamma_g": self.gamma_g, "B0": self.B0, "energy_unit_J": self.energy_unit,
                "energy_unit_meV": self.energy_unit / MEV, "time_unit_s": self.time_unit}


#: The paper's units (gamma_g = 1e11 rad/(s T), B0 = 1 T; tau0 = 10 ps).
PAPER = ReducedUnits.paper()
