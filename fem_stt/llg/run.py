"""Running an LLG simulation with output: XDMF time series of m, a CSV of scalars,
a JSON provenance file, and checkpoints from which a run resumes exactly.

Files in the output folder:

- ``m.xdmf`` / ``m.h5``: every ``xdmf_every`` steps one dataset with m and the extra
  ``fields`` (e.g. s, spin_torque, H_d) as point data and the region tags as cell data, on
  the device cells (no air or shell unless ``xdmf_include`` names them); ParaView opens it
  directly (:class:`fem_stt.io.XDMFOutput`); a resumed run writes the steps after N to
  ``m_from_step<N>.xdmf``;
- ``scalars.csv``: t [s], step, dt [s], <m> per magnetic region, energies [J];
- ``provenance.json``: parameters, materials, mesh, fem_stt/DOLFINx versions, ranks;
- ``checkpoint.npz``: the state (m, the previous m and step for the second-order
  extrapolation, the stray-field potential used as the solver's warm start, t, dt,
  counters), stored by vertex/dof coordinates so a run resumes on any number of ranks.

An output folder that already holds results is refused unless ``overwrite=True`` or
``resume=True`` (which continues from ``checkpoint.npz``).
"""
from __future__ import annotations

import csv
import datetime as _dt
import logging
import os
import platform
import time
from pathlib import Path
from typing import Optional

import dolfinx
import numpy as np

from .. import __version__
from ..errors import ParameterError, SolverError
from ..io import XDMFOutput, prepare_output_dir, write_json
from .integrator import LLG

log = logging.getLogger(__name__)


def _gather_by_coords(comm, coords: np.ndarray, values: np.ndarray, n_owned: int):
    """Owned (coords, values) of every rank, on rank 0 (None elsewhere)."""
    parts = comm.gather((coords[:n_owned], values[:n_owned]), root=0)
    if comm.rank != 0:
        return None, None
    return np.vstack([p[0] for p in parts]), np.vstack([p[1].reshape(len(p[0]), -1) for p in parts])


def _scatter_by_coords(coords_local: np.ndarray, coords_saved: np.ndarray, values_saved: np.ndarray, scale: float):
    from scipy.spatial import cKDTree
    dist, idx = cKDTree(coords_saved).query(coords_local)
    if dist.size and dist.max() > 1e-6 * scale:
        raise ParameterError("resume", "the checkpoint was written for a different mesh")
    return values_saved[idx]


