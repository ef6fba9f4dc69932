"""LLG ``thin_film``: m uniform through the thickness of an extruded layer (fem_stt/llg/columns.py).

Independent answers: the column stiffness and weights equal the footprint's P1 stiffness and lumped
mass times the thickness, assembled here from the triangles by the closed-form P1 formulas (exact:
a column-uniform P1 function is the 2D P1 interpolant extended constantly in z); the analytic
macrospin; the full 3D film (every vertex free), which the constrained film must follow when the
film is thinner than the exchange length.
"""
import math
from pathlib import Path

import numpy as np
import pytest

from fem_stt.constants import MU0
from fem_stt.errors import ParameterError
from fem_stt.geometry import Layer, LayerStack, rectangle
from fem_stt.llg import LLG
from fem_stt.llg.columns import VertexColumns
from fem_stt.llg.field import Exchange, MagneticVertices
from fem_stt.materials import Material

from test_llg import GAMMA0, macrospin_exact

NM = 1e-9
MAT = Material("py", Ms=8e5, A=1.3e-11, alpha=0.1)


def _film(mesh_dir, name, extruded=True, thickness=4 * NM, dz=2 * NM, **kw):
    st = LayerStack([Layer("film", thickness, MAT, rectangle(60 * NM, 30 * NM), mesh_size=dz if extruded else None)],
                    mesh_size=6 * NM, surrounding=None, name=name, extruded=extruded, **kw)
    return st.mesh(path=Path(mesh_dir) / f"{name}.msh")


@pytest.fixture(scope="module")
def film(mesh_dir):
    """60 x 30 x 4 nm, 6 nm triangles extruded in 2 cells of 2 nm."""
    return _film(mesh_dir, "thin_film_60x30x4")


def test_column_stiffness_and_weights_are_the_footprint_ones_times_thickness(film):
    mv = MagneticVertices(film)
    cols = VertexColumns(mv)
    x = mv.V1.tabulate_dof_coordinates()[: mv.n_owned]
    assert cols.n_global == cols.n_owned and cols.n_global * 3 == mv.n_owned  # serial; 3 vertex layers
    assert np.all(cols.vertex_count == 3)
    # every vertex of a column has its representative's (x, y)
    assert np.abs(x[:, :2] - x[cols.rep[cols.column_of], :2]).max() < 1e-9 * NM  # Gmsh copies x, y to round-off
    # footprint triangles: the top faces (3 vertices at z = top) of the tetrahedra
    cells = mv.V1.dofmap.list.array.reshape(-1, 4)
    top = np.isclose(x[:, 2], x[:, 2].max(), rtol=0, atol=1e-3 * NM)
    tris = np.array([c[top[c]] for c in cells if top[c].sum() == 3])
    t = x[:, 2].max() - x[:, 2].min()
    n = cols.n_global
    K2 = np.zeros((n, n))
    M2 = np.zeros(n)
    for tri in tris:
        p = x[tri, :2]
        area = 0.5 * abs(np.cross(p[1] - p[0], p[2] - p[0]))
        # grad lambda_i = rot90(p_k - p_j) / (2 area) (j, k the other corners in cyclic order)
        g = np.array([[p[(i + 1) % 3][1] - p[(i + 2) % 3][1], p[(i + 2) % 3][0] - p[(i + 1) % 3][0]] for i in range(3)])
        g /= 2 * area
        c = cols.column_of[tri]
        K2[np.ix_(c, c)] += area * g @ g.T
        M2[c] += area / 3
    assert abs(M2.sum() - 60 * 30 * NM**2) < 1e-9 * 60 * 30 * NM**2
    Kc = Exchange(mv).K.PtAP(cols.matrix(3))
    ip, ic, v = Kc.getValuesCSR()
    dense = np.zeros((3 * n, 3 * n))
    dense[np.repeat(np.arange(3 * n), np.diff(ip)), ic] = v
    expected = t * 2 * MAT.A * K2
    assert np.abs(dense[0::3, 0::3] - expected).max() < 1e-12 * np.abs(expected).max()
    assert np.abs(dense[1::3, 1::3] - expected).max() < 1e-12 * np.abs(expected).max()
    assert np.abs(dense[0::3, 1::3]).max() == 0.0
    assert np.allclose(cols.weight, MU0 * MAT.Ms * t * M2, rtol=1e-12, atol=0)


def test_thin_film_macrospin_is_exact_to_the_scheme(film):
    """Uniform m, no stray field: the constrained film is a macrospin (as the full one)."""
    H, th0, T = 1e5, 0.5, 0.1e-9
    s = LLG(film, (math.sin(th0), 0, math.cos(th0)), H_ext=(0, 0, H), demag=False, order=2, dt=1e-12,
            dt_max=1e-12, max_rotation=1.0, thin_film=True)
    s.advance(T)
    err = np.abs(s.average() - macrospin_exact(T, H, MAT.alpha, th0)).max()
    print("thin-film macrospin error", err)
    assert err < 5e-5  # the full-mesh order-2 test's bound at this step (test_llg)


