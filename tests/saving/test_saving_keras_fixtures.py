"""Files written by real Keras (tf.keras 2.21 and Keras 3.15, see the fixtures' README) load in
mitbadak and predict what Keras predicted, to 1e-5."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

h5py = pytest.importorskip("h5py", reason="saving needs h5py (pip install h5py)")

import mitbadak as keras  # noqa: E402

from saving_helpers import build_cnn, cnn_data, require_fixture  # noqa: E402


def expected(line):
    data = np.load(require_fixture(f"{line}_expected.npz"))
    return data["x"], data["pred"], [data[f"w{i}"] for i in range(10)]


def check_predictions(model, line):
    x, pred, weights = expected(line)
    np.testing.assert_allclose(model.predict(x, verbose=0), pred, rtol=0, atol=1e-5)
    for got, want in zip(model.get_weights(), weights):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name, line", [("k2_sample.h5", "k2"), ("k3_sample.keras", "k3"),
                                        ("k3_sample_legacy.h5", "k3")])
def test_real_keras_model_files_load_and_predict(name, line):
    path = require_fixture(name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                  # a complete file loads silently
        model = keras.models.load_model(path)
    check_predictions(model, line)
    assert model.name == "sample_cnn"
    assert [type(l).__name__ for l in model.layers] == [
        "Conv2D", "MaxPooling2D", "Flatten", "Dropout", "Dense", "BatchNormalization", "Dense"]
    assert model.input_shape == (None, 8, 8, 1)
    # compile settings and the Adam state after 2 epochs of 3 steps
    assert type(model.optimizer).__name__ == "Adam"
    assert model.loss == "sparse_categorical_crossentropy"
    assert model.metrics_names == ["loss", "accuracy"]
    assert model.optimizer.iterations == 6


def _stored_adam_state(path):
    """(momentum, velocity) per trainable weight, read straight from the file."""
    with h5py.File(path, "r") as f:
        if "optimizer_weights" in f:
            names = [n.decode() if isinstance(n, bytes) else n
                     for n in f["optimizer_weights"].attrs["weight_names"]]
            values = [f["optimizer_weights"][n][()] for n in names]
            if names[0] == "iteration:0":                                   # tf.keras 2.x
                slots = values[1:]
            else:                                                           # Keras 3
                slots = values[2:]
        else:
            g = f["optimizer/vars"]
            slots = [g[str(i)][()] for i in range(2, len(g))]
    return slots[0::2], slots[1::2]


@pytest.mark.parametrize("name", ["k2_sample.h5", "k3_sample_legacy.h5", "k3_sample.weights.h5"])
def test_real_keras_optimizer_state_is_restored(name):
    path = require_fixture(name)
    if name.endswith(".weights.h5"):
        model = build_cnn(keras)
        model.load_weights(path)
    else:
        model = keras.models.load_model(path)
    momentum, velocity = _stored_adam_state(path)
    assert len(model.optimizer._slots) == len(momentum) == 8
    for slots, m, v in zip(model.optimizer._slots, momentum, velocity):
        np.testing.assert_array_equal(slots["momentum"], m)
        np.testing.assert_array_equal(slots["velocity"], v)
    assert model.optimizer.iterations == 6


def test_k2_weights_only_file_into_a_fresh_model():
    path = require_fixture("k2_sample_weights_only.h5")
    model = build_cnn(keras)
    model.load_weights(path)
    check_predictions(model, "k2")


def test_k3_weights_file_into_a_fresh_model():
    path = require_fixture("k3_sample.weights.h5")
    model = build_cnn(keras)
    model.load_weights(path)
    check_predictions(model, "k3")


def test_k3_archive_weights_into_a_fresh_model():
    model = build_cnn(keras)
    model.load_weights(require_fixture("k3_sample.keras"))
    check_predictions(model, "k3")


@pytest.mark.parametrize("name", ["k2_sample.h5", "k3_sample.keras"])
def test_real_keras_model_trains_on_and_saves_again(name, tmp_path):
    model = keras.models.load_model(require_fixture(name))
    x, y = cnn_data(32)
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    assert model.optimizer.iterations == 8
    for out in ("again.keras", "again.h5"):
        model.save(tmp_path / out)
        again = keras.models.load_model(tmp_path / out)
        np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))
        assert again.optimizer.iterations == 8


def test_weights_only_file_given_to_load_model_says_what_to_do():
    path = require_fixture("k2_sample_weights_only.h5")
    with pytest.raises(ValueError, match="load_weights") as err:
        keras.models.load_model(path)
    assert "k2_sample_weights_only.h5" in str(err.value)


def test_tf_keras2_optimizer_state_is_matched_by_name(tmp_path):
    """tf.keras 2.x names slots 'SGD/m/<layer>/<weight>:0'; its order differs from Keras 3's
    for some optimizers, so the names, not the positions, decide."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.layers.Dense(3, input_shape=(4,)), keras.layers.Dense(2)])
    model.compile(keras.optimizers.RMSprop(momentum=0.5, centered=True), "mse")
    x = np.random.default_rng(0).random((8, 4), dtype=np.float32)
    model.fit(x, x[:, :2], epochs=2, batch_size=4, verbose=0)
    path = tmp_path / "k2_style.h5"
    model.save(path)
    rng = np.random.default_rng(1)
    k2_values = {}
    with h5py.File(path, "a") as f:            # rewrite the state as tf.keras 2.x names it
        del f["optimizer_weights"]
        g = f.create_group("optimizer_weights")
        names = ["iteration:0"]
        g["iteration:0"] = np.int64(4)
        for slot in ("velocity", "momentum", "average_gradient"):      # grouped, as tf.keras
            for layer in model.layers:
                for w in ("kernel", "bias"):
                    name = f"RMSprop/{slot}/{layer.name}/{w}:0"
                    k2_values[(layer.name, w, slot)] = rng.random(
                        layer._weights[w].shape, dtype=np.float32)
                    g[name] = k2_values[(layer.name, w, slot)]
                    names.append(name)
        g.attrs["weight_names"] = np.array(names, dtype=h5py.string_dtype())
    loaded = keras.models.load_model(path)
    assert loaded.optimizer.iterations == 4
    i = 0
    for layer in loaded.layers:
        for w in ("kernel", "bias"):
            for slot in ("velocity", "momentum", "average_gradient"):
                np.testing.assert_array_equal(loaded.optimizer._slots[i][slot],
                                              k2_values[(layer.name, w, slot)])
            i += 1
