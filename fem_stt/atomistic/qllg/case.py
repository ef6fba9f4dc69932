r"""Case files for the q-LLG model: ``model = "qllg"`` (registered in :data:`fem_stt.config.MODELS`).

    fem-stt check demos/cases/qllg_dimer_afm_dmi.toml
    fem-stt run demos/cases/qllg_dimer_afm_dmi.toml [--output DIR] [--overwrite]

Dimensional values are either strings with a unit (SI by pint: ``"0.0658 meV"``, ``"1 T"``, ``"80 ps"``) or
plain numbers in the paper's reduced units (energies in E0 = hbar gamma_g B0, fields in B0, times in
tau0 = 1/(gamma_g B0)), converted by :class:`~.units.ReducedUnits` and printed at the start of a run.
Unknown keys are errors; every error is a ParameterError naming the dotted key.

Schema ([] = optional):

- ``model = "qllg"``, ``name`` (letters, digits, ``_``, ``-``);
- ``[units]``: ``[gamma_g]`` (rad/(s T); default 1e11, the paper's), ``[B0]`` (T; default 1);
- ``[system]``: ``spins`` (list of spin quantum numbers), ``[kappa]`` (>= 0, default 0.5),
  ``[equation]`` ("qllg" | "qll"), ``[[system.zeeman]]`` (``B`` 3 values, ``[site]``; all sites if omitted),
  ``[[system.exchange]]`` (``sites = [i, j]``, ``J``), ``[[system.dmi]]`` (``sites``, ``D`` 3 values),
  ``[[system.anisotropy]]`` (``site``, ``K``, ``axis``);
- ``[initial]``: exactly one of ``state`` (a u/d product label such as "ud", a Bell name "Psi+", or
  "werner:<Bell>:<p>"), ``directions`` (one unit vector per site: a product of spin-coherent states) or
  ``bloch`` (one Bloch vector per spin-1/2 site, |r| <= 1: a mixed product state);
- ``[run]``: ``t_end``, ``[outputs]`` (default 401), ``[method]`` ("adaptive" | "rkmk4" | "closed_form" |
  "pure": Krylov state-vector propagation), ``[dt]`` (rkmk4), ``[rtol]``, ``[atol]``;
- ``[compare]``: ``[classical]`` (list of "paper" | "mean_field": classical LLG from ``directions`` or a
  u/d label, alpha = kappa), ``[lindblad]`` (true: QuTiP mesolve, :mod:`.lindblad`);
- ``[output]``: ``[dir]``.

A run writes ``observables.csv`` (t, Bloch vectors, |r_k|, energy, purity, entropy; for a spin-1/2 pair
(0, 1) also T_kl, C, M, B, B^2, singlet fidelity), ``classical_<convention>.csv``, ``lindblad.csv``,
``qllg.png``, ``summary.json`` (run statistics, invariants, deviation metrics), ``provenance.json`` and
``case.toml``. The computation is serial: under MPI, rank 0 computes and writes.
"""
from __future__ import annotations

import csv
import functools
import logging
import platform
import re
import time
from pathlib import Path
from typing import Optional, Union

import numpy as np

try:  # Python >= 3.11
    import tomllib
except ModuleNotFoundError:  # pragma: no cover
    import tomli as tomllib  # type: ignore

from ... import __version__
from ...errors import ParameterError
from .hamiltonian import Hamiltonian
from .spins import SpinCluster, bloch_state, projector, unit_vector
from .units import ReducedUnits

log = logging.getLogger("fem_stt.qllg")

_SCHEMA = {
    "": {"model", "name", "units", "system", "initial", "run", "compare", "output"},
    "units": {"gamma_g", "B0"},
    "system": {"spins", "kappa", "equation", "zeeman", "exchange", "dmi", "anisotropy"},
    "system.zeeman": {"B", "site"}, "system.exchange": {"sites", "J"}, "system.dmi": {"sites", "D"},
    "system.anisotropy": {"site", "K", "axis"},
    "initial": {"state", "directions", "bloch"},
    "run": {"t_end", "outputs", "method", "dt", "rtol", "atol"},
    "compare": {"classical", "lindblad"},
    "output": {"dir"},
}


@functools.lru_cache(maxsize=1)
def _ureg():
    import pint
    return pint.UnitRegistry()


