r"""The dimer cases of seed 004's Figs. 1-4 and the chain study beyond the paper, as reusable runs.

Parameters (Liu et al., PRL 133, 266704 (2024), text and captions; model spec qllg.md, section 1 table),
in the paper's reduced units (hbar = gamma_g = B0 = 1, :data:`~.units.PAPER`: tau0 = 10 ps), kappa = alpha = 0.5:

=======  =========  =================  ==========  =========================================  ==========
figure   J          D (along z)        B direction  rho(0)                                      time axis
=======  =========  =================  ==========  =========================================  ==========
1(a-d)   -1, +1     0, 0.6             x            |up down> (classical m1 = -m2 = z)           0-80 ps
2(a, b)  +1         0, 0.6             x            |up down> (plots T_kl)                      0-60 ps
3        +1         0, 0.2, 0.4, 0.6   x            |Psi+> (caption); Werner(Psi+, 0.9) (data)  0-60 ps
4        -1, +1     0.4                (1,1,1)/√3   Werner p = 0.9 over Phi+-, Psi+-             0-60 ps
=======  =========  =================  ==========  =========================================  ==========

:func:`dimer_observables` are the quantities plotted: Bloch vectors r1, r2, the correlation matrix T,
the concurrence C, M = u1^2 + u2^2, B (with the root, the paper's definition) and B^2 = max(M - 1, 0)
(without it, what the figures plot), the singlet fidelity, purity and von Neumann entropy.
"""
from __future__ import annotations

import dataclasses
from typing import Optional, Sequence

import numpy as np

from ...errors import ParameterError
from .hamiltonian import chain_hamiltonian, dimer_hamiltonian
from .integrators import QLLG, PureStateQLLG, Trajectory
from .observables import (bloch_vectors, concurrence, purity, reduced_density_matrix, two_qubit_observables,
                          von_neumann_entropy)
from .spins import SpinCluster, bell_state, projector, werner_state
from .units import PAPER, ReducedUnits

KAPPA = 0.5  #: kappa = alpha = 0.5 (the paper, text after eq. 10)
B111 = (1 / np.sqrt(3),) * 3


def dimer_observables(spins=(0.5, 0.5)):
    """One callable (state, t) -> dict with r1, r2, T, C, M, B, B2, F_singlet (of the pair (0, 1), see
    :func:`~.observables.two_qubit_observables`), purity and S_vN (of the whole state)."""
    spins = tuple(spins)
    dims = [int(round(2 * s)) + 1 for s in spins]
    if dims[:2] != [2, 2]:
        raise ParameterError("spins", f"sites 0 and 1 must be spins 1/2, got {spins[:2]}")

    def observe(state, t):
        pair = state if len(spins) == 2 and state.ndim == 2 else reduced_density_matrix(state, dims, [0, 1])
        out = two_qubit_observables(pair)
        out.update(purity=purity(state), S_vN=von_neumann_entropy(state))
        return out
    return observe


def initial_state(label: str, cluster: Optional[SpinCluster] = None) -> np.ndarray:
    """rho(0) of a dimer case: 'ud' (a product label of u/d), a Bell name ('Psi+', ...), or
    'werner:<Bell>:<p>' (e.g. 'werner:Psi+:0.9')."""
    cluster = cluster or SpinCluster([0.5, 0.5])
    if label.startswith("werner:"):
        try:
            _, name, p = label.split(":")
            return werner_state(bell_state(name), float(p))
        except ValueError:
            raise ParameterError("initial", f"use 'werner:<Bell name>:<p>', got {label!r}") from None
    if label in ("Phi+", "Phi-", "Psi+", "Psi-"):
        return projector(bell_state(label))
    return projector(cluster.basis_state(label))


