"""Sequential + trainer behaviour, checked against Keras's documented semantics."""
from __future__ import annotations

import math

import numpy as np
import pytest

from mitbadak import keras, losses


def _data(n=100, d=6, k=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype(np.float32)
    y = (x[:, :k].argmax(axis=1)).astype(np.int64)
    return x, y


def _model(d=6, k=3, hidden=8, activation="softmax", seed=None):
    if seed is not None:
        keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.layers.Dense(hidden, activation="relu", input_shape=(d,)),
                             keras.layers.Dense(k, activation=activation)])


def _compiled(optimizer="adam", metrics=("accuracy",), seed=0, **kw):
    model = _model(seed=seed, **kw)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                  metrics=list(metrics))
    return model


class Recorder(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.calls = []

    def on_train_batch_end(self, batch, logs=None):
        self.calls.append(("batch", batch, dict(logs or {})))

    def on_epoch_end(self, epoch, logs=None):
        self.calls.append(("epoch", epoch, dict(logs or {})))


# ------------------------------------------------------------------ compile
def test_compile_defaults_to_rmsprop():
    model = _model()
    model.compile(loss="mse")
    assert isinstance(model.optimizer, keras.optimizers.RMSprop)
    assert model.optimizer.learning_rate == pytest.approx(0.001)


def test_compile_accepts_objects_and_strings():
    model = _model()
    opt = keras.optimizers.SGD(0.5)
    model.compile(optimizer=opt, loss=keras.losses.SparseCategoricalCrossentropy(),
                  metrics=[keras.metrics.SparseCategoricalAccuracy()])
    assert model.optimizer is opt
    assert model.metrics_names == ["loss", "sparse_categorical_accuracy"]


# ------------------------------------------------------------------ fit basics
def test_default_batch_size_is_32():
    x, y = _data(n=100)
    model = _compiled()
    rec = Recorder()
    history = model.fit(x, y, epochs=2, verbose=0, callbacks=[rec])
    batches = [c for c in rec.calls if c[0] == "batch"]
    assert len(batches) == 2 * math.ceil(100 / 32)
    assert history.params == {"verbose": 0, "epochs": 2, "steps": 4}
    assert history.epoch == [0, 1]


def test_history_keys_in_k2_order_and_exact_metric_names():
    x, y = _data()
    model = _model(seed=0)
    y1 = keras.utils.to_categorical(y, 3)
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["acc", "mae"])
    h = model.fit(x, y1, epochs=2, validation_split=0.2, verbose=0)
    assert list(h.history) == ["loss", "acc", "mae", "val_loss", "val_acc", "val_mae"]
    assert all(len(v) == 2 for v in h.history.values())
    assert all(isinstance(v, float) for v in h.history["loss"])
    assert model.history is h


def test_validation_split_takes_the_last_fraction_before_shuffling():
    x, y = _data(n=50)
    split = int(math.floor(50 * (1 - 0.2)))            # 40 train, the last 10 validate
    a = _compiled(seed=3)
    keras.utils.set_random_seed(9)
    ha = a.fit(x, y, epochs=2, batch_size=8, validation_split=0.2, verbose=0)
    b = _compiled(seed=3)
    keras.utils.set_random_seed(9)
    hb = b.fit(x[:split], y[:split], epochs=2, batch_size=8, validation_data=(x[split:], y[split:]),
               verbose=0)
    assert ha.history == hb.history
    val_loss, val_acc = a.evaluate(x[split:], y[split:], verbose=0)
    assert ha.history["val_loss"][-1] == pytest.approx(val_loss, rel=1e-6)
    assert ha.history["val_accuracy"][-1] == pytest.approx(val_acc)


def test_validation_split_leaving_an_empty_part_is_an_error():
    x, y = _data(n=1)                   # floor(1 · 0.5) = 0 training samples
    with pytest.raises(ValueError, match="validation_split"):
        _compiled().fit(x, y, validation_split=0.5, verbose=0)


