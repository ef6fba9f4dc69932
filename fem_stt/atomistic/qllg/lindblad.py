r"""The Lindblad master equation for the same cluster, for comparison with q-LLG (needs QuTiP >= 5).

    drho/dt = -(i/hbar) [H, rho] + sum_k (L_k rho L_k^H - {L_k^H L_k, rho}/2)

(Lindblad, Commun. Math. Phys. 48, 119 (1976); Breuer & Petruccione, ref. 15 of seed 004), solved by
QuTiP's ``mesolve`` (Johansson, Nation & Nori, Comput. Phys. Commun. 184, 1234 (2013)). QuTiP is
imported here only, when :func:`lindblad` is called: the q-LLG core never needs it.

Default jump operators relax each spin towards its Zeeman field (the q-LLG fixed point of a single
spin): L_k = sqrt(Gamma_k) (u.s_k + i v.s_k) with (u, v, b_k) a right-handed frame around the field
direction b_k, i.e. the raising operator along b_k. The rate is matched to the transverse relaxation
rate of LLG (eq. 2) near equilibrium, lambda = alpha gamma_g |B_k| / (1 + alpha^2) with alpha = kappa:
a spin 1/2 under amplitude damping relaxes its transverse Bloch components at Gamma/2, so
Gamma_k = 2 kappa gamma_g |B_k| / (1 + kappa^2) [1/s].

Unlike q-LLG (isospectral, purity conserved exactly), Lindblad dynamics change the spectrum: purity
and entropy evolve.
"""
from __future__ import annotations

import time
from typing import Callable, Dict, Optional, Sequence

import numpy as np

from ...constants import HBAR
from ...errors import ParameterError, SolverError
from .equation import check_density_matrix
from .hamiltonian import Hamiltonian, Zeeman, check_hermitian
from .integrators import STORE_MAX_N, Trajectory, _Recorder, check_times
from .units import PAPER, ReducedUnits


def field_relaxation_operators(hamiltonian: Hamiltonian, kappa: float):
    """The default jump operators of the module docstring: a list of dense (n, n) arrays [s^-1/2]."""
    if hamiltonian.time_dependent:
        raise ParameterError("hamiltonian", "the default jump operators need constant fields; pass c_ops")
    cl = hamiltonian.cluster
    fields = np.zeros((cl.N, 3))
    for term in hamiltonian.terms:
        if isinstance(term, Zeeman):
            fields[term.site] += term.B(0.0)
    ops = []
    for k in range(cl.N):
        Bk = np.linalg.norm(fields[k])
        if Bk == 0:
            raise ParameterError("c_ops", f"site {k} has no Zeeman field: give the jump operators explicitly")
        b = fields[k] / Bk
        u = np.cross(b, [1.0, 0, 0] if abs(b[0]) < 0.9 else [0, 1.0, 0])
        u /= np.linalg.norm(u)
        v = np.cross(b, u)
        s = [o.toarray() for o in cl.spin_operators(k)]
        raising = sum(u[a] * s[a] for a in range(3)) + 1j * sum(v[a] * s[a] for a in range(3))
        gamma = 2 * kappa * hamiltonian.gamma_g * Bk / (1 + kappa ** 2)
        ops.append(np.sqrt(gamma) * raising)
    return ops


def lindblad(hamiltonian, rho0, t_eval, kappa: float = 0.5, c_ops: Optional[Sequence] = None,
             observe: Optional[Dict[str, Callable]] = None, units: ReducedUnits = PAPER,
             rtol: float = 1e-10, atol: float = 1e-12, store_states: Optional[bool] = None) -> Trajectory:
    """Solve the Lindblad equation with QuTiP ``mesolve`` from rho0 at t_eval[0]; outputs at t_eval [s].

    Parameters
    ----------
    hamiltonian : Hamiltonian (time-independent) or Hermitian (n, n) array [J].
    rho0 : density matrix (n, n).
    kappa : sets the default rates (module docstring); ignored when ``c_ops`` is given.
    c_ops : jump operators L_k, (n, n) arrays [s^-1/2]; default :func:`field_relaxation_operators`.
    units : QuTiP integrates in t / tau0 with H tau0 / hbar (the conversion of :class:`ReducedUnits`).

    Returns a Trajectory (energy, spectrum, observables as for q-LLG). Raises ParameterError for bad
    input, SolverError if mesolve fails, ImportError (with the install hint) without QuTiP.
    """
    try:
        import qutip
    except ImportError as e:  # pragma: no cover - qutip is a declared dependency
        raise ImportError("the Lindblad comparison needs QuTiP >= 5 (pip install 'qutip>=5')") from e
    if isinstance(hamiltonian, Hamiltonian):
        if hamiltonian.time_dependent:
            raise ParameterError("hamiltonian", "the Lindblad comparison supports time-independent H only")
        H = hamiltonian.dense()
    else:
        H = check_hermitian("hamiltonian", hamiltonian)
    n = H.shape[0]
    rho0 = check_density_matrix(rho0, n, "rho0")
    t = check_times(t_eval)
    if c_ops is None:
        if not isinstance(hamiltonian, Hamiltonian):
            raise ParameterError("c_ops", "give the jump operators for a bare matrix Hamiltonian")
        from .equation import check_kappa
        c_ops = field_relaxation_operators(hamiltonian, check_kappa(kappa))
    ops = []
    for k, L in enumerate(c_ops):
        L = np.asarray(L, dtype=complex)
        if L.shape != (n, n) or not np.all(np.isfinite(L)):
            raise ParameterError(f"c_ops[{k}]", f"must be a finite ({n}, {n}) matrix")
        ops.append(L)
    tau = units.time_unit
    dims = [[n], [n]]
    Hq = qutip.Qobj(H * tau / HBAR, dims=dims)
    cq = [qutip.Qobj(L * np.sqrt(tau), dims=dims) for L in ops]
    store = n <= STORE_MAX_N if store_states is None else bool(store_states)
    traj = Trajectory(t)
    rec = _Recorder(traj, n, lambda r, tt: float(np.real(np.sum(r * H.T))), observe, store, False)
    t0 = time.perf_counter()
    try:
        res = qutip.mesolve(Hq, qutip.Qobj(rho0, dims=dims), (t - t[0]) / tau, c_ops=cq,
                            options={"rtol": rtol, "atol": atol, "store_states": True, "nsteps": 10 ** 6})
    except Exception as e:  # QuTiP raises several kinds (IntegratorException, RuntimeError)
        raise SolverError(f"QuTiP mesolve failed: {e}") from e
    for k, st in enumerate(res.states):
        rec(k, st.full())
    return rec.finish(time.perf_counter() - t0, method="qutip.mesolve", qutip_version=qutip.__version__,
                      n=n, jump_operators=len(ops))
