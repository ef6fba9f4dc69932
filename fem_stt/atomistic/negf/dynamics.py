"""Atomistic LLG of moments coupled to the electrons' non-equilibrium spin density (eq. 39), RK4.

Equation (Xu et al., PRB 108, 144409 (2023), eq. 39, in the spin convention of eq. 12; negf_llg.md Sec. 2),
units of t = J_ex, hbar = gamma = 1 (SI scales: :mod:`.units`):

    dm_i/dt = -m_i x [dH_Sk/dm_i + c s_i] - m_i x (alpha dm_i/dt)  (+ the NEGF damping, optional)

with H_Sk of eq. 38 (:mod:`.skyrmion`), s_i the electrons' spin density on site i and ``torque_prefactor``
c = 2 Delta / M (= 2J for the paper's J sigma.m_i with Delta = J, M = 1: dE/dm_i = <dh/dm_i> = 2 J s_i).
The paper prints -(J/gamma) s_D in eq. 39, opposite in sign to eqs. 10/17 and half the size; pass
``torque_prefactor=-J`` to reproduce the print. Solved in Landau-Lifshitz form for scalar alpha,

    dm/dt = -[m x H - alpha m x (m x H)] / (1 + alpha^2),   H = dH_Sk/dm + c s + (alpha_NEGF dm/dt),

the last term (the non-local Kubo tensor of :mod:`.damping`, applied as a mat-vec) by GMRES.
Classical RK4; at each stage the frozen G^r at E_F is rebuilt for the stage's moments and gate potentials
(RGF, one energy), then s (``sd_mode``, negf_llg.md Sec. 2.2):

* ``adiabatic-fs`` (default): s_i = sum_k C_{i,k} dX_k/dt, the Fermi-surface spin density pumped by the gates
  (:func:`~.pumping.pumped_spin_coefficients`);
* ``literal-ldos`` (comparison): s_i = (1/2) Tr_s[sigma A_ii]/2pi at E_F (both leads filled);
* ``none``: no pumped spin density.

``bias`` adds the linear-response non-equilibrium spin density of a source-drain bias e V_b (mu_L,R = E_F +- e V_b/2):
s_i += (e V_b/2) (1/2) Tr_s[sigma (A_L - A_R)_ii]/2pi (the current-induced torques of a texture, T = 0).
After each step |m_i| is renormalized (the drift before renormalization is recorded). The pumped current is eq. 40.
"""
from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from ...errors import ParameterError, SolverError
from .lattice import TightBinding, check_moments
from .pumping import emissivity, exchange_damping_matvec, pumped_spin_coefficients
from .skyrmion import SkyrmionHamiltonian, skyrmion_center, topological_charge
from .transport import FermiSurface

SD_MODES = ("adiabatic-fs", "literal-ldos", "none")


@dataclasses.dataclass
class Pump:
    """Gate potentials V_p = V cos(w t) on gate ``gates[0]`` and V cos(w t + phi) on ``gates[1]`` (Sec. V).

    V [t], omega [t/hbar] > 0, phi [rad]. ParameterError for non-finite values or omega <= 0."""

    V: float = 0.8
    omega: float = 1.0
    phi: float = math.pi / 2
    gates: Sequence[str] = ("V1", "V2")

    def __post_init__(self):
        for nm in ("V", "phi"):
            if not np.isfinite(getattr(self, nm)):
                raise ParameterError(f"pump.{nm}", f"must be finite, got {getattr(self, nm)!r}")
        if not (np.isfinite(self.omega) and self.omega > 0):
            raise ParameterError("pump.omega", f"must be > 0, got {self.omega!r}")
        if len(self.gates) != 2:
            raise ParameterError("pump.gates", f"needs two gate names, got {self.gates!r}")
        self.gates = tuple(self.gates)

    @property
    def period(self) -> float:
        return 2 * math.pi / self.omega

    def X(self, t: float) -> np.ndarray:
        return self.V * np.array([math.cos(self.omega * t), math.cos(self.omega * t + self.phi)])

    def Xdot(self, t: float) -> np.ndarray:
        return -self.V * self.omega * np.array([math.sin(self.omega * t), math.sin(self.omega * t + self.phi)])