def test_shuffle_false_is_deterministic_without_a_seed():
    x, y = _data()
    a = _compiled()
    b = _compiled()
    b.set_weights(a.get_weights())
    keras.utils.set_random_seed(1)
    ha = a.fit(x, y, epochs=2, shuffle=False, verbose=0)
    keras.utils.set_random_seed(2)
    hb = b.fit(x, y, epochs=2, shuffle=False, verbose=0)
    assert ha.history == hb.history
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_same_seed_same_numbers():
    x, y = _data()
    runs = []
    for _ in range(2):
        keras.backend.clear_session()
        keras.utils.set_random_seed(42)
        model = keras.Sequential([keras.layers.Dense(16, activation="relu", input_shape=(6,)),
                                  keras.layers.Dropout(0.3),
                                  keras.layers.Dense(3, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        h = model.fit(x, y, epochs=3, batch_size=16, validation_split=0.2, verbose=0)
        runs.append((h.history, model.get_weights(), model.predict(x, verbose=0)))
    assert runs[0][0] == runs[1][0]
    for wa, wb in zip(runs[0][1], runs[1][1]):
        np.testing.assert_array_equal(wa, wb)
    np.testing.assert_array_equal(runs[0][2], runs[1][2])


def test_shuffle_changes_the_batches():
    x, y = _data()
    a = _compiled(optimizer=keras.optimizers.SGD(0.1))
    b = _compiled(optimizer=keras.optimizers.SGD(0.1))
    b.set_weights(a.get_weights())
    a.fit(x, y, epochs=1, batch_size=10, shuffle=False, verbose=0)
    b.fit(x, y, epochs=1, batch_size=10, shuffle=True, verbose=0)
    assert not np.allclose(a.get_weights()[0], b.get_weights()[0])


def test_epoch_loss_is_the_batch_size_weighted_mean_of_batch_losses():
    x, y = _data(n=70)
    model = _compiled()
    rec = Recorder()
    h = model.fit(x, y, epochs=1, batch_size=32, verbose=0, callbacks=[rec])
    # on_train_batch_end logs hold the running mean; the last one equals the epoch value.
    batches = [c[2]["loss"] for c in rec.calls if c[0] == "batch"]
    assert h.history["loss"][0] == pytest.approx(batches[-1])


def test_initial_epoch():
    x, y = _data()
    model = _compiled()
    rec = Recorder()
    h = model.fit(x, y, epochs=5, initial_epoch=3, verbose=0, callbacks=[rec])
    assert h.epoch == [3, 4]
    assert [c[1] for c in rec.calls if c[0] == "epoch"] == [3, 4]
    assert len(h.history["loss"]) == 2


def test_initial_epoch_progress_lines(capsys):
    x, y = _data()
    _compiled().fit(x, y, epochs=5, initial_epoch=3, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert [l for l in lines if l.startswith("Epoch")] == ["Epoch 4/5", "Epoch 5/5"]


# ------------------------------------------------------------------ weights of the loss
def _sgd0_model(loss="sparse_categorical_crossentropy"):
    model = _model(seed=0)
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss=loss)
    return model


def _per_sample_cce(model, x, y):
    p = model.predict(x, verbose=0).astype(np.float64)
    q = np.clip(p / p.sum(axis=1, keepdims=True), 1e-7, 1 - 1e-7)
    return -np.log(q[np.arange(len(y)), y])


def test_sample_weight_changes_the_loss_as_the_formula_says():
    x, y = _data(n=40)
    model = _sgd0_model()
    w = np.linspace(0.1, 2.0, 40)
    per = _per_sample_cce(model, x, y)
    expected = float((w * per).sum() / len(per))
    assert model.evaluate(x, y, sample_weight=w, verbose=0) == pytest.approx(expected, rel=1e-5)
    h = model.fit(x, y, sample_weight=w, batch_size=40, epochs=1, verbose=0, shuffle=False)
    assert h.history["loss"][0] == pytest.approx(expected, rel=1e-5)


def test_class_weight_changes_the_loss_as_the_formula_says():
    x, y = _data(n=40)
    model = _sgd0_model()
    cw = {0: 0.5, 1: 2.0, 2: 1.5}
    per = _per_sample_cce(model, x, y)
    expected = float((np.array([cw[int(c)] for c in y]) * per).sum() / len(per))
    h = model.fit(x, y, class_weight=cw, batch_size=40, epochs=1, verbose=0)
    assert h.history["loss"][0] == pytest.approx(expected, rel=1e-5)
    # one-hot labels give the same weights
    model2 = _sgd0_model("categorical_crossentropy")
    model2.set_weights(model.get_weights())
    h2 = model2.fit(x, keras.utils.to_categorical(y, 3), class_weight=cw, batch_size=40, verbose=0)
    assert h2.history["loss"][0] == pytest.approx(expected, rel=1e-5)


def test_plain_metrics_ignore_sample_weight():
    x, y = _data(n=40)
    model = _sgd0_model()
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    w = np.where(np.arange(40) < 20, 5.0, 0.0)
    pred = model.predict(x, verbose=0).argmax(axis=1)
    plain = float((pred == y).mean())
    _, acc = model.evaluate(x, y, sample_weight=w, verbose=0)
    assert acc == pytest.approx(plain)


def test_weighted_metrics_use_sample_weight():
    x, y = _data(n=40)
    model = _sgd0_model()
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="sparse_categorical_crossentropy",
                  weighted_metrics=["accuracy"])
    w = np.where(np.arange(40) < 20, 3.0, 1.0)
    right = (model.predict(x, verbose=0).argmax(axis=1) == y).astype(float)
    result = model.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True)
    assert result["accuracy"] == pytest.approx(float((w * right).sum() / w.sum()))


# ------------------------------------------------------------------ evaluate / predict
def test_evaluate_return_types():
    x, y = _data()
    model = _model(seed=0)
    model.compile("adam", "sparse_categorical_crossentropy")
    loss = model.evaluate(x, y, verbose=0)
    assert isinstance(loss, float)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy", "mae"])
    values = model.evaluate(x, y, verbose=0)
    assert isinstance(values, list) and len(values) == 3
    assert values[0] == pytest.approx(loss, rel=1e-6)
    d = model.evaluate(x, y, verbose=0, return_dict=True)
    assert list(d) == ["loss", "accuracy", "mae"]
    assert d["loss"] == pytest.approx(loss, rel=1e-6)
    assert d["accuracy"] == pytest.approx(float((model.predict(x, verbose=0).argmax(1) == y).mean()))


def test_evaluate_is_independent_of_batch_size():
    x, y = _data(n=77)
    model = _compiled()
    a = model.evaluate(x, y, batch_size=5, verbose=0)
    b = model.evaluate(x, y, batch_size=77, verbose=0)
    np.testing.assert_allclose(a, b, rtol=1e-5)


def test_predict_batching_equals_one_forward_pass():
    x, _ = _data(n=70)
    model = _compiled()
    one = model(x)
    for bs in (None, 1, 7, 32, 70, 1000):
        out = model.predict(x, batch_size=bs, verbose=0)
        assert out.shape == (70, 3) and out.dtype == np.float32
        np.testing.assert_allclose(out, one, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(model.predict_on_batch(x), one, rtol=1e-6)


def _spy_rows(layer):
    """Record how many rows each forward pass of `layer` gets."""
    rows, forward = [], layer.forward
    layer.forward = lambda x, training=False: (rows.append(len(x)), forward(x, training))[1]
    return rows


def test_inference_computes_small_batches_together_but_reports_each_batch():
    x, y = _data(n=70)
    model = _compiled()
    rows = _spy_rows(model.layers[0])
    seen = []
    end = keras.callbacks.LambdaCallback(on_test_batch_end=lambda b, logs: seen.append(dict(logs)))
    model.evaluate(x, y, batch_size=8, verbose=0, callbacks=[end])
    assert rows == [70]                   # 9 batches, one forward pass (far below 8 MB)
    # Each batch's logs are still the running mean after that batch, as batch by batch.
    p = model.predict(x, batch_size=70, verbose=0)
    per_sample = -np.log(p[np.arange(70), y])
    right = (p.argmax(axis=1) == y)
    assert len(seen) == 9
    for b, logs in enumerate(seen):
        n = min(8 * (b + 1), 70)
        assert logs["loss"] == pytest.approx(per_sample[:n].mean(), rel=1e-5)
        assert logs["accuracy"] == pytest.approx(right[:n].mean())


def test_inference_chunks_stay_within_their_memory_budget(monkeypatch):
    x, _ = _data(n=70)
    model = _compiled()
    rows = _spy_rows(model.layers[0])
    # The layer outputs are 8 + 3 float32 per sample: 44 bytes. A 150-byte budget holds 3
    # samples, so batches of 2 go one per forward pass; batches of 1 go three at a time.
    monkeypatch.setattr(type(model), "INFERENCE_CHUNK_BYTES", 150)
    model.predict(x, batch_size=2, verbose=0)
    assert rows == [2] * 35
    rows.clear()
    model.predict(x[:7], batch_size=1, verbose=0)
    assert rows == [3, 3, 1]
    # And never more rows than INFERENCE_CHUNK_ROWS, whatever the bytes allow.
    monkeypatch.setattr(type(model), "INFERENCE_CHUNK_BYTES", 1 << 30)
    monkeypatch.setattr(type(model), "INFERENCE_CHUNK_ROWS", 20)
    rows.clear()
    model.predict(x, batch_size=6, verbose=0)
    assert rows == [18, 18, 18, 16]


class BatchCentered(keras.layers.Layer):
    """A user's layer that mixes the samples of a batch: x − mean over the batch."""

    def forward(self, x, training=False):
        return x - x.mean(axis=0)

    def backward(self, dy):
        return dy - dy.mean(axis=0)


def test_a_users_own_layer_gets_exactly_the_batches_asked_for():
    x, _ = _data(n=30)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.layers.Dense(4, input_shape=(6,)), BatchCentered()])
    rows = _spy_rows(model.layers[1])
    out = model.predict(x, batch_size=10, verbose=0)
    assert rows == [10, 10, 10]
    for b in range(3):
        np.testing.assert_allclose(out[10 * b:10 * b + 10].mean(axis=0), 0, atol=1e-6)


