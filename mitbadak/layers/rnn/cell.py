"""What every recurrent cell shares: its weights, the input projection of all time steps,
Keras's dropout masks, and the gate activations written into preallocated arrays.

A cell is one time step (*밑바닥부터 시작하는 딥러닝 2*'s ``RNN``/``LSTM`` classes); the
``RNN`` layer (rnn.py) runs it over the sequence. The work splits into

    once per sequence:  XW = X·W_x + b          all T steps' input projections, one matmul
    per step s:         z = XW[s] + h_prev·W_h   the recurrent product and the gate math
    once per sequence:  dW_x = Σ xᵀ·dz,  db = Σ dz,  dX = dZ·W_xᵀ,  dW_h = Σ h_prevᵀ·dz

so the Python loop over time runs only small NumPy calls on arrays allocated before it.

Inside the loop every array is stored transposed, (columns, batch): step s's zᵀ is
``z[s]`` of shape (G·units, batch) and hᵀ is ``h[s]`` of shape (units, batch). The math is
the same (zᵀ = W_xᵀ·xᵀ + W_hᵀ·h_prevᵀ), but then every gate is one contiguous block of
rows, and NumPy runs an element-wise call on a contiguous block 3-4x faster than on the
8-column slice of each row that the (batch, G·units) layout would give for LSTM(8).

Weights are Keras's: ``kernel`` (features, G·units), ``recurrent_kernel`` (units, G·units)
and ``bias``, with the G gates side by side in Keras's order (LSTM i, f, c, o; GRU z, r, h).
"""
from __future__ import annotations

from typing import Any

import numpy

from ... import activations, backend
from ...backend import xp
from ..layer import Layer
from ..options import options_config, set_options

_WEIGHT_OPTIONS = ("kernel_initializer", "recurrent_initializer", "bias_initializer",
                   "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
                   "kernel_constraint", "recurrent_constraint", "bias_constraint")


def activate(f: Any, z: Any, out: Any) -> Any:
    """out = f(z), with no new array for sigmoid and tanh (the gates' usual functions)."""
    if f is activations.tanh:
        return xp.tanh(z, out=out)
    if f is activations.sigmoid:            # σ(z) = ½·tanh(z/2) + ½: no overflow, 4 calls
        half = backend.cached_scalar(0.5, out.dtype)
        xp.multiply(z, half, out=out)
        xp.tanh(out, out=out)
        out *= half
        out += half
        return out
    out[...] = f(z)
    return out


def derivative(f: Any, z: Any, y: Any) -> Any:
    """f'(z) as an array, from y = f(z) where it can: σ' = y(1 − y), tanh' = 1 − y²."""
    one = backend.cached_scalar(1.0, y.dtype)
    if f is activations.sigmoid:
        d = one - y
        d *= y
        return d
    if f is activations.tanh:
        d = y * y
        return xp.subtract(one, d, out=d)
    if f is activations.linear:
        return xp.ones_like(y)
    return f.backward(z, y, xp.ones_like(y))


