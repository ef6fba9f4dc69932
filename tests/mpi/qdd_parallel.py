"""QDD-Rashba (seed 001) on a 2D channel on the communicator it is run on (serial and mpirun -n 2 by
tests/test_qdd_parallel.py): stationary density gradient (6) with a gate barrier, the spin equation (7)
with the Bohm terms on that n0 and (10) at eps = 0, a transient (BDF2, fixed and error-controlled
steps), contact currents by the reaction method and point values."""
import json
import sys
from pathlib import Path

import numpy as np
from mpi4py import MPI

from fem_stt.quantum.qdd import Channel, DensityGradient, SpinDiffusion

POINTS = np.array([[0.1, 0.05], [0.37, 0.2], [0.5, 0.0], [0.77, 0.31], [0.95, 0.4]])


def V(x):
    return -3.0 * x[0] + 2.0 * np.exp(-((x[0] - 0.5) / 0.1) ** 2)


def compute(mesh_dir=None, comm=MPI.COMM_WORLD) -> dict:
    ch = Channel.rectangle(1.0, 0.4, 0.05, structured=False, comm=comm)
    dg = DensityGradient(ch, eps=0.1, tau=0.5, V=V, degree=2)
    its_charge = dg.solve()
    sq = SpinDiffusion(ch, alpha=1.0, tau=0.5, eps=0.1, V=V, rho=dg.rho(),
                       contacts={"source": (1.0, 0.0, 0.5), "drain": (0.0, 0.0, 0.0)})
    its_spin = sq.solve()
    s0 = SpinDiffusion(ch, alpha=1.0, tau=0.5, V=V, n_init=lambda x: np.vstack([0 * x[0], x[1] * x[0], 0 * x[0]]))
    s0.run(0.05, 0.01)  # fixed steps: BDF1 then BDF2
    fixed = s0.values(POINTS)
    s0.run(0.2, 0.01, rtol=1e-4, atol=1e-6)  # error-controlled
    # transient charge: relaxation of a perturbed density towards the stationary state
    dt = DensityGradient(ch, eps=0.1, tau=0.5, V=V, degree=1, n_init=lambda x: 1 + 0.3 * np.sin(np.pi * x[0]))
    dt.run(0.05, 0.01)
    return {"ranks": comm.size, "dofs": [dg.dofs_global(), sq.dofs_global(), s0.dofs_global()],
            "newton": [its_charge, its_spin], "mass": dg.mass(), "energy": dg.free_energy(),
            "I_charge": [dg.contact_currents()[k] for k in ("source", "drain")],
            "n0": dg.values(POINTS).tolist(), "Q": dg.values(POINTS, "Q").tolist(),
            "n_bohm": sq.values(POINTS).tolist(),
            "I_spin": [sq.contact_currents()[k].tolist() for k in ("source", "drain")],
            "margin": sq.positivity_margin(),
            "n_fixed": fixed.tolist(), "n_adaptive": s0.values(POINTS).tolist(), "t": s0.t,
            "steps": [s0.steps, s0.rejected], "I_spin_eps0": s0.contact_currents()["source"].tolist(),
            "lyapunov": s0.lyapunov(), "n0_transient": dt.values(POINTS).tolist(), "mass_transient": dt.mass()}


if __name__ == "__main__":
    res = compute(Path(sys.argv[1]) if len(sys.argv) > 1 else None)
    if MPI.COMM_WORLD.rank == 0:
        print("RESULT " + json.dumps(res))
