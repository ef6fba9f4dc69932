"""SI <-> scaled units of the QDD-Rashba model: the one place where the conversion happens.

Seed 001 (Barletti, Holzinger, Jüngel), Sec. 2.1 and Sec. 1.1: with the reference length x0
(the channel length), the thermal momentum ``p0 = sqrt(m kB T)``, the energy time
``t_E = m x0 / p0`` and the potential energy ``V0 = kB T`` (hydrodynamic scaling (29): tau0 = 1,
so time is measured in t_E):

- ``eps   = hbar / (x0 p0)``                       scaled Planck constant,
- ``alpha = m x0 alpha_R / hbar = m x0 alpha_conv / hbar^2``, with the usual Rashba constant
  ``alpha_conv = hbar alpha_R`` [eV m] (H_R = alpha_conv (sigma_x k_y - sigma_y k_x), eq. (2)),
- ``tau   = tau_c / t_E``, momentum relaxation time ``tau_c = mu m / e`` (mobility mu),
- ``E     = e U / (kB T)``, the scaled potential drop of a bias U (V = -E x / L),
- densities in units of N0 = n_s / 2 (n_s: electron sheet density at the contacts; the
  density matrix ``N = n0 s0 + eps n.s`` has trace 2 n0, so n0 = 1 at the contacts), the
  spin polarization is ``P = eps n / n0`` (|P| < 1 is the positivity ``eps |n| < n0``).

Derived: diffusivity ``D = tau_c kB T / m`` (= x0^2 tau / t_E), spin-orbit length
``L_so = hbar^2 / (2 m alpha_conv)`` (precession wave number K = 2 alpha in scaled units).
"""
from __future__ import annotations

import dataclasses
import logging
import math
from typing import Optional

from ...constants import E_CHARGE, HBAR, K_B
from ...errors import ParameterError, require_nonnegative, require_positive

log = logging.getLogger(__name__)

M_E = 9.1093837015e-31  # electron mass [kg] (CODATA 2018)


@dataclasses.dataclass(frozen=True)
class Scales:
    """Reference scales [SI] and the scaled parameters of a 2DEG channel (see module docstring).

    Attributes (SI): x0 [m], p0 [kg m/s], t_E [s], V0 [V] (= kB T / e), tau_c [s], D [m^2/s],
    L_so [m] (inf for alpha_R = 0), N0 [m^-2]; scaled: eps, alpha, tau, E, width (W / x0).
    """

    x0: float
    p0: float
    t_E: float
    V0: float
    tau_c: float
    D: float
    L_so: float
    N0: float
    eps: float
    alpha: float
    tau: float
    E: float
    width: float

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    def describe(self) -> str:
        return (f"QDD scales: x0 = {self.x0:.4g} m, t_E = {self.t_E:.4g} s, V0 = kB T/e = {self.V0:.4g} V, "
                f"tau_c = {self.tau_c:.4g} s, D = {self.D:.4g} m^2/s, L_so = {self.L_so:.4g} m, N0 = {self.N0:.4g} m^-2; "
                f"scaled: eps = {self.eps:.5g}, alpha = {self.alpha:.5g}, tau = {self.tau:.5g}, E = {self.E:.5g}, "
                f"W/x0 = {self.width:.5g}")

    # conversions of outputs
    def current_scale(self, dim: int) -> float:
        """Electric current per scaled particle flux through a contact: [A] in 2D (contact of
        length in x0), [A/m] per unit width in 1D: ``e (2 N0) x0^(dim) / t_E``."""
        return E_CHARGE * 2 * self.N0 * self.x0 ** dim / self.t_E

    def spin_current_scale(self, dim: int) -> float:
        """Spin current [hbar/2 per second] (2D; per metre of width in 1D) per scaled spin flux:
        spin density 2 eps n N0 in units of hbar/2."""
        return 2 * self.eps * self.N0 * self.x0 ** dim / self.t_E


def scales(length: float, m_eff: float, alpha_R: float, temperature: float, bias: float = 0.0,
           mobility: Optional[float] = None, tau_c: Optional[float] = None, width: float = 0.0,
           sheet_density: float = 1e15) -> Scales:
    """Scaled parameters of a channel from SI values.

    Parameters
    ----------
    length : channel length = x0 [m]; m_eff : effective mass / electron mass;
    alpha_R : Rashba constant alpha_conv [eV m] (>= 0); temperature [K]; bias U [V] (>= 0);
    mobility [m^2/(V s)] or tau_c [s] (exactly one); width [m] (0 for 1D);
    sheet_density : electron sheet density at the contacts [m^-2] (sets N0 = n_s/2).

    Raises ParameterError naming the parameter.
    """
    x0 = require_positive("length", length, "m")
    m = require_positive("m_eff", m_eff) * M_E
    a_conv = require_nonnegative("alpha_R", alpha_R, "eV m") * E_CHARGE
    T = require_positive("temperature", temperature, "K")
    U = require_nonnegative("bias", bias, "V")
    W = require_nonnegative("width", width, "m")
    ns = require_positive("sheet_density", sheet_density, "m^-2")
    if (mobility is None) == (tau_c is None):
        raise ParameterError("mobility", "give exactly one of mobility [m^2/(V s)] and tau_c [s]")
    if mobility is not None:
        tc = require_positive("mobility", mobility, "m^2/(V s)") * m / E_CHARGE
    else:
        tc = require_positive("tau_c", tau_c, "s")
    p0 = math.sqrt(m * K_B * T)
    t_E = m * x0 / p0
    return Scales(x0=x0, p0=p0, t_E=t_E, V0=K_B * T / E_CHARGE, tau_c=tc, D=tc * K_B * T / m,
                  L_so=HBAR ** 2 / (2 * m * a_conv) if a_conv > 0 else math.inf, N0=ns / 2,
                  eps=HBAR / (x0 * p0), alpha=m * x0 * a_conv / HBAR ** 2, tau=tc / t_E, E=E_CHARGE * U / (K_B * T),
                  width=W / x0)
