"""keras.utils helpers, regularizers, constraints and backend settings."""
from __future__ import annotations

import random

import numpy as np
import pytest

from mitbadak import backend, constraints, keras, regularizers


# ------------------------------------------------------------------ utils
def test_to_categorical():
    y = keras.utils.to_categorical([0, 2, 1, 2])
    np.testing.assert_array_equal(y, np.eye(3)[[0, 2, 1, 2]])
    assert y.dtype == np.float32                           # K2 (Keras 3: float64)
    y = keras.utils.to_categorical(np.array([[1], [3]]), num_classes=5)
    assert y.shape == (2, 5) and y[1, 3] == 1 and y.sum() == 2   # trailing axis of 1 dropped
    assert keras.utils.to_categorical(np.array([[0, 1], [1, 0]])).shape == (2, 2, 2)
    with pytest.raises(ValueError):
        keras.utils.to_categorical([0, 5], num_classes=3)
    with pytest.raises(ValueError):
        keras.utils.to_categorical([0.5, 1.0])


def test_normalize():
    x = np.array([[3.0, 4.0], [0.0, 0.0]])
    np.testing.assert_allclose(keras.utils.normalize(x), [[0.6, 0.8], [0.0, 0.0]])
    np.testing.assert_allclose(keras.utils.normalize(x, order=1), [[3 / 7, 4 / 7], [0.0, 0.0]])
    np.testing.assert_allclose(keras.utils.normalize(np.array([[3.0], [4.0]]), axis=0), [[0.6], [0.8]])


def test_set_random_seed_seeds_python_numpy_and_library():
    keras.utils.set_random_seed(17)
    a = (random.random(), np.random.rand(), backend.rng().random())
    keras.utils.set_random_seed(17)
    b = (random.random(), np.random.rand(), backend.rng().random())
    assert a == b
    with pytest.raises(ValueError):
        keras.utils.set_random_seed(1.5)


# ------------------------------------------------------------------ regularizers
def test_regularizer_values_and_gradients(numgrad, gradclose):
    w = np.array([[1.0, -2.0], [0.5, -0.25]])
    cases = [(regularizers.L1(), 0.01 * np.abs(w).sum()), (regularizers.L2(), 0.01 * (w ** 2).sum()),
             (regularizers.L1L2(l1=0.1, l2=0.2), 0.1 * np.abs(w).sum() + 0.2 * (w ** 2).sum()),
             (regularizers.get("l2"), 0.01 * (w ** 2).sum())]
    for reg, value in cases:
        assert reg(w) == pytest.approx(value)
        v = w.copy()
        gradclose(reg.gradient(w), numgrad(lambda: reg(v), v), what=type(reg).__name__)
    assert regularizers.L1L2().get_config() == {"l1": 0.0, "l2": 0.0}
    again = regularizers.get(regularizers.serialize(regularizers.L1L2(l1=0.3)))
    assert again.l1 == 0.3
    with pytest.raises(ValueError, match="l2"):
        regularizers.get("l3")


# ------------------------------------------------------------------ constraints
def test_constraints():
    w = np.array([[3.0, 0.1], [4.0, -0.1]])        # column norms 5 and ~0.1414
    norms = np.sqrt((w ** 2).sum(axis=0, keepdims=True))
    np.testing.assert_allclose(constraints.MaxNorm(2.0)(w), w * np.minimum(norms, 2.0) / (norms + 1e-7))
    np.testing.assert_allclose(constraints.UnitNorm()(w), w / (norms + 1e-7))
    np.testing.assert_allclose(constraints.NonNeg()(w), np.maximum(w, 0))
    mm = constraints.MinMaxNorm(min_value=1.0, max_value=2.0, rate=0.5)(w)
    desired = 0.5 * np.clip(norms, 1, 2) + 0.5 * norms
    np.testing.assert_allclose(mm, w * desired / (norms + 1e-7))
    assert isinstance(constraints.get("max_norm"), constraints.MaxNorm)


def test_constraint_applied_after_each_update():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.layers.Dense(3, input_shape=(4,), kernel_constraint="non_neg",
                                                 kernel_initializer="ones")])
    model.compile(keras.optimizers.SGD(1.0), "mse")
    x = np.random.default_rng(0).normal(size=(16, 4))
    model.fit(x, np.full((16, 3), -10.0), epochs=3, verbose=0)
    assert (model.get_weights()[0] >= 0).all()


# ------------------------------------------------------------------ backend
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("value", [0.5, 1e-7, 1 - 1e-7, 1 / 3])
def test_backend_cached_scalar_acts_like_the_python_number(dtype, value):
    # A cached 0-d array of the array's dtype must give bit-identical results and dtypes.
    a = np.random.default_rng(0).normal(size=(4, 3)).astype(dtype)
    c = backend.cached_scalar(value, np.dtype(dtype))
    assert c.shape == () and c.dtype == np.dtype(dtype)
    assert backend.cached_scalar(value, np.dtype(dtype)) is c
    with pytest.raises(ValueError):
        c[...] = 2.0                      # shared: read-only
    for got, want in ((a * c, a * value), (c - a, value - a), (np.maximum(a, c), np.maximum(a, value))):
        assert got.dtype == want.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(got, want)


def test_floatx_and_epsilon_settings():
    assert keras.backend.floatx() == "float32"
    keras.backend.set_floatx("float64")
    assert keras.backend.floatx() == "float64"
    assert keras.layers.Dense(2).dtype == "float64"
    with pytest.raises(ValueError, match="float"):
        keras.backend.set_floatx("int8")
    assert keras.backend.epsilon() == 1e-7


@pytest.mark.parametrize("name,snake", [("Dense", "dense"), ("MaxPooling2D", "max_pooling2d"),
                                        ("BatchNormalization", "batch_normalization"),
                                        ("Conv2D", "conv2d"), ("InputLayer", "input_layer")])
def test_snake_case(name, snake):
    assert backend.snake_case(name) == snake


def test_keras_namespace_is_the_library():
    import mitbadak
    from mitbadak import keras as k
    assert k.Sequential is mitbadak.Sequential
    assert k.layers.Dense is mitbadak.layers.Dense
    from mitbadak.keras.layers import Dense  # noqa: F401  (importable like tensorflow.keras)
    from mitbadak.keras.optimizers.schedules import ExponentialDecay  # noqa: F401
