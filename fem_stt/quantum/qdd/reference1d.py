"""Independent 1D reference solutions for the QDD-Rashba model (numpy/scipy only).

This module shares no code with the finite-element solvers of :mod:`fem_stt.quantum.qdd`
(it imports neither DOLFINx nor any other part of the package), so that the FEM can be
checked against it. Everything is in the paper's scaled units (Barletti, Holzinger, Jüngel,
seed 001, Sec. 2.1); x is the channel coordinate x1, fields depend on x1 only.

Contents
--------
- :func:`injection_mu`, :func:`injection_lengths`: the decaying injection modes of eq. (10)
  at V = 0, ``n ~ exp(lambda x)`` with ``mu = (lambda/K)^2``, ``K = 2 alpha``,
  ``mu^2 + (c^2 - 3) mu + 2 = 0`` (case R0 of ``models/qdd_rashba.md``).
- :class:`SpinModes1D`: the exact solution of the stationary, linear 1D spin equation with
  constant coefficients (uniform n0 = 1, linear potential ``V = v x``) by exponential modes,
  ``sum_k M_k n^(k) = 0`` with
  ``M2 n'' + M1 n' + M0 n - (eps^2/12) n'''' = 0`` (1D reduction of (10) and of the
  linearised (7); cases R1-R3, R8).
- :func:`spin_bvp`: the same BVP by ``scipy.integrate.solve_bvp`` (a second, different method).
- :func:`helix_rate`, :data:`DP rates <dp_rates>`: closed-form decay rates (R7, uniform DP).
- :func:`density_gradient_bvp`: stationary density-gradient model (6) in 1D by ``solve_bvp`` on
  ``(rho, rho', F)`` with the particle flux as unknown parameter (R4).
- :class:`CosineSpectralDG`: the transient density-gradient model (6) with no-flux walls by a
  cosine pseudo-spectral method and an implicit Runge-Kutta integrator (R6).
"""
from __future__ import annotations

import math
from typing import Callable, Sequence, Tuple

import numpy as np
import scipy.fft
import scipy.integrate
import scipy.linalg

# ---------------------------------------------------------------------------- closed forms


def injection_mu(c: float = 2.0) -> np.ndarray:
    """Roots mu of ``mu^2 + (c^2 - 3) mu + 2 = 0`` (eq. (10) at V = 0, modes exp(lambda x),
    ``mu = (lambda / (2 alpha))^2``). c = 2: ``(-1 +- i sqrt 7)/2``; c = 1: ``1 +- i``."""
    return np.roots([1.0, c * c - 3.0, 2.0]).astype(complex)


def injection_lengths(alpha: float, c: float = 2.0) -> Tuple[float, float]:
    """(decay length 1/|Re lambda|, precession wavelength 2 pi/|Im lambda|) of the decaying
    (n1, n3) injection mode of eq. (10) at V = 0 [scaled lengths]."""
    lam = 2.0 * alpha * np.sqrt(injection_mu(c)[0])
    return 1.0 / abs(lam.real), 2.0 * math.pi / abs(lam.imag)


def helix_rate(q: float, alpha: float, tau: float = 1.0, eps: float = 0.0, c: float = 2.0) -> float:
    """Decay rate Gamma of the slowest spin helix ``(cos qx, 0, (B/A) sin qx)`` of the linear
    1D equation (7)/(10) at n0 = 1, V = 0:
    ``Gamma = tau [q^2 + eps^2 q^4/12 + 6 alpha^2 - sqrt(4 alpha^4 + (2 c alpha q)^2)]``."""
    return tau * (q * q + eps ** 2 * q ** 4 / 12.0 + 6 * alpha ** 2 - math.sqrt(4 * alpha ** 4 + (2 * c * alpha * q) ** 2))


def helix_ratio(q: float, alpha: float, c: float = 2.0) -> float:
    """Amplitude ratio B/A of n3 to n1 in the slowest helix mode."""
    s = math.sqrt(4 * alpha ** 4 + (2 * c * alpha * q) ** 2)
    return (s - 2 * alpha ** 2) / (2 * c * alpha * q)


