r"""Spin transport in the conducting stack: Zhang-Levy-Fert diffusion and moment closure.

Balance law for the spin accumulation s [A/m] (Zhang, Levy & Fert, PRL 88, 236601
(2002); Abert et al., Sci. Rep. 5, 14855 (2015), eqs. 7-9; seed 002 "Hydrodynamic"):

    ds/dt + div J_s = -2 D0 s / lambda_sf^2 - 2 D0 (s x m) / lambda_J^2,

with the spin current J_s (one spin and one space index) given by a constitutive law:

* ``model="diffusion"`` (ZLF):
      J_s = (beta mu_B / Q_E) m (x) j_e - 2 D0 [grad s - beta beta' m (x) ((grad s)^T m)];
* ``model="moment"`` (moment closure, seed 002 "Comparison results"):
      J_s A(m) = (beta mu_B / Q_E) j_e (x) m - 2 D0 [grad s - beta beta' (grad s . m) (x) m]
  in the seed's (space, spin) index order, with A(m) = I + kappa [m]x, [m]x v = m x v,
  multiplying the spin index from the right. Row by row (space component i, spin vector
  J_i, right-hand side R_i): J_i - kappa m x J_i = R_i, hence
      J_i = P R_i,   P = (I + kappa [m]x + kappa^2 m m^T) / (1 + kappa^2 |m|^2)
  (P is the inverse of A^T; eigenvalues of A: 1, 1 +- i kappa). kappa = 0 is ZLF.

Here m is the unit magnetization (0 outside the magnets), Q_E = -e the electron charge
and j_e the charge current density (sign convention: :mod:`fem_stt.spin.parameters`).
In non-magnetic conductors beta = beta' = 0 and there is no s x m term. s lives in one
continuous P1 vector space over the conducting regions, so s and the normal spin
current are continuous across interfaces (the latter weakly). On the outer surface of
the conductor the diffusive part of the normal spin current vanishes (grad s . n = 0):
insulating sides carry no spin current, and at the electrodes the stack behaves as if
it continued (the polarized current passes; Abert et al. 2015).

Charge current:

* prescribed: a uniform ``current_density`` j_e [A/m^2] (a 3-vector, or a function of t);
* self-consistent (:class:`ElectrodeCurrent`): div j_e = 0 with
      j_e = sigma E - 2 beta' D0 (Q_E / mu_B) (grad s)^T m,   E = -grad V,
  a uniform current density entering through the ``source`` facets and V = 0 on the
  ``drain`` facets; solved monolithically with s. Substituting j_e into the
  constitutive laws cancels the beta beta' terms: J_s = P [c sigma m (x) E - 2 D0 grad s].

Weak form (phi a test function, c = beta mu_B / Q_E, R(s) the bracket above):

    (ds/dt, phi) - (P R(s), grad phi) + (2 D0/lambda_sf^2 s, phi) + (2 D0/lambda_J^2 s x m, phi)
        = (P c m (x) j_e, grad phi) - <c (j_e . n) m, phi>_{conductor boundary}.

Solved steadily (default inside the LLG loop, once per step; matrix sparsity and KSP
re-used, warm start) or in time by the theta method.
"""
from __future__ import annotations

import dataclasses
import logging
import time
from typing import Dict, Mapping, Optional, Sequence, Union

import dolfinx.fem
import dolfinx.fem.petsc
import dolfinx.mesh
import numpy as np
import ufl
from mpi4py import MPI
from petsc4py import PETSc

from .. import _compat
from ..constants import MU0
from ..errors import MeshError, ParameterError, SolverError, require_nonnegative, require_positive, vector_of_time
from ..magnetostatics import KSP_REASONS
from .parameters import MU_B, Q_E, TransportParameters, get_transport

log = logging.getLogger(__name__)

MODELS = ("diffusion", "moment")


@dataclasses.dataclass(frozen=True)
class ElectrodeCurrent:
    """Self-consistent charge current: ``current_density`` [A/m^2] (charge, > 0) enters the
    conductor uniformly through the facet group ``source`` and leaves through ``drain``,
    where V = 0. Electrons flow from ``drain`` to ``source``."""

    current_density: float
    source: str = "top_electrode"
    drain: str = "bottom_electrode"


def cross_matrix(v):
    """UFL matrix [v]x with [v]x w = v x w."""
    return ufl.as_matrix([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])


