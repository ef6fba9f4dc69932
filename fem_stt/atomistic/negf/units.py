"""SI scales of the lattice units: the one place where the package's reduced units are converted.

Lattice units (Xu et al., PRB 108, 144409 (2023), Sec. V and Table I): energy J_ex = t = 1, hbar = gamma = 1,
length a = 1, spin length M = 1 (hbar). Table I gives the expressions; its values (missing from the text) for
J_ex = 1 meV and a = 0.5 nm are:

    t_hat     = hbar / J_ex            = 0.6582 ps                 (time)
    kappa_hat = 2 e J_ex / (a^2 hbar)  = 1.9473e12 A/m^2           (current density, paper's definition)
    v_hat     = J_ex a / h             = 120.90 m/s                (velocity as printed)

The printed v_hat is not a / t_hat = 759.6 m/s = 2 pi v_hat (negf_llg.md Sec. 2.1, [A]): a velocity of 1 lattice
site per time unit is a / t_hat, which is what :meth:`LatticeUnits.velocity` uses; the printed value is given by
:attr:`LatticeUnits.v_hat_printed` for comparison. Electron currents: a particle current I (per unit time) carries
the charge current e I / t_hat [A]; one conductance quantum per spin is e^2/h.
For the continuum bridge (:mod:`.bridge`), a simple-cubic lattice of constant a: A = J_ex / (2 a) [J/m] for
H = -J_ex sum m_i.m_j, K1 = K / a^3 [J/m^3], Ms = g mu_B M / a^3 (g = 2) [A/m].
"""
from __future__ import annotations

from dataclasses import dataclass

from ...constants import E_CHARGE, HBAR, MU_B
from ...errors import require_positive

H_PLANCK = 2 * 3.141592653589793 * HBAR
MEV = 1e-3 * E_CHARGE


@dataclass(frozen=True)
class LatticeUnits:
    """SI scales for an energy unit ``J_ex`` [J] (default 1 meV) and a lattice constant ``a`` [m] (default 0.5 nm).

    Raises ParameterError for non-positive values."""

    J_ex: float = MEV
    a: float = 0.5e-9

    def __post_init__(self):
        require_positive("J_ex", self.J_ex, "J")
        require_positive("a", self.a, "m")

    @property
    def time(self) -> float:
        """t_hat = hbar / J_ex [s]."""
        return HBAR / self.J_ex

    @property
    def current_density(self) -> float:
        """kappa_hat = 2 e J_ex / (a^2 hbar) [A/m^2] (Table I)."""
        return 2 * E_CHARGE * self.J_ex / (self.a ** 2 * HBAR)

    @property
    def velocity(self) -> float:
        """a / t_hat [m/s]: one lattice site per time unit."""
        return self.a / self.time

    @property
    def v_hat_printed(self) -> float:
        """J_ex a / h [m/s], Table I as printed (= velocity / 2 pi)."""
        return self.J_ex * self.a / H_PLANCK

    @property
    def current(self) -> float:
        """e / t_hat [A]: charge current of one electron per time unit."""
        return E_CHARGE / self.time

    def exchange_stiffness(self, J_ex_lattice: float = 1.0) -> float:
        """A = J_ex / (2 a) [J/m] of H = -J_ex sum_<ij> m_i.m_j on a simple-cubic lattice."""
        return J_ex_lattice * self.J_ex / (2 * self.a)

    def anisotropy(self, K_lattice: float) -> float:
        """K1 = K / a^3 [J/m^3]."""
        return K_lattice * self.J_ex / self.a ** 3

    def saturation_magnetization(self, M: float = 1.0, g: float = 2.0) -> float:
        """Ms = g mu_B M / a^3 [A/m] for a spin length M (hbar) per site."""
        return g * MU_B * M / self.a ** 3

    def table(self) -> dict:
        """The Table I scales (and the lattice-to-SI factors used here) as a dict of floats with units in the keys."""
        return {"J_ex [meV]": self.J_ex / MEV, "a [nm]": self.a * 1e9, "t_hat [ps]": self.time * 1e12,
                "kappa_hat [A/m^2]": self.current_density, "v_hat printed J_ex a/h [m/s]": self.v_hat_printed,
                "a/t_hat [m/s] (used)": self.velocity, "e/t_hat [A]": self.current}

    def describe(self) -> str:
        return "lattice units (Table I): " + ", ".join(f"{k} = {v:.5g}" for k, v in self.table().items())