def _keys(d, where: str):
    if not isinstance(d, dict):
        raise ParameterError(where or "case", f"must be a table, got {d!r}")
    allowed = _SCHEMA[re.sub(r"\[\d+\]", "", where)]
    for k in d:
        if k not in allowed:
            raise ParameterError(f"{where}.{k}" if where else k, f"unknown key; allowed: {sorted(allowed)}")


def _section(data: dict, key: str, required=(), needed: bool = True, hint: str = "") -> dict:
    """The table data[key] (checked for unknown keys and the ``required`` ones); {} if absent and not needed."""
    if key not in data:
        if needed:
            raise ParameterError(key, "is required" + hint)
        return {}
    d = data[key]
    _keys(d, key)
    for k in required:
        if k not in d:
            raise ParameterError(f"{key}.{k}", "is required")
    return d


def _value(v, key: str, unit: str, reduced: float) -> float:
    """A number (reduced units: times ``reduced``) or a string with a unit (converted to ``unit``)."""
    if isinstance(v, bool) or not isinstance(v, (int, float, str)):
        raise ParameterError(key, f"must be a number (reduced units) or a string with a unit [{unit}], got {v!r}")
    if isinstance(v, str):
        try:
            q = _ureg().Quantity(v.strip())
            x = float(q.to(unit).magnitude)
        except Exception as e:  # pint raises several kinds
            raise ParameterError(key, f"cannot read {v!r} as a quantity in {unit}: {e}") from None
    else:
        x = float(v) * reduced
    if not np.isfinite(x):
        raise ParameterError(key, f"must be finite, got {v!r}")
    return x


def _vector(v, key, unit, reduced):
    if not isinstance(v, list) or len(v) != 3:
        raise ParameterError(key, f"must be 3 values, got {v!r}")
    return np.array([_value(x, f"{key}[{i}]", unit, reduced) for i, x in enumerate(v)])


def _int(v, key, lo, hi):
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise ParameterError(key, f"must be an integer in [{lo}, {hi}], got {v!r}")
    return v


def _tables(d, key):
    v = d.get(key, [])
    if not isinstance(v, list) or not all(isinstance(x, dict) for x in v):
        raise ParameterError(f"system.{key}", "must be an array of tables ([[system.%s]])" % key)
    return v


