"""Stray-field cost on the seed device: setup and solve times at two mesh sizes on 1 and 2 ranks.

Prints one JSON object per (mesh size, ranks) with keys ``dofs``, ``ranks``, ``setup_s``,
``solve_s`` (a cold solve from a zero initial guess, best of --repeat), ``solve_warm_s``
(after a small change of m, warm-started as in the LLG loop), ``iterations``, ``h_nm``,
plus ``speedup_2_over_1`` lines comparing ranks in the same run (ratios, not absolute
times, are what is comparable on a shared machine). Target: solve_s <= 0.5 at ~1e5
unknowns on 2 ranks.

Run:  python benchmarks/stray_field.py [--h 12e-9 7e-9] [--ranks 1 2]
"""
import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _mpi import ROOT, run_worker  # noqa: E402


def worker(h: float, repeat: int, mesh_dir: Path, petsc: dict):
    import numpy as np
    from mpi4py import MPI

    import dolfinx.fem
    from fem_stt.geometry import seed_device
    from fem_stt.magnetostatics import StrayField

    comm = MPI.COMM_WORLD
    domain = seed_device(mesh_size=h).mesh(path=mesh_dir / f"seed_device_h{h * 1e9:g}nm.msh", comm=comm)
    comm.barrier()
    t0 = time.perf_counter()
    solver = StrayField(domain, petsc_options=petsc)
    comm.barrier()
    setup = time.perf_counter() - t0
    m = dolfinx.fem.Function(solver.Vm)
    x = solver.Vm.tabulate_dof_coordinates()
    arr = m.x.array.reshape(-1, 3)
    arr[:] = (1.0, 0.0, 0.0)
    arr[x[:, 2] > 210e-9] = (-1.0, 0.0, 0.0)
    cold = []
    for _ in range(repeat):
        solver.u.x.array[:] = 0.0
        comm.barrier()
        t0 = time.perf_counter()
        solver.solve(m)
        comm.barrier()
        cold.append(time.perf_counter() - t0)
    its = solver.last_iterations
    # warm: a small rotation of m, as between two LLG steps
    th = 0.01
    arr[:] = arr @ np.array([[np.cos(th), -np.sin(th), 0], [np.sin(th), np.cos(th), 0], [0, 0, 1]]).T
    comm.barrier()
    t0 = time.perf_counter()
    solver.solve(m)
    comm.barrier()
    warm = time.perf_counter() - t0
    res = {"benchmark": "stray_field", "h_nm": h * 1e9, "dofs": solver.num_dofs, "cells": domain.num_cells_global(),
           "ranks": comm.size, "setup_s": round(setup, 4), "solve_s": round(min(cold), 4),
           "solve_warm_s": round(warm, 4), "iterations": its, "iterations_warm": solver.last_iterations}
    if comm.rank == 0:
        print("RESULT " + json.dumps(res), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--h", type=float, nargs="+", default=[12e-9, 7e-9], help="cell sizes in the layers [m]")
    ap.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--mesh-dir", default=str(ROOT / "meshes"))
    ap.add_argument("--petsc", default="{}", help="JSON dict of extra PETSc options for the CG/AMG solve")
    ap.add_argument("--worker", type=float, default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker is not None:
        worker(a.worker, a.repeat, Path(a.mesh_dir), json.loads(a.petsc))
        return
    for h in a.h:
        times = {}
        for n in a.ranks:
            times[n] = run_worker(__file__, n, ["--worker", repr(h), "--repeat", a.repeat, "--mesh-dir", a.mesh_dir,
                                                "--petsc", a.petsc])["solve_s"]
        if 1 in times and 2 in times:
            print(json.dumps({"benchmark": "stray_field", "h_nm": h * 1e9,
                              "speedup_2_over_1": round(times[1] / times[2], 3)}), flush=True)


if __name__ == "__main__":
    main()
