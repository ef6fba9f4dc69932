r"""Current-induced torques as terms of the LLG integrator (:meth:`fem_stt.llg.LLG.add_term`).

:class:`SpinAccumulationTorque` -- s-d coupling with the spin accumulation s of
:class:`fem_stt.spin.transport.SpinTransport` (Zhang, Levy & Fert 2002; Abert et al.,
Sci. Rep. 5, 14855 (2015), eq. 10; DESIGN.md sec. 1):

    H_sd = J_sd s / (hbar gamma0 Ms),     torque  -gamma0 m x H_sd = -(2 D0/(lambda_J^2 Ms)) m x s,

with s re-solved (steady) at every evaluation of the explicit terms, i.e. once per LLG step.
Lumped nodal force F_i = mu0 int (2 D0/lambda_J^2)/gamma0 phi_i s_i.

:class:`ZhangLiTorque` -- the cheaper local model (Zhang & Li, PRL 93, 127204 (2004);
seed 003, eqs. 31 and 37) in Gilbert form:

    dm/dt = -gamma0 m x H_eff + alpha m x dm/dt - (u . grad) m + xi m x (u . grad) m,
    u = beta mu_B j_e / (Q_E Ms)   [m/s], along the electron flow (Q_E = -e),

with the non-adiabaticity xi (seed 003 eq. 37 is the case xi = alpha, for which any
profile moves rigidly with velocity u). A torque T enters the tangent-plane scheme as
the field (1/gamma0) m x T, so F_i = W_gamma,i m_i x T_i with W_gamma,i = mu0 int Ms/gamma0 phi_i.
(u . grad) m is the lumped L2 projection onto P1 over the magnets.
"""
from __future__ import annotations

from typing import Mapping, Optional

import dolfinx.fem
import numpy as np
import ufl
from petsc4py import PETSc

from .. import _compat
from ..errors import ParameterError, require_nonnegative, vector_of_time
from .parameters import MU_B, Q_E, TransportParameters, get_transport
from .transport import SpinTransport


class SpinAccumulationTorque:
    """s-d torque from a :class:`SpinTransport` solved at every LLG step.

    Parameters
    ----------
    llg : fem_stt.llg.LLG
    transport : SpinTransport built with ``Vm=llg.mv.Vm`` (checked)

    Attributes
    ----------
    torque : dolfinx Function (vector P1) [1/s]: the s-d torque dm/dt = -(2 D0/(lambda_J^2 Ms)) m x s
        at the magnetic vertices, from the last evaluation (once per step, at the step's
        extrapolated midpoint; :meth:`update_torque` evaluates it at the current m). Local values
        include ghosts (computed vertex-wise), so no scatter is needed.
    """

    name = "spin_transport"

    def __init__(self, llg, transport: SpinTransport):
        if transport.Vs is not llg.mv.Vm:
            raise ParameterError("transport", "must be built with Vm=llg.mv.Vm (s and m share vertices)")
        self.llg, self.transport = llg, transport
        mv = llg.mv
        self.w_sd = np.where(mv.active, transport.sd_weights(mv), 0.0)
        self.torque = dolfinx.fem.Function(mv.Vm, name="spin_torque")
        self._inv_wg = np.where(mv.active, 1.0 / np.where(mv.active, mv.w_gamma, 1.0), 0.0)

    def force(self, m_func, t: float) -> np.ndarray:
        """Nodal s-d force at m_func (s solved steadily there), its part transverse to m_func;
        also refreshes :attr:`torque`.

        The part of H_sd along m exerts no torque but is large (the longitudinal spin
        accumulation, up to ~Ms/2 near the interfaces of the seed device at 1e13 A/m^2):
        handed to the explicit step it would enter the order-2 damping correction
        (k/2) m.F and, through the extrapolated m*, the right-hand side, adding an O(k^2 |m.H_sd|)
        error with no physical content. It is dropped; the torque is unchanged."""
        s = self.transport.solve(m_func, t)
        n = self.llg.mv.n_local
        F = self.w_sd[:, None] * s.x.array.reshape(-1, 3)[:n]
        m = m_func.x.array.reshape(-1, 3)[:n]
        F -= np.einsum("ij,ij->i", F, m)[:, None] * m  # m is unit on the magnets, 0 elsewhere (w_sd = 0)
        self.torque.x.array.reshape(-1, 3)[:n] = -np.cross(m, F) * self._inv_wg[:, None]
        return F

    def update_torque(self) -> dolfinx.fem.Function:
        """Solve s at the LLG's current m and t, and fill :attr:`torque` [1/s]; returns it."""
        self.force(self.llg.m, self.llg.t)
        return self.torque


