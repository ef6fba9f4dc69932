"""Setup of the FEM-BEM operator: the compiled Lindholm kernel against the numpy reference (same
formula, separate code) and numerical quadrature; the H-matrix (ACA) operator and field against
the dense ones, serial and with mpirun -n 2."""
import math
import sys
from pathlib import Path

import numpy as np
import pytest
from test_fembem import _quadrature_double_layer
from test_parallel import run_mpi

from fem_stt.errors import ParameterError
from fem_stt.fembem import (FemBemStrayField, HMatrix, double_layer_matrix, double_layer_matrix_numpy,
                            lindholm_weights)
from fem_stt.geometry import Layer, LayerStack, rectangle
from fem_stt.materials import Material

NM = 1e-9
HERE = Path(__file__).parent


def _film(mesh_dir, lx, ly, name):
    st = LayerStack([Layer("film", 3 * NM, Material("p", Ms=8e5, A=1.3e-11, alpha=0.1),
                           rectangle(lx * NM, ly * NM))], mesh_size=5 * NM, surrounding=None, name=name)
    return st.mesh(path=mesh_dir / f"{name}.msh")


def test_compiled_kernel_equals_numpy_reference_and_quadrature():
    """Random triangles seen from random points, near and far: every corner its own column."""
    rng = np.random.default_rng(3)
    nt = 40
    p1 = rng.uniform(-1, 1, (nt, 3))
    tri = p1[:, None, :] + rng.uniform(-0.5, 0.5, (nt, 3, 3)) * np.array([1.0, 1.0, 0.3])
    # random points, points 1e-3 above five centroids (nearly singular), one 0.1 above a centroid
    x = np.vstack([rng.uniform(-1.5, 1.5, (30, 3)), tri[:5].mean(axis=1) + [0.0, 0.0, 1e-3],
                   tri[7].mean(axis=0) + [0.0, 0.0, 0.1]])
    cols = np.arange(3 * nt).reshape(nt, 3)
    dummy = np.full(len(x), 3 * nt)  # the diagonal goes to an extra column
    B, om = double_layer_matrix(x, dummy, tri, cols, 3 * nt + 1)
    L_ref, om_ref = lindholm_weights(x, tri)
    scale = np.abs(L_ref).max()
    assert np.abs(B[:, :-1].reshape(len(x), nt, 3) - L_ref).max() < 1e-12 * scale
    assert np.allclose(om, om_ref.sum(axis=1), rtol=0, atol=1e-12)
    assert np.allclose(B[:, -1], om / (4 * math.pi) - 1.0, rtol=0, atol=1e-14)
    for a, t in ((0, 7), (35, 7), (35, 20)):  # independent: quadrature of the double-layer integral
        got = B[a, :-1].reshape(nt, 3)[t]
        q = _quadrature_double_layer(x[a], tri[t], k=300)
        assert np.allclose(got, q, rtol=2e-4, atol=1e-7), (got, q)


@pytest.fixture(scope="module")
def film_small(mesh_dir):
    """200 x 60 x 3 nm film, 5 nm cells: 1338 boundary vertices, far blocks exist."""
    d = _film(mesh_dir, 200, 60, "fembem_setup_film")
    s = FemBemStrayField(d, dense_dtype="float64", compression=None)
    return s


def test_compiled_matrix_equals_numpy_reference(film_small):
    s = film_small
    args = (s.row_points, s.row_boundary_index, s.boundary_triangles, s.boundary_corners, s.num_boundary_nodes)
    B_np, om_np = double_layer_matrix_numpy(*args)
    assert s.B.shape == B_np.shape == (s.num_boundary_nodes,) * 2
    assert np.abs(s.B - B_np).max() < 1e-12
    assert np.abs(s.solid_angle - om_np).max() < 1e-12
    assert np.abs(s.B.sum(axis=1) + 1.0).max() < 1e-12
    # interior solid angle 2 pi on the faces of the film, less on edges and corners
    assert np.isclose(np.median(s.solid_angle), 2 * math.pi, atol=1e-9)


