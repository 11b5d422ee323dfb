"""Functional models (issue 11, acceptance 1 and the graph API): float64 gradient checks of
whole models (branches, a shared layer used twice, nested models, a residual CNN, several
outputs with a loss each and loss_weights), both with mitbadak.lab.gradient_check and by hand
(the gradient the trainer really applies, against central differences of a loss written
here); and the graph attributes against what Keras 3.15.1 reported (k3_ticket_facts.json)."""
from __future__ import annotations

import sys

import numpy as np
import pytest

from mitbadak import backend, keras
from mitbadak.keras import layers
from mitbadak.lab import gradient_check

from models_helpers import (BUILDERS, FIXTURES, OUTPUTS, STEMS, TOL, assert_predicts,
                            binary_crossentropy, build_nested, build_resnet, build_shared,
                            build_ticket, categorical_crossentropy, fixture_weights,
                            fixture_x, load_json, mse, numerical_weight_gradients,
                            trainer_gradients)

INPUT_NAMES = ("title", "text_body", "tags")


@pytest.fixture
def float64():
    backend.set_floatx("float64")       # conftest puts float32 back


# ============================================================ models to check
def branches_model():
    """Two inputs, two branches of different depth, merged by Concatenate and Multiply."""
    a = keras.Input((5,), name="a")
    b = keras.Input((4,), name="b")
    left = layers.Dense(6, activation="tanh")(a)
    left = layers.Dense(3, activation="sigmoid")(left)
    right = layers.Dense(3, activation="elu")(b)
    both = layers.concatenate([left, right, layers.multiply([left, right])])
    return keras.Model([a, b], layers.Dense(2)(both))


def shared_model():
    """One Dense used on both inputs (one set of weights, gradients summed over the uses)."""
    a = keras.Input((5,), name="a")
    b = keras.Input((5,), name="b")
    shared = layers.Dense(4, activation="tanh", name="shared")
    ea, eb = shared(a), shared(b)
    merged = layers.concatenate([layers.subtract([ea, eb]), layers.multiply([ea, eb])])
    return keras.Model([a, b], layers.Dense(1, name="score")(merged))


def shared_on_own_output_model():
    """A layer applied to its own output: x -> d -> d (a shared layer in a chain)."""
    x = keras.Input((4,))
    d = layers.Dense(4, activation="tanh", name="twice")
    return keras.Model(x, layers.Dense(2)(d(d(x))))


def nested_functional_model():
    """A functional model inside a functional model inside a functional model."""
    i0 = keras.Input((6,))
    core = keras.Model(i0, layers.Dense(4, activation="tanh")(i0), name="core")
    i1 = keras.Input((6,))
    h = core(i1)
    middle = keras.Model(i1, layers.add([h, layers.Dense(4)(h)]), name="middle")
    x = keras.Input((6,))
    return keras.Model(x, layers.Dense(3)(middle(x)), name="outer")


def sequential_in_functional_model():
    seq = keras.Sequential([keras.Input((6,)), layers.Dense(5, activation="relu"),
                            layers.Dense(3, activation="tanh")], name="seq")
    x = keras.Input((6,))
    return keras.Model(x, layers.Dense(2)(layers.concatenate([seq(x), x])))


def nested_model_used_twice():
    """A nested model shared by two inputs (a siamese network)."""
    i = keras.Input((5,))
    tower = keras.Model(i, layers.Dense(3, activation="tanh")(layers.Dense(4)(i)), name="tower")
    a, b = keras.Input((5,), name="a"), keras.Input((5,), name="b")
    return keras.Model([a, b], layers.Dense(1)(layers.subtract([tower(a), tower(b)])))


def residual_cnn_model():
    x = keras.Input((6, 6, 2))
    h = layers.Conv2D(3, 3, padding="same", activation="tanh")(x)
    r = h
    h = layers.Conv2D(3, 3, padding="same", activation="tanh")(h)
    h = layers.add([h, r])
    r = layers.Conv2D(4, 1, strides=2)(h)
    h = layers.Conv2D(4, 3, strides=2, padding="same")(h)
    h = layers.add([h, r])
    h = layers.AveragePooling2D()(h)
    h = layers.GlobalAveragePooling2D()(h)
    return keras.Model(x, layers.Dense(3, activation="softmax")(h))


