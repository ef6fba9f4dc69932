"""muMAG standard problem 5: a vortex driven by a Zhang-Li current, compared with mumax3.

Permalloy 100 x 100 x 10 nm (Ms = 8e5 A/m, A = 1.3e-11 J/m, alpha = 0.1, gamma0 = 2.211e5
m/(A s), no anisotropy), meshed alone with cells of ``--mesh-size``; stray field by FEM-BEM.
The vortex (``--circulation`` +1: counter-clockwise seen from +z, ``--polarity`` +1: core along
+z; mumax3's ``vortex(1, 1)``) is relaxed by energy minimization, then the charge current
j = 1e12 A/m^2 along +x (P = 1, xi = 0.05) drives it with the Zhang-Li torque
(Zhang & Li, PRL 93, 127204 (2004); seed 003 eq. 37; :class:`fem_stt.spin.ZhangLiTorque`):

    dm/dt = -gamma0 m x H_eff + alpha m x dm/dt - (u.grad) m + xi m x (u.grad) m,
    u = P mu_B j_e / (Q_E Ms),   Q_E = -e,

so u points along the electron flow, -x, with |u| = mu_B P j / (e Ms) = 72.35 m/s (the SP5
specification, https://www.ctcms.nist.gov/~rdm/std5/spec5.xhtml, and OOMMF's u_x = -72.35 m/s).
mumax3 has the same direction (its kernel's torque is that of u = -mu_B P J / (e Ms (1 + xi^2))
for a current J) but divides by 1 + xi^2 (72.17 m/s): ``--u-convention mumax3`` does the same
(P -> P / (1 + xi^2)). Steps are error controlled (``--tolerance``).

Writes into the output folder: ``m.xdmf``, ``scalars.csv`` (t, <m>, energies, vortex-core
position), ``provenance.json``, ``checkpoint.npz``, ``sp5.png`` (<m>(t) with mumax3's <m>(1 ns)
marked) and ``summary.json`` (relaxed state, <m>(1 ns) and its difference to mumax3, min/max
<m_x> against the published bounds, steps, wall and CPU time).

Run:  mpirun -n 2 python demos/standard_problem_5.py [--mesh-size 2.5e-9] [--t-end 8e-9]
"""
import argparse
import csv
import logging
import time
from pathlib import Path

import numpy as np
from mpi4py import MPI

from fem_stt.errors import ParameterError, require_positive
from fem_stt.io import prepare_output_dir, setup_logging, write_json
from fem_stt.llg import LLG
from fem_stt.llg.run import LLGRun, progress_logger
from fem_stt.spin import ZhangLiTorque
from fem_stt.validation import (SP5_CURRENT, SP5_M_1NS_MUMAX3, SP5_MX_MAX_BOUNDS, SP5_MX_MIN_BOUNDS,
                                SP5_POLARIZATION, SP5_XI, sp5_domain, sp5_drift_speed, sp5_vortex,
                                vortex_core_position)

ROOT = Path(__file__).resolve().parents[1]
U_CONVENTIONS = ("spec", "mumax3")


