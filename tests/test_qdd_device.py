"""QDD-Rashba (seed 001): SI front end (R8), the device run and its outputs, case files and the CLI,
the Datta-Das demo, and bad input (errors that name the parameter; failed solves never pass silently)."""
import csv
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fem_stt import cli
from fem_stt.config import load_case
from fem_stt.constants import E_CHARGE, HBAR, K_B
from fem_stt.errors import MeshError, ParameterError, SolverError
from fem_stt.quantum.qdd import Channel, DensityGradient, SpinDiffusion
from fem_stt.quantum.qdd import reference1d as ref
from fem_stt.quantum.qdd.device import RashbaChannel
from fem_stt.quantum.qdd.units import M_E, scales

ROOT = Path(__file__).resolve().parents[1]
INGAAS = dict(m_eff=0.041, mobility=1.0, temperature=77.0, bias=0.05)


# ---------------------------------------------------------------------------- SI front end (R8)
@pytest.mark.parametrize("T", [77.0, 300.0])
def test_r8_scaled_parameters_of_ingaas(T):
    s = scales(0.5e-6, 0.041, 6e-12, T, bias=0.05, mobility=1.0, width=0.2e-6)
    m = 0.041 * M_E
    # independent forms: eps^2 = hbar^2 / (m kB T L^2); Einstein D = mu kB T / e; precession 2 alpha = L / L_so
    assert s.eps == pytest.approx(math.sqrt(HBAR ** 2 / (m * K_B * T * 0.5e-6 ** 2)), rel=1e-12)
    assert s.D == pytest.approx(1.0 * K_B * T / E_CHARGE, rel=1e-12, abs=0)
    assert s.D == pytest.approx(s.x0 ** 2 * s.tau / s.t_E, rel=1e-12, abs=0)
    assert 2 * s.alpha == pytest.approx(s.x0 / s.L_so, rel=1e-12, abs=0)
    assert s.E == pytest.approx(0.05 / s.V0, rel=1e-12, abs=0)
    assert s.width == pytest.approx(0.4)
    # the numbers of the demo table
    expected = {77.0: (0.03347, 1.6142, 0.07866, 7.535, 2.964e-12), 300.0: (0.01696, 1.6142, 0.1553, 1.934, 1.501e-12)}
    for val, ex in zip((s.eps, s.alpha, s.tau, s.E, s.t_E), expected[T]):
        assert val == pytest.approx(ex, rel=5e-4, abs=0)
    assert "eps = " in s.describe() and "alpha = " in s.describe()


def test_r8_drain_spin_current_against_1d_drift_reference():
    """The demo's 1D expectation: j_x(alpha_R)/j_x(0), alpha_R = 0..6e-12 eV m, FEM (SI front end) vs exact modes."""
    dev = RashbaChannel(length=0.5e-6, quantum=False, mesh_size=1.25e-9, **INGAAS).build()
    dev.charge.solve()
    fem, exact = [], []
    for a in np.arange(7) * 1e-12:
        dev.set_rashba(a)
        dev.spin.solve()
        fem.append(dev.spin.contact_currents()["drain"][0])
        exact.append(-ref.SpinModes1D(dev.scales.alpha, 1.0, (1, 0, 0), v=-dev.scales.E).dn([1.0])[0, 0])
    fem, exact = np.array(fem) / fem[0], np.array(exact) / exact[0]
    assert np.abs(fem - exact).max() < 1e-4
    assert exact[-1] < 0 < exact[2]  # the precession reverses the drain spin


def test_device_run_outputs_ohms_law_and_refusal(tmp_path):
    dev = RashbaChannel(length=0.5e-6, width=0.1e-6, alpha_R=2e-12, mesh_size=25e-9, quantum=True, **INGAAS)
    out = dev.run(tmp_path / "run")
    for f in ("fields.xdmf", "fields.h5", "currents.csv", "maps.png", "scales.json", "summary.json"):
        assert (out / f).is_file(), f
    rows = list(csv.DictReader(open(out / "currents.csv")))
    assert len(rows) == 1
    # no gate: n0 = 1 and the charge current is Ohm's law I = e n_s mu U W / L (leaving through the drain: -I)
    I_ohm = E_CHARGE * 1e15 * 1.0 * 0.05 * 0.1e-6 / 0.5e-6
    assert float(rows[0]["I_drain_A"]) == pytest.approx(-I_ohm, rel=1e-9, abs=0)
    assert float(rows[0]["I_source_A"]) == pytest.approx(I_ohm, rel=1e-9, abs=0)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["scales"]["eps"] == pytest.approx(dev.scales.eps) and summary["positivity_margin"] > 0.99
    with pytest.raises(FileExistsError):
        dev.run(tmp_path / "run")
    # XDMF geometry in metres
    import h5py
    with h5py.File(out / "fields.h5") as h:
        x = h["Mesh/mesh/geometry"][:]
        assert x[:, 0].max() == pytest.approx(0.5e-6) and x[:, 1].max() == pytest.approx(0.1e-6)
        assert {"n0", "F", "Q", "n", "J", "J_spin_x", "J_spin_y"} <= set(h["Function"])


