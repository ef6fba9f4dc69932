"""NEGF model (issue 14, seed 003): leads, Green's functions, transport and equilibrium spin density,
each against an independent answer (Kwant, decimation, closed forms, exact diagonalization, Landauer,
spin conservation)."""
import numpy as np
import pytest
from scipy.special import psi

from fem_stt.atomistic.negf import (FermiSurface, LatticeLead, TightBinding, WideBandLead, greens_function,
                                    lead_currents, rgf, spin_density)
from fem_stt.atomistic.negf.kwant_systems import build_kwant, import_kwant, kwant_ldos, kwant_smatrix
from fem_stt.atomistic.negf.leads import SIGMA
from fem_stt.errors import ParameterError

kwant = import_kwant()  # with DOLFINx/PETSc loaded by other test modules, a plain import breaks its MUMPS

THETA, PHI = 0.7, 0.3
M_A = np.array([np.sin(THETA) * np.cos(PHI), np.sin(THETA) * np.sin(PHI), np.cos(THETA)])


def textured_ribbon(nx=5, ny=3, seed=0, **kw):
    rng = np.random.default_rng(seed)
    leads = {"left": LatticeLead(ny, onsite=4.0, coupling=0.7),
             "right": LatticeLead(ny, onsite=4.0, exchange=0.3, direction=(1, 1, 0))}
    args = dict(onsite=4.0, exchange=1.3, moments=rng.normal(size=(nx, ny, 3)), rashba=0.2, zeeman=(0.1, 0.2, 0.3),
                leads=leads)
    args.update(kw)
    return TightBinding(nx, ny, **args)


def single_site(leads="wide", theta=THETA, phi=PHI, delta=0.5):
    m = (np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi), np.cos(theta))
    if leads == "wide":
        L = {"left": WideBandLead(0.2), "right": WideBandLead(0.2)}
    else:
        L = {"left": LatticeLead(coupling=0.5), "right": LatticeLead(coupling=0.5)}
    return TightBinding(1, 1, exchange=delta, moments=m, leads=L)


def decimated_surface_gf(z, onsite, t, n=4000):
    """Surface GF of a semi-infinite chain by iterating g <- 1/(z - e - t^2 g) (converges for Im z > 0)."""
    g = 0j
    for _ in range(n):
        g = 1.0 / (z - onsite - t * t * g)
    return g


def test_lead_self_energies_match_kwant_and_decimation():
    # real energies: Kwant's lead self-energy (interface orbitals) for a chain and a ferromagnetic ribbon
    chain = LatticeLead(1, onsite=0.3)
    ribbon = LatticeLead(3, onsite=4.0, exchange=0.4, direction=(0.3, -0.5, 0.8))
    for lead, ny, Es in ((chain, 1, (-1.5, 0.2, 2.5)), (ribbon, 3, (1.0, 3.3, 7.9))):
        fsyst, _ = build_kwant(TightBinding(2, ny, onsite=lead.onsite, leads={"right": lead}))
        for E in Es:
            assert np.allclose(lead.self_energy(E), fsyst.leads[0].selfenergy(E), atol=1e-12)
    # complex energies (no Kwant): decimation of each transverse mode; retarded: Im Sigma <= 0 (as a matrix)
    for z in (0.4 + 0.3j, -3.0 + 0.05j, 5.0 + 2.0j):
        s = LatticeLead(1, onsite=0.3, hopping=1.2, coupling=0.5).self_energy(z)
        ref = 0.25 * decimated_surface_gf(z, 0.3, 1.2)
        assert np.allclose(s, ref * np.eye(2), atol=1e-10)
        S = ribbon.self_energy(z)
        assert np.linalg.eigvalsh(1j * (S - S.conj().T)).min() > -1e-12
        h = 1e-6  # dSigma/dz against a central difference
        d = (ribbon.self_energy(z + h) - ribbon.self_energy(z - h)) / (2 * h)
        assert np.allclose(ribbon.d_self_energy(z), d, atol=1e-7)


def test_rgf_blocks_equal_dense_inverse():
    syst = textured_ribbon()
    m = 2 * syst.ny
    for z in (1.9, 2.3 + 0.5j, -4.0 + 0.01j):
        G = greens_function(syst, z)
        r = rgf(syst, z, rows=True)
        for i in range(syst.nx):
            sl = slice(i * m, (i + 1) * m)
            assert np.allclose(r.diag[i], G[sl, sl], atol=1e-12)
            assert np.allclose(r.columns["left"][i], G[sl, :m], atol=1e-12)
            assert np.allclose(r.columns["right"][i], G[sl, -m:], atol=1e-12)
            assert np.allclose(r.rows["right"][i], G[-m:, sl], atol=1e-12)
    # batched energies equal one-by-one
    zs = np.array([0.5 + 0.1j, 1.0 + 0.2j])
    rb = rgf(syst, zs)
    assert np.allclose(rb.diag[:, 1], rgf(syst, zs[1]).diag, atol=1e-13)


