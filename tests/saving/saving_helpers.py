"""Helpers shared by the saving tests (a plain module with a unique name, not a conftest):
the notes' MLP, a small CNN, data, one model per layer type, and real Keras in a subprocess."""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "keras"
REPO = Path(__file__).resolve().parents[2]


def build_mlp(keras, optimizer="sgd"):
    """The notes' network: 784-100 sigmoid-10 softmax, SGD, categorical cross-entropy."""
    model = keras.Sequential([keras.layers.Dense(100, activation="sigmoid", input_shape=(784,)),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def build_cnn(keras, optimizer="adam", dropout=True):
    """A small CNN like the fixture's: conv, pool, flatten, (dropout), dense, BN, softmax."""
    layers = [keras.Input(shape=(8, 8, 1)),
              keras.layers.Conv2D(4, 3, padding="same", activation="relu"),
              keras.layers.MaxPooling2D(),
              keras.layers.Flatten()]
    if dropout:
        layers.append(keras.layers.Dropout(0.25))
    layers += [keras.layers.Dense(8, activation="relu"), keras.layers.BatchNormalization(),
               keras.layers.Dense(3, activation="softmax")]
    model = keras.Sequential(layers)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def mlp_data(n=96, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 784), dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, n)]
    return x, y


def cnn_data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 8, 8, 1), dtype=np.float32), rng.integers(0, 3, n)


def require_fixture(name):
    path = FIXTURES / name
    if not path.exists():
        pytest.skip(f"fixture {path} is not present")
    return path


def run_keras(script: str, workdir: Path, timeout: int = 540) -> dict:
    """Run `script` with real Keras 3 in a fresh interpreter; returns the JSON it prints last.

    The backend is chosen before keras is imported: numpy first (as the project asks); where
    that backend cannot start (Keras's numpy backend imports jax), tensorflow, then jax, torch.
    Skips with the reason when keras is not installed or no backend starts.
    """
    if importlib.util.find_spec("keras") is None:
        pytest.skip("real Keras is not installed (pip install keras) - interop not checked")
    (workdir / "keras_script.py").write_text(script)
    tried = []
    for backend in ("numpy", "tensorflow", "jax", "torch"):
        if backend != "numpy" and importlib.util.find_spec(backend) is None:
            continue
        env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3",
               "CUDA_VISIBLE_DEVICES": "", "PYTHONPATH": ""}
        proc = subprocess.run([sys.executable, "keras_script.py"], cwd=workdir, env=env,
                              capture_output=True, text=True, timeout=timeout)
        if proc.returncode == 0:
            result = json.loads(proc.stdout.strip().splitlines()[-1])
            result["_backend"] = backend
            return result
        if "BACKEND_IMPORT_FAILED" in proc.stdout:
            tried.append(f"{backend}: {proc.stdout.strip().splitlines()[-1]}")
            continue
        raise AssertionError(f"Keras script failed with backend {backend}:\n"
                             f"{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}")
    pytest.skip(f"no Keras backend could start: {'; '.join(tried) or 'none installed'}")


KERAS_PRELUDE = '''
import json, sys, warnings
try:
    import keras
except ImportError as e:          # e.g. the numpy backend needs jax
    print("BACKEND_IMPORT_FAILED", repr(e)); sys.exit(1)
import numpy as np
'''


