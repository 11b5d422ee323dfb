"""ReLU, LeakyReLU, PReLU, ELU, Softmax, Identity and SeparableConv1D/2D: gradient checks
(float64 central differences) and parity with Keras 3.15 (outputs, dL/dx and weight gradients
written by make_images.py with the TensorFlow backend, weights from that file)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mitbadak import keras
from mitbadak.keras import layers as L

from conftest import check_gradients

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "keras" / "images"
DATA = np.load(FIXTURES / "k3_layers.npz")
INFO = json.loads((FIXTURES / "k3_layers.json").read_text())

# The same layers as make_images.py's layer_cases(), made in code.
CASES = {
    "relu": lambda **k: L.ReLU(**k),
    "relu_capped": lambda **k: L.ReLU(max_value=1.5, negative_slope=0.1, threshold=0.3, **k),
    "relu6_leaky": lambda **k: L.ReLU(max_value=6.0, negative_slope=0.2, **k),
    "leaky_relu": lambda **k: L.LeakyReLU(negative_slope=0.2, **k),
    "leaky_relu_default": lambda **k: L.LeakyReLU(**k),
    "prelu": lambda **k: L.PReLU(**k),
    "prelu_shared": lambda **k: L.PReLU(shared_axes=[1, 2], **k),
    "elu": lambda **k: L.ELU(alpha=0.7, **k),
    "softmax": lambda **k: L.Softmax(**k),
    "softmax_axis1": lambda **k: L.Softmax(axis=1, **k),
    "softmax_axes": lambda **k: L.Softmax(axis=(1, 2), **k),
    "identity": lambda **k: L.Identity(**k),
    "separable": lambda **k: L.SeparableConv2D(4, 3, padding="same", depth_multiplier=2,
                                               activation="relu", **k),
    "separable_strided": lambda **k: L.SeparableConv2D(3, (3, 2), strides=2, use_bias=False,
                                                       **k),
    "separable_dilated": lambda **k: L.SeparableConv2D(2, 3, dilation_rate=2, padding="same",
                                                       **k),
    "separable1d": lambda **k: L.SeparableConv1D(3, 3, padding="same", depth_multiplier=2, **k),
}


def keras_weights(case):
    return [DATA[f"{case}_w{i}"] for i in range(4) if f"{case}_w{i}" in DATA.files]


@pytest.mark.parametrize("case", sorted(CASES))
def test_forward_and_gradients_match_keras(case):
    """Output, dL/dx and dL/dweights for L = Σ y·r, Keras's weights: to 1e-5."""
    layer = CASES[case]()
    x = DATA[f"{case}_x"]
    layer(x)
    if layer.weights:
        layer.set_weights(keras_weights(case))
    y = layer(x, training=True)
    np.testing.assert_allclose(y, DATA[f"{case}_y"], rtol=1e-5, atol=1e-5)
    dx = layer.backward(DATA[f"{case}_r"].copy())
    np.testing.assert_allclose(dx, DATA[f"{case}_dx"], rtol=1e-5, atol=1e-5)
    for i, name in enumerate(layer._trainable_names):
        np.testing.assert_allclose(layer.grads[name], DATA[f"{case}_dw{i}"], rtol=1e-5,
                                   atol=2e-5, err_msg=f"{case}: d{name}")


@pytest.mark.parametrize("case", sorted(CASES))
def test_names_weights_and_config_keys_match_keras(case):
    layer = CASES[case]()
    layer(DATA[f"{case}_x"])
    assert layer.name == INFO[case]["name"]
    assert [w.name for w in layer.weights] == INFO[case]["weights"]
    assert [tuple(w.shape) for w in layer.weights] == [w.shape for w in keras_weights(case)]
    ours = set(layer.get_config())
    theirs = set(INFO[case]["config"])
    # mitbadak writes ELU's alpha (Keras 3 drops it from the config, losing it on reload).
    assert theirs - ours == set(), f"{case}: Keras keys missing: {theirs - ours}"
    assert ours - theirs <= {"alpha"}
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()


ACTIVATIONS = [
    (lambda: L.ReLU(dtype="float64"), (3, 5)),
    (lambda: L.ReLU(max_value=1.2, negative_slope=0.3, threshold=0.4, dtype="float64"), (4, 6)),
    (lambda: L.LeakyReLU(0.2, dtype="float64"), (3, 4, 2)),
    (lambda: L.PReLU(alpha_initializer="random_normal", dtype="float64"), (3, 4, 5)),
    (lambda: L.PReLU(alpha_initializer="random_normal", shared_axes=[1, 2], dtype="float64"),
     (2, 3, 4, 3)),
    (lambda: L.ELU(alpha=0.7, dtype="float64"), (3, 6)),
    (lambda: L.Softmax(dtype="float64"), (3, 5)),
    (lambda: L.Softmax(axis=1, dtype="float64"), (2, 4, 3)),
    (lambda: L.Softmax(axis=(1, 2), dtype="float64"), (2, 3, 3)),
    (lambda: L.Identity(dtype="float64"), (2, 3)),
    (lambda: L.SeparableConv2D(3, 3, padding="same", depth_multiplier=2, activation="tanh",
                               bias_initializer="random_normal", dtype="float64"), (2, 5, 4, 2)),
    (lambda: L.SeparableConv2D(2, (2, 3), strides=(2, 1), dilation_rate=1, dtype="float64"),
     (2, 6, 5, 3)),
    (lambda: L.SeparableConv2D(2, 3, dilation_rate=2, padding="same", dtype="float64",
                               data_format="channels_first"), (2, 3, 6, 5)),
    (lambda: L.SeparableConv1D(3, 3, depth_multiplier=2, padding="same", dtype="float64"),
     (2, 7, 2)),
]


