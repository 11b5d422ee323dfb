"""Helpers shared by the core-engine tests: a numerical gradient written here, independent of
the library, and small deterministic data."""
from __future__ import annotations

import numpy as np
import pytest


def numerical_gradient(f, x, h=1e-6):
    """Central differences: d f / d x for a scalar function f of the float64 array x.

    x is changed in place and put back, so f may close over arrays that alias x (a layer's
    weight, for instance).
    """
    assert x.dtype == np.float64, "gradient checks run in float64"
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        up = float(f())
        x[i] = old - h
        down = float(f())
        x[i] = old
        grad[i] = (up - down) / (2 * h)
    return grad


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
