"""Helpers shared by the core-engine tests: a numerical gradient written here, independent of
the library, and small deterministic data."""
from __future__ import annotations

import numpy as np
import pytest
from numeric import numerical_gradient  # noqa: F401  (tests/numeric.py, shared)


def assert_grad_close(analytic, numeric, rtol=1e-5, atol=1e-7, what="gradient"):
    analytic = np.asarray(analytic, dtype=np.float64)
    assert analytic.shape == numeric.shape, f"{what}: shape {analytic.shape} != {numeric.shape}"
    err = np.max(np.abs(analytic - numeric) / (atol + rtol * np.abs(numeric) + 1e-12)) \
        if analytic.size else 0.0
    np.testing.assert_allclose(analytic, numeric, rtol=rtol, atol=atol,
                               err_msg=f"{what} disagrees with central differences (err {err:.3g})")


@pytest.fixture
def numgrad():
    return numerical_gradient


@pytest.fixture
def gradclose():
    return assert_grad_close


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
