"""Layer stacks, bodies and user .msh files: physical groups, sizes, and names every rank knows."""
import math

import numpy as np
import pytest
import ufl
from mpi4py import MPI

import dolfinx.fem
from fem_stt import _compat
from fem_stt.domain import Domain
from fem_stt.geometry import (Layer, LayerStack, Surrounding, circle, ellipse, interface_name, rectangle,
                              seed_device)

NM = 1e-9


def integrate(domain, expr_measure):
    return domain.comm.allreduce(dolfinx.fem.assemble_scalar(_compat.form(expr_measure)), op=MPI.SUM)


@pytest.fixture(scope="module")
def seed(mesh_dir):
    return seed_device(mesh_size=16 * NM).mesh(path=mesh_dir / "seed16.msh")


def test_seed_device_groups_and_sizes(seed):
    d = seed
    assert set(d.regions) == {"FM1", "spacer", "FM2", "air", "shell"}
    assert set(d.facet_groups) == {"bottom_electrode", "top_electrode", interface_name("FM1", "spacer"),
                                   interface_name("spacer", "FM2"), "outer_boundary"}
    area = 128 * 64 * NM**2
    for name, t in (("FM1", 200), ("spacer", 20), ("FM2", 60)):
        assert d.volume(name) == pytest.approx(area * t * NM, rel=1e-10, abs=0)
    assert integrate(d, 1.0 * d.dS(d.facet_groups["bottom_electrode"])) == pytest.approx(area, rel=1e-10, abs=0)
    assert integrate(d, 1.0 * d.dS(d.facet_groups["top_electrode"])) == pytest.approx(area, rel=1e-10, abs=0)
    for k in ("interface_FM1_spacer", "interface_spacer_FM2"):
        assert integrate(d, 1.0 * d.dS(d.facet_groups[k])) == pytest.approx(area, rel=1e-10, abs=0)
    # electrodes lie in the planes z = 0 and z = 280 nm
    x = ufl.SpatialCoordinate(d.mesh)
    assert integrate(d, abs(x[2]) * d.dS(d.facet_groups["bottom_electrode"])) < 1e-12 * area * 280 * NM
    assert integrate(d, abs(x[2] - 280 * NM) * d.dS(d.facet_groups["top_electrode"])) < 1e-12 * area * 280 * NM
    assert d.magnetic_regions == ["FM1", "FM2"]
    assert d.materials["spacer"].Ms == 0 and d.materials["FM1"].Ms == 8e5
    assert d.shell.shape == "box" and d.shell.ratio == 2.0


def test_mesh_size_controls_cell_count(mesh_dir):
    cs = rectangle(60 * NM, 60 * NM)
    coarse = LayerStack([Layer("a", 30 * NM, "Py", cs)], mesh_size=15 * NM, surrounding=None, name="c")
    fine = LayerStack([Layer("a", 30 * NM, "Py", cs, mesh_size=7.5 * NM)], mesh_size=15 * NM, surrounding=None,
                      name="f")
    n_c = coarse.mesh(path=mesh_dir / "c.msh").num_cells_global()
    n_f = fine.mesh(path=mesh_dir / "f.msh").num_cells_global()
    assert 5 < n_f / n_c < 12  # halving h multiplies tets by ~8


def test_interface_refinement(mesh_dir):
    cs = rectangle(60 * NM, 60 * NM)
    layers = [Layer("a", 30 * NM, "Py", cs), Layer("b", 30 * NM, "Cu", cs)]
    plain = LayerStack(layers, mesh_size=10 * NM, surrounding=None, name="p").mesh(path=mesh_dir / "p.msh")
    refined = LayerStack(layers, mesh_size=10 * NM, interface_mesh_size=3 * NM, surrounding=None,
                         name="r").mesh(path=mesh_dir / "r.msh")
    assert refined.num_cells_global() > 2 * plain.num_cells_global()
    assert "interface_a_b" in refined.facet_groups and "air" not in refined.regions