class RNNCell(Layer):
    """Base class of SimpleRNNCell, LSTMCell and GRUCell (one time step each).

    A subclass sets ``gates`` and writes ``begin`` (allocate the per-step arrays), ``step(s)``,
    ``begin_backward``, ``step_backward(s, dstates)`` and ``finish_backward``. The ``RNN``
    layer calls, per sequence::

        xw = cell.project_inputs(x, training)      # (T, G·units, batch), bias added
        cell.begin(xw, initial_states, training)
        for s in range(T): cell.step(s)             # states of step s -> step s + 1
        ...
        cell.begin_backward()                       # local derivatives of all steps at once
        for s in reversed(range(T)): dstates = cell.step_backward(s, dstates)
        dxw = cell.finish_backward()                # dW_h: one product over all steps
        dx = cell.backward_inputs(dxw)              # dW_x, db: one product each

    ``states`` (T + 1, units, batch) arrays hold every state, transposed: ``states[k][0]``
    the initial one, ``states[k][s + 1]`` the one after step s. The RNN layer may overwrite
    ``states[k][s + 1]`` (a masked step keeps the previous state). The output of a step is
    its first state (h).
    """

    gates = 1
    # Recurrent-dropout masks Keras draws per gate (its `implementation=1`), when > 1.
    per_gate_masks = False

    def _setup(self, units: int, activation: Any, use_bias: bool, dropout: float,
               recurrent_dropout: float, seed: Any, options: dict) -> None:
        if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
            raise ValueError(f"{type(self).__name__} {self.name!r}: units must be a positive "
                             f"int; got {units!r}.")
        for what, rate in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if not isinstance(rate, (int, float)) or isinstance(rate, bool):
                raise ValueError(f"{type(self).__name__} {self.name!r}: {what} must be a number "
                                 f"in [0, 1); got {rate!r}.")
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        set_options(self, **options)
        # Keras clips both rates into [0, 1] and applies a mask only for 0 < rate < 1.
        self.dropout = min(1.0, max(0.0, float(dropout)))
        self.recurrent_dropout = min(1.0, max(0.0, float(recurrent_dropout)))
        self.seed = seed
        self._rng = None if seed is None else xp.random.default_rng(seed)

    # ------------------------------------------------------------------ Keras's attributes
    @property
    def state_size(self) -> Any:
        return self.units

    @property
    def output_size(self) -> int:
        return self.units

    @property
    def state_sizes(self) -> list:
        """The size of every state, as a list ([units] or [units, units] for LSTM's h, c)."""
        size = self.state_size
        return list(size) if isinstance(size, (list, tuple)) else [size]

    @property
    def n_states(self) -> int:
        return len(self.state_sizes)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (input_shape[0], self.output_size)

    # ------------------------------------------------------------------ weights
    def build(self, input_shape: tuple) -> None:
        """input_shape: (batch, features), one time step's input."""
        features = input_shape[-1]
        if features is None:
            raise ValueError(f"{type(self).__name__} {self.name!r}: the number of input "
                             f"features (last axis) must be known; got {tuple(input_shape)}.")
        columns = self.gates * self.units
        self.kernel = self.add_weight("kernel", (features, columns), self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(
            "recurrent_kernel", (self.units, columns), self.recurrent_initializer,
            regularizer=self.recurrent_regularizer, constraint=self.recurrent_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight("bias", self.bias_shape(), self.bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)
        self.built = True

    def bias_shape(self) -> tuple:
        return (self.gates * self.units,)

    def input_bias(self) -> Any:
        """The bias added to the input projection (GRU with reset_after keeps a second one)."""
        return self.bias

    # ------------------------------------------------------------------ dropout masks
    def _mask(self, shape: tuple, rate: float, dtype: Any) -> Any:
        """Inverted dropout mask: 0 where dropped, 1/(1 − rate) where kept (Keras's)."""
        rng = self._rng or backend.rng()
        keep = rng.random(shape, dtype=numpy.float32) >= rate
        mask = keep.astype(dtype)
        mask *= 1.0 / (1.0 - rate)
        return mask

    def _draw_masks(self, batch: int, features: int, dtype: Any, training: bool) -> None:
        """One mask per sequence, the same at every step (Keras's). With recurrent dropout,
        LSTM and GRU draw one mask per gate for both, as Keras's implementation 1 does;
        otherwise one input mask for all gates. Input masks are (groups, batch, 1, features);
        recurrent masks (groups, units, batch), transposed like the states."""
        groups = self.gates if self.per_gate_masks and self.recurrent_dropout > 0 else 1
        self.input_masks = None
        self.recurrent_masks = None
        if training and 0 < self.dropout < 1:
            self.input_masks = self._mask((groups, batch, 1, features), self.dropout, dtype)
        if training and 0 < self.recurrent_dropout < 1:
            self.recurrent_masks = xp.ascontiguousarray(self._mask(
                (groups, batch, self.units), self.recurrent_dropout, dtype).transpose(0, 2, 1))

    # ------------------------------------------------------------------ the input projection
    def project_inputs(self, x: Any, training: bool = False) -> Any:
        """x (batch, T, features) -> XW (T, G·units, batch): step s's (x_s·W_x + b)ᵀ.

        One matmul call for all steps (W_xᵀ times each step's x_sᵀ), written straight into
        the loop's layout; G calls with per-gate dropout masks."""
        batch, steps, features = x.shape
        self._draw_masks(batch, features, x.dtype, training)
        self.x = x
        masks = self.input_masks
        if masks is None:
            xw = xp.matmul(self.kernel.T, x.transpose(1, 2, 0))
        else:
            xw = xp.empty((steps, self.kernel.shape[1], batch), dtype=x.dtype)
            for cols, m in self._groups(masks):
                xw[:, cols] = xp.matmul(self.kernel[:, cols].T, (x * m).transpose(1, 2, 0))
        bias = self.input_bias()
        if bias is not None:
            xw += bias[:, None]
        return xw

    def _groups(self, masks: Any) -> list:
        """[(row slice, mask)] of the gate groups the masks belong to."""
        width = self.kernel.shape[1] // len(masks)
        return [(slice(g * width, (g + 1) * width), masks[g]) for g in range(len(masks))]

    def backward_inputs(self, dxw: Any, need_dx: bool = True) -> Any:
        """dXW (T, G·units, batch), in the input's time order -> dx (batch, T, features);
        sets grads['kernel'] = Σ_s x_sᵀ·dz_s and grads['bias'] = Σ dz (one call each)."""
        x, masks = self.x, self.input_masks
        dzt = dxw.transpose(0, 2, 1)                     # (T, batch, G·u) views
        if masks is None:
            self.grads["kernel"] = xp.matmul(x.transpose(1, 2, 0), dzt).sum(axis=0)
        else:
            dk = xp.empty_like(self.kernel)
            for cols, m in self._groups(masks):
                dk[:, cols] = xp.matmul((x * m).transpose(1, 2, 0), dzt[:, :, cols]).sum(axis=0)
            self.grads["kernel"] = dk
        if self.use_bias:
            self.bias_grad_from_inputs(dxw.sum(axis=0).sum(axis=1))
        if not need_dx:
            return None
        if masks is None:                                # dx = dz·W_xᵀ, (T, batch, F) first
            return xp.ascontiguousarray(xp.matmul(dzt, self.kernel.T).transpose(1, 0, 2))
        dx = xp.zeros(x.shape, dtype=x.dtype)
        for cols, m in self._groups(masks):
            dx += xp.matmul(dzt[:, :, cols], self.kernel[:, cols].T).transpose(1, 0, 2) * m
        return dx

    def bias_grad_from_inputs(self, db: Any) -> None:
        self.grads["bias"] = db

    # ------------------------------------------------------------------ the recurrent product
    def _prepare_step_buffers(self, ranges: tuple = ((0, None),)) -> None:
        """Before the loop: contiguous copies of W_h's columns for the gate ranges the cell
        multiplies by, and of their transposes, so no step copies a weight slice."""
        u, g_all = self.units, self.gates
        self._rk, self._rk_t = {}, {}
        for g0, g1 in ranges:
            g1 = g_all if g1 is None else g1
            part = self.recurrent_kernel[:, g0 * u:g1 * u]
            self._rk[g0, g1] = xp.ascontiguousarray(part)
            self._rk_t[g0, g1] = xp.ascontiguousarray(part.T)
        if self.recurrent_masks is not None and len(self.recurrent_masks) > 1:
            # (G, u, u): gate g's block of W_h, for one batched product per step.
            blocks = self.recurrent_kernel.reshape(u, g_all, u).transpose(1, 0, 2)
            self._rk_gates = xp.ascontiguousarray(blocks)
            self._rk_gates_t = xp.ascontiguousarray(blocks.transpose(0, 2, 1))

    def recurrent_product(self, h: Any, g0: int, g1: int, out: Any) -> Any:
        """out ((g1 − g0)·units, batch) = (h_prev·W_h)ᵀ for gates g0..g1−1, from hᵀ (units,
        batch); with recurrent dropout each gate g sees h ⊙ m_g (one mask per sequence)."""
        masks = self.recurrent_masks
        if masks is None:
            return xp.dot(self._rk_t[g0, g1], h, out=out)
        if len(masks) == 1:
            return xp.dot(self._rk_t[g0, g1], h * masks[0], out=out)
        n, u = g1 - g0, self.units
        xp.matmul(self._rk_gates_t[g0:g1], h * masks[g0:g1], out=out.reshape(n, u, -1))
        return out

    def recurrent_product_backward(self, dz: Any, g0: int, g1: int, out: Any) -> Any:
        """out (units, batch) = (dz·W_hᵀ)ᵀ for gates g0..g1−1: the gradient of
        ``recurrent_product`` for h_prev."""
        masks = self.recurrent_masks
        if masks is None:
            return xp.dot(self._rk[g0, g1], dz, out=out)
        if len(masks) == 1:
            xp.dot(self._rk[g0, g1], dz, out=out)
            out *= masks[0]
            return out
        n, u = g1 - g0, self.units
        prod = xp.matmul(self._rk_gates[g0:g1], dz.reshape(n, u, -1))
        prod *= masks[g0:g1]
        return prod.sum(axis=0, out=out)

    def recurrent_kernel_grad(self, h_prev: Any, dz: Any, g0: int, g1: int) -> Any:
        """Σ over steps of h_prevᵀ·dz, one matmul call for all steps: the gradient of W_h's
        columns for gates g0..g1−1. h_prev (T, units, batch), dz (T, cols, batch)."""
        dzt = dz.transpose(0, 2, 1)
        masks = self.recurrent_masks
        if masks is None:
            return xp.matmul(h_prev, dzt).sum(axis=0)
        if len(masks) == 1:
            return xp.matmul(h_prev * masks[0], dzt).sum(axis=0)
        u = self.units
        out = xp.empty((u, dz.shape[1]), dtype=dz.dtype)
        for k, g in enumerate(range(g0, g1)):
            out[:, k * u:(k + 1) * u] = xp.matmul(h_prev * masks[g],
                                                  dzt[:, :, k * u:(k + 1) * u]).sum(axis=0)
        return out

    # ------------------------------------------------------------------ the step (subclasses)
    def begin(self, xw: Any, states: list, training: bool = False) -> None:
        raise NotImplementedError

    def step(self, s: int) -> None:
        raise NotImplementedError

    def begin_backward(self) -> None:
        """Before the backward loop: every factor of a step's local derivative that does not
        depend on the incoming gradient (σ'(z), 1 − tanh², ...), for all steps at once, so
        that each step is a few multiplications and one product."""

    def step_backward(self, s: int, dstates: list) -> list:
        raise NotImplementedError

    def finish_backward(self) -> Any:
        """After the last step_backward: the recurrent weight gradients (one product each);
        returns dXW (T, batch, G·units) in processing order."""
        raise NotImplementedError

    # ------------------------------------------------------------------ calling a cell alone
    def __call__(self, inputs: Any, states: Any = None, training: Any = None, **kwargs: Any):
        """``cell(x_t, states)`` -> (output, new_states), one step on arrays, as in Keras."""
        if states is None or kwargs:
            raise TypeError(f"{type(self).__name__} {self.name!r} is one time step: call it as "
                            f"cell(x_t, states) with x_t (batch, features) and states a list "
                            f"of (batch, units) arrays, or run it over a sequence with "
                            f"keras.layers.RNN(cell).")
        x = self._as_array(inputs)
        states = [self._as_array(s) for s in (states if isinstance(states, (list, tuple))
                                              else [states])]
        if not self.built:
            self._maybe_build((None, x.shape[-1]))
        xw = self.project_inputs(x[:, None, :], bool(training))
        self.begin(xw, [s.T for s in states], bool(training))
        self.step(0)
        new = [seq[1].T.copy() for seq in self.states]
        return new[0], new

    def forward(self, x: Any, training: bool = False) -> Any:
        raise TypeError(f"{type(self).__name__} {self.name!r} is one time step; run it over a "
                        f"sequence with keras.layers.RNN(cell).")

    def get_initial_state(self, batch_size: int | None = None) -> list:
        return [xp.zeros((batch_size, n), dtype=self.dtype) for n in self.state_sizes]

    def _options_config(self) -> dict:
        return options_config(self, _WEIGHT_OPTIONS)


__all__ = ["RNNCell", "activate", "derivative"]
