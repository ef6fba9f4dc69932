"""Microscopic LLG coefficients: Gilbert damping tensor (Kubo, S-matrix, eqs. 15/19), reactive part,
static and dynamic susceptibilities, inertia (Xu et al., PRB 108, 144409 (2023), Sec. IV; negf_llg.md
Sec. 1.3-1.6), units of t, hbar = gamma = 1.

The moments enter h through dh/dm_(n,i) = Delta_n sigma_i P_n (Delta_n = J M / 2, :mod:`.lattice`).
LLG in the paper's spin convention (eq. 18): dm/dt = -m x H_ani - m x (alpha dm/dt); the electrons' field on
moment n is <dh/dm_n>/M, so a response <dh/dm_a> = L_ab dm_b/dt gives alpha = L / M.

* Exact first order response of any operator O to a slow parameter X of h (negf_llg.md Sec. 1.4; the
  expansion G^r(t,E) = G_f - i G_f (1 - dSigma/dE) dG_f/dt, which keeps the memory of energy-dependent
  leads dropped in eqs. A4/C3):   <O>^(1) = 2 Re int dE/2pi Tr[G^< O (dG^r/dE) dh/dt].
  With O_a = dh/dm_a:  L_ab = 2 Re int dE/2pi Tr[G^< O_a (dG^r/dE) O_b]  (:func:`response_tensor`).
  Its symmetric part at T = 0 is a Fermi-surface term; its antisymmetric part is reactive.
  ``de_sigma_correction=False`` replaces dG^r/dE by -G^r G^r, the paper's eq. 15 as printed (wrong for
  energy-dependent leads; identical in the wide-band limit).
* Eq. 15 -> eq. 19 erratum: alpha_ij = -(J^2 M/2) K_ij with K_ij = int dE/2pi Re Tr[G^< sigma_i (-dG^r/dE)
  sigma_j]; the printed eq. 19, (J M)^2/4 int Re Tr[G^< sigma_i G^r G^r sigma_j], equals -(M/2) alpha
  (:func:`eq19_literal`).
* Kubo (Fermi-surface) Gilbert tensor, T = 0:  alpha_ab = (1/4 pi M) Re Tr[A O_a A O_b] at E_F,
  real-symmetric and positive semi-definite, non-local between sites (:func:`kubo_damping`). Single site:
  alpha_perp = (pi/2) J^2 M rho_+ rho_-. Finite T: int dE (-f') over the same expression.
* Scattering-matrix form, eq. D1 with the missing dagger restored (Brataas, Tserkovnyak, Bauer,
  PRL 101, 037207 (2008)):  alpha_ab = (1/4 pi M) Re Tr[dS/dX_a dS^+/dX_b],  S = -1 + i U^+ G^r U,
  Gamma = U U^+ (:func:`smatrix_damping`; derivatives by central differences of S, optionally Kwant's S).
* Dynamic susceptibility chi_ab(w) of <O_a> to X_b(t) = X_b e^{-iwt} with the frozen G (exchange to all
  orders; eq. 30 is its first order in J): chi(w) = chi(0) - i w L + ... , inertia -w^2 I: the inertial
  tensor of eq. 21 is alpha_bar = I / M (:func:`inertia_tensor`); eq. 22 as printed is
  :func:`eq22_literal`.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
from scipy.integrate import quad_vec

from ...errors import ParameterError
from .greens import greens_derivative, greens_function
from .lattice import TightBinding
from .leads import SIGMA
from .transport import FermiSurface


def _check_M(M):
    if not (np.isfinite(M) and M > 0):
        raise ParameterError("M", f"the spin length must be > 0 and finite, got {M!r}")
    return float(M)


def _sites(system: TightBinding, sites) -> np.ndarray:
    if sites is None:
        return np.arange(system.n_sites)
    s = np.atleast_1d(np.asarray(sites, dtype=int))
    if s.size == 0 or s.min() < 0 or s.max() >= system.n_sites:
        raise ParameterError("sites", f"must be flat site indices in [0, {system.n_sites}), got {sites!r}")
    return s


def exchange_operators(system: TightBinding, sites=None) -> np.ndarray:
    """Dense dh/dm_(n,i) = Delta_n sigma_i P_n for the given sites, (3 n_sites, 2N, 2N), order (n, i)."""
    s = _sites(system, sites)
    N2 = system.n_orbitals
    ops = np.zeros((3 * len(s), N2, N2), dtype=complex)
    for k, n in enumerate(s):
        for i in range(3):
            ops[3 * k + i, 2 * n:2 * n + 2, 2 * n:2 * n + 2] = system.exchange.reshape(-1)[n] * SIGMA[i]
    return ops


def _fermi_window(E_F, kT, n_energy):
    """Nodes and weights of int dE (-f'(E)) F(E) (Gauss-Legendre in u = tanh((E-E_F)/2kT))."""
    if kT == 0:
        return np.array([float(E_F)]), np.array([1.0])
    u, w = np.polynomial.legendre.leggauss(n_energy)
    return E_F + 2 * kT * np.arctanh(u), 0.5 * w


def kubo_damping(system: TightBinding, E_F: float, M: float = 1.0, sites=None, kT: float = 0.0,
                 n_energy: int = 24) -> np.ndarray:
    """Kubo (Fermi-surface) Gilbert damping tensor alpha_(n,i),(n',j), shape (3 n, 3 n) for the given
    flat site indices (default all), dimensionless (negf_llg.md Sec. 1.4, corrected eq. 19):

        alpha_ab = (1/4 pi M) Re Tr[A O_a A O_b],  O_(n,i) = Delta_n sigma_i P_n,  A = W W^+ (RGF).

    Symmetric and PSD by construction (a Gram matrix). ``kT > 0``: averaged with -f' over ``n_energy``
    Gauss points. With a broadening eta > 0 the dense A is used (small systems). Raises ParameterError for M <= 0, kT < 0, bad sites, no leads."""
    M = _check_M(M)
    if not (np.isfinite(kT) and kT >= 0):
        raise ParameterError("kT", f"must be >= 0 and finite, got {kT!r}")
    s = _sites(system, sites)
    Es, ws = _fermi_window(E_F, kT, n_energy)
    slices = system.slice_hamiltonians()
    alpha = np.zeros((3 * len(s), 3 * len(s)))
    delta = system.exchange.reshape(-1)[s]
    for E, w in zip(Es, ws):
        fs = FermiSurface(system, E, slices=slices)
        if system.broadening > 0:  # A is not W W^+: factor the dense A = V diag(a) V^+ (a >= 0)
            a_, V_ = np.linalg.eigh(fs.spectral_function())
            W = (V_ * np.sqrt(np.clip(a_, 0, None))).reshape(system.n_sites, 2, -1)[s]
        else:
            W = fs.factor().reshape(system.n_sites, 2, -1)[s]  # (n, 2, r)
        Wh = np.swapaxes(W.conj(), 1, 2)
        B = np.stack([delta[:, None, None] * (Wh @ (SIGMA[i] @ W)) for i in range(3)], axis=1)  # (n, 3, r, r)
        B = B.reshape(3 * len(s), -1)
        alpha += w * (B @ B.conj().T).real / (4 * np.pi * M)
    return alpha


def smatrix(system: TightBinding, E: float) -> np.ndarray:
    """Fisher-Lee scattering matrix S = -1 + i U^+ G^r U over all open lead channels (Gamma_a = U_a U_a^+),
    shape (r, r), leads in the order of ``system.lead_names``."""
    fs = FermiSurface(system, E)
    blocks = []
    for b in system.lead_names:
        row = []
        kb = system.lead_slice(b)
        for a in system.lead_names:
            Gba = fs.G_lead[a][kb]
            row.append(fs.U[b].conj().T @ Gba @ fs.U[a])
        blocks.append(row)
    S = np.block(blocks)
    return -np.eye(len(S)) + 1j * S


def smatrix_damping(system: TightBinding, E_F: float, M: float = 1.0, step: float = 1e-5, use_kwant: bool = False,
                    sites=None) -> np.ndarray:
    """Gilbert tensor from the scattering matrix (eq. D1, dagger restored, divided by M; Brataas et al. 2008):
    alpha_ab = (1/4 pi M) Re Tr[dS/dm_a dS^+/dm_b], dS/dm_(n,i) by central differences (step ``step``) of
    m_n -> m_n + step e_i (h is linear in m, so the moment need not stay unit). ``use_kwant``: S from
    :func:`kwant.smatrix` (an independent scattering solver). Shape (3 n, 3 n)."""
    M = _check_M(M)
    s = _sites(system, sites)
    if use_kwant:
        from .kwant_systems import kwant_smatrix

        def S_of(sysm):
            return np.asarray(kwant_smatrix(sysm, E_F).data)
    else:
        def S_of(sysm):
            return smatrix(sysm, E_F)
    dS = []
    m0 = system.moments.reshape(-1, 3)
    for n in s:
        for i in range(3):
            mats = []
            for sign in (1, -1):
                mm = m0.copy()
                mm[n, i] += sign * step
                # keep the raw (non-unit) moment: bypass normalization by scaling the exchange instead
                nrm = np.linalg.norm(mm, axis=1)
                ex = system.exchange.reshape(-1) * nrm
                mats.append(S_of(system.replace(moments=mm / nrm[:, None], exchange=ex.reshape(system.nx,
                                                                                              system.ny))))
            dS.append((mats[0] - mats[1]) / (2 * step))
    dS = np.array(dS)
    return np.einsum("ars,brs->ab", dS, dS.conj()).real / (4 * np.pi * M)


def _fermi_sea_integral(system: TightBinding, E_F: float, integrand, e_min=None, epsabs=1e-12, epsrel=1e-10):
    """int_{e_min}^{E_F} dE/2pi integrand(E) with scipy's adaptive quad_vec (real axis, T = 0), break
    points at the lead band edges; e_min defaults to the lowest lead band edge (-inf with a wide-band
    lead). Bound states below E_F are not included (they are not on the real axis of G^r Sigma^< G^a)."""
    if not system.leads:
        raise ParameterError("leads", "a Fermi-sea integral of G^< needs leads; the lattice has none")
    lattice = [L for L in system.leads.values() if hasattr(L, "band")]
    pts = {float(e) for L in lattice for s in (1, -1) for e in
           np.concatenate([L.eps_q - 2 * L.hopping, L.eps_q + 2 * L.hopping]) + s * L.exchange}
    if e_min is not None:
        lo = float(e_min)
    elif len(lattice) == len(system.leads):
        lo = min(L.band[0] for L in lattice)
    else:
        lo = -np.inf
    pts = sorted(p for p in pts if lo < p < E_F)
    a = lo
    total = 0.0
    if np.isinf(lo):
        a = (pts[0] if pts else E_F) - 1.0
        total, _ = quad_vec(integrand, -np.inf, a, epsabs=epsabs, epsrel=epsrel, limit=2000)
    val, _ = quad_vec(integrand, a, E_F, points=pts or None, epsabs=epsabs, epsrel=epsrel, limit=2000)
    return (total + val) / (2 * np.pi)


def response_tensor(system: TightBinding, E_F: float, M: float = 1.0, de_sigma_correction: bool = True,
                    sites=None, e_min=None, epsabs=1e-12, n_points: int = 200, operators=None,
                    perturbations=None) -> np.ndarray:
    """Full first-order (O(dm/dt)) response divided by M, L_ab / M with
    L_ab = 2 Re int dE/2pi Tr[G^< O_a (dG^r/dE) O_b], T = 0, G^< = i f A (corrected eq. 15).
    Default O_a = O_b = dh/dm (the moments of ``sites``); any Hermitian ``operators`` (na, 2N, 2N) and
    ``perturbations`` dh/dX_b (nb, 2N, 2N) give <O_a>^(1) = L_ab dX_b/dt (then M = 1 is meant).

    Its symmetric part is the Gilbert tensor (= :func:`kubo_damping` to quadrature accuracy), its
    antisymmetric part the reactive (gyromagnetic) term. Dense; for small systems. Shape (3 n, 3 n).

    With lattice leads (``de_sigma_correction`` on) the Fermi sea is done so that bound states count:
    with G^< = f (G^a - G^r) and g = G^r, integrating the mixed term by parts (g = g^+ below the spectrum),

        2 pi L_ab = Re Tr[g^+ O_a g O_b](E_F) - Re Tr[g O_a g O_b](E_min) - 2 Re int_C Tr[g O_a (dg/dz) O_b] dz,

    C the upper semicircle from E_min to E_F (:func:`~.equilibrium.contour_points`, ``n_points``).
    Otherwise (wide-band leads, or ``de_sigma_correction=False``: dG^r/dE -> -G^r G^r, eq. 15 as printed)
    the real-axis quadrature of scipy's quad_vec, which misses bound states."""
    M = _check_M(M)
    O = exchange_operators(system, sites) if operators is None else np.asarray(operators, dtype=complex)
    P = O if perturbations is None else np.asarray(perturbations, dtype=complex)
    lattice = system.leads and all(hasattr(L, "band") for L in system.leads.values()) and system.broadening == 0
    if de_sigma_correction and lattice:
        from .equilibrium import contour_points
        lo = system.spectrum_bounds()[0] - 1.0 if e_min is None else float(e_min)
        z, w, _ = contour_points(system, E_F, 0.0, "semicircle", n_points, e_min=lo)
        # contour_points gives w = (i/2pi)(-dz): recover dz
        dz = -w * 2 * np.pi / 1j

        def tr(X, Y):  # Tr[X O_a Y P_b], (na, nb)
            return np.einsum("aij,bji->ab", X @ O, Y @ P)
        g = greens_function(system, E_F)
        total = tr(g.conj().T, g).real
        glo = greens_function(system, lo)
        total -= tr(glo, glo).real
        acc = 0
        for zk, dzk in zip(z, dz):
            gk = greens_function(system, zk)
            acc = acc + tr(gk, greens_derivative(system, zk, gk)) * dzk
        # the contour runs from E_F (theta = 0) to E_min (theta = pi): int_{E_min}^{E_F} = -sum
        total -= 2 * (-acc).real
        return total / (2 * np.pi) / M

    def f(E):
        G = greens_function(system, E)
        D = greens_derivative(system, E, G) if de_sigma_correction else -G @ G
        Gl = -(G - G.conj().T)  # G^< = i A = -(G - G^+) below E_F
        return 2 * np.einsum("aik,bki->ab", Gl @ O, D @ P).real

    return _fermi_sea_integral(system, E_F, f, e_min, epsabs) / M


def eq19_literal(system: TightBinding, E_F: float, sites=None, e_min=None) -> np.ndarray:
    """Eq. 19 of the paper as printed, (J M)^2/4 int dE/2pi Re Tr[G^< sigma_i G^r G^r sigma_j] per site pair
    (with (J M)/2 = Delta_n: Delta_n Delta_n' ...), for comparison only: it equals -(M/2) times the physical
    alpha in the wide-band limit (wrong prefactor and sign) and misses dSigma/dE for other leads."""
    O = exchange_operators(system, sites)

    def f(E):
        G = greens_function(system, E)
        Gl = -(G - G.conj().T)
        return np.einsum("aik,bki->ab", Gl @ O, (G @ G) @ O).real

    return _fermi_sea_integral(system, E_F, f, e_min)


def reactive_vector(tensor3: np.ndarray) -> np.ndarray:
    """Axial vector a of the antisymmetric part of a 3x3 tensor: (T - T^T)/2 v = a x v."""
    A = 0.5 * (tensor3 - tensor3.T)
    return np.array([A[2, 1], A[0, 2], A[1, 0]])


def gyromagnetic_factor(L3: np.ndarray, m) -> dict:
    """The reactive part of a single moment's O(dm/dt) response L (3x3, :func:`response_tensor`): its axial vector a
    (||m), and the renormalized gyromagnetic ratio. With L = alpha + [a x], dm/dt = -m x H - m x (L dm/dt) gives
    dm/dt (1 - m.a) = -m x H - m x (alpha dm/dt), i.e. gamma'/gamma = 1/(1 - m.a) = 1/(1 + eta) with eta = -m.a
    (the paper's gamma' = gamma (1 + eta)^-1 after eq. B5)."""
    a = reactive_vector(np.asarray(L3))
    m = np.asarray(m, dtype=float) / np.linalg.norm(m)
    ma = float(m @ a)
    return {"axial_vector": a, "m_dot_a": ma, "eta": -ma, "gamma_ratio": 1.0 / (1.0 - ma),
            "alpha_ratio": 1.0 / (1.0 - ma)}


def eqB5_literal(system: TightBinding, E_F: float, e_min=None) -> np.ndarray:
    """Eq. B5 as printed, eta_ij = (i J M / 4) int dE/2pi Tr[G^< sigma_i G^r sigma_j + G^a sigma_i G^< sigma_j] for
    a single site (J M / 2 = Delta), real part, 3x3; for comparison with :func:`gyromagnetic_factor`. Real axis."""
    if system.n_sites != 1:
        raise ParameterError("system", "eq. B5 is written for a single moment")
    delta = float(system.exchange.reshape(-1)[0])

    def f(E):
        G = greens_function(system, E)
        Gl = -(G - G.conj().T)
        v = np.einsum("aij,bji->ab", Gl @ SIGMA, G @ SIGMA) + np.einsum("aij,bji->ab", G.conj().T @ SIGMA, Gl @ SIGMA)
        return ((0.5j * delta) * v).real

    return _fermi_sea_integral(system, E_F, f, e_min)


def static_susceptibility(system: TightBinding, mu: float, operators: np.ndarray, perturbations: Optional[np.ndarray] = None,
                          n_points: int = 200, method: str = "auto") -> np.ndarray:
    """chi_ab = d<O_a>/dX_b for h -> h + sum_b X_b P_b, equilibrium at T = 0 (eq. B5's -ds^(0)/dt / (dX/dt)):
    d rho/dX_b = int dE/2pi f d A/dX_b, dG/dX = G P_b G, on the contour of :mod:`.equilibrium`
    (bound states included). ``operators`` (na, 2N, 2N), ``perturbations`` (nb, 2N, 2N), default the same.
    Symmetric for Hermitian O = P (Maxwell relation). Dense; small systems."""
    from .equilibrium import contour_points
    P = operators if perturbations is None else perturbations
    z, w, _ = contour_points(system, mu, 0.0, method, n_points)
    h = system.hamiltonian()
    chi = np.zeros((len(operators), len(P)))
    for zk, wk in zip(z, w):
        G = np.linalg.inv(zk * np.eye(len(h)) - h - system.self_energy(zk))
        val = np.einsum("aij,bji->ab", operators @ G, P @ G)  # Tr[O_a G P_b G] = Tr[O_a dG/dX_b]
        chi += 2 * (wk * val).real  # w Tr[O dG] + conj(w) Tr[O dG^+] = 2 Re(w Tr[O dG]) for Hermitian O
    return chi


def dynamic_susceptibility(system: TightBinding, E_F: float, omega: float, M: float = 1.0, sites=None,
                           e_min=None, epsabs=1e-12) -> np.ndarray:
    """chi_ab(w) / M: response of <O_a> to X_b(t) = Re X_b e^{-iwt} with the frozen G (all orders in the
    exchange; eq. 30 is its first order in J), T = 0, O_(n,i) = Delta_n sigma_i P_n:

        chi_ab(w) = int dE/2pi f(E) Tr[O_a G^r(E+w) O_b A(E) + O_a A(E) O_b G^a(E-w)].

    Dense real-axis quadrature (bound states not included). Complex (3n, 3n)."""
    M = _check_M(M)
    O = exchange_operators(system, sites)

    def f(E):
        G = greens_function(system, E)
        A = 1j * (G - G.conj().T)
        Gp = greens_function(system, E + omega)
        Gm = greens_function(system, E - omega).conj().T
        v = np.einsum("aij,bji->ab", O @ Gp, O @ A) + np.einsum("aij,bji->ab", O @ A, O @ Gm)
        return np.concatenate([v.real.ravel(), v.imag.ravel()])

    n = O.shape[0]
    v = _fermi_sea_integral(system, E_F, f, e_min, epsabs)
    return (v[:n * n] + 1j * v[n * n:]).reshape(n, n) / M


def nonadiabatic_damping(system: TightBinding, E_F: float, omega: float, M: float = 1.0, sites=None,
                         e_min=None) -> np.ndarray:
    """Frequency-dependent Gilbert kernel alpha(w) = Re[i (chi(w) - chi(0)) / w] of :func:`dynamic_susceptibility`
    (divided by M), the frozen-G, all-orders-in-J version of eq. 30 (alpha(w) -> the Kubo tensor as w -> 0; its
    antisymmetric part is the reactive term at frequency w). Shape (3n, 3n). ParameterError for w = 0."""
    if not (np.isfinite(omega) and omega != 0):
        raise ParameterError("omega", f"must be a nonzero finite frequency, got {omega!r}")
    c0 = dynamic_susceptibility(system, E_F, 0.0, M, sites, e_min)
    cw = dynamic_susceptibility(system, E_F, omega, M, sites, e_min)
    return (1j * (cw - c0) / omega).real


def inertia_tensor(system: TightBinding, E_F: float, M: float = 1.0, omega: float = 0.02, sites=None,
                   e_min=None):
    """(alpha_from_chi, alpha_bar): the Gilbert tensor -Im d chi/d w and the inertial tensor
    I/M = -(1/2) Re d^2 chi/d w^2 at w = 0 of :func:`dynamic_susceptibility` (default of negf_llg.md
    Sec. 1.5: the w^2 coefficient of the Kubo chi(w) instead of eq. 22), from w = 0, +-``omega``,
    +-2 ``omega`` (fourth-order differences)."""
    c = {k: dynamic_susceptibility(system, E_F, k * omega, M, sites, e_min) for k in (-2, -1, 0, 1, 2)}
    d1 = (-c[2] + 8 * c[1] - 8 * c[-1] + c[-2]) / (12 * omega)
    d2 = (-c[2] + 16 * c[1] - 30 * c[0] + 16 * c[-1] - c[-2]) / (12 * omega ** 2)
    # chi = chi0 - i w L - w^2 I  =>  L = i dchi/dw, I = -(1/2) d2chi/dw2
    return (1j * d1).real, -0.5 * d2.real


def eq22_literal(system: TightBinding, E_F: float, sites=None, e_min=None) -> np.ndarray:
    """Eq. 22 as printed: (J M)^2/2 int dE/2pi Im Tr[G^< sigma_i (G^r)^3 sigma_j] (with J M = 2 Delta),
    for comparison only (negf_llg.md Sec. 1.5: sign error in the iteration of A4, prefactor unverified)."""
    O = exchange_operators(system, sites)

    def f(E):
        G = greens_function(system, E)
        Gl = -(G - G.conj().T)
        return 2 * np.einsum("aik,bki->ab", Gl @ O, (G @ G @ G) @ O).imag

    return _fermi_sea_integral(system, E_F, f, e_min)
