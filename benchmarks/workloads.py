"""Workload definitions and the Keras-API code shared by mitbadak and Keras.

``build_and_fit(keras, ...)`` (and ``predict_throughput`` / ``xor_step_times``) is called
with ``tensorflow.keras`` or ``mitbadak.keras``: since mitbadak's public API is
Keras's, the very same lines of code run on both.
"""
from __future__ import annotations

import time

import numpy as np

# kind: 'fit' = model.fit timed per epoch; 'predict' = model.predict throughput;
# 'step' = model.train_on_batch latency.  layout: how the MNIST arrays are shaped.
WORKLOADS = {
    "mlp_sigmoid_sgd":   dict(kind="fit", layout="flat", batch_size=32, epochs=5),
    "mlp_functional":    dict(kind="fit", layout="flat", batch_size=32, epochs=5),
    "mlp_relu_adam":     dict(kind="fit", layout="image2d", batch_size=32, epochs=5),
    "mlp_4x512_dropout": dict(kind="fit", layout="flat", batch_size=100, epochs=5),
    "cnn_b128":          dict(kind="fit", layout="image3d", batch_size=128, epochs=2, cnn=True),
    "cnn_b32":           dict(kind="fit", layout="image3d", batch_size=32, epochs=2, cnn=True),
    "cnn_predict":       dict(kind="predict", layout="image3d", batch_size=32, cnn=True),
    # naive=False: the naive_numpy peer implements only the notes' CNN
    "cnn_book_b32":      dict(kind="fit", layout="image3d", batch_size=32, epochs=2, cnn=True,
                              naive=False),
    "xor_step":          dict(kind="step"),
    # 혼공머신 9-2/9-3 on IMDB-shaped reviews (benchmarks/text_data.py): batch 64, RMSprop 1e-4
    "imdb_lstm":         dict(kind="fit", layout="imdb", batch_size=64, epochs=10, text=True,
                              num_words=500),
    "imdb_gru":          dict(kind="fit", layout="imdb", batch_size=64, epochs=10, text=True,
                              num_words=500),
    "imdb_simplernn_onehot": dict(kind="fit", layout="imdb_onehot", batch_size=64, epochs=10,
                                  text=True, num_words=200),
    # Issue 15's image workloads (benchmarks/images.py).
    "cifar_cnn":         dict(kind="fit", layout="cifar", batch_size=64, epochs=2, cnn=True),
    "folder_cnn":        dict(kind="folder", batch_size=32, epochs=2),
}

# Sizes used by a full run and by --quick (subsets are the FIRST n of the 48,000 /
# 12,000 / 10,000 arrays).
FULL = dict(n_train=None, n_val=None, mlp_epochs=None, cnn_epochs=None,
            text_n_train=20_000, text_n_val=5_000,
            predict_n=None, predict_repeats=3, xor_warmup=100, xor_steps=2000,
            naive_steps=30, naive_val_batches=20, cifar_n=(10_000, 2_000),
            folder_n=(320, 64))
QUICK = dict(n_train=12_000, n_val=3_000, mlp_epochs=2, cnn_epochs=2,
             cnn_n_train=4_000, cnn_n_val=1_000, text_n_train=4_000, text_n_val=1_000,
             predict_n=2_000, predict_repeats=1, xor_warmup=20, xor_steps=300,
             naive_steps=8, naive_val_batches=4, cifar_n=(2_000, 500), folder_n=(96, 32))

XOR_X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=np.float32)
XOR_Y = np.array([[0], [1], [1], [0]], dtype=np.float32)


def _inp(keras, shape):
    return keras.Input(shape=shape)