def test_device_transient_spin_injection_reaches_the_stationary_current(tmp_path):
    dev = RashbaChannel(length=0.5e-6, alpha_R=3e-12, mesh_size=5e-9, quantum=False, **INGAAS)
    out = dev.run(tmp_path / "tr", t_end=30e-12, dt=0.2e-12)  # the drift front reaches the drain after ~5 ps
    rows = list(csv.DictReader(open(out / "currents.csv")))
    assert len(rows) == 151 and float(rows[-1]["t_s"]) == pytest.approx(30e-12, rel=1e-9, abs=0)
    jt = np.array([float(r["Is_drain_x_hbar2_per_s"]) for r in rows])
    assert jt[0] == 0.0
    stat = RashbaChannel(length=0.5e-6, alpha_R=3e-12, mesh_size=5e-9, quantum=False, **INGAAS)
    stat.solve()
    j_inf = stat.currents()["spin_current_hbar2_per_s"]["drain"][0]
    assert jt[-1] == pytest.approx(j_inf, rel=1e-5, abs=0)  # BDF's fixed point is the stationary solution


# ---------------------------------------------------------------------------- case files, CLI, demo
def test_qdd_case_file_check_and_run(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    case = ROOT / "demos" / "cases" / "qdd_spin_injection_transient.toml"
    assert cli.main(["check", str(case)]) == 0
    assert "eps = 0.033472" in capsys.readouterr().out
    text = case.read_text().replace('t_end = "30 ps"', 't_end = "2 ps"').replace('mesh_size = "5 nm"', 'mesh_size = "20 nm"')
    (tmp_path / "c.toml").write_text(text)
    assert cli.main(["run", str(tmp_path / "c.toml"), "--output", "out", "--no-progress"]) == 0
    assert (tmp_path / "out" / "case.toml").read_text() == text
    assert len(list(csv.DictReader(open(tmp_path / "out" / "currents.csv")))) == 11
    assert cli.main(["run", str(tmp_path / "c.toml"), "--output", "out"]) == 2  # refuses to overwrite
    bad = text.replace('alpha_R = "3e-12 eV*m"', 'alpha_R = "3e-12 eV"')
    (tmp_path / "bad.toml").write_text(bad)
    with pytest.raises(ParameterError) as e:
        load_case(tmp_path / "bad.toml")
    assert e.value.parameter == "material.alpha_R"
    (tmp_path / "bad2.toml").write_text(text.replace("[bias]", "[contacts]\npolarization = [0.6, 0.9, 0]\n[bias]"))
    with pytest.raises(ParameterError) as e:
        load_case(tmp_path / "bad2.toml")
    assert e.value.parameter == "contacts.polarization"


def test_datta_das_demo_quick_two_ranks(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = tmp_path / "dd"
    cmd = ["mpirun", "-n", "2", sys.executable, str(ROOT / "demos" / "datta_das.py"), "--quick", "--output", str(out)]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    for f in ("sweep.csv", "datta_das.png", "summary.json", "maps/fields.xdmf", "maps/maps.png", "maps/currents.csv"):
        assert (out / f).is_file(), f
    s = json.loads((out / "summary.json").read_text())
    assert s["ranks"] == 2 and s["fem_1d_vs_reference_max_abs"] < 1e-3
    sw = s["sweep"]
    cos, one_d, narrow = (np.array(sw[k]) for k in ("ballistic_cos", "reference_1d", "fem_W50nm"))
    # the narrow channel follows the ballistic precession much more closely than the 1D (DP-damped) channel
    assert np.abs(narrow - cos).max() < 0.25 * np.abs(one_d - cos).max()


# ---------------------------------------------------------------------------- bad input
def test_bad_input_names_the_parameter(tmp_path):
    ch = Channel.interval(1.0, 20)
    cases = [
        (lambda: SpinDiffusion(ch, alpha=0.5, tau=-1.0), "tau"),
        (lambda: DensityGradient(ch, eps=0.1, tau=-0.1), "tau"),
        (lambda: SpinDiffusion(ch, alpha=0.5, tau=1.0, eps=-0.2), "eps"),
        (lambda: DensityGradient(ch, eps=float("nan"), tau=1.0), "eps"),
        (lambda: SpinDiffusion(ch, alpha=0.5, tau=1.0, eps=0.2, degree=1), "degree"),
        (lambda: DensityGradient(ch, eps=0.1, tau=1.0, n_init=lambda x: 0.5 - x[0]), "n_init"),
        (lambda: DensityGradient(ch, eps=0.1, tau=1.0, contacts={"source": 0.0, "drain": 1.0}), "contacts['source']"),
        (lambda: SpinDiffusion(ch, alpha=0.5, tau=1.0, eps=0.2, contacts={"source": (6.0, 0, 0), "drain": (0, 0, 0)}),
         "contacts['source']"),
        (lambda: SpinDiffusion(ch, alpha=0.5, tau=1.0, eps=0.2, n_init=(0, 8.0, 0), contacts={}), "n_init"),
        (lambda: SpinDiffusion(ch, alpha=0.5, tau=1.0, contacts={"gate": (1, 0, 0)}), "contacts"),
        (lambda: SpinDiffusion(ch, alpha=0.5, tau=1.0, wall_bc="periodic"), "wall_bc"),
        (lambda: SpinDiffusion(ch, alpha=0.5, tau=1.0, spin_flux_eps2="other"), "spin_flux_eps2"),
        (lambda: RashbaChannel(length=0.5e-6, tau_c=-1e-13, mobility=None, m_eff=0.041), "tau_c"),
        (lambda: RashbaChannel(length=0.5e-6, polarization=(0.8, 0.7, 0)), "polarization"),
        (lambda: RashbaChannel(length=0.5e-6, temperature=0.0), "temperature"),
        (lambda: RashbaChannel(length=0.5e-6, alpha_R=-1e-12), "alpha_R"),
        (lambda: RashbaChannel(length=0.5e-6, width=0.1e-6, mesh_size=0.2e-6), "mesh_size"),
    ]
    for make, name in cases:
        with pytest.raises(ParameterError) as e:
            make()
        assert e.value.parameter == name, (name, str(e.value))
    # a mesh without the named contacts
    import gmsh
    from fem_stt.geometry.builder import gmsh_session
    msh = tmp_path / "nodrain.msh"
    with gmsh_session():
        gmsh.model.add("m")
        r = gmsh.model.occ.addRectangle(0, 0, 0, 1, 0.3)
        gmsh.model.occ.synchronize()
        gmsh.model.addPhysicalGroup(2, [r], 1)
        left = [t for d, t in gmsh.model.getBoundary([(2, r)]) if abs(gmsh.model.occ.getCenterOfMass(1, abs(t))[0]) < 1e-9]
        gmsh.model.addPhysicalGroup(1, [abs(t) for t in left], 1)
        gmsh.model.setPhysicalName(1, 1, "source")
        gmsh.option.setNumber("Mesh.MeshSizeMax", 0.1)
        gmsh.model.mesh.generate(2)
        gmsh.write(str(msh))
    with pytest.raises(MeshError, match="drain"):
        Channel.from_msh(msh)
    ch2 = Channel.from_msh(msh, required_facets=("source",))
    with pytest.raises(ParameterError, match="drain") as e:
        SpinDiffusion(ch2, alpha=0.5, tau=1.0)
    assert e.value.parameter == "contacts"


def test_failed_solves_raise_and_restore_the_state():
    ch = Channel.interval(1.0, 50)
    # Newton without continuation from a flat state on a 40 kB T barrier: SNES gives up -> SolverError
    dg = DensityGradient(ch, eps=0.05, tau=1.0, V=lambda x: 40 * np.exp(-((x[0] - 0.5) / 0.02) ** 2))
    before = dg.u.x.array.copy()
    dg.newton.snes.setTolerances(max_it=3)
    with pytest.raises(SolverError, match="did not converge"):
        dg.solve(continuation=False)
    assert np.array_equal(dg.u.x.array, before)
    with pytest.raises(SolverError):
        dg.run(0.1, 0.01)  # the time step fails too and is not skipped
    assert dg.t == 0.0 and np.array_equal(dg.u.x.array, before)
    # a stalled continuation leaves neither a partial state nor a partial potential behind
    with pytest.raises(SolverError, match="stalled|did not converge"):
        dg.solve(max_halvings=0)
    assert np.array_equal(dg.u.x.array, before) and dg.lam.value == 1.0 and dg.eps_c.value == 0.05
    # positivity lost during a solve (eps |n| >= n0 inside although the contacts are fine) -> SolverError
    s = SpinDiffusion(ch, alpha=0.0, tau=1.0, eps=0.2, rho=lambda x: np.log(0.05 + 4 * (x[0] - 0.5) ** 2),
                      contacts={"source": (4.0, 0, 0), "drain": (4.0, 0, 0)})
    with pytest.raises(SolverError, match="not positive"):
        s.solve()
