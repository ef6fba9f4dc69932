"""Spinful tight-binding lattices with classical moments (the device of Xu et al., PRB 108, 144409 (2023)).

Single-particle Hamiltonian of the central region (eqs. 3, 4, 32, A5 of the paper; negf_llg.md Sec. 1.1),
in units of the hopping t, hbar = 1:

    h = sum_n [e_n + V_n] 1 + sum_n Delta_n sigma.m_n + sigma.b/2
        - t sum_<nn'> c_n^+ c_n' + i lambda sum_<nn'> c_n^+ [(sigma x d_nn')_z] c_n'

with d_nn' = r_n - r_n' the bond vector (Rashba spin-orbit hopping, a t^SO of eq. 4 with
t^SO_nm = -t^SO_mn), Delta_n the exchange splitting of site n (Delta = J M / 2 for the paper's
J s.M with s = sigma/2 (eq. A5, b = J M); Delta = J for the skyrmion's J sigma.m_i of Sec. V),
b = gamma_e B the Zeeman field (energy) and V_n gate potentials. Sites form an nx x ny square lattice
(ny = 1: a chain; nx = ny = 1: a single site), r_n = (ix, iy); the transport direction is x. Orbital
index 2 (ix ny + iy) + spin, spin fastest (Kwant's order). Slice ix (a column) holds the 2 ny
orbitals of that x; leads attach to slice 0 (left) and slice nx - 1 (right).

The moments m_n are unit vectors (classical spins of length M, the spin convention of the paper:
dE/dm_n = <dh/dm_n> = Delta_n <sigma>_n, eq. 12).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Optional

import numpy as np

from ...errors import ParameterError
from .leads import ID2, SIGMA, Lead

# Pauli matrices used in hopping terms
_SX, _SY = SIGMA[0], SIGMA[1]


def check_moments(m, shape, name: str = "moments") -> np.ndarray:
    """Moments as an array (nx, ny, 3) of unit vectors; ParameterError for NaN, zero or wrong shape.

    Accepts (nx*ny, 3), (nx, ny, 3) or one 3-vector for all sites; rows are normalized."""
    nx, ny = shape
    a = np.asarray(m, dtype=float)
    if a.shape == (3,):
        a = np.broadcast_to(a, (nx, ny, 3)).copy()
    elif a.shape == (nx * ny, 3):
        a = a.reshape(nx, ny, 3).copy()
    if a.shape != (nx, ny, 3):
        raise ParameterError(name, f"must have shape ({nx}, {ny}, 3), ({nx * ny}, 3) or (3,), got {np.shape(m)}")
    if not np.all(np.isfinite(a)):
        raise ParameterError(name, "contains NaN or inf")
    nrm = np.linalg.norm(a, axis=-1)
    if np.any(nrm < 1e-12):
        raise ParameterError(name, "contains a zero vector (moments must have unit length)")
    return a / nrm[..., None]


def _site_array(name, value, shape) -> np.ndarray:
    if np.iscomplexobj(value) and np.any(np.imag(value) != 0):
        raise ParameterError(name, "must be real: a complex onsite term makes h non-Hermitian "
                                   "(use a lead or a WideBandLead for broadening)")
    a = np.asarray(np.real(value), dtype=float)
    try:
        a = np.broadcast_to(a, shape).copy()
    except ValueError:
        raise ParameterError(name, f"must be a number or an array of shape {shape}, got shape {np.shape(value)}") \
            from None
    if not np.all(np.isfinite(a)):
        raise ParameterError(name, "contains NaN or inf")
    return a


@dataclass
class TightBinding:
    """The central region: an nx x ny spinful square lattice with moments, leads and gates.

    Parameters
    ----------
    nx, ny : lattice size (sites along x = transport, and across)
    onsite : e_n [t], number or (nx, ny)
    hopping : t > 0 (the Hamiltonian has -t between nearest neighbours)
    exchange : Delta_n [t], number or (nx, ny): h contains Delta_n sigma.m_n
    moments : m_n, (nx, ny, 3) / (nx*ny, 3) / (3,), unit vectors (normalized here)
    rashba : lambda [t], Rashba spin-orbit hopping (see module docstring)
    zeeman : b = gamma_e B [t], 3-vector: h contains sigma.b/2
    leads : dict "left"/"right" -> :class:`~.leads.Lead` of width ny (for nx = 1 both attach to the site)
    gates : dict name -> (nx, ny) array of gate profiles P_k (h contains sum_k X_k P_k; X_k set by
        :meth:`with_gates`), e.g. a whole column
    gate_values : dict name -> X_k [t]
    broadening : eta >= 0 [t], a wide-band bath on every orbital, Sigma_bath = -i eta/2 (a phenomenological
        relaxation rate, not in the paper; 0 by default). It bounds the spectral weight of quasi-bound states.

    Raises ParameterError for non-positive sizes or hopping, non-finite values, lead widths that do not
    match ny, NaN moments.
    """

    nx: int
    ny: int = 1
    onsite: object = 0.0
    hopping: float = 1.0
    exchange: object = 0.0
    moments: object = (0.0, 0.0, 1.0)
    rashba: float = 0.0
    zeeman: object = (0.0, 0.0, 0.0)
    leads: Dict[str, Lead] = field(default_factory=dict)
    gates: Dict[str, np.ndarray] = field(default_factory=dict)
    gate_values: Dict[str, float] = field(default_factory=dict)
    broadening: float = 0.0

    def __post_init__(self):
        for nm in ("nx", "ny"):
            v = getattr(self, nm)
            if int(v) != v or v < 1:
                raise ParameterError(nm, f"must be an integer >= 1, got {v!r}")
        self.nx, self.ny = int(self.nx), int(self.ny)
        shape = (self.nx, self.ny)
        self.onsite = _site_array("onsite", self.onsite, shape)
        self.exchange = _site_array("exchange", self.exchange, shape)
        self.moments = check_moments(self.moments, shape)
        if not (np.isfinite(self.hopping) and self.hopping > 0):
            raise ParameterError("hopping", f"must be > 0 and finite, got {self.hopping!r}")
        if not (np.isfinite(self.broadening) and self.broadening >= 0):
            raise ParameterError("broadening", f"must be >= 0 and finite, got {self.broadening!r}")
        self.broadening = float(self.broadening)
        if not np.isfinite(self.rashba):
            raise ParameterError("rashba", f"must be finite, got {self.rashba!r}")
        zb = np.asarray(self.zeeman, dtype=float)
        if zb.shape != (3,) or not np.all(np.isfinite(zb)):
            raise ParameterError("zeeman", f"must be a finite 3-vector, got {self.zeeman!r}")
        self.zeeman = zb
        for side, lead in self.leads.items():
            if side not in ("left", "right"):
                raise ParameterError("leads", f"keys must be 'left' or 'right', got {side!r}")
            if not isinstance(lead, Lead):
                raise ParameterError(f"leads['{side}']", f"must be a Lead, got {type(lead).__name__}")
            if lead.width != self.ny:
                raise ParameterError(f"leads['{side}']", f"width {lead.width} must equal ny = {self.ny}")
        self.gates = {k: _site_array(f"gates['{k}']", v, shape) for k, v in self.gates.items()}
        for k in self.gate_values:
            if k not in self.gates:
                raise ParameterError("gate_values", f"unknown gate {k!r}; gates: {sorted(self.gates)}")

    # ------------------------------------------------------------------ derived
    @property
    def n_sites(self) -> int:
        return self.nx * self.ny

    @property
    def n_orbitals(self) -> int:
        return 2 * self.nx * self.ny

    @property
    def lead_names(self):
        return [k for k in ("left", "right") if k in self.leads]

    def lead_slice(self, name: str) -> int:
        """Index of the slice (column) a lead is attached to."""
        return 0 if name == "left" else self.nx - 1

    def replace(self, **changes) -> "TightBinding":
        """A copy with some fields changed (moments, gate_values, zeeman, ...), validated again."""
        kw = dict(nx=self.nx, ny=self.ny, onsite=self.onsite, hopping=self.hopping, exchange=self.exchange,
                  moments=self.moments, rashba=self.rashba, zeeman=self.zeeman, leads=self.leads,
                  gates=self.gates, gate_values=self.gate_values, broadening=self.broadening)
        kw.update(changes)
        return TightBinding(**kw)

    def with_gates(self, **values) -> "TightBinding":
        """A copy with gate potentials X_k set (h contains sum_k X_k P_k)."""
        gv = dict(self.gate_values)
        for k, v in values.items():
            if k not in self.gates:
                raise ParameterError("gate_values", f"unknown gate {k!r}; gates: {sorted(self.gates)}")
            if not np.isfinite(v):
                raise ParameterError(f"gate_values['{k}']", f"must be finite, got {v!r}")
            gv[k] = float(v)
        return self.replace(gate_values=gv)

    def potential(self) -> np.ndarray:
        """Scalar onsite potential e_n + sum_k X_k P_k(n), shape (nx, ny)."""
        V = self.onsite.copy()
        for k, x in self.gate_values.items():
            V = V + x * self.gates[k]
        return V

    def site_blocks(self) -> np.ndarray:
        """2x2 onsite blocks of every site, (nx, ny, 2, 2): (e+V) 1 + Delta sigma.m + sigma.b/2."""
        V = self.potential()
        b = self.exchange[..., None] * self.moments + 0.5 * self.zeeman
        return V[..., None, None] * ID2 + np.einsum("xyi,ijk->xyjk", b, SIGMA)

    def hop_x(self) -> np.ndarray:
        """2x2 block h[(ix, iy), (ix+1, iy)] (bond vector d = -x): -t 1 + i lambda sigma_y."""
        return -self.hopping * ID2 + 1j * self.rashba * _SY

    def hop_y(self) -> np.ndarray:
        """2x2 block h[(ix, iy), (ix, iy+1)] (d = -y): -t 1 - i lambda sigma_x."""
        return -self.hopping * ID2 - 1j * self.rashba * _SX

    def slice_hamiltonians(self):
        """(H, V): H (nx, 2ny, 2ny) the slice blocks, V (nx-1, 2ny, 2ny) with V[i] = h[slice i, slice i+1]."""
        nx, ny = self.nx, self.ny
        ons = self.site_blocks()
        H = np.zeros((nx, 2 * ny, 2 * ny), dtype=complex)
        hy = self.hop_y()
        for iy in range(ny):
            H[:, 2 * iy:2 * iy + 2, 2 * iy:2 * iy + 2] = ons[:, iy]
            if iy + 1 < ny:
                H[:, 2 * iy:2 * iy + 2, 2 * iy + 2:2 * iy + 4] = hy
                H[:, 2 * iy + 2:2 * iy + 4, 2 * iy:2 * iy + 2] = hy.conj().T
        V = np.broadcast_to(np.kron(np.eye(ny), self.hop_x()), (max(nx - 1, 0), 2 * ny, 2 * ny)).copy()
        return H, V

    def hamiltonian(self) -> np.ndarray:
        """The dense Hamiltonian h of the central region, (2N, 2N) complex, N = nx ny. Hermitian."""
        H, V = self.slice_hamiltonians()
        m = 2 * self.ny
        h = np.zeros((self.n_orbitals, self.n_orbitals), dtype=complex)
        for i in range(self.nx):
            h[i * m:(i + 1) * m, i * m:(i + 1) * m] = H[i]
            if i + 1 < self.nx:
                h[i * m:(i + 1) * m, (i + 1) * m:(i + 2) * m] = V[i]
                h[(i + 1) * m:(i + 2) * m, i * m:(i + 1) * m] = V[i].conj().T
        return h

    def self_energy(self, z, lead: Optional[str] = None, derivative: bool = False) -> np.ndarray:
        """Dense lead self-energy at one energy z (sum over leads and the bath -i eta/2, or one lead), (2N, 2N);
        d/dz if ``derivative``. ParameterError if Im z < 0."""
        out = np.zeros((self.n_orbitals, self.n_orbitals), dtype=complex)
        if lead is None and not derivative:
            out -= 0.5j * self.broadening * np.eye(self.n_orbitals)
        m = 2 * self.ny
        for name in ([lead] if lead else self.lead_names):
            i = self.lead_slice(name)
            L = self.leads[name]
            out[i * m:(i + 1) * m, i * m:(i + 1) * m] += L.d_self_energy(z) if derivative else L.self_energy(z)
        return out

    def site_operator(self, op2, sites=None) -> np.ndarray:
        """Dense (2N, 2N) operator op2 (2x2) on the given sites (boolean (nx, ny) mask or flat indices; all if None)."""
        w = np.zeros(self.n_sites)
        if sites is None:
            w[:] = 1
        else:
            s = np.asarray(sites)
            if s.dtype == bool:
                w[s.reshape(-1)] = 1
            else:
                w[s] = 1
        return np.kron(np.diag(w), np.asarray(op2, dtype=complex))

    def exchange_derivatives(self) -> np.ndarray:
        """dh/dm_(n,i) = Delta_n sigma_i P_n as the diagonal 2x2 blocks, (N, 3, 2, 2)."""
        return self.exchange.reshape(-1)[:, None, None, None] * SIGMA[None]

    def spectrum_bounds(self):
        """(lo, hi) enclosing the spectrum of the infinite system (device, leads and bound states):
        Gershgorin discs of h widened by the lead couplings, and the lead bands widened likewise.
        ParameterError if a wide-band lead or a broadening is present (the spectrum is unbounded)."""
        if self.broadening > 0:
            raise ParameterError("broadening", "a broadened spectrum has no lower edge: use an imaginary-axis "
                                               "or Ozaki contour")
        h = self.hamiltonian()
        d = np.real(np.diag(h))
        r = np.abs(h).sum(axis=1) - np.abs(np.diag(h))
        lo, hi = float(np.min(d - r)), float(np.max(d + r))
        for name, L in self.leads.items():
            if not hasattr(L, "band"):
                raise ParameterError(f"leads['{name}']", "a wide-band lead has no lower band edge: use an "
                                                         "imaginary-axis or Ozaki contour")
            c = max(L.coupling, L.hopping)
            lo, hi = min(lo - L.coupling, L.band[0] - c), max(hi + L.coupling, L.band[1] + c)
        return lo, hi
