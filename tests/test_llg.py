"""LLG: analytic macrospin solution and convergence order, |m| = 1, energy decay, energy
signs of every term, exchange decoupling across a spacer, step rejection, bad input."""
import math

import numpy as np
import pytest

from fem_stt.constants import MU0
from fem_stt.errors import ParameterError, SolverError
from fem_stt.geometry import Layer, LayerStack, Surrounding, rectangle
from fem_stt.llg import LLG
from fem_stt.materials import Material

NM = 1e-9
GAMMA0 = 2.2128e5


@pytest.fixture(scope="module")
def cube(mesh_dir):
    mat = Material("mac", Ms=8e5, A=1.3e-11, alpha=0.1)
    return LayerStack([Layer("mag", 10 * NM, mat, rectangle(10 * NM, 10 * NM))], mesh_size=5 * NM,
                      surrounding=None, name="llg_cube").mesh(path=mesh_dir / "llg_cube.msh")


def macrospin_exact(t, H, alpha, th0):
    """Analytic LLG in a constant field H along z: tan(theta/2) = tan(theta0/2) exp(-alpha gamma0 H t/(1+alpha^2)),
    azimuth gamma0 H t / (1 + alpha^2) (counter-clockwise about +z)."""
    th = 2 * np.arctan(np.tan(th0 / 2) * np.exp(-alpha * GAMMA0 * H * t / (1 + alpha**2)))
    ph = GAMMA0 * H * t / (1 + alpha**2)
    return np.array([np.sin(th) * np.cos(ph), np.sin(th) * np.sin(ph), np.cos(th)])


@pytest.mark.parametrize("order", [1, 2])
def test_macrospin_converges_at_the_scheme_order(cube, order):
    H, alpha, th0, T = 1e5, 0.1, 0.5, 0.1e-9
    errors = []
    dts = [4e-12, 2e-12, 1e-12]
    for dt in dts:
        s = LLG(cube, (math.sin(th0), 0, math.cos(th0)), H_ext=(0, 0, H), demag=False, order=order, dt=dt,
                dt_max=dt, max_rotation=1.0)
        s.advance(T)
        assert s.t == pytest.approx(T, rel=1e-12, abs=0)
        errors.append(np.abs(s.average() - macrospin_exact(T, H, alpha, th0)).max())
    rates = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    print(f"order {order}: errors {errors}, rates {rates}")
    assert np.all(np.abs(rates - order) < 0.1)
    assert errors[-1] < (6e-3 if order == 1 else 5e-5)


def _tensor_reference(m0, H, A, T):
    """Independent answer: dm/dt = -gamma0 m x H + m x (A dm/dt), solved for dm/dt as the 3 x 3
    system (I - [m]x A) dm/dt = -gamma0 m x H and integrated by scipy's DOP853 at rtol 1e-12."""
    from scipy.integrate import solve_ivp

    def rhs(_, m):
        mx = np.array([[0, -m[2], m[1]], [m[2], 0, -m[0]], [-m[1], m[0], 0]])
        return np.linalg.solve(np.eye(3) - mx @ A, -GAMMA0 * np.cross(m, H))
    return solve_ivp(rhs, (0, T), m0, method="DOP853", rtol=1e-12, atol=1e-14).y[:, -1]


TENSOR = np.array([[0.06, 0.02, 0.01], [0.02, 0.15, -0.03], [0.01, -0.03, 0.10]])


@pytest.mark.parametrize("order", [1, 2])
def test_tensor_damping_follows_the_tensor_llg_at_the_scheme_order(cube, order):
    """alpha_tensor: a macrospin with an anisotropic Gilbert tensor against the 3 x 3 ODE."""
    H, th0, T = np.array([0.0, 0.0, 1e5]), 0.5, 0.1e-9
    m0 = np.array([math.sin(th0), 0.0, math.cos(th0)])
    ref = _tensor_reference(m0, H, TENSOR, T)
    errors = []
    dts = [4e-12, 2e-12, 1e-12]
    for dt in dts:
        s = LLG(cube, m0, H_ext=H, demag=False, order=order, dt=dt, dt_max=dt, max_rotation=1.0,
                alpha_tensor={"mag": TENSOR})
        s.advance(T)
        errors.append(np.abs(s.average() - ref).max())
    rates = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    print(f"tensor damping, order {order}: errors {errors}, rates {rates}")
    assert np.all(np.abs(rates - order) < 0.15)
    assert errors[-1] < (7e-3 if order == 1 else 5e-5)


