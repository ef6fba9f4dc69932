"""Bridge to the continuum (FEM) LLG: NEGF damping tensor and Zhang-Li parameters of a uniform ferromagnetic
lattice, and the lattice NEGF-LLG of a current-driven domain wall (negf_llg.md Sec. 4, issue 14 item 6).

Lattice units (t = J_ex, hbar = gamma = a = 1, spin length M), SI by :class:`~.units.LatticeUnits`.

* Uniform ferromagnet: a ribbon of nx x ny sites, onsite e + Delta sigma.m, with leads of the same ferromagnet (so
  the whole system is one infinite, uniform magnet) and an optional wide-band bath eta on every site (a
  phenomenological relaxation, which makes the damping a bulk, length-independent quantity).
  Gilbert tensor of rigid (uniform) precession, per moment: alpha_macro = (1/N) sum_{n,n'} alpha_{(n,:),(n',:)}
  with the Kubo tensor of :func:`~.damping.kubo_damping`; without spin-orbit coupling it is alpha_perp (1 - m m^T)
  + alpha_par m m^T, with Rashba SOI it depends on the direction of m (a tensor damping for the FEM LLG).
* Zhang-Li (eq. 35, b_0 = mu_B P / e; S. Zhang, Z. Li, PRL 93, 127204 (2004)): ballistic spin-resolved
  transmissions along m, P_m = (T_+ - T_-)/(T_+ + T_-) (+: spin along the moment m, i.e. the spin convention of the
  paper; with Delta > 0 the low-energy band has spin against m, so P_m < 0 near the band bottom). A bias e V_b
  drives the particle current I = T e V_b / 2pi (per t_hat) and, by conservation of angular momentum for
  adiabatic electron spins, dm/dt = -u dm/dx with

      u = P_m I a / (2 M ny)   [a / t_hat],   equivalently   u = P_m j mu_B / (e Ms),  j = e I / (ny a^2),
      Ms = 2 mu_B M / a^3,

  i.e. the texture moves along the electron flow if P_m > 0 and against it if P_m < 0.
* Domain wall (1D collective coordinates, Thiaville et al., EPL 69, 990 (2005)) without hard-axis anisotropy, for
  dm/dt = -m x H - alpha m x dm/dt - u dm/dx - beta u m x dm/dx (spin convention; m = (sin th cos psi,
  sin th sin psi, cos th), th' = sin th / lambda):
  dq/dt = u (1 + alpha beta)/(1 + alpha^2), dpsi/dt = (alpha - beta) u / ((1 + alpha^2) lambda),
  lambda = sqrt(J_ex / 2K) (lattice); with beta = 0 the continuum reference is v_ZL = u / (1 + alpha^2).
"""
from __future__ import annotations

import math
from typing import Optional

import numpy as np

from ...errors import ParameterError
from .damping import kubo_damping
from .dynamics import NEGFLLG
from .lattice import TightBinding
from .leads import SIGMA, LatticeLead
from .skyrmion import SkyrmionHamiltonian, relax
from .transport import FermiSurface
from .units import LatticeUnits


def uniform_ferromagnet(nx: int, ny: int = 1, exchange: float = 1.0, direction=(0.0, 0.0, 1.0), onsite: float = 0.0,
                        hopping: float = 1.0, rashba: float = 0.0, broadening: float = 0.0,
                        ferromagnetic_leads: bool = True) -> TightBinding:
    """A uniform ferromagnet (moments along ``direction``) with ferromagnetic leads of the same material
    (or normal leads). ParameterError for bad values (see :class:`TightBinding`, :class:`LatticeLead`)."""
    d = np.asarray(direction, dtype=float)
    lead_ex = exchange if ferromagnetic_leads else 0.0
    leads = {s: LatticeLead(ny, onsite=onsite, hopping=hopping, exchange=lead_ex, direction=d)
             for s in ("left", "right")}
    return TightBinding(nx, ny, onsite=onsite, hopping=hopping, exchange=exchange, moments=d, rashba=rashba,
                        leads=leads, broadening=broadening)


def bulk_damping(system: TightBinding, E_F: float, M: float = 1.0) -> dict:
    """Damping of rigid precession of a uniform magnet: ``macro`` (3x3) = (1/N) sum_{n,n'} alpha_{(n,:),(n',:)},
    ``local`` (3x3) = mean on-site block, ``perp`` = mean of alpha_macro on the plane normal to the (mean) moment,
    ``eigenvalues`` of the full Kubo tensor (min, max). Dimensionless."""
    a = kubo_damping(system, E_F, M=M)
    N = system.n_sites
    blocks = a.reshape(N, 3, N, 3)
    macro = blocks.sum(axis=(0, 2)) / N
    local = np.mean([blocks[n, :, n, :] for n in range(N)], axis=0)
    m = system.moments.reshape(-1, 3).mean(axis=0)
    m = m / np.linalg.norm(m)
    P = np.eye(3) - np.outer(m, m)
    ev = np.linalg.eigvalsh(a)
    return {"macro": macro, "local": local, "perp": float(np.trace(P @ macro @ P) / 2),
            "eigenvalues": (float(ev.min()), float(ev.max()))}


