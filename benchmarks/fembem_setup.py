"""Setup of the FEM-BEM stray-field operator B: time and memory for the SP4 film and a 4x larger one.

Films (Permalloy, 3 nm thick, 5 nm cells and 2.5 nm along the edges, meshed as
demos/standard_problem_4.py meshes SP4: extruded in ``--cells-along-z`` cells through the thickness,
default the demo's 3, 0 for the unstructured mesh): ``sp4`` 500 x 125 nm, ``x4`` 1000 x 250 nm (4x
the area, ~3.3x the boundary vertices). For each film and number of ranks the worker prints one JSON
line per operator:

- ``planar`` (the default: compiled kernel, float32 storage, without the blocks between coplanar
  faces, :class:`fem_stt.fembem.PlanarBlockMatrix`), ``dense`` (all of B), ``aca`` (``compression="aca"``,
  default tol): ``bem_matrix_s`` (assembly of B, max over ranks), ``setup_s`` (the whole
  FemBemStrayField: boundary, B, FEM factorizations), ``operator_bytes`` (B summed over the
  ranks; the dense one is 4 n_b^2), ``solve_s`` (one field evaluation, best of --repeat) and
  its mat-vec part ``bem_s``, ``field_rel_l2`` (nodal H_d against the reference operator) and,
  for aca, ``field_rel_l2_vs_dense`` and the block statistics;
- ``numpy_reference``: the vectorized numpy evaluation of the same B rows
  (fem_stt.fembem.double_layer_matrix_numpy) against the compiled kernel on the same rows in
  the same run: ``numpy_s``, ``numba_s``, ``speedup``; with --numpy-rows N only the first N
  rows of each rank are computed and ``numpy_s_full`` is extrapolated linearly in rows;
- ``reference``: the operator the fields are compared with: dense float64 when it takes
  at most --dense64-max-bytes, else ACA with tol 1e-8 and float64 blocks.

``jit_s`` is the one-off loading (or, on a fresh install, compiling) of the numba kernels,
excluded from the times above. Times are wall-clock on a machine that may be shared: compare
the operators within one line-group (same run), not across runs.

Run:  python benchmarks/fembem_setup.py [--films sp4 x4] [--ranks 1 2] [--repeat 5]
          [--numpy-rows 0] [--dense64-max-bytes 2e9]
"""
import argparse
import contextlib
import io
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _mpi import ROOT, run_worker  # noqa: E402

NM = 1e-9
FILMS = {"sp4": (500, 125), "x4": (1000, 250)}  # nm


def film_domain(name, mesh_dir: Path, comm, cells_along_z=None):
    """The film with SP4's mesh (:func:`fem_stt.validation.sp4_domain` at the film's size;
    ``cells_along_z``: None unstructured, N extruded in N cells)."""
    from fem_stt.validation import sp4_domain
    lx, ly = FILMS[name]
    return sp4_domain(5 * NM, comm=comm, mesh_dir=mesh_dir, edge_size=2.5 * NM, cells_along_z=cells_along_z,
                      size=(lx * NM, ly * NM))


