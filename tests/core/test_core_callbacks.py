"""Callbacks: EarlyStopping, LearningRateScheduler, ReduceLROnPlateau, TerminateOnNaN, CSVLogger,
LambdaCallback and a custom Callback's hooks in Keras's order."""
from __future__ import annotations

import csv

import numpy as np
import pytest

from mitbadak import keras

cb = keras.callbacks


def _data(n=60, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(np.int64)


def _model(optimizer="adam", metrics=("accuracy",)):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.layers.Dense(6, activation="relu", input_shape=(4,)),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                  metrics=list(metrics))
    return model


class StubModel:
    """Just what the monitoring callbacks touch: weights, stop flag, optimizer."""

    def __init__(self):
        self.w = 0
        self.stop_training = False
        self.optimizer = keras.optimizers.SGD(0.1)

    def get_weights(self):
        return [np.array(self.w)]

    def set_weights(self, weights):
        self.w = int(weights[0])


def _drive(callback, values, monitor="val_loss"):
    """Feed one monitored value per epoch; the stub's weight is the epoch number."""
    model = StubModel()
    callback.set_model(model)
    callback.on_train_begin({})
    epochs = 0
    for epoch, v in enumerate(values):
        model.w = epoch
        callback.on_epoch_end(epoch, {monitor: v})
        epochs += 1
        if model.stop_training:
            break
    callback.on_train_end({})
    return model, epochs


# ------------------------------------------------------------------ EarlyStopping
def test_early_stopping_patience():
    # improvements at epochs 0, 1; then 2 epochs without → stops after epoch 3
    model, epochs = _drive(cb.EarlyStopping(patience=2), [1.0, 0.9, 0.95, 0.92, 0.5, 0.4])
    assert epochs == 4 and model.stop_training


def test_early_stopping_patience_zero_stops_at_first_non_improvement():
    _, epochs = _drive(cb.EarlyStopping(), [1.0, 0.9, 0.9, 0.1])
    assert epochs == 3


def test_early_stopping_min_delta():
    # 0.95 is not better than 1.0 by more than 0.1
    _, epochs = _drive(cb.EarlyStopping(patience=1, min_delta=0.1), [1.0, 0.95, 0.5])
    assert epochs == 2


def test_early_stopping_restore_best_weights(capsys):
    es = cb.EarlyStopping(patience=2, restore_best_weights=True, verbose=1)
    model, epochs = _drive(es, [1.0, 0.5, 0.7, 0.6, 0.1])
    assert epochs == 4
    assert model.w == 1                           # the weights of the best epoch (index 1)
    out = capsys.readouterr().out
    assert "Epoch 4: early stopping" in out
    assert "best epoch: 2" in out


def test_early_stopping_mode_auto_for_accuracy():
    for monitor in ("val_accuracy", "accuracy", "val_acc", "auc"):
        es = cb.EarlyStopping(monitor=monitor, patience=0)
        assert es.mode == "max", monitor
        _, epochs = _drive(es, [0.5, 0.6, 0.7, 0.8], monitor=monitor)
        assert epochs == 4, monitor            # rising accuracy never stops
        _, epochs = _drive(cb.EarlyStopping(monitor=monitor), [0.5, 0.6, 0.55, 0.9],
                           monitor=monitor)
        assert epochs == 3
    assert cb.EarlyStopping(monitor="val_loss").mode == "min"


def test_early_stopping_baseline_and_start_from_epoch():
    # Keras: an improvement that does not beat the baseline does not reset `wait`.
    values = [0.9, 0.95, 0.97, 0.99, 1.0]
    _, epochs = _drive(cb.EarlyStopping(patience=2), values)
    assert epochs == 3
    _, epochs = _drive(cb.EarlyStopping(patience=2, baseline=0.5), values)
    assert epochs == 2
    _, epochs = _drive(cb.EarlyStopping(start_from_epoch=3), [1.0, 2.0, 3.0, 4.0, 5.0])
    assert epochs == 5


def test_early_stopping_in_fit():
    x, y = _data()
    model = _model(optimizer=keras.optimizers.SGD(0.0))     # the loss cannot improve
    h = model.fit(x, y, epochs=10, shuffle=False, verbose=0,
                  callbacks=[cb.EarlyStopping(monitor="loss", patience=2)])
    assert len(h.history["loss"]) == 3
    assert h.epoch == [0, 1, 2]


