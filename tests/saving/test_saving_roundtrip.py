"""Save and load in both formats: weights, predictions, configs, compile settings, and training
that resumes exactly where it stopped."""
from __future__ import annotations

import json
import os
import warnings

import numpy as np
import pytest

pytest.importorskip("h5py", reason="saving needs h5py (pip install h5py)")

import mitbadak as keras  # noqa: E402
from mitbadak import saving  # noqa: E402
from mitbadak.saving import keras_zip, weights as weights_mod  # noqa: E402

from saving_helpers import (build_cnn, build_mlp, cnn_data, layer_classes,  # noqa: E402
                            mlp_data, one_layer_model)

FORMATS = ["model.keras", "model.h5"]


def assert_same_model(a, b, x):
    wa, wb = a.get_weights(), b.get_weights()
    assert len(wa) == len(wb)
    for u, v in zip(wa, wb):
        assert u.dtype == v.dtype and u.shape == v.shape
        np.testing.assert_array_equal(u, v)
    np.testing.assert_array_equal(a.predict(x, verbose=0), b.predict(x, verbose=0))
    assert [type(l) for l in a.layers] == [type(l) for l in b.layers]
    assert [l.name for l in a.layers] == [l.name for l in b.layers]


# ------------------------------------------------------------------ every layer type
@pytest.mark.parametrize("cls", layer_classes(), ids=lambda c: c.__name__)
@pytest.mark.parametrize("filename", FORMATS)
def test_each_layer_round_trips(cls, filename, tmp_path):
    model, x = one_layer_model(keras, cls)
    path = tmp_path / filename
    model.save(path)
    loaded = keras.models.load_model(path, compile=False)
    assert_same_model(model, loaded, x)
    assert same_config(loaded.layers[0], model.layers[0])


def same_config(a, b) -> bool:
    """Configs equal as written to a file (a wrapper's config holds its inner layer object,
    serialized to Keras's dict in files and JSON)."""
    from mitbadak.saving.serialization import serialize_layer
    return serialize_layer(a) == serialize_layer(b)


@pytest.mark.parametrize("cls", layer_classes(), ids=lambda c: c.__name__)
def test_each_layer_config_and_json_round_trip(cls):
    model, x = one_layer_model(keras, cls)
    clone = keras.models.model_from_json(model.to_json())
    assert same_config(clone.layers[0], model.layers[0])
    assert [w.shape for w in clone.get_weights()] == [w.shape for w in model.get_weights()]
    clone2 = keras.Sequential.from_config(model.get_config())
    assert same_config(clone2.layers[0], model.layers[0])


# ------------------------------------------------------------------ the notes' MLP and a CNN
@pytest.mark.parametrize("filename", FORMATS)
def test_mlp_round_trip_keeps_everything(filename, tmp_path):
    keras.utils.set_random_seed(0)
    x, y = mlp_data()
    model = build_mlp(keras)
    model.fit(x, y, epochs=1, batch_size=32, verbose=0, shuffle=False)
    model.save(tmp_path / filename)
    loaded = keras.models.load_model(tmp_path / filename)
    assert_same_model(model, loaded, x)
    assert type(loaded.optimizer).__name__ == "SGD"
    assert loaded.optimizer.learning_rate == pytest.approx(0.01)
    assert loaded.optimizer.iterations == model.optimizer.iterations == 3
    assert loaded.loss == "categorical_crossentropy"
    assert loaded.evaluate(x, y, verbose=0) == pytest.approx(model.evaluate(x, y, verbose=0))


@pytest.mark.parametrize("filename", FORMATS)
def test_cnn_round_trip_keeps_everything(filename, tmp_path):
    keras.utils.set_random_seed(1)
    x, y = cnn_data()
    model = build_cnn(keras)
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    model.save(tmp_path / filename)
    loaded = keras.models.load_model(tmp_path / filename)
    assert_same_model(model, loaded, x)
    for s_old, s_new in zip(model.optimizer._slots, loaded.optimizer._slots):
        for name in ("momentum", "velocity"):
            np.testing.assert_array_equal(s_old[name], s_new[name])
    assert loaded.optimizer.iterations == 4


# ------------------------------------------------------------------ resuming training
def _losses(history):
    return list(history.history["loss"])