@pytest.mark.parametrize("make,shape", ACTIVATIONS,
                         ids=[f"{i}-{type(m()).__name__}" for i, (m, _) in enumerate(ACTIVATIONS)])
def test_gradient_check(make, shape, rng):
    keras.backend.clear_session()
    layer = make()
    # Away from the kinks (0, threshold, max_value), where the derivative is defined.
    x = rng.normal(size=shape)
    x = np.where(np.abs(x) < 0.05, 0.3, x)
    for kink in (0.4, 1.2):
        x = np.where(np.abs(x - kink) < 0.05, kink + 0.2, x)
    check_gradients(layer, x)


def test_relu_formula():
    """Keras's definition written out: x > threshold passes (capped at max_value), below it
    negative_slope·(x − threshold)."""
    x = np.array([[-2.0, -0.5, 0.0, 0.25, 0.5, 1.0, 3.0]], dtype=np.float32)
    y = L.ReLU(max_value=2.0, negative_slope=0.5, threshold=0.5)(x)
    expected = np.where(x > 0.5, np.minimum(x, 2.0), 0.5 * (x - 0.5))
    np.testing.assert_allclose(y, expected)
    np.testing.assert_array_equal(L.ReLU(6.0)(np.array([[-1.0, 3.0, 9.0]])), [[0.0, 3.0, 6.0]])


def test_softmax_mask_gives_zero_probability_and_gradient(rng):
    x = rng.normal(size=(2, 5))
    mask = np.array([[True, True, False, True, False], [True, False, True, True, True]])
    layer = L.Softmax(dtype="float64")
    y = layer(x, mask=mask)
    assert np.all(y[~mask] == 0)
    np.testing.assert_allclose(y.sum(axis=-1), 1.0)
    e = np.where(mask, np.exp(x - x.max(axis=1, keepdims=True)), 0)
    np.testing.assert_allclose(y, e / e.sum(axis=1, keepdims=True), rtol=1e-12)
    r = rng.normal(size=y.shape)
    dx = layer.backward(r)
    assert np.all(dx[~mask] == 0)
    y2 = lambda v: np.where(mask, np.exp(v - v.max(1, keepdims=True)), 0) / np.where(  # noqa
        mask, np.exp(v - v.max(1, keepdims=True)), 0).sum(1, keepdims=True)
    num = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += 1e-6
        xm[i] -= 1e-6
        num[i] = ((y2(xp) * r).sum() - (y2(xm) * r).sum()) / 2e-6
    np.testing.assert_allclose(dx, num, rtol=1e-5, atol=1e-8)
    with pytest.raises(ValueError, match="broadcastable"):
        L.Softmax()(x, mask=np.ones((2, 3), bool))


def test_errors_name_the_layer():
    with pytest.raises(ValueError, match="ReLU 're_lu'.*negative_slope"):
        L.ReLU(negative_slope=-1)
    with pytest.raises(ValueError, match="LeakyReLU.*negative_slope"):
        L.LeakyReLU(None)
    with pytest.raises(ValueError, match="shared_axes"):
        L.PReLU(shared_axes=[0])
    with pytest.warns(UserWarning, match="alpha"):
        assert L.LeakyReLU(alpha=0.1).negative_slope == 0.1
    with pytest.raises(ValueError, match="depth_multiplier"):
        L.SeparableConv2D(3, 3, depth_multiplier=0)
    with pytest.raises(ValueError, match="channel axis"):
        L.SeparableConv2D(3, 3)(np.zeros((1, 5, 5)))


def test_separable_is_depthwise_then_pointwise(rng):
    """Independent reference: DepthwiseConv2D then a 1x1 Conv2D with the same kernels."""
    x = rng.normal(size=(2, 7, 6, 3)).astype(np.float32)
    sep = L.SeparableConv2D(5, 3, strides=2, padding="same", depth_multiplier=2)
    sep(x)
    dw = L.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=2, use_bias=False)
    pw = L.Conv2D(5, 1)
    dw(x)
    pw(dw(x))
    dkernel, pkernel, bias = sep.get_weights()
    dw.set_weights([dkernel])
    pw.set_weights([pkernel, bias])
    np.testing.assert_allclose(sep(x), pw(dw(x)), rtol=1e-5, atol=1e-6)
    assert sep.count_params() == 3 * 3 * 3 * 2 + 6 * 5 + 5


def test_layers_train_in_a_model(rng):
    """One training step of a small CNN with the new layers changes every weight."""
    model = keras.Sequential([
        keras.Input((8, 8, 3)), L.SeparableConv2D(4, 3, padding="same"),
        L.PReLU(shared_axes=[1, 2]), L.Flatten(), L.Dense(6), L.ReLU(max_value=6.0,
                                                                        negative_slope=0.1),
        L.LeakyReLU(0.2), L.ELU(), L.Dense(3), L.Softmax()])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    before = [w.copy() for w in model.get_weights()]
    model.train_on_batch(rng.normal(size=(4, 8, 8, 3)).astype(np.float32), np.array([0, 1, 2, 1]))
    changed = [not np.array_equal(a, b) for a, b in zip(before, model.get_weights())]
    assert all(changed), changed
