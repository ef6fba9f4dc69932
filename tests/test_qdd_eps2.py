"""QDD-Rashba (seed 001), spin equation (7) with the Bohm (eps^2) terms: FEM against the exponential
modes of the linearised 1D equation (case R2), convergence order, E2 variants, and the limits
alpha -> 0 and eps -> 0 (../shared/models/qdd_rashba.md)."""
import math

import numpy as np
import pytest

from fem_stt.quantum.qdd import Channel, SpinDiffusion
from fem_stt.quantum.qdd import reference1d as ref

POINTS = np.array([0.5, 1.0, 2.0, 3.0, 5.0])
AMP = 1e-3  # linear regime: the terms nonlinear in n are ~ AMP eps^2 / tau relative


@pytest.fixture(scope="module")
def interval():
    return Channel.interval(10.0, 500)


@pytest.mark.parametrize("eps", [0.2, 0.5])
def test_r2_bohm_term_against_exponential_modes(interval, eps):
    exact = ref.SpinModes1D(0.5, 10.0, (1, 0, 0), eps=eps)
    tau = 0.1
    results = {}
    for variant in ("printed", "cancelled", "printed+51"):
        s = SpinDiffusion(interval, alpha=0.5, tau=tau, eps=eps, contacts={"source": (AMP, 0, 0), "drain": (0, 0, 0)},
                          spin_flux_eps2=variant)
        assert s.mixed and s.degree == 2
        s.solve()
        results[variant] = s.values(POINTS[:, None]) / AMP
        assert np.abs(results[variant] - exact.n(POINTS)).max() < 1e-4, variant
        if variant == "printed":
            # reaction-method contact currents against the exact flux tau(-n' + eps^2/12 n''') at the drain
            y = exact.y([10.0])[:, 0]
            cur = s.contact_currents()["drain"] / AMP
            assert np.allclose(cur[[0, 2]], (tau * (-y[3:6] + eps ** 2 / 12 * y[9:12]))[[0, 2]], rtol=0, atol=1e-8)
            assert s.positivity_margin() > 0.99
    # the E2 variants differ only by terms nonlinear in n: invisible at this amplitude
    for v in ("cancelled", "printed+51"):
        assert np.abs(results[v] - results["printed"]).max() < 1e-4
    # and the Bohm term is resolved: eps = 0 differs by much more than the tolerance
    assert np.abs(ref.SpinModes1D(0.5, 10.0, (1, 0, 0)).n(POINTS) - exact.n(POINTS)).max() > 1e-3


def test_r2_third_order_convergence_of_p2():
    exact = ref.SpinModes1D(0.5, 10.0, (1, 0, 0), eps=0.5)
    xs = np.linspace(0, 10, 8001)[:, None]
    errs = []
    for N in (50, 100, 200):
        s = SpinDiffusion(Channel.interval(10.0, N), alpha=0.5, tau=0.1, eps=0.5,
                          contacts={"source": (1e-6, 0, 0), "drain": (0, 0, 0)})
        s.solve()
        errs.append(math.sqrt(np.mean((s.values(xs) / 1e-6 - exact.n(xs[:, 0])) ** 2)))
    rates = np.log2(np.array(errs[:-1]) / errs[1:])
    assert np.all(rates > 2.7), rates


def test_eps_to_zero_gives_eq10(interval):
    """(b) eps -> 0: the eps > 0 machinery (mixed P2, w = -Lap n) at eps = 1e-3 reproduces (10)."""
    s = SpinDiffusion(interval, alpha=0.5, tau=1.0, eps=1e-3)
    assert s.mixed
    s.solve()
    exact0 = ref.SpinModes1D(0.5, 10.0, (1, 0, 0))
    assert np.abs(s.values(POINTS[:, None]) - exact0.n(POINTS)).max() < 1e-5


def test_alpha_zero_decouples_components():
    """(a) alpha = 0: three uncoupled copies of the scalar (linearised) equation; with V = -x the
    exact scalar solution comes from the same modes with alpha = 0 (non-defective for v != 0)."""
    ch = Channel.interval(4.0, 400)
    for eps, amp in ((0.0, 1.0), (0.3, 1e-4)):
        inj = (amp, 0.0, -0.5 * amp)
        s = SpinDiffusion(ch, alpha=0.0, tau=1.0, eps=eps, V=lambda x: -x[0], contacts={"source": inj, "drain": (0, 0, 0)})
        s.solve()
        v = s.values(POINTS[:4, None]) / amp
        scalar = ref.SpinModes1D(0.0, 4.0, (1, 0, 0), v=-1.0, eps=eps).n(POINTS[:4])[:, 0]
        assert np.abs(v[:, 0] - scalar).max() < 1e-4
        assert np.abs(v[:, 2] + 0.5 * scalar).max() < 1e-4
        assert np.abs(v[:, 1]).max() < 1e-9  # nothing leaks into n2