def worker(film: str, repeat: int, numpy_rows: int, dense64_max_bytes: float, mesh_dir: Path, cells_along_z=None):
    import numpy as np
    from mpi4py import MPI

    import dolfinx.fem
    from fem_stt.fembem import FemBemStrayField, compile_kernels, double_layer_matrix, double_layer_matrix_numpy

    comm = MPI.COMM_WORLD
    d = film_domain(film, mesh_dir, comm, cells_along_z)
    base = {"benchmark": "fembem_setup", "film": film, "size_nm": [*FILMS[film], 3], "ranks": comm.size,
            "cells_along_z": cells_along_z, "vertices": d.mesh.topology.index_map(0).size_global}

    def tmax(t):
        return round(comm.allreduce(t, op=MPI.MAX), 3)

    comm.barrier()
    jit_s = tmax(compile_kernels())  # one-off: load (or compile) the numba kernels

    def magnetization(Vm):
        m = dolfinx.fem.Function(Vm)
        x = Vm.tabulate_dof_coordinates()
        lx, ly = FILMS[film][0] * NM, FILMS[film][1] * NM
        th = 0.6 * np.sin(2 * np.pi * x[:, 0] / lx) + 0.4 * np.cos(2 * np.pi * x[:, 1] / ly)
        a = m.x.array.reshape(-1, 3)
        a[:] = np.column_stack([np.cos(th), np.sin(th), 0.1 * np.cos(np.pi * x[:, 0] / lx)])
        a /= np.linalg.norm(a, axis=1)[:, None]
        return m

    def run(**kw):
        """Build, time the setup and --repeat solves; returns (record, owned nodal H_d, solver)."""
        comm.barrier()
        t0 = time.perf_counter()
        s = FemBemStrayField(d, **kw)
        setup = time.perf_counter() - t0
        m = magnetization(s.Vm)
        s.solve(m)
        best, bem = np.inf, np.inf
        for _ in range(repeat):
            b0 = s.timings["bem"]
            comm.barrier()
            t0 = time.perf_counter()
            s.solve(m)
            best = min(best, time.perf_counter() - t0)
            bem = min(bem, s.timings["bem"] - b0)
        no = s.Vm.dofmap.index_map.size_local
        rec = {"boundary_nodes": s.num_boundary_nodes, "triangles": len(s.boundary_triangles),
               "bem_matrix_s": tmax(s.setup_timings["bem_matrix"]), "setup_s": tmax(setup),
               "operator_bytes": s.operator_bytes, "dense_float32_bytes": 4 * s.num_boundary_nodes ** 2,
               "solve_s": tmax(best), "bem_s": tmax(bem)}
        return rec, s.H.x.array.reshape(-1, 3)[:no].copy(), s

    def rel_l2(a, b):
        num = comm.allreduce(float(np.sum((a - b) ** 2)), op=MPI.SUM)
        return float(np.sqrt(num / comm.allreduce(float(np.sum(b ** 2)), op=MPI.SUM)))

    aca, H_aca, s = run(compression="aca")
    aca["stats"] = comm.gather(s.B.stats)
    nb = s.num_boundary_nodes
    # numpy reference and compiled kernel on the same rows
    rows = len(s.row_points) if numpy_rows <= 0 else min(numpy_rows, len(s.row_points))
    args = (s.row_points[:rows], s.row_boundary_index[:rows], s.boundary_triangles, s.boundary_corners, nb)
    timing = {}
    for name, f in (("numba", double_layer_matrix), ("numpy", double_layer_matrix_numpy)):
        comm.barrier()
        t0 = time.perf_counter()
        B, _ = f(*args, np.float32)
        timing[name] = tmax(time.perf_counter() - t0)
        del B
    partial = bool(comm.allreduce(rows < len(s.row_points), op=MPI.LOR))
    scale = comm.allreduce(len(s.row_points), op=MPI.MAX) / max(comm.allreduce(rows, op=MPI.MIN), 1) if partial else 1
    numpy_line = {**base, "operator": "numpy_reference", "boundary_nodes": nb,
                  "rows_per_rank": comm.allreduce(rows, op=MPI.MAX), "numpy_s": timing["numpy"],
                  "numba_s": timing["numba"], "speedup": round(timing["numpy"] / max(timing["numba"], 1e-9), 2),
                  "numpy_s_full": round(timing["numpy"] * scale, 1), "extrapolated": partial}
    del s
    planar, H_planar, s = run(compression="planar")
    planar["dropped_fraction"] = s.dropped_fraction
    del s
    dense, H_dense, s = run(compression=None)
    del s
    if 8 * nb ** 2 <= dense64_max_bytes:
        ref_kw, ref_name = {"dense_dtype": "float64", "compression": None}, "dense float64"
    else:
        ref_kw, ref_name = {"compression": "aca", "tol": 1e-8, "dense_dtype": "float64"}, "aca tol 1e-8 float64"
    ref, H_ref, s = run(**ref_kw)
    del s
    dense["field_rel_l2"] = rel_l2(H_dense, H_ref)
    planar["field_rel_l2"] = rel_l2(H_planar, H_ref)
    planar["field_rel_l2_vs_dense"] = rel_l2(H_planar, H_dense)
    aca["field_rel_l2"] = rel_l2(H_aca, H_ref)
    aca["field_rel_l2_vs_dense"] = rel_l2(H_aca, H_dense)
    aca["memory_ratio_dense_over_aca"] = round(dense["operator_bytes"] / aca["operator_bytes"], 2)
    aca["setup_ratio_dense_over_aca"] = round(dense["bem_matrix_s"] / max(aca["bem_matrix_s"], 1e-9), 2)
    lines = [{**base, "operator": "planar", "jit_s": jit_s, **planar}, {**base, "operator": "dense", **dense}, {**base, "operator": "aca", **aca}, numpy_line,
             {**base, "operator": "reference", "kind": ref_name, **ref}]
    if comm.rank == 0:
        print("RESULT " + json.dumps(lines), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--films", nargs="+", default=["sp4", "x4"], choices=sorted(FILMS))
    ap.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--numpy-rows", type=int, default=None,
                    help="rows per rank for the numpy reference (0: all; default all for sp4, 300 otherwise)")
    ap.add_argument("--dense64-max-bytes", type=float, default=2e9)
    ap.add_argument("--mesh-dir", default=str(ROOT / "meshes"))
    ap.add_argument("--cells-along-z", type=int, default=3,
                    help="cells through the thickness of the extruded film (default 3, the SP4 demo's; 0: unstructured)")
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker is not None:
        worker(a.worker, a.repeat, a.numpy_rows or 0, a.dense64_max_bytes, Path(a.mesh_dir), a.cells_along_z or None)
        return
    for film in a.films:
        rows = a.numpy_rows if a.numpy_rows is not None else (0 if film == "sp4" else 300)
        for n in a.ranks:
            with contextlib.redirect_stdout(io.StringIO()):  # run_worker echoes the whole RESULT
                out = run_worker(__file__, n, ["--worker", film, "--repeat", a.repeat, "--numpy-rows", rows,
                                               "--dense64-max-bytes", a.dense64_max_bytes, "--mesh-dir", a.mesh_dir,
                                               "--cells-along-z", a.cells_along_z])
            for line in out:
                print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