# ------------------------------------------------------------------ learning rate callbacks
def test_learning_rate_scheduler_sets_each_epoch():
    x, y = _data()
    model = _model(optimizer=keras.optimizers.SGD(0.1))
    seen = []

    def schedule(epoch, lr):
        return 0.1 * 0.5 ** epoch

    rec = cb.LambdaCallback(on_epoch_begin=lambda e, logs: seen.append(model.optimizer.learning_rate))
    model.fit(x, y, epochs=3, verbose=0, callbacks=[cb.LearningRateScheduler(schedule), rec])
    assert seen == pytest.approx([0.1, 0.05, 0.025])
    assert model.optimizer.learning_rate == pytest.approx(0.025)


def test_learning_rate_scheduler_with_one_argument_schedule():
    x, y = _data()
    model = _model(optimizer=keras.optimizers.SGD(0.1))
    model.fit(x, y, epochs=2, verbose=0,
              callbacks=[cb.LearningRateScheduler(lambda epoch: 0.01 * (epoch + 1))])
    assert model.optimizer.learning_rate == pytest.approx(0.02)


def test_learning_rate_appears_in_history():
    x, y = _data()
    model = _model(optimizer=keras.optimizers.SGD(0.1))
    h = model.fit(x, y, epochs=2, verbose=0,
                  callbacks=[cb.LearningRateScheduler(lambda e, lr: lr / 2)])
    assert h.history["lr"] == pytest.approx([0.05, 0.025])


def test_reduce_lr_on_plateau():
    rl = cb.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2, min_lr=0.02)
    model = StubModel()
    rl.set_model(model)
    rl.on_train_begin({})
    lrs = []
    for epoch, v in enumerate([1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9]):
        rl.on_epoch_end(epoch, {"val_loss": v})
        lrs.append(model.optimizer.learning_rate)
    # plateau from epoch 2: reduced after epochs 3, 5, 7 (patience 2), floored at min_lr
    assert lrs == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.02])


def test_reduce_lr_on_plateau_cooldown_and_min_delta():
    rl = cb.ReduceLROnPlateau(factor=0.1, patience=1, cooldown=2, min_delta=0.05)
    model = StubModel()
    rl.set_model(model)
    rl.on_train_begin({})
    lrs = []
    # 0.97 is not an improvement on 1.0 by more than min_delta
    for epoch, v in enumerate([1.0, 0.97, 0.96, 0.96, 0.96, 0.96]):
        rl.on_epoch_end(epoch, {"val_loss": v})
        lrs.append(model.optimizer.learning_rate)
    # e1 reduce (cooldown 2); e2 in cooldown; e3 cooldown ends, wait 1 -> reduce; e4; e5 reduce
    assert lrs == pytest.approx([0.1, 0.01, 0.01, 0.001, 0.001, 0.0001])


# ------------------------------------------------------------------ NaN
def test_terminate_on_nan(capsys):
    t = cb.TerminateOnNaN()
    model = StubModel()
    t.set_model(model)
    t.on_train_batch_end(0, {"loss": 0.5})
    assert not model.stop_training
    t.on_train_batch_end(1, {"loss": float("nan")})
    assert model.stop_training
    assert "Batch 1: Invalid loss, terminating training" in capsys.readouterr().out
    model2 = StubModel()
    t.set_model(model2)
    t.on_train_batch_end(0, {"loss": float("inf")})
    assert model2.stop_training


# ------------------------------------------------------------------ CSVLogger
def test_csv_logger_file_content(tmp_path):
    x, y = _data()
    path = tmp_path / "log.csv"
    model = _model()
    h = model.fit(x, y, epochs=3, validation_split=0.25, verbose=0,
                  callbacks=[cb.CSVLogger(str(path))])
    with open(path, newline="") as f:
        text = f.read()
    keys = sorted(h.history)                        # accuracy, loss, val_accuracy, val_loss
    expected = ["epoch," + ",".join(keys)]
    for e in range(3):
        expected.append(",".join([str(e)] + [str(h.history[k][e]) for k in keys]))
    assert text == "\r\n".join(expected) + "\r\n"      # csv's excel dialect, as Keras writes
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert float(rows[2]["val_loss"]) == h.history["val_loss"][2]


def test_csv_logger_append_and_separator(tmp_path):
    x, y = _data()
    path = tmp_path / "log.csv"
    model = _model(metrics=())
    model.fit(x, y, epochs=1, verbose=0, callbacks=[cb.CSVLogger(path, separator=";")])
    model.fit(x, y, epochs=2, verbose=0, callbacks=[cb.CSVLogger(path, separator=";", append=True)])
    lines = path.read_text().splitlines()
    assert lines[0] == "epoch;loss"
    assert len(lines) == 4 and [l.split(";")[0] for l in lines[1:]] == ["0", "0", "1"]


