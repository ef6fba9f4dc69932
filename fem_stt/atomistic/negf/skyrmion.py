"""Lattice skyrmion of eq. 38 (Xu et al., PRB 108, 144409 (2023), Sec. V): energy, field, relaxation,
centre, topological charge.

Spin Hamiltonian on an nx x ny square lattice of unit moments m_i (energies in J_ex = t = 1; each bond once):

    H_Sk = -J_ex sum_<ij> m_i.m_j + sum_<ij> D_ij.(m_i x m_j) - K sum_i (m_i.z)^2 - sum_i m_i.(mu B),
    D_ij = D (r_i - r_j)/|r_i - r_j|  (Bloch DMI),  bonds (i, j) with r_j = r_i + x or r_i + y.

Continuum limit: E_DMI = +D int m.(curl m), so D > 0 favours m.(curl m) < 0, e.g. the Bloch skyrmion
m = sin(theta) phi_hat + cos(theta) z with theta falling from pi (core, m_z = -1) to 0 outside.
The paper's parameters (Sec. V): J_ex = 1, D = 0.2, K = 0.07, B = 0, free edges; relaxed radius r_0 = 10 at 40 x 40.

Spin convention (eq. 12): H_eff = +dH/dm; relaxation moves m along -dH/dm projected on the tangent plane
(negf_llg.md case S): m <- normalize(m + step tau), tau = h - (h.m) m, h = -dH_Sk/dm.
Centre (Sec. V): R = sum_i (m0 - m_i^z) r_i / sum_i (m0 - m_i^z) over sites with m_i^z < m0 = -0.1.
Topological charge: Berg-Luscher solid angles of the two triangles of each plaquette (Nucl. Phys. B 190, 412 (1981)),
Q = sum Omega / 4pi (-1 for a full skyrmion with core down in this orientation convention).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import ParameterError, SolverError


@dataclass
class SkyrmionHamiltonian:
    """H_Sk of eq. 38 on an nx x ny lattice (free edges).

    Parameters: J_ex (exchange, > 0), D (DMI), K (anisotropy, easy axis z for K > 0), B (mu B, 3-vector), all in
    units of t. Raises ParameterError for non-finite values or J_ex <= 0."""

    nx: int
    ny: int
    J_ex: float = 1.0
    D: float = 0.2
    K: float = 0.07
    B: tuple = (0.0, 0.0, 0.0)

    def __post_init__(self):
        for nm in ("nx", "ny"):
            v = getattr(self, nm)
            if int(v) != v or v < 1:
                raise ParameterError(nm, f"must be an integer >= 1, got {v!r}")
        for nm in ("J_ex", "D", "K"):
            if not np.isfinite(getattr(self, nm)):
                raise ParameterError(nm, f"must be finite, got {getattr(self, nm)!r}")
        if self.J_ex <= 0:
            raise ParameterError("J_ex", f"must be > 0, got {self.J_ex!r}")
        b = np.asarray(self.B, dtype=float)
        if b.shape != (3,) or not np.all(np.isfinite(b)):
            raise ParameterError("B", f"must be a finite 3-vector, got {self.B!r}")
        self.B = b

    def _check(self, m):
        m = np.asarray(m, dtype=float)
        if m.shape != (self.nx, self.ny, 3):
            raise ParameterError("m", f"must have shape ({self.nx}, {self.ny}, 3), got {m.shape}")
        if not np.all(np.isfinite(m)):
            raise ParameterError("m", "contains NaN or inf")
        return m

    def energy(self, m) -> float:
        """H_Sk(m) [t]."""
        m = self._check(m)
        D = self.D
        ex = np.sum(m[:-1] * m[1:]) + np.sum(m[:, :-1] * m[:, 1:])
        # x bonds: D_ij = -D x; y bonds: -D y
        dmi = -D * np.sum(np.cross(m[:-1], m[1:])[..., 0]) - D * np.sum(np.cross(m[:, :-1], m[:, 1:])[..., 1])
        return float(-self.J_ex * ex + dmi - self.K * np.sum(m[..., 2] ** 2) - np.sum(m @ self.B))

    def gradient(self, m) -> np.ndarray:
        """dH_Sk/dm_i (= H_eff in the spin convention, gamma = 1), shape (nx, ny, 3) [t]."""
        m = self._check(m)
        g = np.zeros_like(m)
        J, D = self.J_ex, self.D
        g[:-1] -= J * m[1:]
        g[1:] -= J * m[:-1]
        g[:, :-1] -= J * m[:, 1:]
        g[:, 1:] -= J * m[:, :-1]
        dx = np.array([-D, 0.0, 0.0])
        dy = np.array([0.0, -D, 0.0])
        # d/dm_i [d.(m_i x m_j)] = m_j x d ; d/dm_j = d x m_i
        g[:-1] += np.cross(m[1:], dx)
        g[1:] += np.cross(dx, m[:-1])
        g[:, :-1] += np.cross(m[:, 1:], dy)
        g[:, 1:] += np.cross(dy, m[:, :-1])
        g[..., 2] -= 2 * self.K * m[..., 2]
        g -= self.B
        return g


def bloch_ansatz(nx: int, ny: int, radius: float = 8.0, center=None, chirality: int = 1) -> np.ndarray:
    """theta(r) = pi (1 - r/radius) for r < radius (0 outside), m = (-c sin(theta) sin(phi), c sin(theta) cos(phi),
    cos(theta)) about ``center`` (default the lattice centre ((nx-1)/2, (ny-1)/2)); c = ``chirality`` (+1: the
    chirality favoured by D > 0). Shape (nx, ny, 3). Case S of negf_llg.md."""
    if chirality not in (1, -1):
        raise ParameterError("chirality", f"must be +1 or -1, got {chirality!r}")
    if not (np.isfinite(radius) and radius > 0):
        raise ParameterError("radius", f"must be > 0, got {radius!r}")
    cx, cy = ((nx - 1) / 2, (ny - 1) / 2) if center is None else center
    X, Y = np.meshgrid(np.arange(nx) - cx, np.arange(ny) - cy, indexing="ij")
    r = np.hypot(X, Y)
    ph = np.arctan2(Y, X)
    th = np.where(r < radius, np.pi * (1 - r / radius), 0.0)
    return np.stack([-chirality * np.sin(th) * np.sin(ph), chirality * np.sin(th) * np.cos(ph), np.cos(th)], -1)


def relax(H: SkyrmionHamiltonian, m, tol: float = 1e-12, step=None, max_iter: int = 200000, callback=None):
    """Projected steepest descent m <- normalize(m + step tau), tau = h - (h.m) m, h = -dH/dm, until max |tau| < tol.

    ``step``: default 1/(4 J_ex + 2|K| + 4|D| + |B|), the inverse of a bound on the field's Lipschitz constant
    (0.2 for the paper's parameters, as in negf_llg.md case S).

    Returns (m, iterations). Raises SolverError if ``max_iter`` is reached (the last residual in the message)."""
    m = np.array(m, dtype=float)
    m /= np.linalg.norm(m, axis=-1, keepdims=True)
    if step is None:
        step = 1.0 / (4 * H.J_ex + 2 * abs(H.K) + 4 * abs(H.D) + float(np.linalg.norm(H.B)))
    for it in range(max_iter):
        h = -H.gradient(m)
        tau = h - np.sum(h * m, axis=-1, keepdims=True) * m
        res = float(np.abs(tau).max())
        if callback is not None:
            callback(it, res)
        if res < tol:
            return m, it
        m = m + step * tau
        m /= np.linalg.norm(m, axis=-1, keepdims=True)
    raise SolverError(f"skyrmion relaxation: max |tau| = {res:.3g} > tol = {tol:g} after {max_iter} iterations")


def topological_charge(m) -> float:
    """Berg-Luscher topological charge Q = (1/4pi) sum over triangles of the signed solid angle."""
    m = np.asarray(m, dtype=float)

    def omega(a, b, c):
        num = np.sum(a * np.cross(b, c), axis=-1)
        den = 1 + np.sum(a * b, axis=-1) + np.sum(b * c, axis=-1) + np.sum(c * a, axis=-1)
        return 2 * np.arctan2(num, den)
    a, b, c, d = m[:-1, :-1], m[1:, :-1], m[1:, 1:], m[:-1, 1:]
    return float((omega(a, b, c).sum() + omega(a, c, d).sum()) / (4 * np.pi))


def skyrmion_center(m, m0: float = -0.1):
    """Sk centre R = sum_i (m0 - m_i^z) r_i / sum_i (m0 - m_i^z) over sites with m_i^z < m0 (Sec. V), r = (ix, iy).
    Returns (x, y); (nan, nan) if no site qualifies."""
    m = np.asarray(m, dtype=float)
    w = np.clip(m0 - m[..., 2], 0.0, None)
    s = w.sum()
    if s <= 0:
        return np.nan, np.nan
    X, Y = np.meshgrid(np.arange(m.shape[0]), np.arange(m.shape[1]), indexing="ij")
    return float((w * X).sum() / s), float((w * Y).sum() / s)


def profile_radii(m, row: int, levels=(0.0, 0.9, 0.99), center=None):
    """Distances from the centre (x of ``center``, default the Sk centre) at which m_z crosses each level along the
    row iy = ``row``, on the +x side, by linear interpolation; nan where not crossed."""
    m = np.asarray(m, dtype=float)
    cx = skyrmion_center(m)[0] if center is None else center[0]
    x = np.arange(m.shape[0], dtype=float)
    mz = m[:, row, 2]
    out = []
    for lev in levels:
        r = np.nan
        for i in range(m.shape[0] - 1):
            if x[i] >= cx - 1 and (mz[i] - lev) * (mz[i + 1] - lev) <= 0 and mz[i + 1] != mz[i]:
                r = x[i] + (lev - mz[i]) / (mz[i + 1] - mz[i]) - cx
                if r >= 0:
                    break
                r = np.nan
        out.append(float(r))
    return out


def skyrmion_report(H: SkyrmionHamiltonian, m, m_fm=None) -> dict:
    """Case S numbers: E_Sk - E_FM (uniform +z) and, with ``m_fm`` (the relaxed, edge-canted ferromagnet),
    E_Sk - E_FM,relaxed; Q, min m_z, R_0 = sqrt(N_{m_z<0}/pi), radii at m_z = 0, 0.9, 0.99 along the middle row,
    the centre. Energies in t."""
    m = np.asarray(m, dtype=float)
    fm = np.zeros_like(m)
    fm[..., 2] = 1.0
    row = (m.shape[1] - 1) // 2
    out = {"E_Sk_minus_E_FM": H.energy(m) - H.energy(fm), "Q": topological_charge(m),
           "min_mz": float(m[..., 2].min()), "R0": float(np.sqrt(np.sum(m[..., 2] < 0) / np.pi)),
           "radii_mz_0_0.9_0.99": profile_radii(m, row), "row": row, "center": skyrmion_center(m)}
    if m_fm is not None:
        out["E_Sk_minus_E_FM_relaxed"] = H.energy(m) - H.energy(m_fm)
    return out
