"""The fixture CNN written by real Keras 2 (tf-keras) and Keras 3: same architecture in
mitbadak, Keras's weights through set_weights, predictions equal to Keras's to 1e-5."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mitbadak import keras
from mitbadak.keras import layers

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "keras"


def sample_cnn():
    """/work/shared/fixtures/keras/README.md: the "sample_cnn" model."""
    return keras.Sequential([
        layers.Conv2D(4, (3, 3), activation="relu", padding="same", input_shape=(8, 8, 1)),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dropout(0.25),
        layers.Dense(8, activation="relu"),
        layers.BatchNormalization(),
        layers.Dense(3, activation="softmax"),
    ], name="sample_cnn")


@pytest.mark.parametrize("which", ["k2", "k3"])
def test_predictions_match_keras(which):
    path = FIXTURES / f"{which}_expected.npz"
    if not path.exists():
        pytest.skip(f"fixture {path} is not available")
    data = np.load(path)
    model = sample_cnn()
    weights = [data[f"w{i}"] for i in range(10)]
    assert [w.shape for w in model.get_weights()] == [w.shape for w in weights]
    model.set_weights(weights)
    pred = model.predict(data["x"], verbose=0)
    assert pred.dtype == np.float32
    np.testing.assert_allclose(pred, data["pred"], rtol=1e-5, atol=1e-5)


def test_sample_cnn_shapes_and_parameter_counts():
    model = sample_cnn()
    shapes = [l.output_shape for l in model.layers]
    assert shapes == [(None, 8, 8, 4), (None, 4, 4, 4), (None, 64), (None, 64), (None, 8),
                      (None, 8), (None, 3)]
    # As in the Keras transcript: 619 total, 603 trainable, 16 non-trainable.
    assert model.count_params() == 619
    trainable = sum(int(np.prod(v.shape)) for v in model.trainable_weights)
    assert trainable == 603
    assert [l.name for l in model.layers] == ["conv2d", "max_pooling2d", "flatten", "dropout",
                                              "dense", "batch_normalization", "dense_1"]
