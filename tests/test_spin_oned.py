"""The exact 1D spin-diffusion reference (fem_stt.spin.oned) against independent checks.

Spin-valve parameters: FM1 / spacer / FM2 = 200/20/60 nm (short variant 20/5/10 nm),
magnets D0 = 1e-3 m^2/s, spacer D0 = 5e-3 m^2/s, lambda_sf = 10 nm everywhere,
lambda_J = 4 nm in the magnets, beta = 0.9, beta' = 0.8, j_e = 1e11 A/m^2.
"""
import math

import numpy as np
import pytest
from scipy.integrate import solve_bvp

from fem_stt.constants import E_CHARGE, MU_B
from fem_stt.spin.oned import Layer1D, collinear_closed_form, solve_stack_1d

NM = 1e-9
J_E = 1e11
BETA, BETA_P = 0.9, 0.8
C_MAG = BETA * MU_B / (-E_CHARGE)  # c = beta MU_B / q_e, q_e = -e


def spin_valve(th=(200, 20, 60), m1=(1, 0, 0), m2=(1, 0, 0), kappa=0.0):
    t1, t2, t3 = th
    return [Layer1D(t1 * NM, 1e-3, 10 * NM, 4 * NM, BETA, BETA_P, tuple(m1), kappa),
            Layer1D(t2 * NM, 5e-3, 10 * NM),
            Layer1D(t3 * NM, 1e-3, 10 * NM, 4 * NM, BETA, BETA_P, tuple(m2), kappa)]


def m_at(deg):
    a = math.radians(deg)
    return (math.cos(a), math.sin(a), 0.0)


def below(z):
    """The double just below z: evaluates the layer under an interface."""
    return np.nextafter(z, -np.inf)


def P_of(m, kappa):
    m = np.asarray(m, float)
    mx = np.array([[0, -m[2], m[1]], [m[2], 0, -m[0]], [-m[1], m[0], 0]])
    return (np.eye(3) + kappa * mx + kappa ** 2 * np.outer(m, m)) / (1 + kappa ** 2 * (m @ m))


def layer_consts(lay):
    """(c m j_e, D, P, m) of a layer, built from the equations in the module docstring."""
    m = np.zeros(3) if lay.m is None else np.asarray(lay.m, float)
    c = lay.beta * MU_B / (-E_CHARGE) if lay.m is not None else 0.0
    D = np.eye(3) - lay.beta * lay.beta_prime * np.outer(m, m)
    return c * m * J_E, D, P_of(m, lay.kappa), m


def rhs_Jprime(lay, s):
    """-2 D0 s / lambda_sf^2 - (2 D0 / lambda_J^2) s x m, s of shape (n, 3)."""
    out = -2 * lay.D0 * s / lay.lambda_sf ** 2
    if lay.lambda_J is not None:
        out = out - 2 * lay.D0 / lay.lambda_J ** 2 * np.cross(s, np.asarray(lay.m, float))
    return out


# ---------------------------------------------------------------------------------------
# (1) collinear closed form == general solver
@pytest.mark.parametrize("th", [(200, 20, 60), (20, 5, 10)])
@pytest.mark.parametrize("deg", [0, 180])
def test_collinear_closed_form_matches_general_solver(th, deg):
    layers = spin_valve(th, m_at(0), m_at(deg))
    sol = solve_stack_1d(layers, J_E)
    cf = collinear_closed_form(layers, J_E)
    z = np.concatenate([np.linspace(0, sol.interfaces[-1], 3001), sol.interfaces, below(sol.interfaces[1:])])
    s_gen, s_cf = sol.s(z), cf(z)
    scale = np.abs(s_gen).max()
    assert scale > 0.1  # A/m: a real signal
    assert np.abs(s_gen - s_cf).max() <= 1e-10 * scale
    assert np.abs(s_gen[:, 1:]).max() <= 1e-12 * scale  # transverse parts vanish


def test_collinear_closed_form_general_axis_and_rejects_noncollinear():
    e = np.array([1.0, 2.0, -2.0]) / 3.0
    layers = spin_valve((20, 5, 10), e, -e)
    sol, cf = solve_stack_1d(layers, J_E), collinear_closed_form(layers, J_E)
    z = np.linspace(0, sol.interfaces[-1], 501)
    assert np.abs(sol.s(z) - cf(z)).max() <= 1e-10 * np.abs(sol.s(z)).max()
    with pytest.raises(ValueError, match=r"layers\[2\]\.m"):
        collinear_closed_form(spin_valve(m2=m_at(90)), J_E)


