"""Two-way interop with real Keras 3, run in a subprocess so its backend choice is clean:
Keras loads mitbadak's .keras/.h5/.weights.h5 files (the notes' MLP, a CNN, one model per
layer type) and predicts the same to 1e-5; mitbadak loads files Keras writes just now.

Also checks statically that the .h5 files follow the tf.keras 2.x rules (spec 11.1), since
tf.keras 2.x itself may not be installed.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

h5py = pytest.importorskip("h5py", reason="saving needs h5py (pip install h5py)")

import mitbadak as keras  # noqa: E402
from mitbadak.saving import optimizer_state  # noqa: E402

from saving_helpers import (KERAS_PRELUDE, LAYER_EXAMPLES, build_cnn,  # noqa: E402
                            build_mlp, cnn_data, layer_classes, mlp_data, one_layer_model,
                            run_keras)

TOL = dict(rtol=1e-5, atol=1e-5)

OPTIMIZERS = {
    "sgd_nesterov": lambda: keras.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    "rmsprop_centered": lambda: keras.optimizers.RMSprop(momentum=0.5, centered=True),
    "adagrad": lambda: keras.optimizers.Adagrad(), "adamax": lambda: keras.optimizers.Adamax(),
    "nadam": lambda: keras.optimizers.Nadam(),
    "amsgrad": lambda: keras.optimizers.Adam(amsgrad=True),
    "schedule": lambda: keras.optimizers.SGD(
        keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9)),
}

KERAS_SCRIPT = KERAS_PRELUDE + r'''
warnings.simplefilter("ignore")
ours = np.load("ours.npz")
names = json.load(open("ours.json"))
report = {"load": {}, "errors": {}, "iterations": {}, "opt_state_equal": {}, "made": []}

# 1. Keras loads mitbadak's files
for name in names["models"]:
    stem = name.rsplit(".", 1)[0].replace(".weights", "")
    try:
        model = keras.models.load_model(name)
        pred = model.predict(ours["x_" + stem], verbose=0)
        report["load"][name] = float(np.max(np.abs(pred - ours["pred_" + stem])))
        if getattr(model, "optimizer", None) is not None:
            cfg = model.optimizer.get_config()
            report.setdefault("settings", {})[name] = {
                "class": type(model.optimizer).__name__, "momentum": cfg.get("momentum"),
                "centered": cfg.get("centered"),
                "learning_rate": "schedule" if isinstance(cfg.get("learning_rate"), dict)
                else cfg.get("learning_rate")}
        if getattr(model, "optimizer", None) is not None and model.optimizer.built:
            report["iterations"][name] = int(model.optimizer.iterations.numpy())
            if "state_" + stem + "_0" in ours.files:
                got = [np.asarray(v) for v in model.optimizer.variables]
                want = [ours["state_%s_%d" % (stem, i)] for i in range(len(got))]
                report["opt_state_equal"][name] = len(got) == len(want) and all(
                    g.shape == w.shape and np.allclose(g, w, rtol=1e-6, atol=0)
                    for g, w in zip(got, want))     # Nadam's u_product is float32 there
    except Exception as e:  # noqa: BLE001 - reported, then asserted on the pytest side
        report["errors"][name] = repr(e)[:500]
for name, like in names["weights"]:
    try:
        model = keras.models.load_model(like)
        model.load_weights(name)
        stem = like.rsplit(".", 1)[0]
        pred = model.predict(ours["x_" + stem], verbose=0)
        report["load"][name] = float(np.max(np.abs(pred - ours["pred_" + stem])))
    except Exception as e:  # noqa: BLE001
        report["errors"][name] = repr(e)[:500]

# 2. Keras writes files for mitbadak to read: every layer type it has, then a CNN
rng = np.random.default_rng(5)
out = {}
def save_all(model, stem, x):
    model.set_weights([rng.random(w.shape).astype("float32") + 0.5 for w in model.get_weights()])
    out["x_" + stem] = x
    out["pred_" + stem] = model.predict(x, verbose=0)
    model.save(stem + ".keras")
    model.save(stem + ".h5")
    model.save_weights(stem + ".weights.h5")
    report["made"].append(stem)

for cls_name, (kwargs, shape) in names["layers"].items():
    cls = getattr(keras.layers, cls_name, None)
    if cls is None:
        continue
    try:
        model = keras.Sequential([keras.Input(shape=tuple(shape)), cls(**kwargs)],
                                 name="k_" + cls_name.lower())
        save_all(model, "k_" + cls_name, rng.standard_normal((3,) + tuple(shape)).astype("float32"))
    except Exception as e:  # noqa: BLE001
        report["errors"]["make " + cls_name] = repr(e)[:500]

cnn = keras.Sequential([
    keras.Input(shape=(10, 10, 3)),
    keras.layers.Conv2D(6, 3, strides=2, padding="same", activation="relu"),
    keras.layers.BatchNormalization(),
    keras.layers.Conv2D(4, (2, 3), padding="valid", use_bias=False),
    keras.layers.AveragePooling2D(2, padding="same"),
    keras.layers.Flatten(),
    keras.layers.Dropout(0.5),
    keras.layers.Dense(7, activation="tanh"),
    keras.layers.Reshape((7, 1)),
    keras.layers.Flatten(),
    keras.layers.Dense(3),
    keras.layers.Activation("softmax"),
], name="keras_cnn")
cnn.compile(optimizer=keras.optimizers.RMSprop(0.01), loss="categorical_crossentropy",
            metrics=["accuracy"])
save_all(cnn, "keras_cnn", rng.standard_normal((4, 10, 10, 3)).astype("float32"))
np.savez("keras_out.npz", **out)
print(json.dumps(report))
'''


@pytest.fixture(scope="module")
def our_files(tmp_path_factory):
    """mitbadak's files (and the inputs and predictions) in a fresh folder."""
    work = tmp_path_factory.mktemp("keras_interop")
    arrays, models, weight_files = {}, [], []

    def add(model, stem, x, formats=(".keras", ".h5")):
        arrays["x_" + stem] = x
        arrays["pred_" + stem] = model.predict(x, verbose=0)
        for suffix in formats:
            model.save(work / (stem + suffix))
            models.append(stem + suffix)

    keras.utils.set_random_seed(0)
    x, y = mlp_data(64)
    mlp = build_mlp(keras)
    mlp.fit(x, y, epochs=2, batch_size=32, verbose=0)
    add(mlp, "mlp", x[:8])
    mlp.save_weights(work / "mlp_w.weights.h5")
    mlp.save_weights(work / "mlp_w.h5")
    weight_files += [("mlp_w.weights.h5", "mlp.keras"), ("mlp_w.h5", "mlp.keras")]

    xc, yc = cnn_data()
    cnn = build_cnn(keras)
    cnn.fit(xc, yc, epochs=2, batch_size=16, verbose=0)
    add(cnn, "cnn", xc[:8])
    state = optimizer_state.state_entries(cnn.optimizer, optimizer_state.trainable_refs(cnn),
                                          cnn.name)
    for i, (_, value) in enumerate(state):
        arrays[f"state_cnn_{i}"] = value
    k2_state = optimizer_state.k2_state_entries(cnn.optimizer,
                                                optimizer_state.trainable_refs(cnn))
    for i, (_, value) in enumerate(k2_state):
        arrays[f"k2state_cnn_{i}"] = value

    optimizers_made = []
    for name, opt in OPTIMIZERS.items():
        keras.backend.clear_session()
        model = keras.Sequential([keras.layers.Dense(3, input_shape=(4,)),
                                  keras.layers.Dense(2)])
        model.compile(opt(), "mse")
        xo = np.random.default_rng(2).random((16, 4), dtype=np.float32)
        model.fit(xo, xo[:, :2], epochs=2, batch_size=4, verbose=0)
        stem = "opt_" + name
        add(model, stem, xo)
        refs = optimizer_state.trainable_refs(model)
        for i, (_, value) in enumerate(optimizer_state.state_entries(model.optimizer, refs,
                                                                     model.name)):
            arrays[f"state_{stem}_{i}"] = value
        for i, (_, value) in enumerate(optimizer_state.k2_state_entries(model.optimizer, refs)):
            arrays[f"k2state_{stem}_{i}"] = value
        optimizers_made.append(stem)

    layer_table = {}
    for cls in layer_classes():
        if cls.__name__ not in LAYER_EXAMPLES or callable(LAYER_EXAMPLES[cls.__name__][0]) \
                or cls.__name__ in KERAS_DIFFERS:
            continue        # wrappers holding a layer: tests/layers/test_rnn_keras_* cover them
        keras.backend.clear_session()
        model, xl = one_layer_model(keras, cls)
        add(model, "layer_" + cls.__name__, xl)
        layer_table[cls.__name__] = LAYER_EXAMPLES[cls.__name__]

    np.savez(work / "ours.npz", **arrays)
    (work / "ours.json").write_text(json.dumps({"models": models, "weights": weight_files,
                                                "layers": layer_table,
                                                "optimizers": optimizers_made}))
    return work


