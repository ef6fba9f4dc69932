"""Equilibrium density matrix and spin density s^(0) by complex-energy contours (bound states included).

Equation (Xu et al., PRB 108, 144409 (2023), eq. 14 (frozen G^<) and eq. 33 (local spin density);
negf_llg.md Sec. 1.2), units of t, hbar = 1:

    rho = -i int dE/2pi G^<(E) = int dE/2pi f(E) A(E),   s^(0)_n = (1/2) Tr_s[sigma rho_nn],  n_n = Tr_s rho_nn.

G^r is analytic in the upper half plane and ~ 1/z at infinity, so the real-axis integral (including the
delta peaks of bound states outside the lead bands, which the real-axis product G^r Sigma^< G^a misses)
is deformed onto a contour (only diagonal blocks G_nn(z) are needed: RGF):

* ``semicircle`` (T = 0): X = int_{E_min}^{mu} G^r(E + i0) dE = int over the upper semicircle from E_min
  (below the whole spectrum, :meth:`TightBinding.spectrum_bounds`) to mu, Gauss-Legendre in the angle;
  rho = (i/2pi)(X - X^+). Not for wide-band leads (no lower band edge).
* ``imaginary`` (T = 0): rho = 1/2 + (1/pi) int_0^inf Herm G^r(mu + i y) dy  (sum rule int A dE/2pi = 1),
  y = y0 (1+x)/(1-x), Gauss-Legendre in x. Works for any leads.
* ``ozaki`` (T > 0): f(x) = 1/2 - sum_p R_p [1/(x - i zeta_p) + 1/(x + i zeta_p)], x = (E - mu)/kT
  (Ozaki, PRB 75, 035123 (2007): zeta_p = 1/b_p, b_p > 0 eigenvalues of the 2P x 2P tridiagonal matrix
  B_{k,k+1} = 1/(2 sqrt((2k-1)(2k+1))), R_p = v_{1p}^2 / (4 b_p^2)); closing the contours,
  rho = 1/2 + kT sum_p R_p [G^r(z_p) + G^r(z_p)^+],  z_p = mu + i zeta_p kT.
"""
from __future__ import annotations

import numpy as np

from ...errors import ParameterError
from .greens import rgf
from .lattice import TightBinding
from .leads import ID2, SIGMA


def ozaki_poles(n_poles: int):
    """(zeta_p, R_p), each shape (n_poles,): the Ozaki continued-fraction poles and residues of the
    Fermi function (see module docstring). ParameterError for n_poles < 1."""
    if int(n_poles) != n_poles or n_poles < 1:
        raise ParameterError("n_poles", f"must be an integer >= 1, got {n_poles!r}")
    M = 2 * int(n_poles)
    k = np.arange(1, M)
    off = 1.0 / (2.0 * np.sqrt((2 * k - 1.0) * (2 * k + 1.0)))
    B = np.diag(off, 1) + np.diag(off, -1)
    b, v = np.linalg.eigh(B)
    pos = b > 0
    b, v = b[pos], v[:, pos]
    order = np.argsort(-b)
    b, v = b[order], v[:, order]
    return 1.0 / b, v[0] ** 2 / (4.0 * b ** 2)


