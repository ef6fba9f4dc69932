"""muMAG SP4 (field 1 or 2) with fem_stt, and optionally magnum.np side by side.

Prints one JSON object per run with ``field``, ``h_nm``, ``dofs``, ``ranks``,
``crossing_ps`` (first zero of <mx>), ``wall_s_1ns`` (integration wall time scaled to
1 ns), the S-state and the time split (stray field, assembly, linear solve, update).
With ``--compare`` it also runs magnum.np (PyPI ``magnumnp`` on CPU, in the separate
environment benchmarks/.peer-venv made from /usr/bin/python3 with ``torch==2.13.0``
installed first) at 128 x 32 x 1 cells and prints ``peer_wall_s_1ns`` and
``ratio`` = ours / peer, measured in the same run (the machine is shared: compare ratios).

Run:  mpirun -n 2 python benchmarks/sp4.py [--field 1] [--h 5e-9] [--t-end 1e-9] [--compare]
"""
import argparse
import json
import subprocess
import sys
from pathlib import Path

from mpi4py import MPI

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
    ap.add_argument("--compare", action="store_true", help="also run magnum.np and print the ratio")
    a = ap.parse_args()
    comm = MPI.COMM_WORLD
    sys.path.insert(0, str(ROOT / "demos"))
    from standard_problem_4 import run_sp4
    from fem_stt.io import setup_logging
    setup_logging()
    s = run_sp4(a.field, a.h, a.t_end, output=None, dt_max=a.dt_max, plot=True)
    ours = {"benchmark": "sp4", "field": a.field, "h_nm": a.h * 1e9, "dofs": s["dofs"], "ranks": comm.size,
            "crossing_ps": s.get("crossing_ps"), "crossing_my_ps": s.get("crossing_my_ps"),
            "my_rms_vs_oommf_0_0.3ns": s.get("my_rms_vs_oommf_0_0.3ns"), "S_state": s["S_state"],
            "steps": s["steps"], "t_end_s": a.t_end, "wall_s_1ns": s["wall_s_1ns"], "relax_s": s["relax_s"],
            "time_split_s": s["time_split_s"]}
    if comm.rank == 0:
        print(json.dumps(ours), flush=True)
    if a.compare and a.field == 1:
        peer = None
        if comm.rank == 0:
            py = ensure_peer_env()
            p = subprocess.run([str(py), str(ROOT / "benchmarks" / "peer_magnumnp_sp4.py"), "128", "32", str(a.t_end)],
                               capture_output=True, text=True)
            lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
            if p.returncode != 0 or not lines:
                sys.stderr.write(p.stdout[-2000:] + p.stderr[-2000:])
            else:
                peer = json.loads(lines[-1])
                peer["ratio"] = ours["wall_s_1ns"] / peer["peer_wall_s_1ns"]
                print(json.dumps(peer), flush=True)
        comm.barrier()


if __name__ == "__main__":
    main()
