"""muMAG SP4 (field 1 or 2) with fem_stt, and optionally magnum.np, measured in one run.

Prints one JSON object for fem_stt with ``field``, ``h_nm``, ``dofs``, ``ranks``,
``crossing_ps`` (first zero of <mx>), ``wall_s_1ns`` (integration wall time scaled to
1 ns), the S-state, the <my> RMS difference to OOMMF and the time split (stray field,
with its FEM and BEM parts for FEM-BEM, assembly = tangent basis + PtAP + right-hand side,
linear solve, update). Default: FEM-BEM on the film alone, 5 nm cells, 2.5 nm at the edges. With
``--compare`` it then runs magnum.np (PyPI ``magnumnp`` on CPU, 2 threads, in the separate
environment benchmarks/.peer-venv made from /usr/bin/python3 with ``torch==2.13.0``
installed first) at 128 x 32 x 1 cells and prints ``peer_wall_s_1ns`` and ``ratio`` =
ours / peer. The two run one after the other with the machine otherwise idle (the MPI
ranks have exited), so the ratio compares like with like on a shared machine.

Run:  python benchmarks/sp4.py [--field 1] [--h 5e-9] [--edge 2.5e-9] [--open-boundary fembem]
          [--t-end 1e-9] [--ranks 2] [--compare]
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


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--field", type=int, default=1, choices=(1, 2))
    ap.add_argument("--h", type=float, default=5e-9, help="cell size in the film [m]")
    ap.add_argument("--t-end", type=float, default=1e-9)
    ap.add_argument("--dt-max", type=float, default=1e-12)
    ap.add_argument("--edge", type=float, default=None, help="cell size near the film's edges [m] (default h/2)")
    ap.add_argument("--open-boundary", default="fembem", choices=("fembem", "shell"))
    ap.add_argument("--max-rotation", type=float, default=0.05)
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--compare", action="store_true", help="also run magnum.np (field 1) and print the ratio")
    a = ap.parse_args()
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = Path(tempfile.mkdtemp(prefix="sp4_bench_", dir=ROOT / "results" if (ROOT / "results").is_dir() else None))
    cmd = ["mpirun", "-n", str(a.ranks), sys.executable, str(ROOT / "demos" / "standard_problem_4.py"),
           "--field", str(a.field), "--mesh-size", repr(a.h), "--t-end", repr(a.t_end), "--dt-max", repr(a.dt_max),
           "--open-boundary", a.open_boundary, "--max-rotation", repr(a.max_rotation),
           "--output", str(out), "--overwrite"] + (["--edge-size", repr(a.edge)] if a.edge is not None else [])
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        sys.stderr.write(p.stdout[-3000:] + p.stderr[-3000:])
        raise SystemExit(p.returncode)
    s = json.loads((out / "summary.json").read_text())
    ours = {"benchmark": "sp4", "field": a.field, "h_nm": a.h * 1e9, "edge_nm": s.get("edge_nm"),
            "open_boundary": s.get("open_boundary"), "dofs": s["dofs"], "ranks": s["ranks"],
            "crossing_ps": s.get("crossing_ps"), "crossing_my_ps": s.get("crossing_my_ps"),
            "my_rms_vs_oommf_0_0.3ns": s.get("my_rms_vs_oommf_0_0.3ns"), "S_state": s["S_state"],
            "steps": s["steps"], "rejected": s.get("rejected"), "t_end_s": a.t_end, "wall_s_1ns": s["wall_s_1ns"],
            "setup_s": s.get("setup_s"), "relax_s": s["relax_s"],
            "time_split_s": s["time_split_s"], "output": str(out)}
    print(json.dumps(ours), flush=True)
    if a.compare and a.field == 1:
        py = ensure_peer_env()
        p = subprocess.run([str(py), str(ROOT / "benchmarks" / "peer_magnumnp_sp4.py"), "128", "32", repr(a.t_end)],
                           capture_output=True, text=True)
        lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
        if p.returncode != 0 or not lines:
            sys.stderr.write(p.stdout[-2000:] + p.stderr[-2000:])
            raise SystemExit(1)
        peer = json.loads(lines[-1])
        peer["ratio"] = ours["wall_s_1ns"] / peer["peer_wall_s_1ns"]
        print(json.dumps(peer), flush=True)


if __name__ == "__main__":
    main()
