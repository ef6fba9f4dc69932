"""Initial magnetization textures."""
from __future__ import annotations

import numpy as np

from ..errors import ParameterError, require_positive


def random_magnetization(seed: int = 0, correlation_length: float = 10e-9, modes: int = 24):
    """A random, smooth texture m(x) as a callable x (3, n) [m] -> (3, n) (not normalized).

    Each component is a sum of ``modes`` plane waves cos(k.x + phase) with random directions,
    |k| = 2 pi / ``correlation_length`` and random phases, drawn from ``numpy.random.default_rng(seed)``.
    It depends only on the coordinates, so it is the same on any number of MPI ranks and
    on any mesh of the same geometry. The LLG normalizes it (zero vectors have probability 0).

    Raises ParameterError for correlation_length <= 0 or modes < 1.
    """
    require_positive("correlation_length", correlation_length, "m")
    if int(modes) < 1:
        raise ParameterError("modes", f"must be >= 1, got {modes!r}")
    rng = np.random.default_rng(int(seed))
    k = rng.normal(size=(3, modes, 3))
    k *= (2 * np.pi / correlation_length) / np.linalg.norm(k, axis=2)[:, :, None]
    phase = rng.uniform(0, 2 * np.pi, size=(3, modes))

    def m0(x):
        x = np.asarray(x, dtype=float)
        return np.stack([np.cos(k[c] @ x + phase[c][:, None]).sum(axis=0) for c in range(3)])
    return m0
