"""Training functional models (issue 11, acceptance 2 and 4): one SGD step equal to Keras's
(k3_sgd.*, k2_sgd.*), the ticket model's training transcripts (k3/k2_ticket_train.*: list and
dict losses/metrics, loss_weights as a list and a dict), and the DLwP ch. 7 ticket-classifier
code as the book writes it (lists, dicts, dict outputs, validation_split, evaluate, predict).

Order of the logs: mitbadak's History keys and progress line follow tf.keras 2.x (loss, each
output's loss, then each output's metrics: k2_ticket_train.json); Keras 3 sorts them by name.
`evaluate()`'s list has as many numbers as Keras 3's and in Keras 3's order: loss, the
per-output losses, then the other entries by name.

Per-output losses in `evaluate` over uneven batches (48 samples = 32 + 16): Keras 3 on
TensorFlow (k3_ticket_train.json "evaluate") averages the two batch means (a tf.function
quirk, see the fixtures' README), while Keras 3 run eagerly, Keras 3 on JAX (checks_jax.json)
and tf_keras weight them by batch size. mitbadak weights them, so those numbers are compared
with the weighted ones (tf_keras's evaluate, Keras 3's run_eagerly evaluate); the total `loss`
and the metrics are the same in every Keras and are compared with Keras 3's own list.
"""
from __future__ import annotations

import contextlib
import io
import re

import numpy as np
import pytest

from mitbadak import keras
from mitbadak.keras import layers

from models_helpers import (BUILDERS, INPUTS, OUTPUTS, TOL, as_list, build_ticket, load_json,
                            npz)

SGD_STEMS = ["shared", "resnet", "ticket"]
VARIANTS = ["list", "dict", "loss_weights_list", "loss_weights_dict"]


# ================================================================ one SGD step
@pytest.fixture(scope="module", params=["k3", "k2"])
def sgd(request):
    return request.param, npz(f"{request.param}_sgd.npz"), load_json(f"{request.param}_sgd.json")


@pytest.mark.parametrize("stem", SGD_STEMS)
def test_one_sgd_step_gives_keras_weights(stem, sgd):
    line, arrays, record = sgd
    rec = record[stem]
    model = BUILDERS[stem]()
    n = len(model.get_weights())
    model.set_weights([arrays[f"{stem}_before_w{i}"] for i in range(n)])
    extra = {"loss_weights": rec["loss_weights"]} if "loss_weights" in rec else {}
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss=rec["loss"], **extra)
    x = [arrays[f"{stem}_x_{k}"] for k in INPUTS[stem]]
    y = [arrays[f"{stem}_y_{k}"] for k in OUTPUTS[stem]]
    result = model.train_on_batch(x, y if len(y) > 1 else y[0])
    for i, w in enumerate(model.get_weights()):
        before, after = arrays[f"{stem}_before_w{i}"], arrays[f"{stem}_after_w{i}"]
        assert not np.allclose(before, after)             # the step moved every array
        np.testing.assert_allclose(w, after, **TOL, err_msg=f"{line} {stem} w{i}")
    want = rec["train_on_batch returned"]
    assert type(result).__name__ == rec["type"]
    np.testing.assert_allclose(result, want, rtol=1e-5, atol=1e-6)
    assert model.metrics_names == rec["metrics_names"]


def test_one_sgd_step_with_x_and_y_as_dicts():
    arrays = npz("k3_sgd.npz")
    model = build_ticket()
    model.set_weights([arrays[f"ticket_before_w{i}"] for i in range(6)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1),
                  loss={"department": "categorical_crossentropy",
                        "priority": "mean_squared_error"},
                  loss_weights={"department": 0.2, "priority": 1.0})
    result = model.train_on_batch({k: arrays[f"ticket_x_{k}"] for k in INPUTS["ticket"]},
                                  {k: arrays[f"ticket_y_{k}"] for k in ("department", "priority")})
    for i, w in enumerate(model.get_weights()):
        np.testing.assert_allclose(w, arrays[f"ticket_after_w{i}"], **TOL)
    np.testing.assert_allclose(result, load_json("k3_sgd.json")["ticket"]
                               ["train_on_batch returned"], rtol=1e-5, atol=1e-6)


# ================================================================ the training transcripts
@pytest.fixture(scope="module")
def transcripts():
    return npz("k3_ticket_train.npz"), load_json("k3_ticket_train.json"), \
        load_json("k2_ticket_train.json")