class ZhangLiTorque:
    """Adiabatic and non-adiabatic current torques (Zhang-Li), a local alternative to spin diffusion.

    Parameters
    ----------
    llg : fem_stt.llg.LLG
    current_density : uniform charge current density j_e [A/m^2] (3-vector or function of t)
    polarization : dict magnetic region -> P in [0, 1] (or TransportParameters / library
        name, whose ``beta`` is used); default: the library value of each region's material
    xi : non-adiabaticity (>= 0)

    Raises ParameterError for out-of-range values or missing regions.
    """

    name = "zhang_li"

    def __init__(self, llg, current_density, polarization: Optional[Mapping] = None, xi: float = 0.0):
        self.llg = llg
        mv = llg.mv
        self.xi = require_nonnegative("xi", xi)
        self.current_at = vector_of_time("current_density", current_density, "A/m^2")
        P = {}
        for r in mv.regions:
            if polarization is not None and r in polarization:
                v = polarization[r]
            elif polarization is None:
                v = llg.domain.materials[r].name
            else:
                raise ParameterError("polarization", f"magnetic region '{r}' missing")
            if isinstance(v, (str, TransportParameters)):
                v = get_transport(v, f"polarization['{r}']").beta
            v = require_nonnegative(f"polarization['{r}']", v)
            if v > 1:
                raise ParameterError(f"polarization['{r}']", f"must be in [0, 1], got {v}")
            P[r] = v
        dom = llg.domain
        # u = coef * j_e with coef = P mu_B / (Q_E Ms) per region [m^3/(A s)]
        coef = dom.dg0({r: P[r] * MU_B / (Q_E * dom.materials[r].Ms) for r in mv.regions})
        u_, v_ = ufl.TrialFunction(mv.Vm), ufl.TestFunction(mv.Vm)
        self.G = []
        others = [r for r in dom.regions if r not in mv.regions]
        for k in range(3):
            a = coef * ufl.inner(ufl.grad(u_)[:, k], v_) * mv.dxm
            if others:
                a = a + dolfinx.fem.Constant(dom.mesh, PETSc.ScalarType(0.0)) * ufl.inner(u_, v_) * dom.measure(others)
            self.G.append(_compat.assemble_matrix(_compat.form(a)))
        vol = np.where(mv.active, sum(mv.region_weights[r] for r in mv.regions), 0.0)
        self._inv_vol = np.where(mv.active, 1.0 / np.where(mv.active, vol, 1.0), 0.0)
        self._out = self.G[0].createVecLeft()
        self._acc = self.G[0].createVecLeft()
        self._g = dolfinx.fem.Function(mv.Vm)
        self.torque = dolfinx.fem.Function(mv.Vm, name="spin_torque")

    def u_dot_grad(self, m_func, t) -> np.ndarray:
        """(u . grad) m at the vertices [1/s], (n_local, 3), lumped L2 projection over the magnets."""
        j = self.current_at(t)
        self._acc.set(0.0)
        for k in range(3):
            if j[k] != 0.0:
                self.G[k].mult(m_func.vector, self._out)
                self._acc.axpy(j[k], self._out)
        g = self._g
        g.vector.array[:] = self._acc.array
        g.x.scatter_forward()
        n = self.llg.mv.n_local
        return g.x.array.reshape(-1, 3)[:n] * self._inv_vol[:n, None]

    def torque_at(self, m_func, t) -> np.ndarray:
        """T = -(u . grad) m + xi m x (u . grad) m [1/s], (n_local, 3)."""
        n = self.llg.mv.n_local
        m = m_func.x.array.reshape(-1, 3)[:n]
        g = self.u_dot_grad(m_func, t)
        return -g + self.xi * np.cross(m, g)

    def force(self, m_func, t: float) -> np.ndarray:
        """Nodal force W_gamma m x T at m_func; also refreshes :attr:`torque`."""
        n = self.llg.mv.n_local
        m = m_func.x.array.reshape(-1, 3)[:n]
        T = self.torque_at(m_func, t)
        self.torque.x.array.reshape(-1, 3)[:n] = T
        return self.llg.mv.w_gamma[:n, None] * np.cross(m, T)

    def update_torque(self):
        """Fill :attr:`torque` [1/s] at the LLG's current m and t; returns it."""
        self.force(self.llg.m, self.llg.t)
        return self.torque
