"""Helpers for the image-layer tests: a central-difference gradient check written here,
independent of the library, and the Keras padding rule written out from its definition."""
from __future__ import annotations

import numpy as np
import pytest
from numeric import numerical_gradient  # noqa: F401  (tests/numeric.py, shared)


def check_gradients(layer, x, training=True, seed=0, rtol=1e-5, atol=1e-7):
    """L = Σ R·layer(x): backward's dL/dx and dL/dw (every trainable weight) against central
    differences. Returns the forward output."""
    y = layer(x, training=training)
    r = np.random.default_rng(seed).normal(size=y.shape)
    dx = layer.backward(r.copy())
    grads = {k: np.array(v) for k, v in layer.grads.items()}

    def loss():
        return float((layer.forward(x, training=training) * r).sum())

    np.testing.assert_allclose(dx, numerical_gradient(loss, x), rtol=rtol, atol=atol,
                               err_msg=f"{layer.name}: dL/dx")
    for name in layer._trainable_names:
        np.testing.assert_allclose(grads[name], numerical_gradient(loss, layer._weights[name]),
                                   rtol=rtol, atol=atol, err_msg=f"{layer.name}: dL/d{name}")
    return y


def keras_same_padding(size, kernel, stride, dilation=1):
    """Keras/TF 'same': out = ceil(size/stride), total = max((out−1)·s + k_eff − size, 0),
    top/left = total // 2. Returns (out, before)."""
    k_eff = (kernel - 1) * dilation + 1
    out = -(-size // stride)
    total = max((out - 1) * stride + k_eff - size, 0)
    return out, total // 2


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
