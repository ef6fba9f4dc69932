"""Spin-transport parameters per region (SI) and the sign convention for charge.

Sign convention (stated once for the whole package): ``j_e`` is the *charge* current
density [A/m^2] (technical direction). Electrons carry the charge ``Q_E = -E_CHARGE`` < 0,
so they flow along ``-j_e``. "Electrons flowing from FM1 to FM2" therefore means ``j_e``
points from FM2 to FM1. The spin accumulation ``s`` [A/m] is measured in magnetization
(magnetic-moment density) units: a majority-polarized excess of electrons gives ``s``
parallel to the magnetization ``m``. With this convention the polarized part of the spin
current is ``(beta mu_B / Q_E) m (x) j_e`` (Zhang, Levy & Fert, PRL 88, 236601 (2002),
written with the electron charge), i.e. a magnetization flux along the electron flow.
"""
from __future__ import annotations

import dataclasses
from typing import Dict, Optional, Union

from ..constants import E_CHARGE, HBAR, MU_B
from ..errors import ParameterError, require_nonnegative, require_positive

Q_E = -E_CHARGE  # charge of the electron [C]


@dataclasses.dataclass(frozen=True)
class TransportParameters:
    """Zhang-Levy-Fert parameters of one conducting region (SI units).

    Parameters
    ----------
    D0 : float
        Diffusion constant [m^2/s], > 0.
    lambda_sf : float
        Spin-flip length [m], > 0; the spin-flip time is tau_sf = lambda_sf^2 / (2 D0).
    lambda_J : float or None
        s-d exchange length [m], > 0, magnets only (None in non-magnetic conductors);
        J_sd / hbar = 2 D0 / lambda_J^2.
    beta, beta_prime : float
        Spin polarizations of the conductivity and of the diffusion constant, in [0, 1)
        with beta * beta_prime < 1; 0 in non-magnetic conductors.
    sigma : float or None
        Electric conductivity [S/m], > 0; needed only for the self-consistent current.

    Raises
    ------
    ParameterError naming the field if a value is outside its range.
    """

    D0: float
    lambda_sf: float
    lambda_J: Optional[float] = None
    beta: float = 0.0
    beta_prime: float = 0.0
    sigma: Optional[float] = None

    def checked(self, name: str = "transport") -> "TransportParameters":
        require_positive(f"{name}.D0", self.D0, "m^2/s")
        require_positive(f"{name}.lambda_sf", self.lambda_sf, "m")
        if self.lambda_J is not None:
            require_positive(f"{name}.lambda_J", self.lambda_J, "m")
        for f in ("beta", "beta_prime"):
            v = require_nonnegative(f"{name}.{f}", getattr(self, f))
            if v >= 1.0:
                raise ParameterError(f"{name}.{f}", f"must be in [0, 1), got {v}")
        if self.sigma is not None:
            require_positive(f"{name}.sigma", self.sigma, "S/m")
        return self

    @property
    def J_sd_over_hbar(self) -> float:
        """s-d exchange rate J_sd / hbar = 2 D0 / lambda_J^2 [1/s] (0 without lambda_J)."""
        return 0.0 if self.lambda_J is None else 2.0 * self.D0 / self.lambda_J**2

    @property
    def J_sd(self) -> float:
        """s-d exchange constant [J]."""
        return HBAR * self.J_sd_over_hbar

    @property
    def tau_sf(self) -> float:
        """Spin-flip time lambda_sf^2 / (2 D0) [s]."""
        return self.lambda_sf**2 / (2.0 * self.D0)

    @property
    def polarization_coefficient(self) -> float:
        """c = beta mu_B / Q_E [m^2/s]: the polarized spin current is c m (x) j_e."""
        return self.beta * MU_B / Q_E


#: Parameter set of Garcia-Cervera & Wang (J. Comput. Phys. 2007) and Abert et al.
#: (Sci. Rep. 5, 14855 (2015)) for the FM/spacer/FM pillar; conductivities are typical
#: room-temperature thin-film values (permalloy ~25 uOhm cm, copper ~3 uOhm cm).
TRANSPORT_LIBRARY: Dict[str, TransportParameters] = {
    "Py": TransportParameters(D0=1e-3, lambda_sf=10e-9, lambda_J=4e-9, beta=0.9, beta_prime=0.8, sigma=4e6),
    "Py_stt": TransportParameters(D0=1e-3, lambda_sf=10e-9, lambda_J=4e-9, beta=0.9, beta_prime=0.8, sigma=4e6),
    "Co": TransportParameters(D0=1e-3, lambda_sf=10e-9, lambda_J=4e-9, beta=0.9, beta_prime=0.8, sigma=5e6),
    "Fe": TransportParameters(D0=1e-3, lambda_sf=10e-9, lambda_J=4e-9, beta=0.9, beta_prime=0.8, sigma=5e6),
    "Ni": TransportParameters(D0=1e-3, lambda_sf=10e-9, lambda_J=4e-9, beta=0.9, beta_prime=0.8, sigma=5e6),
    "Cu": TransportParameters(D0=5e-3, lambda_sf=10e-9, sigma=3e7),
}


#: transport sets of the seed device's regions (fem_stt.geometry.seed_device with ferromagnet "Py_stt")
SEED_DEVICE_TRANSPORT: Dict[str, str] = {"FM1": "Py_stt", "spacer": "Cu", "FM2": "Py_stt"}


def get_transport(value: Union[str, TransportParameters], name: str = "transport") -> TransportParameters:
    """A library name or a TransportParameters instance, checked. Raises ParameterError."""
    if isinstance(value, TransportParameters):
        return value.checked(name)
    if isinstance(value, str):
        if value not in TRANSPORT_LIBRARY:
            raise ParameterError(name, f"unknown transport parameter set {value!r}; known: {sorted(TRANSPORT_LIBRARY)}")
        return TRANSPORT_LIBRARY[value]
    raise ParameterError(name, f"must be a library name or TransportParameters, got {value!r}")

