"""muMAG SP5 (Zhang-Li current-driven vortex) with fem_stt, and optionally magnum.np, in one run.

For each cell size in ``--h`` it runs demos/standard_problem_5.py under mpirun and prints one
JSON line: ``h_nm``, ``ranks``, ``dofs``, ``m_1ns`` and ``m_1ns_minus_mumax3`` (mumax3's
regression value (-0.23480, -0.09454, 0.02296), 32 x 32 x 4 cells), ``mx_min``/``mx_max`` over the
run and whether they are within the published bounds (-0.35 < min <m_x> < -0.30,
-0.03 < max <m_x> < 0; judged only for t_end = 8 ns), ``steps``, ``wall_s``, ``cpu_s_all_ranks``
(process time summed over the ranks, integration only) and the time split. With ``--compare`` it
then runs magnum.np (PyPI ``magnumnp`` 2.2.0 on CPU, 1 thread, in the separate environment
benchmarks/.peer-venv (python3 on PATH, here 3.11) with ``torch==2.13.0``; benchmarks/peer_magnumnp_sp5.py) at
``--peer-cells`` and prints its line with ``m_1ns_minus_mumax3`` and the differences of the traces
(RMS and max over the run); ``--plot PATH`` draws both <m>(t) (last fem_stt run) in one PNG.
The runs follow one another (no overlap), so the timings compare like with like.

Run:  python benchmarks/sp5.py [--h 2.5e-9 ...] [--t-end 8e-9] [--ranks 2] [--compare]
          [--peer-cells 32 32 4] [--plot docs/images/sp5.png]
"""
import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "demos"))
PEER_VENV = ROOT / "benchmarks" / ".peer-venv"
M_1NS_MUMAX3 = (-0.23480, -0.09454, 0.02296)  # = fem_stt.validation.SP5_M_1NS_MUMAX3


def ensure_peer_env():
    py = PEER_VENV / "bin" / "python"
    ok = py.exists() and subprocess.run([str(py), "-c", "import magnumnp, torch"], capture_output=True).returncode == 0
    if not ok:
        subprocess.run([shutil.which("python3"), "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", "torch==2.13.0", "magnumnp==2.2.0"], check=True)
    return py


def read_trace(path):
    rows = list(csv.reader(open(path)))
    head, a = rows[0], np.array([[float(v) for v in r] for r in rows[1:]])
    return head, a


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--h", type=float, nargs="+", default=[2.5e-9], help="cell sizes in the film [m]")
    ap.add_argument("--t-end", type=float, default=8e-9)
    ap.add_argument("--tolerance", type=float, default=1e-4)
    ap.add_argument("--u-convention", default="spec", choices=("spec", "mumax3"))
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--compare", action="store_true", help="also run magnum.np")
    ap.add_argument("--peer-cells", type=int, nargs=3, default=[32, 32, 4])
    ap.add_argument("--plot", default=None, help="PNG of <m>(t), fem_stt (last --h) and magnum.np")
    a = ap.parse_args()
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    base = ROOT / "results" if (ROOT / "results").is_dir() else None
    out = None
    for h in a.h:
        out = Path(tempfile.mkdtemp(prefix=f"sp5_h{h * 1e9:g}nm_", dir=base))
        cmd = ["mpirun", "-n", str(a.ranks), sys.executable, str(ROOT / "demos" / "standard_problem_5.py"),
               "--mesh-size", repr(h), "--t-end", repr(a.t_end), "--tolerance", repr(a.tolerance),
               "--u-convention", a.u_convention, "--output", str(out), "--overwrite"]
        p = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if p.returncode != 0:
            sys.stderr.write(p.stdout[-3000:] + p.stderr[-3000:])
            raise SystemExit(p.returncode)
        s = json.loads((out / "summary.json").read_text())
        keys = ("h_nm", "ranks", "dofs", "u_convention", "u_m_per_s", "tolerance", "relaxed_m", "relaxed_core_nm",
                "m_1ns", "m_1ns_mumax3", "m_1ns_minus_mumax3", "m_1ns_max_abs_diff", "mx_min", "t_mx_min_ns",
                "mx_max", "mx_min_within_bounds", "mx_max_within_bounds", "final_m", "final_core_nm", "t_end_s",
                "steps", "steps_1ns", "rejected", "setup_s", "relax_s", "wall_s", "cpu_s_rank0", "cpu_s_all_ranks",
                "time_split_s")
        print(json.dumps({"benchmark": "sp5", **{k: s.get(k) for k in keys}, "output": str(out)}), flush=True)
    if not a.compare:
        return
    py = ensure_peer_env()
    csv_path = Path(tempfile.mkstemp(prefix="sp5_magnumnp_", suffix=".csv", dir=base)[1])
    p = subprocess.run([str(py), str(ROOT / "benchmarks" / "peer_magnumnp_sp5.py"), *map(str, a.peer_cells),
                        repr(a.t_end), str(csv_path)], capture_output=True, text=True)
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if p.returncode != 0 or not lines:
        sys.stderr.write(p.stdout[-2000:] + p.stderr[-2000:])
        raise SystemExit(1)
    peer = json.loads(lines[-1])
    if peer.get("m_1ns") is not None:
        peer["m_1ns_minus_mumax3"] = (np.asarray(peer["m_1ns"]) - M_1NS_MUMAX3).tolist()
    pt = np.loadtxt(csv_path, delimiter=",", skiprows=1)
    head, data = read_trace(out / "scalars.csv")
    ours = np.array([np.interp(pt[:, 0], data[:, 0], data[:, head.index(f"<m{c}>_film")]) for c in "xyz"]).T
    d = ours - pt[:, 1:]
    peer.update({"benchmark": "sp5_peer", "vs_fem_stt_h_nm": a.h[-1] * 1e9,
                 "trace_rms_diff_xyz": np.sqrt((d**2).mean(axis=0)).tolist(),
                 "trace_max_abs_diff_xyz": np.abs(d).max(axis=0).tolist(), "trace_csv": str(csv_path)})
    print(json.dumps(peer), flush=True)
    if a.plot:
        from standard_problem_5 import plot_sp5
        label = "magnum.np {}x{}x{}".format(*a.peer_cells)
        plot_sp5(data[:, 0], data, head, Path(a.plot), a.h[-1], peer=(label, pt[:, 0], pt[:, 1:]))


if __name__ == "__main__":
    main()