class QLLGCase:
    """A validated q-LLG case (module docstring). Build with :func:`qllg_case` or :meth:`from_dict`."""

    def __init__(self):
        self._text = None
        self._source = None

    @classmethod
    def from_dict(cls, data: dict) -> "QLLGCase":
        from .equation import check_equation, check_kappa
        from .integrators import check_times
        self = cls()
        _keys(data, "")
        if data.get("model", "qllg") != "qllg":
            raise ParameterError("model", f"must be 'qllg' here, got {data.get('model')!r}")
        name = data.get("name", "qllg")
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_-]+", name):
            raise ParameterError("name", f"must be letters, digits, '_' or '-', got {name!r}")
        self.name = name
        u = _section(data, "units", needed=False)
        self.units = ReducedUnits(_value(u.get("gamma_g", 1e11), "units.gamma_g", "rad/(s*T)", 1.0),
                                  _value(u.get("B0", 1.0), "units.B0", "T", 1.0))
        E0, B0, tau = self.units.energy_unit, self.units.B0, self.units.time_unit
        s = _section(data, "system", required=("spins",))
        try:
            cluster = SpinCluster(s["spins"])
        except ParameterError as e:
            raise ParameterError("system." + e.parameter, str(e).split(": ", 1)[-1]) from None
        N = cluster.N
        try:
            self.kappa = check_kappa(s.get("kappa", 0.5))
        except ParameterError as e:
            raise ParameterError("system.kappa", str(e).split(": ", 1)[-1]) from None
        try:
            self.equation = check_equation(s.get("equation", "qllg"))
        except ParameterError as e:
            raise ParameterError("system.equation", str(e).split(": ", 1)[-1]) from None
        H = Hamiltonian(cluster, gamma_g=self.units.gamma_g)
        for k, z in enumerate(_tables(s, "zeeman")):
            key = f"system.zeeman[{k}]"
            _keys(z, key)
            if "B" not in z:
                raise ParameterError(f"{key}.B", "is required")
            site = _int(z["site"], f"{key}.site", 0, N - 1) if "site" in z else None
            H.zeeman(_vector(z["B"], f"{key}.B", "T", B0), site)
        for kind, field in (("exchange", "J"), ("dmi", "D")):
            for k, x in enumerate(_tables(s, kind)):
                key = f"system.{kind}[{k}]"
                _keys(x, key)
                sites = x.get("sites")
                if not isinstance(sites, list) or len(sites) != 2:
                    raise ParameterError(f"{key}.sites", f"must be two site indices [i, j], got {sites!r}")
                i, j = (_int(v, f"{key}.sites", 0, N - 1) for v in sites)
                if i == j:
                    raise ParameterError(f"{key}.sites", f"needs two different sites, got {sites}")
                if field not in x:
                    raise ParameterError(f"{key}.{field}", "is required")
                if kind == "exchange":
                    H.exchange(i, j, _value(x["J"], f"{key}.J", "J", E0))
                else:
                    H.dmi(i, j, _vector(x["D"], f"{key}.D", "J", E0))
        for k, a in enumerate(_tables(s, "anisotropy")):
            key = f"system.anisotropy[{k}]"
            _keys(a, key)
            for req in ("site", "K", "axis"):
                if req not in a:
                    raise ParameterError(f"{key}.{req}", "is required")
            try:
                axis = unit_vector(f"{key}.axis", a["axis"])
            except ParameterError:
                raise ParameterError(f"{key}.axis", f"must be 3 numbers, not all zero, got {a['axis']!r}") from None
            H.anisotropy(_int(a["site"], f"{key}.site", 0, N - 1), _value(a["K"], f"{key}.K", "J", E0), axis)
        self.hamiltonian, self.cluster = H, cluster
        self._initial(_section(data, "initial", hint=" (state, directions or bloch)"))
        r = _section(data, "run", required=("t_end",), hint=" (at least run.t_end)")
        self.t_end = _value(r["t_end"], "run.t_end", "s", tau)
        if not self.t_end > 0:
            raise ParameterError("run.t_end", f"must be > 0, got {r['t_end']!r}")
        self.outputs = _int(r.get("outputs", 401), "run.outputs", 2, 10 ** 6)
        check_times(np.linspace(0, self.t_end, self.outputs))
        self.method = r.get("method", "adaptive")
        if self.method not in ("adaptive", "rkmk4", "closed_form", "pure"):
            raise ParameterError("run.method",
                                 f"must be 'adaptive', 'rkmk4', 'closed_form' or 'pure', got {self.method!r}")
        self.dt = _value(r["dt"], "run.dt", "s", tau) if "dt" in r else None
        if self.method == "rkmk4" and (self.dt is None or not self.dt > 0):
            raise ParameterError("run.dt", "rkmk4 needs a time step dt > 0")
        self.rtol = _value(r.get("rtol", 1e-12), "run.rtol", "", 1.0)
        self.atol = _value(r.get("atol", 1e-12), "run.atol", "", 1.0)
        for k, v in (("rtol", self.rtol), ("atol", self.atol)):
            if not v > 0:
                raise ParameterError(f"run.{k}", f"must be > 0, got {v!r}")
        if self.method in ("closed_form", "pure") and self.hamiltonian.time_dependent:
            raise ParameterError("run.method", f"{self.method} needs a time-independent H")
        if self.method == "pure" and self.psi0 is None:
            raise ParameterError("run.method", "'pure' needs a pure initial state (initial.state or directions)")
        c = _section(data, "compare", needed=False)
        self.classical = c.get("classical", [])
        if not isinstance(self.classical, list) or any(x not in ("paper", "mean_field") for x in self.classical):
            raise ParameterError("compare.classical",
                                 f"must be a list of 'paper' / 'mean_field', got {self.classical!r}")
        if self.classical and self.n0 is None:
            raise ParameterError("compare.classical", "needs initial.directions or a u/d product label")
        self.lindblad = c.get("lindblad", False)
        if not isinstance(self.lindblad, bool):
            raise ParameterError("compare.lindblad", f"must be true or false, got {self.lindblad!r}")
        o = _section(data, "output", needed=False)
        self.output_dir = o.get("dir")
        if self.output_dir is not None and not isinstance(self.output_dir, str):
            raise ParameterError("output.dir", f"must be a path string, got {self.output_dir!r}")
        if self.n <= 64:
            from .equation import check_density_matrix
            check_density_matrix(self.rho0, self.n, "initial")
        return self

    @property
    def n(self):
        return self.cluster.n

    @property
    def rho0(self) -> np.ndarray:
        """The initial density matrix (n, n) (formed from the state vector on first use)."""
        if self._rho0 is None:
            self._rho0 = projector(self.psi0)
        return self._rho0

    def _initial(self, ini):
        from .paper import initial_state
        given = [k for k in ("state", "directions", "bloch") if k in ini]
        if len(given) != 1:
            raise ParameterError("initial", f"give exactly one of state, directions, bloch; got {given}")
        cl, self.psi0, self.n0 = self.cluster, None, None
        if "state" in ini:
            label = ini["state"]
            if not isinstance(label, str):
                raise ParameterError("initial.state", f"must be a string, got {label!r}")
            is_product = all(ch in "ud" for ch in label) and len(label) == cl.N
            if not is_product and cl.dims != (2, 2):
                raise ParameterError("initial.state", "Bell and Werner labels need two spins 1/2")
            if is_product:  # a basis state: |psi0><psi0| only when needed
                self.n0 = np.array([[0.0, 0.0, 1.0 if ch == "u" else -1.0] for ch in label])
                self.psi0, self._rho0 = cl.basis_state(label), None
            else:
                try:
                    self._rho0 = initial_state(label, cl)
                except ParameterError as e:
                    raise ParameterError("initial.state", str(e).split(": ", 1)[-1]) from None
                w, V = np.linalg.eigh(self._rho0)
                if w[-1] > 1 - 1e-12:
                    self.psi0 = V[:, -1]
        elif "directions" in ini:
            d = ini["directions"]
            if not isinstance(d, list) or len(d) != cl.N:
                raise ParameterError("initial.directions", f"must be {cl.N} vectors, got {d!r}")
            self.n0 = np.array([unit_vector(f"initial.directions[{k}]", v) for k, v in enumerate(d)])
            self.psi0 = cl.coherent(self.n0)
            self._rho0 = None  # |psi0><psi0| is formed only if a density-matrix method needs it
        else:
            b = ini["bloch"]
            if not isinstance(b, list) or len(b) != cl.N or any(d != 2 for d in cl.dims):
                raise ParameterError("initial.bloch", f"must be {cl.N} Bloch vectors of spins 1/2, got {b!r}")
            try:
                self._rho0 = cl.product([bloch_state(v) for v in b])
            except ParameterError as e:
                raise ParameterError("initial.bloch", str(e).split(": ", 1)[-1]) from None

    # ------------------------------------------------------------------ describe / run
    def describe(self) -> str:
        eq = "3, q-LLG" if self.equation == "qllg" else "q-LL"
        lines = [f"case       {self.name} (model qllg: seed 004 eq. {eq})",
                 self.units.describe(),
                 f"system     {self.cluster.N} spins {list(self.cluster.spins)} (n = {self.n}), kappa {self.kappa:g}",
                 self.hamiltonian.describe(self.units),
                 f"run        t_end {self.t_end * 1e12:g} ps ({self.t_end / self.units.time_unit:g} tau0), "
                 f"{self.outputs} outputs, method {self.method}" + (f", dt {self.dt * 1e12:g} ps" if self.dt else ""),
                 f"compare    classical {self.classical or 'none'}, lindblad {self.lindblad}",
                 f"output     {self.output_dir or f'results/{self.name}_<time>'}"]
        return "\n".join(lines)

    def run(self, comm=None, output: Union[str, Path, None] = None, overwrite: bool = False, resume: bool = False,
            progress: bool = True, mesh_dir=None) -> Path:
        """Run the case into ``output`` (default output.dir, else results/<name>_<UTC time>); returns the folder.

        Raises ParameterError (``resume``: not supported), FileExistsError for a folder with results."""
        from mpi4py import MPI

        from ...io import prepare_output_dir, write_json
        comm = comm or MPI.COMM_WORLD
        if resume:
            raise ParameterError("resume", "q-LLG runs have no checkpoints; run again (they take seconds)")
        out = prepare_output_dir(output if output is not None else self.output_dir, comm, overwrite,
                                 default_name=self.name)
        err = None
        if comm.rank == 0:
            try:
                summary = self._compute(out, progress)
                write_json(out / "summary.json", summary, MPI.COMM_SELF)
                write_json(out / "provenance.json", {
                    "fem_stt_version": __version__, "python": platform.python_version(), "numpy": np.__version__,
                    "model": "qllg", "source": str(self._source) if self._source else None,
                    "units": self.units.as_dict(), "ranks": comm.size, "computed_on": "rank 0"}, MPI.COMM_SELF)
                (out / "case.toml").write_text(self._text or "# case built from a dict\n")
            except Exception as e:  # re-raised on every rank below
                err = e
        err = comm.bcast(err, root=0)
        if err is not None:
            raise err
        return out

    def _compute(self, out: Path, progress: bool) -> dict:
        from .classical import ClassicalLLG, compare
        from .integrators import PureStateQLLG, QLLG
        from .observables import bloch_vectors, purity, reduced_density_matrix, two_qubit_observables, \
            von_neumann_entropy
        log.info(self.units.describe())
        log.info("q-LLG case %s: %d spins, n = %d, method %s -> %s", self.name, self.cluster.N, self.n, self.method,
                 out)
        spins, dims = self.cluster.spins, self.cluster.dims
        pair = len(dims) >= 2 and dims[:2] == (2, 2)

        def observe(state, t):
            d = {"r": bloch_vectors(state, spins), "purity": purity(state), "S_vN": von_neumann_entropy(state)}
            if pair:
                rho2 = state if (len(dims) == 2 and state.ndim == 2) else reduced_density_matrix(state, dims, [0, 1])
                d.update({k: v for k, v in two_qubit_observables(rho2).items() if k not in ("r1", "r2")})
            return d
        t = np.linspace(0.0, self.t_end, self.outputs)
        t0 = time.perf_counter()
        if self.method == "pure":
            tr = PureStateQLLG(self.hamiltonian, self.kappa, self.equation).solve(
                self.psi0, t, observe=observe, store_states=False, progress=progress)
        else:
            kw = {"dt": self.dt} if self.method == "rkmk4" else {"rtol": self.rtol, "atol": self.atol}
            if self.method == "closed_form":
                kw = {}
            tr = QLLG(self.hamiltonian, self.kappa, self.equation).solve(
                self.rho0, t, method=self.method, observe=observe, store_states=False, dense_output=False,
                progress=progress, **kw)
        wall = time.perf_counter() - t0
        E0 = self.units.energy_unit
        cols = {"t_ps": t * 1e12}
        for k in range(self.cluster.N):
            for i, a in enumerate("xyz"):
                cols[f"r{k}_{a}"] = tr.observables["r"][:, k, i]
            cols[f"abs_r{k}"] = np.linalg.norm(tr.observables["r"][:, k], axis=1)
        cols.update({"energy_J": tr.energy, "energy_E0": tr.energy / E0, "purity": tr.observables["purity"],
                     "S_vN": tr.observables["S_vN"]})
        if pair:
            for i, a in enumerate("xyz"):
                for j, b in enumerate("xyz"):
                    cols[f"T{a}{b}"] = tr.observables["T"][:, i, j]
            for k in ("C", "M", "B", "B2", "F_singlet"):
                cols[k] = tr.observables[k]
        _write_csv(out / "observables.csv", cols)
        stats = {k: (float(v) if isinstance(v, (float, np.floating)) else v) for k, v in tr.stats.items()}
        summary = {"name": self.name, "units": self.units.as_dict(), "kappa": self.kappa, "equation": self.equation,
                   "spins": list(spins), "n": self.n, "stats": stats, "wall_s": wall,
                   "r_end": tr.observables["r"][-1].tolist(), "energy_end_E0": float(tr.energy[-1] / E0),
                   "energy_start_E0": float(tr.energy[0] / E0)}
        if pair:
            summary.update({k: float(tr.observables[k][-1]) for k in ("C", "B", "B2", "F_singlet")})
        classical = {}
        for conv in self.classical:
            cl = ClassicalLLG(self.hamiltonian, self.kappa, conv).solve(self.n0, t)
            classical[conv] = cl
            m = {"t_ps": t * 1e12}
            for k in range(self.cluster.N):
                for i, a in enumerate("xyz"):
                    m[f"m{k}_{a}"] = cl.n[:, k, i]
            _write_csv(out / f"classical_{conv}.csv", m)
            d = compare(t, tr.observables["r"], cl.n)
            summary[f"classical_{conv}"] = {"max_dev": d["max_dev"], "end_dev": d["end_dev"],
                                            "t_part_ps": d["t_part"] * 1e12, "m_end": d["m_end"]}
        lind = None
        if self.lindblad:
            from .lindblad import lindblad
            lind = lindblad(self.hamiltonian, self.rho0, t, kappa=self.kappa, units=self.units, store_states=False,
                            observe=lambda s, tt: {"r": bloch_vectors(s, spins), "purity": purity(s)})
            lc = {"t_ps": t * 1e12, "purity": lind.observables["purity"]}
            for k in range(self.cluster.N):
                lc[f"abs_r{k}"] = np.linalg.norm(lind.observables["r"][:, k], axis=1)
            _write_csv(out / "lindblad.csv", lc)
            summary["lindblad"] = {"min_purity": float(lind.observables["purity"].min()),
                                   "r_end": lind.observables["r"][-1].tolist()}
        self._plot(out, t, tr, classical, lind, pair)
        log.info("done in %.2f s: spectrum drift %s, trace error %s", wall, stats.get("spectrum_drift"),
                 stats.get("trace_error"))
        return summary

    def _plot(self, out, t, tr, classical, lind, pair):
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, axes = plt.subplots(1, 3, figsize=(15, 4.2), constrained_layout=True)
        tp = t * 1e12
        r = tr.observables["r"]
        ax = axes[0]
        for i, a in enumerate("xyz"):
            ax.plot(tp, r[:, 0, i], color=f"C{i}", lw=1.8, label=f"$r_{{0{a}}}$")
            for conv, ls in (("paper", "--"), ("mean_field", ":")):
                if conv in classical:
                    ax.plot(tp, classical[conv].n[:, 0, i], ls, color=f"C{i}", lw=1.0,
                            label=f"$m_{{0{a}}}$ LLG {conv}")
        ax.set(title="site 0: Bloch vector (solid), classical LLG", xlabel="t (ps)", ylim=(-1.05, 1.05))
        ax.legend(fontsize=7, ncol=2)
        ax = axes[1]
        for k in range(r.shape[1]):
            ax.plot(tp, np.linalg.norm(r[:, k], axis=1), lw=1.0, label=f"|r{k}|" if r.shape[1] <= 10 else None)
        ax.plot(tp, tr.observables["purity"], "k", lw=1.8, label="purity")
        if lind is not None:
            ax.plot(tp, lind.observables["purity"], "k--", label="purity, Lindblad")
        ax.set(title="Bloch lengths and purity", xlabel="t (ps)", ylim=(-0.02, 1.05))
        ax.legend(fontsize=7)
        ax = axes[2]
        if pair:
            for k in ("C", "B", "F_singlet"):
                ax.plot(tp, tr.observables[k], label=k)
            ax.set(title="pair (0, 1): concurrence, Bell nonlocality, singlet fidelity", ylim=(-0.02, 1.02))
        else:
            ax.plot(tp, tr.energy / self.units.energy_unit, label="E / E0")
            ax.set(title="energy")
        ax.set(xlabel="t (ps)")
        ax.legend(fontsize=8)
        fig.savefig(out / "qllg.png", dpi=100)
        plt.close(fig)


def _write_csv(path, cols: dict):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(list(cols))
        for row in zip(*cols.values()):
            w.writerow([f"{v:.12g}" for v in row])


def qllg_case(text: str, base_dir: Union[str, Path, None] = None, source: Optional[Path] = None) -> QLLGCase:
    """The :class:`QLLGCase` of a case file's text (the loader registered in fem_stt.config.MODELS)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ParameterError(str(source or "case"), f"not valid TOML: {e}") from None
    case = QLLGCase.from_dict(data)
    case._text, case._source = text, source
    return case
