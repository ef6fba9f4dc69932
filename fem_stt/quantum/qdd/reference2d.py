"""Independent 2D reference for the stationary spin equation (10) on a rectangle (numpy/scipy only).

Shares no code with the DOLFINx solvers (case R5 of ``models/qdd_rashba.md``): a variational
finite-difference scheme, i.e. bilinear (Q1) elements on a tensor grid assembled from exact 1D
element matrices by Kronecker products, for the SU(2)-covariant weak form of eq. (10)
(seed 001) with c = 2 and a linear potential V = v x:

    sum_i int (D_i n + n d_i V).(D_i phi) = 0,   D_i n = d_i n - 2 alpha e_i^perp x n,
    e_1^perp = (0, -1, 0), e_2^perp = (1, 0, 0),

on [0, L] x [0, W] with n = n_source on x = 0, n = n_drain on x = L and the natural
(covariant no-flux) condition on the walls y = 0, W. Second order in h; use
:func:`richardson` on h and h/2 (and the observed order from h/4).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

# e_i^perp x n = R_i n
R = (np.array([[0.0, 0.0, -1.0], [0.0, 0.0, 0.0], [1.0, 0.0, 0.0]]),
     np.array([[0.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]]))


def _q1_1d(n: int, length: float):
    """1D P1 matrices on a uniform grid of n cells: mass, stiffness, C[a, b] = int phi_b' phi_a."""
    h = length / n
    Me = h / 6 * np.array([[2.0, 1.0], [1.0, 2.0]])
    Ke = 1 / h * np.array([[1.0, -1.0], [-1.0, 1.0]])
    Ce = 0.5 * np.array([[-1.0, 1.0], [-1.0, 1.0]])
    mats = []
    for E in (Me, Ke, Ce):
        rows, cols, vals = [], [], []
        for e in range(n):
            for a in range(2):
                for b in range(2):
                    rows.append(e + a)
                    cols.append(e + b)
                    vals.append(E[a, b])
        mats.append(sp.csr_matrix((vals, (rows, cols)), shape=(n + 1, n + 1)))
    return mats


class CovariantSpinQ1:
    """Q1 solution of the stationary covariant spin equation on [0, L] x [0, W] (see module docstring).

    Parameters: alpha, L, W, nx, ny (cells), v (V = v x), n_source, n_drain (3-vectors).
    After construction, ``n`` has shape (nx+1, ny+1, 3) on the grid ``x``, ``y``.
    """

    def __init__(self, alpha: float, L: float, W: float, nx: int, ny: int, v: float = 0.0,
                 n_source: Sequence[float] = (1, 0, 0), n_drain: Sequence[float] = (0, 0, 0)):
        Mx, Kx, Cx = _q1_1d(nx, L)
        My, Ky, Cy = _q1_1d(ny, W)
        N = (nx + 1) * (ny + 1)
        Mass = sp.kron(Mx, My)
        Kxx, Kyy = sp.kron(Kx, My), sp.kron(Mx, Ky)
        C = (sp.kron(Cx, My), sp.kron(Mx, Cy))  # (C_i u)_a = int d_i u phi_a
        blocks = [[None] * 3 for _ in range(3)]
        for k in range(3):
            for l in range(3):
                A = sp.csr_matrix((N, N))
                if k == l:
                    A = A + Kxx + Kyy + v * C[0].T
                for i in range(2):
                    Ri = R[i]
                    if Ri[k, l] != 0:
                        A = A - 2 * alpha * Ri[k, l] * C[i].T
                    if Ri[l, k] != 0:
                        A = A - 2 * alpha * Ri[l, k] * C[i]
                    RtR = (Ri.T @ Ri)[k, l]
                    if RtR != 0:
                        A = A + 4 * alpha ** 2 * RtR * Mass
                if R[0][l, k] != 0:  # drift: v int n.(-2 alpha R_1 phi)
                    A = A - 2 * alpha * v * R[0][l, k] * Mass
                blocks[k][l] = A
        A = sp.bmat(blocks, format="csr")
        self.x = np.linspace(0.0, L, nx + 1)
        self.y = np.linspace(0.0, W, ny + 1)
        node_i = np.repeat(np.arange(nx + 1), ny + 1)
        fixed = np.zeros(3 * N, dtype=bool)
        val = np.zeros(3 * N)
        for k in range(3):
            for i, nv in ((0, n_source[k]), (nx, n_drain[k])):
                idx = k * N + np.flatnonzero(node_i == i)
                fixed[idx] = True
                val[idx] = nv
        free = ~fixed
        rhs = -A[free][:, fixed] @ val[fixed]
        sol = val.copy()
        sol[free] = spla.spsolve(A[free][:, free].tocsc(), rhs)
        self.n = sol.reshape(3, nx + 1, ny + 1).transpose(1, 2, 0)

    def at(self, x: float, y: float) -> np.ndarray:
        """n at a grid point (x, y must be grid coordinates)."""
        i = int(np.argmin(np.abs(self.x - x)))
        j = int(np.argmin(np.abs(self.y - y)))
        if abs(self.x[i] - x) > 1e-9 * max(1, abs(x)) or abs(self.y[j] - y) > 1e-9 * max(1, abs(y)):
            raise ValueError(f"({x}, {y}) is not a grid point")
        return self.n[i, j]

    def mean_over_y(self, x: float) -> np.ndarray:
        """Cross-section mean (1/W) int n(x, y) dy at a grid column (trapezoid = exact for Q1)."""
        i = int(np.argmin(np.abs(self.x - x)))
        return np.trapz(self.n[i], self.y, axis=0) / (self.y[-1] - self.y[0])


def richardson(f_h, f_h2, order: float = 2.0):
    """Richardson extrapolation of values at h and h/2 for an error ~ h^order; returns
    (extrapolated value, error estimate |extrapolated - f_h2|)."""
    f_h, f_h2 = np.asarray(f_h, float), np.asarray(f_h2, float)
    ext = f_h2 + (f_h2 - f_h) / (2 ** order - 1)
    return ext, np.abs(ext - f_h2)