def moment_projector(M, kappa):
    """P = (I + kappa [M]x + kappa^2 M M^T) / (1 + kappa^2 |M|^2): J_i = P R_i solves
    J_i - kappa M x J_i = R_i (module docstring). UFL expression, shape (3, 3)."""
    I = ufl.Identity(3)
    return (I + kappa * cross_matrix(M) + kappa**2 * ufl.outer(M, M)) / (1.0 + kappa**2 * ufl.dot(M, M))


def apply_moment_inverse(R: np.ndarray, m: np.ndarray, kappa: float) -> np.ndarray:
    """NumPy version of P R for spin vectors R (..., 3) and unit m (..., 3)."""
    R = np.asarray(R, float)
    m = np.broadcast_to(np.asarray(m, float), R.shape)
    mm = np.einsum("...i,...i->...", m, m)[..., None]
    return (R + kappa * np.cross(m, R) + kappa**2 * np.einsum("...i,...i->...", m, R)[..., None] * m) / (
        1.0 + kappa**2 * mm)


def _vertex_label_spread(domain, cells: np.ndarray, seed_vertices: np.ndarray, V1) -> np.ndarray:
    """Label propagation over the vertex graph of ``cells``: returns a bool array (n_local
    vertices of V1) of the vertices connected to ``seed_vertices`` through those cells."""
    dm = V1.dofmap
    cell_dofs = dm.list.array.reshape(-1, 4)[np.asarray(cells, dtype=np.int64)].astype(np.int64)  # P1 tetrahedra
    f = dolfinx.fem.Function(V1)
    lab = f.x.array
    lab[:] = 0.0
    lab[seed_vertices] = 1.0
    comm = domain.comm
    while True:
        before = comm.allreduce(float(lab[: dm.index_map.size_local].sum()), op=MPI.SUM)
        if len(cell_dofs):
            cmax = lab[cell_dofs].max(axis=1)
            np.maximum.at(lab, cell_dofs.ravel(), np.repeat(cmax, 4))
        vec = f.vector
        vec.ghostUpdate(addv=PETSc.InsertMode.MAX_VALUES, mode=PETSc.ScatterMode.REVERSE)
        vec.ghostUpdate(addv=PETSc.InsertMode.INSERT, mode=PETSc.ScatterMode.FORWARD)
        after = comm.allreduce(float(lab[: dm.index_map.size_local].sum()), op=MPI.SUM)
        if after == before:
            return lab > 0.5


