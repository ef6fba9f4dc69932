r"""Mixed states {lambda_j, psi_j} on the ball and their initial data (seed 000, eqs. 1.3, 2.45, 3.10).

- :func:`ball_eigenpairs`: the lowest Dirichlet eigenpairs -Lap theta = mu theta of B_R
  (discrete: K theta = mu M theta, SLEPc shift-and-invert around 0, M-normalized).
  For the continuum ball mu_1 = (pi / R)^2 (theta_1 = sin(pi r/R)/r).
- :meth:`MixedState.from_eigenstates`: psi_j = theta_{n_j} chi_j with spinors chi_j.
- :meth:`MixedState.wave_packets`: semiclassical packets
  A(x) exp(i k.x / eps) chi with a Gaussian envelope A, Gram-Schmidt orthonormalized.
- :meth:`MixedState.from_functions`: any callables, checked (or made) orthonormal.

Occupations lambda_j >= 0 (seed eq. 1.3); the initial orbitals must be orthonormal in
L2(B_R) (the initial density matrix of eq. 3.10 has eigenpairs (lambda_j, phi_j)).
"""
from __future__ import annotations

from typing import Callable, List, Sequence

import dolfinx.fem
import dolfinx.fem.petsc
import numpy as np
import ufl

from .. import _compat
from ..errors import ParameterError, SolverError
from .space import QuantumSpace, spinor

ORTHONORMAL_TOL = 1e-8


def ball_eigenpairs(space: QuantumSpace, n: int, tol: float = 1e-12):
    """The ``n`` lowest Dirichlet eigenpairs of -Lap on the ball (SLEPc).

    Returns (mu, thetas): mu shape (n,) ascending [1/length^2]; thetas a list of scalar P1
    Functions with ||theta||_{L2} = 1 (exact P1 mass) and theta = 0 on and outside the sphere.
    Raises ParameterError (n < 1) or SolverError (fewer than n converged).
    """
    from slepc4py import SLEPc
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ParameterError("n", f"must be an integer >= 1, got {n!r}")
    V = space.V1
    u, v = ufl.TrialFunction(V), ufl.TestFunction(V)
    a = space.with_diagonal(ufl.inner(ufl.grad(u), ufl.grad(v)) * space.dx, u, v)
    m = space.with_diagonal(u * v * space.dx, u, v)
    K = _compat.assemble_matrix(_compat.form(a), bcs=[space.bc1])             # 1 on Dirichlet rows
    M = dolfinx.fem.petsc.assemble_matrix(_compat.form(m), bcs=[space.bc1], diagonal=0.0)  # 0 there: mu = inf
    M.assemble()
    eps = SLEPc.EPS().create(space.comm)
    eps.setOperators(K, M)
    eps.setProblemType(SLEPc.EPS.ProblemType.GHEP)
    eps.setDimensions(n, max(2 * n + 1, n + 15))
    eps.setTolerances(tol, 500)
    st = eps.getST()
    st.setType(SLEPc.ST.Type.SINVERT)
    st.setShift(0.0)
    ksp = st.getKSP()
    ksp.setType("preonly")
    pc = ksp.getPC()
    pc.setType("lu")
    pc.setFactorSolverType("mumps")
    eps.setWhichEigenpairs(SLEPc.EPS.Which.TARGET_REAL)
    eps.setTarget(0.0)
    eps.solve()
    nconv = eps.getConverged()
    if nconv < n:
        raise SolverError(f"SLEPc found {nconv} of the {n} requested eigenpairs")
    pairs = []
    xr = K.createVecRight()
    for i in range(nconv):
        lam = eps.getEigenpair(i, xr).real
        pairs.append((lam, xr.copy()))
    pairs.sort(key=lambda p: p[0])
    mus, thetas = [], []
    for lam, vec in pairs[:n]:
        f = dolfinx.fem.Function(V, name="theta")
        f.vector.array[:] = vec.array
        f.x.scatter_forward()
        f.x.array[space.outside] = 0.0
        Mv = M.createVecLeft()
        M.mult(f.vector, Mv)
        nrm2 = f.vector.dot(Mv)
        f.x.array[:] /= np.sqrt(nrm2)
        mus.append(lam)
        thetas.append(f)
    return np.array(mus), thetas