# Layers left out of the every-layer file exchange with Keras 3.15, and why (their files
# are covered by tests/layers/test_image_keras_files.py).
KERAS_DIFFERS = {
    "RandomCrop": "Keras 3.15's code leaves images uncropped at inference; its documentation "
                  "(and mitbadak) centre-crop, so predictions differ by design",
    "RandomBrightness": "Keras 3.15 cannot save it (TypeError: cannot pickle 'module' object)",
}


@pytest.fixture(scope="module")
def keras_run(our_files):
    """Real Keras 3, run once over mitbadak's files: (folder, report)."""
    return our_files, run_keras(KERAS_SCRIPT, our_files)


# ------------------------------------------------------------------ Keras reads ours
def test_keras_loads_our_mlp_and_cnn(keras_run):
    _, report = keras_run
    for name in ("mlp.keras", "mlp.h5", "cnn.keras", "cnn.h5"):
        assert name not in report["errors"], report["errors"].get(name)
        assert report["load"][name] <= 1e-5, (name, report["load"][name], report["_backend"])


def test_keras_restores_our_optimizer_state(keras_run):
    """From .keras, Keras 3 takes the whole state of every optimizer. (A .h5 holds it in
    tf.keras 2.x's layout, which Keras 3 drops with a warning, as for any tf.keras 2.x file.)"""
    _, report = keras_run
    assert report["iterations"]["cnn.keras"] == 8
    for stem in ["cnn"] + ["opt_" + n for n in OPTIMIZERS]:
        assert report["opt_state_equal"][stem + ".keras"] is True, stem
        assert report["load"][stem + ".h5"] <= 1e-5           # loads, settings kept


