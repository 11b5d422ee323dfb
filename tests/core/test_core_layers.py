"""Core layers' forward values and gradients (input and every weight) against central differences
in float64; a whole Sequential model's loss gradient, by hand and through the trainer's step."""
from __future__ import annotations

import numpy as np
import pytest

from mitbadak import keras, losses
from mitbadak.layers import Activation, Dense, Dropout, Flatten, Reshape


def _check_layer(layer, x, rng, numgrad, gradclose, training=False, make_fresh=None):
    """Gradient of L = Σ R·layer(x) w.r.t. x and each trainable weight."""
    y = layer(x, training=training)
    r = rng.normal(size=y.shape)
    dx = layer.backward(r.copy())
    grads = {k: v.copy() for k, v in layer.grads.items()}

    def loss():
        lay = make_fresh() if make_fresh else layer
        return float((lay.forward(x, training=training) * r).sum())

    gradclose(dx, numgrad(loss, x), what=f"{layer.name}: dL/dx")
    for name in layer._trainable_names:
        w = layer._weights[name]
        gradclose(grads[name], numgrad(loss, w), what=f"{layer.name}: dL/d{name}")
    return y


@pytest.mark.parametrize("activation", [None, "relu", "sigmoid", "tanh", "softmax", "elu",
                                        "gelu", "softplus", "selu"])
@pytest.mark.parametrize("use_bias", [True, False])
def test_dense_gradients_2d(activation, use_bias, rng, numgrad, gradclose):
    layer = Dense(4, activation=activation, use_bias=use_bias, dtype="float64",
                  bias_initializer="glorot_uniform" if use_bias else "zeros")
    x = rng.normal(size=(5, 3))
    y = _check_layer(layer, x, rng, numgrad, gradclose)
    kernel = layer.get_weights()[0]
    z = x @ kernel + (layer.get_weights()[1] if use_bias else 0)
    act = keras.activations.get(activation)
    np.testing.assert_allclose(y, act(z), rtol=1e-12)
    assert len(layer.get_weights()) == (2 if use_bias else 1)


@pytest.mark.parametrize("activation", [None, "relu", "softmax"])
def test_dense_gradients_3d(activation, rng, numgrad, gradclose):
    layer = Dense(3, activation=activation, dtype="float64", bias_initializer="ones")
    x = rng.normal(size=(2, 4, 5))
    y = _check_layer(layer, x, rng, numgrad, gradclose)
    assert y.shape == (2, 4, 3)        # N-D input is not flattened (Keras semantics)
    assert layer.compute_output_shape((None, 4, 5)) == (None, 4, 3)


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "softmax", "log_softmax", "tanh"])
def test_activation_layer(activation, rng, numgrad, gradclose):
    layer = Activation(activation, dtype="float64")
    x = rng.normal(size=(3, 2, 4))
    y = _check_layer(layer, x, rng, numgrad, gradclose)
    np.testing.assert_allclose(y, keras.activations.get(activation)(x))


def test_flatten(rng, numgrad, gradclose):
    layer = Flatten(dtype="float64")
    x = rng.normal(size=(2, 3, 4, 5))
    y = _check_layer(layer, x, rng, numgrad, gradclose)
    np.testing.assert_array_equal(y, x.reshape(2, 60))       # C order: channel index fastest
    assert layer.compute_output_shape((None, 3, 4, 5)) == (None, 60)


@pytest.mark.parametrize("target,out", [((3, 8), (3, 8)), ((-1, 4), (6, 4)), ((2, -1, 3), (2, 4, 3))])
def test_reshape(target, out, rng, numgrad, gradclose):
    layer = Reshape(target, dtype="float64")
    x = rng.normal(size=(2, 24))
    y = _check_layer(layer, x, rng, numgrad, gradclose)
    assert y.shape == (2,) + out
    assert layer.compute_output_shape((None, 24)) == (None,) + out
    with pytest.raises(ValueError):
        Reshape((5, 5)).compute_output_shape((None, 24))


def test_dropout_training_gradient_with_fixed_mask(rng, numgrad, gradclose):
    x = rng.normal(size=(4, 6))

    def fresh():
        return Dropout(0.4, seed=11, dtype="float64")

    layer = fresh()
    y = _check_layer(layer, x, rng, numgrad, gradclose, training=True, make_fresh=fresh)
    kept = y != 0
    np.testing.assert_allclose(y[kept], x[kept] / 0.6)      # inverted dropout
    assert 0 < kept.sum() < x.size


