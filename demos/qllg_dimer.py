"""Quantum LLG of a spin dimer (seed 004): Figs. 1(a)-(d), 2(a)-(b), 3 and 4 of Liu et al., PRL 133, 266704
(2024), with the classical LLG and Lindblad comparisons, and a spin chain beyond the paper.

Parameters as in the paper (fem_stt.atomistic.qllg.paper): hbar = gamma_g = B0 = 1 with gamma_g = 1e11
rad/(s T), B0 = 1 T (time unit 10 ps), kappa = alpha = 0.5, J = -1 / +1, D along z. Every case runs by the
adaptive integrator (DOP853, rtol = atol = 1e-12) and is cross-checked against the closed form (pure and
Werner states) and, for Fig. 1 (every case with --all-routes), RKMK4 (h = 0.05 ps). Writes into a new folder
results/qllg_dimer_<time>/ (or --output):

- fig1.png, fig1.csv: (a)-(d) r1 (solid) and the classical m1 (dashed: Jc = J, the paper's convention; dotted:
  Jc = 2J, the mean field); (e) the Lindblad comparison for case (b): purity, |r1| and singlet fidelity
  (fig1_lindblad.csv);
- fig2.png, fig2.csv: the correlation matrix T_kl for D = 0 and 0.6;
- fig3.png, fig3.csv: B^2 = max(M - 1, 0) (what the paper's figures plot; B is its square root) from |Psi+>
  (the caption) and from Werner(Psi+, 0.9) (what the figure's data show), D = 0, 0.2, 0.4, 0.6;
- fig4.png, fig4.csv: B^2 for the Werner states (p = 0.9) over Phi+-, Psi+- with J = -1 and +1;
- chain.png, chain.csv: an open chain of N spins (default 10; pure-state Krylov propagation) from a uniform
  and a Néel product state, FM / AFM with D = 0 / 0.6, against classical LLG in both conventions (wall
  time per case; peak memory traced by tracemalloc on the first case);
- summary.json: the numbers of the model spec's validation cases (qllg.md section 3), the route
  cross-checks, the invariants, wall times and peak memory; provenance.json.

Run:  .venv/bin/python demos/qllg_dimer.py [--quick] [--output DIR] [--chain-N 10] [--all-routes] [--dense-check]
"""
import argparse
import csv
import logging
import platform
import resource
import sys
import time
import tracemalloc

import numpy as np

from fem_stt import __version__
from fem_stt.atomistic.qllg import PAPER
from fem_stt.atomistic.qllg.classical import ClassicalLLG, compare
from fem_stt.atomistic.qllg.observables import (bloch_vectors, chsh_m, concurrence, crossings, singlet_fidelity,
                                                two_qubit_observables, zero_intervals)
from fem_stt.atomistic.qllg.paper import (KAPPA, chain_run, figure_cases, initial_state, neel_directions,
                                          run_case)

PS = 1e-12
log = logging.getLogger("fem_stt.demos.qllg_dimer")


def rnd(x, d=6):
    """Round floats (and nested lists) for the JSON summary."""
    if isinstance(x, dict):
        return {k: rnd(v, d) for k, v in x.items()}
    if isinstance(x, (list, tuple, np.ndarray)):
        return [rnd(v, d) for v in x]
    if isinstance(x, (float, np.floating)):
        return float(f"{x:.{d}g}") if np.isfinite(x) else str(x)
    return x


def obs_at(tr, t_ps):
    """Two-qubit observables at an exact time (dense output)."""
    return two_qubit_observables(tr.state_at(t_ps * PS))


def ps(x):
    return [rnd(v / PS, 6) for v in x] if isinstance(x, (list, np.ndarray)) else rnd(x / PS, 6)


def refine_extremum(tr, f, sign=+1):
    """(time [s], value) of the max (sign +1) or min (-1) of f(state) over the run, refined on the dense output."""
    from scipy.optimize import minimize_scalar
    vals = np.array([f(tr.states[k]) for k in range(tr.t.size)])
    k = int(np.argmax(sign * vals))
    lo, hi = tr.t[max(k - 1, 0)], tr.t[min(k + 1, tr.t.size - 1)]
    if k in (0, tr.t.size - 1):
        return tr.t[k], vals[k]
    r = minimize_scalar(lambda s: -sign * f(tr.state_at(s)), bounds=(lo, hi), method="bounded",
                        options={"xatol": 1e-17})
    return r.x, sign * -r.fun


