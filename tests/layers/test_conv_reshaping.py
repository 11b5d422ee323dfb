"""ZeroPadding, Cropping, UpSampling (1-D and 2-D) and SpatialDropout: values written out by
hand or by NumPy, gradients against central differences (float64)."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import check_gradients

from mitbadak.layers import (Cropping1D, Cropping2D, SpatialDropout1D, SpatialDropout2D,
                             UpSampling1D, UpSampling2D, ZeroPadding1D, ZeroPadding2D)


@pytest.mark.parametrize("padding,expected", [(1, ((1, 1), (1, 1))), ((2, 0), ((2, 2), (0, 0))),
                                              (((1, 2), (0, 3)), ((1, 2), (0, 3)))])
def test_zero_padding_2d(padding, expected, rng):
    layer = ZeroPadding2D(padding, dtype="float64")
    x = rng.normal(size=(2, 3, 4, 2))
    y = check_gradients(layer, x)
    np.testing.assert_array_equal(y, np.pad(x, ((0, 0),) + expected + ((0, 0),)))
    assert layer.compute_output_shape((None, 3, 4, 2)) == (None,) + y.shape[1:]


def test_zero_padding_and_cropping_channels_first(rng):
    x = rng.normal(size=(2, 3, 4, 5))
    y = check_gradients(ZeroPadding2D(((1, 0), (2, 1)), data_format="channels_first",
                                      dtype="float64"), x)
    np.testing.assert_array_equal(y, np.pad(x, ((0, 0), (0, 0), (1, 0), (2, 1))))
    c = check_gradients(Cropping2D(((1, 0), (2, 1)), data_format="channels_first",
                                   dtype="float64"), x)
    np.testing.assert_array_equal(c, x[:, :, 1:, 2:4])


@pytest.mark.parametrize("cropping,rows,cols", [(((1, 2), (0, 1)), slice(1, 3), slice(0, 4)),
                                                (1, slice(1, 4), slice(1, 4)),
                                                ((0, 2), slice(0, 5), slice(2, 3))])
def test_cropping_2d(cropping, rows, cols, rng):
    layer = Cropping2D(cropping, dtype="float64")
    x = rng.normal(size=(2, 5, 5, 2))
    y = check_gradients(layer, x)
    np.testing.assert_array_equal(y, x[:, rows, cols])
    assert layer.compute_output_shape((None, 5, 5, 2)) == (None,) + y.shape[1:]


def test_padding_and_cropping_1d(rng):
    x = rng.normal(size=(2, 5, 3))
    np.testing.assert_array_equal(check_gradients(ZeroPadding1D((2, 1), dtype="float64"), x),
                                  np.pad(x, ((0, 0), (2, 1), (0, 0))))
    np.testing.assert_array_equal(check_gradients(Cropping1D((1, 2), dtype="float64"), x),
                                  x[:, 1:3])
    assert ZeroPadding1D().compute_output_shape((None, 5, 3)) == (None, 7, 3)


@pytest.mark.parametrize("size", [(2, 2), (3, 1), 2])
def test_upsampling_2d_nearest(size, rng):
    layer = UpSampling2D(size, dtype="float64")
    x = rng.normal(size=(2, 3, 2, 2))
    y = check_gradients(layer, x)
    sh, sw = (size, size) if isinstance(size, int) else size
    np.testing.assert_array_equal(y, np.repeat(np.repeat(x, sh, axis=1), sw, axis=2))
    assert layer.compute_output_shape((None, 3, 2, 2)) == (None,) + y.shape[1:]


def test_upsampling_2d_bilinear_half_pixel():
    # Half-pixel centres, scale 2: outputs sit at input coordinates -0.25, 0.25, 0.75, 1.25,
    # clamped to [0, 1]: [a, 0.75a + 0.25b, 0.25a + 0.75b, b].
    x = np.array([[1.0, 5.0]]).reshape(1, 1, 2, 1)
    y = UpSampling2D((1, 2), interpolation="bilinear", dtype="float64")(x)
    np.testing.assert_allclose(y.ravel(), [1, 2, 4, 5])


def test_upsampling_2d_bilinear_gradients(rng):
    check_gradients(UpSampling2D((2, 3), interpolation="bilinear", dtype="float64"),
                    rng.normal(size=(2, 3, 2, 2)))


def test_upsampling_1d(rng):
    x = rng.normal(size=(2, 3, 2))
    np.testing.assert_array_equal(check_gradients(UpSampling1D(3, dtype="float64"), x),
                                  np.repeat(x, 3, axis=1))


# ------------------------------------------------------------------ SpatialDropout
def test_spatial_dropout_2d_drops_whole_channels(rng):
    layer = SpatialDropout2D(0.5, seed=3, dtype="float64")
    x = rng.normal(size=(4, 5, 6, 8)) + 10.0            # no zero values by chance
    y = layer(x, training=True)
    kept = y != 0
    # Every channel of every sample is either kept everywhere or dropped everywhere.
    per_channel = kept.reshape(4, 30, 8)
    assert (per_channel.all(axis=1) | ~per_channel.any(axis=1)).all()
    assert 0 < per_channel.all(axis=1).sum() < 32
    np.testing.assert_allclose(y[kept], 2.0 * x[kept])   # inverted: kept values scaled 1/(1−p)
    dy = rng.normal(size=x.shape)
    np.testing.assert_allclose(layer.backward(dy), dy * (y / x))
    np.testing.assert_array_equal(layer(x, training=False), x)


def test_spatial_dropout_seeded_and_channels_first(rng):
    x = rng.normal(size=(3, 4, 5, 5)) + 10.0
    a = SpatialDropout2D(0.3, seed=7, data_format="channels_first")(x, training=True)
    b = SpatialDropout2D(0.3, seed=7, data_format="channels_first")(x, training=True)
    np.testing.assert_array_equal(a, b)
    per_channel = (a != 0).reshape(3, 4, 25)
    assert (per_channel.all(axis=2) | ~per_channel.any(axis=2)).all()


def test_spatial_dropout_1d(rng):
    x = rng.normal(size=(4, 6, 5)) + 10.0
    y = SpatialDropout1D(0.5, seed=1)(x, training=True)
    per_channel = y != 0
    assert (per_channel.all(axis=1) | ~per_channel.any(axis=1)).all()
