"""XDMF output on the communicator it is run on (serial and mpirun -n 2 by tests/test_xdmf_output.py):
known fields written with XDMFOutput, and a short LLG run (m and H_d) written by LLGRun."""
import json
import sys
from pathlib import Path

import dolfinx
import numpy as np
from mpi4py import MPI

from fem_stt import _compat
from fem_stt.geometry import Layer, LayerStack, Surrounding, rectangle
from fem_stt.io import XDMFOutput
from fem_stt.llg import LLG
from fem_stt.llg.run import LLGRun
from fem_stt.materials import Material

NM = 1e-9


def stack():
    """FM1 (6 nm) / Cu spacer (3 nm) / FM2 (4 nm), 40 x 20 nm, in air with a shell; 5 nm cells."""
    mat = Material("p", Ms=8e5, A=1.3e-11, alpha=0.1, K1=1e5, K1_axis=(1, 0, 0))
    return LayerStack([Layer("FM1", 6 * NM, mat, rectangle(40 * NM, 20 * NM)),
                       Layer("spacer", 3 * NM, "Cu", rectangle(40 * NM, 20 * NM)),
                       Layer("FM2", 4 * NM, mat, rectangle(40 * NM, 20 * NM))],
                      mesh_size=5 * NM, surrounding=Surrounding(padding=0.5), name="xdmf_output")


def known_fields(domain):
    """m (P1 vector) = (x, y, z) / 1 nm and phi (P2 scalar) = x y / (1 nm)^2: exact at the vertices."""
    m = dolfinx.fem.Function(_compat.function_space(domain.mesh, "CG", 1, shape=(3,)), name="m")
    m.interpolate(lambda x: x / NM)
    phi = dolfinx.fem.Function(_compat.function_space(domain.mesh, "CG", 2), name="phi")
    phi.interpolate(lambda x: x[0] * x[1] / NM ** 2)
    return m, phi


def write_known(domain, path, times=(0.0, 1e-12, 2.5e-12), **kw):
    """One step per time; at step k the fields are (k + 1) times the known ones."""
    m, phi = known_fields(domain)
    m0, phi0 = m.x.array.copy(), phi.x.array.copy()
    with XDMFOutput(path, domain, **kw) as out:
        for k, t in enumerate(times):
            m.x.array[:] = (k + 1) * m0
            phi.x.array[:] = (k + 1) * phi0
            out.write([m, phi], t)
    return out


def compute(mesh_dir: Path, out: Path, comm=MPI.COMM_WORLD) -> dict:
    d = stack().mesh(path=Path(mesh_dir) / "xdmf_output.msh", comm=comm)
    known = write_known(d, Path(out) / "known.xdmf")
    llg = LLG(d, lambda x: np.vstack([np.cos(x[0] / (15 * NM)), np.sin(x[0] / (15 * NM)), 0.2 + 0 * x[0]]),
              H_ext=(0, 2e4, 1e4), order=2, dt=1e-13, dt_max=2e-13, ksp_rtol=1e-13,
              stray_field_options={"rtol": 1e-13})
    run = LLGRun(llg, Path(out) / "run", xdmf_every=2, checkpoint_every=1000, energy_every=1000,
                 fields=[llg.stray.H], refresh=lambda: llg.stray.solve(llg.m))
    run.run(1e-12, max_steps=5)
    run.close()
    return {"ranks": comm.size, "num_points": known.num_points, "num_cells": known.num_cells,
            "steps": llg.step_count}


if __name__ == "__main__":
    res = compute(Path(sys.argv[1]), Path(sys.argv[2]))
    if MPI.COMM_WORLD.rank == 0:
        print("RESULT " + json.dumps(res))