def first_time(tr, f, level, direction=+1):
    c = crossings(tr.t, [f(s) for s in tr.states], level, lambda s: f(tr.state_at(s)), direction=direction)
    return float(c[0]) if c.size else float("nan")


def stays_below_from(tr, f, level):
    """The time after which f stays below level (its last downward crossing), NaN if it ends above."""
    vals = np.array([f(s) for s in tr.states])
    if vals[-1] >= level:
        return float("nan")
    c = crossings(tr.t, vals, level, lambda s: f(tr.state_at(s)), direction=-1)
    return float(c[-1]) if c.size else float(tr.t[0])


def lowest_overlapping_eigenstate(H, phi, tol=1e-10):
    w, W = np.linalg.eigh(H)
    c = np.abs(W.conj().T @ phi)
    k = int(np.argmax(c > tol))
    return W[:, k], w[k]


def asymptote(case, tr):
    """rho(inf) from the closed forms' limit: (1-p)/4 + p|g><g| with g the lowest eigenstate overlapping phi."""
    from fem_stt.atomistic.qllg.integrators import werner_decomposition
    p, phi = werner_decomposition(initial_state(case.initial))
    g, _ = lowest_overlapping_eigenstate(case.hamiltonian().dense(), phi)
    return (1 - p) / 4 * np.eye(4) + p * np.outer(g, g.conj())


# ---------------------------------------------------------------------------- runs
def run_figures(n_out, rkmk4_check):
    runs, checks = {}, {}
    for fig, cases in figure_cases().items():
        for c in cases:
            tr = run_case(c, n_out=n_out)
            cf = run_case(c, n_out=n_out, method="closed_form")
            chk = {"closed_form_vs_adaptive": float(np.abs(cf.states - tr.states).max())}
            if rkmk4_check or c.name.startswith("fig1"):
                rk = run_case(c, n_out=n_out, method="rkmk4", dt=0.005 * PAPER.time_unit)
                chk["rkmk4_vs_adaptive"] = float(np.abs(rk.states - tr.states).max())
                chk["rkmk4_spectrum_drift"] = rk.stats["spectrum_drift"]
            chk.update({k: tr.stats[k] for k in ("spectrum_drift", "trace_error", "hermiticity_error", "nfev",
                                                 "wall_s")})
            chk["energy_increase_max_E0"] = tr.stats["energy_increase_max_J"] / PAPER.energy_unit
            runs[c.name], checks[c.name] = (c, tr), chk
    return runs, checks


def classical_runs(runs):
    out = {}
    for name, (c, tr) in runs.items():
        if c.classical:
            H = c.hamiltonian()
            out[name] = {conv: ClassicalLLG(H, KAPPA, conv).solve([[0, 0, 1], [0, 0, -1]], tr.t)
                         for conv in ("paper", "mean_field")}
    return out


def lindblad_run(runs):
    from fem_stt.atomistic.qllg.lindblad import lindblad
    c, tr = runs["fig1b"]
    obs = lambda s, t: {**two_qubit_observables(s), "purity": float(np.real(np.sum(s * s.T)))}  # noqa: E731
    return lindblad(c.hamiltonian(), initial_state(c.initial), tr.t, kappa=KAPPA, observe=obs)


