"""Cost of the QDD-Rashba solvers (seed 001) on the Datta-Das channel, 1 and 2 ranks.

The 2D InGaAs channel of demos/datta_das.py (0.5 um x 200 nm, 77 K, 50 mV, alpha_R = 3e-12 eV m,
a 20 nm gate barrier of 3 kB T) at the given cell sizes, with the Bohm terms (``bohm``: (rho, F)
and (n, w) mixed P2) and in the eps -> 0 limit (``eps0``: P1). Prints one JSON object per
(cell size, model, ranks): ``dofs`` of the charge and spin systems, Newton iterations and wall
time of the stationary charge solve (with continuation) and spin solve, and the mean wall time and
Newton iterations per transient step (charge step + spin step, BDF2, dt = 0.05 t_E, spin injection
switched on at t = 0) over ``--steps`` steps, and the machine's load average; plus
``speedup_2_over_1`` lines (on a shared, oversubscribed machine MUMPS on 2 ranks can be slower
than on 1: compare runs with similar load).

Run:  python benchmarks/qdd.py [--h 10e-9 5e-9] [--ranks 1 2] [--steps 10] [--model bohm eps0]
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _mpi import run_worker  # noqa: E402


def worker(h: float, model: str, steps: int):
    from mpi4py import MPI

    from fem_stt.quantum.qdd.device import RashbaChannel

    comm = MPI.COMM_WORLD
    kT_eV = 1.380649e-23 * 77.0 / 1.602176634e-19
    dev = RashbaChannel(length=0.5e-6, width=0.2e-6, m_eff=0.041, alpha_R=3e-12, temperature=77.0, bias=0.05,
                        mobility=1.0, gate=(0.25e-6, 20e-9, 3 * kT_eV), quantum=(model == "bohm"), mesh_size=h)
    comm.barrier()
    t0 = time.perf_counter()
    dev.build(comm)
    comm.barrier()
    t1 = time.perf_counter()
    its_c = dev.charge.solve()
    comm.barrier()
    t2 = time.perf_counter()
    its_s = dev.spin.solve()
    comm.barrier()
    t3 = time.perf_counter()
    # transient: spin injection switched on at t = 0 on the stationary charge
    dev.spin.set_state((0.0, 0.0, 0.0))
    dev.charge.reset_history()
    dt = 0.05
    its = []
    comm.barrier()
    t4 = time.perf_counter()
    for _ in range(steps):
        its.append(dev.charge.step(dt) + dev.spin.step(dt))
    comm.barrier()
    t5 = time.perf_counter()
    res = {"benchmark": "qdd", "h_nm": h * 1e9, "model": model, "ranks": comm.size,
           "load_average_1min": round(os.getloadavg()[0], 2), "cores": os.cpu_count(),
           "vertices": dev.channel.num_vertices_global(),
           "dofs": {"charge": dev.charge.dofs_global(), "spin": dev.spin.dofs_global()},
           "build_s": round(t1 - t0, 3),
           "stationary": {"charge_newton": its_c, "charge_s": round(t2 - t1, 4), "spin_newton": its_s,
                          "spin_s": round(t3 - t2, 4)},
           "transient": {"steps": steps, "dt_scaled": dt, "step_s": round((t5 - t4) / steps, 4),
                         "newton_per_step": round(sum(its) / steps, 2)}}
    if comm.rank == 0:
        print("RESULT " + json.dumps(res), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--h", type=float, nargs="+", default=[10e-9, 5e-9], help="cell sizes [m]")
    ap.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--model", nargs="+", default=["bohm", "eps0"], choices=["bohm", "eps0"])
    ap.add_argument("--worker", type=float, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--worker-model", default="bohm", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker is not None:
        worker(a.worker, a.worker_model, a.steps)
        return
    for h in a.h:
        for model in a.model:
            res = {n: run_worker(__file__, n, ["--worker", repr(h), "--worker-model", model, "--steps", a.steps])
                   for n in a.ranks}
            if 1 in res and 2 in res:
                print(json.dumps({"benchmark": "qdd", "h_nm": h * 1e9, "model": model, "speedup_2_over_1": {
                    "charge_stationary": round(res[1]["stationary"]["charge_s"] / res[2]["stationary"]["charge_s"], 3),
                    "spin_stationary": round(res[1]["stationary"]["spin_s"] / res[2]["stationary"]["spin_s"], 3),
                    "transient_step": round(res[1]["transient"]["step_s"] / res[2]["transient"]["step_s"], 3)}}),
                      flush=True)


if __name__ == "__main__":
    main()
