"""LSTM: long short-term memory (Hochreiter & Schmidhuber, 1997), the notes' ``LSTM``."""
from __future__ import annotations

from typing import Any

from ... import activations
from ...backend import xp
from .cell import RNNCell, activate, derivative
from .rnn import RNN
from .simple_rnn import cell_config


class LSTMCell(RNNCell):
    """One LSTM time step (Keras's LSTMCell). The kernels hold the four gates side by side,
    in Keras's order i, f, c, o: W_x (features, 4u), W_h (u, 4u), b (4u,).

    Forward, x (batch, features); h_prev, c_prev, h, c (batch, u)::

        z = x·W_x + h_prev·W_h + b                      (x·W_x + b precomputed for all steps)
        i = σ(z_i)   f = σ(z_f)   g = tanh(z_c)   o = σ(z_o)
        c = f ⊙ c_prev + i ⊙ g                          (the memory cell)
        h = o ⊙ tanh(c)                                 (output and first state)

    Backward, dh and dc from the layer above and from step t + 1::

        dc += dh ⊙ o ⊙ (1 − tanh²(c))
        do = dh ⊙ tanh(c)   di = dc ⊙ g   dg = dc ⊙ i   df = dc ⊙ c_prev
        dz = [di ⊙ i(1 − i), df ⊙ f(1 − f), dg ⊙ (1 − g²), do ⊙ o(1 − o)]
        dh_prev = dz·W_hᵀ   dc_prev = dc ⊙ f
        dW_h = Σ_t h_prevᵀ·dz,  dW_x = Σ_t xᵀ·dz,  db = Σ dz   (one product over all steps)

    ``unit_forget_bias=True`` starts the forget gate's bias at 1 (Keras's default).
    """

    gates = 4
    per_gate_masks = True

    def __init__(self, units: int, activation: Any = "tanh",
                 recurrent_activation: Any = "sigmoid", use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 unit_forget_bias: bool = True, kernel_regularizer: Any = None,
                 recurrent_regularizer: Any = None, bias_regularizer: Any = None,
                 kernel_constraint: Any = None, recurrent_constraint: Any = None,
                 bias_constraint: Any = None, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, seed: Any = None, implementation: int = 2,
                 **kwargs: Any):
        super().__init__(**kwargs)
        self._setup(units, activation, use_bias, dropout, recurrent_dropout, seed, dict(
            kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint))
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.implementation = implementation

    @property
    def state_size(self) -> list:
        return [self.units, self.units]

    def build(self, input_shape: tuple) -> None:
        super().build(input_shape)
        if self.use_bias and self.unit_forget_bias:
            u = self.units
            self.bias[u:2 * u] = 1.0                    # the forget gate starts open

    def begin(self, xw: Any, states: list, training: bool = False) -> None:
        steps, columns, batch = xw.shape
        u, dtype = self.units, xw.dtype
        self.z = xw                                     # pre-activations, step by step
        self.a = xp.empty_like(xw)                      # i, f, g, o
        self.dz = xp.empty_like(xw)
        h = xp.empty((steps + 1, u, batch), dtype=dtype)
        c = xp.empty((steps + 1, u, batch), dtype=dtype)
        h[0], c[0] = states
        self.states = [h, c]
        self.tc = xp.empty((steps, u, batch), dtype=dtype)      # tanh(c)
        self._rec = xp.empty((columns, batch), dtype=dtype)
        self._da = xp.empty((4, u, batch), dtype=dtype)
        self._t = xp.empty((u, batch), dtype=dtype)
        self._prepare_step_buffers(((0, 4),))

    def _split(self, a: Any) -> tuple:
        """i, f, g, o: the four gate blocks of a (…, 4u, batch) array."""
        u = self.units
        return a[..., :u, :], a[..., u:2 * u, :], a[..., 2 * u:3 * u, :], a[..., 3 * u:, :]

    def step(self, s: int) -> None:
        h, c = self.states
        z, a = self.z[s], self.a[s]
        z += self.recurrent_product(h[s], 0, 4, self._rec)      # z = x·W_x + b + h_prev·W_h
        i, f, g, o = self._split(a)
        activate(self.recurrent_activation, z, a)               # i, f, o = σ(z_i, z_f, z_o)
        activate(self.activation, z[2 * self.units:3 * self.units], g)      # g = tanh(z_c)
        xp.multiply(f, c[s], out=c[s + 1])                      # c = f ⊙ c_prev + i ⊙ g
        c[s + 1] += xp.multiply(i, g, out=self._t)
        activate(self.activation, c[s + 1], self.tc[s])
        xp.multiply(o, self.tc[s], out=h[s + 1])                # h = o ⊙ tanh(c)

    def begin_backward(self) -> None:
        h, c = self.states
        u = self.units
        i, f, g, o = self._split(self.a)
        # For all steps at once: the gates' derivatives [σ'(z_i), σ'(z_f), tanh'(z_c), σ'(z_o)],
        # p = o ⊙ tanh'(c), and q = [g, c_prev, i], what dc multiplies into di, df, dg.
        self.dgate = derivative(self.recurrent_activation, self.z, self.a)
        self.dgate[:, 2 * u:3 * u] = derivative(self.activation, self.z[:, 2 * u:3 * u], g)
        self.p = o * derivative(self.activation, c[1:], self.tc)
        self.q = xp.stack([g, c[:-1], i], axis=1)              # (T, 3, u, batch)
        self.f = f

    def step_backward(self, s: int, dstates: list) -> list:
        dh, dc = dstates
        da = self._da                                           # (4, u, batch): i, f, c, o
        dc += xp.multiply(dh, self.p[s], out=self._t)           # dc += dh ⊙ o ⊙ tanh'(c)
        xp.multiply(dc, self.q[s], out=da[:3])                  # di, df, dg = dc ⊙ [g, c_prev, i]
        xp.multiply(dh, self.tc[s], out=da[3])                  # do = dh ⊙ tanh(c)
        dz = xp.multiply(da.reshape(self.dz[s].shape), self.dgate[s], out=self.dz[s])
        dc *= self.f[s]                                         # dc_prev = dc ⊙ f
        self.recurrent_product_backward(dz, 0, 4, dh)           # dh_prev = dz·W_hᵀ
        return dstates

    def finish_backward(self) -> Any:
        self.grads["recurrent_kernel"] = self.recurrent_kernel_grad(self.states[0][:-1],
                                                                    self.dz, 0, 4)
        return self.dz

    def get_config(self) -> dict:
        options = self._options_config()
        config = {**super().get_config(), "units": self.units,
                  "activation": activations.serialize(self.activation),
                  "recurrent_activation": activations.serialize(self.recurrent_activation),
                  "use_bias": self.use_bias, "unit_forget_bias": self.unit_forget_bias}
        config.update(options)
        config.update({"dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout,
                       "seed": self.seed})
        return config


