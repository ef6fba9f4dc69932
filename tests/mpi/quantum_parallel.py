"""Schrödinger-Poisson-LLG on a ball (eigenstates + a wave packet, Poisson, stray field, coupled LLG)
on the communicator it is run on (serial and mpirun -n 2 by tests/test_parallel.py)."""
import json
import sys
from pathlib import Path

import numpy as np
from mpi4py import MPI

from fem_stt.geometry import BallGeometry, Body
from fem_stt.io import evaluate_points
from fem_stt.quantum import SPLLG, MixedState, QuantumSpace, scaled_material


def compute(mesh_dir: Path, comm=MPI.COMM_WORLD) -> dict:
    g = BallGeometry(radius=1.0, magnet=Body("Omega", scaled_material(alpha=0.5, K1=1.0), "sphere", (0, 0, 0),
                                             (0.8, 0.8, 0.8)), mesh_size=0.2, name="qball")
    dom = g.mesh(path=Path(mesh_dir) / "qball.msh", comm=comm)
    space = QuantumSpace(dom)
    eig = MixedState.from_eigenstates(space, [0, 1], ["up", (1, 0, 0)], [1.5, 1.0])
    packet = MixedState.wave_packets(space, 1.0, centers=[(0.2, 0, 0)], widths=[0.3], wavevectors=[(0, 0.8, 0)],
                                     spins=["down"], occupations=[1.0])
    # one mixed state of the two eigenstates and the packet (orthonormalized against them)
    from fem_stt.quantum.states import gram_schmidt
    orbitals = eig.orbitals + packet.orbitals
    gram_schmidt(space, orbitals)
    state = MixedState(space, orbitals, [1.5, 1.0, 1.0])
    s = SPLLG(state, eps=1.0, m0=lambda x: np.vstack([np.ones_like(x[0]), 0.5 * x[1], 0.3 * x[0]]), dt=0.02,
              order=2, stray_field_options={"rtol": 1e-13})
    for _ in range(10):
        s.step()
    e = s.energies()
    obs = s.sp.observables()
    probes = np.array([[0.0, 0.0, 0.0], [0.3, -0.2, 0.1], [-0.5, 0.4, -0.3]])
    return {"ranks": comm.size, "t": s.t, "mass": s.sp.mass(), "integrals": s.sp.integrals(),
            "energies": {k: e[k] for k in ("F_SC", "F_LL", "dissipation", "residual", "coupling")},
            "m": s.llg.average().tolist(), "rho": evaluate_points(obs["rho"], probes).ravel().tolist(),
            "s": evaluate_points(obs["s"], probes).tolist(), "V": evaluate_points(obs["V"], probes).ravel().tolist(),
            "fixed_point": s.sp.last_fixed_point_iterations}


if __name__ == "__main__":
    res = compute(Path(sys.argv[1]))
    if MPI.COMM_WORLD.rank == 0:
        print("RESULT " + json.dumps(res))
