"""Frozen retarded Green's functions: dense inversion and recursive Green's functions (RGF) along x.

Equation (Xu et al., PRB 108, 144409 (2023), eq. A5; negf_llg.md Sec. 1.2), units of t, hbar = 1:

    G^r(z) = [z - h - Sigma^r(z)]^(-1),   Sigma^r = Sigma_L + Sigma_R,   Im z >= 0,
    Gamma_a = i (Sigma_a - Sigma_a^+),     A = i (G^r - G^a) = G^r Gamma G^a  (real z),
    G^< = i sum_a f_a G^r Gamma_a G^a (frozen, eq. A1),  dG^r/dz = -G^r (1 - dSigma/dz) G^r.

RGF (slices = columns ix of the lattice, h[i, i+1] = V_i):
left-connected g^L_i = [z - H_i - V_{i-1}^+ g^L_{i-1} V_{i-1}]^(-1) (Sigma_L inside H_0),
right-connected g^R_i = [z - H_i - V_i g^R_{i+1} V_i^+]^(-1) (Sigma_R inside H_{nx-1}), then

    G_ii     = [z - H_i - V_{i-1}^+ g^L_{i-1} V_{i-1} - V_i g^R_{i+1} V_i^+]^(-1)
    G_i,last = g^L_i V_i G_{i+1,last}          G_last,i = G_last,i+1 V_i^+ g^L_i
    G_i,0    = g^R_i V_{i-1}^+ G_{i-1,0}       G_0,i    = G_0,i-1 V_{i-1} g^R_i

cost O(nx (2 ny)^3) per energy instead of O((2 nx ny)^3). Energies can be batched (leading axis).
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
    """Blocks of G^r from one RGF pass (leading axis: energies if z was an array).

    diag : (nx, [nz,] m, m) G_ii;  columns[lead] : (nx, [nz,] m, m) G_{i, slice(lead)};
    rows[lead] : (nx, [nz,] m, m) G_{slice(lead), i};  m = 2 ny.
    """

    z: np.ndarray
    diag: Optional[np.ndarray]
    columns: Dict[str, np.ndarray]
    rows: Dict[str, np.ndarray]


def rgf(system: TightBinding, z, diag: bool = True, columns: bool = True, rows: bool = False,
        slices=None) -> RGFResult:
    """Recursive Green's functions of ``system`` at energy ``z`` (scalar or 1-D array, Im z >= 0).

    ``slices``: optional (H, V) from :meth:`TightBinding.slice_hamiltonians` (re-use across calls).
    Returns :class:`RGFResult`; ParameterError if Im z < 0. See the module docstring for the recursions.
    """
    z = check_energy(z, "z")
    scalar = z.ndim == 0
    zz = np.atleast_1d(z)
    H, V = system.slice_hamiltonians() if slices is None else slices
    nx, m = H.shape[0], H.shape[1]
    I = np.eye(m)
    # z - H_i per slice and energy, with the lead self-energies on their slices
    A = zz[None, :, None, None] * I - H[:, None]
    for name in system.lead_names:
        A[system.lead_slice(name)] -= system.leads[name].self_energy(zz)
    Vd = _dag(V)
    gL = np.empty_like(A)
    gR = np.empty_like(A)
    gL[0] = np.linalg.inv(A[0])
    for i in range(1, nx):
        gL[i] = np.linalg.inv(A[i] - Vd[i - 1] @ gL[i - 1] @ V[i - 1])
    gR[nx - 1] = np.linalg.inv(A[nx - 1])
    for i in range(nx - 2, -1, -1):
        gR[i] = np.linalg.inv(A[i] - V[i] @ gR[i + 1] @ Vd[i])
    D = None
    if diag or columns or rows:
        D = np.empty_like(A)
        for i in range(nx):
            S = A[i].copy()
            if i > 0:
                S -= Vd[i - 1] @ gL[i - 1] @ V[i - 1]
            if i < nx - 1:
                S -= V[i] @ gR[i + 1] @ Vd[i]
            D[i] = np.linalg.inv(S)
    cols, rws = {}, {}
    for name in system.lead_names:
        k = system.lead_slice(name)
        if columns:
            C = np.empty_like(A)
            C[k] = D[k]
            if k == nx - 1:
                for i in range(nx - 2, -1, -1):
                    C[i] = gL[i] @ V[i] @ C[i + 1]
            else:
                for i in range(1, nx):
                    C[i] = gR[i] @ Vd[i - 1] @ C[i - 1]
            cols[name] = C[:, 0] if scalar else C
        if rows:
            R = np.empty_like(A)
            R[k] = D[k]
            if k == nx - 1:
                for i in range(nx - 2, -1, -1):
                    R[i] = R[i + 1] @ Vd[i] @ gL[i]
            else:
                for i in range(1, nx):
                    R[i] = R[i - 1] @ V[i - 1] @ gR[i]
            rws[name] = R[:, 0] if scalar else R
    if D is not None and scalar:
        D = D[:, 0]
    return RGFResult(z=z, diag=D if diag else None, columns=cols, rows=rws)


def blocks_to_dense(blocks: np.ndarray) -> np.ndarray:
    """Stack slice blocks (nx, m, m) of one column/row into a (nx m, m) array (a block column)."""
    return blocks.reshape(-1, blocks.shape[-1])
