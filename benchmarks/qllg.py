"""Cost of the q-LLG integrators (seed 004, eq. 3) against the cluster size.

Open spin-1/2 chains with the paper's dimer parameters on every bond (J = 1, D = 0.6 along z, field along x;
reduced units, time unit tau0 = 10 ps, kappa = 0.5). Prints one JSON object per line:

- ``path = "dense"`` (N = 2 ... 10): wall time per right-hand side (eigh + 4 products, generic mixed rho),
  per RKMK4 step, and per simulated tau0 of the adaptive DOP853 run (rtol = atol = 1e-12) with its
  right-hand-side count, from a generic full-rank mixed state; peak memory traced (numpy allocations).
  For N >= 9 the adaptive run covers 0.1 tau0 and is scaled to one tau0.
- ``path = "pure"`` (N = 4 ... 20): Hamiltonian assembly time, nonzeros, and the wall time per simulated
  tau0 of Krylov (expm_multiply) state-vector propagation (10 outputs per tau0) from the Néel state.

Run:  .venv/bin/python benchmarks/qllg.py [--dense-max 10] [--pure-max 20] > benchmarks/results/qllg_<date>.jsonl
"""
import argparse
import json
import time
import tracemalloc

import numpy as np

from fem_stt.atomistic.qllg import PAPER, PureStateQLLG, QLLG, chain_hamiltonian, rhs
from fem_stt.atomistic.qllg.paper import neel_directions
from fem_stt.constants import HBAR

TAU = PAPER.time_unit


def timed(f, reps):
    t0 = time.perf_counter()
    for _ in range(reps):
        f()
    return (time.perf_counter() - t0) / reps


def dense(N, rng):
    H = chain_hamiltonian(N, 1.0, 0.6)
    n = H.n
    A = rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))
    rho = A @ A.conj().T
    rho /= np.trace(rho).real
    Om = H.dense() / HBAR
    reps = max(1, int(2000 / n ** 1.5))
    t_rhs = timed(lambda: rhs(rho, Om, 0.5), reps)
    m = QLLG(H, 0.5)
    T = TAU if N <= 8 else 0.1 * TAU
    t_rk = timed(lambda: m.solve(rho, [0.0, 0.005 * TAU], method="rkmk4", dt=0.005 * TAU, store_states=False), 1)
    tracemalloc.start()
    tr = m.solve(rho, [0.0, T], store_states=False, dense_output=False)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"benchmark": "qllg", "path": "dense", "N": N, "n": n, "rhs_s": t_rhs, "rkmk4_step_s": t_rk,
            "adaptive_s_per_tau0": tr.stats["wall_s"] * TAU / T, "adaptive_rhs_per_tau0": tr.stats["nfev"] * TAU / T,
            "span_tau0": T / TAU, "spectrum_drift": tr.stats["spectrum_drift"], "peak_traced_MB": peak / 1e6,
            "rho_MB": 16 * n * n / 1e6}


def pure(N):
    t0 = time.perf_counter()
    H = chain_hamiltonian(N, 1.0, 0.6)
    Hs = H.sparse()
    t_build = time.perf_counter() - t0
    psi0 = H.cluster.coherent(neel_directions(N))
    tracemalloc.start()
    tr = PureStateQLLG(H, 0.5).solve(psi0, np.linspace(0, TAU, 11), store_states=False)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"benchmark": "qllg", "path": "pure", "N": N, "n": H.n, "nnz": int(Hs.nnz), "build_s": t_build,
            "krylov_s_per_tau0": tr.stats["wall_s"], "norm_error": tr.stats["norm_error"],
            "energy_drop_E0": float((tr.energy[0] - tr.energy[-1]) / PAPER.energy_unit),
            "peak_traced_MB": peak / 1e6, "psi_MB": 16 * H.n / 1e6}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dense-max", type=int, default=10)
    ap.add_argument("--pure-max", type=int, default=20)
    a = ap.parse_args()
    print(json.dumps({"benchmark": "qllg", "units": PAPER.describe(), "numpy": np.__version__}), flush=True)
    rng = np.random.default_rng(0)
    for N in range(2, a.dense_max + 1):
        print(json.dumps(dense(N, rng)), flush=True)
    for N in range(4, a.pure_max + 1, 2):
        print(json.dumps(pure(N)), flush=True)


if __name__ == "__main__":
    main()
