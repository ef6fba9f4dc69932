"""Gate-controlled Datta-Das spin transistor channel with the QDD-Rashba model (seed 001).

An In0.53Ga0.47As 2DEG (m* = 0.041 me, mobility 1 m^2/(V s), T = 77 K), channel L = 0.5 um,
bias U = 50 mV, spin polarization 1e-3 injected along x at the source (linear regime), zero spin at
the drain. The gate tunes the Rashba constant alpha_R from 0 to 6e-12 eV m. Scaled parameters
(printed, and in summary.json): eps = 0.0335, tau = 0.0787, E = eU/kBT = 7.54, alpha = 0 ... 1.61.

Part 1, the sweep (eqs. (9)-(10), eps -> 0; the spin equation does not depend on n0 then): the x
spin current into the drain j_x(alpha_R) / j_x(0) for
- the ballistic expectation cos(2 m* alpha_R L / hbar^2) (precession angle 2 alpha in scaled units),
- the exact 1D drift-diffusion solution (exponential modes, ``reference1d``; case R8),
- the 1D FEM (which must reproduce it),
- 2D channels of width W = 50, 200, 500 nm with covariant (insulating) walls: narrow channels
  suppress the D'yakonov-Perel' decay, so their ratio follows the precession more closely.
Written: ``sweep.csv``, ``datta_das.png``.

Part 2, maps: the 200 nm channel at alpha_R = 3e-12 eV m with the Bohm terms (eqs. (6)-(7),
eps = 0.0335) and a 20 nm Gaussian gate barrier of 3 kB T at the channel centre:
``maps/`` (fields.xdmf: n0, F, Q, n, J, spin currents; currents.csv; maps.png; summary.json), and
the drain spin current next to the eps -> 0 value at the same alpha_R (both P2, cells of half the
``--mesh-size``).

The paper's derivation assumes alpha = O(eps) and small spin densities; here alpha ~ 1 >> eps,
beyond its formal validity (models/qdd_rashba.md, E6) -- the demo shows what the model predicts.

    mpirun -n 2 python demos/datta_das.py [--quick] [--mesh-size 10e-9] [--output DIR] [--overwrite]
"""
import argparse
import csv
import math
import time

import numpy as np
from mpi4py import MPI

from fem_stt.errors import require_positive
from fem_stt.io import prepare_output_dir, setup_logging, write_json
from fem_stt.quantum.qdd import reference1d
from fem_stt.quantum.qdd.device import RashbaChannel
from fem_stt.quantum.qdd.units import scales

MATERIAL = dict(m_eff=0.041, mobility=1.0, temperature=77.0, bias=0.05, polarization=(1e-3, 0.0, 0.0))
LENGTH = 0.5e-6