def _data(arrays, part, as_dict):
    x = {n: arrays[f"{part}_x_{n}"] for n in INPUTS["ticket"]}
    y = {n: arrays[f"{part}_y_{n}"] for n in ("priority", "department")}
    if as_dict:
        return x, y
    return [x[n] for n in INPUTS["ticket"]], [y["priority"], y["department"]]


def _compile_args(variant):
    if variant.endswith("list"):
        args = dict(optimizer="rmsprop", loss=["mean_squared_error", "categorical_crossentropy"],
                    metrics=[["mean_absolute_error"], ["accuracy"]])
        if variant.startswith("loss_weights"):
            args["loss_weights"] = [1.0, 0.2]
    else:
        args = dict(optimizer="rmsprop",
                    loss={"priority": "mean_squared_error",
                          "department": "categorical_crossentropy"},
                    metrics={"priority": ["mean_absolute_error"], "department": ["accuracy"]})
        if variant.startswith("loss_weights"):
            args["loss_weights"] = {"priority": 1.0, "department": 0.2}
    return args


@pytest.fixture(scope="module")
def trained(transcripts):
    """Each variant trained as make_functional.py trained it: (model, history, evaluate list,
    evaluate dict, printed text)."""
    arrays = transcripts[0]
    out = {}
    for variant in VARIANTS:
        keras.backend.clear_session()
        model = build_ticket()
        model.set_weights([arrays[f"initial_w{i}"] for i in range(6)])
        model.compile(**_compile_args(variant))
        as_dict = not variant.endswith("list")
        x, y = _data(arrays, "train", as_dict)
        tx, ty = _data(arrays, "test", as_dict)
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            history = model.fit(x, y, epochs=2, batch_size=16, validation_split=0.25,
                                shuffle=False, verbose=2)
            results = model.evaluate(tx, ty, verbose=2)
        as_logs = model.evaluate(tx, ty, verbose=0, return_dict=True)
        out[variant] = (model, history, results, as_logs, buf.getvalue())
    return out


@pytest.mark.parametrize("variant", VARIANTS)
def test_history_keys_in_tf_keras_order_and_values(variant, trained, transcripts):
    _, k3, k2 = transcripts
    history = trained[variant][1]
    assert list(history.history) == k2[variant]["history keys"]
    assert sorted(history.history) == k3[variant]["history keys"]       # Keras 3: same, sorted
    for key, values in history.history.items():
        np.testing.assert_allclose(values, k3[variant]["history"][key], **TOL, err_msg=key)
        np.testing.assert_allclose(values, k2[variant]["history"][key], **TOL, err_msg=key)
    assert history.params == k3[variant]["history.params"]


@pytest.mark.parametrize("variant", VARIANTS)
def test_trained_weights_and_predictions(variant, trained, transcripts):
    arrays = transcripts[0]
    model = trained[variant][0]
    for i, w in enumerate(model.get_weights()):
        np.testing.assert_allclose(w, arrays[f"{variant}_w{i}"], **TOL, err_msg=f"w{i}")
    pred = model.predict(_data(arrays, "test", False)[0], verbose=0)
    np.testing.assert_allclose(pred[0], arrays[f"{variant}_pred_priority"], **TOL)
    np.testing.assert_allclose(pred[1], arrays[f"{variant}_pred_department"], **TOL)


@pytest.mark.parametrize("variant", VARIANTS)
def test_evaluate_list_is_keras3_length_and_order(variant, trained, transcripts):
    _, k3, k2 = transcripts
    results, logs = trained[variant][2], trained[variant][3]
    keras3 = k3[variant]["evaluate"]
    assert isinstance(results, list) and len(results) == len(keras3) == 5
    # Keras 3's order: loss, priority_loss, department_loss, then the rest sorted by name
    order = ["loss", "priority_loss", "department_loss", "department_accuracy",
             "priority_mean_absolute_error"]
    np.testing.assert_allclose(keras3, [k3[variant]["evaluate(return_dict=True)"][k]
                                        for k in order], rtol=1e-7)      # the order, in Keras
    np.testing.assert_allclose(results, [logs[k] for k in order], rtol=1e-12)
    # The total loss and the metrics: Keras 3's own numbers.
    np.testing.assert_allclose([results[0], results[3], results[4]],
                               [keras3[0], keras3[3], keras3[4]], **TOL)
    # The per-output losses: batch-weighted, as tf_keras (and Keras 3 eagerly / on JAX) give
    # them; Keras 3 on TensorFlow averages batch means (see the module docstring).
    weighted = k2[variant]["evaluate(return_dict=True)"]
    np.testing.assert_allclose(results[1:3], [weighted["priority_loss"],
                                              weighted["department_loss"]], **TOL)
    if variant == "list":
        eager = k3["list"]["evaluate(return_dict=True) after compile(..., run_eagerly=True)"]
        np.testing.assert_allclose(results[1:3], [eager["priority_loss"],
                                                  eager["department_loss"]], **TOL)
    weight = 0.2 if variant.startswith("loss_weights") else 1.0
    np.testing.assert_allclose(results[0], results[1] + weight * results[2], rtol=1e-6)