def multi_output_model():
    x = keras.Input((6,), name="x")
    h = layers.Dense(5, activation="tanh")(x)
    p = layers.Dense(1, activation="sigmoid", name="p")(h)
    q = layers.Dense(3, activation="softmax", name="q")(h)
    r = layers.Dense(2, name="r")(layers.concatenate([h, x]))
    return keras.Model(x, [p, q, r])


def _x(shapes, seed):
    rng = np.random.default_rng(seed)
    xs = [rng.standard_normal(s) for s in shapes]
    return xs if len(xs) > 1 else xs[0]


MODELS = {
    "branches": (branches_model, [(4, 5), (4, 4)]),
    "shared_layer_twice": (shared_model, [(4, 5), (4, 5)]),
    "shared_layer_on_its_own_output": (shared_on_own_output_model, [(3, 4)]),
    "functional_in_functional_in_functional": (nested_functional_model, [(3, 6)]),
    "sequential_in_functional": (sequential_in_functional_model, [(3, 6)]),
    "nested_model_used_twice": (nested_model_used_twice, [(3, 5), (3, 5)]),
    "residual_cnn": (residual_cnn_model, [(2, 6, 6, 2)]),
    "several_outputs": (multi_output_model, [(4, 6)]),
    "fixture_ticket": (build_ticket, [(3, 40), (3, 40), (3, 12)]),
    "fixture_resnet": (build_resnet, [(2, 16, 16, 3)]),
    "fixture_shared": (build_shared, [(3, 8), (3, 8)]),
    "fixture_nested": (build_nested, [(3, 10)]),
}


# ============================================================ gradient_check (lab)
@pytest.mark.parametrize("name", list(MODELS))
def test_gradient_check_of_whole_model(name):
    make, shapes = MODELS[name]
    model = make()
    n_weights = len(model.trainable_weights)
    result = gradient_check(model, _x(shapes, 1), max_entries=60, verbose=0)
    assert result.ok, str(result)
    # every weight array once (a shared layer's too), and every input
    assert len(result) == n_weights + len(shapes), str(result)


def test_gradient_check_with_a_loss_per_output_and_loss_weights():
    model = multi_output_model()
    model.compile(optimizer="sgd", loss=["binary_crossentropy", "categorical_crossentropy",
                                         "mse"], loss_weights=[1.0, 0.3, 2.0])
    rng = np.random.default_rng(5)
    y = [rng.integers(0, 2, (4, 1)).astype(float), np.eye(3)[rng.integers(0, 3, 4)],
         rng.standard_normal((4, 2))]
    result = gradient_check(model, _x([(4, 6)], 2), y, verbose=0)
    assert result.ok, str(result)


def test_gradient_check_of_a_functional_model_with_dict_losses():
    model = build_ticket()
    model.compile(loss={"priority": "mse", "department": "categorical_crossentropy"},
                  loss_weights={"priority": 1.0, "department": 0.2})
    rng = np.random.default_rng(6)
    x = [(rng.random((4, n)) < 0.3).astype(float) for n in (40, 40, 12)]
    y = {"priority": rng.random((4, 1)), "department": np.eye(4)[rng.integers(0, 4, 4)]}
    result = gradient_check(model, x, y, max_entries=80, verbose=0)
    assert result.ok, str(result)


# ============================================================ by hand: what the trainer applies
def _hand_check(model, x, y, loss, loss_fn, loss_weights=None):
    """The step the trainer takes (SGD, learning rate 1, float64) equals -dL/dw, with L
    written in the test and differentiated by central differences."""
    applied = trainer_gradients(model, x, y, loss, loss_weights)
    numerical = numerical_weight_gradients(model, loss_fn)
    assert len(applied) == len(numerical) == len(model.trainable_weights)
    for v, g, n in zip(model.trainable_weights, applied, numerical):
        np.testing.assert_allclose(g, n, rtol=1e-5, atol=1e-8, err_msg=v.path)