# ------------------------------------------------------------------ LambdaCallback / custom
def test_lambda_callback():
    x, y = _data()
    events = []
    lc = cb.LambdaCallback(on_train_begin=lambda logs: events.append("begin"),
                           on_epoch_end=lambda epoch, logs: events.append(("epoch", epoch,
                                                                           round(logs["loss"], 6))),
                           on_batch_end=lambda batch, logs: events.append(("batch", batch)),
                           on_train_end=lambda logs: events.append("end"))
    h = _model().fit(x, y, epochs=2, batch_size=30, verbose=0, callbacks=[lc])
    assert events == ["begin", ("batch", 0), ("batch", 1), ("epoch", 0, round(h.history["loss"][0], 6)),
                      ("batch", 0), ("batch", 1), ("epoch", 1, round(h.history["loss"][1], 6)), "end"]


class HookLog(cb.Callback):
    def __init__(self, with_test=False):
        super().__init__()
        self.log = []
        self.with_test = with_test

    def on_train_begin(self, logs=None):
        self.log.append(("on_train_begin", None, sorted(logs or {})))

    def on_epoch_begin(self, epoch, logs=None):
        self.log.append(("on_epoch_begin", epoch, sorted(logs or {})))

    def on_train_batch_begin(self, batch, logs=None):
        self.log.append(("on_train_batch_begin", batch, None))

    def on_train_batch_end(self, batch, logs=None):
        self.log.append(("on_train_batch_end", batch, sorted(logs or {})))

    def on_epoch_end(self, epoch, logs=None):
        self.log.append(("on_epoch_end", epoch, sorted(logs or {})))

    def on_train_end(self, logs=None):
        self.log.append(("on_train_end", None, sorted(logs or {})))

    def on_test_begin(self, logs=None):
        if self.with_test:
            self.log.append(("on_test_begin", None, None))

    def on_test_batch_end(self, batch, logs=None):
        if self.with_test:
            self.log.append(("on_test_batch_end", batch, None))

    def on_test_end(self, logs=None):
        if self.with_test:
            self.log.append(("on_test_end", None, sorted(logs or {})))


def test_custom_callback_hooks_in_keras_order():
    x, y = _data(n=50)
    hooks = HookLog()
    model = _model()
    model.fit(x, y, epochs=2, batch_size=20, verbose=0, callbacks=[hooks])
    keys = ["accuracy", "loss"]
    expected = [("on_train_begin", None, [])]
    for epoch in range(2):
        expected.append(("on_epoch_begin", epoch, []))
        for b in range(3):
            expected += [("on_train_batch_begin", b, None), ("on_train_batch_end", b, keys)]
        expected.append(("on_epoch_end", epoch, keys))
    expected.append(("on_train_end", None, keys))
    assert hooks.log == expected
    assert hooks.model is model
    assert hooks.params["epochs"] == 2 and hooks.params["steps"] == 3


def test_callback_batch_logs_are_running_means():
    x, y = _data(n=50)
    seen = []
    lc = cb.LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(dict(logs)))
    h = _model().fit(x, y, epochs=1, batch_size=20, verbose=0, callbacks=[lc])
    assert seen[-1]["loss"] == pytest.approx(h.history["loss"][0])
    assert seen[-1]["accuracy"] == pytest.approx(h.history["accuracy"][0])


def test_validation_calls_test_hooks_before_epoch_end():
    x, y = _data(n=50)
    hooks = HookLog(with_test=True)
    _model().fit(x, y, epochs=1, batch_size=20, validation_split=0.2, verbose=0, callbacks=[hooks])
    names = [h[0] for h in hooks.log]
    i = names.index("on_epoch_end")
    assert names[i - 3:i] == ["on_test_begin", "on_test_batch_end", "on_test_end"]