@pytest.mark.parametrize("variant", VARIANTS)
def test_evaluate_return_dict_has_keras3_keys(variant, trained, transcripts):
    _, k3, _ = transcripts
    logs = trained[variant][3]
    assert sorted(logs) == k3[variant]["evaluate(return_dict=True) keys"]


@pytest.mark.parametrize("variant", VARIANTS)
def test_metrics_names_after_training(variant, trained, transcripts):
    """Both Keras lines start metrics_names with loss and the per-output losses."""
    _, k3, k2 = transcripts
    names = trained[variant][0].metrics_names
    assert names[:3] == ["loss", "priority_loss", "department_loss"]
    assert names[:3] == k2[variant]["metrics_names after fit"][:3]
    assert set(names[1:3]) <= set(k3[variant]["metrics_names after fit"])


def _without_times(text):
    """The printed lines with the timings (which differ run to run) taken out."""
    text = re.sub(r" - \d+(\.\d+)?(ms|us|s)/(epoch|step)", "", text)
    return re.sub(r" - \d+s - ", " - ", text)


@pytest.mark.parametrize("variant", VARIANTS)
def test_fit_and_evaluate_print_tf_keras_lines(variant, trained, transcripts):
    _, _, k2 = transcripts
    printed = trained[variant][4]
    assert _without_times(printed) == \
        _without_times(k2[variant]["stdout fit(verbose=2) + evaluate(verbose=2)"])


# ================================================================ DLwP ch. 7, as written
def _book_data(num_samples=64, vocabulary_size=200, num_tags=20, num_departments=4):
    """Listing 7.10's random data (smaller sizes; a seeded generator in place of np.random's
    global one, so the test does not touch global state: rng.integers = np.random.randint)."""
    rng = np.random.default_rng(7)
    title_data = rng.integers(0, 2, size=(num_samples, vocabulary_size))
    text_body_data = rng.integers(0, 2, size=(num_samples, vocabulary_size))
    tags_data = rng.integers(0, 2, size=(num_samples, num_tags))
    priority_data = rng.random(size=(num_samples, 1))
    department_data = rng.integers(0, 2, size=(num_samples, num_departments))
    return title_data, text_body_data, tags_data, priority_data, department_data


def _book_model(vocabulary_size=200, num_tags=20, num_departments=4, dict_outputs=False):
    """Listing 7.9 (smaller sizes)."""
    title = keras.Input(shape=(vocabulary_size,), name="title")
    text_body = keras.Input(shape=(vocabulary_size,), name="text_body")
    tags = keras.Input(shape=(num_tags,), name="tags")
    features = layers.Concatenate()([title, text_body, tags])
    features = layers.Dense(64, activation="relu")(features)
    priority = layers.Dense(1, activation="sigmoid", name="priority")(features)
    department = layers.Dense(
        num_departments, activation="softmax", name="department")(features)
    if dict_outputs:
        return keras.Model(inputs=[title, text_body, tags],
                           outputs={"priority": priority, "department": department})
    return keras.Model(inputs=[title, text_body, tags], outputs=[priority, department])


