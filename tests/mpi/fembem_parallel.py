"""FEM-BEM stray field and an LLG trajectory with it (on the extruded stack also with LLG ``thin_film``)
on a stack with a non-magnetic spacer and no air (serial and mpirun -n 2 by tests/test_parallel.py); with the argument ``compression``,
the H-matrix (ACA) field against the dense one on a film (tests/test_fembem_setup.py)."""
import json
import sys
from pathlib import Path

import numpy as np
from llg_parallel import NM, m0, trajectory_result
from mpi4py import MPI

import dolfinx.fem
from fem_stt.fembem import FemBemStrayField
from fem_stt.geometry import Layer, LayerStack, rectangle
from fem_stt.llg import LLG
from fem_stt.magnetostatics import uniform_magnetization
from fem_stt.materials import Material


def compute(mesh_dir: Path, comm=MPI.COMM_WORLD, extruded=False) -> dict:
    """The stack unstructured and (``extruded``, 3 / 1 / 2 cells across FM1 / spacer / FM2) extruded."""
    mat = Material("p", Ms=8e5, A=1.3e-11, alpha=0.1)
    hz = (2 * NM, None, 2 * NM) if extruded else (None,) * 3
    st = LayerStack([Layer("FM1", 6 * NM, mat, rectangle(40 * NM, 20 * NM), mesh_size=hz[0]),
                     Layer("spacer", 3 * NM, "Cu", rectangle(40 * NM, 20 * NM), mesh_size=hz[1]),
                     Layer("FM2", 4 * NM, mat, rectangle(40 * NM, 20 * NM), mesh_size=hz[2])],
                    mesh_size=5 * NM, surrounding=None, name="fembem_parallel" + ("_extruded" if extruded else ""),
                    extruded=extruded)
    d = st.mesh(path=Path(mesh_dir) / f"{st.name}.msh", comm=comm)
    s = LLG(d, m0, H_ext=(0, 2e4, 1e4), order=2, dt=1e-13, dt_max=2e-13, ksp_rtol=1e-13,
            stray_field_options={"dense_dtype": "float64"})  # float32 storage: summation order shows at 1e-7
    sf = s.stray
    sf.solve(uniform_magnetization(sf.Vm, (0.6, 0.0, 0.8)))
    uniform = {"energy": sf.energy(), "avg_FM1": sf.average_field(["FM1"]).tolist(),
               "avg_FM2": sf.average_field(["FM2"]).tolist()}
    s.advance(3e-12)
    out = trajectory_result(s, comm)
    out.update(method=s.demag_method, boundary_nodes=sf.num_boundary_nodes, uniform=uniform,
               interior_nodes=sf.num_interior_nodes)
    if not extruded:
        out["extruded"] = compute(mesh_dir, comm, extruded=True)
    else:  # LLG thin_film: m uniform through FM1 and through FM2 (columns may span both ranks)
        t = LLG(d, m0, H_ext=(0, 2e4, 1e4), order=2, dt=1e-13, dt_max=2e-13, ksp_rtol=1e-13, thin_film=True,
                stray_field_options={"dense_dtype": "float64"})
        t.advance(3e-12)
        c, no = t.columns, t.mv.n_owned
        m = t.m_array[:no]
        # every vertex against its column's representative (owned by any rank), as C applied to the
        # representatives' values
        spread = float(np.abs(m - c.spread(m[c.rep])).max(initial=0.0))
        out["thin_film"] = trajectory_result(t, comm)
        out["thin_film"].update(columns=c.n_global, column_spread=comm.allreduce(spread, op=MPI.MAX),
                                foreign_vertices=comm.allreduce(int(np.sum((c.column_of >= 0) & (
                                    (c.column_of < c.r0) | (c.column_of >= c.r0 + c.n_owned)))), op=MPI.SUM),
                                owned_columns=comm.allgather(c.n_owned))
    return out


def film_magnetization(Vm):
    """A vortex-like unit m(x, y) on a 300 x 100 nm film: every component varies."""
    m = dolfinx.fem.Function(Vm)
    x = Vm.tabulate_dof_coordinates()
    a = m.x.array.reshape(-1, 3)
    a[:, 0] = np.cos(x[:, 0] / (60 * NM))
    a[:, 1] = np.sin(x[:, 0] / (60 * NM)) * np.cos(x[:, 1] / (40 * NM))
    a[:, 2] = 0.3 * np.sin(x[:, 1] / (30 * NM))
    a /= np.linalg.norm(a, axis=1)[:, None]
    return m


def compute_compression(mesh_dir: Path, comm=MPI.COMM_WORLD) -> dict:
    """Dense (float64), H-matrix (default ACA options, float32 blocks) and planar-block (float64)
    FEM-BEM fields of one m on a 300 x 100 x 3 nm film: relative L2 (nodal) differences to the
    dense one, energies, memory of B."""
    mat = Material("p", Ms=8e5, A=1.3e-11, alpha=0.1)
    st = LayerStack([Layer("film", 3 * NM, mat, rectangle(300 * NM, 100 * NM))], mesh_size=5 * NM,
                    surrounding=None, name="fembem_aca_film")
    d = st.mesh(path=Path(mesh_dir) / "fembem_aca_film.msh", comm=comm)
    out = {"ranks": comm.size}
    fields = {}
    for name, kw in (("dense", {"dense_dtype": "float64", "compression": None}), ("aca", {"compression": "aca"}),
                     ("planar", {"compression": "planar", "dense_dtype": "float64"})):
        s = FemBemStrayField(d, **kw)
        s.solve(film_magnetization(s.Vm))
        no = s.Vm.dofmap.index_map.size_local
        fields[name] = s.H.x.array.reshape(-1, 3)[:no].copy()
        out[name] = {"energy": s.energy(), "avg": s.average_field().tolist(), "operator_bytes": s.operator_bytes,
                     "boundary_nodes": s.num_boundary_nodes, "bem_matrix_s": s.setup_timings["bem_matrix"]}
        if name == "aca":
            out[name]["stats"] = comm.gather(s.B.stats)
        if name == "planar":
            out[name]["dropped_fraction"] = s.dropped_fraction
    ref = comm.allreduce(float(np.sum(fields["dense"] ** 2)), op=MPI.SUM)
    for name, key in (("aca", "rel_l2"), ("planar", "rel_l2_planar")):
        diff = comm.allreduce(float(np.sum((fields[name] - fields["dense"]) ** 2)), op=MPI.SUM)
        out[key] = (diff / ref) ** 0.5
    return out


if __name__ == "__main__":
    f = compute_compression if sys.argv[2:] == ["compression"] else compute
    out = f(Path(sys.argv[1]))
    if MPI.COMM_WORLD.rank == 0:
        print("RESULT " + json.dumps(out))
