"""Quantum Landau-Lifshitz-Gilbert (q-LLG) dynamics of spin clusters (seed 004).

Liu et al., "Quantum Analog of Landau-Lifshitz-Gilbert Dynamics", PRL 133, 266704 (2024), eq. 3:

    drho/dt = (i/hbar) [rho, H] + i kappa [rho, drho/dt]

for the density matrix rho of N spins (H [J], t [s], kappa >= 0 dimensionless); model spec
``../shared/models/qllg.md``. numpy/scipy only at the core (QuTiP only for the Lindblad comparison).

- :mod:`.units`: the paper's reduced units (hbar = gamma_g = B0 = 1) and SI, converted in one place;
- :mod:`.spins`: spin-s operators of N-site clusters, product, Bell and Werner states (eqs. 4, 9);
- :mod:`.hamiltonian`: H from named terms (Zeeman B(t), exchange, DMI, anisotropy, matrix; eq. 10);
- :mod:`.equation`: drho/dt of eq. 3 (and q-LL) in rho's eigenbasis, the Kronecker reference, the
  dissipation rate and the passive state;
- :mod:`.integrators`: DOP853, isospectral RKMK4, pure/Werner closed forms, pure-state Krylov;
- :mod:`.observables`: Bloch vectors, T_kl, concurrence, Bell nonlocality, entropies, event finders;
- :mod:`.classical`: atomistic LLG for the same terms (exchange conventions Jc = J and 2J), deviations;
- :mod:`.lindblad`: the Lindblad equation by QuTiP ``mesolve`` (imported there only);
- :mod:`.paper`: the dimer cases of Figs. 1-4 and the chain study; :mod:`.case`: ``model = "qllg"`` case files.
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