def bulk_damping_k(E_F: float, ny: int = 1, exchange: float = 1.0, direction=(0.0, 0.0, 1.0), onsite: float = 0.0,
                   hopping: float = 1.0, rashba: float = 0.0, broadening: float = 0.1, M: float = 1.0,
                   n_k: int = 2048) -> np.ndarray:
    """Gilbert tensor per moment of the INFINITE uniform ribbon under rigid precession, by a k sum (no leads):

        alpha = (Delta^2 / (4 pi M ny)) int dk/2pi Re Tr[A(k) sigma_i A(k) sigma_j],
        A(k) = eta G(k) G(k)^+,  G(k) = [E_F + i eta/2 - H(k)]^(-1),  H(k) = H_0 + V e^{ik} + V^+ e^{-ik},

    (trapezoid rule in k, spectrally accurate for eta > 0). 3x3, symmetric PSD. The real-space
    :func:`bulk_damping` of a length-L ribbon converges to it as L grows. ParameterError for eta <= 0."""
    if not (np.isfinite(broadening) and broadening > 0):
        raise ParameterError("broadening", f"the k sum needs a bath eta > 0, got {broadening!r}")
    cell = TightBinding(2, ny, onsite=onsite, hopping=hopping, exchange=exchange, moments=direction, rashba=rashba)
    H, V = cell.slice_hamiltonians()
    H0, V = H[0], V[0]
    ks = 2 * np.pi * np.arange(n_k) / n_k
    Hk = H0[None] + np.exp(1j * ks)[:, None, None] * V + np.exp(-1j * ks)[:, None, None] * V.conj().T
    m2 = 2 * ny
    G = np.linalg.inv((E_F + 0.5j * broadening) * np.eye(m2) - Hk)
    A = broadening * G @ np.swapaxes(G.conj(), 1, 2)
    S = np.array([np.kron(np.eye(ny), sg) for sg in SIGMA])  # sigma_i on all sites of the slice
    AS = np.einsum("kab,ibc->kiac", A, S)  # A sigma_i
    val = np.einsum("kiab,kjba->ij", AS, AS).real / n_k  # int dk/2pi Tr[A s_i A s_j]
    return exchange ** 2 * val / (4 * np.pi * M * ny)


def zhang_li_parameters(system: TightBinding, E_F: float, M: float = 1.0, units: Optional[LatticeUnits] = None) -> dict:
    """Polarization and adiabatic spin-torque velocity of a uniform ferromagnet along +-z (see module docstring).

    Returns P_m (signed, along m), |P|, T_plus, T_minus (ballistic transmissions per spin along m), the particle
    current per unit bias I/eV_b = T / 2pi, u per unit bias [a/t_hat per t], and in SI: u per current density
    [m/s per A/m^2] and Ms [A/m]. ParameterError unless the moments are uniform and along +-z."""
    m = system.moments.reshape(-1, 3)
    if np.abs(m - m[0]).max() > 1e-12 or abs(abs(m[0, 2]) - 1) > 1e-12:
        raise ParameterError("moments", "zhang_li_parameters needs a uniform magnet along +z or -z")
    units = units or LatticeUnits()
    fs = FermiSurface(system, E_F)
    up = sum(fs.transmission(spin_to="up", spin_from=s) for s in ("up", "down"))
    dn = sum(fs.transmission(spin_to="down", spin_from=s) for s in ("up", "down"))
    Tp, Tm = (up, dn) if m[0, 2] > 0 else (dn, up)
    T = Tp + Tm
    if T <= 0:
        raise ParameterError("E_F", f"no propagating states at E_F = {E_F}")
    P = (Tp - Tm) / T
    I_per_bias = T / (2 * np.pi)
    u_per_bias = P * I_per_bias / (2 * M * system.ny)  # lattice units: (a/t_hat) per (J_ex)
    # SI: u = P j mu_B / (e Ms), Ms = 2 mu_B M / a^3  ->  u/j = P a^3 / (2 e M)
    from ...constants import E_CHARGE
    u_per_j = P * units.a ** 3 / (2 * E_CHARGE * M)
    return {"P_m": float(P), "P_abs": float(abs(P)), "T_plus": float(Tp), "T_minus": float(Tm),
            "I_per_bias": float(I_per_bias), "u_per_bias_lattice": float(u_per_bias),
            "u_per_current_density_SI": float(u_per_j), "Ms_SI": units.saturation_magnetization(M)}


