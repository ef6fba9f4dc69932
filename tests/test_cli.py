"""Case files (fem_stt.config) and the fem-stt command line (fem_stt.cli).

The CLI runs in-process through fem_stt.cli.main([...]); one subprocess call of the
installed entry point proves the console script. Runs use small_pillar_quick with a
short t_end (a few steps on ~18k cells).
"""
import csv
import re
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fem_stt import cli
from fem_stt.config import Case, load_case
from fem_stt.errors import ParameterError

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "demos" / "cases"
QUICK = CASES / "small_pillar_quick.toml"
QUICK_TEXT = QUICK.read_text()


def edit(old, new, text=QUICK_TEXT):
    assert old in text, old
    return text.replace(old, new, 1)


def with_t_end(t):
    return edit('t_end = "20 ps"', f't_end = "{t}"')


def summary(out):
    return json.loads((Path(out) / "summary.json").read_text())


def folder_bytes(out):
    return {p.name: p.read_bytes() for p in sorted(Path(out).iterdir())}


# ---------------------------------------------------------------------------- check
@pytest.mark.parametrize("path", sorted(CASES.glob("*.toml")), ids=lambda p: p.stem)
def test_example_cases_pass_check(path, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["check", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.rstrip().endswith("OK")
    import tomllib
    if tomllib.loads(path.read_text()).get("model", "micromagnetic") == "micromagnetic":
        for word in ("regions", "materials", "transport", "current", "t_end"):
            assert word in out
    assert not any(tmp_path.iterdir())  # check meshes nothing and writes nothing


def test_installed_entry_point_and_version(capsys):
    exe = Path(sys.prefix) / "bin" / "fem-stt"
    if not exe.is_file():
        exe = ROOT / ".venv" / "bin" / "fem-stt"
    r = subprocess.run([str(exe), "check", str(QUICK)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.rstrip().endswith("OK") and "small_pillar_quick" in r.stdout
    with pytest.raises(SystemExit) as e:
        cli.main(["--version"])
    assert e.value.code == 0 and "fem-stt 0.1.0" in capsys.readouterr().out


def test_seed_device_cases_mirror_the_demo():
    from fem_stt.geometry import seed_device
    demo = seed_device(mesh_size=10e-9, ferromagnet="Py_stt").spec()
    for name, model in (("seed_device_diffusion", "diffusion"), ("seed_device_moment", "moment")):
        case = load_case(CASES / f"{name}.toml")
        assert case.build_geometry().spec() == demo
        assert case.transport.model == model and case.llg.fixed == ["FM1"]
        assert case.current.density == 1e13 and tuple(case.current.direction) == (0, 0, -1)
        assert case.run_cfg.t_end == 1e-9 and case.llg.dt == 1e-13 and case.llg.dt_max == 2e-12


def test_units_are_converted_to_si():
    t = edit('[llg]\n', '[llg]\nH_ext = ["0.1 T", "0 A/m", "1 kA/m"]\n')
    t = edit('dt_max = "1 ps"', 'dt_max = "0.001 ns"', t)
    case = Case.from_toml(t)
    assert case.geometry.layers[0].thickness == 6e-9  # exactly: no 6.000000000000001e-09
    assert case.geometry.layers[0].cross_section.width == 40e-9
    assert case.current.density == 1e12 and case.llg.dt_max == 1e-12
    assert case.llg.H_ext[0] == pytest.approx(0.1 / (4e-7 * np.pi), rel=1e-6, abs=0) and case.llg.H_ext[2] == 1000.0


# ---------------------------------------------------------------------------- errors
MSH = ('kind = "msh"\npath = "missing.msh"\nlength_scale = 1e-9\nregions = { FM1 = "Py_stt", spacer = "Cu", '
       'FM2 = "Py_stt" }\n')


def msh_case(text=QUICK_TEXT, path="missing.msh"):
    head, rest = text.split("[geometry]\n", 1)
    rest = "[transport]" + rest.split("[transport]", 1)[1]
    return head + "[geometry]\n" + MSH.replace("missing.msh", path) + "\n" + rest


ERRORS = [
    ("unknown top-level key", 'colour = "red"\n' + QUICK_TEXT, "colour", "unknown key 'colour'; allowed keys here: name, geometry"),
    ("unknown nested key", edit("[llg]\n", '[llg]\ndtt = "1 ps"\n'), "llg.dtt", "allowed keys here: order, dt,"),
    ("unknown key in an inline table", edit('width = "40 nm", depth', 'width = "40 nm", dept = "2 nm", depth'),
     "geometry.layers[0].cross_section.dept", "allowed keys here: shape, width, depth, diameter"),
    ("wrong unit", edit('thickness = "6 nm"', 'thickness = "5 A/m"'), "geometry.layers[0].thickness",
     "expected a length (e.g. '200 nm'), got '5 A/m'"),
    ("number without unit", edit('thickness = "6 nm"', "thickness = 6"), "geometry.layers[0].thickness",
     "expected a length with its unit (e.g. '200 nm'), got the plain number 6"),
    ("undefined unit", edit('dt = "0.1 ps"', 'dt = "0.1 pss"'), "llg.dt", "'pss' is not defined"),
    ("negative D0", edit('spacer = "Cu"', 'spacer = { D0 = "-5e-3 m^2/s", lambda_sf = "10 nm", sigma = "3e7 S/m" }'),
     "transport.regions.spacer.D0", "must be > 0"),
    ("transport region not a layer", edit('spacer = "Cu"\n', 'spacer = "Cu"\nFM3 = "Py_stt"\n'),
     "transport.regions.FM3", "'FM3' is not a layer name; regions: FM1, spacer, FM2"),
    ("magnetic layer without transport", edit('FM2 = "Py_stt"\n\n[current]', '\n[current]'), "transport.regions",
     "magnetic region 'FM2' has no transport parameters"),
    ("missing msh file", msh_case(), "geometry.path", "missing.msh does not exist"),
    ("unknown material", edit('material = "Cu"', 'material = "Copper"'), "geometry.layers[1].material",
     "unknown material 'Copper'; library: Co, Cu, Fe, Ni, Py, Py_stt, vacuum"),
    ("invalid current mode", edit('mode = "prescribed"', 'mode = "pulsed"'), "current.mode",
     "input should be 'prescribed' or 'self_consistent', got 'pulsed'"),
    ("negative alpha of a user material", QUICK_TEXT + '\n[materials.soft]\nMs = "8e5 A/m"\nalpha = -0.1\n',
     "materials.soft.alpha", "must be >= 0"),
    ("initial state of a non-magnetic layer", edit("[initial]\n", "[initial]\nspacer = [1, 0, 0]\n"),
     "initial.spacer", "'spacer' is not magnetic"),
    ("vector of two numbers", edit("FM2 = [-0.94, 0.34, 0]", "FM2 = [-0.94, 0.34]"), "initial.FM2",
     "expected 3 numbers [x, y, z]"),
    ("stop in a non-magnetic layer", edit('# stop = { region = "FM2"', 'stop = { region = "spacer"'),
     "run.stop.region", "'spacer' is not magnetic"),
    ("prescribed current without direction", edit("direction = [0, 0, -1]", ""), "current.direction",
     "is required for mode = 'prescribed'"),
    ("shell stray field without air", edit("[geometry.surrounding]\nshape = \"box\"\npadding = 0.5\nshell_ratio = 2.0",
                                           "[geometry.surrounding]\nnone = true").replace(
        "[llg]\n", "[llg]\ndemag_method = \"shell\"\n"), "llg.demag_method", "needs the air and shell"),
    ("bad TOML", QUICK_TEXT + "\n[llg\n", "<path>", "not valid TOML"),  # the key is the file
    ("extruded stack in a surrounding", edit("[geometry]\n", "[geometry]\nextruded = true\n"), "geometry.extruded",
     "[geometry.surrounding] none = true"),
    ("extruded not a boolean", edit("[geometry]\n", "[geometry]\nextruded = 1\n"), "geometry.extruded",
     "boolean"),
    ("thin film on an unstructured mesh", edit("[llg]\n", "[llg]\nthin_film = true\n"), "llg.thin_film",
     "geometry.extruded = true"),
    ("thin film not a boolean", edit("[llg]\n", "[llg]\nthin_film = \"yes\"\n"), "llg.thin_film", "boolean"),
]


@pytest.mark.parametrize("text, key, fragment", [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_errors_name_the_key(text, key, fragment, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    p = tmp_path / "case.toml"
    p.write_text(text)
    key = str(p) if key == "<path>" else key
    with pytest.raises(ParameterError) as e:
        load_case(p)
    assert e.value.parameter == key
    assert str(e.value).startswith(f"{key}: ") and fragment in str(e.value)
    assert cli.main(["check", str(p)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {key}: ") and fragment in err and "Traceback" not in err
    assert cli.main(["run", str(p), "--no-progress"]) == 2  # run validates first
    assert [q.name for q in tmp_path.iterdir()] == ["case.toml"]  # nothing meshed, no output folder


def test_several_errors_are_reported_together():
    t = edit("[llg]\n", '[llg]\ndtt = "1 ps"\n', edit('thickness = "6 nm"', 'thickness = "5 A/m"'))
    with pytest.raises(ParameterError) as e:
        Case.from_toml(t)
    assert e.value.parameter == "geometry.layers[0].thickness" and "\n  llg.dtt: unknown key" in str(e.value)


def test_missing_case_file(tmp_path, capsys):
    assert cli.main(["check", str(tmp_path / "nope.toml")]) == 2
    assert "error: case file" in capsys.readouterr().err


# ---------------------------------------------------------------------------- runs
@pytest.fixture(scope="module")
def quick(tmp_path_factory, mesh_dir):
    """small_pillar_quick with t_end 2 ps, run once through the CLI."""
    d = tmp_path_factory.mktemp("quick")
    case = d / "quick.toml"
    case.write_text(with_t_end("2 ps"))
    out = d / "run"
    args = ["run", str(case), "--output", str(out), "--mesh-dir", str(mesh_dir), "--no-progress"]
    assert cli.main(args) == 0
    return {"case": case, "out": out, "args": args, "summary": summary(out), "dir": d}


def test_run_writes_results(quick):
    out, s = quick["out"], quick["summary"]
    for f in ("m.xdmf", "m.h5", "scalars.csv", "summary.json", "case.toml", "provenance.json", "checkpoint.npz"):
        assert (out / f).is_file(), f
    assert (out / "case.toml").read_text() == quick["case"].read_text()
    assert s["t_final_s"] == pytest.approx(2e-12, rel=1e-12, abs=0) and s["steps"] > 0 and not s["switched"]
    assert set(s["m_final"]) == {"FM1", "FM2"} and s["ranks"] == 1
    assert np.allclose(s["m_final"]["FM1"], [1, 0, 0])  # fixed layer
    assert s["m_final"]["FM2"] != s["m_start"]["FM2"]  # the free layer moved
    assert {"stray_field", "spin_transport"} <= set(s["timings_s"])
    rows = list(csv.DictReader(open(out / "scalars.csv")))
    assert int(rows[-1]["step"]) == s["steps"] and float(rows[-1]["<mx>_FM2"]) == pytest.approx(s["m_final"]["FM2"][0])


def test_refuse_then_overwrite_then_resume(quick, capsys):
    out, args = quick["out"], quick["args"]
    before = folder_bytes(out)
    capsys.readouterr()
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: output folder") and "already holds results" in err and "--overwrite" in err
    assert folder_bytes(out) == before  # untouched, scalars.csv byte-identical

    assert cli.main(args + ["--overwrite"]) == 0
    s2 = summary(out)
    assert s2["m_final"] == quick["summary"]["m_final"] and s2["steps"] == quick["summary"]["steps"]

    longer = quick["dir"] / "longer.toml"
    longer.write_text(with_t_end("3 ps"))
    resume = ["run", str(longer), "--output", str(out), "--mesh-dir", args[args.index("--mesh-dir") + 1],
              "--resume", "--no-progress"]
    assert cli.main(resume) == 0
    s3 = summary(out)
    assert s3["resumed"] and s3["t_final_s"] == pytest.approx(3e-12, rel=1e-12, abs=0) and s3["t_final_s"] > s2["t_final_s"]
    assert s3["steps"] > s2["steps"]
    assert (out / f"case_resume_step{s2['steps']}.toml").read_text() == longer.read_text()
    assert (out / "case.toml").read_text() == quick["case"].read_text()
    steps = [int(r["step"]) for r in csv.DictReader(open(out / "scalars.csv"))]
    assert steps == list(range(s3["steps"] + 1))
    with pytest.raises(SystemExit):  # argparse: --overwrite and --resume exclude each other
        cli.main(resume + ["--overwrite"])


def test_python_api_gives_the_cli_result(quick, tmp_path, mesh_dir):
    from fem_stt.geometry import LayerStack
    case = load_case(quick["case"])
    assert isinstance(case.build_geometry(), LayerStack)
    out = case.run(output=tmp_path / "api", progress=False, mesh_dir=mesh_dir)
    a, b = summary(out), quick["summary"]
    assert a["steps"] == b["steps"]
    for r in ("FM1", "FM2"):
        assert np.abs(np.array(a["m_final"][r]) - b["m_final"][r]).max() <= 1e-12


def test_user_msh_case_and_mixed_random_initial_state(quick, tmp_path, mesh_dir):
    """kind = "msh" with a path relative to the case file; "random" in one region, a vector in another."""
    from fem_stt.config import MshGeometry
    shutil.copy(mesh_dir / "small_pillar_quick_h4nm.msh", tmp_path / "pillar.msh")
    text = msh_case(path="pillar.msh").replace("length_scale = 1e-9\n", "")
    text = edit("FM2 = [-0.94, 0.34, 0]", 'FM2 = "random"\nrandom_seed = 3', text)
    (tmp_path / "sub").mkdir()
    p = tmp_path / "sub" / "user.toml"
    p.write_text(text.replace('"pillar.msh"', '"../pillar.msh"'))
    case = load_case(p)
    geo = case.build_geometry()
    assert isinstance(geo, MshGeometry) and geo.path == tmp_path / "sub" / ".." / "pillar.msh"
    assert set(geo.cell_groups) == {"FM1", "spacer", "FM2", "air", "shell"}
    bad = text.replace('regions = { FM1 = "Py_stt", spacer = "Cu", FM2 = "Py_stt" }',
                       'regions = { FM1 = "Py_stt", FM2 = "Py_stt" }')
    (tmp_path / "bad.toml").write_text(bad)
    with pytest.raises(ParameterError, match="spacer of .* have no material") as e:
        load_case(tmp_path / "bad.toml")
    assert e.value.parameter == "geometry.regions"
    sim = case.build_simulation(case.build_domain())
    assert np.allclose(sim.llg.average("FM1"), [1, 0, 0])
    m2 = sim.llg.average("FM2")
    assert 0.05 < np.linalg.norm(m2) < 0.999  # a texture, not a uniform state


def test_case_file_model_key(tmp_path):
    """The top-level ``model`` key selects the model; an unknown one is refused by name."""
    text = (CASES / "small_pillar_quick.toml").read_text()
    p = tmp_path / "mm.toml"
    p.write_text('model = "micromagnetic"\n' + text)
    assert load_case(p).name == load_case(CASES / "small_pillar_quick.toml").name
    p.write_text('model = "no_such_model"\n' + text)
    with pytest.raises(ParameterError, match="model"):
        load_case(p)


def test_check_refuses_absurd_mesh_size_and_warns_on_exchange_length(tmp_path, capsys):
    """Item 7 of issue 11: the estimate refuses a mesh that cannot fit the machine, naming the key,
    before any meshing; cells larger than the exchange length are a warning, not an error."""
    text = (CASES / "seed_device_diffusion.toml").read_text()
    bad = tmp_path / "bad.toml"
    bad.write_text(re.sub(r'(?m)^mesh_size = "[^"]*"', 'mesh_size = "1e-6 nm"', text, count=1))
    assert cli.main(["check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "geometry.mesh_size" in err and "cells" in err and "GiB" in err
    assert not any(p.suffix == ".msh" for p in tmp_path.iterdir())
    assert cli.main(["check", str(CASES / "seed_device_diffusion.toml")]) == 0
    out = capsys.readouterr().out
    assert "estimate" in out and "cells" in out
    assert "warning" in out and "exchange length" in out and "5.69 nm" in out


def test_mesh_estimate_against_gmsh(tmp_path):
    """The pre-meshing estimate of cells and FEM-BEM boundary vertices is within 1.5x of the mesh Gmsh makes."""
    from mpi4py import MPI

    from fem_stt.geometry import Layer, LayerStack, Surrounding, ellipse, rectangle
    from fem_stt.fembem import FemBemStrayField
    for sur, cs in ((None, rectangle(60e-9, 30e-9)), (Surrounding(padding=0.5), ellipse(40e-9, 20e-9))):
        st = LayerStack([Layer("FM1", 20e-9, "Py", cs), Layer("spacer", 5e-9, "Cu", cs), Layer("FM2", 10e-9, "Py", cs)],
                        mesh_size=5e-9, surrounding=sur, name="est")
        est = st.mesh_estimate()
        d = st.mesh(path=tmp_path / f"est_{sur is None}.msh", comm=MPI.COMM_SELF)
        n = d.num_cells_global()
        assert 1 / 1.5 < est["cells"] / n < 1.5, (est, n)
        if sur is None:
            nb = FemBemStrayField(d).num_boundary_nodes
            assert 1 / 1.5 < est["boundary_vertices"] / nb < 1.5, (est, nb)


def test_thin_film_case_runs(tmp_path, mesh_dir):
    """small_pillar_quick extruded, without air (FEM-BEM), with m uniform through each layer: the case
    file's thin_film reaches the LLG, and every column of the free layer stays uniform under the
    spin-transfer torque."""
    t = edit("[geometry.surrounding]\nshape = \"box\"\npadding = 0.5\nshell_ratio = 2.0", "[geometry.surrounding]\nnone = true")
    t = edit("[geometry]\n", "[geometry]\nextruded = true\n", t)
    t = edit("[llg]\n", "[llg]\nthin_film = true\n", t)
    p = tmp_path / "thin.toml"
    p.write_text(t)
    case = load_case(p)
    sim = case.build_simulation(case.build_domain(mesh_dir=mesh_dir))
    llg = sim.llg
    assert llg.columns is not None and llg.demag_method == "fembem"
    sim.run(1e-12, tmp_path / "out")
    m = llg.m_array[: llg.mv.n_owned]
    c = llg.columns
    assert llg.step_count > 0 and np.abs(m - m[c.rep[c.column_of]]).max() == 0.0
    m_start = np.array([-0.94, 0.34, 0.0]) / np.hypot(0.94, 0.34)
    assert np.abs(llg.average("FM2") - m_start).max() > 1e-6  # the free layer moved
    assert np.allclose(llg.average("FM1"), [1, 0, 0])  # the fixed one did not