def test_isotropic_tensor_equals_the_scalar_damping(cube):
    kw = dict(H_ext=(0, 0, 1e5), demag=False, order=2, dt=2e-12, dt_max=2e-12, max_rotation=1.0)
    a = LLG(cube, (0.6, 0, 0.8), **kw)
    b = LLG(cube, (0.6, 0, 0.8), alpha_tensor={"mag": 0.1 * np.eye(3)}, **kw)
    a.advance(0.05e-9)
    b.advance(0.05e-9)
    assert np.abs(a.m_array - b.m_array).max() < 1e-12


@pytest.mark.parametrize("tensor, match", [(np.ones((2, 2)), "3 x 3"), (np.array([[0.1, 0.05, 0], [0, 0.1, 0], [0, 0, 0.1]]), "symmetric"),
                                           (np.diag([0.1, -0.1, 0.1]), "positive semi-definite")])
def test_bad_tensor_damping(cube, tensor, match):
    with pytest.raises(ParameterError, match=match) as e:
        LLG(cube, (1, 0, 0), demag=False, alpha_tensor={"mag": tensor})
    assert e.value.parameter == "alpha_tensor['mag']"
    with pytest.raises(ParameterError, match="not a magnetic region"):
        LLG(cube, (1, 0, 0), demag=False, alpha_tensor={"spacer": np.eye(3)})


def test_time_dependent_field_and_sense_of_precession(cube):
    """A field switched on at t = 1 ps: before, nothing moves; after, m precesses counter-clockwise about +z."""
    s = LLG(cube, (1, 0, 0), H_ext=lambda t: (0, 0, 1e5 if t >= 1e-12 else 0.0), demag=False, order=2, dt=0.25e-12,
            dt_max=0.25e-12)
    s.advance(1e-12)
    assert np.allclose(s.average(), (1, 0, 0), atol=1e-12)
    s.advance(3e-12)
    exact = macrospin_exact(2e-12, 1e5, 0.1, math.pi / 2)  # field on for 2 ps from theta0 = 90 deg
    assert exact[1] > 0.04 and exact[2] > 0  # toward +y, and damped toward +z
    assert np.abs(s.average() - exact).max() < 1e-4


@pytest.fixture(scope="module")
def film(mesh_dir):
    mat = Material("aniso", Ms=8e5, A=1.3e-11, alpha=0.5, K1=2e5, K1_axis=(0, 0, 1), Kc1=5e4)
    return LayerStack([Layer("film", 6 * NM, mat, rectangle(40 * NM, 20 * NM))], mesh_size=5 * NM,
                      surrounding=Surrounding(padding=0.5), name="llg_film").mesh(path=mesh_dir / "llg_film.msh")


def random_m(x):
    rng = np.random.default_rng(7)
    # smooth pseudo-random texture (partition independent: a function of x)
    k = rng.normal(size=(3, 3)) / (10 * NM)
    return np.sin(k @ x + rng.normal(size=(3, 1)))


@pytest.mark.parametrize("order", [1, 2])
def test_unit_length_and_energy_decay(film, order):
    s = LLG(film, lambda x: random_m(x) + np.array([[0.3], [0.0], [0.0]]), H_ext=(2e4, 0, 1e4), order=order,
            dt=2e-14, dt_max=5e-13, max_rotation=0.1)
    E = [s.energies()["total"]]
    for _ in range(25):
        s.step()
        m = s.m_array
        act = s.mv.active
        assert np.abs(np.linalg.norm(m[act], axis=1) - 1).max() < 1e-12
        assert np.all(m[~act] == 0.0)  # the surroundings carry no magnetization
        E.append(s.energies()["total"])
    dE = np.diff(E)
    print(f"order {order}: E0 = {E[0]:.4e} J, E_end = {E[-1]:.4e} J, max increase {dE.max():.2e} J")
    assert E[-1] < E[0]
    assert dE.max() <= 1e-9 * abs(E[0])  # non-increasing (alpha > 0, constant field)