# ---------------------------------------------------------------------------------------
# (2) independent check with scipy's collocation BVP solver (multi-region trick)
def bvp_reference(layers):
    """Each layer mapped to t in [0, 1]; all 6n unknowns solved simultaneously."""
    n = len(layers)
    J0 = abs(C_MAG * J_E)
    s0 = J0 * 10 * NM / (2 * 1e-3)  # natural scales of J [A/s] and s [A/m]
    blocks, consts = [], []
    for lay in layers:
        cmj, D, P, m = layer_consts(lay)
        Dinv, Pinv = np.linalg.inv(D), np.linalg.inv(P)
        K = -2 * lay.D0 / lay.lambda_sf ** 2 * np.eye(3)
        if lay.lambda_J is not None:  # -(2D0/lJ^2) s x m  as a matrix acting on s
            mx = np.array([[0, -m[2], m[1]], [m[2], 0, -m[0]], [-m[1], m[0], 0]])
            K = K + 2 * lay.D0 / lay.lambda_J ** 2 * mx
        M = np.zeros((6, 6))
        M[:3, 3:] = -Dinv @ Pinv / (2 * lay.D0) * J0 / s0
        M[3:, :3] = K * s0 / J0
        b = np.concatenate([Dinv @ cmj / (2 * lay.D0) / s0, np.zeros(3)])
        blocks.append(lay.thickness * M)
        consts.append(lay.thickness * b)
    A = np.zeros((6 * n, 6 * n))
    for k in range(n):
        A[6 * k:6 * k + 6, 6 * k:6 * k + 6] = blocks[k]
    bb = np.concatenate(consts)

    def fun(t, Y):
        return A @ Y + bb[:, None]

    def fun_jac(t, Y):
        return np.repeat(A[:, :, None], t.size, axis=2)

    def bc(ya, yb):
        res = [ya[3:6] - layer_consts(layers[0])[0] / J0]
        for k in range(n - 1):
            res.append(yb[6 * k:6 * k + 6] - ya[6 * (k + 1):6 * (k + 2)])
        res.append(yb[6 * (n - 1) + 3:6 * n] - layer_consts(layers[-1])[0] / J0)
        return np.concatenate(res)

    t = np.linspace(0, 1, 801)
    res = solve_bvp(fun, bc, t, np.zeros((6 * n, t.size)), fun_jac=fun_jac, tol=1e-8, max_nodes=200000)
    assert res.status == 0, res.message
    # s at the interfaces from below and from above (scaled back to A/m)
    Y0, Y1 = res.sol(0.0), res.sol(1.0)
    s_lo = np.array([Y1[6 * k:6 * k + 3] for k in range(n)]) * s0  # top end of each layer
    s_hi = np.array([Y0[6 * k:6 * k + 3] for k in range(n)]) * s0  # bottom end of each layer
    return s_lo, s_hi


@pytest.mark.parametrize("kappa", [0.0, 1.0])
def test_against_solve_bvp_at_90_degrees(kappa):
    layers = spin_valve((20, 5, 10), (1, 0, 0), (0, 1, 0), kappa)
    sol = solve_stack_1d(layers, J_E)
    s_lo, s_hi = bvp_reference(layers)
    zi = sol.interfaces
    scale = np.abs(sol.s(zi)).max()
    assert np.abs(sol.s(zi[:-1]) - s_hi).max() <= 1e-5 * scale
    assert np.abs(sol.s(below(zi[1:])) - s_lo).max() <= 1e-5 * scale
    # genuinely non-collinear: all three components are present at the spacer interfaces
    assert np.all(np.abs(sol.s(zi[1:3])) > 1e-2 * scale)