def test_predict_works_without_compile():
    x, _ = _data(n=5)
    model = _model(seed=0)
    assert model.predict(x, verbose=0).shape == (5, 3)


def test_train_test_predict_on_batch():
    x, y = _data(n=16)
    model = _compiled(optimizer=keras.optimizers.SGD(0.5))
    before = model.test_on_batch(x, y)
    assert isinstance(before, list) and len(before) == 2
    ev = model.evaluate(x, y, batch_size=16, verbose=0)
    np.testing.assert_allclose(before, ev, rtol=1e-6)
    w0 = model.get_weights()
    trained = model.train_on_batch(x, y)
    assert trained[0] == pytest.approx(before[0], rel=1e-5)     # the loss before the update
    assert not np.allclose(w0[0], model.get_weights()[0])
    after = model.test_on_batch(x, y, return_dict=True)
    assert list(after) == ["loss", "accuracy"]
    assert after["loss"] < before[0]
    assert model.optimizer.iterations == 1


def test_optimizer_iterations_count_steps():
    x, y = _data(n=50)
    model = _compiled()
    model.fit(x, y, epochs=3, batch_size=20, verbose=0)
    assert model.optimizer.iterations == 3 * 3


# ------------------------------------------------------------------ weights and structure
def test_get_set_weights_count_and_shape_errors():
    model = _model(seed=0)
    weights = model.get_weights()
    assert [w.shape for w in weights] == [(6, 8), (8,), (8, 3), (3,)]
    assert all(w.dtype == np.float32 for w in weights)
    with pytest.raises(ValueError, match=r"4 weight arrays.*got 3"):
        model.set_weights(weights[:3])
    bad = list(weights)
    bad[2] = np.zeros((3, 8))
    with pytest.raises(ValueError, match=r"\(8, 3\).*\(3, 8\)"):
        model.set_weights(bad)
    new = [np.full_like(w, i) for i, w in enumerate(weights)]
    model.set_weights(new)
    for a, b in zip(model.get_weights(), new):
        np.testing.assert_array_equal(a, b)
    # get_weights returns copies
    model.get_weights()[0][...] = 99
    assert model.get_weights()[0][0, 0] == 0


