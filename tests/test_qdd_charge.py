"""QDD-Rashba (seed 001), density-gradient model (6): FEM against independent 1D references.

R4 (stationary barrier, solve_bvp on (rho, rho', F) with the flux as parameter) and R6 (transient,
no-flux walls, cosine pseudo-spectral) of ../shared/models/qdd_rashba.md.
"""
import math

import numpy as np
import pytest
import ufl

from fem_stt.quantum.qdd import Channel, DensityGradient
from fem_stt.quantum.qdd import reference1d as ref


@pytest.fixture(scope="module")
def barrier_channel():
    # P2, h = 2.5e-3 within 0.15 of the barrier and of the contacts (boundary layers), <= 0.01 elsewhere
    return Channel.graded_interval(1.0, h_max=0.01, h_min=2.5e-3, refine_at=[0.0, 0.5, 1.0], width=0.15)


def test_r4_classical_limit_closed_form():
    """eps = 0: n0 = exp(-V) for U = 0 and the flux J = tau (1 - e^-U) / int e^V."""
    ch = Channel.interval(1.0, 400)
    x = ufl.SpatialCoordinate(ch.mesh)[0]
    for U in (0.0, 2.0):
        dg = DensityGradient(ch, eps=0.0, tau=0.5, V=4 * ufl.exp(-((x - 0.5) / 0.05) ** 2) - U * x, degree=2)
        dg.solve()
        xs = np.linspace(0, 1, 2000001)
        J = 0.5 * (1 - math.exp(-U)) / np.trapz(np.exp(4 * np.exp(-((xs - 0.5) / 0.05) ** 2) - U * xs), xs)
        cur = dg.contact_currents()
        assert cur["drain"] == pytest.approx(J, rel=1e-6, abs=1e-12)
        assert cur["source"] == pytest.approx(-J, rel=1e-6, abs=1e-12)
        if U == 0:
            pts = np.array([0.2, 0.45, 0.5])
            assert np.allclose(dg.values(pts[:, None]), np.exp(-4 * np.exp(-((pts - 0.5) / 0.05) ** 2)), rtol=1e-5)
    # eps -> 0: the quantum solution tends to the classical one at O(eps^2)
    V = 4 * ufl.exp(-((x - 0.5) / 0.05) ** 2)
    d = []
    for eps in (0.02, 0.01):
        dg = DensityGradient(ch, eps=eps, tau=0.5, V=V, degree=2)
        dg.solve()
        pts = np.array([0.3, 0.45, 0.5])
        d.append(np.abs(dg.values(pts[:, None]) / np.exp(-4 * np.exp(-((pts - 0.5) / 0.05) ** 2)) - 1).max())
    assert d[1] < 0.03 and 3.5 < d[0] / d[1] < 4.5, d


@pytest.mark.parametrize("U", [0.0, 2.0])
@pytest.mark.parametrize("eps", [0.05, 0.1])
def test_r4_barrier_against_solve_bvp(barrier_channel, U, eps):
    def V(x):
        return 4 * np.exp(-((x - 0.5) / 0.05) ** 2) - U * x
    exact = ref.density_gradient_bvp(V, None, eps, tau=1.0, tol=1e-8)
    coarse = ref.density_gradient_bvp(V, None, eps, tau=1.0, tol=1e-6)
    assert abs(exact["J"] - coarse["J"]) < 1e-10 and abs(exact["n0"](0.5) / coarse["n0"](0.5) - 1) < 1e-9
    x = ufl.SpatialCoordinate(barrier_channel.mesh)[0]
    dg = DensityGradient(barrier_channel, eps=eps, tau=1.0, V=4 * ufl.exp(-((x - 0.5) / 0.05) ** 2) - U * x, degree=2)
    dg.solve()
    pts = np.array([0.02, 0.25, 0.45, 0.5, 0.55, 0.75, 0.98])
    assert np.abs(dg.values(pts[:, None]) / exact["n0"](pts) - 1).max() < 1e-4
    xs = np.linspace(0, 1, 4001)
    n_fem = dg.values(xs[:, None])
    assert n_fem.min() == pytest.approx(exact["n0"](xs).min(), rel=1e-4, abs=0)
    xq = exact["x"]
    assert dg.mass() == pytest.approx(np.trapz(exact["n0"](xq), xq), rel=1e-4)
    Q = dg.values(np.array([[0.5]]), "Q")[0]
    assert Q == pytest.approx(exact["Q"](np.array([0.5]))[0], rel=1e-4)
    assert abs(Q) > 0.1  # the Bohm potential is not negligible on the barrier
    cur = dg.contact_currents()
    if U == 0:
        assert abs(cur["drain"]) < 1e-12 and abs(exact["J"]) < 1e-12
    else:
        assert cur["drain"] == pytest.approx(exact["J"], rel=1e-4, abs=0)
        assert cur["source"] == pytest.approx(-exact["J"], rel=1e-4, abs=0)


