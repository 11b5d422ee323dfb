"""The central-difference gradient every gradient-check test compares against: written here,
independent of the library."""
from __future__ import annotations

import numpy as np


def numerical_gradient(f, x, h=1e-6):
    """d f / d x for a scalar function f() of the float64 array x, by central differences.

    x is changed in place and put back, so f may close over arrays that alias x (a layer's
    weight, for instance).
    """
    assert x.dtype == np.float64, "gradient checks run in float64"
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        up = float(f())
        x[i] = old - h
        down = float(f())
        x[i] = old
        grad[i] = (up - down) / (2 * h)
    return grad
