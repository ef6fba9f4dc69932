"""Real-energy (Fermi-surface) quantities from lead-resolved spectral factors.

At a real energy E (Xu et al., PRB 108, 144409 (2023), eqs. 11, 33, A1-A3, 40; negf_llg.md Sec. 1.2, 1.8):

    A_a = G^r Gamma_a G^a = W_a W_a^+,   W_a = G^r_{:, a} U_a sqrt(gamma_a)   (Gamma_a = U_a gamma_a U_a^+),
    A = sum_a A_a,  LDOS_n = Tr_s A_nn / 2 pi,  T_{b<-a} = Tr[Gamma_b G^r Gamma_a G^a] = ||W_b'^+ ... ||,
    G^< = i sum_a f_a A_a (frozen),  s_n = (1/2) Tr_s[sigma rho_nn],  rho = -i int dE/2pi G^<,

so every product of spectral functions (Kubo damping, pumped spin density, emissivities) needs only the
block columns of G^r at the lead slices (RGF), never the full (2N)^2 matrix: Tr[A O A X] =
Tr[(W^+ O W)(W^+ X W)] with W = [W_L, W_R] of size 2N x (open channels).

Currents (eqs. A2, A3): the particle-current matrix into the device from lead a,
I_op^a = int dE/2pi [G^r Sigma_a^< + G^< Sigma_a^a + h.c.], charge current I_c = -q Tr I_op,
spin current I_s = -(1/2) Tr[sigma I_op] (the sign convention is that of the paper; see
:func:`lead_currents`).
"""
from __future__ import annotations

from typing import Dict, Optional

import numpy as np

from ...errors import ParameterError
from .greens import rgf
from .lattice import TightBinding
from .leads import ID2, SIGMA

_CHANNEL_TOL = 1e-12


def _spin_op(ny: int, P2) -> np.ndarray:
    return np.kron(np.eye(ny), P2)


SPIN_UP = 0.5 * (ID2 + SIGMA[2])
SPIN_DOWN = 0.5 * (ID2 - SIGMA[2])


def channel_factor(lead, E: float):
    """(Gamma, U) with Gamma = U U^+ over the open channels (eigenvalues above a relative 1e-12) of a lead at E;
    cached on the lead object for repeated energies."""
    cache = lead.__dict__.setdefault("_channels", {})
    if E not in cache:
        if len(cache) > 32:
            cache.clear()
        Ga = lead.gamma(E)
        Ga = 0.5 * (Ga + Ga.conj().T)
        w, U = np.linalg.eigh(Ga)
        keep = w > _CHANNEL_TOL * max(1.0, w.max(initial=0.0))
        cache[E] = (Ga, U[:, keep] * np.sqrt(w[keep]))
    return cache[E]


