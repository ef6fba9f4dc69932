"""Exact steady state of moments precessing rigidly about z: the rotating-frame reference solver.

All moments rotate as m_n(t) = R_z(w t) m_n(0) (dm/dt = w z x m). With U(t) = exp(-i w t sigma_z/2),
h(t) = U h(0) U^+, and in the frame of U the electrons see the static Hamiltonian (negf_llg.md Sec. 1.6)

    h' = h(0) - (w/2) sigma_z,   lead spin s (along z):  Sigma'_s(E) = Sigma_s(E + s w/2),
    filled up to E + s w/2 < mu  (a lab-frame lead state of energy e has rotating-frame energy e - s w/2).

The steady state is then a time-independent NEGF problem, exact to all orders in w and in the exchange:

    rho' = rho'_eq(mu - |w|/2) + int_{mu-|w|/2}^{mu+|w|/2} dE/2pi G' (sum_a Gamma_a(E + s* w/2) P_s*) G'^+,

s* = -sign(w) the spin filled in the window; rho'_eq by a complex contour (:mod:`.equilibrium`, bound states
included), the window by Gauss-Legendre. A broadening eta (a wide-band bath on every site,
:class:`~.lattice.TightBinding`) is a spin-independent, energy-independent lead: it enters like the leads. The lab-frame spin density at t = 0 equals the rotating-frame one.
For a single moment in the xz plane (theta from z), dm/dt = w sin(theta) e_y and the Gilbert damping is
alpha(w) = 2 Delta s'_y / (M w sin theta) (= J s'_y/(w sin theta) for Delta = J M/2), exact in w;
Richardson extrapolation in w gives the adiabatic alpha. Needs leads whose magnetization is along z
(or none) so that they are static in the rotating frame. Dense; for small systems.
"""
from __future__ import annotations

import numpy as np

from ...errors import ParameterError
from .equilibrium import contour_points
from .lattice import TightBinding
from .leads import ID2, SIGMA, LatticeLead, WideBandLead

_UP, _DN = 0.5 * (ID2 + SIGMA[2]), 0.5 * (ID2 - SIGMA[2])


def _check_leads(system: TightBinding):
    if not system.leads:
        raise ParameterError("leads", "the rotating-frame solution needs leads; the lattice has none")
    for name, L in system.leads.items():
        pol = L.exchange if isinstance(L, LatticeLead) else (L.polarization if isinstance(L, WideBandLead) else 1)
        if pol != 0 and abs(abs(L.direction[2]) - 1) > 1e-12:
            raise ParameterError(f"leads['{name}']", "a magnetic lead must be polarized along z (the rotation axis)")


def _rot_self_energy(system: TightBinding, z, omega):
    """Sigma'(z) = sum_a sum_s Sigma_a(z + s w/2) P_s - i eta/2 (dense (2N, 2N)); the energy-independent bath is
    the same in the rotating frame."""
    N2 = system.n_orbitals
    m = 2 * system.ny
    out = -0.5j * system.broadening * np.eye(N2, dtype=complex)
    for name in system.lead_names:
        k = system.lead_slice(name)
        L = system.leads[name]
        blk = np.zeros((m, m), dtype=complex)
        for s, P in ((1, _UP), (-1, _DN)):
            Ps = np.kron(np.eye(system.ny), P)
            blk += Ps @ L.self_energy(z + s * omega / 2) @ Ps
        out[k * m:(k + 1) * m, k * m:(k + 1) * m] += blk
    return out


def rotating_frame_density(system: TightBinding, omega: float, mu: float, n_points: int = 200, n_window: int = 48,
                           method: str = "auto") -> np.ndarray:
    """Site 2x2 blocks of the exact steady-state density matrix (rotating frame = lab frame at t = 0),
    (N, 2, 2), for all moments precessing about z at angular frequency ``omega`` [t] (T = 0).
    ParameterError for non-finite omega, magnetic leads not along z, no leads."""
    if not np.isfinite(omega):
        raise ParameterError("omega", f"must be finite, got {omega!r}")
    _check_leads(system)
    N2 = system.n_orbitals
    hp = system.hamiltonian() - 0.5 * omega * np.kron(np.eye(system.n_sites), SIGMA[2])
    w0 = abs(omega) / 2
    z, w, c0 = contour_points(system, mu - w0, 0.0, method, n_points)
    rho = c0 * np.eye(N2, dtype=complex)
    for zk, wk in zip(z, w):
        G = np.linalg.inv(zk * np.eye(N2) - hp - _rot_self_energy(system, zk, omega))
        rho += wk * G + np.conj(wk) * G.conj().T
    if omega != 0:
        s_star = -np.sign(omega)
        P = np.kron(np.eye(system.ny), _UP if s_star > 0 else _DN)
        x, wx = np.polynomial.legendre.leggauss(n_window)
        Es, ws = mu + w0 * x, w0 * wx
        m = 2 * system.ny
        for E, wt in zip(Es, ws):
            G = np.linalg.inv(E * np.eye(N2) - hp - _rot_self_energy(system, E + 0j, omega))
            Gam = np.zeros((N2, N2), dtype=complex)
            for name in system.lead_names:
                k = system.lead_slice(name)
                Gam[k * m:(k + 1) * m, k * m:(k + 1) * m] += P @ system.leads[name].gamma(E + s_star * omega / 2) @ P
            Gam += system.broadening * np.kron(np.eye(system.n_sites), P[:2, :2])  # the bath, spin s* filled
            rho += wt / (2 * np.pi) * G @ Gam @ G.conj().T
    blocks = np.array([rho[2 * n:2 * n + 2, 2 * n:2 * n + 2] for n in range(system.n_sites)])
    return blocks


def rotating_frame_spin(system: TightBinding, omega: float, mu: float, **kw) -> np.ndarray:
    """Exact spin density s_n = (1/2) Tr[sigma rho'_nn] under rigid precession about z, (N, 3)."""
    rho = rotating_frame_density(system, omega, mu, **kw)
    return 0.5 * np.einsum("iab,nba->ni", SIGMA, rho).real


def rotating_frame_damping(system: TightBinding, mu: float, M: float = 1.0, omegas=(1e-3, 2e-3), **kw):
    """(alpha_extrapolated, alpha(omega) for each omega) for a single moment in the xz plane:
    alpha(w) = 2 Delta s'_y / (M w sin theta), Richardson 2 alpha(w) - alpha(2w) for two omegas w, 2w.
    ParameterError if the system is not one site or m is along z."""
    if system.n_sites != 1:
        raise ParameterError("system", "rotating_frame_damping is for a single moment; use rotating_frame_spin")
    m = system.moments.reshape(3)
    if abs(m[1]) > 1e-12:
        raise ParameterError("moments", "put the moment in the xz plane (m_y = 0)")
    st = np.hypot(m[0], m[1])
    if st < 1e-6:
        raise ParameterError("moments", "a moment along z does not precess")
    delta = float(system.exchange.reshape(-1)[0])
    vals = np.array([2 * delta * rotating_frame_spin(system, w, mu, **kw)[0, 1] / (M * w * st) for w in omegas])
    if len(omegas) == 2 and abs(omegas[1] - 2 * omegas[0]) < 1e-15:
        return 2 * vals[0] - vals[1], vals
    return vals[0], vals