R6_TIMES = [0.01, 0.02, 0.05, 0.1]


@pytest.fixture(scope="module")
def r6_reference():
    """Cosine pseudo-spectral solution of R6 at N = 32 and 64 modes (spectral convergence)."""
    out = {}
    for N in (32, 64):
        sp = ref.CosineSpectralDG(N, eps=0.1, tau=1.0)
        Y = sp.solve(lambda x: 1 + 0.5 * np.cos(np.pi * x), R6_TIMES)
        out[N] = np.array([list(sp.interpolate(y, [0.0, 0.5, 1.0])) + [sp.mass(y), sp.free_energy(y)] for y in Y])
    assert np.abs(out[32] - out[64]).max() < 1e-10
    return out[64]


def r6_run(dt, rtol=None):
    dg = DensityGradient(Channel.interval(1.0, 200), eps=0.1, tau=1.0, contacts={}, degree=2,
                         n_init=lambda x: 1 + 0.5 * np.cos(np.pi * x[0]))
    energies, masses = [dg.free_energy()], [dg.mass()]

    def record(s):
        energies.append(s.free_energy())
        masses.append(s.mass())
    rows = []
    for t in R6_TIMES:
        dg.run(t, dt, order=2, rtol=rtol, atol=rtol or 1e-8, callback=record)
        rows.append(list(dg.values(np.array([[0.0], [0.5], [1.0]]))) + [dg.mass(), dg.free_energy()])
    return dg, np.array(rows), np.array(energies), np.array(masses)


def test_r6_transient_bdf2_against_pseudospectral(r6_reference):
    dg, rows, E, M = r6_run(1e-3)
    assert np.abs(rows - r6_reference).max() < 1e-4
    assert np.ptp(M) < 1e-12  # charge conserved to solver tolerance
    assert np.all(np.diff(E) < 0)  # E_DG strictly decreasing
    assert E[-1] > -1.0 and r6_reference[-1, 4] == pytest.approx(rows[-1, 4], abs=1e-4)
    # BDF2 order: halving dt divides the error by ~4
    _, rows2, _, _ = r6_run(5e-4)
    ratio = np.abs(rows - r6_reference).max() / np.abs(rows2 - r6_reference).max()
    assert 3.6 < ratio < 4.4, ratio


def test_r6_error_controlled_steps(r6_reference):
    errs, steps = [], []
    for rtol in (1e-6, 1e-7):
        dg, rows, E, M = r6_run(1e-4, rtol=rtol)
        errs.append(np.abs(rows[:, :3] - r6_reference[:, :3]).max())
        steps.append(dg.steps)
        assert np.ptp(M) < 1e-12 and np.all(np.diff(E) < 0)
    assert errs[0] < 1e-4 and steps[0] < 100  # better than fixed dt = 1e-3 (100 steps) for less work
    assert errs[1] < errs[0] / 3 and steps[1] > steps[0]


def test_r6_small_amplitude_decay_rate():
    """n0 = 1 + d cos(pi x): rate tau (pi^2 + eps^2 pi^4 / 12) (linearised (6))."""
    eps, tau = 0.1, 0.7
    rate = tau * (math.pi ** 2 + eps ** 2 * math.pi ** 4 / 12)
    dg = DensityGradient(Channel.interval(1.0, 100), eps=eps, tau=tau, contacts={}, degree=2,
                         n_init=lambda x: 1 + 1e-4 * np.cos(np.pi * x[0]))
    dg.run(0.05, 2.5e-4)
    a1 = dg.values(np.array([[0.0]]))[0] - 1
    dg.run(0.1, 2.5e-4)
    a2 = dg.values(np.array([[0.0]]))[0] - 1
    assert math.log(a1 / a2) / 0.05 == pytest.approx(rate, rel=1e-5, abs=0)
    assert rate != pytest.approx(tau * math.pi ** 2, rel=1e-3, abs=0)  # the Bohm term is resolved


def test_stationary_state_is_a_fixed_point_of_the_time_steps():
    """After solve() the BDF history is the stationary state: steps keep it (a gate barrier under bias)."""
    ch = Channel.interval(1.0, 100)
    x = ufl.SpatialCoordinate(ch.mesh)[0]
    dg = DensityGradient(ch, eps=0.1, tau=0.5, V=3 * ufl.exp(-((x - 0.5) / 0.1) ** 2) - 2 * x, degree=2)
    dg.solve()
    pts = np.linspace(0, 1, 11)[:, None]
    n_stat, I_stat = dg.values(pts), dg.contact_currents()
    assert dg.t == 0.0
    dg.run(0.2, 0.02)
    assert np.abs(dg.values(pts) - n_stat).max() < 1e-10
    cur = dg.contact_currents()
    assert cur["drain"] == pytest.approx(I_stat["drain"], rel=1e-8, abs=0) and cur["source"] == pytest.approx(-cur["drain"], rel=1e-8, abs=0)
