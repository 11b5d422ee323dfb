"""Parity with real Keras: files written by Keras 3.15.1 and tf_keras 2.21.0
(tests/fixtures/keras/recurrent, see its README) give the same predictions in mitbadak.

For every model: the architecture built here from the fixture script's own definitions, with
Keras's weights set through set_weights, predicts what Keras predicted (to 1e-5); and every
.keras/.h5/.weights.h5 file Keras wrote loads in mitbadak with the same predictions.
"""
from __future__ import annotations

import contextlib
import importlib.util
import io
import warnings
from pathlib import Path

import numpy as np
import pytest

from mitbadak import keras

pytest.importorskip("h5py", reason="Keras files need h5py")

HERE = Path(__file__).resolve().parents[1] / "fixtures" / "keras" / "recurrent"
_spec = importlib.util.spec_from_file_location("make_recurrent", HERE / "make_recurrent.py")
fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fixtures)

TOL = dict(rtol=1e-5, atol=1e-5)
CASES = [(line, name) for line in ("k3", "k2") for name in fixtures.MODELS]


def load_npz(line, name):
    data = np.load(HERE / f"{line}_{name}.npz")
    xs = [data[k] for k in data.files if k.startswith("x_")]
    n_pred = sum(k.startswith("pred_") for k in data.files)
    n_w = sum(k.startswith("w") for k in data.files)
    return xs, [data[f"pred_{i}"] for i in range(n_pred)], [data[f"w{i}"] for i in range(n_w)]


def predict(model, xs):
    out = model.predict(xs[0] if len(xs) == 1 else xs, verbose=0)
    return out if isinstance(out, list) else [out]


@pytest.mark.parametrize("line,name", CASES, ids=[f"{a}_{b}" for a, b in CASES])
def test_keras_weights_give_keras_predictions(line, name):
    xs, expected, weights = load_npz(line, name)
    model = fixtures.build(keras, name)
    assert [w.shape for w in model.get_weights()] == [w.shape for w in weights]
    model.set_weights(weights)
    got = predict(model, xs)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g.shape == e.shape
        np.testing.assert_allclose(g, e, **TOL)


FILES = [(line, name, ext) for line, name in CASES for ext in fixtures.files_of(line, name)
         if ext != ".npz"]


@pytest.mark.parametrize("line,name,ext", FILES, ids=[f"{a}_{b}{c}" for a, b, c in FILES])
def test_keras_files_load_with_equal_predictions(line, name, ext):
    xs, expected, _ = load_npz(line, name)
    path = HERE / f"{line}_{name}{ext}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")          # "not compiled": Keras saved them so
        if ext == ".weights.h5":
            model = fixtures.build(keras, name)
            model.load_weights(path)
        else:
            model = keras.models.load_model(path)
    for g, e in zip(predict(model, xs), expected):
        np.testing.assert_allclose(g, e, **TOL)


def test_book_model_summaries_are_tf_keras_text():
    """혼공머신 9-2/9-3's models: summary() prints tf.keras 2.21's table to the character
    (SimpleRNN(8) on 200 features: 1,672 parameters; LSTM(8) on 16: 800; GRU(8) on 16: 624)."""
    parts = []
    for title, model in fixtures.book_models(keras).items():
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            model.summary()
        parts.append(f"### {title}\n{buf.getvalue()}")
    expected = (HERE / "k2_book_summaries.txt").read_text()
    assert "\n".join(parts) == expected
    for count in ("1672", "800", "624"):
        assert f" {count} " in expected


def test_parameter_counts_equal_keras():
    import json
    made = json.loads((HERE / "k3_made.json").read_text())["models"]
    for name in fixtures.MODELS:
        keras.backend.clear_session()
        assert fixtures.build(keras, name).count_params() == made[name]["params"], name
