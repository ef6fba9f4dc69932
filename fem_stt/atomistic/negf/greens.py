"""Frozen retarded Green's functions: dense inversion and recursive Green's functions (RGF) along x.

Equation (Xu et al., PRB 108, 144409 (2023), eq. A5; negf_llg.md Sec. 1.2), units of t, hbar = 1:

    G^r(z) = [z - h - Sigma^r(z)]^(-1),   Sigma^r = Sigma_L + Sigma_R (- i eta/2 on every orbital),   Im z >= 0,
    Gamma_a = i (Sigma_a - Sigma_a^+),     A = i (G^r - G^a) = G^r Gamma G^a  (real z),
    G^< = i sum_a f_a G^r Gamma_a G^a (frozen, eq. A1),  dG^r/dz = -G^r (1 - dSigma/dz) G^r.

RGF (slices = columns ix of the lattice, h[i, i+1] = V_i):
left-connected g^L_i = [z - H_i - V_{i-1}^+ g^L_{i-1} V_{i-1}]^(-1) (Sigma_L inside H_0),
right-connected g^R_i = [z - H_i - V_i g^R_{i+1} V_i^+]^(-1) (Sigma_R inside H_{nx-1}), then

    G_ii     = [z - H_i - V_{i-1}^+ g^L_{i-1} V_{i-1} - V_i g^R_{i+1} V_i^+]^(-1)
    G_i,last = g^L_i V_i G_{i+1,last}          G_last,i = G_last,i+1 V_i^+ g^L_i
    G_i,0    = g^R_i V_{i-1}^+ G_{i-1,0}       G_0,i    = G_0,i-1 V_{i-1} g^R_i

(and likewise the block column/row of any slice k), cost O(nx (2 ny)^3) per energy instead of
O((2 nx ny)^3). Energies can be batched. eta = ``TightBinding.broadening``: a wide-band bath on every site
(phenomenological relaxation; 0 in the paper), then A = G Gamma G^+ + eta G G^+.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional

import numpy as np

from ...errors import ParameterError
from .lattice import TightBinding
from .leads import check_energy


def _dag(a):
    return np.swapaxes(a, -1, -2).conj()


def check_hermitian(h: np.ndarray, name: str = "hamiltonian", tol: float = 1e-10) -> np.ndarray:
    """``h`` as a square complex array; ParameterError unless finite and Hermitian to ``tol`` (relative)."""
    h = np.asarray(h, dtype=complex)
    if h.ndim != 2 or h.shape[0] != h.shape[1]:
        raise ParameterError(name, f"must be a square matrix, got shape {h.shape}")
    if not np.all(np.isfinite(h)):
        raise ParameterError(name, "contains NaN or inf")
    scale = max(1.0, float(np.abs(h).max()))
    err = float(np.abs(h - h.conj().T).max())
    if err > tol * scale:
        raise ParameterError(name, f"must be Hermitian (max |h - h^+| = {err:.3g})")
    return h


def retarded_dense(h: np.ndarray, sigma: np.ndarray, z) -> np.ndarray:
    """G^r(z) = [z - h - Sigma]^(-1) for a Hermitian ``h`` (n, n) and self-energy ``sigma`` (n, n).

    ParameterError for a non-Hermitian h or Im z < 0 (eq. A5)."""
    h = check_hermitian(h)
    z = complex(check_energy(z, "z"))
    return np.linalg.inv(z * np.eye(len(h)) - h - sigma)


def greens_function(system: TightBinding, z) -> np.ndarray:
    """Dense frozen G^r(z) of ``system`` (2N, 2N) (eq. A5). ParameterError if Im z < 0."""
    z = complex(check_energy(z, "z"))
    return retarded_dense(system.hamiltonian(), system.self_energy(z), z)


def greens_derivative(system: TightBinding, z, G: Optional[np.ndarray] = None) -> np.ndarray:
    """dG^r/dE = -G^r (1 - dSigma/dE) G^r (dense, (2N, 2N)); the exact first-order memory of
    energy-dependent leads (negf_llg.md Sec. 1.4 erratum to eqs. A4/C3 of the paper)."""
    if G is None:
        G = greens_function(system, z)
    dS = system.self_energy(z, derivative=True)
    return -G @ (np.eye(len(G)) - dS) @ G


@dataclass
class RGFResult:
    """Blocks of G^r from one RGF pass (axis 1 = energies if z was an array).

    diag : (nx, [nz,] m, m) G_ii or None;  columns[key] : (nx, [nz,] m, m) G_{i, k};  rows[key] :
    (nx, [nz,] m, m) G_{k, i}; key = a lead name (k = its slice) or a slice index k;  m = 2 ny.
    """

    z: np.ndarray
    diag: Optional[np.ndarray]
    columns: Dict[object, np.ndarray]
    rows: Dict[object, np.ndarray]


def _keys(system: TightBinding, spec):
    if spec is True:
        return list(system.lead_names)
    if not spec:
        return []
    out = []
    for k in spec:
        if isinstance(k, str):
            if k not in system.leads:
                raise ParameterError("lead", f"unknown lead {k!r}; leads: {system.lead_names}")
        elif int(k) != k or not 0 <= k < system.nx:
            raise ParameterError("slice", f"must be a lead name or a slice index in [0, {system.nx}), got {k!r}")
        out.append(k)
    return out


def rgf(system: TightBinding, z, diag: bool = True, columns=True, rows=False, slices=None) -> RGFResult:
    """Recursive Green's functions of ``system`` at energy ``z`` (scalar or 1-D array, Im z >= 0).

    ``columns`` / ``rows``: True (all leads), False, or an iterable of lead names and slice indices k whose
    block column G_{:,k} / block row G_{k,:} is wanted. ``slices``: optional (H, V) from
    :meth:`TightBinding.slice_hamiltonians` (re-use across calls). Returns :class:`RGFResult`;
    ParameterError if Im z < 0 or a key is unknown. See the module docstring for the recursions.
    """
    z = check_energy(z, "z")
    scalar = z.ndim == 0
    zz = np.atleast_1d(z)
    H, V = system.slice_hamiltonians() if slices is None else slices
    nx, m = H.shape[0], H.shape[1]
    I = np.eye(m)
    # z - H_i - Sigma_bath per slice and energy, with the lead self-energies on their slices
    A = zz[None, :, None, None] * I - H[:, None] + 0.5j * system.broadening * I
    for name in system.lead_names:
        A[system.lead_slice(name)] -= system.leads[name].self_energy(zz)
    ckeys, rkeys = _keys(system, columns), _keys(system, rows)

    def slice_of(k):
        return system.lead_slice(k) if isinstance(k, str) else int(k)
    # couplings: a multiple v of the identity (no spin-orbit hopping) turns products into scalings
    v = V[0, 0, 0] if nx > 1 else 0.0
    if nx > 1 and not np.any(V - v * I):
        def VX(i, X):  # V_i X
            return v * X

        def XV(X, i):
            return X * v

        def VdX(i, X):
            return np.conj(v) * X

        def XVd(X, i):
            return X * np.conj(v)
    else:
        Vd = _dag(V)

        def VX(i, X):
            return V[i] @ X

        def XV(X, i):
            return X @ V[i]

        def VdX(i, X):
            return Vd[i] @ X

        def XVd(X, i):
            return X @ Vd[i]
    ks = {slice_of(k) for k in ckeys + rkeys}
    need_L = diag or any(k > 0 for k in ks)
    need_R = diag or any(k < nx - 1 for k in ks)
    gL = gR = None
    if need_L or nx == 1:
        gL = np.empty_like(A)
        gL[0] = np.linalg.inv(A[0])
        for i in range(1, nx):
            gL[i] = np.linalg.inv(A[i] - XV(VdX(i - 1, gL[i - 1]), i - 1))
    if need_R and nx > 1:
        gR = np.empty_like(A)
        gR[nx - 1] = np.linalg.inv(A[nx - 1])
        for i in range(nx - 2, -1, -1):
            gR[i] = np.linalg.inv(A[i] - XVd(VX(i, gR[i + 1]), i))

    def diag_block(i):
        if i == nx - 1:
            return gL[i]
        if i == 0:
            return gR[0]
        return np.linalg.inv(A[i] - XV(VdX(i - 1, gL[i - 1]), i - 1) - XVd(VX(i, gR[i + 1]), i))
    D = np.array([diag_block(i) for i in range(nx)]) if diag else None
    Gkk = {k: (D[k] if D is not None else diag_block(k)) for k in ks}
    cols, rws, done_c, done_r = {}, {}, {}, {}
    for key in ckeys:
        k = slice_of(key)
        if k in done_c:  # a lead and a gate on the same slice
            cols[key] = done_c[k]
            continue
        C = np.empty_like(A)
        C[k] = Gkk[k]
        for i in range(k - 1, -1, -1):
            C[i] = gL[i] @ VX(i, C[i + 1])
        for i in range(k + 1, nx):
            C[i] = gR[i] @ VdX(i - 1, C[i - 1])
        cols[key] = done_c[k] = C[:, 0] if scalar else C
    for key in rkeys:
        k = slice_of(key)
        if k in done_r:
            rws[key] = done_r[k]
            continue
        R = np.empty_like(A)
        R[k] = Gkk[k]
        for i in range(k - 1, -1, -1):
            R[i] = XVd(R[i + 1], i) @ gL[i]
        for i in range(k + 1, nx):
            R[i] = XV(R[i - 1], i - 1) @ gR[i]
        rws[key] = done_r[k] = R[:, 0] if scalar else R
    if D is not None and scalar:
        D = D[:, 0]
    return RGFResult(z=z, diag=D, columns=cols, rows=rws)


def blocks_to_dense(blocks: np.ndarray) -> np.ndarray:
    """Stack slice blocks (nx, m, m) of one column/row into a (nx m, m) array (a block column)."""
    return blocks.reshape(-1, blocks.shape[-1])