def chain_study(N, n_out, tilt=1e-4):
    """Uniform (+z; site 0 tilted by ``tilt`` rad about x, so that unstable symmetric states are left by a
    defined perturbation rather than round-off) and Néel initial states; FM/AFM x D = 0/0.6."""
    uni = np.tile([0.0, 0.0, 1.0], (N, 1))
    uni[0] = [0.0, -np.sin(tilt), np.cos(tilt)]
    out = {}
    for init, dirs in (("uniform", uni), ("neel", neel_directions(N))):
        for J in (-1.0, 1.0):
            for D in (0.0, 0.6):
                traced = not out  # memory is traced on the first case only (tracemalloc slows Python ~2x)
                if traced:
                    tracemalloc.start()
                t0 = time.perf_counter()
                H, tr = chain_run(N, J, D, t_end_ps=80.0, n_out=n_out, directions=dirs)
                wall = time.perf_counter() - t0
                peak = tracemalloc.get_traced_memory()[1] if traced else float("nan")
                if traced:
                    tracemalloc.stop()
                cl = {conv: ClassicalLLG(H, KAPPA, conv).solve(dirs, tr.t) for conv in ("paper", "mean_field")}
                key = f"{init}_{'FM' if J < 0 else 'AFM'}_D{D:g}"
                out[key] = {"tr": tr, "cl": cl, "wall_s": wall, "peak_traced_MB": peak / 1e6,
                            "metrics": {conv: compare(tr.t, tr.observables["r"], c.n) for conv, c in cl.items()}}
                log.info("chain N=%d %-16s q-LLG %.1f s (peak %.4g MB traced); parts from LLG (>0.1) at %.2f ps "
                         "(Jc=J) / %.2f ps (Jc=2J)", N, key, wall, peak / 1e6,
                         out[key]["metrics"]["paper"]["t_part"] / PS, out[key]["metrics"]["mean_field"]["t_part"] / PS)
    return out


def dense_check(N, n_out):
    """Dense density-matrix q-LLG (DOP853) of the Néel AFM D = 0.6 chain against the pure-state path."""
    out = {}
    for dense in (False, True):
        tracemalloc.start()
        t0 = time.perf_counter()
        H, tr = chain_run(N, 1.0, 0.6, t_end_ps=80.0, n_out=n_out, dense=dense)
        out["dense" if dense else "pure"] = {"tr": tr, "wall_s": time.perf_counter() - t0,
                                             "peak_traced_MB": tracemalloc.get_traced_memory()[1] / 1e6}
        tracemalloc.stop()
    d = out["dense"]
    dr = np.abs(d["tr"].observables["r"] - out["pure"]["tr"].observables["r"]).max()
    return {"N": N, "max_abs_r_difference": float(dr), "dense_wall_s": d["wall_s"],
            "dense_peak_traced_MB": d["peak_traced_MB"], "dense_nfev": d["tr"].stats["nfev"],
            "dense_spectrum_drift": d["tr"].stats["spectrum_drift"], "pure_wall_s": out["pure"]["wall_s"],
            "pure_peak_traced_MB": out["pure"]["peak_traced_MB"]}


# ---------------------------------------------------------------------------- numbers (spec section 3)
def r1norm(s):
    return float(np.linalg.norm(bloch_vectors(s, [0.5, 0.5])[0]))


def r1x(s):
    return float(bloch_vectors(s, [0.5, 0.5])[0][0])


