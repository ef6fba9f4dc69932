"""Skyrmion driven by quantum parametric pumping: Figs. 3-6 of Xu et al., PRB 108, 144409 (2023) (seed 003).

Solves eq. 39 (the NEGF-LLG of :mod:`fem_stt.atomistic.negf.dynamics`) for the relaxed skyrmion of eq. 38 on an
n x n lattice with two pumping gates (columns l1 = 1, l2 = 5), in the paper's lattice units (t = J_ex = 1,
hbar = gamma = a = 1; the SI scales of Table I are printed and written to summary.json). The spin density that
drives the moments is the Fermi-surface pumped spin density (``adiabatic-fs``, negf_llg.md Sec. 2.2) at E_F = 1.9,
J = 2, alpha = 0.4, with a bath broadening eta = 0.05 (the skyrmion core hosts quasi-bound states whose spectral
weight makes the eta = 0 spin density spike; ``--broadening 0`` runs the bare model).

Sizes: ``--size 20`` (default; the paper's skyrmion scaled by 1/2: D = 0.4, K = 0.28), ``--paper`` (40 x 40,
D = 0.2, K = 0.07, as in the paper; hours), ``--quick`` (12 x 12, scaled by 3/10, one period; for the test).

    python demos/skyrmion_pumping.py [--quick | --paper] [--output DIR] [--overwrite | --resume] [--jobs 2]

Writes to the output folder: fig3_transport.png/.csv (T and DOS per spin with and without the Sk, V = 0),
fig4_pumping.png/.csv (I_p(t), its spin parts, x(t), y(t) at V = 0.8, w = 1, phi = +-pi/2, 0),
fig5_amplitude.png/.csv (V scan), fig6_frequency.png/.csv (frozen Sk I_p/w_p for three w_p; free Sk x, y),
runs/<name>/ (each run's timeseries.csv, summary.json, checkpoint.npz), summary.json (case-S report, Thiele fits,
drift odd/even in phi, dt vs dt/2, up fraction of I_p, units, wall times, provenance).
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import dataclasses
import json
import math
import multiprocessing
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from fem_stt.atomistic.negf import FermiSurface, thiele_fit  # noqa: E402
from fem_stt.atomistic.negf.case import PumpingCase  # noqa: E402

PRESETS = {  # n, length scale factor f (D -> 0.2 f, K -> 0.07 f^2, ansatz radius 8/f), periods at w = 1
    "quick": dict(n=12, f=40 / 12, periods=1.0, energies=41, V=(0.4, 0.8), omegas=(1.0, 2.0), frozen_periods=1),
    "default": dict(n=20, f=2.0, periods=4.0, energies=161, V=(0.4, 0.6, 0.8, 1.0, 1.2), omegas=(0.2, 0.5, 1.0),
                    frozen_periods=4),
    "paper": dict(n=40, f=1.0, periods=20.0, energies=321, V=(0.4, 0.6, 0.8, 1.0, 1.2), omegas=(0.2, 0.5, 1.0),
                  frozen_periods=4),
}


def _run_one(kw, m0, report, out):
    """Worker: one NEGF-LLG run into ``out`` (resumed if it has a checkpoint but no summary)."""
    case = PumpingCase(**kw)
    out = Path(out)
    if (out / "summary.json").is_file():
        return str(out), "done before"
    resume = (out / "checkpoint.npz").is_file()
    case.run(output=out, resume=resume, progress=False, m0=m0, sk_report=report)
    return str(out), "resumed" if resume else "run"


def _read(out):
    d = np.genfromtxt(Path(out) / "timeseries.csv", delimiter=",", names=True)
    return {k: np.asarray(d[k]) for k in d.dtype.names}


def transport_scan(case: PumpingCase, m_sk, energies):
    """Fig. 3: T per outgoing z spin and DOS per spin, with the Sk and without it (J = 0: a normal ribbon)."""
    rows = []
    sys_sk = case.electrons(m_sk)
    sys_0 = dataclasses.replace(case, broadening=0.0).electrons(m_sk).replace(exchange=0.0, broadening=0.0)
    sys_sk = sys_sk.replace(broadening=0.0)  # V = 0 and the paper's bare electrons
    for E in energies:
        row = [E]
        for s in (sys_0, sys_sk):
            fs = FermiSurface(s, E)
            for sp in ("up", "down"):
                row.append(sum(fs.transmission(spin_to=sp, spin_from=a) for a in ("up", "down")))
            row += [float(fs.ldos("up").sum()), float(fs.ldos("down").sum())]
        rows.append(row)
    return np.array(rows)


def git_commit():
    try:
        return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=10).stdout.strip()
    except Exception:  # pragma: no cover
        return None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true", help="12 x 12, one period (test)")
    g.add_argument("--paper", action="store_true", help="the paper's 40 x 40 (hours)")
    ap.add_argument("--output", default=None, help="output folder (default results/skyrmion_pumping_<time>)")
    og = ap.add_mutually_exclusive_group()
    og.add_argument("--overwrite", action="store_true")
    og.add_argument("--resume", action="store_true", help="continue the runs of an interrupted demo in --output")
    ap.add_argument("--periods", type=float, default=None, help="pumping periods at w = 1 (default by size)")
    ap.add_argument("--dt", type=float, default=0.025, help="RK4 step (lattice time units)")
    ap.add_argument("--broadening", type=float, default=0.05, help="bath eta [t] (0: the bare model)")
    ap.add_argument("--jobs", type=int, default=2, help="parallel runs (processes)")
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args(argv)
    preset = PRESETS["quick" if args.quick else "paper" if args.paper else "default"]
    n, f = preset["n"], preset["f"]
    periods = args.periods or preset["periods"]

    from fem_stt.io import prepare_output_dir, write_json
    if args.resume:
        if args.output is None or not Path(args.output).is_dir():
            ap.error("--resume needs the --output folder of the interrupted demo")
        out = Path(args.output)
    else:
        out = prepare_output_dir(args.output, overwrite=args.overwrite, default_root="results",
                                 default_name="skyrmion_pumping")
        if args.overwrite and (out / "runs").is_dir():  # asked for: replace the runs of the previous demo
            import shutil
            shutil.rmtree(out / "runs")
    t_start = time.time()
    base = dict(name="sk", nx=n, D=0.2 * f, K=0.07 * f * f, radius=8.0 / f, broadening=args.broadening,
                dt=args.dt, periods=periods, checkpoint_every=50)
    case = PumpingCase(**base)
    print(case.units.describe(), flush=True)
    print(f"[{n} x {n}] relaxing the skyrmion (D = {base['D']:.3g}, K = {base['K']:.3g}) ...", flush=True)
    m_sk, m_fm, report = case.relaxed_skyrmion()
    print(f"  E_Sk - E_FM(relaxed) = {report['E_Sk_minus_E_FM_relaxed']:.4f}, Q = {report['Q']:.4f}, "
          f"min m_z = {report['min_mz']:.4f}, radii (m_z = 0, 0.9, 0.99) = "
          f"{', '.join(f'{r:.2f}' for r in report['radii_mz_0_0.9_0.99'])}", flush=True)
    np.save(out / "m_skyrmion.npy", m_sk)

    # ---------------------------------------------------------------- Fig. 3 (static transport)
    t0 = time.time()
    E = np.linspace(0.02, 7.98, preset["energies"])
    f3 = transport_scan(case, m_sk, E)
    hdr = "E,T_up_noSk,T_down_noSk,DOS_up_noSk,DOS_down_noSk,T_up_Sk,T_down_Sk,DOS_up_Sk,DOS_down_Sk"
    np.savetxt(out / "fig3_transport.csv", f3, delimiter=",", header=hdr, comments="")
    t_fig3 = time.time() - t0

    # ---------------------------------------------------------------- dynamics runs
    runs = {"phi+": dict(phi=math.pi / 2), "phi-": dict(phi=-math.pi / 2), "phi0": dict(phi=0.0),
            "dt_half": dict(phi=math.pi / 2, dt=args.dt / 2, periods=1.0)}
    for V in preset["V"]:
        if V != 0.8:
            runs[f"V{V:g}"] = dict(V=V, phi=math.pi / 2)
    for w in preset["omegas"]:
        if w != 1.0:
            runs[f"w{w:g}"] = dict(omega=w, phi=math.pi / 2, periods=max(1.0, periods * w / 2))
        if w == min(preset["omegas"]) and w < 1.0:  # phi -> -phi at the slowest pump (rectification ~ w^2)
            runs[f"w{w:g}_phi-"] = dict(omega=w, phi=-math.pi / 2, periods=max(1.0, periods * w / 2))
        frozen_T = 2 * math.pi / w
        runs[f"frozen_w{w:g}"] = dict(omega=w, phi=math.pi / 2, freeze=True, periods=preset["frozen_periods"],
                                      dt=frozen_T / 64)
    runs["frozen_noSk_w1"] = dict(omega=1.0, phi=math.pi / 2, freeze=True, periods=1, dt=2 * math.pi / 64,
                                  exchange=0.0)
    (out / "runs").mkdir(exist_ok=True)
    jobs = []
    ctx = multiprocessing.get_context("spawn")
    t0 = time.time()
    status = {}
    with cf.ProcessPoolExecutor(max_workers=max(1, args.jobs), mp_context=ctx) as pool:
        def cost(k):  # RK4 stages (4 per step) or frozen evaluations (1 per point)
            r = runs[k]
            steps = r.get("periods", periods) * 2 * math.pi / r.get("omega", 1.0) / r.get("dt", args.dt)
            return steps * (1 if r.get("freeze") else 4)
        order = sorted(runs, key=lambda k: -cost(k))  # longest first
        for name in order:
            kw = {**base, **runs[name], "name": name}
            jobs.append(pool.submit(_run_one, kw, m_sk, report, str(out / "runs" / name)))
        try:
            from tqdm import tqdm
            it = tqdm(cf.as_completed(jobs), total=len(jobs), unit="run", disable=args.no_progress)
        except ImportError:  # pragma: no cover
            it = cf.as_completed(jobs)
        for j in it:
            path, how = j.result()
            status[Path(path).name] = how
    t_runs = time.time() - t0
    h = {name: _read(out / "runs" / name) for name in runs}

    # ---------------------------------------------------------------- analysis
    T1 = 2 * math.pi
    fits = {name: thiele_fit(h[name]["t"], h[name]["x"], h[name]["y"], 2 * math.pi / runs[name].get("omega", 1.0))
            for name in runs if not runs[name].get("freeze")}

    def disp(name):  # displacement per period over the whole run
        return np.array([fits[name]["dx_per_period"], fits[name]["dy_per_period"]])
    odd = 0.5 * (disp("phi+") - disp("phi-"))
    even = 0.5 * (disp("phi+") + disp("phi-"))
    slow = {}
    for name in runs:
        if name.endswith("_phi-"):
            w = name[1:-5]
            slow[f"omega_{w}"] = {"odd": (0.5 * (disp(f"w{w}") - disp(name))).tolist(),
                                  "even": (0.5 * (disp(f"w{w}") + disp(name))).tolist()}
    # dt vs dt/2 over the first period
    a, b = h["phi+"], h["dt_half"]
    sel = a["t"] <= T1 + 1e-9
    xb = np.interp(a["t"][sel], b["t"], b["x"])
    yb = np.interp(a["t"][sel], b["t"], b["y"])
    dt_err = float(max(np.abs(a["x"][sel] - xb).max(), np.abs(a["y"][sel] - yb).max()))
    amp = float(max(np.ptp(a["x"][sel]), np.ptp(a["y"][sel])))
    up_frac = float(np.abs(h["phi+"]["Ip_up"]).max() / np.abs(h["phi+"]["Ip"]).max())
    collapse = {f"w{w:g}": h[f"frozen_w{w:g}"] for w in preset["omegas"]}
    ref = collapse["w1"]
    ratio_err = 0.0
    for w in preset["omegas"]:
        c = collapse[f"w{w:g}"]
        ph = (c["t"] * w / (2 * math.pi)) % 1.0
        ref_ph = (ref["t"] / (2 * math.pi)) % 1.0
        o = np.argsort(ref_ph)
        ratio_err = max(ratio_err, float(np.abs(c["Ip"] / w - np.interp(ph, ref_ph[o], ref["Ip"][o])).max()))

    summary = {
        "size": n, "scale_factor": f, "skyrmion": report, "units": case.units.table(),
        "torque_statement": "dm/dt = -m x [dH_Sk/dm + 2J s] - alpha m x dm/dt (spin convention, c = 2J = 4)",
        "parameters": {**base, "E_F": case.E_F, "J": case.exchange, "alpha": case.alpha,
                       "pump_columns": case.columns, "sd_mode": case.sd_mode},
        "fig3": {"T_up_Sk_at_1.5_over_T": float(np.interp(1.5, E, f3[:, 5]) /
                                                (np.interp(1.5, E, f3[:, 5]) + np.interp(1.5, E, f3[:, 6])))},
        "thiele": fits,
        "velocity_SI_m_per_s": {k: {"vx": v["vx"] * case.units.velocity, "vy": v["vy"] * case.units.velocity}
                                for k, v in fits.items()},
        "drift_per_period_odd_in_phi": odd.tolist(), "drift_per_period_even_in_phi": even.tolist(),
        "drift_per_period_phi0": disp("phi0").tolist(), "drift_per_period_slow_pump": slow,
        "dt_convergence": {"dt": args.dt, "max_centre_difference_dt_vs_dt_half_first_period": dt_err,
                           "centre_excursion_first_period": amp},
        "Ip_up_fraction_max": up_frac,
        "Ip_over_omega_collapse_max_abs_difference": ratio_err,
        "max_norm_drift_per_step": float(max(np.max(h[k]["norm_drift"]) for k in fits)),
        "wall_time_s": {"fig3": t_fig3, "runs": t_runs, "total": time.time() - t_start},
        "run_status": status, "commit": git_commit(), "argv": sys.argv if argv is None else argv,
        "versions": {"numpy": np.__version__},
    }
    from importlib.metadata import PackageNotFoundError, version
    try:
        summary["versions"]["kwant"] = version("kwant")
    except PackageNotFoundError:  # pragma: no cover
        pass
    write_json(out / "summary.json", summary)
    _csvs(out, h, runs, preset)
    _figures(out, f3, h, runs, preset, n)
    print(json.dumps({k: summary[k] for k in ("drift_per_period_odd_in_phi", "drift_per_period_even_in_phi",
                                              "drift_per_period_phi0", "drift_per_period_slow_pump", "dt_convergence", "Ip_up_fraction_max",
                                              "wall_time_s")}, indent=1), flush=True)
    print(f"results in {out}", flush=True)
    return out


def _csvs(out, h, runs, preset):
    def dump(path, names, keys):
        cols, hdr = [], []
        L = min(len(h[nm]["t"]) for nm in names)
        for nm in names:
            for k in keys:
                cols.append(h[nm][k][:L])
                hdr.append(f"{k}_{nm}")
        np.savetxt(out / path, np.column_stack(cols), delimiter=",", header=",".join(hdr), comments="")
    dump("fig4_pumping.csv", ["phi+", "phi-", "phi0"], ["t", "Ip", "Ip_up", "Ip_down", "x", "y"])
    dump("fig5_amplitude.csv", ["phi+"] + [f"V{V:g}" for V in preset["V"] if V != 0.8], ["t", "x", "y"])
    dump("fig6_frequency.csv", [f"frozen_w{w:g}" for w in preset["omegas"]], ["t", "Ip"])
    dump("fig6_free.csv", [f"w{w:g}" if w != 1.0 else "phi+" for w in preset["omegas"]], ["t", "x", "y"])


def _figures(out, f3, h, runs, preset, n):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    E = f3[:, 0]
    fig, ax = plt.subplots(2, 2, figsize=(9, 6.5), sharex=True)
    for j, (lab, c0) in enumerate((("without Sk (J = 0)", 1), ("with Sk", 5))):
        ax[0, j].plot(E, f3[:, c0], label=r"$T_\uparrow$")
        ax[0, j].plot(E, f3[:, c0 + 1], "--", label=r"$T_\downarrow$")
        ax[1, j].plot(E, f3[:, c0 + 2], label=r"DOS$_\uparrow$")
        ax[1, j].plot(E, f3[:, c0 + 3], "--", label=r"DOS$_\downarrow$")
        ax[0, j].set_title(f"{lab}, {n} x {n}, V = 0", fontsize=10)
        for a in (ax[0, j], ax[1, j]):
            if j == 1:
                for x in (2.0, 6.0):
                    a.axvline(x, color="0.6", lw=0.8)
            a.legend(fontsize=8)
        ax[1, j].set_xlabel("E [t]")
    ax[0, 0].set_ylabel("transmission")
    ax[1, 0].set_ylabel("DOS [1/t]")
    fig.suptitle("Fig. 3: regions (i) 0<E<J only down, (ii) both, (iii) 8-J<E<8 only up", fontsize=10)
    fig.tight_layout()
    fig.savefig(out / "fig3_transport.png", dpi=110)
    plt.close(fig)

    T = 2 * math.pi
    fig, ax = plt.subplots(3, 1, figsize=(7, 8), sharex=True)
    ax[0].plot(h["frozen_noSk_w1"]["t"] / T, h["frozen_noSk_w1"]["Ip"], "k:", label="without Sk (J = 0, frozen)")
    for nm, st in (("phi+", "-"), ("phi-", "--"), ("phi0", ":")):
        lab = {"phi+": r"$\phi=\pi/2$", "phi-": r"$\phi=-\pi/2$", "phi0": r"$\phi=0$"}[nm]
        ax[0].plot(h[nm]["t"] / T, h[nm]["Ip"], st, label="with Sk " + lab)
        ax[2].plot(h[nm]["t"] / T, h[nm]["x"] - h[nm]["x"][0], st, label="x " + lab)
        ax[2].plot(h[nm]["t"] / T, h[nm]["y"] - h[nm]["y"][0], st, label="y " + lab)
    ax[1].plot(h["phi+"]["t"] / T, h["phi+"]["Ip_up"], label=r"$I_p^\uparrow$")
    ax[1].plot(h["phi+"]["t"] / T, h["phi+"]["Ip_down"], label=r"$I_p^\downarrow$")
    ax[0].set_ylabel("$I_p$ (eq. 40)")
    ax[1].set_ylabel(r"$I_p^{\uparrow/\downarrow}$, $\phi=\pi/2$")
    ax[2].set_ylabel("centre - centre(0) [a]")
    ax[2].set_xlabel("t / T")
    for a in ax:
        a.legend(fontsize=7, ncol=2)
    fig.suptitle("Fig. 4: E = 1.9, J = 2, V = 0.8, $\\omega_p$ = 1", fontsize=10)
    fig.tight_layout()
    fig.savefig(out / "fig4_pumping.png", dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(2, 1, figsize=(7, 6), sharex=True)
    for V in preset["V"]:
        nm = "phi+" if V == 0.8 else f"V{V:g}"
        ax[0].plot(h[nm]["t"] / T, h[nm]["x"] - h[nm]["x"][0], label=f"V = {V:g}")
        ax[1].plot(h[nm]["t"] / T, h[nm]["y"] - h[nm]["y"][0], label=f"V = {V:g}")
    ax[0].set_ylabel("x - x(0) [a]")
    ax[1].set_ylabel("y - y(0) [a]")
    ax[1].set_xlabel("t / T")
    ax[0].legend(fontsize=8, ncol=3)
    fig.suptitle(r"Fig. 5: amplitude scan, $\omega_p$ = 1, $\phi = \pi/2$", fontsize=10)
    fig.tight_layout()
    fig.savefig(out / "fig5_amplitude.png", dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(3, 1, figsize=(7, 8))
    for w in preset["omegas"]:
        fr = h[f"frozen_w{w:g}"]
        ax[0].plot(fr["t"] * w / (2 * math.pi), fr["Ip"] / w, label=rf"$\omega_p$ = {w:g}")
        nm = "phi+" if w == 1.0 else f"w{w:g}"
        ax[1].plot(h[nm]["t"] * w / (2 * math.pi), h[nm]["x"] - h[nm]["x"][0], label=rf"$\omega_p$ = {w:g}")
        ax[2].plot(h[nm]["t"] * w / (2 * math.pi), h[nm]["y"] - h[nm]["y"][0], label=rf"$\omega_p$ = {w:g}")
    ax[0].set_ylabel(r"$I_p/\omega_p$ (frozen Sk)")
    ax[1].set_ylabel("x - x(0) [a]")
    ax[2].set_ylabel("y - y(0) [a]")
    for a in ax:
        a.set_xlabel("t / T")
        a.legend(fontsize=8)
    fig.suptitle("Fig. 6: frequency scan, V = 0.8", fontsize=10)
    fig.tight_layout()
    fig.savefig(out / "fig6_frequency.png", dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
