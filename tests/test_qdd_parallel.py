"""QDD-Rashba (seed 001): mpirun -n 2 equals serial (1e-10) for the charge, spin and transient solvers."""
import numpy as np
import pytest
from test_parallel import serial_and_parallel


def test_qdd_two_ranks_equal_serial(mesh_dir):
    serial, par = serial_and_parallel("qdd_parallel", mesh_dir)
    assert serial["ranks"] == 1 and par["ranks"] == 2
    assert par["dofs"] == serial["dofs"]
    assert par["steps"] == serial["steps"] and par["t"] == pytest.approx(serial["t"], rel=1e-14, abs=0)
    for k in ("mass", "energy", "margin", "lyapunov", "mass_transient"):
        assert par[k] == pytest.approx(serial[k], rel=1e-10, abs=0), k
    for k in ("I_charge", "n0", "Q", "n_bohm", "I_spin", "n_fixed", "n_adaptive", "I_spin_eps0", "n0_transient"):
        ref = np.array(serial[k], dtype=float)
        assert np.all(np.isfinite(ref)) and np.abs(ref).max() > 0, k
        assert np.allclose(par[k], ref, rtol=0, atol=1e-10 * np.abs(ref).max()), (k, par[k], serial[k])
