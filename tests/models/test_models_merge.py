"""Merge layers (issue 11, acceptance 1 and 2): each one's forward against the formula written
here, its backward against central differences in float64 (by hand with tests/numeric.py and
with mitbadak.lab.gradient_check), on several axes, with broadcasting inputs, and the fixture
model with all thirteen merges (written by Keras 3.15.1) predicting Keras's numbers to 1e-5."""
from __future__ import annotations

import numpy as np
import pytest

from mitbadak import backend, keras
from mitbadak.keras import layers
from mitbadak.lab import gradient_check

from models_helpers import assert_predicts, build_merge, numerical_gradient


def _cos(x1, x2, axis1, axis2):
    n1 = x1 / np.sqrt((x1 ** 2).sum(axis=axis1, keepdims=True))
    n2 = x2 / np.sqrt((x2 ** 2).sum(axis=axis2, keepdims=True))
    return n1, n2


# name: (layer factory, input shapes with the batch axis, the forward formula)
CASES = {
    "add_2": (lambda: layers.Add(), [(4, 5), (4, 5)], lambda a, b: a + b),
    "add_3": (lambda: layers.Add(), [(4, 5)] * 3, lambda a, b, c: a + b + c),
    "subtract": (lambda: layers.Subtract(), [(4, 5), (4, 5)], lambda a, b: a - b),
    "multiply_2": (lambda: layers.Multiply(), [(4, 5), (4, 5)], lambda a, b: a * b),
    "multiply_3": (lambda: layers.Multiply(), [(4, 5)] * 3, lambda a, b, c: a * b * c),
    "average_2": (lambda: layers.Average(), [(4, 5), (4, 5)], lambda a, b: (a + b) / 2),
    "average_3": (lambda: layers.Average(), [(4, 5)] * 3, lambda a, b, c: (a + b + c) / 3),
    "maximum_3": (lambda: layers.Maximum(), [(4, 5)] * 3,
                  lambda a, b, c: np.maximum(np.maximum(a, b), c)),
    "minimum_2": (lambda: layers.Minimum(), [(4, 5), (4, 5)], np.minimum),
    "minimum_3_images": (lambda: layers.Minimum(), [(2, 3, 3, 2)] * 3,
                         lambda a, b, c: np.minimum(np.minimum(a, b), c)),
    "concatenate_last_2d": (lambda: layers.Concatenate(), [(4, 3), (4, 5), (4, 2)],
                            lambda *xs: np.concatenate(xs, axis=-1)),
    "concatenate_axis1_3d": (lambda: layers.Concatenate(axis=1), [(2, 3, 4), (2, 5, 4)],
                             lambda *xs: np.concatenate(xs, axis=1)),
    "concatenate_axis2_3d": (lambda: layers.Concatenate(axis=2), [(2, 3, 4), (2, 3, 1)],
                             lambda *xs: np.concatenate(xs, axis=2)),
    "concatenate_axis_minus2_3d": (lambda: layers.Concatenate(axis=-2), [(2, 1, 4), (2, 3, 4)],
                                   lambda *xs: np.concatenate(xs, axis=1)),
    "concatenate_channels_4d": (lambda: layers.Concatenate(axis=-1),
                                [(2, 3, 3, 2), (2, 3, 3, 4)],
                                lambda *xs: np.concatenate(xs, axis=-1)),
    "concatenate_height_4d": (lambda: layers.Concatenate(axis=1), [(2, 2, 3, 2), (2, 4, 3, 2)],
                              lambda *xs: np.concatenate(xs, axis=1)),
    "dot_axes1_2d": (lambda: layers.Dot(axes=1), [(4, 5), (4, 5)],
                     lambda a, b: (a * b).sum(axis=1, keepdims=True)),
    "dot_axes_minus1_2d": (lambda: layers.Dot(axes=-1), [(4, 5), (4, 5)],
                           lambda a, b: (a * b).sum(axis=1, keepdims=True)),
    "dot_axes1_2d_normalized": (
        lambda: layers.Dot(axes=1, normalize=True), [(4, 5), (4, 5)],
        lambda a, b: (lambda n: (n[0] * n[1]).sum(axis=1, keepdims=True))(_cos(a, b, 1, 1))),
    "dot_axes22_3d": (lambda: layers.Dot(axes=(2, 2)), [(2, 3, 5), (2, 4, 5)],
                      lambda a, b: np.einsum("bid,bjd->bij", a, b)),
    "dot_axes1_3d": (lambda: layers.Dot(axes=1), [(2, 3, 5), (2, 3, 4)],
                     lambda a, b: np.einsum("bdi,bdj->bij", a, b)),
    "dot_axes_pair12_3d": (lambda: layers.Dot(axes=[1, 2]), [(2, 3, 5), (2, 4, 3)],
                           lambda a, b: np.einsum("bdi,bjd->bij", a, b)),
    "dot_axes22_3d_normalized": (
        lambda: layers.Dot(axes=2, normalize=True), [(2, 3, 5), (2, 4, 5)],
        lambda a, b: (lambda n: np.einsum("bid,bjd->bij", *n))(_cos(a, b, 2, 2))),
    "dot_axes_pair12_2d_3d": (lambda: layers.Dot(axes=(1, 2)), [(2, 5), (2, 3, 5)],
                              lambda a, b: np.einsum("bd,bjd->bj", a, b)),
    # Broadcasting (Keras 3's Merge: equal sizes or 1; a lower-rank input gets size-1 axes
    # right after the batch axis). The gradient of a broadcast input is summed back.
    "add_broadcast_size1": (lambda: layers.Add(), [(4, 3, 5), (4, 1, 5)], lambda a, b: a + b),
    "subtract_broadcast_size1": (lambda: layers.Subtract(), [(4, 1), (4, 5)],
                                 lambda a, b: a - b),
    "multiply_broadcast_lower_rank": (lambda: layers.Multiply(), [(4, 3, 5), (4, 5)],
                                      lambda a, b: a * b[:, None, :]),
    "average_broadcast_lower_rank": (lambda: layers.Average(), [(4, 5), (4, 3, 5), (4, 3, 1)],
                                     lambda a, b, c: (a[:, None, :] + b + c) / 3),
    "maximum_broadcast_size1": (lambda: layers.Maximum(), [(4, 3, 1), (4, 3, 5)],
                                np.maximum),
    "minimum_broadcast_lower_rank": (lambda: layers.Minimum(), [(4, 2, 3, 5), (4, 5)],
                                     lambda a, b: np.minimum(a, b[:, None, None, :])),
}


