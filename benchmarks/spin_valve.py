"""Cost and accuracy of the coupled time loop (LLG + stray field + spin transport) on the seed device.

Three measurements, each one JSON line per configuration (run them in one go so that the ratios
compare like with like on a shared machine):

``speed`` (default): from the relaxed AP state of the main demo (FM1 pinned at 30 degrees, FM2 along
-x), the current is switched on and the coupled dynamics run for ``--t-sim`` simulated seconds.
Reported: ``dofs`` (m: 3 x magnetic vertices; s: 3 x conducting vertices; stray field: FEM-BEM
potential dofs and boundary vertices, or the P2 shell potential), ``steps``, ``rejected``,
``field_evaluations``, ``steps_per_ns``, ``wall_per_ns_s`` (wall time per simulated ns),
``cpu_per_ns_s`` (CPU time of rank 0 per simulated ns: less sensitive to other load) and the
per-step split ``stray_field_s``, ``spin_s`` (assembly + GMRES), ``llg_s`` (tangent-plane
assembly, solve, update). Configurations:

- ``new``: the defaults of the demo (film stack without air, FEM-BEM stray field, error-controlled
  steps with ``--tolerance``), for ``--models`` (diffusion, moment with kappa = 1);
- ``legacy`` (``--legacy``): the configuration measured before issue 11 (air + transformed shell,
  P2 potential, steps capped at 0.1 rad, dt_max 2 ps), diffusion model; the spin-transport
  assembly improvements of the same issue apply to both. The figure recorded before any change
  (356 s per simulated ns, 2 ranks, 2,033 steps; ``benchmarks/results/spin_valve_2026-11-21.jsonl``
  and issue 11) is printed for reference.

``accuracy`` (``--accuracy``): two runs at ``--tolerance`` and at tolerance/64 (steps ~4x smaller,
the order-2 local error scaling as k^3): (a) the speed run's configuration over ``--t-max``: the
largest difference of <m_x>_FM2(t), sampled every 5 ps; (b) the main demo's switching run (seed
protocol: FM1 relaxed from a random texture, FM2 +x, both free; a 0.5 ns pulse of 6e12 A/m^2):
FM2's switching time, the first time <m_x>_FM2 <= -0.5, located to 0.1 ps by interpolation
between steps, and its relative difference between the two tolerances.

``repeat`` (``--repeat``): the same 2-rank run twice (relaxation + ``--t-sim``): the relaxed states
and <m>(t) must agree to round-off (the mesh is distributed by coordinate bisection, not by SCOTCH).

Run:  python benchmarks/spin_valve.py [--ranks 2] [--t-sim 2e-10] [--legacy] [--accuracy] [--repeat]
          [--models diffusion moment] [--tolerance 2e-3] [--current-density 6e12]
"""
import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _mpi import ROOT, run_worker  # noqa: E402

RECORDED_LEGACY_S_PER_NS = 356.0  # issue 11: 2 ranks, 10 nm cells, quiet machine, before any change


def build(h, legacy, model, tolerance, j, mesh_dir, comm):
    import numpy as np

    from fem_stt.geometry import seed_device
    from fem_stt.simulation import Simulation
    from fem_stt.spin import SEED_DEVICE_TRANSPORT
    if legacy:
        st = seed_device(mesh_size=h, ferromagnet="Py_stt")
        llg_opts = dict(order=2, dt=1e-13, dt_max=2e-12, max_rotation=0.1)
        path = mesh_dir / f"seed_device_stt_h{h * 1e9:g}nm.msh"
    else:
        st = seed_device(mesh_size=h, ferromagnet="Py_stt", surrounding=None, name="seed_device_film")
        llg_opts = dict(order=2, dt=1e-13, dt_max=1e-11, max_rotation=0.3, tolerance=tolerance)
        path = mesh_dir / f"seed_device_film_h{h * 1e9:g}nm.msh"
    domain = st.mesh(path=path, comm=comm)
    m1 = (np.cos(np.radians(30.0)), np.sin(np.radians(30.0)), 0.0)
    sim = Simulation(domain, {"FM1": m1, "FM2": (-1, 0, 0)}, transport=SEED_DEVICE_TRANSPORT,
                     current_density=(0.0, 0.0, -j), transport_model=model, kappa=1.0,
                     llg_options=dict(llg_opts, fixed=("FM1",)))
    return domain, sim


