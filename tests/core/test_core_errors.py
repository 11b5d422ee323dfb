"""Errors: built-in exception types whose messages name the layer/argument, say what was expected
and what was given, and suggest the fix."""
from __future__ import annotations

import re

import numpy as np
import pytest

from mitbadak import keras


def _mlp(input_shape=(784,)):
    kw = {"input_shape": input_shape} if input_shape else {}
    return keras.Sequential([keras.layers.Dense(16, activation="relu", **kw),
                             keras.layers.Dense(10, activation="softmax")])


def _compiled(loss="sparse_categorical_crossentropy", **kw):
    model = _mlp(**kw)
    model.compile("adam", loss, metrics=["accuracy"])
    return model


X = np.zeros((12, 784), dtype=np.float32)
Y = np.arange(12) % 10


def test_images_into_dense_only_model_without_input_shape():
    model = _compiled(input_shape=None)
    with pytest.raises(ValueError) as err:
        model.fit(np.zeros((12, 28, 28), dtype=np.float32), Y, verbose=0)
    msg = str(err.value)
    assert "Flatten" in msg and "(12, 28, 28)" in msg and "784" in msg


def test_images_into_dense_model_with_input_shape():
    model = _compiled()
    for call in (lambda: model.fit(np.zeros((12, 28, 28)), Y, verbose=0),
                 lambda: model.predict(np.zeros((12, 28, 28)), verbose=0),
                 lambda: model.evaluate(np.zeros((12, 28, 28)), Y, verbose=0)):
        with pytest.raises(ValueError) as err:
            call()
        msg = str(err.value)
        assert "Flatten" in msg and "'dense'" in msg
        assert "(None, 784)" in msg and "(None, 28, 28)" in msg


def test_wrong_feature_count():
    model = _compiled()
    with pytest.raises(ValueError, match=r"'dense'.*\(None, 784\).*\(None, 100\)"):
        model.fit(np.zeros((12, 100)), Y, verbose=0)


def test_integer_labels_with_categorical_crossentropy():
    model = _compiled("categorical_crossentropy")
    for y in (Y, Y[:, None]):
        with pytest.raises(ValueError) as err:
            model.fit(X, y, verbose=0)
        msg = str(err.value)
        assert "sparse_categorical_crossentropy" in msg and "to_categorical" in msg
        assert "(N, 10)" in msg and str(tuple(y.shape)) in msg


def test_one_hot_labels_with_sparse_categorical_crossentropy():
    model = _compiled()
    with pytest.raises(ValueError) as err:
        model.fit(X, keras.utils.to_categorical(Y, 10), verbose=0)
    msg = str(err.value)
    assert "categorical_crossentropy" in msg and "one-hot" in msg and "(12, 10)" in msg
    assert "argmax" in msg


@pytest.mark.parametrize("bad,shown", [(10, "10"), (-1, "-1")])
def test_labels_outside_the_softmax_range(bad, shown):
    model = _compiled()
    y = Y.copy()
    y[3] = bad
    with pytest.raises(ValueError) as err:
        model.fit(X, y, verbose=0)
    msg = str(err.value)
    assert "[0, 9]" in msg and "10 classes" in msg and shown in msg
    if bad == 10:
        assert "Dense(11" in msg


def test_non_integer_sparse_labels():
    model = _compiled()
    with pytest.raises(ValueError, match=r"integers"):
        model.fit(X, Y + 0.5, verbose=0)


def test_label_shape_mismatch_for_regression():
    model = keras.Sequential([keras.layers.Dense(2, input_shape=(3,))])
    model.compile("adam", "mse")
    with pytest.raises(ValueError) as err:
        model.fit(np.zeros((4, 3)), np.zeros((4, 5)), verbose=0)
    msg = str(err.value)
    assert "(4, 5)" in msg and "(None, 2)" in msg


@pytest.mark.parametrize("method", ["fit", "evaluate"])
def test_mismatched_lengths(method):
    model = _compiled()
    with pytest.raises(ValueError) as err:
        getattr(model, method)(X, Y[:7], verbose=0)
    msg = str(err.value)
    assert "12" in msg and "7" in msg and "same number of samples" in msg


def test_sample_weight_length():
    with pytest.raises(ValueError, match=r"sample_weight.*5.*12"):
        _compiled().fit(X, Y, sample_weight=np.ones(5), verbose=0)


