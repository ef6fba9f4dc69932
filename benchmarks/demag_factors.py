"""Convergence of demagnetizing factors with mesh refinement against closed forms.

Cases (fem_stt.validation.CASES): cube, 1 x 1 x 0.1 and 2 x 1 x 0.5 prisms, each layer
of the seed device alone, and a sphere; references: Aharoni, J. Appl. Phys. 83, 3432
(1998) for prisms, 1/3 for the sphere. Prints one JSON object per (case, h) with keys
``shape``, ``dims`` [nm], ``h`` [nm], ``N`` (computed diagonal), ``N_ref``,
``max_abs_error`` (largest |N_i - N_ref,i|), plus ``dofs``, ``cells``, ``wall_s``, and
``energy_max_abs_error`` (demag factor from the energy, E / ((mu0/2) Ms^2 V)).

Run:  python benchmarks/demag_factors.py [--cases cube sphere] [--levels 3]
      (mpirun -n 2 python benchmarks/demag_factors.py also works)
"""
import argparse
import json
import time
from pathlib import Path

import numpy as np
from mpi4py import MPI

from fem_stt.constants import MU0
from fem_stt.validation import CASES, run_demag_case

ROOT = Path(__file__).resolve().parents[1]
# coarsest cell size per case [nm]; each level divides it by 2**(1/2)
H0 = {"cube": 20, "plate_1x1x0.1": 10, "prism_2x1x0.5": 20, "seed_FM1": 20, "seed_spacer": 10, "seed_FM2": 16,
      "sphere": 15}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", nargs="+", default=list(H0), choices=list(H0))
    ap.add_argument("--levels", type=int, default=4, help="refinement levels per case (h0 / sqrt(2)^k)")
    ap.add_argument("--mesh-dir", default=str(ROOT / "meshes"))
    a = ap.parse_args()
    comm = MPI.COMM_WORLD
    for name in a.cases:
        case = CASES[name]
        for k in range(a.levels):
            h = H0[name] / 2 ** (k / 2)
            t0 = time.perf_counter()
            r = run_demag_case(case, round(h, 3) * 1e-9, comm=comm, mesh_dir=Path(a.mesh_dir))
            N = np.diag(r["N"])
            N_E = r["energy"] / (0.5 * MU0 * r["Ms"] ** 2 * r["volume"])
            out = {"benchmark": "demag_factors", "case": name, "shape": case.shape,
                   "dims": [round(d * 1e9, 6) for d in case.dims], "h": round(h, 3), "N": N.round(6).tolist(),
                   "N_ref": np.round(case.N_ref, 6).tolist(),
                   "max_abs_error": float(np.abs(N - case.N_ref).max()),
                   "energy_max_abs_error": float(np.abs(N_E - case.N_ref).max()),
                   "dofs": r["dofs"], "cells": r["cells"], "ranks": comm.size,
                   "wall_s": round(time.perf_counter() - t0, 2)}
            if comm.rank == 0:
                print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
