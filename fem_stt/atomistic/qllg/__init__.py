"""Quantum Landau-Lifshitz-Gilbert (q-LLG) dynamics of spin clusters (seed 004).

Liu et al., "Quantum Analog of Landau-Lifshitz-Gilbert Dynamics", PRL 133, 266704 (2024), eq. 3:

    drho/dt = (i/hbar) [rho, H] + i kappa [rho, drho/dt]

for the density matrix rho of N spins (H [J], t [s], kappa >= 0 dimensionless); model spec
``../shared/models/qllg.md``. numpy/scipy only at the core (QuTiP only for the Lindblad comparison).
"""
from .equation import dissipation_rate, passive_state, rhs, rhs_kronecker
from .hamiltonian import Hamiltonian, chain_hamiltonian, dimer_hamiltonian
from .integrators import PureStateQLLG, QLLG, Trajectory
from .spins import SpinCluster, bell_state, bloch_state, projector, single_spin_state, spin_matrices, werner_state
from .units import PAPER, ReducedUnits

__all__ = ["Hamiltonian", "PAPER", "PureStateQLLG", "QLLG", "ReducedUnits", "SpinCluster", "Trajectory",
           "bell_state", "bloch_state", "chain_hamiltonian", "dimer_hamiltonian", "dissipation_rate",
           "passive_state", "projector", "rhs", "rhs_kronecker", "single_spin_state", "spin_matrices",
           "werner_state"]
