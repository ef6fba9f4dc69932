"""Critical-current study of the seed device: diffusion vs moment model (seed 002's table).

Protocol (seed 002, "Comparison results"): FM1 starts in a random texture, FM2 uniform (+x);
both layers are free. The random state is relaxed once without current (energy minimization):
state S1. Then, for each model (spin diffusion; moment model with kappa = 1) and each current
density (electrons flowing from FM1 to FM2, j_e = -j z), LLG + stray field (FEM-BEM, no air
meshed) + spin transport run with error-controlled steps while the current flows for
``--pulse`` seconds (then falls linearly to zero within 10 ps). The seed calls S1, S2, S3
"locally stable states": the state at the end of the pulse is relaxed without current (energy
minimization, Barzilai-Borwein, until max |m x H_eff| < ``--relax-tol``) to the local minimum
it lies in, and LLG then runs on without current for ``--t-check`` seconds from there; the class
is read at the end. Why not a DC current to the end: under a current that never stops FM2 does
not settle for most currents above threshold (at 2e12 A/m^2 <m_x>_FM2 oscillates between +0.44
and -0.45 with a ~2 ns period; at 4e12 it reverses within 0.3 ns and returns to a precessing
texture after 1.1 ns), and after the pulse the free relaxation at alpha = 0.1 takes several ns
(at 3e12, <m_x>_FM2 still moved from 0.04 to 0.38 in the 1.5 ns after a 1 ns pulse).

Classes of the final state, from FM2's texture (the seed shows its states as pictures; these
are our operational definitions, with q = <m>_FM2 . x):

- **S1** (not switched): q >= 0.5 -- FM2 still along its initial direction;
- **S2** (switched): q <= -0.5 -- FM2 reversed;
- **S3** (intermediate texture): |q| < 0.5 -- FM2 non-uniform (vortex / domain state) or in
  a large-angle precession.

A class counts as *stable* when the relaxation converged and every sample of <m>_FM2 (every
``--sample`` seconds) over the current-free check (``--t-check`` = 0.5 ns by default, a third
of the simulated time) has the same class as the end state. ``runs.csv`` also gives the class
at the end of the pulse, before the relaxation.

Scan: the grid ``--currents`` for both models, then, for each pair of neighbouring currents
with different final classes, bisection (geometric midpoints) until the bracket is within
``--bisect-tol`` (2 %); ``--bisect-below J`` restricts the bisection to brackets below J (where
the final class is not a smooth function of the current, bisection only finds more
alternations: see the README). Every run is appended to ``runs.csv`` as it finishes; ``--resume``
re-uses the runs already in the output folder (same mesh, pulse, check and random seed), so a scan
can be continued. Sensitivity of the classes near the thresholds: ``--perturb 1e-3 --no-bisect
--currents ...`` repeats chosen runs from a nearby initial state (the relaxed state plus 1 mrad of
smooth noise); ``--seed 3`` from another random texture.

Writes into the output folder: ``runs.csv`` (one row per run: model, j, class, stable, final
<m> per layer, steps, wall time), ``traces.csv`` (<m>_FM2(t) per run), ``thresholds.csv``,
``table.md`` (the seed's layout, our thresholds next to the seed's numbers), ``mx_vs_j.png``
(final <m_x>_FM2 vs j, both models), ``class_<S>.png`` (FM2's mid-plane texture, one run per
class), ``summary.json``.

    mpirun -n 2 python demos/critical_current_scan.py --quick
    mpirun -n 2 python demos/critical_current_scan.py --output results/scan --resume
"""
import argparse
import csv
import json
import logging
import math
import time
from pathlib import Path

import numpy as np
from mpi4py import MPI

from fem_stt.errors import ParameterError, SolverError
from fem_stt.geometry import seed_device
from fem_stt.io import prepare_output_dir, setup_logging, write_json
from fem_stt.llg.initial import random_magnetization
from fem_stt.simulation import Simulation
from fem_stt.spin import SEED_DEVICE_TRANSPORT

