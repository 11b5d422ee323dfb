"""lab.time_step_gradients: ‖dL/dh_t‖ per time step, checked against the linear RNN's
closed form dL/dh_t = dL/dh_T·(W_hᵀ)^(T−t)."""
from __future__ import annotations

import numpy as np
import pytest

from mitbadak import keras, lab

T, F, U, B = 7, 3, 4, 5


def linear_rnn(go_backwards=False):
    model = keras.Sequential([keras.Input((T, F)),
                              keras.layers.SimpleRNN(U, activation="linear", use_bias=False,
                                                     go_backwards=go_backwards)])
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(size=(F, U)), rng.normal(size=(U, U)) * 0.6])
    return model


def expected(model):
    w_h = model.get_weights()[1].astype(np.float64)
    d = np.ones(U) / (B * U)                   # L = mean of the B×U outputs: dL/dh_T
    norms = []
    for _ in range(T):
        norms.append(np.linalg.norm(d))
        d = d @ w_h.T                          # one step back: dL/dh_{t-1} = dL/dh_t·W_hᵀ
    return np.array(norms[::-1])               # input order: t = 1 .. T


def test_linear_rnn_closed_form():
    model = linear_rnn()
    x = np.random.default_rng(1).normal(size=(B, T, F))
    g = lab.time_step_gradients(model, x)
    assert g.layer == "simple_rnn" and g.per_sample.shape == (B, T)
    np.testing.assert_allclose(g.norms, expected(model), rtol=1e-4)
    assert g.ratio == pytest.approx(g.norms[0] / g.norms[-1])


def test_go_backwards_is_reported_in_input_order():
    model = linear_rnn(go_backwards=True)
    x = np.random.default_rng(1).normal(size=(B, T, F))
    g = lab.time_step_gradients(model, x)
    # The layer reads step T first, so the loss sits nearest input step 1.
    np.testing.assert_allclose(g.norms, expected(model)[::-1], rtol=1e-4)


def test_with_a_loss_a_named_layer_and_a_bidirectional():
    rng = np.random.default_rng(2)
    ids, y = rng.integers(1, 9, size=(8, 6)), rng.integers(0, 2, size=8)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Embedding(9, 3),
                              keras.layers.Bidirectional(keras.layers.LSTM(2,
                                                         return_sequences=True)),
                              keras.layers.GRU(2, name="top"),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile("rmsprop", "binary_crossentropy")
    first = lab.time_step_gradients(model, ids, y)
    top = lab.time_step_gradients(model, ids, y, layer="top")
    assert first.layer == "forward_lstm" and top.layer == "top"
    assert top.norms.shape == (6,) and np.all(top.norms > 0)
    before = [w.copy() for w in model.get_weights()]
    model.fit(ids, y, epochs=1, verbose=0)                    # training still works after
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))
    with pytest.raises(ValueError, match="no recurrent layer named"):
        lab.time_step_gradients(model, ids, y, layer="nope")
    with pytest.raises(ValueError, match="no recurrent layer"):
        lab.time_step_gradients(keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)]),
                                np.zeros((2, 3)))


def test_plot(tmp_path):
    pytest.importorskip("matplotlib")
    model = linear_rnn()
    g = lab.time_step_gradients(model, np.ones((B, T, F)))
    fig = lab.plot_time_step_gradients([g, g], labels=["a", "b"], path=tmp_path / "g.png")
    assert (tmp_path / "g.png").stat().st_size > 0
    assert fig.axes[0].get_yscale() == "log"
