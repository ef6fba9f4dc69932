r"""The q-LLG master equation (seed 004, eq. 3) and Wieser's q-LL equation, solved for drho/dt.

Eq. 3 (Liu et al., PRL 133, 266704 (2024)), kappa >= 0 dimensionless, H [J], t [s]:

    drho/dt = (i/hbar) [rho, H] + i kappa [rho, drho/dt]

is linear in drho/dt. In rho's eigenbasis rho = sum_a p_a |a><a|, with Delta_ab = p_a - p_b and
Omega = H / hbar [rad/s] (model spec qllg.md, section 1, "explicit form"):

    (drho/dt)_ab = i Delta_ab Omega_ab / (1 - i kappa Delta_ab)  <=>  drho/dt = i [rho, G(rho)],
    G_ab = Omega_ab f(Delta_ab),   f(Delta) = 1 / (1 - i kappa Delta)            (q-LLG, eq. 3)
                                   f(Delta) = 1 + i kappa Delta                   (q-LL, Wieser,
                                   PRL 110, 147201 (2013): drho/dt = (i/hbar)[rho,H] - (kappa/hbar)[rho,[rho,H]])

|1 - i kappa Delta| >= 1, so the solve always exists; G is Hermitian, so the flow is isospectral
(every eigenvalue of rho, hence trace, purity, positivity and every entropy, is conserved).
The energy E = Tr(rho H) obeys (spec section 1(b); time-independent H)

    dE/dt = -(kappa/hbar) sum_ab Delta_ab^2 |H_ab|^2 / (1 + kappa^2 Delta_ab^2) <= 0     (q-LLG)
    dE/dt = -(kappa/hbar) sum_ab Delta_ab^2 |H_ab|^2                                    (q-LL)

and a generic state tends to the passive state (:func:`passive_state`). :func:`rhs_kronecker` solves
eq. 3 as an n^2 x n^2 linear system (O(n^6), the independent reference used by the tests).

Cost of :func:`rhs`: one ``eigh`` of the Hermitised rho and four (n, n) products, O(n^3).
"""
from __future__ import annotations

import numpy as np
import scipy.linalg as sla

from ...constants import HBAR
from ...errors import ParameterError
from .hamiltonian import HERMITIAN_TOL, check_hermitian

EQUATIONS = ("qllg", "qll")
DENSITY_TOL = 1e-10  #: tolerance of the trace, Hermiticity and positivity checks of a density matrix


def check_kappa(kappa) -> float:
    """kappa as a float; ParameterError unless 0 <= kappa < inf."""
    try:
        k = float(kappa)
    except (TypeError, ValueError):
        raise ParameterError("kappa", f"must be a number >= 0, got {kappa!r}") from None
    if not (k >= 0 and np.isfinite(k)):
        raise ParameterError("kappa", f"must be >= 0 and finite (kappa > 0 damps), got {kappa!r}")
    return k


def check_equation(equation: str) -> str:
    if equation not in EQUATIONS:
        raise ParameterError("equation", f"must be one of {EQUATIONS} (q-LLG eq. 3, or Wieser's q-LL), "
                                         f"got {equation!r}")
    return equation


def check_density_matrix(rho, n: int, name: str = "rho0") -> np.ndarray:
    """rho as a complex (n, n) array after checking shape, Hermiticity, trace 1 and positivity
    (each to 1e-10). Raises ParameterError naming ``name``."""
    A = check_hermitian(name, rho, n)
    tr = np.trace(A).real
    if abs(tr - 1) > DENSITY_TOL:
        raise ParameterError(name, f"must have trace 1, got {tr:.12g}")
    lmin = np.linalg.eigvalsh(0.5 * (A + A.conj().T))[0]
    if lmin < -DENSITY_TOL:
        raise ParameterError(name, f"must be positive semidefinite, smallest eigenvalue {lmin:.3g}")
    return A


def damping_filter(delta: np.ndarray, kappa: float, equation: str = "qllg") -> np.ndarray:
    """f(Delta) of the module docstring: 1/(1 - i kappa Delta) (q-LLG) or 1 + i kappa Delta (q-LL)."""
    if equation == "qllg":
        return 1.0 / (1.0 - 1j * kappa * delta)
    return 1.0 + 1j * kappa * delta


def eigh(A: np.ndarray):
    """Eigenpairs (ascending) of a Hermitian matrix: numpy's ?heevd below n = 64 (less call overhead),
    LAPACK ?heevr (MRRR) above (about 2x faster than ?heevd at n = 1024 with OpenBLAS)."""
    if A.shape[0] < 64:
        return np.linalg.eigh(A)
    return sla.eigh(A, driver="evr", check_finite=False)