@pytest.mark.parametrize("cs, area", [
    (ellipse(100 * NM, 60 * NM), math.pi * 50 * 30 * NM**2),
    (ellipse(60 * NM, 100 * NM), math.pi * 50 * 30 * NM**2),  # major axis along y
    (circle(80 * NM), math.pi * 40**2 * NM**2),
])
def test_curved_cross_sections(cs, area, mesh_dir):
    st = LayerStack([Layer("fm", 20 * NM, "Py", cs), Layer("nm", 10 * NM, "Cu", cs)], mesh_size=6 * NM,
                    surrounding=Surrounding(shape="sphere"), name=f"curved_{cs.shape}_{cs.width:.0e}")
    d = st.mesh(path=mesh_dir / f"{st.name}.msh")
    assert d.volume("fm") == pytest.approx(area * 20 * NM, rel=0.02, abs=0)  # polygonal approximation of the rim
    assert integrate(d, 1.0 * d.dS(d.facet_groups["bottom_electrode"])) == pytest.approx(area, rel=0.02, abs=0)
    x = ufl.SpatialCoordinate(d.mesh)
    # extent along x and y of the magnet: second moments of an ellipse, <x^2> = a^2/4
    a, b = cs.width / 2, cs.depth / 2
    vol = d.volume("fm")
    assert integrate(d, x[0] ** 2 * d.measure("fm")) / vol == pytest.approx(a * a / 4, rel=0.05, abs=0)
    assert integrate(d, x[1] ** 2 * d.measure("fm")) / vol == pytest.approx(b * b / 4, rel=0.05, abs=0)
    assert d.shell.shape == "sphere"


def test_extruded_stack_columns(mesh_dir):
    """An extruded stack: the same (x, y) at every z level, round(t / h) cells across each layer, the
    layers' volumes and facet groups; a field that does not vary along z interpolates to one with
    zero z-derivative (exactly, to round-off), while the unstructured mesh of the same film does not."""
    cs = ellipse(60 * NM, 40 * NM)
    layers = [Layer("fm", 6 * NM, "Py", cs, mesh_size=2 * NM), Layer("nm", 3 * NM, "Cu", cs)]
    st = LayerStack(layers, mesh_size=5 * NM, edge_mesh_size=2.5 * NM, surrounding=None, name="extruded_ellipse",
                    extruded=True)
    assert st.cells_along_z == (3, 1)
    d = st.mesh(path=mesh_dir / "extruded_ellipse.msh")
    x = d.mesh.geometry.x[: d.mesh.topology.index_map(0).size_local]
    levels = np.unique(np.round(x[:, 2] / NM, 9))
    assert sorted(set(np.concatenate(d.comm.allgather(levels)))) == pytest.approx([0, 2, 4, 6, 9], abs=1e-6)
    xy = [np.concatenate(d.comm.allgather(np.round(x[np.isclose(x[:, 2], z * NM, atol=1e-3 * NM), :2] / NM, 6)))
          for z in (0, 2, 4, 6, 9)]
    base = {tuple(p) for p in xy[0]}
    assert len(base) > 50 and all({tuple(p) for p in q} == base for q in xy[1:])
    area = math.pi * 30 * 20 * NM**2
    assert d.volume("fm") == pytest.approx(area * 6 * NM, rel=0.02, abs=0)
    assert d.volume("fm") / d.volume("nm") == pytest.approx(2.0, rel=1e-10, abs=0)  # one cross-section
    assert {"bottom_electrode", "top_electrode", "interface_fm_nm"} <= set(d.facet_groups)
    assert integrate(d, 1.0 * d.dS(d.facet_groups["interface_fm_nm"])) == pytest.approx(
        d.volume("nm") / (3 * NM), rel=1e-10, abs=0)

    def z_and_xy_gradients(dom):
        V = dolfinx.fem.FunctionSpace(dom.mesh, ("CG", 1))
        f = dolfinx.fem.Function(V)
        f.interpolate(lambda p: np.sin(p[0] / (8 * NM)) * np.cos(p[1] / (6 * NM)))
        g = ufl.grad(f)
        return integrate(dom, g[2] ** 2 * ufl.dx), integrate(dom, (g[0] ** 2 + g[1] ** 2) * ufl.dx)

    gz, gxy = z_and_xy_gradients(d)
    assert gz <= 1e-24 * gxy
    plain = LayerStack([Layer("fm", 3 * NM, "Py", cs)], mesh_size=5 * NM, surrounding=None, name="plain_film")
    gz, gxy = z_and_xy_gradients(plain.mesh(path=mesh_dir / "plain_film.msh"))
    assert gz > 1e-4 * gxy  # the unstructured film: spurious z-gradients (3.7e-3 of the in-plane ones)


