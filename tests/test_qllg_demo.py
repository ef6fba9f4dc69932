"""The q-LLG dimer demo in --quick mode: every file, the route cross-checks and the unit line."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_qllg_dimer_demo_quick(tmp_path):
    out = tmp_path / "qllg"
    cmd = [sys.executable, str(ROOT / "demos" / "qllg_dimer.py"), "--quick", "--output", str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "time unit 1/(gamma_g*B0) = 10 ps" in r.stderr
    for f in ("fig1.png", "fig2.png", "fig3.png", "fig4.png", "chain.png", "fig1.csv", "fig1_lindblad.csv",
              "fig2.csv", "fig3.csv", "fig4.csv", "chain.csv", "summary.json", "provenance.json"):
        assert (out / f).stat().st_size > 0, f
    s = json.loads((out / "summary.json").read_text())
    w = s["checks_worst"]
    assert w["closed_form_vs_adaptive"] < 1e-9 and w["rkmk4_vs_adaptive"] < 1e-9
    assert w["spectrum_drift"] < 1e-10 and w["rkmk4_spectrum_drift"] < 1e-12
    n = s["numbers"]
    assert n["fig1b_fig2a"]["singlet_fidelity_0.999_at_ps"] < 40
    assert n["lindblad_fig1b"]["qllg_purity_range"] < 1e-10 and n["lindblad_fig1b"]["lindblad_min_purity"] < 0.9
    assert abs(n["fig1d_fig2b"]["abs_r1_at_80_ps"] - n["fig1d_fig2b"]["abs_r1_inf_ground_state"]) < 1e-3
    assert s["chain"]["cases"]["uniform_FM_D0"]["mean_field"]["max_dev"] < 1e-6
    header = (out / "fig1.csv").read_text().splitlines()[0].split(",")
    assert header[0] == "t_ps" and "fig1a_m1x_paper" in header and "fig1d_abs_r1" in header
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=600)  # never overwrite silently
    assert again.returncode != 0 and "already holds results" in again.stderr
