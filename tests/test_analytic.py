"""The closed-form references themselves, against published numbers."""
import numpy as np
import pytest

from fem_stt.analytic import ellipsoid_demag_factors, prism_demag_factors


@pytest.mark.parametrize("dims, ref", [
    ((1, 1, 1), (1 / 3, 1 / 3, 1 / 3)),
    ((1, 1, 0.1), (0.097461, 0.097461, 0.805078)),  # Aharoni 1998, quoted in shared/reference/README.md
    ((1, 1, 2), (None, None, 0.198316)),
    ((500, 125, 3), (0.009180, 0.038176, 0.952644)),
])
def test_aharoni_published_values(dims, ref):
    N = prism_demag_factors(*dims)
    assert abs(N.sum() - 1.0) < 1e-12
    for n, r in zip(N, ref):
        if r is not None:
            assert abs(n - r) < 1e-6


def test_aharoni_is_symmetric_under_permutation():
    N = prism_demag_factors(2.0, 1.0, 0.5)
    assert np.allclose(prism_demag_factors(0.5, 2.0, 1.0), N[[2, 0, 1]], atol=1e-14)


def test_ellipsoid_limits():
    assert np.allclose(ellipsoid_demag_factors(1, 1, 1), 1 / 3, atol=1e-10)
    # prolate spheroid with aspect 2 (Osborn 1945): Nz = 0.173564
    assert abs(ellipsoid_demag_factors(1, 1, 2)[2] - 0.173564) < 1e-6
