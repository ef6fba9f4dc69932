"""Case files (``model = "negf"``) and one run of the pumped skyrmion: ``fem-stt check/run CASE.toml``.

A run solves eq. 39 of Xu et al., PRB 108, 144409 (2023) (:mod:`.dynamics`) for the relaxed skyrmion of eq. 38
(:mod:`.skyrmion`) under the two pumping gates of Sec. V, in lattice units (t = J_ex, hbar = gamma = a = 1; SI
scales of Table I by :class:`~.units.LatticeUnits`, printed in ``summary.json``). Schema (all keys optional except
``model``; defaults = the paper's Sec. V values at 40 x 40 unless said):

    model = "negf"
    name = "skyrmion_pumping"
    [lattice]   nx = 40, ny (= nx), onsite = 4.0, hopping = 1.0, exchange = 2.0 (J of J sigma.m_i),
                E_F = 1.9, broadening = 0.05 (bath eta; 0 = the paper's bare model)
    [skyrmion]  J_ex = 1.0, D = 0.2, K = 0.07, B = [0, 0, 0] (mu B), radius = 8.0 (ansatz, sites),
                chirality = 1, relax_tol = 1e-9, freeze = false (frozen texture: eq. 40 only)
    [pump]      V = 0.8, omega = 1.0, phi = 1.5707963 (rad), columns = [1, 5] (1-based gate columns l1, l2)
    [llg]       alpha = 0.4, dt = 0.05, sd_mode = "adiabatic-fs" | "literal-ldos" | "none",
                torque_prefactor (default 2 J), negf_damping = false
    [run]       periods = 4 (or t_end, lattice time units), record_every = 1
    [output]    dir, checkpoint_every = 100
    [units]     J_ex = "1 meV", a = "0.5 nm"

Unknown keys and out-of-range values raise :class:`~fem_stt.errors.ParameterError` naming the dotted key.
Output folder: ``case.toml``, ``timeseries.csv`` (t, x, y, Q, E_Sk, Ip, Ip_up, Ip_down, norm_drift),
``summary.json`` (case-S report of the relaxed Sk, Thiele fit, pumped-current statistics, units, provenance),
``trajectory.png``, ``m_final.npy`` and ``checkpoint.npz`` (resume with ``--resume``).
"""
from __future__ import annotations

import dataclasses
import json
import math
import time
from pathlib import Path
from typing import Optional, Tuple

import numpy as np

from ...errors import ParameterError
from .dynamics import SD_MODES, NEGFLLG, Pump, frozen_pumped_current, thiele_fit
from .lattice import TightBinding
from .leads import LatticeLead
from .skyrmion import SkyrmionHamiltonian, bloch_ansatz, relax, skyrmion_report
from .units import LatticeUnits

try:  # Python >= 3.11
    import tomllib
except ModuleNotFoundError:  # pragma: no cover
    import tomli as tomllib  # type: ignore


