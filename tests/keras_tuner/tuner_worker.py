"""One worker of a distributed search: the same file is started several times on one storage.

The storage comes from MITBADAK_TUNER_STORAGE (unset: the SQLite file in TUNER_DIR/dist), the
heartbeat timings from MITBADAK_TUNER_HEARTBEAT_INTERVAL / _GRACE_PERIOD. The test asks one
worker (TUNER_HOLD_FD set) to write a byte to that pipe during its first epoch and then wait
there until the test kills it. Each worker ends by printing its view of the best trial.
"""
import faulthandler
import json
import os
import threading

import numpy as np

from mitbadak import keras, keras_tuner

if os.environ.get("TUNER_DEBUG_AFTER"):      # a hung worker prints where it is
    faulthandler.dump_traceback_later(float(os.environ["TUNER_DEBUG_AFTER"]), exit=True)
MAX_TRIALS = int(os.environ.get("TUNER_MAX_TRIALS", "6"))


class HoldMidTrial(keras.callbacks.Callback):
    """Signal the test through the pipe, then wait for SIGKILL in the middle of a trial."""

    def on_epoch_end(self, epoch, logs=None):
        fd = os.environ.get("TUNER_HOLD_FD")
        if fd:
            os.write(int(fd), b"mid-trial\n")
            threading.Event().wait()          # never set: the test kills this process


def build_model(hp):
    model = keras.Sequential([
        keras.layers.Dense(hp.Int("units", 4, 32, step=4),
                           activation=hp.Choice("activation", ["relu", "tanh"]),
                           input_shape=(8,)),
        keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


rng = np.random.default_rng(0)
x = rng.normal(size=(96, 8)).astype("float32")
y = (x[:, 0] > 0).astype("int64") + (x[:, 1] > 0.5)
tuner = keras_tuner.RandomSearch(build_model, objective="val_accuracy", max_trials=MAX_TRIALS,
                                 seed=1, directory=os.environ["TUNER_DIR"], project_name="dist")
tuner.search(x[:64], y[:64], epochs=1, validation_data=(x[64:], y[64:]), verbose=0,
             callbacks=[HoldMidTrial()])
best = tuner.oracle.get_best_trials(1)[0]
print("BEST " + json.dumps({"trial": best.trial_id, "score": best.score,
                            "values": best.hyperparameters.values}), flush=True)