class LLGRun:
    """Output and checkpointing around an :class:`~fem_stt.llg.integrator.LLG` solver.

    Parameters
    ----------
    llg : the solver (its state is overwritten when resuming)
    output : output folder
    xdmf_every, csv_every, checkpoint_every : output intervals in accepted steps (> 0)
    energy_every : energies are computed (one extra stray-field solve) on every
        ``energy_every``-th CSV row and written as ``nan`` on the others
    overwrite : allow a folder that already holds results (they are replaced)
    resume : continue from ``output/checkpoint.npz``
    parameters : extra entries for provenance.json
    fields : extra Lagrange Functions written to the XDMF file with m (e.g. s, H_d, spin torque)
    xdmf_include : vacuum groups (``"air"``, ``"shell"``) written to the XDMF file as well
        (default: device cells only)
    refresh : callable run before each XDMF write (brings ``fields`` up to date with m)
    scalars : callable -> dict of extra CSV columns (name -> float), evaluated on every CSV row
    """

    def __init__(self, llg: LLG, output, xdmf_every: int = 10, csv_every: int = 1, checkpoint_every: int = 100,
                 overwrite: bool = False, resume: bool = False, parameters: Optional[dict] = None,
                 energy_every: int = 1, fields=(), refresh=None, scalars=None, xdmf_include=()):
        for name, val in (("xdmf_every", xdmf_every), ("csv_every", csv_every), ("checkpoint_every", checkpoint_every),
                          ("energy_every", energy_every)):
            if not isinstance(val, (int, np.integer)) or val <= 0:
                raise ParameterError(name, f"must be a positive integer (steps), got {val!r}")
        if overwrite and resume:
            raise ParameterError("resume", "resume and overwrite exclude each other")
        llg.domain.cells(list(xdmf_include))  # unknown region names raise ParameterError here, before any output
        self.llg = llg
        self.comm = llg.comm
        self.fields, self.refresh, self.scalars = list(fields), refresh, scalars
        self.xdmf_every, self.csv_every, self.checkpoint_every = int(xdmf_every), int(csv_every), int(checkpoint_every)
        self.energy_every = int(energy_every)
        out = Path(output)
        if resume:
            if not (out / "checkpoint.npz").is_file():
                raise ParameterError("resume", f"no checkpoint.npz in {out}")
            self.output = out
            self._load_checkpoint()
        else:
            self.output = prepare_output_dir(out, self.comm, overwrite)
        self._energy_names = list(llg.energies().keys())
        self._regions = llg.mv.regions
        header = ["t_s", "step", "dt_s"] + [f"<m{c}>_{r}" for r in self._regions for c in "xyz"] + \
            [f"E_{k}_J" for k in self._energy_names]
        self._scalar_names = list(scalars().keys()) if scalars is not None else []
        header += self._scalar_names
        self._csv_path = self.output / "scalars.csv"
        if self.comm.rank == 0:
            if resume and self._csv_path.is_file():
                # keep the rows up to the checkpoint: the resumed run rewrites what came after
                with open(self._csv_path) as f:
                    rows = [r for r in csv.reader(f)]
                keep = [rows[0]] + [r for r in rows[1:] if int(r[1]) <= self.llg.step_count]
                with open(self._csv_path, "w", newline="") as f:
                    csv.writer(f).writerows(keep)
            else:
                with open(self._csv_path, "w", newline="") as f:
                    csv.writer(f).writerow(header)
        xname = "m.xdmf" if not resume else f"m_from_step{self.llg.step_count}.xdmf"
        self._xdmf = XDMFOutput(self.output / xname, llg.domain, include=xdmf_include)
        self._provenance(parameters or {}, resume)
        if not resume:
            self._write_scalars()
            self._write_xdmf()

    def _write_xdmf(self):
        if self.refresh is not None:
            self.refresh()
        self._xdmf.write([self.llg.m] + self.fields, self.llg.t)

    # ------------------------------------------------------------------ files
    def _provenance(self, parameters, resume):
        llg = self.llg
        prov = {
            "fem_stt_version": __version__, "dolfinx_version": dolfinx.__version__,
            "python": platform.python_version(), "ranks": self.comm.size,
            "created_utc": _dt.datetime.utcnow().isoformat(timespec="seconds"),
            "mesh": str(llg.domain.source), "cells": llg.domain.num_cells_global(),
            "magnetic_vertices": int(llg.mv.owned_sum(llg.mv.active.astype(float))),
            "materials": {r: dict(vars(m)) for r, m in llg.domain.materials.items()},
            "integrator": {"order": llg.order, "theta": llg.theta, "max_rotation": llg.max_rotation,
                           "dt_min": llg.dt_min, "dt_max": llg.dt_max, "demag": llg.stray is not None},
            "parameters": parameters,
        }
        name = "provenance.json" if not resume else f"provenance_resume_step{llg.step_count}.json"
        write_json(self.output / name, prov, self.comm)

    def _write_scalars(self):
        llg = self.llg
        if (llg.step_count // self.csv_every) % self.energy_every == 0:
            E = llg.energies()
        else:
            E = {k: float("nan") for k in self._energy_names}
        row = [repr(llg.t), llg.step_count, repr(llg.dt)] + [repr(float(v)) for r in self._regions
                                                            for v in llg.average(r)] + \
            [repr(E.get(k, 0.0)) for k in self._energy_names]
        if self._scalar_names:
            extra = self.scalars()
            row += [repr(float(extra.get(k, float("nan")))) for k in self._scalar_names]
        if self.comm.rank == 0:
            with open(self._csv_path, "a", newline="") as f:
                csv.writer(f).writerow(row)

    def checkpoint(self):
        """Write ``checkpoint.npz`` (atomically) with :meth:`LLG.get_state`, keyed by dof coordinates."""
        llg, mv = self.llg, self.llg.mv
        st = llg.get_state()
        hist = st["history"]
        cols = [st["m"]] + [mh for mh, _ in hist] + [st["v"]]  # m, m^{n-1}, m^{n-2}, ..., v
        cm, vals = _gather_by_coords(self.comm, mv.Vm.tabulate_dof_coordinates(), np.hstack(cols), mv.n_owned)
        if st["u"] is not None:
            Vu = llg.stray.V
            cu, uvals = _gather_by_coords(self.comm, Vu.tabulate_dof_coordinates(), st["u"][:, None],
                                          Vu.dofmap.index_map.size_local)
        else:
            cu = uvals = np.zeros((0, 3))
        if self.comm.rank == 0:
            tmp = self.output / "checkpoint.tmp.npz"
            nh = 3 * len(hist)
            np.savez(tmp, coords=cm, m=vals[:, :3], m_history=vals[:, 3:3 + nh].reshape(len(cm), len(hist), 3),
                     v=vals[:, 3 + nh:],
                     k_history=np.array([kh for _, kh in hist], dtype=float), u_coords=cu, u=uvals,
                     t=st["t"], dt=st["dt"], step=st["step"], rejected=st["rejected"])
            os.replace(tmp, self.output / "checkpoint.npz")
        self.comm.barrier()

    def _load_checkpoint(self):
        llg, mv = self.llg, self.llg.mv
        data = np.load(self.output / "checkpoint.npz")
        scale = float(np.ptp(data["coords"], axis=0).max())
        xm = mv.Vm.tabulate_dof_coordinates()[: mv.n_local]
        u = None
        if llg.stray is not None and len(data["u"]):
            xu = llg.stray.V.tabulate_dof_coordinates()
            u = _scatter_by_coords(xu, data["u_coords"], data["u"], scale)[:, 0]
        if "m_history" not in data:
            raise ParameterError("resume", f"{self.output / 'checkpoint.npz'} was written by an older fem_stt "
                                           "(no step history); start a new run")
        hist = [(_scatter_by_coords(xm, data["coords"], data["m_history"][:, j], scale), float(kh))
                for j, kh in enumerate(data["k_history"])]
        v = _scatter_by_coords(xm, data["coords"], data["v"], scale) if "v" in data else None
        llg.set_state({"m": _scatter_by_coords(xm, data["coords"], data["m"], scale), "history": hist, "v": v,
                       "u": u, "t": float(data["t"]), "dt": float(data["dt"]),
                       "step": int(data["step"]), "rejected": int(data["rejected"])})

    # ------------------------------------------------------------------ running
    def _after_step(self, llg: LLG):
        n = llg.step_count
        if n % self.csv_every == 0:
            self._write_scalars()
        if n % self.xdmf_every == 0:
            self._write_xdmf()
        if n % self.checkpoint_every == 0:
            self.checkpoint()

    def run(self, t_end: float, max_steps: Optional[int] = None, callback=None):
        """Integrate to ``t_end`` [s] (or stop after ``max_steps`` more steps) with output;
        ``callback(llg)`` runs after every step's output; if it returns True the run stops
        there (e.g. once a layer has switched).

        On a failed step (SolverError) the last good state is checkpointed before the
        error is re-raised; a final checkpoint is written at the end.
        """
        llg = self.llg
        start = llg.step_count

        def cb(s):
            self._after_step(s)
            if callback is not None and callback(s):
                raise _Stop
            if max_steps is not None and s.step_count - start >= max_steps:
                raise _Stop
        try:
            llg.advance(t_end, cb)
        except _Stop:
            pass
        except SolverError:
            self.checkpoint()
            raise
        if llg.step_count % self.csv_every != 0:
            self._write_scalars()
        if llg.step_count % self.xdmf_every != 0:
            self._write_xdmf()
        self.checkpoint()

    def close(self):
        self._xdmf.close()


def progress_logger(logger: logging.Logger, every: int = 100, unit: str = "ps"):
    """A callback(llg) for :meth:`LLGRun.run` / :meth:`LLG.advance` that logs t (in ``unit``, "ps"
    or "ns"), the step count, dt [ps], <m> and the wall time since the last line, every ``every``
    steps. The condition depends only on the step count, which all ranks share, so every rank
    reaches the collective ``llg.average`` (a wall-clock rule let two loaded ranks disagree and
    deadlock). Raises ParameterError for every < 1 or another unit."""
    if int(every) != every or every < 1:
        raise ParameterError("every", f"must be a whole number of steps >= 1, got {every!r}")
    scales = {"ps": 1e12, "ns": 1e9}
    if unit not in scales:
        raise ParameterError("unit", f"must be 'ps' or 'ns', got {unit!r}")
    last = [time.perf_counter()]

    def callback(llg):
        if llg.step_count % int(every) == 0:
            now = time.perf_counter()
            logger.info("t = %.4g %s, step %d, dt = %.3g ps, <m> = %s, %.0f s", llg.t * scales[unit], unit,
                        llg.step_count, llg.dt * 1e12, np.round(llg.average(), 4), now - last[0])
            last[0] = now
    return callback


class _Stop(Exception):
    pass
