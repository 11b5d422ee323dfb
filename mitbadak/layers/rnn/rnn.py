"""keras.layers.RNN: a cell run over the time steps of a sequence (the notes' ``TimeRNN``).

    x (batch, T, features) -> y (batch, units), or (batch, T, units) with return_sequences

Forward runs ``cell.step`` for s = 0 .. T − 1 (the input projection of all steps is done
before the loop, as one matrix product); backward runs ``cell.step_backward`` for
s = T − 1 .. 0, carrying dh (and dc) from each step to the one before, so every weight's
gradient is summed over the steps (backpropagation through time).

Masks (from ``Embedding(mask_zero=True)`` or ``Masking``), as Keras does: at a masked step
the cell's result is thrown away and every state keeps its previous value, so the output of
that step repeats the previous output (zeros with ``zero_output_for_mask``, as
``Bidirectional`` sets it). Backward: at a masked step the state gradients pass straight
through to the step before.

``go_backwards=True`` reads the steps last to first and returns the outputs in that
(processing) order, as Keras does. ``return_state=True`` returns ``[output, *final_states]``.
An initial state is given as ``layer(x, initial_state=[h0, c0])``; its gradient is returned.
"""
from __future__ import annotations

from typing import Any

from ... import regularizers
from ...backend import xp
from ..layer import Layer, shape_error
from ..node import shape_str
from .cell import RNNCell


