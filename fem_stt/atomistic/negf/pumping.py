"""Adiabatic quantum pumping by gate potentials: emissivities, pumped charge (Brouwer), eq. 40, pumped spin.

h(t) = h_0 + sum_k X_k(t) P_k (gate profiles P_k, :class:`~.lattice.TightBinding` ``gates``); T = 0, slow X.
Units of t, hbar = 1; charges in electrons (Xu et al., PRB 108, 144409 (2023), Sec. V, eq. 40;
negf_llg.md Sec. 1.8, 2.2, case D):

* Emissivity into lead a (electrons emitted into a per unit increase of X_k):
      dN_a/dX_k = (1/2pi) Tr[Gamma_a G^r P_k G^a]  at E_F      (Buttiker, Thomas, Pretre 1994)
  with G^r_{a,:} the block row of the lead slice (RGF). Brouwer's scattering form (PRB 58, R10135 (1998))
      dN_a/dX_k = -(1/2pi) Im sum_{b in a, c} (dS_bc/dX_k) S_bc^*
  for the S convention S = -1 + i U^+ G^r U of Kwant and :func:`~.damping.smatrix` (the sign of Brouwer's
  paper belongs to the opposite phase convention).
* Pumped charge per cycle Q_a = oint sum_k (dN_a/dX_k) dX_k (periodic trapezoid rule in t).
* Eq. 40: I_p(t) = Tr[Gamma_R G_f^r (dV_p/dt) G_f^a] = 2 pi sum_k (dN_R/dX_k) dX_k/dt, i.e. 2 pi times the
  electrons emitted into R per unit time (hbar = 1). Spin parts: Gamma_R -> P_s Gamma_R P_s (z spin).
* Dissipative (Fermi-surface) pumped spin density, the default driving term of the skyrmion (negf_llg.md
  Sec. 2.2, ``adiabatic-fs``): s_n(t) = sum_k C_{n,k} dX_k/dt,
      C_{n,k} = (1/4pi) Re Tr[A (sigma/2) P_n A P_k],   A = W W^+ (lead factors, RGF).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ...errors import ParameterError
from .lattice import TightBinding
from .leads import SIGMA
from .transport import SPIN_DOWN, SPIN_UP, FermiSurface


def _gates(system: TightBinding, gates) -> list:
    names = list(system.gates) if gates is None else list(gates)
    if not names:
        raise ParameterError("gates", "pumping needs at least one gate; the lattice has none")
    for g in names:
        if g not in system.gates:
            raise ParameterError("gates", f"unknown gate {g!r}; gates: {sorted(system.gates)}")
    return names


def _lead(system: TightBinding, lead: str) -> str:
    if lead not in system.leads:
        raise ParameterError("lead", f"unknown lead {lead!r}; leads: {system.lead_names}")
    return lead


def emissivity(system: TightBinding, E_F: float, gates: Sequence[str] = None, lead: str = "right",
               spin=None, fs: FermiSurface = None) -> np.ndarray:
    """dN_lead/dX_k = (1/2pi) Tr[Gamma_lead P_s G^r P_k G^a] for each gate k, shape (n_gates,).
    ``spin``: None, 'up' or 'down' (z spin in the lead; normal leads). ParameterError for unknown names."""
    names = _gates(system, gates)
    lead = _lead(system, lead)
    if fs is None or not fs.G_row:
        fs = FermiSurface(system, E_F, rows=True)
    R = fs.G_row[lead]  # (nx, m, m): G_{a, i}
    Gam = fs.gamma[lead]
    if spin is not None:
        P = np.kron(np.eye(system.ny), {"up": SPIN_UP, "down": SPIN_DOWN}[spin])
        Gam = P @ Gam @ P
    # M_i = G_{a,i}^+ Gamma G_{a,i}: its diagonal 2x2 blocks weight the gate profile
    Mi = np.swapaxes(R.conj(), 1, 2) @ Gam @ R  # (nx, m, m)
    diag = np.einsum("xyaya->xy", Mi.reshape(system.nx, system.ny, 2, system.ny, 2)).real  # (nx, ny)
    return np.array([np.sum(diag * system.gates[g]) for g in names]) / (2 * np.pi)


def brouwer_emissivity(system: TightBinding, E_F: float, gates: Sequence[str] = None, lead: str = "right",
                       step: float = 1e-6, use_kwant: bool = True) -> np.ndarray:
    """Brouwer's scattering-matrix emissivity -(1/2pi) Im sum_{b in lead, c} dS_bc/dX_k S_bc^*, derivatives by
    central differences of S (Kwant's by default: an independent solver). Shape (n_gates,)."""
    names = _gates(system, gates)
    lead = _lead(system, lead)
    from .damping import smatrix

    def S_and_rows(sysx):
        li = system.lead_names.index(lead)
        if use_kwant:
            from .kwant_systems import kwant_smatrix
            sm = kwant_smatrix(sysx, E_F)
            return np.asarray(sm.data), sm.block_coords(li, 0)[0]
        S = smatrix(sysx, E_F)
        fs = FermiSurface(sysx, E_F)
        sizes = [fs.U[a].shape[1] for a in system.lead_names]
        start = int(np.sum(sizes[:li]))
        return S, slice(start, start + sizes[li])

    S0, rows = S_and_rows(system)
    out = []
    for g in names:
        x0 = system.gate_values.get(g, 0.0)
        Sp, _ = S_and_rows(system.with_gates(**{g: x0 + step}))
        Sm, _ = S_and_rows(system.with_gates(**{g: x0 - step}))
        dS = (Sp - Sm) / (2 * step)
        out.append(-np.sum(dS[rows] * S0[rows].conj()).imag / (2 * np.pi))
    return np.array(out)


def gate_path(V: float, phi: float, omega: float, t, offset=(0.0, 0.0)):
    """(X, dX/dt) of the two-gate cycle X = (X0_1 + V cos(w t), X0_2 + V cos(w t + phi)) of Sec. V, each (len(t), 2)."""
    t = np.asarray(t, dtype=float)
    X = np.stack([offset[0] + V * np.cos(omega * t), offset[1] + V * np.cos(omega * t + phi)], -1)
    Xd = np.stack([-V * omega * np.sin(omega * t), -V * omega * np.sin(omega * t + phi)], -1)
    return X, Xd


def pumped_charge(system: TightBinding, E_F: float, V: float, phi: float, gates: Sequence[str] = None,
                  lead: str = "right", n_cycle: int = 32, offset=(0.0, 0.0)) -> dict:
    """Electrons pumped into ``lead`` per cycle, Q = oint sum_k (dN/dX_k) dX_k, for the two-gate cycle of
    :func:`gate_path` (w = 1; Q does not depend on w), with ``n_cycle`` equally spaced points (trapezoid rule,
    spectrally accurate for a periodic integrand). Returns {"total", "up", "down"} (z spin in the lead)."""
    names = _gates(system, gates)
    if len(names) != 2:
        raise ParameterError("gates", f"the cycle needs exactly two gates, got {names}")
    if int(n_cycle) != n_cycle or n_cycle < 4:
        raise ParameterError("n_cycle", f"must be an integer >= 4, got {n_cycle!r}")
    t = 2 * np.pi * np.arange(n_cycle) / n_cycle
    X, Xd = gate_path(V, phi, 1.0, t, offset)
    out = {"total": 0.0, "up": 0.0, "down": 0.0}
    for x, xd in zip(X, Xd):
        sx = system.with_gates(**{names[0]: x[0], names[1]: x[1]})
        fs = FermiSurface(sx, E_F, rows=True)
        for key, spin in (("total", None), ("up", "up"), ("down", "down")):
            out[key] += float(emissivity(sx, E_F, names, lead, spin, fs) @ xd) * (2 * np.pi / n_cycle)
    return out


def pumped_current(system: TightBinding, E_F: float, Xdot, gates: Sequence[str] = None, lead: str = "right",
                   spin=None, fs: FermiSurface = None) -> float:
    """Eq. 40: I_p = Tr[Gamma_lead P_s G_f^r (sum_k dX_k/dt P_k) G_f^a] at E_F for the present gate values of
    ``system`` (= 2 pi x electrons emitted into the lead per unit time)."""
    names = _gates(system, gates)
    Xdot = np.asarray(Xdot, dtype=float)
    if Xdot.shape != (len(names),) or not np.all(np.isfinite(Xdot)):
        raise ParameterError("Xdot", f"must be {len(names)} finite numbers, got {Xdot!r}")
    return float(2 * np.pi * emissivity(system, E_F, names, lead, spin, fs) @ Xdot)


def pumped_spin_coefficients(system: TightBinding, E_F: float, gates: Sequence[str] = None,
                             fs: FermiSurface = None) -> np.ndarray:
    """C_{n,k} = (1/4pi) Re Tr[A (sigma/2) P_n A P_k] per site n, spin component and gate k, shape
    (N, 3, n_gates): the Fermi-surface spin density s_n = sum_k C_{n,k} dX_k/dt pumped by moving gates."""
    names = _gates(system, gates)
    if fs is None:
        fs = FermiSurface(system, E_F)
    out = np.empty((system.n_sites, 3, len(names)))
    for k, g in enumerate(names):
        prof = system.gates[g]
        cols = np.flatnonzero(np.any(prof != 0, axis=1))  # slices (x) the gate touches
        Acol = fs.spectral_columns(cols)  # A_{:, J}, (2N, 2 ny |cols|)
        w = np.repeat(prof[cols].reshape(-1), 2)  # orbital weights of P_k on those slices
        # (A P_k A)_nn = A_{n,J} diag(w) A_{n,J}^+ ;  C = (1/4pi)(1/2) Re Tr[sigma (A P_k A)_nn]
        out[:, :, k] = fs.expectation_sites(Acol, np.diag(w))[:, 1:] / (8 * np.pi)
    return out


def exchange_damping_matvec(system: TightBinding, fs: FermiSurface, mdot: np.ndarray, M: float = 1.0) -> np.ndarray:
    """(alpha_NEGF mdot) per site, (N, 3), with the non-local Kubo tensor alpha_(n,i),(n',j) =
    (1/4 pi M) Re Tr[A O_(n,i) A O_(n',j)] applied without forming it: alpha mdot = (1/4 pi M) Re Tr[O_(n,i) A X A],
    X = sum O_(n',j) mdot_(n',j) (site diagonal). ``mdot`` (N, 3) [1/t]. Needs eta = 0 (A = W W^+)."""
    W = fs.factor()
    delta = system.exchange.reshape(-1)
    xs = delta[:, None] * mdot.reshape(-1, 3)
    N = system.n_sites
    Wn = W.reshape(N, 2, -1)
    ops = np.einsum("ni,iab->nab", xs, SIGMA)  # 2x2 blocks of X
    Q = np.einsum("nar,nab,nbs->rs", Wn.conj(), ops, Wn)  # W^+ X W
    e = fs.expectation_sites(W, Q)[:, 1:]  # Re Tr[sigma_i (A X A)_nn]
    return delta[:, None] * e / (4 * np.pi * M)

