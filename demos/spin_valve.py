"""Current-driven switching of the FM1 / spacer / FM2 pillar (the main demo).

Device (seed 002, "Experiment setup"): FM1 128 x 64 x 200 nm (bottom), Cu spacer
128 x 64 x 20 nm, FM2 128 x 64 x 60 nm (top), in air with an open-boundary shell.
Parameters (Garcia-Cervera & Wang 2007; Abert et al., Sci. Rep. 5, 14855 (2015)):
Ms 8e5 A/m, A 1.3e-11 J/m, uniaxial K1 500 J/m^3 along x, alpha 0.1 (material ``Py_stt``);
D0 1e-3 m^2/s in the magnets and 5e-3 in the spacer, beta 0.9, beta' 0.8, lambda_sf 10 nm,
lambda_J 4 nm (transport sets ``Py_stt`` and ``Cu``).

Run: FM1 is the pinned reference layer (m held fixed in the x-y plane at ``--angle`` from +x,
as by an exchange-biasing antiferromagnet; the tilt avoids starting at the torque-free
antiparallel point); FM2 starts along -x and is relaxed without current; then a
current is applied with electrons flowing from FM1 to FM2 (charge current density
j_e = -j z, the sign convention of fem_stt.spin.parameters), and LLG + stray field +
steady spin diffusion (or the moment model) are integrated until FM2 has switched to the
parallel branch (<m_x>_FM2 > 0.8; its own easy axis is x) or ``--t-end`` is reached.

Output folder (default ``results/spin_valve_<time>``):
``m.xdmf`` (ParaView: region tags, m, s, spin_torque, H_d over time), ``scalars.csv``
(<m> per layer, energies, torque per layer), ``m_of_t.png``, ``summary.json``
(switching time, timings per part), ``provenance.json``, ``checkpoint.npz``.

    mpirun -n 2 python demos/spin_valve.py [--mesh-size 10e-9] [--current-density 1e13]
        [--t-end 1e-9] [--angle 30] [--model diffusion|moment] [--output DIR] [--overwrite]
"""
import argparse
import csv
import logging
import time

import numpy as np
from mpi4py import MPI

from fem_stt.geometry import seed_device
from fem_stt.io import prepare_output_dir, setup_logging, write_json
from fem_stt.errors import ParameterError
from fem_stt.simulation import Simulation
from fem_stt.spin import SEED_DEVICE_TRANSPORT

SWITCHED = 0.8  # FM2 counts as switched once <m_x>_FM2 > 0.8 (it starts near -0.88)


