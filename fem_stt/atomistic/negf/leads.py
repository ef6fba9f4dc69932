"""Semi-infinite leads: retarded self-energies in closed form, valid at complex energy (Im z >= 0).

Energies in units of the hopping t (the paper sets hbar = 1 and t = J_ex = 1; SI scales in
:mod:`fem_stt.atomistic.negf.units`). Orbital order inside a lead's attachment slice: site y
(0 .. width-1) slowest, spin (up, down along z) fastest, as in :class:`~.lattice.TightBinding`.

* 1D chain of onsite e and hopping -t (Xu et al., PRB 108, 144409 (2023), App. A; negf_llg.md
  Sec. 1.2): the surface Green's function solves t^2 g^2 - (z-e) g + 1 = 0,

      g(z) = [(z-e) - sqrt(z-e-2t) sqrt(z-e+2t)] / (2 t^2),

  the product of principal square roots picking the branch analytic off the band [e-2t, e+2t],
  g ~ 1/z at infinity and Im g < 0 just above the band (retarded); dg/dz = -g / sqrt(...).
* Square-lattice ribbon of width W with hard walls: transverse modes
  chi_q(y) = sqrt(2/(W+1)) sin(q pi (y+1)/(W+1)), eps_q = e - 2t cos(q pi/(W+1)), and

      Sigma_yy'(z) = t_c^2 sum_q chi_q(y) chi_q(y') g(z - eps_q)        (t_c: lead-device hopping).

  W = 1 is the 1D chain.
* Ferromagnetic lead (App. A, eq. 7): onsite e + Delta_L sigma.m_L. Sigma = R^+ diag(Sigma_up,
  Sigma_dn) R equals sum_s Sigma_s (1 + s sigma.m_L)/2, which is what is computed.
* Wide-band limit: Sigma = -(i/2) Gamma, Gamma = gamma (1 + p sigma.m_L) on every orbital of the slice;
  energy independent.

Gamma = i (Sigma - Sigma^+) is the level-width matrix.
"""
from __future__ import annotations

import numpy as np

from ...errors import ParameterError, require_nonnegative, require_positive

SIGMA = np.array([[[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]]], dtype=complex)  # sigma_x, y, z
ID2 = np.eye(2, dtype=complex)


def check_energy(z, name: str = "energy", retarded: bool = True) -> np.ndarray:
    """``z`` as a complex array; ParameterError if not finite or (retarded) Im z < 0.

    A real energy is taken as E + i0 (its imaginary part is set to +0.0)."""
    z = np.asarray(z, dtype=complex)
    if not np.all(np.isfinite(z)):
        raise ParameterError(name, f"must be finite, got {z!r}")
    if retarded and np.any(z.imag < 0):
        raise ParameterError(name, "a retarded quantity needs Im(energy) >= 0 (upper half plane), got "
                                   f"min Im = {z.imag.min():.3g}")
    return np.where(z.imag == 0, z.real + 0j, z)


def unit_vector(name: str, v) -> np.ndarray:
    """A finite nonzero 3-vector, normalized; ParameterError otherwise."""
    a = np.asarray(v, dtype=float)
    if a.shape != (3,) or not np.all(np.isfinite(a)) or np.linalg.norm(a) == 0:
        raise ParameterError(name, f"must be a finite nonzero 3-vector, got {v!r}")
    return a / np.linalg.norm(a)


def spin_projectors(direction) -> tuple:
    """(P_+, P_-) = (1 +- sigma.m)/2 for the unit vector ``direction`` (2x2 each)."""
    sm = np.einsum("i,ijk->jk", np.asarray(direction, float), SIGMA)
    return 0.5 * (ID2 + sm), 0.5 * (ID2 - sm)


def chain_surface_gf(z, hopping: float = 1.0):
    """Surface Green's function g(z) of a semi-infinite chain (onsite 0, hopping -t) and dg/dz.

    ``z``: complex array (Im z >= 0); returns (g, dg/dz), same shape. Branch: see module docstring."""
    t = float(hopping)
    s = np.sqrt(z - 2 * t) * np.sqrt(z + 2 * t)
    g = (z - s) / (2 * t * t)
    with np.errstate(divide="ignore", invalid="ignore"):
        dg = -g / s
    return g, dg


class Lead:
    """Base class: a semi-infinite lead attached to one slice of a :class:`~.lattice.TightBinding`.

    Subclasses give ``self_energy(z)`` and ``d_self_energy(z)`` (shape z.shape + (2W, 2W), W = width).
    """

    width: int = 1
    energy_dependent: bool = True

    def self_energy(self, z: complex) -> np.ndarray:  # pragma: no cover - abstract
        """Retarded self-energy Sigma(z), shape z.shape + (2W, 2W); each lead type gives its closed form."""
        raise TypeError(f"{type(self).__name__} does not define self_energy: use a concrete lead")

    def d_self_energy(self, z: complex) -> np.ndarray:  # pragma: no cover - abstract
        """dSigma/dz, shape z.shape + (2W, 2W); each lead type gives its closed form."""
        raise TypeError(f"{type(self).__name__} does not define d_self_energy: use a concrete lead")

    def gamma(self, E) -> np.ndarray:
        """Level width Gamma = i (Sigma - Sigma^+) at real E, shape E.shape + (2W, 2W), Hermitian PSD."""
        S = self.self_energy(np.asarray(E, dtype=float))
        return 1j * (S - np.swapaxes(S, -1, -2).conj())


