"""A coupled run with a random texture, BB relaxation and error-controlled steps, on the communicator it
is run on: tests/test_parallel.py runs it twice under mpirun -n 2 and requires identical results
(the mesh distribution is repeatable; see fem_stt._compat.coordinate_bisection)."""
import json
import sys
from pathlib import Path

import numpy as np
from mpi4py import MPI

from fem_stt.geometry import Layer, LayerStack, rectangle
from fem_stt.io import evaluate_points
from fem_stt.llg.initial import random_magnetization
from fem_stt.simulation import Simulation

NM = 1e-9


def compute(mesh_dir: Path, comm=MPI.COMM_WORLD) -> dict:
    cs = rectangle(40 * NM, 20 * NM)
    st = LayerStack([Layer("FM1", 8 * NM, "Py_stt", cs), Layer("spacer", 4 * NM, "Cu", cs),
                     Layer("FM2", 6 * NM, "Py_stt", cs)], mesh_size=4 * NM, surrounding=None, name="repeat_parallel")
    d = st.mesh(path=Path(mesh_dir) / "repeat_parallel.msh", comm=comm)
    rnd = random_magnetization(seed=3, correlation_length=15 * NM)
    sim = Simulation(d, rnd, transport={"FM1": "Py_stt", "spacer": "Cu", "FM2": "Py_stt"},
                     current_density=(0, 0, -5e12), transport_model="moment",
                     llg_options=dict(order=2, dt=1e-13, dt_max=5e-12, max_rotation=0.3, tolerance=1e-3))
    rel = sim.relax(tol=1.0, max_iterations=60)
    m_relaxed = sim.llg.average("FM2").tolist()
    sim.llg.advance(5e-12)
    probes = np.array([[0, 0, 4 * NM], [15 * NM, 5 * NM, 10 * NM], [-12 * NM, -6 * NM, 15 * NM]])
    return {"ranks": comm.size, "relax_iterations": rel["iterations"], "m_FM2_relaxed": m_relaxed,
            "steps": sim.llg.step_count, "rejected": sim.llg.rejected, "t": sim.llg.t,
            "m_FM1": sim.llg.average("FM1").tolist(), "m_FM2": sim.llg.average("FM2").tolist(),
            "probes": evaluate_points(sim.llg.m, probes).tolist()}


if __name__ == "__main__":
    res = compute(Path(sys.argv[1]))
    if MPI.COMM_WORLD.rank == 0:
        print("RESULT " + json.dumps(res))
