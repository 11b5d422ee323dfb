"""Helpers shared by the model-graph tests (a plain module with a unique name, not a conftest).

- The fixture models of tests/fixtures/keras/functional/README.md, built with mitbadak's API
  exactly as make_functional.py builds them with Keras (same layer names, same weight order).
- The fixtures' arrays and JSON transcripts.
- Float64 gradients two independent ways: `trainer_gradients` reads the gradient the trainer
  really applied (one SGD step with learning rate 1 in float64: w_before - w_after), and
  `numerical_weight_gradients` differentiates a loss written in the test by central differences.
- `run_keras`: real Keras 3 in a subprocess (tests/saving/saving_helpers.py), skipped when absent.
"""
from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import sys
from pathlib import Path

import numpy as np

from mitbadak import keras
from mitbadak.keras import layers

TESTS = Path(__file__).resolve().parents[1]
FIXTURES = TESTS / "fixtures" / "keras" / "functional"
TOL = dict(rtol=1e-5, atol=1e-5)

sys.path.insert(0, str(TESTS))
from numeric import numerical_gradient  # noqa: E402


def _saving_helpers():
    """tests/saving/saving_helpers.py (run_keras, KERAS_PRELUDE), imported once by path."""
    module = sys.modules.get("saving_helpers")
    if module is None:
        spec = importlib.util.spec_from_file_location(
            "saving_helpers", TESTS / "saving" / "saving_helpers.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["saving_helpers"] = module
        spec.loader.exec_module(module)
    return module


def run_keras(script: str, workdir: Path, timeout: int = 540) -> dict:
    return _saving_helpers().run_keras(script, workdir, timeout)


KERAS_PRELUDE = _saving_helpers().KERAS_PRELUDE

# ----------------------------------------------------------------------------- fixtures
INPUTS = {"ticket": ["title", "text_body", "tags"], "resnet": ["image"], "shared": ["a", "b"],
          "nested": ["features"], "merge": ["a", "b", "c", "p", "q"]}
OUTPUTS = {"ticket": ["priority", "department"], "resnet": ["dense"], "shared": ["score"],
           "nested": ["out"],
           "merge": ["add3", "subtract", "multiply3", "average3", "maximum3", "minimum",
                     "concat_2d", "concat_last_3d", "concat_axis1_3d", "dot", "dot_normalized",
                     "dot_axes22_3d", "dot_axes1_3d"]}
STEMS = list(INPUTS)


def fixture(name: str) -> Path:
    path = FIXTURES / name
    assert path.exists(), f"fixture {path} is missing (see {FIXTURES / 'README.md'})"
    return path


def npz(name: str) -> dict:
    with np.load(fixture(name)) as data:
        return {k: data[k] for k in data.files}


def load_json(name: str) -> dict:
    return json.loads(fixture(name).read_text())


def fixture_x(stem: str, line: str = "k3") -> list:
    ref = npz(f"{line}_{stem}.npz")
    return [ref[f"x_{n}"] for n in INPUTS[stem]]


def fixture_preds(stem: str, line: str = "k3") -> list:
    ref = npz(f"{line}_{stem}.npz")
    return [ref[f"pred_{n}"] for n in OUTPUTS[stem]]


def fixture_weights(stem: str, line: str = "k3") -> list:
    ref = npz(f"{line}_{stem}.npz")
    return [ref[f"w{i}"] for i in range(sum(k.startswith("w") for k in ref))]


def as_list(pred) -> list:
    if isinstance(pred, dict):
        return list(pred.values())
    return list(pred) if isinstance(pred, (list, tuple)) else [pred]


def assert_predicts(model, stem: str, line: str = "k3", what: str = "") -> None:
    """model.predict(fixture x) equals the fixture's predictions to 1e-5."""
    got = as_list(model.predict(fixture_x(stem, line), verbose=0))
    want = fixture_preds(stem, line)
    assert len(got) == len(want), f"{what}: {len(got)} outputs, Keras has {len(want)}"
    for name, g, w in zip(OUTPUTS[stem], got, want):
        assert g.shape == w.shape, f"{what} output {name}: shape {g.shape}, Keras {w.shape}"
        np.testing.assert_allclose(g, w, **TOL, err_msg=f"{what} output {name}")


def summary_text(model, **kwargs) -> str:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        model.summary(**kwargs)
    return buf.getvalue()


# ----------------------------------------------------------------------------- the models
def build_ticket(dict_outputs: bool = False, sizes=(40, 40, 12), hidden: int = 16):
    """Deep Learning with Python 7.2.2 (smaller sizes): model 1 of the fixtures."""
    title = keras.Input(shape=(sizes[0],), name="title")
    text_body = keras.Input(shape=(sizes[1],), name="text_body")
    tags = keras.Input(shape=(sizes[2],), name="tags")
    features = layers.Concatenate()([title, text_body, tags])
    features = layers.Dense(hidden, activation="relu")(features)
    priority = layers.Dense(1, activation="sigmoid", name="priority")(features)
    department = layers.Dense(4, activation="softmax", name="department")(features)
    if dict_outputs:
        return keras.Model(inputs=[title, text_body, tags],
                           outputs={"priority": priority, "department": department})
    return keras.Model(inputs=[title, text_body, tags], outputs=[priority, department])


def build_resnet():
    inputs = keras.Input(shape=(16, 16, 3), name="image")
    x = layers.Conv2D(8, 3, padding="same", activation="relu")(inputs)
    residual = x
    x = layers.Conv2D(8, 3, padding="same", activation="relu")(x)
    x = layers.Conv2D(8, 3, padding="same")(x)
    x = layers.add([x, residual])
    residual = x
    x = layers.Conv2D(16, 3, strides=2, padding="same", activation="relu")(x)
    residual = layers.Conv2D(16, 1, strides=2)(residual)
    x = layers.add([x, residual])
    x = layers.MaxPooling2D()(x)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(5, activation="softmax")(x)
    return keras.Model(inputs, outputs)


def build_shared():
    a = keras.Input(shape=(8,), name="a")
    b = keras.Input(shape=(8,), name="b")
    shared = layers.Dense(6, activation="relu", name="shared")
    ea, eb = shared(a), shared(b)
    diff = layers.subtract([ea, eb])
    merged = layers.concatenate([diff, ea, eb])
    score = layers.Dense(1, name="score")(merged)
    return keras.Model([a, b], score)


def build_nested():
    inner_in = keras.Input(shape=(10,), name="inner_in")
    h = layers.Dense(8, activation="relu")(inner_in)
    inner = keras.Model(inner_in, layers.Dense(4)(h), name="inner")
    seq = keras.Sequential([keras.Input(shape=(10,), name="seq_in"),
                            layers.Dense(5, activation="relu"), layers.Dense(3)])
    features = keras.Input(shape=(10,), name="features")
    merged = layers.concatenate([inner(features), seq(features)])
    out = layers.Dense(2, name="out")(merged)
    return keras.Model(features, out)


def build_merge():
    a, b, c = (keras.Input(shape=(5,), name=n) for n in ("a", "b", "c"))
    p, q = (keras.Input(shape=(3, 5), name=n) for n in ("p", "q"))
    outs = [
        layers.Add(name="add3")([a, b, c]),
        layers.Subtract(name="subtract")([a, b]),
        layers.Multiply(name="multiply3")([a, b, c]),
        layers.Average(name="average3")([a, b, c]),
        layers.Maximum(name="maximum3")([a, b, c]),
        layers.Minimum(name="minimum")([a, b]),
        layers.Concatenate(axis=-1, name="concat_2d")([a, b, c]),
        layers.Concatenate(axis=-1, name="concat_last_3d")([p, q]),
        layers.Concatenate(axis=1, name="concat_axis1_3d")([p, q]),
        layers.Dot(axes=1, name="dot")([a, b]),
        layers.Dot(axes=1, normalize=True, name="dot_normalized")([a, b]),
        layers.Dot(axes=(2, 2), name="dot_axes22_3d")([p, q]),
        layers.Dot(axes=1, name="dot_axes1_3d")([p, q]),
    ]
    return keras.Model([a, b, c, p, q], outs)


BUILDERS = {"ticket": build_ticket, "resnet": build_resnet, "shared": build_shared,
            "nested": build_nested, "merge": build_merge}


def build_cnn83():
    """혼자 공부하는 머신러닝+딥러닝 8-2, as the book writes it."""
    model = keras.Sequential()
    model.add(layers.Conv2D(32, kernel_size=3, activation="relu", padding="same",
                            input_shape=(28, 28, 1)))
    model.add(layers.MaxPooling2D(2))
    model.add(layers.Conv2D(64, kernel_size=3, activation="relu", padding="same"))
    model.add(layers.MaxPooling2D(2))
    model.add(layers.Flatten())
    model.add(layers.Dense(100, activation="relu"))
    model.add(layers.Dropout(0.4))
    model.add(layers.Dense(10, activation="softmax"))
    return model


def customer_ticket_model_class():
    """DLwP 7.2.3's subclassed model, as the book writes it (a fresh class per call): the
    fixture script's own code (make_functional.subclass_type), given mitbadak for keras."""
    sys.path.insert(0, str(FIXTURES))
    try:
        import make_functional
    finally:
        sys.path.remove(str(FIXTURES))
    return make_functional.subclass_type(keras)


# ----------------------------------------------------------------------------- gradients
def trainer_gradients(model, x, y, loss, loss_weights=None) -> list:
    """The gradient of each trainable weight (model.trainable_weights order) that the trainer
    applies in one step: SGD with learning rate 1 makes it w_before - w_after. The weights
    are put back afterwards. Run in float64 (floatx float64 before building the model)."""
    before = [np.array(v.numpy(), dtype=np.float64) for v in model.trainable_weights]
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=1.0), loss=loss,
                  loss_weights=loss_weights)
    model.train_on_batch(x, y)
    after = [np.array(v.numpy(), dtype=np.float64) for v in model.trainable_weights]
    for v, w in zip(model.trainable_weights, before):
        v.assign(w)
    return [b - a for b, a in zip(before, after)]


def numerical_weight_gradients(model, loss_fn) -> list:
    """Central differences of loss_fn() (written in the test, reading model(x)) for every
    trainable weight, perturbing the weight arrays in place."""
    return [numerical_gradient(loss_fn, weight_array(v)) for v in model.trainable_weights]


def weight_array(variable) -> np.ndarray:
    """The array a weight variable stands for (changed in place by numerical_gradient)."""
    value = getattr(variable, "value", None)
    value = value() if callable(value) else value
    assert isinstance(value, np.ndarray) and value.dtype == np.float64, \
        f"{variable}: expected a float64 array, got {type(value).__name__}"
    return value


def mse(y, p):
    return float(np.mean(np.mean((p - y) ** 2, axis=-1)))


def categorical_crossentropy(t, p):
    return float(np.mean(-np.sum(t * np.log(p), axis=-1)))


def binary_crossentropy(t, p):
    return float(np.mean(np.mean(-(t * np.log(p) + (1 - t) * np.log(1 - p)), axis=-1)))
