"""Coefficient fields of the QDD solvers (potential V, log-density rho) and small UFL helpers.

All in the paper's scaled units. A field may be given as a number, a numpy callable
``f(x) -> values`` (x of shape (3, npts), interpolated into continuous P2), a DOLFINx
Function or a UFL expression (used as is, e.g. of ``ufl.SpatialCoordinate`` for exact
derivatives).
"""
from __future__ import annotations

import numbers

import dolfinx.fem
import numpy as np
import ufl

from ... import _compat
from ...errors import ParameterError


def scalar_field(mesh, value, name: str, degree: int = 2):
    """A UFL expression for a scalar coefficient (see the module docstring)."""
    if isinstance(value, ufl.core.expr.Expr):
        if value.ufl_shape != ():
            raise ParameterError(name, f"must be scalar, got shape {value.ufl_shape}")
        return value
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        if not np.isfinite(value):
            raise ParameterError(name, f"must be finite, got {value!r}")
        return dolfinx.fem.Constant(mesh, float(value))
    if callable(value):
        V = _compat.function_space(mesh, "CG", degree)
        f = dolfinx.fem.Function(V, name=name)
        try:
            f.interpolate(lambda x: np.asarray(value(x), dtype=float) * np.ones(x.shape[1]))
        except Exception as e:
            raise ParameterError(name, f"the function f(x) (x: array (3, npts)) failed: {e}") from None
        loc_ok = bool(np.all(np.isfinite(f.x.array)))
        if not mesh.comm.allreduce(loc_ok, op=__import__("mpi4py").MPI.LAND):
            raise ParameterError(name, "the function returned non-finite values")
        return f
    raise ParameterError(name, f"must be a number, a function of x, a DOLFINx Function or a UFL expression, "
                               f"got {type(value).__name__}")


def d(f, i: int, gdim: int):
    """Partial derivative d f / d x_i, zero for i >= gdim (fields depend on x1 only in 1D)."""
    if isinstance(f, (int, float)):
        return 0.0
    if i < gdim and not isinstance(f, ufl.constantvalue.Zero):
        return f.dx(i)
    return ufl.zero(*f.ufl_shape) if f.ufl_shape else ufl.zero()


#: e_i^perp with grad^perp = sum_i e_i^perp d_i = (d2, -d1, 0) (paper Sec. 1.2)
E_PERP = (ufl.as_vector((0.0, -1.0, 0.0)), ufl.as_vector((1.0, 0.0, 0.0)))
