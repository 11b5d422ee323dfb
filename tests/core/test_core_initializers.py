"""Initializers: shapes, fans, the distributions' limits and spreads (statistical tolerances),
seeds, orthogonality, identity, and lookup by string / class / config dict."""
from __future__ import annotations

import math

import numpy as np
import pytest

from mitbadak import initializers, keras

TRUNC = 0.87962566103423978      # std of a standard normal truncated at ±2


@pytest.mark.parametrize("shape,fans", [
    ((), (1, 1)), ((7,), (7, 7)), ((784, 100), (784, 100)),
    ((3, 3, 16, 32), (3 * 3 * 16, 3 * 3 * 32)), ((5, 8, 2), (5 * 8, 5 * 2))])
def test_compute_fans(shape, fans):
    assert initializers.compute_fans(shape) == fans


# (initializer, kind, spread computed from fans here): kind 'uniform' -> limit, 'trunc' -> σ
def _expected(name, fan_in, fan_out):
    return {
        "glorot_uniform": ("uniform", math.sqrt(6 / (fan_in + fan_out))),
        "glorot_normal": ("trunc", math.sqrt(2 / (fan_in + fan_out)) / TRUNC),
        "he_uniform": ("uniform", math.sqrt(6 / fan_in)),
        "he_normal": ("trunc", math.sqrt(2 / fan_in) / TRUNC),
        "lecun_uniform": ("uniform", math.sqrt(3 / fan_in)),
        "lecun_normal": ("trunc", math.sqrt(1 / fan_in) / TRUNC),
        "random_uniform": ("uniform", 0.05),
        "truncated_normal": ("trunc", 0.05),
    }[name]


@pytest.mark.parametrize("shape", [(300, 200), (3, 3, 20, 30)])
@pytest.mark.parametrize("name", ["glorot_uniform", "glorot_normal", "he_uniform", "he_normal",
                                  "lecun_uniform", "lecun_normal", "random_uniform",
                                  "truncated_normal"])
def test_distribution_limits_and_spread(name, shape):
    keras.utils.set_random_seed(123)        # deterministic; the tolerances are ≥ 5 standard errors
    w = initializers.get(name)(shape)
    assert w.shape == shape and w.dtype == np.float32
    fan_in, fan_out = initializers.compute_fans(shape)
    kind, s = _expected(name, fan_in, fan_out)
    w = w.astype(np.float64)
    n = w.size
    assert abs(w.mean()) < 5 * w.std() / math.sqrt(n)
    if kind == "uniform":
        assert np.abs(w).max() <= s * (1 + 1e-6)
        assert np.abs(w).max() > 0.99 * s
        # std of U(−L, L) = L/√3; the sample std of n draws is within a few % for n ≥ 50k.
        assert w.std() == pytest.approx(s / math.sqrt(3), rel=0.03)
    else:
        assert np.abs(w).max() <= 2 * s * (1 + 1e-6), "truncated normal beyond 2σ"
        assert np.abs(w).max() > 1.9 * s
        assert w.std() == pytest.approx(s * TRUNC, rel=0.03)


def test_random_normal_is_not_truncated():
    w = initializers.RandomNormal(mean=1.0, stddev=0.5, seed=3)((200, 300)).astype(np.float64)
    assert w.mean() == pytest.approx(1.0, abs=0.01)
    assert w.std() == pytest.approx(0.5, rel=0.02)
    assert np.abs(w - 1.0).max() > 2 * 0.5


def test_variance_scaling_modes():
    shape = (400, 100)
    for mode, n in (("fan_in", 400), ("fan_out", 100), ("fan_avg", 250)):
        w = initializers.VarianceScaling(scale=2.0, mode=mode, distribution="uniform", seed=1)(shape)
        assert np.abs(w).max() <= math.sqrt(3 * 2.0 / n) * (1 + 1e-6)
        w = initializers.VarianceScaling(2.0, mode, "untruncated_normal", seed=1)(shape)
        assert float(w.std()) == pytest.approx(math.sqrt(2.0 / n), rel=0.03)


@pytest.mark.parametrize("name", ["GlorotUniform", "GlorotNormal", "HeNormal", "HeUniform",
                                  "LecunNormal", "LecunUniform", "RandomNormal", "RandomUniform",
                                  "TruncatedNormal", "Orthogonal"])
