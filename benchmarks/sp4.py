"""muMAG SP4 (field 1 or 2) with fem_stt, and optionally magnum.np, measured in one run.

Prints one JSON object for fem_stt with ``field``, ``h_nm``, ``dofs``, ``ranks``,
``crossing_ps`` (first zero of <mx>), ``wall_s_1ns`` (integration wall time scaled to
1 ns), ``whole_process_s_1ns`` (setup + relaxation + 1 ns), steps, rejected steps and field
evaluations (stray-field solves of the time loop; energies excluded), the relaxation's
iterations and field evaluations, the S-state, the <my> RMS difference to OOMMF and the time split (stray field,
with its FEM and BEM parts for FEM-BEM, assembly = tangent basis + R = P^T K P + right-hand side,
linear solve, update). Default: the demo's (FEM-BEM on the film alone, 5 nm cells, 2.5 nm at the edges,
extruded in 3 cells through the thickness, m uniform through it: LLG ``thin_film``). With
``--compare`` it then runs magnum.np (PyPI ``magnumnp`` on CPU, 2 threads, in the separate
environment benchmarks/.peer-venv made from /usr/bin/python3 with ``torch==2.13.0``
installed first) at 128 x 32 x 1 cells (RKF45, tolerance 1e-5) and prints
``peer_wall_s_1ns``, ``peer_whole_s`` (setup + relaxation + integration), ``ratio`` = ours / peer
(dynamics) and ``ratio_whole``. The two run one after the other with the machine otherwise idle (the MPI
ranks have exited), so the ratio compares like with like on a shared machine. ``--repeat N``
runs N such pairs (which code goes first alternates from pair to pair) and ends with a
``sp4_repeat`` row: every pair's ratios, their medians and how many pairs meet the 1.5x
(dynamics) and 2x (whole process) targets. One pair is not a verdict on this machine: magnum.np's
own time has scattered 18-44 s/ns between runs of one day.

``--halving TOL`` instead runs in this process (no MPI): one setup and relaxation, then field 1
for ``--halving-t-end`` (0.16 ns) from the same S-state with the rotation rule, TOL and TOL/2,
and prints steps, rejected steps, field evaluations, CPU time and the <mx> crossing of each
(the check that halving the tolerance moves the crossing by far less than the 1 ps target).

Run:  python benchmarks/sp4.py [--field 1] [--h 5e-9] [--edge 2.5e-9] [--open-boundary fembem]
          [--t-end 1e-9] [--ranks 2] [--tolerance 5e-4] [--relax-method pbb] [--compare [--repeat 5]]
      python benchmarks/sp4.py --halving 1e-3
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PEER_VENV = ROOT / "benchmarks" / ".peer-venv"


def ensure_peer_env():
    py = PEER_VENV / "bin" / "python"
    ok = py.exists() and subprocess.run([str(py), "-c", "import magnumnp, torch"], capture_output=True).returncode == 0
    if not ok:
        subprocess.run(["/usr/bin/python3", "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", "torch==2.13.0"], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", "magnumnp"], check=True)
    return py


def halving(tol, h=5e-9, edge=None, t_end=0.16e-9, field=1, cells_along_z=None, thin_film=None):
    """The tolerance-halving study (module docstring) on the demo's mesh (``cells_along_z`` None: the
    demo's default, 0: unstructured; ``thin_film`` None: on for an extruded mesh); returns a list of
    dicts, one per run."""
    import time

    import numpy as np

    from fem_stt.constants import MU0
    from fem_stt.llg import LLG
    from fem_stt.validation import SP4_FIELDS_mT, first_zero_crossing, sp4_domain, sp4_initial_state, sp4_mesh_options
    edge = h / 2 if edge is None else edge
    nz, thin_film = sp4_mesh_options(cells_along_z, thin_film)
    dom = sp4_domain(h, mesh_dir=ROOT / "meshes", edge_size=edge or None, cells_along_z=nz)
    llg = LLG(dom, sp4_initial_state, demag=True, demag_method="fembem", order=2, thin_film=thin_film)
    c0 = time.process_time()
    rel = llg.relax(tol=20.0, method="pbb")
    relax_cpu = time.process_time() - c0
    m0, s_state = llg.m_array.copy(), llg.average().tolist()
    llg.set_external_field(np.asarray(SP4_FIELDS_mT[field]) * 1e-3 / MU0)
    out = []
    for t in (None, tol, tol / 2):
        llg.set_state({"m": m0, "history": [], "u": None, "t": 0.0, "dt": 1e-13, "step": 0, "rejected": 0})
        llg.tolerance, llg.dt_max, llg.max_rotation = t, (1e-11 if t else 1e-12), (0.2 if t else 0.05)
        ts, mx = [0.0], [llg.average()[0]]
        fe0, c0 = llg.field_evaluations, time.process_time()
        llg.advance(t_end, lambda s: (ts.append(s.t), mx.append(s.average()[0])))
        out.append({"benchmark": "sp4_halving", "field": field, "h_nm": h * 1e9, "edge_nm": edge * 1e9,
                    "cells_along_z": nz, "thin_film": thin_film,
                    "ranks": llg.comm.size, "S_state": s_state, "relax_iterations": rel["iterations"],
                    "relax_cpu_s": relax_cpu, "tolerance": t, "dt_max_s": llg.dt_max, "t_end_s": t_end,
                    "steps": llg.step_count, "rejected": llg.rejected, "field_evaluations": llg.field_evaluations - fe0,
                    "cpu_s": time.process_time() - c0,
                    "crossing_ps": first_zero_crossing(np.array(ts), np.array(mx)) * 1e12,
                    "m_end": llg.average().tolist()})
    out[2]["crossing_change_on_halving_ps"] = out[2]["crossing_ps"] - out[1]["crossing_ps"]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--field", type=int, default=1, choices=(1, 2))
    ap.add_argument("--h", type=float, default=5e-9, help="cell size in the film [m]")
    ap.add_argument("--t-end", type=float, default=1e-9)
    ap.add_argument("--dt-max", type=float, default=None, help="[s] (default 1e-11 with a tolerance, 1e-12 without)")
    ap.add_argument("--tolerance", type=float, default=5e-4, help="local error per step (0: rotation rule)")
    ap.add_argument("--relax-method", default="pbb", choices=("pbb", "bb", "damping"))
    ap.add_argument("--halving", type=float, default=None, metavar="TOL", help="run the tolerance-halving study")
    ap.add_argument("--halving-t-end", type=float, default=0.16e-9)
    ap.add_argument("--edge", type=float, default=None, help="cell size near the film's edges [m] (default h/2)")
    ap.add_argument("--open-boundary", default="fembem", choices=("fembem", "shell"))
    ap.add_argument("--cells-along-z", type=int, default=None,
                    help="extruded film with N cells across, 0: unstructured (demo default if unset)")
    ap.add_argument("--thin-film", action=argparse.BooleanOptionalAction, default=None,
                    help="m uniform through the thickness (demo default if unset: on for an extruded mesh)")
    ap.add_argument("--max-rotation", type=float, default=None)
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--compare", action="store_true", help="also run magnum.np (field 1) and print the ratio")
    ap.add_argument("--repeat", type=int, default=1, metavar="N",
                    help="with --compare: N pairs of runs, alternating which code runs first, and a summary row")
    a = ap.parse_args()
    if a.halving is not None:
        for row in halving(a.halving, a.h, a.edge, a.halving_t_end, a.field, a.cells_along_z, a.thin_film):
            print(json.dumps(row), flush=True)
        return
    if a.repeat < 1:
        raise SystemExit("--repeat must be >= 1")
    if a.repeat > 1 and not (a.compare and a.field == 1):
        raise SystemExit("--repeat needs --compare (field 1)")
    pairs = []
    for i in range(a.repeat):
        # alternate the order, so that a drift of the shared machine's speed favours neither code
        first_peer = a.compare and a.field == 1 and i % 2 == 1
        peer = run_peer(a) if first_peer else None
        ours = run_ours(a)
        print(json.dumps(ours), flush=True)
        if a.compare and a.field == 1:
            peer = peer or run_peer(a)
            peer["ratio"] = ours["wall_s_1ns"] / peer["peer_wall_s_1ns"]
            if "peer_whole_s" in peer and ours["whole_process_s_1ns"]:
                peer["ratio_whole"] = ours["whole_process_s_1ns"] / (peer["peer_whole_s"] - peer["peer_wall_s"]
                                                                     + peer["peer_wall_s_1ns"])
            peer["pair"], peer["peer_ran_first"] = i, first_peer
            print(json.dumps(peer), flush=True)
            pairs.append((ours, peer))
    if a.repeat > 1:
        import numpy as np
        r = np.array([p["ratio"] for _, p in pairs])
        rw = np.array([p.get("ratio_whole", np.nan) for _, p in pairs])
        print(json.dumps({
            "benchmark": "sp4_repeat", "pairs": a.repeat,
            "wall_s_1ns": [o["wall_s_1ns"] for o, _ in pairs],
            "peer_wall_s_1ns": [p["peer_wall_s_1ns"] for _, p in pairs],
            "ratio": r.tolist(), "ratio_median": float(np.median(r)),
            "ratio_median_of_medians": float(np.median([o["wall_s_1ns"] for o, _ in pairs])
                                             / np.median([p["peer_wall_s_1ns"] for _, p in pairs])),
            "pairs_within_1.5": int((r <= 1.5).sum()),
            "ratio_whole": rw.tolist(), "ratio_whole_median": float(np.median(rw)),
            "pairs_whole_within_2": int((rw <= 2.0).sum())}), flush=True)


def run_ours(a):
    """fem_stt's run (mpirun of the SP4 demo); returns its JSON row."""
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = Path(tempfile.mkdtemp(prefix="sp4_bench_", dir=ROOT / "results" if (ROOT / "results").is_dir() else None))
    cmd = ["mpirun", "-n", str(a.ranks), sys.executable, str(ROOT / "demos" / "standard_problem_4.py"),
           "--field", str(a.field), "--mesh-size", repr(a.h), "--t-end", repr(a.t_end),
           "--open-boundary", a.open_boundary, "--tolerance", repr(a.tolerance), "--relax-method", a.relax_method,
           "--output", str(out), "--overwrite"] + (["--edge-size", repr(a.edge)] if a.edge is not None else []) + \
        (["--dt-max", repr(a.dt_max)] if a.dt_max is not None else []) + \
        (["--max-rotation", repr(a.max_rotation)] if a.max_rotation is not None else []) + \
        (["--cells-along-z", str(a.cells_along_z)] if a.cells_along_z is not None else []) + \
        ([] if a.thin_film is None else ["--thin-film" if a.thin_film else "--no-thin-film"])
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        sys.stderr.write(p.stdout[-3000:] + p.stderr[-3000:])
        raise SystemExit(p.returncode)
    s = json.loads((out / "summary.json").read_text())
    return {"benchmark": "sp4", "field": a.field, "h_nm": a.h * 1e9, "edge_nm": s.get("edge_nm"),
            "cells_along_z": s.get("cells_along_z"), "thin_film": s.get("thin_film"),
            "open_boundary": s.get("open_boundary"), "dofs": s["dofs"], "ranks": s["ranks"],
            "crossing_ps": s.get("crossing_ps"), "crossing_my_ps": s.get("crossing_my_ps"),
            "my_rms_vs_oommf_0_0.3ns": s.get("my_rms_vs_oommf_0_0.3ns"), "S_state": s["S_state"],
            "tolerance": s.get("tolerance"), "dt_max_s": s.get("dt_max_s"), "steps": s["steps"],
            "rejected": s.get("rejected"), "field_evaluations": s.get("field_evaluations"), "t_end_s": a.t_end,
            "wall_s_1ns": s["wall_s_1ns"], "setup_s": s.get("setup_s"), "relax_s": s["relax_s"],
            "relax_method": s.get("relax_method"), "relax_iterations": s.get("relax_iterations"),
            "relax_field_evaluations": s.get("relax_field_evaluations"),
            "whole_process_s_1ns": s.get("whole_process_s_1ns"),
            "time_split_s": s["time_split_s"], "output": str(out)}


def run_peer(a):
    """magnum.np's run (field 1, 128 x 32 x 1 cells, 2 threads); returns its JSON row."""
    py = ensure_peer_env()
    p = subprocess.run([str(py), str(ROOT / "benchmarks" / "peer_magnumnp_sp4.py"), "128", "32", repr(a.t_end)],
                       capture_output=True, text=True)
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if p.returncode != 0 or not lines:
        sys.stderr.write(p.stdout[-2000:] + p.stderr[-2000:])
        raise SystemExit(1)
    return json.loads(lines[-1])


if __name__ == "__main__":
    main()
