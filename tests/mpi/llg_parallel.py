"""LLG trajectory on the communicator it is run on (serial and mpirun -n 2 by tests/test_parallel.py)."""
import json
import sys
from pathlib import Path

import numpy as np
from mpi4py import MPI

from fem_stt.geometry import Layer, LayerStack, Surrounding, rectangle
from fem_stt.io import evaluate_points
from fem_stt.llg import LLG
from fem_stt.materials import Material

NM = 1e-9


def m0(x):
    return np.vstack([np.cos(x[0] / (15 * NM)), np.sin(x[0] / (15 * NM)), 0.2 + 0 * x[0]])


def compute(mesh_dir: Path, comm=MPI.COMM_WORLD) -> dict:
    mat = Material("p", Ms=8e5, A=1.3e-11, alpha=0.1, K1=1e5, K1_axis=(1, 0, 0))
    st = LayerStack([Layer("FM1", 6 * NM, mat, rectangle(40 * NM, 20 * NM)), Layer("spacer", 3 * NM, "Cu",
                     rectangle(40 * NM, 20 * NM)), Layer("FM2", 4 * NM, mat, rectangle(40 * NM, 20 * NM))],
                    mesh_size=5 * NM, surrounding=Surrounding(padding=0.5), name="llg_parallel")
    d = st.mesh(path=Path(mesh_dir) / "llg_parallel.msh", comm=comm)
    s = LLG(d, m0, H_ext=(0, 2e4, 1e4), order=2, dt=1e-13, dt_max=2e-13, ksp_rtol=1e-13,
            stray_field_options={"rtol": 1e-13})
    s.advance(3e-12)
    out = trajectory_result(s, comm)
    out["tangent_R_vs_ptap"] = tangent_R_vs_ptap(s)
    return out


def tangent_R_vs_ptap(s) -> float:
    """max over rows of max_j |R_direct - P^T K P|_ij / max_j |P^T K P|_ij (global) at the current m:
    the direct 2 x 2 block assembly of the tangent-plane stiffness against PETSc's sparse triple
    product (which shares no code with it). Row-relative, because the identity rows of
    non-magnetic vertices are 1e19 times the exchange entries."""
    from petsc4py import PETSc
    s._update_P()
    ref = s.exchange.K.ptap(s.P)
    vals = s._tangent.values(s._e1, s._e2, np.zeros(len(s._R_indices)))
    R = PETSc.Mat().createAIJ(size=ref.getSizes(), comm=s.comm, csr=(s._R_indptr, s._R_indices, vals))
    R.assemble()
    R.axpy(-1.0, ref, structure=PETSc.Mat.Structure.DIFFERENT_NONZERO_PATTERN)

    def row_max(A):
        ia, _, va = A.getValuesCSR()
        out = np.zeros(len(ia) - 1)
        np.maximum.at(out, np.repeat(np.arange(len(ia) - 1), np.diff(ia)), np.abs(va))
        return out
    scale = row_max(ref)
    assert scale.min() > 0
    return s.comm.allreduce(float(np.max(row_max(R) / scale, initial=0.0)), op=MPI.MAX)


def trajectory_result(s, comm) -> dict:
    """What the parallel tests compare after a short LLG run on an FM1 / spacer / FM2 stack."""
    probes = np.array([[0, 0, 3 * NM], [15 * NM, 5 * NM, 2 * NM], [-10 * NM, -5 * NM, 11 * NM]])
    return {"ranks": comm.size, "t": s.t, "steps": s.step_count, "rejected": s.rejected,
            "m_FM1": s.average("FM1").tolist(), "m_FM2": s.average("FM2").tolist(),
            "energies": s.energies(), "probes": evaluate_points(s.m, probes).tolist()}


if __name__ == "__main__":
    out = compute(Path(sys.argv[1]))
    if MPI.COMM_WORLD.rank == 0:
        print("RESULT " + json.dumps(out))