def test_energy_signs_and_values(mesh_dir):
    """Every term's energy against its closed form on a box (vertex quadrature is exact for these m)."""
    Ms, A, K1, Kc1 = 8e5, 1.3e-11, 3e5, 4e4
    mat = Material("e", Ms=Ms, A=A, alpha=0.1, K1=K1, K1_axis=(0, 0, 1), Kc1=Kc1)
    d = LayerStack([Layer("b", 10 * NM, mat, rectangle(20 * NM, 10 * NM))], mesh_size=2.5 * NM, surrounding=None,
                   name="llg_energy").mesh(path=mesh_dir / "llg_energy.msh")
    V = 20 * 10 * 10 * NM**3
    H = np.array([1e4, -2e4, 3e4])
    s = LLG(d, (0, 0, 1), H_ext=H, demag=False)
    E = s.energies()
    assert E["exchange"] == pytest.approx(0.0, abs=1e-30)
    assert E["uniaxial"] == pytest.approx(-K1 * V, rel=1e-10, abs=0)  # easy axis: -K1 V
    assert E["cubic"] == pytest.approx(0.0, abs=1e-30)  # along a cube axis
    assert E["zeeman"] == pytest.approx(-MU0 * Ms * H[2] * V, rel=1e-10, abs=0)
    s.set_magnetization(np.ones(3))
    E = s.energies()
    assert E["uniaxial"] == pytest.approx(-K1 * V / 3, rel=1e-10, abs=0)
    assert E["cubic"] == pytest.approx(Kc1 * V / 3, rel=1e-10, abs=0)  # (1,1,1): 3 * (1/3)^2 = 1/3
    # exchange of a helix m = (cos qx, sin qx, 0): A q^2 V (P1 error O(h^2))
    q = 2 * np.pi / (40 * NM)
    s.set_magnetization(lambda x: np.vstack([np.cos(q * x[0]), np.sin(q * x[0]), 0 * x[0]]))
    assert s.energies()["exchange"] == pytest.approx(A * q * q * V, rel=0.03, abs=0)
    # the forces are the gradients of these energies: check H_eff of the uniaxial term, m along z
    s.set_magnetization((0, 0, 1))
    Heff = s.effective_field()[s.mv.active[: s.mv.n_owned]]
    assert np.allclose(Heff, H + np.array([0, 0, 2 * K1 / (MU0 * Ms)]), rtol=1e-10)


def test_exchange_does_not_couple_across_the_spacer(mesh_dir):
    cs = rectangle(20 * NM, 20 * NM)
    py = Material("p", Ms=8e5, A=1.3e-11, alpha=0.1)
    sep = LayerStack([Layer("FM1", 10 * NM, py, cs), Layer("spacer", 3 * NM, "Cu", cs), Layer("FM2", 10 * NM, py, cs)],
                     mesh_size=4 * NM, surrounding=None, name="llg_sep").mesh(path=mesh_dir / "llg_sep.msh")
    s = LLG(sep, {"FM1": (1, 0, 0), "FM2": (-1, 0, 0)}, demag=False)
    assert s.energies()["exchange"] == pytest.approx(0.0, abs=1e-30)
    assert np.allclose(s.average("FM1"), (1, 0, 0)) and np.allclose(s.average("FM2"), (-1, 0, 0))
    touching = LayerStack([Layer("FM1", 10 * NM, py, cs), Layer("FM2", 10 * NM, py, cs)], mesh_size=4 * NM,
                          surrounding=None, name="llg_touch").mesh(path=mesh_dir / "llg_touch.msh")
    t = LLG(touching, {"FM1": (1, 0, 0), "FM2": (-1, 0, 0)}, demag=False)
    assert t.energies()["exchange"] > 1e-20  # shared interface vertices: a domain wall costs energy


