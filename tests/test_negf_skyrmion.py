"""NEGF model (issue 14, seed 003): the lattice skyrmion of eq. 38, its electrons (Fig. 3 regions, Kwant
cross-check) and the NEGF-LLG dynamics of eq. 39 (energy decay, checkpoint/resume, pumped torques)."""
import math

import numpy as np
import pytest

from fem_stt.atomistic.negf import FermiSurface, LatticeLead, TightBinding
from fem_stt.atomistic.negf.dynamics import NEGFLLG, Pump
from fem_stt.atomistic.negf.kwant_systems import kwant_ldos, kwant_smatrix
from fem_stt.atomistic.negf.pumping import gate_path, pumped_spin_coefficients
from fem_stt.atomistic.negf.skyrmion import (SkyrmionHamiltonian, bloch_ansatz, relax, skyrmion_center,
                                             skyrmion_report, topological_charge)
from fem_stt.errors import ParameterError



def scaled(n, factor):
    """The paper's Sk Hamiltonian (D = 0.2, K = 0.07) with lengths scaled by 1/factor (D -> f D, K -> f^2 K)."""
    return SkyrmionHamiltonian(n, n, D=0.2 * factor, K=0.07 * factor ** 2)


def electrons(m, eta=0.0):
    n = m.shape[0]
    P1, P2 = np.zeros((n, n)), np.zeros((n, n))
    P1[0], P2[4] = 1, 1  # gate columns l1 = 1, l2 = 5
    return TightBinding(n, n, onsite=4.0, exchange=2.0, moments=m, leads={
        "left": LatticeLead(n, onsite=4.0), "right": LatticeLead(n, onsite=4.0)}, gates={"V1": P1, "V2": P2},
        broadening=eta)


@pytest.fixture(scope="module")
def sk20():
    H = scaled(20, 2.0)
    m, _ = relax(H, bloch_ansatz(20, 20, radius=4.0), tol=1e-9)
    return H, m


def test_energy_gradient_matches_finite_differences():
    H = SkyrmionHamiltonian(6, 5, D=0.3, K=0.1, B=(0.1, -0.2, 0.3))
    rng = np.random.default_rng(0)
    m, dm = rng.normal(size=(6, 5, 3)), rng.normal(size=(6, 5, 3))
    h = 1e-6
    fd = (H.energy(m + h * dm) - H.energy(m - h * dm)) / (2 * h)
    assert np.sum(H.gradient(m) * dm) == pytest.approx(fd, rel=1e-8, abs=0)


def test_relaxed_paper_skyrmion_at_40x40():
    """Case S: the relaxed Sk of the paper (40 x 40, D = 0.2, K = 0.07) lies above the (edge-canted) ferromagnet,
    its m_z = 0.99 radius is near r_0 = 10, Q is close to -1 (not exactly: free edges), min m_z > -1 (the centre is
    between sites); the wrong chirality unwinds."""
    H = SkyrmionHamiltonian(40, 40)
    fm = np.zeros((40, 40, 3))
    fm[..., 2] = 1
    m_fm, _ = relax(H, fm, tol=1e-8)
    m, _ = relax(H, bloch_ansatz(40, 40), tol=1e-8)
    rep = skyrmion_report(H, m, m_fm)
    assert rep["E_Sk_minus_E_FM_relaxed"] > 5  # 7.74
    assert rep["radii_mz_0_0.9_0.99"][2] == pytest.approx(10.0, abs=1.0)  # 10.40
    assert -1 < rep["min_mz"] < -0.95 and -1 < rep["Q"] < -0.9
    assert rep["center"] == pytest.approx((19.5, 19.5), abs=1e-6)
    wrong, _ = relax(H, bloch_ansatz(40, 40, chirality=-1), tol=1e-6)
    assert abs(topological_charge(wrong)) < 0.1 and wrong[..., 2].min() > 0


def test_skyrmion_ribbon_transport_matches_kwant_and_shows_the_three_spin_regions(sk20):
    """Kwant cross-check of T and LDOS with the Sk. Fig. 3 regions (uniform ferromagnet, m = +z): only down
    transmits for 0 < E < J = 2, only up for 8 - J < E < 8, both in between, edges at J and 8 - J within 0.05. With
    the relaxed Sk the z-spin of the outgoing electrons follows the edge-canted moments of the exit column, so up
    transmission in region (i) is small but not zero (7 % at 20 x 20)."""
    H, m = sk20
    syst = electrons(m)
    for E in (1.9, 4.0, 6.5):
        fs = FermiSurface(syst, E)
        assert fs.transmission() == pytest.approx(kwant_smatrix(syst, E).transmission(1, 0), abs=1e-10)
        assert np.allclose(fs.ldos(), kwant_ldos(syst, E), atol=1e-10)

    def T(sy, E, s):
        return sum(FermiSurface(sy, E).transmission(spin_to=s, spin_from=a) for a in ("up", "down"))
    fm = electrons(np.broadcast_to([0, 0, 1.0], m.shape))
    assert T(fm, 1.5, "up") < 1e-6 * T(fm, 1.5, "down")
    assert T(fm, 6.5, "down") < 1e-6 * T(fm, 6.5, "up")
    assert T(fm, 4.0, "up") > 1 and T(fm, 4.0, "down") > 1
    lo = next(E for E in np.arange(1.80, 2.30, 0.01) if T(fm, E, "up") > 1e-3)
    hi = next(E for E in np.arange(6.20, 5.70, -0.01) if T(fm, E, "down") > 1e-3)
    assert abs(lo - 2.0) <= 0.05 and abs(hi - 6.0) <= 0.05
    assert T(syst, 1.5, "up") < 0.1 * T(syst, 1.5, "down")