def test_pop_add_get_layer():
    model = _model(seed=0)
    assert model.get_layer("dense_1") is model.layers[1]
    assert model.get_layer(index=0) is model.layers[0]
    with pytest.raises(ValueError, match="nope"):
        model.get_layer("nope")
    last = model.pop()
    assert last.name == "dense_1" and len(model.layers) == 1
    model.add(keras.layers.Dense(2, activation="sigmoid", name="head"))
    assert [l.name for l in model.layers] == ["dense", "head"]
    assert model.output_shape == (None, 2)
    assert model.count_params() == 6 * 8 + 8 + 8 * 2 + 2
    model.pop()
    model.pop()
    with pytest.raises(TypeError):
        model.pop()


def test_add_rejects_a_class_instead_of_an_instance():
    with pytest.raises(TypeError, match="Flatten"):
        keras.Sequential([keras.layers.Flatten])


def test_input_object_and_shapes():
    model = keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.Flatten(),
                              keras.layers.Dense(10)])
    assert model.input_shape == (None, 28, 28)
    assert model.output_shape == (None, 10)
    assert len(model.layers) == 2                       # the InputLayer is not listed
    assert model.count_params() == 7850
    assert [v.path for v in model.weights] == ["dense/kernel", "dense/bias"]


def test_trainable_false_freezes_weights():
    x, y = _data()
    model = _compiled()
    model.layers[0].trainable = False
    model.compile("adam", "sparse_categorical_crossentropy")
    frozen = model.layers[0].get_weights()
    free = model.layers[1].get_weights()
    model.fit(x, y, epochs=2, verbose=0)
    for a, b in zip(frozen, model.layers[0].get_weights()):
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(free[0], model.layers[1].get_weights()[0])
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 2
    # frozen between train_on_batch calls too
    model.layers[1].trainable = False
    w = model.get_weights()
    model.train_on_batch(x[:10], y[:10])
    for a, b in zip(w, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_model_trainable_false():
    x, y = _data()
    model = _compiled()
    model.trainable = False
    w = model.get_weights()
    model.fit(x, y, epochs=1, verbose=0)
    for a, b in zip(w, model.get_weights()):
        np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------ dtypes
def test_float32_by_default_even_for_float64_data():
    x, y = _data()
    model = _compiled()
    model.fit(x.astype(np.float64) / 1.0, y, epochs=1, verbose=0)
    assert all(w.dtype == np.float32 for w in model.get_weights())
    assert model.predict(x.astype(np.float64), verbose=0).dtype == np.float32
    assert model.predict(x.astype(np.uint8), verbose=0).dtype == np.float32


def test_float64_end_to_end():
    keras.backend.set_floatx("float64")
    x, y = _data()
    model = _compiled()
    assert all(layer.dtype == "float64" for layer in model.layers)
    assert all(w.dtype == np.float64 for w in model.get_weights())
    model.fit(x, y, epochs=1, verbose=0)
    assert all(w.dtype == np.float64 for w in model.get_weights())
    out = model.predict(x, verbose=0)
    assert out.dtype == np.float64            # Keras: predict returns the model's float type
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-12)
    assert model.predict_on_batch(x).dtype == np.float64