@pytest.mark.parametrize("method", ["fit", "evaluate", "train_on_batch", "test_on_batch"])
def test_before_compile(method):
    model = _mlp()
    with pytest.raises(RuntimeError) as err:
        getattr(model, method)(X, Y)
    assert "compile" in str(err.value)


def test_missing_labels():
    with pytest.raises(ValueError, match="y"):
        _compiled().fit(X, verbose=0)


@pytest.mark.parametrize("kind,call,wrong,right", [
    ("optimizer", lambda m: m.compile(optimizer="adm", loss="mse"), "adm", "adam"),
    ("optimizer", lambda m: m.compile(optimizer="rmsprp", loss="mse"), "rmsprp", "rmsprop"),
    ("loss", lambda m: m.compile(loss="categorical_crossentopy"), "categorical_crossentopy",
     "categorical_crossentropy"),
    ("loss", lambda m: m.compile(loss="mean_squared_eror"), "mean_squared_eror",
     "mean_squared_error"),
    ("metric", lambda m: m.compile(loss="mse", metrics=["acuracy"]), "acuracy", "accuracy"),
    ("activation", lambda m: keras.layers.Dense(3, activation="rleu"), "rleu", "relu"),
    ("activation", lambda m: keras.layers.Activation("softmx"), "softmx", "softmax"),
    ("initializer", lambda m: keras.layers.Dense(3, kernel_initializer="he_normall"),
     "he_normall", "he_normal"),
])
def test_unknown_names_suggest_the_closest(kind, call, wrong, right):
    with pytest.raises(ValueError) as err:
        call(_mlp())
    msg = str(err.value)
    assert f"Unknown {kind} {wrong!r}" in msg
    assert f"Did you mean {right!r}?" in msg


def test_unknown_name_with_nothing_close_lists_valid_names():
    with pytest.raises(ValueError) as err:
        keras.optimizers.get("qqqqqq")
    msg = str(err.value)
    assert "Did you mean" not in msg and "adam" in msg and "sgd" in msg


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_inputs(bad):
    x = X.copy()
    x[5, 17] = bad
    model = _compiled()
    for call in (lambda: model.fit(x, Y, verbose=0), lambda: model.evaluate(x, Y, verbose=0)):
        with pytest.raises(ValueError) as err:
            call()
        msg = str(err.value)
        assert "NaN or infinite" in msg and "index 5" in msg and "nan_to_num" in msg


def test_non_finite_labels():
    y = np.zeros((12, 2), dtype=np.float32)
    y[2, 1] = np.nan
    model = keras.Sequential([keras.layers.Dense(2, input_shape=(784,))])
    model.compile("adam", "mse")
    with pytest.raises(ValueError, match=r"y contains NaN"):
        model.fit(X, y, verbose=0)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_diverging_loss_stops_with_epoch_and_batch(capsys):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(96, 784)).astype(np.float32)      # unscaled pixels
    y = rng.integers(0, 10, size=96)
    model = keras.Sequential([keras.layers.Dense(64, activation="relu", input_shape=(784,)),
                              keras.layers.Dense(10)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=100.0), loss="mse")
    h = model.fit(x, keras.utils.to_categorical(y, 10), epochs=4, batch_size=16, verbose=1)
    out = capsys.readouterr().out
    m = re.search(r"Epoch (\d+), batch (\d+): the loss became (nan|inf)", out)
    assert m, out
    assert "learning rate" in out and "255" in out
    assert len(h.history["loss"]) == int(m.group(1))
    assert model.stop_training


def test_bad_arguments():
    model = _compiled()
    with pytest.raises(ValueError, match="batch_size"):
        model.fit(X, Y, batch_size=0, verbose=0)
    with pytest.raises(ValueError, match="units"):
        keras.layers.Dense(0)
    with pytest.raises(TypeError, match="unexpected keyword"):
        keras.layers.Dense(3, unitz=4)
    with pytest.raises(TypeError, match="numeric"):
        model.fit(np.array(["a"] * 12), Y, verbose=0)
    with pytest.raises(ValueError, match="validation_split"):
        model.fit(X, Y, validation_split=1.5, verbose=0)
    with pytest.raises(ValueError, match="multi-output|list"):
        model.compile("adam", "mse", metrics={"out": "mae"})


def test_error_types_are_builtin_subclasses():
    model = _compiled()
    with pytest.raises(ValueError):
        model.set_weights([])
    with pytest.raises(ValueError):
        model.get_layer("missing")
    with pytest.raises(ValueError):
        keras.Sequential([keras.layers.Dense(2)]).count_params()