def test_failed_steps_are_rejected_and_the_last_good_state_kept(cube):
    s = LLG(cube, (1, 0, 0), H_ext=(0, 0, 1e5), demag=False, dt=1e-12, dt_min=0.25e-12, max_rotation=1e-3)
    before = s.m_array.copy()
    with pytest.raises(SolverError, match="dt_min"):
        s.step()  # rotation gamma0 H dt ~ 2e-2 rad > 1e-3 even at dt_min
    assert np.array_equal(s.m_array, before) and s.t == 0.0
    assert s.rejected >= 2
    nan_field = LLG(cube, (1, 0, 0), H_ext=lambda t: (0, 0, np.nan if t > 0 else 1e5), demag=False, dt=1e-12,
                    dt_min=0.5e-12, order=1)
    with pytest.raises(ParameterError, match="H_ext"):
        nan_field.advance(3e-12)


def test_relaxation_reaches_the_easy_axis(cube):
    mat = Material("k", Ms=8e5, A=1.3e-11, alpha=0.02, K1=5e5, K1_axis=(0, 0, 1))
    d = cube
    d.materials["mag"] = mat
    try:
        s = LLG(d, (1, 0, 0.2), demag=False)
        info = s.relax(tol=1.0)
    finally:
        d.materials["mag"] = Material("mac", Ms=8e5, A=1.3e-11, alpha=0.1)
    assert info["converged"] and info["max_torque"] < 1.0
    assert s.average()[2] > 1 - 1e-6 and s.t == 0.0


@pytest.mark.parametrize("kwargs, parameter", [
    (dict(dt=0.0), "dt"), (dict(dt=-1e-12), "dt"), (dict(max_rotation=0.0), "max_rotation"),
    (dict(order=3), "order"), (dict(theta=0.3), "theta"), (dict(dt=1e-12, dt_min=2e-12), "dt_min"),
    (dict(m0=(0, 0, 0)), "m0"), (dict(m0=lambda x: np.vstack([x[0] * 0, x[0] * 0, x[0] > 5 * NM])), "m0"),
    (dict(H_ext=(1, 2)), "H_ext"), (dict(m0={"nope": (1, 0, 0)}), "m0['nope']"),
])
def test_bad_llg_input(cube, kwargs, parameter):
    kw = dict(m0=(1, 0, 0), demag=False)
    kw.update(kwargs)
    with pytest.raises(ParameterError) as e:
        LLG(cube, **kw)
    assert e.value.parameter == parameter


def test_bad_material_values():
    with pytest.raises(ParameterError, match="Ms"):
        Material("x", Ms=-8e5)
    with pytest.raises(ParameterError, match=r"\.A"):
        Material("x", Ms=8e5, A=-1e-11)
    with pytest.raises(ParameterError, match="alpha"):
        Material("x", Ms=8e5, alpha=-0.1)


def test_relax_tolerance_must_be_positive(cube):
    with pytest.raises(ParameterError, match="tol"):
        LLG(cube, (1, 0, 0), demag=False).relax(tol=0.0)


