"""gradient_check: every built-in layer passes in float64, a wrong backward is caught."""
import importlib

import numpy as np
import pytest

from mitbadak import backend, keras, layers as layers_pkg
from mitbadak.lab import GradientCheckResult, gradient_check
from mitbadak.layers import Layer

RNG = np.random.default_rng(7)
X2 = RNG.standard_normal((5, 4))            # (batch, features)
X4 = RNG.standard_normal((2, 6, 6, 3))      # (batch, height, width, channels)

ACTIVATIONS = ["linear", "relu", "relu6", "sigmoid", "tanh", "softmax", "log_softmax",
               "leaky_relu", "elu", "selu", "softplus", "softsign", "silu", "gelu",
               "hard_sigmoid", "exponential"]


def layer_class(name):
    """A layer class from keras.layers, or from the module that defines it before it is
    exported; skip when it does not exist yet."""
    cls = getattr(layers_pkg, name, None)
    for module in ("convolution", "pooling", "normalization"):
        if cls is not None:
            break
        try:
            cls = getattr(importlib.import_module(f"mitbadak.layers.{module}"), name, None)
        except ImportError:
            pass
    if cls is None:
        pytest.skip(f"{name} does not exist in mitbadak.layers yet")
    return cls


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_dense_with_each_activation(activation):
    r = gradient_check(keras.layers.Dense(3, activation=activation), X2, verbose=0)
    assert [row.name for row in r] == ["dense/kernel", "dense/bias", "input"]
    assert r.ok and r.max_relative_error < 1e-6, str(r)


@pytest.mark.parametrize("make", [
    lambda: keras.layers.Activation("tanh"),
    lambda: keras.layers.Activation("softmax"),
    lambda: keras.layers.Flatten(),
    lambda: keras.layers.Reshape((2, -1)),
    lambda: keras.layers.Dense(2, use_bias=False, kernel_regularizer="l2"),
], ids=["activation_tanh", "activation_softmax", "flatten", "reshape", "dense_l2"])
def test_core_layers(make):
    x = RNG.standard_normal((3, 2, 4))
    r = gradient_check(make(), x, verbose=0)
    assert r.ok, str(r)


def test_dropout_in_training_mode_uses_one_fixed_mask():
    layer = keras.layers.Dropout(0.5)
    state = backend.rng().bit_generator.state
    r = gradient_check(layer, X2, training=True, verbose=0)
    assert r.ok and r.rows[-1].name == "input", str(r)
    # The library generator is left where it was: the check drew masks and put it back.
    assert backend.rng().bit_generator.state == state
    # And the mask really drops values (so the check was not of the identity).
    y = keras.layers.Dropout(0.5, seed=1)(np.ones((50, 40)), training=True)
    assert 0 < np.mean(y == 0) < 1 and set(np.unique(y)) == {0.0, 2.0}


@pytest.mark.parametrize("name, kwargs, x", [
    ("Conv2D", dict(filters=4, kernel_size=3, activation="relu"), X4),
    ("Conv2D", dict(filters=2, kernel_size=(3, 2), strides=2, padding="same"), X4),
    ("MaxPooling2D", dict(pool_size=2), X4),
    ("AveragePooling2D", dict(pool_size=2), X4),
    ("GlobalAveragePooling2D", {}, X4),
    ("BatchNormalization", {}, X4),
    ("LayerNormalization", {}, X2),
], ids=["conv2d", "conv2d_strided_same", "maxpool", "avgpool", "gap", "batchnorm", "layernorm"])
def test_cnn_and_normalization_layers(name, kwargs, x):
    r = gradient_check(layer_class(name)(**kwargs), x, verbose=0)
    assert r.ok, str(r)


def test_sequential_with_fused_softmax_cross_entropy():
    model = keras.Sequential([keras.layers.Dense(6, activation="tanh", input_shape=(4,)),
                              keras.layers.Dense(3, activation="softmax")])
    y = np.array([0, 1, 2, 1, 0])
    r = gradient_check(model, X2, y, loss="sparse_categorical_crossentropy", verbose=0)
    assert r.ok and len(r) == 5, str(r)


