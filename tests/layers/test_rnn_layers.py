"""Recurrent layers as a Keras user meets them: shapes, Keras's arguments and configs, weight
layout and order, masks through a model, errors with their fixes, and learning."""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from mitbadak import keras

L = keras.layers
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "keras" / "recurrent"


def x3(shape=(2, 5, 4), seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


# ---------------------------------------------------------------------- shapes and weights
@pytest.mark.parametrize("kind,gates", [("SimpleRNN", 1), ("LSTM", 4), ("GRU", 3)])
def test_shapes_weights_and_keras_layout(kind, gates):
    layer = getattr(L, kind)(3)
    assert layer(x3()).shape == (2, 3)
    names = [w.name for w in layer.weights]
    assert names == ["kernel", "recurrent_kernel", "bias"]
    shapes = [w.shape for w in layer.get_weights()]
    bias = (2, 3 * gates) if kind == "GRU" else (3 * gates,)
    assert shapes == [(4, 3 * gates), (3, 3 * gates), bias]
    assert layer.count_params() == 4 * 3 * gates + 3 * 3 * gates + int(np.prod(bias))
    seq = getattr(L, kind)(3, return_sequences=True, return_state=True)
    out = seq(x3())
    assert [o.shape for o in out] == [(2, 5, 3)] + [(2, 3)] * (2 if kind == "LSTM" else 1)


def test_lstm_forget_bias_starts_at_one_and_keras_defaults():
    lstm = L.LSTM(4)
    lstm(x3())
    bias = lstm.get_weights()[2]
    np.testing.assert_array_equal(bias, [0] * 4 + [1] * 4 + [0] * 8)
    assert lstm.units == 4 and lstm.dropout == 0.0 and lstm.recurrent_dropout == 0.0
    assert lstm.activation is keras.activations.tanh
    assert lstm.recurrent_activation is keras.activations.sigmoid
    rk = lstm.get_weights()[1]
    np.testing.assert_allclose(rk @ rk.T, np.eye(4), atol=1e-5)   # orthogonal rows
    assert L.LSTM(4, unit_forget_bias=False).cell.unit_forget_bias is False
    assert L.GRU(2, reset_after=False).cell.bias_shape() == (6,)


def test_trainable_false_freezes_the_cell():
    lstm = L.LSTM(2)
    lstm(x3())
    lstm.trainable = False
    assert lstm.trainable_weights == [] and len(lstm.non_trainable_weights) == 3
    assert lstm.cell.trainable is False


def test_bidirectional_weights_forward_first_and_names():
    bi = L.Bidirectional(L.LSTM(3, name="enc"))
    assert bi(x3()).shape == (2, 6)
    assert bi.forward_layer.name == "forward_enc" and bi.backward_layer.name == "backward_enc"
    assert bi.backward_layer.go_backwards is True
    assert bi.count_params() == 2 * (4 * 12 + 3 * 12 + 12)
    assert [w.path for w in bi.weights][:1] == ["lstm_cell/kernel"]
    assert L.Bidirectional(L.GRU(2), merge_mode="sum")(x3()).shape == (2, 2)
    assert [o.shape for o in L.Bidirectional(L.GRU(2, return_sequences=True),
                                             merge_mode=None)(x3())] == [(2, 5, 2)] * 2


def test_time_distributed_dense():
    td = L.TimeDistributed(L.Dense(7))
    y = td(x3())
    assert y.shape == (2, 5, 7)
    w, b = td.get_weights()
    np.testing.assert_allclose(y[1, 3], x3()[1, 3] @ w + b, rtol=1e-5)


def test_rnn_of_a_cell_equals_the_layer():
    cell = L.GRUCell(3)
    rnn = L.RNN(cell, return_sequences=True)
    gru = L.GRU(3, return_sequences=True)
    x = x3()
    rnn(x)
    gru(x)
    gru.set_weights(rnn.get_weights())
    np.testing.assert_allclose(rnn(x), gru(x), rtol=1e-6)


# ---------------------------------------------------------------------- configs
def k3_layer_config(model, class_name):
    with zipfile.ZipFile(FIXTURES / f"k3_{model}.keras") as z:
        config = json.loads(z.read("config.json"))
    return next(l["config"] for l in config["config"]["layers"]
                if l["class_name"] == class_name)


@pytest.mark.parametrize("model,class_name,layer", [
    ("lstm", "LSTM", lambda: L.LSTM(4)), ("gru", "GRU", lambda: L.GRU(4)),
    ("simple_rnn", "SimpleRNN", lambda: L.SimpleRNN(4)),
    ("bidir_concat", "Bidirectional", lambda: L.Bidirectional(L.LSTM(3))),
    ("masking", "TimeDistributed", lambda: L.TimeDistributed(L.Dense(2))),
    ("masking", "Masking", lambda: L.Masking()),
    ("embedding_mask", "Embedding", lambda: L.Embedding(20, 4, mask_zero=True))])
def test_configs_have_keras3s_keys(model, class_name, layer):
    """The keys Keras 3.15 writes for the layer are exactly the keys we write (in Keras's
    order), apart from those Keras 3 writes that have no meaning here."""
    from mitbadak.saving.serialization import serialize_layer
    ours = serialize_layer(layer())["config"]
    theirs = k3_layer_config(model, class_name)
    extra = {"quantization_config"}           # Keras 3's Embedding quantization (none here)
    assert [k for k in theirs if k not in extra] == list(ours)


def test_config_round_trip_rebuilds_the_same_layer():
    for layer in [L.LSTM(5, dropout=0.2, recurrent_dropout=0.1, go_backwards=True,
                         return_sequences=True, kernel_regularizer="l2", seed=3),
                  L.GRU(2, reset_after=False, activation="relu"), L.SimpleRNN(1, use_bias=False),
                  L.Bidirectional(L.GRU(2), merge_mode="mul"), L.RNN(L.LSTMCell(3)),
                  L.Embedding(9, 2, mask_zero=True), L.Masking(-1.0),
                  L.TimeDistributed(L.Dense(3))]:
        from mitbadak.saving.serialization import serialize_layer
        clone = type(layer).from_config(layer.get_config())
        assert serialize_layer(clone) == serialize_layer(layer), type(layer).__name__


def test_input_length_declares_the_input_shape():
    model = keras.Sequential([L.Embedding(500, 16, input_length=100), L.LSTM(8),
                              L.Dense(1, activation="sigmoid")])
    assert model.output_shape == (None, 1) and model.count_params() == 8000 + 800 + 9


# ---------------------------------------------------------------------- masks in a model
def test_mask_zero_padding_does_not_change_the_result():
    """A review padded in front (pad_sequences' default) ends in the same state as the
    unpadded one: masked steps keep the state."""
    emb = L.Embedding(10, 3, mask_zero=True)
    model = keras.Sequential([keras.Input((6,)), emb, L.LSTM(4), L.Dense(1)])
    short = keras.Sequential([keras.Input((3,)), emb, model.layers[1], model.layers[2]])
    padded = np.array([[0, 0, 0, 4, 5, 6]])
    np.testing.assert_allclose(model.predict(padded, verbose=0),
                               short.predict(np.array([[4, 5, 6]]), verbose=0), rtol=1e-5)


def test_masking_layer_and_eager_mask_argument():
    x = x3((2, 5, 4))
    x[0, :2] = 0.0
    masked = L.Masking()(x)
    mask = L.Masking().compute_mask(x)
    assert mask.tolist()[0] == [False, False, True, True, True]
    rnn = L.SimpleRNN(2)
    a = rnn(masked, mask=mask)
    b = rnn(x[:, 2:])
    np.testing.assert_allclose(a[0], b[0], rtol=1e-5)


def test_return_sequences_false_drops_the_mask():
    model_in = keras.Input((4,))
    e = L.Embedding(5, 2, mask_zero=True)
    lstm = L.LSTM(2, return_sequences=True)
    last = L.LSTM(2)
    ids = np.array([[0, 1, 2, 3]])
    assert e.compute_mask(ids).tolist() == [[False, True, True, True]]
    assert lstm.compute_mask(None, np.array([[True]])) is not None
    assert last.compute_mask(None, np.array([[True]])) is None
    assert keras.Model(model_in, last(lstm(e(model_in)))).predict(ids, verbose=0).shape == (1, 2)


# ---------------------------------------------------------------------- errors
def test_a_2d_float_input_to_a_recurrent_layer():
    model = keras.Sequential([keras.Input((100,)), L.SimpleRNN(8)]) if False else None
    with pytest.raises(ValueError, match=r"expects a 3-D input.*\(None, 100\).*Embedding"):
        keras.Sequential([keras.Input((100,)), L.SimpleRNN(8, name="rnn")])
    assert model is None


def test_token_ids_beyond_input_dim():
    model = keras.Sequential([keras.Input((5,)), L.Embedding(10, 2, name="emb"), L.LSTM(2)])
    with pytest.raises(ValueError, match=r"'emb'.*input_dim=10.*\(2, 5\).*id 12.*num_words=10"):
        model.predict(np.array([[1, 2, 3, 4, 5], [1, 12, 0, 0, 0]]), verbose=0)


def test_ragged_lists_passed_to_fit():
    model = keras.Sequential([keras.Input((3,)), L.Embedding(10, 2), L.SimpleRNN(2),
                              L.Dense(1)])
    model.compile("rmsprop", "mse")
    x = np.empty(3, dtype=object)
    x[0], x[1], x[2] = [1, 2], [1, 2, 3], [4]
    with pytest.raises(ValueError, match=r"3 sequences of different lengths.*pad_sequences"):
        model.fit(x, np.zeros(3), verbose=0)


def test_one_hot_of_a_huge_vocabulary(monkeypatch):
    import mitbadak.utils as utils
    monkeypatch.setattr(utils, "_available_memory", lambda: 1 << 30)
    ids = np.zeros((20000, 100), dtype=int)
    with pytest.raises(MemoryError, match=r"\(20000, 100, 10000\).*Embedding"):
        keras.utils.to_categorical(ids, 10000)


def test_other_errors():
    with pytest.raises(ValueError, match="stateful=True is not supported"):
        L.LSTM(2, stateful=True)
    with pytest.raises(ValueError, match="merge_mode"):
        L.Bidirectional(L.LSTM(2), merge_mode="max")
    with pytest.raises(ValueError, match="recurrent layer"):
        L.Bidirectional(L.Dense(2))
    with pytest.raises(ValueError, match="units"):
        L.GRU(0)
    with pytest.raises(TypeError, match="list of cells"):
        L.RNN([L.LSTMCell(2), L.LSTMCell(2)])
    with pytest.raises(TypeError, match=r"cell\(x_t, states\)"):
        L.LSTMCell(2)(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="initial state"):
        L.LSTM(2)(x3(), initial_state=[np.zeros((2, 2))])


# ---------------------------------------------------------------------- learning
@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
def test_learns_whether_a_word_occurs(kind):
    """Label 1 when token 7 occurs anywhere in the (left-padded) sequence."""
    rng = np.random.default_rng(0)
    x = rng.integers(1, 7, size=(256, 8))
    y = rng.integers(0, 2, size=256)
    x[y == 1, rng.integers(0, 8, size=int(y.sum()))] = 7
    x[:, :2] *= rng.integers(0, 2, size=(256, 2))          # some padding zeros in front
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8,)), L.Embedding(8, 8, mask_zero=True),
                              getattr(L, kind)(8), L.Dense(1, activation="sigmoid")])
    model.compile(keras.optimizers.Adam(0.02), "binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=15, batch_size=32, verbose=0)
    assert history.history["accuracy"][-1] > 0.9


def test_cell_regularizers_and_constraints_reach_training():
    x = x3((16, 5, 3))
    y = np.zeros((16, 1))
    model = keras.Sequential([
        keras.Input((5, 3)),
        L.LSTM(4, kernel_regularizer=keras.regularizers.L2(0.1),
               recurrent_constraint=keras.constraints.MaxNorm(0.5)),
        L.Dense(1)])
    model.compile("sgd", "mse")
    kernel = model.layers[0].get_weights()[0]
    mse = float(((model.predict(x, verbose=0) - y) ** 2).mean())
    assert model.evaluate(x, y, verbose=0) == pytest.approx(mse + 0.1 * (kernel ** 2).sum(),
                                                            rel=1e-5)
    model.fit(x, y, epochs=1, verbose=0)
    recurrent = model.layers[0].get_weights()[1]
    assert np.sqrt((recurrent ** 2).sum(axis=0)).max() <= 0.5 + 1e-6
