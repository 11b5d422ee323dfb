"""Activations: values against their textbook formulas, derivatives against central differences."""
from __future__ import annotations

import math

import numpy as np
import pytest

from mitbadak import activations, keras

ALL_NAMES = ["linear", "relu", "relu6", "sigmoid", "tanh", "softmax", "log_softmax", "leaky_relu",
             "elu", "selu", "softplus", "softsign", "silu", "swish", "gelu", "hard_sigmoid",
             "exponential"]

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _away_from_kinks(rng, shape, kinks=(0.0, 6.0, 3.0, -3.0), margin=0.05, scale=4.0):
    x = rng.uniform(-scale, scale, size=shape)
    for k in kinks:
        near = np.abs(x - k) < margin
        x[near] += 2 * margin * np.sign(x[near] - k + 1e-12)
    return x


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _norm_cdf(x):
    return 0.5 * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))


# The reference values: each formula as a textbook writes it (float64).
REFERENCE = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0),
    "relu6": lambda x: np.minimum(np.maximum(x, 0), 6),
    "sigmoid": _sigmoid,
    "tanh": np.tanh,
    "softmax": lambda x: np.exp(x) / np.exp(x).sum(axis=-1, keepdims=True),
    "log_softmax": lambda x: x - np.log(np.exp(x).sum(axis=-1, keepdims=True)),
    "leaky_relu": lambda x: np.where(x > 0, x, 0.2 * x),
    "elu": lambda x: np.where(x > 0, x, np.exp(x) - 1),
    "selu": lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * (np.exp(x) - 1)),
    "softplus": lambda x: np.log(1 + np.exp(x)),
    "softsign": lambda x: x / (1 + np.abs(x)),
    "silu": lambda x: x * _sigmoid(x),
    "swish": lambda x: x * _sigmoid(x),
    "gelu": lambda x: x * _norm_cdf(x),
    "hard_sigmoid": lambda x: np.clip(x + 3, 0, 6) / 6,       # Keras 3: relu6(x + 3) / 6
    "exponential": np.exp,
}


@pytest.mark.parametrize("name", ALL_NAMES)
def test_value_matches_formula(name, rng):
    x = _away_from_kinks(rng, (4, 5))
    got = activations.get(name)(x.copy())
    np.testing.assert_allclose(got, REFERENCE[name](x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ALL_NAMES)
def test_backward_matches_central_differences(name, rng, numgrad, gradclose):
    f = activations.get(name)
    x = _away_from_kinks(rng, (3, 5))
    dy = rng.normal(size=x.shape)
    y = f(x.copy())
    analytic = f.backward(x, y, dy)
    numeric = numgrad(lambda: (f(x.copy()) * dy).sum(), x)
    gradclose(analytic, numeric, what=f"{name}.backward")


@pytest.mark.parametrize("approximate", [False, True])
def test_gelu_both_forms(approximate, rng, numgrad, gradclose):
    x = _away_from_kinks(rng, (3, 4))
    dy = rng.normal(size=x.shape)
    if approximate:
        expected = 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    else:
        expected = x * _norm_cdf(x)
    y = activations.gelu(x.copy(), approximate=approximate)
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)
    numeric = numgrad(lambda: (activations.gelu(x.copy(), approximate=approximate) * dy).sum(), x)
    analytic = activations.gelu.backward(x, y, dy, approximate=approximate)
    gradclose(analytic, numeric, what=f"gelu(approximate={approximate}).backward")


def test_gelu_float32_close_to_exact(rng):
    x = rng.uniform(-5, 5, size=200)
    got = activations.gelu(x.astype(np.float32))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, x * _norm_cdf(x), atol=1e-6)


def test_sigmoid_softmax_stable_for_huge_inputs():
    x = np.array([[-1000.0, 0.0, 1000.0]])
    s = activations.sigmoid(x)
    assert np.all(np.isfinite(s)) and 0.0 <= s[0, 0] < 1e-300 and s[0, 2] == 1.0
    p = activations.softmax(x)
    np.testing.assert_allclose(p, [[0.0, 0.0, 1.0]])
    np.testing.assert_allclose(activations.softplus(np.array([1000.0, -1000.0])), [1000.0, 0.0])
    assert np.all(np.isfinite(activations.log_softmax(x)))


def test_softmax_rows_sum_to_one_last_axis(rng):
    x = rng.normal(size=(2, 3, 7))
    p = activations.softmax(x)
    np.testing.assert_allclose(p.sum(axis=-1), 1.0)
    # Invariance to adding a constant to a row.
    np.testing.assert_allclose(activations.softmax(x + 100.0), p, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ALL_NAMES)
def test_dtype_preserved(name, dtype, rng):
    x = rng.normal(size=(2, 3)).astype(dtype)
    f = activations.get(name)
    y = f(x)
    assert y.dtype == dtype, f"{name} turned {dtype.__name__} into {y.dtype}"
    assert f.backward(x, y, np.ones_like(x)).dtype == dtype


def test_lookup_by_string_none_and_callable():
    assert activations.get(None) is activations.linear
    assert activations.get("swish") is activations.silu
    assert keras.activations.relu is activations.relu
    assert activations.serialize(activations.get("relu")) == "relu"
    for name in ALL_NAMES:
        assert callable(activations.get(name).backward)


def test_custom_function_gets_numerical_backward(rng, numgrad, gradclose):
    f = activations.get(lambda x: x ** 3)
    x = rng.normal(size=(3, 2))
    dy = rng.normal(size=x.shape)
    gradclose(f.backward(x, f(x), dy), 3 * x ** 2 * dy, rtol=1e-6, atol=1e-8)


def test_unknown_activation_suggests_closest():
    with pytest.raises(ValueError, match=r"'rleu'.*Did you mean 'relu'"):
        activations.get("rleu")
    with pytest.raises(ValueError, match=r"Did you mean 'sigmoid'"):
        keras.layers.Dense(3, activation="sigmod")


# ---- the fast paths for big arrays must compute exactly what the plain formulas do
@pytest.mark.parametrize("shape", [(4, 3), (64, 512), (25088, 32), (100, 7, 9), (8192,)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_relu_equals_max_with_zero_for_every_size(shape, dtype):
    x = np.random.default_rng(0).normal(size=shape).astype(dtype)
    expected = np.where(x > 0, x, 0)
    np.testing.assert_array_equal(activations.relu(x), expected)
    np.testing.assert_array_equal(activations.relu(x[..., ::-1]), expected[..., ::-1])  # strided
    z = x.copy()
    y = activations.apply_overwriting(activations.relu, z)
    np.testing.assert_array_equal(y, expected)
    assert np.shares_memory(y, z)                 # relu may write its output over its input


def test_apply_overwriting_keeps_the_input_of_activations_that_need_it():
    x = np.random.default_rng(1).normal(size=(64, 512)).astype("float32")
    z = x.copy()
    y = activations.apply_overwriting(activations.elu, z)   # elu's backward reads x
    np.testing.assert_array_equal(z, x)
    np.testing.assert_allclose(y, np.where(x > 0, x, np.expm1(np.minimum(x, 0))), rtol=1e-6)


def test_relu_still_takes_python_numbers_and_lists():
    assert float(activations.relu(-1.5)) == 0.0
    np.testing.assert_array_equal(activations.relu([-1.0, 2.0]), [0.0, 2.0])