def run_sp5(mesh_size=2.5e-9, t_end=8e-9, output=None, overwrite=False, tolerance=1e-4, dt_max=2e-11, relax_tol=5.0,
            circulation=1, polarity=1, current_sign=1, u_convention="spec", edge_size=None, xdmf_every=100,
            mesh_dir=ROOT / "meshes", plot=True, comm=MPI.COMM_WORLD, energy_every=50):
    """Run SP5; returns the summary dict (also written to summary.json).

    Parameters: ``mesh_size``, ``edge_size`` [m] (cells in the film / along its edges, None: uniform),
    ``t_end`` [s] after the current is switched on, ``tolerance`` (local error per step of the LLG
    integrator), ``dt_max`` [s], ``relax_tol`` [A/m] (max |m x H_eff| of the relaxed vortex),
    ``circulation``/``polarity`` (+1 or -1), ``current_sign`` (+1: j along +x as in SP5, -1: along -x),
    ``u_convention`` ("spec": |u| = 72.35 m/s, "mumax3": 72.17 m/s).
    Raises ParameterError (before meshing) for values out of range.
    """
    log = logging.getLogger("fem_stt.demos.sp5")
    require_positive("mesh_size", mesh_size, "m")
    require_positive("t_end", t_end, "s")
    require_positive("relax_tol", relax_tol, "A/m")
    require_positive("dt_max", dt_max, "s")
    if require_positive("tolerance", tolerance) > 0.1:
        raise ParameterError("tolerance", f"must be in (0, 0.1] (local error in m per step), got {tolerance!r}")
    if edge_size is not None:
        require_positive("edge_size", edge_size, "m")
    if current_sign not in (1, -1):
        raise ParameterError("current_sign", f"must be +1 or -1, got {current_sign!r}")
    if u_convention not in U_CONVENTIONS:
        raise ParameterError("u_convention", f"must be one of {U_CONVENTIONS}, got {u_convention!r}")
    m0 = sp5_vortex(circulation, polarity)  # validates circulation and polarity
    P = SP5_POLARIZATION / (1.0 + SP5_XI**2) if u_convention == "mumax3" else SP5_POLARIZATION
    u_abs = sp5_drift_speed(P=P)
    out = prepare_output_dir(output, comm, overwrite, default_name=f"sp5_h{mesh_size * 1e9:g}nm")
    c0, w0 = time.process_time(), time.perf_counter()
    dom = sp5_domain(mesh_size, comm=comm, mesh_dir=mesh_dir, edge_size=edge_size)
    llg = LLG(dom, m0, demag=True, demag_method="fembem", order=2, dt=1e-13, dt_max=dt_max, tolerance=tolerance)
    t_setup = time.perf_counter() - w0
    w0 = time.perf_counter()
    info = llg.relax(tol=relax_tol, method="bb", max_iterations=20000)
    t_relax = time.perf_counter() - w0
    relaxed = llg.average().tolist()
    core0 = vortex_core_position(llg).tolist()
    log.info("relaxed vortex <m> = %s, core at %s nm (%d iterations, max torque %.3g A/m, %.1f s)",
             np.round(relaxed, 5), np.round(np.array(core0) * 1e9, 3), info["iterations"], info["max_torque"], t_relax)
    if not info["converged"]:
        log.warning("relaxation stopped at max |m x H| = %.3g A/m > %.3g", info["max_torque"], relax_tol)
    j = (current_sign * SP5_CURRENT, 0.0, 0.0)
    llg.add_term(ZhangLiTorque(llg, j, polarization={"film": P}, xi=SP5_XI))
    llg.timings = {k: 0.0 for k in llg.timings}
    llg.stray.timings = {k: 0.0 for k in llg.stray.timings}

    def core_scalars():
        xc, yc = vortex_core_position(llg)
        return {"core_x_m": xc, "core_y_m": yc}
    run = LLGRun(llg, out, xdmf_every=xdmf_every, csv_every=1, checkpoint_every=1000, energy_every=energy_every,
                 overwrite=True, scalars=core_scalars,
                 parameters={"problem": "muMAG SP5", "mesh_size": mesh_size, "edge_size": edge_size,
                             "j_A_per_m2": list(j), "P": P, "xi": SP5_XI, "u_convention": u_convention,
                             "u_m_per_s": -current_sign * u_abs, "circulation": circulation, "polarity": polarity,
                             "tolerance": tolerance, "relaxed": relaxed, "relax": info})
    w0, cpu_run0 = time.perf_counter(), time.process_time()
    progress = progress_logger(log, 200, "ns")
    t1 = min(1e-9, t_end)
    run.run(t1, callback=progress)
    m_1ns = llg.average().tolist() if t_end >= 1e-9 else None
    steps_1ns = llg.step_count
    if t_end > t1:
        run.run(t_end, callback=progress)
    run.close()
    wall = time.perf_counter() - w0
    cpu_run = time.process_time() - cpu_run0
    cpu_total = time.process_time() - c0
    llg.timings.update({f"stray_field_{k}": v for k, v in llg.stray.timings.items()})
    summary = {"problem": "muMAG SP5", "h_nm": mesh_size * 1e9, "edge_nm": edge_size * 1e9 if edge_size else None,
               "ranks": comm.size, "circulation": circulation, "polarity": polarity, "j_A_per_m2": list(j),
               "u_convention": u_convention, "u_m_per_s": [-current_sign * u_abs, 0.0, 0.0], "P": P, "xi": SP5_XI,
               "tolerance": tolerance, "dt_max_s": dt_max,
               "dofs": {"m_vertices": int(llg.mv.owned_sum(llg.mv.active.astype(float))),
                        "boundary_nodes": getattr(llg.stray, "num_boundary_nodes", None)},
               "relaxed_m": relaxed, "relaxed_core_nm": [v * 1e9 for v in core0],
               "relax_iterations": info["iterations"], "relax_max_torque_A_per_m": info["max_torque"],
               "relax_s": t_relax, "setup_s": t_setup, "t_end_s": t_end, "steps": llg.step_count,
               "steps_1ns": steps_1ns, "rejected": llg.rejected, "wall_s": wall,
               "cpu_s_rank0": cpu_run, "cpu_s_all_ranks": comm.allreduce(cpu_run, op=MPI.SUM),
               "cpu_s_total_incl_setup_all_ranks": comm.allreduce(cpu_total, op=MPI.SUM),
               "time_split_s": llg.timings, "m_1ns": m_1ns, "m_1ns_mumax3": list(SP5_M_1NS_MUMAX3)}
    if m_1ns is not None:
        d = np.asarray(m_1ns) - np.asarray(SP5_M_1NS_MUMAX3)
        summary["m_1ns_minus_mumax3"] = d.tolist()
        summary["m_1ns_max_abs_diff"] = float(np.abs(d).max())
    if comm.rank == 0:
        rows = list(csv.reader(open(out / "scalars.csv")))
        head, data = rows[0], np.array([[float(v) for v in r] for r in rows[1:]])
        t, mx = data[:, 0], data[:, head.index("<mx>_film")]
        summary["mx_min"], summary["mx_max"] = float(mx.min()), float(mx.max())
        summary["t_mx_min_ns"] = float(t[np.argmin(mx)] * 1e9)
        summary["final_m"] = data[-1, [head.index(f"<m{c}>_film") for c in "xyz"]].tolist()
        summary["final_core_nm"] = (data[-1, [head.index("core_x_m"), head.index("core_y_m")]] * 1e9).tolist()
        if t_end >= 8e-9 * (1 - 1e-9):  # the bounds are for the 8 ns run
            summary["mx_min_within_bounds"] = bool(SP5_MX_MIN_BOUNDS[0] < summary["mx_min"] < SP5_MX_MIN_BOUNDS[1])
            summary["mx_max_within_bounds"] = bool(SP5_MX_MAX_BOUNDS[0] < summary["mx_max"] < SP5_MX_MAX_BOUNDS[1])
        if plot:
            plot_sp5(t, data, head, out / "sp5.png", mesh_size)
    summary = comm.bcast(summary if comm.rank == 0 else None, root=0)
    write_json(out / "summary.json", summary, comm)
    log.info("summary: %s", {k: summary.get(k) for k in ("m_1ns", "m_1ns_minus_mumax3", "mx_min", "mx_max", "steps",
                                                           "wall_s", "cpu_s_all_ranks")})
    return summary


