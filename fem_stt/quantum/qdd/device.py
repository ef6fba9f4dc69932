"""SI front end: a Rashba 2DEG channel between two ohmic contacts, solved and written to a results folder.

:class:`RashbaChannel` takes the material and device parameters in SI units, converts them to
the paper's scaled units in one place (:func:`fem_stt.quantum.qdd.units.scales`, printed in the
log and written to ``scales.json``), builds the channel mesh (1D for width 0, else a 2D
rectangle with ``source``/``drain`` contacts and ``walls``), and solves

- the density-gradient model (6) for n0 (:class:`~.charge.DensityGradient`), then
- the spin equation (7) (``quantum=True``) or (10) (``quantum=False``) with n0 frozen
  (:class:`~.spin.SpinDiffusion`),

with the potential energy ``V(x) = -e U x / L + V_g exp(-((x - x_g)/w_g)^2)`` (bias U, optional
Gaussian gate barrier), n0 = 1 (sheet density n_s) at both contacts, the spin polarization P
injected at the source (``n = P n0 / eps``, |P| < 1 = positivity of the density matrix) and
zero spin at the drain. Outputs (``run``): ``fields.xdmf`` (mesh in metres; n0 [N0 = n_s/2],
F and Q [kB T], n [polarization / eps], J [N0 x0 / t_E], J_spin_x/y), ``currents.csv`` (charge
current [A] and spin currents [hbar/2 per s] at both contacts, reaction method), ``maps.png``,
``scales.json`` and ``summary.json``.
"""
from __future__ import annotations

import csv
import dataclasses
import logging
import math
import time
from pathlib import Path
from typing import Optional, Sequence, Tuple, Union

import numpy as np
from mpi4py import MPI

from ... import _compat
from ...constants import E_CHARGE, K_B
from ...errors import ParameterError, require_positive
from ...io import prepare_output_dir, to_p1, write_json
from .channel import DRAIN, SOURCE, Channel
from .charge import DensityGradient
from .spin import EPS2_FLUX_VARIANTS, WALL_BCS, SpinDiffusion
from .units import Scales, scales

log = logging.getLogger(__name__)


