"""LLG output files, refusal to overwrite, and checkpoint/resume continuing the trajectory."""
import csv
import json

import numpy as np
import pytest

from fem_stt.errors import ParameterError
from fem_stt.geometry import Layer, LayerStack, Surrounding, rectangle
from fem_stt.llg import LLG
from fem_stt.llg.run import LLGRun
from fem_stt.materials import Material
from xdmf_series import check_series, msh_cells, read_series

NM = 1e-9


@pytest.fixture(scope="module")
def dom(mesh_dir):
    mat = Material("p", Ms=8e5, A=1.3e-11, alpha=0.05, K1=1e5, K1_axis=(1, 0, 0))
    return LayerStack([Layer("free", 4 * NM, mat, rectangle(30 * NM, 15 * NM))], mesh_size=5 * NM,
                      surrounding=Surrounding(padding=0.5), name="llg_run").mesh(path=mesh_dir / "llg_run.msh")


def make(dom):
    return LLG(dom, lambda x: np.vstack([np.cos(x[0] / (10 * NM)), np.sin(x[0] / (10 * NM)), 0.3 + 0 * x[0]]),
               H_ext=(0, 0, 5e4), order=2, dt=1e-13, dt_max=3e-13)


def test_outputs_and_resume_continue_the_trajectory(dom, tmp_path, mesh_dir):
    ref = LLGRun(make(dom), tmp_path / "straight", xdmf_every=5, checkpoint_every=1000,
                 parameters={"case": "test"})
    ref.run(4e-12)
    ref.close()
    straight = ref.llg

    first = LLGRun(make(dom), tmp_path / "split", xdmf_every=5, checkpoint_every=1000)
    first.run(4e-12, max_steps=9)  # "interrupted" after 9 steps (a checkpoint is written on exit)
    first.close()
    resumed = LLGRun(make(dom), tmp_path / "split", resume=True, xdmf_every=5)
    assert resumed.llg.step_count == 9
    resumed.run(4e-12)
    resumed.close()
    a, b = straight.m_array, resumed.llg.m_array
    assert resumed.llg.step_count == straight.step_count and resumed.llg.t == pytest.approx(straight.t, rel=1e-14, abs=0)
    assert np.abs(a - b).max() < 1e-10

    out = tmp_path / "straight"
    rows = list(csv.reader(open(out / "scalars.csv")))
    assert rows[0][:3] == ["t_s", "step", "dt_s"] and "E_total_J" in rows[0] and "<mx>_free" in rows[0]
    assert len(rows) == straight.step_count + 2  # header + initial state + one row per step
    split_rows = list(csv.reader(open(tmp_path / "split" / "scalars.csv")))
    assert len(split_rows) == len(rows)
    assert np.allclose(np.array(split_rows[1:], float), np.array(rows[1:], float), rtol=1e-8, atol=1e-30)
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["ranks"] == 1 and prov["parameters"] == {"case": "test"} and prov["integrator"]["order"] == 2
    n = straight.step_count  # every 5th step, plus the final state
    points, cells, steps = read_series(out / "m.xdmf")
    assert len(steps) == 1 + n // 5 + (1 if n % 5 else 0)
    t_of_step = {int(r[1]): float(r[0]) for r in rows[1:]}
    written = list(range(0, n + 1, 5)) + ([n] if n % 5 else [])
    assert [t for t, _, _ in steps] == pytest.approx([t_of_step[k] for k in written], rel=1e-14, abs=0)
    # one dataset per step on the magnet only: the vertices of the 'free' cells of the .msh (no air, no shell)
    ref_points, ref_ncells = msh_cells(mesh_dir / "llg_run.msh", ["free"])
    assert np.array_equal(points, ref_points) and len(cells) == ref_ncells
    assert all(set(pd) == {"m"} and np.array_equal(np.unique(reg), [dom.regions["free"]]) for _, pd, reg in steps)
    # the interrupted run wrote steps 0, 5 and 9; the resumed run's file continues with 10, 15, ... as the straight run
    _, _, first_steps = read_series(tmp_path / "split" / "m.xdmf")
    _, _, resumed_steps = read_series(tmp_path / "split" / "m_from_step9.xdmf")
    assert len(first_steps) == 3 and len(resumed_steps) == len(steps) - 2
    for (ta, a, _), (tb, b, _) in zip(steps[:2] + steps[2:], first_steps[:2] + resumed_steps):
        assert tb == pytest.approx(ta, rel=1e-14, abs=0) and np.abs(a["m"] - b["m"]).max() < 1e-10
    assert np.allclose(np.linalg.norm(steps[-1][1]["m"], axis=1), 1.0, atol=1e-8)


def test_output_folder_is_not_overwritten(dom, tmp_path):
    LLGRun(make(dom), tmp_path / "o").close()
    with pytest.raises(FileExistsError):
        LLGRun(make(dom), tmp_path / "o")
    with pytest.raises(ParameterError, match="resume"):
        LLGRun(make(dom), tmp_path / "empty", resume=True)
    with pytest.raises(ParameterError, match="xdmf_every"):
        LLGRun(make(dom), tmp_path / "p", xdmf_every=0)


def test_xdmf_include_adds_the_air(dom, tmp_path, mesh_dir):
    LLGRun(make(dom), tmp_path / "a", xdmf_include=("air",)).close()
    check_series(tmp_path / "a" / "m.xdmf", ("m",), ("free", "air"), msh=mesh_dir / "llg_run.msh")
    with pytest.raises(ParameterError, match="vacuum"):
        LLGRun(make(dom), tmp_path / "b", xdmf_include=("vacuum",))
    assert not (tmp_path / "b").exists()