def test_transmission_ldos_and_smatrix_match_kwant():
    syst = textured_ribbon()
    for E in (1.9, 3.3, 6.5):
        fs = FermiSurface(syst, E)
        sm = kwant_smatrix(syst, E)
        assert fs.transmission("right", "left") == pytest.approx(sm.transmission(1, 0), abs=1e-12)
        assert fs.transmission("left", "right") == pytest.approx(sm.transmission(0, 1), abs=1e-12)
        assert np.allclose(fs.ldos(), kwant_ldos(syst, E), atol=1e-12)
    # spin-resolved: Kwant's S-matrix blocks of the conserved z spin in normal leads
    syst = textured_ribbon(leads={"left": LatticeLead(3, onsite=4.0), "right": LatticeLead(3, onsite=4.0)})
    fs = FermiSurface(syst, 2.7)
    sm = kwant_smatrix(syst, 2.7, spin_blocks=True)
    for i, a in enumerate(("up", "down")):
        for j, b in enumerate(("up", "down")):
            assert fs.transmission(spin_to=a, spin_from=b) == pytest.approx(sm.transmission((1, i), (0, j)), abs=1e-12)


def test_single_site_occupations_match_arctan_closed_form():
    """Case A1/A2: n_s = 1/2 + atan((E_F - s Delta)/(Gamma/2))/pi, s^(0) = (n_+ - n_-) m / 2, m x s^(0) = 0."""
    syst, EF = single_site(), 0.3
    n_ref = {s: 0.5 + np.arctan((EF - s * 0.5) / 0.2) / np.pi for s in (1, -1)}
    s0, n0 = spin_density(syst, EF, method="imaginary", n_points=60)
    assert n0[0, 0] == pytest.approx(n_ref[1] + n_ref[-1], abs=1e-12)
    assert np.allclose(s0[0, 0], 0.5 * (n_ref[1] - n_ref[-1]) * M_A, atol=1e-12)
    assert np.abs(np.cross(M_A, s0[0, 0])).max() < 1e-13
    from fem_stt.atomistic.negf import exchange_field
    H = exchange_field(syst, EF, method="imaginary", n_points=60)  # eqs. 16-17: 2 Delta s^(0) / M
    assert np.allclose(H[0, 0], 0.5 * (n_ref[1] - n_ref[-1]) * M_A, atol=1e-12)  # Delta = 1/2, M = 1


def test_finite_temperature_ozaki_poles_match_digamma_closed_form():
    """Lorentzian level at T > 0: n_s = 1/2 - Im psi(1/2 + (Gamma/2 + i(s Delta - mu))/(2 pi kT)) / pi."""
    syst, EF, kT = single_site(), 0.3, 0.05
    ref = sum(0.5 - np.imag(psi(0.5 + (0.2 + 1j * (s * 0.5 - EF)) / (2 * np.pi * kT))) / np.pi for s in (1, -1))
    errs = [abs(spin_density(syst, EF, kT=kT, n_points=n)[1][0, 0] - ref) for n in (20, 40, 80)]
    assert errs[2] < 1e-7 and errs[1] < errs[0] and errs[2] < errs[1]
    # T -> 0: Ozaki converges to the zero-temperature contour
    s_cold = spin_density(syst, EF, kT=1e-3, n_points=800)[1]
    assert s_cold[0, 0] == pytest.approx(spin_density(syst, EF)[1][0, 0], abs=2e-4)


def twisted_chain():
    th = np.arange(4) * np.pi / 4
    m = np.stack([np.sin(th), 0 * th, np.cos(th)], 1)
    return TightBinding(4, 1, exchange=0.5, moments=m, leads={"left": LatticeLead(), "right": LatticeLead()}), m


def ed_spin_density(m, L, EF):
    """Exact diagonalization of the finite chain L + 4 + L (hopping -1, exchange 0.5 sigma.m on the middle four)."""
    n = 2 * L + 4
    h = np.zeros((2 * n, 2 * n))
    idx = np.arange(n - 1)
    for s in (0, 1):
        h[2 * idx + s, 2 * idx + 2 + s] = h[2 * idx + 2 + s, 2 * idx + s] = -1.0
    for k in range(4):
        i = L + k
        h[2 * i:2 * i + 2, 2 * i:2 * i + 2] = 0.5 * np.array([[m[k, 2], m[k, 0]], [m[k, 0], -m[k, 2]]])
    w, v = np.linalg.eigh(h)
    occ = v[:, w < EF]
    out = []
    for k in range(4):
        b = occ[2 * (L + k):2 * (L + k) + 2]
        r = b @ b.T
        out.append([r[0, 1], 0.0, 0.5 * (r[0, 0] - r[1, 1])])
    return np.array(out), w.min()