class NEGFLLG:
    """Moments m (nx, ny, 3) under eq. 39 with the electrons of ``electrons`` (a :class:`TightBinding` whose
    moments are replaced by m at every RK4 stage; its leads and gates are used).

    Parameters
    ----------
    spins : SkyrmionHamiltonian (same nx, ny)
    electrons : TightBinding with leads (and the pump's gates)
    E_F : Fermi energy [t]
    alpha : scalar Gilbert damping >= 0
    pump : Pump or None (static gates)
    torque_prefactor : c in H = dH_Sk/dm + c s (default 2 Delta / M with the electrons' uniform exchange Delta)
    sd_mode : 'adiabatic-fs' | 'literal-ldos' | 'none'
    negf_damping : add the non-local Kubo damping tensor of the electrons (implicit, GMRES)
    bias : e V_b [t], source-drain bias for current-induced torques (linear response), default 0
    M : spin length of a moment (hbar units)

    Raises ParameterError for alpha < 0, unknown sd_mode, mismatched sizes, no leads, unknown gates.
    """

    def __init__(self, spins: SkyrmionHamiltonian, electrons: TightBinding, E_F: float, alpha: float = 0.4,
                 pump: Optional[Pump] = None, torque_prefactor: Optional[float] = None, sd_mode: str = "adiabatic-fs",
                 negf_damping: bool = False, bias: float = 0.0, M: float = 1.0):
        if not (np.isfinite(alpha) and alpha >= 0):
            raise ParameterError("alpha", f"must be >= 0 and finite, got {alpha!r}")
        if sd_mode not in SD_MODES:
            raise ParameterError("sd_mode", f"must be one of {SD_MODES}, got {sd_mode!r}")
        if (spins.nx, spins.ny) != (electrons.nx, electrons.ny):
            raise ParameterError("electrons", f"lattice {electrons.nx}x{electrons.ny} differs from the spins' "
                                              f"{spins.nx}x{spins.ny}")
        if not electrons.lead_names:
            raise ParameterError("electrons", "the electron lattice needs leads (transport)")
        if not np.isfinite(E_F):
            raise ParameterError("E_F", f"must be finite, got {E_F!r}")
        if not (np.isfinite(M) and M > 0):
            raise ParameterError("M", f"must be > 0, got {M!r}")
        if not np.isfinite(bias):
            raise ParameterError("bias", f"must be finite, got {bias!r}")
        if pump is not None:
            for g in pump.gates:
                if g not in electrons.gates:
                    raise ParameterError("pump.gates", f"unknown gate {g!r}; gates: {sorted(electrons.gates)}")
        if bias != 0 and not {"left", "right"} <= set(electrons.lead_names):
            raise ParameterError("bias", "a bias needs both a left and a right lead")
        delta = np.unique(electrons.exchange)
        if torque_prefactor is None:
            if len(delta) != 1:
                raise ParameterError("torque_prefactor", "non-uniform exchange: give the prefactor explicitly")
            torque_prefactor = 2 * float(delta[0]) / M
        if not np.isfinite(torque_prefactor):
            raise ParameterError("torque_prefactor", f"must be finite, got {torque_prefactor!r}")
        self.spins, self.electrons, self.E_F = spins, electrons, float(E_F)
        self.alpha, self.pump, self.c = float(alpha), pump, float(torque_prefactor)
        self.sd_mode, self.negf_damping, self.bias, self.M = sd_mode, bool(negf_damping), float(bias), float(M)
        self.t = 0.0
        self.m = None
        self.steps = 0
        self._gate_slices = sorted({int(x) for g in (pump.gates if pump else ()) if sd_mode == "adiabatic-fs"
                                    for x in np.flatnonzero(np.any(electrons.gates[g] != 0, axis=1))})
        if self.negf_damping and electrons.broadening > 0:
            raise ParameterError("negf_damping", "the non-local NEGF damping needs broadening = 0 (A = W W^+)")

    # ------------------------------------------------------------------ electrons
    def electron_system(self, m, t: float) -> TightBinding:
        """The frozen electron lattice at moments m and time t (gate potentials of the pump)."""
        kw = {"moments": m}
        if self.pump is not None:
            X = self.pump.X(t)
            kw["gate_values"] = {**self.electrons.gate_values, self.pump.gates[0]: X[0], self.pump.gates[1]: X[1]}
        return self.electrons.replace(**kw)

    def electrons_at(self, m, t: float, currents: bool = False):
        """(s (nx, ny, 3), FermiSurface, diagnostics dict) at moments m, time t."""
        sysx = self.electron_system(m, t)
        fs = FermiSurface(sysx, self.E_F, rows=currents and self.pump is not None, extra_slices=self._gate_slices)
        N = sysx.n_sites
        s = np.zeros((N, 3))
        diag = {}
        if self.pump is not None:
            Xd = self.pump.Xdot(t)
            if self.sd_mode == "adiabatic-fs":
                C = pumped_spin_coefficients(sysx, self.E_F, self.pump.gates, fs)
                s += C @ Xd
            if currents:
                for key, spin in (("Ip", None), ("Ip_up", "up"), ("Ip_down", "down")):
                    diag[key] = float(2 * np.pi * emissivity(sysx, self.E_F, self.pump.gates, "right", spin, fs) @ Xd)
        if self.sd_mode == "literal-ldos":
            s += fs.spin_ldos().reshape(N, 3)
        if self.bias != 0:
            e = fs.expectation_sites(fs.W["left"], None)[:, 1:] - fs.expectation_sites(fs.W["right"], None)[:, 1:]
            s += 0.5 * self.bias * 0.5 * e / (2 * np.pi)
        return s.reshape(sysx.nx, sysx.ny, 3), fs, diag

    # ------------------------------------------------------------------ LLG
    def _ll(self, m, H):
        mxH = np.cross(m, H)
        return -(mxH - self.alpha * np.cross(m, mxH)) / (1 + self.alpha ** 2)

    def rhs(self, m, t: float, currents: bool = False):
        """(dm/dt (nx, ny, 3), diagnostics) of eq. 39 at moments m, time t."""
        s, fs, diag = self.electrons_at(m, t, currents)
        H = self.spins.gradient(m) + self.c * s
        mdot = self._ll(m, H)
        if self.negf_damping:
            # dm/dt = LL(H + alpha_NEGF dm/dt): linear in dm/dt, solved by GMRES with the mat-vec
            from scipy.sparse.linalg import LinearOperator, gmres
            sysx = fs.system

            def op(v):
                v = v.reshape(m.shape)
                Hd = exchange_damping_matvec(sysx, fs, v.reshape(-1, 3), self.M).reshape(m.shape)
                return (v - self._ll(m, Hd)).ravel()
            n = mdot.size
            x, info = gmres(LinearOperator((n, n), matvec=op, dtype=float), mdot.ravel(), x0=mdot.ravel(),
                            tol=1e-13, atol=0.0, restart=60, maxiter=50)
            if info != 0:
                raise SolverError(f"NEGF damping: GMRES did not converge (info = {info})")
            mdot = x.reshape(m.shape)
        diag["s"] = s
        return mdot, diag

    def set_state(self, m, t: float = 0.0):
        """Set the moments (normalized; ParameterError for NaN/zero/wrong shape) and the time."""
        self.m = check_moments(m, (self.spins.nx, self.spins.ny), "m")
        if not np.isfinite(t):
            raise ParameterError("t", f"must be finite, got {t!r}")
        self.t = float(t)

    def step(self, dt: float) -> dict:
        """One classical RK4 step of length dt; returns diagnostics at the start of the step (I_p, s) and
        the |m| drift before renormalization."""
        if not (np.isfinite(dt) and dt > 0):
            raise ParameterError("dt", f"must be > 0, got {dt!r}")
        if self.m is None:
            raise ParameterError("m", "set_state(m) first")
        m, t = self.m, self.t
        k1, diag = self.rhs(m, t, currents=True)
        k2, _ = self.rhs(m + 0.5 * dt * k1, t + 0.5 * dt)
        k3, _ = self.rhs(m + 0.5 * dt * k2, t + 0.5 * dt)
        k4, _ = self.rhs(m + dt * k3, t + dt)
        new = m + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        nrm = np.linalg.norm(new, axis=-1)
        diag["norm_drift"] = float(np.abs(nrm - 1).max())
        if not np.all(np.isfinite(new)):
            raise SolverError(f"LLG: non-finite moments at t = {t + dt:g}; reduce dt")
        self.m = new / nrm[..., None]
        self.t = t + dt
        self.steps += 1
        return diag

    def observables(self, diag: dict) -> dict:
        """The recorded row: t, centre (x, y), Q, E_Sk, I_p (total/up/down), |m| drift."""
        x, y = skyrmion_center(self.m)
        return {"t": self.t, "x": x, "y": y, "Q": topological_charge(self.m), "E_Sk": self.spins.energy(self.m),
                "Ip": diag.get("Ip", 0.0), "Ip_up": diag.get("Ip_up", 0.0), "Ip_down": diag.get("Ip_down", 0.0),
                "norm_drift": diag.get("norm_drift", 0.0)}

    def run(self, t_end: float, dt: float, record_every: int = 1, progress: bool = False,
            checkpoint: Optional[Path] = None, checkpoint_every: int = 0, callback=None) -> dict:
        """Integrate to ``t_end`` in steps of ``dt`` (the last one shortened to land on t_end). Returns the
        history {name: array} recorded every ``record_every`` steps (rows at the END of each recorded step;
        I_p at its start). ``checkpoint``: a .npz written every ``checkpoint_every`` steps and at the end
        (m, t, steps, history); :meth:`resume` continues from it. ``progress``: a tqdm bar."""
        if self.m is None:
            raise ParameterError("m", "set_state(m) first")
        if not (np.isfinite(t_end) and t_end >= self.t):
            raise ParameterError("t_end", f"must be >= the present time {self.t}, got {t_end!r}")
        hist = getattr(self, "_history", None) or {}
        bar = None
        if progress:
            from tqdm import tqdm
            bar = tqdm(total=round(t_end - self.t, 6), unit="t", bar_format="{l_bar}{bar}| {n:.4g}/{total:.4g} "
                                                                            "[{elapsed}<{remaining}]")
        k = 0
        while self.t < t_end - 1e-12:
            h = min(dt, t_end - self.t)
            diag = self.step(h)
            if bar is not None:
                bar.update(h)
            k += 1
            if k % record_every == 0 or self.t >= t_end - 1e-12:
                for key, val in self.observables(diag).items():
                    hist.setdefault(key, []).append(val)
                if callback is not None:
                    callback(self, diag)
            if checkpoint is not None and checkpoint_every and self.steps % checkpoint_every == 0:
                self._history = hist
                self.save_checkpoint(checkpoint)
        if bar is not None:
            bar.close()
        self._history = hist
        if checkpoint is not None:
            self.save_checkpoint(checkpoint)
        return {k_: np.asarray(v) for k_, v in hist.items()}

    def save_checkpoint(self, path):
        """Write (m, t, steps, history) to ``path`` (.npz, atomically)."""
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp.npz")
        hist = getattr(self, "_history", None) or {}
        np.savez(tmp, m=self.m, t=self.t, steps=self.steps, history=json.dumps({k: list(map(float, v))
                                                                                   for k, v in hist.items()}))
        tmp.replace(path)

    def resume(self, path):
        """Continue from a checkpoint written by :meth:`save_checkpoint` (m, t, steps, history)."""
        path = Path(path)
        if not path.is_file():
            raise ParameterError("checkpoint", f"no checkpoint file {path}")
        d = np.load(path)
        self.set_state(d["m"], float(d["t"]))
        self.steps = int(d["steps"])
        self._history = {k: list(v) for k, v in json.loads(str(d["history"])).items()}


