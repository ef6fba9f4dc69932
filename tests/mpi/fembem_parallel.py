"""FEM-BEM stray field and an LLG trajectory with it on a stack with a non-magnetic spacer and
no air (serial and mpirun -n 2 by tests/test_parallel.py)."""
import json
import sys
from pathlib import Path

from llg_parallel import NM, m0, trajectory_result
from mpi4py import MPI

from fem_stt.geometry import Layer, LayerStack, rectangle
from fem_stt.llg import LLG
from fem_stt.magnetostatics import uniform_magnetization
from fem_stt.materials import Material


def compute(mesh_dir: Path, comm=MPI.COMM_WORLD) -> dict:
    mat = Material("p", Ms=8e5, A=1.3e-11, alpha=0.1)
    st = LayerStack([Layer("FM1", 6 * NM, mat, rectangle(40 * NM, 20 * NM)), Layer("spacer", 3 * NM, "Cu",
                     rectangle(40 * NM, 20 * NM)), Layer("FM2", 4 * NM, mat, rectangle(40 * NM, 20 * NM))],
                    mesh_size=5 * NM, surrounding=None, name="fembem_parallel")
    d = st.mesh(path=Path(mesh_dir) / "fembem_parallel.msh", comm=comm)
    s = LLG(d, m0, H_ext=(0, 2e4, 1e4), order=2, dt=1e-13, dt_max=2e-13, ksp_rtol=1e-13,
            stray_field_options={"dense_dtype": "float64"})  # float32 storage: summation order shows at 1e-7
    sf = s.stray
    sf.solve(uniform_magnetization(sf.Vm, (0.6, 0.0, 0.8)))
    uniform = {"energy": sf.energy(), "avg_FM1": sf.average_field(["FM1"]).tolist(),
               "avg_FM2": sf.average_field(["FM2"]).tolist()}
    s.advance(3e-12)
    out = trajectory_result(s, comm)
    out.update(method=s.demag_method, boundary_nodes=sf.num_boundary_nodes, uniform=uniform)
    return out


if __name__ == "__main__":
    out = compute(Path(sys.argv[1]))
    if MPI.COMM_WORLD.rank == 0:
        print("RESULT " + json.dumps(out))
