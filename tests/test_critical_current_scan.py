"""The critical-current study's script (demos/critical_current_scan.py): its bookkeeping (classes,
brackets, bisection limits, the seed-layout table), its input checks, and a 2-rank --quick run
that resumes without repeating work."""
import csv
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fem_stt.errors import ParameterError

ROOT = Path(__file__).resolve().parents[1]


def load_scan():
    spec = importlib.util.spec_from_file_location("critical_current_scan", ROOT / "demos" / "critical_current_scan.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def rows_of(model, pairs):
    return [{"model": model, "j": j, "class": c, "stable": True, "mx_FM2": {"S1": 0.8, "S2": -0.8, "S3": 0.0}[c]}
            for j, c in pairs]


def test_classes_brackets_and_table(tmp_path):
    scan = load_scan()
    assert [scan.classify(m) for m in ((0.5, 0, 0), (0.49, 0.1, 0), (-0.49, 0, 0), (-0.5, 0, 0))] == \
        ["S1", "S3", "S3", "S2"]
    rows = rows_of("diffusion", [(1e12, "S1"), (2e12, "S3"), (1.5e12, "S1"), (4e12, "S2"), (3.06e12, "S3"),
                                 (3.0e12, "S3"), (8e12, "S2")])
    t = scan.thresholds(rows, "diffusion", 0.02)
    # brackets between neighbouring currents of different classes; 3.06e12 -> 4e12 is 31 % wide (open),
    # a 2 % bracket counts as resolved
    assert t == [(1.5e12, "S1", 2e12, "S3", False), (3.06e12, "S3", 4e12, "S2", False)]
    t2 = scan.thresholds(rows_of("moment", [(1e12, "S1"), (1.02e12, "S3"), (1.03e12, "S3")]), "moment", 0.02)
    assert t2 == [(1e12, "S1", 1.02e12, "S3", True)]
    assert scan.class_ranges(rows, "diffusion") == [["S1", 1e12, 1.5e12], ["S3", 2e12, 3.06e12], ["S2", 4e12, 8e12]]
    scan.write_tables(tmp_path, rows, ["diffusion"], 0.02)
    md = (tmp_path / "table.md").read_text().splitlines()
    assert md[2].startswith("| diffusion | 100 ~ 150 | 400 ~ 800 | 200 ~ 306 | S1: <= 7.4")
    with open(tmp_path / "thresholds.csv") as f:
        th = list(csv.DictReader(f))
    assert [float(r["j_threshold_A_per_m2"]) for r in th] == pytest.approx([(1.5e12 * 2e12) ** 0.5,
                                                                             (3.06e12 * 4e12) ** 0.5], rel=1e-12, abs=0)


@pytest.mark.parametrize("argv, name", [(["--perturb", "0.7"], "perturb"), (["--bisect-tol", "1.5"], "bisect-tol"),
                                        (["--currents=-1e12"], "currents"), (["--pulse=-1e-9"], "pulse")])
def test_bad_input_is_refused_before_meshing(argv, name, tmp_path):
    scan = load_scan()
    with pytest.raises(ParameterError, match=name):
        scan.main(argv + ["--output", str(tmp_path / "never")])
    assert not (tmp_path / "never").exists()


def test_quick_scan_two_ranks_and_resume(tmp_path):
    """--quick on 2 ranks at a current far below the threshold (1e11 A/m^2; the macrospin scale is
    3.4e12): FM2 stays in S1, the class is stable, the final <m>_FM2 is the relaxed one to 1e-2;
    a --resume call with the same set-up adds no run, one with another set-up is refused."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = tmp_path / "scan"
    base = ["mpirun", "-n", "2", sys.executable, str(ROOT / "demos" / "critical_current_scan.py"), "--quick",
            "--models", "diffusion", "--currents", "1e11", "--output", str(out)]
    p = subprocess.run(base, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=900)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    summary = json.loads((out / "summary.json").read_text())
    (run,) = summary["runs"]
    assert run["class"] == "S1" and run["stable"] in (True, "True")
    m_end = [float(run[f"m{c}_FM2"]) for c in "xyz"]
    assert max(abs(a - b) for a, b in zip(m_end, summary["m_relaxed"]["FM2"])) < 1e-2
    assert {"table.md", "thresholds.csv", "traces.csv", "mx_vs_j.png", "class_S1.png"} <= set(os.listdir(out))
    p = subprocess.run(base + ["--resume"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=900)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    assert json.loads((out / "summary.json").read_text())["new_runs"] == 0
    with open(out / "runs.csv") as f:
        assert len(list(csv.DictReader(f))) == 1
    p = subprocess.run(base + ["--resume", "--seed", "3"], capture_output=True, text=True, env=env, cwd=tmp_path,
                       timeout=900)
    assert p.returncode != 0 and "resume" in p.stdout + p.stderr


def test_sensitivity_table_pairs_equal_currents(tmp_path):
    scan = load_scan()
    ref = rows_of("diffusion", [(2e12, "S3"), (4e12, "S2"), (1.6e13, "S2")]) + rows_of("moment", [(4e12, "S3")])
    this = rows_of("diffusion", [(4e12, "S2"), (1.6e13, "S3"), (3e12, "S3")]) + rows_of("moment", [(4e12, "S3")])
    scan.write_sensitivity(tmp_path, this, ref, {"perturb_rad": 1e-3})
    with open(tmp_path / "sensitivity.csv") as f:
        got = [(r["model"], float(r["j_A_per_m2"]), r["class_reference"], r["class_this"], r["same_class"])
               for r in csv.DictReader(f)]
    assert got == [("diffusion", 4e12, "S2", "S2", "True"), ("diffusion", 1.6e13, "S2", "S3", "False"),
                   ("moment", 4e12, "S3", "S3", "True")]
    assert "**no**" in (tmp_path / "sensitivity.md").read_text()
