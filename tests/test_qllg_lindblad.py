"""Lindblad comparison (QuTiP mesolve): the wrapper's units against amplitude damping in closed form, and
purity decaying under Lindblad while q-LLG keeps it (seed 004's contrast with open-system dynamics)."""
import subprocess
import sys

import numpy as np
import pytest

from fem_stt.atomistic.qllg import PAPER, QLLG, Hamiltonian, SpinCluster, bloch_state, dimer_hamiltonian, projector
from fem_stt.atomistic.qllg.observables import bloch_vectors, purity
from fem_stt.errors import ParameterError

pytest.importorskip("qutip")
from fem_stt.atomistic.qllg.lindblad import lindblad  # noqa: E402

KAPPA = 0.5
TAU = PAPER.time_unit


def test_single_spin_amplitude_damping_closed_form():
    """c = sqrt(Gamma) sigma_+ along B = B x: r_x = 1 - (1 - r_x0) e^{-Gamma t}, Gamma = 2 kappa gamma B/(1+kappa^2)."""
    B = 0.8
    H = Hamiltonian(SpinCluster([0.5])).zeeman((B, 0, 0))
    t = np.linspace(0, 5 * TAU, 51)
    tr = lindblad(H, bloch_state([0, 0, 1]), t, kappa=KAPPA, observe={"r": lambda s, tt: bloch_vectors(s, [0.5])[0]})
    G = 2 * KAPPA * PAPER.gamma_g * B / (1 + KAPPA ** 2)
    assert np.abs(tr.observables["r"][:, 0] - (1 - np.exp(-G * t))).max() < 1e-7
    # transverse part: precession at gamma B, decay at Gamma/2 (r_z(0) = 1)
    rz = np.exp(-G * t / 2) * np.cos(PAPER.gamma_g * B * t)
    assert np.abs(tr.observables["r"][:, 2] - rz).max() < 1e-7


def test_purity_decays_under_lindblad_but_not_under_qllg():
    H = dimer_hamiltonian(1.0, 0.0)
    rho0 = projector(H.cluster.basis_state("ud"))
    t = np.linspace(0, 8 * TAU, 161)
    obs = {"P": lambda s, tt: purity(s)}
    q = QLLG(H, KAPPA).solve(rho0, t, observe=obs)
    L = lindblad(H, rho0, t, kappa=KAPPA, observe=obs)
    assert np.ptp(q.observables["P"]) < 1e-10
    assert L.observables["P"].min() < 0.8
    assert L.stats["trace_error"] < 1e-8


def test_lindblad_bad_input_and_lazy_import():
    H = Hamiltonian(SpinCluster([0.5, 0.5])).exchange(0, 1, 1e-23)  # no field: no default jump operators
    with pytest.raises(ParameterError, match="c_ops"):
        lindblad(H, np.eye(4) / 4, [0, 1e-12])
    with pytest.raises(ParameterError, match="c_ops"):
        lindblad(dimer_hamiltonian(1.0), np.eye(4) / 4, [0, 1e-12], c_ops=[np.eye(3)])
    code = ("import sys, numpy as np; from fem_stt.atomistic.qllg import QLLG, dimer_hamiltonian;"
            "QLLG(dimer_hamiltonian(1.0), 0.5).solve(np.eye(4) / 4, [0, 1e-11]);"
            "assert 'qutip' not in sys.modules, 'core imported qutip'")
    subprocess.run([sys.executable, "-c", code], check=True)
