"""Spin transport: 3D finite elements against exact 1D solutions, transient decay and
precession, angular-momentum balance, torque direction, moment closure, Zhang-Li torque.

Sign convention (fem_stt.spin.parameters): j_e is the charge current density; electrons
(charge -e) flow along -j_e. The stacks here have FM1 at the bottom (z = 0), so electrons
flowing from FM1 to FM2 means j_e = -|j| z.
"""
from pathlib import Path

import dolfinx
import numpy as np
import pytest
from mpi4py import MPI

from fem_stt import _compat
from fem_stt.errors import MeshError, ParameterError
from fem_stt.geometry import Layer, LayerStack, rectangle
from fem_stt.io import evaluate_points
from fem_stt.materials import Material
from fem_stt.spin import (ElectrodeCurrent, SpinTransport, TransportParameters, TRANSPORT_LIBRARY,
                          apply_moment_inverse)
from fem_stt.spin.oned import Layer1D, collinear_closed_form, solve_stack_1d

NM = 1e-9
J = 1e11
PY, CU = TRANSPORT_LIBRARY["Py"], TRANSPORT_LIBRARY["Cu"]
THICK = (20 * NM, 5 * NM, 10 * NM)


def stack_domain(mesh_dir, h, width=4 * NM, thick=THICK, name=None):
    cs = rectangle(width, width)
    st = LayerStack([Layer("FM1", thick[0], "Py", cs), Layer("spacer", thick[1], "Cu", cs),
                     Layer("FM2", thick[2], "Py", cs)], mesh_size=h, surrounding=None,
                    name=name or f"spin_stack_h{h / NM:g}")
    return st.mesh(path=Path(mesh_dir) / f"{st.name}.msh", comm=MPI.COMM_SELF)


def set_m(sp, dom, m1, m2):
    m = dolfinx.fem.Function(sp.Vs)
    arr = m.x.array.reshape(-1, 3)
    for r, v in (("FM1", m1), ("FM2", m2)):
        arr[_compat.locate_dofs_topological(sp.V1, 3, dom.cells(r))] = np.asarray(v, float) / np.linalg.norm(v)
    m.x.scatter_forward()
    return m


def layers_1d(m1, m2, kappa=0.0, thick=THICK, params=(PY, CU, PY)):
    out = []
    for t, p, m in zip(thick, params, (m1, None, m2)):
        out.append(Layer1D(t, p.D0, p.lambda_sf, p.lambda_J, p.beta, p.beta_prime, m,
                           kappa if m is not None else 0.0))
    return out


def axis_points(dom, z):
    x0 = dom.mesh.geometry.x.min(axis=0)
    return np.column_stack([np.zeros_like(z), np.zeros_like(z), x0[2] + z]), x0[2]


@pytest.fixture(scope="module")
def dom2(mesh_dir):
    return stack_domain(mesh_dir, 1 * NM)


def fe_solution(dom, m1, m2, j_e=-J, **kw):
    sp = SpinTransport(dom, {"FM1": "Py", "spacer": "Cu", "FM2": "Py"}, current_density=(0, 0, j_e), **kw)
    return sp, sp.solve(set_m(sp, dom, m1, m2))


@pytest.mark.parametrize("m2", [(1, 0, 0), (-1, 0, 0)], ids=["parallel", "antiparallel"])
def test_collinear_stack_matches_closed_form(dom2, m2):
    sp, s = fe_solution(dom2, (1, 0, 0), m2)
    exact = collinear_closed_form(layers_1d((1, 0, 0), m2), -J)
    zi = np.array([0.0, 20, 25, 35]) * NM
    pts, _ = axis_points(dom2, zi)
    fe, ex = evaluate_points(s, pts), exact(zi)
    scale = np.abs(ex).max()
    # interface values within 1 %
    assert np.all(np.abs(fe[1:3] - ex[1:3]) <= 0.01 * np.abs(ex[1:3]).max(axis=1, keepdims=True)), (fe, ex)
    assert np.abs(fe[:, 1:]).max() < 1e-8 * scale  # no transverse accumulation in a collinear stack


@pytest.mark.parametrize("model,kappa", [("diffusion", 0.0), ("moment", 1.0)])
def test_ninety_degree_stack_matches_1d_solver(dom2, model, kappa):
    sp, s = fe_solution(dom2, (1, 0, 0), (0, 1, 0), model=model, kappa=kappa)
    sol = solve_stack_1d(layers_1d((1, 0, 0), (0, 1, 0), kappa=kappa), -J)
    zi = np.array([20.0, 25]) * NM
    pts, _ = axis_points(dom2, zi)
    fe, ex = evaluate_points(s, pts), sol.s(zi)
    err = np.linalg.norm(fe - ex, axis=1) / np.linalg.norm(ex, axis=1)
    assert np.all(err < 0.01), (fe, ex, err)


