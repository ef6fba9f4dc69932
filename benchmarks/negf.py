"""NEGF model cost (seed 003): Green's-function evaluations vs lattice size (RGF vs dense), LLG steps, contours.

Prints one JSON object per measurement (best of --repeat, wall seconds on this machine; serial numpy):

* ``gf``: one real-energy evaluation at E_F = 1.9 of the skyrmion ribbon n x n (J = 2, onsite 4, ribbon leads):
  ``rgf_s`` = the lead block columns and the gate block columns/rows that the dynamics needs (one RGF pass,
  :class:`FermiSurface`), ``dense_s`` = inverting the 2N x 2N matrix z - h - Sigma (numpy), and their ratio;
  ``max_abs_difference`` between the two lead columns (a check, not a time).
* ``llg_step``: one RK4 step of eq. 39 with the pumped spin density and eq. 40 (4 stages), n x n.
* ``contour``: the equilibrium spin density s^(0) of all sites by the imaginary-axis contour (100 points), n x n.
* ``domain_wall_step``: one RK4 step of the biased domain-wall chain of the continuum bridge (80 sites; the
  wall's relaxation is included in the mean).

Run:  python benchmarks/negf.py [--sizes 10 20 30 40] [--repeat 3] > benchmarks/results/negf_<date>.jsonl
"""
import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fem_stt.atomistic.negf import (FermiSurface, NEGFLLG, Pump, bloch_ansatz, greens_function, relax,  # noqa: E402
                                    spin_density)
from fem_stt.atomistic.negf.case import PumpingCase  # noqa: E402


def best(fn, repeat):
    ts = []
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t0)
    return min(ts), out


def skyrmion_case(n):
    f = 40.0 / n
    case = PumpingCase(nx=n, D=0.2 * f, K=0.07 * f * f, radius=8.0 / f, broadening=0.05)
    H = case.spins()
    m, _ = relax(H, bloch_ansatz(n, n, 8.0 / f), tol=1e-6)
    return case, m


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10, 20, 30, 40])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dense-max", type=int, default=40, help="largest n for the dense inversion")
    args = ap.parse_args(argv)
    for n in args.sizes:
        case, m = skyrmion_case(n)
        syst = case.electrons(m).with_gates(V1=0.3, V2=-0.2)
        slices = syst.slice_hamiltonians()
        t_rgf, fs = best(lambda: FermiSurface(syst, 1.9, slices=slices, rows=True, extra_slices=[0, 4]), args.repeat)
        rec = {"benchmark": "negf", "what": "gf", "n": n, "orbitals": syst.n_orbitals, "rgf_s": round(t_rgf, 5)}
        if n <= args.dense_max:
            t_dense, G = best(lambda: greens_function(syst, 1.9), 1 if n >= 30 else args.repeat)
            m2 = 2 * n
            diff = max(np.abs(G[:, :m2] - fs.G_lead["left"].reshape(-1, m2)).max(),
                       np.abs(G[:, -m2:] - fs.G_lead["right"].reshape(-1, m2)).max())
            rec.update({"dense_s": round(t_dense, 4), "dense_over_rgf": round(t_dense / t_rgf, 1),
                        "max_abs_difference": float(diff)})
        print(json.dumps(rec), flush=True)
        sim = NEGFLLG(case.spins(), case.electrons(m), case.E_F, alpha=0.4, pump=Pump(0.8, 1.0, math.pi / 2))
        sim.set_state(m)
        t_step, _ = best(lambda: sim.step(0.05), max(1, args.repeat - 1))
        print(json.dumps({"benchmark": "negf", "what": "llg_step", "n": n, "rk4_step_s": round(t_step, 4),
                          "per_stage_s": round(t_step / 4, 4)}), flush=True)
        if n <= 20:
            t_c, _ = best(lambda: spin_density(syst, 1.9, method="imaginary", n_points=100), 1)
            print(json.dumps({"benchmark": "negf", "what": "contour", "n": n, "points": 100, "s0_s": round(t_c, 3)}),
                  flush=True)
    from fem_stt.atomistic.negf.bridge import domain_wall_run
    t0 = time.perf_counter()
    r = domain_wall_run(nx=80, ny=1, K=0.01, exchange=1.0, E_F=-2.0, bias=0.2, alpha=0.1, dt=0.2, t_end=20.0)
    steps = len(r["t"]) - 1
    print(json.dumps({"benchmark": "negf", "what": "domain_wall_step", "sites": 80, "steps": steps,
                      "rk4_step_s": round((time.perf_counter() - t0) / steps, 4)}), flush=True)


if __name__ == "__main__":
    main()