def plot_sp5(t, data, head, path, mesh_size, peer=None):
    """<m>(t) [ns] with mumax3's <m>(1 ns) marked, the published bounds of min/max <m_x> shaded, and
    optionally a peer's trace ``peer`` = (label, t [s], (n, 3) <m>) dashed."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(8, 4.5))
    colors = ("C0", "C1", "C2")
    for k, c in enumerate("xyz"):
        ax.plot(t * 1e9, data[:, head.index(f"<m{c}>_film")], color=colors[k], label=f"fem_stt <m{c}>")
        ax.plot([1.0], [SP5_M_1NS_MUMAX3[k]], "o", mfc="none", mec="k", ms=8)
    if peer is not None:
        for k, c in enumerate("xyz"):
            ax.plot(peer[1] * 1e9, peer[2][:, k], "--", color=colors[k], lw=1, label=f"{peer[0]} <m{c}>")
    ax.plot([], [], "o", mfc="none", mec="k", label="mumax3 <m>(1 ns)")
    ax.axhspan(*SP5_MX_MIN_BOUNDS, color="0.85", zorder=0, label="published min/max <mx> bounds")
    ax.axhspan(*SP5_MX_MAX_BOUNDS, color="0.85", zorder=0)
    ax.set_xlim(0, t[-1] * 1e9)
    ax.set_xlabel("t [ns]")
    ax.set_ylabel("<m>")
    ax.set_title(f"muMAG SP5 (Zhang-Li, j = 1e12 A/m$^2$ along x), h = {mesh_size * 1e9:g} nm")
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mesh-size", type=float, default=2.5e-9,
                    help="cell size in the film [m] (2.5 nm: <m>(1 ns) within 0.005 of mumax3)")
    ap.add_argument("--edge-size", type=float, default=None, help="cell size along the film's edges [m] (default uniform)")
    ap.add_argument("--t-end", type=float, default=8e-9, help="simulated time with the current on [s]")
    ap.add_argument("--tolerance", type=float, default=1e-4, help="local error per LLG step (error-controlled steps)")
    ap.add_argument("--dt-max", type=float, default=2e-11, help="largest time step [s]")
    ap.add_argument("--relax-tol", type=float, default=5.0, help="max |m x H_eff| of the relaxed vortex [A/m]")
    ap.add_argument("--circulation", type=int, default=1, choices=(1, -1), help="+1: counter-clockwise from +z")
    ap.add_argument("--polarity", type=int, default=1, choices=(1, -1), help="+1: core along +z")
    ap.add_argument("--current-sign", type=int, default=1, choices=(1, -1), help="+1: j along +x (SP5)")
    ap.add_argument("--u-convention", default="spec", choices=U_CONVENTIONS,
                    help="spec: |u| = mu_B P j/(e Ms) = 72.35 m/s; mumax3: divided by 1 + xi^2 (72.17 m/s)")
    ap.add_argument("--xdmf-every", type=int, default=100)
    ap.add_argument("--output", default=None)
    ap.add_argument("--overwrite", action="store_true")
    a = ap.parse_args(argv)
    setup_logging()
    run_sp5(a.mesh_size, a.t_end, a.output, a.overwrite, a.tolerance, a.dt_max, a.relax_tol, a.circulation,
            a.polarity, a.current_sign, a.u_convention, a.edge_size, a.xdmf_every)


if __name__ == "__main__":
    main()