def test_dlwp_listing_7_10_list_losses_and_metrics():
    title_data, text_body_data, tags_data, priority_data, department_data = _book_data()
    model = _book_model()
    model.compile(optimizer="rmsprop",
                  loss=["mean_squared_error", "categorical_crossentropy"],
                  metrics=[["mean_absolute_error"], ["accuracy"]])
    history = model.fit([title_data, text_body_data, tags_data],
                        [priority_data, department_data],
                        epochs=2, validation_split=0.25, verbose=0)
    assert list(history.history) == [
        "loss", "priority_loss", "department_loss", "priority_mean_absolute_error",
        "department_accuracy", "val_loss", "val_priority_loss", "val_department_loss",
        "val_priority_mean_absolute_error", "val_department_accuracy"]
    results = model.evaluate([title_data, text_body_data, tags_data],
                             [priority_data, department_data], verbose=0)
    logs = model.evaluate([title_data, text_body_data, tags_data],
                          [priority_data, department_data], verbose=0, return_dict=True)
    assert len(results) == 5
    assert results == [logs[k] for k in ("loss", "priority_loss", "department_loss",
                                         "department_accuracy", "priority_mean_absolute_error")]
    priority_preds, department_preds = model.predict(
        [title_data, text_body_data, tags_data], verbose=0)
    assert priority_preds.shape == (64, 1) and department_preds.shape == (64, 4)
    np.testing.assert_allclose(department_preds.sum(axis=1), 1, rtol=1e-5)
    # the numbers evaluate reports are the formulas on predict's outputs
    mse = np.mean((priority_preds - priority_data) ** 2)
    cce = np.mean(-np.sum(department_data * np.log(np.clip(department_preds, 1e-7, 1)), axis=1))
    mae = np.mean(np.abs(priority_preds - priority_data))
    acc = np.mean(department_preds.argmax(1) == department_data.argmax(1))
    np.testing.assert_allclose([logs["priority_loss"], logs["department_loss"],
                                logs["priority_mean_absolute_error"],
                                logs["department_accuracy"], logs["loss"]],
                               [mse, cce, mae, acc, mse + cce], rtol=1e-5)


def test_integer_data_into_float_inputs_computes_in_float32():
    """The book's data is np.random.randint (int64) for float32 Inputs: Keras converts it to
    the Input's dtype, so predictions (and the whole forward pass) are float32."""
    title_data, text_body_data, tags_data, _, _ = _book_data(num_samples=8)
    model = _book_model()
    x = [title_data, text_body_data, tags_data]
    assert title_data.dtype == np.int64
    for pred in model.predict(x, verbose=0):
        assert pred.dtype == np.float32
    for pred in model.predict_on_batch(x):
        assert pred.dtype == np.float32
    single = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    assert single.predict(np.ones((2, 3), dtype=np.int64), verbose=0).dtype == np.float32


def test_dlwp_listing_7_11_dict_losses_and_metrics():
    title_data, text_body_data, tags_data, priority_data, department_data = _book_data()
    model = _book_model()
    model.compile(optimizer="rmsprop",
                  loss={"priority": "mean_squared_error",
                        "department": "categorical_crossentropy"},
                  metrics={"priority": ["mean_absolute_error"],
                           "department": ["accuracy"]})
    model.fit({"title": title_data, "text_body": text_body_data, "tags": tags_data},
              {"priority": priority_data, "department": department_data},
              epochs=1, verbose=0)
    results = model.evaluate({"title": title_data, "text_body": text_body_data,
                              "tags": tags_data},
                             {"priority": priority_data, "department": department_data},
                             verbose=0)
    assert len(results) == 5
    priority_preds, department_preds = model.predict(
        {"title": title_data, "text_body": text_body_data, "tags": tags_data}, verbose=0)
    assert priority_preds.shape == (64, 1) and department_preds.shape == (64, 4)


def test_list_and_dict_forms_train_identically():
    """Keras: the list and dict variants give identical numbers (k3_ticket_train.json)."""
    data = _book_data()
    runs = []
    for as_dict in (False, True):
        keras.backend.clear_session()
        keras.utils.set_random_seed(3)
        model = _book_model()
        args = _compile_args("loss_weights_dict" if as_dict else "loss_weights_list")
        model.compile(**args)
        x = dict(zip(("title", "text_body", "tags"), data[:3])) if as_dict else list(data[:3])
        y = {"priority": data[3], "department": data[4]} if as_dict else list(data[3:])
        h = model.fit(x, y, epochs=2, batch_size=16, validation_data=(x, y), verbose=0)
        runs.append((h.history, model.get_weights()))
    assert list(runs[0][0]) == list(runs[1][0])
    for key in runs[0][0]:
        np.testing.assert_allclose(runs[0][0][key], runs[1][0][key], rtol=1e-6)
    for u, v in zip(runs[0][1], runs[1][1]):
        np.testing.assert_allclose(u, v, rtol=1e-6, atol=1e-7)