def dp_rates(alpha: float, tau: float) -> Tuple[float, float]:
    """Uniform D'yakonov-Perel' decay rates (in-plane, out-of-plane) = (4 alpha^2 tau, 8 alpha^2 tau) of (10)."""
    return 4 * alpha ** 2 * tau, 8 * alpha ** 2 * tau


# ---------------------------------------------------------------------------- linear spin BVP


def spin_coefficients(alpha: float, v: float = 0.0, eps: float = 0.0, c: float = 2.0):
    """Matrices ``[M0, M1, M2, (M3, M4)]`` (3x3) of the stationary 1D spin operator
    ``sum_k M_k n^(k)`` (divided by tau) with ``V' = v`` constant and n0 = 1:

    n1'' + v n1' + 2c alpha n3' + 2 alpha v n3 - 4 alpha^2 n1 - (eps^2/12) n1'''',
    n2'' + v n2' - 4 alpha^2 n2 - (eps^2/12) n2'''',
    n3'' + v n3' - 2c alpha n1' - 2 alpha v n1 - 8 alpha^2 n3 - (eps^2/12) n3''''.
    """
    J = np.zeros((3, 3))
    J[0, 2], J[2, 0] = 1.0, -1.0
    M0 = np.diag([-4 * alpha ** 2, -4 * alpha ** 2, -8 * alpha ** 2]) + 2 * alpha * v * J
    M1 = v * np.eye(3) + 2 * c * alpha * J
    M2 = np.eye(3)
    if eps == 0:
        return [M0, M1, M2]
    return [M0, M1, M2, np.zeros((3, 3)), -(eps ** 2 / 12.0) * np.eye(3)]


class SpinModes1D:
    """Exact solution of the stationary linear 1D spin BVP on [0, L] by exponential modes.

    ``n(x) = sum_j c_j v_j exp(lambda_j (x - x_j))`` over the eigenpairs of the companion
    matrix of :func:`spin_coefficients` (x_j = 0 for decaying, L for growing modes, so nothing
    overflows), with the coefficients fixed by the boundary conditions:
    ``n(0) = n_source``, ``n(L) = n_drain`` and, for eps > 0, ``n''(0) = n''(L) = 0``
    (``w = -n'' = 0`` at the contacts).

    Parameters
    ----------
    alpha, eps, c : scaled Rashba constant, scaled Planck constant, grad-perp coefficient.
    v : constant potential gradient V' (V = v x; the drift field is E = -v).
    L : channel length.
    n_source, n_drain : (3,) spin densities at x = 0 and x = L.

    Raises ValueError for a defective (non-diagonalizable) companion matrix (e.g. alpha = v = 0).
    """

    def __init__(self, alpha: float, L: float, n_source: Sequence[float], n_drain: Sequence[float] = (0, 0, 0),
                 v: float = 0.0, eps: float = 0.0, c: float = 2.0):
        M = spin_coefficients(alpha, v, eps, c)
        order = len(M) - 1  # 2 or 4
        d = 3 * order
        A = np.zeros((d, d))
        A[: d - 3, 3:] = np.eye(d - 3)
        top = np.linalg.solve(M[-1], np.hstack([M[k] for k in range(order)]))
        A[d - 3:, :] = -top
        lam, Vec = np.linalg.eig(A)
        if np.linalg.cond(Vec) > 1e10:
            raise ValueError("defective mode matrix (e.g. alpha = v = 0): use the closed form")
        self.L, self.order, self.lam, self.vec = float(L), order, lam, Vec
        self.xref = np.where(lam.real > 0, self.L, 0.0)
        rows, rhs = [], []
        for xb, val in ((0.0, n_source), (self.L, n_drain)):
            E = Vec * np.exp(lam * (xb - self.xref))  # y(xb) = E @ coef
            rows.append(E[0:3])
            rhs.append(np.asarray(val, float))
            if order == 4:
                rows.append(E[6:9])  # n'' = 0
                rhs.append(np.zeros(3))
        self.coef = np.linalg.solve(np.vstack(rows), np.concatenate(rhs))

    def y(self, x) -> np.ndarray:
        """(n, n', ...) at points x: array of shape (3 * order, len(x)) (real)."""
        x = np.atleast_1d(np.asarray(x, float))
        E = np.exp(np.outer(x, np.ones_like(self.lam)) * self.lam - self.lam * self.xref)
        val = (self.vec @ (self.coef[:, None] * E.T))
        return val.real

    def n(self, x) -> np.ndarray:
        """Spin density, shape (len(x), 3)."""
        return self.y(x)[0:3].T

    def dn(self, x) -> np.ndarray:
        """n'(x), shape (len(x), 3)."""
        return self.y(x)[3:6].T

    def first_zero(self, component: int = 0, x0: float = 1e-9) -> float:
        """First zero of n_component on (x0, L) (bracketed on a fine grid, then brentq)."""
        import scipy.optimize
        xs = np.linspace(x0, self.L, 20001)
        f = self.n(xs)[:, component]
        k = np.flatnonzero(np.sign(f[1:]) != np.sign(f[:-1]))
        if len(k) == 0:
            return math.nan
        k = k[0]
        return scipy.optimize.brentq(lambda s: self.n([s])[0, component], xs[k], xs[k + 1], xtol=1e-14)