@pytest.mark.parametrize("filename", FORMATS)
@pytest.mark.parametrize("optimizer", ["sgd", "adam", "rmsprop"])
def test_mlp_training_resumes_exactly(optimizer, filename, tmp_path):
    x, y = mlp_data()
    keras.utils.set_random_seed(7)
    straight = build_mlp(keras, optimizer)
    expected = _losses(straight.fit(x, y, epochs=4, batch_size=32, verbose=0, shuffle=False))

    keras.backend.clear_session()
    keras.utils.set_random_seed(7)
    first = build_mlp(keras, optimizer)
    got = _losses(first.fit(x, y, epochs=2, batch_size=32, verbose=0, shuffle=False))
    first.save(tmp_path / filename)
    resumed = keras.models.load_model(tmp_path / filename)
    got += _losses(resumed.fit(x, y, epochs=2, batch_size=32, verbose=0, shuffle=False))
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=0)
    np.testing.assert_allclose(resumed.predict(x, verbose=0), straight.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("filename", FORMATS)
def test_cnn_training_resumes_exactly(filename, tmp_path):
    x, y = cnn_data()
    keras.utils.set_random_seed(3)
    straight = build_cnn(keras, dropout=False)
    expected = _losses(straight.fit(x, y, epochs=4, batch_size=16, verbose=0, shuffle=False))

    keras.backend.clear_session()
    keras.utils.set_random_seed(3)
    first = build_cnn(keras, dropout=False)
    got = _losses(first.fit(x, y, epochs=2, batch_size=16, verbose=0, shuffle=False))
    first.save(tmp_path / filename)
    resumed = keras.models.load_model(tmp_path / filename)
    got += _losses(resumed.fit(x, y, epochs=2, batch_size=16, verbose=0, shuffle=False))
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=0)


def test_resume_without_optimizer_state_differs_and_warns(tmp_path):
    """The exact-resume test is sensitive: dropping Adam's state changes the curve."""
    x, y = mlp_data()
    keras.utils.set_random_seed(7)
    straight = build_mlp(keras, "adam")
    expected = _losses(straight.fit(x, y, epochs=3, batch_size=32, verbose=0, shuffle=False))
    keras.backend.clear_session()
    keras.utils.set_random_seed(7)
    first = build_mlp(keras, "adam")
    first.fit(x, y, epochs=2, batch_size=32, verbose=0, shuffle=False)
    first.save(tmp_path / "m.keras", include_optimizer=False)
    with pytest.warns(UserWarning, match="no optimizer state"):
        resumed = keras.models.load_model(tmp_path / "m.keras")
    assert resumed.optimizer.iterations == 0
    last = _losses(resumed.fit(x, y, epochs=1, batch_size=32, verbose=0, shuffle=False))
    assert last[0] != pytest.approx(expected[2], rel=1e-6)


@pytest.mark.parametrize("opt", [
    keras.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    keras.optimizers.Adam(amsgrad=True),
    keras.optimizers.RMSprop(momentum=0.5, centered=True),
    keras.optimizers.Adagrad(0.05), keras.optimizers.Adamax(), keras.optimizers.Nadam(),
    keras.optimizers.AdamW(),
    keras.optimizers.Adam(keras.optimizers.schedules.ExponentialDecay(0.01, 2, 0.5)),
], ids=lambda o: type(o).__name__ + ("_sched" if callable(o._learning_rate) else ""))
@pytest.mark.parametrize("filename", FORMATS)
def test_every_optimizer_state_resumes(opt, filename, tmp_path):
    x, y = mlp_data(64)
    config = keras.optimizers.serialize(opt)

    def run(split_at=None):
        keras.backend.clear_session()
        keras.utils.set_random_seed(11)
        model = build_mlp(keras, keras.optimizers.deserialize(config))
        losses = _losses(model.fit(x, y, epochs=split_at or 3, batch_size=32, verbose=0,
                                   shuffle=False))
        if split_at:
            model.save(tmp_path / filename)
            model = keras.models.load_model(tmp_path / filename)
            losses += _losses(model.fit(x, y, epochs=3 - split_at, batch_size=32, verbose=0,
                                        shuffle=False))
        return losses

    np.testing.assert_allclose(run(split_at=1), run(), rtol=1e-6, atol=0)


# ------------------------------------------------------------------ weights files
@pytest.mark.parametrize("filename", ["w.weights.h5", "w.h5"])
def test_save_and_load_weights(filename, tmp_path):
    keras.utils.set_random_seed(0)
    x, y = cnn_data()
    model = build_cnn(keras)
    model.fit(x, y, epochs=1, verbose=0)
    model.save_weights(tmp_path / filename)
    fresh = build_cnn(keras)
    fresh.load_weights(tmp_path / filename)
    np.testing.assert_array_equal(fresh.predict(x, verbose=0), model.predict(x, verbose=0))
    if filename == "w.weights.h5":          # Keras 3 weights files carry the optimizer too
        assert fresh.optimizer.iterations == model.optimizer.iterations


