"""SP4 accuracy against the mesh: S-state and the first <mx> zero of fields 1 and 2 per mesh.

For each ``--mesh H:EDGE`` (cell size in the film and along its edges, in nm; EDGE ``-`` for
none; a third field ``xN`` for the extruded mesh with N cells
across the thickness, ``xNt`` for the same with m uniform through the thickness, LLG ``thin_film``)
it meshes the film alone (:func:`fem_stt.validation.sp4_domain`), relaxes the S-state
(pbb, 20 A/m, as the demo) and integrates field 1 and field 2 from it for ``--t-end`` (0.16 ns,
past the crossings at ~136-138 ps) with the demo's stepping (tolerance 5e-4, dt_max 10 ps,
GMRES rtol 1e-6). Prints one JSON line per mesh: vertices, FEM-BEM boundary nodes, S-state,
both crossings [ps], steps and wall times. Runs on any number of ranks (the result is the same).

Targets (issue 15): S-state within 0.002 of (0.9670, 0.1253) (mumax3), field 1 crossing within
1 ps of 138.4 ps and field 2 within 1 ps of 136.685 ps (OOMMF, 1 nm cells).

Run:  mpirun -n 2 python benchmarks/sp4_mesh.py --mesh 5:2.5 --mesh 4:- --mesh 4:2
"""
import argparse
import json
import time
from pathlib import Path

import numpy as np
from mpi4py import MPI

from fem_stt.constants import MU0
from fem_stt.llg import LLG
from fem_stt.validation import SP4_FIELDS_mT, first_zero_crossing, sp4_domain, sp4_initial_state

ROOT = Path(__file__).resolve().parents[1]


def study(h_nm, edge_nm, cells_along_z=None, t_end=0.16e-9, tolerance=5e-4, comm=MPI.COMM_WORLD, thin_film=False):
    """One mesh of the study (module docstring); returns the JSON row (on every rank)."""
    w0 = time.perf_counter()
    dom = sp4_domain(h_nm * 1e-9, comm=comm, mesh_dir=ROOT / "meshes",
                     edge_size=None if edge_nm is None else edge_nm * 1e-9, cells_along_z=cells_along_z)
    llg = LLG(dom, sp4_initial_state, demag=True, demag_method="fembem", order=2, ksp_rtol=1e-6,
              thin_film=thin_film)
    setup = time.perf_counter() - w0
    w0 = time.perf_counter()
    rel = llg.relax(tol=20.0, method="pbb")
    relax = time.perf_counter() - w0
    m0, s_state = llg.m_array.copy(), llg.average().tolist()
    row = {"benchmark": "sp4_mesh", "h_nm": h_nm, "edge_nm": edge_nm, "extruded_cells_along_z": cells_along_z or 0,
           "thin_film": thin_film, "ranks": comm.size,
           "vertices": dom.mesh.topology.index_map(0).size_global,
           "boundary_nodes": llg.stray.num_boundary_nodes, "setup_s": setup, "relax_s": relax,
           "relax_iterations": rel["iterations"], "S_state": s_state,
           "S_state_my_error": s_state[1] - 0.1253}
    for field, ref in ((1, 138.4), (2, 136.685)):
        llg.set_state({"m": m0, "history": [], "u": None, "t": 0.0, "dt": 1e-13, "step": 0, "rejected": 0})
        llg.set_external_field(np.asarray(SP4_FIELDS_mT[field]) * 1e-3 / MU0)
        llg.tolerance, llg.dt_max, llg.max_rotation = tolerance, 1e-11, 0.2
        ts, mx = [0.0], [llg.average()[0]]
        w0 = time.perf_counter()
        llg.advance(t_end, lambda s: (ts.append(s.t), mx.append(s.average()[0])))
        c = first_zero_crossing(np.array(ts), np.array(mx)) * 1e12
        row.update({f"crossing{field}_ps": c, f"crossing{field}_error_ps": c - ref,
                    f"steps{field}": llg.step_count, f"wall{field}_s": time.perf_counter() - w0})
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mesh", action="append", required=True, metavar="H:EDGE[:xN]",
                    help="cell size in the film and at its edges [nm]; EDGE '-' for none; ':xN' extruded, N cells along z; "
                         "':xNt' the same with LLG thin_film (repeatable)")
    ap.add_argument("--t-end", type=float, default=0.16e-9)
    a = ap.parse_args()
    for spec in a.mesh:
        h, e, *x = spec.split(":")
        thin = bool(x) and x[0].endswith("t")
        n = int(x[0][1:].rstrip("t") or 1) if x else None
        row = study(float(h), None if e == "-" else float(e), n, a.t_end, thin_film=thin)
        if MPI.COMM_WORLD.rank == 0:
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
