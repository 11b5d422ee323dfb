"""A CNN's first layers in pieces of the batch, on one thread or two (mitbadak/models/slicing.py),
must give the step the whole batch gives: same loss, same gradients, same dropout masks; and
the same numbers for any number of threads."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from mitbadak import backend, keras
from mitbadak.keras import layers
from mitbadak.lab import LayerStats
from mitbadak.models import slicing

F64 = "float64"


@pytest.fixture
def small_slices(monkeypatch):
    """Slices of 5 rows for a batch of 20 of the test CNN (widest output 6·6·4 float64 =
    1152 bytes/sample), and its Dense(8) (104 weights) counted as big."""
    monkeypatch.setattr(slicing, "SLICE_BYTES", 7 * 1152)
    monkeypatch.setattr(slicing, "MIN_ROWS", 2)
    monkeypatch.setattr(slicing, "MAX_WEIGHTS", 80)


@pytest.fixture(params=[1, 2], ids=["1 thread", "2 threads"])
def threads(request, monkeypatch):
    """Both thread counts ('auto' would choose one for the test CNN's small products)."""
    monkeypatch.setattr(backend, "_THREADS", request.param)
    return request.param


def _cnn(*middle, first=None, seed=0, dtype=F64, **compile_kw):
    keras.utils.set_random_seed(seed)
    first = first or layers.Conv2D(4, 3, padding="same", activation="relu", dtype=dtype,
                                   input_shape=(6, 6, 2))          # 76 weights: small
    model = keras.Sequential([
        first,
        *middle,
        layers.MaxPool2D(2, dtype=dtype),
        layers.Conv2D(3, 2, activation="tanh", dtype=dtype,
                      kernel_regularizer=keras.regularizers.L2(0.01)),   # 51 weights
        layers.Dropout(0.3, dtype=dtype),
        layers.Flatten(dtype=dtype),
        layers.Dense(8, activation="relu", dtype=dtype),           # 104 weights: big
        layers.Dense(5, activation="softmax", dtype=dtype)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy",
                  **compile_kw)
    return model


def _data(n=20, seed=1):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 6, 6, 2)), rng.integers(0, 5, n)


def _spy_rows(layer, monkeypatch):
    """The rows of every forward call of `layer` and of the copies slicing makes of it."""
    rows, cls = [], type(layer)
    forward = cls.forward

    def spy(self, x, training=False):
        if self.name == layer.name:
            rows.append(len(x))
        return forward(self, x, training)
    monkeypatch.setattr(cls, "forward", spy)
    return rows


def _train_both(make, x, y, monkeypatch, **fit_kw):
    """The same model trained sliced and whole: (sliced, whole, rows the first layer saw)."""
    sliced = make()
    rows = _spy_rows(sliced.layers[0], monkeypatch)
    h1 = sliced.fit(x, y, epochs=2, verbose=0, shuffle=False, **fit_kw)
    whole = make()
    whole.slice_batches = False
    h2 = whole.fit(x, y, epochs=2, verbose=0, shuffle=False, **fit_kw)
    np.testing.assert_allclose(h1.history["loss"], h2.history["loss"], rtol=1e-12)
    for a, b in zip(sliced.get_weights(), whole.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    return sliced, whole, sorted(rows)


def test_plan_slices_the_conv_stack_and_the_big_dense_in_halves():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        layers.Conv2D(32, 5, padding="same", activation="relu", input_shape=(28, 28, 1)),
        layers.MaxPool2D(2), layers.Conv2D(64, 2, padding="same", activation="relu"),
        layers.MaxPool2D(2), layers.Dropout(0.25), layers.Flatten(),
        layers.Dense(1000, activation="relu"), layers.Dense(10, activation="softmax")])
    k, widest = slicing.plan(model.layers[:-1])
    assert k == 7                                 # up to Dense(1000); not the last layer
    assert widest == 28 * 28 * 32 * 4             # the first Conv2D's output, float32
    assert [kind for _, _, kind in slicing._stages(model.layers[:k])] == \
        ["small", "random", "small", "big"]
    assert slicing.slice_rows(128, widest) == 32  # 12.8 MB -> 4 slices of 32
    assert slicing.slice_rows(32, widest) == 16   # two slices at least: one per core
    assert slicing.slice_rows(100, widest) == 25  # an even number of equal slices
    assert slicing.slice_rows(15, widest) == 15   # too small to cut (MIN_ROWS = 8)
    assert slicing.slice_rows(64, 3136 * 4) == 64     # 0.8 MB: too little to share
    assert slicing._pieces(100, 25, "big") == [slice(0, 50), slice(50, 100)]