# ---------------------------------------------------------------------------------------
# (3) ODE residual inside each layer and continuity at the interfaces
@pytest.mark.parametrize("th", [(200, 20, 60), (20, 5, 10)])
@pytest.mark.parametrize("kappa", [0.0, 1.0])
def test_ode_residual_and_continuity(th, kappa):
    layers = spin_valve(th, m_at(0), m_at(90), kappa)
    sol = solve_stack_1d(layers, J_E)
    zi = sol.interfaces
    h = 2e-12  # m
    for k, lay in enumerate(layers):
        # points near both ends (where the solution varies) and inside
        z = np.concatenate([zi[k] + np.array([0.1, 0.5, 1, 3, 8]) * NM,
                            zi[k + 1] - np.array([0.1, 0.5, 1, 3, 8]) * NM])
        z = z[(z > zi[k]) & (z < zi[k + 1])]
        assert np.all(sol.layer_of(z) == k)
        s = sol.s(z)
        dJ = (sol.J(z + h) - sol.J(z - h)) / (2 * h)
        rhs = rhs_Jprime(lay, s)
        assert np.abs(dJ - rhs).max() <= 1e-6 * np.abs(rhs).max()
        # constitutive law J = P (c m j_e - 2 D0 D s')
        ds = (sol.s(z + h) - sol.s(z - h)) / (2 * h)
        assert np.abs(ds - sol.s_prime(z)).max() <= 1e-6 * np.abs(ds).max()
        cmj, D, P, _ = layer_consts(lay)
        J_model = (P @ (cmj[:, None] - 2 * lay.D0 * D @ ds.T)).T
        assert np.abs(sol.J(z) - J_model).max() <= 1e-6 * abs(C_MAG * J_E)
    for z in zi[1:-1]:
        for f in (sol.s, sol.J):
            lo, hi = f(below(z)), f(z)
            assert np.abs(lo - hi).max() <= 1e-11 * np.abs(hi).max()
    assert np.all(sol.layer_of(zi) == [0, 1, 2, 2])
    assert np.all(sol.layer_of(below(zi[1:])) == [0, 1, 2])


# ---------------------------------------------------------------------------------------
# (4) outer faces: J = c m j_e, s' = 0
@pytest.mark.parametrize("deg", [0, 90, 180, 37])
def test_outer_faces(deg):
    for kappa in (0.0, 2.0):
        sol = solve_stack_1d(spin_valve((20, 5, 10), m_at(0), m_at(deg), kappa), J_E)
        top = sol.interfaces[-1]
        scale = abs(C_MAG * J_E)
        assert np.abs(sol.J([0.0])[0] - C_MAG * J_E * np.array(m_at(0))).max() <= 1e-12 * scale
        assert np.abs(sol.J([top])[0] - C_MAG * J_E * np.array(m_at(deg))).max() <= 1e-12 * scale
        sp = sol.s_prime([0.0, top])
        assert np.abs(sp).max() <= 1e-12 * np.abs(sol.s_prime(sol.interfaces[1:3])).max()


# ---------------------------------------------------------------------------------------
# (5) non-magnetic layers
def test_nonmagnetic_spacer_continuous_current_and_lambda_sf_decay():
    lsf = 10 * NM
    for layers in (spin_valve((200, 20, 60), m_at(0), m_at(90)),
                   [Layer1D(200 * NM, 1e-3, 10 * NM, 4 * NM, BETA, BETA_P, (0, 0, 1)),
                    Layer1D(200 * NM, 5e-3, lsf)]):  # thick non-magnet: s decays to ~e^-20
        sol = solve_stack_1d(layers, J_E)
        za, zb = sol.interfaces[1], sol.interfaces[2]
        for z in (za, zb):
            assert np.abs(sol.J(below(z)) - sol.J(z)).max() <= 1e-11 * abs(C_MAG * J_E)
        # s'' = s / lambda_sf^2 exactly: s(z) from its end values by the sinh interpolant
        z = np.linspace(za, zb, 41)[1:-1]
        sa, sb = sol.s(below(zb)), sol.s(za)
        w_a = np.sinh((zb - z) / lsf) / np.sinh((zb - za) / lsf)
        w_b = np.sinh((z - za) / lsf) / np.sinh((zb - za) / lsf)
        s_pred = w_a[:, None] * sb + w_b[:, None] * sa
        assert np.abs(sol.s(z) - s_pred).max() <= 1e-10 * np.abs(sol.s([za])).max()
        # J' = -2 D0 s / lambda_sf^2 in the spacer (no s x m term)
        h = 2e-12
        dJ = (sol.J(z + h) - sol.J(z - h)) / (2 * h)
        assert np.abs(dJ + 2 * layers[1].D0 * sol.s(z) / lsf ** 2).max() <= 1e-6 * np.abs(dJ).max()
    # (sol, za: the thick-spacer stack) s' = 0 at the top face, so s(top) = s(za) / cosh(200/10)
    ratio = np.linalg.norm(sol.s([sol.interfaces[-1]])) / np.linalg.norm(sol.s([za]))
    assert ratio == pytest.approx(1 / math.cosh(20.0), rel=1e-9, abs=0)
    # a kappa on a non-magnet (m=None) has no effect
    base = spin_valve((20, 5, 10), m_at(0), m_at(90))
    alt = list(base)
    alt[1] = Layer1D(5 * NM, 5e-3, 10 * NM, kappa=3.0)
    z = np.linspace(0, 35 * NM, 101)
    assert np.abs(solve_stack_1d(alt, J_E).s(z) - solve_stack_1d(base, J_E).s(z)).max() == 0.0


