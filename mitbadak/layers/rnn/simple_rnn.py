"""SimpleRNN: the plain (Elman) recurrent layer, the notes' ``RNN`` and ``TimeRNN``."""
from __future__ import annotations

from typing import Any

from ... import activations
from ...backend import xp
from .cell import RNNCell, activate, derivative
from .rnn import RNN


class SimpleRNNCell(RNNCell):
    """One time step of the plain RNN (Keras's SimpleRNNCell).

    Forward, x (batch, features), h_prev and h (batch, units)::

        z = x·W_x + h_prev·W_h + b          (x·W_x + b comes precomputed for all steps)
        h = tanh(z)                          (h is both the output and the state)

    Backward, dh = dL/dh from the layer above and from step t + 1::

        dz = dh ⊙ (1 − h²)                   (tanh's derivative; any activation works)
        dh_prev = dz·W_hᵀ
        dW_h = Σ_t h_prevᵀ·dz,  dW_x = Σ_t xᵀ·dz,  db = Σ dz,  dx = dz·W_xᵀ
                                              (the sums: one product over all steps)
    """

    def __init__(self, units: int, activation: Any = "tanh", use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, recurrent_regularizer: Any = None,
                 bias_regularizer: Any = None, kernel_constraint: Any = None,
                 recurrent_constraint: Any = None, bias_constraint: Any = None,
                 dropout: float = 0.0, recurrent_dropout: float = 0.0, seed: Any = None,
                 **kwargs: Any):
        super().__init__(**kwargs)
        self._setup(units, activation, use_bias, dropout, recurrent_dropout, seed, dict(
            kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint))

    def begin(self, xw: Any, states: list, training: bool = False) -> None:
        steps, units, batch = xw.shape
        self.z = xw                                     # z[s]: x_s·W_x + b, then + h_prev·W_h
        self.dz = xp.empty_like(xw)
        h = xp.empty((steps + 1, units, batch), dtype=xw.dtype)
        h[0] = states[0]
        self.states = [h]
        self._rec = xp.empty((units, batch), dtype=xw.dtype)
        self._prepare_step_buffers(((0, 1),))

    def step(self, s: int) -> None:
        h, z = self.states[0], self.z[s]
        z += self.recurrent_product(h[s], 0, 1, self._rec)     # z = x·W_x + b + h_prev·W_h
        activate(self.activation, z, h[s + 1])                 # h = tanh(z)

    def begin_backward(self) -> None:
        self.dact = derivative(self.activation, self.z, self.states[0][1:])    # 1 − h², all s

    def step_backward(self, s: int, dstates: list) -> list:
        dh = dstates[0]
        dz = xp.multiply(dh, self.dact[s], out=self.dz[s])     # dz = dh ⊙ (1 − h²)
        self.recurrent_product_backward(dz, 0, 1, dh)           # dh_prev = dz·W_hᵀ
        return dstates

    def finish_backward(self) -> Any:
        self.grads["recurrent_kernel"] = self.recurrent_kernel_grad(self.states[0][:-1],
                                                                    self.dz, 0, 1)
        return self.dz

    def get_config(self) -> dict:
        return {**super().get_config(), "units": self.units,
                "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias, **self._options_config(),
                "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout,
                "seed": self.seed}


class SimpleRNN(RNN):
    """``keras.layers.SimpleRNN(units, activation='tanh', return_sequences=False, ...)``:
    SimpleRNNCell run over the sequence. x (batch, T, features) -> (batch, units), or
    (batch, T, units) with return_sequences=True."""

    def __init__(self, units: int, activation: Any = "tanh", use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, recurrent_regularizer: Any = None,
                 bias_regularizer: Any = None, activity_regularizer: Any = None,
                 kernel_constraint: Any = None, recurrent_constraint: Any = None,
                 bias_constraint: Any = None, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, seed: Any = None,
                 return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 **kwargs: Any):
        cell = SimpleRNNCell(
            units, activation=activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint, dropout=dropout,
            recurrent_dropout=recurrent_dropout, seed=seed, name="simple_rnn_cell",
            dtype=kwargs.get("dtype"), trainable=kwargs.get("trainable", True))
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         activity_regularizer=activity_regularizer, **kwargs)

    def get_config(self) -> dict:
        config = cell_config(self.cell, self.activity_regularizer)
        config.pop("seed")                  # Keras 3's SimpleRNN writes none (its cell does)
        return {**self._rnn_config(), **config}


def cell_config(cell: RNNCell, activity_regularizer: Any) -> dict:
    """A layer's config (SimpleRNN, LSTM, GRU): its cell's arguments, in Keras's order,
    with the layer's activity regularizer among the regularizers."""
    config = cell.get_config()
    for key in ("name", "trainable", "dtype"):
        config.pop(key, None)
    out = {}
    for key, value in config.items():
        out[key] = value
        if key == "bias_regularizer":
            from ... import regularizers
            out["activity_regularizer"] = None if activity_regularizer is None else \
                regularizers.serialize(activity_regularizer)
    return out


__all__ = ["SimpleRNNCell", "SimpleRNN", "cell_config"]
