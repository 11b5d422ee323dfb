"""Errors a learner meets with models as graphs (issue 11): each a clear error naming the layer,
input or output, the shapes or names involved, and the fix. The assertions check those key
words, not the whole sentence."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from mitbadak import keras
from mitbadak.keras import layers

from models_helpers import build_ticket


def message(excinfo) -> str:
    return str(excinfo.value)


def has(text: str, *words: str) -> None:
    missing = [w for w in words if w.lower() not in text.lower()]
    assert not missing, f"{missing} not in the message:\n{text}"


# ================================================================ layer calls
def test_dense_called_on_a_list():
    a, b = keras.Input((4,), name="a"), keras.Input((5,), name="b")
    with pytest.raises(ValueError) as e:
        layers.Dense(3, name="hidden")([a, b])
    has(message(e), "'hidden'", "Dense", "one input", "2", "(None, 4)", "(None, 5)",
        "Concatenate")


def test_merge_layer_called_on_one_tensor():
    a = keras.Input((4,))
    with pytest.raises(ValueError) as e:
        layers.Add(name="residual_add")(a)
    has(message(e), "'residual_add'", "list", "Add()([a, b])", "(None, 4)")


def test_add_of_mismatched_shapes():
    a, b = keras.Input((4,)), keras.Input((5,))
    with pytest.raises(ValueError) as e:
        layers.Add(name="join")([a, b])
    has(message(e), "'join'", "(None, 4)", "(None, 5)", "Concatenate")


def test_concatenate_of_mismatched_shapes():
    p, q = keras.Input((3, 4)), keras.Input((5, 2))
    with pytest.raises(ValueError) as e:
        layers.Concatenate(name="cat")([p, q])
    has(message(e), "'cat'", "(None, 3, 4)", "(None, 5, 2)", "axis")


def test_subtract_of_three_tensors():
    a = keras.Input((4,))
    with pytest.raises(ValueError) as e:
        layers.Subtract(name="minus")([a, a, a])
    has(message(e), "'minus'", "2")


def test_dot_of_mismatched_axis_sizes():
    a, b = keras.Input((4,)), keras.Input((5,))
    with pytest.raises(ValueError) as e:
        layers.Dot(axes=1, name="similarity")([a, b])
    has(message(e), "'similarity'", "4", "5", "(None, 4)", "(None, 5)")


def test_layer_of_the_wrong_rank():
    a = keras.Input((784,))
    with pytest.raises(ValueError) as e:
        layers.Conv2D(8, 3, name="conv")(a)
    has(message(e), "'conv'", "4", "(None, 784)")


def test_built_layer_reused_on_another_shape():
    a, b = keras.Input((4,)), keras.Input((5,))
    shared = layers.Dense(3, name="shared")
    shared(a)
    with pytest.raises(ValueError) as e:
        shared(b)
    has(message(e), "'shared'", "(None, 4)", "(None, 5)")


def test_multi_input_model_called_on_one_tensor():
    model = build_ticket()
    with pytest.raises(ValueError) as e:
        model(keras.Input((40,)))
    has(message(e), "'functional'", "3", "(None, 40)", "(None, 12)")


# ================================================================ building a model
def test_graph_disconnected_names_the_missing_input():
    a, c = keras.Input((4,), name="a"), keras.Input((4,), name="c")
    out = layers.Dense(2)(layers.add([a, c]))
    with pytest.raises(ValueError) as e:
        keras.Model(a, out)
    has(message(e), "disconnected", "'c'", "inputs")


def test_model_given_arrays_instead_of_inputs():
    x = np.ones((2, 4), "float32")
    with pytest.raises(TypeError) as e:
        keras.Model(x, x)
    has(message(e), "keras.Input", "ndarray")


def test_duplicate_layer_names():
    a = keras.Input((4,))
    h = layers.Dense(3, name="same")(a)
    with pytest.raises(ValueError) as e:
        keras.Model(a, layers.Dense(2, name="same")(h))
    has(message(e), "unique", "'same'", "name")


def test_get_layer_of_a_missing_name():
    model = build_ticket()
    with pytest.raises(ValueError) as e:
        model.get_layer("priorty")
    has(message(e), "'priorty'", "priority", "department")


# ================================================================ data that does not match
@pytest.fixture
def two_inputs():
    a, b = keras.Input((4,), name="a"), keras.Input((5,), name="b")
    p = layers.Dense(1, name="p")(layers.concatenate([a, b]))
    q = layers.Dense(2, activation="softmax", name="q")(a)
    model = keras.Model([a, b], [p, q])
    model.compile(optimizer="sgd", loss={"p": "mse", "q": "categorical_crossentropy"})
    x = {"a": np.ones((6, 4), "float32"), "b": np.ones((6, 5), "float32")}
    y = {"p": np.ones((6, 1), "float32"), "q": np.eye(2, dtype="float32")[[0, 1] * 3]}
    return model, x, y


def test_input_dict_with_a_wrong_key(two_inputs):
    model, x, y = two_inputs
    with pytest.raises(ValueError) as e:
        model.predict({"a": x["a"], "bb": x["b"]}, verbose=0)
    has(message(e), "'bb'", "'b'", "'a'", "keras.Input")
    with pytest.raises(ValueError) as e:
        model.fit({"a": x["a"], "B": x["b"]}, y, verbose=0)
    has(message(e), "'B'", "'b'")


def test_input_list_of_the_wrong_length(two_inputs):
    model, x, y = two_inputs
    with pytest.raises(ValueError) as e:
        model.predict([x["a"], x["b"], x["b"]], verbose=0)
    has(message(e), "2", "3", "'a'", "'b'")
    with pytest.raises(ValueError) as e:
        model.fit([x["a"]], y, verbose=0)
    has(message(e), "2", "'a'", "'b'")


def test_input_of_the_wrong_shape_names_the_input(two_inputs):
    model, x, y = two_inputs
    with pytest.raises(ValueError) as e:
        model.predict([x["a"], np.ones((6, 7), "float32")], verbose=0)
    has(message(e), "'b'", "(None, 5)", "(None, 7)")


def test_labels_dict_missing_an_output(two_inputs):
    model, x, y = two_inputs
    with pytest.raises(ValueError) as e:
        model.fit(x, {"p": y["p"]}, verbose=0)
    has(message(e), "'q'", "'p'", "labels")


def test_labels_list_of_the_wrong_length(two_inputs):
    model, x, y = two_inputs
    with pytest.raises(ValueError) as e:
        model.fit(x, [y["p"]] * 3, verbose=0)
    has(message(e), "2 outputs", "3", "'p'", "'q'")


def test_labels_of_the_wrong_number_of_samples(two_inputs):
    model, x, y = two_inputs
    with pytest.raises(ValueError) as e:
        model.fit(x, {"p": y["p"][:4], "q": y["q"]}, verbose=0)
    has(message(e), "'p'", "6", "4")


def test_loss_dict_missing_an_output():
    model = build_ticket()
    with pytest.raises(ValueError) as e:
        model.compile(optimizer="rmsprop", loss={"priority": "mean_squared_error"})
    has(message(e), "'department'", "loss")


def test_loss_dict_with_an_unknown_output():
    model = build_ticket()
    with pytest.raises(ValueError) as e:
        model.compile(optimizer="rmsprop", loss={"priority": "mse", "departement": "mse",
                                                 "department": "mse"})
    has(message(e), "'departement'", "priority", "department")


def test_loss_list_of_the_wrong_length():
    model = build_ticket()
    with pytest.raises(ValueError) as e:
        model.compile(optimizer="rmsprop", loss=["mse"] * 3)
    has(message(e), "3", "2", "priority", "department")


def test_metrics_dict_with_an_unknown_output():
    model = build_ticket()
    with pytest.raises(ValueError) as e:
        model.compile(optimizer="rmsprop", loss=["mse", "categorical_crossentropy"],
                      metrics={"prio": ["mae"]})
    has(message(e), "'prio'", "priority")


# ================================================================ operations that are not layers
class NotALayer(keras.Model):
    """call() applies `op` to two layer outputs."""

    def __init__(self, op):
        super().__init__()
        self.op = op
        self.left = layers.Dense(3, name="left")
        self.right = layers.Dense(3, name="right")
        self.out = layers.Dense(1, name="out")

    def call(self, x):
        return self.out(self.op(self.left(x), self.right(x)))


@pytest.mark.parametrize("op, words", [
    (lambda a, b: a + b, ["`+`", "layers.Add()"]),
    (lambda a, b: a - b, ["`-`", "layers.Subtract()"]),
    (lambda a, b: a * b, ["`*`", "layers.Multiply()"]),
    (lambda a, b: a * 2.0, ["`*`"]),
    (lambda a, b: np.add(a, b), ["layers.Add()"]),
    (lambda a, b: np.concatenate([a, b], axis=-1), ["np.concatenate", "Concatenate"]),
    (lambda a, b: np.tanh(a), ["np.tanh", "Activation"]),
], ids=["plus", "minus", "times", "times_number", "np_add", "np_concatenate", "np_tanh"])
def test_numpy_on_layer_outputs_in_call(op, words):
    model = NotALayer(op)
    with pytest.raises(TypeError) as e:
        model(np.ones((2, 4), "float32"))
    has(message(e), "layer", *words)


@pytest.mark.parametrize("op", [lambda a, b: a[:, :2], lambda a, b: a.reshape(-1, 3),
                                lambda a, b: a.T.T], ids=["slicing", "reshape", "transpose"])
def test_slicing_layer_outputs_in_call(op):
    model = NotALayer(op)
    with pytest.raises(TypeError) as e:
        model(np.ones((2, 4), "float32"))
    has(message(e), "'out'", "indexing", "layer")


def test_output_computed_after_the_last_layer_call():
    class Tail(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(3)

        def call(self, x):
            return self.dense(x)[:, :1]

    with pytest.raises(TypeError) as e:
        Tail()(np.ones((2, 4), "float32"))
    has(message(e), "Tail", "layer")


def test_plain_arrays_outside_call_are_untouched():
    """The refusal is only for layer outputs inside call(): model outputs are plain arrays."""
    model = NotALayer(lambda a, b: layers.add([a, b]))
    y = model(np.ones((2, 4), "float32"))
    assert type(np.asarray(y)) is np.ndarray
    assert float((np.asarray(y) + 1).sum()) == pytest.approx(float(np.asarray(y).sum()) + 2)


# ================================================================ symbolic tensors
def test_arithmetic_of_two_symbolic_tensors_records_merge_layers():
    """Keras 3 code writes x + residual on symbolic tensors: Add/Subtract/Multiply nodes."""
    a, b = keras.Input((3,), name="a"), keras.Input((3,), name="b")
    model = keras.Model([a, b], [a + b, a - b, a * b])
    assert [type(l).__name__ for l in model.layers[2:]] == ["Add", "Subtract", "Multiply"]
    xa = np.array([[1.0, 2.0, 3.0]], "float32")
    xb = np.array([[4.0, -5.0, 0.5]], "float32")
    s, d, p = model.predict([xa, xb], verbose=0)
    np.testing.assert_allclose(s, xa + xb)
    np.testing.assert_allclose(d, xa - xb)
    np.testing.assert_allclose(p, xa * xb)


@pytest.mark.parametrize("op, words", [
    (lambda a, b: a * 2.0, ["`*`", "number"]),
    (lambda a, b: a + 1.0, ["`+`", "number"]),
    (lambda a, b: a / b, ["`/`", "layer"]),
    (lambda a, b: a ** 2, ["**", "layer"]),
    (lambda a, b: -a, ["neg", "layer"]),
    (lambda a, b: a @ b, ["@", "Dot"]),
    (lambda a, b: a[:, 0], ["[]", "Reshape"]),
], ids=["times_number", "plus_number", "divide", "power", "negate", "matmul", "slice"])
def test_other_operations_on_symbolic_tensors(op, words):
    a, b = keras.Input((3,)), keras.Input((3,))
    with pytest.raises(TypeError) as e:
        op(a, b)
    has(message(e), *words)


def test_numpy_function_on_symbolic_tensors():
    a, b = keras.Input((3,)), keras.Input((3,))
    with pytest.raises(TypeError) as e:
        np.concatenate([a, b], axis=-1)
    has(message(e), "symbolic", "keras.Model")


# ================================================================ the four learner errors
def test_string_class_labels_in_fit():
    x = np.random.default_rng(0).random((20, 4)).astype("float32")
    labels = np.array(["cat", "dog"] * 10)
    model = keras.Sequential([layers.Dense(2, activation="softmax", input_shape=(4,))])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    with pytest.raises((TypeError, ValueError)) as e:
        model.fit(x, labels, verbose=0)
    has(message(e), "strings", "'cat'", "sparse_categorical_crossentropy", "numbers",
        "np.unique")


def test_string_labels_of_one_output_of_several():
    model = build_ticket()
    model.compile(optimizer="rmsprop", loss=["mse", "sparse_categorical_crossentropy"])
    rng = np.random.default_rng(1)
    x = [rng.random((8, n)).astype("float32") for n in (40, 40, 12)]
    y = [rng.random((8, 1)).astype("float32"), np.array(["billing", "support"] * 4)]
    with pytest.raises((TypeError, ValueError)) as e:
        model.fit(x, y, verbose=0)
    has(message(e), "'department'", "strings", "'billing'", "np.unique")


@pytest.mark.parametrize("make, shape", [
    (lambda: keras.Sequential([layers.Conv2D(4, 3, input_shape=(28, 28, 1)), layers.Flatten(),
                               layers.Dense(3)]), (5, 28, 28, 1)),
    (lambda: keras.Sequential([layers.Flatten(input_shape=(28, 28)), layers.Dense(3)]),
     (5, 28, 28)),
    (lambda: keras.Sequential([layers.Dense(3, input_shape=(4,))]), (5, 4)),
    (lambda: (lambda i: keras.Model(i, layers.Dense(3)(layers.Flatten()(i))))(
        keras.Input((28, 28, 1))), (5, 28, 28, 1)),
], ids=["cnn_image", "mlp_image", "dense_row", "functional_image"])
def test_predict_on_one_sample_names_the_missing_batch_axis(make, shape):
    model = make()
    x = np.random.default_rng(2).random(shape).astype("float32")
    with pytest.raises(ValueError) as e:
        model.predict(x[0], verbose=0)
    has(message(e), "batch", "x[None]", "x[0:1]", str(tuple(shape[1:])))
    assert model.predict(x[0:1], verbose=0).shape == (1, 3)       # the fix works
    assert model.predict(x[0][None], verbose=0).shape == (1, 3)


def test_predict_on_one_unshaped_image_of_a_cnn():
    """The book's fashion MNIST images are (28, 28); the CNN expects (28, 28, 1). One image
    x[0] of the unreshaped data misses the batch axis (and the channel axis): the message
    should say so, not read it as 28 samples of 28 numbers."""
    model = keras.Sequential([layers.Conv2D(4, 3, input_shape=(28, 28, 1)), layers.Flatten(),
                              layers.Dense(3)])
    images = np.random.default_rng(3).random((5, 28, 28)).astype("float32")
    with pytest.raises(ValueError) as e:
        model.predict(images[0], verbose=0)
    has(message(e), "batch", "(28, 28)", "(None, 28, 28, 1)")


def test_history_key_that_is_not_there_names_the_keys():
    x = np.random.default_rng(4).random((20, 4)).astype("float32")
    model = keras.Sequential([layers.Dense(2, activation="softmax", input_shape=(4,))])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["acc"])
    history = model.fit(x, np.arange(20) % 2, validation_split=0.2, verbose=0)
    assert list(history.history) == ["loss", "acc", "val_loss", "val_acc"]
    assert len(history.history["acc"]) == 1                # the real key still works
    with pytest.raises(KeyError) as e:
        history.history["accuracy"]
    has(str(e.value), "'accuracy'", "'acc'", "'loss'", "'val_acc'")


def test_softmax_over_one_unit_warns_once_at_compile():
    x = np.random.default_rng(5).random((16, 4)).astype("float32")
    y = (np.arange(16) % 2).astype("float32")
    model = keras.Sequential([layers.Dense(8, activation="relu", input_shape=(4,)),
                              layers.Dense(1, activation="softmax", name="out")])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    relevant = [w for w in caught if "softmax" in str(w.message)]
    assert len(relevant) == 1, [str(w.message) for w in caught]
    has(str(relevant[0].message), "'out'", "softmax", "one", "1", "sigmoid")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(x, y, epochs=2, verbose=0)
        model.evaluate(x, y, verbose=0)
    assert not [w for w in caught if "softmax" in str(w.message)]


@pytest.mark.parametrize("make", [
    lambda: keras.Sequential([layers.Dense(1, activation="softmax")]),     # built by fit
    lambda: (lambda i: keras.Model(i, layers.Dense(1, activation="softmax")(i)))(
        keras.Input((4,))),
], ids=["sequential_built_by_fit", "functional"])
def test_softmax_over_one_unit_warns_for_other_models_too(make):
    x = np.random.default_rng(6).random((16, 4)).astype("float32")
    y = (np.arange(16) % 2).astype("float32")
    model = make()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.compile(optimizer="adam", loss="binary_crossentropy")
        model.fit(x, y, epochs=2, verbose=0)
    assert len([w for w in caught if "softmax" in str(w.message)]) == 1


@pytest.mark.parametrize("last", [layers.Dense(1, activation="sigmoid"),
                                  layers.Dense(2, activation="softmax")])
def test_no_softmax_warning_for_sound_models(last):
    model = keras.Sequential([keras.Input((4,)), last])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.compile(optimizer="adam", loss="binary_crossentropy")
    assert not [w for w in caught if "softmax" in str(w.message)]