class RNN(Layer):
    """``keras.layers.RNN(cell, return_sequences=False, return_state=False, ...)``."""

    supports_masking = True
    # Saved files record initial states as the call's `initial_state` keyword (Keras 3).
    initial_state_in_call = True
    # Each sample's output depends on that sample alone, but slicing the batch (models/
    # slicing.py) would run the whole loop over time once per slice: never slice it.
    per_sample = False

    def __init__(self, cell: Any, return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 zero_output_for_mask: bool = False, time_major: bool = False,
                 activity_regularizer: Any = None, **kwargs: Any):
        super().__init__(**kwargs)
        if isinstance(cell, (list, tuple)):
            raise TypeError(
                f"RNN {self.name!r}: a list of cells (StackedRNNCells) is not supported; "
                f"stack recurrent layers instead, every one but the last with "
                f"return_sequences=True: LSTM(8, return_sequences=True), LSTM(8).")
        if not isinstance(cell, RNNCell):
            raise TypeError(
                f"RNN {self.name!r}: cell must be a mitbadak recurrent cell (SimpleRNNCell, "
                f"LSTMCell, GRUCell, or your own subclass of "
                f"mitbadak.layers.rnn.RNNCell with begin/step/step_backward); got "
                f"{type(cell).__name__}.")
        if stateful:
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: stateful=True is not supported by "
                f"mitbadak (evaluate/predict run several batches through the layers at once, "
                f"which a state carried from batch to batch cannot survive). Use "
                f"stateful=False and pass the state yourself: "
                f"layer(x, initial_state=[...]) with return_state=True.")
        if time_major:
            raise ValueError(f"{type(self).__name__} {self.name!r}: time_major=True is not "
                             f"supported; give inputs as (batch, time, features).")
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = False
        self.unroll = bool(unroll)          # accepted; the loop is the same either way
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.activity_regularizer = regularizers.get(activity_regularizer)

    # ------------------------------------------------------------------ calling
    def __call__(self, inputs: Any, initial_state: Any = None, training: Any = None,
                 mask: Any = None, **kwargs: Any) -> Any:
        """``layer(x)``, or ``layer(x, initial_state=[h0, (c0)])``: then the call's inputs are
        the list [x, h0, (c0)], as tf.keras 2.x records it (and its gradient reaches them)."""
        if initial_state is not None:
            states = list(initial_state) if isinstance(initial_state, (list, tuple)) else \
                [initial_state]
            inputs = [inputs] + states
        return super().__call__(inputs, training=training, mask=mask, **kwargs)

    def _check_call_inputs(self, shape: Any, list_input: bool) -> None:
        if list_input and len(shape) != 1 + self.cell.n_states:
            raise ValueError(
                f"{type(self).__name__} {self.name!r} takes a sequence and, optionally, "
                f"{self.cell.n_states} initial state(s) of shape (batch, "
                f"{self.cell.units}); got {len(shape)} inputs {shape_str(shape)}.")

    def prepare_inputs(self, inputs: Any) -> Any:
        if isinstance(inputs, (list, tuple)) and len(inputs) > 1:
            return [self._as_array(a) for a in inputs]
        return super().prepare_inputs(inputs)

    # ------------------------------------------------------------------ shapes
    def build(self, input_shape: Any) -> None:
        seq = input_shape[0] if isinstance(input_shape, list) else input_shape
        self._check_sequence_shape(seq)
        if not self.cell.built:
            self.cell._maybe_build((seq[0], seq[-1]))
        if isinstance(input_shape, list):
            for k, s in enumerate(input_shape[1:]):
                size = self.cell.state_sizes[k]
                if len(s) != 2 or s[-1] not in (None, size):
                    raise ValueError(f"{type(self).__name__} {self.name!r}: initial state {k} "
                                     f"must have shape (batch, {size}); got {shape_str(s)}.")

    def _check_input_shape(self, shape: Any) -> None:
        """A built layer takes sequences of any length (and batch): only the rank and the
        number of features are fixed."""
        seq = shape[0] if isinstance(shape, list) else shape
        self._check_sequence_shape(tuple(seq))

    def _check_sequence_shape(self, shape: tuple) -> None:
        if len(shape) != 3:
            if len(shape) == 2:
                hint = (f" A 2-D input is one vector per sample. Token ids (batch, "
                        f"{shape[1]}) need an Embedding layer first, e.g. "
                        f"keras.layers.Embedding(num_words, 16); numbers in a sequence need a "
                        f"feature axis: x.reshape(-1, {shape[1]}, 1); or one-hot ids with "
                        f"keras.utils.to_categorical(x).")
            else:
                hint = " Reshape the data to (samples, time steps, features)."
            raise ValueError(f"Layer {self.name!r} ({type(self).__name__}) expects a 3-D input "
                             f"(batch, time steps, features); got {shape_str(shape)}.{hint}")
        if shape[-1] is None:
            raise ValueError(f"Layer {self.name!r} ({type(self).__name__}): the number of "
                             f"features (last axis) must be known; got {shape_str(shape)}.")
        cell_in = getattr(self.cell, "input_shape", None)
        if self.cell.built and cell_in is not None and cell_in[-1] != shape[-1]:
            raise ValueError(shape_error(self, (None, None, cell_in[-1]), tuple(shape)))

    def compute_output_shape(self, input_shape: Any) -> Any:
        seq = input_shape[0] if isinstance(input_shape, list) else input_shape
        batch, units = seq[0], self.cell.output_size
        out = (batch, seq[1], units) if self.return_sequences else (batch, units)
        if self.return_state:
            return [out] + [(batch, n) for n in self.cell.state_sizes]
        return out

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if isinstance(mask, list):
            mask = mask[0]
        out = mask if self.return_sequences else None
        if self.return_state:
            return [out] + [None] * self.cell.n_states
        return out

    # ------------------------------------------------------------------ forward
    def forward(self, x: Any, training: bool = False, mask: Any = None) -> Any:
        """x (batch, T, features) [+ initial states] -> the output (and final states)."""
        initial = None
        if isinstance(x, list):
            x, initial = x[0], x[1:]
        if isinstance(mask, list):
            mask = mask[0]
        self._had_initial = initial is not None
        batch, steps = x.shape[0], x.shape[1]
        if steps == 0:
            raise ValueError(f"Layer {self.name!r} ({type(self).__name__}) got sequences with "
                             f"0 time steps.")
        cell = self.cell
        xw = cell.project_inputs(x, training)           # (T, batch, G·units), one product
        if self.go_backwards:
            xw = xw[::-1]
            mask = None if mask is None else mask[:, ::-1]
        # The loop's arrays are (units, batch): states go in and come out transposed.
        if initial is None:
            initial = [xp.zeros((n, batch), dtype=xw.dtype) for n in cell.state_sizes]
        else:
            initial = [xp.ascontiguousarray(xp.asarray(s, dtype=xw.dtype).T) for s in initial]
        cell.begin(xw, initial, training)
        self._set_mask(mask, xw.dtype)
        hold = self._hold
        for s in range(steps):
            cell.step(s)
            if hold is not None and self._masked[s]:    # masked rows keep the previous state
                for seq in cell.states:
                    xp.copyto(seq[s + 1], seq[s], where=hold[s])
        h = cell.states[0]
        if self.return_sequences:
            y = h[1:]                                   # (T, units, batch)
            if self._keep is not None and self.zero_output_for_mask:
                y = y * self._keep
            y = xp.ascontiguousarray(y.transpose(2, 0, 1))
        else:
            y = h[steps].T.copy()
        if self.return_state:
            return [y] + [seq[steps].T.copy() for seq in cell.states]
        return y

    def _set_mask(self, mask: Any, dtype: Any) -> None:
        """Time-major copies of the mask: hold (T, 1, batch) True where a step is masked, keep
        (T, 1, batch) 1.0 where it is not, and which steps have any masked sample."""
        self._hold = self._keep = self._masked = None
        if mask is None:
            return
        m = xp.asarray(mask).astype(bool)
        if m.ndim != 2:
            raise ValueError(f"Layer {self.name!r}: the mask must be (batch, time steps); got "
                             f"shape {m.shape}.")
        keep = xp.ascontiguousarray(m.T)[:, None, :]
        self._masked = [bool(v) for v in (~keep[:, 0, :]).any(axis=1)]
        if any(self._masked):
            self._hold = ~keep
            self._keep = keep.astype(dtype)

    # ------------------------------------------------------------------ backward
    def backward(self, dy: Any) -> Any:
        """dL/d(output) (and dL/d(final states) with return_state; entries may be None)
        -> dL/dx (and dL/d(initial states) when they were given)."""
        d_final = []
        if isinstance(dy, list):
            dy, d_final = dy[0], dy[1:]
        cell = self.cell
        steps, batch = cell.states[0].shape[0] - 1, cell.states[0].shape[2]
        dtype = cell.states[0].dtype
        dstates = [xp.zeros((n, batch), dtype=dtype) for n in cell.state_sizes]   # transposed
        for d, extra in zip(dstates, d_final):
            if extra is not None:
                d += extra.T
        d_out = None
        if dy is not None:
            if self.return_sequences:
                d_out = xp.ascontiguousarray(dy.transpose(1, 2, 0))    # (T, units, batch)
                if self._keep is not None and self.zero_output_for_mask:
                    d_out *= self._keep
            else:
                dstates[0] += dy.T
        keep, hold = self._keep, self._hold
        # mitbadak.lab.time_step_gradients sets a list here to see dL/dh of every step.
        record = self.__dict__.get("record_state_grads")
        passed = [xp.empty_like(d) for d in dstates] if hold is not None else None
        cell.begin_backward()
        for s in range(steps - 1, -1, -1):
            if d_out is not None:
                dstates[0] += d_out[s]
            if record is not None:              # ‖dL/d(state)‖ per sample, every state
                record.append([xp.sqrt((d * d).sum(axis=0)) for d in dstates])
            if hold is not None and self._masked[s]:
                # A masked row's state is the previous one: its gradient goes straight back.
                for d, p in zip(dstates, passed):
                    xp.multiply(d, hold[s], out=p)
                    d *= keep[s]
                dstates = cell.step_backward(s, dstates)
                for d, p in zip(dstates, passed):
                    d += p
            else:
                dstates = cell.step_backward(s, dstates)
        dxw = cell.finish_backward()
        if self.go_backwards:
            dxw = dxw[::-1]
        need_dx = self.needs_input_grad
        dx = cell.backward_inputs(dxw, need_dx=need_dx)
        if self._had_initial:
            return [dx] + [d.T.copy() for d in dstates]
        return dx

    # ------------------------------------------------------------------ weights and config
    # Keras's layers answer for their cell's arguments: lstm.units, lstm.dropout, ...
    _CELL_ATTRIBUTES = frozenset((
        "units", "activation", "recurrent_activation", "use_bias", "unit_forget_bias",
        "reset_after", "implementation", "kernel_initializer", "recurrent_initializer",
        "bias_initializer", "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
        "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout",
        "recurrent_dropout", "seed", "state_size", "output_size"))

    def __getattr__(self, name: str) -> Any:
        cell = self.__dict__.get("cell")
        if cell is not None and name in RNN._CELL_ATTRIBUTES:
            return getattr(cell, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def states(self) -> None:
        return None                       # stateful RNNs are not supported

    def reset_states(self, states: Any = None) -> None:
        raise AttributeError(f"Layer {self.name!r} is not stateful, so it has no states to "
                             f"reset.")

    reset_state = reset_states

    def get_initial_state(self, batch_size: int) -> list:
        return self.cell.get_initial_state(batch_size)

    def _rnn_config(self) -> dict:
        return {**Layer.get_config(self), "return_sequences": self.return_sequences,
                "return_state": self.return_state, "go_backwards": self.go_backwards,
                "stateful": self.stateful, "unroll": self.unroll,
                "zero_output_for_mask": self.zero_output_for_mask}

    def get_config(self) -> dict:
        return {**self._rnn_config(), "cell": self.cell}

    @classmethod
    def from_config(cls, config: dict) -> "RNN":
        return cls(**config)


__all__ = ["RNN"]