def test_dropout_inference_is_identity_and_training_mean_preserved():
    x = np.ones((400, 250), dtype=np.float32)
    layer = Dropout(0.3, seed=1)
    np.testing.assert_array_equal(layer(x, training=False), x)
    y = layer(x, training=True)
    np.testing.assert_allclose(np.unique(y), [0.0, 1 / 0.7], rtol=1e-6)
    assert float(y.mean()) == pytest.approx(1.0, abs=0.01)
    assert float((y == 0).mean()) == pytest.approx(0.3, abs=0.01)


def test_dropout_seed_is_reproducible():
    x = np.ones((20, 30), dtype=np.float32)
    a, b = Dropout(0.5, seed=3), Dropout(0.5, seed=3)
    for _ in range(3):                       # the same sequence of masks, call after call
        np.testing.assert_array_equal(a(x, training=True), b(x, training=True))
    c = Dropout(0.5, seed=4)
    assert not np.array_equal(Dropout(0.5, seed=3)(x, training=True), c(x, training=True))


def test_dropout_unseeded_follows_set_random_seed():
    x = np.ones((20, 30), dtype=np.float32)
    keras.utils.set_random_seed(8)
    a = Dropout(0.5)(x, training=True)
    keras.utils.set_random_seed(8)
    b = Dropout(0.5)(x, training=True)
    np.testing.assert_array_equal(a, b)


def test_dropout_rate_validation():
    with pytest.raises(ValueError, match="rate"):
        Dropout(1.0)


def test_layer_configs_round_trip():
    for layer in (Dense(3, activation="relu", use_bias=False), Activation("tanh"), Flatten(),
                  Reshape((2, 3)), Dropout(0.25, seed=2)):
        config = layer.get_config()
        again = type(layer).from_config(config)
        assert again.get_config() == config, type(layer).__name__


# ------------------------------------------------------------------ whole models
def _model(out_activation, out_units=3):
    keras.backend.set_floatx("float64")
    return keras.Sequential([
        keras.layers.Dense(5, activation="tanh", input_shape=(4,), bias_initializer="ones"),
        keras.layers.Dense(4, activation="sigmoid", bias_initializer="random_normal"),
        keras.layers.Dense(out_units, activation=out_activation)])


def test_model_forward_backward_gradient(rng, numgrad, gradclose):
    model = _model("softmax")
    x = rng.normal(size=(6, 4))
    y = np.eye(3)[rng.integers(0, 3, size=6)]
    loss = losses.CategoricalCrossentropy()
    out = model.forward(x, training=True)
    model.backward(loss.backward(y, out) / len(x))
    grads = [layer.grads[n].copy() for layer in model.layers for n in layer._trainable_names]
    weights = [layer._weights[n] for layer in model.layers for n in layer._trainable_names]
    assert len(weights) == 6

    def f():
        return float(loss(y, model.forward(x)))

    for w, g in zip(weights, grads):
        gradclose(g, numgrad(f, w), what="model gradient")


@pytest.mark.parametrize("out_activation,loss_name,labels", [
    ("softmax", "categorical_crossentropy", "onehot"),          # fused (p − t)/N
    ("softmax", "sparse_categorical_crossentropy", "sparse"),   # fused
    ("sigmoid", "binary_crossentropy", "binary"),               # fused
    ("linear", "mse", "real"),
    ("tanh", "huber", "real"),
    ("softmax", "kl_divergence", "onehot"),                      # not fused: chain rule
])
@pytest.mark.parametrize("weighted", [False, True])
def test_trainer_step_gradient(out_activation, loss_name, labels, weighted, rng, numgrad,
                               gradclose):
    """One train_on_batch with SGD(lr=1): the weight change is minus the gradient of the loss."""
    model = _model(out_activation)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=1.0), loss=loss_name)
    x = rng.normal(size=(6, 4))
    y = {"onehot": np.eye(3)[rng.integers(0, 3, size=6)], "sparse": rng.integers(0, 3, size=6),
         "binary": rng.integers(0, 2, size=(6, 3)).astype(float),
         "real": rng.normal(size=(6, 3))}[labels]
    if labels == "onehot" and loss_name == "kl_divergence":
        y = np.full((6, 3), 0.1) + 0.7 * y
    sw = rng.uniform(0.5, 2.0, size=6) if weighted else None
    loss = losses.get(loss_name)
    weights = model.get_weights()

    def f():
        return float(loss(y, model.forward(x), sample_weight=sw))

    numeric = [numgrad(f, layer._weights[n]) for layer in model.layers for n in layer._weights]
    before = f()
    reported = model.train_on_batch(x, y, sample_weight=sw)
    assert reported == pytest.approx(before, rel=1e-10)
    for w0, w1, g in zip(weights, model.get_weights(), numeric):
        gradclose(w0 - w1, g, what=f"{loss_name} step")


