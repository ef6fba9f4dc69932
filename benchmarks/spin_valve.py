"""Cost of one coupled step (LLG + stray field + spin diffusion) on the seed device, 1 and 2 ranks.

Prints one JSON object per (mesh size, ranks, model) with ``dofs`` per field (m: 3 x
magnetic vertices, s: 3 x conducting vertices, u: P2 stray-field potential), and the
wall time per accepted step split into ``stray_field_s``, ``spin_s`` (assembly +
GMRES of the steady spin accumulation) and ``llg_s`` (tangent-plane assembly, solve,
update), averaged over ``--steps`` steps after ``--warmup`` steps; plus the ratio
``spin_over_stray`` (target: <= 1) and ``speedup_2_over_1`` lines comparing ranks in the
same run (ratios are what is comparable on a shared machine).

Run:  python benchmarks/spin_valve.py [--h 10e-9] [--ranks 1 2] [--steps 30] [--model diffusion moment]
"""
import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _mpi import ROOT, run_worker  # noqa: E402


def worker(h: float, steps: int, warmup: int, model: str, mesh_dir: Path):
    from mpi4py import MPI

    from fem_stt.geometry import seed_device
    from fem_stt.simulation import Simulation
    from fem_stt.spin import SEED_DEVICE_TRANSPORT

    comm = MPI.COMM_WORLD
    domain = seed_device(mesh_size=h, ferromagnet="Py_stt").mesh(
        path=mesh_dir / f"seed_device_stt_h{h * 1e9:g}nm.msh", comm=comm)
    sim = Simulation(domain, {"FM1": (1, 0, 0), "FM2": (-0.9, 0.3, 0.1)},
                     transport=SEED_DEVICE_TRANSPORT, current_density=(0, 0, -5e12),
                     transport_model=model, llg_options=dict(order=2, dt=1e-13, dt_max=2e-12, max_rotation=0.1))
    llg = sim.llg
    for _ in range(warmup):
        llg.step()
    t0 = dict(llg.timings)
    s0 = dict(sim.spin.timings)
    comm.barrier()
    w0 = time.perf_counter()
    for _ in range(steps):
        llg.step()
    comm.barrier()
    wall = (time.perf_counter() - w0) / steps
    d = {k: (llg.timings[k] - t0.get(k, 0.0)) / steps for k in llg.timings}
    mv = llg.mv
    n_mag = int(mv.owned_sum(mv.active.astype(float)))
    n_cond = int(mv.owned_sum(sim.spin._active[: mv.n_local].astype(float)))
    res = {"benchmark": "spin_valve", "h_nm": h * 1e9, "ranks": comm.size, "model": model,
           "dofs": {"m": 3 * n_mag, "s": 3 * n_cond, "u": llg.stray.num_dofs,
                    "s_system": sim.spin.A.getSize()[0]},
           "step_s": round(wall, 4), "stray_field_s": round(d["stray_field"], 4), "spin_s": round(d["spin_transport"], 4),
           "spin_assembly_s": round((sim.spin.timings["assembly"] - s0["assembly"]) / steps, 4),
           "spin_solve_s": round((sim.spin.timings["solve"] - s0["solve"]) / steps, 4),
           "llg_s": round(d["assembly"] + d["linear_solve"] + d["update"], 4),
           "spin_gmres_iterations": sim.spin.iterations, "dt_last_s": llg.dt}
    res["spin_over_stray"] = round(res["spin_s"] / res["stray_field_s"], 3)
    if comm.rank == 0:
        print("RESULT " + json.dumps(res), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--h", type=float, nargs="+", default=[10e-9], help="cell sizes in the layers [m]")
    ap.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--model", nargs="+", default=["diffusion"], choices=["diffusion", "moment"])
    ap.add_argument("--mesh-dir", default=str(ROOT / "meshes"))
    ap.add_argument("--worker", type=float, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--worker-model", default="diffusion", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker is not None:
        worker(a.worker, a.steps, a.warmup, a.worker_model, Path(a.mesh_dir))
        return
    for h in a.h:
        for model in a.model:
            times = {}
            for n in a.ranks:
                times[n] = run_worker(__file__, n, ["--worker", repr(h), "--worker-model", model, "--steps", a.steps,
                                                    "--warmup", a.warmup, "--mesh-dir", a.mesh_dir])["step_s"]
            if 1 in times and 2 in times:
                print(json.dumps({"benchmark": "spin_valve", "h_nm": h * 1e9, "model": model,
                                  "speedup_2_over_1": round(times[1] / times[2], 3)}), flush=True)


if __name__ == "__main__":
    main()