# ---------------------------------------------------------------------------------------
# (6) linearity in j_e
def test_linear_in_current():
    layers = spin_valve((20, 5, 10), m_at(0), m_at(90), 1.0)
    z = np.linspace(0, 35 * NM, 77)
    s1, J1 = solve_stack_1d(layers, J_E).s(z), solve_stack_1d(layers, J_E).J(z)
    s2 = solve_stack_1d(layers, 2.5 * J_E).s(z)
    sm, Jm = solve_stack_1d(layers, -J_E).s(z), solve_stack_1d(layers, -J_E).J(z)
    scale = np.abs(s1).max()
    assert np.abs(s2 - 2.5 * s1).max() <= 1e-12 * scale
    assert np.abs(sm + s1).max() <= 1e-12 * scale
    assert np.abs(Jm + J1).max() <= 1e-12 * np.abs(J1).max()
    assert np.abs(solve_stack_1d(layers, 0.0).s(z)).max() == 0.0


# ---------------------------------------------------------------------------------------
# (7) moment closure
def test_kappa_zero_is_default_and_collinear_results_do_not_depend_on_kappa():
    z = np.linspace(0, 280 * NM, 1001)
    assert np.array_equal(solve_stack_1d(spin_valve(m2=m_at(90)), J_E).s(z),
                          solve_stack_1d(spin_valve(m2=m_at(90), kappa=0.0), J_E).s(z))
    for deg in (0, 180):
        ref = solve_stack_1d(spin_valve(m2=m_at(deg)), J_E)
        for kappa in (0.5, 1.0, 5.0):
            sol = solve_stack_1d(spin_valve(m2=m_at(deg), kappa=kappa), J_E)
            assert np.abs(sol.s(z) - ref.s(z)).max() <= 1e-12 * np.abs(ref.s(z)).max()
            assert np.abs(sol.J(z) - ref.J(z)).max() <= 1e-12 * np.abs(ref.J(z)).max()


@pytest.mark.parametrize("kappa", [0.5, 2.0])
def test_kappa_acts_on_transverse_part_only(kappa):
    """kappa changes a non-collinear solution, but only through the transverse current:
    the longitudinal constitutive law m.J = c j_e - 2 D0 (1 - beta beta') m.s' holds
    for every kappa, while J_perp = P (-2 D0 s'_perp) differs from -2 D0 s'_perp."""
    layers0 = spin_valve((20, 5, 10), m_at(0), m_at(90))
    layers = spin_valve((20, 5, 10), m_at(0), m_at(90), kappa)
    sol0, sol = solve_stack_1d(layers0, J_E), solve_stack_1d(layers, J_E)
    z = np.linspace(0, 35 * NM, 351)
    assert np.abs(sol.s(z) - sol0.s(z)).max() > 1e-3 * np.abs(sol0.s(z)).max()
    for k in (0, 2):
        lay = layers[k]
        m = np.asarray(lay.m, float)
        zk = np.linspace(sol.interfaces[k], sol.interfaces[k + 1], 31)[1:-1]
        sp, J = sol.s_prime(zk), sol.J(zk)
        long_J = J @ m
        long_model = C_MAG * J_E - 2 * lay.D0 * (1 - BETA * BETA_P) * (sp @ m)
        assert np.abs(long_J - long_model).max() <= 1e-10 * abs(C_MAG * J_E)
        sp_perp = sp - np.outer(sp @ m, m)
        J_perp = J - np.outer(long_J, m)
        assert np.abs(J_perp - (P_of(m, kappa) @ (-2 * lay.D0 * sp_perp).T).T).max() <= 1e-10 * abs(C_MAG * J_E)
        assert np.abs(J_perp + 2 * lay.D0 * sp_perp).max() > 1e-2 * np.abs(J_perp).max()