# Arguments and an input shape (without the batch axis) for each layer class; a class not
# listed is tried with no arguments on a (6, 6, 2) input and skipped if that does not work.
LAYER_EXAMPLES = {
    "Dense": ({"units": 3, "activation": "relu"}, (5,)),
    "Activation": ({"activation": "tanh"}, (4,)),
    "Flatten": ({}, (3, 4)),
    "Dropout": ({"rate": 0.3}, (4,)),
    "Reshape": ({"target_shape": (2, 6)}, (12,)),
    "Conv2D": ({"filters": 2, "kernel_size": 3, "padding": "same", "activation": "relu"},
               (6, 6, 2)),
    "Conv1D": ({"filters": 2, "kernel_size": 3}, (8, 2)),
    "DepthwiseConv2D": ({"kernel_size": 3}, (6, 6, 2)),
    "Conv2DTranspose": ({"filters": 2, "kernel_size": 3, "strides": 2}, (4, 4, 2)),
    "MaxPooling2D": ({"pool_size": 2}, (6, 6, 2)),
    "AveragePooling2D": ({"pool_size": 2}, (6, 6, 2)),
    "MaxPooling1D": ({"pool_size": 2}, (8, 2)), "AveragePooling1D": ({"pool_size": 2}, (8, 2)),
    "GlobalMaxPooling2D": ({}, (5, 5, 2)), "GlobalAveragePooling2D": ({}, (5, 5, 2)),
    "GlobalMaxPooling1D": ({}, (8, 2)), "GlobalAveragePooling1D": ({}, (8, 2)),
    "BatchNormalization": ({}, (4, 4, 3)),
    "LayerNormalization": ({}, (6,)),
    "ZeroPadding2D": ({"padding": 1}, (4, 4, 2)), "ZeroPadding1D": ({"padding": 1}, (6, 2)),
    "Cropping2D": ({"cropping": 1}, (5, 5, 2)), "Cropping1D": ({"cropping": 1}, (6, 2)),
    "UpSampling2D": ({"size": 2}, (3, 3, 2)), "UpSampling1D": ({"size": 2}, (4, 2)),
    "SpatialDropout2D": ({"rate": 0.2}, (4, 4, 2)), "SpatialDropout1D": ({"rate": 0.2}, (6, 2)),
    "SimpleRNN": ({"units": 3, "return_sequences": True}, (5, 4)),
    "LSTM": ({"units": 3, "go_backwards": True}, (5, 4)),
    "GRU": ({"units": 3, "reset_after": False}, (5, 4)),
    "Masking": ({"mask_value": 0.0}, (5, 4)),
    # callables: layers holding another layer get a fresh one for every model
    "RNN": (lambda L: {"cell": L.SimpleRNNCell(3)}, (5, 4)),
    "Bidirectional": (lambda L: {"layer": L.LSTM(3)}, (5, 4)),
    "TimeDistributed": (lambda L: {"layer": L.Dense(3)}, (5, 4)),
    "SeparableConv2D": ({"filters": 3, "kernel_size": 3, "padding": "same"}, (6, 6, 2)),
    "SeparableConv1D": ({"filters": 3, "kernel_size": 3}, (8, 2)),
    "Rescaling": ({"scale": 1 / 255, "offset": -0.5}, (6, 6, 2)),
    "Resizing": ({"height": 4, "width": 5}, (6, 6, 2)),
    "CenterCrop": ({"height": 4, "width": 4}, (6, 6, 2)),
    "RandomCrop": ({"height": 4, "width": 4}, (6, 6, 2)),
    "RandomFlip": ({"mode": "horizontal"}, (6, 6, 2)),
    "RandomRotation": ({"factor": 0.1}, (6, 6, 2)),
    "RandomZoom": ({"height_factor": 0.2}, (6, 6, 2)),
    "RandomTranslation": ({"height_factor": 0.1, "width_factor": 0.1}, (6, 6, 2)),
    "RandomContrast": ({"factor": 0.2}, (6, 6, 2)),
    "RandomBrightness": ({"factor": 0.2}, (6, 6, 2)),
}

# Layers the generic one-layer round trips leave to their own tests, and why.
NOT_ONE_LAYER = {
    "SimpleRNNCell": "a cell runs inside RNN (the RNN example holds one)",
    "LSTMCell": "a cell runs inside RNN", "GRUCell": "a cell runs inside RNN",
    "Lambda": "a saved Lambda is never loaded (its code would run); tests/layers covers it",
    "Embedding": "takes integer ids; tests/layers/test_embedding*.py and the recurrent "
                 "fixtures cover its files",
}


def layer_classes():
    """Every public single-input Layer class of mitbadak.layers, once (aliases such as
    MaxPool2D dropped; the merge layers take lists and are tested in functional models;
    TextVectorization takes text and is tested in tests/preprocessing)."""
    from mitbadak import layers
    seen, out = set(), []
    for name in getattr(layers, "__all__", dir(layers)):
        cls = getattr(layers, name, None)
        if (isinstance(cls, type) and issubclass(cls, layers.Layer) and cls is not layers.Layer
                and cls is not layers.InputLayer and cls not in seen and name == cls.__name__
                and not cls.takes_list and getattr(cls, "input_dtype", None) != "string"):
            seen.add(cls)
            out.append(cls)
    return out


def one_layer_model(keras, cls, seed=0):
    """Sequential([Input, cls(...)]) with random weights (positive variances), or skip."""
    if cls.__name__ in NOT_ONE_LAYER:
        pytest.skip(f"{cls.__name__}: {NOT_ONE_LAYER[cls.__name__]}")
    kwargs, shape = LAYER_EXAMPLES.get(cls.__name__, ({}, (6, 6, 2)))
    if callable(kwargs):
        kwargs = kwargs(keras.layers)
    try:
        model = keras.Sequential([keras.Input(shape=shape), cls(**kwargs)])
    except Exception as e:  # noqa: BLE001 - an unlisted layer that needs arguments
        pytest.skip(f"{cls.__name__}: no example arguments in LAYER_EXAMPLES ({e})")
    rng = np.random.default_rng(seed)
    model.set_weights([(rng.random(w.shape, dtype=np.float32) + 0.5) for w in model.get_weights()])
    x = rng.standard_normal((3,) + shape).astype(np.float32)
    return model, x