def wall_position(m) -> float:
    """Position q (in sites from the first column) of a +z -> -z wall along x: q = (sum_n m_z + N)/2 - 1/2 per row,
    averaged over rows."""
    mz = np.asarray(m)[..., 2]
    nx = mz.shape[0]
    return float(np.mean((mz.sum(axis=0) + nx) / 2 - 0.5))


def wall_angle(m) -> float:
    """In-plane angle psi of the wall: atan2 of the (1 - m_z^2)-weighted mean m_y, m_x [rad]."""
    m = np.asarray(m)
    w = 1 - m[..., 2] ** 2
    return float(math.atan2(np.sum(w * m[..., 1]), np.sum(w * m[..., 0])))


def domain_wall_run(nx: int = 80, ny: int = 1, K: float = 0.01, exchange: float = 1.0, E_F: float = -2.0,
                    bias: float = 0.2, alpha: float = 0.1, dt: float = 0.2, t_end: float = 200.0,
                    onsite: float = 0.0, J_ex: float = 1.0, M: float = 1.0, progress: bool = False) -> dict:
    """Current-driven domain wall on the lattice (eq. 39 with the bias-driven spin density, no pumping):
    moments of H = -J_ex sum m_i.m_j - K sum m_z^2 (no DMI, no hard axis), electrons of the same ribbon with
    ferromagnetic leads along +z (left) and -z (right), a bias e V_b = ``bias``. The wall (width
    lambda = sqrt(J_ex/2K)) starts at the centre, relaxed; returns the fitted velocity v and precession rate dpsi/dt
    (over the second half of the run), u from :func:`zhang_li_parameters` of the uniform magnet, the continuum
    references v_ZL = u/(1+alpha^2) and dpsi/dt = alpha u/((1+alpha^2) lambda) (beta = 0), their ratios,
    beta_eff from the lattice values, and the time series."""
    if not (np.isfinite(bias) and bias != 0):
        raise ParameterError("bias", f"must be a nonzero finite energy, got {bias!r}")
    lam = math.sqrt(J_ex / (2 * K))
    if nx < 6 * lam:
        raise ParameterError("nx", f"must be >= 6 wall widths ({6 * lam:.0f}) so that the wall stays inside")
    spins = SkyrmionHamiltonian(nx, ny, J_ex=J_ex, D=0.0, K=K)
    x = np.arange(nx)[:, None] * np.ones((1, ny))
    th = 2 * np.arctan(np.exp((x - (nx - 1) / 2) / lam))
    m0 = np.stack([np.sin(th), 0 * th, np.cos(th)], -1)
    m0, _ = relax(spins, m0, tol=1e-9, max_iter=400000)
    leads = {"left": LatticeLead(ny, onsite=onsite, exchange=exchange, direction=(0, 0, 1)),
             "right": LatticeLead(ny, onsite=onsite, exchange=exchange, direction=(0, 0, -1))}
    el = TightBinding(nx, ny, onsite=onsite, exchange=exchange, moments=m0, leads=leads)
    zl = zhang_li_parameters(uniform_ferromagnet(8, ny, exchange, onsite=onsite), E_F, M)
    u = zl["u_per_bias_lattice"] * bias
    sim = NEGFLLG(spins, el, E_F, alpha=alpha, pump=None, sd_mode="none", bias=bias, M=M)
    sim.set_state(m0)
    ts, qs, ps = [0.0], [wall_position(m0)], [wall_angle(m0)]

    def rec(s, d):
        ts.append(s.t)
        qs.append(wall_position(s.m))
        ps.append(wall_angle(s.m))
    sim.run(t_end, dt, callback=rec, progress=progress)
    ts, qs, ps = np.array(ts), np.array(qs), np.unwrap(np.array(ps))
    half = ts >= ts[-1] / 2
    v = float(np.polyfit(ts[half], qs[half], 1)[0])
    w = float(np.polyfit(ts[half], ps[half], 1)[0])
    v_zl = u / (1 + alpha ** 2)
    w_zl = alpha * u / ((1 + alpha ** 2) * lam)
    # 1D model with beta: v = u (1 + alpha beta)/(1+alpha^2), psi' = (alpha - beta) u /((1+alpha^2) lambda)
    beta_v = ((1 + alpha ** 2) * v / u - 1) / alpha if alpha > 0 else float("nan")
    beta_w = alpha - (1 + alpha ** 2) * lam * w / u
    return {"u": u, "v": v, "dpsi_dt": w, "v_ZL": v_zl, "dpsi_dt_ZL": w_zl, "velocity_ratio": v / v_zl,
            "beta_from_v": beta_v, "beta_from_psi": beta_w, "lambda": lam, "alpha": alpha, "bias": bias,
            "zhang_li": zl, "t": ts, "q": qs, "psi": ps, "displacement": float(qs[-1] - qs[0])}


