"""muMAG standard problem 4: relax the S-state, switch with field 1 or 2, compare with OOMMF.

Permalloy film 500 x 125 x 3 nm (Ms = 8e5 A/m, A = 1.3e-11 J/m, alpha = 0.02), meshed
alone: triangles of ``--mesh-size`` and half that along the film's edges, where the stray
field is singular, extruded through the thickness in ``--cells-along-z`` cells (default 3; 0: an
unstructured tetrahedral mesh), with m uniform through the thickness (``--thin-film``, default on an
extruded mesh: :mod:`fem_stt.llg.columns`); stray field by FEM-BEM on the whole 3D mesh
(``--open-boundary shell``: the film in an air box with a transformed shell instead, unstructured;
FEM-BEM's B is stored without the blocks between coplanar faces, which vanish:
``compression="planar"``, :class:`fem_stt.fembem.PlanarBlockMatrix`). README, "mesh study", for
the accuracy of each choice. The S-state is relaxed from m = (1, 0.25, 0.1) until
max_i |m_i x H_eff,i| < 20 A/m, by exchange-preconditioned Barzilai-Borwein descent
(``--relax-method pbb``, :meth:`fem_stt.llg.LLG.relax_pbb`; ``damping``: the overdamped LLG
flow), then the field mu0 H = (-24.6, 4.3, 0) mT (field 1) or (-35.5, -6.3, 0) mT (field 2) is
applied and the LLG equation is integrated with the second-order tangent-plane scheme.

Time steps: error-controlled (``--tolerance``, local error of m per step, default 5e-4, with
steps up to ``--dt-max`` = 10 ps and a 0.2 rad rotation cap for safety), or with
``--tolerance 0`` the rotation rule alone (0.05 rad, steps up to 1 ps). Measured with the
defaults, 0.16 ns of field 1: 119 steps at 5e-4 against 206 with the rotation rule; the first
<mx> crossing moves by 0.036 ps from 1e-3 to 5e-4 and lies 0.04 ps from the rotation-rule run
(138.29 against 138.33 ps; benchmarks/sp4.py ``--halving``).

Writes into the output folder: ``m.xdmf`` (ParaView time series), ``scalars.csv``
(t, <m> every step, energies every ``energy_every``-th step: each costs a stray-field solve),
``provenance.json``, ``checkpoint.npz``, ``sp4_field<N>.png`` (<m>(t)
against the OOMMF traces of shared/reference/sp4) and ``summary.json`` (S-state, first
zero crossings of <mx> and <my>, RMS difference of <my> to OOMMF over 0-0.3 ns, timings).

Run:  mpirun -n 2 python demos/standard_problem_4.py --field 1 [--mesh-size 5e-9] [--t-end 1e-9]
"""
import argparse
import csv
import logging
import os
import time
from pathlib import Path

import numpy as np
from mpi4py import MPI

from fem_stt.constants import MU0
from fem_stt.errors import ParameterError
from fem_stt.io import prepare_output_dir, setup_logging, write_json
from fem_stt.llg import LLG
from fem_stt.llg.run import LLGRun, progress_logger
from fem_stt.validation import (SP4_CELLS_ALONG_Z, SP4_FIELDS_mT, first_zero_crossing, load_oommf_reference,
                                sp4_domain, sp4_initial_state, sp4_mesh_options)

ROOT = Path(__file__).resolve().parents[1]


def default_reference_dir() -> Path:
    """shared/reference/sp4 beside the repository, or $FEM_STT_REFERENCE_DIR/sp4."""
    env = os.environ.get("FEM_STT_REFERENCE_DIR")
    return Path(env) / "sp4" if env else ROOT.parent / "shared" / "reference" / "sp4"