def test_dict_outputs_model_trains_and_predicts_a_dict():
    """keras.Model(inputs, outputs={"priority": ..., "department": ...}): Keras sorts
    output_names, predict returns the dict in the written order (k3_ticket_facts.json)."""
    facts = load_json("k3_ticket_facts.json")
    title_data, text_body_data, tags_data, priority_data, department_data = _book_data()
    model = _book_model(dict_outputs=True)
    assert model.output_names == facts["dict outputs: model.output_names"]
    model.compile(optimizer="rmsprop",
                  loss={"priority": "mean_squared_error",
                        "department": "categorical_crossentropy"},
                  metrics={"priority": ["mean_absolute_error"], "department": ["accuracy"]})
    x = [title_data, text_body_data, tags_data]
    y = {"priority": priority_data, "department": department_data}
    history = model.fit(x, y, epochs=1, validation_split=0.25, verbose=0)
    assert sorted(history.history) == sorted(
        ["loss", "priority_loss", "department_loss", "priority_mean_absolute_error",
         "department_accuracy", "val_loss", "val_priority_loss", "val_department_loss",
         "val_priority_mean_absolute_error", "val_department_accuracy"])
    pred = model.predict(x, verbose=0)
    assert isinstance(pred, dict)
    assert list(pred) == facts["dict outputs: predict keys in order"]
    assert pred["priority"].shape == (64, 1) and pred["department"].shape == (64, 4)
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["priority_loss"],
                               np.mean((pred["priority"] - priority_data) ** 2), rtol=1e-5)


def test_validation_data_as_lists_and_dicts_and_single_batch_methods():
    arrays = npz("k3_ticket_train.npz")
    model = build_ticket()
    model.set_weights([arrays[f"initial_w{i}"] for i in range(6)])
    model.compile(**_compile_args("list"))
    x, y = _data(arrays, "train", False)
    tx, ty = _data(arrays, "test", True)
    history = model.fit(x, y, epochs=1, batch_size=16, validation_data=(tx, ty), verbose=0)
    logs = model.evaluate(tx, ty, verbose=0, return_dict=True)
    for key in logs:
        np.testing.assert_allclose(history.history["val_" + key][-1], logs[key], rtol=1e-6)
    batch = model.test_on_batch(tx, ty, return_dict=True)
    assert sorted(batch) == sorted(logs)
    np.testing.assert_allclose(batch["loss"], logs["loss"], rtol=1e-6)   # one batch of 48
    pred = model.predict_on_batch(tx)
    assert isinstance(pred, list) and len(pred) == 2
    np.testing.assert_allclose(pred[1], model.predict(tx, verbose=0)[1], rtol=1e-6)


def test_callbacks_work_unchanged_on_a_functional_model(tmp_path):
    arrays = npz("k3_ticket_train.npz")
    model = build_ticket()
    model.compile(**_compile_args("dict"))
    x, y = _data(arrays, "train", True)
    seen = []
    path = tmp_path / "best.keras"
    callbacks = [
        keras.callbacks.ModelCheckpoint(str(path), monitor="val_department_loss",
                                        save_best_only=True),
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=1,
                                      restore_best_weights=True),
        keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(
            sorted(logs))),
    ]
    history = model.fit(x, y, epochs=4, batch_size=16, validation_split=0.25, verbose=0,
                        callbacks=callbacks)
    assert seen and seen[0] == sorted(history.history)
    best = keras.models.load_model(path)
    assert [l.name for l in best.layers] == [l.name for l in model.layers]
    for a, b in zip(as_list(best.predict(x, verbose=0)), as_list(model.predict(x, verbose=0))):
        assert a.shape == b.shape


def _cnn_layers():
    return [layers.Conv2D(6, 3, activation="relu", padding="same"), layers.MaxPooling2D(2),
            layers.Conv2D(8, 3, activation="relu"), layers.Flatten(), layers.Dropout(0.3),
            layers.Dense(5, activation="softmax")]