# ------------------------------------------------------------------ data forms
def test_one_feature_vector_input():
    model = keras.Sequential([keras.layers.Dense(1, input_shape=(1,))])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    x = np.linspace(-1, 1, 20)
    h = model.fit(x, 2 * x + 1, epochs=30, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0]
    assert model.predict(np.array([0.0]), verbose=0).shape == (1, 1)


def test_learns_a_simple_problem():
    x, y = _data(n=300)
    model = _compiled(optimizer=keras.optimizers.Adam(0.01))
    h = model.fit(x, y, epochs=15, batch_size=32, verbose=0)
    assert h.history["accuracy"][-1] > 0.9
    assert h.history["loss"][-1] < h.history["loss"][0]


def test_binary_model_with_sigmoid_and_bce():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.float32)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.layers.Dense(1, activation="sigmoid", input_shape=(2,))])
    model.compile(keras.optimizers.SGD(0.5), "binary_crossentropy", metrics=["accuracy"])
    h = model.fit(x, y, epochs=10, verbose=0)
    assert h.history["accuracy"][-1] > 0.95


def test_custom_function_loss_trains():
    x, y = _data(n=60)
    yo = keras.utils.to_categorical(y, 3)
    model = _model(seed=0)

    def my_loss(t, p):
        return np.sum((t - p) ** 2, axis=-1)

    model.compile(keras.optimizers.SGD(0.5), loss=my_loss)
    h = model.fit(x, yo, epochs=5, verbose=0)
    assert list(h.history) == ["loss"]
    assert h.history["loss"][-1] < h.history["loss"][0]
    p = model.predict(x, verbose=0)
    assert model.evaluate(x, yo, verbose=0) == pytest.approx(float(my_loss(yo, p).mean()), rel=1e-5)


def test_predict_on_empty_input():
    model = _model(seed=0)
    try:
        out = model.predict(np.zeros((0, 6), dtype=np.float32), verbose=0)
    except ValueError as err:                      # a clear error is fine too (K2 raises)
        assert "empty" in str(err) or "0 samples" in str(err)
    else:
        assert out.shape == (0, 3) and out.dtype == np.float32


def test_diverging_fit_raises_no_numpy_warnings(capsys):
    import warnings
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(64, 50)).astype(np.float32)
    model = keras.Sequential([keras.layers.Dense(32, activation="relu", input_shape=(50,)),
                              keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=100.0), loss="mse")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(x, rng.normal(size=(64, 1)), epochs=3, batch_size=8, verbose=0)
    assert "the loss became" in capsys.readouterr().out
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]
