"""Exceptions raised by fem_stt for bad input.

Every check names the offending parameter and the allowed range, and runs before any
expensive work (meshing, assembly, solving) starts.
"""


class ParameterError(ValueError):
    """A user-supplied parameter is outside its allowed range.

    Attributes
    ----------
    parameter : str
        Dotted name of the parameter, e.g. ``"layers[1].thickness"``.
    """

    def __init__(self, parameter: str, message: str):
        self.parameter = parameter
        super().__init__(f"{parameter}: {message}")


class MeshError(ValueError):
    """A mesh (built or read from a ``.msh`` file) lacks something a solver needs."""


class SolverError(RuntimeError):
    """A PETSc solve did not converge; the message carries the KSP reason."""


def require_positive(name: str, value, unit: str = "") -> float:
    """Return ``float(value)`` or raise :class:`ParameterError` unless ``0 < value < inf``."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ParameterError(name, f"must be a positive number{(' in ' + unit) if unit else ''}, got {value!r}") from None
    if not (v > 0.0 and v < float("inf")):
        raise ParameterError(name, f"must be > 0{(' ' + unit) if unit else ''} and finite, got {value!r}")
    return v


def require_nonnegative(name: str, value, unit: str = "") -> float:
    """Return ``float(value)`` or raise :class:`ParameterError` unless ``0 <= value < inf``."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ParameterError(name, f"must be a number >= 0{(' in ' + unit) if unit else ''}, got {value!r}") from None
    if not (v >= 0.0 and v < float("inf")):
        raise ParameterError(name, f"must be >= 0{(' ' + unit) if unit else ''} and finite, got {value!r}")
    return v


def vector_of_time(name: str, value, unit: str):
    """Validate a constant 3-vector or a function t -> 3-vector (a field, a current density).

    Returns a function t [s] -> ndarray (3,) that checks what a user function returns
    (ParameterError naming ``name`` if it is not 3 finite numbers). A constant is checked here.
    """
    import numpy as np
    if callable(value):
        def checked(t, f=value):
            v = np.asarray(f(t), dtype=float)
            if v.shape != (3,) or not np.all(np.isfinite(v)):
                raise ParameterError(name, f"{name}({t}) must return 3 finite numbers [{unit}], got {v!r}")
            return v
        return checked
    v = np.asarray(value, dtype=float) if not isinstance(value, str) else np.array([np.nan])
    if v.shape != (3,) or not np.all(np.isfinite(v)):
        raise ParameterError(name, f"must be 3 finite numbers [{unit}] or a function t -> 3 numbers, got {value!r}")
    return lambda t, v=v: v
