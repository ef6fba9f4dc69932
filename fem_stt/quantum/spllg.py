r"""Schrödinger-Poisson-LLG on a ball (seed 000, eqs. 2.45-2.49; scaled units), its energy law and output.

LLG on Omega (seed eqs. 2.47-2.48), solved by the project's tangent-plane integrator
with :func:`fem_stt.quantum.space.scaled_material`::

    d_t m = -m x H + alpha m x d_t m,    H = Lap m - w'(m) + H_s + (eps/2) s,   d_nu m = 0 on the boundary of Omega,

coupled to :class:`fem_stt.quantum.schrodinger.SchrodingerPoisson`. Energy law (seed eq. 3.17)::

    alpha int_0^t int_Omega |d_t m|^2 + F_SC(t) + F_LL(t) = F_SC(0) + F_LL(0),
    F_SC = (eps^2/2) sum lambda ||grad psi||^2 + (1/2)||grad V||^2                      (3.18)
    F_LL = (1/2)||grad m||^2 + (1/2)||H_s||^2_{R^3} + int_Omega w(m) - (eps/2) int_Omega s.m   (3.19)

One coupled step of size k (staggered, second order for ``order=2``):

1. LLG step t^n -> t^{n+1}; the explicit field (eps/2) s enters as the nodal force
   F_i = (eps/2) int_Omega s phi_i (the exact derivative of -(eps/2) int s.m with respect to
   m_i, so the coupling energy is consistent), with s linearly extrapolated to t^n + k/2
   from s^{n-1}, s^n for ``order=2`` (s^n for ``order=1``);
2. Crank-Nicolson for the orbitals with m^{n+1/2} = (m^n + m^{n+1})/2 and
   V^{n+1/2} = (V^n + V^{n+1})/2 (fixed point).

Step 2 changes the Schrödinger energy by exactly -(eps/2) int (s^n + s^{n+1})/2 . (m^{n+1} - m^n),
step 1 the LL energy by (eps/2) int s* . (m^{n+1} - m^n) - alpha k ||v||^2 + O(k^3), so the
residual of (3.17) is O(k^2) (``order=2``) or O(k) (``order=1``, theta = 1).
The dissipation alpha int |d_t m|^2 dt is accumulated as alpha k sum_i w_i |v_i|^2 (lumped).
"""
from __future__ import annotations

import csv
import logging
import time
from pathlib import Path
from typing import Optional

import dolfinx.fem
import numpy as np
import ufl
from mpi4py import MPI

from .. import _compat
from ..constants import MU0
from ..errors import ParameterError, require_positive
from ..io import XDMFOutput, prepare_output_dir, write_json
from ..llg.integrator import LLG
from .schrodinger import SchrodingerPoisson
from .states import MixedState

log = logging.getLogger(__name__)


class SpinDensityField:
    """The LLG term (eps/2) s of seed eq. 2.48: nodal force mu0 (eps/2) int_Omega s phi_i [J].

    ``force(m, t)`` extrapolates linearly in t from the last two spin densities pushed with
    :meth:`push`; ``energy(m, t)`` = -mu0 (eps/2) int_Omega s.m for the current s.
    """

    name = "spin_density"

    def __init__(self, llg: LLG, sp: SchrodingerPoisson):
        if sp.dxc is None:
            raise ParameterError("sp", "the Schrödinger-Poisson solver must be coupled to m")
        self.llg, self.sp = llg, sp
        mv = llg.mv
        v3 = ufl.TestFunction(mv.Vm)
        coef = MU0 * 0.5 * sp.eps
        self._L = _compat.form(coef * ufl.inner(sp._sdens, v3) * sp.dxc)
        self._me = dolfinx.fem.Function(mv.Vm)
        self._E = _compat.form(-coef * ufl.inner(sp._sdens, self._me) * sp.dxc)
        self.history = []
        self.push(sp.t)

    def load(self) -> np.ndarray:
        return _compat.assemble_vector_local(self._L).reshape(-1, 3)[: self.llg.mv.n_local]

    def push(self, t: float):
        """Record the nodal force of the current spin density at time t."""
        self.history = (self.history + [(float(t), self.load())])[-2:]

    def force(self, m_func, t: float) -> np.ndarray:
        t1, b1 = self.history[-1]
        if len(self.history) < 2 or t == t1:
            return b1.copy()
        t0, b0 = self.history[0]
        return b1 + ((t - t1) / (t1 - t0)) * (b1 - b0)

    def energy(self, m_func, t: float) -> float:
        self._me.x.array[:] = m_func.x.array
        return self.llg.comm.allreduce(dolfinx.fem.assemble_scalar(self._E), op=MPI.SUM)


