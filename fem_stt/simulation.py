"""The coupled time loop: LLG + stray field + spin transport (or Zhang-Li torques) on one mesh.

:class:`Simulation` wires the solvers of the package together and is what the
``fem-stt`` command line and the demos use; everything it does is also reachable piece
by piece (:class:`fem_stt.llg.LLG`, :class:`fem_stt.spin.SpinTransport`,
:class:`fem_stt.spin.SpinAccumulationTorque`, :class:`fem_stt.llg.run.LLGRun`).

Per LLG step (order 2): the explicit terms are evaluated once at the extrapolated
midpoint m*: one stray-field solve (CG + AMG, warm start), one steady spin-transport
solve (GMRES + ILU, matrix re-assembled in place, warm start), then the tangent-plane
system (exchange implicit). Spin time scales (fs) are far below the magnetization's (ps),
so the steady spin accumulation is the adiabatic limit of the transient one.
"""
from __future__ import annotations

import logging
import time
from typing import Callable, Dict, Mapping, Optional

from .errors import ParameterError
from .llg import LLG
from .llg.run import LLGRun
from .spin import ElectrodeCurrent, SpinAccumulationTorque, SpinTransport, ZhangLiTorque

log = logging.getLogger(__name__)

TORQUE_MODELS = ("spin_diffusion", "zhang_li", "none")


class Simulation:
    """LLG with stray field and current-induced torque on a Domain.

    Parameters
    ----------
    domain : fem_stt.domain.Domain
    m0 : initial magnetization (as for :class:`fem_stt.llg.LLG`)
    transport : dict region -> TransportParameters or library name (spin_diffusion), or
        region -> polarization (zhang_li; default from the material's library entry)
    current_density : uniform charge current density j_e [A/m^2] (3-vector or function of t)
    electrode_current : :class:`fem_stt.spin.ElectrodeCurrent` (self-consistent; spin_diffusion only)
    torque_model : ``"spin_diffusion"`` (default), ``"zhang_li"`` or ``"none"``
    transport_model : ``"diffusion"`` or ``"moment"``; kappa : moment-closure parameter
    xi : Zhang-Li non-adiabaticity
    H_ext, demag : as for LLG; llg_options : further LLG keyword arguments (order, dt, ...)

    Raises ParameterError (before any assembly) for inconsistent options.
    """

    def __init__(self, domain, m0, transport: Optional[Mapping] = None, current_density=None,
                 electrode_current: Optional[ElectrodeCurrent] = None, torque_model: str = "spin_diffusion",
                 transport_model: str = "diffusion", kappa: float = 1.0, xi: float = 0.0, H_ext=None,
                 demag: bool = True, llg_options: Optional[dict] = None):
        if torque_model not in TORQUE_MODELS:
            raise ParameterError("torque_model", f"must be one of {TORQUE_MODELS}, got {torque_model!r}")
        if torque_model == "spin_diffusion" and transport is None:
            raise ParameterError("transport", "spin_diffusion needs transport parameters per conducting region")
        if torque_model == "zhang_li" and electrode_current is not None:
            raise ParameterError("electrode_current", "the Zhang-Li model takes a prescribed current_density")
        self.domain = domain
        self.torque_model = torque_model
        self.llg = LLG(domain, m0, H_ext=H_ext, demag=demag, **(llg_options or {}))
        self.spin = None
        self.term = None
        if torque_model == "spin_diffusion":
            self.spin = SpinTransport(domain, transport, current_density=current_density,
                                      electrode_current=electrode_current, model=transport_model, kappa=kappa,
                                      Vm=self.llg.mv.Vm)
            self.term = SpinAccumulationTorque(self.llg, self.spin)
            self.llg.add_term(self.term)
        elif torque_model == "zhang_li":
            if current_density is None:
                raise ParameterError("current_density", "the Zhang-Li model needs a current density [A/m^2]")
            self.term = ZhangLiTorque(self.llg, current_density, polarization=transport, xi=xi)
            self.llg.add_term(self.term)

    def relax(self, tol: float = 10.0, max_iterations: int = 5000, **kw) -> dict:
        """Energy minimization without the current-induced torque (see :meth:`LLG.relax`)."""
        terms, self.llg.terms = self.llg.terms, []
        try:
            return self.llg.relax(tol=tol, max_iterations=max_iterations, **kw)
        finally:
            self.llg.terms = terms

    # ------------------------------------------------------------------ output helpers
    def output_fields(self):
        """P1 Functions written next to m: spin accumulation s, spin torque, stray field H_d."""
        out = []
        if self.spin is not None:
            out.append(self.spin.s)
        if self.term is not None:
            out.append(self.term.torque)
        if self.llg.stray is not None:
            out.append(self.llg.stray.H)
        return out

    def refresh_fields(self):
        """Bring s, the torque and H_d up to date with the current m (one solve of each)."""
        if self.term is not None:
            self.term.update_torque()
        if self.llg.stray is not None:
            self.llg.stray.solve(self.llg.m)

    def scalars(self) -> Dict[str, float]:
        """Extra CSV columns: the charge current density and, per magnetic region, the
        volume-averaged current-induced torque <dm/dt> [1/s] (last evaluated)."""
        out = {}
        if self.spin is not None and self.spin.electrode_current is None:
            out["j_e_z_A_per_m2"] = float(self.spin.current_at(self.llg.t)[2])
        if self.term is not None:
            mv = self.llg.mv
            T = self.term.torque.x.array.reshape(-1, 3)[: mv.n_local]
            for r in mv.regions:
                for c, v in zip("xyz", mv.average(T, r)):
                    out[f"<T{c}>_{r}_per_s"] = float(v)
        return out

    def run(self, t_end: float, output, xdmf_every: int = 20, csv_every: int = 1, checkpoint_every: int = 200,
            energy_every: int = 10, overwrite: bool = False, resume: bool = False, parameters: Optional[dict] = None,
            stop_when: Optional[Callable[[LLG], bool]] = None, progress: bool = True) -> LLGRun:
        """Integrate to ``t_end`` [s] writing m.xdmf (m, s, spin_torque, H_d, region tags),
        scalars.csv, provenance.json and checkpoints into ``output``; stops early when
        ``stop_when(llg)`` returns True. A progress bar (simulated time, ETA) runs on rank 0."""
        run = LLGRun(self.llg, output, xdmf_every=xdmf_every, csv_every=csv_every, checkpoint_every=checkpoint_every,
                     energy_every=energy_every, overwrite=overwrite, resume=resume, parameters=parameters,
                     fields=self.output_fields(), refresh=self.refresh_fields, scalars=self.scalars)
        bar = None
        if progress and self.llg.comm.rank == 0:
            from tqdm import tqdm
            bar = tqdm(total=round(t_end * 1e12, 3), initial=round(self.llg.t * 1e12, 3), unit="ps",
                       desc="simulated", bar_format="{l_bar}{bar}| {n:.1f}/{total:.1f} ps [{elapsed}<{remaining}]")
        last = [self.llg.t]

        def cb(llg):
            if bar is not None:
                bar.update(round((llg.t - last[0]) * 1e12, 6))
            last[0] = llg.t
            return bool(stop_when(llg)) if stop_when is not None else False
        t0 = time.perf_counter()
        try:
            run.run(t_end, callback=cb)
        finally:
            if bar is not None:
                bar.close()
            run.close()
        self.wall_time = time.perf_counter() - t0
        return run
