r"""Finite-element spaces, units and spinor helpers of the Schrödinger-Poisson(-LLG) solver.

Units. The quantum module works in the dimensionless units of seed 000 (eqs. 1.1-1.9):
lengths, times and fields are scaled, eps is the renormalized Planck constant, the LLG
reads dm/dt = -m x H + alpha m x dm/dt with H = Lap m - w'(m) + H_s + (eps/2) s.
The project's SI LLG integrator solves exactly this equation with the material of
:func:`scaled_material` (Ms = 1, A = mu0/2, gamma0 = 1, K1 = mu0 kappa): then
2A/(mu0 Ms) = 1, gamma0 H = H, and every SI energy [J] is mu0 times the scaled energy.

Discretization. Each spinor orbital psi = (psi_+, psi_-) is one P1 function with four
real components (Re psi_+, Re psi_-, Im psi_+, Im psi_-) on the whole mesh; the rows of
the vertices outside the open ball B_R (the sphere |x| = R and the stray-field shell)
are Dirichlet rows, psi = 0 (seed 000 eq. 2.45). Real PETSc is enough.
"""
from __future__ import annotations

import math
from typing import Iterable, Optional, Sequence, Union

import dolfinx
import dolfinx.fem
import numpy as np
import ufl
from mpi4py import MPI
from petsc4py import PETSc

from .. import _compat
from ..constants import MU0
from ..errors import MeshError, ParameterError
from ..geometry.shapes import SHELL
from ..llg.field import _lumped
from ..materials import Material

#: quadrature degree of every form with a product of three P1 functions (V psi phi, m psi phi,
#: rho phi, s.m): exact, so that the discrete Poisson, Schrödinger and LLG terms are each
#: other's variational derivatives and the discrete energy law holds (see schrodinger.py)
QUAD = {"quadrature_degree": 3}


def scaled_material(alpha: float = 0.1, K1: float = 0.0, K1_axis=(1.0, 0.0, 0.0), Kc1: float = 0.0,
                    Kc_axes=((1.0, 0.0, 0.0), (0.0, 1.0, 0.0)), name: str = "scaled") -> Material:
    """Material that makes the SI LLG integrator solve the scaled LLG of seed 000 (eqs. 1.6-1.11).

    Parameters
    ----------
    alpha : Gilbert damping (>= 0).
    K1 : uniaxial anisotropy, w = K1 (1 - (m.u)^2) (seed eq. 1.10 is K1 = 1, u = e1).
    Kc1 : cubic anisotropy, w = Kc1 (m1^2 m2^2 + m2^2 m3^2 + m3^2 m1^2) (seed eq. 1.11 is Kc1 = 1).

    Returns a :class:`Material` with Ms = 1, A = mu0/2, gamma0 = 1, K1 -> mu0 K1, Kc1 -> mu0 Kc1.
    Raises ParameterError (via Material) for alpha < 0 or non-finite values.
    """
    return Material(name, Ms=1.0, A=MU0 / 2.0, alpha=alpha, gamma0=1.0, K1=MU0 * float(K1), K1_axis=K1_axis,
                    Kc1=MU0 * float(Kc1), Kc_axes=Kc_axes)


def spinor(spin: Union[str, Sequence[float]]) -> np.ndarray:
    """Unit spinor chi (complex, shape (2,)) with chi^H sigma chi = n.

    ``spin`` is ``"up"`` (n = +z), ``"down"`` (n = -z) or a non-zero 3-vector n
    (normalized). Raises ParameterError otherwise.
    """
    if isinstance(spin, str):
        if spin == "up":
            return np.array([1.0 + 0j, 0.0 + 0j])
        if spin == "down":
            return np.array([0.0 + 0j, 1.0 + 0j])
        raise ParameterError("spin", f"must be 'up', 'down' or a 3-vector, got {spin!r}")
    n = np.asarray(spin, dtype=float)
    if n.shape != (3,) or not np.all(np.isfinite(n)) or not np.linalg.norm(n) > 0:
        raise ParameterError("spin", f"must be 'up', 'down' or a non-zero 3-vector, got {spin!r}")
    n = n / np.linalg.norm(n)
    theta = math.acos(max(-1.0, min(1.0, n[2])))
    phi = math.atan2(n[1], n[0])
    return np.array([math.cos(theta / 2), np.exp(1j * phi) * math.sin(theta / 2)])