def run_sp4(field=1, mesh_size=5e-9, t_end=1e-9, output=None, overwrite=False, dt_max=None, relax_tol=20.0,
            degree=2, xdmf_every=20, mesh_dir=ROOT / "meshes", reference_dir=None, plot=True, comm=MPI.COMM_WORLD,
            open_boundary="fembem", edge_size=None, max_rotation=None, tolerance=5e-4, relax_method="pbb",
            energy_every=100, ksp_rtol=1e-6, cells_along_z=None, thin_film=None):
    """Run SP4; returns the summary dict (also written to summary.json).

    ``tolerance``: local error per step for error-controlled steps (None or 0: the rotation
    rule); ``dt_max`` [s] and ``max_rotation`` [rad] default to 1e-11 and 0.2 with a tolerance,
    1e-12 and 0.05 without. ``relax_method``: ``"pbb"`` or ``"damping"`` (:meth:`LLG.relax`).
    ``ksp_rtol``: relative residual of the tangent-plane GMRES solve; 1e-6 (the LLG default is
    1e-10) takes 10.7 instead of 18 iterations per step and a third less solve time, and moves
    the field-1 crossing by 0.0004 ps and m at 0.16 ns by 3.5e-5 (5 nm film, tolerance 5e-4).
    ``cells_along_z``, ``thin_film``: the mesh choice of :func:`fem_stt.validation.sp4_mesh_options`
    (default: 3 extruded cells with m uniform through them for FEM-BEM, unstructured for the shell).
    Raises ParameterError for a bad field, tolerance, relax_method, cells_along_z or thin_film (before
    any mesh work).
    """
    log = logging.getLogger("fem_stt.demos.sp4")
    if field not in SP4_FIELDS_mT:
        raise ParameterError("field", f"must be 1 or 2, got {field!r}")
    if relax_method not in ("pbb", "bb", "damping"):
        raise ParameterError("relax_method", f"must be 'pbb', 'bb' or 'damping', got {relax_method!r}")
    tolerance = tolerance or None
    if tolerance is not None and not 0 < tolerance <= 0.1:
        raise ParameterError("tolerance", f"must be in (0, 0.1] or 0/None (rotation rule), got {tolerance!r}")
    cells_along_z, thin_film = sp4_mesh_options(cells_along_z, thin_film, open_boundary)
    if dt_max is None:
        dt_max = 1e-11 if tolerance else 1e-12
    if max_rotation is None:
        max_rotation = 0.2 if tolerance else 0.05
    out = prepare_output_dir(output, comm, overwrite, default_name=f"sp4_field{field}")
    if edge_size is None:  # the film's edges carry the singular part of the stray field
        edge_size = mesh_size / 2
    edge_size = edge_size or None  # 0: a uniform mesh
    t0 = time.perf_counter()
    dom = sp4_domain(mesh_size, comm=comm, mesh_dir=mesh_dir, open_boundary=open_boundary, edge_size=edge_size,
                     cells_along_z=cells_along_z)
    llg = LLG(dom, sp4_initial_state, demag=True, demag_method=open_boundary, order=2, dt=1e-13, dt_max=dt_max,
              max_rotation=max_rotation, tolerance=tolerance, ksp_rtol=ksp_rtol, thin_film=thin_film,
              stray_field_options={"degree": degree} if open_boundary == "shell" else None)
    t_setup = time.perf_counter() - t0
    t0 = time.perf_counter()
    fe0 = llg.field_evaluations
    info = llg.relax(tol=relax_tol, method=relax_method)
    t_relax = time.perf_counter() - t0
    info["field_evaluations"] = llg.field_evaluations - fe0
    s_state = llg.average().tolist()
    log.info("S-state <m> = %s (%d relaxation steps, max torque %.3g A/m, %.1f s)", np.round(s_state, 5),
             info["iterations"], info["max_torque"], t_relax)
    H = np.asarray(SP4_FIELDS_mT[field]) * 1e-3 / MU0
    llg.set_external_field(H)
    llg.timings = {k: 0.0 for k in llg.timings}
    fe0 = llg.field_evaluations
    if open_boundary == "fembem":
        llg.stray.timings = {k: 0.0 for k in llg.stray.timings}
    run = LLGRun(llg, out, xdmf_every=xdmf_every, csv_every=1, checkpoint_every=500, energy_every=energy_every,
                 overwrite=True, parameters={"problem": "muMAG SP4", "field": field, "mu0H_mT": SP4_FIELDS_mT[field],
                                             "mesh_size": mesh_size, "edge_size": edge_size,
                                             "cells_along_z": cells_along_z, "thin_film": thin_film,
                                             "tolerance": tolerance, "dt_max": dt_max, "max_rotation": max_rotation,
                                             "relax_method": relax_method,
                                             "open_boundary": open_boundary,
                                             "potential_degree": degree if open_boundary == "shell" else 1,
                                             "S_state": s_state, "relax": info})
    t0 = time.perf_counter()
    run.run(t_end, callback=progress_logger(log, 100, "ps"))
    run.close()
    wall = time.perf_counter() - t0
    field_evaluations = llg.field_evaluations - fe0
    if open_boundary == "fembem":
        llg.timings.update({f"stray_field_{k}": v for k, v in llg.stray.timings.items()})
    summary = {"field": field, "h_nm": mesh_size * 1e9, "edge_nm": edge_size * 1e9 if edge_size else None,
               "cells_along_z": cells_along_z, "thin_film": thin_film,
               "open_boundary": open_boundary, "potential_degree": degree if open_boundary == "shell" else 1,
               "ranks": comm.size,
               "dofs": {"m_vertices": int(llg.mv.owned_sum(llg.mv.active.astype(float))),
                        "m_columns": llg.columns.n_global if llg.columns is not None else None,
                        "stray_field": llg.stray.num_dofs,
                        "boundary_nodes": getattr(llg.stray, "num_boundary_nodes", None)},
               "S_state": s_state, "relax_iterations": info["iterations"], "relax_s": t_relax, "setup_s": t_setup,
               "relax_max_torque_A_per_m": info["max_torque"], "relax_method": relax_method, "relax_tol_A_per_m": relax_tol,
               "relax_field_evaluations": info["field_evaluations"], "tolerance": tolerance, "dt_max_s": dt_max,
               "max_rotation_rad": max_rotation, "ksp_rtol": ksp_rtol, "t_end_s": t_end, "steps": llg.step_count, "rejected": llg.rejected,
               "field_evaluations": field_evaluations, "wall_s": wall, "wall_s_1ns": wall * 1e-9 / t_end,
               "whole_process_s_1ns": t_setup + t_relax + wall * 1e-9 / t_end, "time_split_s": llg.timings}
    if comm.rank == 0:
        rows = np.array([[float(v) for v in r] for r in list(csv.reader(open(out / "scalars.csv")))[1:]])
        t, mx, my = rows[:, 0], rows[:, 3], rows[:, 4]
        summary["crossing_ps"] = first_zero_crossing(t, mx) * 1e12
        summary["crossing_my_ps"] = first_zero_crossing(t, my) * 1e12
        ref = load_oommf_reference(Path(reference_dir or default_reference_dir()), field)
        if ref is None:
            log.warning("no OOMMF reference trace in %s: the comparison is skipped", reference_dir or default_reference_dir())
        if ref is not None:
            sel = ref[0] <= min(0.3e-9, t[-1])
            summary["my_rms_vs_oommf_0_0.3ns"] = float(np.sqrt(np.mean((np.interp(ref[0][sel], t, my)
                                                                          - ref[1][sel]) ** 2)))
        if plot:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
            fig, ax = plt.subplots(figsize=(8, 4.5))
            for k, c in enumerate("xyz"):
                ax.plot(t * 1e9, rows[:, 3 + k], label=f"fem_stt <m{c}>")
            if ref is not None:
                ax.plot(ref[0] * 1e9, ref[1], "k--", lw=1, label="OOMMF <my>")
            ax.set_xlim(0, t[-1] * 1e9)
            ax.set_xlabel("t [ns]")
            ax.set_ylabel("<m>")
            ax.set_title(f"muMAG SP4, field {field}, h = {mesh_size * 1e9:g} nm")
            ax.legend()
            fig.tight_layout()
            fig.savefig(out / f"sp4_field{field}.png", dpi=120)
    summary = comm.bcast(summary if comm.rank == 0 else None, root=0)
    write_json(out / "summary.json", summary, comm)
    log.info("summary: %s", {k: summary[k] for k in ("S_state", "crossing_ps", "wall_s_1ns") if k in summary})
    return summary


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--field", type=int, default=1, choices=(1, 2))
    ap.add_argument("--mesh-size", type=float, default=5e-9, help="cell size in the film [m]")
    ap.add_argument("--t-end", type=float, default=1e-9, help="simulated time after the field is applied [s]")
    ap.add_argument("--dt-max", type=float, default=None,
                    help="largest time step [s] (default 1e-11 with --tolerance, 1e-12 without)")
    ap.add_argument("--tolerance", type=float, default=5e-4,
                    help="local error of m per step for error-controlled steps (default 5e-4; 0: rotation rule)")
    ap.add_argument("--relax-method", default="pbb", choices=("pbb", "bb", "damping"),
                    help="S-state minimizer (default pbb: exchange-preconditioned Barzilai-Borwein)")
    ap.add_argument("--energy-every", type=int, default=100,
                    help="energies (one extra stray-field solve) on every N-th CSV row (default 100)")
    ap.add_argument("--open-boundary", default="fembem", choices=("fembem", "shell"),
                    help="stray field: FEM-BEM on the film alone, or P2 in air + shell")
    ap.add_argument("--edge-size", type=float, default=None, help="cell size near the film's edges [m] (default: half the mesh size; 0: uniform)")
    ap.add_argument("--cells-along-z", type=int, default=None,
                    help="N: the film's triangulation extruded through the thickness in N cells; 0: unstructured "
                         f"mesh (default {SP4_CELLS_ALONG_Z} with FEM-BEM, unstructured with the shell)")
    ap.add_argument("--thin-film", action=argparse.BooleanOptionalAction, default=None,
                    help="m uniform through the thickness (default: on for an extruded mesh)")
    ap.add_argument("--max-rotation", type=float, default=None,
                    help="largest nodal rotation per step [rad] (default 0.2 with --tolerance, 0.05 without)")
    ap.add_argument("--output", default=None)
    ap.add_argument("--overwrite", action="store_true")
    a = ap.parse_args(argv)
    setup_logging()
    run_sp4(a.field, a.mesh_size, a.t_end, a.output, a.overwrite, a.dt_max, open_boundary=a.open_boundary,
            edge_size=a.edge_size, max_rotation=a.max_rotation, tolerance=a.tolerance, relax_method=a.relax_method,
            energy_every=a.energy_every, cells_along_z=a.cells_along_z, thin_film=a.thin_film)


if __name__ == "__main__":
    main()
