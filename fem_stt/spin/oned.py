"""Exact 1D reference solver for steady spin diffusion in a layered stack.

This module is the independent reference against which the 3D finite-element spin
solver is tested. It uses only numpy (and nothing from the finite-element code) and is
accurate to about 1e-12 relative.

Physics
-------
Zhang, Levy & Fert, PRL 88, 236601 (2002), eqs. for the spin current and continuity;
moment closure: seed 002 'Comparison results'. SI units throughout.

Layers are stacked along z, starting at z = 0 at the bottom. A uniform charge current
density ``j_e`` [A/m^2] flows along +z (signed; the z-component of the charge current
density vector). The unknowns are the spin accumulation ``s(z)`` in R^3 [A/m] and the
z-component of the spin current ``J(z)`` in R^3 [A/s] (a spin vector). In each layer
(constant parameters)::

    R  = c m j_e - 2 D0 ( s' - beta beta' m (m . s') )
    J  = P R,     P = (I + kappa [m]x + kappa^2 m m^T) / (1 + kappa^2 |m|^2)
    J' = -2 D0 s / lambda_sf^2 - (2 D0 / lambda_J^2) (s x m)

with ``c = beta MU_B / q_e`` [m^2/s], ``q_e = -E_CHARGE`` the electron charge,
``[m]x v = m x v`` and ``P = I`` when ``m = 0``. (``P`` is the inverse of ``A^T``,
``A = I + kappa [m]x``, i.e. ``J - kappa m x J = R``.) The ``s x m`` term is absent when
``lambda_J is None``. ``s`` and ``J`` are continuous at every internal interface; at the
outer faces (z = 0 and z = top) the diffusive part vanishes, ``s' = 0``, equivalently
``J = c m j_e`` (because ``P m = m`` for unit ``m``).

Method
------
In each layer ``y = (s, J)`` obeys ``y' = M y + b`` with::

    M = [[0, -(1/(2 D0)) D^-1 P^-1], [K, 0]],   b = [(c j_e / (2 D0)) D^-1 m, 0],
    D = I - beta beta' m m^T,   K = -(2 D0/lambda_sf^2) I + (2 D0/lambda_J^2) [m]x.

The particular solution is the constant ``y_p = -M^-1 b = (0, c j_e m)``. The
homogeneous solutions are ``v exp(mu z)`` with ``mu^2`` an eigenvalue of
``N = -(1/(2 D0)) D^-1 P^-1 K`` (eigenvector ``w``) and ``v = (w, -2 D0 mu P D w)``; so
the eigenvalues of ``M`` come in +/- pairs ``mu = +/- sqrt(nu)``. ``N`` commutes with
rotations about ``m``, so its eigenvectors are known in closed form: ``m`` and
``e1 -/+ i e2`` (``e1, e2, m`` right-handed orthonormal); for ``m = 0``, ``e_x, e_y,
e_z``. The eigenvalues ``nu`` are computed as Rayleigh quotients of ``N`` and the
eigen-residual is checked. Since ``Re(mu) != 0`` for every mode, each exponential is
anchored at the layer end where it is largest (right end for ``Re(mu) > 0``, left end
otherwise) so that every exponential is <= 1 inside its layer. No transfer matrices
are used: one global complex linear system (6 coefficients per layer, rows equilibrated)
is assembled from the outer-face and interface conditions and solved with numpy. The
result is real to rounding; the imaginary parts are checked.

:func:`collinear_closed_form` is a second, independent real solution for stacks whose
magnetizations are all parallel or antiparallel to one axis.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence

import numpy as np

from fem_stt.constants import E_CHARGE, MU_B
from fem_stt.errors import ParameterError, require_nonnegative, require_positive

__all__ = ["Layer1D", "Solution1D", "solve_stack_1d", "collinear_closed_form"]

#: electron charge [C] (negative)
Q_E = -E_CHARGE

_UNIT_TOL = 1e-9  # |m| must be within this of 1 (then m is normalized)
_IMAG_TOL = 1e-9  # relative size of imaginary parts tolerated in the complex solution


@dataclass(frozen=True)
class Layer1D:
    """One layer of the stack (all quantities SI).

    Attributes
    ----------
    thickness : float
        Layer thickness [m], > 0.
    D0 : float
        Diffusion constant [m^2/s], > 0.
    lambda_sf : float
        Spin-flip length [m], > 0 and finite.
    lambda_J : float or None
        Exchange (s-d) length [m], > 0; ``None`` = non-magnetic, no ``s x m`` term.
        When set, ``m`` must be given.
    beta, beta_prime : float
        Spin polarizations of conductivity and diffusion constant (dimensionless,
        ``beta * beta_prime < 1``; 0 in non-magnets).
    m : sequence of 3 floats or None
        Magnetization direction (unit vector; normalized if its norm is within 1e-9 of
        1). ``None`` or the zero vector marks a non-magnet: then ``beta``,
        ``beta_prime`` and ``kappa`` have no effect (``c m = 0``, ``D = P = I``).
    kappa : float
        Moment-closure parameter (dimensionless), >= 0; 0 = plain diffusion.
    """

    thickness: float
    D0: float
    lambda_sf: float
    lambda_J: Optional[float] = None
    beta: float = 0.0
    beta_prime: float = 0.0
    m: Optional[Sequence[float]] = None
    kappa: float = 0.0


@dataclass(frozen=True)
class _Params:
    """Validated layer parameters (m normalized, or zeros for a non-magnet)."""

    L: float
    D0: float
    lsf: float
    lJ: Optional[float]
    beta: float
    bbp: float
    m: np.ndarray
    magnetic: bool
    kappa: float

    @property
    def c(self) -> float:
        """c = beta MU_B / q_e [m^2/s]."""
        return self.beta * MU_B / Q_E


def _validate_layers(layers: Sequence[Layer1D]) -> List[_Params]:
    if isinstance(layers, Layer1D):
        raise ParameterError("layers", "must be a sequence of Layer1D, got a single Layer1D")
    try:
        layers = list(layers)
    except TypeError:
        raise ParameterError("layers", f"must be a sequence of Layer1D, got {type(layers).__name__}") from None
    if not layers:
        raise ParameterError("layers", "must contain at least one layer, got an empty sequence")
    out = []
    for k, lay in enumerate(layers):
        name = f"layers[{k}]"
        if not isinstance(lay, Layer1D):
            raise ParameterError(name, f"must be a Layer1D, got {type(lay).__name__}")
        L = require_positive(f"{name}.thickness", lay.thickness, "m")
        D0 = require_positive(f"{name}.D0", lay.D0, "m^2/s")
        lsf = require_positive(f"{name}.lambda_sf", lay.lambda_sf, "m")
        lJ = None if lay.lambda_J is None else require_positive(f"{name}.lambda_J", lay.lambda_J, "m")
        kappa = require_nonnegative(f"{name}.kappa", lay.kappa)
        vals = {}
        for attr in ("beta", "beta_prime"):
            try:
                v = float(getattr(lay, attr))
            except (TypeError, ValueError):
                raise ParameterError(f"{name}.{attr}", f"must be a real number, got {getattr(lay, attr)!r}") from None
            if not math.isfinite(v):
                raise ParameterError(f"{name}.{attr}", f"must be finite, got {v!r}")
            vals[attr] = v
        bbp = vals["beta"] * vals["beta_prime"]
        if not bbp < 1.0:
            raise ParameterError(f"{name}.beta*beta_prime",
                                 f"must be < 1, got {vals['beta']!r}*{vals['beta_prime']!r} = {bbp!r}")
        if lay.m is None:
            m = np.zeros(3)
        else:
            try:
                m = np.asarray(lay.m, dtype=float)
            except (TypeError, ValueError):
                raise ParameterError(f"{name}.m", f"must be a 3-vector of reals, got {lay.m!r}") from None
            if m.shape != (3,) or not np.all(np.isfinite(m)):
                raise ParameterError(f"{name}.m", f"must be a finite 3-vector, got {lay.m!r}")
        norm = float(np.linalg.norm(m))
        magnetic = norm != 0.0
        if magnetic:
            if abs(norm - 1.0) > _UNIT_TOL:
                raise ParameterError(f"{name}.m", f"must be a unit vector (|m| within {_UNIT_TOL:g} of 1) "
                                                  f"or None/zero for a non-magnet, got |m| = {norm!r}")
            m = m / norm
        elif lJ is not None:
            raise ParameterError(f"{name}.m", f"must be a unit vector when lambda_J is set "
                                              f"(lambda_J = {lJ!r} m), got {lay.m!r}")
        out.append(_Params(L, D0, lsf, lJ, vals["beta"], bbp if magnetic else 0.0, m, magnetic,
                           kappa if magnetic else 0.0))
    return out


def _validate_j_e(j_e) -> float:
    try:
        j = float(j_e)
    except (TypeError, ValueError):
        raise ParameterError("j_e", f"must be a real number in A/m^2, got {j_e!r}") from None
    if not math.isfinite(j):
        raise ParameterError("j_e", f"must be finite (A/m^2), got {j_e!r}")
    return j


def _cross_matrix(m: np.ndarray) -> np.ndarray:
    """[m]x with [m]x v = m x v."""
    return np.array([[0.0, -m[2], m[1]], [m[2], 0.0, -m[0]], [-m[1], m[0], 0.0]])


def _layer_matrices(p: _Params):
    """Return (P, D, K, N) of one layer, all (3, 3) real arrays."""
    I = np.eye(3)
    if p.magnetic:
        mx = _cross_matrix(p.m)
        mm = np.outer(p.m, p.m)
        P = (I + p.kappa * mx + p.kappa ** 2 * mm) / (1.0 + p.kappa ** 2)
        D = I - p.bbp * mm
        K = -(2.0 * p.D0 / p.lsf ** 2) * I
        if p.lJ is not None:
            K = K + (2.0 * p.D0 / p.lJ ** 2) * mx  # -(2D0/lJ^2) s x m = +(2D0/lJ^2) m x s
        Pinv = I - p.kappa * mx
        N = -(1.0 / (2.0 * p.D0)) * np.linalg.solve(D, Pinv @ K)
    else:
        P = D = I
        K = -(2.0 * p.D0 / p.lsf ** 2) * I
        N = I / p.lsf ** 2
    return P, D, K, N


def _layer_modes(p: _Params):
    """Eigen-modes of y' = M y + b in one layer.

    Returns
    -------
    mu : (6,) complex
        Eigenvalues of M (three with Re > 0, their negatives).
    V : (6, 6) complex
        Column j is the eigenvector (w, -2 D0 mu_j P D w) with |w| = 1.
    """
    P, D, _K, N = _layer_matrices(p)
    if p.magnetic:
        m = p.m
        a = np.array([1.0, 0.0, 0.0]) if abs(m[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
        e1 = a - (a @ m) * m
        e1 /= np.linalg.norm(e1)
        e2 = np.cross(m, e1)
        W = np.stack([m.astype(complex), (e1 - 1j * e2) / math.sqrt(2.0), (e1 + 1j * e2) / math.sqrt(2.0)], axis=1)
    else:
        W = np.eye(3, dtype=complex)
    nu = np.einsum("ij,ik,kj->j", W.conj(), N, W)  # Rayleigh quotients (|w| = 1)
    res = np.linalg.norm(N @ W - W * nu, axis=0)
    if np.any(res > 1e-12 * np.abs(nu)):  # pragma: no cover - algebraic identity
        raise RuntimeError(f"internal error: eigenvector residual {res} too large for nu = {nu}")
    root = np.sqrt(nu)  # principal root, Re > 0 because nu is never on (-inf, 0]
    if np.any(root.real <= 0.0):  # pragma: no cover
        raise RuntimeError(f"internal error: purely oscillatory mode, nu = {nu}")
    mu = np.concatenate([root, -root])
    Ws = np.concatenate([W, W], axis=1)
    PDW = (P @ D) @ Ws
    V = np.concatenate([Ws, -2.0 * p.D0 * mu[None, :] * PDW], axis=0)
    return mu, V


class Solution1D:
    """Solution of :func:`solve_stack_1d`; evaluate with :meth:`s`, :meth:`J`, :meth:`s_prime`.

    Attributes
    ----------
    interfaces : ndarray, shape (n_layers + 1,)
        z [m] of all layer boundaries, ``interfaces[0] = 0``, ``interfaces[-1]`` = top.
    layers : tuple of Layer1D
        The layers as given.
    j_e : float
        Charge current density along +z [A/m^2].

    Evaluation points ``z`` are array-likes of shape (n,) (a scalar counts as shape (1,))
    in ``[0, top]`` [m]; points outside by more than 1e-12 * top raise ``ValueError``.
    A point on an internal interface is evaluated in the layer above it (``s`` and ``J``
    are continuous there, so either side gives the same value to rounding).
    """

    def __init__(self, layers, params, j_e, interfaces, mus, anchors, Vs, coeffs, y_ps):
        self.layers = tuple(layers)
        self.j_e = j_e
        self.interfaces = interfaces
        self._params = params
        self._mus = mus
        self._anchors = anchors
        self._Vs = Vs
        self._coeffs = coeffs
        self._y_ps = y_ps

    # -- helpers -----------------------------------------------------------------------
    def _as_z(self, z) -> np.ndarray:
        z = np.asarray(z, dtype=float)
        if z.ndim == 0:
            z = z.reshape(1)
        if z.ndim != 1:
            raise ValueError(f"z must have shape (n,), got shape {z.shape}")
        top = self.interfaces[-1]
        tol = 1e-12 * top
        if np.any(~np.isfinite(z)) or np.any(z < -tol) or np.any(z > top + tol):
            bad = z[~((z >= -tol) & (z <= top + tol))]
            raise ValueError(f"z must lie in [0, {top!r}] m, got e.g. {bad[0]!r}")
        return np.clip(z, 0.0, top)

    def layer_of(self, z) -> np.ndarray:
        """Index of the layer containing each z.

        Parameters
        ----------
        z : array-like, shape (n,), m.

        Returns
        -------
        ndarray of int, shape (n,). Layer k holds ``interfaces[k] <= z < interfaces[k+1]``;
        the top face belongs to the last layer.

        Raises
        ------
        ValueError if z is not 1D or lies outside ``[0, top]``.
        """
        z = self._as_z(z)
        idx = np.searchsorted(self.interfaces, z, side="right") - 1
        return np.clip(idx, 0, len(self._params) - 1)

    def _eval(self, z, part: slice, derivative: bool = False) -> np.ndarray:
        z = self._as_z(z)
        idx = self.layer_of(z)
        out = np.zeros((z.size, 3))
        for k in np.unique(idx):
            sel = idx == k
            mu, V, a = self._mus[k], self._Vs[k], self._coeffs[k]
            E = np.exp(mu[None, :] * (z[sel, None] - self._anchors[k][None, :]))  # |E| <= 1
            if derivative:
                y = (E * (a * mu)[None, :]) @ V.T
            else:
                y = self._y_ps[k][None, :] + (E * a[None, :]) @ V.T
            out[sel] = y[:, part].real
        return out

    # -- public ------------------------------------------------------------------------
    def s(self, z) -> np.ndarray:
        """Spin accumulation s(z) [A/m], shape (n, 3), for z of shape (n,) [m]."""
        return self._eval(z, slice(0, 3))

    def J(self, z) -> np.ndarray:
        """z-component of the spin current J(z) [A/s], shape (n, 3), for z of shape (n,) [m]."""
        return self._eval(z, slice(3, 6))

    def s_prime(self, z) -> np.ndarray:
        """Exact derivative ds/dz [A/m^2], shape (n, 3) (one-sided at interfaces: layer above)."""
        return self._eval(z, slice(0, 3), derivative=True)


def solve_stack_1d(layers: Sequence[Layer1D], j_e: float) -> Solution1D:
    """Solve steady spin diffusion across a layered stack exactly (see module docstring).

    Zhang, Levy & Fert, PRL 88, 236601 (2002), eqs. for the spin current and continuity;
    moment closure: seed 002 'Comparison results'.

    Parameters
    ----------
    layers : sequence of Layer1D
        Bottom to top; layer 0 starts at z = 0.
    j_e : float
        Charge current density along +z [A/m^2] (signed).

    Returns
    -------
    Solution1D

    Raises
    ------
    ValueError (:class:`fem_stt.errors.ParameterError`)
        For an empty stack, non-positive or non-finite thickness, D0, lambda_sf, lambda_J,
        ``beta * beta_prime >= 1``, ``kappa < 0``, a non-unit ``m``, a missing ``m`` when
        ``lambda_J`` is set, or a non-finite ``j_e``; the message names the parameter,
        e.g. ``"layers[1].lambda_sf: must be > 0 m and finite, got -1e-09"``.
    RuntimeError
        If the complex solution has non-negligible imaginary parts (should not happen).
    """
    params = _validate_layers(layers)
    j_e = _validate_j_e(j_e)
    n = len(params)
    interfaces = np.concatenate([[0.0], np.cumsum([p.L for p in params])])

    mus, anchors, Vs, y_ps = [], [], [], []
    for k, p in enumerate(params):
        mu, V = _layer_modes(p)
        mus.append(mu)
        Vs.append(V)
        anchors.append(np.where(mu.real > 0.0, interfaces[k + 1], interfaces[k]))
        y_ps.append(np.concatenate([np.zeros(3), p.c * j_e * p.m]).astype(complex))  # = -M^-1 b

    def G(k, z):
        """(6, 6): homogeneous y at z in layer k is G @ a_k."""
        return Vs[k] * np.exp(mus[k] * (z - anchors[k]))[None, :]

    A = np.zeros((6 * n, 6 * n), dtype=complex)
    rhs = np.zeros(6 * n, dtype=complex)
    # bottom face: J(0) = c m j_e
    A[0:3, 0:6] = G(0, interfaces[0])[3:6]
    rhs[0:3] = params[0].c * j_e * params[0].m - y_ps[0][3:6]
    # internal interfaces: y continuous
    for k in range(n - 1):
        r = 3 + 6 * k
        z = interfaces[k + 1]
        A[r:r + 6, 6 * k:6 * k + 6] = G(k, z)
        A[r:r + 6, 6 * (k + 1):6 * (k + 2)] = -G(k + 1, z)
        rhs[r:r + 6] = y_ps[k + 1] - y_ps[k]
    # top face: J(top) = c m j_e
    A[-3:, -6:] = G(n - 1, interfaces[-1])[3:6]
    rhs[-3:] = params[-1].c * j_e * params[-1].m - y_ps[-1][3:6]

    scale = np.max(np.abs(A), axis=1)  # row equilibration (s rows ~ 1, J rows ~ 2 D0 / lambda)
    a = np.linalg.solve(A / scale[:, None], rhs / scale)
    coeffs = [a[6 * k:6 * k + 6] for k in range(n)]

    sol = Solution1D(layers, params, j_e, interfaces, mus, anchors, Vs, coeffs, y_ps)

    # the solution must be real: check at layer ends and centres
    zc = np.concatenate([interfaces, 0.5 * (interfaces[1:] + interfaces[:-1])])
    idx = sol.layer_of(zc)
    ys = []
    for k in range(n):
        for z in zc[idx == k]:
            ys.append(y_ps[k] + G(k, z) @ coeffs[k])
        # also the left end of layer k from its own side
        ys.append(y_ps[k] + G(k, interfaces[k]) @ coeffs[k])
        ys.append(y_ps[k] + G(k, interfaces[k + 1]) @ coeffs[k])
    ys = np.array(ys)
    for part, name in ((slice(0, 3), "s"), (slice(3, 6), "J")):
        mag = np.max(np.abs(ys[:, part]))
        if mag > 0 and np.max(np.abs(ys[:, part].imag)) > _IMAG_TOL * mag:  # pragma: no cover
            raise RuntimeError(f"internal error: {name} has imaginary part "
                               f"{np.max(np.abs(ys[:, part].imag)):.3e} (magnitude {mag:.3e})")
    return sol


def collinear_closed_form(layers: Sequence[Layer1D], j_e: float) -> Callable[[np.ndarray], np.ndarray]:
    """Closed-form s(z) for a collinear stack (every m = +e or -e for one unit vector e).

    Independent of :func:`solve_stack_1d`; real arithmetic only. The transverse parts
    vanish and sigma = s . e obeys, per layer, ``sigma'' = sigma / l^2`` with
    ``l = lambda_sf sqrt(1 - beta beta')`` (``l = lambda_sf`` in non-magnets) and flux
    ``J . e = c (m . e) j_e - 2 D0 (1 - beta beta') sigma'``; ``lambda_J`` and ``kappa``
    drop out. In each layer ``sigma = A ch(z) + B sh(z)`` with
    ``ch = cosh((z - zc)/l) / cosh(L/(2 l))``, ``sh = sinh((z - zc)/l) / cosh(L/(2 l))``,
    ``zc`` the layer centre (evaluated with exponentials that never exceed 1).
    Conditions: ``sigma' = 0`` at both outer faces, sigma and flux continuous at
    interfaces. Zhang, Levy & Fert, PRL 88, 236601 (2002).

    Parameters
    ----------
    layers : sequence of Layer1D
    j_e : float
        Charge current density along +z [A/m^2].

    Returns
    -------
    callable ``z -> s``: z array-like of shape (n,) in ``[0, top]`` [m] (outside by more
    than 1e-12 * top raises ValueError), s of shape (n, 3) [A/m] ``= sigma(z) e``.
    An internal interface point is evaluated in the layer above it.

    Raises
    ------
    ValueError
        As :func:`solve_stack_1d`; also ``layers[k].m`` when a magnetization is not
        parallel or antiparallel to the first magnetic layer's (tolerance 1e-9).
    """
    params = _validate_layers(layers)
    j_e = _validate_j_e(j_e)
    n = len(params)
    e = None
    for k, p in enumerate(params):
        if not p.magnetic:
            continue
        if e is None:
            e = p.m.copy()
        elif np.linalg.norm(np.cross(e, p.m)) > _UNIT_TOL:
            raise ParameterError(f"layers[{k}].m", f"must be parallel or antiparallel to {e.tolist()} "
                                                   f"(first magnetic layer) for the collinear closed form, "
                                                   f"got {p.m.tolist()}")
    if e is None:
        e = np.array([0.0, 0.0, 1.0])
    z_if = np.concatenate([[0.0], np.cumsum([p.L for p in params])])
    top = z_if[-1]
    ell = np.array([p.lsf * math.sqrt(1.0 - p.bbp) for p in params])
    g = np.array([2.0 * p.D0 * (1.0 - p.bbp) for p in params])  # flux = src - g sigma'
    src = np.array([p.c * float(p.m @ e) * j_e for p in params])
    zc = 0.5 * (z_if[:-1] + z_if[1:])
    h = np.array([p.L for p in params]) / (2.0 * ell)

    def basis(k, z):
        """(ch, sh, ch', sh') of layer k at z (arrays)."""
        x = (np.asarray(z, dtype=float) - zc[k]) / ell[k]
        x = np.clip(x, -h[k], h[k])
        den = 1.0 + math.exp(-2.0 * h[k])
        ep, em = np.exp(x - h[k]), np.exp(-x - h[k])
        ch, sh = (ep + em) / den, (ep - em) / den
        return ch, sh, sh / ell[k], ch / ell[k]

    A = np.zeros((2 * n, 2 * n))
    rhs = np.zeros(2 * n)
    _, _, dch, dsh = basis(0, 0.0)
    A[0, 0:2] = [dch, dsh]  # sigma'(0) = 0
    for k in range(n - 1):
        z = z_if[k + 1]
        chl, shl, dchl, dshl = basis(k, z)
        chr_, shr, dchr, dshr = basis(k + 1, z)
        r = 1 + 2 * k
        A[r, 2 * k:2 * k + 4] = [chl, shl, -chr_, -shr]  # sigma continuous
        # flux continuous: src_k - g_k sigma_k' = src_{k+1} - g_{k+1} sigma_{k+1}'
        A[r + 1, 2 * k:2 * k + 4] = [-g[k] * dchl, -g[k] * dshl, g[k + 1] * dchr, g[k + 1] * dshr]
        rhs[r + 1] = src[k + 1] - src[k]
    _, _, dch, dsh = basis(n - 1, top)
    A[-1, -2:] = [dch, dsh]  # sigma'(top) = 0
    scale = np.max(np.abs(A), axis=1)
    coef = np.linalg.solve(A / scale[:, None], rhs / scale).reshape(n, 2)

    def s_of_z(z) -> np.ndarray:
        z = np.asarray(z, dtype=float)
        if z.ndim == 0:
            z = z.reshape(1)
        if z.ndim != 1:
            raise ValueError(f"z must have shape (n,), got shape {z.shape}")
        tol = 1e-12 * top
        if np.any(~np.isfinite(z)) or np.any(z < -tol) or np.any(z > top + tol):
            raise ValueError(f"z must lie in [0, {top!r}] m")
        z = np.clip(z, 0.0, top)
        idx = np.clip(np.searchsorted(z_if, z, side="right") - 1, 0, n - 1)
        sigma = np.zeros(z.size)
        for k in np.unique(idx):
            sel = idx == k
            ch, sh, _, _ = basis(k, z[sel])
            sigma[sel] = coef[k, 0] * ch + coef[k, 1] * sh
        return sigma[:, None] * e[None, :]

    return s_of_z