def summary_numbers(runs, classical, lind):
    S = {}
    # Fig. 1(a): FM, D = 0
    c, tr = runs["fig1a"]
    tmin, rmin = refine_extremum(tr, r1norm, -1)
    tC, Cmax = refine_extremum(tr, concurrence, +1)
    a = {"at_ps": {t: {"r1": obs_at(tr, t)["r1"].tolist(), "abs_r1": float(np.linalg.norm(obs_at(tr, t)["r1"])),
                       "C": obs_at(tr, t)["C"]} for t in (5, 10, 20)},
         "min_abs_r1": rmin, "t_min_abs_r1_ps": tmin / PS, "max_C": Cmax, "t_max_C_ps": tC / PS,
         "t_r1x_0.9_ps": first_time(tr, r1x, 0.9) / PS, "t_r1x_0.99_ps": first_time(tr, r1x, 0.99) / PS,
         "r1_end": tr.observables["r1"][-1].tolist(),
         "r1x_at_5_10_15_20_ps": {"qllg": [r1x(tr.state_at(t * PS)) for t in (5, 10, 15, 20)]}}
    for conv, cl in classical["fig1a"].items():
        k = [int(np.argmin(np.abs(tr.t - t * PS))) for t in (5, 10, 15, 20)]
        a["r1x_at_5_10_15_20_ps"][f"llg_{conv}"] = cl.n[k, 0, 0].tolist()
    a["classical"] = {conv: _cmp(tr, cl) for conv, cl in classical["fig1a"].items()}
    S["fig1a"] = a
    # Fig. 1(b) / 2(a): AFM, D = 0
    c, tr = runs["fig1b"]
    T60 = obs_at(runs["fig2a"][1], 60)["T"]
    S["fig1b_fig2a"] = {
        "abs_r1_at_5_10_20_40_ps": [r1norm(tr.state_at(t * PS)) for t in (5, 10, 20, 40)],
        "abs_r1_stays_below_1e-2_from_ps": stays_below_from(tr, r1norm, 1e-2) / PS,
        "abs_r1_stays_below_1e-3_from_ps": stays_below_from(tr, r1norm, 1e-3) / PS,
        "singlet_fidelity_0.99_at_ps": first_time(tr, singlet_fidelity, 0.99) / PS,
        "singlet_fidelity_0.999_at_ps": first_time(tr, singlet_fidelity, 0.999) / PS,
        "singlet_fidelity_at_40_ps": singlet_fidelity(tr.state_at(40 * PS)),
        "T_at_60_ps": T60.tolist(), "T_at_60_ps_max_offdiag": float(np.abs(T60 - np.diag(np.diag(T60))).max()),
        "classical": {conv: _cmp(tr, cl) for conv, cl in classical["fig1b"].items()}}
    # Fig. 1(c), 1(d)/2(b): asymptotes from the ground state and from the run
    for name, key in (("fig1c", "fig1c"), ("fig1d", "fig1d_fig2b")):
        c, tr = runs[name]
        rho_inf = asymptote(c, tr)
        g = two_qubit_observables(rho_inf)
        e = two_qubit_observables(tr.states[-1])
        S[key] = {"r1_inf_ground_state": g["r1"].tolist(), "abs_r1_inf_ground_state": float(np.linalg.norm(g["r1"])),
                  "C_inf_ground_state": g["C"], "r1_at_80_ps": e["r1"].tolist(),
                  "abs_r1_at_80_ps": float(np.linalg.norm(e["r1"])), "C_at_80_ps": e["C"],
                  "classical": {conv: _cmp(tr, cl) for conv, cl in classical[name].items()}}
        if name == "fig1d":
            T = obs_at(runs["fig2b"][1], 60)["T"]
            S[key].update({"T_inf_ground_state": g["T"].tolist(), "T_at_60_ps": T.tolist(),
                           "Txy_plus_Tyx_at_60_ps": float(T[0, 1] + T[1, 0])})
    # Fig. 3
    f3 = {}
    for name, (c, tr) in runs.items():
        if not name.startswith("fig3"):
            continue
        d = {"B_at_0_5_10_20_30_40_60_ps": [obs_at(tr, t)["B"] for t in (0, 5, 10, 20, 30, 40, 60)]}
        d["B2_at_0_5_10_20_30_40_60_ps"] = [v ** 2 for v in d["B_at_0_5_10_20_30_40_60_ps"]]
        if c.D != 0:
            tmin, Bmin = refine_extremum(tr, lambda s: two_qubit_observables(s)["B"], -1)
            d.update({"min_B": Bmin, "t_min_B_ps": tmin / PS, "B_inf": two_qubit_observables(asymptote(c, tr))["B"],
                      "B_at_60_ps": float(tr.observables["B"][-1])})
        iv = zero_intervals(tr.t, tr.observables["M"] - 1, lambda s: chsh_m(tr.state_at(s)) - 1)
        d["B_zero_intervals_ps"] = [[a / PS, b / PS] for a, b in iv]
        f3[name] = d
    S["fig3"] = f3
    # Fig. 4
    f4 = {}
    for name, (c, tr) in runs.items():
        if not name.startswith("fig4"):
            continue
        iv = zero_intervals(tr.t, tr.observables["M"] - 1, lambda s: chsh_m(tr.state_at(s)) - 1)
        tC, Cmin = refine_extremum(tr, concurrence, -1)
        f4[name] = {"B0": float(tr.observables["B"][0]), "B_zero_intervals_ps": [[a / PS, b / PS] for a, b in iv],
                    "B_at_60_ps": float(tr.observables["B"][-1]),
                    "B_inf": two_qubit_observables(asymptote(c, tr))["B"], "min_C": Cmin, "t_min_C_ps": tC / PS}
    S["fig4"] = f4
    S["fig4_B0_expected_sqrt(2p^2-1)"] = float(np.sqrt(2 * 0.9 ** 2 - 1))
    # Lindblad
    q = runs["fig1b"][1]
    S["lindblad_fig1b"] = {"qllg_purity_range": float(np.ptp(q.observables["purity"])),
                           "lindblad_min_purity": float(lind.observables["purity"].min()),
                           "lindblad_t_min_purity_ps": float(lind.t[np.argmin(lind.observables["purity"])] / PS),
                           "lindblad_singlet_fidelity_end": float(lind.observables["F_singlet"][-1]),
                           "qllg_singlet_fidelity_end": float(q.observables["F_singlet"][-1]),
                           "lindblad_r1_end": lind.observables["r1"][-1].tolist(),
                           "lindblad_wall_s": lind.stats["wall_s"]}
    return S