class SPLLG:
    """The coupled Schrödinger-Poisson-LLG system on a ball.

    Parameters
    ----------
    state : MixedState on a QuantumSpace whose domain has a magnetic region Omega
        (material from :func:`scaled_material`) inside the ball; the orbitals are advanced in place
    eps : semiclassical parameter, > 0
    m0 : initial magnetization on Omega (3-vector, dict or callable; see :class:`fem_stt.llg.LLG`)
    dt : time step (> 0); the LLG may halve it (rotation control), the Schrödinger step follows
    demag : include the stray field H_s (needs the ball's shell)
    order : 1 or 2 (order of the LLG scheme and of the coupled energy law)
    poisson : self-consistent potential (False: V = 0)
    max_rotation : largest nodal rotation of m per step [rad]
    stray_field_options, ksp_rtol, fixed_point_tol : solver settings

    Raises
    ------
    ParameterError for eps <= 0, dt <= 0, a domain without magnetic region, Omega reaching the
    sphere (``magnetic regions``), or a non-scaled material (gamma0 != 1 or Ms != 1).
    """

    def __init__(self, state: MixedState, eps: float, m0, dt: float, demag: bool = True, order: int = 2,
                 poisson: bool = True, max_rotation: float = 0.5, stray_field_options: Optional[dict] = None,
                 ksp_rtol: float = 1e-13, fixed_point_tol: float = 1e-12):
        eps = require_positive("eps", eps)
        dt = require_positive("dt", dt)
        dom = state.space.domain
        if not dom.magnetic_regions:
            raise ParameterError("state", "the domain has no magnetic region Omega")
        for r in dom.magnetic_regions:
            mat = dom.materials[r]
            if mat.Ms != 1.0 or mat.gamma0 != 1.0 or abs(mat.A - MU0 / 2) > 1e-12 * MU0:
                raise ParameterError(f"materials['{r}']", "must be in the seed's scaled units: use "
                                                          "fem_stt.quantum.scaled_material(alpha, K1, ...)")
        sp_ = state.space
        mag = _compat.locate_dofs_topological(sp_.V1, 3, dom.cells(dom.magnetic_regions))
        if sp_.comm.allreduce(int(np.any(~sp_.inside[mag])), op=MPI.MAX):
            raise ParameterError("magnetic regions", f"Omega = {dom.magnetic_regions} must lie inside the ball B_R "
                                                     f"(seed 000 Sec. 2.2): it reaches the sphere |x| = R")
        self.eps = eps
        self.domain = dom
        self.comm = dom.comm
        sf = {"rtol": 1e-10}
        sf.update(stray_field_options or {})
        self.llg = LLG(dom, m0, demag=demag, order=order, dt=dt, dt_max=dt, dt_min=dt * 2.0 ** -12,
                       max_rotation=max_rotation, stray_field_options=sf)
        self.sp = SchrodingerPoisson(state, eps, m=self.llg.m, coupling_regions=dom.magnetic_regions,
                                     poisson=poisson, ksp_rtol=ksp_rtol, fixed_point_tol=fixed_point_tol)
        self.term = SpinDensityField(self.llg, self.sp)
        self.llg.add_term(self.term)
        mv = self.llg.mv
        self._w_alpha = np.where(mv.active, mv.w_alpha, 0.0)[: mv.n_owned] / MU0
        # the integrator's uniaxial energy is -K1 (m.u)^2; the seed's w = K1 (1 - (m.u)^2) >= 0
        self._w_const = sum(dom.materials[r].K1 / MU0 * dom.volume(r) for r in mv.regions)
        self.dissipation = 0.0
        self.t = 0.0
        self.E0 = None
        self.E0 = self.energies()["total"]

    @property
    def m(self):
        return self.llg.m

    def step(self) -> float:
        """One coupled step (module docstring); returns the step size used."""
        llg, sp = self.llg, self.sp
        m_old = llg.m.x.array.copy()
        k = llg.step()
        mv = llg.mv
        v = llg.v.x.array.reshape(-1, 3)[: mv.n_owned]
        self.dissipation += k * self.comm.allreduce(float(np.sum(self._w_alpha * np.einsum("ij,ij->i", v, v))),
                                                    op=MPI.SUM)
        sp.m_mid.x.array[:] = 0.5 * (m_old + llg.m.x.array)
        sp.step(k)
        self.term.push(sp.t)
        self.t = sp.t
        return k

    def energies(self) -> dict:
        """F_SC, F_LL (with its parts), dissipation alpha int int |d_t m|^2, total = F_SC + F_LL and
        the energy-law residual (seed eq. 3.17) = total + dissipation - total(0)."""
        e_sc = self.sp.energies()
        e_ll = {k: v / MU0 for k, v in self.llg.energies().items()}
        F_LL = e_ll.pop("total") + self._w_const
        out = {"F_SC": e_sc["F_SC"], "kinetic": e_sc["kinetic"], "hartree": e_sc["hartree"], "F_LL": F_LL,
               "exchange": e_ll.get("exchange", 0.0), "demag": e_ll.get("demag", 0.0),
               "anisotropy": e_ll.get("uniaxial", 0.0) + self._w_const + e_ll.get("cubic", 0.0),
               "coupling": e_ll.get("spin_density", 0.0), "dissipation": self.dissipation}
        out["total"] = out["F_SC"] + out["F_LL"]
        out["residual"] = 0.0 if self.E0 is None else out["total"] + self.dissipation - self.E0
        return out

    def scalars(self) -> dict:
        """One CSV row: t, mass, integrals of rho, s, j, J_s, <m>, energies, fixed-point iterations."""
        row = {"t": self.t, "mass": self.sp.mass()}
        row.update({f"int_{k}": v for k, v in self.sp.integrals().items() if k != "mass"})
        avg = self.llg.average()
        row.update({"mx": avg[0], "my": avg[1], "mz": avg[2]})
        row.update(self.energies())
        row["fixed_point_iterations"] = self.sp.last_fixed_point_iterations
        return row

    def run(self, t_end: float, output=None, overwrite: bool = False, xdmf_every: int = 10, csv_every: int = 1,
            progress: bool = False, name: str = "spllg", callback=None) -> Path:
        """Step to ``t_end``, writing ``fields.xdmf`` (m, rho, s, j, J_s1..3, V on B_R; ParaView) every
        ``xdmf_every`` steps and ``scalars.csv`` every ``csv_every`` steps into ``output`` (a new
        folder; an occupied one raises FileExistsError unless ``overwrite``). ``callback(self, n)`` is
        called after every step n (1, 2, ...). Returns the folder."""
        if not t_end > self.t:
            raise ParameterError("t_end", f"must be > current time {self.t:g}, got {t_end!r}")
        for nm, v in (("xdmf_every", xdmf_every), ("csv_every", csv_every)):
            if int(v) < 1:
                raise ParameterError(nm, f"must be >= 1, got {v!r}")
        out = prepare_output_dir(output, self.comm, overwrite, default_name=name)
        write_json(out / "provenance.json", {
            "model": "Schrödinger-Poisson-LLG on a ball (seed 000 eqs. 2.45-2.49, scaled units)",
            "eps": self.eps, "dt": self.llg.dt, "order": self.llg.order, "occupations": list(self.sp.state.occupations),
            "orbitals": self.sp.n, "poisson": self.sp.poisson, "demag": self.llg.stray is not None,
            "mesh": str(self.domain.source), "vertices": self.domain.mesh.topology.index_map(0).size_global,
            "ranks": self.comm.size, "materials": {r: vars(m) for r, m in self.domain.materials.items()}}, self.comm)
        xdmf = XDMFOutput(out / "fields.xdmf", self.domain, include=self.sp.space.ball_regions)  # B_R, no shell
        rows = []

        def write_fields():
            obs = self.sp.observables()
            xdmf.write([self.llg.m] + list(obs.values()), self.t)

        bar = None
        if progress and self.comm.rank == 0:
            from tqdm import tqdm
            bar = tqdm(total=t_end, unit="t", bar_format="{l_bar}{bar}| {n:.3g}/{total:.3g} [{elapsed}<{remaining}]")
        try:
            write_fields()
            rows.append(self.scalars())
            n = 0
            t0 = time.perf_counter()
            while self.t < t_end * (1 - 1e-12):
                self.llg.dt = min(self.llg.dt_max, t_end - self.t)
                k = self.step()
                n += 1
                if bar is not None:
                    bar.update(k)
                if callback is not None:
                    callback(self, n)
                if n % csv_every == 0:
                    rows.append(self.scalars())
                if n % xdmf_every == 0:
                    write_fields()
            if n % csv_every:
                rows.append(self.scalars())
            if n % xdmf_every:
                write_fields()
        finally:
            xdmf.close()
            if bar is not None:
                bar.close()
            if self.comm.rank == 0 and rows:
                with open(out / "scalars.csv", "w", newline="") as fh:
                    w = csv.DictWriter(fh, fieldnames=list(rows[0]))
                    w.writeheader()
                    w.writerows(rows)
        write_json(out / "summary.json", {"steps": n, "wall_s": time.perf_counter() - t0,
                                          "timings": {**self.llg.timings, **self.sp.timings}}, self.comm)
        self.rows = rows
        return out