#: the seed's table (its unit printed as "1e10 A/m^2"): model -> [(class label, range text)]
SEED_TABLE = {
    "diffusion": [("S1", "<= 7.4"), ("S1->S2", "7.5 ~ 9.9"), ("S1->S3", "10.0"), ("S1->S2", ">= 10.1")],
    "moment": [("S1", "<= 9.0"), ("S1->S2", "9.1 ~ 9.6"), ("S1->S3", "9.7 ~ 10.1"), ("S1->S2", ">= 10.2")],
}
LABEL = {"S1": "S1", "S2": "S1->S2", "S3": "S1->S3"}
RAMP = 10e-12  # fall time of the current pulse [s]
DEFAULT_CURRENTS = [1e12, 1.5e12, 2e12, 3e12, 4e12, 6e12, 8e12, 1.2e13, 1.6e13, 2.4e13, 3.2e13]
RUN_FIELDS = ["model", "j_A_per_m2", "class", "stable", "class_at_pulse_end", "mx_FM1", "my_FM1", "mz_FM1",
              "mx_FM2", "my_FM2", "mz_FM2", "steps", "rejected", "wall_s"]


def classify(m2) -> str:
    q = float(m2[0])
    return "S1" if q >= 0.5 else ("S2" if q <= -0.5 else "S3")


def thresholds(rows, model, tol):
    """Neighbouring runs of one model with different classes: [(j_lo, class_lo, j_hi, class_hi, resolved)]."""
    rs = sorted((r["j"], r["class"]) for r in rows if r["model"] == model)
    out = []
    for (j0, c0), (j1, c1) in zip(rs[:-1], rs[1:]):
        if c0 != c1:
            out.append((j0, c0, j1, c1, j1 / j0 - 1 <= tol * (1 + 1e-9)))
    return out


def in_bisect_range(bracket, bisect_below) -> bool:
    """Whether a bracket (j_lo, class_lo, j_hi, class_hi, resolved) lies below ``--bisect-below``."""
    return bisect_below is None or bracket[2] <= bisect_below * (1 + 1e-9)


def current_key(model, j):
    """(model, j to 6 digits): the identity of a run (bisection currents carry 4 digits)."""
    return model, float(f"{j:.6g}")


def class_ranges(rows, model):
    out = []
    for j, c in sorted((r["j"], r["class"]) for r in rows if r["model"] == model):
        if out and out[-1][0] == c:
            out[-1][2] = j
        else:
            out.append([c, j, j])
    return out


def write_tables(out: Path, rows, models, tol):
    unit = 1e10
    md = ["| Model | S1 (this work) | S1->S2 (this work) | S1->S3 (this work) | seed (its unit: 1e10 A/m^2) |",
          "|---|---|---|---|---|"]
    trows = [["model", "from_class", "to_class", "j_lo_A_per_m2", "j_hi_A_per_m2", "j_threshold_A_per_m2",
              "resolved_to_tolerance"]]
    for model in models:
        cells = {"S1": [], "S2": [], "S3": []}
        for c, lo, hi in class_ranges(rows, model):
            cells[c].append(f"{lo / unit:.4g}" if lo == hi else f"{lo / unit:.4g} ~ {hi / unit:.4g}")
        seed = "; ".join(f"{c}: {t}" for c, t in SEED_TABLE[model])
        md.append(f"| {model} | " + " | ".join(", ".join(cells[c]) or "-" for c in ("S1", "S2", "S3")) + f" | {seed} |")
        for j0, c0, j1, c1, ok in thresholds(rows, model, tol):
            trows.append([model, c0, c1, j0, j1, math.sqrt(j0 * j1), ok])
    md += ["", "Our numbers in units of 1e10 A/m^2 (electrons flowing from FM1 to FM2), i.e. the column S1->S2 "
               "'800 ~ 1200' means 8e12 ... 1.2e13 A/m^2. Each run: the current for the pulse time, then no current; "
               "classes from FM2's <m_x> at the end (S1 >= 0.5, S2 <= -0.5, S3 between); see "
               "demos/critical_current_scan.py."]
    (out / "table.md").write_text("\n".join(md) + "\n")
    with open(out / "thresholds.csv", "w", newline="") as f:
        csv.writer(f).writerows(trows)


