"""NEGF model (issue 14, seed 003): the demo (--quick) and the case file through ``fem-stt``."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fem_stt.cli import main as cli
from fem_stt.config import load_case
from fem_stt.errors import ParameterError

ROOT = Path(__file__).resolve().parents[1]

TINY = """
model = "negf"
name = "tiny"
[lattice]
nx = 10
broadening = 0.05
[skyrmion]
D = 0.667
K = 0.778
radius = 2.4
[pump]
V = 0.8
omega = 1.0
columns = [1, 5]
[llg]
alpha = 0.4
dt = 0.1
[run]
t_end = {t_end}
[output]
checkpoint_every = 5
"""


def test_skyrmion_pumping_demo_quick(tmp_path):
    """The demo end to end (12 x 12, one period): all figures and CSVs, dt vs dt/2 converged, I_p mostly spin down,
    I_p / omega collapses for the frozen Sk (eq. 40 is linear in dV/dt)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = tmp_path / "sk"
    p = subprocess.run([sys.executable, str(ROOT / "demos" / "skyrmion_pumping.py"), "--quick", "--output", str(out),
                        "--no-progress"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=900)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    assert "MUMPS" not in p.stdout + p.stderr
    for f in ("fig3_transport.png", "fig3_transport.csv", "fig4_pumping.png", "fig4_pumping.csv", "fig5_amplitude.png",
              "fig5_amplitude.csv", "fig6_frequency.png", "fig6_frequency.csv", "summary.json",
              "runs/phi+/checkpoint.npz", "runs/phi+/timeseries.csv"):
        assert (out / f).is_file(), f
    s = json.loads((out / "summary.json").read_text())
    dc = s["dt_convergence"]
    assert dc["max_centre_difference_dt_vs_dt_half_first_period"] < 1e-3 * dc["centre_excursion_first_period"]
    assert s["Ip_up_fraction_max"] < 0.15
    assert s["Ip_over_omega_collapse_max_abs_difference"] < 1e-9
    assert s["skyrmion"]["Q"] < -0.9
    assert s["units"]["t_hat [ps]"] == pytest.approx(0.6582, abs=1e-4)


def test_negf_case_file_check_run_resume_and_errors(tmp_path, capsys):
    assert cli(["check", str(ROOT / "demos" / "cases" / "negf_skyrmion_pumping.toml")]) == 0
    assert "torque prefactor c = 4" in capsys.readouterr().out
    case = tmp_path / "tiny.toml"
    case.write_text(TINY.format(t_end=0.5))
    out = tmp_path / "run"
    assert cli(["run", str(case), "--output", str(out), "--no-progress"]) == 0
    for f in ("timeseries.csv", "summary.json", "trajectory.png", "checkpoint.npz", "m_final.npy", "case.toml"):
        assert (out / f).is_file(), f
    assert cli(["run", str(case), "--output", str(out), "--no-progress"]) == 2  # never overwritten silently
    case.write_text(TINY.format(t_end=1.0))
    assert cli(["run", str(case), "--output", str(out), "--resume", "--no-progress"]) == 0
    ts = np.genfromtxt(out / "timeseries.csv", delimiter=",", names=True)
    assert ts["t"][-1] == pytest.approx(1.0) and len(ts["t"]) == 10
    assert json.loads((out / "summary.json").read_text())["resumed"] is True
    # errors name the dotted key
    bad = tmp_path / "bad.toml"
    bad.write_text(TINY.format(t_end=1.0).replace("omega = 1.0", "omeg = 1.0"))
    with pytest.raises(ParameterError, match="pump.omeg"):
        load_case(bad)
    bad.write_text(TINY.format(t_end=1.0).replace("alpha = 0.4", "alpha = -0.4"))
    with pytest.raises(ParameterError, match="llg.alpha"):
        load_case(bad)
    bad.write_text(TINY.format(t_end=1.0).replace("columns = [1, 5]", "columns = [1, 50]"))
    with pytest.raises(ParameterError, match="pump.columns"):
        load_case(bad)


def test_negf_case_refuses_two_mpi_ranks(tmp_path):
    """The NEGF model is serial: 'mpirun -n 2 fem-stt run' stops with a clear error instead of two ranks writing the
    same folder (``check`` works)."""
    case = tmp_path / "tiny.toml"
    case.write_text(TINY.format(t_end=0.2))
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = ["mpirun", "-n", "2", sys.executable, "-m", "fem_stt.cli", "run", str(case), "--output", str(tmp_path / "o")]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert p.returncode != 0 and "comm: the NEGF model is serial" in p.stdout + p.stderr
