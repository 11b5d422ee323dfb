"""Float64 gradient checks of every recurrent cell and layer: backward (backpropagation
through time) against central differences (tests/numeric.py, written independently of the
library), for the input, every weight and, where given, the initial states.

L = Σ_k R_k ⊙ output_k for fixed random R_k, so dL/d(output_k) = R_k.
"""
from __future__ import annotations

import numpy as np
import pytest
from numeric import numerical_gradient

from mitbadak import keras
from mitbadak.lab import gradient_check

L = keras.layers
B, T, F = 3, 5, 4


def check(layer, inputs, mask=None, training=False, rng_state=None, rtol=1e-5, atol=1e-7):
    """Backward vs central differences for every input array and every trainable weight of
    `layer` and the layers inside it. `rng_state`: (generator, state) reset before every
    forward, so dropout draws the same masks each time."""
    inputs = inputs if isinstance(inputs, list) else [inputs]
    arg = inputs if len(inputs) > 1 else inputs[0]

    def forward():
        if rng_state is not None:
            rng_state[0].bit_generator.state = rng_state[1]
        if mask is None:
            out = layer.forward(arg, training=training)
        else:
            out = layer.forward(arg, training=training, mask=mask)
        return out if isinstance(out, list) else [out]

    if not layer.built:
        layer(arg)
    outs = forward()
    rng = np.random.default_rng(7)
    rs = [rng.normal(size=o.shape) for o in outs]
    d = layer.backward(rs if len(rs) > 1 else rs[0])
    d = d if isinstance(d, list) else [d]
    grads = [(sub, name, np.array(sub.grads[name])) for sub in layer._flatten_layers()
             for name in sub._trainable_names]

    def loss():
        return sum(float((o * r).sum()) for o, r in zip(forward(), rs))

    for k, (x, dx) in enumerate(zip(inputs, d)):
        np.testing.assert_allclose(dx, numerical_gradient(loss, x), rtol=rtol, atol=atol,
                                   err_msg=f"{layer.name}: input {k}")
    assert grads, "no weights were checked"
    for sub, name, g in grads:
        np.testing.assert_allclose(g, numerical_gradient(loss, sub._weights[name]), rtol=rtol,
                                   atol=atol, err_msg=f"{sub.name}/{name}")
    return outs


def seq(seed=0, shape=(B, T, F)):
    return np.random.default_rng(seed).normal(size=shape)


KINDS = [("SimpleRNN", {}), ("LSTM", {}), ("GRU", {}), ("GRU", {"reset_after": False})]
OPTIONS = [{}, {"return_sequences": True}, {"go_backwards": True},
           {"go_backwards": True, "return_sequences": True}]


@pytest.mark.parametrize("kind,extra", KINDS, ids=["simple_rnn", "lstm", "gru", "gru_v1"])
@pytest.mark.parametrize("options", OPTIONS, ids=["last", "sequences", "backwards",
                                                  "backwards_sequences"])
def test_layer_gradients(kind, extra, options):
    layer = getattr(L, kind)(3, dtype="float64", **extra, **options)
    check(layer, seq())


@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
def test_return_state_and_initial_state_gradients(kind):
    """[output, *final states] all get a gradient; so do the given initial states."""
    layer = getattr(L, kind)(3, return_sequences=True, return_state=True, dtype="float64")
    n_states = 2 if kind == "LSTM" else 1
    states = [np.random.default_rng(9 + k).normal(size=(B, 3)) for k in range(n_states)]
    layer(seq(), initial_state=states)
    outs = check(layer, [seq()] + states)
    assert len(outs) == 1 + n_states


@pytest.mark.parametrize("kind,extra", KINDS, ids=["simple_rnn", "lstm", "gru", "gru_v1"])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_masked_steps(kind, extra, return_sequences):
    """A fixed mask (padding in front, behind, in the middle, a fully masked row)."""
    mask = np.ones((B, T), bool)
    mask[0, :2] = False
    mask[1, 3:] = False
    mask[2, 2] = False
    layer = getattr(L, kind)(3, return_sequences=return_sequences, dtype="float64", **extra)
    check(layer, seq(1), mask=mask)
    mask[1] = False
    check(layer, seq(2), mask=mask)


@pytest.mark.parametrize("kind,extra", KINDS, ids=["simple_rnn", "lstm", "gru", "gru_v1"])
@pytest.mark.parametrize("rates", [(0.3, 0.0), (0.0, 0.4), (0.25, 0.3)],
                         ids=["dropout", "recurrent_dropout", "both"])
def test_dropout_with_a_fixed_mask(kind, extra, rates):
    layer = getattr(L, kind)(3, dropout=rates[0], recurrent_dropout=rates[1], seed=5,
                             return_sequences=True, dtype="float64", **extra)
    x = seq(3)
    layer(x)
    state = (layer.cell._rng, layer.cell._rng.bit_generator.state)
    train = check(layer, x, training=True, rng_state=state)[0]
    assert not np.allclose(train, layer.forward(x, training=False))   # the masks did act


@pytest.mark.parametrize("mode", ["concat", "sum", "mul", "ave", None])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional_every_merge_mode(mode, return_sequences):
    layer = L.Bidirectional(L.LSTM(3, return_sequences=return_sequences, dtype="float64"),
                            merge_mode=mode, dtype="float64")
    check(layer, seq(4))
    mask = np.ones((B, T), bool)
    mask[0, :3] = False
    check(layer, seq(5), mask=mask)