@dataclasses.dataclass
class RashbaChannel:
    """A 2DEG channel with Rashba coupling in SI units (see the module docstring).

    Parameters
    ----------
    length, width : channel size [m] (width 0: a 1D channel).
    m_eff : effective mass / electron mass.
    alpha_R : Rashba constant [eV m] (>= 0).
    temperature : [K]; bias : source-drain voltage U [V] (>= 0).
    mobility : [m^2/(V s)] (or ``tau_c`` [s], momentum relaxation time; give one).
    sheet_density : electron sheet density at the contacts [m^-2].
    polarization : spin polarization injected at the source, 3 numbers with |P| < 1.
    gate : optional (centre [m], width [m], barrier height [eV]) of a Gaussian barrier.
    quantum : True: Bohm terms (eps > 0, eqs. (6)-(7)); False: their eps -> 0 limit (9)-(10).
    c, wall_bc, spin_flux_eps2 : switches of :class:`~.spin.SpinDiffusion`.
    mesh_size : cell size [m]; structured : transfinite 2D mesh (symmetric about the centre line).
    degree : Lagrange degree of both solvers (default 2 with the Bohm terms, 1 without).

    Raises ParameterError naming the parameter (before any meshing).
    """

    length: float
    width: float = 0.0
    m_eff: float = 0.041
    alpha_R: float = 0.0
    temperature: float = 77.0
    bias: float = 0.0
    mobility: Optional[float] = 1.0
    tau_c: Optional[float] = None
    sheet_density: float = 1e15
    polarization: Sequence[float] = (1e-3, 0.0, 0.0)
    gate: Optional[Tuple[float, float, float]] = None
    quantum: bool = True
    c: float = 2.0
    wall_bc: str = "covariant"
    spin_flux_eps2: str = "printed"
    mesh_size: float = 10e-9
    structured: bool = True
    degree: Optional[int] = None

    def _scales(self) -> Scales:
        mob = self.mobility if self.tau_c is None else None
        return scales(self.length, self.m_eff, self.alpha_R, self.temperature, self.bias, mobility=mob,
                      tau_c=self.tau_c, width=self.width, sheet_density=self.sheet_density)

    def __post_init__(self):
        self.scales = self._scales()
        P = np.asarray(self.polarization, dtype=float) if not isinstance(self.polarization, str) else np.array([np.nan])
        if P.shape != (3,) or not np.all(np.isfinite(P)):
            raise ParameterError("polarization", f"must be 3 finite numbers, got {self.polarization!r}")
        if np.linalg.norm(P) >= 1.0:
            raise ParameterError("polarization", f"|P| = {np.linalg.norm(P):.4g} must be < 1 (positivity of the "
                                                 f"density matrix, eps |n| < n0)")
        self._P = P
        h = require_positive("mesh_size", self.mesh_size, "m")
        if h > self.length / 4 or (self.width > 0 and h > self.width / 2):
            raise ParameterError("mesh_size", f"must be <= length/4 and <= width/2, got {h:g} m")
        if self.gate is not None:
            g = list(self.gate) if isinstance(self.gate, (list, tuple)) else None
            if g is None or len(g) != 3 or not all(isinstance(v, (int, float)) and math.isfinite(v) for v in g):
                raise ParameterError("gate", f"must be (centre [m], width [m], height [eV]), got {self.gate!r}")
            require_positive("gate width", g[1], "m")
            if not 0 <= g[0] <= self.length:
                raise ParameterError("gate", f"centre {g[0]:g} m must lie in the channel [0, {self.length:g}] m")
        if self.degree is not None and (int(self.degree) != self.degree or not 1 <= self.degree <= 3
                                        or (self.quantum and self.degree < 2)):
            raise ParameterError("degree", f"must be 1, 2 or 3 (>= 2 with the Bohm terms), got {self.degree!r}")
        if self.wall_bc not in WALL_BCS:
            raise ParameterError("wall_bc", f"must be one of {WALL_BCS}, got {self.wall_bc!r}")
        if self.spin_flux_eps2 not in EPS2_FLUX_VARIANTS:
            raise ParameterError("spin_flux_eps2", f"must be one of {EPS2_FLUX_VARIANTS}, got {self.spin_flux_eps2!r}")
        self.channel = self.charge = self.spin = None
        self.timings = {}

    # ------------------------------------------------------------------ model
    @property
    def dim(self) -> int:
        return 2 if self.width > 0 else 1

    def potential(self, x):
        """Scaled potential energy V(x) [kB T] at scaled points x (array (3, npts))."""
        s = self.scales
        V = -s.E * x[0]
        if self.gate is not None:
            xg, wg, hg = self.gate
            V = V + hg * E_CHARGE / (K_B * self.temperature) * np.exp(-((x[0] - xg / s.x0) / (wg / s.x0)) ** 2)
        return V

    def n_injected(self) -> np.ndarray:
        """Scaled spin density at the source, n = P n0 / eps (n0 = 1)."""
        return self._P / self.scales.eps

    def build(self, comm=None):
        """Mesh (scaled coordinates) and set up both solvers."""
        comm = comm or MPI.COMM_WORLD
        s = self.scales
        log.info("%s", s.describe())
        t0 = time.perf_counter()
        h = self.mesh_size / s.x0
        if self.dim == 1:
            self.channel = Channel.interval(1.0, max(4, int(round(1.0 / h))), comm=comm)
        else:
            self.channel = Channel.rectangle(1.0, s.width, h, structured=self.structured, comm=comm)
        eps = s.eps if self.quantum else 0.0
        deg = self.degree or (2 if self.quantum else 1)
        self.charge = DensityGradient(self.channel, eps=eps, tau=s.tau, V=self.potential, degree=deg)
        self.spin = SpinDiffusion(self.channel, alpha=s.alpha, tau=s.tau, eps=eps, c=self.c, V=self.potential, degree=deg,
                                  rho=self.charge.rho() if self.quantum else None,
                                  contacts={SOURCE: tuple(self.n_injected()), DRAIN: (0.0, 0.0, 0.0)},
                                  wall_bc=self.wall_bc, spin_flux_eps2=self.spin_flux_eps2)
        self.timings["build"] = time.perf_counter() - t0
        return self

    def set_rashba(self, alpha_R: float):
        """Change the Rashba constant [eV m] (a gate sweep) of a built channel without re-meshing."""
        self.alpha_R = alpha_R
        self.scales = self._scales()
        if self.spin is not None:
            self.spin.set_alpha(self.scales.alpha)

    def solve(self) -> dict:
        """Stationary charge (with continuation) and spin; returns :meth:`currents`."""
        if self.charge is None:
            self.build()
        t0 = time.perf_counter()
        self.newton_charge = self.charge.solve()
        t1 = time.perf_counter()
        self.newton_spin = self.spin.solve()
        self.timings.update(charge_solve=t1 - t0, spin_solve=time.perf_counter() - t1)
        return self.currents()

    def currents(self) -> dict:
        """Contact currents in SI: charge current [A] (2D; [A/m] in 1D) flowing INTO the channel
        through the source and OUT through the drain for electrons moving source -> drain
        (sign: particle outflow times -e), and spin currents [hbar/2 per s] leaving through each
        contact; plus the scaled values."""
        s = self.scales
        cq, cs = self.charge.contact_currents(), self.spin.contact_currents()
        out = {"scaled": {"particle": cq, "spin": {k: v.tolist() for k, v in cs.items()}}}
        out["charge_current_A"] = {k: -v * s.current_scale(self.dim) for k, v in cq.items()}
        out["spin_current_hbar2_per_s"] = {k: (v * s.spin_current_scale(self.dim)).tolist() for k, v in cs.items()}
        return out

    # ------------------------------------------------------------------ run with outputs
    def run(self, output: Union[str, Path, None] = None, comm=None, overwrite: bool = False,
            t_end: Optional[float] = None, dt: Optional[float] = None, order: int = 2, xdmf_every: int = 10,
            progress: bool = False) -> Path:
        """Solve and write the results folder (see the module docstring); returns its path.

        Stationary by default. With ``t_end`` [s] (and ``dt`` [s]): the charge starts from its
        stationary state, the spin from zero, and both are stepped with BDF``order`` (charge
        first, then the spin with n0 frozen), the spin injection switched on at t = 0.
        Never overwrites a folder with results unless ``overwrite``.
        """
        comm = comm or MPI.COMM_WORLD
        out = prepare_output_dir(output, comm, overwrite=overwrite, default_name="qdd")
        if self.charge is None:
            self.build(comm)
        s = self.scales
        write_json(out / "scales.json", dict(s.as_dict(), description=s.describe()), comm)
        rows = []
        xdmf = _compat.xdmf_file(comm, out / "fields.xdmf", "w")
        _write_mesh_si(xdmf, self.channel.mesh, s.x0)
        t_wall = time.perf_counter()
        self.solve() if t_end is None else self.charge.solve()
        if t_end is None:
            rows.append(self._row(0.0))
            self._write_fields(xdmf, 0.0)
        else:
            if dt is None:
                raise ParameterError("dt", "a transient run (t_end) needs the time step dt [s]")
            require_positive("t_end", t_end, "s")
            require_positive("dt", dt, "s")
            self.spin.set_state((0.0, 0.0, 0.0))
            self.charge.reset_history()
            T, h = t_end / s.t_E, dt / s.t_E
            nsteps = int(math.ceil(T / h - 1e-9))
            it = range(nsteps)
            if progress and comm.rank == 0:
                from tqdm import tqdm
                it = tqdm(it, desc="qdd transient")
            self._write_fields(xdmf, 0.0)
            rows.append(self._row(0.0))
            for k in it:
                hk = min(h, T - self.spin.t)
                self.charge.step(hk, order)
                self.spin.step(hk, order)
                rows.append(self._row(self.spin.t * s.t_E))
                if (k + 1) % xdmf_every == 0 or k == nsteps - 1:
                    self._write_fields(xdmf, self.spin.t * s.t_E)
        self.timings["run"] = time.perf_counter() - t_wall
        xdmf.close()
        if comm.rank == 0:
            with open(out / "currents.csv", "w", newline="") as f:
                w = csv.writer(f)
                w.writerow(list(rows[0].keys()))
                for r in rows:
                    w.writerow([f"{v:.10g}" for v in r.values()])
        self.plot_maps(out / "maps.png")
        summary = {"parameters": {k: (list(v) if isinstance(v, (tuple, np.ndarray)) else v)
                                  for k, v in dataclasses.asdict(self).items()},
                   "scales": s.as_dict(), "currents": self.currents(),
                   "dofs": {"charge": self.charge.dofs_global(), "spin": self.spin.dofs_global()},
                   "vertices": self.channel.num_vertices_global(), "ranks": comm.size, "timings_s": self.timings,
                   "positivity_margin": self.spin.positivity_margin() if self.quantum else None}
        write_json(out / "summary.json", summary, comm)
        log.info("qdd: results in %s", out)
        return out

    def _row(self, t: float) -> dict:
        c = self.currents()
        row = {"t_s": t}
        for k in (SOURCE, DRAIN):
            row[f"I_{k}_A"] = c["charge_current_A"][k]
        for k in (SOURCE, DRAIN):
            for i, a in enumerate("xyz"):
                row[f"Is_{k}_{a}_hbar2_per_s"] = c["spin_current_hbar2_per_s"][k][i]
        return row

    def _write_fields(self, xdmf, t: float):
        fields = [self.charge.n0(), self.charge.quasi_fermi(), self.charge.bohm(), self.spin.n(),
                  self.charge.current_density()] + list(self.spin.spin_current())
        for f in fields:
            xdmf.write_function(to_p1(f), t)

    # ------------------------------------------------------------------ pictures
    def gather_vertex_values(self, f):
        """(coordinates [m] (n, 2), values (n, bs)) of a P1-interpolated field on rank 0 (None elsewhere)."""
        g = to_p1(f)
        V = g.function_space
        nloc = V.dofmap.index_map.size_local
        bs = V.dofmap.index_map_bs
        X = V.tabulate_dof_coordinates()[:nloc, :2] * self.scales.x0
        vals = g.x.array.reshape(-1, bs)[:nloc]
        comm = self.channel.comm
        allX, allv = comm.gather(X, root=0), comm.gather(vals, root=0)
        if comm.rank != 0:
            return None, None
        return np.vstack(allX), np.vstack(allv)

    def plot_maps(self, path: Union[str, Path]):
        """PNG of n0 and the three spin components (2D maps or 1D profiles), written on rank 0."""
        X, n0 = self.gather_vertex_values(self.charge.n0())
        _, n = self.gather_vertex_values(self.spin.n())
        if self.channel.comm.rank != 0:
            return
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        P = n * self.scales.eps  # spin density eps n in units of N0 (= the polarization where n0 = 1)
        titles = ["n0 / N0", "spin density eps n_x / N0", "eps n_y / N0", "eps n_z / N0"]
        data = [n0[:, 0], P[:, 0], P[:, 1], P[:, 2]]
        um = 1e6
        if self.dim == 1:
            order = np.argsort(X[:, 0])
            fig, ax = plt.subplots(1, 2, figsize=(10, 3.5))
            ax[0].plot(X[order, 0] * um, data[0][order])
            ax[0].set(xlabel="x [um]", ylabel=titles[0])
            for k in range(1, 4):
                ax[1].plot(X[order, 0] * um, data[k][order], label=titles[k])
            ax[1].set(xlabel="x [um]", ylabel="spin density / N0")
            ax[1].legend()
        else:
            import matplotlib.tri as mtri
            tri = mtri.Triangulation(X[:, 0] * um, X[:, 1] * um)
            aspect = max(0.15, self.width / self.length)
            fig, axes = plt.subplots(2, 2, figsize=(11, 2 * 4.6 * aspect + 1.6))
            axes = axes.ravel()
            for ax, title, d in zip(axes, titles, data):
                cmap = "viridis" if title.startswith("n0") else "RdBu_r"
                lim = np.abs(d).max() or 1.0
                kw = {} if title.startswith("n0") else {"vmin": -lim, "vmax": lim}
                im = ax.tripcolor(tri, d, shading="gouraud", cmap=cmap, **kw)
                ax.set_aspect("equal")
                ax.set_title(title, fontsize=9)
                fig.colorbar(im, ax=ax, shrink=0.9)
            for ax in axes[2:]:
                ax.set_xlabel("x [um]")
        fig.suptitle(f"alpha_R = {self.alpha_R:.3g} eV m, U = {self.bias * 1e3:.3g} mV, T = {self.temperature:g} K",
                     fontsize=10)
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)


def _write_mesh_si(xdmf, mesh, x0: float):
    """Write the mesh with coordinates in metres (the solvers use x / x0); restored bit-exactly."""
    saved = mesh.geometry.x.copy()
    mesh.geometry.x[:] *= x0
    try:
        xdmf.write_mesh(mesh)
    finally:
        mesh.geometry.x[:] = saved
