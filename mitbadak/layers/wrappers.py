"""Wrappers: layers that run another layer. Bidirectional (a recurrent layer read both ways)
and TimeDistributed (one layer applied to every time step)."""
from __future__ import annotations

from typing import Any

from ..backend import xp
from .layer import Layer
from .node import shape_str

_MERGE_MODES = ("concat", "sum", "mul", "ave", None)


def clone_layer(layer: Layer, **overrides: Any) -> Layer:
    """A fresh layer of the same class and config (sub-layers in the config cloned too), with
    `overrides` applied to the config; it shares no weights or state with `layer`."""
    config = dict(layer.get_config())
    for key, value in config.items():
        if isinstance(value, Layer):
            config[key] = clone_layer(value)
    config.update(overrides)
    return type(layer).from_config(config)


def _without_prefix(name: str, prefix: str) -> str:
    return name[len(prefix):] if name.startswith(prefix) else name


class Bidirectional(Layer):
    """``Bidirectional(LSTM(8), merge_mode='concat')``: the sequence read forwards by one
    copy of the layer and backwards by another, their outputs merged.

        y_f = forward_layer(x)          y_b = backward_layer(x)   (go_backwards=True)
        y_b is flipped back to the input's time order (with return_sequences), then
        concat: [y_f, y_b]   sum: y_f + y_b   ave: (y_f + y_b)/2   mul: y_f ⊙ y_b
        None: the list [y_f, y_b]

    Backward splits dy by the same rule (mul: dy_f = dy ⊙ y_b, dy_b = dy ⊙ y_f) and sums the
    two layers' input gradients. ``forward_layer``/``backward_layer`` are Keras's attributes
    (and the weight paths of its files); the forward layer's weights come first.
    """

    supports_masking = True
    per_sample = False
    initial_state_in_call = True

    def __init__(self, layer: Layer, merge_mode: str | None = "concat", weights: Any = None,
                 backward_layer: Layer | None = None, **kwargs: Any):
        if not isinstance(layer, Layer):
            raise ValueError(f"Bidirectional needs a keras layer instance (e.g. LSTM(8)); got "
                             f"{layer!r}.")
        if backward_layer is not None and not isinstance(backward_layer, Layer):
            raise ValueError(f"Bidirectional: backward_layer must be a layer instance; got "
                             f"{backward_layer!r}.")
        if merge_mode not in _MERGE_MODES:
            raise ValueError(f"Bidirectional: merge_mode must be one of 'concat', 'sum', "
                             f"'mul', 'ave' or None; got {merge_mode!r}.")
        if not hasattr(layer, "go_backwards"):
            raise ValueError(f"Bidirectional wraps a recurrent layer (SimpleRNN, LSTM, GRU, "
                             f"RNN); got {type(layer).__name__}.")
        super().__init__(**kwargs)
        name = _without_prefix(layer.name, "forward_")
        self.forward_layer = clone_layer(layer, name=f"forward_{name}")
        if backward_layer is None:
            self.backward_layer = clone_layer(
                layer, name=f"backward_{_without_prefix(layer.name, 'backward_')}",
                go_backwards=not layer.go_backwards)
        else:
            self.backward_layer = backward_layer
        f, b = self.forward_layer, self.backward_layer
        if f.go_backwards == b.go_backwards:
            raise ValueError(f"Bidirectional {self.name!r}: the forward and backward layers "
                             f"must have different go_backwards; both have "
                             f"{f.go_backwards}.")
        for attr in ("stateful", "return_sequences", "return_state"):
            if getattr(f, attr) != getattr(b, attr):
                raise ValueError(f"Bidirectional {self.name!r}: the forward and backward layers "
                                 f"must have the same {attr}; got {getattr(f, attr)} and "
                                 f"{getattr(b, attr)}.")
        for sub in (f, b):                  # padded steps give zeros, as in Keras
            if hasattr(sub, "zero_output_for_mask"):
                sub.zero_output_for_mask = sub.return_sequences
        self.merge_mode = merge_mode
        self.return_sequences = f.return_sequences
        self.return_state = f.return_state
        self.stateful = f.stateful
        self._initial_weights = weights

    # ------------------------------------------------------------------ calling
    def __call__(self, inputs: Any, initial_state: Any = None, training: Any = None,
                 mask: Any = None, **kwargs: Any) -> Any:
        if initial_state is not None:
            inputs = [inputs] + list(initial_state)
        return super().__call__(inputs, training=training, mask=mask, **kwargs)

    def _check_call_inputs(self, shape: Any, list_input: bool) -> None:
        n = 2 * self.forward_layer.cell.n_states if hasattr(self.forward_layer, "cell") else 0
        if list_input and len(shape) not in (1, 1 + n):
            raise ValueError(f"Bidirectional {self.name!r} takes a sequence and, optionally, "
                             f"{n} initial states (the forward layer's, then the backward "
                             f"layer's); got {len(shape)} inputs {shape_str(shape)}.")

    def prepare_inputs(self, inputs: Any) -> Any:
        if isinstance(inputs, (list, tuple)) and len(inputs) > 1:
            return [self._as_array(a) for a in inputs]
        return super().prepare_inputs(inputs)

    def build(self, input_shape: Any) -> None:
        seq, states = (input_shape[0], input_shape[1:]) if isinstance(input_shape, list) \
            else (input_shape, [])
        half = len(states) // 2
        for layer, st in ((self.forward_layer, states[:half]), (self.backward_layer,
                                                                 states[half:])):
            if not layer.built:
                layer._maybe_build([seq] + list(st) if st else seq)
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def _check_input_shape(self, shape: Any) -> None:
        self.forward_layer._check_input_shape(shape)      # any length: features fixed

    def compute_output_shape(self, input_shape: Any) -> Any:
        seq = input_shape[0] if isinstance(input_shape, list) else input_shape
        out = self.forward_layer.compute_output_shape(seq)
        states = []
        if self.return_state:
            out, states = out[0], list(out[1:])
        if self.merge_mode == "concat":
            out = tuple(out[:-1]) + (out[-1] * 2,)
        outs = [out, out] if self.merge_mode is None else [out]
        if self.return_state:
            return outs + states + states
        return outs if self.merge_mode is None else out

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if isinstance(mask, list):
            mask = mask[0]
        out = mask if self.return_sequences else None
        outs = [out, out] if self.merge_mode is None else [out]
        if self.return_state:
            n = self.forward_layer.cell.n_states
            return outs + [None] * (2 * n)
        return outs if self.merge_mode is None else out

    # ------------------------------------------------------------------ forward / backward
    def forward(self, x: Any, training: bool = False, mask: Any = None) -> Any:
        states: list = []
        if isinstance(x, list):
            x, states = x[0], x[1:]
        if isinstance(mask, list):
            mask = mask[0]
        half = len(states) // 2
        self._had_initial = bool(states)
        outs = []
        for layer, st in ((self.forward_layer, states[:half]), (self.backward_layer,
                                                                 states[half:])):
            inp = [x] + list(st) if st else x
            outs.append(layer.forward(inp, training=training) if mask is None else
                        layer.forward(inp, training=training, mask=mask))
        yf, yb = outs
        sf = sb = []
        if self.return_state:
            yf, sf, yb, sb = yf[0], yf[1:], yb[0], yb[1:]
        if self.return_sequences:
            yb = yb[:, ::-1]                    # back to the input's time order
        self.yf, self.yb = yf, yb
        mode = self.merge_mode
        if mode == "concat":
            y = xp.concatenate([yf, yb], axis=-1)
        elif mode == "sum":
            y = yf + yb
        elif mode == "ave":
            y = (yf + yb) * 0.5
        elif mode == "mul":
            y = yf * yb
        else:
            y = [yf, xp.ascontiguousarray(yb)]
        if not isinstance(y, list):
            y = [y]
        if self.return_state:
            return y + list(sf) + list(sb)
        return y if mode is None else y[0]

    def backward(self, dy: Any) -> Any:
        dys = dy if isinstance(dy, list) else [dy]
        n_out = 2 if self.merge_mode is None else 1
        d_out, d_states = dys[:n_out], dys[n_out:]
        yf, yb = self.yf, self.yb
        mode = self.merge_mode
        if mode is None:
            dyf, dyb = d_out
        else:
            d = d_out[0]
            if d is None:
                dyf = dyb = None
            elif mode == "concat":
                u = yf.shape[-1]
                dyf, dyb = d[..., :u], d[..., u:]
            elif mode == "sum":
                dyf = dyb = d
            elif mode == "ave":
                dyf = dyb = d * 0.5
            else:                                   # mul
                dyf, dyb = d * yb, d * yf
        dyf = xp.zeros_like(yf) if dyf is None else dyf
        dyb = xp.zeros_like(yb) if dyb is None else dyb
        if self.return_sequences:
            dyb = dyb[:, ::-1]                      # the backward layer's own (reversed) order
        half = len(d_states) // 2
        dxs = []
        for layer, d, ds in ((self.forward_layer, dyf, d_states[:half]),
                             (self.backward_layer, dyb, d_states[half:])):
            layer.needs_input_grad = self.needs_input_grad or self._had_initial
            dxs.append(layer.backward([d] + list(ds) if self.return_state else d))
            layer.needs_input_grad = True
        dxf, dxb = dxs
        if not self._had_initial:
            if dxf is None or dxb is None:
                return None
            return dxf + dxb
        return [dxf[0] + dxb[0]] + list(dxf[1:]) + list(dxb[1:])

    # ------------------------------------------------------------------ config
    def reset_states(self, states: Any = None) -> None:
        raise AttributeError(f"Bidirectional {self.name!r} is not stateful.")

    reset_state = reset_states

    @property
    def states(self) -> None:
        return None

    def get_config(self) -> dict:
        return {**super().get_config(), "merge_mode": self.merge_mode,
                "layer": self.forward_layer, "backward_layer": self.backward_layer}


