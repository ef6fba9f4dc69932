"""Output files that ParaView reads, folders that are never overwritten silently, and the demo."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fem_stt.io import prepare_output_dir
from xdmf_series import check_series

ROOT = Path(__file__).resolve().parents[1]


def test_output_dir_refuses_to_overwrite(tmp_path):
    out = prepare_output_dir(tmp_path / "run")
    (out / "result.csv").write_text("1\n")
    with pytest.raises(FileExistsError, match="already holds results"):
        prepare_output_dir(tmp_path / "run")
    assert (out / "result.csv").read_text() == "1\n"
    assert prepare_output_dir(tmp_path / "run", overwrite=True) == out
    a = prepare_output_dir(None, default_root=tmp_path, default_name="x")
    (a / "f").write_text("")
    b = prepare_output_dir(None, default_root=tmp_path, default_name="x")
    assert a != b and a.exists() and b.exists()


def test_stray_field_demo_two_ranks(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = tmp_path / "demo"
    cmd = ["mpirun", "-n", "2", sys.executable, str(ROOT / "demos" / "stray_field.py"), "--mesh-size", "16e-9",
           "--output", str(out)]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    for f in ("stray_field.xdmf", "stray_field.h5", "stray_field.regions.json", "H_d_axis.png", "H_d_axis.csv",
              "summary.json"):
        assert (out / f).is_file(), f
    summary = json.loads((out / "summary.json").read_text())
    assert summary["ranks"] == 2
    # antiparallel along x: the demagnetizing field opposes m in each layer
    assert summary["average_H_d_A_per_m"]["FM1"][0] < 0 < summary["average_H_d_A_per_m"]["FM2"][0]
    # one dataset with the three fields and the region tags, on the device and the air (no shell)
    check_series(out / "stray_field.xdmf", ("m", "u", "H_d"), ("FM1", "spacer", "FM2", "air"),
                 msh=tmp_path / "meshes" / "seed_device_h16nm.msh")
    regions = json.loads((out / "stray_field.regions.json").read_text())
    assert set(regions["cells"]) == {"FM1", "spacer", "FM2", "air", "shell"}
    axis = np.loadtxt(out / "H_d_axis.csv", delimiter=",", skiprows=1)
    assert np.isfinite(axis).all() and axis.shape[1] == 4
    # running again into the same folder is refused, and nothing is lost
    before = (out / "summary.json").read_text()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert p.returncode != 0 and "already holds results" in (p.stdout + p.stderr)
    assert (out / "summary.json").read_text() == before


def test_spin_valve_demo_two_ranks(tmp_path):
    """The main demo end to end on a coarse mesh for a few ps: files, fields in the XDMF, the torque
    on FM2 pointing toward the pinned FM1 (electrons flowing FM1 -> FM2)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = tmp_path / "valve"
    cmd = ["mpirun", "-n", "2", sys.executable, str(ROOT / "demos" / "spin_valve.py"), "--protocol", "pinned",
           "--mesh-size", "20e-9", "--t-end", "10e-12", "--output", str(out)]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    for f in ("m.xdmf", "m.h5", "scalars.csv", "summary.json", "provenance.json", "checkpoint.npz", "m_of_t.png"):
        assert (out / f).is_file(), f
    summary = json.loads((out / "summary.json").read_text())
    assert summary["ranks"] == 2 and summary["t_final_s"] == pytest.approx(10e-12, rel=1e-9, abs=0)
    assert summary["m_FM1_final"] == pytest.approx(summary["m_FM1"], abs=1e-12)  # pinned
    # ParaView: one dataset per written step with m, s, spin torque and H_d, on the device cells only
    _, _, steps = check_series(out / "m.xdmf", ("m", "s", "spin_torque", "H_d"), ("FM1", "spacer", "FM2"),
                               msh=tmp_path / "meshes" / "seed_device_film_h20nm.msh")
    assert len(steps) >= 2 and steps[-1][0] == pytest.approx(10e-12, rel=1e-9, abs=0)
    with open(out / "scalars.csv") as f:
        import csv
        rows = list(csv.DictReader(f))
    last = rows[-1]
    T = np.array([float(last[f"<T{c}>_FM2_per_s"]) for c in "xyz"])
    m1 = np.array(summary["m_FM1"])
    m2 = np.array([float(last[f"<m{c}>_FM2"]) for c in "xyz"])
    # damping-like part of the torque on FM2 has a positive component toward m1 (perpendicular to m2)
    assert T @ (m1 - (m1 @ m2) * m2) > 0, (T, m1, m2)


def test_spin_valve_demo_seed_protocol_pulse(tmp_path):
    """The default (seed) protocol: FM1 free and relaxed from a random texture, the current only during the pulse
    (the scalars' j_e_z is -j before, 0 after the 10 ps fall), FM1 moves, files written."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = tmp_path / "valve_seed"
    cmd = ["mpirun", "-n", "2", sys.executable, str(ROOT / "demos" / "spin_valve.py"), "--mesh-size", "20e-9",
           "--current-density", "4e12", "--pulse", "5e-12", "--t-end", "30e-12", "--output", str(out)]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["protocol"] == "seed" and summary["t_final_s"] == pytest.approx(30e-12, rel=1e-9, abs=0)
    assert not summary["switched"] and summary["switch_time_s"] is None
    assert np.abs(np.subtract(summary["m_FM1_final"], summary["m_FM1_relaxed"])).max() > 1e-6  # FM1 is free
    with open(out / "scalars.csv") as f:
        import csv
        rows = list(csv.DictReader(f))
    j = [(float(r["t_s"]), float(r["j_e_z_A_per_m2"])) for r in rows]
    assert all(v == pytest.approx(-4e12) for t, v in j if 0 < t <= 5e-12)
    assert all(v == 0.0 for t, v in j if t >= 15e-12) and any(t >= 15e-12 for t, _ in j)
    assert "m_of_t.png" in os.listdir(out) and "files in" in p.stdout + p.stderr


def test_schrodinger_poisson_ball_demo_two_ranks(tmp_path):
    """The SPLLG demo end to end (--quick): spin torque tilts m, mass is conserved, the differences
    between successive eps shrink, all files are written."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = tmp_path / "spllg"
    cmd = ["mpirun", "-n", "2", sys.executable, str(ROOT / "demos" / "schrodinger_poisson_ball.py"), "--quick",
           "--output", str(out)]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    for f in ("summary.json", "differences.csv", "m_tilt.png", "semiclassical.png", "torque/fields.xdmf",
              "torque/scalars.csv", "semiclassical/eps_0.1/fields.xdmf"):
        assert (out / f).is_file(), f
    check_series(out / "torque" / "fields.xdmf", ("m", "rho", "s", "j", "J_s1", "J_s2", "J_s3", "V"), ("Omega", "air"),
                 msh=next((tmp_path / "meshes").glob("spllg_ball_*.msh")))
    summary = json.loads((out / "summary.json").read_text())
    tq = summary["torque"]
    assert tq["max_tilt_deg"] > 5 and tq["mass_rel_change"] < 1e-10
    d = summary["semiclassical"]["final_differences"]
    assert d["rho_0.2_0.1"] < d["rho_0.4_0.2"] and d["s_0.2_0.1"] < d["s_0.4_0.2"] and d["m_0.2_0.1"] < d["m_0.4_0.2"]