def build_model(keras, workload: str):
    """The architectures, written once in Keras's API."""
    L = keras.layers
    if workload == "mlp_sigmoid_sgd":
        model = keras.Sequential([
            _inp(keras, (784,)),
            L.Dense(100, activation="sigmoid"),
            L.Dense(10, activation="softmax"),
        ])
        optimizer = "sgd"
    elif workload == "mlp_functional":
        # The same network as mlp_sigmoid_sgd, written with the functional API.
        inputs = _inp(keras, (784,))
        hidden = L.Dense(100, activation="sigmoid")(inputs)
        outputs = L.Dense(10, activation="softmax")(hidden)
        model = keras.Model(inputs, outputs)
        optimizer = "sgd"
    elif workload == "mlp_relu_adam":
        model = keras.Sequential([
            _inp(keras, (28, 28)),
            L.Flatten(),
            L.Dense(100, activation="relu"),
            L.Dense(10, activation="softmax"),
        ])
        optimizer = "adam"
    elif workload == "mlp_4x512_dropout":
        layers = [_inp(keras, (784,))]
        for _ in range(4):
            layers += [L.Dense(512, activation="relu", kernel_initializer="glorot_normal"),
                       L.Dropout(0.3)]
        layers.append(L.Dense(10, activation="softmax"))
        model = keras.Sequential(layers)
        optimizer = "adam"
    elif workload == "cifar_cnn":
        from .images import cifar_model
        return cifar_model(keras)
    elif workload in ("cnn_b128", "cnn_b32", "cnn_predict"):
        model = keras.Sequential([
            _inp(keras, (28, 28, 1)),
            L.Conv2D(32, (5, 5), padding="same", activation="relu"),
            L.MaxPool2D(pool_size=(2, 2), strides=(2, 2)),
            L.Conv2D(64, (2, 2), activation="relu", padding="same"),
            L.MaxPool2D(pool_size=(2, 2)),
            L.Dropout(0.25),
            L.Flatten(),
            L.Dense(1000, activation="relu"),
            L.Dense(10, activation="softmax"),
        ])
        optimizer = "adam"
    elif workload in ("imdb_lstm", "imdb_gru"):          # 혼공머신 9-3
        recurrent = L.LSTM(8) if workload == "imdb_lstm" else L.GRU(8)
        model = keras.Sequential([_inp(keras, (100,)), L.Embedding(500, 16), recurrent,
                                  L.Dense(1, activation="sigmoid")])
    elif workload == "imdb_simplernn_onehot":             # 혼공머신 9-2, one-hot input
        model = keras.Sequential([_inp(keras, (100, 200)), L.SimpleRNN(8),
                                  L.Dense(1, activation="sigmoid")])
    elif workload == "cnn_book_b32":
        # The learners' own textbook, 혼자 공부하는 머신러닝+딥러닝 8-2 (there on Fashion MNIST,
        # which has MNIST's shapes): 3x3 convolutions, Dense(100), Dropout(0.4), batch 32.
        model = keras.Sequential([
            _inp(keras, (28, 28, 1)),
            L.Conv2D(32, kernel_size=3, activation="relu", padding="same"),
            L.MaxPooling2D(2),
            L.Conv2D(64, kernel_size=(3, 3), activation="relu", padding="same"),
            L.MaxPooling2D(2),
            L.Flatten(),
            L.Dense(100, activation="relu"),
            L.Dropout(0.4),
            L.Dense(10, activation="softmax"),
        ])
        optimizer = "adam"
    else:
        raise KeyError(workload)
    if workload.startswith("imdb_"):
        model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=1e-4),
                      loss="binary_crossentropy", metrics=["accuracy"])
        return model
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def make_epoch_timer(keras):
    """A Keras callback that times each epoch from on_epoch_begin to on_epoch_end.

    In Keras's fit, on_epoch_end is called after the epoch's validation pass (its logs
    carry val_* entries), so the time covers training + validation of that epoch.
    """

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.times = []
            self.epoch_logs = []
            self._t0 = None

        def on_epoch_begin(self, epoch, logs=None):
            self._t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.perf_counter() - self._t0)
            self.epoch_logs.append({k: float(v) for k, v in dict(logs or {}).items()})

    return EpochTimer()


def build_and_fit(keras, workload, x_tr, y_tr, x_val, y_val, *, epochs, batch_size, seed=0):
    keras.utils.set_random_seed(seed)
    model = build_model(keras, workload)
    timer = make_epoch_timer(keras)
    history = model.fit(x_tr, y_tr, batch_size=batch_size, epochs=epochs,
                        validation_data=(x_val, y_val), callbacks=[timer], verbose=0)
    val_acc = [float(v) for v in history.history.get("val_accuracy", [])]
    if not val_acc:
        val_acc = [lg.get("val_accuracy", float("nan")) for lg in timer.epoch_logs]
    return dict(
        epoch_times=timer.times,
        val_acc=val_acc,
        train_loss=[float(v) for v in history.history.get("loss", [])],
        timer_includes_validation=bool(timer.epoch_logs)
        and all("val_accuracy" in lg or "val_loss" in lg for lg in timer.epoch_logs),
        n_params=int(model.count_params()) if hasattr(model, "count_params") else None,
    )


def predict_throughput(keras, x_test, *, batch_size, repeats, seed=0):
    """model.predict on the test images with fresh weights (throughput does not depend on
    them). One small warm-up call first (graph tracing etc.), then ``repeats`` timed
    passes over all of x_test; returns the seconds of each pass."""
    keras.utils.set_random_seed(seed)
    model = build_model(keras, "cnn_predict")
    model.predict(x_test[:10 * batch_size], batch_size=batch_size, verbose=0)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = model.predict(x_test, batch_size=batch_size, verbose=0)
        times.append(time.perf_counter() - t0)
    assert np.asarray(out).shape == (len(x_test), 10)
    return dict(pass_times=times, n_images=len(x_test))


def xor_step_times(keras, *, warmup, steps, seed=0):
    """Latency of one model.train_on_batch(x, y) on the 4-sample XOR batch (3-6-1 net)."""
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([
        _inp(keras, (3,)),
        keras.layers.Dense(6, activation="sigmoid"),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.5),
                  loss="binary_crossentropy")
    x, y = XOR_X, XOR_Y
    for _ in range(warmup):
        model.train_on_batch(x, y)
    times = np.empty(steps)
    pc = time.perf_counter
    for i in range(steps):
        t0 = pc()
        model.train_on_batch(x, y)
        times[i] = pc() - t0
    loss = model.train_on_batch(x, y)
    loss = float(np.ravel(np.asarray(loss, dtype=np.float64))[0]) if loss is not None else None
    return dict(step_times=times.tolist(), final_loss=loss)