@dataclasses.dataclass(frozen=True)
class DimerCase:
    """One curve set of a figure: reduced J, D (along z), field direction, initial-state label, time span [ps]."""
    name: str
    J: float
    D: float
    B: tuple
    initial: str
    t_end_ps: float
    classical: bool = False  # Fig. 1: classical LLG from m1 = -m2 = z

    def hamiltonian(self, units: ReducedUnits = PAPER):
        return dimer_hamiltonian(self.J, self.D, self.B, units)


def figure_cases() -> dict:
    """figure -> list of DimerCase (module docstring table)."""
    x = (1.0, 0.0, 0.0)
    f1 = [DimerCase(f"fig1{c}", J, D, x, "ud", 80.0, True)
          for c, J, D in (("a", -1, 0.0), ("b", 1, 0.0), ("c", -1, 0.6), ("d", 1, 0.6))]
    f2 = [DimerCase(f"fig2{c}", 1, D, x, "ud", 60.0) for c, D in (("a", 0.0), ("b", 0.6))]
    f3 = [DimerCase(f"fig3_{kind}_D{D:g}", 1, D, x, init, 60.0) for kind, init in (("pure", "Psi+"),
                                                                                   ("werner", "werner:Psi+:0.9"))
          for D in (0.0, 0.2, 0.4, 0.6)]
    f4 = [DimerCase(f"fig4_{'AFM' if J > 0 else 'FM'}_{b}", J, 0.4, B111, f"werner:{b}:0.9", 60.0)
          for J in (-1, 1) for b in ("Phi+", "Phi-", "Psi+", "Psi-")]
    return {"fig1": f1, "fig2": f2, "fig3": f3, "fig4": f4}


def run_case(case: DimerCase, n_out: int = 801, method: str = "adaptive", units: ReducedUnits = PAPER,
             kappa: float = KAPPA, **kw) -> Trajectory:
    """q-LLG of one DimerCase at n_out evenly spaced outputs over [0, t_end] with :func:`dimer_observables`."""
    H = case.hamiltonian(units)
    t = np.linspace(0.0, case.t_end_ps * 1e-12, int(n_out))
    return QLLG(H, kappa).solve(initial_state(case.initial, H.cluster), t, method=method,
                                observe=dimer_observables(), **kw)


# ---------------------------------------------------------------------------- chain study
def neel_directions(N: int) -> np.ndarray:
    """+z, -z, +z, ... (N, 3): the chain analogue of the dimer's |up down>."""
    return np.array([[0.0, 0.0, 1.0 if k % 2 == 0 else -1.0] for k in range(N)])


def chain_run(N: int, J: float, D: float, t_end_ps: float = 80.0, n_out: int = 401, B=(1.0, 0.0, 0.0),
              directions: Optional[Sequence] = None, units: ReducedUnits = PAPER, kappa: float = KAPPA,
              dense: bool = False, progress: bool = False):
    """q-LLG of an open spin-1/2 chain from a product of coherent states (default: Néel along z).

    dense=False: pure-state Krylov propagation (:class:`PureStateQLLG`, sparse H);
    dense=True: the density-matrix integrator (DOP853) on rho = |psi><psi|, for cross-checks.
    Returns (Hamiltonian, Trajectory with observable 'r' (N, 3) and 'C01' (the (0, 1) concurrence)).
    """
    H = chain_hamiltonian(N, J, D, B, units)
    dirs = neel_directions(N) if directions is None else np.asarray(directions, dtype=float)
    psi0 = H.cluster.coherent(dirs)
    spins, dims = H.cluster.spins, H.cluster.dims
    obs = {"r": lambda s, t: bloch_vectors(s, spins),
           "C01": lambda s, t: concurrence(reduced_density_matrix(s, dims, [0, 1]))}
    t = np.linspace(0.0, t_end_ps * 1e-12, int(n_out))
    if dense:
        return H, QLLG(H, kappa).solve(np.outer(psi0, psi0.conj()), t, observe=obs, store_states=False,
                                       dense_output=False, progress=progress)
    return H, PureStateQLLG(H, kappa).solve(psi0, t, observe=obs, store_states=False, progress=progress)