def test_trainer_gradient_of_a_shared_layer_is_the_sum_over_its_uses(float64):
    model = shared_model()
    x = _x([(6, 5), (6, 5)], 3)
    y = np.random.default_rng(4).standard_normal((6, 1))
    _hand_check(model, x, y, "mse", lambda: mse(y, model(x)))
    # The same network with the two uses untied (two Dense layers holding equal weights):
    # the shared layer's gradient is the sum of the two, and each part is not zero.
    a, b = keras.Input((5,), name="a"), keras.Input((5,), name="b")
    da, db = layers.Dense(4, activation="tanh"), layers.Dense(4, activation="tanh")
    ea, eb = da(a), db(b)
    merged = layers.concatenate([layers.subtract([ea, eb]), layers.multiply([ea, eb])])
    untied = keras.Model([a, b], layers.Dense(1)(merged))
    shared_w = model.get_layer("shared").get_weights()
    da.set_weights(shared_w)
    db.set_weights(shared_w)
    untied.layers[-1].set_weights(model.get_layer("score").get_weights())
    g_shared = trainer_gradients(model, x, y, "mse")
    g_untied = trainer_gradients(untied, x, y, "mse")
    assert [v.path for v in model.trainable_weights][:2] == ["shared/kernel", "shared/bias"]
    for k in range(2):                          # kernel, bias
        part_a, part_b = g_untied[k], g_untied[2 + k]
        assert np.abs(part_a).max() > 1e-3 and np.abs(part_b).max() > 1e-3
        assert not np.allclose(part_a, part_b)
        np.testing.assert_allclose(g_shared[k], part_a + part_b, rtol=1e-10, atol=1e-12)


def test_trainer_gradient_of_nested_models(float64):
    model = build_nested()
    x = _x([(5, 10)], 5)
    y = np.random.default_rng(6).standard_normal((5, 2))
    _hand_check(model, x, y, "mse", lambda: mse(y, model(x)))


def test_trainer_gradient_of_a_residual_cnn(float64):
    model = residual_cnn_model()
    x = _x([(3, 6, 6, 2)], 7)
    t = np.eye(3)[[0, 2, 1]]
    _hand_check(model, x, t, "categorical_crossentropy",
                lambda: categorical_crossentropy(t, model(x)))


def test_trainer_gradient_with_a_loss_per_output_and_loss_weights(float64):
    """L = 1.0 · BCE(p) + 0.3 · CCE(q) + 2.0 · MSE(r): the fused sigmoid/softmax gradients
    included."""
    model = multi_output_model()
    x = _x([(5, 6)], 8)
    rng = np.random.default_rng(9)
    y = [rng.integers(0, 2, (5, 1)).astype(float), np.eye(3)[rng.integers(0, 3, 5)],
         rng.standard_normal((5, 2))]

    def loss():
        p, q, r = model(x)
        return (1.0 * binary_crossentropy(y[0], p) + 0.3 * categorical_crossentropy(y[1], q)
                + 2.0 * mse(y[2], r))
    _hand_check(model, x, y, ["binary_crossentropy", "categorical_crossentropy", "mse"], loss,
                loss_weights=[1.0, 0.3, 2.0])


def test_trainer_gradient_with_dict_losses_and_dict_loss_weights(float64):
    model = build_ticket()
    rng = np.random.default_rng(10)
    x = {n: (rng.random((6, k)) < 0.3).astype(float)
         for n, k in (("title", 40), ("text_body", 40), ("tags", 12))}
    y = {"department": np.eye(4)[rng.integers(0, 4, 6)], "priority": rng.random((6, 1))}

    def loss():
        p, d = model(x)
        return mse(y["priority"], p) + 0.2 * categorical_crossentropy(y["department"], d)
    _hand_check(model, x, y, {"priority": "mse", "department": "categorical_crossentropy"},
                loss, loss_weights={"department": 0.2, "priority": 1.0})