class FermiSurface:
    """Spectral factors of ``system`` at one real energy ``E`` (one RGF pass).

    Attributes
    ----------
    E : energy [t]
    W : dict lead -> (2N, r_a) complex, A_a = W_a W_a^+ (r_a: open channels of lead a)
    G_lead : dict lead -> (nx, 2ny, 2ny) the block column G^r_{i, slice(a)}
    gamma : dict lead -> (2ny, 2ny) Gamma_a(E)

    ``rows``: also the block rows G_{slice(a), :} (emissivities); ``extra_slices``: slices whose block column of
    A is prepared in the same RGF pass (gates, :meth:`spectral_columns`).

    Raises ParameterError if the system has no leads (transport needs leads) or E is not real.
    """

    def __init__(self, system: TightBinding, E: float, slices=None, rows: bool = False, extra_slices=()):
        if not system.lead_names:
            raise ParameterError("leads", "a transport quantity needs at least one lead; the lattice has none")
        E = np.asarray(E)
        if E.ndim != 0 or np.iscomplexobj(E) or not np.isfinite(E):
            raise ParameterError("E", f"must be one finite real energy, got {E!r}")
        self.system, self.E = system, float(E)
        self._slices = system.slice_hamiltonians() if slices is None else slices
        self._acols, self._adiag = {}, None
        extra = [int(k) for k in extra_slices]
        leads = list(system.lead_names)
        r = rgf(system, self.E, diag=False, columns=leads + extra, rows=(leads if rows else []) + extra,
                slices=self._slices)
        self.G_lead = {a: r.columns[a] for a in leads}
        self.G_row = {a: r.rows[a] for a in leads} if rows else {}
        self._cache_acols(r, extra)
        self.gamma, self.W, self.U = {}, {}, {}
        N2 = system.n_orbitals
        for a in system.lead_names:
            self.gamma[a], self.U[a] = channel_factor(system.leads[a], self.E)
            self.W[a] = self.G_lead[a].reshape(N2, -1) @ self.U[a]

    # ------------------------------------------------------------------ spectral
    def factor(self, leads=None) -> np.ndarray:
        """W = [W_a for a in leads] (2N, r): A (summed over those leads) = W W^+. With a broadening eta > 0 the
        bath adds eta G G^+ to A, which W does not hold: ParameterError for leads=None then."""
        if leads is None and self.system.broadening > 0:
            raise ParameterError("broadening", "the total spectral function is not W W^+ with a bath (eta > 0); "
                                               "use spectral_columns or the lead factors")
        names = self.system.lead_names if leads is None else list(leads)
        return np.concatenate([self.W[a] for a in names], axis=1)

    def spectral_function(self, lead: Optional[str] = None) -> np.ndarray:
        """Dense A (or A_a), (2N, 2N). Only for small systems."""
        if lead is None and self.system.broadening > 0:
            from .greens import greens_function
            G = greens_function(self.system, self.E)
            return 1j * (G - G.conj().T)
        W = self.factor(None if lead is None else [lead])
        return W @ W.conj().T

    def spectral_columns(self, slices) -> np.ndarray:
        """Block columns of the total spectral function A_{:, k} = i (G_{:,k} - G_{k,:}^+) for the given slice
        indices, stacked: (2N, 2 ny len(slices)) (bath included)."""
        ks = [int(k) for k in slices]
        missing = [k for k in ks if k not in self._acols]
        if missing:
            self._cache_acols(rgf(self.system, self.E, diag=False, columns=missing, rows=missing,
                                  slices=self._slices), missing)
        return np.concatenate([self._acols[k] for k in ks], axis=1)

    def _cache_acols(self, r, ks):
        N2 = self.system.n_orbitals
        for k in ks:
            Gc = r.columns[k].reshape(N2, -1)
            Gr = np.swapaxes(r.rows[k], 0, 1).reshape(-1, N2)  # (m, 2N): G_{k,:}
            self._acols[k] = 1j * (Gc - Gr.conj().T)

    def _diag_A(self) -> np.ndarray:
        """Site 2x2 blocks of A, (N, 2, 2)."""
        if self.system.broadening == 0:
            return self.site_blocks(self.factor())
        if self._adiag is None:
            D = rgf(self.system, self.E, diag=True, columns=False, slices=self._slices).diag  # (nx, m, m)
            Ad = 1j * (D - np.swapaxes(D, -1, -2).conj())
            ny = self.system.ny
            self._adiag = np.array([[Ad[x, 2 * y:2 * y + 2, 2 * y:2 * y + 2] for y in range(ny)]
                                    for x in range(self.system.nx)]).reshape(-1, 2, 2)
        return self._adiag

    def site_blocks(self, W: np.ndarray, Q: Optional[np.ndarray] = None) -> np.ndarray:
        """2x2 diagonal blocks (W Q W^+)_nn of every site, (N, 2, 2) (Q = 1 if None)."""
        N = self.system.n_sites
        Y = (W if Q is None else W @ Q).reshape(N, 2, -1)
        Z = W.conj().reshape(N, 2, -1)
        return np.stack([np.stack([np.sum(Y[:, a] * Z[:, b], axis=-1) for b in (0, 1)], -1) for a in (0, 1)], -2)

    def ldos(self, spin=None) -> np.ndarray:
        """Local density of states per site (sum of both spins, or one spin 'up'/'down' along z),
        (nx, ny) [1/t]: Tr_s[A_nn] / 2 pi (scattering states only; bound states are not at real E)."""
        B = self._diag_A()
        P = {None: ID2, "up": SPIN_UP, "down": SPIN_DOWN}[spin]
        return (np.einsum("ab,nba->n", P, B).real / (2 * np.pi)).reshape(self.system.nx, self.system.ny)

    def dos(self) -> float:
        """Density of states of the central region Tr A / 2 pi [1/t]."""
        return float(self.ldos().sum())

    def spin_ldos(self) -> np.ndarray:
        """Spin-resolved spectral density (1/2) Tr_s[sigma A_nn]/2 pi, (nx, ny, 3)."""
        B = self._diag_A()
        return (0.5 * np.einsum("iab,nba->ni", SIGMA, B).real / (2 * np.pi)).reshape(self.system.nx,
                                                                                    self.system.ny, 3)

    # ------------------------------------------------------------------ transmission
    def transmission(self, to: str = "right", frm: str = "left", spin_to=None, spin_from=None) -> float:
        """T_{to <- frm} = Tr[Gamma_to P G^r P' Gamma_frm G^a] with optional z-spin projectors P (outgoing,
        ``spin_to``) and P' (incoming, ``spin_from``) in 'up'/'down' (normal leads)."""
        for nm in (to, frm):
            if nm not in self.system.leads:
                raise ParameterError("lead", f"unknown lead {nm!r}; leads: {self.system.lead_names}")
        ny = self.system.ny
        Gba = self.G_lead[frm][self.system.lead_slice(to)]
        Pt = _spin_op(ny, {None: ID2, "up": SPIN_UP, "down": SPIN_DOWN}[spin_to])
        Pf = _spin_op(ny, {None: ID2, "up": SPIN_UP, "down": SPIN_DOWN}[spin_from])
        X = self.gamma[to] @ Pt @ Gba @ Pf @ self.gamma[frm] @ Pf @ Gba.conj().T @ Pt
        return float(np.trace(X).real)

    # ------------------------------------------------------------------ products
    def expectation_sites(self, W: np.ndarray, Q: np.ndarray) -> np.ndarray:
        """Re Tr[sigma_i (W Q W^+)_nn] and Re Tr[(W Q W^+)_nn] per site: (N, 4), columns (1, x, y, z)."""
        B = self.site_blocks(W, Q)
        ops = np.concatenate([ID2[None], SIGMA])
        return np.einsum("iab,nba->ni", ops, B).real

    def projector_matrix(self, W: np.ndarray, weights: np.ndarray, op2=None) -> np.ndarray:
        """W^+ (op2 x diag(weights)) W, (r, r): a site-diagonal operator (weights per site, (N,)) in channel space."""
        N = self.system.n_sites
        idx = np.flatnonzero(weights)
        Wn = W.reshape(N, 2, -1)[idx]  # only the sites where the operator acts
        if op2 is not None:
            Y = np.einsum("ab,nbs->nas", op2, Wn)
        else:
            Y = Wn
        Y = Y * weights[idx, None, None]
        return Wn.reshape(-1, Wn.shape[-1]).conj().T @ Y.reshape(-1, Y.shape[-1])


