"""The XDMF time series for ParaView (fem_stt.io.XDMFOutput): one dataset per step with every
field as point data and the region tags as cell data, on the device cells only by default,
the same file on 1 and 2 ranks. Checked against the Gmsh file read with meshio's Gmsh reader,
known fields, closed-form layer volumes, and meshio's XDMF reader (code independent of the writer)."""
import csv
import importlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dolfinx
import numpy as np
import pytest

from fem_stt import _compat
from fem_stt.errors import ParameterError
from fem_stt.io import XDMFOutput
from xdmf_series import grid_structure, msh_cells, read_series, signed_volumes

HERE = Path(__file__).parent
NM = 1e-9
DEVICE = ("FM1", "spacer", "FM2")
LAYER_VOLUMES = {"FM1": 40 * 20 * 6 * NM ** 3, "spacer": 40 * 20 * 3 * NM ** 3, "FM2": 40 * 20 * 4 * NM ** 3}


def _mpi_script():
    sys.path.insert(0, str(HERE / "mpi"))
    try:
        return importlib.import_module("xdmf_parallel")
    finally:
        sys.path.pop(0)


xp = _mpi_script()


@pytest.fixture(scope="module")
def msh(mesh_dir):
    path = mesh_dir / "xdmf_output.msh"
    return path, xp.stack().mesh(path=path)


def test_one_dataset_per_step_with_all_fields_on_the_device(msh, tmp_path):
    path, dom = msh
    times = (0.0, 1e-12, 2.5e-12)
    out = xp.write_known(dom, tmp_path / "f.xdmf", times=times)
    # ParaView's view of the file: one temporal collection of one complete grid per step, nothing else
    assert grid_structure(tmp_path / "f.xdmf") == (1, True, len(times), True)
    points, cells, steps = read_series(tmp_path / "f.xdmf")
    ref_points, ref_ncells = msh_cells(path, DEVICE)
    # exactly the vertices of the device cells (no air, no shell, no orphan points)
    assert len(points) == out.num_points == len(ref_points) and len(cells) == out.num_cells == ref_ncells
    assert np.array_equal(points, ref_points)
    assert np.array_equal(np.unique(cells), np.arange(len(points)))
    vol = signed_volumes(points, cells)
    assert vol.min() > 0  # VTK orientation
    regions = json.loads((tmp_path / "f.regions.json").read_text())
    assert regions["written"] == list(DEVICE) and set(regions["cells"]) == {*DEVICE, "air", "shell"}
    for k, (t, pd, reg) in enumerate(steps):
        assert t == times[k] and set(pd) == {"m", "phi"} and pd["m"].shape == (len(points), 3)
        assert pd["phi"].shape == (len(points),) and reg.dtype.kind == "i"
        assert np.allclose(pd["m"], (k + 1) * points / NM, rtol=1e-12, atol=1e-12 * 20)
        # the P2 field's vertex values are exact
        assert np.allclose(pd["phi"], (k + 1) * points[:, 0] * points[:, 1] / NM ** 2, rtol=1e-12, atol=1e-11)
        assert set(np.unique(reg)) == {regions["cells"][r] for r in DEVICE}
        for r in DEVICE:
            assert vol[reg == regions["cells"][r]].sum() == pytest.approx(LAYER_VOLUMES[r], rel=1e-12, abs=0)


def test_vacuum_cells_only_on_request(msh, tmp_path):
    path, dom = msh
    out = xp.write_known(dom, tmp_path / "air.xdmf", times=(0.0,), include=("air",))
    points, cells, ((_, pd, reg),) = read_series(tmp_path / "air.xdmf")
    ref_points, ref_ncells = msh_cells(path, DEVICE + ("air",))
    assert np.array_equal(points, ref_points) and len(cells) == out.num_cells == ref_ncells
    assert set(np.unique(reg)) == {dom.regions[r] for r in DEVICE + ("air",)}
    out = xp.write_known(dom, tmp_path / "all.xdmf", times=(0.0,), all_cells=True)
    points, cells, ((_, pd, reg),) = read_series(tmp_path / "all.xdmf")
    ref_points, ref_ncells = msh_cells(path, list(dom.regions))
    assert np.array_equal(points, ref_points) and len(cells) == ref_ncells
    assert len(points) == dom.mesh.topology.index_map(0).size_global
    assert np.allclose(pd["m"], points / NM, rtol=1e-12, atol=1e-12 * 100)


def test_bad_input_is_refused(msh, tmp_path):
    _, dom = msh
    with pytest.raises(ParameterError, match="include.*vacuum"):
        XDMFOutput(tmp_path / "x.xdmf", dom, include=("vacuum",))
    m, phi = xp.known_fields(dom)
    dg = dolfinx.fem.Function(_compat.function_space(dom.mesh, "DG", 0), name="cellwise")
    with XDMFOutput(tmp_path / "y.xdmf", dom) as out:
        phi.name = "m"
        with pytest.raises(ParameterError, match="unique"):
            out.write([m, phi])
        with pytest.raises(ParameterError, match="Lagrange"):
            out.write([dg])
        cube = dolfinx.mesh.create_unit_cube(dom.comm, 1, 1, 1)
        with pytest.raises(ParameterError, match="another mesh"):
            out.write([dolfinx.fem.Function(_compat.function_space(cube, "CG", 1), name="elsewhere")])