def re(psi):
    """UFL real part (2-vector) of a four-component orbital."""
    return ufl.as_vector([psi[0], psi[1]])


def im(psi):
    """UFL imaginary part (2-vector) of a four-component orbital."""
    return ufl.as_vector([psi[2], psi[3]])


def spin_density_ufl(psi):
    """s = psi^H sigma psi (seed eq. 1.3c, one orbital) as a UFL 3-vector."""
    a, b = re(psi), im(psi)
    return ufl.as_vector([2.0 * (a[0] * a[1] + b[0] * b[1]),
                          2.0 * (a[0] * b[1] - b[0] * a[1]),
                          a[0] ** 2 + b[0] ** 2 - a[1] ** 2 - b[1] ** 2])


def current_density_ufl(psi, eps):
    """j = eps Im(psi^H grad psi) (seed eq. 1.3b, one orbital) as a UFL 3-vector."""
    a, b = re(psi), im(psi)
    return eps * sum(a[c] * ufl.grad(b[c]) - b[c] * ufl.grad(a[c]) for c in range(2))


def spin_current_ufl(psi, eps):
    """J_s[alpha, k] = eps Im(psi^H sigma_alpha d_k psi) (seed eq. 1.3d, one orbital), UFL 3x3."""
    a, b = re(psi), im(psi)
    g = ufl.grad
    J1 = a[0] * g(b[1]) - b[0] * g(a[1]) + a[1] * g(b[0]) - b[1] * g(a[0])
    J2 = -(a[0] * g(a[1]) + b[0] * g(b[1])) + (a[1] * g(a[0]) + b[1] * g(b[0]))
    J3 = (a[0] * g(b[0]) - b[0] * g(a[0])) - (a[1] * g(b[1]) - b[1] * g(a[1]))
    return eps * ufl.as_matrix([[J1[k] for k in range(3)], [J2[k] for k in range(3)], [J3[k] for k in range(3)]])