def test_second_order_convergence_through_interfaces(mesh_dir):
    """RMS vertex error against the exact 1D solution (90 degrees), h = 1, 0.5, 0.25 nm (2 x 2 nm pillar)."""
    thick = (10 * NM, 4 * NM, 6 * NM)
    sol = solve_stack_1d(layers_1d((1, 0, 0), (0, 1, 0), thick=thick), -J)
    errs = []
    for h in (1 * NM, 0.5 * NM, 0.25 * NM):
        dom = stack_domain(mesh_dir, h, width=2 * NM, thick=thick, name=f"spin_conv_h{h / NM:g}")
        sp, s = fe_solution(dom, (1, 0, 0), (0, 1, 0))
        X = sp.Vs.tabulate_dof_coordinates()
        z = X[:, 2] - dom.mesh.geometry.x[:, 2].min()
        ex = sol.s(np.clip(z, 0, sum(thick)))
        errs.append(np.sqrt(np.mean((s.x.array.reshape(-1, 3) - ex) ** 2)) / np.abs(ex).max())
    rates = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    assert errs[-1] < 2e-4, errs
    assert rates.mean() > 1.7, (errs, rates)


def transient_block(dom, n, t_end, crank_nicolson):
    """n steps over t_end of the transient equation on a block: m = z, s(0) = x uniform, no current."""
    sp = SpinTransport(dom, {"FM": "Py"}, current_density=(0, 0, 0))
    m = dolfinx.fem.Function(sp.Vs)
    m.x.array.reshape(-1, 3)[:] = (0, 0, 1)
    sp.s.x.array.reshape(-1, 3)[:] = (1.0, 0, 0)
    for _ in range(n):
        sp.step_crank_nicolson(m, t_end / n) if crank_nicolson else sp.step(m, t_end / n)
    return sp.s.x.array.reshape(-1, 3)


def test_transient_decay_and_precession(mesh_dir):
    """Uniform m = z, no current: s_perp(t) = exp(-t/tau_sf) R_z(omega t) s_perp(0), omega = 2 D0/lambda_J^2,
    rotating counter-clockwise about m (ds/dt = +omega m x s); Crank-Nicolson is second order."""
    st = LayerStack([Layer("FM", 6 * NM, "Py", rectangle(6 * NM, 6 * NM))], mesh_size=3 * NM, surrounding=None,
                    name="spin_block")
    dom = st.mesh(path=Path(mesh_dir) / "spin_block.msh", comm=MPI.COMM_SELF)
    tau, omega = PY.tau_sf, PY.J_sd_over_hbar
    t_end = 0.4 * np.pi / omega  # a fifth of a turn: s_y > 0 for a counter-clockwise rotation
    errs = []
    for n in (8, 16, 32):
        s = transient_block(dom, n, t_end, crank_nicolson=True)
        a = np.exp(-t_end / tau)
        exact = a * np.array([np.cos(omega * t_end), np.sin(omega * t_end), 0.0])
        assert np.ptp(s, axis=0).max() < 1e-8  # stays uniform
        errs.append(np.abs(s[0] - exact).max())
        if n == 32:
            assert s[0, 1] > 0.5 * a  # counter-clockwise about +m
    rates = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    assert errs[-1] < 2e-3 and np.all(rates > 1.8), (errs, rates)


def test_implicit_euler_step_is_first_order(mesh_dir):
    st = LayerStack([Layer("FM", 6 * NM, "Py", rectangle(6 * NM, 6 * NM))], mesh_size=3 * NM, surrounding=None,
                    name="spin_block")
    dom = st.mesh(path=Path(mesh_dir) / "spin_block.msh", comm=MPI.COMM_SELF)
    tau, omega = PY.tau_sf, PY.J_sd_over_hbar
    t_end = 0.2 * tau
    errs = []
    for n in (20, 40):
        s = transient_block(dom, n, t_end, crank_nicolson=False)
        exact = np.exp(-t_end / tau) * np.array([np.cos(omega * t_end), np.sin(omega * t_end), 0.0])
        errs.append(np.abs(s[0] - exact).max())
    assert 1.8 < errs[0] / errs[1] < 2.2, errs