def test_load_weights_accepts_keras_and_h5_model_files(tmp_path):
    keras.utils.set_random_seed(0)
    x, _ = cnn_data()
    model = build_cnn(keras)
    model.save(tmp_path / "m.keras")
    model.save(tmp_path / "m.h5")
    for name in ("m.keras", "m.h5"):
        fresh = build_cnn(keras)
        fresh.load_weights(tmp_path / name)
        np.testing.assert_array_equal(fresh.predict(x, verbose=0), model.predict(x, verbose=0))


def test_legacy_load_weights_by_name(tmp_path):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.layers.Dense(4, input_shape=(3,), name="a"),
                              keras.layers.Dense(2, name="b")])
    model.save_weights(tmp_path / "w.h5")
    other = keras.Sequential([keras.layers.Dense(4, input_shape=(3,), name="a"),
                              keras.layers.Dense(5, name="c")])
    other.load_weights(tmp_path / "w.h5", by_name=True)
    np.testing.assert_array_equal(other.layers[0].get_weights()[0],
                                  model.layers[0].get_weights()[0])


def test_weights_file_layout_is_keras3(tmp_path):
    import h5py
    model = build_cnn(keras)
    model.save_weights(tmp_path / "w.weights.h5")
    with h5py.File(tmp_path / "w.weights.h5") as f:
        assert sorted(f["layers"]) == ["batch_normalization", "conv2d", "dense", "dense_1",
                                       "dropout", "flatten", "max_pooling2d"]
        assert f["layers/dense_1/vars"].attrs["name"] == model.layers[-1].name
        assert f["layers/conv2d/vars/0"].shape == (3, 3, 1, 4)
        assert [f[f"layers/batch_normalization/vars/{i}"].shape for i in range(4)] == [(8,)] * 4
        assert f["optimizer/vars/0"].dtype == np.int64
        assert len(f["optimizer/vars"]) == 2 + 2 * 8          # iteration, lr, m and v of 8 weights


def test_layer_keys_are_class_names_not_layer_names():
    model = keras.Sequential([keras.layers.Dense(2, input_shape=(3,), name="first"),
                              keras.layers.Dense(2, name="second"),
                              keras.layers.Activation("relu"),
                              keras.layers.Dense(1, name="dense")])
    keys = [k for k, _ in weights_mod.layer_keys(model)]
    assert keys == ["dense", "dense_1", "activation", "dense_2"]


# ------------------------------------------------------------------ configs and JSON
def test_get_config_is_keras3_style_and_to_json_round_trips():
    model = build_mlp(keras)
    config = model.get_config()
    first = config["layers"][0]
    assert first["class_name"] == "InputLayer" and first["config"]["batch_shape"] == [None, 784]
    assert config["layers"][1]["module"] == "keras.layers"
    assert config["layers"][1]["config"]["dtype"]["class_name"] == "DTypePolicy"
    data = json.loads(model.to_json())
    assert data["class_name"] == "Sequential" and data["module"] == "keras"
    assert data["compile_config"]["loss"] == "categorical_crossentropy"
    clone = keras.models.model_from_json(model.to_json())
    assert clone.compiled and type(clone.optimizer).__name__ == "SGD"

    def plain(layer):      # Keras 3 configs leave the input shape to the InputLayer entry
        return {k: v for k, v in layer.get_config().items() if k != "batch_input_shape"}

    assert [plain(l) for l in clone.layers] == [plain(l) for l in model.layers]
    assert clone.input_shape == model.input_shape


def test_model_from_json_reads_tf_keras2_json():
    text = json.dumps({"class_name": "Sequential", "keras_version": "2.15.0",
                       "backend": "tensorflow", "config": {"name": "seq", "layers": [
                           {"class_name": "InputLayer", "config": {
                               "batch_input_shape": [None, 4], "dtype": "float32",
                               "sparse": False, "ragged": False, "name": "dense_input"}},
                           {"class_name": "Dense", "config": {
                               "name": "dense", "trainable": True, "dtype": "float32",
                               "batch_input_shape": [None, 4], "units": 2,
                               "activation": "softmax", "use_bias": True,
                               "kernel_initializer": {"class_name": "GlorotUniform",
                                                      "config": {"seed": None}},
                               "bias_initializer": {"class_name": "Zeros", "config": {}},
                               "kernel_regularizer": {"class_name": "L2",
                                                      "config": {"l2": 0.01}},
                               "bias_regularizer": None, "activity_regularizer": None,
                               "kernel_constraint": None, "bias_constraint": None}}]}})
    model = keras.models.model_from_json(text)
    assert model.name == "seq" and model.output_shape == (None, 2)
    assert model.layers[0].kernel_regularizer.l2 == pytest.approx(0.01)