def _cmp(tr, cl):
    d = compare(tr.t, np.stack([tr.observables["r1"], tr.observables["r2"]], axis=1), cl.n)
    return {"max_dev": d["max_dev"], "end_dev": d["end_dev"], "m1_end": d["m_end"][0],
            "t_m1x_0.9_ps": d["t_sat_classical"][0.9] / PS, "t_m1x_0.99_ps": d["t_sat_classical"][0.99] / PS}


# ---------------------------------------------------------------------------- files
def write_csv(path, header, columns):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        for row in zip(*columns):
            w.writerow([f"{v:.10g}" for v in row])


def write_curves(out, runs, classical, lind, chain):
    t = runs["fig1a"][1].t / PS
    cols, head = [t], ["t_ps"]
    for name in ("fig1a", "fig1b", "fig1c", "fig1d"):
        tr = runs[name][1]
        for i, ax in enumerate("xyz"):
            head.append(f"{name}_r1{ax}"), cols.append(tr.observables["r1"][:, i])
        head.append(f"{name}_abs_r1"), cols.append(np.linalg.norm(tr.observables["r1"], axis=1))
        for conv, cl in classical[name].items():
            for i, ax in enumerate("xyz"):
                head.append(f"{name}_m1{ax}_{conv}"), cols.append(cl.n[:, 0, i])
    write_csv(out / "fig1.csv", head, cols)
    head = ["t_ps"] + [f"{k}_{q}" for q in ("qllg", "lindblad") for k in ("purity", "abs_r1", "F_singlet", "C")]
    q = runs["fig1b"][1]
    cols = [t] + [np.linalg.norm(s.observables["r1"], axis=1) if k == "abs_r1" else s.observables[k]
                  for s in (q, lind) for k in ("purity", "abs_r1", "F_singlet", "C")]
    write_csv(out / "fig1_lindblad.csv", head, cols)
    for fig, names, keys in (("fig2", ("fig2a", "fig2b"), None),
                             ("fig3", [n for n in runs if n.startswith("fig3")], ("B2", "B", "C")),
                             ("fig4", [n for n in runs if n.startswith("fig4")], ("B2", "B", "C"))):
        tt = runs[names[0]][1].t / PS
        head, cols = ["t_ps"], [tt]
        for name in names:
            tr = runs[name][1]
            if keys is None:
                for i, a in enumerate("xyz"):
                    for j, b in enumerate("xyz"):
                        head.append(f"{name}_T{a}{b}"), cols.append(tr.observables["T"][:, i, j])
            else:
                for k in keys:
                    head.append(f"{name}_{k}"), cols.append(tr.observables[k])
        write_csv(out / f"{fig}.csv", head, cols)
    if chain:
        tt = next(iter(chain.values()))["tr"].t / PS
        head, cols = ["t_ps"], [tt]
        for key, d in chain.items():
            r = d["tr"].observables["r"]
            head.append(f"{key}_mean_abs_r"), cols.append(np.linalg.norm(r, axis=2).mean(axis=1))
            for conv, cl in d["cl"].items():
                head.append(f"{key}_maxdev_{conv}"), cols.append(np.linalg.norm(r - cl.n, axis=2).max(axis=1))
        write_csv(out / "chain.csv", head, cols)