def test_evaluate_and_predict_hooks():
    x, y = _data(n=50)
    events = []

    class C(cb.Callback):
        def on_test_begin(self, logs=None):
            events.append("test_begin")

        def on_test_batch_end(self, batch, logs=None):
            events.append(("test_batch", batch))

        def on_test_end(self, logs=None):
            events.append(("test_end", sorted(logs)))

        def on_predict_begin(self, logs=None):
            events.append("predict_begin")

        def on_predict_batch_end(self, batch, logs=None):
            events.append(("predict_batch", batch, logs["outputs"].shape))

        def on_predict_end(self, logs=None):
            events.append("predict_end")

    model = _model()
    model.evaluate(x, y, batch_size=25, verbose=0, callbacks=[C()])
    model.predict(x, batch_size=40, verbose=0, callbacks=[C()])
    assert events == ["test_begin", ("test_batch", 0), ("test_batch", 1),
                      ("test_end", ["accuracy", "loss"]),
                      "predict_begin", ("predict_batch", 0, (40, 2)), ("predict_batch", 1, (10, 2)),
                      "predict_end"]


def test_batch_begin_hooks_of_evaluate_and_predict_precede_their_batch():
    x, y = _data(n=50)
    events = []
    calls = lambda b, logs: events.append(("forward",))   # noqa: E731

    class C(cb.Callback):
        def on_test_batch_begin(self, batch, logs=None):
            events.append(("test_begin", batch))

        def on_test_batch_end(self, batch, logs=None):
            events.append(("test_end", batch))

        def on_predict_batch_begin(self, batch, logs=None):
            events.append(("predict_begin", batch))

        def on_predict_batch_end(self, batch, logs=None):
            events.append(("predict_end", batch, logs["outputs"].shape))

    model = _model()
    layer = model.layers[0]
    forward = layer.forward
    layer.forward = lambda x, training=False: (calls(None, None), forward(x, training))[1]
    model.evaluate(x, y, batch_size=20, verbose=0, callbacks=[C()])
    assert events == [e for b in range(3) for e in
                      (("test_begin", b), ("forward",), ("test_end", b))]
    events.clear()
    model.predict(x, batch_size=40, verbose=0, callbacks=[C()])
    assert events == [("predict_begin", 0), ("forward",), ("predict_end", 0, (40, 2)),
                      ("predict_begin", 1), ("forward",), ("predict_end", 1, (10, 2))]


def test_stop_training_from_a_callback():
    x, y = _data()
    model = _model()

    def stop(batch, logs):
        if batch == 1:
            model.stop_training = True

    h = model.fit(x, y, epochs=5, batch_size=10, verbose=0,
                  callbacks=[cb.LambdaCallback(on_train_batch_end=stop)])
    assert len(h.history["loss"]) == 1


# ------------------------------------------------------------------ ModelCheckpoint
class SavingStub(StubModel):
    def __init__(self):
        super().__init__()
        self.saved = []

    def save(self, path, **kwargs):
        self.saved.append(("model", path))

    def save_weights(self, path, **kwargs):
        self.saved.append(("weights", path))


def test_model_checkpoint_save_best_only(capsys):
    mc = cb.ModelCheckpoint("m_{epoch:02d}_{val_loss:.2f}.keras", save_best_only=True, verbose=1)
    model = SavingStub()
    mc.set_model(model)
    for epoch, v in enumerate([0.9, 0.8, 0.85, 0.5]):
        mc.on_epoch_end(epoch, {"val_loss": v})
    assert model.saved == [("model", "m_01_0.90.keras"), ("model", "m_02_0.80.keras"),
                           ("model", "m_04_0.50.keras")]
    out = capsys.readouterr().out
    assert "Epoch 2: val_loss improved from 0.90000 to 0.80000, saving model to m_02_0.80.keras" in out
    assert "Epoch 3: val_loss did not improve from 0.80000" in out


def test_model_checkpoint_every_epoch_weights_only_and_mode_max():
    mc = cb.ModelCheckpoint("w.weights.h5", save_weights_only=True)
    model = SavingStub()
    mc.set_model(model)
    for epoch in range(3):
        mc.on_epoch_end(epoch, {"loss": 1.0})
    assert model.saved == [("weights", "w.weights.h5")] * 3
    mc = cb.ModelCheckpoint("best.keras", monitor="val_accuracy", save_best_only=True)
    assert mc.mode == "max"
    model = SavingStub()
    mc.set_model(model)
    for epoch, v in enumerate([0.5, 0.4, 0.7]):
        mc.on_epoch_end(epoch, {"val_accuracy": v})
    assert len(model.saved) == 2


def test_model_checkpoint_file_name_checks():
    with pytest.raises(ValueError, match=".keras"):
        cb.ModelCheckpoint("model.txt")
    with pytest.raises(ValueError, match="weights.h5"):
        cb.ModelCheckpoint("w.keras", save_weights_only=True)