def _inputs(shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes]


@pytest.fixture
def float64():
    backend.set_floatx("float64")       # conftest puts float32 back


@pytest.mark.parametrize("case", list(CASES))
def test_forward_is_the_formula(case, float64):
    make, shapes, formula = CASES[case]
    xs = _inputs(shapes)
    y = make()(xs)                      # an eager call on arrays, as keras allows
    assert y.dtype == np.float64
    np.testing.assert_allclose(y, formula(*xs), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", list(CASES))
def test_backward_by_central_differences(case, float64):
    """dL/dx_i of L = Σ y ⊙ R, from the layer's backward and from central differences of
    the forward, for every input (a broadcast input included)."""
    make, shapes, _ = CASES[case]
    layer = make()
    xs = _inputs(shapes, seed=1)
    y = layer(xs)
    R = np.random.default_rng(2).standard_normal(y.shape)
    layer.forward(xs)
    grads = layer.backward(R.copy())
    assert len(grads) == len(xs)
    for i, (x, g) in enumerate(zip(xs, grads)):
        assert g.shape == x.shape, f"input {i}: gradient shape {g.shape}, input {x.shape}"
        num = numerical_gradient(lambda: (layer.forward(xs) * R).sum(), x)
        np.testing.assert_allclose(g, num, rtol=1e-6, atol=1e-8, err_msg=f"input {i}")


@pytest.mark.parametrize("case", list(CASES))
def test_gradient_check(case):
    make, shapes, _ = CASES[case]
    result = gradient_check(make(), _inputs(shapes, seed=3), verbose=0)
    assert result.ok, str(result)
    assert [r.name for r in result] == [f"input {i}" for i in range(len(shapes))]
    assert result.max_relative_error < 1e-6, str(result)


def test_maximum_on_ties_the_gradient_is_not_duplicated(float64):
    """Where inputs tie for the max, backward hands out dy once in total (TensorFlow gives it
    to the first input, JAX splits it); the other inputs get nothing."""
    a = np.array([[1.0, 2.0, 3.0]])
    b = np.array([[1.0, 0.0, 5.0]])
    c = np.array([[0.0, 2.0, 5.0]])
    layer = layers.Maximum()
    layer([a, b, c])
    dy = np.array([[1.0, 10.0, 100.0]])
    ga, gb, gc = layer.backward(dy.copy())
    np.testing.assert_allclose(ga + gb + gc, dy)
    np.testing.assert_allclose(gc[0, 0], 0.0)         # c was not the max there
    np.testing.assert_allclose(ga[0, 2], 0.0)         # a was not the max there


@pytest.mark.parametrize("fn, cls, kwargs", [
    (layers.add, layers.Add, {}), (layers.subtract, layers.Subtract, {}),
    (layers.multiply, layers.Multiply, {}), (layers.average, layers.Average, {}),
    (layers.maximum, layers.Maximum, {}), (layers.minimum, layers.Minimum, {}),
    (layers.concatenate, layers.Concatenate, {"axis": -1}),
    (layers.dot, layers.Dot, {"axes": 1}),
])
def test_functional_forms_make_the_layer(fn, cls, kwargs):
    a, b = keras.Input((5,), name="a"), keras.Input((5,), name="b")
    out = fn([a, b], name="merged", **kwargs)
    layer = out._keras_history[0]
    assert type(layer) is cls and layer.name == "merged"
    x = _inputs([(3, 5), (3, 5)], seed=4)
    model = keras.Model([a, b], out)
    direct = cls(**kwargs)([x[0].astype("float32"), x[1].astype("float32")])
    np.testing.assert_allclose(model.predict(x, verbose=0), direct, rtol=1e-6)


@pytest.mark.parametrize("make, shapes, expected", [
    (lambda: layers.Add(), [(None, 5), (None, 5)], (None, 5)),
    (lambda: layers.Add(), [(None, 3, 5), (None, 1, 5)], (None, 3, 5)),
    (lambda: layers.Multiply(), [(None, 3, 5), (None, 5)], (None, 3, 5)),
    (lambda: layers.Concatenate(), [(None, 3), (None, 5), (None, 2)], (None, 10)),
    (lambda: layers.Concatenate(axis=1), [(None, 3, 5), (None, 4, 5)], (None, 7, 5)),
    (lambda: layers.Dot(axes=1), [(None, 5), (None, 5)], (None, 1)),
    (lambda: layers.Dot(axes=(2, 2)), [(None, 3, 5), (None, 4, 5)], (None, 3, 4)),
    (lambda: layers.Dot(axes=1), [(None, 3, 5), (None, 3, 4)], (None, 5, 4)),
])
def test_symbolic_output_shapes(make, shapes, expected):
    tensors = [keras.Input(s[1:]) for s in shapes]
    assert make()(tensors).shape == expected


def test_merge_fixture_model_predicts_keras_numbers():
    """Model 5 of the fixtures (13 merge outputs, no weights), built here with mitbadak's
    API, predicts what Keras 3.15.1 predicted (k3_merge.npz) and tf_keras (k2_merge.npz)."""
    model = build_merge()
    assert model.output_names == ["add3", "subtract", "multiply3", "average3", "maximum3",
                                  "minimum", "concat_2d", "concat_last_3d", "concat_axis1_3d",
                                  "dot", "dot_normalized", "dot_axes22_3d", "dot_axes1_3d"]
    assert model.count_params() == 0
    assert_predicts(model, "merge", "k3", "mitbadak-built merge model vs Keras 3")
    assert_predicts(model, "merge", "k2", "mitbadak-built merge model vs tf_keras")


def test_merge_layers_get_config_round_trip():
    for layer in (layers.Concatenate(axis=1, name="c"), layers.Dot(axes=(1, 2), normalize=True,
                                                                   name="d"),
                  layers.Add(name="a")):
        config = layer.get_config()
        clone = type(layer).from_config(config)
        assert clone.get_config() == config
    assert layers.Dot(axes=(1, 2), normalize=True).get_config()["axes"] in ([1, 2], (1, 2))
    assert layers.Dot(axes=(1, 2), normalize=True).get_config()["normalize"] is True
    assert layers.Concatenate(axis=1).get_config()["axis"] == 1