def frozen_pumped_current(electrons: TightBinding, m, E_F: float, pump: Pump, times) -> dict:
    """I_p(t) of eq. 40 (total, up, down) for moments frozen at m (Fig. 6a), at the given times."""
    sim = NEGFLLG(SkyrmionHamiltonian(electrons.nx, electrons.ny), electrons, E_F, 0.0, pump, sd_mode="none")
    out = {"t": np.asarray(times, dtype=float), "Ip": [], "Ip_up": [], "Ip_down": []}
    for t in out["t"]:
        _, _, d = sim.electrons_at(m, float(t), currents=True)
        for k in ("Ip", "Ip_up", "Ip_down"):
            out[k].append(d[k])
    return {k: np.asarray(v) for k, v in out.items()}


def thiele_fit(t, x, y, period: Optional[float] = None) -> dict:
    """Mean velocity of the centre: least-squares slope of x(t), y(t) over the whole span (over an integer number of
    periods ending at the last time if ``period`` is given), and the Hall angle atan2(v_y, v_x) [rad]; also the
    displacement per period when a period is given."""
    t, x, y = (np.asarray(a, dtype=float) for a in (t, x, y))
    ok = np.isfinite(x) & np.isfinite(y)
    t, x, y = t[ok], x[ok], y[ok]
    if period is not None and t[-1] - t[0] >= period:
        n = math.floor((t[-1] - t[0]) / period + 1e-9)
        sel = t >= t[-1] - n * period - 1e-9
        t, x, y = t[sel], x[sel], y[sel]
    if len(t) < 2:
        return {"vx": float("nan"), "vy": float("nan"), "hall_angle": float("nan")}
    vx = float(np.polyfit(t, x, 1)[0])
    vy = float(np.polyfit(t, y, 1)[0])
    out = {"vx": vx, "vy": vy, "hall_angle": float(math.atan2(vy, vx))}
    if period is not None:
        out["dx_per_period"], out["dy_per_period"] = vx * period, vy * period
    return out