def plot_mx(out: Path, rows, models):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 3.8))
    for model, mk in zip(models, "os"):
        rs = sorted((r["j"], r["mx_FM2"], r["stable"]) for r in rows if r["model"] == model)
        j = np.array([r[0] for r in rs])
        ax.semilogx(j, [r[1] for r in rs], mk + "-", label=model, mfc="none")
        un = [r for r in rs if not r[2]]
        if un:
            ax.semilogx([r[0] for r in un], [r[1] for r in un], "kx", ms=8)
    ax.axhline(0.5, color="0.7", lw=0.8, ls="--")
    ax.axhline(-0.5, color="0.7", lw=0.8, ls="--")
    ax.set_xlabel("current density |j_e| [A/m^2]")
    ax.set_ylabel("final <m_x>_FM2")
    ax.set_title("S1 above 0.5, S2 below -0.5 (x: class not stable)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "mx_vs_j.png", dpi=120)
    plt.close(fig)


def gather_fm2_slice(llg, z_mid, h):
    """FM2 vertices within h/2 of the plane z = z_mid: (x, y, m) on rank 0 (None elsewhere)."""
    mv = llg.mv
    x = mv.Vm.tabulate_dof_coordinates()[: mv.n_owned]
    m = llg.m_array[: mv.n_owned]
    sel = (np.abs(x[:, 2] - z_mid) <= 0.5 * h) & (mv.region_weights["FM2"][: mv.n_owned] > 0)
    parts = llg.comm.gather(np.hstack([x[sel], m[sel]]), root=0)
    return np.vstack(parts) if llg.comm.rank == 0 else None


def plot_class(out: Path, cls, data, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 3.8))
    q = ax.quiver(data[:, 0] * 1e9, data[:, 1] * 1e9, data[:, 3], data[:, 4], data[:, 5], cmap="coolwarm",
                  clim=(-1, 1), pivot="mid", scale=25)
    fig.colorbar(q, ax=ax, label="m_z")
    ax.set_aspect("equal")
    ax.set_xlabel("x [nm]")
    ax.set_ylabel("y [nm]")
    ax.set_title(f"class {LABEL[cls]}\n" + title.replace("; ", "\n"), fontsize=9)
    fig.tight_layout()
    fig.savefig(out / f"class_{cls}.png", dpi=120)
    plt.close(fig)


