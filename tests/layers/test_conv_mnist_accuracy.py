"""Opt-in: the course's CNN on real MNIST, 2 epochs, 48,000 images train, 12,000 validate.

Run with ``python -m pytest tests/layers/test_conv_mnist_accuracy.py --runslow -s`` (or
MITBADAK_SLOW=1); a few minutes on two cores.

The target is ~98.5% after 2 epochs, but that is within the seed-to-seed spread of this model.
``python -m benchmarks --workloads cnn_b128 --seeds 0,1,2,3,4`` measured, over seeds 0-4:
mitbadak 0.9832 / 0.9873 / 0.9871 / 0.9865 / 0.9847 (median 0.9865), Keras 3 on TensorFlow
0.9847 / 0.9886 / 0.9866 / 0.9886 / 0.9875, PyTorch 0.9852 / 0.9857 / 0.9862 / 0.9865 / 0.9861.
The assertion (seed 0) leaves room for that spread.
"""
from __future__ import annotations

import time

import numpy as np
import pytest

from mitbadak import datasets, keras
from mitbadak.keras import layers

pytestmark = pytest.mark.slow


def test_cnn_two_epochs(mnist_dir):
    datasets.set_data_dir(mnist_dir)
    try:
        (x_train, y_train), (x_test, _) = keras.datasets.mnist.load_data()
    finally:
        datasets.set_data_dir(None)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        layers.Conv2D(32, kernel_size=(5, 5), strides=(1, 1), padding="same", activation="relu",
                      input_shape=(28, 28, 1)),
        layers.MaxPool2D(pool_size=(2, 2), strides=(2, 2)),
        layers.Conv2D(64, (2, 2), activation="relu", padding="same"),
        layers.MaxPool2D(pool_size=(2, 2)),
        layers.Dropout(0.25), layers.Flatten(),
        layers.Dense(1000, activation="relu"), layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    history = model.fit(x_train[..., None] / 255.0, y_train, batch_size=128, epochs=2,
                        validation_split=0.2, verbose=2)
    print(f"\nCNN: {(time.perf_counter() - start) / 2:.1f} s/epoch (with validation), "
          f"val_accuracy {history.history['val_accuracy']}")
    assert history.params["steps"] == 375
    assert history.history["val_accuracy"][-1] >= 0.98
    start = time.perf_counter()
    pred = model.predict(x_test[..., None] / 255.0, batch_size=128, verbose=0)
    print(f"predict: {len(x_test) / (time.perf_counter() - start):.0f} images/s")
    assert pred.shape == (10000, 10) and np.allclose(pred.sum(axis=1), 1, atol=1e-5)
