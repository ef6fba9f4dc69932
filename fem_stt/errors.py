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