def lead_currents(system: TightBinding, mu: Dict[str, float], n_energy: int = 64) -> Dict[str, dict]:
    """Frozen charge and spin currents of every lead at T = 0 under a bias (eqs. A2, A3).

    ``mu``: chemical potential of each lead. The Fermi sea below min(mu) carries no current in the
    frozen (static) limit, so the energy integral of I_op^a runs over the bias window only
    (Gauss-Legendre, ``n_energy`` points). Returns lead -> {"particle": Tr I_op^a, "spin": -(1/2)
    Tr[sigma I_op^a] (3,)}: Tr I_op^a is the particle current flowing from lead a into the device
    (the charge current of eq. A3 is -q times it).
    """
    names = system.lead_names
    if not names:
        raise ParameterError("leads", "currents need leads; the lattice has none")
    for a in names:
        if a not in mu:
            raise ParameterError("mu", f"missing the chemical potential of lead {a!r}")
    lo, hi = min(mu[a] for a in names), max(mu[a] for a in names)
    out = {a: {"particle": 0.0, "spin": np.zeros(3)} for a in names}
    if hi == lo:
        return out
    x, w = np.polynomial.legendre.leggauss(n_energy)
    Es = 0.5 * (hi - lo) * x + 0.5 * (hi + lo)
    ws = 0.5 * (hi - lo) * w
    ops = np.concatenate([ID2[None], SIGMA])
    m = 2 * system.ny
    slices = system.slice_hamiltonians()
    for E, wt in zip(Es, ws):
        fs = FermiSurface(system, E, slices=slices)
        occ = {a: 1.0 if E < mu[a] else 0.0 for a in names}
        for a in names:
            k = system.lead_slice(a)
            Gkk = fs.G_lead[a][k]
            Sig = system.leads[a].self_energy(E)
            # G^<_kk = i sum_b f_b (W_b W_b^+)_kk relative to the sea below lo (f = 0 there)
            Gl = sum(1j * occ[b] * fs.W[b][k * m:(k + 1) * m] @ fs.W[b][k * m:(k + 1) * m].conj().T for b in names)
            X = Gkk @ (1j * occ[a] * fs.gamma[a]) + Gl @ Sig.conj().T
            Iop = X + X.conj().T
            for i, O in enumerate(ops):
                val = np.trace(np.kron(np.eye(system.ny), O) @ Iop).real * wt / (2 * np.pi)
                if i == 0:
                    out[a]["particle"] += val
                else:
                    out[a]["spin"][i - 1] += -0.5 * val
    return out