def write_sensitivity(out: Path, rows, ref_rows, setup):
    """Classes of this scan next to a reference scan's at the same (model, j): sensitivity.csv / .md."""
    ref = {current_key(r["model"], r["j"]): r for r in ref_rows}
    pairs = [(r, ref[current_key(r["model"], r["j"])]) for r in sorted(rows, key=lambda r: (r["model"], r["j"]))
             if current_key(r["model"], r["j"]) in ref]
    with open(out / "sensitivity.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["model", "j_A_per_m2", "class_reference", "class_this", "mx_FM2_reference", "mx_FM2_this", "same_class"])
        for r, q in pairs:
            w.writerow([r["model"], r["j"], q["class"], r["class"], q["mx_FM2"], r["mx_FM2"], r["class"] == q["class"]])
    md = [f"Set-up of this scan: {setup}", "", "| model | j [A/m^2] | reference class (<m_x>_FM2) | this scan | same |",
          "|---|---|---|---|---|"]
    md += [f"| {r['model']} | {r['j']:.4g} | {q['class']} ({q['mx_FM2']:.3f}) | {r['class']} ({r['mx_FM2']:.3f}) | "
           f"{'yes' if r['class'] == q['class'] else '**no**'} |" for r, q in pairs]
    (out / "sensitivity.md").write_text("\n".join(md) + "\n")


def read_runs(path: Path):
    rows = []
    if path.exists():
        with open(path) as f:
            for r in csv.DictReader(f):
                rows.append({"model": r["model"], "j": float(r["j_A_per_m2"]), "class": r["class"],
                             "stable": r["stable"] == "True", "mx_FM2": float(r["mx_FM2"]), "_csv": r})
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="2 currents per model, 0.1 ns pulse, 0.05 ns check, no bisection")
    ap.add_argument("--currents", type=float, nargs="+", default=None, help="grid of |j_e| [A/m^2]")
    ap.add_argument("--models", nargs="+", default=["diffusion", "moment"], choices=["diffusion", "moment"])
    ap.add_argument("--mesh-size", type=float, default=None, help="cell size [m] (default 10 nm)")
    ap.add_argument("--pulse", type=float, default=None, help="duration of the current [s] (default 1 ns)")
    ap.add_argument("--t-check", type=float, default=None,
                    help="current-free LLG after the relaxation [s] (default 0.5 ns)")
    ap.add_argument("--relax-tol", type=float, default=50.0, help="relaxation stop: max |m x H_eff| [A/m]")
    ap.add_argument("--tolerance", type=float, default=3e-3, help="LLG local error tolerance")
    ap.add_argument("--sample", type=float, default=10e-12, help="sampling interval of <m>(t) [s]")
    ap.add_argument("--bisect-tol", type=float, default=0.02, help="relative width of a resolved threshold")
    ap.add_argument("--max-runs", type=int, default=200, help="stop after this many runs (resume later)")
    ap.add_argument("--seed", type=int, default=2, help="random seed of FM1's initial texture")
    ap.add_argument("--perturb", type=float, default=0.0,
                    help="a nearby initial state: add this amplitude [rad] of smooth random noise (seed + 1000, "
                         "40 nm correlation length) to the relaxed state before every run (default 0)")
    ap.add_argument("--no-bisect", action="store_true", help="run the grid only (e.g. a sensitivity check)")
    ap.add_argument("--reference", default=None,
                    help="another scan's folder: write sensitivity.csv/.md comparing the classes at equal currents")
    ap.add_argument("--bisect-below", type=float, default=None,
                    help="bisect only the brackets whose upper current is at most this [A/m^2] (default: all)")
    ap.add_argument("--output", default=None)
    ap.add_argument("--overwrite", action="store_true")
    ap.add_argument("--resume", action="store_true", help="continue the scan in an existing output folder")
    args = ap.parse_args(argv)
    if not 0 <= args.perturb < 0.5:
        raise ParameterError("perturb", f"must be in [0, 0.5) rad, got {args.perturb}")
    if not 0 < args.bisect_tol < 1:
        raise ParameterError("bisect-tol", f"must be in (0, 1), got {args.bisect_tol}")
    comm = MPI.COMM_WORLD
    setup_logging(comm)
    log = logging.getLogger("fem_stt.demos.critical_current_scan")
    currents = args.currents or ([4e12, 1.6e13] if args.quick else DEFAULT_CURRENTS)
    if any(not (j > 0 and math.isfinite(j)) for j in currents):
        raise ParameterError("currents", f"must be positive current densities [A/m^2], got {currents}")
    h = args.mesh_size or 10e-9  # at 20 nm FM2 relaxes into a vortex (S3), not S1
    pulse = args.pulse or (0.1e-9 if args.quick else 1e-9)
    t_check = args.t_check or (0.05e-9 if args.quick else 0.5e-9)
    for name, v in (("pulse", pulse), ("t-check", t_check), ("relax-tol", args.relax_tol)):
        if not (v > 0 and math.isfinite(v)):
            raise ParameterError(name, f"must be > 0, got {v!r}")
    t_end = pulse + RAMP + t_check
    setup = {"mesh_size_m": h, "pulse_s": pulse, "t_check_s": t_check, "relax_tol_A_per_m": args.relax_tol,
             "random_seed": args.seed, "tolerance": args.tolerance}
    if args.perturb:
        setup["perturb_rad"] = args.perturb
    if args.resume and args.output and (Path(args.output) / "summary.json").exists():
        out = Path(args.output)
        old = json.loads((out / "summary.json").read_text())["setup"]
        if old != setup:
            raise ParameterError("resume", f"the folder holds a scan with {old}, not {setup}")
    else:
        out = prepare_output_dir(args.output, comm, args.overwrite, default_name="critical_current_scan")
        write_json(out / "summary.json", {"setup": setup, "runs": []}, comm)
    rows = read_runs(out / "runs.csv") if args.resume else []
    log.info("scan: %d runs already in %s", len(rows), out)

    stack = seed_device(mesh_size=h, ferromagnet="Py_stt", surrounding=None, name="seed_device_film")
    domain = stack.mesh(path=f"meshes/seed_device_film_h{h * 1e9:g}nm.msh", comm=comm)
    rnd = random_magnetization(seed=args.seed, correlation_length=40e-9)
    z_fm2 = 220e-9  # FM2 from z = 220 nm to 280 nm

    def m0(x):
        v = rnd(x)
        v[:, x[2] > z_fm2 - 1e-12] = np.array([[1.0], [0.0], [0.0]])
        return v
    llg_opts = dict(order=2, dt=1e-13, dt_max=1e-11, max_rotation=0.3, tolerance=args.tolerance)
    t0 = time.perf_counter()
    sims = {model: Simulation(domain, m0, transport=SEED_DEVICE_TRANSPORT, current_density=(0, 0, 0),
                              transport_model=model, kappa=1.0, llg_options=llg_opts) for model in args.models}
    first = sims[args.models[0]]
    rel = first.relax(tol=50.0, max_iterations=5000)
    if not rel["converged"]:  # every run starts here: an unrelaxed S1 would make every class meaningless
        raise SolverError(f"the initial relaxation did not reach max |m x H_eff| < 50 A/m in {rel['iterations']} "
                          f"iterations (max torque {rel['max_torque']:.3g} A/m)")
    a1, a2 = first.llg.average("FM1"), first.llg.average("FM2")
    if args.perturb:
        # relaxed + eps * (smooth random unit field), normalized by set_magnetization (which hands the
        # callable this rank's vertex coordinates in m_array's order); the noise depends on the
        # coordinates only, so every rank count sees the same nearby state
        m_rel, noise = first.llg.m_array.T.copy(), random_magnetization(seed=1000 + args.seed, correlation_length=40e-9)
        first.llg.set_magnetization(lambda x: m_rel + args.perturb * noise(x) / np.linalg.norm(noise(x), axis=0))
    relaxed = first.llg.m_array.copy()
    log.info("relaxed random FM1 / uniform FM2: %d iterations, %.0f s, <m>_FM1 = %s, <m>_FM2 = %s",
             rel["iterations"], time.perf_counter() - t0, np.round(a1, 3), np.round(a2, 3))
    pictures = {}

    def run(model, j):
        sim = sims[model]
        llg = sim.llg
        llg.set_state({"m": relaxed, "history": [], "u": None, "t": 0.0, "dt": 1e-13, "step": 0, "rejected": 0})
        sim.spin.set_current(lambda t, j=j: (0.0, 0.0, -j * min(max((pulse + RAMP - t) / RAMP, 0.0), 1.0)))
        sim.spin.s.x.array[:] = 0.0
        w0 = time.perf_counter()
        samples = [[0.0, *llg.average("FM2")]]
        t_off = pulse + RAMP
        while llg.t < t_off * (1 - 1e-12):
            llg.advance(min(llg.t + args.sample, t_off))
            samples.append([llg.t, *llg.average("FM2")])
        c_pulse = classify(samples[-1][1:4])
        rel = sim.relax(tol=args.relax_tol, max_iterations=5000)
        samples.append([llg.t, *llg.average("FM2")])
        n_check = len(samples) - 1
        llg.set_state(dict(llg.get_state(), history=[], dt=1e-13))
        while llg.t < t_end * (1 - 1e-12):
            llg.advance(min(llg.t + args.sample, t_end))
            samples.append([llg.t, *llg.average("FM2")])
        m1, m2 = llg.average("FM1"), llg.average("FM2")
        stable = bool(rel["converged"]) and all(classify(s[1:4]) == classify(m2) for s in samples[n_check:])
        c70 = c_pulse
        r = {"model": model, "j": j, "class": classify(m2), "stable": stable, "mx_FM2": float(m2[0])}
        r["_csv"] = dict(zip(RUN_FIELDS, [model, j, r["class"], stable, c70, *m1, *m2, llg.step_count, llg.rejected,
                                          round(time.perf_counter() - w0, 1)]))
        data = gather_fm2_slice(llg, z_fm2 + 30e-9, h)
        if comm.rank == 0:
            new = not (out / "runs.csv").exists()
            with open(out / "runs.csv", "a", newline="") as f:
                w = csv.DictWriter(f, fieldnames=RUN_FIELDS)
                if new:
                    w.writeheader()
                w.writerow(r["_csv"])
            new = not (out / "traces.csv").exists()
            with open(out / "traces.csv", "a", newline="") as f:
                w = csv.writer(f)
                if new:
                    w.writerow(["model", "j_A_per_m2", "t_s", "mx_FM2", "my_FM2", "mz_FM2"])
                w.writerows([[model, j, *s] for s in samples])
            if stable and r["class"] not in pictures and not (out / f"class_{r['class']}.png").exists():
                plot_class(out, r["class"], data, f"{model}, j = {j:.3g} A/m^2 for {pulse * 1e9:g} ns, relaxed, + {t_check * 1e9:g} ns, <m>_FM2 = "
                                                  f"({m2[0]:.2f}, {m2[1]:.2f}, {m2[2]:.2f}); FM2 mid-plane z = 250 nm")
                pictures[r["class"]] = (model, j)
        log.info("%s j = %.4g A/m^2: %s at the pulse's end, relaxed (%d iterations) to %s (%s), <m>_FM2 = %s, "
                 "%d steps, %.0f s", model, j, c_pulse, rel["iterations"], r["class"],
                 "stable" if stable else "NOT stable", np.round(m2, 3), llg.step_count,
                 time.perf_counter() - w0)
        rows.append(r)

    done = lambda model, j: any(current_key(r["model"], r["j"]) == current_key(model, j) for r in rows)  # noqa: E731
    n_new = 0
    for model in args.models:
        for j in currents:
            if not done(model, j) and n_new < args.max_runs:
                run(model, j)
                n_new += 1
    if not (args.quick or args.no_bisect):
        for model in args.models:
            while n_new < args.max_runs:
                open_ = [t for t in thresholds(rows, model, args.bisect_tol)
                         if not t[4] and in_bisect_range(t, args.bisect_below)]
                if not open_:
                    break
                j0, _, j1, _, _ = open_[0]
                run(model, float(f"{math.sqrt(j0 * j1):.4g}"))
                n_new += 1
    if comm.rank == 0:
        write_tables(out, rows, args.models, args.bisect_tol)
        plot_mx(out, rows, args.models)
        if args.reference:
            write_sensitivity(out, rows, read_runs(Path(args.reference) / "runs.csv"), setup)
    wall = time.perf_counter() - t0
    write_json(out / "summary.json", {
        "setup": setup, "relax": rel, "m_relaxed": {"FM1": a1.tolist(), "FM2": a2.tolist()},
        "runs": [r["_csv"] for r in rows], "new_runs": n_new, "wall_s_this_call": round(wall, 1),
        "thresholds": {m: [list(t) for t in thresholds(rows, m, args.bisect_tol)] for m in args.models},
        "bisect_below_A_per_m2": args.bisect_below,
        "complete": all(t[4] or not in_bisect_range(t, args.bisect_below)
                        for m in args.models for t in thresholds(rows, m, args.bisect_tol))}, comm)
    log.info("wrote %s (%d new runs, %.0f s); open table.md, mx_vs_j.png and class_*.png", out, n_new, wall)
    return out, rows


if __name__ == "__main__":
    main()
