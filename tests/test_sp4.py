"""muMAG standard problem 4, reduced: 10 nm cells (5 nm at the film's edges), extruded in 3 cells
through the thickness with m uniform through it (the demo's defaults), FEM-BEM stray field, 0.16 ns
of field 1, on 2 MPI ranks.

Reference (shared/reference/README.md): S-state <m> = (0.96697, 0.12527, 0) (mumax3),
first zero crossing of <mx> at 138.419 ps (OOMMF, 1 nm), <my>(t) trace of OOMMF.
The tolerances here are those of the coarse mesh (measured with the demo's defaults: S-state
(0.9682, 0.1223), crossing 139.65 ps, <my> RMS 0.0068 over 0-0.16 ns, 118 steps; on the unstructured
mesh before: (0.9705, 0.1184), 138.11 ps, 0.0058); the full-resolution targets are checked by
benchmarks/sp4.py (5 nm, 2.5 nm at the edges).
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fem_stt.validation import SP4_CROSSING_PS, SP4_S_STATE

ROOT = Path(__file__).resolve().parents[1]


def test_sp4_reduced_two_ranks(tmp_path):
    out = tmp_path / "sp4"
    code = (f"import sys; sys.path.insert(0, {str(ROOT / 'demos')!r});"
            "from standard_problem_4 import run_sp4;"
            f"run_sp4(1, 10e-9, 0.16e-9, {str(out)!r}, relax_tol=50.0, mesh_dir={str(tmp_path)!r}, plot=True,"
            " xdmf_every=40)")
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    p = subprocess.run(["mpirun", "-n", "2", sys.executable, "-c", code], capture_output=True, text=True, env=env,
                       timeout=1800)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    s = json.loads((out / "summary.json").read_text())
    print({k: s.get(k) for k in ("S_state", "crossing_ps", "my_rms_vs_oommf_0_0.3ns", "wall_s", "steps")})
    assert s["ranks"] == 2
    assert abs(s["S_state"][0] - SP4_S_STATE[0]) < 0.01
    assert abs(s["S_state"][1] - SP4_S_STATE[1]) < 0.015
    assert abs(s["S_state"][2]) < 1e-3
    assert s["crossing_ps"] == pytest.approx(SP4_CROSSING_PS[1], rel=0.01, abs=0)
    assert "my_rms_vs_oommf_0_0.3ns" in s, ("OOMMF trace not found: shared/reference/sp4 beside the repository "
                                            "or $FEM_STT_REFERENCE_DIR/sp4")
    assert s["my_rms_vs_oommf_0_0.3ns"] < 0.02  # over 0 ... 0.16 ns here
    for f in ("m.xdmf", "scalars.csv", "provenance.json", "checkpoint.npz", "sp4_field1.png"):
        assert (out / f).is_file(), f


@pytest.mark.parametrize("kw", [dict(cells_along_z=-1), dict(cells_along_z=1.5), dict(cells_along_z=True),
                                dict(cells_along_z=2, open_boundary="shell"), dict(cells_along_z=0, thin_film=True),
                                dict(thin_film="yes")])
def test_sp4_demo_rejects_bad_mesh_options_before_any_work(kw, tmp_path):
    sys.path.insert(0, str(ROOT / "demos"))
    try:
        from standard_problem_4 import run_sp4
    finally:
        sys.path.pop(0)
    from fem_stt.errors import ParameterError
    with pytest.raises(ParameterError, match="thin_film" if "thin_film" in kw else "cells_along_z"):
        run_sp4(1, 10e-9, 1e-12, tmp_path / "out", mesh_dir=tmp_path, **kw)
    assert not any(tmp_path.iterdir())  # no output folder, no mesh
