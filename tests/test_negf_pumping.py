"""NEGF model (issue 14, seed 003): adiabatic pumping on a 6-site textured chain (cases D1-D4) against
Brouwer's scattering formula with Kwant's S matrix, and the pumped spin density against the full first-order
response."""
import numpy as np
import pytest

from fem_stt.atomistic.negf import FermiSurface, LatticeLead, TightBinding, response_tensor
from fem_stt.atomistic.negf.leads import SIGMA
from fem_stt.atomistic.negf.pumping import (brouwer_emissivity, emissivity, gate_path, pumped_charge, pumped_current,
                                            pumped_spin_coefficients)
from fem_stt.errors import ParameterError

EF = 0.9


@pytest.fixture(scope="module")
def chain():
    th = np.pi * np.arange(6) / 5
    m = np.stack([np.sin(th), 0 * th, np.cos(th)], 1)
    P1, P2 = np.zeros((6, 1)), np.zeros((6, 1))
    P1[0], P2[4] = 1, 1
    leads = {"left": LatticeLead(onsite=2.0), "right": LatticeLead(onsite=2.0)}
    return TightBinding(6, 1, onsite=2.0, exchange=1.0, moments=m, leads=leads, gates={"X1": P1, "X2": P2})


def test_emissivity_equals_brouwer_with_kwant_smatrix(chain):
    """D1: (1/2pi) Tr[Gamma_R G P_k G^a] = -(1/2pi) Im sum dS S^* (finite differences of Kwant's S)."""
    sx = chain.with_gates(X1=0.3, X2=-0.2)
    e = emissivity(sx, EF)
    assert np.all(e > 0.05)
    assert np.allclose(e, brouwer_emissivity(sx, EF), atol=1e-9)
    for lead in ("left", "right"):
        for spin in ("up", "down"):
            assert 0 < emissivity(sx, EF, lead=lead, spin=spin)[0]
    T0 = FermiSurface(chain, EF).transmission()
    assert 0.9 < T0 <= 1.0  # reported: T(L->R) = 0.9948 at X = 0


def test_pumped_charge_is_odd_in_phase_and_bilinear(chain):
    """D2: Q_R odd in phi, zero at phi = 0, Q(0.1)/Q(0.05) -> 4, spectral convergence in the cycle points."""
    q = {p: pumped_charge(chain, EF, 0.2, p) for p in (np.pi / 2, -np.pi / 2, 0.0)}
    assert abs(q[np.pi / 2]["total"]) > 1e-3
    for k in ("total", "up", "down"):
        assert q[np.pi / 2][k] == pytest.approx(-q[-np.pi / 2][k], abs=1e-14)
        assert abs(q[0.0][k]) < 1e-14
    assert q[np.pi / 2]["up"] + q[np.pi / 2]["down"] == pytest.approx(q[np.pi / 2]["total"], abs=1e-14)
    ratio = pumped_charge(chain, EF, 0.1, np.pi / 2)["total"] / pumped_charge(chain, EF, 0.05, np.pi / 2)["total"]
    assert ratio == pytest.approx(4.0, abs=0.02)
    qs = [pumped_charge(chain, EF, 0.8, np.pi / 2, n_cycle=n)["total"] for n in (8, 16, 32)]
    assert abs(qs[2] - qs[1]) < 1e-2 * abs(qs[1] - qs[0])  # 3e-4 -> 3e-7: exponential


def test_eq40_current_equals_brouwer_rate_and_cycle_integral(chain):
    """D3: I_p(t_k) = 2 pi sum_k (dN_R/dX_k) dX_k/dt (Brouwer, Kwant) at t = kT/8; int I_p dt = 2 pi Q_R."""
    V, phi, w = 0.8, np.pi / 2, 1.0
    t = 2 * np.pi * np.arange(8) / 8
    X, Xd = gate_path(V, phi, w, t)
    Ip = []
    for x, xd in zip(X, Xd):
        sx = chain.with_gates(X1=x[0], X2=x[1])
        Ip.append(pumped_current(sx, EF, xd))
        assert Ip[-1] == pytest.approx(2 * np.pi * brouwer_emissivity(sx, EF) @ xd, abs=1e-8)
    Q = pumped_charge(chain, EF, V, phi, n_cycle=8)["total"]
    assert np.sum(Ip) * (2 * np.pi / 8) == pytest.approx(2 * np.pi * Q, abs=1e-12)


def test_pumped_spin_density_is_the_fermi_surface_part_of_the_exact_response(chain):
    """D4: C_{n,k} = (1/4pi) Re Tr[A (sigma/2) P_n A P_k] is the symmetric part of the exact first-order
    response (contour formula, bound states included); for the coplanar xz texture s_y = 0, so the torques
    2J m x oint s are along y, and oint s is odd in phi."""
    sx = chain.with_gates(X1=0.1, X2=-0.3)
    C = pumped_spin_coefficients(sx, EF)  # (6, 3, 2)
    N2 = sx.n_orbitals
    spins = np.zeros((18, N2, N2), dtype=complex)
    for n in range(6):
        for i in range(3):
            spins[3 * n + i, 2 * n:2 * n + 2, 2 * n:2 * n + 2] = 0.5 * SIGMA[i]
    gates = np.array([np.kron(np.diag(sx.gates[g].ravel()), np.eye(2)) for g in ("X1", "X2")]).astype(complex)
    L_sg = response_tensor(sx, EF, operators=spins, perturbations=gates)
    L_gs = response_tensor(sx, EF, operators=gates, perturbations=spins)
    assert np.allclose(0.5 * (L_sg + L_gs.T), C.reshape(18, 2), atol=1e-10)
    assert np.abs(C[:, 1, :]).max() < 1e-14
    # cycle integrals of the pumped spin density
    res = {}
    for phi in (np.pi / 2, -np.pi / 2):
        t = 2 * np.pi * np.arange(16) / 16
        X, Xd = gate_path(0.8, phi, 1.0, t)
        res[phi] = sum(pumped_spin_coefficients(chain.with_gates(X1=x[0], X2=x[1]), EF) @ xd for x, xd in zip(X, Xd)) \
            * (2 * np.pi / 16)
    s_cycle = res[np.pi / 2]
    assert np.abs(s_cycle[:, [0, 2]]).max() > 1e-4
    assert np.allclose(s_cycle, -res[-np.pi / 2], atol=1e-14)
    torque = np.cross(chain.moments.reshape(-1, 3), s_cycle)
    assert np.abs(torque[:, [0, 2]]).max() < 1e-14


def test_pumping_bad_input(chain):
    with pytest.raises(ParameterError, match="gates"):
        emissivity(chain, EF, gates=["nope"])
    with pytest.raises(ParameterError, match="lead"):
        emissivity(chain, EF, lead="top")
    with pytest.raises(ParameterError, match="gates"):
        pumped_charge(TightBinding(3, 1, leads=chain.leads), EF, 0.2, 1.0)
    with pytest.raises(ParameterError, match="Xdot"):
        pumped_current(chain, EF, [0.1, np.nan])
