"""Critical-current study of the seed device: diffusion vs moment model over a current grid.

Follows the seed's table (seed 002, "Comparison results"): FM1 starts in a random texture,
FM2 uniform (+x); both layers are free. The random state is relaxed once without current
(energy minimization); then for each model and current density (electrons flowing from
FM1 to FM2) LLG + stray field + spin transport run for ``--t-end``.

Classes of the final state, from FM2's texture (the seed shows its states as pictures;
these are our operational definitions, with q = <m>_FM2 . x and |<m>_FM2|):

- **S1** (not switched): q >= 0.5 -- FM2 still along its initial direction;
- **S2** (switched): q <= -0.5 -- FM2 reversed;
- **S3** (intermediate texture): |q| < 0.5 -- FM2 non-uniform (vortex / domain state) or
  caught in a large-angle precession at the end of the run.

Writes into the output folder: ``runs.csv`` (one row per run: model, j, final <m> per
layer, class), ``table.md`` and ``table.csv`` (the seed's layout: for each model the
current ranges of each class, next to the seed's numbers), ``summary.json``.
The full scan (default grid 7.0e10 ... 11.0e10 A/m^2 in steps of 1e9, both models) takes
hours; ``--quick`` runs 3 currents per model on a coarse mesh in minutes.

    mpirun -n 2 python demos/critical_current_scan.py --quick
    mpirun -n 2 python demos/critical_current_scan.py --currents 5e12 1e13 2e13 --t-end 1e-9
"""
import argparse
import csv
import logging
import time

import numpy as np
from mpi4py import MPI

from fem_stt.geometry import seed_device
from fem_stt.io import prepare_output_dir, setup_logging, write_json
from fem_stt.llg.initial import random_magnetization
from fem_stt.simulation import Simulation
from fem_stt.spin import SEED_DEVICE_TRANSPORT

#: the seed's table (unit 1e10 A/m^2): model -> [(class label, range text)]
SEED_TABLE = {
    "diffusion": [("S1", "<= 7.4"), ("S1->S2", "7.5 ~ 9.9"), ("S1->S3", "10.0"), ("S1->S2", ">= 10.1")],
    "moment": [("S1", "<= 9.0"), ("S1->S2", "9.1 ~ 9.6"), ("S1->S3", "9.7 ~ 10.1"), ("S1->S2", ">= 10.2")],
}


def classify(m2: np.ndarray) -> str:
    q = float(m2[0])
    return "S1" if q >= 0.5 else ("S2" if q <= -0.5 else "S3")


def ranges(currents, classes):
    """Contiguous runs of equal class along the sorted current grid: [(class, j_lo, j_hi)]."""
    out = []
    for j, c in sorted(zip(currents, classes)):
        if out and out[-1][0] == c:
            out[-1][2] = j
        else:
            out.append([c, j, j])
    return out