def test_pumped_torque_per_cycle_is_odd_in_the_phase(sk20):
    """The cycle integral of the pumped spin density on the Sk ribbon reverses with phi and vanishes at phi = 0."""
    H, m = sk20
    syst = electrons(m, eta=0.05)
    t = 2 * math.pi * np.arange(12) / 12
    res = {}
    for phi in (math.pi / 2, -math.pi / 2, 0.0):
        X, Xd = gate_path(0.4, phi, 1.0, t)
        res[phi] = sum(pumped_spin_coefficients(syst.with_gates(V1=x[0], V2=x[1]), 1.9) @ xd
                       for x, xd in zip(X, Xd)) * (2 * math.pi / 12)
    assert np.abs(res[math.pi / 2]).max() > 1e-3
    assert np.allclose(res[math.pi / 2], -res[-math.pi / 2], atol=1e-12)
    assert np.abs(res[0.0]).max() < 1e-12


@pytest.mark.parametrize("negf_damping", [False, True])
def test_energy_decreases_monotonically_without_pumping(negf_damping):
    """Eq. 39 with V = 0: H_Sk decreases at every step (scalar alpha, and with the PSD non-local NEGF damping)."""
    n = 8
    H = scaled(n, 4.0)
    rng = np.random.default_rng(2)
    m0 = bloch_ansatz(n, n, radius=2.5) + 0.3 * rng.normal(size=(n, n, 3))
    sim = NEGFLLG(H, electrons(np.broadcast_to([0, 0, 1.0], (n, n, 3))), 1.9, alpha=0.1, pump=None,
                  sd_mode="none", negf_damping=negf_damping)
    sim.set_state(m0)
    h = sim.run(1.5, 0.03)
    assert np.all(np.diff(h["E_Sk"]) < 0) and h["E_Sk"][0] - h["E_Sk"][-1] > 0.5
    if negf_damping:  # the electrons damp more: lower energy at the same time than scalar alpha alone
        ref = NEGFLLG(H, electrons(np.broadcast_to([0, 0, 1.0], (n, n, 3))), 1.9, alpha=0.1, pump=None,
                      sd_mode="none")
        ref.set_state(m0)
        assert h["E_Sk"][-1] < ref.run(1.5, 0.03)["E_Sk"][-1]


def test_checkpoint_resume_reproduces_an_uninterrupted_run(tmp_path, sk20):
    H, m = sk20
    H8 = scaled(8, 4.0)
    m8, _ = relax(H8, bloch_ansatz(8, 8, radius=2.0), tol=1e-6)

    def make():
        sim = NEGFLLG(H8, electrons(m8, eta=0.05), 1.9, alpha=0.4, pump=Pump(0.4, 1.0, math.pi / 2))
        sim.set_state(m8)
        return sim
    a = make()
    ha = a.run(0.6, 0.05)
    b = make()
    b.run(0.3, 0.05, checkpoint=tmp_path / "ck.npz")
    c = make()
    c.resume(tmp_path / "ck.npz")
    hc = c.run(0.6, 0.05)
    assert np.abs(c.m - a.m).max() < 1e-13 and c.t == pytest.approx(a.t)
    assert len(hc["t"]) == len(ha["t"]) and np.allclose(hc["x"], ha["x"], atol=1e-13)
    assert skyrmion_center(c.m) == pytest.approx(skyrmion_center(a.m), abs=1e-12)


def test_dynamics_bad_input(sk20):
    H, m = sk20
    el = electrons(m)
    with pytest.raises(ParameterError, match="alpha"):
        NEGFLLG(H, el, 1.9, alpha=-0.1)
    with pytest.raises(ParameterError, match="sd_mode"):
        NEGFLLG(H, el, 1.9, sd_mode="bogus")
    with pytest.raises(ParameterError, match="electrons"):
        NEGFLLG(H, TightBinding(20, 20), 1.9)  # no leads
    sim = NEGFLLG(H, el, 1.9)
    with pytest.raises(ParameterError, match="m"):
        sim.set_state(np.full((20, 20, 3), np.nan))
    with pytest.raises(ParameterError, match="pump.omega"):
        Pump(0.8, -1.0)
    with pytest.raises(ParameterError, match="broadening"):
        electrons(m, eta=-0.1)