class LatticeLead(Lead):
    """Square-lattice ribbon lead of ``width`` sites (1: a 1D chain), hard-wall edges.

    Parameters
    ----------
    width : number of sites across (>= 1), equal to the device slice it is attached to
    onsite : lead onsite energy e [t]
    hopping : lead hopping t (> 0; the Hamiltonian has -t)
    coupling : lead-device hopping t_c (> 0; default: ``hopping``)
    exchange : ferromagnetic lead splitting Delta_L >= 0 (onsite e + Delta_L sigma.m_L) [t]
    direction : m_L (3-vector; normalized)

    Raises ParameterError for width < 1, hopping or coupling <= 0, exchange < 0, bad direction.
    Source: App. A of Xu et al. (2023) (ferromagnetic leads, eq. 7); negf_llg.md Sec. 1.2.
    """

    def __init__(self, width: int = 1, onsite: float = 0.0, hopping: float = 1.0, coupling=None,
                 exchange: float = 0.0, direction=(0.0, 0.0, 1.0)):
        if int(width) != width or width < 1:
            raise ParameterError("width", f"must be an integer >= 1, got {width!r}")
        self.width = int(width)
        self.onsite = float(onsite)
        if not np.isfinite(self.onsite):
            raise ParameterError("onsite", f"must be finite, got {onsite!r}")
        self.hopping = require_positive("hopping", hopping)
        self.coupling = require_positive("coupling", hopping if coupling is None else coupling)
        self.exchange = require_nonnegative("exchange", exchange)
        self.direction = unit_vector("direction", direction)
        W = self.width
        q = np.arange(1, W + 1)
        y = np.arange(1, W + 1)
        self.chi = np.sqrt(2.0 / (W + 1)) * np.sin(np.outer(y, q) * np.pi / (W + 1))  # (y, q)
        self.eps_q = self.onsite - 2 * self.hopping * np.cos(q * np.pi / (W + 1))
        self._proj = spin_projectors(self.direction)

    @property
    def band(self):
        """(lowest, highest) energy of the lead's bands, both spins."""
        lo = self.eps_q.min() - 2 * self.hopping - self.exchange
        hi = self.eps_q.max() + 2 * self.hopping + self.exchange
        return lo, hi

    def _sigma(self, z, derivative: bool):
        z = check_energy(z)
        if z.ndim == 0:  # single energies repeat (dynamics at E_F): keep the last few
            cache = self.__dict__.setdefault("_cache", {})
            key = (complex(z), derivative)
            if key not in cache:
                if len(cache) > 32:
                    cache.clear()
                cache[key] = self._sigma_eval(z, derivative)
            return cache[key].copy()
        return self._sigma_eval(z, derivative)

    def _sigma_eval(self, z, derivative: bool):
        W = self.width
        out = np.zeros(z.shape + (W, 2, W, 2), dtype=complex)
        for s, P in zip((1.0, -1.0), self._proj):
            g, dg = chain_surface_gf(z[..., None] - self.eps_q - s * self.exchange, self.hopping)  # (..., q)
            val = dg if derivative else g
            S = self.coupling ** 2 * np.einsum("yq,...q,pq->...yp", self.chi, val, self.chi)
            out += S[..., :, None, :, None] * P[:, None, :]
        return out.reshape(z.shape + (2 * W, 2 * W))

    def self_energy(self, z) -> np.ndarray:
        """Retarded self-energy Sigma(z) on the attachment slice, shape z.shape + (2W, 2W), complex [t]."""
        return self._sigma(z, False)

    def d_self_energy(self, z) -> np.ndarray:
        """d Sigma / dz, shape z.shape + (2W, 2W), used by the corrected eq. 15 (G^r (1 - dSigma/dE) G^r = -dG^r/dE)."""
        return self._sigma(z, True)

    def open_channels(self, E: float) -> np.ndarray:
        """Number of propagating modes at real E per spin (+ along m_L, - against), shape (2,)."""
        return np.array([np.sum(np.abs(E - self.eps_q - s * self.exchange) < 2 * self.hopping) for s in (1, -1)])


class WideBandLead(Lead):
    """Wide-band-limit lead: Sigma = -(i/2) Gamma, Gamma = gamma (1 + p sigma.m_L) on each of ``width`` sites.

    Parameters: width (sites of the attachment slice), gamma > 0 [t], polarization p in [0, 1),
    direction m_L. Raises ParameterError outside these ranges.
    """

    energy_dependent = False

    def __init__(self, gamma: float, width: int = 1, polarization: float = 0.0, direction=(0.0, 0.0, 1.0)):
        if int(width) != width or width < 1:
            raise ParameterError("width", f"must be an integer >= 1, got {width!r}")
        self.width = int(width)
        self.gamma_value = require_positive("gamma", gamma)
        p = require_nonnegative("polarization", polarization)
        if p >= 1:
            raise ParameterError("polarization", f"must be in [0, 1), got {polarization!r}")
        self.polarization = p
        self.direction = unit_vector("direction", direction)
        sm = np.einsum("i,ijk->jk", self.direction, SIGMA)
        self._G = np.kron(np.eye(self.width), self.gamma_value * (ID2 + p * sm))

    def self_energy(self, z) -> np.ndarray:
        z = check_energy(z)
        return np.broadcast_to(-0.5j * self._G, z.shape + self._G.shape).copy()

    def d_self_energy(self, z) -> np.ndarray:
        z = check_energy(z)
        return np.zeros(z.shape + self._G.shape, dtype=complex)