def continuum_domain_wall_run(u: float, alpha: float, Ms: float, A: float, K1: float, length: float,
                              width: Optional[float] = None, mesh_size: Optional[float] = None,
                              t_end: float = 30e-12, dt_max: float = 0.2e-12, alpha_tensor=None,
                              mesh_path=None, comm=None) -> dict:
    """The FEM side of the bridge: the same head-to-head wall, driven by the Zhang-Li torque of the continuum LLG
    (:class:`fem_stt.spin.ZhangLiTorque`, beta = 0), in a wire along x of square cross-section, no stray field.

    Parameters (SI)
    ---------------
    u : spin-drift velocity [m/s] (the wall moves along u); alpha : Gilbert damping; Ms [A/m], A [J/m],
    K1 [J/m^3] (easy axis z): wall width lambda = sqrt(A/K1); length [m] of the wire (>= 8 lambda);
    width [m] (default lambda / 4); mesh_size [m] (default lambda / 8); t_end [s]; dt_max [s];
    alpha_tensor : optional (3, 3) Gilbert tensor in place of the scalar alpha (e.g. :func:`bulk_damping_k`).

    Returns dict(v [m/s], dpsi_dt [rad/s], v_ZL = u/(1+alpha^2), velocity_ratio, lambda [m], t, q, psi) with the
    wall centre q(t) = L (1 + <m_z>)/2 (exact for a wall inside the wire) and angle psi = atan2(<m_y>, <m_x>),
    both fitted over the second half of the run.

    Raises ParameterError for a wire shorter than 8 wall widths or non-positive sizes.
    """
    from mpi4py import MPI

    from ...geometry import Layer, LayerStack, rectangle
    from ...llg import LLG
    from ...materials import Material
    from ...spin import ZhangLiTorque
    from ...spin.parameters import Q_E
    from ...constants import MU_B
    comm = comm or MPI.COMM_WORLD
    for name, val in (("Ms", Ms), ("A", A), ("K1", K1), ("length", length), ("t_end", t_end)):
        if not (np.isfinite(val) and val > 0):
            raise ParameterError(name, f"must be > 0, got {val!r}")
    lam = math.sqrt(A / K1)
    if length < 8 * lam:
        raise ParameterError("length", f"must be >= 8 wall widths ({8 * lam:.3g} m), got {length:.3g} m")
    width = width or lam / 4
    h = mesh_size or lam / 8
    mat = Material("wire", Ms=Ms, A=A, K1=K1, alpha=alpha)
    stack = LayerStack([Layer("wire", width, mat, rectangle(length, width))], mesh_size=h, surrounding=None,
                       name=f"dw_wire_{length * 1e9:.4g}nm_{h * 1e12:.4g}pm")
    dom = stack.mesh(path=mesh_path, comm=comm)

    def m0(x):
        th = 2 * np.arctan(np.exp(x[0] / lam))  # centred at x = 0 (the rectangle is centred)
        return np.vstack([np.sin(th), 0 * th, np.cos(th)])
    kw = {} if alpha_tensor is None else {"alpha_tensor": {"wire": alpha_tensor}}
    llg = LLG(dom, m0, demag=False, order=2, dt=0.02e-12, dt_max=dt_max, max_rotation=0.05, **kw)
    llg.relax(tol=1.0, max_iterations=20000)
    j = u * Q_E * Ms / MU_B  # polarization 1: u = P mu_B j / (Q_E Ms)
    llg.add_term(ZhangLiTorque(llg, (j, 0.0, 0.0), polarization={"wire": 1.0}, xi=0.0))
    ts, qs, ps = [], [], []

    def rec(s):
        a = s.average()
        ts.append(s.t)
        qs.append(0.5 * length * a[2])  # wall centre relative to the wire's centre
        ps.append(math.atan2(a[1], a[0]))
    rec(llg)
    llg.advance(t_end, callback=rec)
    ts, qs, ps = np.array(ts), np.array(qs), np.unwrap(np.array(ps))
    half = ts >= ts[-1] / 2
    v = float(np.polyfit(ts[half], qs[half], 1)[0])
    w = float(np.polyfit(ts[half], ps[half], 1)[0])
    v_zl = u / (1 + alpha ** 2)
    return {"u": u, "v": v, "dpsi_dt": w, "v_ZL": v_zl, "velocity_ratio": v / v_zl,
            "dpsi_dt_ZL": alpha * u / ((1 + alpha ** 2) * lam), "lambda": lam, "t": ts, "q": qs, "psi": ps,
            "steps": llg.step_count, "vertices": dom.mesh.geometry.x.shape[0]}
