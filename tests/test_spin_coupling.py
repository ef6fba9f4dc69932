"""Current-induced torques inside the LLG integrator: Zhang-Li wall translation, pinned layers,
and the s-d torque turning the free layer toward the reference layer."""
from pathlib import Path

import numpy as np
import pytest
from mpi4py import MPI

from fem_stt.constants import MU_B
from fem_stt.errors import ParameterError
from fem_stt.geometry import Layer, LayerStack, rectangle
from fem_stt.llg import LLG
from fem_stt.materials import Material
from fem_stt.simulation import Simulation
from fem_stt.spin import Q_E, ZhangLiTorque

NM = 1e-9


def test_zhang_li_moves_profile_rigidly_with_u(mesh_dir):
    """With xi = alpha and no other torque, any profile m(x - u t) solves the Gilbert equation with
    Zhang-Li torques (seed 003 eq. 37); u = beta mu_B j_e / (Q_E Ms) points along the electron flow."""
    L, w = 200 * NM, 15 * NM
    mat = Material("zl", Ms=8e5, A=0.0, alpha=0.1)
    st = LayerStack([Layer("wire", 4 * NM, mat, rectangle(L, 8 * NM))], mesh_size=2.5 * NM, surrounding=None,
                    name="zhang_li_wire")
    dom = st.mesh(path=Path(mesh_dir) / "zhang_li_wire.msh", comm=MPI.COMM_SELF)

    def m0(x):
        th = 0.5 * np.pi * (1 + np.tanh(x[0] / w))
        return np.vstack([np.cos(th), np.sin(th), 0 * th])
    llg = LLG(dom, m0, demag=False, order=2, dt=1e-13, dt_max=1e-12, max_rotation=0.05)
    j = 1e12
    term = ZhangLiTorque(llg, (j, 0, 0), polarization={"wire": 0.9}, xi=0.1)
    llg.add_term(term)
    u = 0.9 * MU_B * j / (Q_E * 8e5)
    assert u < 0  # charge current along +x: electrons, and the wall, move along -x
    xc0 = 0.5 * L * llg.average()[0]
    t = 0.3e-9
    llg.advance(t)
    xc = 0.5 * L * llg.average()[0]
    assert (xc - xc0) == pytest.approx(u * t, rel=0.03, abs=0), (xc - xc0, u * t)
    assert abs(llg.average()[2]) < 1e-3  # rigid: the wall does not tilt out of plane


def test_pinned_layer_and_switching_direction(mesh_dir):
    """FM1 pinned along +x, FM2 at 90 degrees (+y): electrons flowing FM1 -> FM2 (j_e = -j z) turn FM2
    toward +x; the opposite current turns it toward -x. FM1 does not move."""
    cs = rectangle(20 * NM, 20 * NM)
    st = LayerStack([Layer("FM1", 6 * NM, "Py_stt", cs), Layer("spacer", 3 * NM, "Cu", cs),
                     Layer("FM2", 3 * NM, "Py_stt", cs)], mesh_size=3 * NM, surrounding=None, name="pinned_stack")
    dom = st.mesh(path=Path(mesh_dir) / "pinned_stack.msh", comm=MPI.COMM_SELF)
    T = {"FM1": "Py_stt", "spacer": "Cu", "FM2": "Py_stt"}
    final = {}
    for sign in (-1, 1):
        sim = Simulation(dom, {"FM1": (1, 0, 0), "FM2": (0, 1, 0)}, transport=T, current_density=(0, 0, sign * 1e12),
                         demag=False, llg_options=dict(order=2, dt=1e-13, dt_max=5e-13, fixed=("FM1",)))
        sim.llg.advance(5e-12)
        assert np.allclose(sim.llg.average("FM1"), (1, 0, 0), atol=1e-14)
        final[sign] = sim.llg.average("FM2")
    assert final[-1][0] > 0.01 and final[1][0] < -0.01, final
    with pytest.raises(ParameterError, match="fixed"):
        LLG(dom, (1, 0, 0), demag=False, fixed=("spacer",))
    st2 = LayerStack([Layer("A", 4 * NM, "Py_stt", cs), Layer("B", 4 * NM, "Py_stt", cs)], mesh_size=4 * NM,
                     surrounding=None, name="touching_magnets")
    d2 = st2.mesh(path=Path(mesh_dir) / "touching_magnets.msh", comm=MPI.COMM_SELF)
    with pytest.raises(ParameterError, match="share vertices"):
        LLG(d2, (1, 0, 0), demag=False, fixed=("A",))