def plot_all(out, runs, classical, lind, chain):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    colors = {"x": "C0", "y": "C1", "z": "C2"}
    fig, axes = plt.subplots(2, 3, figsize=(15, 8), constrained_layout=True)
    titles = {"fig1a": "(a) FM, D = 0", "fig1b": "(b) AFM, D = 0", "fig1c": "(c) FM, D = 0.6|J|",
              "fig1d": "(d) AFM, D = 0.6|J|"}
    for ax, name in zip(axes.ravel(), ("fig1a", "fig1b", "fig1c", "fig1d")):
        tr = runs[name][1]
        t = tr.t / PS
        for i, a in enumerate("xyz"):
            ax.plot(t, tr.observables["r1"][:, i], color=colors[a], lw=1.8, label=f"$r_{{1{a}}}$ q-LLG")
            ax.plot(t, classical[name]["paper"].n[:, 0, i], "--", color=colors[a], lw=1.1,
                    label=f"$m_{{1{a}}}$ LLG, $J_c=J$")
            ax.plot(t, classical[name]["mean_field"].n[:, 0, i], ":", color=colors[a], lw=1.1,
                    label=f"$m_{{1{a}}}$ LLG, $J_c=2J$")
        ax.plot(t, np.linalg.norm(tr.observables["r1"], axis=1), color="k", lw=1.0, label="$|r_1|$")
        ax.set(title=titles[name], xlabel="t (ps)", ylim=(-1.05, 1.05), xlim=(0, t[-1]))
    axes[0, 0].legend(fontsize=7, ncol=2, loc="lower right")
    # (e) and (f): Lindblad
    q = runs["fig1b"][1]
    t = q.t / PS
    ax = axes[1, 1]
    ax.plot(t, q.observables["purity"], "k", lw=1.8, label="purity, q-LLG")
    ax.plot(t, lind.observables["purity"], "k--", lw=1.4, label="purity, Lindblad")
    ax.plot(t, np.linalg.norm(q.observables["r1"], axis=1), "C3", label="$|r_1|$, q-LLG")
    ax.plot(t, np.linalg.norm(lind.observables["r1"], axis=1), "C3--", label="$|r_1|$, Lindblad")
    ax.set(title="(e) case (b): q-LLG vs Lindblad", xlabel="t (ps)", xlim=(0, t[-1]), ylim=(0, 1.05))
    ax.legend(fontsize=8)
    ax = axes[1, 2]
    for k, lab, col in (("F_singlet", "singlet fidelity", "C4"), ("C", "concurrence", "C5")):
        ax.plot(t, q.observables[k], color=col, label=f"{lab}, q-LLG")
        ax.plot(t, lind.observables[k], "--", color=col, label=f"{lab}, Lindblad")
    ax.set(title="(f) case (b): q-LLG vs Lindblad", xlabel="t (ps)", xlim=(0, t[-1]), ylim=(-0.02, 1.02))
    ax.legend(fontsize=8)
    fig.savefig(out / "fig1.png", dpi=110)
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), constrained_layout=True)
    for ax, name, title in zip(axes, ("fig2a", "fig2b"), ("(a) D = 0", "(b) D = 0.6|J|")):
        tr = runs[name][1]
        for i, a in enumerate("xyz"):
            for j, b in enumerate("xyz"):
                ax.plot(tr.t / PS, tr.observables["T"][:, i, j], lw=1.8 if i == j else 1.0,
                        ls="-" if i <= j else "--", label=f"$T_{{{a}{b}}}$")
        ax.set(title=f"Fig. 2{title}: AFM, |up down>", xlabel="t (ps)", xlim=(0, 60))
    axes[0].legend(ncol=3, fontsize=8)
    fig.savefig(out / "fig2.png", dpi=110)
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), constrained_layout=True)
    for ax, kind, title in zip(axes, ("pure", "werner"), ("|Psi+> (caption)", "Werner(Psi+, p = 0.9) (figure data)")):
        for D in (0.0, 0.2, 0.4, 0.6):
            tr = runs[f"fig3_{kind}_D{D:g}"][1]
            ax.plot(tr.t / PS, tr.observables["B2"], label=f"D = {D:g}")
        ax.set(title=f"Fig. 3, AFM from {title}", xlabel="t (ps)", ylabel="$B^2$ = max(M - 1, 0)", xlim=(0, 60),
               ylim=(-0.02, 1.02))
        ax.legend()
    fig.savefig(out / "fig3.png", dpi=110)
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), constrained_layout=True)
    for ax, kind in zip(axes, ("FM", "AFM")):
        for b in ("Phi+", "Phi-", "Psi+", "Psi-"):
            tr = runs[f"fig4_{kind}_{b}"][1]
            ax.plot(tr.t / PS, tr.observables["B2"], label=f"Werner({b}, 0.9)")
        ax.set(title=f"Fig. 4, {kind} (J = {'-1' if kind == 'FM' else '+1'}), D = 0.4|J|, B || (1,1,1)",
               xlabel="t (ps)", ylabel="$B^2$", xlim=(0, 60), ylim=(-0.02, 0.7))
        ax.legend()
    fig.savefig(out / "fig4.png", dpi=110)
    plt.close(fig)

    if chain:
        fig, axes = plt.subplots(1, 3, figsize=(16, 4.5), constrained_layout=True)
        N = next(iter(chain.values()))["tr"].observables["r"].shape[1]
        for ax, init in zip(axes[:2], ("uniform", "neel")):
            for i, (key, d) in enumerate((k, v) for k, v in chain.items() if k.startswith(init)):
                r = d["tr"].observables["r"]
                t = d["tr"].t / PS
                for conv, ls in (("paper", "-"), ("mean_field", "--")):
                    ax.plot(t, np.linalg.norm(r - d["cl"][conv].n, axis=2).max(axis=1), ls, color=f"C{i}",
                            label=f"{key.split('_', 1)[1]}, Jc = {'J' if conv == 'paper' else '2J'}")
            label = "Néel" if init == "neel" else init
            ax.set(title=f"N = {N} chain from the {label} state: max$_k$|r$_k$ - m$_k$|", xlabel="t (ps)",
                   yscale="log", ylim=(1e-12, 3), xlim=(0, 80))
            ax.axhline(0.1, color="0.6", lw=0.8)
            ax.legend(fontsize=7)
        ax = axes[2]
        for i, (key, d) in enumerate(chain.items()):
            ax.plot(d["tr"].t / PS, np.linalg.norm(d["tr"].observables["r"], axis=2).mean(axis=1),
                    "-" if key.startswith("uniform") else "--", color=f"C{i % 4}", label=key)
        ax.set(title="mean Bloch length (q-LLG; classical: 1)", xlabel="t (ps)", xlim=(0, 80), ylim=(0, 1.05))
        ax.legend(fontsize=7)
        fig.savefig(out / "chain.png", dpi=110)
        plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="201 outputs per curve, chain of 4 spins")
    ap.add_argument("--all-routes", action="store_true",
                    help="cross-check every case by RKMK4 too (default: Fig. 1; all cases by the closed form)")
    ap.add_argument("--output", default=None, help="output folder (default: results/qllg_dimer_<time>)")
    ap.add_argument("--overwrite", action="store_true", help="allow writing into a folder that holds results")
    ap.add_argument("--chain-N", type=int, default=None, help="chain length (default 10; 4 with --quick; 0: none)")
    ap.add_argument("--dense-check", action="store_true",
                    help="also run the N = 8 chain by the dense density-matrix integrator (about a minute)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    log.setLevel(logging.INFO)
    N = args.chain_N if args.chain_N is not None else (4 if args.quick else 10)
    if N < 0 or N == 1 or N > 16:
        ap.error("--chain-N must be 0 (no chain) or 2 ... 16")
    from mpi4py import MPI

    from fem_stt.io import prepare_output_dir, write_json
    out = prepare_output_dir(args.output, MPI.COMM_SELF, args.overwrite, default_name="qllg_dimer")
    log.info(PAPER.describe())
    log.info("kappa = alpha = %g; output folder %s", KAPPA, out)
    t_start = time.perf_counter()
    n_out = 201 if args.quick else 801
    runs, checks = run_figures(n_out, rkmk4_check=args.all_routes)
    t_fig = time.perf_counter()
    log.info("figures: %d cases in %.1f s (adaptive + closed form, RKMK4 for %s)", len(runs), t_fig - t_start,
             "all" if args.all_routes else "Fig. 1")
    classical = classical_runs(runs)
    lind = lindblad_run(runs)
    summary = {"units": PAPER.as_dict(), "kappa": KAPPA, "n_out": n_out,
               "numbers": summary_numbers(runs, classical, lind), "checks": checks,
               "checks_worst": {k: max(v.get(k, 0.0) for v in checks.values())
                                for k in ("closed_form_vs_adaptive", "rkmk4_vs_adaptive", "spectrum_drift",
                                          "rkmk4_spectrum_drift", "trace_error", "energy_increase_max_E0")}}
    t_num = time.perf_counter()
    chain = chain_study(N, 401 if not args.quick else 101) if N else {}
    t_chain = time.perf_counter()
    if chain:
        summary["chain"] = {"N": N, "initial_tilt_rad": 1e-4, "cases": {
            k: {"wall_s": d["wall_s"], "peak_traced_MB": d["peak_traced_MB"],
                "mean_abs_r_end": float(np.linalg.norm(d["tr"].observables["r"][-1], axis=1).mean()),
                "max_C01": float(d["tr"].observables["C01"].max()),
                **{conv: {kk: m[kk] / PS if kk == "t_part" else m[kk] for kk in ("t_part", "max_dev", "end_dev")}
                   for conv, m in d["metrics"].items()}} for k, d in chain.items()}}
    if args.dense_check:
        summary["dense_check"] = dense_check(8, 401)
        log.info("dense check N = 8: %s", summary["dense_check"])
    write_curves(out, runs, classical, lind, chain)
    plot_all(out, runs, classical, lind, chain)
    wall = time.perf_counter() - t_start
    summary["timings_s"] = {"figures": t_fig - t_start, "classical_lindblad_numbers": t_num - t_fig,
                            "chain": t_chain - t_num, "total": wall, "cpu_total": time.process_time()}
    summary["peak_rss_MB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    write_json(out / "summary.json", rnd(summary), MPI.COMM_SELF)
    write_json(out / "provenance.json", {"fem_stt_version": __version__, "python": platform.python_version(),
                                         "numpy": np.__version__, "argv": sys.argv, "units": PAPER.describe(),
                                         "model": "q-LLG, seed 004 eq. 3", "created_wall_s": wall}, MPI.COMM_SELF)
    w = summary["checks_worst"]
    log.info("worst over cases: closed form vs adaptive %.2e, RKMK4 vs adaptive %.2e, spectrum drift %.2e "
             "(adaptive) / %.2e (RKMK4)", w["closed_form_vs_adaptive"], w["rkmk4_vs_adaptive"], w["spectrum_drift"],
             w["rkmk4_spectrum_drift"])
    n = summary["numbers"]
    log.info("Fig. 1(a): r1x reaches 0.9 at %.2f ps (q-LLG), %.2f ps (LLG Jc=J), %.2f ps (LLG Jc=2J)",
             n["fig1a"]["t_r1x_0.9_ps"], n["fig1a"]["classical"]["paper"]["t_m1x_0.9_ps"],
             n["fig1a"]["classical"]["mean_field"]["t_m1x_0.9_ps"])
    log.info("Fig. 1(b): singlet fidelity 0.999 at %.2f ps; Lindblad purity dips to %.3f",
             n["fig1b_fig2a"]["singlet_fidelity_0.999_at_ps"], n["lindblad_fig1b"]["lindblad_min_purity"])
    log.info("done in %.1f s wall, %.1f s CPU (figures %.1f s, chain %.1f s); %s", wall, time.process_time(),
             t_fig - t_start, t_chain - t_num, out)
    return out


if __name__ == "__main__":
    main()
