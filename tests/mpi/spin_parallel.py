"""Coupled LLG + stray field + spin diffusion (and the self-consistent current) on the communicator
it is run on (serial and mpirun -n 2 by tests/test_parallel.py)."""
import json
import sys
from pathlib import Path

import numpy as np
from mpi4py import MPI

from fem_stt.geometry import Layer, LayerStack, Surrounding, ellipse
from fem_stt.io import evaluate_points
from fem_stt.simulation import Simulation
from fem_stt.spin import ElectrodeCurrent, SpinTransport

NM = 1e-9


def compute(mesh_dir: Path, comm=MPI.COMM_WORLD) -> dict:
    cs = ellipse(30 * NM, 16 * NM)
    st = LayerStack([Layer("FM1", 6 * NM, "Py_stt", cs), Layer("spacer", 3 * NM, "Cu", cs),
                     Layer("FM2", 4 * NM, "Py_stt", cs)], mesh_size=3 * NM, surrounding=Surrounding(padding=0.5),
                    name="spin_parallel")
    d = st.mesh(path=Path(mesh_dir) / "spin_parallel.msh", comm=comm)
    T = {"FM1": "Py_stt", "spacer": "Cu", "FM2": "Py_stt"}
    sim = Simulation(d, {"FM1": (1, 0, 0), "FM2": (-0.8, 0.6, 0.0)}, transport=T, current_density=(0, 0, -2e12),
                     transport_model="moment", kappa=1.0,
                     llg_options=dict(order=2, dt=1e-13, dt_max=2e-13, ksp_rtol=1e-13, stray_field_options={"rtol": 1e-13}))
    sim.spin.ksp.setTolerances(rtol=1e-13, atol=1e-300, max_it=2000)
    sim.llg.advance(2e-12)
    sim.refresh_fields()
    probes = np.array([[0, 0, 5 * NM], [5 * NM, 2 * NM, 7.5 * NM], [-6 * NM, -3 * NM, 11 * NM]])
    out = {"ranks": comm.size, "t": sim.llg.t, "steps": sim.llg.step_count,
           "m_FM1": sim.llg.average("FM1").tolist(), "m_FM2": sim.llg.average("FM2").tolist(),
           "s_probes": evaluate_points(sim.spin.s, probes).tolist(),
           "torque_FM2": sim.spin.torque_density("FM2").tolist()}
    # self-consistent current: potential and accumulation
    sp = SpinTransport(d, T, electrode_current=ElectrodeCurrent(2e12), Vm=sim.llg.mv.Vm)
    sp.ksp.setTolerances(rtol=1e-13, atol=1e-300, max_it=2000)
    sp.solve(sim.llg.m)
    out["sc_s_probes"] = evaluate_points(sp.s, probes).tolist()
    out["sc_V_probes"] = evaluate_points(sp.V, probes).tolist()
    return out


if __name__ == "__main__":
    res = compute(Path(sys.argv[1]))
    if MPI.COMM_WORLD.rank == 0:
        print("RESULT " + json.dumps(res))
