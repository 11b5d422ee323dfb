"""Training a CNN's first layers in slices of the batch (mitbadak/models/slicing.py) must give
the step the whole batch gives: same loss, same gradients, same dropout masks."""
from __future__ import annotations

import numpy as np
import pytest

from mitbadak import keras
from mitbadak.keras import layers
from mitbadak.lab import LayerStats
from mitbadak.models import slicing

F64 = "float64"


@pytest.fixture
def small_slices(monkeypatch):
    """Slices of 7 rows for the test CNN (widest output 6·6·4 float64 = 1152 bytes/sample)."""
    monkeypatch.setattr(slicing, "SLICE_BYTES", 7 * 1152)


def _cnn(*middle, first=None, seed=0, **compile_kw):
    keras.utils.set_random_seed(seed)
    first = first or layers.Conv2D(4, 3, padding="same", activation="relu", dtype=F64,
                                   input_shape=(6, 6, 2))
    model = keras.Sequential([
        first,
        *middle,
        layers.MaxPool2D(2, dtype=F64),
        layers.Conv2D(3, 2, activation="tanh", dtype=F64,
                      kernel_regularizer=keras.regularizers.L2(0.01)),
        layers.Dropout(0.3, dtype=F64),
        layers.Flatten(dtype=F64),
        layers.Dense(5, activation="softmax", dtype=F64)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy",
                  **compile_kw)
    return model


def _data(n=20, seed=1):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 6, 6, 2)), rng.integers(0, 5, n)


def _spy_rows(layer):
    rows, forward = [], layer.forward
    layer.forward = lambda x, training=False: (rows.append(len(x)), forward(x, training))[1]
    return rows


def _train_both(make, x, y, **fit_kw):
    """The same model trained sliced and whole: (sliced, whole, rows the first layer saw)."""
    sliced = make()
    rows = _spy_rows(sliced.layers[0])
    h1 = sliced.fit(x, y, epochs=2, verbose=0, shuffle=False, **fit_kw)
    whole = make()
    whole.slice_batches = False
    h2 = whole.fit(x, y, epochs=2, verbose=0, shuffle=False, **fit_kw)
    np.testing.assert_allclose(h1.history["loss"], h2.history["loss"], rtol=1e-12)
    for a, b in zip(sliced.get_weights(), whole.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    return sliced, whole, rows


def test_plan_slices_the_conv_stack_and_stops_at_the_big_dense():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        layers.Conv2D(32, 5, padding="same", activation="relu", input_shape=(28, 28, 1)),
        layers.MaxPool2D(2), layers.Conv2D(64, 2, padding="same", activation="relu"),
        layers.MaxPool2D(2), layers.Dropout(0.25), layers.Flatten(),
        layers.Dense(1000, activation="relu"), layers.Dense(10, activation="softmax")])
    k, widest = slicing.plan(model.layers)
    assert k == 6                                 # up to Flatten; Dense(1000) has 3.1M weights
    assert widest == 28 * 28 * 32 * 4             # the first Conv2D's output, float32
    assert slicing.slice_rows(128, widest) == 32  # 12.8 MB -> 4 slices of 32
    assert slicing.slice_rows(32, widest) == 32   # 3.2 MB fits: no slicing
    assert slicing.slice_rows(100, widest) == 34  # equal slices: 34 + 34 + 32


def test_sliced_training_equals_whole_batch_training(small_slices):
    x, y = _data()
    _, _, rows = _train_both(_cnn, x, y, batch_size=20)
    assert rows == [7, 7, 6] * 2                  # 2 epochs of one batch, in 3 slices


def test_sliced_training_with_sample_weights_and_a_frozen_first_layer(small_slices):
    x, y = _data()
    w = np.linspace(0.5, 2.0, len(x))
    frozen = lambda: _cnn(first=layers.Conv2D(4, 3, padding="same", activation="relu",  # noqa
                                              dtype=F64, input_shape=(6, 6, 2),
                                              trainable=False))
    _, _, rows = _train_both(frozen, x, y, batch_size=20, sample_weight=w)
    assert rows == [7, 7, 6] * 2


@pytest.mark.parametrize("blocker", [
    lambda: layers.BatchNormalization(dtype=F64),                        # batch statistics
    lambda: layers.Dropout(0.5, noise_shape=(1, None, None, 4), dtype=F64),  # one shared mask
])
def test_layers_that_mix_samples_end_the_sliced_run(small_slices, blocker):
    x, y = _data()
    make = lambda: _cnn(blocker())               # noqa: E731
    sliced, _, rows = _train_both(make, x, y, batch_size=20)
    assert slicing.plan(sliced.layers)[0] == 1    # only the Conv2D before the blocker
    assert rows == [7, 7, 6] * 2