def test_trainer_step_gradient_with_l2_regularizer(rng, numgrad, gradclose):
    keras.backend.set_floatx("float64")
    model = keras.Sequential([
        keras.layers.Dense(4, activation="relu", input_shape=(3,), kernel_regularizer="l2"),
        keras.layers.Dense(2, activation="softmax",
                           kernel_regularizer=keras.regularizers.L1L2(l1=0.01, l2=0.02))])
    model.compile(optimizer=keras.optimizers.SGD(1.0), loss="sparse_categorical_crossentropy")
    x = rng.normal(size=(5, 3))
    y = rng.integers(0, 2, size=5)
    k0, k1 = model.layers[0].kernel, model.layers[1].kernel

    def f():
        out = model.forward(x)
        penalty = 0.01 * (k0 ** 2).sum() + 0.01 * np.abs(k1).sum() + 0.02 * (k1 ** 2).sum()
        return float(losses.SparseCategoricalCrossentropy()(y, out)) + penalty

    numeric = [numgrad(f, layer._weights[n]) for layer in model.layers for n in layer._weights]
    before, expected_loss = model.get_weights(), f()
    assert model.train_on_batch(x, y) == pytest.approx(expected_loss, rel=1e-10)
    for w0, w1, g in zip(before, model.get_weights(), numeric):
        gradclose(w0 - w1, g, what="regularised step")


def test_train_on_batch_reports_loss_with_penalty(rng):
    keras.backend.set_floatx("float64")
    model = keras.Sequential([keras.layers.Dense(2, input_shape=(3,),
                                                 kernel_regularizer=keras.regularizers.L2(0.5))])
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    x, y = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    kernel, bias = model.get_weights()
    expected = ((x @ kernel + bias - y) ** 2).mean() + 0.5 * (kernel ** 2).sum()
    assert model.train_on_batch(x, y) == pytest.approx(expected, rel=1e-12)
    assert model.test_on_batch(x, y) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("loss_name", ["sparse_categorical_crossentropy", "mse"])
def test_trainer_step_gradient_on_sequences(loss_name, rng, numgrad, gradclose):
    """Dense on 3-D input (N, T, d): the loss is averaged over N·T positions, weights per sample."""
    keras.backend.set_floatx("float64")
    model = keras.Sequential([keras.layers.Dense(4, activation="tanh", input_shape=(5, 3)),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(1.0), loss=loss_name)
    x = rng.normal(size=(2, 5, 3))
    y = rng.integers(0, 3, size=(2, 5)) if loss_name.startswith("sparse") else rng.normal(size=(2, 5, 3))
    sw = np.array([0.5, 2.0])
    loss = losses.get(loss_name)

    def f():
        return float(loss(y, model.forward(x), sample_weight=sw))

    numeric = [numgrad(f, layer._weights[n]) for layer in model.layers for n in layer._weights]
    before, expected = model.get_weights(), f()
    assert model.train_on_batch(x, y, sample_weight=sw) == pytest.approx(expected, rel=1e-10)
    for w0, w1, g in zip(before, model.get_weights(), numeric):
        gradclose(w0 - w1, g, what=f"{loss_name} on sequences")


@pytest.mark.parametrize("shape", [(3, 5), (1024, 32), (8, 28, 28, 64), (300, 48), (256, 1000)])
def test_add_bias_adds_the_bias_to_every_row(shape):
    from mitbadak.layers.layer import add_bias
    rng = np.random.default_rng(0)
    z = rng.normal(size=shape).astype("float32")
    b = rng.normal(size=shape[-1]).astype("float32")
    expected = z + b.reshape((1,) * (len(shape) - 1) + (-1,))
    out = add_bias(z, b)
    assert out is z
    np.testing.assert_array_equal(z, expected)