def test_damping_like_torque_direction_and_angular_momentum_balance(dom2):
    """Electrons flowing from FM1 (m1 = x) into FM2 (m2 = y) carry moment along m1: the torque on FM2
    turns m2 toward m1 (T . m1 > 0); reversing the current reverses it. The torque integrated over FM2
    equals the transverse spin current entering FM2 from the spacer (spin-flip negligible: lambda_sf = 1 um
    in spacer and FM2, so the spin current in the spacer is uniform and its gradient exact)."""
    long_sf = {"FM1": PY, "spacer": TransportParameters(D0=5e-3, lambda_sf=1e-6),
               "FM2": TransportParameters(D0=1e-3, lambda_sf=1e-6, lambda_J=4e-9, beta=0.9, beta_prime=0.8)}
    torques = {}
    for sign in (-1, 1):
        sp = SpinTransport(dom2, long_sf, current_density=(0, 0, sign * J))
        m = set_m(sp, dom2, (1, 0, 0), (0, 1, 0))
        sp.solve(m)
        torques[sign] = sp.torque_density("FM2")
    T = torques[-1]  # electrons FM1 -> FM2
    assert T[0] > 0 and torques[1][0] < 0
    assert np.allclose(torques[1], -T, rtol=1e-6)
    # spin current in the spacer, J_z = -2 D0 ds/dz (uniform), from the accumulation at the spacer's faces
    sp = SpinTransport(dom2, long_sf, current_density=(0, 0, -J))
    sp.solve(set_m(sp, dom2, (1, 0, 0), (0, 1, 0)))
    pts, _ = axis_points(dom2, np.array([20.5, 24.5]) * NM)
    s_lo, s_hi = evaluate_points(sp.s, pts)
    J_spacer = -2 * 5e-3 * (s_hi - s_lo) / (4 * NM)  # A/s, spin vector
    area = (4 * NM) ** 2
    absorbed = J_spacer * area  # entering FM2 through its bottom face (normal +z)
    T = sp.torque_density("FM2")
    # transverse components (perpendicular to m2 = y): x and z
    for k in (0, 2):
        assert T[k] == pytest.approx(absorbed[k], rel=0.02, abs=0), (T, absorbed)
    assert abs(T[1]) < 1e-9 * np.linalg.norm(T)  # the s-d torque is perpendicular to m2


def test_moment_model_kappa_zero_is_diffusion_and_inverse(dom2):
    _, s_d = fe_solution(dom2, (1, 0, 0), (0, 1, 0))
    s_d = s_d.x.array.copy()
    _, s_m = fe_solution(dom2, (1, 0, 0), (0, 1, 0), model="moment", kappa=0.0)
    assert np.abs(s_m.x.array - s_d).max() < 1e-7 * np.abs(s_d).max()
    # A(m)^-1 on a known field: J - kappa m x J = R; longitudinal part unchanged, transverse part
    # rotated by atan(kappa) about m and shrunk by 1/sqrt(1 + kappa^2) (eigenvalues 1 +- i kappa)
    rng = np.random.default_rng(1)
    m = rng.normal(size=(20, 3))
    m /= np.linalg.norm(m, axis=1)[:, None]
    R = rng.normal(size=(20, 3))
    for kappa in (0.0, 1.0, 2.5):
        Jv = apply_moment_inverse(R, m, kappa)
        assert np.allclose(Jv - kappa * np.cross(m, Jv), R, atol=1e-12)
        par = np.einsum("ij,ij->i", R, m)
        assert np.allclose(np.einsum("ij,ij->i", Jv, m), par, atol=1e-12)
        Rp, Jp = R - par[:, None] * m, Jv - np.einsum("ij,ij->i", Jv, m)[:, None] * m
        assert np.allclose(np.linalg.norm(Jp, axis=1), np.linalg.norm(Rp, axis=1) / np.sqrt(1 + kappa**2))
        cosang = np.einsum("ij,ij->i", Jp, Rp) / np.linalg.norm(Jp, axis=1) / np.linalg.norm(Rp, axis=1)
        assert np.allclose(cosang, 1 / np.sqrt(1 + kappa**2))
    # kappa = 1 changes the 3D torque on FM2 exactly as the 1D moment-closure solution predicts
    sp, s1 = fe_solution(dom2, (1, 0, 0), (0, 1, 0), model="moment", kappa=1.0)
    T1 = sp.torque_density("FM2")
    sp0, _ = fe_solution(dom2, (1, 0, 0), (0, 1, 0))
    T0 = sp0.torque_density("FM2")
    z = np.linspace(25 * NM, 35 * NM, 4001)
    area = (4 * NM) ** 2
    pred = {}
    for kappa in (0.0, 1.0):
        sol = solve_stack_1d(layers_1d((1, 0, 0), (0, 1, 0), kappa=kappa), -J)
        tq = -PY.J_sd_over_hbar * np.cross(np.array([0, 1.0, 0]), sol.s(z))
        pred[kappa] = np.trapz(tq, z, axis=0) * area
    assert np.linalg.norm(T1 - pred[1.0]) < 0.02 * np.linalg.norm(pred[1.0])
    assert np.linalg.norm(T0 - pred[0.0]) < 0.02 * np.linalg.norm(pred[0.0])
    assert np.linalg.norm(pred[1.0] - pred[0.0]) > 0.05 * np.linalg.norm(pred[0.0])  # a visible change