def switching_accuracy(a, comm):
    """The demo's switching run at tolerance and tolerance/64: first time <m_x>_FM2 <= -0.5."""
    import numpy as np

    from fem_stt.geometry import seed_device
    from fem_stt.llg.initial import random_magnetization
    from fem_stt.simulation import Simulation
    from fem_stt.spin import SEED_DEVICE_TRANSPORT
    st = seed_device(mesh_size=a.h, ferromagnet="Py_stt", surrounding=None, name="seed_device_film")
    domain = st.mesh(path=Path(a.mesh_dir) / f"seed_device_film_h{a.h * 1e9:g}nm.msh", comm=comm)
    rnd = random_magnetization(seed=2, correlation_length=40e-9)

    def m0(x):
        v = rnd(x)
        v[:, x[2] > 220e-9 - 1e-12] = np.array([[1.0], [0.0], [0.0]])
        return v
    j, pulse, ramp = 6e12, 0.5e-9, 10e-12
    res = {}
    for label, tol in (("tol", a.tolerance), ("tol_over_64", a.tolerance / 64)):
        sim = Simulation(domain, m0, transport=SEED_DEVICE_TRANSPORT,
                         current_density=lambda t: (0.0, 0.0, -j * min(max((pulse + ramp - t) / ramp, 0.0), 1.0)),
                         transport_model=a.worker_model, kappa=1.0,
                         llg_options=dict(order=2, dt=1e-13, dt_max=1e-11, max_rotation=0.3, tolerance=tol))
        sim.relax(tol=50.0, max_iterations=3000)
        llg = sim.llg
        t_prev, x_prev, t_sw = llg.t, float(llg.average("FM2")[0]), None
        while llg.t < 1e-9 and t_sw is None:
            llg.step()
            x = float(llg.average("FM2")[0])
            if x <= -0.5:
                t_sw = t_prev + (llg.t - t_prev) * (x_prev + 0.5) / (x_prev - x)
            t_prev, x_prev = llg.t, x
        res[f"switch_{label}_s"] = t_sw
        res[f"switch_{label}_steps"] = llg.step_count
    if res["switch_tol_s"] and res["switch_tol_over_64_s"]:
        res["switch_time_rel_diff"] = abs(res["switch_tol_s"] / res["switch_tol_over_64_s"] - 1)
    return res