def test_keras_keeps_our_optimizer_settings(keras_run):
    _, report = keras_run
    for stem, (cls, key, value) in {"opt_sgd_nesterov": ("SGD", "momentum", 0.9),
                                    "opt_rmsprop_centered": ("RMSprop", "centered", True),
                                    "opt_schedule": ("SGD", "learning_rate", "schedule")}.items():
        for suffix in (".keras", ".h5"):
            got = report["settings"][stem + suffix]
            assert got["class"] == cls and got[key] == value, (stem, suffix, got)


def test_keras_loads_our_weights_files(keras_run):
    _, report = keras_run
    for name in ("mlp_w.weights.h5", "mlp_w.h5"):
        assert name not in report["errors"], report["errors"].get(name)
        assert report["load"][name] <= 1e-5


def test_keras_loads_our_model_of_every_layer_type(keras_run):
    _, report = keras_run
    failures = {n: e for n, e in report["errors"].items() if n.startswith("layer_")}
    assert not failures
    layer_files = [n for n in report["load"] if n.startswith("layer_")]
    assert len(layer_files) >= 2 * 5            # at least the core layers, in both formats
    worst = {n: v for n, v in report["load"].items() if n.startswith("layer_") and v > 1e-5}
    assert not worst


# ------------------------------------------------------------------ we read Keras's
def _keras_made(keras_run):
    work, report = keras_run
    assert not {n: e for n, e in report["errors"].items() if n.startswith("make ")}
    return work, report, np.load(work / "keras_out.npz")


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_we_load_fresh_keras_files_of_every_layer_type(keras_run, suffix):
    work, report, out = _keras_made(keras_run)
    stems = [s for s in report["made"] if s.startswith("k_")]
    assert stems
    for stem in stems:
        model = keras.models.load_model(work / (stem + suffix), compile=False)
        np.testing.assert_allclose(model.predict(out["x_" + stem], verbose=0),
                                   out["pred_" + stem], err_msg=stem, **TOL)


@pytest.mark.parametrize("suffix", [".keras", ".h5", ".weights.h5"])
def test_we_load_a_fresh_keras_cnn(keras_run, suffix):
    work, report, out = _keras_made(keras_run)
    if suffix == ".weights.h5":
        model = keras.models.load_model(work / "keras_cnn.keras", compile=False)
        model.load_weights(work / "keras_cnn.weights.h5")
    else:
        model = keras.models.load_model(work / ("keras_cnn" + suffix))
        assert type(model.optimizer).__name__ == "RMSprop"
        assert model.optimizer.learning_rate == pytest.approx(0.01)
    np.testing.assert_allclose(model.predict(out["x_keras_cnn"], verbose=0),
                               out["pred_keras_cnn"], **TOL)