class BatchCentered(keras.layers.Layer):
    """A user's layer that mixes the samples of a batch: x − mean over the batch."""

    def forward(self, x, training=False):
        return x - x.mean(axis=0)

    def backward(self, dy):
        return dy - dy.mean(axis=0)


def test_a_users_own_layer_ends_the_sliced_run(small_slices):
    x, y = _data()
    make = lambda: _cnn(BatchCentered(dtype=F64))   # noqa: E731
    sliced, _, _ = _train_both(make, x, y, batch_size=20)
    assert slicing.plan(sliced.layers)[0] == 1


def test_no_slicing_for_mlps_or_small_batches(small_slices):
    keras.utils.set_random_seed(0)
    mlp = keras.Sequential([layers.Dense(128, activation="relu", input_shape=(784,)),
                            layers.Dense(10, activation="softmax")])
    assert slicing.plan(mlp.layers)[0] == 0       # 100,480 weights: above MAX_WEIGHTS
    x, y = _data(n=7)
    model = _cnn()
    rows = _spy_rows(model.layers[0])
    model.fit(x, y, batch_size=7, epochs=1, verbose=0)
    assert rows == [7]


def test_layer_stats_sees_whole_batches_and_slicing_comes_back(small_slices):
    x, y = _data()
    model = _cnn()
    rows = _spy_rows(model.layers[0])
    stats = LayerStats()
    model.fit(x, y, batch_size=20, epochs=1, verbose=0, callbacks=[stats])
    assert rows == [20]
    assert model.layers[0].y.shape[0] == 20 * 6 * 6   # the cached output of the whole batch
    assert model.slice_batches is True
    model.fit(x, y, batch_size=20, epochs=1, verbose=0)
    assert rows == [20, 7, 7, 6]


def test_inference_slices_the_same_layers_and_predicts_the_same(small_slices):
    x, y = _data(n=45)
    model = _cnn()
    rows = _spy_rows(model.layers[0])
    out = model.predict(x, batch_size=15, verbose=0)
    # One pass of all 45 rows (3 batches; only the joined output of the sliced layers and
    # the later ones count towards the chunk), the first layers in slices of 7 rows.
    assert rows == [7] * 6 + [3]
    model.slice_batches = False
    rows.clear()
    expected = model.predict(x, batch_size=15, verbose=0)
    assert rows == [45]
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-15)
    model.slice_batches = True
    ev = model.evaluate(x, y, batch_size=15, verbose=0, return_dict=True)
    model.slice_batches = False
    ev_whole = model.evaluate(x, y, batch_size=15, verbose=0, return_dict=True)
    assert ev["loss"] == pytest.approx(ev_whole["loss"], rel=1e-12)


def test_a_second_unseeded_dropout_ends_the_sliced_run(small_slices):
    # Sliced, two dropouts drawing from the one library generator would take turns at it
    # and get other masks than with the whole batch.
    x, y = _data()
    make = lambda: _cnn(layers.Dropout(0.2, dtype=F64))   # noqa: E731  (+ the 0.3 one later)
    sliced, _, rows = _train_both(make, x, y, batch_size=20)
    assert slicing.plan(sliced.layers)[0] == 4        # Conv2D, Dropout, MaxPool, Conv2D
    assert rows == [7, 7, 6] * 2
    seeded = lambda: _cnn(layers.Dropout(0.2, seed=3, dtype=F64))   # noqa: E731
    sliced, _, _ = _train_both(seeded, x, y, batch_size=20)
    assert slicing.plan(sliced.layers)[0] == 6        # its own generator: both stay sliced


def test_fit_puts_slicing_back_after_an_error_and_after_two_layer_stats(small_slices):
    x, y = _data()
    model = _cnn()

    class Boom(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        model.fit(x, y, batch_size=20, epochs=1, verbose=0, callbacks=[LayerStats(), Boom()])
    assert model.slice_batches is True
    model.fit(x, y, batch_size=20, epochs=1, verbose=0, callbacks=[LayerStats(), LayerStats()])
    assert model.slice_batches is True
    model.slice_batches = False                       # a user's choice stays
    model.fit(x, y, batch_size=20, epochs=1, verbose=0, callbacks=[LayerStats()])
    assert model.slice_batches is False