class LSTM(RNN):
    """``keras.layers.LSTM(units, dropout=0.0, return_sequences=False, ...)``: LSTMCell run
    over the sequence. x (batch, T, features) -> (batch, units), or (batch, T, units) with
    return_sequences=True; return_state=True adds the final h and c."""

    def __init__(self, units: int, activation: Any = "tanh",
                 recurrent_activation: Any = "sigmoid", use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 unit_forget_bias: bool = True, kernel_regularizer: Any = None,
                 recurrent_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None,
                 recurrent_constraint: Any = None, bias_constraint: Any = None,
                 dropout: float = 0.0, recurrent_dropout: float = 0.0, seed: Any = None,
                 return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 use_cudnn: Any = "auto", implementation: int = 2, **kwargs: Any):
        cell = LSTMCell(
            units, activation=activation, recurrent_activation=recurrent_activation,
            use_bias=use_bias, kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
            unit_forget_bias=unit_forget_bias, kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint, dropout=dropout,
            recurrent_dropout=recurrent_dropout, seed=seed, implementation=implementation,
            name="lstm_cell", dtype=kwargs.get("dtype"),
            trainable=kwargs.get("trainable", True))
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         activity_regularizer=activity_regularizer, **kwargs)
        self.use_cudnn = use_cudnn          # accepted for Keras code; there is no cuDNN here

    def get_config(self) -> dict:
        config = cell_config(self.cell, self.activity_regularizer)
        forget = config.pop("unit_forget_bias")
        ordered = {}
        for key, value in config.items():          # Keras's LSTM puts it after the biases'
            ordered[key] = value                   # initializer (its LSTMCell before them)
            if key == "bias_initializer":
                ordered["unit_forget_bias"] = forget
        return {**self._rnn_config(), **ordered}


__all__ = ["LSTMCell", "LSTM"]
