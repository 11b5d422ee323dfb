"""A subclassed model's graph, recorded while its ``call`` runs.

``class M(keras.Model)`` writes ``call(inputs)`` as plain Python: layer calls, merge layers,
nested models, ``if``s. There is no graph to read beforehand, so while ``call`` runs, every
layer call is written down as a step (which arrays went in, which came out), exactly the
steps a functional model has. Backward then walks those steps in reverse, as it does for a
functional model.

Only layer calls are seen. An operation on layer outputs that is not a layer (``a + b``,
``np.concatenate``, ``x[:, 0]``) would be invisible to backward, and the gradient silently
wrong; so while recording, layer outputs are ``TrackedArray``s, which refuse NumPy
arithmetic with an error naming the operation and the layer to use instead, and a layer
refuses an input that no layer (and no model input) produced.
"""
from __future__ import annotations

from typing import Any

import numpy

from ..layers import layer as layer_module
from ..layers.node import flatten, op_error
from .graph import Step, add_activity_penalty

_SYMBOLS = {"add": "+", "subtract": "-", "multiply": "*", "matmul": "@", "divide": "/",
            "true_divide": "/", "negative": "neg", "power": "**"}


class TrackedArray(numpy.ndarray):
    """A layer output inside a subclassed model's call(): an ndarray that refuses NumPy
    operations, which backward could not follow."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        name = ufunc.__name__ if method == "__call__" else f"{ufunc.__name__}.{method}"
        raise op_error(_SYMBOLS.get(name, f"np.{name}"), _WHAT)

    def __array_function__(self, func, types, args, kwargs):
        if func in (numpy.shape, numpy.ndim, numpy.size):
            return func(*[a.view(numpy.ndarray) if isinstance(a, TrackedArray) else a
                          for a in args], **kwargs)
        raise op_error(f"np.{func.__name__}", _WHAT)

    def __repr__(self) -> str:
        return "Tracked" + repr(self.view(numpy.ndarray))

    __str__ = __repr__


_WHAT = "a layer's output inside call()"


class Recorder:
    """Collects the steps of one run of a subclassed model's ``call``."""

    def __init__(self, training: bool):
        self.training = training
        self.steps: list[Step] = []
        self.slots: dict[int, int] = {}          # id(tracked array) -> slot
        self.keep: list = []                     # the tracked arrays (so ids stay unique)
        self.last_step: dict[int, Step] = {}     # id(layer) -> its latest step

    def track(self, array: Any) -> Any:
        """A new slot for `array`; returns the tracked view that stands for it."""
        tracked = array.view(TrackedArray) if isinstance(array, numpy.ndarray) else array
        self.slots[id(tracked)] = len(self.keep)
        self.keep.append(tracked)
        return tracked

    def slot(self, array: Any, layer: Any, index: int) -> int:
        found = self.slots.get(id(array))
        if found is None:
            raise TypeError(
                f"Input {index} of layer {layer.name!r} ({type(layer).__name__}) was computed "
                f"outside a layer inside call() (by indexing, reshape, astype or another NumPy "
                f"operation), so backward cannot follow it. Do that work with a layer "
                f"(Reshape, Cropping, Concatenate, ...) or in a Layer subclass of your own with "
                f"forward and backward.")
        return found

    def record(self, layer: Any, inputs: Any, training: Any, mask: Any) -> Any:
        """Run `layer` on `inputs` (tracked arrays) and write the call down as a step."""
        list_in = isinstance(inputs, (list, tuple)) and (layer.takes_list or len(inputs) != 1)
        flat = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        ins = [self.slot(a, layer, i) for i, a in enumerate(flat)]
        plain = [a.view(numpy.ndarray) if isinstance(a, TrackedArray) else a for a in flat]
        previous = self.last_step.get(id(layer))
        if previous is not None and previous.state is None:
            previous.shared = True                       # a second call of the same layer:
            previous.state = snapshot(layer)             # keep the first call's state
        outer = layer_module.set_recorder(None)          # the layer's own insides run plain
        try:
            out = layer._eager_call(plain if list_in else plain[0],
                                    self.training if training is None else training, mask)
        finally:
            layer_module.set_recorder(outer)
        list_out = isinstance(out, (list, tuple))
        outs = list(out) if list_out else [out]
        tracked = [self.track(o) for o in outs]
        step = Step(layer, ins, [self.slots[id(t)] for t in tracked], list_in, list_out,
                    training)
        if step.activity is not None and not list_out and (
                self.training if training is None else training):
            add_activity_penalty(step, outs[0])
        if previous is not None:
            step.shared = True
            step.state = snapshot(layer)
        self.steps.append(step)
        self.last_step[id(layer)] = step
        return tracked if list_out else tracked[0]

    def output_slots(self, outputs: Any, model: Any) -> list[int]:
        slots = []
        for i, t in enumerate(flatten(outputs)):
            found = self.slots.get(id(t))
            if found is None:
                raise TypeError(
                    f"Output {i} of {type(model).__name__}.call() was not returned by a layer "
                    f"(it was computed with NumPy or indexing after the last layer call), so "
                    f"backward cannot follow it. End call() with a layer call.")
            slots.append(found)
        return slots


def snapshot(layer: Any) -> list:
    """What a layer (and the layers inside it) keep for backward, to be put back later."""
    saved = []
    for l in layer._flatten_layers():
        saved.append((l, dict(vars(l))))
        for step in getattr(l, "_steps", None) or ():
            saved.append((step, step.state))
    return saved


def restore(saved: list) -> None:
    for obj, state in saved:
        if isinstance(obj, Step):
            obj.state = state
        else:
            vars(obj).update(state)
