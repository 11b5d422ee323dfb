"""혼자 공부하는 머신러닝+딥러닝 9-2 and 9-3, run as written, on an IMDB-shaped data set the
test makes (Keras's imdb.npz format, read by imdb.load_data from an offline folder).

The book's steps: imdb.load_data(num_words=...), a 80/20 split (the book uses scikit-learn's
train_test_split; here a plain slice, as scikit-learn is no dependency), pad_sequences
(maxlen=100), the models (SimpleRNN on one-hot input, Embedding + SimpleRNN, LSTM, LSTM with
dropout, two stacked LSTMs, GRU), RMSprop(learning_rate=1e-4), batch 64, ModelCheckpoint(
'best-...-model.h5', save_best_only=True), EarlyStopping(patience=3,
restore_best_weights=True), then load_model and evaluate on the test set.

The reviews: word ranks drawn from a Zipf law, length 40-160; a quarter of each review's
words are sentiment words (ranks 20-22 in positive reviews, 30-32 in negative ones), so the
label can be read from the words, as in real reviews, only more plainly, and the book's
small learning rate shows progress within a few hundred steps.
"""
from __future__ import annotations

import numpy as np
import pytest

from mitbadak import keras
from mitbadak.datasets import imdb, set_data_dir
from mitbadak.utils.data_utils import hash_file

pytest.importorskip("h5py", reason="the book's checkpoints are .h5 files")

from mitbadak.keras.preprocessing.sequence import pad_sequences  # noqa: E402  (the book's)


def reviews(rng, n):
    xs, ys = [], rng.integers(0, 2, size=n)
    for y in ys:
        length = int(rng.integers(40, 160))
        words = rng.zipf(1.3, size=length) % 900 + 1
        k = length // 4
        at = rng.choice(length, size=k, replace=False)
        words[at] = rng.choice([20, 21, 22] if y else [30, 31, 32], size=k)
        xs.append([int(w) for w in words])
    return xs, ys


@pytest.fixture
def imdb_like(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    folder = tmp_path / "datasets" / "imdb"
    folder.mkdir(parents=True)
    arrays = {}
    for part, n in (("train", 2000), ("test", 500)):
        xs, ys = reviews(rng, n)
        obj = np.empty(n, dtype=object)
        obj[:] = xs
        arrays[f"x_{part}"], arrays[f"y_{part}"] = obj, ys
    np.savez(folder / "imdb.npz", **arrays)
    monkeypatch.setattr(imdb, "SHA256", hash_file(folder / "imdb.npz"))
    set_data_dir(tmp_path / "datasets")
    monkeypatch.chdir(tmp_path)                 # the checkpoints land here
    yield
    set_data_dir(None)


def book_data(num_words):
    (train_input, train_target), (test_input, test_target) = \
        keras.datasets.imdb.load_data(num_words=num_words)
    cut = int(len(train_input) * 0.8)
    train_input, val_input = train_input[:cut], train_input[cut:]
    train_target, val_target = train_target[:cut], train_target[cut:]
    train_seq = pad_sequences(train_input, maxlen=100)
    val_seq = pad_sequences(val_input, maxlen=100)
    test_seq = pad_sequences(test_input, maxlen=100)
    return train_seq, train_target, val_seq, val_target, test_seq, test_target


def book_model(kind):
    model = keras.Sequential()
    if kind == "simplernn":                                   # 9-2, one-hot input
        model.add(keras.layers.SimpleRNN(8, input_shape=(100, 200)))
    elif kind == "embedding":                                 # 9-2, Embedding
        model.add(keras.layers.Embedding(200, 16, input_length=100))
        model.add(keras.layers.SimpleRNN(8))
    else:                                                     # 9-3
        model.add(keras.layers.Embedding(500, 16, input_length=100))
        if kind == "lstm":
            model.add(keras.layers.LSTM(8))
        elif kind == "dropout":
            model.add(keras.layers.LSTM(8, dropout=0.3))
        elif kind == "2rnn":
            model.add(keras.layers.LSTM(8, dropout=0.3, return_sequences=True))
            model.add(keras.layers.LSTM(8, dropout=0.3))
        elif kind == "gru":
            model.add(keras.layers.GRU(8))
    model.add(keras.layers.Dense(1, activation="sigmoid"))
    return model


def run_book(kind, epochs):
    num_words = 200 if kind in ("simplernn", "embedding") else 500
    train_seq, train_target, val_seq, val_target, test_seq, test_target = book_data(num_words)
    keras.utils.set_random_seed(42)
    model = book_model(kind)
    if kind == "simplernn":
        train_seq = keras.utils.to_categorical(train_seq)
        val_seq = keras.utils.to_categorical(val_seq)
        test_seq = keras.utils.to_categorical(test_seq)
        assert train_seq.shape == (1600, 100, 200)
    rmsprop = keras.optimizers.RMSprop(learning_rate=1e-4)
    model.compile(optimizer=rmsprop, loss="binary_crossentropy", metrics=["accuracy"])
    checkpoint_cb = keras.callbacks.ModelCheckpoint(f"best-{kind}-model.h5",
                                                    save_best_only=True)
    early_stopping_cb = keras.callbacks.EarlyStopping(patience=3, restore_best_weights=True)
    history = model.fit(train_seq, train_target, epochs=epochs, batch_size=64,
                        validation_data=(val_seq, val_target),
                        callbacks=[checkpoint_cb, early_stopping_cb], verbose=0)
    best = keras.models.load_model(f"best-{kind}-model.h5")
    loss, accuracy = best.evaluate(test_seq, test_target, verbose=0)
    return history.history, accuracy


# The fast run: 20 epochs (the book allows 100 with early stopping; see the slow test).
@pytest.mark.parametrize("kind", ["simplernn", "embedding", "lstm", "dropout", "2rnn", "gru"])
def test_book_models_learn(imdb_like, kind):
    history, test_accuracy = run_book(kind, epochs=20)
    val = history["val_accuracy"]
    assert max(val) >= 0.7, (kind, val)                        # chance is 0.5
    assert max(val) > val[0] + 0.05 or val[0] >= 0.9, (kind, val)   # and it rose
    assert test_accuracy >= 0.65, (kind, test_accuracy)         # the reloaded checkpoint


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["simplernn", "embedding", "lstm", "dropout", "2rnn", "gru"])
def test_book_models_as_written_100_epochs(imdb_like, kind):
    history, test_accuracy = run_book(kind, epochs=100)
    assert max(history["val_accuracy"]) >= 0.8 and test_accuracy >= 0.75, (kind, history)