def eigen(rho: np.ndarray):
    """(p, V): eigenvalues (ascending) and eigenvectors of the Hermitian part of rho."""
    return eigh(0.5 * (rho + rho.conj().T))


def generator_eigenbasis(p: np.ndarray, V: np.ndarray, Omega: np.ndarray, kappa: float, equation: str = "qllg"):
    """G(rho) in rho's eigenbasis: (V^H Omega V) * f(Delta); returns (G_b, Delta), both (n, n)."""
    Ob = V.conj().T @ Omega @ V
    delta = p[:, None] - p[None, :]
    return Ob * damping_filter(delta, kappa, equation), delta


def rhs(rho: np.ndarray, Omega: np.ndarray, kappa: float, equation: str = "qllg") -> np.ndarray:
    """drho/dt of eq. 3 (or q-LL) [1/s] by the eigenbasis formula; rho (n, n), Omega = H/hbar [rad/s] (n, n).

    The result is Hermitian and traceless to round-off (it is symmetrised: exactly Hermitian).
    """
    p, V = eigen(rho)
    Gb, delta = generator_eigenbasis(p, V, Omega, kappa, equation)
    d = V @ (1j * delta * Gb) @ V.conj().T
    return 0.5 * (d + d.conj().T)


def generator(rho: np.ndarray, Omega: np.ndarray, kappa: float, equation: str = "qllg") -> np.ndarray:
    """The Hermitian G(rho) [rad/s] with drho/dt = i [rho, G(rho)] (n, n)."""
    p, V = eigen(rho)
    Gb, _ = generator_eigenbasis(p, V, Omega, kappa, equation)
    G = V @ Gb @ V.conj().T
    return 0.5 * (G + G.conj().T)


def rhs_kronecker(rho: np.ndarray, Omega: np.ndarray, kappa: float, equation: str = "qllg") -> np.ndarray:
    """drho/dt from a dense n^2 x n^2 solve of eq. 3 (q-LLG) or the explicit q-LL formula (reference, O(n^6)).

    Column-major vec: vec(A X B) = (B^T kron A) vec(X), so ad_rho = 1 kron rho - rho^T kron 1 and eq. 3 reads
    (1 - i kappa ad_rho) vec(drho/dt) = i ad_rho vec(Omega); the matrix is always invertible (its
    eigenvalues are 1 - i kappa Delta_ab).
    """
    n = rho.shape[0]
    I = np.eye(n)
    ad = np.kron(I, rho) - np.kron(rho.T, I)
    b = 1j * ad @ Omega.reshape(-1, order="F")
    if equation == "qll":
        x = b - kappa * ad @ (ad @ Omega.reshape(-1, order="F"))
    else:
        x = sla.solve(np.eye(n * n) - 1j * kappa * ad, b)
    return x.reshape(n, n, order="F")


def residual(rho: np.ndarray, drho: np.ndarray, Omega: np.ndarray, kappa: float) -> float:
    """max |drho - i[rho, Omega] - i kappa [rho, drho]| (eq. 3's residual) [1/s]."""
    c = lambda a, b: a @ b - b @ a  # noqa: E731
    return float(np.abs(drho - 1j * c(rho, Omega) - 1j * kappa * c(rho, drho)).max())


def dissipation_rate(rho: np.ndarray, H: np.ndarray, kappa: float, equation: str = "qllg") -> float:
    """dE/dt [W] in closed form (module docstring): -(kappa/hbar) sum Delta^2 |H_ab|^2 / (1 + kappa^2 Delta^2)
    for q-LLG, without the denominator for q-LL; rho (n, n), H [J] (n, n).

    For a time-dependent H this is the part of dE/dt due to drho/dt (without Tr(rho dH/dt))."""
    p, V = eigen(rho)
    Hb = V.conj().T @ H @ V
    d2 = (p[:, None] - p[None, :]) ** 2
    w = d2 if equation == "qll" else d2 / (1 + kappa ** 2 * d2)
    return float(-kappa / HBAR * np.sum(w * np.abs(Hb) ** 2))


def passive_state(rho: np.ndarray, H: np.ndarray) -> np.ndarray:
    """The passive state of rho under H (spec section 1(c)): rho's eigenvalues in decreasing order on
    H's eigenvectors in increasing energy (complex (n, n)); the fixed point a generic state tends to."""
    p = np.sort(np.linalg.eigvalsh(0.5 * (rho + rho.conj().T)))[::-1]
    _, W = np.linalg.eigh(H)
    return (W * p) @ W.conj().T


__all__ = ["EQUATIONS", "HERMITIAN_TOL", "check_density_matrix", "check_equation", "check_kappa", "damping_filter",
           "dissipation_rate", "generator", "passive_state", "residual", "rhs", "rhs_kronecker"]