def contour_points(system: TightBinding, mu: float, kT: float = 0.0, method: str = "auto", n_points: int = 200,
                   e_min=None, y0: float = 1.0):
    """Points z_k (Im z >= 0) and matrix weights (w_k, c_k) with rho = c0 * 1 + sum_k [w_k G(z_k) + conj(w_k) G(z_k)^+]
    restricted to any diagonal block. Returns (z, w, c0). See the module docstring for the methods;
    ``auto``: ozaki if kT > 0, else semicircle for lattice leads and imaginary for wide-band leads.
    ParameterError for kT < 0, n_points < 2 or an unknown method."""
    if not np.isfinite(mu):
        raise ParameterError("mu", f"must be finite, got {mu!r}")
    if not (np.isfinite(kT) and kT >= 0):
        raise ParameterError("kT", f"must be >= 0 and finite, got {kT!r}")
    if int(n_points) != n_points or n_points < 2:
        raise ParameterError("n_points", f"must be an integer >= 2, got {n_points!r}")
    if method == "auto":
        wide = any(not hasattr(L, "band") for L in system.leads.values()) or system.broadening > 0
        method = "ozaki" if kT > 0 else ("imaginary" if wide else "semicircle")
    if method == "ozaki":
        if kT <= 0:
            raise ParameterError("kT", "the Ozaki contour needs kT > 0")
        zeta, R = ozaki_poles(n_points)
        # rho = 1/2 + kT sum_p R_p (G + G^+)
        return mu + 1j * zeta * kT, kT * R.astype(complex), 0.5
    if kT > 0:
        raise ParameterError("method", f"{method!r} is a T = 0 contour; use 'ozaki' for kT > 0")
    x, wx = np.polynomial.legendre.leggauss(int(n_points))
    if method == "semicircle":
        lo = system.spectrum_bounds()[0] - 1.0 if e_min is None else float(e_min)
        if not lo < mu:
            raise ParameterError("e_min", f"must lie below mu = {mu}, got {lo}")
        c, R = 0.5 * (mu + lo), 0.5 * (mu - lo)
        th = 0.5 * np.pi * (x + 1.0)  # theta in (0, pi)
        z = c + R * np.exp(1j * th)
        dz = 1j * R * np.exp(1j * th) * 0.5 * np.pi * wx
        # X = int_{lo}^{mu} G dE = -int_0^pi G(z) dz/dtheta dtheta;  rho = (i/2pi)(X - X^+)
        return z, (1j / (2 * np.pi)) * (-dz), 0.0
    if method == "imaginary":
        y = y0 * (1 + x) / (1 - x)
        dy = y0 * 2.0 / (1 - x) ** 2 * wx
        # rho = 1/2 + (1/pi) int Herm G dy = 1/2 + sum (dy/2pi) (G + G^+)
        return mu + 1j * y, (dy / (2 * np.pi)).astype(complex), 0.5
    raise ParameterError("method", f"must be 'auto', 'semicircle', 'imaginary' or 'ozaki', got {method!r}")


def site_density_matrices(system: TightBinding, mu: float, kT: float = 0.0, method: str = "auto",
                          n_points: int = 200, chunk: int = 32, **kw) -> np.ndarray:
    """Equilibrium 2x2 blocks rho_nn of every site, (N, 2, 2) (eq. 14 with G^< = i f A; bound states in).

    Keyword arguments as in :func:`contour_points`. ParameterError for bad input."""
    z, w, c0 = contour_points(system, mu, kT, method, n_points, **kw)
    slices = system.slice_hamiltonians()
    nx, ny = system.nx, system.ny
    acc = np.zeros((nx, 2 * ny, 2 * ny), dtype=complex)
    for k in range(0, len(z), chunk):
        D = rgf(system, z[k:k + chunk], diag=True, columns=False, slices=slices).diag  # (nx, nz, m, m)
        wk = w[k:k + chunk]
        X = np.einsum("k,xkab->xab", wk, D)
        acc += X + np.swapaxes(X, -1, -2).conj()
    rho = np.array([acc[:, 2 * iy:2 * iy + 2, 2 * iy:2 * iy + 2] for iy in range(ny)])  # (ny, nx, 2, 2)
    rho = np.swapaxes(rho, 0, 1).reshape(nx * ny, 2, 2)
    return rho + c0 * ID2


def spin_density(system: TightBinding, mu: float, kT: float = 0.0, method: str = "auto", n_points: int = 200,
                 **kw):
    """(s, n): equilibrium spin density s^(0)_n = (1/2) Tr_s[sigma rho_nn] (nx, ny, 3) and occupation
    n_n = Tr_s rho_nn (nx, ny), per site (eqs. 14, 33). Units: hbar = 1 (spin 1/2 per electron)."""
    rho = site_density_matrices(system, mu, kT, method, n_points, **kw)
    s = 0.5 * np.einsum("iab,nba->ni", SIGMA, rho).real
    n = np.einsum("naa->n", rho).real
    return s.reshape(system.nx, system.ny, 3), n.reshape(system.nx, system.ny)


def exchange_field(system: TightBinding, mu: float, M: float = 1.0, kT: float = 0.0, method: str = "auto",
                   n_points: int = 200, **kw) -> np.ndarray:
    """Electronic part of the anisotropy field of eqs. 16-17, per moment: H_n = <dh/dm_n>/M = 2 Delta_n s^(0)_n / M
    (= (J/gamma) s^(0) for Delta = J M / 2, gamma = 1), shape (nx, ny, 3) [t]. The moments precess as
    dm_n/dt = -m_n x (H_n + ...) (spin convention, eq. 18)."""
    s, _ = spin_density(system, mu, kT, method, n_points, **kw)
    return 2 * system.exchange[..., None] * s / M