def worker(a):
    from mpi4py import MPI
    comm = MPI.COMM_WORLD
    domain, sim = build(a.h, a.worker == "legacy", a.worker_model, a.tolerance, a.current_density,
                        Path(a.mesh_dir), comm)
    llg = sim.llg
    t0 = time.perf_counter()
    relax = sim.relax(tol=a.relax_tol, max_iterations=2000)
    t_relax = time.perf_counter() - t0
    m_relaxed = llg.average("FM2")
    if a.worker == "accuracy":
        out = {}
        state0 = llg.get_state()
        sw = switching_accuracy(a, comm)
        for label, tol in (("tol", a.tolerance), ("tol_over_64", a.tolerance / 64)):
            llg.set_state(state0)
            llg.tolerance = tol
            llg.dt = 1e-13
            traj, t_sw = [], None
            while llg.t < a.t_max * (1 - 1e-12):
                llg.advance(min(llg.t + 5e-12, a.t_max))
                mx = float(llg.average("FM2")[0])
                traj.append((llg.t, mx))
                if mx > 0.8 and t_sw is None:
                    t_sw = llg.t
            out[label] = {"tolerance": tol, "switch_time_s": t_sw, "steps": llg.step_count, "traj": traj}
        import numpy as np
        ta, xa = np.array(out["tol"]["traj"]).T
        tb, xb = np.array(out["tol_over_64"]["traj"]).T
        tt = np.linspace(0, min(ta[-1], tb[-1]), 400)
        res = {"benchmark": "spin_valve_accuracy", "h_nm": a.h * 1e9, "ranks": comm.size, "model": a.worker_model,
               "current_density_A_per_m2": a.current_density,
               **{f"{k}_{q}": v[q] for k, v in out.items() for q in ("tolerance", "switch_time_s", "steps")},
               "max_abs_diff_mx_FM2": float(np.max(np.abs(np.interp(tt, ta, xa) - np.interp(tt, tb, xb))))}
        res.update(sw)
        if comm.rank == 0:
            print("RESULT " + json.dumps(res), flush=True)
        return
    tim0, spin0 = dict(llg.timings), dict(sim.spin.timings)
    s0, r0, f0 = llg.step_count, llg.rejected, llg.field_evaluations
    samples = []
    comm.barrier()
    w0, c0 = time.perf_counter(), time.process_time()
    t_start = llg.t
    while llg.t < t_start + a.t_sim * (1 - 1e-12):
        llg.advance(min(llg.t + 1e-11, t_start + a.t_sim))
        samples.append([llg.t - t_start, *llg.average("FM2").tolist()])
    comm.barrier()
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    steps = llg.step_count - s0
    d = {k: (llg.timings[k] - tim0.get(k, 0.0)) / steps for k in llg.timings}
    mv = llg.mv
    n_mag = int(mv.owned_sum(mv.active.astype(float)))
    n_cond = int(mv.owned_sum(sim.spin._active[: mv.n_local].astype(float)))
    st = llg.stray
    stray_dofs = {"P2_shell_potential": st.num_dofs} if llg.demag_method == "shell" else {
        "fembem_potential": int(st.V.dofmap.index_map.size_global), "fembem_boundary_vertices": st.num_boundary_nodes}
    per_ns = 1e-9 / a.t_sim
    res = {"benchmark": "spin_valve", "config": a.worker, "h_nm": a.h * 1e9, "ranks": comm.size,
           "model": a.worker_model, "current_density_A_per_m2": a.current_density,
           "tolerance": llg.tolerance, "demag_method": llg.demag_method,
           "dofs": {"m": 3 * n_mag, "s": 3 * n_cond, **stray_dofs}, "cells": domain.num_cells_global(),
           "relax_iterations": relax["iterations"], "relax_s": round(t_relax, 2), "m_FM2_relaxed": m_relaxed.tolist(),
           "t_sim_s": a.t_sim, "steps": steps, "rejected": llg.rejected - r0, "field_evaluations": llg.field_evaluations - f0,
           "steps_per_ns": round(steps * per_ns, 1), "wall_per_ns_s": round(wall * per_ns, 2),
           "cpu_per_ns_s": round(cpu * per_ns, 2),
           "per_step_s": {"total": round(wall / steps, 4), "stray_field": round(d["stray_field"], 4),
                          "spin": round(d.get("spin_transport", 0.0), 4),
                          "spin_assembly": round((sim.spin.timings["assembly"] - spin0["assembly"]) / steps, 4),
                          "spin_solve": round((sim.spin.timings["solve"] - spin0["solve"]) / steps, 4),
                          "llg": round(d["assembly"] + d["linear_solve"] + d["update"], 4)},
           "m_FM2_end": llg.average("FM2").tolist(), "samples": samples}
    if comm.rank == 0:
        print("RESULT " + json.dumps(res), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--h", type=float, default=10e-9, help="cell size [m]")
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--t-sim", type=float, default=2e-10, help="simulated time per speed run [s]")
    ap.add_argument("--t-max", type=float, default=3e-10, help="simulated time of the --accuracy runs [s]")
    ap.add_argument("--current-density", type=float, default=6e12, help="|j_e| [A/m^2], electrons FM1 -> FM2")
    ap.add_argument("--tolerance", type=float, default=2e-3, help="LLG local error tolerance of the new configuration")
    ap.add_argument("--relax-tol", type=float, default=10.0, help="relaxation stop: max |m x H| [A/m]")
    ap.add_argument("--models", nargs="+", default=["diffusion", "moment"], choices=["diffusion", "moment"])
    ap.add_argument("--legacy", action="store_true", help="also the pre-issue-11 configuration (shell, 0.1 rad cap)")
    ap.add_argument("--accuracy", action="store_true", help="switching time at tolerance vs tolerance/64")
    ap.add_argument("--repeat", action="store_true", help="the 2-rank speed run twice: identical results?")
    ap.add_argument("--mesh-dir", default=str(ROOT / "meshes"))
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--worker-model", default="diffusion", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker is not None:
        worker(a)
        return
    common = ["--h", a.h, "--t-sim", a.t_sim, "--t-max", a.t_max, "--current-density", a.current_density,
              "--tolerance", a.tolerance, "--relax-tol", a.relax_tol, "--mesh-dir", a.mesh_dir]
    res = {}
    for model in a.models:
        res[model] = run_worker(__file__, a.ranks, common + ["--worker", "new", "--worker-model", model])
    if a.legacy:
        res["legacy"] = run_worker(__file__, a.ranks, common + ["--worker", "legacy", "--worker-model", "diffusion"])
    summary = {"benchmark": "spin_valve_summary", "ranks": a.ranks, "recorded_legacy_wall_per_ns_s": RECORDED_LEGACY_S_PER_NS}
    if "diffusion" in res:
        summary["speedup_vs_recorded"] = round(RECORDED_LEGACY_S_PER_NS / res["diffusion"]["wall_per_ns_s"], 2)
        if "legacy" in res:
            summary["speedup_vs_legacy_same_run_wall"] = round(res["legacy"]["wall_per_ns_s"] / res["diffusion"]["wall_per_ns_s"], 2)
            summary["speedup_vs_legacy_same_run_cpu"] = round(res["legacy"]["cpu_per_ns_s"] / res["diffusion"]["cpu_per_ns_s"], 2)
        if "moment" in res:
            summary["moment_over_diffusion_wall"] = round(res["moment"]["wall_per_ns_s"] / res["diffusion"]["wall_per_ns_s"], 3)
            summary["moment_over_diffusion_cpu"] = round(res["moment"]["cpu_per_ns_s"] / res["diffusion"]["cpu_per_ns_s"], 3)
    print(json.dumps(summary), flush=True)
    if a.repeat:
        r2 = run_worker(__file__, a.ranks, common + ["--worker", "new", "--worker-model", a.models[0]])
        r1 = res[a.models[0]]
        import numpy as np
        s1, s2 = np.array(r1["samples"]), np.array(r2["samples"])
        n = min(len(s1), len(s2))
        print(json.dumps({"benchmark": "spin_valve_repeat", "ranks": a.ranks, "model": a.models[0],
                          "relax_iterations": [r1["relax_iterations"], r2["relax_iterations"]],
                          "relaxed_m_FM2_max_diff": float(np.max(np.abs(np.subtract(r1["m_FM2_relaxed"], r2["m_FM2_relaxed"])))),
                          "m_FM2_t_max_diff": float(np.max(np.abs(s1[:n] - s2[:n]))), "samples_compared": n}), flush=True)
    if a.accuracy:
        run_worker(__file__, a.ranks, common + ["--worker", "accuracy", "--worker-model", a.models[0]])


if __name__ == "__main__":
    main()
