"""Stray-field quantities on the communicator it is run on; run serially and under mpirun -n 2
by tests/test_parallel.py, which compares the two. Prints one JSON object on rank 0."""
import json
import shutil
import sys
from pathlib import Path

import numpy as np
from mpi4py import MPI

import dolfinx.fem
from fem_stt.domain import Domain
from fem_stt.geometry import seed_device
from fem_stt.io import evaluate_points
from fem_stt.magnetostatics import StrayField

PROBES = np.array([[0, 0, z * 1e-9] for z in (-30, 10, 100, 190, 210, 230, 250, 270, 300)]
                  + [[50e-9, 20e-9, 150e-9], [-60e-9, -30e-9, 240e-9], [100e-9, 0, 100e-9]])


def compute(mesh_dir: Path, comm=MPI.COMM_WORLD) -> dict:
    domain = seed_device(mesh_size=16e-9).mesh(path=Path(mesh_dir) / "seed_parallel.msh", comm=comm)
    solver = StrayField(domain, rtol=1e-12)
    m = dolfinx.fem.Function(solver.Vm, name="m")
    x = solver.Vm.tabulate_dof_coordinates()
    # a non-uniform state: a twist in FM1 and -x in FM2, defined by coordinates (partition-independent)
    z = x[:, 2] / 200e-9
    arr = m.x.array.reshape(-1, 3)
    arr[:] = np.column_stack([np.cos(np.pi * z), np.sin(np.pi * z), 0.3 * np.ones_like(z)])
    arr[x[:, 2] > 210e-9] = (-1.0, 0.0, 0.0)
    arr /= np.linalg.norm(arr, axis=1)[:, None]
    solver.solve(m)
    H_all = solver.field_outside_shell()
    # the same mesh as a user's own .msh (no sidecar): the shell is inferred from the vertices
    user = Path(mesh_dir) / "seed_parallel_user.msh"
    if comm.rank == 0 and not user.exists():
        shutil.copy(Path(mesh_dir) / "seed_parallel.msh", user)
    comm.barrier()
    user_domain = Domain.from_msh(user, materials={"FM1": "Py", "spacer": "Cu", "FM2": "Py"}, comm=comm)
    return {
        "shell_sidecar": domain.shell.to_dict(),
        "shell_inferred": user_domain.shell.to_dict(),
        "ranks": comm.size,
        "dofs": solver.num_dofs,
        "energy": solver.energy(),
        "avg_FM1": solver.average_field(["FM1"]).tolist(),
        "avg_FM2": solver.average_field(["FM2"]).tolist(),
        "u": evaluate_points(solver.u, PROBES)[:, 0].tolist(),
        "H": evaluate_points(H_all, PROBES).tolist(),
        "H_norm": float(solver.H.vector.norm()),
    }


if __name__ == "__main__":
    out = compute(Path(sys.argv[1]))
    if MPI.COMM_WORLD.rank == 0:
        print("RESULT " + json.dumps(out))