def spin_bvp(alpha: float, L: float, n_source, n_drain=(0, 0, 0), v: float = 0.0, eps: float = 0.0, c: float = 2.0,
             tol: float = 1e-10, nodes: int = 2001):
    """The BVP of :class:`SpinModes1D` solved by ``scipy.integrate.solve_bvp`` (collocation);
    returns the ``solve_bvp`` result (``.sol(x)[0:3]`` = n). Raises RuntimeError if it fails."""
    M = spin_coefficients(alpha, v, eps, c)
    order = len(M) - 1
    top = np.linalg.solve(M[-1], np.hstack([M[k] for k in range(order)]))

    def f(x, y):
        dy = np.empty_like(y)
        dy[:-3] = y[3:]
        dy[-3:] = -top @ y
        return dy

    ns, nd = np.asarray(n_source, float), np.asarray(n_drain, float)

    def bc(ya, yb):
        r = [ya[0:3] - ns, yb[0:3] - nd]
        if order == 4:
            r += [ya[6:9], yb[6:9]]
        return np.concatenate(r)

    x = np.linspace(0.0, L, nodes)
    y0 = np.zeros((3 * order, nodes))
    y0[0:3] = ns[:, None] * (1 - x / L) + nd[:, None] * (x / L)
    res = scipy.integrate.solve_bvp(f, bc, x, y0, tol=tol, max_nodes=200000)
    if not res.success:
        raise RuntimeError(f"solve_bvp failed: {res.message}")
    return res


def spin_bvp_variable_density(alpha: float, L: float, n_source, eps: float, drho: Callable, v: float = 0.0,
                              c: float = 2.0, tol: float = 1e-9, nodes: int = 2001):
    """Stationary 1D eq. (7), linearised in n, with a non-uniform charge density n0 = e^rho.

    In 1D (x1 only) with ``g = n0'/n0 = rho'`` and ``H = n0''/n0 = rho'' + rho'^2``, Theorem 1.2
    gives ``A1 = 2g^3 - 2gH`` (without the |n|^2 part), ``B = (n'' - g n')/n0``,
    ``C11 = 2H - g^2``, ``D1 = g n'' - g^2 n'``, hence the eps^2 flux
    ``G1 = n A1 - n''' + n' C11 + B n0' + D1 = -n''' + 2g n'' + (2H - 3g^2) n' + 2g(g^2 - H) n``
    and ``0 = L2(n) + (eps^2/12) G1'`` with L2 the eps = 0 operator of :func:`spin_coefficients`.
    ``drho(x) -> (rho', rho'', rho''')``. Boundary conditions: n(0) = n_source, n(L) = 0,
    n''(0) = n''(L) = 0. Returns the ``solve_bvp`` result (``.sol(x)[0:3]`` = n).
    """
    M0, M1, M2 = spin_coefficients(alpha, v, 0.0, c)
    ns = np.asarray(n_source, float)

    def f(x, y):
        n, n1, n2, n3 = y[0:3], y[3:6], y[6:9], y[9:12]
        r1, r2, r3 = drho(x)
        g, gp = r1, r2
        H = r2 + r1 ** 2
        Hp = r3 + 2 * r1 * r2
        a2 = 2 * H - 3 * g ** 2
        a2p = 2 * Hp - 6 * g * gp
        a0 = 2 * g * (g ** 2 - H)
        a0p = 2 * gp * (g ** 2 - H) + 2 * g * (2 * g * gp - Hp)
        L2 = M2 @ n2 + M1 @ n1 + M0 @ n
        n4 = (12.0 / eps ** 2) * L2 + 2 * g * n3 + (2 * gp + a2) * n2 + (a2p + a0) * n1 + a0p * n
        return np.vstack([n1, n2, n3, n4])

    def bc(ya, yb):
        return np.concatenate([ya[0:3] - ns, yb[0:3], ya[6:9], yb[6:9]])

    x = np.linspace(0.0, L, nodes)
    y0 = np.zeros((12, nodes))
    y0[0:3] = ns[:, None] * (1 - x / L)
    res = scipy.integrate.solve_bvp(f, bc, x, y0, tol=tol, max_nodes=500000)
    if not res.success:
        raise RuntimeError(f"solve_bvp failed: {res.message}")
    return res