def test_sliced_training_equals_whole_batch_training(small_slices, threads, monkeypatch):
    x, y = _data()
    sliced, _, rows = _train_both(_cnn, x, y, monkeypatch, batch_size=20)
    assert rows == [5] * 8                        # 2 epochs of one batch, in 4 slices
    # (the relu'd Conv2D and the MaxPool2D after it: relu's derivative at the pooled size)
    assert slicing._relu_then_max_pool(*sliced.layers[:2])


def test_sliced_training_with_sample_weights_and_a_frozen_first_layer(small_slices, threads,
                                                                      monkeypatch):
    x, y = _data()
    w = np.linspace(0.5, 2.0, len(x))
    frozen = lambda: _cnn(first=layers.Conv2D(4, 3, padding="same", activation="relu",  # noqa
                                              dtype=F64, input_shape=(6, 6, 2),
                                              trainable=False))
    _, _, rows = _train_both(frozen, x, y, monkeypatch, batch_size=20, sample_weight=w)
    assert rows == [5] * 8


def test_two_threads_give_the_numbers_of_one(small_slices, monkeypatch):
    """The same seed gives the same weights, one thread or two, run after run (float32, as
    fit trains by default)."""
    x, y = _data(n=40)
    used = []
    step_threads = backend.step_threads
    monkeypatch.setattr(backend, "step_threads", lambda: used.append(step_threads()) or used[-1])
    weights = {}
    for n, run in ((1, "a"), (2, "a"), (2, "b")):
        monkeypatch.setattr(backend, "_THREADS", n)
        model = _cnn(dtype="float32")
        model.fit(x.astype("float32"), y, batch_size=20, epochs=2, verbose=0)
        weights[n, run] = model.get_weights()
    assert set(used) == {1, 2}                    # both thread counts really ran
    for a, b, c in zip(weights[1, "a"], weights[2, "a"], weights[2, "b"]):
        np.testing.assert_array_equal(b, a)       # the same pieces, summed in one order
        np.testing.assert_array_equal(b, c)


@pytest.mark.parametrize("blocker", [
    lambda: layers.BatchNormalization(dtype=F64),                        # batch statistics
    lambda: layers.Dropout(0.5, noise_shape=(1, None, None, 4), dtype=F64),  # one shared mask
])
def test_layers_that_mix_samples_end_the_sliced_run(small_slices, blocker, monkeypatch):
    x, y = _data()
    make = lambda: _cnn(blocker())               # noqa: E731
    sliced, _, rows = _train_both(make, x, y, monkeypatch, batch_size=20)
    assert slicing.plan(sliced.layers[:-1])[0] == 1    # only the Conv2D before the blocker
    assert rows == [5] * 8


class BatchCentered(keras.layers.Layer):
    """A user's layer that mixes the samples of a batch: x − mean over the batch."""

    def forward(self, x, training=False):
        return x - x.mean(axis=0)

    def backward(self, dy):
        return dy - dy.mean(axis=0)


def test_a_users_own_layer_ends_the_sliced_run(small_slices, monkeypatch):
    x, y = _data()
    make = lambda: _cnn(BatchCentered(dtype=F64))   # noqa: E731
    sliced, _, _ = _train_both(make, x, y, monkeypatch, batch_size=20)
    assert slicing.plan(sliced.layers[:-1])[0] == 1


