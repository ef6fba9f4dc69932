"""QDD-Rashba (seed 001), transient spin equation: spin-helix decay (R7) against its closed form (which
separates c = 1 from c = 2), uniform D'yakonov-Perel' rates, the spin Lyapunov functional, BDF order."""
import math

import numpy as np
import pytest

from fem_stt.quantum.qdd import Channel, SpinDiffusion
from fem_stt.quantum.qdd import reference1d as ref

Q = math.pi / 2  # helix wave number on [0, 4]: n1 ~ cos(qx) (d_x n1 = 0 at the ends), n3 ~ sin(qx) (0 at the ends)
HELIX_BC = {"source": (None, 0.0, 0.0), "drain": (None, 0.0, 0.0)}


def helix_rate_fem(alpha, eps, c, N, dt, amp=1.0, tau=1.0):
    ba = ref.helix_ratio(Q, alpha, c)
    s = SpinDiffusion(Channel.interval(4.0, N), alpha=alpha, tau=tau, eps=eps, c=c, contacts=HELIX_BC,
                      n_init=lambda x: amp * np.vstack([np.cos(Q * x[0]), 0 * x[0], ba * np.sin(Q * x[0])]))
    s.run(0.2, dt)
    a = s.norm()
    s.run(1.0, dt)
    return math.log(a / s.norm()) / 0.8


@pytest.mark.parametrize("c", [2.0, 1.0])
def test_r7_helix_decay_rate_eps0(c):
    G = helix_rate_fem(0.5, 0.0, c, 400, 0.01)
    assert G == pytest.approx(ref.helix_rate(Q, 0.5, 1.0, 0.0, c), rel=3e-4, abs=0)
    other = ref.helix_rate(Q, 0.5, 1.0, 0.0, 3.0 - c)
    assert abs(G - other) > 0.5 * G  # the decay rate tells c = 1 from c = 2


def test_r7_helix_decay_rate_with_bohm_term():
    G = helix_rate_fem(0.5, 0.2, 2.0, 100, 0.01, amp=1e-3)
    exact = ref.helix_rate(Q, 0.5, 1.0, 0.2, 2.0)
    assert G == pytest.approx(exact, rel=1e-4, abs=0)
    assert abs(exact - ref.helix_rate(Q, 0.5, 1.0, 0.0, 2.0)) > 100 * 1e-4 * exact  # eps^2 q^4/12 resolved


def test_r7_longest_lived_helix_and_bdf_order():
    """c = 2: the helix q* = (sqrt 15 / 2) alpha decays at 7/16 of the in-plane DP rate (Gamma* = 7/4 alpha^2 tau)."""
    alpha = Q / (math.sqrt(15) / 2)
    G = [helix_rate_fem(alpha, 0.0, 2.0, 400, dt) for dt in (0.04, 0.02, 0.01)]
    assert G[-1] == pytest.approx(7 / 4 * alpha ** 2, rel=2e-4, abs=0)
    ratio = (G[0] - G[1]) / (G[1] - G[2])  # successive differences shrink 4x: BDF2 is second order
    assert 3.7 < ratio < 4.3, ratio
    assert 7 / 4 * alpha ** 2 < 4 * alpha ** 2 * 0.5  # longer-lived than the uniform in-plane spin
    # with c = 1 no helix beats the uniform state: Gamma(q) > 4 alpha^2 tau for every q
    qs = np.linspace(0.01, 5, 500)
    assert min(ref.helix_rate(q, alpha, 1.0, 0.0, 1.0) for q in qs) > 4 * alpha ** 2 * 0.999


@pytest.mark.parametrize("n_init,rate", [((1.0, 0.0, 0.0), 4.0), ((0.0, 1.0, 0.0), 4.0), ((0.0, 0.0, 1.0), 8.0)])
def test_uniform_dyakonov_perel_rates(n_init, rate):
    """Plain Neumann walls, no contacts: a uniform spin decays at 4 alpha^2 tau (in-plane), 8 alpha^2 tau (z)."""
    alpha, tau = 0.5, 0.3
    for ch in (Channel.interval(2.0, 20), Channel.rectangle(2.0, 0.5, 0.25)):
        s = SpinDiffusion(ch, alpha=alpha, tau=tau, contacts={}, wall_bc="neumann", n_init=n_init)
        a = s.norm()
        s.run(1.0, 0.005)
        G = math.log(a / s.norm())
        assert G == pytest.approx(rate * alpha ** 2 * tau, rel=2e-5, abs=0)
        v = s.values(np.array([[0.3, 0.1], [1.7, 0.4]])[:, : ch.tdim])
        assert np.allclose(v[0], v[1], rtol=0, atol=1e-12)  # stays uniform
        assert np.allclose(v[0] / np.linalg.norm(v[0]), n_init, atol=1e-12)
    assert ref.dp_rates(alpha, tau) == pytest.approx((4 * alpha ** 2 * tau, 8 * alpha ** 2 * tau))


def test_spin_lyapunov_functional_decreases_with_covariant_walls():
    """(d) d/dt (1/2) int e^V |n|^2 <= 0 at eps = 0 (covariant walls, zero contacts), 2D channel with drift."""
    ch = Channel.rectangle(2.0, 0.5, 0.1)
    s = SpinDiffusion(ch, alpha=1.0, tau=1.0, V=lambda x: -2 * x[0] + 0.5 * np.sin(3 * x[1]),
                      contacts={"source": (0, 0, 0), "drain": (0, 0, 0)},
                      n_init=lambda x: np.vstack([np.sin(np.pi * x[0] / 2), x[1] * (2 - x[0]), np.cos(x[0]) * x[0] * (2 - x[0])]))
    values = [s.lyapunov()]
    s.run(0.3, 0.01, callback=lambda st: values.append(st.lyapunov()))
    assert np.all(np.diff(values) < 0) and values[-1] < 0.5 * values[0]