def test_two_ranks_write_the_serial_file(mesh_dir, tmp_path):
    """Known fields: the same points, cells and tags, values to 1e-12 (relative); a short LLG run
    written by LLGRun (m, H_d): the same mesh, values as close as the parallel LLG test requires."""
    from test_parallel import run_mpi
    ser, par = tmp_path / "serial", tmp_path / "parallel"
    ser.mkdir()
    par.mkdir()
    rs = xp.compute(mesh_dir, ser)
    rp = run_mpi(HERE / "mpi" / "xdmf_parallel.py", mesh_dir, par)
    assert (rs["ranks"], rp["ranks"]) == (1, 2) and rs["steps"] == rp["steps"] == 5
    assert (rs["num_points"], rs["num_cells"]) == (rp["num_points"], rp["num_cells"])
    for name, tol in (("known.xdmf", {"m": 1e-12, "phi": 1e-12}), ("run/m.xdmf", {"m": 1e-9, "H_d": 1e-7})):
        ps, cs, ss = read_series(ser / name)
        pp, cp, sp = read_series(par / name)
        assert np.array_equal(ps, pp) and np.array_equal(cs, cp), name
        assert len(ss) == len(sp) == (3 if name == "known.xdmf" else 4), name  # LLG: steps 0, 2, 4, 5
        for (ts, ds, rs_), (tp, dp, rp_) in zip(ss, sp):
            assert tp == pytest.approx(ts, rel=1e-14, abs=0) and np.array_equal(rs_, rp_)
            assert set(ds) == set(dp) == set(tol)
            for k, rel in tol.items():
                assert np.abs(dp[k] - ds[k]).max() <= rel * np.abs(ds[k]).max(), (name, k)


RENDER = HERE.parent / "demos" / "paraview" / "render_switching.py"
READERS = """
import json, sys
from paraview import simple as pv
out = {}
for name in ("Xdmf3ReaderS", "Xdmf3ReaderT", "XDMFReader"):
    kw = {"FileNames" if name == "XDMFReader" else "FileName": [sys.argv[1]]}
    r = getattr(pv, name)(**kw)
    r.UpdatePipelineInformation()
    times = list(r.TimestepValues)
    r.UpdatePipeline(times[-1])
    info = r.GetDataInformation()
    out[name] = {"times": times, "points": info.GetNumberOfPoints(), "cells": info.GetNumberOfCells(),
                 "point_data": sorted(r.PointData.keys()), "cell_data": sorted(r.CellData.keys())}
print("READERS " + json.dumps(out))
"""


def _pvbatch(*args):
    """pvbatch with the given arguments (under xvfb-run when there is no display)."""
    cmd = ["pvbatch", *map(str, args)]
    if not os.environ.get("DISPLAY"):
        assert shutil.which("xvfb-run"), "no display and no xvfb-run (apt-get install xvfb)"
        # -noreset: Xvfb otherwise resets when pvbatch's first connection closes, and the next one fails
        cmd = ["xvfb-run", "-a", "-s", "-noreset -screen 0 1280x1024x24"] + cmd
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    return p.stdout


@pytest.mark.paraview
@pytest.mark.skipif(os.environ.get("FEM_STT_PARAVIEW") != "1" or shutil.which("pvbatch") is None,
                    reason="opt-in: needs ParaView's pvbatch (and xvfb-run without a display) and FEM_STT_PARAVIEW=1")
def test_paraview_reads_and_renders_the_run_headless(mesh_dir, tmp_path):
    """ParaView's own readers and integrator on an LLGRun's m.xdmf (m, H_d): each of its three XDMF
    readers gives one dataset per step with the file's points, cells and fields; the render script
    writes the frames (PNG of the requested size, not blank), and ParaView's volume average
    <m>_FM2 of each frame equals the run's scalars.csv at that time (fem_stt's average)."""
    import matplotlib.image
    xp.compute(mesh_dir, tmp_path)
    run = tmp_path / "run"
    points, cells, steps = read_series(run / "m.xdmf")
    (tmp_path / "readers.py").write_text(READERS)
    line = [ln for ln in _pvbatch(tmp_path / "readers.py", run / "m.xdmf").splitlines() if ln.startswith("READERS ")]
    for name, r in json.loads(line[0][len("READERS "):]).items():
        assert r["times"] == [t for t, _, _ in steps], name
        assert (r["points"], r["cells"]) == (len(points), len(cells)), name
        assert r["point_data"] == ["H_d", "m"] and r["cell_data"] == ["regions"], name

    _pvbatch(RENDER, run, "--frames", "3", "--size", "640", "400")
    with open(run / "frames" / "frames.csv") as f:
        frames = list(csv.DictReader(f))
    with open(run / "scalars.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(frames) == 3
    assert [float(fr["t_s"]) for fr in frames] == [steps[0][0], steps[2][0], steps[-1][0]]  # spread, ends included
    for fr in frames:
        img = matplotlib.image.imread(run / "frames" / fr["png"])
        assert img.shape[:2] == (400, 640)
        rgb = img[..., :3]
        assert (rgb.std(axis=2) > 0.15).mean() > 0.01  # coloured pixels (the layer), not a blank or grey view
        row = min(rows, key=lambda r: abs(float(r["t_s"]) - float(fr["t_s"])))
        assert float(row["t_s"]) == pytest.approx(float(fr["t_s"]), rel=1e-12, abs=1e-24)
        for c in "xyz":
            assert float(fr[f"<m{c}>_FM2"]) == pytest.approx(float(row[f"<m{c}>_FM2"]), abs=1e-9)
