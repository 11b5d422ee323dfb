"""GRU: the gated recurrent unit (Cho et al., 2014), in Keras's two variants."""
from __future__ import annotations

from typing import Any

from ... import activations
from ...backend import xp
from .cell import RNNCell, activate, derivative
from .rnn import RNN
from .simple_rnn import cell_config


class GRUCell(RNNCell):
    """One GRU time step (Keras's GRUCell). The kernels hold the three gates side by side, in
    Keras's order z (update), r (reset), h (candidate): W_x (features, 3u), W_h (u, 3u).

    ``reset_after=True`` (Keras 3's default, cuDNN's): the reset gate multiplies the recurrent
    product, and there are two biases, ``bias`` (2, 3u) = [b_x; b_h]::

        x_z, x_r, x_h = x·W_x + b_x                     (precomputed for all steps)
        m_z, m_r, m_h = h_prev·W_h + b_h
        z = σ(x_z + m_z)   r = σ(x_r + m_r)   ĥ = tanh(x_h + r ⊙ m_h)
        h = z ⊙ h_prev + (1 − z) ⊙ ĥ

    ``reset_after=False`` (tf.keras 1.x files): one bias (3u,), and the reset gate applies to
    h_prev before its product: ĥ = tanh(x_h + (r ⊙ h_prev)·W_hh).

    Backward (reset_after=True), dh from above and from step t + 1::

        dĥ = dh ⊙ (1 − z)    dz = dh ⊙ (h_prev − ĥ)    da_h = dĥ ⊙ (1 − ĥ²)
        dr = da_h ⊙ m_h      dm_h = da_h ⊙ r
        da_z = dz ⊙ z(1 − z)   da_r = dr ⊙ r(1 − r)
        dx side [da_z, da_r, da_h];  dm side [da_z, da_r, dm_h]
        dh_prev = dh ⊙ z + [da_z, da_r, dm_h]·W_hᵀ
        dW_x = Σ_t xᵀ·[da_z, da_r, da_h]   dW_h = Σ_t h_prevᵀ·[da_z, da_r, dm_h]
    """

    gates = 3
    per_gate_masks = True

    def __init__(self, units: int, activation: Any = "tanh",
                 recurrent_activation: Any = "sigmoid", use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, recurrent_regularizer: Any = None,
                 bias_regularizer: Any = None, kernel_constraint: Any = None,
                 recurrent_constraint: Any = None, bias_constraint: Any = None,
                 dropout: float = 0.0, recurrent_dropout: float = 0.0, reset_after: bool = True,
                 seed: Any = None, implementation: int = 2, **kwargs: Any):
        super().__init__(**kwargs)
        self._setup(units, activation, use_bias, dropout, recurrent_dropout, seed, dict(
            kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint))
        self.recurrent_activation = activations.get(recurrent_activation)
        self.reset_after = bool(reset_after)
        self.implementation = implementation

    def bias_shape(self) -> tuple:
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def input_bias(self) -> Any:
        if self.bias is None:
            return None
        return self.bias[0] if self.reset_after else self.bias

    def begin(self, xw: Any, states: list, training: bool = False) -> None:
        steps, columns, batch = xw.shape
        u, dtype = self.units, xw.dtype
        self.z = xw                         # x side, becomes each gate's pre-activation
        self.a = xp.empty_like(xw)          # z, r, ĥ
        self.dz = xp.empty_like(xw)         # dL/d(x side)
        h = xp.empty((steps + 1, u, batch), dtype=dtype)
        h[0] = states[0]
        self.states = [h]
        if self.reset_after:
            self.m = xp.empty_like(xw)      # h_prev·W_h + b_h
            self.dm = xp.empty_like(xw)     # dL/d(that)
            self._b_h = None if self.bias is None else xp.ascontiguousarray(self.bias[1][:, None])
            self._prepare_step_buffers(((0, 3),))
        else:
            self.m = xp.empty((2 * u, batch), dtype=dtype)
            self.rh = xp.empty((steps, u, batch), dtype=dtype)      # r ⊙ h_prev
            self._drh = xp.empty((u, batch), dtype=dtype)
            self._prepare_step_buffers(((0, 2), (2, 3)))
        self._t = xp.empty((u, batch), dtype=dtype)
        self._dh = xp.empty((u, batch), dtype=dtype)

    def step(self, s: int) -> None:
        u, h = self.units, self.states[0]
        x, a = self.z[s], self.a[s]
        h_prev = h[s]
        if self.reset_after:
            m = self.recurrent_product(h_prev, 0, 3, self.m[s])     # m = h_prev·W_h + b_h
            if self._b_h is not None:
                m += self._b_h
            x[:2 * u] += m[:2 * u]
            activate(self.recurrent_activation, x[:2 * u], a[:2 * u])   # z, r
            xp.multiply(a[u:2 * u], m[2 * u:], out=self._t)             # r ⊙ m_h
        else:
            x[:2 * u] += self.recurrent_product(h_prev, 0, 2, self.m)
            activate(self.recurrent_activation, x[:2 * u], a[:2 * u])   # z, r
            xp.multiply(a[u:2 * u], h_prev, out=self.rh[s])             # r ⊙ h_prev
            self.recurrent_product(self.rh[s], 2, 3, self._t)           # (r ⊙ h_prev)·W_hh
        x[2 * u:] += self._t
        hh = activate(self.activation, x[2 * u:], a[2 * u:])            # ĥ
        out = h[s + 1]                                      # h = ĥ + z ⊙ (h_prev − ĥ)
        xp.subtract(h_prev, hh, out=out)
        out *= a[:u]
        out += hh

    def begin_backward(self) -> None:
        u, a, x = self.units, self.a, self.z
        h_prev = self.states[0][:-1]
        z, r, hh = a[:, :u], a[:, u:2 * u], a[:, 2 * u:]
        # For all steps at once, what dh multiplies into each pre-activation's gradient:
        #   da_z = dh ⊙ pz,  da_h = dh ⊙ ph,  da_r = dh ⊙ pr (reset_after),
        #   or da_r = d(r ⊙ h_prev) ⊙ pr with d(r ⊙ h_prev) = da_h·W_hhᵀ (reset_after=False).
        dzr = derivative(self.recurrent_activation, x[:, :2 * u], a[:, :2 * u])
        ph = derivative(self.activation, x[:, 2 * u:], hh)
        ph *= 1 - z                                     # (1 − z) ⊙ tanh'
        pz = h_prev - hh
        pz *= dzr[:, :u]                                # (h_prev − ĥ) ⊙ σ'(z)
        self.z_gate = z
        if self.reset_after:
            pr = ph * self.m[:, 2 * u:]
            pr *= dzr[:, u:]                            # (1 − z) ⊙ tanh' ⊙ m_h ⊙ σ'(r)
            self.px = xp.concatenate([pz, pr, ph], axis=1)      # x side: [da_z, da_r, da_h]/dh
            self.pm = xp.concatenate([pz, pr, ph * r], axis=1)  # h side: [da_z, da_r, dm_h]/dh
        else:
            self.pzh = xp.stack([pz, ph], axis=1)       # [da_z, da_h] / dh
            self.pr = h_prev * dzr[:, u:]               # h_prev ⊙ σ'(r)
            self.r_gate = r

    def step_backward(self, s: int, dstates: list) -> list:
        dh = dstates[0]
        if self.reset_after:
            u = self.units
            xp.multiply(dh, self.px[s].reshape(3, u, -1), out=self.dz[s].reshape(3, u, -1))
            xp.multiply(dh, self.pm[s].reshape(3, u, -1), out=self.dm[s].reshape(3, u, -1))
            back = self.recurrent_product_backward(self.dm[s], 0, 3, self._dh)
            dh *= self.z_gate[s]                    # dh_prev = dh ⊙ z + [da_z, da_r, dm_h]·W_hᵀ
            dh += back
            return dstates
        u = self.units
        dx = self.dz[s].reshape(3, u, -1)
        xp.multiply(dh, self.pzh[s], out=dx[::2])                           # da_z, da_h
        drh = self.recurrent_product_backward(dx[2], 2, 3, self._drh)       # d(r ⊙ h_prev)
        xp.multiply(drh, self.pr[s], out=dx[1])                             # da_r
        dh *= self.z_gate[s]                        # dh_prev = dh ⊙ z + d(r⊙h) ⊙ r
        drh *= self.r_gate[s]                       #           + [da_z, da_r]·W_zrᵀ
        dh += drh
        dh += self.recurrent_product_backward(self.dz[s][:2 * u], 0, 2, self._dh)
        return dstates

    def finish_backward(self) -> Any:
        h_prev = self.states[0][:-1]
        u = self.units
        if self.reset_after:
            self.grads["recurrent_kernel"] = self.recurrent_kernel_grad(h_prev, self.dm, 0, 3)
            self._db_recurrent = self.dm.sum(axis=0).sum(axis=1)
        else:
            dk = xp.empty_like(self.recurrent_kernel)
            dk[:, :2 * u] = self.recurrent_kernel_grad(h_prev, self.dz[:, :2 * u], 0, 2)
            dk[:, 2 * u:] = self.recurrent_kernel_grad(self.rh, self.dz[:, 2 * u:], 2, 3)
            self.grads["recurrent_kernel"] = dk
        return self.dz

    def bias_grad_from_inputs(self, db: Any) -> None:
        self.grads["bias"] = xp.stack([db, self._db_recurrent]) if self.reset_after else db

    def get_config(self) -> dict:
        config = {**super().get_config(), "units": self.units,
                  "activation": activations.serialize(self.activation),
                  "recurrent_activation": activations.serialize(self.recurrent_activation),
                  "use_bias": self.use_bias}
        config.update(self._options_config())
        config.update({"dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout,
                       "reset_after": self.reset_after, "seed": self.seed})
        return config


