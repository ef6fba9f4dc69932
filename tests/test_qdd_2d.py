"""QDD-Rashba (seed 001), 2D channel (case R5): covariant walls against an independent Q1 tensor-grid
solver (numpy/scipy, Richardson-extrapolated), edge spin accumulation and its symmetry, narrow-channel
suppression of the D'yakonov-Perel' decay, and plain-Neumann strips equal to the 1D solution."""
import numpy as np
import pytest

from fem_stt.quantum.qdd import Channel, SpinDiffusion
from fem_stt.quantum.qdd import reference1d as ref1
from fem_stt.quantum.qdd.reference2d import CovariantSpinQ1, richardson

L, W, ALPHA = 2.0, 0.5, 1.0
POINTS = [(0.5, 0.25), (1.0, 0.25), (1.0, 0.0), (1.5, 0.25), (0.5, 0.0)]
XS = (0.5, 1.0, 1.5)


def fem_means(s, width, xs=XS, k=40):
    """Cross-section means (1/W) int n dy by composite Simpson on 2k intervals (exact for the P2 pieces
    when 2k is a multiple of the cell rows)."""
    ys = np.linspace(0, width, 2 * k + 1)
    w = np.ones(2 * k + 1)
    w[1:-1:2], w[2:-1:2] = 4, 2
    w *= (ys[1] - ys[0]) / 3 / width
    return np.array([w @ s.values(np.array([[x, y] for y in ys])) for x in xs])


@pytest.fixture(scope="module")
def q1_reference():
    vals = []
    for nx in (40, 80, 160):
        q = CovariantSpinQ1(ALPHA, L, W, nx, nx // 4)
        vals.append(np.array([q.at(*p) for p in POINTS] + [q.mean_over_y(x) for x in XS]))
    order = np.log2(np.abs(vals[1] - vals[0]).max() / np.abs(vals[2] - vals[1]).max())
    assert abs(order - 2.0) < 0.05, order  # observed order of the Q1 scheme
    ext, err = richardson(vals[1], vals[2])
    assert err.max() < 1e-4
    # symmetry of the reference: n2 odd in y, n1 and n3 even
    assert np.abs(q.n[:, :, 1] + q.n[:, ::-1, 1]).max() < 1e-12
    assert np.abs(q.n[:, :, [0, 2]] - q.n[:, ::-1][:, :, [0, 2]]).max() < 1e-12
    return ext


@pytest.fixture(scope="module")
def covariant_fem():
    s = SpinDiffusion(Channel.rectangle(L, W, 0.05), alpha=ALPHA, tau=1.0, degree=2)
    s.solve()
    return s


def test_r5_covariant_walls_against_q1_reference(q1_reference, covariant_fem):
    v = covariant_fem.values(np.array(POINTS))
    assert np.abs(v - q1_reference[:5]).max() < 1e-4
    assert np.abs(fem_means(covariant_fem, W) - q1_reference[5:]).max() < 1e-4


def test_r5_edge_spin_accumulation_symmetry(covariant_fem):
    ys = np.array([0.0, 0.05, 0.1, 0.2])
    for x in (0.3, 1.0, 1.7):
        lo = covariant_fem.values(np.array([[x, y] for y in ys]))
        hi = covariant_fem.values(np.array([[x, W - y] for y in ys]))
        assert np.allclose(lo[:, 1], -hi[:, 1], atol=1e-10)  # n2 odd about the centre line
        assert np.allclose(lo[:, [0, 2]], hi[:, [0, 2]], atol=1e-10)  # n1, n3 even
    edge = covariant_fem.values(np.array([[1.0, 0.0], [1.0, W / 2]]))
    assert abs(edge[0, 1]) > 0.1 and abs(edge[1, 1]) < 1e-10  # spin accumulates at the edges


def test_r5_narrow_channels_suppress_dp_decay(covariant_fem):
    one_d = ref1.SpinModes1D(ALPHA, L, (1, 0, 0)).n(np.array(XS))
    m = fem_means(covariant_fem, W)
    assert np.all(np.linalg.norm(m, axis=1) > 1.4 * np.linalg.norm(one_d, axis=1))  # weaker decay than in 1D
    # W -> 0: n -> (1 - x/L)(cos 2 alpha x, 0, sin 2 alpha x) (no DP decay, pure precession + diffusion)
    xs = np.array(XS)
    limit = np.stack([(1 - xs / L) * np.cos(2 * ALPHA * xs), 0 * xs, (1 - xs / L) * np.sin(2 * ALPHA * xs)], axis=1)
    dist = []
    for width in (0.5, 0.2, 0.1, 0.05):
        s = covariant_fem if width == W else SpinDiffusion(Channel.rectangle(L, width, min(width / 4, 0.05)),
                                                            alpha=ALPHA, tau=1.0, degree=2)
        if s is not covariant_fem:
            s.solve()
        dist.append(np.abs(fem_means(s, width, k=8) - limit).max())
    dist = np.array(dist)
    assert np.all(np.diff(dist) < 0) and dist[-1] < 1e-3
    assert np.all(np.abs(np.log(dist[1:] / dist[:-1]) / np.log([0.4, 0.5, 0.5]) - 2) < 0.35)  # ~ W^2


def test_neumann_strip_equals_1d():
    exact = ref1.SpinModes1D(ALPHA, L, (1, 0, 0))
    s = SpinDiffusion(Channel.rectangle(L, W, 0.05), alpha=ALPHA, tau=1.0, degree=2, wall_bc="neumann")
    s.solve()
    pts = np.array([[x, y] for x in (0.25, 0.5, 1.0, 1.5) for y in (0.0, 0.1, 0.25, 0.5)])
    assert np.abs(s.values(pts) - exact.n(pts[:, 0])).max() < 1e-5
