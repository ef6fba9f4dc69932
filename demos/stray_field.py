"""Stray field of the seed FM1 / spacer / FM2 pillar, magnetized antiparallel along x.

Builds the device of seed 002 ("Experiment setup": FM1 128 x 64 x 200 nm, Cu spacer
128 x 64 x 20 nm, FM2 128 x 64 x 60 nm, permalloy Ms = 8e5 A/m) in a box of air with an
open-boundary shell, sets m = +x in FM1 and -x in FM2, solves the magnetostatic
problem and writes

- ``stray_field.xdmf`` (ParaView): region tags, m, u, H_d (magnets and air);
- ``H_d_axis.png``: the three components of H_d along the pillar axis (x = y = 0);
- ``summary.json``: dofs, energy, layer-averaged fields, timings.

Run:  mpirun -n 2 python demos/stray_field.py [--mesh-size 8e-9] [--output DIR]
"""
import argparse
import logging
import time

import numpy as np
from mpi4py import MPI

from fem_stt.geometry import seed_device
from fem_stt.io import XDMFOutput, evaluate_points, prepare_output_dir, setup_logging, write_json
from fem_stt.magnetostatics import StrayField

import dolfinx.fem


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mesh-size", type=float, default=8e-9, help="cell size in the layers [m] (default 8e-9)")
    ap.add_argument("--output", default=None, help="output folder (default: results/stray_field_<time>)")
    ap.add_argument("--overwrite", action="store_true", help="allow writing into a folder that holds results")
    ap.add_argument("--no-plot", action="store_true", help="skip the PNG")
    args = ap.parse_args(argv)
    comm = MPI.COMM_WORLD
    setup_logging(comm)
    log = logging.getLogger("fem_stt.demos.stray_field")

    stack = seed_device(mesh_size=args.mesh_size)  # validates everything before meshing
    out = prepare_output_dir(args.output, comm, args.overwrite, default_name="stray_field")
    t0 = time.perf_counter()
    domain = stack.mesh(path=f"meshes/seed_device_h{args.mesh_size * 1e9:g}nm.msh", comm=comm)
    t1 = time.perf_counter()
    solver = StrayField(domain)
    t2 = time.perf_counter()

    m = dolfinx.fem.Function(solver.Vm, name="m")
    arr = m.x.array.reshape(-1, 3)
    # vertex-based: a vertex is in FM1 (FM2) if it belongs to an FM1 (FM2) cell
    for region, direction in (("FM1", (1.0, 0.0, 0.0)), ("FM2", (-1.0, 0.0, 0.0))):
        dofs = dolfinx.fem.locate_dofs_topological(solver.Vm.sub(0).collapse()[0], 3, domain.cells(region))
        arr[dofs] = direction
    m.x.scatter_forward()
    solver.solve(m)
    t3 = time.perf_counter()
    E = solver.energy()
    avg = {r: solver.average_field([r]).tolist() for r in domain.magnetic_regions}
    log.info("mesh %.1f s, setup %.2f s, solve %.3f s (%d CG its, %s), %d dofs on %d ranks",
             t1 - t0, t2 - t1, t3 - t2, solver.last_iterations, solver.last_reason, solver.num_dofs, comm.size)
    log.info("demag energy %.4e J; layer-averaged H_d [A/m]: %s", E, {k: np.round(v, 1).tolist() for k, v in avg.items()})

    H_all = solver.field_outside_shell()
    with XDMFOutput(out / "stray_field.xdmf", domain, include=("air",)) as xdmf:
        xdmf.write([m, solver.u, H_all])

    zs = np.linspace(-100e-9, 380e-9, 481)
    pts = np.column_stack([np.zeros_like(zs), np.zeros_like(zs), zs])
    Hz = evaluate_points(H_all, pts)
    if comm.rank == 0:
        np.savetxt(out / "H_d_axis.csv", np.column_stack([zs, Hz]), delimiter=",",
                   header="z_m,Hx_A_per_m,Hy_A_per_m,Hz_A_per_m", comments="")
        if not args.no_plot:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
            fig, ax = plt.subplots(figsize=(7, 4))
            for k, c in enumerate("xyz"):
                ax.plot(zs * 1e9, Hz[:, k] / 1e3, label=f"$H_{{d,{c}}}$")
            for z in stack.z_interfaces:
                ax.axvline(z * 1e9, color="0.7", lw=0.8)
            ax.set_xlabel("z on the pillar axis [nm]")
            ax.set_ylabel("stray field [kA/m]")
            ax.set_title("Seed device, FM1 +x / FM2 -x (layer boundaries in grey)")
            ax.legend()
            fig.tight_layout()
            fig.savefig(out / "H_d_axis.png", dpi=120)
    write_json(out / "summary.json", {
        "dofs": solver.num_dofs, "ranks": comm.size, "cells": domain.num_cells_global(),
        "mesh_s": t1 - t0, "setup_s": t2 - t1, "solve_s": t3 - t2, "cg_iterations": solver.last_iterations,
        "demag_energy_J": E, "average_H_d_A_per_m": avg}, comm)
    log.info("wrote %s", out)
    return out


if __name__ == "__main__":
    main()
