"""QDD-Rashba (seed 001), spin equation (10) at eps = 0: FEM against exact exponential modes.

Cases R0, R1, R3 of ../shared/models/qdd_rashba.md; the references (fem_stt.quantum.qdd.reference1d)
use numpy/scipy only and share no code with the FEM.
"""
import math

import numpy as np
import pytest

from fem_stt.quantum.qdd import Channel, SpinDiffusion
from fem_stt.quantum.qdd import reference1d as ref

POINTS = np.array([0.5, 1.0, 2.0, 3.0, 5.0])


def prony_rates(x, y, order=4):
    """Exponents lambda of y(x) = sum_j c_j exp(lambda_j x) from equally spaced samples (linear
    prediction of the given order by least squares, then the roots of its polynomial)."""
    rows = np.array([y[k:k + order] for k in range(len(y) - order)])
    coef, *_ = np.linalg.lstsq(rows, y[order:], rcond=None)
    z = np.roots(np.concatenate([[1.0], -coef[::-1]]))
    return np.log(z.astype(complex)) / (x[1] - x[0])


def test_r0_injection_modes_closed_form():
    # mu^2 + (c^2 - 3) mu + 2 = 0: c = 2 -> (-1 +- i sqrt 7)/2, c = 1 -> 1 +- i
    assert np.allclose(sorted(ref.injection_mu(2.0), key=np.imag), [(-1 - 1j * math.sqrt(7)) / 2,
                                                                    (-1 + 1j * math.sqrt(7)) / 2])
    assert np.allclose(sorted(ref.injection_mu(1.0), key=np.imag), [1 - 1j, 1 + 1j])
    # the companion-matrix eigenvalues of the reference solver reproduce the roots (alpha = 0.5, K = 1)
    for c in (2.0, 1.0):
        m = ref.SpinModes1D(0.5, 10.0, (1, 0, 0), c=c)
        lam = m.lam[np.abs(np.abs(m.lam) - 1.0) > 1e-6]  # drop the n2 modes +-2 alpha = +-1
        mu = np.sort_complex(np.unique(np.round(lam ** 2, 12)))
        assert np.allclose(mu, np.sort_complex(ref.injection_mu(c)), atol=1e-12)
    ell2, lam2 = ref.injection_lengths(0.5, 2.0)
    ell1, lam1 = ref.injection_lengths(0.5, 1.0)
    # |mu| = sqrt 2 for both c: sqrt(mu) = sqrt((sqrt2 + Re mu)/2) + i sqrt((sqrt2 - Re mu)/2), K = 2 alpha = 1
    r2 = math.sqrt(2)
    assert ell2 == pytest.approx(1 / math.sqrt((r2 - 0.5) / 2), rel=1e-12)
    assert lam2 == pytest.approx(2 * math.pi / math.sqrt((r2 + 0.5) / 2), rel=1e-12)
    assert ell1 == pytest.approx(1 / math.sqrt((r2 + 1) / 2), rel=1e-12)
    assert lam1 == pytest.approx(2 * math.pi / math.sqrt((r2 - 1) / 2), rel=1e-12)
    # drift limit E >> alpha: the injected mode precesses at the Datta-Das wave number 2 alpha for both c
    for c in (1.0, 2.0):
        m = ref.SpinModes1D(0.5, 1.0, (1, 0, 0), v=-400.0, c=c)
        k = np.abs(m.lam[np.abs(m.lam) < 10].imag).max()
        assert k == pytest.approx(1.0, rel=2e-3, abs=0)


def test_reference_modes_agree_with_solve_bvp():
    for kw in ({"n_source": (1, 0, 0)}, {"n_source": (0, 0, 1), "c": 1.0}, {"n_source": (1, 0, 0), "v": -10.0}):
        L = 1.0 if "v" in kw else 10.0
        m = ref.SpinModes1D(0.5, L, **kw)
        b = ref.spin_bvp(0.5, L, tol=1e-9, **kw)
        xs = np.linspace(0, L, 41)
        assert np.abs(m.n(xs) - b.sol(xs)[0:3].T).max() < 1e-8


@pytest.fixture(scope="module")
def fine_interval():
    return Channel.interval(10.0, 1000)  # h = 0.01


@pytest.mark.parametrize("c", [2.0, 1.0])
@pytest.mark.parametrize("inj", [(1, 0, 0), (0, 1, 0), (0, 0, 1)])
def test_r1_injection_against_exponential_modes(fine_interval, c, inj):
    exact = ref.SpinModes1D(0.5, 10.0, inj, c=c)
    s = SpinDiffusion(fine_interval, alpha=0.5, tau=1.0, c=c, contacts={"source": inj, "drain": (0, 0, 0)})
    assert s.solve() == 1  # linear: one Newton step
    err = np.abs(s.values(POINTS[:, None]) - exact.n(POINTS)).max()
    assert err < 1e-4, err
    # spin current into the drain (reaction method) = -n'(L) of the exact solution
    assert np.allclose(s.contact_currents()["drain"], -exact.dn([10.0])[0], atol=2e-6)
    if inj == (1, 0, 0):
        # decay length and precession wavelength of the injected spin, fitted from the FEM nodal values
        xs = np.linspace(0.0, 10.0, 101)
        lam = prony_rates(xs, s.values(xs[:, None])[:, 0])
        lam = lam[(lam.real < 0) & (lam.imag > 0)][0]
        ell, wl = ref.injection_lengths(0.5, c)
        assert 1 / abs(lam.real) == pytest.approx(ell, rel=1e-4, abs=0)
        assert 2 * math.pi / lam.imag == pytest.approx(wl, rel=1e-4, abs=0)
        z = exact.first_zero(0)
        nz = s.values(np.array([[z]]))[0, 0]
        assert abs(nz) < 2e-5  # the FEM n1 changes sign where the exact one does


def test_r1_second_order_convergence():
    exact = ref.SpinModes1D(0.5, 10.0, (1, 0, 0))
    errs = []
    xs = np.linspace(0, 10, 8001)[:, None]  # ~10 samples per cell: RMS ~ L2 error
    for N in (200, 400, 800):
        s = SpinDiffusion(Channel.interval(10.0, N), alpha=0.5, tau=1.0)
        s.solve()
        e = s.values(xs) - exact.n(xs[:, 0])
        errs.append(math.sqrt(np.mean(e ** 2)))
    rates = np.log2(np.array(errs[:-1]) / errs[1:])
    assert np.all(np.abs(rates - 2.0) < 0.05), rates


@pytest.mark.parametrize("alpha", [0.0, 0.5, 1.0, 1.5, 2.0, 3.0])
def test_r3_drift_drain_spin_current(alpha):
    """Drift-dominated channel (Datta-Das limit): V = -10 x on [0, 1], drain current j1 = -n1'(1)."""
    E = 10.0
    exact = ref.SpinModes1D(alpha, 1.0, (1, 0, 0), v=-E)
    s = SpinDiffusion(Channel.interval(1.0, 400), alpha=alpha, tau=1.0, V=lambda x: -E * x[0])
    s.solve()
    j = s.contact_currents()["drain"]
    j_exact = -exact.dn([1.0])[0]
    assert j[0] == pytest.approx(j_exact[0], rel=1e-4, abs=0)
    assert np.abs(s.values(np.array([[0.5], [0.9]])) - exact.n([0.5, 0.9])).max() < 5e-5
    if alpha == 0.0:
        assert j[0] == pytest.approx(E / (1 - math.exp(-E)), rel=1e-4)  # 1D drift-diffusion flux