def test_output_none_loss_is_not_trained(float64):
    """loss=None for one output: that output's own layer gets no gradient."""
    model = multi_output_model()
    x = _x([(4, 6)], 12)
    y = [np.zeros((4, 1)), None, np.ones((4, 2))]
    applied = trainer_gradients(model, x, y, ["binary_crossentropy", None, "mse"])
    by_path = {v.path: g for v, g in zip(model.trainable_weights, applied)}
    assert not np.any(by_path["q/kernel"]) and not np.any(by_path["q/bias"])
    assert np.any(by_path["p/kernel"]) and np.any(by_path["r/kernel"])


# ============================================================ graph API vs Keras 3's facts
@pytest.fixture(scope="module")
def facts():
    return load_json("k3_ticket_facts.json")


def test_ticket_model_layers_inputs_outputs(facts):
    model = build_ticket()
    assert model.name == facts["model.name"] == "functional"
    assert [[l.name, type(l).__name__] for l in model.layers] == facts["layers"]
    assert [[t.name, list(t.shape), str(t.dtype)] for t in model.inputs] == facts["inputs"]
    assert [[list(t.shape), str(t.dtype)] for t in model.outputs] == \
        [o[1:] for o in facts["outputs"]]
    assert type(model.inputs).__name__ == facts["type(model.inputs)"] == "list"
    assert type(model.input).__name__ == facts["type(model.input)"] == "list"
    assert model.output_names == facts["model.output_names"]
    assert [list(s) for s in model.input_shape] == facts["model.input_shape"]
    assert [list(s) for s in model.output_shape] == facts["model.output_shape"]
    assert model.get_layer(index=0).name == facts["get_layer(index=0).name"]
    assert model.get_layer(index=3).name == facts["get_layer(index=3).name"]
    assert model.get_layer("priority") is model.layers[5]


def test_ticket_model_layer_inputs_and_outputs(facts):
    """layer.input / layer.output of every layer: shapes as Keras reports them, one inbound
    node each; Input tensors carry the input's name."""
    model = build_ticket()
    for layer in model.layers:
        want = facts["layer.input/output"][layer.name]
        assert list(layer.output.shape) == want["output"][1], layer.name
        assert len(layer._inbound_nodes) == want["inbound_nodes"], layer.name
        if type(layer).__name__ == "InputLayer":
            assert layer.output.name == want["output"][0] == layer.name
            continue
        got = layer.input
        got = [list(t.shape) for t in got] if isinstance(got, list) else list(got.shape)
        wanted = want["input"]
        wanted = [s for _, s in wanted] if isinstance(wanted[0], list) else wanted[1]
        assert got == wanted, layer.name
    # tf.keras 2.x's layer.input_shape / output_shape (Keras 3 has them on the model only)
    assert model.get_layer("concatenate").input_shape == [(None, 40), (None, 40), (None, 12)]
    assert model.get_layer("concatenate").output_shape == (None, 92)
    assert model.get_layer("department").output_shape == (None, 4)


def test_input_layer_input_is_not_an_error():
    """Keras 3: InputLayer.input is [] (k3_ticket_facts.json); tf_keras: the tensor itself.
    Either way a learner reading model.layers[0].input gets no raw IndexError."""
    model = build_ticket()
    got = model.layers[0].input
    assert got == [] or got is model.inputs[0]


def test_weight_paths_and_order(facts):
    model = build_ticket()
    assert [[w.path, list(w.shape)] for w in model.weights] == facts["weights"]