class SpinTransport:
    """Steady and transient spin accumulation on the conducting regions of a Domain.

    Parameters
    ----------
    domain : fem_stt.domain.Domain
    transport : dict region -> TransportParameters or library name (``"Py"``, ``"Cu"``, ...).
        The conducting regions; every magnetic region must be one of them and have
        ``lambda_J``. Regions not listed (air, shell, insulators) carry no s.
    current_density : prescribed uniform charge current density j_e [A/m^2]: a 3-vector
        or a function t -> 3-vector; mutually exclusive with ``electrode_current``.
    electrode_current : :class:`ElectrodeCurrent` for the self-consistent variant (every
        conducting region needs ``sigma``).
    model : ``"diffusion"`` (ZLF) or ``"moment"`` (moment closure with ``kappa``).
    kappa : moment-closure parameter (>= 0), used with ``model="moment"`` (seed: 1).
    electrodes : the two facet groups between which the current must be able to flow
        (checked: the conducting cells must connect them). Default: the built stacks'
        ``("bottom_electrode", "top_electrode")`` if present.
    Vm : vector P1 space to use for s (pass the LLG's so that s and m share vertices).
    ksp_rtol : relative residual tolerance of the GMRES solves.

    Attributes
    ----------
    s : dolfinx Function (vector P1) [A/m], 0 off the conductor.
    V : dolfinx Function (scalar P1) [V], electric potential (self-consistent variant).
    timings : dict of accumulated wall times [s] (assembly, solve).

    Raises
    ------
    ParameterError / MeshError (before any assembly) for a bad parameter, a magnetic
    region without transport parameters, or conductors that do not connect the electrodes.
    """

    def __init__(self, domain, transport: Mapping[str, Union[str, TransportParameters]],
                 current_density=None, electrode_current: Optional[ElectrodeCurrent] = None,
                 model: str = "diffusion", kappa: float = 1.0, electrodes: Optional[Sequence[str]] = None,
                 Vm=None, ksp_rtol: float = 1e-9):
        # ---------------- validation (cheap, before any assembly)
        if model not in MODELS:
            raise ParameterError("model", f"must be one of {MODELS}, got {model!r}")
        kappa = require_nonnegative("kappa", kappa)
        require_positive("ksp_rtol", ksp_rtol)
        if not isinstance(transport, Mapping) or not transport:
            raise ParameterError("transport", "must be a non-empty dict region -> TransportParameters")
        params: Dict[str, TransportParameters] = {}
        for r, p in transport.items():
            if r not in domain.regions:
                raise ParameterError(f"transport['{r}']", f"no such region; regions: {sorted(domain.regions)}")
            params[r] = get_transport(p, f"transport['{r}']")
        mags = domain.magnetic_regions
        for r in mags:
            if r not in params:
                raise ParameterError("transport", f"magnetic region '{r}' has no transport parameters "
                                                  f"(conducting regions given: {sorted(params)})")
            if params[r].lambda_J is None:
                raise ParameterError(f"transport['{r}'].lambda_J", "must be given (> 0 m) in a magnetic region")
        for r, p in params.items():
            if r not in mags and (p.lambda_J is not None or p.beta or p.beta_prime):
                raise ParameterError(f"transport['{r}']", "a non-magnetic region must have lambda_J=None, beta=beta_prime=0")
        if (current_density is None) == (electrode_current is None):
            raise ParameterError("current_density", "give exactly one of current_density (prescribed, A/m^2) "
                                                    "and electrode_current (self-consistent)")
        self.electrode_current = electrode_current
        if electrode_current is not None:
            if not isinstance(electrode_current, ElectrodeCurrent):
                raise ParameterError("electrode_current", "must be an ElectrodeCurrent")
            if not np.isfinite(float(electrode_current.current_density)):
                raise ParameterError("electrode_current.current_density", "must be finite [A/m^2]")
            for r, p in params.items():
                if p.sigma is None:
                    raise ParameterError(f"transport['{r}'].sigma", "the self-consistent current needs sigma > 0 [S/m]")
            for g in (electrode_current.source, electrode_current.drain):
                if g not in domain.facet_groups:
                    raise ParameterError("electrode_current", f"facet group '{g}' not in the mesh; "
                                                              f"facet groups: {sorted(domain.facet_groups)}")
            electrodes = (electrode_current.source, electrode_current.drain)
        self._jfun = None
        if current_density is not None:
            self._jfun = vector_of_time("current_density", current_density, "A/m^2")
        if electrodes is None:
            electrodes = tuple(g for g in ("bottom_electrode", "top_electrode") if g in domain.facet_groups)
            electrodes = electrodes if len(electrodes) == 2 else None
        elif len(electrodes) != 2 or any(g not in domain.facet_groups for g in electrodes):
            raise ParameterError("electrodes", f"must name two facet groups of the mesh, got {electrodes!r}; "
                                               f"facet groups: {sorted(domain.facet_groups)}")
        self.domain, self.comm = domain, domain.comm
        self.params, self.model, self.kappa = params, model, (kappa if model == "moment" else 0.0)
        self.regions = list(params)
        mesh = domain.mesh
        self.Vs = Vm if Vm is not None else _compat.function_space(mesh, "CG", 1, shape=(3,))
        self.V1 = _compat.function_space(mesh, "CG", 1)
        cond_cells = domain.cells(self.regions)
        self._active = np.zeros(self.V1.dofmap.index_map.size_local + self.V1.dofmap.index_map.num_ghosts, bool)
        self._active[_compat.locate_dofs_topological(self.V1, 3, cond_cells)] = True
        if electrodes is not None:
            self._check_connected(cond_cells, electrodes)
        self.electrodes = electrodes

        # ---------------- coefficients
        dg = domain.dg0
        D0 = dg({r: p.D0 for r, p in params.items()}, name="D0")
        inv_lsf2 = dg({r: 1.0 / p.lambda_sf**2 for r, p in params.items()})
        inv_lJ2 = dg({r: (0.0 if p.lambda_J is None else 1.0 / p.lambda_J**2) for r, p in params.items()})
        bb = dg({r: p.beta * p.beta_prime for r, p in params.items()})
        c = dg({r: p.polarization_coefficient for r, p in params.items()})
        kap = dg({r: self.kappa for r in mags})
        self._coef = dict(D0=D0, inv_lJ2=inv_lJ2)
        self.m = dolfinx.fem.Function(self.Vs, name="m_transport")
        self.s = dolfinx.fem.Function(self.Vs, name="s")
        self._s_old = dolfinx.fem.Function(self.Vs)
        M = self.m
        # quadrature: the flux terms (P1 gradients, constant per cell, times a function of m) at the
        # cell centroid (degree 1): the diffusion tensor [P(m)(I - beta beta' m m^T)] is taken at the
        # centroid value of m, a second-order approximation that treats both models alike (the moment
        # model's rational P(m) would otherwise need a high degree) and halves the per-step assembly;
        # the reaction terms (s, phi), (s x m, phi) at degree 2 (exact for the mass term)
        dxg = domain.measure(self.regions, metadata={"quadrature_degree": 1})
        dxc = domain.measure(self.regions, metadata={"quadrature_degree": 2})
        others = [r for r in domain.regions if r not in params]
        # facets on the boundary of the conductor, tagged 1; 2 = source, 3 = drain (self-consistent)
        ftags = self._conductor_boundary(cond_cells, electrode_current)
        dS = ufl.Measure("dS", domain=mesh, subdomain_data=ftags)
        ds = ufl.Measure("ds", domain=mesh, subdomain_data=ftags)
        n = ufl.FacetNormal(mesh)
        # the conductor (not the air) side of an interior boundary facet: the other side has c = sigma = 0
        self._scale = dolfinx.fem.Constant(mesh, PETSc.ScalarType(1.0))
        self._inv_dt = dolfinx.fem.Constant(mesh, PETSc.ScalarType(0.0))
        P = moment_projector(M, kap) if model == "moment" else ufl.Identity(3)
        sc = self._scale
        zero = dolfinx.fem.Constant(mesh, PETSc.ScalarType(0.0))

        def reaction(s_, phi):
            return (2 * D0 * inv_lsf2 * ufl.inner(s_, phi) + 2 * D0 * inv_lJ2 * ufl.inner(ufl.cross(s_, M), phi)) * dxc

        if electrode_current is None:
            self.je = dolfinx.fem.Constant(mesh, PETSc.ScalarType((0.0, 0.0, 0.0)))
            s_, phi = ufl.TrialFunction(self.Vs), ufl.TestFunction(self.Vs)
            G = ufl.grad(s_)
            Rd = -2 * D0 * (G - bb * ufl.outer(M, ufl.dot(G.T, M)))
            a_ss = -ufl.inner(ufl.dot(P, Rd), ufl.grad(phi)) * dxg + reaction(s_, phi)
            mass = ufl.inner(s_, phi) * dxc
            a = sc * (a_ss + self._inv_dt * mass)
            # the pattern (created once) needs a diagonal on every row; re-assembly loops only the
            # conductor's cells and puts 1 on the diagonal of the inactive rows (bcs)
            a_pattern = a + zero * ufl.inner(s_, phi) * domain.measure(others) if others else a
            je = self.je
            L = sc * (ufl.inner(ufl.dot(P, c * ufl.outer(M, je)), ufl.grad(phi)) * dxg
                      - (c("+") * ufl.dot(je, n("+")) + c("-") * ufl.dot(je, n("-"))) * ufl.inner(M("+"), phi("+")) * dS(1)
                      - c * ufl.dot(je, n) * ufl.inner(M, phi) * ds(1)
                      + self._inv_dt * ufl.inner(self._s_old, phi) * dxc)
            inactive = np.flatnonzero(~self._active).astype(np.int32)
            self._bcs = [dolfinx.fem.dirichletbc(dolfinx.fem.Function(self.Vs), inactive)]
            self._a, self._L = _compat.form(a), _compat.form(L)
            self.A = _compat.create_matrix(_compat.form(a_pattern), blocked=True)
            self.b = dolfinx.fem.petsc.create_vector(self._L)  # ghosted, as the assembler expects
            self.V = None
        else:
            self.je = None
            self.V = dolfinx.fem.Function(self.V1, name="V")
            sigma = dg({r: p.sigma for r, p in params.items()}, name="sigma")
            bprime_D0 = dg({r: p.beta_prime * p.D0 for r, p in params.items()})
            s_, phi = ufl.TrialFunction(self.Vs), ufl.TestFunction(self.Vs)
            V_, psi = ufl.TrialFunction(self.V1), ufl.TestFunction(self.V1)
            G = ufl.grad(s_)
            E = -ufl.grad(V_)
            k_q = 2 * bprime_D0 * Q_E / MU_B
            jin = dolfinx.fem.Constant(mesh, PETSc.ScalarType(electrode_current.current_density))
            self._jin = jin

            def bnd(expr_plus, expr_minus, expr_ext, tag):
                return expr_plus * dS(tag) + expr_minus * dS(tag) + expr_ext * ds(tag)

            # spin equation; boundary term c sigma (E . n) m . phi on all conductor boundary facets but the source
            a_ss = -ufl.inner(ufl.dot(P, -2 * D0 * G), ufl.grad(phi)) * dxc + reaction(s_, phi) + \
                self._inv_dt * ufl.inner(s_, phi) * dxc
            flux_E = []
            for tag in (1, 3):
                flux_E.append(bnd((c * sigma)("+") * ufl.dot(E("+"), n("+")) * ufl.inner(M("+"), phi("+")),
                                  (c * sigma)("-") * ufl.dot(E("-"), n("-")) * ufl.inner(M("-"), phi("-")),
                                  c * sigma * ufl.dot(E, n) * ufl.inner(M, phi), tag))
            a_sV = -ufl.inner(ufl.dot(P, c * sigma * ufl.outer(M, E)), ufl.grad(phi)) * dxc + sum(flux_E)
            # charge: (sigma grad V, grad psi) + (2 beta' D0 Q_E/mu_B (grad s)^T m, grad psi) = <j_in, psi>_source
            a_VV = sigma * ufl.inner(ufl.grad(V_), ufl.grad(psi)) * dxc
            a_Vs = k_q * ufl.inner(ufl.dot(G.T, M), ufl.grad(psi)) * dxc
            # source face: known E.n = -j_in / sigma (grad s . n = 0 there)
            L_s = (c("+") + c("-")) * jin * ufl.inner(M("+"), phi("+")) * dS(2) + c * jin * ufl.inner(M, phi) * ds(2) \
                + self._inv_dt * ufl.inner(self._s_old, phi) * dxc
            chi = dg({r: 1.0 for r in self.regions})
            L_V = (chi("+") + chi("-")) * jin * psi("+") * dS(2) + jin * psi * ds(2)
            a = [[sc * a_ss, sc * a_sV], [sc * a_Vs, sc * a_VV]]
            a_pattern = a
            if others:
                a_pattern = [[a[0][0] + zero * ufl.inner(s_, phi) * domain.measure(others), a[0][1]],
                             [a[1][0], a[1][1] + zero * V_ * psi * domain.measure(others)]]
            L = [sc * L_s, sc * L_V]
            inactive_s = np.flatnonzero(~self._active).astype(np.int32)
            drain_facets = domain.facets(electrode_current.drain)
            drain_dofs = _compat.locate_dofs_topological(self.V1, 2, drain_facets)
            inactive_V = np.union1d(np.flatnonzero(~self._active), drain_dofs).astype(np.int32)
            self._bcs = [dolfinx.fem.dirichletbc(dolfinx.fem.Function(self.Vs), inactive_s),
                         dolfinx.fem.dirichletbc(dolfinx.fem.Function(self.V1), inactive_V)]
            self._a = _compat.form(a)
            self._L = _compat.form(L)
            self.A = dolfinx.fem.petsc.create_matrix_block(_compat.form(a_pattern))
            self.b = dolfinx.fem.petsc.create_vector_block(self._L)
        self._x = self.A.createVecRight()
        # scale so that the stiffness entries are O(1) (SI values on nm meshes are ~1e-11)
        h = (domain.volume(self.regions) / max(1, self.comm.allreduce(len(cond_cells), op=MPI.SUM))) ** (1 / 3)
        self._scale.value = 1.0 / (2.0 * max(p.D0 for p in params.values()) * h)
        self.ksp = PETSc.KSP().create(self.comm)
        self.ksp.setOperators(self.A)
        self.ksp.setType("gmres")
        self.ksp.setTolerances(rtol=ksp_rtol, atol=1e-300, max_it=1000)
        self.ksp.setGMRESRestart(100)
        self.ksp.getPC().setType("bjacobi" if self.comm.size > 1 else "ilu")
        self.ksp.setInitialGuessNonzero(True)
        self.timings = {"assembly": 0.0, "solve": 0.0}
        self._stale, self._assembled_inv_dt = True, None  # the operator has not been assembled yet
        self.iterations = 0
        self.t = 0.0

    # ------------------------------------------------------------------ checks
    def _check_connected(self, cond_cells, electrodes):
        dom = self.domain
        a, b = electrodes
        dofs_a = _compat.locate_dofs_topological(self.V1, 2, dom.facets(a))
        dofs_b = _compat.locate_dofs_topological(self.V1, 2, dom.facets(b))
        no = self.V1.dofmap.index_map.size_local
        for g, d in ((a, dofs_a), (b, dofs_b)):
            touching = self.comm.allreduce(int(self._active[d[d < no]].any()) if len(d) else 0, op=MPI.MAX)
            if not touching:
                raise MeshError(f"electrode '{g}' does not touch the conducting regions {self.regions}: "
                                "no current path between the electrodes")
        reach = _vertex_label_spread(dom, cond_cells, dofs_a, self.V1)
        ok = self.comm.allreduce(int(reach[dofs_b[dofs_b < no]].any()) if len(dofs_b) else 0, op=MPI.MAX)
        if not ok:
            raise MeshError(f"the conducting regions {self.regions} do not connect the electrodes '{a}' and '{b}': "
                            "no current path")

    def _conductor_boundary(self, cond_cells, electrode_current):
        """MeshTags on facets: 1 = boundary of the conductor, 2 = source, 3 = drain facets."""
        mesh = self.domain.mesh
        tdim = mesh.topology.dim
        mesh.topology.create_connectivity(tdim - 1, tdim)
        f2c = mesh.topology.connectivity(tdim - 1, tdim)
        ncell = mesh.topology.index_map(tdim).size_local + mesh.topology.index_map(tdim).num_ghosts
        is_c = np.zeros(ncell, bool)
        is_c[cond_cells] = True
        counts = np.diff(f2c.offsets)
        links = f2c.array
        first = links[f2c.offsets[:-1]]
        second = np.where(counts == 2, links[np.minimum(f2c.offsets[:-1] + 1, len(links) - 1)], first)
        n_c = is_c[first].astype(int) + np.where(counts == 2, is_c[second], 0)
        # owned facets only: with shared-facet ghosting both cells of an owned interior facet are
        # local, while a ghost facet may see only one of its cells (it is not exterior)
        n_owned_f = mesh.topology.index_map(tdim - 1).size_local
        bnd = np.flatnonzero(n_c[:n_owned_f] == 1).astype(np.int32)
        values = np.ones(len(bnd), dtype=np.int32)
        if electrode_current is not None:
            values[np.isin(bnd, self.domain.facets(electrode_current.source))] = 2
            values[np.isin(bnd, self.domain.facets(electrode_current.drain))] = 3
        return dolfinx.mesh.meshtags(mesh, tdim - 1, bnd, values)

    # ------------------------------------------------------------------ solves
    def current_at(self, t: float) -> np.ndarray:
        """Prescribed j_e(t) [A/m^2], shape (3,) (ParameterError if the function misbehaves)."""
        return self._jfun(t)

    def set_current(self, current_density):
        """Replace the prescribed current density (3-vector [A/m^2] or function of t)."""
        if self.electrode_current is not None:
            raise ParameterError("current_density", "this solver uses a self-consistent electrode current")
        self._jfun = vector_of_time("current_density", current_density, "A/m^2")

    def _set_m(self, m):
        """Copy m into the forms' coefficient; note whether the operator must be re-assembled
        (m or 1/dt changed since the last assembly: then PETSc also refactors the ILU)."""
        arr = m.x.array if hasattr(m, "x") else np.asarray(m).ravel()
        same = np.array_equal(self.m.x.array[: len(arr)], arr)
        self.m.x.array[: len(arr)] = arr
        self.m.x.scatter_forward()
        self._stale = self._stale or self.comm.allreduce(int(not same), op=MPI.MAX) > 0

    def _assemble_solve(self, t):
        t0 = time.perf_counter()
        if self._jfun is not None:
            self.je.value[:] = self.current_at(t)
        stale = self._stale or self._assembled_inv_dt != float(self._inv_dt.value)
        self._stale, self._assembled_inv_dt = False, float(self._inv_dt.value)
        if self.electrode_current is None:
            if stale:
                _compat.assemble_matrix_into(self.A, self._a, self._bcs)
            _compat.assemble_vector_into(self.b, self._L, self._bcs)
            self._x.array[:] = self.s.vector.array
        else:
            if stale:
                self.A.zeroEntries()
                dolfinx.fem.petsc.assemble_matrix_block(self.A, self._a, bcs=self._bcs)
                self.A.assemble()
            with self.b.localForm() as loc:
                loc.set(0.0)
            dolfinx.fem.petsc.assemble_vector_block(self.b, self._L, self._a, bcs=self._bcs)
            ns = self.s.vector.getLocalSize()
            self._x.array[:ns] = self.s.vector.array
            self._x.array[ns:] = self.V.vector.array
        t1 = time.perf_counter()
        self.ksp.solve(self.b, self._x)
        t2 = time.perf_counter()
        self.timings["assembly"] += t1 - t0
        self.timings["solve"] += t2 - t1
        reason = self.ksp.getConvergedReason()
        self.iterations = self.ksp.getIterationNumber()
        if reason <= 0:
            raise SolverError(f"spin-transport GMRES did not converge: {KSP_REASONS.get(reason, reason)} "
                              f"after {self.iterations} iterations")
        if self.electrode_current is None:
            self.s.vector.array[:] = self._x.array
        else:
            ns = self.s.vector.getLocalSize()
            self.s.vector.array[:] = self._x.array[:ns]
            self.V.vector.array[:] = self._x.array[ns:]
            self.V.x.scatter_forward()
        self.s.x.scatter_forward()

    def solve(self, m, t: float = 0.0) -> dolfinx.fem.Function:
        """Steady spin accumulation for the magnetization ``m`` (a Function on a vector P1
        space with the same layout as ``Vs``, unit on the magnets, 0 elsewhere) and the
        current at time t [s]. Returns ``s`` [A/m]. Raises SolverError if GMRES fails."""
        self._set_m(m)
        self._inv_dt.value = 0.0
        self._assemble_solve(t)
        return self.s

    def step(self, m, dt: float, t: Optional[float] = None) -> dolfinx.fem.Function:
        """One implicit-Euler step of the transient equation from the current ``s`` over dt [s]."""
        require_positive("dt", dt, "s")
        self._set_m(m)
        self._s_old.x.array[:] = self.s.x.array
        self._inv_dt.value = 1.0 / dt
        self._assemble_solve(self.t + dt if t is None else t)
        self.t += dt
        return self.s

    def step_crank_nicolson(self, m, dt: float) -> dolfinx.fem.Function:
        """One Crank-Nicolson step (second order) of the transient equation over dt [s],
        written as an implicit-Euler half step followed by extrapolation: s^{n+1} = 2 s^{n+1/2} - s^n."""
        s_n = self.s.x.array.copy()
        self.step(m, 0.5 * dt, t=self.t + 0.5 * dt)
        self.t += 0.5 * dt
        self.s.x.array[:] = 2.0 * self.s.x.array - s_n
        return self.s

    # ------------------------------------------------------------------ derived quantities
    def sd_weights(self, mv) -> np.ndarray:
        """Lumped s-d coupling weights w_i = mu0 int (2 D0 / lambda_J^2) / gamma0 phi_i over the
        magnets [J m / A]; the LLG nodal force is F_i = w_i s_i (H_sd = J_sd s / (hbar gamma0 Ms))."""
        from ..llg.field import _lumped
        gamma0 = self.domain.dg0({r: m.gamma0 for r, m in self.domain.materials.items()}, default=1.0)
        return MU0 * _lumped(mv.V1, 2 * self._coef["D0"] * self._coef["inv_lJ2"] / gamma0, mv.dxm)

    def torque_density(self, region: str) -> np.ndarray:
        """int_region -(2 D0/lambda_J^2) m x s dx  [A m^2 / s]: the rate of change of the
        region's magnetic moment caused by the s-d coupling (Ms dm/dt integrated), (3,)."""
        D0, il = self._coef["D0"], self._coef["inv_lJ2"]
        dx = self.domain.measure(region)
        out = np.zeros(3)
        for k in range(3):
            f = _compat.form(-2 * D0 * il * ufl.cross(self.m, self.s)[k] * dx)
            out[k] = self.comm.allreduce(dolfinx.fem.assemble_scalar(f), op=MPI.SUM)
        return out
