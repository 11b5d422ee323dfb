"""Gradient norms per time step: watching gradients vanish (or explode) through time.

Backpropagation through time hands dL/dh back from the last step to the first; at every
step it is multiplied by the recurrent weights and the activation's derivative
(dL/dh_{t−1} = (dL/dh_t ⊙ tanh'(z_t))·W_hᵀ for a plain RNN). When that product shrinks the
norm, ‖dL/dh_t‖ falls geometrically the further t lies from the loss, and the early words
barely train (vanishing gradients; when it grows, they explode). An LSTM's cell state adds
the path dL/dc_{t−1} = dL/dc_t ⊙ f_t, damped only by the forget gate, which training can
open. This module measures ‖dL/dh_t‖ on your model, at its current weights:

    g = lab.time_step_gradients(model, x, y)            # the first recurrent layer
    g.norms          # (T,) mean over the samples of ‖dL/dh_t‖, t in the input's order
    lab.plot_time_step_gradients([g_before, g_after], labels=["before fit", "after fit"])

What it shows depends on the weights: with Keras's orthogonal recurrent kernels and small
inputs a fresh SimpleRNN passes gradients back almost undamped, while a fresh LSTM's forget
gates (σ(1) ≈ 0.73) shrink them by about that factor per step; measure after training too.
The loss is the model's compiled loss (or ``loss=``) on ``y``; without ``y``, L is the mean of
the outputs. Nothing is trained and the weights are not changed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from .. import backend, losses
from ..layers.rnn.rnn import RNN
from ..layers.wrappers import Bidirectional
from ._mpl import finish, pyplot


@dataclass
class TimeStepGradients:
    """``norms[t]``: the mean over samples of ‖dL/dh_t‖₂ (h_t: the state after reading input
    step t, in the input's order); ``per_sample`` (batch, T); the ``layer`` name."""

    layer: str
    norms: np.ndarray
    per_sample: np.ndarray

    @property
    def ratio(self) -> float:
        """‖dL/dh‖ at the first step over the last: ≪ 1 means vanishing gradients."""
        return float(self.norms[0] / self.norms[-1]) if self.norms[-1] else float("inf")

    def __repr__(self) -> str:
        return (f"<TimeStepGradients {self.layer}: T={len(self.norms)}, first/last "
                f"{self.ratio:.3g}>")


def _recurrent_layers(model: Any) -> list:
    return [l for l in model._flatten_layers() if isinstance(l, RNN)]


def _pick(model: Any, layer: Any) -> RNN:
    found = _recurrent_layers(model)
    if isinstance(layer, Bidirectional):
        layer = layer.forward_layer
    if isinstance(layer, RNN):
        if all(layer is not l for l in found):
            raise ValueError(f"layer: {layer.name!r} is not inside model {model.name!r}.")
        return layer
    if isinstance(layer, str):
        for l in found:
            if l.name == layer or l.name == f"forward_{layer}":
                return l
        raise ValueError(f"layer: no recurrent layer named {layer!r}; the model's are "
                         f"{[l.name for l in found]}.")
    if layer is not None:
        raise TypeError(f"layer: expected a recurrent layer, its name or None; got {layer!r}.")
    if not found:
        raise ValueError(f"Model {model.name!r} has no recurrent layer (SimpleRNN, LSTM, GRU, "
                         f"RNN, Bidirectional) to watch.")
    return found[0]


def time_step_gradients(model: Any, x: Any, y: Any = None, loss: Any = None,
                        layer: Any = None) -> TimeStepGradients:
    """‖dL/dh_t‖ at every time step of one recurrent layer of `model`, for the batch `x`.

    Args:
        model: a built model holding a SimpleRNN/LSTM/GRU/RNN (or a Bidirectional: its
            forward layer).
        x, y: a batch of inputs and, optionally, its targets.
        loss: the loss for y (name or Loss); default: the model's compiled loss.
        layer: which recurrent layer (the layer, its name, or None for the first).
    """
    target = _pick(model, layer)
    xs = model._standardize_inputs(x)
    xs = [a if model._input_dtype(i) is None else a.astype(model._input_dtype(i))
          for i, a in enumerate(xs)]
    outs = model._forward_list(xs, False)
    if y is None:
        dys = [backend.xp.ones_like(o) / o.size for o in outs]
    else:
        if loss is None:
            compiled = getattr(model, "_compile_specs", None)
            loss = getattr(compiled, "loss", None) if compiled is not None else None
            if loss is None:
                raise ValueError("loss: the model is not compiled; pass loss=... (e.g. "
                                 "'binary_crossentropy') with y.")
        loss_obj = losses.get(loss if not isinstance(loss, (list, tuple)) else loss[0])
        t = loss_obj.prepare_targets(backend.xp.asarray(y), outs[0])
        dys = [loss_obj.backward(t, outs[0]) / loss_obj.forward(t, outs[0]).size]
        dys += [None] * (len(outs) - 1)
    record: list = []
    target.record_state_grads = record
    try:
        model._prepare_backward(())
        model._walk_backward(dys, need_input_grads=False)
    finally:
        del target.record_state_grads
        model._prepare_backward(getattr(model, "_fused_outputs", ()))   # as training had it
    if not record:
        raise ValueError(f"No gradient reached layer {target.name!r}: does the loss depend on "
                         f"its output?")
    steps = record[::-1]                        # the loop ran from the last step back
    states = [np.stack([backend.to_numpy(r[k]) for r in steps], axis=1)       # (batch, T)
              for k in range(len(steps[0]))]
    if target.go_backwards:
        states = [s[:, ::-1] for s in states]   # back to the input's time order
    return TimeStepGradients(target.name, states[0].mean(axis=0), states[0])


def plot_time_step_gradients(results: Sequence[TimeStepGradients] | TimeStepGradients,
                             labels: Sequence[str] | None = None, log: bool = True,
                             path: Any = None) -> Any:
    """‖dL/dh_t‖ against the time step t, one line per result (log scale by default: a
    vanishing gradient is a straight line falling toward the first steps)."""
    plt = pyplot()
    if isinstance(results, TimeStepGradients):
        results = [results]
    labels = list(labels) if labels is not None else [r.layer for r in results]
    if len(labels) != len(results):
        raise ValueError(f"labels: {len(labels)} labels for {len(results)} results.")
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    for r, label in zip(results, labels):
        ax.plot(np.arange(1, len(r.norms) + 1), r.norms, "o-", markersize=3, label=label)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("time step t (input order; the loss reads the last)")
    ax.set_ylabel("mean ‖dL/dh_t‖")
    ax.set_title("Gradient norm per time step")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return finish(fig, path)


__all__ = ["TimeStepGradients", "time_step_gradients", "plot_time_step_gradients"]