def test_seed_gives_same_numbers(name):
    cls = getattr(keras.initializers, name)
    a = cls(seed=42)((20, 10))
    b = cls(seed=42)((20, 10))
    c = cls(seed=43)((20, 10))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    # A seeded initializer gives the same numbers on every call (Keras 3).
    init = cls(seed=7)
    np.testing.assert_array_equal(init((20, 10)), init((20, 10)))


def test_unseeded_follows_set_random_seed():
    keras.utils.set_random_seed(5)
    a = initializers.GlorotUniform()((8, 4))
    keras.utils.set_random_seed(5)
    b = initializers.GlorotUniform()((8, 4))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, initializers.GlorotUniform()((8, 4)))


@pytest.mark.parametrize("shape", [(6, 6), (10, 4), (4, 10), (3, 3, 4, 8)])
def test_orthogonal(shape):
    w = initializers.Orthogonal(gain=2.0, seed=0)(shape).astype(np.float64)
    assert w.shape == shape
    flat = w.reshape(-1, shape[-1])
    rows, cols = flat.shape
    if rows >= cols:
        np.testing.assert_allclose(flat.T @ flat, 4.0 * np.eye(cols), atol=1e-5)
    else:
        np.testing.assert_allclose(flat @ flat.T, 4.0 * np.eye(rows), atol=1e-5)


def test_identity_and_constants():
    np.testing.assert_array_equal(initializers.Identity(gain=3.0)((3, 3)), 3 * np.eye(3))
    np.testing.assert_array_equal(initializers.Identity()((2, 4)), np.eye(2, 4))
    with pytest.raises(ValueError):
        initializers.Identity()((2, 2, 2))
    np.testing.assert_array_equal(initializers.get("zeros")((2, 3)), np.zeros((2, 3)))
    np.testing.assert_array_equal(initializers.get("ones")((4,)), np.ones(4))
    np.testing.assert_array_equal(initializers.Constant(2.5)((2,)), [2.5, 2.5])


def test_dtype_argument_and_floatx():
    assert initializers.GlorotUniform()((3, 3), dtype="float64").dtype == np.float64
    keras.backend.set_floatx("float64")
    assert initializers.HeNormal()((3, 3)).dtype == np.float64
    assert initializers.Zeros()((3,)).dtype == np.float64


@pytest.mark.parametrize("identifier,cls", [
    ("glorot_uniform", initializers.GlorotUniform), ("GlorotUniform", initializers.GlorotUniform),
    ("he_normal", initializers.HeNormal), ("HeNormal", initializers.HeNormal),
    ("lecun_normal", initializers.LecunNormal), ("zeros", initializers.Zeros),
    ("Zeros", initializers.Zeros), ("ones", initializers.Ones),
    ("random_normal", initializers.RandomNormal), ("truncated_normal", initializers.TruncatedNormal),
    ("orthogonal", initializers.Orthogonal), ("identity", initializers.Identity),
    (initializers.GlorotNormal, initializers.GlorotNormal),
    ({"class_name": "HeUniform", "config": {"seed": 3}}, initializers.HeUniform),
    ({"class_name": "VarianceScaling", "config": {"scale": 2.0, "mode": "fan_out",
                                                  "distribution": "uniform", "seed": None}},
     initializers.VarianceScaling)])
def test_lookup(identifier, cls):
    init = initializers.get(identifier)
    assert type(init) is cls


def test_config_round_trip():
    init = initializers.HeUniform(seed=9)
    again = initializers.deserialize(initializers.serialize(init))
    assert type(again) is initializers.HeUniform and again.seed == 9
    np.testing.assert_array_equal(init((4, 4)), again((4, 4)))
    assert initializers.serialize(initializers.GlorotUniform()) == \
        {"class_name": "GlorotUniform", "config": {"seed": None}}


def test_unknown_initializer_suggests_closest():
    with pytest.raises(ValueError, match=r"Did you mean 'glorot_uniform'"):
        initializers.get("glorot_unifrom")


def test_dense_uses_its_initializers():
    layer = keras.layers.Dense(50, kernel_initializer="ones", bias_initializer="glorot_uniform")
    layer.build((None, 20))
    np.testing.assert_array_equal(layer.get_weights()[0], np.ones((20, 50)))
    default = keras.layers.Dense(64)
    default.build((None, 100))
    kernel, bias = default.get_weights()
    assert np.abs(kernel).max() <= math.sqrt(6 / 164) * (1 + 1e-6)
    np.testing.assert_array_equal(bias, np.zeros(64))