# ---------------------------------------------------------------------------------------
# robustness: rotation covariance and very thick layers (no overflow)
def test_rotation_covariance():
    rng = np.random.default_rng(3)
    Q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    if np.linalg.det(Q) < 0:
        Q[:, 0] *= -1
    m1, m2 = np.array([1.0, 0, 0]), np.array(m_at(70))
    z = np.linspace(0, 35 * NM, 201)
    ref = solve_stack_1d(spin_valve((20, 5, 10), m1, m2, 0.7), J_E)
    rot = solve_stack_1d(spin_valve((20, 5, 10), Q @ m1, Q @ m2, 0.7), J_E)
    assert np.abs(rot.s(z) - ref.s(z) @ Q.T).max() <= 1e-11 * np.abs(ref.s(z)).max()
    assert np.abs(rot.J(z) - ref.J(z) @ Q.T).max() <= 1e-11 * np.abs(ref.J(z)).max()


def test_thick_layers_short_decay_lengths():
    layers = [Layer1D(2000 * NM, 1e-3, 1 * NM, 0.5 * NM, BETA, BETA_P, (1, 0, 0), 1.0),
              Layer1D(500 * NM, 5e-3, 2 * NM),
              Layer1D(2000 * NM, 1e-3, 1 * NM, 0.5 * NM, BETA, BETA_P, (-1, 0, 0), 1.0)]
    sol = solve_stack_1d(layers, J_E)
    z = np.linspace(0, 4500 * NM, 9001)
    s = sol.s(z)
    assert np.all(np.isfinite(s)) and np.all(np.isfinite(sol.J(z)))
    cf = collinear_closed_form(layers, J_E)(z)
    assert np.abs(s - cf).max() <= 1e-10 * np.abs(s).max()


# ---------------------------------------------------------------------------------------
# (8) input errors
def _bad(k, **kw):
    layers = spin_valve((20, 5, 10))
    d = dict(thickness=layers[k].thickness, D0=layers[k].D0, lambda_sf=layers[k].lambda_sf,
             lambda_J=layers[k].lambda_J, beta=layers[k].beta, beta_prime=layers[k].beta_prime,
             m=layers[k].m, kappa=layers[k].kappa)
    d.update(kw)
    layers[k] = Layer1D(**d)
    return layers


@pytest.mark.parametrize("k, kw, pattern", [
    (0, dict(thickness=0.0), r"layers\[0\]\.thickness"),
    (2, dict(thickness=-1e-9), r"layers\[2\]\.thickness"),
    (1, dict(D0=0.0), r"layers\[1\]\.D0"),
    (1, dict(lambda_sf=-1e-9), r"layers\[1\]\.lambda_sf.*> 0 m"),
    (1, dict(lambda_sf=float("inf")), r"layers\[1\]\.lambda_sf"),
    (0, dict(lambda_J=0.0), r"layers\[0\]\.lambda_J"),
    (0, dict(beta=1.0, beta_prime=1.0), r"layers\[0\]\.beta\*beta_prime"),
    (2, dict(kappa=-0.1), r"layers\[2\]\.kappa"),
    (0, dict(m=(1.0, 1.0, 0.0)), r"layers\[0\]\.m.*unit"),
    (2, dict(m=None), r"layers\[2\]\.m.*lambda_J"),
    (1, dict(m=(0.0, 0.0)), r"layers\[1\]\.m"),
])
def test_input_errors_name_the_parameter(k, kw, pattern):
    with pytest.raises(ValueError, match=pattern):
        solve_stack_1d(_bad(k, **kw), J_E)
    with pytest.raises(ValueError, match=pattern):
        collinear_closed_form(_bad(k, **kw), J_E)


def test_other_input_errors_and_normalization():
    with pytest.raises(ValueError, match="layers"):
        solve_stack_1d([], J_E)
    with pytest.raises(ValueError, match="j_e"):
        solve_stack_1d(spin_valve(), float("nan"))
    sol = solve_stack_1d(spin_valve(), J_E)
    with pytest.raises(ValueError, match="z must lie"):
        sol.s([-1e-9])
    with pytest.raises(ValueError, match="z must lie"):
        sol.J([281e-9])
    # |m| within 1e-9 of 1 is normalized
    near = solve_stack_1d(spin_valve((20, 5, 10), (1 + 5e-10, 0, 0), (0, 1 - 5e-10, 0)), J_E)
    exact = solve_stack_1d(spin_valve((20, 5, 10), (1, 0, 0), (0, 1, 0)), J_E)
    z = np.linspace(0, 35 * NM, 11)
    assert np.abs(near.s(z) - exact.s(z)).max() <= 1e-13 * np.abs(exact.s(z)).max()