class MixedState:
    """Orbitals psi_j (four-component P1 Functions on ``space.V4``) with occupations lambda_j.

    Parameters
    ----------
    space : QuantumSpace
    orbitals : list of Functions on space.V4 (layout Re psi_+, Re psi_-, Im psi_+, Im psi_-)
    occupations : lambda_j >= 0, one per orbital, not all zero
    check_orthonormal : raise if the Gram matrix differs from I by more than 1e-8

    Raises
    ------
    ParameterError naming ``occupations`` (negative, non-finite, wrong length, all zero) or
    ``orbitals`` (not orthonormal in L2(B_R); the message gives the worst entry).
    """

    def __init__(self, space: QuantumSpace, orbitals: Sequence, occupations: Sequence[float],
                 check_orthonormal: bool = True):
        self.space = space
        occ = np.asarray(occupations, dtype=float).ravel()
        if len(orbitals) == 0:
            raise ParameterError("orbitals", "must contain at least one orbital")
        if occ.shape != (len(orbitals),):
            raise ParameterError("occupations", f"must have one value per orbital ({len(orbitals)}), got {len(occ)}")
        if not np.all(np.isfinite(occ)) or np.any(occ < 0):
            raise ParameterError("occupations", f"must be finite and >= 0 (seed 000 eq. 1.3), got {list(occ)}")
        if not occ.sum() > 0:
            raise ParameterError("occupations", "must not all be zero (no electrons)")
        self.occupations = occ
        self.orbitals = list(orbitals)
        if check_orthonormal:
            G = space.gram(self.orbitals)
            err = np.abs(G - np.eye(len(G)))
            worst = float(err.max())
            if worst > ORTHONORMAL_TOL:
                i, j = np.unravel_index(int(np.argmax(err)), err.shape)
                raise ParameterError("orbitals", f"the initial states must be orthonormal in L2(B_R): "
                                                 f"<psi_{i}, psi_{j}> = {G[i, j]:.6g} (|G - I| = {worst:.3g} > "
                                                 f"{ORTHONORMAL_TOL:g}); orthonormalize them (e.g. "
                                                 f"MixedState.from_functions(..., orthonormalize=True))")

    @property
    def mass(self) -> float:
        """Total mass sum_j lambda_j ||psi_j||^2 (seed eq. 3.12)."""
        return float(np.dot(self.occupations, self.space.norms2(self.orbitals)))

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_eigenstates(cls, space: QuantumSpace, levels: Sequence[int], spins: Sequence, occupations: Sequence[float]):
        """psi_j = theta_{levels[j]} chi(spins[j]) with the Dirichlet eigenfunctions of the ball.

        ``levels`` are 0-based indices into the ascending eigenvalues; ``spins`` entries are
        'up', 'down' or 3-vectors (see :func:`fem_stt.quantum.space.spinor`). Two orbitals with
        the same level must have orthogonal spins (checked). Returns the state; its attribute
        ``energies`` holds mu_{levels[j]} (kinetic energy = eps^2/2 mu).
        """
        levels = [int(k) for k in levels]
        if len(spins) != len(levels):
            raise ParameterError("spins", f"must have one entry per level ({len(levels)})")
        if any(k < 0 for k in levels):
            raise ParameterError("levels", f"must be >= 0, got {levels}")
        mus, thetas = ball_eigenpairs(space, max(levels) + 1)
        orbitals = []
        for k, sp in zip(levels, spins):
            chi = spinor(sp)
            f = space.new_orbital()
            th = thetas[k].x.array[: space.n_local]
            space.set_orbital(f, th[:, None] * chi[None, :])
            orbitals.append(f)
        state = cls(space, orbitals, occupations)
        state.levels = levels
        state.energies = mus[levels]
        state.eigenvalues = mus
        return state

    @classmethod
    def from_functions(cls, space: QuantumSpace, functions: Sequence[Callable], occupations: Sequence[float],
                       orthonormalize: bool = False):
        """Orbitals from callables x -> complex (2, n) array (x has shape (3, n)).

        The values are taken at the vertices and set to 0 on and outside the sphere. With
        ``orthonormalize`` the orbitals are made orthonormal by Gram-Schmidt in L2(B_R) (in
        the given order); otherwise they must already be orthonormal (checked).
        """
        x = space.vertex_coordinates().T.copy()
        orbitals = []
        for i, fn in enumerate(functions):
            vals = np.asarray(fn(x))
            if vals.shape != (2, x.shape[1]):
                raise ParameterError(f"functions[{i}]", f"must return a complex array of shape (2, n), got {vals.shape}")
            if not np.all(np.isfinite(vals)):
                raise ParameterError(f"functions[{i}]", "returned non-finite values")
            f = space.new_orbital()
            space.set_orbital(f, vals.T.astype(complex))
            orbitals.append(f)
        if orthonormalize:
            gram_schmidt(space, orbitals)
        return cls(space, orbitals, occupations)

    @classmethod
    def wave_packets(cls, space: QuantumSpace, eps: float, centers, widths, wavevectors, spins, occupations):
        """Semiclassical wave packets exp(-|x - x0|^2 / (2 w^2)) exp(i k.x / eps) chi, orthonormalized.

        ``centers`` (n, 3), ``widths`` (n,), ``wavevectors`` (n, 3) (velocity k, independent of
        eps), ``spins`` (n entries). The envelope must be small on the sphere (the Dirichlet
        condition cuts it). The macroscopic data rho_0 = sum lambda |A|^2 and the velocity k
        do not depend on eps.
        """
        from ..errors import require_positive
        eps = require_positive("eps", eps)
        centers = np.atleast_2d(np.asarray(centers, dtype=float))
        wavevectors = np.atleast_2d(np.asarray(wavevectors, dtype=float))
        widths = np.atleast_1d(np.asarray(widths, dtype=float))
        n = len(centers)
        if wavevectors.shape != (n, 3) or centers.shape != (n, 3):
            raise ParameterError("wavevectors", f"centers and wavevectors must have shape ({n}, 3)")
        if widths.shape != (n,) or np.any(~(widths > 0)):
            raise ParameterError("widths", f"must be {n} positive numbers, got {widths}")
        if len(spins) != n:
            raise ParameterError("spins", f"must have {n} entries")
        fns = []
        for x0, w, k, sp in zip(centers, widths, wavevectors, spins):
            chi = spinor(sp)

            def fn(x, x0=x0, w=w, k=k, chi=chi):
                r2 = np.sum((x - x0[:, None]) ** 2, axis=0)
                amp = np.exp(-r2 / (2 * w * w)) * np.exp(1j * (k @ x) / eps)
                return chi[:, None] * amp[None, :]
            fns.append(fn)
        return cls.from_functions(space, fns, occupations, orthonormalize=True)


def gram_schmidt(space: QuantumSpace, orbitals: List):
    """Orthonormalize orbitals in place (modified Gram-Schmidt, complex L2(B_R) inner product)."""
    for i, f in enumerate(orbitals):
        for _ in range(2):  # twice is enough (Giraud et al. 2005)
            for g in orbitals[:i]:
                c = space.gram([g, f])[0, 1]  # <g, f>
                a, b = f.x.array.reshape(-1, 4), g.x.array.reshape(-1, 4)
                gr, gi = b[:, :2].copy(), b[:, 2:].copy()
                # f <- f - c g with complex c = cr + i ci
                a[:, :2] -= c.real * gr - c.imag * gi
                a[:, 2:] -= c.real * gi + c.imag * gr
        nrm = np.sqrt(space.norms2([f])[0])
        if not nrm > 1e-12:
            raise ParameterError("functions", f"orbital {i} is (numerically) a combination of the previous ones")
        f.x.array[:] /= nrm