class QuantumSpace:
    """P1 spaces on the ball B_R of a Domain, its Dirichlet rows, mass matrix and inner products.

    Parameters
    ----------
    domain : fem_stt.domain.Domain
        Built by :class:`fem_stt.geometry.BallGeometry` or a user mesh.
    ball_regions : names of the cell groups forming B_R (default: every group but ``shell``).

    Attributes
    ----------
    V1 : scalar P1 space; V4 : four-component P1 space of the orbitals (same vertex numbering)
    outside : (k,) int32 local vertex indices where psi = 0 (the sphere and beyond)
    dx : measure over B_R with exact quadrature for cubic integrands
    M1 : scalar P1 mass matrix over B_R (PETSc, no boundary rows modified)
    n_owned, n_local : owned and owned + ghost vertices on this rank

    Raises
    ------
    ParameterError if a region is unknown; MeshError if the ball has no interior vertex.
    """

    def __init__(self, domain, ball_regions: Optional[Iterable[str]] = None):
        self.domain = domain
        self.comm = domain.comm
        if ball_regions is None:
            ball_regions = [r for r in domain.regions if r != SHELL]
        self.ball_regions = list(ball_regions)
        if not self.ball_regions:
            raise ParameterError("ball_regions", "must name at least one cell group")
        domain.cells(self.ball_regions)  # validates the names
        mesh = domain.mesh
        self.V1 = _compat.function_space(mesh, "CG", 1)
        self.V4 = _compat.function_space(mesh, "CG", 1, shape=(4,))
        im1 = self.V1.dofmap.index_map
        self.n_owned, self.n_local = im1.size_local, im1.size_local + im1.num_ghosts
        others = [r for r in domain.regions if r not in self.ball_regions]
        out = [_compat.locate_dofs_topological(self.V1, 3, domain.cells(others))] if others else []
        out.append(_compat.locate_dofs_topological(self.V1, 2, _compat.exterior_facets(mesh)))
        self.outside = np.unique(np.concatenate(out)).astype(np.int32)
        self.inside = np.ones(self.n_local, dtype=bool)
        self.inside[self.outside] = False
        if not self.comm.allreduce(int(self.inside[: self.n_owned].sum()), op=MPI.SUM):
            raise MeshError("the ball has no interior vertex: refine the mesh")
        self.dx = domain.measure(self.ball_regions, metadata=QUAD)
        self.others = others
        self.bc4 = dolfinx.fem.dirichletbc(dolfinx.fem.Function(self.V4), self.outside)
        self.bc1 = dolfinx.fem.dirichletbc(PETSc.ScalarType(0.0), self.outside, self.V1)
        u, v = ufl.TrialFunction(self.V1), ufl.TestFunction(self.V1)
        self.M1 = _compat.assemble_matrix(_compat.form(self.with_diagonal(u * v * self.dx, u, v)))
        self._w1 = self.M1.createVecRight()
        self._w2 = self.M1.createVecRight()
        self.lumped = _lumped(self.V1, 1.0, self.dx)  # int_B phi_i (owned + ghost)

    def with_diagonal(self, a, u, v):
        """``a`` plus a zero block over the non-ball cells, so every row has a diagonal entry."""
        if not self.others:
            return a
        zero = dolfinx.fem.Constant(self.domain.mesh, PETSc.ScalarType(0.0))
        return a + zero * ufl.inner(u, v) * self.domain.measure(self.others)

    # ------------------------------------------------------------------ orbitals
    def new_orbital(self, name: str = "psi") -> dolfinx.fem.Function:
        return dolfinx.fem.Function(self.V4, name=name)

    def set_orbital(self, f: dolfinx.fem.Function, values: np.ndarray):
        """Set f from complex vertex values (n_local, 2); zeroes the Dirichlet rows."""
        arr = f.x.array.reshape(-1, 4)
        arr[: self.n_local, 0:2] = values.real
        arr[: self.n_local, 2:4] = values.imag
        arr[self.outside] = 0.0
        f.x.scatter_forward()

    def complex_values(self, f) -> np.ndarray:
        """Owned vertex values of an orbital as complex (n_owned, 2)."""
        a = f.x.array.reshape(-1, 4)[: self.n_owned]
        return a[:, 0:2] + 1j * a[:, 2:4]

    def vertex_coordinates(self) -> np.ndarray:
        """(n_local, 3) coordinates of the vertices (dofs of V1)."""
        return self.V1.tabulate_dof_coordinates()[: self.n_local]

    def _component_products(self, f):
        """M1 applied to the four real components of f: (n_owned, 4)."""
        a = f.x.array.reshape(-1, 4)[: self.n_owned]
        out = np.empty_like(a)
        for c in range(4):
            self._w1.array[:] = a[:, c]
            self.M1.mult(self._w1, self._w2)
            out[:, c] = self._w2.array
        return out

    def gram(self, orbitals: Sequence) -> np.ndarray:
        """Complex Gram matrix G[i, j] = <psi_i, psi_j>_{L2(B_R)} (exact P1 mass), global."""
        n = len(orbitals)
        Mf = [self._component_products(f) for f in orbitals]
        vals = [f.x.array.reshape(-1, 4)[: self.n_owned] for f in orbitals]
        G = np.zeros((n, n), dtype=complex)
        for i in range(n):
            for j in range(n):
                a, b = vals[i], Mf[j]
                # conj(a_r + i a_i) . (b_r + i b_i) = a_r.b_r + a_i.b_i + i (a_r.b_i - a_i.b_r)
                G[i, j] = (np.sum(a[:, :2] * b[:, :2]) + np.sum(a[:, 2:] * b[:, 2:])
                           + 1j * (np.sum(a[:, :2] * b[:, 2:]) - np.sum(a[:, 2:] * b[:, :2])))
        out = np.empty_like(G)
        self.comm.Allreduce(np.ascontiguousarray(G), out, op=MPI.SUM)
        return out

    def norms2(self, orbitals: Sequence) -> np.ndarray:
        """||psi_j||^2_{L2(B_R)} for every orbital (global), shape (n,)."""
        loc = np.array([np.sum(f.x.array.reshape(-1, 4)[: self.n_owned] * self._component_products(f))
                        for f in orbitals])
        out = np.empty_like(loc)
        self.comm.Allreduce(loc, out, op=MPI.SUM)
        return out
