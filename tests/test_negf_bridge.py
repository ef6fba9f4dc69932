"""NEGF model (issue 14, seed 003), the bridge to the continuum: damping of a uniform ferromagnet (closed form
with a bath, rotating frame, k-space bulk limit), Zhang-Li polarization by channel counting, and the lattice
NEGF-LLG domain wall against the 1D Zhang-Li model with the same u and alpha."""
import numpy as np
import pytest

from fem_stt.atomistic.negf import LatticeLead, TightBinding, WideBandLead, kubo_damping, rotating_frame_damping
from fem_stt.atomistic.negf.bridge import (bulk_damping, bulk_damping_k, domain_wall_run, uniform_ferromagnet,
                                           zhang_li_parameters)
from fem_stt.atomistic.negf.units import LatticeUnits
from fem_stt.errors import ParameterError


def test_bath_broadening_enters_like_a_wide_band_lead():
    """Single site, wide-band leads Gamma = 0.4 and a bath eta = 0.1: alpha_perp = (pi/2) J^2 M rho_+ rho_- with
    Lorentzians of width Gamma + eta (Kubo, dense A), and the rotating frame (bath in the window) agrees."""
    eta, EF = 0.1, 0.3
    syst = TightBinding(1, 1, exchange=0.5, moments=(np.sin(0.7), 0, np.cos(0.7)), broadening=eta,
                        leads={"left": WideBandLead(0.2), "right": WideBandLead(0.2)})
    g = 0.4 + eta
    rho = {s: (g / 2 / np.pi) / ((EF - s * 0.5) ** 2 + g ** 2 / 4) for s in (1, -1)}
    a = kubo_damping(syst, EF)
    assert a[1, 1] == pytest.approx(0.5 * np.pi * rho[1] * rho[-1], rel=1e-12)
    assert rotating_frame_damping(syst, EF)[0] == pytest.approx(a[1, 1], abs=2e-6)


def test_uniform_ribbon_damping_converges_to_the_k_space_bulk_value():
    """alpha_perp of rigid precession of a length-L ribbon (ferromagnetic leads, bath eta) -> the k-sum value of the
    infinite ribbon, error ~ 1/L; the k sum is converged in n_k."""
    d = (np.sin(0.5), 0, np.cos(0.5))
    ak = bulk_damping_k(0.5, 2, 1.0, direction=d, broadening=0.1)
    assert np.allclose(ak, bulk_damping_k(0.5, 2, 1.0, direction=d, broadening=0.1, n_k=1024), atol=1e-12)
    m = np.array(d)
    P = np.eye(3) - np.outer(m, m)
    a_perp = np.trace(P @ ak @ P) / 2  # 0.00737
    errs = [bulk_damping(uniform_ferromagnet(L, 2, 1.0, direction=d, broadening=0.1), 0.5)["perp"] - a_perp
            for L in (10, 20, 40)]
    assert errs[0] > errs[1] > errs[2] > 0 and errs[1] / errs[2] > 1.8


def test_rashba_makes_the_bulk_damping_a_tensor_depending_on_m():
    eigs = []
    for d in ((1, 0, 0), (0, 1, 0), (0, 0, 1)):
        a = bulk_damping_k(0.5, 2, 1.0, direction=d, rashba=0.3, broadening=0.1, n_k=512)
        assert np.abs(a - a.T).max() < 1e-12 and np.linalg.eigvalsh(a).min() > -1e-12
        m = np.array(d, float)
        P = np.eye(3) - np.outer(m, m)
        eigs.append(np.sort(np.linalg.eigvalsh(P @ a @ P))[1:])  # the two transverse eigenvalues
    assert abs(eigs[0][0] - eigs[2][0]) > 0.05 * eigs[2][0]  # anisotropic: depends on the direction of m
    b = bulk_damping_k(0.5, 2, 1.0, direction=(0, 0, 1), rashba=0.0, broadening=0.1, n_k=512)
    assert abs(b[0, 0] - b[1, 1]) < 1e-12  # without SOI: isotropic about m


@pytest.mark.parametrize("ny,EF", [(1, -2.0), (3, 0.5), (4, -1.0)])
def test_zhang_li_polarization_counts_the_open_channels(ny, EF):
    zl = zhang_li_parameters(uniform_ferromagnet(6, ny, 1.0), EF)
    n_plus, n_minus = LatticeLead(ny, exchange=1.0).open_channels(EF)
    assert zl["T_plus"] == pytest.approx(n_plus, abs=1e-10) and zl["T_minus"] == pytest.approx(n_minus, abs=1e-10)
    assert zl["P_m"] == pytest.approx((n_plus - n_minus) / (n_plus + n_minus), abs=1e-10)
    u = LatticeUnits()
    # u/j = P mu_B/(e Ms) with Ms = 2 mu_B M / a^3
    assert zl["u_per_current_density_SI"] == pytest.approx(zl["P_m"] * 9.2740100783e-24 / (
        1.602176634e-19 * u.saturation_magnetization()), rel=1e-12)


def test_lattice_domain_wall_moves_at_the_zhang_li_velocity():
    """Half-metallic chain (P_m = -1), wide wall (lambda = 5 > Fermi wavelength): v = u/(1+alpha^2) and
    dpsi/dt = alpha u/((1+alpha^2) lambda) (beta = 0) to 1 %; the wall moves against the electron flow."""
    r = domain_wall_run(nx=60, ny=1, K=0.02, exchange=1.0, E_F=-2.0, bias=0.5, alpha=0.1, dt=0.25, t_end=40.0)
    assert r["zhang_li"]["P_m"] == pytest.approx(-1.0)
    assert r["u"] < 0 and r["displacement"] < -1.0
    assert r["velocity_ratio"] == pytest.approx(1.0, abs=0.01)
    assert r["dpsi_dt"] == pytest.approx(r["dpsi_dt_ZL"], rel=0.02)


def test_bridge_bad_input():
    with pytest.raises(ParameterError, match="broadening"):
        bulk_damping_k(0.5, broadening=0.0)
    with pytest.raises(ParameterError, match="moments"):
        zhang_li_parameters(uniform_ferromagnet(4, 1, 1.0, direction=(1, 0, 0)), 0.0)
    with pytest.raises(ParameterError, match="bias"):
        domain_wall_run(bias=0.0)