def test_compiled_model_uses_its_own_loss():
    model = keras.Sequential([keras.layers.Dense(5, activation="relu", input_shape=(4,)),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    r = gradient_check(model, X2, np.array([0, 1, 1, 0, 1]), verbose=0)
    assert r.ok, str(r)
    assert "mean loss" in r.title


def test_mse_on_a_layer():
    r = gradient_check(keras.layers.Dense(2, activation="sigmoid"), X2, RNG.random((5, 2)),
                       loss="mse", verbose=0)
    assert r.ok, str(r)


# -------------------------------------------------------------- user-defined layers
class Scale(Layer):
    """y = x ⊙ w + x², w of shape (features,). Correct backward: dw = Σ_n x ⊙ dy,
    dx = dy ⊙ (w + 2x)."""

    def build(self, input_shape):
        self.w = self.add_weight("w", (input_shape[-1],), "random_normal")

    def forward(self, x, training=False):
        self.x = x
        return x * self.w + x * x

    def backward(self, dy):
        self.grads["w"] = (self.x * dy).sum(axis=0)
        return dy * (self.w + 2 * self.x)


class ScaleForgotTheSquare(Scale):
    def backward(self, dy):                 # wrong: dx misses the 2x of the x² term
        self.grads["w"] = (self.x * dy).sum(axis=0)
        return dy * self.w


class ScaleWrongWeightGrad(Scale):
    def backward(self, dy):                 # wrong: averages over the batch instead of summing
        self.grads["w"] = (self.x * dy).mean(axis=0)
        return dy * (self.w + 2 * self.x)


def test_user_layer_correct_backward_passes():
    r = gradient_check(Scale(), X2, verbose=0)
    assert r.ok and r["scale/w"].relative_error < 1e-6, str(r)


@pytest.mark.parametrize("cls, bad", [(ScaleForgotTheSquare, "input"),
                                      (ScaleWrongWeightGrad, "scale_wrong_weight_grad/w")])
def test_user_layer_wrong_backward_is_flagged(cls, bad, capsys):
    r = gradient_check(cls(), X2)
    assert not r.ok and not r[bad].ok and r[bad].relative_error > 1e-2
    assert all(row.ok for row in r if row.name != bad)      # only the wrong one is blamed
    out = capsys.readouterr().out
    assert "FAIL" in out and bad in out and "WRONG" in out


def test_wrong_layer_inside_a_model_is_flagged():
    model = keras.Sequential([keras.layers.Dense(4, activation="tanh", input_shape=(4,)),
                              ScaleWrongWeightGrad(name="bad"), keras.layers.Dense(2)])
    r = gradient_check(model, X2, verbose=0)
    assert [row.name for row in r if not row.ok] == ["bad/w"]


def test_missing_gradient_is_reported():
    class NoGrad(Scale):
        def backward(self, dy):
            return dy * (self.w + 2 * self.x)
    r = gradient_check(NoGrad(), X2, verbose=0)
    assert not r.ok and r.rows[0].checked == 0


# -------------------------------------------------------------- mechanics
def test_original_is_untouched_and_float32_is_checked_in_float64():
    layer = keras.layers.Dense(3, activation="tanh")
    layer(X2.astype("float32"))
    before = [w.copy() for w in layer.get_weights()]
    r = gradient_check(layer, X2, verbose=0)
    assert r.ok and layer.kernel.dtype == np.float32 and layer._weights["kernel"] is layer.kernel
    for a, b in zip(before, layer.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_float32_is_too_coarse_for_the_check():
    # Why the check runs in float64: in float32, roundoff alone is ~1e-7/1e-3 = 1e-4 relative.
    r = gradient_check(keras.layers.Dense(3, activation="tanh"), X2, dtype="float32",
                       verbose=0)
    assert r.max_relative_error > 1e-6


def test_max_entries_samples_large_arrays():
    x = RNG.standard_normal((4, 30))
    r = gradient_check(keras.layers.Dense(50), x, max_entries=40, verbose=0)
    assert r["dense/kernel"].checked == 40 and r["dense/bias"].checked == 40 and r.ok


def test_result_table_and_data(capsys):
    r = gradient_check(keras.layers.Dense(2), X2)
    out = capsys.readouterr().out
    assert isinstance(r, GradientCheckResult) and bool(r)
    assert out.strip() == str(r) and "OK" in out and "dense/kernel" in out
    assert set(r.relative_errors) == {"dense/kernel", "dense/bias", "input"}
    assert r["dense/kernel"].shape == (4, 2) and r["dense/kernel"].checked == 8


def test_argument_errors():
    with pytest.raises(TypeError, match="model_or_layer"):
        gradient_check(object(), X2)
    with pytest.raises(ValueError, match="loss: given without y"):
        gradient_check(keras.layers.Dense(2), X2, loss="mse")
    with pytest.raises(ValueError, match="loss: expected a loss when y is given"):
        gradient_check(keras.layers.Dense(2), X2, np.zeros((5, 2)))
