"""Files both ways with real Keras for the layers of issue 15: models written by Keras 3.15
(.keras) and tf_keras 2.21 (.h5) load in mitbadak with the same predictions, and a model
mitbadak writes with every new layer loads in Keras 3 with the same predictions."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from mitbadak import keras
from mitbadak.keras import layers as L

pytest.importorskip("h5py", reason="model files need h5py (pip install h5py)")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "saving"))
from saving_helpers import KERAS_PRELUDE, run_keras  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "keras" / "images"


@pytest.mark.parametrize("name", ["k3_image_layers.keras", "k2_image_layers.h5"])
def test_keras_written_models_load_and_predict_the_same(name):
    data = np.load(FIXTURES / name.replace(".keras", ".npz").replace(".h5", ".npz"))
    model = keras.models.load_model(FIXTURES / name)
    pred = model.predict(data["x"], verbose=0)
    if isinstance(pred, list):        # see test_tf_keras_single_output_model_predicts_an_array
        (pred,) = pred
    np.testing.assert_allclose(pred, data["pred"], atol=1e-6)
    kinds = {type(layer).__name__ for layer in model.layers}
    assert {"SeparableConv2D", "PReLU", "LeakyReLU", "ELU", "Softmax"} <= kinds


def test_tf_keras_single_output_model_predicts_an_array():
    model = keras.models.load_model(FIXTURES / "k2_image_layers.h5")
    data = np.load(FIXTURES / "k2_image_layers.npz")
    assert isinstance(model.predict(data["x"], verbose=0), np.ndarray)


def test_keras_weights_file_loads_into_a_model_built_in_code():
    inputs = keras.Input((10, 9, 3))
    h = L.Rescaling(1 / 255.0)(inputs)
    h = L.Normalization(mean=[0.4, 0.5, 0.6], variance=[0.04, 0.09, 0.01])(h)
    h = L.SeparableConv2D(6, 3, padding="same", depth_multiplier=2)(h)
    h = L.PReLU(shared_axes=[1, 2])(h)
    h = L.SeparableConv2D(4, 3, strides=2, activation="relu")(h)
    h = L.CenterCrop(3, 3)(h)
    h = L.Flatten()(h)
    h = L.ELU(alpha=0.5)(L.LeakyReLU(0.1)(L.Dense(8)(h)))
    model = keras.Model(inputs, L.Softmax()(L.Dense(5)(h)))
    model.load_weights(FIXTURES / "k3_image_layers.weights.h5")
    data = np.load(FIXTURES / "k3_image_layers.npz")
    np.testing.assert_allclose(model.predict(data["x"], verbose=0), data["pred"], atol=1e-6)


KERAS_SCRIPT = KERAS_PRELUDE + '''
data = np.load("ours.npz")
model = keras.models.load_model("ours.keras")
pred = np.asarray(model.predict(data["x"], verbose=0))
print(json.dumps({"diff": float(np.abs(pred - data["pred"]).max()),
                  "classes": sorted({type(l).__name__ for l in model.layers} |
                                    {type(l).__name__ for l in model.layers[1].layers})}))
'''


def test_keras_loads_a_model_with_every_new_layer(tmp_path, rng):
    augment = keras.Sequential([L.RandomFlip("horizontal"), L.RandomRotation(0.1),
                                L.RandomZoom(0.2, 0.1), L.RandomTranslation(0.1, 0.1),
                                L.RandomContrast(0.2), L.RandomBrightness(0.1)])
    inputs = keras.Input((20, 18, 3))
    x = augment(inputs)
    x = L.Resizing(16, 16)(x)
    x = L.CenterCrop(14, 14)(x)
    x = L.Rescaling(1 / 255.0)(x)
    norm = L.Normalization()
    x = norm(x)
    x = L.SeparableConv2D(4, 3, depth_multiplier=2, padding="same")(x)
    x = L.PReLU(shared_axes=[1, 2])(x)
    x = L.ReLU(max_value=6.0)(x)
    x = L.Flatten()(x)
    x = L.Dense(6)(x)
    x = L.LeakyReLU(0.2)(x)
    x = L.ELU()(x)
    x = L.Identity()(x)
    model = keras.Model(inputs, L.Softmax()(L.Dense(3)(x)))
    data = rng.uniform(0, 255, (5, 20, 18, 3)).astype(np.float32)
    norm.adapt(L.CenterCrop(14, 14)(L.Resizing(16, 16)(data)) / 255.0)
    model.save(tmp_path / "ours.keras")
    np.savez(tmp_path / "ours.npz", x=data, pred=model.predict(data, verbose=0))
    report = run_keras(KERAS_SCRIPT, tmp_path)
    assert report["diff"] <= 1e-5, report
    assert {"RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation", "RandomContrast",
            "RandomBrightness", "Resizing", "CenterCrop", "Rescaling", "Normalization",
            "SeparableConv2D", "PReLU", "ReLU", "LeakyReLU", "ELU", "Identity",
            "Softmax"} <= set(report["classes"])
    # ... and mitbadak reads its own file back.
    again = keras.models.load_model(tmp_path / "ours.keras")
    np.testing.assert_allclose(again.predict(data, verbose=0), model.predict(data, verbose=0),
                               atol=1e-6)
    assert json.dumps(again.get_config(), default=str)