# ------------------------------------------------------------------ tf.keras 2.x rules, statically
def _walk(value, path=""):
    if isinstance(value, dict):
        for k, v in value.items():
            yield f"{path}.{k}", k, v
            yield from _walk(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk(v, f"{path}[{i}]")


@pytest.mark.parametrize("which", ["mlp", "cnn"])
def test_h5_follows_tf_keras2_rules(which, tmp_path):
    keras.utils.set_random_seed(0)
    if which == "mlp":
        model = build_mlp(keras, optimizer="adam")
        model.compile("adam", "mse", metrics=["mae", "acc"])       # short names go in long
    else:
        model = build_cnn(keras)
    model.save(tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5", "r") as f:
        for attr in ("backend", "keras_version", "model_config", "training_config"):
            assert isinstance(f.attrs[attr], str), attr           # variable-length UTF-8
        config = json.loads(f.attrs["model_config"])
        training = json.loads(f.attrs["training_config"])
        assert config["class_name"] == "Sequential"
        layers = config["config"]["layers"]
        assert layers[0]["class_name"] == "InputLayer"
        assert set(layers[0]["config"]) == {"batch_input_shape", "dtype", "sparse", "ragged",
                                            "name"}
        assert layers[0]["config"]["batch_input_shape"][0] is None
        for path, key, value in _walk(config):
            assert key not in ("batch_shape", "module", "registered_name", "build_config",
                               "optional", "synchronized", "shared_object_id"), path
            if key == "dtype":
                assert isinstance(value, str), path
        assert set(training) >= {"loss", "metrics", "weighted_metrics", "loss_weights",
                                 "optimizer_config"}
        assert "loss_weights" in training and training["loss_weights"] is None
        assert training["loss"] in ("mean_squared_error", "sparse_categorical_crossentropy")
        assert set(training["optimizer_config"]) == {"class_name", "config"}
        assert training["optimizer_config"]["class_name"] == "Adam"
        # the state as tf.keras 2.x's (legacy) Adam holds it: iter, all m, then all v
        opt_names = list(f["optimizer_weights"].attrs["weight_names"])
        n = len(model.trainable_weights)
        first, last = model.layers[0].name, model.layers[-1].name
        assert opt_names[0] == "Adam/iter:0" and len(opt_names) == 1 + 2 * n
        assert opt_names[1] == f"Adam/{first}/kernel/m:0"
        assert opt_names[n] == f"Adam/{last}/bias/m:0"
        assert opt_names[n + 1] == f"Adam/{first}/kernel/v:0"
        # no argument tf.keras 2.x's legacy Adam would reject
        assert set(training["optimizer_config"]["config"]) == {
            "name", "learning_rate", "beta_1", "beta_2", "epsilon", "amsgrad"}
        group = f["model_weights"]
        names = [l.name for l in model.layers]
        assert list(group.attrs["layer_names"]) == names
        assert "top_level_model_weights" in group
        for layer in model.layers:
            weight_names = list(group[layer.name].attrs["weight_names"])
            assert weight_names == [f"{layer.name}/{w}:0" for w in layer._weights]
            for w in weight_names:
                assert group[layer.name][w].shape == layer._weights[w.split("/")[1][:-2]].shape


TF_KERAS_SCRIPT = r'''
import json, os, sys
os.environ["TF_USE_LEGACY_KERAS"] = "1"
import numpy as np
import tf_keras as keras
ours = np.load("ours.npz")
report = {}
stems = ["mlp", "cnn"] + json.load(open("ours.json"))["optimizers"]
for stem in stems:
    model = keras.models.load_model(stem + ".h5")
    pred = model.predict(ours["x_" + stem], verbose=0)
    report[stem] = float(np.max(np.abs(pred - ours["pred_" + stem])))
    report[stem + "_optimizer"] = type(model.optimizer).__name__
    got = [np.asarray(v) for v in model.optimizer.get_weights()]
    want = [ours["k2state_%s_%d" % (stem, i)] for i in range(len(got))
            if "k2state_%s_%d" % (stem, i) in ours.files]
    report[stem + "_state"] = len(got) == len(want) and all(   # Nadam's cache is float32 there
        g.shape == w.shape and np.allclose(g, w, rtol=1e-6, atol=0) for g, w in zip(got, want))
mlp = keras.models.load_model("mlp.h5", compile=False)
mlp.load_weights("mlp_w.h5")
report["mlp_w"] = float(np.max(np.abs(mlp.predict(ours["x_mlp"], verbose=0) - ours["pred_mlp"])))
print(json.dumps(report))
'''


def test_tf_keras2_loads_our_h5(our_files):
    """The notes' last line, tf.keras.models.load_model('my_mnist.h5'), with tf.keras 2.x."""
    import importlib.util
    import os
    import subprocess
    import sys
    if importlib.util.find_spec("tf_keras") is None:
        pytest.skip("tf.keras 2.x (pip install tf-keras) is not installed; the .h5 files are "
                    "checked against its rules statically in test_h5_follows_tf_keras2_rules")
    (our_files / "tf_keras_script.py").write_text(TF_KERAS_SCRIPT)
    proc = subprocess.run([sys.executable, "tf_keras_script.py"], cwd=our_files,
                          capture_output=True, text=True, timeout=540,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert proc.returncode == 0, proc.stderr[-4000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["mlp"] <= 1e-5 and report["cnn"] <= 1e-5 and report["mlp_w"] <= 1e-5
    assert report["mlp_optimizer"] == "SGD" and report["cnn_optimizer"] == "Adam"
    for stem in ["cnn"] + ["opt_" + n for n in OPTIMIZERS]:
        assert report[stem] <= 1e-5, stem
        assert report[stem + "_state"] is True, stem      # tf.keras 2.x resumes with our state
