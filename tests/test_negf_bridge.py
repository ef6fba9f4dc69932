"""NEGF model (issue 14, seed 003), the bridge to the continuum: damping of a uniform ferromagnet (closed form
with a bath, rotating frame, k-space bulk limit), Zhang-Li polarization by channel counting, and the lattice
NEGF-LLG domain wall against the 1D Zhang-Li model with the same u and alpha."""
import numpy as np
import pytest

from fem_stt.atomistic.negf import LatticeLead, TightBinding, WideBandLead, kubo_damping, rotating_frame_damping
from fem_stt.atomistic.negf.bridge import (bulk_damping, bulk_damping_k, continuum_domain_wall_run, domain_wall_run,
                                           uniform_ferromagnet, zhang_li_parameters)
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
    assert a[1, 1] == pytest.approx(0.5 * np.pi * rho[1] * rho[-1], rel=1e-12, abs=0)
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
    assert r["dpsi_dt"] == pytest.approx(r["dpsi_dt_ZL"], rel=0.02, abs=0)


def test_fem_zhang_li_wall_moves_with_the_lattice_wall(tmp_path):
    """Issue 14 item 6: the lattice NEGF-LLG wall above and the FEM LLG with the Zhang-Li torque (same u, alpha,
    and Ms, A, K1 of the lattice by LatticeUnits: lambda = 2.5 nm) move at the same velocity: ratio 0.9975
    (measured; the FEM's own error is second order in h: 0.9976 at lambda/8, 0.9994 at lambda/16)."""
    from fem_stt.atomistic.negf.units import LatticeUnits
    r = domain_wall_run(nx=60, ny=1, K=0.02, exchange=1.0, E_F=-2.0, bias=0.5, alpha=0.1, dt=0.25, t_end=40.0)
    U = LatticeUnits()
    Ms, A, K1 = U.saturation_magnetization(1.0), U.exchange_stiffness(1.0), U.anisotropy(0.02)
    assert np.sqrt(A / K1) == pytest.approx(r["lambda"] * U.a, rel=1e-12, abs=0)
    f = continuum_domain_wall_run(r["u"] * U.velocity, 0.1, Ms, A, K1, length=60 * U.a, t_end=40 * U.time,
                                  mesh_path=tmp_path / "wire.msh")
    ratio = f["v"] / (r["v"] * U.velocity)
    print(f"v_FEM = {f['v']:.4g} m/s, v_lattice = {r['v'] * U.velocity:.4g} m/s, ratio {ratio:.5f}")
    assert ratio == pytest.approx(1.0, abs=0.005)
    assert f["velocity_ratio"] == pytest.approx(1.0, abs=0.005)


def test_fem_llg_precesses_with_the_negf_damping_tensor(mesh_dir):
    """The k-space NEGF Gilbert tensor of a Rashba ferromagnet along z (anisotropic about m) as the FEM LLG's
    alpha_tensor: a macrospin in a field along z follows dm/dt = -gamma0 m x H + m x (alpha dm/dt) (scipy, rtol
    1e-12) to 1e-4."""
    from scipy.integrate import solve_ivp

    from fem_stt.geometry import Layer, LayerStack, rectangle
    from fem_stt.llg import LLG
    from fem_stt.materials import Material
    a = bulk_damping_k(0.5, 2, 1.0, direction=(0, 0, 1), rashba=0.3, broadening=0.1, n_k=512)
    assert abs(a[0, 0] - a[1, 1]) > 0.01 * a[0, 0] or abs(a[0, 1]) > 0.01 * a[0, 0]  # a real tensor
    a = 10 * a  # damping of order 0.1 so that 0.1 ns shows it
    dom = LayerStack([Layer("mag", 10e-9, Material("mac", Ms=8e5, A=1.3e-11, alpha=0.0), rectangle(10e-9, 10e-9))],
                     mesh_size=5e-9, surrounding=None, name="negf_cube").mesh(path=mesh_dir / "negf_cube.msh")
    H, m0, T, g0 = np.array([0, 0, 1e5]), np.array([np.sin(0.4), 0, np.cos(0.4)]), 0.1e-9, 2.2128e5

    def rhs(_, m):
        mx = np.array([[0, -m[2], m[1]], [m[2], 0, -m[0]], [-m[1], m[0], 0]])
        return np.linalg.solve(np.eye(3) - mx @ a, -g0 * np.cross(m, H))
    ref = solve_ivp(rhs, (0, T), m0, method="DOP853", rtol=1e-12, atol=1e-14).y[:, -1]
    s = LLG(dom, m0, H_ext=H, demag=False, order=2, dt=0.5e-12, dt_max=0.5e-12, max_rotation=1.0,
            alpha_tensor={"mag": a})
    s.advance(T)
    assert np.abs(s.average() - ref).max() < 1e-4
    assert np.abs(m0[:2]).max() - np.abs(ref[:2]).max() > 0.01  # it did damp


def test_bridge_bad_input():
    with pytest.raises(ParameterError, match="broadening"):
        bulk_damping_k(0.5, broadening=0.0)
    with pytest.raises(ParameterError, match="moments"):
        zhang_li_parameters(uniform_ferromagnet(4, 1, 1.0, direction=(1, 0, 0)), 0.0)
    with pytest.raises(ParameterError, match="bias"):
        domain_wall_run(bias=0.0)