# ---------------------------------------------------------------------------- density gradient, stationary


def density_gradient_bvp(V: Callable, dV: Callable, eps: float, tau: float = 1.0, L: float = 1.0,
                         n_contacts=(1.0, 1.0), tol: float = 1e-9, nodes: int = 4001,
                         eps_path: Sequence[float] = ()):
    """Stationary density-gradient model (6) on [0, L] by ``solve_bvp``.

    Unknowns ``rho = log n0``, ``s = rho'``, ``F`` (quasi-Fermi potential) and the constant
    particle flux ``J = -tau n0 F'`` (a parameter):
    ``rho' = s``, ``s' = (12/eps^2)(rho + V - F) - s^2/2``, ``F' = -J/(tau e^rho)``, with
    ``rho = log n_D``, ``F = V + log n_D`` at both contacts (ohmic, zero Bohm potential).
    Continuation from the classical (eps = 0) solution through ``eps_path`` (then ``eps``).

    Returns a dict with ``x`` (mesh of the final solution), callables ``n0(x)``, ``F(x)``,
    ``Q(x)`` (Bohm potential F - rho - V), the flux ``J`` and the solve_bvp result.
    """
    nD0, nD1 = n_contacts
    xs = np.linspace(0.0, L, nodes)
    # classical solution: (n0 e^V)' = -(J/tau) e^V
    eV = np.exp(V(xs))
    I = scipy.integrate.cumulative_trapezoid(eV, xs, initial=0.0)
    J = tau * (nD0 * eV[0] - nD1 * eV[-1]) / I[-1]
    u = nD0 * eV[0] - J / tau * I
    n0 = u / eV
    rho = np.log(n0)
    y = np.vstack([rho, np.gradient(rho, xs), rho + V(xs)])
    p = np.array([J])
    res = None
    for e in list(eps_path) + [eps]:
        def f(x, y, p, e=e):
            return np.vstack([y[1], (12.0 / e ** 2) * (y[0] + V(x) - y[2]) - 0.5 * y[1] ** 2,
                              -p[0] / (tau * np.exp(y[0]))])

        def bc(ya, yb, p):
            return np.array([ya[0] - math.log(nD0), yb[0] - math.log(nD1), ya[2] - V(0.0) - math.log(nD0),
                             yb[2] - V(L) - math.log(nD1)])
        res = scipy.integrate.solve_bvp(f, bc, xs, y, p=p, tol=tol, max_nodes=500000)
        if not res.success:
            raise RuntimeError(f"solve_bvp (eps = {e}) failed: {res.message}")
        xs, y, p = res.x, res.y, res.p
    sol = res.sol
    return {"x": res.x, "n0": lambda x: np.exp(sol(x)[0]), "F": lambda x: sol(x)[2],
            "Q": lambda x: sol(x)[2] - sol(x)[0] - V(x), "J": float(res.p[0]), "result": res}


# ---------------------------------------------------------------------------- density gradient, transient


