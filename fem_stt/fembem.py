r"""Stray field by the hybrid FEM-BEM method (no air, exact open boundary).

Fredkin & Koehler, IEEE Trans. Magn. 26, 415 (1990). With M = Ms m [A/m] on the magnetic
cells Omega and the potential u [A], H_d = -grad u (DESIGN.md sec. 1), split u = u1 + u2:

1. u1 solves the Neumann problem in Omega and is zero outside::

       (grad u1, grad v)_Omega = (M, grad v)_Omega   for all P1 v
       (Lap u1 = div M in Omega, du1/dn = M.n on dOmega).

2. u2 is harmonic inside and outside Omega, has a continuous normal derivative and jumps by
   u2_out - u2_in = u1 across dOmega (so that u = u1 + u2 is continuous): it is the
   double-layer potential of u1,

       u2(x) = (1/4pi) int_dOmega u1(y) d/dn_y (1/|x - y|) dS_y        (n outward),

   whose interior trace on dOmega is

       u2(x) = (1/4pi) int_dOmega u1(y) d/dn_y (1/|x - y|) dS_y + (Omega(x)/(4pi) - 1) u1(x),

   with Omega(x) the interior solid angle at x (2 pi on smooth parts). For P1 u1 on flat
   triangles the integral is evaluated exactly with Lindholm's formula, IEEE Trans. Magn.
   20, 2025 (1984) (as written out in A. Knittel, PhD thesis, Southampton 2011, sec. 2.2.4):
   for a triangle with corners p_1..p_3 counter-clockwise about its outward normal n, area A,
   rho_i = p_i - x, s_i = |p_{i+1} - p_i|, xi_i = (p_{i+1} - p_i)/s_i, eta_i = n x xi_i,
   zeta = n.rho_1, gamma_ij = xi_{i+1}.xi_j, P_j = ln((|rho_j| + |rho_{j+1}| + s_j) /
   (|rho_j| + |rho_{j+1}| - s_j)) and Omega_T the signed solid angle of the triangle seen
   from x (Van Oosterom & Strackee, IEEE Trans. Biomed. Eng. 30, 125 (1983)),

       L_i = s_{i+1} / (8 pi A) [ (eta_{i+1}.rho_{i+1}) Omega_T - zeta sum_j gamma_ij P_j ],

   so that  (1/4pi) int_T phi_i(y) d/dn_y (1/|x - y|) dS_y = L_i  (sum_i L_i = -Omega_T / 4pi,
   since eta_i points into the triangle). The boundary values g = B u1 use the dense matrix

       B = L + diag(Omega_i / (4pi) - 1),   Omega_i = sum_T Omega_T(x_i),

   where Omega_i, computed from the same triangles, is the interior solid angle at node i;
   then B 1 = -1 to rounding, so the constant left free in each connected part of u1 cancels
   exactly in u1 + u2.

3. u2 in Omega: Laplace's equation with the Dirichlet data g.

H_d at the vertices is the lumped L2 projection of -grad u onto P1 (as in
:class:`fem_stt.magnetostatics.StrayField`), the energy (mu0/2) int M.grad u.

The mesh needs only the magnets (a surrounding region is allowed and ignored). B
(n_b x n_b; each rank holds the rows of the boundary vertices it owns) and the two sparse Cholesky
factorizations (PETSc's, nested dissection; redundant on every rank) are built once: of the Neumann matrix (all vertices of the magnets) and of
the Dirichlet matrix restricted to the vertices inside the magnets (none on the boundary, so
none at all on a film one cell thick). A solve is two forward/back substitutions, one
all-gather of the boundary values of u1 and a mat-vec with B.

Assembly of B (:func:`double_layer_matrix`): a loop over (row vertex, boundary triangle)
pairs compiled with numba, one thread per MPI rank (the ranks are the parallelism). numba
rather than a C kernel through cffi: it installs as a wheel with no compiler step (Debian's
DOLFINx stack already brings python3-numba through python3-basix), the kernel reads as the
formula above in the language of the rest of the package, and ``cache=True`` keeps the
compiled code on disk, so the JIT compilation (10-25 s for all kernels on the project's
2-core machine, :func:`compile_kernels`) is paid once per installation and edit of this file.
:func:`lindholm_weights` evaluates the same formulas vectorized in numpy; it is kept as the
reference the kernel is tested against (``kernel="numpy"``: 3-4x slower in wall time on the
shared 2-core machine, benchmarks/fembem_setup.py; ~7x in CPU time per pair, 180 vs 1240 ns).

Compression (``compression="aca"``, :class:`HMatrix`): dense storage takes 4 n_b^2 bytes
(float32), 3.0 GB for a 1000 x 250 x 3 nm film with SP4's mesh (n_b = 27,347). The H-matrix
form uses binary cluster trees of the rows (this rank's boundary vertices) and of the
columns (all of them), split at the median of the longest side of the bounding box down to
``leaf_size`` = 32 vertices. A block (s, t) is admissible if min(diam s, diam t) <= eta
dist(s, t), eta = 2, with the column box taken over the triangles around the column vertices
(so no admissible block holds a diagonal entry or a corner pair); admissible blocks are
stored as U^T V computed by adaptive cross approximation with partial pivoting (Bebendorf,
Numer. Math. 86, 565 (2000)), the others dense (so are admissible blocks with fewer than 2
``leaf_size`` rows or columns, on which ACA costs more than the entries: a cross needs ~2 n
+ 6 m (point, triangle) pairs, an m x n block ~2 m n). Stopping rule: the last cross u v^T
has |u| |v| <= tol ||S_k||_F (S_k the sum of the crosses so far); then the residuals of rows
and columns not yet used -- first the one least covered by the crosses (smallest sum_l
u_l(i)^2 |v_l|^2), then 2 random ones -- must be below tol ||S_k||_F / sqrt(#rows) (resp.
#columns), otherwise the crosses go on from the failing one. The check matters on films: the
kernel vanishes between points of one flat face, so a block between two distant patches of a
film is [[0, A], [C, 0]] (top and bottom rows and columns), on which plain partial pivoting
stops after A and misses C (on a 300 x 100 x 3 nm film it leaves ||B_H - B||_F / ||B||_F =
2.4e-3 whatever tol; with the check, 1.8e-7 at tol = 1e-4 and 1.4e-9 at 1e-6). The diagonal
is Omega_i/4pi - 1 with Omega_i = -4pi (L_H 1)_i, so that B_H 1 = -1 holds to rounding as
for the dense B and the free constant of u1 still cancels.

Coplanar blocks (``compression="planar"``, :class:`PlanarBlockMatrix`): the kernel n.(x - y) is
zero for x in the plane of the triangle, so B_ij (i != j) vanishes when all triangles around
vertex j lie in one plane through x_i. The dense B is computed, then stored without those
blocks (and with a check that what is left out is round-off, <= 1e-6 of max |B|): on a flat
film the top face seen from the top face and the bottom from the bottom, 39-40 % of B for
SP4's mesh and a 300 x 100 x 3 nm film (all but the rim vertices). The mat-vec then reads
that much less memory: SP4 on 2 ranks, 13.4 -> 7.2 ms per product (same run), the field
within 2e-12 of the dense one.
"""
from __future__ import annotations

import itertools
import math
import time
from typing import Optional

import dolfinx
import dolfinx.fem
import numpy as np
import scipy.sparse
import ufl
from mpi4py import MPI
from petsc4py import PETSc

from . import _compat
from .errors import MeshError, ParameterError, SolverError
from .magnetostatics import PotentialField, _inverse_lumped_mass

import numba  # (its error-message style is set in fem_stt/__init__.py)

_counter = itertools.count()


