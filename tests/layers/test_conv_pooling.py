"""Pooling layers: forward against a nested-loop reference that skips padded cells, backward
against central differences (float64), max-pooling's tie rule, the 1-D and global forms."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import check_gradients, keras_same_padding

from mitbadak.layers import (AveragePooling1D, AveragePooling2D, AvgPool2D,
                             GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalMaxPooling1D,
                             GlobalMaxPooling2D, MaxPool2D, MaxPooling1D, MaxPooling2D)


def reference_pool2d(x, pool, strides, padding, mode):
    """Each output is the max / mean of the real (unpadded) cells of its window."""
    N, H, W, C = x.shape
    (ph, pw), (sh, sw) = pool, strides
    if padding == "valid":
        (OH, top), (OW, left) = ((H - ph) // sh + 1, 0), ((W - pw) // sw + 1, 0)
    else:
        (OH, top), (OW, left) = keras_same_padding(H, ph, sh), keras_same_padding(W, pw, sw)
    y = np.zeros((N, OH, OW, C))
    for p in range(OH):
        for q in range(OW):
            h0, w0 = p * sh - top, q * sw - left
            cells = x[:, max(h0, 0):min(h0 + ph, H), max(w0, 0):min(w0 + pw, W), :]
            y[:, p, q] = cells.max(axis=(1, 2)) if mode == "max" else cells.mean(axis=(1, 2))
    return y


CASES = [  # (input (H, W, C), pool, strides, padding)
    ((6, 4, 2), (2, 2), None, "valid"),
    ((7, 5, 2), (2, 2), None, "valid"),
    ((7, 5, 2), (2, 2), None, "same"),
    ((7, 5, 3), (3, 3), (2, 2), "same"),
    ((7, 5, 1), (3, 2), (1, 1), "valid"),
    ((7, 6, 2), (2, 3), (3, 2), "same"),
    ((5, 5, 2), (1, 1), (2, 2), "valid"),
]


@pytest.mark.parametrize("layer_cls,mode", [(MaxPooling2D, "max"), (AveragePooling2D, "avg")])
@pytest.mark.parametrize("shape,pool,strides,padding", CASES)
def test_pool2d_forward_and_gradients(layer_cls, mode, shape, pool, strides, padding, rng):
    layer = layer_cls(pool, strides=strides, padding=padding, dtype="float64")
    x = rng.normal(size=(2,) + shape)
    y = check_gradients(layer, x)
    np.testing.assert_allclose(y, reference_pool2d(x, pool, strides or pool, padding, mode),
                               rtol=1e-6, atol=1e-6)
    assert layer.compute_output_shape((None,) + shape) == (None,) + y.shape[1:]


@pytest.mark.parametrize("layer_cls", [MaxPooling2D, AveragePooling2D])
def test_pool2d_channels_first(layer_cls, rng):
    x = rng.normal(size=(2, 7, 5, 3))
    last = layer_cls(3, strides=2, padding="same", dtype="float64")
    first = layer_cls(3, strides=2, padding="same", data_format="channels_first",
                      dtype="float64")
    y = check_gradients(first, x.transpose(0, 3, 1, 2).copy())
    np.testing.assert_allclose(y, last(x).transpose(0, 3, 1, 2), rtol=1e-12)
    assert first.compute_output_shape((None, 3, 7, 5)) == (None, 3, 4, 3)


def test_max_pool_gradient_goes_to_the_first_maximum_of_a_tie():
    # One 2x2 window holding 5 at (0,1) and (1,0): row-major order picks (0,1) only.
    x = np.array([[1.0, 5.0], [5.0, 2.0]]).reshape(1, 2, 2, 1)
    layer = MaxPooling2D(dtype="float64")
    layer(x)
    dx = layer.backward(np.array([[[[3.0]]]]))
    np.testing.assert_array_equal(dx[0, :, :, 0], [[0, 3], [0, 0]])
    # An all-equal window (all zeros after a ReLU) gives its gradient to the top-left cell.
    layer(np.zeros((1, 2, 2, 1)))
    np.testing.assert_array_equal(layer.backward(np.ones((1, 1, 1, 1)))[0, :, :, 0],
                                  [[1, 0], [0, 0]])


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("pool", [(2, 2), (3, 3), (1, 2), (2, 3)])
def test_max_pool_tiles_send_each_gradient_to_the_first_maximum(pool, training, rng):
    # Windows that tile the input (every CNN's 2x2) keep, in training, a code of each
    # window's first maximum instead of the input; with many ties (ReLU zeros, rounded
    # values) the gradient must land where a row-major loop over the window puts it.
    ph, pw = pool
    x = np.maximum(rng.normal(size=(3, 3 * ph, 4 * pw, 2)), 0).round(1)
    layer = MaxPooling2D(pool, dtype="float64")
    layer(x[:1])                                           # builds it
    y = layer.forward(x, training=training)
    dy = rng.normal(size=y.shape)
    expected = np.zeros_like(x)
    for n, p, q, c in np.ndindex(*y.shape):
        window = x[n, p * ph:(p + 1) * ph, q * pw:(q + 1) * pw, c]
        assert y[n, p, q, c] == window.max()
        i, j = divmod(int(np.argmax(window)), pw)          # argmax: the first in row-major
        expected[n, p * ph + i, q * pw + j, c] = dy[n, p, q, c]
    np.testing.assert_array_equal(layer.backward(dy), expected)


def test_max_pool_overlapping_windows_accumulate():
    # 3-wide windows with stride 1 over [0, 9, 0, 0]: 9 is the max of both windows.
    x = np.array([0.0, 9.0, 0.0, 0.0]).reshape(1, 1, 4, 1)
    layer = MaxPooling2D((1, 3), strides=1, dtype="float64")
    np.testing.assert_array_equal(layer(x).ravel(), [9, 9])
    np.testing.assert_array_equal(layer.backward(np.array([1.0, 2.0]).reshape(1, 1, 2, 1)).ravel(),
                                  [0, 3, 0, 0])


def test_same_average_pooling_ignores_padded_cells():
    x = np.arange(1.0, 10.0).reshape(1, 3, 3, 1)
    y = AveragePooling2D(2, strides=2, padding="same", dtype="float64")(x)[0, :, :, 0]
    np.testing.assert_allclose(y, [[(1 + 2 + 4 + 5) / 4, (3 + 6) / 2], [(7 + 8) / 2, 9]])


def test_pooling_aliases_and_defaults():
    assert MaxPool2D is MaxPooling2D and AvgPool2D is AveragePooling2D
    layer = MaxPooling2D()
    assert layer.pool_size == (2, 2) and layer.strides == (2, 2) and layer.padding == "valid"
    assert MaxPooling2D(3).strides == (3, 3)
    assert layer.compute_output_shape((None, 28, 28, 32)) == (None, 14, 14, 32)


def test_pooling_float32_path_keeps_float32(rng):
    x = rng.normal(size=(4, 28, 28, 8)).astype(np.float32)
    for layer in (MaxPooling2D(), AveragePooling2D(3, 2, "same")):
        y = layer(x)
        assert y.dtype == np.float32
        assert layer.backward(np.ones_like(y)).dtype == np.float32


# ------------------------------------------------------------------ 1-D
@pytest.mark.parametrize("layer_cls,mode", [(MaxPooling1D, "max"), (AveragePooling1D, "avg")])
@pytest.mark.parametrize("pool,strides,padding", [(2, None, "valid"), (3, 2, "same"),
                                                  (2, 1, "valid")])
def test_pool1d(layer_cls, mode, pool, strides, padding, rng):
    layer = layer_cls(pool, strides=strides, padding=padding, dtype="float64")
    x = rng.normal(size=(2, 9, 3))
    y = check_gradients(layer, x)
    ref = reference_pool2d(x[:, None], (1, pool), (1, strides or pool), padding, mode)[:, 0]
    np.testing.assert_allclose(y, ref, rtol=1e-6, atol=1e-6)
    assert layer.compute_output_shape((None, 9, 3)) == (None,) + y.shape[1:]


# ------------------------------------------------------------------ global
@pytest.mark.parametrize("layer_cls,reduce", [(GlobalMaxPooling2D, np.max),
                                              (GlobalAveragePooling2D, np.mean)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling_2d(layer_cls, reduce, keepdims, rng):
    layer = layer_cls(keepdims=keepdims, dtype="float64")
    x = rng.normal(size=(2, 5, 3, 4))
    y = check_gradients(layer, x)
    np.testing.assert_allclose(y, reduce(x, axis=(1, 2), keepdims=keepdims), rtol=1e-12)
    assert layer.compute_output_shape((None, 5, 3, 4)) == (None,) + y.shape[1:]


@pytest.mark.parametrize("layer_cls,reduce", [(GlobalMaxPooling1D, np.max),
                                              (GlobalAveragePooling1D, np.mean)])
def test_global_pooling_1d_and_channels_first(layer_cls, reduce, rng):
    x = rng.normal(size=(2, 6, 3))
    y = check_gradients(layer_cls(dtype="float64"), x)
    np.testing.assert_allclose(y, reduce(x, axis=1), rtol=1e-12)
    first = layer_cls(data_format="channels_first", keepdims=True, dtype="float64")
    np.testing.assert_allclose(check_gradients(first, x.transpose(0, 2, 1).copy()),
                               reduce(x, axis=1)[:, :, None], rtol=1e-12)


def test_global_max_pool_tie_goes_to_the_first_position():
    layer = GlobalMaxPooling2D(dtype="float64")
    layer(np.array([[1.0, 4.0], [4.0, 0.0]]).reshape(1, 2, 2, 1))
    np.testing.assert_array_equal(layer.backward(np.array([[2.0]]))[0, :, :, 0], [[0, 2], [0, 0]])
