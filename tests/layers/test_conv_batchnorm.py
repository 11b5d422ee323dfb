"""BatchNormalization and LayerNormalization: values from the formula, moving statistics,
inference and frozen modes, gradients against central differences (float64)."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import check_gradients

from mitbadak import keras
from mitbadak.layers import BatchNormalization, Conv2D, Dense, Flatten, LayerNormalization


def test_batchnorm_training_output_and_moving_update(rng):
    layer = BatchNormalization(momentum=0.9, epsilon=1e-3, gamma_initializer="glorot_uniform",
                               beta_initializer="glorot_uniform", dtype="float64")
    x = rng.normal(2.0, 3.0, size=(4, 3, 5, 2))
    y = layer(x, training=True)
    gamma, beta, mm, mv = layer.get_weights()
    flat = x.reshape(-1, 2)
    mean, var = flat.mean(axis=0), ((flat - flat.mean(axis=0)) ** 2).mean(axis=0)   # biased
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-3) * gamma + beta, rtol=1e-10)
    np.testing.assert_allclose(mm, 0.1 * mean, rtol=1e-10)              # 0·0.9 + mean·0.1
    np.testing.assert_allclose(mv, 0.9 + 0.1 * var, rtol=1e-10)         # starts at 1


def test_batchnorm_inference_uses_moving_statistics(rng):
    layer = BatchNormalization(dtype="float64")
    x = rng.normal(size=(5, 3))
    layer(x)
    layer.set_weights([np.array([1.0, 2.0, 3.0]), np.array([0.5, 0.0, -1.0]),
                       np.array([0.1, 0.2, 0.3]), np.array([4.0, 1.0, 0.25])])
    y = layer(x, training=False)
    np.testing.assert_allclose(
        y, (x - [0.1, 0.2, 0.3]) / np.sqrt(np.array([4.0, 1.0, 0.25]) + 1e-3) * [1, 2, 3]
        + [0.5, 0, -1], rtol=1e-12)
    assert np.array_equal(layer.get_weights()[2], [0.1, 0.2, 0.3])      # not updated


def test_frozen_batchnorm_runs_in_inference_mode(rng):
    layer = BatchNormalization(dtype="float64")
    x = rng.normal(3.0, 2.0, size=(8, 4))
    layer(x)
    layer.trainable = False
    y = layer(x, training=True)
    np.testing.assert_allclose(y, x / np.sqrt(1 + 1e-3), rtol=1e-12)
    np.testing.assert_array_equal(layer.get_weights()[2], np.zeros(4))


def test_batchnorm_weights_and_defaults():
    layer = BatchNormalization()
    layer.build((None, 6, 6, 5))
    assert [w.name for w in layer.weights] == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert [w.name for w in layer.trainable_weights] == ["gamma", "beta"]
    assert [w.name for w in layer.non_trainable_weights] == ["moving_mean", "moving_variance"]
    assert layer.momentum == 0.99 and layer.epsilon == 1e-3
    np.testing.assert_array_equal(layer.get_weights()[3], np.ones(5))
    assert layer.count_params() == 20
    bare = BatchNormalization(center=False, scale=False)
    bare.build((None, 3))
    assert [w.name for w in bare.weights] == ["moving_mean", "moving_variance"]


@pytest.mark.parametrize("shape,axis", [((6, 3), -1), ((3, 4, 3, 2), -1), ((3, 2, 4, 3), 1),
                                        ((4, 3, 2, 2), [1, 3])])
@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_gradients(shape, axis, training, rng):
    layer = BatchNormalization(axis=axis, gamma_initializer="glorot_uniform",
                               beta_initializer="glorot_uniform",
                               moving_mean_initializer="glorot_uniform", dtype="float64")
    check_gradients(layer, rng.normal(size=shape), training=training)


def test_batchnorm_channels_first_axis_normalizes_channels(rng):
    x = rng.normal(size=(3, 2, 4, 5))
    y = BatchNormalization(axis=1, dtype="float64")(x, training=True)
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    assert y.shape == x.shape


def test_batchnorm_without_scale_and_center_gradients(rng):
    check_gradients(BatchNormalization(center=False, scale=False, dtype="float64"),
                    rng.normal(size=(5, 3)))


def test_batchnorm_in_a_cnn_moves_statistics_during_fit(rng):
    model = keras.Sequential([Conv2D(3, 3, input_shape=(6, 6, 1)), BatchNormalization(),
                              Flatten(), Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    bn = model.layers[1]
    before = bn.get_weights()
    model.fit(rng.normal(size=(8, 6, 6, 1)), rng.integers(0, 2, 8), epochs=1, batch_size=4,
              verbose=0)
    after = bn.get_weights()
    assert all(not np.array_equal(a, b) for a, b in zip(before, after))


# ------------------------------------------------------------------ LayerNormalization
@pytest.mark.parametrize("shape,axis", [((4, 5), -1), ((2, 3, 4), -1), ((2, 3, 4, 2), [1, 2, 3]),
                                        ((2, 3, 4), [1])])
def test_layernorm_values_and_gradients(shape, axis, rng):
    layer = LayerNormalization(axis=axis, gamma_initializer="glorot_uniform",
                               beta_initializer="glorot_uniform", dtype="float64")
    x = rng.normal(1.0, 2.0, size=shape)
    y = check_gradients(layer, x)
    axes = tuple(a % len(shape) for a in ([axis] if isinstance(axis, int) else axis))
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    bshape = [shape[a] if a in axes else 1 for a in range(len(shape))]
    gamma, beta = (w.reshape(bshape) for w in layer.get_weights())
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-3) * gamma + beta, rtol=1e-10)


def test_layernorm_weights():
    layer = LayerNormalization()
    layer.build((None, 7, 6))
    assert [(w.name, w.shape) for w in layer.weights] == [("gamma", (6,)), ("beta", (6,))]


def test_normalization_as_first_layer_skips_dx(rng):
    for layer in (BatchNormalization(), LayerNormalization()):
        model = keras.Sequential([keras.Input(shape=(4,)), layer, Dense(2, activation="softmax")])
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
        before = [w.copy() for w in layer.get_weights()]
        model.train_on_batch(rng.normal(size=(6, 4)).astype(np.float32), np.arange(6) % 2)
        assert not np.array_equal(before[0], layer.get_weights()[0])      # gamma moved
        layer.needs_input_grad = False
        layer(rng.normal(size=(3, 4)).astype(np.float32), training=True)
        assert layer.backward(np.ones((3, 4), np.float32)) is None
        assert set(layer.grads) == {"gamma", "beta"}