def solid_angles(x: np.ndarray, tri: np.ndarray) -> np.ndarray:
    """Signed solid angles [sr] of triangles seen from points, shape (n_x, n_t).

    x : (n_x, 3) points; tri : (n_t, 3, 3) corners (t, corner, xyz). Positive when x lies
    on the side opposite to the normal (p2 - p1) x (p3 - p1). Van Oosterom & Strackee (1983):
    tan(Omega/2) = rho1.(rho2 x rho3) / (r1 r2 r3 + r1 rho2.rho3 + r2 rho1.rho3 + r3 rho1.rho2).
    """
    rho = tri[None, :, :, :] - x[:, None, None, :]
    return _solid_angles(rho, np.linalg.norm(rho, axis=-1))


def _solid_angles(rho: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Solid angles from rho = corners - x, shape (n_x, n_t, 3, 3), and r = |rho| (n_x, n_t, 3)."""
    det = np.einsum("xtk,xtk->xt", rho[:, :, 0], np.cross(rho[:, :, 1], rho[:, :, 2]))
    d01 = np.einsum("xtk,xtk->xt", rho[:, :, 0], rho[:, :, 1])
    d02 = np.einsum("xtk,xtk->xt", rho[:, :, 0], rho[:, :, 2])
    d12 = np.einsum("xtk,xtk->xt", rho[:, :, 1], rho[:, :, 2])
    den = r[..., 0] * r[..., 1] * r[..., 2] + r[..., 0] * d12 + r[..., 1] * d02 + r[..., 2] * d01
    return 2.0 * np.arctan2(det, den)


def triangle_geometry(tri: np.ndarray):
    """Per-triangle constants of Lindholm's formula (module docstring, step 2).

    tri : (n_t, 3, 3) corners [m], counter-clockwise about the outward normal.
    Returns (tri as float64, s (n_t, 3) edge lengths s_i [m], n (n_t, 3) unit normals,
    eta (n_t, 3, 3) in-plane edge normals eta_i = n x xi_i, gamma (n_t, 3, 3) gamma_ij =
    xi_{i+1}.xi_j, coef (n_t, 3) = s_{i+1} / (8 pi A) [1/m]).
    """
    e = np.roll(tri, -1, axis=1) - tri  # e_i = p_{i+1} - p_i
    s = np.linalg.norm(e, axis=-1)
    nrm = np.cross(e[:, 0], -e[:, 2])
    area = 0.5 * np.linalg.norm(nrm, axis=-1)
    n = nrm / (2.0 * area)[:, None]
    xi = e / s[..., None]
    eta = np.cross(n[:, None, :], xi)
    gamma = np.einsum("tik,tjk->tij", np.roll(xi, -1, axis=1), xi)
    coef = np.roll(s, -1, axis=1) / (8.0 * math.pi * area)[:, None]
    return (np.ascontiguousarray(tri, dtype=np.float64), s, n, np.ascontiguousarray(eta), gamma, coef)


def lindholm_weights(x: np.ndarray, tri: np.ndarray, exclude: Optional[np.ndarray] = None):
    """Lindholm's double-layer weights of linear triangles (module docstring, step 2).

    Parameters
    ----------
    x : (n_x, 3) observation points [m].
    tri : (n_t, 3, 3) triangle corners, counter-clockwise about the outward normal [m].
    exclude : optional bool (n_x, n_t): pairs where x is a corner of the triangle (the
        weights are then 0: the kernel vanishes on the flat triangle itself).

    Returns
    -------
    L : (n_x, n_t, 3) weights (dimensionless), Omega : (n_x, n_t) signed solid angles [sr].
    """
    _, s, n, eta, gamma, coef = triangle_geometry(tri)
    rho = tri[None, :, :, :] - x[:, None, None, :]
    r = np.linalg.norm(rho, axis=-1)  # (n_x, n_t, 3)
    eta0 = np.einsum("tik,xtik->xti", eta, rho)
    zeta = np.einsum("tk,xtk->xt", n, rho[:, :, 0])
    rs = r + np.roll(r, -1, axis=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        P = np.log((rs + s[None]) / (rs - s[None]))
    omega = _solid_angles(rho, r)
    if exclude is not None:
        P[exclude] = 0.0
        omega[exclude] = 0.0
    gP = np.einsum("tij,xtj->xti", gamma, P)
    L = coef[None] * (np.roll(eta0, -1, axis=2) * omega[..., None] - zeta[..., None] * gP)
    return L, omega  # excluded pairs: omega = P = 0, hence L = 0


def double_layer_matrix_numpy(x_rows: np.ndarray, rowb: np.ndarray, tri: np.ndarray, cols: np.ndarray, nb: int,
                              dtype=np.float64, chunk_pairs: int = 1_500_000):
    """Dense B rows by the vectorized numpy reference :func:`lindholm_weights`; arguments and
    returns as :func:`double_layer_matrix`, plus ``chunk_pairs`` (point, triangle) pairs per
    vectorized block (memory)."""
    nt = len(cols)
    ST = scipy.sparse.csr_matrix((np.ones(3 * nt), (cols.ravel(), np.arange(3 * nt))), shape=(nb, 3 * nt))
    nr = len(x_rows)
    B = np.empty((nr, nb), dtype=dtype)
    step = max(1, chunk_pairs // max(nt, 1))
    omega = np.empty(nr)
    for a in range(0, nr, step):
        b = min(nr, a + step)
        excl = (cols[None, :, :] == rowb[a:b, None, None]).any(axis=2)
        L, om = lindholm_weights(x_rows[a:b], tri, excl)
        Bc = (ST @ L.reshape(b - a, 3 * nt).T).T
        omega[a:b] = om.sum(axis=1)
        Bc[np.arange(b - a), rowb[a:b]] += omega[a:b] / (4.0 * math.pi) - 1.0
        B[a:b] = Bc
    return B, omega


# ---------------------------------------------------------------------------- compiled kernel
@numba.njit(cache=True)
def _lindholm_pair(x, y, z, t, geo):
    """Lindholm weights (L_1, L_2, L_3) and solid angle Omega_T of triangle ``t`` seen from the
    point (x, y, z); the same formulas as :func:`lindholm_weights`, one pair at a time."""
    tri, s, n, eta, gamma, coef = geo
    ax, ay, az = tri[t, 0, 0] - x, tri[t, 0, 1] - y, tri[t, 0, 2] - z  # rho_1
    bx, by, bz = tri[t, 1, 0] - x, tri[t, 1, 1] - y, tri[t, 1, 2] - z  # rho_2
    cx, cy, cz = tri[t, 2, 0] - x, tri[t, 2, 1] - y, tri[t, 2, 2] - z  # rho_3
    ra = math.sqrt(ax * ax + ay * ay + az * az)
    rb = math.sqrt(bx * bx + by * by + bz * bz)
    rc = math.sqrt(cx * cx + cy * cy + cz * cz)
    # Van Oosterom & Strackee: tan(Omega/2) = rho1.(rho2 x rho3) / (r1 r2 r3 + r1 rho2.rho3 + ...)
    det = ax * (by * cz - bz * cy) + ay * (bz * cx - bx * cz) + az * (bx * cy - by * cx)
    den = (ra * rb * rc + ra * (bx * cx + by * cy + bz * cz) + rb * (ax * cx + ay * cy + az * cz)
           + rc * (ax * bx + ay * by + az * bz))
    om = 2.0 * math.atan2(det, den)
    # P_j = ln((|rho_j| + |rho_{j+1}| + s_j) / (|rho_j| + |rho_{j+1}| - s_j))
    p0 = math.log((ra + rb + s[t, 0]) / (ra + rb - s[t, 0]))
    p1 = math.log((rb + rc + s[t, 1]) / (rb + rc - s[t, 1]))
    p2 = math.log((rc + ra + s[t, 2]) / (rc + ra - s[t, 2]))
    zeta = n[t, 0] * ax + n[t, 1] * ay + n[t, 2] * az
    e1 = eta[t, 0, 0] * ax + eta[t, 0, 1] * ay + eta[t, 0, 2] * az  # eta_i.rho_i
    e2 = eta[t, 1, 0] * bx + eta[t, 1, 1] * by + eta[t, 1, 2] * bz
    e3 = eta[t, 2, 0] * cx + eta[t, 2, 1] * cy + eta[t, 2, 2] * cz
    g = gamma[t]
    l1 = coef[t, 0] * (e2 * om - zeta * (g[0, 0] * p0 + g[0, 1] * p1 + g[0, 2] * p2))
    l2 = coef[t, 1] * (e3 * om - zeta * (g[1, 0] * p0 + g[1, 1] * p1 + g[1, 2] * p2))
    l3 = coef[t, 2] * (e1 * om - zeta * (g[2, 0] * p0 + g[2, 1] * p1 + g[2, 2] * p2))
    return l1, l2, l3, om


@numba.njit(cache=True)
def _dense_double_layer(xr, rowb, cols, geo, out, omega, block):
    """Dense rows of B (module docstring, step 2) for the points ``xr`` (n_r, 3) [m], boundary
    vertices ``rowb`` (n_r,); ``cols`` (n_t, 3) boundary index of each corner. Rows are done
    ``block`` at a time, triangle by triangle (each triangle's data is read once per block),
    summed in double precision and stored into ``out`` (n_r, n_b); ``omega`` (n_r,) gets the
    interior solid angles [sr]. Pairs where the point is a corner of the triangle are skipped."""
    nr = xr.shape[0]
    nt = cols.shape[0]
    buf = np.zeros((block, out.shape[1]))
    osum = np.zeros(block)
    for a0 in range(0, nr, block):
        a1 = min(nr, a0 + block)
        buf[:, :] = 0.0
        osum[:] = 0.0
        for t in range(nt):
            k0, k1, k2 = cols[t, 0], cols[t, 1], cols[t, 2]
            for a in range(a0, a1):
                ib = rowb[a]
                if k0 == ib or k1 == ib or k2 == ib:
                    continue
                l1, l2, l3, om = _lindholm_pair(xr[a, 0], xr[a, 1], xr[a, 2], t, geo)
                buf[a - a0, k0] += l1
                buf[a - a0, k1] += l2
                buf[a - a0, k2] += l3
                osum[a - a0] += om
        for a in range(a0, a1):
            buf[a - a0, rowb[a]] += osum[a - a0] / (4.0 * math.pi) - 1.0
            omega[a] = osum[a - a0]
            out[a, :] = buf[a - a0]


def double_layer_matrix(x_rows: np.ndarray, rowb: np.ndarray, tri: np.ndarray, cols: np.ndarray, nb: int,
                        dtype=np.float64):
    """Dense B rows by the compiled kernel (module docstring, step 2).

    Parameters
    ----------
    x_rows : (n_r, 3) boundary vertices of the rows [m]; rowb : (n_r,) their boundary indices
        (column of the diagonal entry); tri : (n_t, 3, 3) boundary triangles [m], corners
        counter-clockwise about the outward normal; cols : (n_t, 3) boundary index of each
        corner; nb : number of boundary vertices; dtype : storage of B.

    Returns
    -------
    B : (n_r, nb) dimensionless, Omega : (n_r,) interior solid angles [sr].
    """
    B = np.empty((len(x_rows), nb), dtype=dtype)
    omega = np.empty(len(x_rows))
    _dense_double_layer(np.ascontiguousarray(x_rows, dtype=np.float64), np.asarray(rowb, dtype=np.int64),
                        np.ascontiguousarray(cols, dtype=np.int64), triangle_geometry(tri), B, omega, 8)
    return B, omega


# ---------------------------------------------------------------------------- H-matrix (ACA)
@numba.njit(cache=True)
def _near_block(xr, rowb, r0, r1, c0, c1, tris, colpos, cols, geo, out):
    """out (r1 - r0, c1 - c0) = L on rows r0:r1 (tree order) x columns c0:c1 (tree order),
    from the triangles ``tris`` touching the column cluster; corner pairs skipped."""
    out[:, :] = 0.0
    for i in range(r0, r1):
        ib = rowb[i]
        for t in tris:
            k0, k1, k2 = cols[t, 0], cols[t, 1], cols[t, 2]
            if k0 == ib or k1 == ib or k2 == ib:
                continue
            l1, l2, l3, _ = _lindholm_pair(xr[i, 0], xr[i, 1], xr[i, 2], t, geo)
            p = colpos[k0]
            if c0 <= p < c1:
                out[i - r0, p - c0] += l1
            p = colpos[k1]
            if c0 <= p < c1:
                out[i - r0, p - c0] += l2
            p = colpos[k2]
            if c0 <= p < c1:
                out[i - r0, p - c0] += l3


@numba.njit(cache=True)
def _residual_row(i, r0, c0, c1, k, U, V, xr, rowb, tris, colpos, cols, geo, row):
    """row (c1 - c0) = L[r0 + i, c0:c1] - sum_l U[l, i] V[l]  (residual of the cross approximation)."""
    _near_block(xr, rowb, r0 + i, r0 + i + 1, c0, c1, tris, colpos, cols, geo, row.reshape(1, -1))
    for l in range(k):
        row -= U[l, i] * V[l]


@numba.njit(cache=True)
def _residual_col(j, r0, r1, c0, k, U, V, xr, rowb, colb, v2t_ptr, v2t_idx, cols, geo, col):
    """col (r1 - r0) = L[r0:r1, c0 + j] - sum_l V[l, j] U[l]; L's column from the triangles
    around boundary vertex colb[c0 + j]."""
    col[:] = 0.0
    jb = colb[c0 + j]
    for q in range(v2t_ptr[jb], v2t_ptr[jb + 1]):
        t = v2t_idx[q]
        corner = 0 if cols[t, 0] == jb else (1 if cols[t, 1] == jb else 2)
        for i in range(r0, r1):
            ib = rowb[i]
            if cols[t, 0] == ib or cols[t, 1] == ib or cols[t, 2] == ib:
                continue
            w = _lindholm_pair(xr[i, 0], xr[i, 1], xr[i, 2], t, geo)
            col[i - r0] += w[corner]
    for l in range(k):
        col -= V[l, j] * U[l]


@numba.njit(cache=True)
def _pick(used, score, largest):
    """Index of the unused entry with the largest (or smallest) score, -1 if all are used."""
    best = -1
    for q in range(len(used)):
        if not used[q] and (best < 0 or (score[q] > score[best] if largest else score[q] < score[best])):
            best = q
    return best


@numba.njit(cache=True)
def _random_unused(used):
    """A random unused index (numba's generator, seeded per block), -1 if all are used."""
    n = len(used)
    q = np.random.randint(0, n)
    for _ in range(n):
        if not used[q]:
            return q
        q = (q + 1) % n
    return -1


@numba.njit(cache=True)
def _aca(r0, r1, c0, c1, xr, rowb, tris, colpos, colb, v2t_ptr, v2t_idx, cols, geo, tol, atol, n_random, seed):
    """Adaptive cross approximation with partial pivoting (Bebendorf, Numer. Math. 86, 565 (2000))
    of the block L[r0:r1, c0:c1] ~ U^T V, U (k, m), V (k, n); k = -1 if a rank-k form would not
    be smaller than the dense block. Stopping rule: module docstring (Compression)."""
    m, n = r1 - r0, c1 - c0
    kmax = (m * n) // (m + n)
    cap = max(1, min(kmax, 16))
    U, V = np.empty((cap, m)), np.empty((cap, n))
    used_r, used_c = np.zeros(m, np.bool_), np.zeros(n, np.bool_)
    cov_r, cov_c = np.zeros(m), np.zeros(n)
    row, col = np.empty(n), np.empty(m)
    np.random.seed(seed)
    k, S2 = 0, 0.0
    i = m // 2
    while True:
        if i >= 0:  # one cross from row i
            _residual_row(i, r0, c0, c1, k, U, V, xr, rowb, tris, colpos, cols, geo, row)
            used_r[i] = True
            j = np.argmax(np.abs(row))
            piv = row[j]
            if abs(piv) > atol:
                if k == kmax:
                    return U[:0], V[:0], -1
                if k == U.shape[0]:  # grow the factors
                    U2, V2 = np.empty((2 * k, m)), np.empty((2 * k, n))
                    U2[:k], V2[:k] = U, V
                    U, V = U2, V2
                _residual_col(j, r0, r1, c0, k, U, V, xr, rowb, colb, v2t_ptr, v2t_idx, cols, geo, col)
                used_c[j] = True
                U[k] = col
                V[k] = row / piv
                nu2, nv2 = np.dot(col, col), np.dot(V[k], V[k])
                cross = 0.0
                for l in range(k):
                    cross += np.dot(U[l], U[k]) * np.dot(V[l], V[k])
                S2 += nu2 * nv2 + 2.0 * cross  # ||sum_l u_l v_l^T||_F^2
                cov_r += col * col * nv2
                cov_c += V[k] * V[k] * nu2
                k += 1
                if nu2 * nv2 > tol * tol * S2:
                    i = _pick(used_r, np.abs(col), True)
                    if i >= 0:
                        continue
        # the last cross is below tol (or row i was zero): test rows and columns the crosses
        # have not seen (least covered first, then random); go on from the first that fails
        i = -1
        thr_r, thr_c = max(tol * tol * S2 / m, atol * atol * n), max(tol * tol * S2 / n, atol * atol * m)
        for c in range(1 + n_random):
            q = _pick(used_r, cov_r, False) if c == 0 else _random_unused(used_r)
            if q < 0:
                break
            _residual_row(q, r0, c0, c1, k, U, V, xr, rowb, tris, colpos, cols, geo, row)
            used_r[q] = True
            if np.dot(row, row) > thr_r:
                i = q
                break
        if i < 0:
            for c in range(1 + n_random):
                q = _pick(used_c, cov_c, False) if c == 0 else _random_unused(used_c)
                if q < 0:
                    break
                _residual_col(q, r0, r1, c0, k, U, V, xr, rowb, colb, v2t_ptr, v2t_idx, cols, geo, col)
                used_c[q] = True
                if np.dot(col, col) > thr_c:
                    i = np.argmax(np.abs(col))
                    break
        if i < 0:
            return U[:k].copy(), V[:k].copy(), k


@numba.njit(cache=True, fastmath=True)
def _hmatvec(x, y, near, near_data, far, U, V):
    """y += H x in tree order: dense blocks near (r0, r1, c0, c1, offset) and low-rank blocks
    far (r0, r1, c0, c1, k, offset of U, offset of V) with U (k, m), V (k, n) row-major.
    Products and sums in double precision in a fixed order, like :func:`dense_matvec`: four rows
    (dense blocks) or four rows of V (low-rank blocks) at a time, each summed by one loop that
    fastmath lets LLVM split into SIMD lanes (one row at a time without fastmath, each sum was one
    chain of dependent additions: SP4's 8,281 boundary nodes, 15.9 -> 14.6 ms serial, 10.5 -> 9.0 ms
    on 2 ranks; the dense product takes 18.5 / 9.0 ms)."""
    for b in range(near.shape[0]):
        r0, r1, c0, c1, off = near[b, 0], near[b, 1], near[b, 2], near[b, 3], near[b, 4]
        n = c1 - c0
        m = r1 - r0
        i = 0
        while i + 4 <= m:
            b0 = off + i * n
            b1, b2, b3 = b0 + n, b0 + 2 * n, b0 + 3 * n
            s0 = s1 = s2 = s3 = 0.0
            for j in range(n):
                xj = x[c0 + j]
                s0 += near_data[b0 + j] * xj
                s1 += near_data[b1 + j] * xj
                s2 += near_data[b2 + j] * xj
                s3 += near_data[b3 + j] * xj
            y[r0 + i] += s0
            y[r0 + i + 1] += s1
            y[r0 + i + 2] += s2
            y[r0 + i + 3] += s3
            i += 4
        while i < m:
            base = off + i * n
            acc = 0.0
            for j in range(n):
                acc += near_data[base + j] * x[c0 + j]
            y[r0 + i] += acc
            i += 1
    for b in range(far.shape[0]):
        r0, r1, c0, c1, k, ou, ov = far[b, 0], far[b, 1], far[b, 2], far[b, 3], far[b, 4], far[b, 5], far[b, 6]
        m, n = r1 - r0, c1 - c0
        for l in range(k):
            acc = 0.0
            base = ov + l * n
            for j in range(n):
                acc += V[base + j] * x[c0 + j]
            base = ou + l * m
            for i in range(m):
                y[r0 + i] += acc * U[base + i]


def cluster_tree(points: np.ndarray, leaf_size: int):
    """Binary cluster tree of ``points`` (n, 3): each cluster is split at the median of the
    longest side of its bounding box until it has at most ``leaf_size`` points.

    Returns (perm (n,) point of each tree position, start (n_c,), end (n_c,) tree-position
    ranges, children (n_c, 2), -1 for leaves); node 0 is the root, children follow parents.
    """
    perm = np.arange(len(points))
    start, end, children = [], [], []

    def build(a, b):
        q = len(start)
        start.append(a)
        end.append(b)
        children.append([-1, -1])
        if b - a > leaf_size:
            p = points[perm[a:b]]
            axis = int(np.argmax(p.max(axis=0) - p.min(axis=0)))
            perm[a:b] = perm[a:b][np.argsort(p[:, axis], kind="stable")]
            mid = (a + b) // 2
            children[q] = [build(a, mid), build(mid, b)]
        return q

    build(0, len(points))
    return perm, np.array(start), np.array(end), np.array(children)


def block_partition(rbox, rkids, cbox, ckids, eta: float):
    """Leaves of the block tree of a row and a column cluster tree (:func:`cluster_tree`).

    rbox, cbox : per cluster (lo (3,), hi (3,)) bounding box [m] (None for an empty cluster);
    rkids, ckids : (n_c, 2) children. Block (s, t) is admissible (returned in ``far``) if
    min(diam s, diam t) <= eta dist(s, t) with dist > 0; otherwise it is split (both
    clusters, or the one that is not a leaf) down to pairs of leaves (returned in ``near``).
    """
    near, far = [], []
    stack = [(0, 0)] if rbox and rbox[0] is not None else []
    while stack:
        a, b = stack.pop()
        (rlo, rhi), (clo, chi) = rbox[a], cbox[b]
        dist = np.linalg.norm(np.maximum(0.0, np.maximum(rlo - chi, clo - rhi)))
        if dist > 0 and min(np.linalg.norm(rhi - rlo), np.linalg.norm(chi - clo)) <= eta * dist:
            far.append((a, b))
        elif rkids[a, 0] < 0 and ckids[b, 0] < 0:
            near.append((a, b))
        else:
            ra = [a] if rkids[a, 0] < 0 else list(rkids[a])
            cb = [b] if ckids[b, 0] < 0 else list(ckids[b])
            stack.extend((x, y) for x in ra for y in cb)
    return near, far


class HMatrix:
    r"""Hierarchical-matrix form of the rows of B = L + diag(Omega_i/4pi - 1) owned by this rank
    (module docstring, "Compression").

    Parameters
    ----------
    x_rows : (n_r, 3) the rows' boundary vertices [m]; rowb : (n_r,) their boundary indices.
    tri : (n_t, 3, 3) boundary triangles [m]; cols : (n_t, 3) boundary index of each corner;
    nb : number of boundary vertices (columns).
    tol : relative accuracy of each low-rank block (Frobenius norm), 0 < tol < 1.
    dtype : storage of the blocks (float32 or float64; computed in double precision).
    leaf_size : largest cluster that is not split; eta : admissibility parameter,
        block (s, t) is low-rank if min(diam s, diam t) <= eta dist(s, t).
    n_random : random rows and columns checked when ACA stops; atol : entries of B below
        this count as zero (B is dimensionless, |B_ij| <= 1; coplanar pairs give ~1e-17).

    Attributes
    ----------
    shape : (n_r, nb); nbytes : bytes of the stored blocks and index arrays; diag : (n_r,)
    Omega_i / 4pi - 1 with Omega_i = -4pi (L_H 1)_i, so that B_H 1 = -1 to rounding;
    solid_angle : (n_r,) Omega_i [sr]; stats : block counts and ranks.
    """

    def __init__(self, x_rows, rowb, tri, cols, nb, tol=1e-5, dtype=np.float32, leaf_size=32, eta=2.0,
                 n_random=2, atol=1e-15):
        geo = triangle_geometry(tri)
        cols = np.ascontiguousarray(cols, dtype=np.int64)
        nr = len(x_rows)
        self.shape = (nr, nb)
        self.dtype = np.dtype(dtype)
        # ---- trees: rows (this rank's vertices) and columns (all boundary vertices)
        xb = np.empty((nb, 3))
        xb[cols.ravel()] = tri.reshape(-1, 3)
        self.row_perm, rs, re, rk = cluster_tree(np.asarray(x_rows), leaf_size)
        self.col_perm, cs, ce, ck = cluster_tree(xb, leaf_size)
        xr = np.ascontiguousarray(x_rows[self.row_perm], dtype=np.float64)
        rowb_t = np.asarray(rowb, dtype=np.int64)[self.row_perm]
        colpos = np.empty(nb, dtype=np.int64)
        colpos[self.col_perm] = np.arange(nb)
        order = np.argsort(cols.ravel(), kind="stable")
        v2t_idx = (order // 3).astype(np.int64)
        v2t_ptr = np.concatenate([[0], np.cumsum(np.bincount(cols.ravel(), minlength=nb))]).astype(np.int64)
        # triangles touching each column cluster (its support), children before parents
        ctris = [None] * len(cs)
        for q in range(len(cs) - 1, -1, -1):
            if ck[q, 0] < 0:
                v = self.col_perm[cs[q]:ce[q]]
                ctris[q] = np.unique(np.concatenate([v2t_idx[v2t_ptr[a]:v2t_ptr[a + 1]] for a in v]))
            else:
                ctris[q] = np.union1d(ctris[ck[q, 0]], ctris[ck[q, 1]])
        rbox = [(xr[a:b].min(axis=0), xr[a:b].max(axis=0)) if b > a else None for a, b in zip(rs, re)]
        cbox = [(tri[t].reshape(-1, 3).min(axis=0), tri[t].reshape(-1, 3).max(axis=0)) for t in ctris]
        near, far = block_partition(rbox, rk, cbox, ck, eta)
        # ---- blocks
        nblk, ndata, fblk, Us, Vs = [], [], [], [], []
        offs = [0, 0, 0]
        ranks = []

        def dense(a, b):
            out = np.empty((re[a] - rs[a], ce[b] - cs[b]))
            _near_block(xr, rowb_t, rs[a], re[a], cs[b], ce[b], ctris[b], colpos, cols, geo, out)
            nblk.append((rs[a], re[a], cs[b], ce[b], offs[0]))
            ndata.append(out.ravel().astype(self.dtype))
            offs[0] += out.size

        for a, b in near:
            dense(a, b)
        for q, (a, b) in enumerate(far):
            if min(re[a] - rs[a], ce[b] - cs[b]) < 2 * leaf_size:  # ACA would cost more than the block
                dense(a, b)
                continue
            U, V, k = _aca(rs[a], re[a], cs[b], ce[b], xr, rowb_t, ctris[b], colpos, self.col_perm, v2t_ptr,
                           v2t_idx, cols, geo, float(tol), float(atol), int(n_random), q)
            if k < 0:
                dense(a, b)
                continue
            ranks.append(k)
            fblk.append((rs[a], re[a], cs[b], ce[b], k, offs[1], offs[2]))
            Us.append(U.ravel().astype(self.dtype))
            Vs.append(V.ravel().astype(self.dtype))
            offs[1] += U.size
            offs[2] += V.size

        def cat(parts):
            return np.concatenate(parts) if parts else np.zeros(0, dtype=self.dtype)

        self._near = np.array(nblk, dtype=np.int64).reshape(-1, 5)
        self._near_data = cat(ndata)
        self._far = np.array(fblk, dtype=np.int64).reshape(-1, 7)
        self._U, self._V = cat(Us), cat(Vs)
        self._rowb = np.asarray(rowb, dtype=np.int64)
        self.diag = np.zeros(nr)
        Lones = self @ np.ones(nb)  # L_H 1 (diag still 0)
        self.solid_angle = -4.0 * math.pi * Lones
        self.diag = -Lones - 1.0
        self.stats = {"near_blocks": len(self._near), "far_blocks": len(ranks),
                      "max_rank": int(max(ranks, default=0)), "mean_rank": float(np.mean(ranks)) if ranks else 0.0}
        self.nbytes = int(sum(a.nbytes for a in (self._near, self._near_data, self._far, self._U, self._V,
                                                 self.diag, self.row_perm, self.col_perm, self._rowb)))

    def __matmul__(self, x: np.ndarray) -> np.ndarray:
        """B_H x for x (nb,) (any float dtype; summed in double precision); returns (n_r,)."""
        xp = np.ascontiguousarray(np.asarray(x, dtype=np.float64)[self.col_perm])
        yt = np.zeros(self.shape[0])
        _hmatvec(xp, yt, self._near, self._near_data, self._far, self._U, self._V)
        y = np.empty(self.shape[0])
        y[self.row_perm] = yt
        return y + self.diag * x[self._rowb]


@numba.njit(cache=True, fastmath=True)
def dense_matvec(B, x, out):
    """out = B x with B (n, m) stored in float32 or float64, x (m,) and out (n,) float64: products
    and sums in double precision, in a fixed order (8 rows at a time, each row summed by one
    vectorized loop; fastmath lets LLVM split a row's sum into SIMD lanes, the same way on every
    call). Memory-bound like BLAS sgemv on float32 B (9.2 vs 8.5 ms for 4,140 x 8,281 on the
    project's machine), without sgemv's single-precision sums: on a potential with large
    cancellations (the double layer of a thin film) those put noise of ~1e-4 of H_d into the
    field, which stalled the relaxation at ~40 A/m on a 1.25 nm edge mesh."""
    n, m = B.shape
    i = 0
    while i + 8 <= n:
        r0, r1, r2, r3, r4, r5, r6, r7 = B[i], B[i + 1], B[i + 2], B[i + 3], B[i + 4], B[i + 5], B[i + 6], B[i + 7]
        s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
        for j in range(m):
            xj = x[j]
            s0 += r0[j] * xj
            s1 += r1[j] * xj
            s2 += r2[j] * xj
            s3 += r3[j] * xj
            s4 += r4[j] * xj
            s5 += r5[j] * xj
            s6 += r6[j] * xj
            s7 += r7[j] * xj
        out[i], out[i + 1], out[i + 2], out[i + 3] = s0, s1, s2, s3
        out[i + 4], out[i + 5], out[i + 6], out[i + 7] = s4, s5, s6, s7
        i += 8
    while i < n:
        row = B[i]
        s = 0.0
        for j in range(m):
            s += row[j] * x[j]
        out[i] = s
        i += 1


class PlanarBlockMatrix:
    """This rank's rows of the dense B without the blocks that vanish analytically: the double
    layer of a triangle seen from a point in its own plane is zero (n.(x - y) = 0 in the kernel,
    module docstring), so B_ij = 0 for i != j whenever every boundary triangle around vertex j
    lies in a plane through x_i. On a flat film this is the top face seen from the top face and
    the bottom face from the bottom face (all but the rim vertices): 39 % of SP4's B (8,281
    boundary vertices), whose computed entries are round-off (<= 1e-7 of max |B|).

    Columns are grouped by plane (the vertices whose triangles all lie in one plane; planes with
    fewer than ``min_group`` such vertices, and vertices on an edge between planes, stay in one
    group that every row keeps); rows by the set of those planes they lie in. Each (row class,
    kept columns) block is stored dense (same dtype as B), the diagonal B_ii apart. A dropped
    entry larger than ``drop_tol`` max |B| raises ``RuntimeError`` (a plane test that does not hold).

    ``B`` (n_rows, n_b) dense rows, ``x_rows`` (n_rows, 3) [m] their vertices, ``rowb`` (n_rows,)
    their boundary indices, ``tri`` (n_t, 3, 3) boundary triangles [m], ``cols`` (n_t, 3) their
    boundary indices. ``self @ x`` (x (n_b,)) returns B x (n_rows,), summed in double precision by
    :func:`dense_matvec`; ``dropped_fraction``: share of B's entries left out.
    """

    def __init__(self, B, x_rows, rowb, tri, cols, drop_tol=1e-6, min_group=64):
        n_rows, nb = B.shape
        self.shape, self.dtype = B.shape, B.dtype
        p0 = tri[:, 0]
        nrm = np.cross(tri[:, 1] - p0, tri[:, 2] - p0)
        nrm /= np.linalg.norm(nrm, axis=1)[:, None]
        pts = tri.reshape(-1, 3)
        diam = float(np.linalg.norm(pts.max(axis=0) - pts.min(axis=0)))
        off = np.einsum("ij,ij->i", nrm, p0)
        key = np.round(np.column_stack([nrm, off / diam]) * 1e7).astype(np.int64)
        _, plane = np.unique(key, axis=0, return_inverse=True)
        plane = plane.ravel()
        lo = np.full(nb, np.iinfo(np.int64).max)
        hi = np.full(nb, -1)
        for c in range(3):
            np.minimum.at(lo, cols[:, c], plane)
            np.maximum.at(hi, cols[:, c], plane)
        group = np.where(lo == hi, lo, -1)  # the one plane of all triangles around the vertex, or -1
        ids, counts = np.unique(group[group >= 0], return_counts=True)
        big = ids[counts >= min_group]
        group[~np.isin(group, big)] = -1
        n_g = np.array([nrm[plane == g].mean(axis=0) for g in big]).reshape(-1, 3)
        d_g = np.array([off[plane == g].mean() for g in big])
        on_plane = np.abs(np.asarray(x_rows) @ n_g.T - d_g) <= 1e-9 * diam  # (n_rows, n_groups)
        classes, row_class = np.unique(on_plane, axis=0, return_inverse=True)
        row_class = row_class.ravel()
        self.diag = B[np.arange(n_rows), rowb].astype(np.float64)
        self._rowb = np.asarray(rowb)
        scale = float(np.abs(B).max()) if B.size else 1.0
        self.blocks, dropped = [], 0
        for c, zero in enumerate(classes):
            rows = np.flatnonzero(row_class == c)
            drop = np.isin(group, big[zero]) if zero.any() else np.zeros(nb, dtype=bool)
            keep = np.flatnonzero(~drop)
            if drop.any():
                dcols = np.flatnonzero(drop)
                Bd = B[np.ix_(rows, dcols)]
                Bd[dcols[None, :] == self._rowb[rows][:, None]] = 0.0  # the diagonal is kept apart
                worst = float(np.abs(Bd).max()) if Bd.size else 0.0
                if worst > drop_tol * scale:
                    raise RuntimeError(f"PlanarBlockMatrix: an entry left out is {worst / scale:.1e} of max |B|")
                dropped += Bd.size
            block = np.ascontiguousarray(B[np.ix_(rows, keep)])
            on_diag = drop[self._rowb[rows]]  # the row's own column was left out
            self.blocks.append((rows, keep, block, on_diag))
        self.dropped_fraction = dropped / max(B.size, 1)
        self.nbytes = sum(b.nbytes for _, _, b, _ in self.blocks) + self.diag.nbytes
        self._out = np.empty(max((len(r) for r, _, _, _ in self.blocks), default=0))

    def __matmul__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        y = np.empty(self.shape[0])
        for rows, keep, block, on_diag in self.blocks:
            out = self._out[: len(rows)]
            dense_matvec(block, x[keep], out)
            y[rows] = out
            # the diagonal of a row whose own column was left out (its plane's group)
            y[rows[on_diag]] += self.diag[rows[on_diag]] * x[self._rowb[rows[on_diag]]]
        return y


def compile_kernels():
    """Compile (or load from numba's on-disk cache) every kernel of this module, on two 2 x 2
    squares 10 apart; returns the seconds it took. Lets timings exclude the one-off JIT cost."""
    t0 = time.perf_counter()
    g = np.array([[i, j, 0.0] for j in range(3) for i in range(3)])
    quads = [(a + 3 * b, a + 1 + 3 * b, a + 4 + 3 * b, a + 3 + 3 * b) for a in range(2) for b in range(2)]
    tri_v = np.array([(q[0], q[1], q[2]) for q in quads] + [(q[0], q[2], q[3]) for q in quads])
    x = np.vstack([g, g[::-1] + [0.0, 0.0, 10.0]])  # second square facing down
    cols = np.vstack([tri_v, tri_v + 9])
    tri = x[cols]
    double_layer_matrix(x[:2], np.arange(2), tri, cols, 18, np.float32)
    H = HMatrix(x, np.arange(18), tri, cols, 18, tol=1e-2, leaf_size=4)
    assert H.stats["far_blocks"] > 0
    for dt in (np.float32, np.float64):
        dense_matvec(np.zeros((9, 3), dtype=dt), np.zeros(3), np.zeros(9))
    return time.perf_counter() - t0


class FemBemStrayField(PotentialField):
    """Stray field of the magnetic regions by FEM-BEM (Fredkin-Koehler); see the module docstring.

    Parameters
    ----------
    domain : Domain with at least one magnetic region; other regions (if any) are ignored.
    Vm : vector P1 space of m (default: created on the mesh).
    chunk_pairs : (point, triangle) pairs per vectorized block of the numpy reference
        (``kernel="numpy"``; memory).
    dense_dtype : storage of B (dense matrix or H-matrix blocks), ``"float32"`` (default) or
        ``"float64"``. B is computed in double precision; single-precision storage halves the
        memory and the memory traffic of the per-solve mat-vec (which is bandwidth-bound). Both
        mat-vecs (dense: :func:`dense_matvec`; H-matrix) multiply and sum in double precision,
        so float32 storage only rounds the entries (a fixed operator ~1e-7 from B, no noise
        from one solve to the next).
    compression : ``"planar"`` (default, :class:`PlanarBlockMatrix`: the dense B without the
        blocks that vanish between coplanar faces, 39 % of SP4's B; the same field to ~1e-12),
        ``None`` (all of the dense B, an ``ndarray``) or ``"aca"`` (:class:`HMatrix`, module
        docstring "Compression").
    tol : relative accuracy of each ACA block (``compression="aca"``), 1e-12 <= tol <= 1e-2;
        H_d changes by ~tol / 2 relative (RMS; SP4 film).
    kernel : ``"numba"`` (default, :func:`double_layer_matrix`) or ``"numpy"`` (the
        vectorized reference :func:`lindholm_weights`; not with ``"aca"``).

    Attributes
    ----------
    u : total potential u1 + u2 [A] (scalar P1), H : nodal H_d [A/m] (Vm),
    num_boundary_nodes : global number of boundary vertices n_b, setup_s : setup time [s],
    setup_timings : its parts [s] (``"boundary"``, ``"bem_matrix"``, ``"fem"``),
    B : this rank's rows of B (``ndarray`` (n_rows, n_b), :class:`HMatrix` or :class:`PlanarBlockMatrix`),
    operator_bytes : bytes of B summed over the ranks, dropped_fraction : share of all of B's
    entries that ``compression="planar"`` leaves out (0 otherwise), solid_angle : (n_rows,) Omega_i [sr],
    boundary_triangles : (n_t, 3, 3) corners of all boundary triangles [m] (outward
    counter-clockwise), boundary_corners : (n_t, 3) their boundary indices, row_points :
    (n_rows, 3) this rank's boundary vertices [m], row_boundary_index : (n_rows,) theirs.

    Raises
    ------
    ParameterError for an option out of range; MeshError if no region is magnetic or the
    magnets have no boundary triangles; SolverError if a factorization fails.
    """

    def __init__(self, domain, Vm=None, chunk_pairs: int = 1_500_000, dense_dtype: str = "float32",
                 compression: Optional[str] = "planar", tol: float = 1e-5, kernel: str = "numba"):
        t0 = time.perf_counter()
        mags = domain.magnetic_regions
        if not mags:
            raise MeshError(f"{domain.source}: no region has a material with Ms > 0")
        if int(chunk_pairs) < 1:
            raise ParameterError("chunk_pairs", f"must be >= 1, got {chunk_pairs!r}")
        if dense_dtype not in ("float32", "float64"):
            raise ParameterError("dense_dtype", f"must be 'float32' or 'float64', got {dense_dtype!r}")
        if compression not in (None, "aca", "planar"):
            raise ParameterError("compression", f"must be None, 'aca' or 'planar', got {compression!r}")
        if not 1e-12 <= float(tol) <= 1e-2:
            raise ParameterError("tol", f"must be in [1e-12, 1e-2], got {tol!r}")
        if kernel not in ("numba", "numpy") or (kernel == "numpy" and compression == "aca"):
            raise ParameterError("kernel", f"must be 'numba' or 'numpy' (not with 'aca'), got {kernel!r}")
        self.domain = domain
        self.magnetic_regions = mags
        mesh = domain.mesh
        self.comm = comm = mesh.comm
        self.V = V = _compat.function_space(mesh, "CG", 1)
        self.Vm = Vm or _compat.function_space(mesh, "CG", 1, shape=(3,))
        self.u = dolfinx.fem.Function(V, name="u")
        self.u1 = dolfinx.fem.Function(V, name="u1")
        self.u2 = dolfinx.fem.Function(V, name="u2")
        self.H = dolfinx.fem.Function(self.Vm, name="H_d")
        im = V.dofmap.index_map
        self.n_owned = no = im.size_local
        self.r0 = r0 = im.local_range[0]
        n_local = no + im.num_ghosts

        # ---- boundary triangles of the magnetic set, gathered on every rank
        tb = time.perf_counter()
        tri_g, tri_x = self._boundary_triangles()
        self.boundary_dofs_global = gb = np.unique(tri_g.ravel())
        nb = len(gb)
        if nb == 0:
            raise MeshError(f"{domain.source}: the magnetic regions {mags} have no boundary triangles")
        self.num_boundary_nodes = nb
        own = (gb >= r0) & (gb < r0 + no)
        self._own_rows_local = (gb[own] - r0).astype(np.int32)  # local dof indices of my rows
        counts = comm.allgather(int(own.sum()))
        self._counts = np.array(counts)
        self._displs = np.concatenate([[0], np.cumsum(counts)[:-1]])
        self._row0 = int(self._displs[comm.rank])
        x_rows = V.tabulate_dof_coordinates()[self._own_rows_local]
        cols = np.searchsorted(gb, tri_g)  # (n_t, 3) boundary index of each corner
        t1 = time.perf_counter()
        dtype = np.dtype(dense_dtype)
        rowb = self._row0 + np.arange(len(x_rows))  # boundary index (column) of each of my rows
        self.boundary_triangles, self.boundary_corners = tri_x, cols
        self.row_points, self.row_boundary_index = x_rows, rowb
        if compression == "aca":
            self.B = HMatrix(x_rows, rowb, tri_x, cols, nb, tol=float(tol), dtype=dtype)
            self.solid_angle = self.B.solid_angle
        else:
            if kernel == "numba":
                self.B, self.solid_angle = double_layer_matrix(x_rows, rowb, tri_x, cols, nb, dtype)
            else:
                self.B, self.solid_angle = double_layer_matrix_numpy(x_rows, rowb, tri_x, cols, nb, dtype,
                                                                     int(chunk_pairs))
            if compression == "planar":
                self.B = PlanarBlockMatrix(self.B, x_rows, rowb, tri_x, cols)
        self.compression = compression
        self.operator_bytes = comm.allreduce(int(self.B.nbytes), op=MPI.SUM)
        dropped = self.B.dropped_fraction * self.B.shape[0] * nb if compression == "planar" else 0.0
        self.dropped_fraction = comm.allreduce(dropped, op=MPI.SUM) / nb**2
        t2 = time.perf_counter()

        # ---- FEM operators (magnetic cells; identity rows elsewhere)
        dxm = domain.measure(mags)
        u, v = ufl.TrialFunction(V), ufl.TestFunction(V)
        a2, bc_off, outside = domain.restricted_form(ufl.inner(ufl.grad(u), ufl.grad(v)) * dxm, u, v, mags)
        active = np.ones(n_local, dtype=bool)
        active[outside] = False
        # u1: Neumann problem, made non-singular by a tiny mass shift delta ~ 1e-9 / diam^2
        # (changes u1 by a relative ~1e-9 and, through the free constant, nothing in u)
        xg = V.tabulate_dof_coordinates()[:n_local][active]
        lo = np.empty(3)
        hi = np.empty(3)
        comm.Allreduce(xg.min(axis=0) if len(xg) else np.full(3, np.inf), lo, op=MPI.MIN)
        comm.Allreduce(xg.max(axis=0) if len(xg) else np.full(3, -np.inf), hi, op=MPI.MAX)
        diam = float(np.linalg.norm(hi - lo))
        delta = dolfinx.fem.Constant(mesh, PETSc.ScalarType(1e-9 / diam**2))
        self.K1 = _compat.assemble_matrix(_compat.form(a2 + delta * u * v * dxm), bcs=[bc_off])
        self.K0 = _compat.assemble_matrix(_compat.form(a2))
        bl = np.zeros(n_local, dtype=bool)
        gl = im.local_to_global(np.arange(n_local, dtype=np.int32))
        bl[np.isin(gl, gb)] = True
        self._bdofs_local = np.flatnonzero(bl).astype(np.int32)
        # u2: only the vertices inside the magnets are unknown (u2 = g on the boundary, 0 outside), so
        # the Dirichlet problem is solved on them alone, K_II u2_I = -(K0 g)_I: a thin film has almost
        # none (SP4: 36 of 8,317), and the LU solve of the full system with identity rows on the
        # boundary cost 4 ms per field evaluation on 2 ranks
        interior = np.ones(no, dtype=bool)
        interior[outside[outside < no]] = False
        interior[self._bdofs_local[self._bdofs_local < no]] = False
        self._interior_local = np.flatnonzero(interior).astype(np.int32)
        self.num_interior_nodes = comm.allreduce(len(self._interior_local), op=MPI.SUM)
        self._is_interior = PETSc.IS().createGeneral((r0 + self._interior_local).astype(PETSc.IntType), comm=comm)
        self.Ms = domain.material_field("Ms")
        mt, phi = ufl.TrialFunction(self.Vm), ufl.TestFunction(self.Vm)
        self.Bm = _compat.assemble_matrix(_compat.form(self.Ms * ufl.inner(mt, ufl.grad(v)) * dxm))
        self.C = _compat.assemble_matrix(_compat.form(-ufl.inner(ufl.grad(u), phi) * dxm))
        self._inv_lumped = _inverse_lumped_mass(self.Vm, dxm)
        self.b = self.K1.createVecLeft()
        self.b2 = self.K0.createVecLeft()
        self._g = self.K0.createVecRight()
        self.ksp1 = self._cholesky(self.K1)
        self.K2 = self.ksp2 = None
        if self.num_interior_nodes:
            self.K2 = self.K0.createSubMatrix(self._is_interior, self._is_interior)
            self.ksp2 = self._cholesky(self.K2)
            self._x2 = self.K2.createVecRight()
        self._ub_own = np.empty(len(self._own_rows_local))
        self._ub = np.empty(nb)
        # the dense mat-vec (dense_matvec) and the H-matrix one take the double-precision u1 and
        # sum in double precision, in a fixed order (repeatable to the last bit)
        self._g_out = np.empty(len(self._own_rows_local))
        self.timings = {"fem": 0.0, "bem": 0.0}
        self.setup_s = time.perf_counter() - t0
        self.setup_timings = {"boundary": t1 - tb, "bem_matrix": t2 - t1, "fem": time.perf_counter() - t2 + tb - t0}

    # ------------------------------------------------------------------ setup helpers
    def _cholesky(self, A):
        """Sparse Cholesky factorization of the symmetric positive definite A (PETSc's own, nested-
        dissection ordering). On several ranks the factorization is redundant (PCREDUNDANT: the matrix
        gathered onto every rank and factored there): for the magnets-only Poisson problems (~1e4-1e5
        dofs) this is faster than a distributed factorization (4.1 vs 7.5 ms CPU per solve on the seed
        device at 10 nm, 2 ranks, with MUMPS) and repeatable, while distributed MUMPS assembles
        contributions in message-arrival order and changed the last bits of u from run to run. PETSc's
        Cholesky is used instead of MUMPS LU because its triangular solves are faster at these sizes:
        2.5 against 7.6 ms per solve at 15,672 dofs (SP4, 3 cells through the film), 18 against 43 ms
        at 66,130, for a 1-3x longer factorization done once (0.25 / 3.4 s against 0.17 / 1.1 s).
        Both matrices are positive definite by construction (K1 through its mass shift), so only an
        exactly zero pivot is a failure: PETSc's default threshold (2.2e-14 of the row sum) rejects the
        shift's legitimate last pivot (~delta |Omega|)."""
        ksp = PETSc.KSP().create(self.comm)
        prefix = f"fem_stt_fembem_{next(_counter)}_"
        ksp.setOptionsPrefix(prefix)
        ksp.setOperators(A)
        ksp.setType("preonly")
        pc = ksp.getPC()
        sub = f"{prefix}redundant_" if self.comm.size > 1 else prefix
        if self.comm.size > 1:
            pc.setType("redundant")
        opts = PETSc.Options()
        keys = {f"{sub}pc_type": "cholesky", f"{sub}pc_factor_mat_solver_type": "petsc",
                f"{sub}pc_factor_mat_ordering_type": "nd", f"{sub}pc_factor_zeropivot": 1e-300}
        for key, value in keys.items():
            opts[key] = value
        ksp.setFromOptions()
        try:
            ksp.setUp()
        except PETSc.Error as e:
            raise SolverError(f"FEM-BEM: Cholesky factorization failed ({e})") from e
        finally:
            for key in keys:  # read by setUp; do not leave them in the global options database
                opts.delValue(key)
        return ksp

    def _boundary_triangles(self):
        """All boundary triangles of the magnetic cells, on every rank.

        Returns (tri_g (n_t, 3) global P1 dof indices, tri_x (n_t, 3, 3) corners [m]), corners
        counter-clockwise about the outward normal. A facet is a boundary facet if exactly
        one of its cells is magnetic; only facets of owned cells are inspected (their other
        cell is present as a ghost: DOLFINx's default shared-facet ghosting), then duplicates
        across ranks are removed.
        """
        dom, V = self.domain, self.V
        mesh = dom.mesh
        top = mesh.topology
        top.create_connectivity(2, 3)
        top.create_connectivity(3, 2)
        top.create_connectivity(2, 0)
        nc_own = top.index_map(3).size_local
        nc = nc_own + top.index_map(3).num_ghosts
        if self.comm.size > 1 and self.comm.allreduce(top.index_map(3).num_ghosts, op=MPI.SUM) == 0:
            raise MeshError("FEM-BEM needs a mesh distributed with ghost cells (GhostMode.shared_facet)")
        is_mag = np.zeros(nc, dtype=bool)
        is_mag[dom.cells(self.magnetic_regions)] = True
        c2f = top.connectivity(3, 2).array.reshape(-1, 4)
        f2c = top.connectivity(2, 3)
        cand = np.unique(c2f[:nc_own][is_mag[:nc_own]].ravel())
        off = f2c.offsets
        ncell = off[cand + 1] - off[cand]
        first = f2c.array[off[cand]]
        second = np.where(ncell > 1, f2c.array[np.minimum(off[cand] + 1, len(f2c.array) - 1)], -1)
        nmag = is_mag[first].astype(int) + np.where(second >= 0, is_mag[np.maximum(second, 0)], False)
        sel = nmag == 1
        facets, first, second = cand[sel], first[sel], second[sel]
        mag_cell = np.where(is_mag[first], first, second)
        # vertex -> P1 dof (P1 dof j of a cell sits at its local vertex j)
        c2v = top.connectivity(3, 0).array.reshape(-1, 4)
        cdofs = V.dofmap.list.array.reshape(-1, 4)
        v2d = np.empty(top.index_map(0).size_local + top.index_map(0).num_ghosts, dtype=np.int64)
        v2d[c2v] = cdofs
        fv = top.connectivity(2, 0).array.reshape(-1, 3)[facets]
        fd = v2d[fv]  # local dofs (n_f, 3)
        X = V.tabulate_dof_coordinates()
        px = X[fd]  # (n_f, 3, 3)
        centroid = X[cdofs[mag_cell]].mean(axis=1)
        nrm = np.cross(px[:, 1] - px[:, 0], px[:, 2] - px[:, 0])
        flip = np.einsum("ij,ij->i", nrm, px[:, 0] - centroid) < 0
        fd[flip] = fd[flip][:, [0, 2, 1]]
        px[flip] = px[flip][:, [0, 2, 1]]
        gd = V.dofmap.index_map.local_to_global(fd.ravel().astype(np.int32)).reshape(-1, 3)
        all_g = np.vstack(self.comm.allgather(gd.astype(np.int64)))
        all_x = np.vstack(self.comm.allgather(px))
        _, keep = np.unique(np.sort(all_g, axis=1), axis=0, return_index=True)
        keep = np.sort(keep)
        return all_g[keep], all_x[keep]

    # ------------------------------------------------------------------ interface
    def solve(self, m) -> dolfinx.fem.Function:
        """Compute u and H_d for the unit magnetization ``m``.

        Parameters
        ----------
        m : Function in ``Vm`` (vector P1, values (n_vertices, 3), unitless); only its values
            on magnetic cells matter.

        Returns
        -------
        H_d : Function in ``Vm`` [A/m], the lumped L2 projection of -grad u onto the
            magnetic vertices (0 elsewhere); ``self.u`` holds u = u1 + u2 [A].
        """
        t0 = time.perf_counter()
        self.Bm.mult(m.vector, self.b)
        self.ksp1.solve(self.b, self.u1.vector)
        t1 = time.perf_counter()
        u1 = self.u1.vector.array_r
        self._ub_own[:] = u1[self._own_rows_local]
        self.comm.Allgatherv(self._ub_own, [self._ub, self._counts, self._displs, MPI.DOUBLE])
        if isinstance(self.B, np.ndarray):
            dense_matvec(self.B, self._ub, self._g_out)
            g = self._g_out
        else:
            g = self.B @ self._ub
        t2 = time.perf_counter()
        self._g.set(0.0)
        self._g.array[self._own_rows_local] = g
        u2 = self.u2.vector
        u2.set(0.0)
        u2.array[self._own_rows_local] = g
        if self.ksp2 is not None:
            self.K0.mult(self._g, self.b2)
            self.b2.scale(-1.0)
            b_i = self.b2.getSubVector(self._is_interior)
            self.ksp2.solve(b_i, self._x2)
            self.b2.restoreSubVector(self._is_interior, b_i)
            u2.array[self._interior_local] = self._x2.array_r
        if self.ksp1.getConvergedReason() < 0 or (self.ksp2 is not None and self.ksp2.getConvergedReason() < 0):
            raise SolverError("FEM-BEM: a potential solve failed")
        self.u.vector.waxpy(1.0, self.u1.vector, self.u2.vector)
        self.u.x.scatter_forward()
        self.C.mult(self.u.vector, self.H.vector)
        self.H.vector.pointwiseMult(self.H.vector, self._inv_lumped)
        self.H.x.scatter_forward()
        t3 = time.perf_counter()
        self.timings["fem"] += (t1 - t0) + (t3 - t2)
        self.timings["bem"] += t2 - t1
        return self.H