def _vortexish(x):
    return np.vstack([np.cos(x[0] / (25 * NM)), np.sin(x[0] / (25 * NM)) + 0.3 * np.cos(x[1] / (15 * NM)),
                      0.2 * np.ones_like(x[0])])


@pytest.fixture(scope="module")
def thin_and_full(film):
    out = {}
    for thin in (True, False):
        s = LLG(film, _vortexish, H_ext=(2e4, 1e4, 0), order=2, dt=1e-13, dt_max=1e-12, tolerance=1e-4,
                thin_film=thin)
        avg0 = s.average()
        s.advance(20e-12)
        out[thin] = (s, avg0)
    return out


def test_thin_film_keeps_columns_uniform_and_follows_the_full_film(thin_and_full):
    thin, avg0 = thin_and_full[True]
    full, avg0_full = thin_and_full[False]
    assert np.allclose(avg0, avg0_full, atol=1e-12)  # m0 does not depend on z: the column average is m0
    m = thin.m_array[: thin.mv.n_owned]
    c = thin.columns
    assert np.abs(m - m[c.rep[c.column_of]]).max() == 0.0  # exactly uniform in every column
    assert np.abs(np.linalg.norm(m, axis=1) - 1).max() < 1e-12
    # the full film's own variation through the thickness: 4 nm against l_ex = 5.7 nm
    mf = full.m_array[: full.mv.n_owned]
    spread = np.abs(mf - mf[c.rep[c.column_of]]).max()
    diff = np.abs(thin.average() - full.average()).max()
    print(f"full film: max |m - m_column rep| = {spread:.2e}; |<m>_thin - <m>_full| = {diff:.2e}; "
          f"steps thin {thin.step_count}, full {full.step_count}")
    assert 0 < spread < 0.05
    assert diff < 0.2 * spread


def test_thin_film_averages_m0_through_the_thickness(film):
    """m0 is replaced by its column averages with the weights int phi_i = sum of |T|/4 over the
    tetrahedra T at vertex i (computed here from the cells), normalized."""
    top = lambda x: np.vstack([np.ones_like(x[0]), np.where(x[2] > 3 * NM, 1.0, -1.0), np.zeros_like(x[0])])
    s = LLG(film, top, demag=False, thin_film=True)
    no = s.mv.n_owned
    x = s.mv.V1.tabulate_dof_coordinates()[:no]
    cells = s.mv.V1.dofmap.list.array.reshape(-1, 4)
    p = x[cells]
    vol = np.abs(np.einsum("ij,ij->i", p[:, 1] - p[:, 0], np.cross(p[:, 2] - p[:, 0], p[:, 3] - p[:, 0]))) / 6
    w = np.zeros(no)
    np.add.at(w, cells.ravel(), np.repeat(vol / 4, 4))
    m0 = top(x.T).T
    c = s.columns.column_of
    mc = np.zeros((s.columns.n_global, 3))
    np.add.at(mc, c, w[:, None] * m0)
    mc /= np.linalg.norm(mc, axis=1)[:, None]
    m = s.m_array[:no]
    assert np.abs(m - mc[c]).max() < 1e-12
    assert len(np.unique(np.round(m[:, 1], 6))) > 1  # the weights differ between columns (tet splitting)


def test_thin_film_needs_an_extruded_mesh_and_separate_magnets(mesh_dir, film):
    flat = _film(mesh_dir, "thin_film_unstructured", extruded=False)
    with pytest.raises(ParameterError, match="thin_film.*single vertex"):
        LLG(flat, (1, 0, 0), thin_film=True)
    with pytest.raises(ParameterError, match="thin_film.*True or False"):
        LLG(film, (1, 0, 0), thin_film="yes")
    st = LayerStack([Layer("a", 2 * NM, MAT, rectangle(30 * NM, 30 * NM), mesh_size=2 * NM),
                     Layer("b", 2 * NM, MAT, rectangle(30 * NM, 30 * NM), mesh_size=2 * NM)],
                    mesh_size=10 * NM, surrounding=None, name="thin_film_touching", extruded=True)
    touching = st.mesh(path=Path(mesh_dir) / "thin_film_touching.msh")
    with pytest.raises(ParameterError, match="thin_film.*do not touch"):
        LLG(touching, (1, 0, 0), thin_film=True)


def test_thin_film_relaxation_agrees_between_minimizers(film):
    """pbb and plain BB both work on the constrained space: the same S-like state."""
    res = {}
    for method in ("pbb", "bb"):
        s = LLG(film, _vortexish, thin_film=True)
        info = s.relax(tol=20.0, method=method)
        assert info["converged"], info
        m = s.m_array[: s.mv.n_owned]
        assert np.abs(m - m[s.columns.rep[s.columns.column_of]]).max() == 0.0
        assert s.max_torque() < 20.0
        res[method] = s.average()
    print(res)
    assert np.abs(res["pbb"] - res["bb"]).max() < 2e-3