def test_predict_and_call_return_types(facts):
    model = build_ticket()
    model.set_weights(fixture_weights("ticket"))
    x = fixture_x("ticket")
    pred = model.predict(x, verbose=0)
    assert type(pred).__name__ == facts["predict(list outputs) type"] == "list"
    assert len(pred) == facts["predict(list outputs) len"] == 2
    as_dict = model.predict(dict(zip(INPUT_NAMES, x)), verbose=0)
    assert type(as_dict).__name__ == facts["predict(x as dict keyed by input name) type"]
    for u, v in zip(pred, as_dict):
        np.testing.assert_array_equal(u, v)
    called = model(x)
    assert type(called).__name__ == facts["model(x) type (eager call on a list of arrays)"]
    for u, v in zip(called, pred):
        np.testing.assert_allclose(np.asarray(u), v, **TOL)
    assert_predicts(model, "ticket")


def test_dict_outputs(facts):
    """keras.Model(inputs, outputs={...}): Keras sorts output_names/outputs/layers by key but
    predict returns the dict in the order it was written."""
    model = build_ticket(dict_outputs=True)
    assert model.output_names == facts["dict outputs: model.output_names"]
    assert [list(t.shape) for t in model.outputs] == [[None, 4], [None, 1]]
    assert type(model.outputs).__name__ == facts["dict outputs: type(model.outputs)"]
    assert type(model.output).__name__ == facts["dict outputs: type(model.output)"]
    assert [l.name for l in model.layers][3:] == \
        ["concatenate", "dense", "department", "priority"] == facts["dict outputs: layers"][3:]
    listed = build_ticket()          # layers: inputs, concatenate_1, dense_1, priority, department
    listed.set_weights(fixture_weights("ticket"))
    for mine, theirs in zip(model.layers[4:], [listed.layers[4], listed.layers[6],
                                                listed.layers[5]]):
        mine.set_weights(theirs.get_weights())
    x = fixture_x("ticket")
    pred = model.predict(x, verbose=0)
    assert type(pred).__name__ == facts["dict outputs: predict type"] == "dict"
    assert list(pred) == facts["dict outputs: predict keys in order"] == ["priority",
                                                                          "department"]
    want = listed.predict(x, verbose=0)
    np.testing.assert_array_equal(pred["priority"], want[0])
    np.testing.assert_array_equal(pred["department"], want[1])


def test_single_output_model(facts):
    model = build_shared()
    pred = model.predict(fixture_x("shared"), verbose=0)
    assert type(pred).__name__ == facts["single output: predict type"] == "ndarray"
    assert type(model.outputs).__name__ == facts["single output: type(model.outputs)"]
    assert model.output_names == facts["single output: model.output_names"]
    assert model.output is model.outputs[0]


def test_one_output_given_in_a_list_predicts_an_array():
    """keras.Model(x, [y]): Keras 3 and tf_keras both predict an ndarray (model.output is the
    list in Keras 3)."""
    x = keras.Input((3,))
    model = keras.Model(x, [layers.Dense(2)(x)])
    data = np.ones((2, 3), "float32")
    assert isinstance(model.predict(data, verbose=0), np.ndarray)
    assert isinstance(np.asarray(model(data)), np.ndarray) and np.asarray(model(data)).ndim == 2


def test_shared_layer_has_a_node_per_call_and_one_set_of_weights():
    model = build_shared()
    shared = model.get_layer("shared")
    assert len(shared._inbound_nodes) == 2
    assert [w.path for w in model.weights] == ["shared/kernel", "shared/bias", "score/kernel",
                                               "score/bias"]
    assert model.count_params() == 73          # README: 73 parameters
    assert [l.name for l in model.layers] == ["a", "b", "shared", "subtract", "concatenate",
                                              "score"]


@pytest.mark.parametrize("stem, params", [("ticket", 1573), ("resnet", 2789), ("nested", 213),
                                          ("shared", 73), ("merge", 0)])
def test_parameter_counts_and_weight_order_match_keras(stem, params):
    model = BUILDERS[stem]()
    assert model.count_params() == params
    assert [w.shape for w in model.get_weights()] == [w.shape for w in fixture_weights(stem)]


def test_layer_order_of_the_fixture_models_matches_keras():
    """model.layers in Keras's order (by depth from the inputs): the configs Keras wrote."""
    for stem in STEMS:
        want = [l["config"]["name"] for l in load_json(f"k3_{stem}_config.json")["layers"]]
        backend.clear_session()
        got = [l.name for l in BUILDERS[stem]().layers]
        assert got == want, stem