def test_mesh_is_reused_and_never_overwritten_silently(mesh_dir):
    cs = rectangle(40 * NM, 40 * NM)
    st = LayerStack([Layer("a", 20 * NM, "Py", cs)], mesh_size=10 * NM, surrounding=None, name="reuse")
    p = st.build(mesh_dir / "reuse.msh")
    mtime = p.stat().st_mtime_ns
    st.build(mesh_dir / "reuse.msh")
    assert p.stat().st_mtime_ns == mtime  # same spec: re-used
    other = LayerStack([Layer("a", 25 * NM, "Py", cs)], mesh_size=10 * NM, surrounding=None, name="reuse")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        other.build(mesh_dir / "reuse.msh")
    assert p.stat().st_mtime_ns == mtime
    other.build(mesh_dir / "reuse.msh", overwrite=True)
    assert p.stat().st_mtime_ns != mtime


def _write_user_mesh(path, unit_nm=True, touching=False, with_shell=True):
    """A user's own Gmsh model: a box magnet 'free' in air and a box shell, written in nanometres."""
    import gmsh
    gmsh.initialize()
    gmsh.option.setNumber("General.Terminal", 0)
    try:
        occ = gmsh.model.occ
        if touching:
            mag = occ.addBox(-20, -20, -20, 40, 40, 200)  # reaches through air and shell
        else:
            mag = occ.addBox(-20, -20, -10, 40, 40, 20)
        if with_shell:
            inner = occ.addBox(-60, -60, -60, 120, 120, 120)
            outer = occ.addBox(-120, -120, -120, 240, 240, 240)
            _, mp = occ.fragment([(3, outer)], [(3, inner), (3, mag)])
            occ.synchronize()
            o = {t for _, t in mp[0]}
            i = {t for _, t in mp[1]}
            m = {t for _, t in mp[2]}
            groups = {"free": sorted(m), "air": sorted(i - m), "shell": sorted(o - i - m)}
        else:
            occ.synchronize()
            groups = {"free": [mag]}
        for k, (name, vs) in enumerate(groups.items(), start=1):
            gmsh.model.addPhysicalGroup(3, vs, k)
            gmsh.model.setPhysicalName(3, k, name)
        gmsh.option.setNumber("Mesh.MeshSizeMax", 12)
        gmsh.option.setNumber("Mesh.MeshSizeMin", 6)
        gmsh.model.mesh.generate(3)
        gmsh.write(str(path))
    finally:
        gmsh.finalize()


def test_user_msh_custom_geometry(tmp_path):
    from fem_stt.analytic import prism_demag_factors
    from fem_stt.magnetostatics import demag_tensor
    p = tmp_path / "mine.msh"
    _write_user_mesh(p)
    d = Domain.from_msh(p, materials={"free": "Py"}, length_scale=1e-9)
    assert d.regions == {"free": 1, "air": 2, "shell": 3}
    assert d.volume("free") == pytest.approx(40 * 40 * 20 * NM**3, rel=1e-10, abs=0)
    assert d.shell.shape == "box" and d.shell.ratio == pytest.approx(2.0, rel=1e-9, abs=0)
    assert np.allclose(d.shell.inner, 60 * NM, rtol=1e-9)
    N = demag_tensor(__import__("fem_stt.magnetostatics", fromlist=["StrayField"]).StrayField(d))
    assert np.abs(np.diag(N) - prism_demag_factors(40, 40, 20)).max() < 0.02  # coarse user mesh


def test_user_msh_missing_material_and_group(tmp_path):
    from fem_stt.errors import MeshError, ParameterError
    p = tmp_path / "mine.msh"
    _write_user_mesh(p)
    with pytest.raises(ParameterError, match="free"):
        Domain.from_msh(p)  # no material for region 'free'
    with pytest.raises(ParameterError, match="nope"):
        Domain.from_msh(p, materials={"free": "Py", "nope": "Py"})
    with pytest.raises(MeshError, match="contacts"):
        Domain.from_msh(p, materials={"free": "Py"}, required_facets=["contacts"])
