"""Current-driven switching of the FM1 / spacer / FM2 pillar (the main demo).

Device (seed 002, "Experiment setup"): FM1 128 x 64 x 200 nm (bottom), Cu spacer
128 x 64 x 20 nm, FM2 128 x 64 x 60 nm (top); no air is meshed, the stray field comes from
the FEM-BEM method. Parameters (Garcia-Cervera & Wang 2007; Abert et al., Sci. Rep. 5, 14855
(2015)): Ms 8e5 A/m, A 1.3e-11 J/m, uniaxial K1 500 J/m^3 along x, alpha 0.1 (material
``Py_stt``); D0 1e-3 m^2/s in the magnets and 5e-3 in the spacer, beta 0.9, beta' 0.8,
lambda_sf 10 nm, lambda_J 4 nm (transport sets ``Py_stt`` and ``Cu``).

Protocols:

- ``seed`` (default; seed 002, "Comparison results"): FM1 starts in a random texture and FM2
  uniform along +x, both free; the state is relaxed without current (state S1, <m_x>_FM2 = 0.77,
  FM1 in a closure texture). A current pulse of ``--pulse`` seconds (then a 10 ps fall) with
  electrons flowing from FM1 to FM2 (j_e = -j z, the sign convention of fem_stt.spin.parameters)
  drives LLG + stray field + steady spin diffusion (or the moment model); the run goes on without
  current and stops once FM2 has switched for good: <m_x>_FM2 <= -0.5 (class S2 of
  demos/critical_current_scan.py) without interruption and for at least ``--hold`` seconds after
  the current has stopped (or at ``--t-end``). The switching time is the first time
  <m_x>_FM2 <= -0.5. The reversed FM2 is metastable without current (it stays near <m_x> = -0.66).
- ``pinned``: FM1 held fixed in the x-y plane at ``--angle`` from +x (an exchange-biased
  reference layer), FM2 starts along -x (antiparallel); switched when <m>_FM2 . m_FM1 >= 0.8
  for ``--hold`` seconds. In this device the parallel state is not metastable: FM1's stray field
  over FM2 (46 mT against m_FM1) returns FM2 to the antiparallel state when the current stops,
  and up to 5e13 A/m^2 the current only drives a precessing, non-uniform FM2 (the s-d torque acts
  within lambda_J of the interface of a 60 nm layer); the protocol is kept for the torque's sign
  and for studies with other layer thicknesses.

Steps are chosen by the LLG's local error estimate (``--tolerance``).

Output folder (default ``results/spin_valve_<time>``):
``m.xdmf`` (ParaView: region tags, m, s, spin_torque, H_d every ``--xdmf-every`` steps),
``scalars.csv`` (<m> per layer, energies, torque per layer, every step), ``m_of_t.png``,
``summary.json`` (switching time, timings per part), ``provenance.json``, ``checkpoint.npz``.

    mpirun -n 2 python demos/spin_valve.py [--protocol seed|pinned] [--current-density 1.2e13]
        [--mesh-size 10e-9] [--t-end 3e-9] [--model diffusion|moment] [--output DIR] [--overwrite]
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
from fem_stt.llg.initial import random_magnetization
from fem_stt.simulation import Simulation
from fem_stt.spin import SEED_DEVICE_TRANSPORT

Z_FM2 = 220e-9  # FM2 spans z = 220 ... 280 nm


def plot(out, regions, switch_time, pulse_end=None):
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
            ax.axvline(switch_time * 1e9, color="0.4", ls="--", lw=0.8, label="switched")
        if pulse_end is not None:
            ax.axvspan(0, pulse_end * 1e9, color="0.9", zorder=0, label="current on")
        ax.set_title(reg)
        ax.set_xlabel("t [ns]")
    np.atleast_1d(axes)[0].set_ylabel("<m>")
    np.atleast_1d(axes)[0].legend()
    fig.tight_layout()
    fig.savefig(out / "m_of_t.png", dpi=120)


RAMP = 10e-12  # fall time of the current pulse [s]
DEFAULT_J = 6e12  # A/m^2: 1.5x the measured S3 -> S2 threshold (3e12 ... 4e12 after a 1 ns pulse; README)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--protocol", choices=("seed", "pinned"), default="seed")
    ap.add_argument("--mesh-size", type=float, default=10e-9, help="cell size in the layers [m] (default 10e-9)")
    ap.add_argument("--current-density", type=float, default=DEFAULT_J,
                    help=f"|j_e| [A/m^2] with electrons flowing from FM1 to FM2 (default {DEFAULT_J:g})")
    ap.add_argument("--t-end", type=float, default=3e-9, help="longest simulated time after relaxation [s]")
    ap.add_argument("--pulse", type=float, default=0.3e-9,
                    help="protocol seed: duration of the current pulse [s] (default 0.3e-9)")
    ap.add_argument("--hold", type=float, default=0.2e-9,
                    help="time the switched state must last (protocol seed: after the pulse) [s]")
    ap.add_argument("--angle", type=float, default=30.0, help="protocol pinned: in-plane angle of FM1 from +x [deg]")
    ap.add_argument("--seed", type=int, default=2, help="protocol seed: random seed of FM1's initial texture")
    ap.add_argument("--model", choices=("diffusion", "moment"), default="diffusion")
    ap.add_argument("--kappa", type=float, default=1.0, help="moment-closure kappa (model moment)")
    ap.add_argument("--tolerance", type=float, default=3e-3, help="LLG local error tolerance")
    ap.add_argument("--xdmf-every", type=int, default=10, help="write m.xdmf every this many steps")
    ap.add_argument("--output", default=None)
    ap.add_argument("--overwrite", action="store_true")
    ap.add_argument("--no-plot", action="store_true")
    args = ap.parse_args(argv)
    comm = MPI.COMM_WORLD
    setup_logging(comm)
    log = logging.getLogger("fem_stt.demos.spin_valve")
    if not args.current_density >= 0:
        raise ParameterError("--current-density", f"must be >= 0 A/m^2, got {args.current_density}")
    for name in ("t_end", "hold", "tolerance", "pulse"):
        if not getattr(args, name) > 0:
            raise ParameterError(f"--{name.replace('_', '-')}", f"must be > 0, got {getattr(args, name)}")
    if args.xdmf_every < 1:
        raise ParameterError("--xdmf-every", f"must be >= 1, got {args.xdmf_every}")

    stack = seed_device(mesh_size=args.mesh_size, ferromagnet="Py_stt", surrounding=None, name="seed_device_film")
    out = prepare_output_dir(args.output, comm, args.overwrite, default_name="spin_valve")
    t0 = time.perf_counter()
    domain = stack.mesh(path=f"meshes/seed_device_film_h{args.mesh_size * 1e9:g}nm.msh", comm=comm)
    j = args.current_density
    llg_options = dict(order=2, dt=1e-13, dt_max=1e-11, max_rotation=0.3, tolerance=args.tolerance)
    if args.protocol == "pinned":
        m1 = np.array([np.cos(np.radians(args.angle)), np.sin(np.radians(args.angle)), 0.0])
        m_init = {"FM1": m1, "FM2": (-1, 0, 0)}
        llg_options["fixed"] = ("FM1",)
    else:
        rnd = random_magnetization(seed=args.seed, correlation_length=40e-9)

        def m_init(x):
            v = rnd(x)
            v[:, x[2] > Z_FM2 - 1e-12] = np.array([[1.0], [0.0], [0.0]])
            return v
    if args.protocol == "seed":
        def current(t):  # the pulse, falling linearly to zero within RAMP
            return (0.0, 0.0, -j * min(max((args.pulse + RAMP - t) / RAMP, 0.0), 1.0))
        t_off = args.pulse + RAMP
    else:
        current, t_off = (0.0, 0.0, -j), 0.0
    sim = Simulation(domain, m_init, transport=SEED_DEVICE_TRANSPORT, current_density=current,
                     transport_model=args.model, kappa=args.kappa, llg_options=llg_options)
    t1 = time.perf_counter()
    rel = sim.relax(tol=50.0, max_iterations=3000)
    t2 = time.perf_counter()
    m1_0, m2_0 = sim.llg.average("FM1"), sim.llg.average("FM2")
    log.info("relaxed in %d iterations (max |m x H| = %.3g A/m, %.1f s); <m>_FM1 = %s, <m>_FM2 = %s",
             rel["iterations"], rel["max_torque"], t2 - t1, np.round(m1_0, 4), np.round(m2_0, 4))
    state = {"since": None, "first": None, "switch_time": None, "confirmed_at": None}

    def switched(llg):
        m2 = llg.average("FM2")
        if args.protocol == "pinned":
            ok = float(m2 @ m1) >= 0.8
        else:
            ok = m2[0] <= -0.5
        if not ok:
            state["since"] = None
            return False
        if state["first"] is None:
            state["first"] = llg.t
        if state["since"] is None:
            state["since"] = llg.t
        if llg.t - max(state["since"], t_off) >= args.hold * (1 - 1e-9):
            state["switch_time"], state["confirmed_at"] = state["first"], llg.t
            return True
        return False

    params = {"protocol": args.protocol, "current_density_A_per_m2": j, "electron_flow": "FM1 -> FM2",
              "model": args.model, "kappa": args.kappa if args.model == "moment" else 0.0,
              "mesh_size_m": args.mesh_size, "tolerance": args.tolerance, "hold_s": args.hold,
              "switched_when": "<m>_FM2 . m_FM1 >= 0.8" if args.protocol == "pinned" else "<m_x>_FM2 <= -0.5",
              "transport": SEED_DEVICE_TRANSPORT}
    if args.protocol == "pinned":
        params.update(m_FM1=m1.tolist(), angle_deg=args.angle)
    else:
        params.update(random_seed=args.seed, pulse_s=args.pulse, pulse_fall_s=RAMP)
    sim.run(args.t_end, out, xdmf_every=args.xdmf_every, checkpoint_every=500, energy_every=20, overwrite=True,
            parameters=params, stop_when=switched)
    t3 = time.perf_counter()
    llg = sim.llg
    tim = dict(llg.timings)
    summary = {
        "switched": state["switch_time"] is not None, "switch_time_s": state["switch_time"],
        "switch_confirmed_at_s": state["confirmed_at"],
        "t_final_s": llg.t, "steps": llg.step_count, "rejected": llg.rejected,
        "m_FM1_relaxed": m1_0.tolist(), "m_FM2_relaxed": m2_0.tolist(),
        "m_FM1_final": llg.average("FM1").tolist(), "m_FM2_final": llg.average("FM2").tolist(),
        "ranks": comm.size, "cells": domain.num_cells_global(), "demag_method": llg.demag_method,
        "mesh_and_setup_s": t1 - t0, "relax_s": t2 - t1, "run_s": t3 - t2, "total_s": t3 - t0,
        "timings_s": tim, "spin_timings_s": dict(sim.spin.timings), **params}
    write_json(out / "summary.json", summary, comm)
    if comm.rank == 0 and not args.no_plot:
        plot(out, ["FM1", "FM2"], state["switch_time"], t_off if args.protocol == "seed" else None)
    log.info("FM2 %s; stopped at t = %.3f ns after %d steps in %.0f s (stray field %.0f s, spin transport %.0f s, "
             "LLG %.0f s)", f"switched at t = {state['switch_time'] * 1e9:.3f} ns" if summary["switched"]
             else "did not switch", llg.t * 1e9, llg.step_count, t3 - t2, tim["stray_field"],
             tim.get("spin_transport", 0.0), tim["assembly"] + tim["linear_solve"] + tim["update"])
    log.info("files in %s: summary.json (switching time), m_of_t.png (<m>(t) of FM1 and FM2), m.xdmf (open in "
             "ParaView with Xdmf3ReaderS: m, s, spin_torque, H_d per written step; Threshold regions 3-3 = FM2), "
             "scalars.csv", out.resolve())
    return out, summary


if __name__ == "__main__":
    main()