class TimeDistributed(Layer):
    """``TimeDistributed(Dense(10))``: the same layer (the same weights) on every time step.

    x (batch, T, ...) is seen as (batch·T, ...) rows, the layer runs once on all of them,
    and its output is folded back to (batch, T, ...); backward likewise. So a Dense inside
    does ONE matrix product for all steps, and its weight gradient sums over them.
    """

    supports_masking = True

    def __init__(self, layer: Layer, **kwargs: Any):
        if not isinstance(layer, Layer):
            raise ValueError(f"TimeDistributed needs a keras layer instance (e.g. Dense(10)); "
                             f"got {layer!r}.")
        super().__init__(**kwargs)
        self.layer = layer

    def _child_shape(self, input_shape: tuple) -> tuple:
        if not isinstance(input_shape, (tuple, list)) or len(input_shape) < 3:
            raise ValueError(f"TimeDistributed {self.name!r} needs an input of at least 3 axes "
                             f"(batch, time steps, ...); got {shape_str(tuple(input_shape))}.")
        return (input_shape[0],) + tuple(input_shape[2:])

    def build(self, input_shape: tuple) -> None:
        if not self.layer.built:
            self.layer._maybe_build(self._child_shape(input_shape))

    def _check_input_shape(self, shape: Any) -> None:
        """Any number of time steps; each step's shape is the inner layer's business."""
        if self.layer.built:
            self.layer._check_input_shape(self._child_shape(shape))

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        out = self.layer.compute_output_shape(self._child_shape(input_shape))
        return (out[0], input_shape[1]) + tuple(out[1:])

    @property
    def activation(self) -> Any:
        """The inner layer's activation: the trainer may fuse a last softmax with the loss."""
        return getattr(self.layer, "activation", None)

    def forward(self, x: Any, training: bool = False) -> Any:
        self.lead = x.shape[:2]
        y = self.layer.forward(x.reshape((-1,) + x.shape[2:]), training=training)
        return y.reshape(self.lead + y.shape[1:])

    def backward(self, dy: Any, skip_activation: bool = False) -> Any:
        d = dy.reshape((-1,) + dy.shape[2:])
        self.layer.needs_input_grad = self.needs_input_grad
        if skip_activation:
            dx = self.layer.backward(d, skip_activation=True)
        else:
            dx = self.layer.backward(d)
        self.layer.needs_input_grad = True
        return None if dx is None else dx.reshape(self.lead + dx.shape[1:])

    def get_config(self) -> dict:
        return {**super().get_config(), "layer": self.layer}


__all__ = ["Bidirectional", "TimeDistributed", "clone_layer"]