class CosineSpectralDG:
    """Transient density-gradient model (6) on [0, 1] with no-flux walls, cosine pseudo-spectral.

    ``d_t n0 = tau (n0 F')'``, ``F = rho + V - (eps^2/12) rho'' - (eps^2/24) rho'^2``,
    ``rho = log n0``; walls ``rho' = 0``, ``n0 F' = 0`` hold by the even extension (cosine
    series for n0, rho, F; sine series for rho', n0 F'). Grid x_j = j/N (DCT-I / DST-I);
    time integration by ``solve_ivp(method="Radau")``.

    Parameters
    ----------
    N : number of cosine modes (grid N + 1 points).
    eps, tau : scaled parameters; ``V`` : callable (even about both walls for a spectral rate).
    """

    def __init__(self, N: int, eps: float, tau: float = 1.0, V: Callable = None):
        self.N = int(N)
        self.x = np.arange(self.N + 1) / self.N
        self.k = np.pi * np.arange(self.N + 1)
        self.eps, self.tau = float(eps), float(tau)
        self.V = np.zeros_like(self.x) if V is None else np.asarray(V(self.x), float)

    # cosine coefficients a_k with f(x_j) = sum_k a_k cos(k pi x_j)
    def _ccoef(self, f):
        a = scipy.fft.dct(f, type=1) / self.N
        a[0] *= 0.5
        a[-1] *= 0.5
        return a

    def _cval(self, a):
        b = a.copy()
        b[0] *= 2.0
        b[-1] *= 2.0
        return scipy.fft.idct(b * self.N, type=1)

    def _dx_cos(self, f):
        """Derivative of a cosine-series function at the grid (a sine series; 0 at the walls)."""
        b = -self.k * self._ccoef(f)  # coefficients of sin(k pi x)
        out = np.zeros_like(f)
        out[1:-1] = scipy.fft.idst(b[1:-1] * self.N, type=1)
        return out

    def _dx_sin(self, g):
        """Derivative of a sine-series function (values at the grid, zero at the walls)."""
        b = scipy.fft.dst(g[1:-1], type=1) / self.N
        a = np.zeros(self.N + 1)
        a[1:-1] = self.k[1:-1] * b
        return self._cval(a)

    def potential(self, n0):
        """Quasi-Fermi potential F at the grid."""
        rho = np.log(n0)
        r1 = self._dx_cos(rho)
        r2 = self._cval(-(self.k ** 2) * self._ccoef(rho))
        return rho + self.V - self.eps ** 2 / 12.0 * r2 - self.eps ** 2 / 24.0 * r1 ** 2

    def rhs(self, t, n0):
        return self.tau * self._dx_sin(n0 * self._dx_cos(self.potential(n0)))

    def _integral(self, f):
        w = np.full(self.N + 1, 1.0 / self.N)
        w[0] = w[-1] = 0.5 / self.N
        return float(w @ f)

    def mass(self, n0) -> float:
        return self._integral(n0)

    def free_energy(self, n0) -> float:
        """E_DG = int n0 (log n0 - 1) + n0 V + (eps^2/6) |grad sqrt n0|^2."""
        r1 = self._dx_cos(np.log(n0))
        return self._integral(n0 * (np.log(n0) - 1) + n0 * self.V + self.eps ** 2 / 24.0 * n0 * r1 ** 2)

    def solve(self, n0_init: Callable, times: Sequence[float], rtol: float = 1e-11, atol: float = 1e-13):
        """Integrate from t = 0; returns an array (len(times), N + 1) of n0 at the grid."""
        y0 = np.asarray(n0_init(self.x), float)
        res = scipy.integrate.solve_ivp(self.rhs, (0.0, max(times)), y0, method="Radau", t_eval=sorted(times),
                                        rtol=rtol, atol=atol)
        if not res.success:
            raise RuntimeError(f"solve_ivp failed: {res.message}")
        return res.y.T

    def interpolate(self, n0, xq) -> np.ndarray:
        """Cosine-series value of grid data at arbitrary points xq."""
        a = self._ccoef(n0)
        return np.cos(np.outer(np.asarray(xq, float), self.k)) @ a