def test_output_names_of_the_fixture_models():
    for stem in STEMS:
        backend.clear_session()                 # fresh auto-names, as in the fixture script
        assert BUILDERS[stem]().output_names == OUTPUTS[stem], stem


def test_calling_a_model_on_arrays_and_on_tensors():
    model = build_shared()
    model.set_weights(fixture_weights("shared"))
    x = fixture_x("shared")
    np.testing.assert_allclose(np.asarray(model(x)), model.predict(x, verbose=0), **TOL)
    a, b = keras.Input((8,)), keras.Input((8,))
    y = model([a, b])                       # a model used as a layer records a node
    assert y.shape == (None, 1) and y._keras_history[0] is model
    outer = keras.Model([a, b], layers.Activation("sigmoid")(y))
    np.testing.assert_allclose(outer.predict(x, verbose=0),
                               1 / (1 + np.exp(-model.predict(x, verbose=0))), rtol=1e-5)


def test_sequential_has_inputs_outputs_and_layer_outputs():
    seq = keras.Sequential([layers.Dense(4, activation="relu", input_shape=(3,)),
                            layers.Dense(2)])
    assert len(seq.inputs) == 1 and seq.inputs[0].shape == (None, 3)
    assert seq.outputs[0].shape == (None, 2)
    assert seq.layers[0].output.shape == (None, 4)
    feature = keras.Model(seq.inputs, seq.layers[0].output)
    x = np.random.default_rng(0).random((5, 3)).astype("float32")
    w, b = seq.layers[0].get_weights()
    np.testing.assert_allclose(feature.predict(x, verbose=0), np.maximum(x @ w + b, 0),
                               rtol=1e-6, atol=1e-6)


def test_the_fixture_script_keras_code_runs_unchanged_on_mitbadak():
    """make_functional.py's builders, written for Keras (they take the keras module), given
    mitbadak instead: same layers, and with the fixture weights the same predictions."""
    sys.path.insert(0, str(FIXTURES))
    try:
        import make_functional
    finally:
        sys.path.remove(str(FIXTURES))
    for stem, build in make_functional.BUILDERS.items():
        backend.clear_session()
        model = build(keras)
        model.set_weights(fixture_weights(stem))
        assert_predicts(model, stem, what=f"make_functional.build_{stem}(mitbadak)")


def test_unbuilt_sequential_called_on_data_is_built_from_its_shape():
    """keras.Sequential([Dense(2)])(x) builds for x's shape, as in Keras."""
    model = keras.Sequential([layers.Dense(2, activation="relu"), layers.Dense(1)])
    x = np.random.default_rng(0).random((4, 3)).astype("float32")
    y = np.asarray(model(x))
    (w1, b1), (w2, b2) = model.layers[0].get_weights(), model.layers[1].get_weights()
    np.testing.assert_allclose(y, np.maximum(x @ w1 + b1, 0) @ w2 + b2, rtol=1e-5, atol=1e-6)
    assert model.input_shape == (None, 3)


def test_model_called_without_training_uses_each_layers_default():
    """Keras resolves training=None to each layer's own call() default: Dropout is off, an
    augmentation layer is on; predict and training=False turn both off."""
    inp = keras.Input((6, 6, 1))
    out = layers.Dropout(0.9)(layers.RandomFlip("horizontal_and_vertical", seed=1)(inp))
    model = keras.Model(inp, out)
    x = np.arange(5 * 36, dtype="float32").reshape(5, 6, 6, 1)
    flipped = np.asarray(model(x))
    assert not np.array_equal(flipped, x)                       # flipped, never dropped:
    assert np.array_equal(np.sort(flipped.reshape(5, -1), axis=1),
                          np.sort(x.reshape(5, -1), axis=1))    # the same pixels, moved
    np.testing.assert_array_equal(np.asarray(model(x, training=False)), x)
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)
