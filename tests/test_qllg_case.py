"""q-LLG case files (model = "qllg"): fem-stt check/run, SI strings vs the paper's reduced numbers, the
results folder, errors naming the dotted key, and mpirun -n 2 against the serial run."""
import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fem_stt import cli
from fem_stt.atomistic.qllg.case import qllg_case
from fem_stt.atomistic.qllg.paper import figure_cases, run_case
from fem_stt.config import load_case
from fem_stt.errors import ParameterError

ROOT = Path(__file__).resolve().parents[1]
CASES = sorted((ROOT / "demos" / "cases").glob("qllg_*.toml"))
DIMER = ROOT / "demos" / "cases" / "qllg_dimer_afm_dmi.toml"
REDUCED = """model = "qllg"
name = "reduced"
[system]
spins = [0.5, 0.5]
[[system.zeeman]]
B = [1.0, 0.0, 0.0]
[[system.exchange]]
sites = [0, 1]
J = 1.0
[[system.dmi]]
sites = [0, 1]
D = [0.0, 0.0, 0.6]
[initial]
state = "ud"
[run]
t_end = 8.0
outputs = 41
"""


def read_csv(path):
    with open(path) as f:
        rows = list(csv.reader(f))
    return rows[0], np.array(rows[1:], dtype=float)


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_qllg_cases_pass_check(path, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["check", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.rstrip().endswith("OK") and "time unit 1/(gamma_g*B0) = 10 ps" in out and "t_end" in out
    assert not any(tmp_path.iterdir())


def test_run_dimer_case_writes_the_folder_and_matches_the_closed_form(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["run", str(DIMER), "--output", str(out), "--no-progress"]) == 0
    for f in ("observables.csv", "classical_paper.csv", "classical_mean_field.csv", "lindblad.csv", "qllg.png",
              "summary.json", "provenance.json", "case.toml"):
        assert (out / f).stat().st_size > 0, f
    head, data = read_csv(out / "observables.csv")
    fig1d = next(c for c in figure_cases()["fig1"] if c.name == "fig1d")
    ref = run_case(fig1d, n_out=401, method="closed_form")  # J given as 0.0658211957 meV = E0 (1 + 7e-10)
    r0 = data[:, [head.index(f"r0_{a}") for a in "xyz"]]
    assert np.abs(r0 - ref.observables["r1"]).max() < 1e-8
    s = json.loads((out / "summary.json").read_text())
    assert s["stats"]["spectrum_drift"] < 1e-10 and s["lindblad"]["min_purity"] < 0.9
    assert s["classical_paper"]["max_dev"] > 0.1
    assert (out / "case.toml").read_text() == DIMER.read_text()
    assert cli.main(["run", str(DIMER), "--output", str(out), "--no-progress"]) == 2  # not overwritten silently
    assert "already holds results" in capsys.readouterr().err


def test_reduced_numbers_equal_si_strings(tmp_path):
    si = REDUCED.replace("J = 1.0", 'J = "1.054571817e-23 J"')
    si = si.replace("B = [1.0, 0.0, 0.0]", 'B = ["1 T", "0 T", "0 T"]')
    si = si.replace("t_end = 8.0", 't_end = "80 ps"').replace('name = "reduced"', 'name = "si"')
    outs = [qllg_case(text).run(output=tmp_path / name, progress=False) for name, text in (("r", REDUCED), ("s", si))]
    a, b = (read_csv(o / "observables.csv")[1] for o in outs)
    assert np.abs(a - b).max() < 1e-12


@pytest.mark.parametrize("edit, key", [
    (("[initial]", "[initial]\nbloch = [[0, 0, 1], [0, 0, -1]]"), "initial"),
    (("spins = [0.5, 0.5]", "spins = [0.5, 0.7]"), "system.spins[1]"),
    (("J = 1.0", 'J = "1 T"'), "system.exchange[0].J"),
    (("J = 1.0", "J = 1.0\nK = 2"), "system.exchange[0].K"),
    (("sites = [0, 1]\nJ", "sites = [0, 2]\nJ"), "system.exchange[0].sites"),
    (("[system]", "[system]\nkappa = -0.5"), "system.kappa"),
    (("[system]", '[system]\nequation = "lindblad"'), "system.equation"),
    (("t_end = 8.0", "t_end = -1.0"), "run.t_end"),
    (("t_end = 8.0", 't_end = "8 m"'), "run.t_end"),
    (("outputs = 41", 'outputs = 41\nmethod = "rkmk4"'), "run.dt"),
    (("outputs = 41", "outputs = 41\nrtol = 0.0"), "run.rtol"),
    (('state = "ud"', 'state = "werner:Psi+:1.5"'), "initial.state"),
    (('state = "ud"', 'bloch = [[0, 0, 1], [0, 0.6, 0.9]]'), "initial.bloch"),
    (("outputs = 41", 'outputs = 41\n[compare]\nclassical = ["paper"]'), None),
    (('state = "ud"', 'bloch = [[0, 0, 1], [0, 0, -1]]\n[compare]\nclassical = ["paper"]'), "compare.classical"),
    (("[run]", "[runs]"), "runs"),
])
def test_bad_case_names_the_key(edit, key):
    text = REDUCED.replace(*edit)
    assert text != REDUCED
    if key is None:
        qllg_case(text)  # valid
        return
    with pytest.raises(ParameterError) as e:
        qllg_case(text)
    assert e.value.parameter == key, str(e.value)


def test_resume_is_refused(tmp_path):
    with pytest.raises(ParameterError, match="resume"):
        qllg_case(REDUCED).run(output=tmp_path / "x", resume=True)
    assert isinstance(load_case(DIMER), type(qllg_case(REDUCED)))


def test_mpirun_two_ranks_equals_serial(tmp_path):
    case = tmp_path / "c.toml"
    case.write_text(REDUCED)
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1")
    cmd = ["mpirun", "-n", "2", sys.executable, "-m", "fem_stt.cli", "run", str(case), "--output",
           str(tmp_path / "mpi"), "--no-progress"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    qllg_case(REDUCED).run(output=tmp_path / "serial", progress=False)
    a = read_csv(tmp_path / "mpi" / "observables.csv")[1]
    b = read_csv(tmp_path / "serial" / "observables.csv")[1]
    assert np.array_equal(a, b)
    assert json.loads((tmp_path / "mpi" / "provenance.json").read_text())["ranks"] == 2