def test_bidirectional_gru_with_states():
    layer = L.Bidirectional(L.GRU(2, return_state=True, dtype="float64"), dtype="float64")
    outs = check(layer, seq(6))
    assert [o.shape for o in outs] == [(B, 4), (B, 2), (B, 2)]


def test_stacked_rnn_layer_of_cells():
    layer = L.RNN(L.LSTMCell(3, dtype="float64"), return_sequences=True, dtype="float64")
    check(layer, seq(7))


def test_time_distributed_dense():
    layer = L.TimeDistributed(L.Dense(2, activation="tanh", dtype="float64"), dtype="float64")
    check(layer, seq(8))


def test_masking_layer():
    x = seq(9)
    x[0, 1] = 0.0
    layer = L.Masking(dtype="float64")
    layer(x)
    rs = np.random.default_rng(1).normal(size=x.shape)
    layer.forward(x)
    dx = layer.backward(rs)
    np.testing.assert_allclose(dx[0, 1], 0.0)
    np.testing.assert_allclose(dx[1], rs[1])


def test_embedding_gradient_is_a_scatter_add():
    """An id used twice gets both rows of dy: checked by central differences."""
    layer = L.Embedding(6, 3, dtype="float64")
    ids = np.array([[1, 2, 1, 5], [0, 5, 5, 5]])
    layer(ids)
    r = np.random.default_rng(2).normal(size=(2, 4, 3))
    layer.forward(ids)
    assert layer.backward(r) is None
    numeric = numerical_gradient(lambda: float((layer.forward(ids) * r).sum()),
                                 layer._weights["embeddings"])
    np.testing.assert_allclose(layer.grads["embeddings"], numeric, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(layer.grads["embeddings"][5], r[0, 3] + r[1, 1:].sum(axis=0))


def test_whole_model_with_embedding_mask_zero():
    """lab.gradient_check through the model walk: masks from the Embedding reach the RNNs."""
    ids = np.random.default_rng(3).integers(1, 9, size=(4, 6))
    ids[0, :2] = 0
    ids[2, 4:] = 0
    model = keras.Sequential([keras.Input((6,)), L.Embedding(9, 3, mask_zero=True),
                              L.LSTM(3, return_sequences=True), L.GRU(2),
                              L.Dense(1, activation="sigmoid")])
    y = np.array([[0.0], [1.0], [1.0], [0.0]])
    # The recurrent kernels' gradients here are ~1e-4: central differences of the mean loss
    # resolve them to ~1e-6 relative (max |error| ~1e-10), hence tol 1e-5.
    result = gradient_check(model, ids, y, loss="binary_crossentropy", check_input=False,
                            tol=1e-5, verbose=0)
    assert result.ok, str(result)


# ---------------------------------------------------------------------- forward by formula
def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_cells_one_step_by_their_formulas():
    rng = np.random.default_rng(4)
    x, h, c = rng.normal(size=(2, F)), rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    simple = L.SimpleRNNCell(3, dtype="float64")
    out, _ = simple(x, [h])
    k, rk, b = simple.get_weights()
    np.testing.assert_allclose(out, np.tanh(x @ k + h @ rk + b), rtol=1e-12)

    lstm = L.LSTMCell(3, dtype="float64")
    lstm(x, [h, c])
    lstm.set_weights([rng.normal(size=w.shape) for w in lstm.get_weights()])
    out, (h1, c1) = lstm(x, [h, c])
    k, rk, b = lstm.get_weights()
    z = x @ k + h @ rk + b
    i, f, g, o = sigmoid(z[:, :3]), sigmoid(z[:, 3:6]), np.tanh(z[:, 6:9]), sigmoid(z[:, 9:])
    c_new = f * c + i * g
    np.testing.assert_allclose(c1, c_new, rtol=1e-12)
    np.testing.assert_allclose(h1, o * np.tanh(c_new), rtol=1e-12)
    np.testing.assert_allclose(out, h1)

    for reset_after in (True, False):
        gru = L.GRUCell(3, reset_after=reset_after, dtype="float64")
        gru(x, [h])
        gru.set_weights([rng.normal(size=w.shape) for w in gru.get_weights()])
        out, _ = gru(x, [h])
        k, rk, b = gru.get_weights()
        bx, bh = (b[0], b[1]) if reset_after else (b, np.zeros(9))
        xz = x @ k + bx
        m = h @ rk + bh
        zg, r = sigmoid(xz[:, :3] + m[:, :3]), sigmoid(xz[:, 3:6] + m[:, 3:6])
        if reset_after:
            hh = np.tanh(xz[:, 6:] + r * m[:, 6:])
        else:
            hh = np.tanh(xz[:, 6:] + (r * h) @ rk[:, 6:])
        np.testing.assert_allclose(out, zg * h + (1 - zg) * hh, rtol=1e-12)


def test_masked_step_keeps_the_state():
    """A masked step repeats the previous output and state (Keras's rule)."""
    x = seq(10, (2, 4, F))
    mask = np.array([[True, False, True, True], [True, True, True, False]])
    layer = L.LSTM(3, return_sequences=True, return_state=True, dtype="float64")
    layer(x)
    y, h, c = layer.forward(x, mask=mask)
    np.testing.assert_allclose(y[0, 1], y[0, 0])
    np.testing.assert_allclose(y[1, 3], y[1, 2])
    np.testing.assert_allclose(h[1], y[1, 2])
    assert not np.allclose(y[0, 2], y[0, 1])