def test_twisted_chain_contour_spin_density_matches_exact_diagonalization():
    """Case C1: semicircle contour (bound state below the band included) = ED of a long chain, error ~ 1/L."""
    syst, m = twisted_chain()
    EF = 0.5
    s400 = spin_density(syst, EF, method="semicircle", n_points=400, e_min=-6.0)[0][:, 0]
    s800 = spin_density(syst, EF, method="semicircle", n_points=800, e_min=-6.0)[0][:, 0]
    assert np.abs(s800 - s400).max() < 1e-13
    s_im = spin_density(syst, EF, method="imaginary", n_points=400)[0][:, 0]
    assert np.abs(s_im - s800).max() < 1e-12
    errs, bound = [], None
    for L in (100, 200, 400):
        s_ed, bound = ed_spin_density(m, L, EF)
        errs.append(np.abs(s_ed - s800).max())
    assert bound < -2.2  # a bound state below the lead band [-2, 2] ...
    assert errs[0] / errs[1] > 1.6 and errs[1] / errs[2] > 1.6 and errs[2] < 1e-3  # ... and error ~ 1/L
    # the real-axis Fermi sea (no bound state) is visibly wrong
    from fem_stt.atomistic.negf.damping import _fermi_sea_integral

    def f(E):
        G = greens_function(syst, E)
        r = 1j * (G - G.conj().T)
        return np.array([0.5 * np.trace(SIGMA[2] @ r[2 * n:2 * n + 2, 2 * n:2 * n + 2]).real for n in range(4)])
    sz_real = _fermi_sea_integral(syst, EF, f)
    assert np.abs(sz_real - s800[:, 2]).max() > 10 * errs[2]


def test_equilibrium_torques_sum_to_zero_by_rotation_invariance():
    """Case C2: sum_n m_n x s_n^(0) = 0 without spin-orbit coupling; the individual torques do not vanish."""
    syst, m = twisted_chain()
    s = spin_density(syst, 0.5, n_points=300)[0][:, 0]
    tq = np.cross(m, s)
    assert np.abs(tq).max() > 1e-3
    assert np.abs(tq.sum(axis=0)).max() < 1e-14


def test_lead_currents_obey_landauer_and_spin_conservation():
    rng = np.random.default_rng(1)
    syst = TightBinding(4, 2, onsite=4.0, exchange=0.8, moments=rng.normal(size=(4, 2, 3)),
                        leads={"left": LatticeLead(2, onsite=4.0), "right": LatticeLead(2, onsite=4.0)})
    mu = {"left": 2.1, "right": 1.9}
    cur = lead_currents(syst, mu, n_energy=48)
    x, w = np.polynomial.legendre.leggauss(48)
    Es, ws = 2.0 + 0.1 * x, 0.1 * w
    T = sum(wi * FermiSurface(syst, E).transmission() for E, wi in zip(Es, ws)) / (2 * np.pi)
    assert cur["left"]["particle"] == pytest.approx(T, rel=1e-12, abs=0)  # electrons enter from the left
    assert cur["right"]["particle"] == pytest.approx(-T, rel=1e-12, abs=0)
    # spin: the spin leaving into the leads equals the exchange torque on the electrons, sum_n 2 Delta m_n x s_n
    rho = sum(wi * FermiSurface(syst, E).spectral_function("left") for E, wi in zip(Es, ws)) / (2 * np.pi)
    s = np.array([[0.5 * np.trace(S @ rho[2 * n:2 * n + 2, 2 * n:2 * n + 2]).real for S in SIGMA] for n in range(8)])
    torque = (2 * 0.8 * np.cross(syst.moments.reshape(-1, 3), s)).sum(axis=0)
    assert np.allclose(cur["left"]["spin"] + cur["right"]["spin"], torque, atol=1e-13)


def test_bad_input_is_refused_by_name():
    with pytest.raises(ParameterError, match="moments"):
        TightBinding(2, 1, moments=[[np.nan, 0, 1], [0, 0, 1]])
    with pytest.raises(ParameterError, match="moments"):
        TightBinding(2, 1, moments=[[0, 0, 0], [0, 0, 1]])
    with pytest.raises(ParameterError, match="onsite"):
        TightBinding(2, 1, onsite=[1.0 + 0.5j, 0.0])  # complex onsite: a non-Hermitian Hamiltonian
    from fem_stt.atomistic.negf import retarded_dense
    with pytest.raises(ParameterError, match="hamiltonian"):
        retarded_dense(np.array([[0, 1], [0.5, 0]]), np.zeros((2, 2)), 0.1 + 0.1j)
    syst = single_site()
    with pytest.raises(ParameterError, match="z"):
        greens_function(syst, 0.3 - 0.1j)  # retarded G below the real axis
    with pytest.raises(ParameterError, match="leads"):
        FermiSurface(TightBinding(3, 1), 0.2)  # transport without leads
    with pytest.raises(ParameterError, match="width"):
        TightBinding(3, 2, leads={"left": LatticeLead(3)})
    with pytest.raises(ParameterError, match="kT"):
        spin_density(syst, 0.3, kT=-0.1)