def test_uncompiled_model_loads_uncompiled_with_warning(tmp_path):
    model = keras.Sequential([keras.layers.Dense(2, input_shape=(3,))])
    for name in FORMATS:
        model.save(tmp_path / name)
        with pytest.warns(UserWarning, match="not\\* compiled"):
            loaded = keras.models.load_model(tmp_path / name)
        assert not loaded.compiled
        x = np.ones((2, 3), np.float32)
        np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_compile_false_skips_compile_settings(tmp_path):
    model = build_mlp(keras)
    model.save(tmp_path / "m.keras")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = keras.models.load_model(tmp_path / "m.keras", compile=False)
    assert not loaded.compiled


def test_unbuilt_model_saves_its_config(tmp_path):
    model = keras.Sequential([keras.layers.Dense(2), keras.layers.Dense(1)])
    model.save(tmp_path / "m.keras")
    with pytest.warns(UserWarning):
        loaded = keras.models.load_model(tmp_path / "m.keras")
    assert [l.get_config()["units"] for l in loaded.layers] == [2, 1]


def test_model_built_without_input_layer(tmp_path):
    model = keras.Sequential([keras.layers.Dense(3), keras.layers.Dense(1)])
    model.build((None, 5))
    for name in FORMATS:
        model.save(tmp_path / name)
        loaded = keras.models.load_model(tmp_path / name, compile=False)
        x = np.ones((2, 5), np.float32)
        np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_frozen_layers_and_losses_metrics_objects(tmp_path):
    model = keras.Sequential([keras.layers.Dense(4, input_shape=(3,), trainable=False),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.RMSprop(0.01),
                  loss=keras.losses.BinaryCrossentropy(label_smoothing=0.1),
                  metrics=["acc", keras.metrics.Precision(), "mae"])
    x = np.random.default_rng(0).random((16, 3), dtype=np.float32)
    y = (x.sum(axis=1, keepdims=True) > 1.5).astype(np.float32)
    model.fit(x, y, epochs=1, verbose=0)
    for name in FORMATS:
        model.save(tmp_path / name)
        loaded = keras.models.load_model(tmp_path / name)
        assert not loaded.layers[0].trainable
        assert isinstance(loaded.loss, keras.losses.BinaryCrossentropy)
        assert loaded.loss.label_smoothing == pytest.approx(0.1)
        assert loaded.metrics_names == model.metrics_names
        np.testing.assert_allclose(loaded.evaluate(x, y, verbose=0),
                                   model.evaluate(x, y, verbose=0))


def test_short_loss_names_are_written_long(tmp_path):
    import h5py
    model = keras.Sequential([keras.layers.Dense(1, input_shape=(2,))])
    model.compile("adam", "mse", metrics=["mae"])
    model.save(tmp_path / "m.h5")
    model.save(tmp_path / "m.keras")
    with h5py.File(tmp_path / "m.h5") as f:
        assert json.loads(f.attrs["training_config"])["loss"] == "mean_squared_error"
    assert keras.models.load_model(tmp_path / "m.keras").loss == "mean_squared_error"


# ------------------------------------------------------------------ custom objects
class Scale(keras.layers.Layer):
    """A custom layer: y = x · factor, with one trainable weight per feature."""

    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.w = self.add_weight("w", (input_shape[-1],), "ones")

    def forward(self, x, training=False):
        self.x = x
        return x * self.w * self.factor

    def backward(self, dy):
        self.grads["w"] = (dy * self.x * self.factor).reshape(-1, self.x.shape[-1]).sum(axis=0)
        return dy * self.w * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@keras.saving.register_keras_serializable(package="SavingTests")
class RegisteredScale(Scale):
    pass


@pytest.mark.parametrize("filename", FORMATS)
def test_custom_layer_needs_custom_objects(filename, tmp_path):
    model = keras.Sequential([keras.layers.Dense(3, input_shape=(2,)), Scale(3.0)])
    model.compile("sgd", "mse")
    model.save(tmp_path / filename)
    with pytest.raises(ValueError, match="custom_objects") as err:
        keras.models.load_model(tmp_path / filename)
    assert filename in str(err.value)
    loaded = keras.models.load_model(tmp_path / filename, custom_objects={"Scale": Scale})
    x = np.ones((2, 2), np.float32)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.layers[1].factor == 3.0
    with saving.custom_object_scope({"Scale": Scale}):
        assert isinstance(keras.models.load_model(tmp_path / filename).layers[1], Scale)


@pytest.mark.parametrize("filename", FORMATS)
def test_registered_custom_layer_loads_by_itself(filename, tmp_path):
    assert saving.get_registered_name(RegisteredScale) == "SavingTests>RegisteredScale"
    assert saving.get_registered_object("SavingTests>RegisteredScale") is RegisteredScale
    model = keras.Sequential([keras.layers.Dense(3, input_shape=(2,)), RegisteredScale(0.5)])
    model.save(tmp_path / filename)
    loaded = keras.models.load_model(tmp_path / filename, compile=False)
    assert type(loaded.layers[1]) is RegisteredScale and loaded.layers[1].factor == 0.5


def test_register_needs_get_config():
    with pytest.raises(ValueError, match="get_config"):
        saving.register_keras_serializable()(type("NoConfig", (), {}))


# ------------------------------------------------------------------ files: names and atomicity
def test_wrong_suffix_is_a_clear_error(tmp_path):
    model = build_mlp(keras)
    with pytest.raises(ValueError, match=r"\.keras"):
        model.save(tmp_path / "model.pkl")
    with pytest.raises(ValueError, match=r"weights\.h5"):
        model.save_weights(tmp_path / "w.keras")
    (tmp_path / "x.bin").write_bytes(b"PK\x03\x04whatever")
    with pytest.raises(ValueError, match="rename it to end in .keras"):
        keras.models.load_model(tmp_path / "x.bin")
    with pytest.raises(FileNotFoundError, match="nothing.keras"):
        keras.models.load_model(tmp_path / "nothing.keras")
    assert sorted(os.listdir(tmp_path)) == ["x.bin"]


def test_overwrite_false_keeps_the_file(tmp_path):
    model = build_mlp(keras)
    (tmp_path / "m.keras").write_bytes(b"old")
    with pytest.raises(FileExistsError, match="overwrite"):
        model.save(tmp_path / "m.keras", overwrite=False)
    assert (tmp_path / "m.keras").read_bytes() == b"old"


@pytest.mark.parametrize("filename", FORMATS + ["w.weights.h5"])
def test_failed_write_leaves_the_old_file_intact(filename, tmp_path, monkeypatch):
    model = build_mlp(keras)
    path = tmp_path / filename
    (model.save_weights if filename.endswith(".weights.h5") else model.save)(path)
    before = path.read_bytes()

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    # fail in the middle of writing: the zip entries, or the HDF5 weights
    monkeypatch.setattr(keras_zip.zipfile.ZipFile, "writestr", disk_full)
    monkeypatch.setattr(weights_mod, "write_legacy", disk_full)
    monkeypatch.setattr(weights_mod, "write_k3", disk_full)
    with pytest.raises(OSError, match="No space"):
        (model.save_weights if filename.endswith(".weights.h5") else model.save)(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == [filename]          # no temporary file left behind


def test_saved_file_permissions_follow_umask(tmp_path):
    model = build_mlp(keras)
    model.save(tmp_path / "m.keras")
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "m.keras").stat().st_mode & 0o777 == 0o666 & ~mask


def test_keras_archive_entries_are_stored_uncompressed(tmp_path):
    import zipfile
    build_mlp(keras).save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as zf:
        infos = zf.infolist()
        assert [i.filename for i in infos] == ["metadata.json", "config.json", "model.weights.h5"]
        assert all(i.compress_type == zipfile.ZIP_STORED for i in infos)
        meta = json.loads(zf.read("metadata.json"))
        assert meta["keras_version"].startswith("3.") and "@" in meta["date_saved"]


def test_model_checkpoint_writes_loadable_files(tmp_path):
    keras.utils.set_random_seed(0)
    x, y = mlp_data(64)
    model = build_mlp(keras)
    cbs = [keras.callbacks.ModelCheckpoint(str(tmp_path / "e{epoch:02d}.keras")),
           keras.callbacks.ModelCheckpoint(str(tmp_path / "best.h5"), monitor="loss",
                                           save_best_only=True),
           keras.callbacks.ModelCheckpoint(str(tmp_path / "w.weights.h5"),
                                           save_weights_only=True)]
    model.fit(x, y, epochs=2, verbose=0, callbacks=cbs, shuffle=False)
    assert sorted(os.listdir(tmp_path)) == ["best.h5", "e01.keras", "e02.keras", "w.weights.h5"]
    for name in ("e02.keras", "best.h5"):
        loaded = keras.models.load_model(tmp_path / name)
        np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    fresh = build_mlp(keras)
    fresh.load_weights(tmp_path / "w.weights.h5")
    np.testing.assert_array_equal(fresh.predict(x, verbose=0), model.predict(x, verbose=0))