def write_tables(out, results, models):
    unit = 1e10
    md = ["| Model | " + " | ".join(f"{c} (this work)" for c in ("S1", "S1->S2", "S1->S3")) + " | seed |",
          "|---|---|---|---|---|"]
    rows = [["model", "class", "j_min_A_per_m2", "j_max_A_per_m2", "source"]]
    for model in models:
        rs = ranges([r["j"] for r in results if r["model"] == model], [r["class"] for r in results if r["model"] == model])
        cells = {"S1": [], "S2": [], "S3": []}
        for c, lo, hi in rs:
            cells[c].append(f"{lo / unit:.1f}" if lo == hi else f"{lo / unit:.1f} ~ {hi / unit:.1f}")
            rows.append([model, {"S1": "S1", "S2": "S1->S2", "S3": "S1->S3"}[c], lo, hi, "fem_stt"])
        seed = "; ".join(f"{c}: {t}" for c, t in SEED_TABLE[model])
        md.append(f"| {model} | " + " | ".join(", ".join(cells[c]) or "-" for c in ("S1", "S2", "S3")) + f" | {seed} |")
        for c, t in SEED_TABLE[model]:
            rows.append([model, c, t, "", "seed 002"])
    md += ["", "Unit: 1e10 A/m^2 (electrons flowing from FM1 to FM2). Classes from FM2's final <m> "
               "(see demos/critical_current_scan.py): S1 not switched, S1->S2 reversed, S1->S3 intermediate texture."]
    (out / "table.md").write_text("\n".join(md) + "\n")
    with open(out / "table.csv", "w", newline="") as f:
        csv.writer(f).writerows(rows)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="3 currents per model, 16 nm mesh, 0.2 ns")
    ap.add_argument("--currents", type=float, nargs="+", default=None, help="current densities [A/m^2]")
    ap.add_argument("--models", nargs="+", default=["diffusion", "moment"], choices=["diffusion", "moment"])
    ap.add_argument("--mesh-size", type=float, default=None)
    ap.add_argument("--t-end", type=float, default=None, help="simulated time per run [s]")
    ap.add_argument("--seed", type=int, default=2)
    ap.add_argument("--output", default=None)
    ap.add_argument("--overwrite", action="store_true")
    args = ap.parse_args(argv)
    comm = MPI.COMM_WORLD
    setup_logging(comm)
    log = logging.getLogger("fem_stt.demos.critical_current_scan")
    currents = args.currents or (list(np.array([7.0, 9.0, 11.0]) * 1e10) if args.quick
                                 else list(np.round(np.arange(7.0, 11.0001, 0.1), 1) * 1e10))
    h = args.mesh_size or (16e-9 if args.quick else 8e-9)
    t_end = args.t_end or (0.2e-9 if args.quick else 5e-9)
    out = prepare_output_dir(args.output, comm, args.overwrite, default_name="critical_current_scan")
    domain = seed_device(mesh_size=h, ferromagnet="Py_stt").mesh(
        path=f"meshes/seed_device_stt_h{h * 1e9:g}nm.msh", comm=comm)
    rnd = random_magnetization(seed=args.seed, correlation_length=40e-9)

    def m0(x):
        v = rnd(x)
        v[:, x[2] > 210e-9] = np.array([[1.0], [0.0], [0.0]])  # FM2 (above the spacer) uniform +x
        return v
    t0 = time.perf_counter()
    sims = {model: Simulation(domain, m0, transport=SEED_DEVICE_TRANSPORT, current_density=(0, 0, 0),
                              transport_model=model, kappa=1.0, llg_options=dict(order=2, dt=1e-13, dt_max=2e-12, max_rotation=0.1))
            for model in args.models}
    first = sims[args.models[0]]
    rel = first.relax(tol=500.0, max_iterations=300 if args.quick else 3000)
    relaxed = first.llg.m_array.copy()
    log.info("relaxed random FM1 / uniform FM2 in %d iterations (%.0f s): <m>_FM1 = %s, <m>_FM2 = %s",
             rel["iterations"], time.perf_counter() - t0, np.round(first.llg.average("FM1"), 3),
             np.round(first.llg.average("FM2"), 3))
    results = []
    for model in args.models:
        sim = sims[model]
        for j in currents:
            llg = sim.llg
            llg.m.x.array.reshape(-1, 3)[: llg.mv.n_local] = relaxed
            llg.m.x.scatter_forward()
            llg.set_state({"m": relaxed, "m_prev": None, "k_prev": None, "u": None, "t": 0.0, "dt": 1e-13,
                           "step": 0, "rejected": 0})
            sim.spin.set_current((0.0, 0.0, -j))
            sim.spin.s.x.array[:] = 0.0
            w0 = time.perf_counter()
            llg.advance(t_end)
            m1, m2 = llg.average("FM1"), llg.average("FM2")
            r = {"model": model, "j": j, "class": classify(m2), "m_FM1": m1.tolist(), "m_FM2": m2.tolist(),
                 "steps": llg.step_count, "wall_s": time.perf_counter() - w0}
            results.append(r)
            log.info("%s j = %.2e A/m^2: %s, <m>_FM2 = %s (%d steps, %.0f s)", model, j, r["class"],
                     np.round(m2, 3), r["steps"], r["wall_s"])
    if comm.rank == 0:
        with open(out / "runs.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["model", "j_A_per_m2", "class", "mx_FM1", "my_FM1", "mz_FM1", "mx_FM2", "my_FM2", "mz_FM2",
                        "steps", "wall_s"])
            for r in results:
                w.writerow([r["model"], r["j"], r["class"], *r["m_FM1"], *r["m_FM2"], r["steps"], round(r["wall_s"], 1)])
        write_tables(out, results, args.models)
    write_json(out / "summary.json", {"currents_A_per_m2": currents, "mesh_size_m": h, "t_end_s": t_end,
                                      "random_seed": args.seed, "relax": rel, "runs": results}, comm)
    log.info("wrote %s", out)
    return out, results


if __name__ == "__main__":
    main()