def test_self_consistent_current_matches_prescribed(dom2):
    """Laterally uniform stack: div j_e = 0 makes j_e uniform, so the self-consistent model (current
    entering at the top electrode, V = 0 at the bottom) reduces to the prescribed one; the voltage drop
    exceeds the ohmic one by the spin-accumulation (interface) resistance, which is larger for
    antiparallel magnets (GMR)."""
    sol = solve_stack_1d(layers_1d((1, 0, 0), (0, 1, 0)), -J)
    drops = {}
    for m2 in ((0, 1, 0), (1, 0, 0), (-1, 0, 0)):
        sp = SpinTransport(dom2, {"FM1": "Py", "spacer": "Cu", "FM2": "Py"},
                           electrode_current=ElectrodeCurrent(J, source="top_electrode", drain="bottom_electrode"))
        s = sp.solve(set_m(sp, dom2, (1, 0, 0), m2))
        pts, _ = axis_points(dom2, np.array([20.0, 25, 35]) * NM)
        drops[m2] = evaluate_points(sp.V, pts[2:])[0, 0]
        if m2 == (0, 1, 0):
            fe, ex = evaluate_points(s, pts[:2]), sol.s(np.array([20.0, 25]) * NM)
            err = np.linalg.norm(fe - ex, axis=1) / np.linalg.norm(ex, axis=1)
            assert np.all(err < 0.03), (fe, ex)
    ohmic = J * (30 * NM / PY.sigma + 5 * NM / CU.sigma)
    assert drops[(1, 0, 0)] > ohmic and drops[(-1, 0, 0)] > drops[(1, 0, 0)], (drops, ohmic)


def test_bad_transport_input(dom2, mesh_dir):
    T = {"FM1": "Py", "spacer": "Cu", "FM2": "Py"}
    with pytest.raises(ParameterError, match=r"transport\['FM1'\].D0"):
        SpinTransport(dom2, dict(T, FM1=TransportParameters(D0=-1e-3, lambda_sf=1e-8, lambda_J=4e-9)),
                      current_density=(0, 0, J))
    with pytest.raises(ParameterError, match=r"lambda_sf"):
        SpinTransport(dom2, dict(T, spacer=TransportParameters(D0=1e-3, lambda_sf=-1e-8)), current_density=(0, 0, J))
    with pytest.raises(ParameterError, match="magnetic region 'FM2' has no transport parameters"):
        SpinTransport(dom2, {"FM1": "Py", "spacer": "Cu"}, current_density=(0, 0, J))
    with pytest.raises(ParameterError, match="lambda_J"):
        SpinTransport(dom2, dict(T, FM2=TransportParameters(D0=1e-3, lambda_sf=1e-8)), current_density=(0, 0, J))
    with pytest.raises(ParameterError, match="current_density"):
        SpinTransport(dom2, T, current_density=(0, J))
    with pytest.raises(ParameterError, match="model"):
        SpinTransport(dom2, T, current_density=(0, 0, J), model="boltzmann")
    with pytest.raises(ParameterError, match="kappa"):
        SpinTransport(dom2, T, current_density=(0, 0, J), model="moment", kappa=-1)
    # an insulating spacer: the conductors FM1 and FM2 do not connect the electrodes
    cs = rectangle(4 * NM, 4 * NM)
    ins = Material("oxide", Ms=0.0)
    st = LayerStack([Layer("FM1", 6 * NM, "Py", cs), Layer("barrier", 2 * NM, ins, cs), Layer("FM2", 4 * NM, "Py", cs)],
                    mesh_size=2 * NM, surrounding=None, name="spin_insulated")
    d = st.mesh(path=Path(mesh_dir) / "spin_insulated.msh", comm=MPI.COMM_SELF)
    with pytest.raises(MeshError, match="do not connect the electrodes"):
        SpinTransport(d, {"FM1": "Py", "FM2": "Py"}, current_density=(0, 0, J))