@pytest.mark.parametrize("tol", [1e-4, 1e-6])
def test_hmatrix_equals_dense_operator(film_small, tol):
    """Every column of B_H against the dense B; also for a slice of rows, as one MPI rank holds."""
    s = film_small
    nb = s.num_boundary_nodes
    args = (s.boundary_triangles, s.boundary_corners, nb)
    H = HMatrix(s.row_points, s.row_boundary_index, *args, tol=tol, dtype=np.float64)
    assert H.stats["far_blocks"] > 0 and H.nbytes < 0.8 * s.B.nbytes  # n_b = 1338: little to gain
    Bh = np.column_stack([H @ e for e in np.eye(nb)])
    err = np.linalg.norm(Bh - s.B) / np.linalg.norm(s.B)
    print(f"tol {tol:g}: ||B_H - B||_F / ||B||_F = {err:.2e}, {H.stats}, {H.nbytes / s.B.nbytes:.2f} of dense")
    assert err < 0.1 * tol
    assert np.abs(Bh.sum(axis=1) + 1.0).max() < 1e-12  # B_H 1 = -1 by construction
    assert np.allclose(H.solid_angle, s.solid_angle, rtol=0, atol=10 * tol)
    rows = slice(400, 1000)
    Hr = HMatrix(s.row_points[rows], s.row_boundary_index[rows], *args, tol=tol, dtype=np.float64)
    x = np.cos(np.arange(nb) * 0.37)
    assert np.linalg.norm(Hr @ x - s.B[rows] @ x) < 0.1 * tol * np.linalg.norm(s.B[rows] @ x)


def test_hmatrix_and_planar_fields_match_dense_serial_and_two_ranks(mesh_dir):
    """Default ACA options (tol 1e-5, float32 blocks) against the dense float64 B on a 300 x 100
    x 3 nm film: nodal H_d to 1e-4 relative (L2), on 1 and on 2 ranks; memory of B reported."""
    sys.path.insert(0, str(HERE / "mpi"))
    try:
        from fembem_parallel import compute_compression
    finally:
        sys.path.pop(0)
    serial = compute_compression(mesh_dir)
    par = run_mpi(HERE / "mpi" / "fembem_parallel.py", mesh_dir, "compression")
    for r in (serial, par):
        print({k: r[k] for k in ("ranks", "rel_l2")}, "bytes dense / aca:", r["dense"]["operator_bytes"],
              r["aca"]["operator_bytes"], r["aca"]["stats"])
        assert r["rel_l2"] < 1e-4
        assert r["aca"]["energy"] == pytest.approx(r["dense"]["energy"], rel=1e-5, abs=0)
        assert r["aca"]["operator_bytes"] < r["dense"]["operator_bytes"] / 4  # float32 blocks, float64 dense
    assert par["ranks"] == 2 and len(par["aca"]["stats"]) == 2
    assert par["dense"]["energy"] == pytest.approx(serial["dense"]["energy"], rel=1e-10, abs=0)
    assert par["aca"]["energy"] == pytest.approx(serial["aca"]["energy"], rel=1e-5, abs=0)
    # compression="planar": the same B without the blocks that vanish between coplanar faces
    for r in (serial, par):
        print("planar:", r["rel_l2_planar"], r["planar"]["dropped_fraction"], r["planar"]["operator_bytes"])
        assert r["rel_l2_planar"] < 1e-12  # the dropped entries are round-off
        assert r["planar"]["dropped_fraction"] > 0.3  # top from top, bottom from bottom (all but the rims)
        assert r["planar"]["operator_bytes"] < 0.7 * r["dense"]["operator_bytes"]
    assert par["planar"]["energy"] == pytest.approx(serial["planar"]["energy"], rel=1e-10, abs=0)


def test_fembem_setup_options_errors(film_small):
    d = film_small.domain
    for kw, name in [({"compression": "hmat"}, "compression"), ({"compression": "aca", "tol": 0.5}, "tol"),
                     ({"tol": 0.0}, "tol"), ({"kernel": "numpy", "compression": "aca"}, "kernel"),
                     ({"kernel": "c"}, "kernel")]:
        with pytest.raises(ParameterError, match=name):
            FemBemStrayField(d, **kw)