def test_damped_relaxation_agrees_with_barzilai_borwein(tmp_path):
    """Two minimizers (overdamped LLG flow and BB descent) reach the same flower state of a
    small film with exchange, stray field (FEM-BEM) and a Zeeman field; the flow's energy
    decreases (up to 1e-6 relative bumps near the minimum: the nodal renormalization decreases
    the exchange energy only on weakly acute meshes, Bartels, SIAM J. Numer. Anal. 43, 220
    (2005)), and time and step counters are untouched."""
    from fem_stt.geometry import Layer, LayerStack, rectangle
    st = LayerStack([Layer("film", 6 * NM, Material("pf", Ms=8e5, A=1.3e-11, alpha=0.02),
                           rectangle(60 * NM, 40 * NM))], mesh_size=5 * NM, surrounding=None, name="relax_film")
    d = st.mesh(path=tmp_path / "relax_film.msh")
    m0 = (1, 0.3, 0.2)
    a = LLG(d, m0, H_ext=(0, 5e3, 0))
    energies = []
    info_a = a.relax(tol=1.0, method="damping", callback=lambda s: energies.append(s.energies()["total"]))
    assert info_a["converged"] and a.t == 0.0 and a.step_count == 0 and a.rejected == 0
    assert np.all(np.diff(energies) <= 1e-6 * abs(energies[0]))
    assert energies[-1] < energies[0] - 0.1 * abs(energies[0])
    b = LLG(d, m0, H_ext=(0, 5e3, 0))
    info_b = b.relax(tol=1.0)
    assert info_b["converged"]
    print("damped:", info_a, a.average(), energies[-1], " BB:", info_b, b.average(), b.energies()["total"])
    assert np.allclose(a.average(), b.average(), atol=1e-4)
    assert a.energies()["total"] == pytest.approx(b.energies()["total"], rel=1e-6, abs=0)
    with pytest.raises(ParameterError, match="method"):
        a.relax(method="newton")


@pytest.fixture(scope="module")
def flat_film(mesh_dir):
    """60 x 40 x 3 nm film, 5 nm cells and 1.25 nm at the edges: flat tetrahedra with exchange
    stiffness up to ~1e9 A/m, the situation of the graded SP4 mesh."""
    from fem_stt.geometry import Layer, LayerStack, rectangle
    st = LayerStack([Layer("film", 3 * NM, Material("pf", Ms=8e5, A=1.3e-11, alpha=0.02), rectangle(60 * NM, 40 * NM))],
                    mesh_size=5 * NM, edge_mesh_size=1.25 * NM, surrounding=None, name="relax_flat_film")
    return st.mesh(path=mesh_dir / "relax_flat_film.msh")


def test_preconditioned_bb_reaches_the_damped_flow_state(flat_film):
    """The exchange-preconditioned BB descent (relax_pbb) and the overdamped LLG flow (an
    independent minimizer) reach the same state of a graded film with exchange, FEM-BEM stray
    field and a Zeeman field; the reported torque is the torque of the final state and below tol;
    pbb needs fewer stray-field solves; time and counters are untouched."""
    m0, H = (1, 0.3, 0.2), (0, 5e3, 0)
    a = LLG(flat_film, m0, H_ext=H)
    info_a = a.relax(tol=5.0, method="damping")
    b = LLG(flat_film, m0, H_ext=H)
    info_b = b.relax(tol=5.0, method="pbb")
    print("damped:", info_a, a.average(), a.field_evaluations, " pbb:", info_b, b.average(), b.field_evaluations)
    assert info_a["converged"] and info_b["converged"]
    assert b.max_torque() == pytest.approx(info_b["max_torque"], rel=1e-9) and info_b["max_torque"] < 5.0
    assert np.allclose(a.average(), b.average(), atol=2e-4)
    assert a.energies()["total"] == pytest.approx(b.energies()["total"], rel=1e-6)
    assert info_b["field_evaluations"] < a.field_evaluations
    assert b.t == 0.0 and b.step_count == 0 and b.rejected == 0


@pytest.mark.parametrize("kwargs, parameter", [
    (dict(tol=0.0), "tol"), (dict(max_rotation=0.0), "max_rotation"), (dict(max_rotation=1.5), "max_rotation"),
    (dict(preconditioner=-1.0), "preconditioner"), (dict(max_iterations=-1), "max_iterations"),
    (dict(max_iterations=2.5), "max_iterations"),
])
def test_bad_pbb_input(cube, kwargs, parameter):
    s = LLG(cube, (1, 0, 0), demag=False)
    fe = s.field_evaluations
    with pytest.raises(ParameterError) as e:
        s.relax_pbb(**kwargs)
    assert e.value.parameter == parameter
    assert s.field_evaluations == fe  # refused before any field evaluation