class GRU(RNN):
    """``keras.layers.GRU(units, reset_after=True, return_sequences=False, ...)``: GRUCell run
    over the sequence. x (batch, T, features) -> (batch, units), or (batch, T, units)."""

    def __init__(self, units: int, activation: Any = "tanh",
                 recurrent_activation: Any = "sigmoid", use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, recurrent_regularizer: Any = None,
                 bias_regularizer: Any = None, activity_regularizer: Any = None,
                 kernel_constraint: Any = None, recurrent_constraint: Any = None,
                 bias_constraint: Any = None, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, seed: Any = None,
                 return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 reset_after: bool = True, use_cudnn: Any = "auto", implementation: int = 2,
                 **kwargs: Any):
        cell = GRUCell(
            units, activation=activation, recurrent_activation=recurrent_activation,
            use_bias=use_bias, kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
            dropout=dropout, recurrent_dropout=recurrent_dropout, reset_after=reset_after,
            seed=seed, implementation=implementation, name="gru_cell",
            dtype=kwargs.get("dtype"), trainable=kwargs.get("trainable", True))
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         activity_regularizer=activity_regularizer, **kwargs)
        self.use_cudnn = use_cudnn

    def get_config(self) -> dict:
        return {**self._rnn_config(), **cell_config(self.cell, self.activity_regularizer)}


__all__ = ["GRUCell", "GRU"]