def parse(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--mesh-size", type=float, default=10e-9, help="cell size [m] (default 10 nm)")
    p.add_argument("--quick", action="store_true", help="4 alphas, 2 widths, 25 nm cells (a smoke test)")
    p.add_argument("--output", default=None)
    p.add_argument("--overwrite", action="store_true")
    a = p.parse_args(argv)
    require_positive("--mesh-size", a.mesh_size, "m")
    a.alphas = np.linspace(0.0, 6e-12, 4 if a.quick else 7)
    a.widths = (50e-9, 200e-9) if a.quick else (50e-9, 200e-9, 500e-9)
    if a.quick:
        a.mesh_size = 25e-9
    return a


def drain_jx(dev):
    dev.spin.solve()
    return float(dev.spin.contact_currents()["drain"][0])


def main(argv=None):
    a = parse(argv)
    comm = MPI.COMM_WORLD
    log = setup_logging(comm)
    out = prepare_output_dir(a.output, comm, overwrite=a.overwrite, default_name="datta_das")
    t_start = time.perf_counter()
    table = {f"{T:g}K": scales(LENGTH, MATERIAL["m_eff"], 6e-12, T, MATERIAL["bias"], mobility=1.0,
                               width=200e-9).as_dict() for T in (77.0, 300.0)}
    # ---- part 1: sweep
    rows = {"alpha_R_eVm": list(a.alphas)}
    s_of = [scales(LENGTH, MATERIAL["m_eff"], al, MATERIAL["temperature"], MATERIAL["bias"], mobility=1.0)
            for al in a.alphas]
    rows["alpha_scaled"] = [s.alpha for s in s_of]
    rows["ballistic_cos"] = [math.cos(2 * s.alpha) for s in s_of]
    E = s_of[0].E
    j_ref = [-reference1d.SpinModes1D(s.alpha, 1.0, (1, 0, 0), v=-E).dn([1.0])[0, 0] for s in s_of]
    rows["reference_1d"] = [j / j_ref[0] for j in j_ref]
    timings = {}
    for W in (0.0,) + tuple(a.widths):
        t0 = time.perf_counter()
        h = a.mesh_size if W == 0 else min(a.mesh_size, W / 4)
        dev = RashbaChannel(length=LENGTH, width=W, alpha_R=0.0, quantum=False, mesh_size=h / 4 if W == 0 else h,
                            **MATERIAL).build(comm)
        dev.charge.solve()
        js = []
        for al in a.alphas:
            dev.set_rashba(al)
            js.append(drain_jx(dev))
        key = "fem_1d" if W == 0 else f"fem_W{W * 1e9:.0f}nm"
        rows[key] = [j / js[0] for j in js]
        timings[key] = time.perf_counter() - t0
        log.info("%s: j_x/j_x(0) = %s (%.1f s, %d vertices)", key, np.round(rows[key], 4),
                 timings[key], dev.channel.num_vertices_global())
    dev_err = float(np.max(np.abs(np.array(rows["fem_1d"]) - np.array(rows["reference_1d"]))))
    log.info("1D FEM vs exact 1D drift-diffusion: max |difference of the ratios| = %.2e", dev_err)
    # ---- part 2: maps with the Bohm terms and a gate barrier
    t0 = time.perf_counter()
    kT_eV = 1.380649e-23 * MATERIAL["temperature"] / 1.602176634e-19
    gate_w = 40e-9 if a.quick else 20e-9
    common = dict(length=LENGTH, width=200e-9, alpha_R=3e-12, mesh_size=a.mesh_size / 2, degree=2,
                  gate=(LENGTH / 2, gate_w, 3 * kT_eV), **MATERIAL)
    qdev = RashbaChannel(quantum=True, **common)
    qdir = qdev.run(out / "maps", comm)
    j_quantum = qdev.spin.contact_currents()["drain"]
    cdev = RashbaChannel(quantum=False, **common).build(comm)
    cdev.charge.solve()
    cdev.spin.solve()
    j_classical = cdev.spin.contact_currents()["drain"]
    rel = float(np.linalg.norm(j_quantum - j_classical) / np.linalg.norm(j_classical))
    timings["maps"] = time.perf_counter() - t0
    log.info("W = 200 nm, alpha_R = 3e-12 eV m, gate: drain spin current with Bohm terms %s, eps -> 0 %s "
             "(|difference| / |j| = %.4f)", np.round(j_quantum, 8), np.round(j_classical, 8), rel)
    timings["total"] = time.perf_counter() - t_start
    if comm.rank == 0:
        keys = list(rows)
        with open(out / "sweep.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(keys)
            for i in range(len(a.alphas)):
                w.writerow([f"{rows[k][i]:.8g}" for k in keys])
        plot(out / "datta_das.png", rows, a)
    write_json(out / "summary.json", {"scales_77K_300K_alpha6e-12": table, "sweep": rows,
                                      "fem_1d_vs_reference_max_abs": dev_err,
                                      "maps": {"folder": str(qdir), "drain_spin_current_bohm": j_quantum.tolist(),
                                               "drain_spin_current_eps0": j_classical.tolist(),
                                               "relative_difference": rel},
                                      "timings_s": timings, "ranks": comm.size, "quick": a.quick}, comm)
    log.info("datta_das: %.1f s on %d rank(s); results in %s", timings["total"], comm.size, out)
    return out


def plot(path, rows, a):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    al = np.array(rows["alpha_R_eVm"]) * 1e12
    fine = np.linspace(0, al.max(), 200)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot(fine, np.cos(fine / al.max() * 2 * rows["alpha_scaled"][-1]), "k--", label="ballistic cos(2 m* alpha L / hbar^2)")
    ax.plot(al, rows["reference_1d"], "k-", lw=2.5, alpha=0.3, label="1D drift-diffusion, exact")
    ax.plot(al, rows["fem_1d"], "ko", ms=4, label="1D FEM")
    for k in rows:
        if k.startswith("fem_W"):
            ax.plot(al, rows[k], "o-", label=f"2D FEM, W = {k[5:]}, covariant walls")
    ax.axhline(0, color="grey", lw=0.5)
    ax.set(xlabel="Rashba constant alpha_R [1e-12 eV m]", ylabel="drain spin current j_x / j_x(alpha_R = 0)",
           title="InGaAs 2DEG, L = 0.5 um, 77 K, U = 50 mV")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