def test_functional_cnn_trains_as_its_sequential_twin():
    """The same CNN as a Sequential and as keras.Model(inputs, outputs), same weights and seed:
    fit (fused softmax gradient, sliced first layers, dropout), evaluate and predict (batched
    inference) give the same numbers; one walk serves both."""
    rng = np.random.default_rng(12)
    x = rng.random((200, 12, 12, 1)).astype("float32")
    y = rng.integers(0, 5, 200)
    seq = keras.Sequential([keras.Input((12, 12, 1))] + _cnn_layers())
    inputs = keras.Input((12, 12, 1))
    h = inputs
    for layer in _cnn_layers():
        h = layer(h)
    fun = keras.Model(inputs, h)
    fun.set_weights(seq.get_weights())
    runs = []
    for model in (seq, fun):
        keras.utils.set_random_seed(5)
        model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        history = model.fit(x, y, epochs=2, batch_size=32, validation_split=0.2,
                            shuffle=False, verbose=0)
        runs.append((history.history, model.evaluate(x, y, batch_size=16, verbose=0),
                     model.predict(x, batch_size=8, verbose=0), model.get_weights()))
    assert list(runs[0][0]) == list(runs[1][0])
    for key in runs[0][0]:
        np.testing.assert_allclose(runs[0][0][key], runs[1][0][key], **TOL, err_msg=key)
    np.testing.assert_allclose(runs[0][1], runs[1][1], **TOL)
    np.testing.assert_allclose(runs[0][2], runs[1][2], **TOL)
    for u, v in zip(runs[0][3], runs[1][3]):
        np.testing.assert_allclose(u, v, **TOL)
    np.testing.assert_allclose(runs[1][2], fun(x), rtol=1e-5, atol=1e-6)   # one pass of all


def test_pydataset_hears_on_epoch_begin_and_end():
    """Keras calls a PyDataset's on_epoch_begin and on_epoch_end around every epoch."""
    calls = []

    class Batches(keras.utils.PyDataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            rng = np.random.default_rng(i)
            return rng.random((4, 3)).astype("float32"), rng.random((4, 1)).astype("float32")

        def on_epoch_begin(self):
            calls.append("begin")

        def on_epoch_end(self):
            calls.append("end")

    model = keras.Sequential([keras.Input((3,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(Batches(), epochs=2, verbose=0)
    assert calls == ["begin", "end", "begin", "end"]


def test_tf_keras2_loader_arguments_and_generator_methods():
    """tf.keras 2.x code: fit(seq, workers=2, use_multiprocessing=False, max_queue_size=4)
    loads the Sequence with 2 workers for that call (Keras 3 moved these to PyDataset's
    constructor), and fit_generator / evaluate_generator / predict_generator are fit /
    evaluate / predict with a DeprecationWarning."""
    seen = []

    class Batches(keras.utils.Sequence):
        def __len__(self):
            return 3

        def __getitem__(self, i):
            seen.append(self.workers)
            rng = np.random.default_rng(i)
            return rng.random((4, 3)).astype("float32"), rng.random((4, 1)).astype("float32")

    data = Batches()
    model = keras.Sequential([keras.Input((3,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(data, epochs=1, verbose=0, workers=2, use_multiprocessing=False, max_queue_size=4)
    assert seen and set(seen) == {2}
    assert data.workers == 1                          # put back after the call
    x = np.concatenate([data[i][0] for i in range(3)])
    with pytest.warns(DeprecationWarning, match="fit_generator"):
        history = model.fit_generator(data, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    with pytest.warns(DeprecationWarning, match="evaluate_generator"):
        loss = model.evaluate_generator(data)
    assert loss == pytest.approx(model.evaluate(data, verbose=0))
    with pytest.warns(DeprecationWarning, match="predict_generator"):
        pred = model.predict_generator(data)
    np.testing.assert_allclose(pred, model.predict(x, verbose=0), rtol=1e-6)


def test_metrics_names_label_evaluates_numbers():
    """dict(zip(model.metrics_names, model.evaluate(x, y))) — the tf.keras 2.x idiom — labels
    each number as evaluate(return_dict=True) does, for several outputs too."""
    a = keras.Input(shape=(8,), name="a")
    h = layers.Dense(4, activation="relu")(a)
    p = layers.Dense(1, activation="sigmoid", name="priority")(h)
    d = layers.Dense(4, activation="softmax", name="department")(h)
    model = keras.Model(a, [p, d])
    model.compile("rmsprop", loss={"priority": "mse", "department": "categorical_crossentropy"},
                  metrics={"priority": ["mean_absolute_error"], "department": ["accuracy"]})
    rng = np.random.default_rng(0)
    x = rng.random((64, 8))
    y = {"priority": rng.random((64, 1)), "department": np.eye(4)[rng.integers(0, 4, 64)]}
    model.fit(x, y, epochs=1, verbose=0)
    as_list = model.evaluate(x, y, verbose=0)
    assert len(model.metrics_names) == len(as_list) == 5
    assert dict(zip(model.metrics_names, as_list)) == pytest.approx(
        model.evaluate(x, y, verbose=0, return_dict=True))