@dataclasses.dataclass
class PumpingCase:
    """Parameters of one pumped-skyrmion run (see the module docstring; lattice units)."""

    name: str = "skyrmion_pumping"
    nx: int = 40
    ny: Optional[int] = None
    onsite: float = 4.0
    hopping: float = 1.0
    exchange: float = 2.0
    E_F: float = 1.9
    broadening: float = 0.05
    J_ex: float = 1.0
    D: float = 0.2
    K: float = 0.07
    B: Tuple[float, float, float] = (0.0, 0.0, 0.0)
    radius: float = 8.0
    chirality: int = 1
    relax_tol: float = 1e-9
    freeze: bool = False
    V: float = 0.8
    omega: float = 1.0
    phi: float = math.pi / 2
    columns: Tuple[int, int] = (1, 5)
    alpha: float = 0.4
    dt: float = 0.05
    sd_mode: str = "adiabatic-fs"
    torque_prefactor: Optional[float] = None
    negf_damping: bool = False
    periods: Optional[float] = 4.0
    t_end: Optional[float] = None
    record_every: int = 1
    checkpoint_every: int = 100
    output_dir: Optional[str] = None
    J_ex_SI: float = LatticeUnits().J_ex
    a_SI: float = LatticeUnits().a

    def __post_init__(self):
        if self.ny is None:
            self.ny = self.nx
        for k in ("nx", "ny", "record_every"):
            v = getattr(self, k)
            if isinstance(v, bool) or int(v) != v or v < 1:
                raise ParameterError(k, f"must be an integer >= 1, got {v!r}")
        if self.checkpoint_every < 0 or int(self.checkpoint_every) != self.checkpoint_every:
            raise ParameterError("checkpoint_every", f"must be an integer >= 0, got {self.checkpoint_every!r}")
        for k in ("dt", "relax_tol", "radius"):
            v = getattr(self, k)
            if not (np.isfinite(v) and v > 0):
                raise ParameterError(k, f"must be > 0, got {v!r}")
        if self.sd_mode not in SD_MODES:
            raise ParameterError("sd_mode", f"must be one of {SD_MODES}, got {self.sd_mode!r}")
        c = tuple(int(x) for x in self.columns)
        if len(c) != 2 or min(c) < 1 or max(c) > self.nx or c[0] == c[1]:
            raise ParameterError("columns", f"must be two different gate columns in [1, {self.nx}], got {self.columns!r}")
        self.columns = c
        if self.t_end is None:
            if self.periods is None or not (np.isfinite(self.periods) and self.periods > 0):
                raise ParameterError("periods", f"must be > 0, got {self.periods!r}")
        elif not (np.isfinite(self.t_end) and self.t_end > 0):
            raise ParameterError("t_end", f"must be > 0, got {self.t_end!r}")
        # the physics objects check the rest (alpha, omega, D, ...) when built
        self.build()

    # ------------------------------------------------------------------ builders
    @property
    def pump(self) -> Pump:
        return Pump(self.V, self.omega, self.phi, ("V1", "V2"))

    @property
    def end_time(self) -> float:
        return float(self.t_end) if self.t_end is not None else float(self.periods) * self.pump.period

    @property
    def units(self) -> LatticeUnits:
        return LatticeUnits(self.J_ex_SI, self.a_SI)

    def spins(self) -> SkyrmionHamiltonian:
        return SkyrmionHamiltonian(self.nx, self.ny, J_ex=self.J_ex, D=self.D, K=self.K, B=tuple(self.B))

    def electrons(self, m) -> TightBinding:
        gates = {}
        for name, col in zip(("V1", "V2"), self.columns):
            P = np.zeros((self.nx, self.ny))
            P[col - 1] = 1.0
            gates[name] = P
        leads = {s: LatticeLead(self.ny, onsite=self.onsite, hopping=self.hopping) for s in ("left", "right")}
        return TightBinding(self.nx, self.ny, onsite=self.onsite, hopping=self.hopping, exchange=self.exchange,
                            moments=m, leads=leads, gates=gates, broadening=self.broadening)

    def build(self, m=None) -> NEGFLLG:
        spins = self.spins()
        if m is None:
            m = np.broadcast_to([0.0, 0.0, 1.0], (self.nx, self.ny, 3))
        return NEGFLLG(spins, self.electrons(m), self.E_F, alpha=self.alpha, pump=self.pump,
                       torque_prefactor=self.torque_prefactor, sd_mode=self.sd_mode, negf_damping=self.negf_damping)

    def relaxed_skyrmion(self):
        """(m_Sk, m_FM, report): the relaxed skyrmion from the Bloch ansatz, the relaxed (edge-canted) ferromagnet
        and the case-S report."""
        H = self.spins()
        m, it = relax(H, bloch_ansatz(self.nx, self.ny, self.radius, chirality=self.chirality), tol=self.relax_tol)
        fm = np.zeros((self.nx, self.ny, 3))
        fm[..., 2] = 1.0
        m_fm, _ = relax(H, fm, tol=self.relax_tol)
        rep = skyrmion_report(H, m, m_fm)
        rep["relax_iterations"] = it
        return m, m_fm, rep

    def describe(self) -> str:
        sim = self.build()
        return (f"negf case '{self.name}': {self.nx} x {self.ny} lattice, J = {self.exchange}, E_F = {self.E_F}, "
                f"eta = {self.broadening}; Sk D = {self.D}, K = {self.K}; pump V = {self.V}, omega = {self.omega}, "
                f"phi = {self.phi:.4g}, gate columns {self.columns}; alpha = {self.alpha}, dt = {self.dt}, "
                f"sd_mode = {self.sd_mode}, torque prefactor c = {sim.c:g} (H = dH_Sk/dm + c s); "
                f"t_end = {self.end_time:.4g}\n{self.units.describe()}")

    # ------------------------------------------------------------------ run
    def run(self, comm=None, output=None, overwrite: bool = False, resume: bool = False, progress: bool = True,
            mesh_dir=None, m0=None, sk_report=None) -> Path:
        """Relax the Sk (or take ``m0``), run eq. 39 to the end time and write the output folder (module docstring).
        ``resume``: continue from the folder's checkpoint.npz. Returns the folder."""
        from ...io import prepare_output_dir, write_json
        if comm is not None and comm.size > 1:
            raise ParameterError("comm", "the NEGF model is serial (numpy; the demo runs parallel processes): run "
                                         "fem-stt without mpirun")
        if overwrite and resume:
            raise ParameterError("resume", "resume and overwrite exclude each other")
        target = output if output is not None else self.output_dir
        if resume:
            if target is None or not (Path(target) / "checkpoint.npz").is_file():
                raise ParameterError("resume", f"no checkpoint.npz in {target!r}: nothing to resume")
            out = Path(target)
        else:
            out = prepare_output_dir(target, overwrite=overwrite, default_root="results", default_name=self.name)
        t0 = time.time()
        if m0 is None or sk_report is None:
            m0, _, sk_report = self.relaxed_skyrmion()
        sim = self.build(m0)
        sim.set_state(m0)
        ck = out / "checkpoint.npz"
        if resume:
            sim.resume(ck)
        if self.freeze:
            times = np.arange(0.0, self.end_time + 1e-12, self.dt)
            h = frozen_pumped_current(sim.electrons, m0, self.E_F, self.pump, times)
            h.update({k: np.full(len(times), v) for k, v in zip(("x", "y"), sk_report["center"])})
        else:
            h = sim.run(self.end_time, self.dt, record_every=self.record_every, progress=progress, checkpoint=ck,
                        checkpoint_every=self.checkpoint_every)
        cols = [k for k in ("t", "x", "y", "Q", "E_Sk", "Ip", "Ip_up", "Ip_down", "norm_drift") if k in h]
        np.savetxt(out / "timeseries.csv", np.column_stack([h[k] for k in cols]), delimiter=",",
                   header=",".join(cols), comments="")
        np.save(out / "m_final.npy", sim.m if not self.freeze else m0)
        T = self.pump.period
        fit = thiele_fit(h["t"], h["x"], h["y"], T) if not self.freeze else None
        late = h["t"] >= h["t"][-1] / 2
        fit_late = thiele_fit(h["t"][late], h["x"][late], h["y"][late], T) if not self.freeze else None
        u = self.units
        summary = {"case": dataclasses.asdict(self), "skyrmion": sk_report, "torque_prefactor": sim.c,
                   "torque_statement": f"dm/dt = -m x [dH_Sk/dm + {sim.c:g} s] - alpha m x dm/dt (spin convention)",
                   "thiele": fit, "thiele_second_half": fit_late,
                   "velocity_SI_m_per_s": None if fit is None else {"vx": fit["vx"] * u.velocity,
                                                                      "vy": fit["vy"] * u.velocity},
                   "Ip": {"max_abs": float(np.abs(h["Ip"]).max()), "max_abs_up": float(np.abs(h["Ip_up"]).max()),
                          "max_abs_down": float(np.abs(h["Ip_down"]).max()),
                          "up_fraction": float(np.abs(h["Ip_up"]).max() / max(np.abs(h["Ip"]).max(), 1e-300))},
                   "max_norm_drift_per_step": float(np.max(h.get("norm_drift", [0.0]))),
                   "units": u.table(), "wall_time_s": time.time() - t0, "resumed": resume}
        write_json(out / "summary.json", summary)
        if getattr(self, "_text", None):
            (out / "case.toml").write_text(self._text)
        _plot_run(h, T, out / "trajectory.png", self.name)
        return out