def test_nonuniform_density_terms_against_1d_bvp():
    """The n0-dependent parts of (7) (A, B grad n0, C, D) with n0 = exp(0.8 sin(pi x/2)) and a drift
    V = -x, against solve_bvp on the 1D expansion G1 = -n''' + 2g n'' + (2H - 3g^2) n' + 2g(g^2 - H) n
    written out separately (reference1d.spin_bvp_variable_density). rho as an exact UFL expression
    (third order) and as a P2 interpolant (cellwise Hessian: second order)."""
    import ufl
    beta, k, L, eps = 0.8, math.pi / 2, 4.0, 0.3
    exact = ref.spin_bvp_variable_density(
        0.5, L, (1, 0, 0), eps, lambda x: (beta * k * np.cos(k * x), -beta * k ** 2 * np.sin(k * x),
                                           -beta * k ** 3 * np.cos(k * x)), v=-1.0)
    xs = np.linspace(0, L, 4001)
    uniform = ref.SpinModes1D(0.5, L, (1, 0, 0), v=-1.0, eps=eps)
    assert np.abs(exact.sol(xs)[0:3].T - uniform.n(xs)).max() > 0.02  # n0 matters
    errs = {"ufl": [], "p2": []}
    for N in (100, 200):
        ch = Channel.interval(L, N)
        x = ufl.SpatialCoordinate(ch.mesh)[0]
        for mode, rho in (("ufl", beta * ufl.sin(k * x)), ("p2", lambda X: beta * np.sin(k * X[0]))):
            s = SpinDiffusion(ch, alpha=0.5, tau=1.0, eps=eps, V=lambda X: -X[0], rho=rho,
                              contacts={"source": (1e-6, 0, 0), "drain": (0, 0, 0)})
            s.solve()
            e = s.values(xs[:, None]) / 1e-6 - exact.sol(xs)[0:3].T
            errs[mode].append(math.sqrt(np.mean(e ** 2)))
    assert errs["ufl"][-1] < 1e-7 and errs["p2"][-1] < 2e-6
    assert math.log2(errs["ufl"][0] / errs["ufl"][1]) > 2.8
    assert math.log2(errs["p2"][0] / errs["p2"][1]) > 1.9


def test_two_component_limit_eq8():
    """(8): with n1 = n2 = 0 (alpha = 0 keeps them 0) n_pm = n0 +- eps n3 solve the bipolar density-gradient
    model up to the neglected orders: each n_pm from its own density-gradient solve (contacts 1 +- eps s)
    differs from n0 +- eps n3 of (6)-(7) by O(eps^3) (spin amplitude eps s, equations exact to O(eps^2))."""
    import ufl
    from fem_stt.quantum.qdd import DensityGradient
    ch = Channel.interval(1.0, 400)
    x = ufl.SpatialCoordinate(ch.mesh)[0]
    V = 2 * ufl.exp(-((x - 0.5) / 0.1) ** 2) - x
    pts = np.linspace(0.05, 0.95, 19)[:, None]
    diffs = []
    for eps in (0.2, 0.1):
        dg = DensityGradient(ch, eps=eps, tau=1.0, V=V, degree=2)
        dg.solve()
        sp = SpinDiffusion(ch, alpha=0.0, tau=1.0, eps=eps, V=V, rho=dg.rho(),
                           contacts={"source": (0, 0, 0.5), "drain": (0, 0, 0)})
        sp.solve()
        n0, n3 = dg.values(pts), sp.values(pts)[:, 2]
        d = 0.0
        for sign in (1, -1):
            pm = DensityGradient(ch, eps=eps, tau=1.0, V=V, degree=2, contacts={"source": 1 + sign * eps * 0.5,
                                                                                 "drain": 1.0})
            pm.solve()
            d = max(d, np.abs(pm.values(pts) - (n0 + sign * eps * n3)).max())
        diffs.append(d)
    assert diffs[0] < 2e-4 and diffs[0] / diffs[1] > 6  # ~ eps^3