def test_no_slicing_for_mlps_or_tiny_batches(small_slices, monkeypatch):
    keras.utils.set_random_seed(0)
    mlp = keras.Sequential([layers.Dense(128, activation="relu", input_shape=(784,)),
                            layers.Dense(10, activation="softmax")])
    assert slicing.plan(mlp.layers[:-1])[0] == 0       # its first layer has big weights
    flat = keras.Sequential([layers.Flatten(input_shape=(28, 28)), layers.Dense(100),
                             layers.Dense(10, activation="softmax")])
    assert slicing.plan(flat.layers[:-1]) == (2, 0)    # nothing that computes: no slices
    assert slicing.slice_rows(128, 0) == 128
    x, y = _data(n=3)
    model = _cnn()
    rows = _spy_rows(model.layers[0], monkeypatch)
    model.fit(x, y, batch_size=3, epochs=1, verbose=0)
    assert rows == [3]                            # fewer than 2 x MIN_ROWS


def test_layer_stats_sees_whole_batches_and_slicing_comes_back(small_slices, monkeypatch):
    x, y = _data()
    model = _cnn()
    rows = _spy_rows(model.layers[0], monkeypatch)
    stats = LayerStats()
    model.fit(x, y, batch_size=20, epochs=1, verbose=0, callbacks=[stats])
    assert rows == [20]
    assert model.layers[0].y.shape[0] == 20 * 6 * 6   # the cached output of the whole batch
    assert model.slice_batches is True
    model.fit(x, y, batch_size=20, epochs=1, verbose=0)
    assert sorted(rows) == [5, 5, 5, 5, 20]


def test_inference_slices_the_same_layers_and_predicts_the_same(small_slices, threads,
                                                                monkeypatch):
    x, y = _data(n=45)
    model = _cnn()
    rows = _spy_rows(model.layers[0], monkeypatch)
    out = model.predict(x, batch_size=15, verbose=0)
    # One pass of all 45 rows (3 batches; only the joined output of the sliced layers and
    # the later ones count towards the chunk), the first layers in 8 slices of 6 rows.
    assert sorted(rows) == [3] + [6] * 7
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


@pytest.mark.parametrize("seed", [None, 3])
def test_two_dropouts_draw_the_masks_of_the_whole_batch(small_slices, threads, seed,
                                                         monkeypatch):
    # Each random layer draws for the slices one after another, before the next stage
    # starts, so two dropouts never take turns at one generator.
    x, y = _data()
    make = lambda: _cnn(layers.Dropout(0.2, seed=seed, dtype=F64))   # noqa: E731
    sliced, _, rows = _train_both(make, x, y, monkeypatch, batch_size=20)
    assert slicing.plan(sliced.layers[:-1])[0] == 7        # both stay in the sliced run
    assert rows == [5] * 8


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


# ------------------------------------------------------------------ backend.parallel
def _with_threads(monkeypatch, n):
    setting = backend._ThreadSetting(n, None)
    monkeypatch.setattr(backend, "_setting", setting)
    monkeypatch.setattr(backend, "_step_threads", 1)
    return backend.step_threads()


def test_parallel_runs_on_two_threads_at_once_and_keeps_the_order(monkeypatch):
    assert _with_threads(monkeypatch, 2) == 2
    both = threading.Barrier(2, timeout=30)           # passes only if 2 threads wait at once
    seen = set()

    def fn(i):
        if i < 2:
            both.wait()
        seen.add(threading.get_ident())
        return i * i
    assert backend.parallel(fn, 7) == [i * i for i in range(7)]
    assert len(seen) == 2


def test_parallel_raises_a_pieces_error_in_the_caller(monkeypatch):
    _with_threads(monkeypatch, 2)

    def fn(i):
        if i == 3:
            raise ValueError("piece 3")
        return i
    with pytest.raises(ValueError, match="piece 3"):
        backend.parallel(fn, 6)
    assert backend.parallel(lambda i: i, 4) == [0, 1, 2, 3]     # the helper still works


def test_one_thread_outside_fit_and_with_set_threads_1(monkeypatch):
    monkeypatch.setattr(backend, "_setting", None)
    monkeypatch.setattr(backend, "_step_threads", 1)
    assert backend.step_threads() == 1
    assert _with_threads(monkeypatch, 1) == 1
    assert backend.parallel(lambda i: threading.get_ident(), 3) == [threading.get_ident()] * 3