def _plot_run(h, T, path, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(2, 1, figsize=(6, 5), sharex=True)
    ax[0].plot(h["t"] / T, h["Ip"], label="$I_p$")
    ax[0].plot(h["t"] / T, h["Ip_up"], label=r"$I_p^\uparrow$")
    ax[0].plot(h["t"] / T, h["Ip_down"], label=r"$I_p^\downarrow$")
    ax[0].set_ylabel("$I_p$ (eq. 40)")
    ax[0].legend(fontsize=8)
    ax[1].plot(h["t"] / T, h["x"] - h["x"][0], label="x - x(0)")
    ax[1].plot(h["t"] / T, h["y"] - h["y"][0], label="y - y(0)")
    ax[1].set_xlabel("t / T")
    ax[1].set_ylabel("Sk centre [a]")
    ax[1].legend(fontsize=8)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


_SCHEMA = {
    "lattice": {"nx": "nx", "ny": "ny", "onsite": "onsite", "hopping": "hopping", "exchange": "exchange",
                "E_F": "E_F", "broadening": "broadening"},
    "skyrmion": {"J_ex": "J_ex", "D": "D", "K": "K", "B": "B", "radius": "radius", "chirality": "chirality",
                 "relax_tol": "relax_tol", "freeze": "freeze"},
    "pump": {"V": "V", "omega": "omega", "phi": "phi", "columns": "columns"},
    "llg": {"alpha": "alpha", "dt": "dt", "sd_mode": "sd_mode", "torque_prefactor": "torque_prefactor",
            "negf_damping": "negf_damping"},
    "run": {"periods": "periods", "t_end": "t_end", "record_every": "record_every"},
    "output": {"dir": "output_dir", "checkpoint_every": "checkpoint_every"},
    "units": {"J_ex": "J_ex_SI", "a": "a_SI"},
}


def _si(text, unit, key):
    import pint
    try:
        q = pint.UnitRegistry().Quantity(str(text))
        v = float(q.to(unit).magnitude)
    except Exception:
        raise ParameterError(key, f"expected a quantity in {unit} with its unit (e.g. '1 meV'), got {text!r}") from None
    if not (np.isfinite(v) and v > 0):
        raise ParameterError(key, f"must be > 0, got {text!r}")
    return v


def negf_case(text: str, base_dir=None, source=None) -> PumpingCase:
    """The :class:`PumpingCase` of a case file's text (registered as ``model = "negf"`` in fem_stt.config.MODELS).
    ParameterError names the dotted key of the first problem."""
    data = tomllib.loads(text)
    data.pop("model", None)
    kw = {}
    if "name" in data:
        kw["name"] = str(data.pop("name"))
    for section, table in data.items():
        if section not in _SCHEMA:
            raise ParameterError(section, f"unknown key; allowed: model, name, {', '.join(_SCHEMA)}")
        if not isinstance(table, dict):
            raise ParameterError(section, "must be a table")
        for k, v in table.items():
            if k not in _SCHEMA[section]:
                raise ParameterError(f"{section}.{k}", f"unknown key; allowed: {sorted(_SCHEMA[section])}")
            field = _SCHEMA[section][k]
            if section == "units":
                v = _si(v, "J" if k == "J_ex" else "m", f"units.{k}")
            elif field in ("B", "columns"):
                if not isinstance(v, list):
                    raise ParameterError(f"{section}.{k}", f"must be a list, got {v!r}")
                v = tuple(v)
            elif field in ("freeze", "negf_damping"):
                if not isinstance(v, bool):
                    raise ParameterError(f"{section}.{k}", f"must be true or false, got {v!r}")
            elif field in ("sd_mode", "output_dir"):
                v = str(v)  # output.dir: relative to the working directory (as for the other models)
            elif isinstance(v, bool) or not isinstance(v, (int, float)):
                raise ParameterError(f"{section}.{k}", f"must be a number, got {v!r}")
            kw[field] = v
    try:
        case = PumpingCase(**kw)
    except ParameterError as e:
        # name the dotted key of the case file
        rev = {f: f"{s}.{k}" for s, t in _SCHEMA.items() for k, f in t.items()}
        p = e.parameter.split(".")[-1]
        raise ParameterError(rev.get(p, e.parameter), str(e).split(": ", 1)[-1]) from None
    case._text = text
    case._source = source
    return case


def load_summary(path) -> dict:
    return json.loads((Path(path) / "summary.json").read_text())