def plot(out, regions, switch_time):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    with open(out / "scalars.csv") as f:
        rows = list(csv.DictReader(f))
    t = np.array([float(r["t_s"]) for r in rows]) * 1e9
    fig, axes = plt.subplots(1, len(regions), figsize=(5 * len(regions), 3.6), sharey=True)
    for ax, reg in zip(np.atleast_1d(axes), regions):
        for c in "xyz":
            ax.plot(t, [float(r[f"<m{c}>_{reg}"]) for r in rows], label=f"<m{c}>")
        if switch_time is not None:
            ax.axvline(switch_time * 1e9, color="0.6", ls="--", lw=0.8)
        ax.set_title(reg)
        ax.set_xlabel("t [ns]")
    np.atleast_1d(axes)[0].set_ylabel("<m>")
    np.atleast_1d(axes)[0].legend()
    fig.tight_layout()
    fig.savefig(out / "m_of_t.png", dpi=120)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mesh-size", type=float, default=10e-9, help="cell size in the layers [m] (default 10e-9)")
    ap.add_argument("--current-density", type=float, default=1e13,
                    help="|j_e| [A/m^2] with electrons flowing from FM1 to FM2 (default 1e13)")
    ap.add_argument("--t-end", type=float, default=1e-9, help="simulated time after relaxation [s] (default 1e-9)")
    ap.add_argument("--angle", type=float, default=30.0, help="in-plane angle of the pinned FM1 from +x [deg]")
    ap.add_argument("--model", choices=("diffusion", "moment"), default="diffusion")
    ap.add_argument("--kappa", type=float, default=1.0, help="moment-closure kappa (model moment)")
    ap.add_argument("--output", default=None)
    ap.add_argument("--overwrite", action="store_true")
    ap.add_argument("--no-plot", action="store_true")
    args = ap.parse_args(argv)
    comm = MPI.COMM_WORLD
    setup_logging(comm)
    log = logging.getLogger("fem_stt.demos.spin_valve")
    if not args.current_density >= 0:
        raise ParameterError("--current-density", f"must be >= 0 A/m^2, got {args.current_density}")
    if not args.t_end > 0:
        raise ParameterError("--t-end", f"must be > 0 s, got {args.t_end}")

    stack = seed_device(mesh_size=args.mesh_size, ferromagnet="Py_stt")
    out = prepare_output_dir(args.output, comm, args.overwrite, default_name="spin_valve")
    t0 = time.perf_counter()
    domain = stack.mesh(path=f"meshes/seed_device_stt_h{args.mesh_size * 1e9:g}nm.msh", comm=comm)
    j = args.current_density
    m1 = np.array([np.cos(np.radians(args.angle)), np.sin(np.radians(args.angle)), 0.0])
    sim = Simulation(domain, {"FM1": m1, "FM2": (-1, 0, 0)}, transport=SEED_DEVICE_TRANSPORT,
                     current_density=(0.0, 0.0, -j), transport_model=args.model, kappa=args.kappa,
                     llg_options=dict(order=2, dt=1e-13, dt_max=2e-12, max_rotation=0.1, fixed=("FM1",)))
    t1 = time.perf_counter()
    rel = sim.relax(tol=100.0, max_iterations=1000)
    t2 = time.perf_counter()
    log.info("relaxed in %d iterations (max |m x H| = %.3g A/m, %.1f s); <m>_FM1 = %s, <m>_FM2 = %s",
             rel["iterations"], rel["max_torque"], t2 - t1, np.round(sim.llg.average("FM1"), 4),
             np.round(sim.llg.average("FM2"), 4))
    m2_0 = sim.llg.average("FM2")
    state = {"switch_time": None}

    def switched(llg):
        if llg.average("FM2")[0] > SWITCHED:
            state["switch_time"] = llg.t
            return True
        return False

    params = {"current_density_A_per_m2": j, "m_FM1": m1.tolist(), "electron_flow": "FM1 -> FM2", "model": args.model,
              "kappa": args.kappa if args.model == "moment" else 0.0, "mesh_size_m": args.mesh_size,
              "transport": SEED_DEVICE_TRANSPORT}
    sim.run(args.t_end, out, xdmf_every=25, checkpoint_every=500, energy_every=20, overwrite=True,
            parameters=params, stop_when=switched)
    t3 = time.perf_counter()
    llg = sim.llg
    tim = dict(llg.timings)
    summary = {
        "switched": state["switch_time"] is not None, "switch_time_s": state["switch_time"],
        "t_final_s": llg.t, "steps": llg.step_count, "rejected": llg.rejected,
        "m_FM1_final": llg.average("FM1").tolist(), "m_FM2_initial": m2_0.tolist(), "m_FM2_final": llg.average("FM2").tolist(),
        "ranks": comm.size, "cells": domain.num_cells_global(), "stray_field_dofs": llg.stray.num_dofs,
        "mesh_and_setup_s": t1 - t0, "relax_s": t2 - t1, "run_s": t3 - t2,
        "timings_s": tim, "spin_timings_s": dict(sim.spin.timings), **params}
    write_json(out / "summary.json", summary, comm)
    if comm.rank == 0 and not args.no_plot:
        plot(out, ["FM1", "FM2"], state["switch_time"])
    log.info("FM2 %s at t = %.3f ns; %d steps in %.0f s (stray field %.0f s, spin transport %.0f s, LLG %.0f s); "
             "wrote %s", "switched" if summary["switched"] else "did not switch", llg.t * 1e9, llg.step_count,
             t3 - t2, tim["stray_field"], tim.get("spin_transport", 0.0),
             tim["assembly"] + tim["linear_solve"] + tim["update"], out)
    return out, summary


if __name__ == "__main__":
    main()
