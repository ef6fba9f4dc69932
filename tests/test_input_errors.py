"""Bad input gets a clear error naming the parameter, before any meshing starts."""
import pytest

from fem_stt.domain import Domain
from fem_stt.errors import MeshError, ParameterError
from fem_stt.geometry import Layer, LayerStack, Surrounding, rectangle, seed_device
from fem_stt.materials import Material
from fem_stt.magnetostatics import StrayField

NM = 1e-9
CS = rectangle(100 * NM, 50 * NM)


def stack(layers, **kw):
    return LayerStack(layers, mesh_size=10 * NM, **kw)


@pytest.mark.parametrize("make, parameter", [
    (lambda: stack([Layer("a", 0.0, "Py", CS)]), "layers[0].thickness"),
    (lambda: stack([Layer("a", 10 * NM, "Py", CS), Layer("b", -1 * NM, "Cu", CS)]), "layers[1].thickness"),
    (lambda: rectangle(0.0, 50 * NM), "cross_section.width"),
    (lambda: rectangle(100 * NM, -5 * NM), "cross_section.depth"),
    (lambda: stack([Layer("a", 10 * NM, "Unobtainium", CS)]), "layers[0].material"),
    (lambda: stack([Layer("a", 10 * NM, "Py", CS)], surrounding=Surrounding(size=(80 * NM, 200 * NM, 200 * NM))),
     "layers[0].cross_section"),
    (lambda: stack([Layer("a", 10 * NM, "Py", CS)], surrounding=Surrounding(size=(100 * NM, 80 * NM, 80 * NM))),
     "surrounding.size"),
    (lambda: stack([Layer("a", 10 * NM, "Py", CS), Layer("a", 10 * NM, "Py", CS)]), "layers[1].name"),
    (lambda: stack([Layer("air", 10 * NM, "Py", CS)]), "layers[0].name"),
    (lambda: stack([]), "layers"),
    (lambda: LayerStack([Layer("a", 10 * NM, "Py", CS)], mesh_size=0.0), "mesh_size"),
    (lambda: Surrounding(shell_ratio=1.0), "surrounding.shell_ratio"),
    (lambda: Surrounding(padding=0.0), "surrounding.padding"),
    (lambda: Material("x", Ms=-1.0), "material 'x'.Ms"),
    (lambda: seed_device(mesh_size=-1.0), "mesh_size"),
    (lambda: stack([Layer("a", 10 * NM, "Py", CS)], extruded=True), "extruded"),  # needs surrounding=None
    (lambda: stack([Layer("a", 10 * NM, "Py", CS)], surrounding=None, interface_mesh_size=2 * NM, extruded=True),
     "extruded"),
    (lambda: stack([Layer("a", 10 * NM, "Py", CS), Layer("b", 10 * NM, "Cu", rectangle(90 * NM, 50 * NM))],
                   surrounding=None, extruded=True), "layers[1].cross_section"),
    (lambda: stack([Layer("a", 10 * NM, "Py", CS)], surrounding=None, extruded="yes"), "extruded"),
])
def test_parameter_errors_name_the_parameter(make, parameter, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ParameterError) as e:
        make()
    assert e.value.parameter == parameter
    assert parameter in str(e.value)
    assert not any(tmp_path.rglob("*.msh"))  # nothing was meshed


def test_touching_magnet_message_mentions_gap():
    with pytest.raises(ParameterError, match="touches"):
        stack([Layer("a", 10 * NM, "Py", CS)], surrounding=Surrounding(size=(100 * NM, 80 * NM, 80 * NM)))


@pytest.mark.parametrize("kind, message", [
    (dict(with_shell=False), "'shell'"),  # a mesh file without the required physical group
    (dict(touching=True), "touches the outer boundary"),  # a magnet reaching the outer boundary
])
def test_stray_field_mesh_errors(kind, message, tmp_path):
    from test_geometry import _write_user_mesh
    p = tmp_path / "user.msh"
    _write_user_mesh(p, **kind)
    d = Domain.from_msh(p, materials={"free": "Py"}, length_scale=NM)
    with pytest.raises(MeshError, match=message):
        StrayField(d)


def test_missing_mesh_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        Domain.from_msh(tmp_path / "nothere.msh")


def test_solver_parameters(tmp_path):
    d = seed_device(mesh_size=30 * NM).mesh(path=tmp_path / "s.msh")
    with pytest.raises(ParameterError, match="degree"):
        StrayField(d, degree=3)
    with pytest.raises(ParameterError, match="rtol"):
        StrayField(d, rtol=0.0)
