"""Opt-in: the notes' three MNIST models reach their published accuracy on the real data.

Run with ``python -m pytest tests/core/test_core_mnist_accuracy.py --runslow`` (or
MITBADAK_SLOW=1); takes a few minutes on two cores. MNIST is read offline from
``../shared/datasets/mnist`` through ``keras.datasets.mnist.load_data()``; 48,000 images train
and the last 12,000 validate (validation_split=0.2).
"""
from __future__ import annotations

import numpy as np
import pytest

from mitbadak import datasets, keras

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def mnist(mnist_dir):
    datasets.set_data_dir(mnist_dir)
    try:
        (x_train, y_train), _ = keras.datasets.mnist.load_data()
    finally:
        datasets.set_data_dir(None)
    assert x_train.shape == (60000, 28, 28) and y_train.shape == (60000,)
    return x_train, y_train


def _report(name, history):
    print(f"\n{name}: val_accuracy per epoch "
          f"{[round(v, 4) for v in history.history['val_accuracy']]}")


def test_mlp_sigmoid_sgd(mnist):
    x, y = mnist
    x = x.reshape(-1, 784).astype(np.float32) / 255.0
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.layers.Dense(100, activation="sigmoid", input_shape=(784,)),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
    h = model.fit(x, keras.utils.to_categorical(y, 10), batch_size=32, epochs=5,
                  validation_split=0.2, verbose=2)
    _report("784-100 sigmoid-10, sgd", h)
    assert h.params["steps"] == 48000 // 32
    assert h.history["val_accuracy"][-1] >= 0.885


def test_flatten_relu_adam(mnist):
    x, y = mnist
    x = x.astype(np.float32) / 255.0
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.layers.Flatten(input_shape=(28, 28)),
                              keras.layers.Dense(100, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    h = model.fit(x, y, batch_size=32, epochs=5, validation_split=0.2, verbose=2)
    _report("Flatten-100 relu-10, adam", h)
    assert h.history["val_accuracy"][-1] >= 0.968


def test_deep_dropout_adam(mnist):
    x, y = mnist
    x = x.reshape(-1, 784).astype(np.float32) / 255.0
    keras.utils.set_random_seed(0)
    layers = [keras.Input(shape=(784,))]
    for _ in range(4):
        layers += [keras.layers.Dense(512, activation="relu", kernel_initializer="glorot_normal"),
                   keras.layers.Dropout(0.3)]
    layers.append(keras.layers.Dense(10, activation="softmax"))
    model = keras.Sequential(layers)
    assert model.count_params() == 1195018
    model.compile(optimizer=keras.optimizers.Adam(), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    h = model.fit(x, y, batch_size=100, epochs=5, validation_split=0.2, verbose=2)
    _report("4x(Dense 512 relu + Dropout 0.3)-10, adam", h)
    assert h.history["val_accuracy"][-1] >= 0.973
