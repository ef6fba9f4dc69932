"""Shared driver of the benchmarks: run a worker under mpirun and return its RESULT JSON line."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_worker(script: str, ranks: int, args) -> dict:
    """``mpirun -n ranks python script args``; prints and returns the worker's ``RESULT {...}`` line."""
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = ["mpirun", "-n", str(ranks), sys.executable, script, *map(str, args)]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        sys.stderr.write(p.stdout[-2000:] + p.stderr[-2000:])
        raise SystemExit(p.returncode)
    line = [ln for ln in p.stdout.splitlines() if ln.startswith("RESULT ")][0][7:]
    print(line, flush=True)
    return json.loads(line)
