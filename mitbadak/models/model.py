"""Model: a graph of layer calls, walked forward in order and backward in reverse.

One class serves all three kinds of model:

- **functional**: ``keras.Model(inputs, outputs)``; the graph is the layer calls between the
  ``keras.Input``s and the outputs (graph.py turns it into a list of steps);
- **Sequential**: the chain special case (sequential.py);
- **subclassed**: ``class M(keras.Model)`` with ``call()``; its steps are recorded while
  ``call`` runs (recording.py).

The walk is the notes' computational graph at the scale of layers::

    forward:   for step in steps:            outs = layer.forward(ins)
    backward:  for step in reversed(steps):  d_ins = layer.backward(d_outs)
               a tensor that fed several steps gets the SUM of their gradients

A layer used in several steps (shared) keeps one set of weights; its state is kept per step
and its weight gradients are summed over the steps. A model is itself a layer, so a model
can be used inside another model.
"""
from __future__ import annotations

import inspect
from typing import Any

from .. import backend
from ..backend import xp
from ..layers.layer import Layer, set_recorder, takes_mask
from ..layers.node import KerasTensor, dummy_array, flatten, pack_like, shape_str
from . import graph, recording
from .trainer import Trainer

# The saving package, registered by it at import (models never import saving).
_saving: Any = None


def register_saving(module: Any) -> None:
    global _saving
    _saving = module


def saving_api() -> Any:
    """mitbadak.saving, for model.save and friends (looked up at call time)."""
    if _saving is None:
        import importlib
        importlib.import_module("mitbadak.saving")    # registers itself
    return _saving


_PLAIN = (str, int, float, bool, type(None))


def _auto_config(cls: type, args: tuple, kwargs: dict) -> dict | None:
    """Keras 3's automatic config of a subclassed model: the arguments its __init__ was
    called with, by name, when every one is a plain value (numbers, strings, booleans, None,
    and lists/dicts of them); None otherwise (then the class needs its own get_config)."""
    try:
        signature = inspect.signature(cls.__init__)
        bound = signature.bind(None, *args, **kwargs)
    except (TypeError, ValueError):
        return None
    values = dict(list(bound.arguments.items())[1:])             # without self
    for name, param in signature.parameters.items():
        if param.kind is param.VAR_POSITIONAL and values.get(name):
            return None
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            values.update(values.pop(name, None) or {})

    def plain(v: Any) -> bool:
        if isinstance(v, (list, tuple)):
            return all(plain(e) for e in v)
        if isinstance(v, dict):
            return all(isinstance(k, str) and plain(e) for k, e in v.items())
        return isinstance(v, _PLAIN)
    return values if plain(values) else None


def _graph_arguments(args: tuple, kwargs: dict) -> bool:
    return len(args) == 2 or "inputs" in kwargs or "outputs" in kwargs or (
        len(args) == 1 and "outputs" in kwargs)


class Model(Trainer, Layer):
    """``keras.Model(inputs, outputs, name=None)`` or ``class MyModel(keras.Model)``."""

    # A nested model called without training= hands None on: each layer uses its own default.
    training_default: Any = None

    def __new__(cls, *args: Any, **kwargs: Any):
        if cls is Model and _graph_arguments(args, kwargs):
            return super().__new__(Functional)
        instance = super().__new__(cls)
        if not cls.__module__.startswith("mitbadak."):          # a learner's subclass
            instance._auto_config = _auto_config(cls, args, kwargs)
        return instance

    def __init__(self, *args: Any, **kwargs: Any):
        name = kwargs.pop("name", None)
        trainable = kwargs.pop("trainable", True)
        graph_mode = _graph_arguments(args, kwargs)
        if graph_mode:
            inputs = kwargs.pop("inputs", args[0] if args else None)
            outputs = kwargs.pop("outputs", args[1] if len(args) > 1 else None)
            args = ()
        if args or kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected argument(s) "
                            f"{', '.join([repr(a) for a in args] + sorted(kwargs))}. A model "
                            f"is made with keras.Model(inputs, outputs, name=...) or by "
                            f"subclassing keras.Model.")
        default = "functional" if graph_mode and type(self) in (Model, Functional) else \
            backend.snake_case(type(self).__name__)
        Layer.__init__(self, trainable=trainable, name=name or backend.unique_name(default))
        Trainer.__init__(self)
        self._graph = False
        self._chain = False
        self._steps: list = []
        if graph_mode:
            self._init_graph(inputs, outputs)
            if not trainable:
                self.trainable = False          # freezes every layer, as in Keras

    # ================================================================ the graph
    def _init_graph(self, inputs: Any, outputs: Any) -> None:
        """Make this model the graph of layer calls from `inputs` to `outputs`."""
        for what, structure in (("inputs", inputs), ("outputs", outputs)):
            for t in flatten(structure):
                if not isinstance(t, KerasTensor):
                    raise TypeError(
                        f"keras.Model: every entry of `{what}` must be a symbolic tensor "
                        f"(from keras.Input(...) or a layer called on one); got "
                        f"{type(t).__name__}. Did you pass data instead of keras.Input(...)?")
        if isinstance(inputs, dict):
            for key, t in inputs.items():
                if key != t.name:
                    raise ValueError(f"keras.Model: the inputs dict key {key!r} names tensor "
                                     f"{t.name!r}; use keras.Input(..., name={key!r}) so "
                                     f"that data dicts can be matched to inputs by name.")
        self._inputs_struct, self._outputs_struct = inputs, outputs
        self._graph_inputs, self._graph_outputs = flatten(inputs), flatten(outputs)
        nodes, layers = graph.map_graph(self._graph_inputs, self._graph_outputs)
        names = {}
        for layer in layers:
            if layer.name in names:
                raise ValueError(
                    f"All layer names in a model must be unique: {layer.name!r} is used by "
                    f"two layers ({type(names[layer.name]).__name__} and "
                    f"{type(layer).__name__}). Give one of them another name=...")
            names[layer.name] = layer
        self._graph_layers = layers
        self._nodes = nodes
        self._steps, self._n_slots, self._input_slots, self._output_slots = \
            graph.compile_steps(self._graph_inputs, self._graph_outputs, nodes)
        self._graph = True
        self._after_graph_change()
        self.output_names = [t._keras_history[0].name for t in self._graph_outputs]

    def _after_graph_change(self) -> None:
        counts: dict[int, int] = {}
        for step in self._steps:
            counts[id(step.layer)] = counts.get(id(step.layer), 0) + 1
        for step in self._steps:
            step.shared = counts[id(step.layer)] > 1
        self._uses_masks = any(type(l).compute_mask is not Layer.compute_mask
                               for l in self._walk_leaves())
        consumers: dict[int, int] = {}
        for step in self._steps:
            for i in step.ins:
                consumers[i] = consumers.get(i, 0) + 1
        self._consumers = consumers
        # The chain special case (a Sequential; a functional model without branches): each
        # step reads the previous step's output. Its walk is a plain loop over the layers.
        slot = self._input_slots[0] if len(self._input_slots) == 1 else None
        chain = slot is not None and not self._uses_masks
        for step in self._steps:
            if not chain:
                break
            chain = (step.ins == [slot] and not step.list_in and not step.list_out and
                     not step.shared and consumers.get(slot) == 1)
            slot = step.outs[0]
        self._chain = chain and self._output_slots == [slot]
        self._reset_compiled_state()

    def _walk_leaves(self) -> list:
        return [l for l in self._flatten_layers() if l is not self]

    # ---------------------------------------------------------------- attributes
    @property
    def inputs(self) -> list[KerasTensor]:
        """The model's symbolic inputs (keras.Input tensors), in order."""
        if not self._graph:
            raise AttributeError(f"Model {self.name!r} has no defined inputs yet: a Sequential "
                                 f"gets them when built (give the first layer input_shape=, "
                                 f"start with keras.Input, or fit it); a subclassed model has "
                                 f"none.")
        return list(self._graph_inputs)

    @property
    def outputs(self) -> list[KerasTensor]:
        if not self._graph:
            raise AttributeError(f"Model {self.name!r} has no defined outputs yet.")
        return list(self._graph_outputs)

    @property
    def layers(self) -> list[Layer]:
        """Functional: every layer of the graph, InputLayers included, in Keras's order;
        subclassed: the layers assigned as attributes."""
        if self._graph:
            return list(self._graph_layers)
        return Layer._sublayers(self)

    def _sublayers(self) -> list[Layer]:
        return self.layers

    @property
    def built(self) -> bool:
        return self._graph or self._built

    @built.setter
    def built(self, value: bool) -> None:
        self._built = bool(value)

    @property
    def input_shape(self) -> Any:
        if self._graph:
            shapes = [t.shape for t in self.inputs]
            return shapes[0] if len(shapes) == 1 else shapes
        if self._call_input_shape is None:
            raise AttributeError(f"The model {self.name!r} has not been called yet, so it has "
                                 f"no input_shape.")
        return self._call_input_shape

    @input_shape.setter
    def input_shape(self, value: Any) -> None:
        self._call_input_shape = value

    @property
    def output_shape(self) -> Any:
        if self._graph:
            shapes = [t.shape for t in self.outputs]
            return shapes[0] if len(shapes) == 1 else shapes
        if self._call_output_shape is None:
            raise AttributeError(f"The model {self.name!r} has not been called yet, so it has "
                                 f"no output_shape.")
        return self._call_output_shape

    @output_shape.setter
    def output_shape(self, value: Any) -> None:
        self._call_output_shape = value

    @property
    def input(self) -> Any:
        """The symbolic input(s), in the structure the model was made with."""
        if self._graph:
            return self._inputs_struct
        return Layer.input.fget(self)

    @property
    def output(self) -> Any:
        if self._graph:
            return self._outputs_struct
        return Layer.output.fget(self)

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by name, or by index in ``model.layers``."""
        layers = self.layers
        if index is not None:
            if name is not None:
                raise ValueError("get_layer: give name or index, not both.")
            if not -len(layers) <= index < len(layers):
                raise ValueError(f"get_layer: index {index} is out of range for model "
                                 f"{self.name!r}, which has {len(layers)} layers.")
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name!r}. Existing layers are: "
                         f"{[l.name for l in layers]}.")

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(f"You tried to call count_params on model {self.name!r}, which has "
                             f"not been built yet: give it an input shape or call it on data.")
        return Layer.count_params(self)

    # ---------------------------------------------------------------- building
    def build(self, input_shape: Any = None) -> None:
        """A subclassed model creates its weights by running ``call`` once on zeros of
        `input_shape` (batch axis first); a functional model is built already."""
        if self._graph:
            return
        if input_shape is None:
            raise ValueError(f"build() of model {self.name!r} needs an input shape, e.g. "
                             f"model.build((None, 784)).")
        if isinstance(input_shape, dict):          # call() takes a dict: {name: shape}
            self._call_inputs_struct = list(input_shape)
            shapes = list(input_shape.values())
        else:
            shapes = input_shape if isinstance(input_shape, list) else [input_shape]
        self._forward_list([dummy_array(tuple(s), self.dtype) for s in shapes], False)
        self._built = True
        self._call_input_shape = input_shape

    def compute_output_shape(self, input_shape: Any) -> Any:
        if self._graph:
            return self.output_shape
        shapes = input_shape if isinstance(input_shape, list) else [input_shape]
        outs = self._forward_list([dummy_array(tuple(s), self.dtype) for s in shapes], False)
        result = [(None,) + tuple(o.shape[1:]) for o in outs]
        return result if len(result) > 1 else result[0]

    def _maybe_build(self, input_shape: Any) -> None:
        if not self.built:
            self.build(input_shape)
            self._call_output_shape = self.compute_output_shape(input_shape)

    # ================================================================ calling
    def __call__(self, inputs: Any, training: Any = None, mask: Any = None, **kwargs: Any):
        """On symbolic tensors: a node (the model used as a layer). On data: the outputs, as
        ``model(x)`` in Keras (a NumPy array, or a list/dict for several outputs)."""
        if kwargs:
            raise TypeError(f"Model {self.name!r} got unexpected call argument(s) "
                            f"{', '.join(sorted(kwargs))}.")
        if any(isinstance(t, KerasTensor) for t in flatten(inputs)):
            return Layer.__call__(self, inputs, training=training)
        if recording_active():
            return Layer.__call__(self, inputs, training=training, mask=mask)
        xs = self._cast_inputs(self._standardize_inputs(inputs))
        outs = self._forward_list(xs, None if training is None else bool(training))
        return self._pack_outputs(outs)

    def _check_call_inputs(self, shape: Any, list_input: bool) -> None:
        """A model used as a layer takes as many tensors as it has inputs (a list for more
        than one); a subclassed model's call() decides for itself."""
        if not self._graph:
            return
        n = len(self.inputs)
        got = len(shape) if list_input else 1
        if got != n:
            expected = [t.shape for t in self.inputs]
            raise ValueError(
                f"Model {self.name!r} expects {n} input{'s' if n != 1 else ''} "
                f"({shape_str(expected if n > 1 else expected[0])}); got {got} "
                f"({shape_str(shape)}). "
                + (f"Call it on a list of {n} tensors, in the order of model.inputs "
                   f"({', '.join(repr(t.name) for t in self.inputs)})."
                   if n > 1 else "Call it on one tensor."))

    def forward(self, x: Any, training: bool = False) -> Any:
        """The model as a layer: one array or a list in, one array or a list out."""
        outs = self._forward_list(x if isinstance(x, list) else [x], training)
        return outs if self._returns_list() else outs[0]

    def backward(self, dy: Any) -> Any:
        """The model as a layer: dL/d(outputs) in, dL/d(inputs) out (None when not needed)."""
        grads = self._walk_backward(dy if isinstance(dy, list) else [dy],
                                    need_input_grads=self.needs_input_grad)
        if grads is None:
            return None
        return grads if (self._graph and len(self.inputs) > 1) or \
            (not self._graph and len(grads) > 1) else grads[0]

    def _returns_list(self) -> bool:
        if self._graph:
            return len(self.outputs) > 1
        return len(self._output_slots) > 1

    def _forward_list(self, xs: list, training: bool) -> list:
        if self._graph:
            return self._walk_forward(xs, training)
        return self._call_forward(xs, training)

    # ---------------------------------------------------------------- the forward walk
    def _walk_forward(self, xs: list, training: bool, start: int = 0,
                      preset: tuple | None = None) -> list:
        """Run the steps from `start`: the inputs (or `preset` = (slot, value), the output of
        the steps before `start`) in, the model's outputs out."""
        if self._chain:
            x = xs[0] if preset is None else preset[1]
            for step in self._steps[start:] if start else self._steps:
                tr = training if step.training is None else step.training
                if tr is None:                  # model(x) without training=: the layer's own
                    tr = step.layer.training_default
                x = step.layer.forward(x, training=tr)
                if step.activity is not None and tr:
                    graph.add_activity_penalty(step, x)
            return [x]
        vals = [None] * self._n_slots
        if preset is None:
            for slot, x in zip(self._input_slots, xs):
                vals[slot] = x
        else:
            vals[preset[0]] = preset[1]
        masks = [None] * self._n_slots if self._uses_masks else None
        for step in self._steps[start:] if start else self._steps:
            layer = step.layer
            x = [vals[i] for i in step.ins] if step.list_in else vals[step.ins[0]]
            tr = training if step.training is None else step.training
            if tr is None:                      # model(x) without training=: the layer's own
                tr = layer.training_default
            if masks is None:
                y = layer.forward(x, training=tr)
            else:
                m = [masks[i] for i in step.ins] if step.list_in else masks[step.ins[0]]
                has_mask = any(v is not None for v in m) if step.list_in else m is not None
                y = layer.forward(x, training=tr, mask=m) if has_mask and takes_mask(layer) \
                    else layer.forward(x, training=tr)
                out_mask = layer.compute_mask(x, m if has_mask else None)
                if step.list_out:
                    out_mask = out_mask if isinstance(out_mask, list) else \
                        [out_mask] + [None] * (len(step.outs) - 1)
                    for i, mv in zip(step.outs, out_mask):
                        masks[i] = mv
                else:
                    masks[step.outs[0]] = out_mask
            if step.list_out:
                for i, v in zip(step.outs, y):
                    vals[i] = v
            else:
                vals[step.outs[0]] = y
                if step.activity is not None and tr:
                    graph.add_activity_penalty(step, y)
            if step.shared:
                step.state = recording.snapshot(layer)
        return [vals[i] for i in self._output_slots]

    # ---------------------------------------------------------------- subclassed models
    def call(self, inputs: Any, training: Any = None) -> Any:
        raise NotImplementedError(
            f"{type(self).__name__} subclasses keras.Model but has no call(inputs) method. "
            f"Write call(self, inputs, training=None) with your layers, or build the model "
            f"with keras.Model(inputs, outputs).")

    def _call_forward(self, xs: list, training: bool) -> list:
        """Run ``call`` on the data, recording its layer calls as steps."""
        rec = recording.Recorder(training)
        tracked = [rec.track(x) for x in xs]
        inputs = self._pack_call_inputs(tracked)
        outer = set_recorder(rec)
        try:
            if "training" in inspect.signature(self.call).parameters:
                out = self.call(inputs, training=training)
            else:
                out = self.call(inputs)
        finally:
            set_recorder(outer)
        self._steps, self._n_slots = rec.steps, len(rec.keep)
        self._input_slots = list(range(len(xs)))
        self._output_slots = rec.output_slots(out, self)
        self._call_outputs_struct = _structure(out)
        self._prepare_backward(self._fused_outputs)
        if not self._built:          # the first call creates the weights: the model is built
            self._built = True
            self._call_input_shape = self._call_shape([(None,) + tuple(x.shape[1:])
                                                       for x in xs])
            outs = [(None,) + tuple(rec.keep[s].shape[1:]) for s in self._output_slots]
            self._call_output_shape = outs if len(outs) > 1 else outs[0]
        return [rec.keep[s].view(xp.ndarray) if isinstance(rec.keep[s], recording.TrackedArray)
                else rec.keep[s] for s in self._output_slots]

    def _call_shape(self, shapes: list) -> Any:
        """One shape per input -> the input shape in the structure call() takes: a shape, a
        list of shapes, or {input name: shape} for a dict."""
        keys = getattr(self, "_call_inputs_struct", None)
        if isinstance(keys, list):                      # dict keys
            return dict(zip(keys, shapes))
        return shapes if len(shapes) > 1 else shapes[0]

    def _pack_call_inputs(self, tracked: list) -> Any:
        kind = getattr(self, "_call_inputs_struct", None)
        if isinstance(kind, list):                      # dict keys
            return dict(zip(kind, tracked))
        if kind == "list" or (kind is None and len(tracked) > 1):
            return list(tracked)
        return tracked[0]

    # ================================================================ backward
    def _prepare_backward(self, fused_outputs: Any = ()) -> None:
        """Which steps need backward at all, which need dL/dx, which are shared or fused.

        A step needs dL/d(its inputs) only when some step before it has weights to train;
        a step with no trainable weights and none before it is skipped (the notes' first
        layer never computes dx)."""
        trainable_before = [False] * self._n_slots
        has_weights: dict[int, bool] = {}
        counts: dict[int, int] = {}
        for step in self._steps:
            key = id(step.layer)
            if key not in has_weights:
                has_weights[key] = any(l.params for l in step.layer._flatten_layers())
                if isinstance(step.layer, Model):
                    step.layer._prepare_backward()
            counts[key] = counts.get(key, 0) + 1
            before = any(trainable_before[i] for i in step.ins)
            step.needs_dx = before
            step.skip = not (before or has_weights[key])
            for i in step.outs:
                trainable_before[i] = before or has_weights[key]
        producer = {s: step for step in self._steps for s in step.outs}
        for step in self._steps:
            step.shared = step.shared or counts[id(step.layer)] > 1
            step.fused = False
        for k in fused_outputs or ():
            step = producer.get(self._output_slots[k])
            if step is not None:
                step.fused = True
        self._producer = producer

    def _walk_backward(self, out_grads: list, need_input_grads: bool = False, stop: int = 0,
                       want_slot: int | None = None) -> Any:
        """dL/d(outputs) back through the steps (down to `stop`); returns dL/d(inputs) when
        `need_input_grads`, or the gradient in `want_slot`."""
        if self._chain and self._graph:
            return self._chain_backward(out_grads[0], need_input_grads, stop)
        g: list = [None] * self._n_slots
        for slot, d in zip(self._output_slots, out_grads):
            if d is not None:
                g[slot] = d if g[slot] is None else g[slot] + d
        totals: dict | None = None
        for index in range(len(self._steps) - 1, stop - 1, -1):
            step = self._steps[index]
            if step.skip and not need_input_grads:
                continue
            if step.list_out:
                dy = [g[i] for i in step.outs]
                if all(d is None for d in dy):
                    continue
            else:
                dy = g[step.outs[0]]
                if dy is None:
                    continue
            layer = step.layer
            if step.shared:
                recording.restore(step.state)
            if step.activity is not None and not step.list_out:
                dy = graph.activity_gradient(step, dy)
            needs_dx = step.needs_dx or need_input_grads
            layer.needs_input_grad = needs_dx
            dx = layer.backward(dy, skip_activation=True) if step.fused else layer.backward(dy)
            layer.needs_input_grad = True
            if step.shared:
                totals = _sum_grads(layer, totals)
            if needs_dx and dx is not None:
                if step.list_in:
                    for i, d in zip(step.ins, dx):
                        if d is not None:
                            g[i] = d if g[i] is None else g[i] + d
                else:
                    i = step.ins[0]
                    g[i] = dx if g[i] is None else g[i] + dx
            for i in step.outs:
                g[i] = None
        if totals:
            for (layer, name), total in totals.items():
                layer.grads[name] = total
        if want_slot is not None:
            return g[want_slot]
        return [g[s] for s in self._input_slots] if need_input_grads else None

    def _chain_backward(self, dy: Any, need_input_grads: bool, stop: int) -> Any:
        """The walk back along a chain: each layer hands dL/d(its input) to the one before;
        it stops at the first layer with nothing to train before it (no dx needed there)."""
        steps = self._steps
        for index in range(len(steps) - 1, stop - 1, -1):
            step = steps[index]
            if step.skip and not need_input_grads:
                return None
            layer = step.layer
            if step.activity is not None:
                dy = graph.activity_gradient(step, dy)
            layer.needs_input_grad = step.needs_dx or need_input_grads
            dy = layer.backward(dy, skip_activation=True) if step.fused else layer.backward(dy)
            layer.needs_input_grad = True
            if dy is None:
                return None
        return [dy] if need_input_grads else dy

    # ================================================================ inputs / outputs
    def _input_dtype(self, i: int) -> Any:
        """The float type input i is cast to (None: an integer input, kept as it is)."""
        if self._graph:
            dtype = self._graph_inputs[i].dtype
            return dtype if dtype in _FLOAT_TYPES else None
        return self.dtype

    def _standardize_inputs(self, x: Any) -> list:
        """Data in the structure the user gives (an array, a list, a dict by input name) ->
        one array per model input, in the model's input order."""
        if self._graph:
            names = [t.name for t in self.inputs]
            if isinstance(x, dict):
                missing = [n for n in names if n not in x]
                if missing:
                    raise ValueError(
                        f"Model {self.name!r}: the input dict has keys {sorted(x)} but no data "
                        f"for input(s) {missing}. The model's inputs are {names}; give a dict "
                        f"with exactly those keys (the names given to keras.Input(name=...)).")
                extra = [k for k in x if k not in names]
                if extra:
                    raise ValueError(
                        f"Model {self.name!r}: the input dict has unknown key(s) {extra}; the "
                        f"model's inputs are {names}.")
                xs = [x[n] for n in names]
            elif isinstance(x, (list, tuple)) and len(names) > 1:
                if len(x) != len(names):
                    raise ValueError(f"Model {self.name!r} expects {len(names)} inputs "
                                     f"({names}); got a list of {len(x)} arrays.")
                xs = list(x)
            elif isinstance(x, (list, tuple)) and len(x) == 1 and hasattr(x[0], "shape"):
                xs = [x[0]]
            else:
                if len(names) > 1:
                    raise ValueError(f"Model {self.name!r} expects {len(names)} inputs "
                                     f"({names}); got one array. Pass a list or a dict.")
                xs = [x]
        else:
            if isinstance(x, dict):
                self._call_inputs_struct = list(x)
                xs = list(x.values())
            elif isinstance(x, (list, tuple)) and x and all(hasattr(a, "shape") for a in x):
                self._call_inputs_struct = "list"
                xs = list(x)
            else:
                self._call_inputs_struct = "single"
                xs = [x]
        return [_as_array(a, i, self._takes_text(i)) for i, a in enumerate(xs)]

    def _takes_text(self, i: int) -> bool:
        """Input i holds strings: a keras.Input(dtype="string"), or a Sequential whose first
        layer reads text (TextVectorization)."""
        if self._graph:
            return self._graph_inputs[i].dtype == "string"
        first = (getattr(self, "_layers", None) or [None])[0]
        return getattr(first, "input_dtype", None) == "string"

    def _pack_outputs(self, outs: list) -> Any:
        """Outputs in the structure the model was built with (an array, a list, a dict)."""
        struct = self._outputs_struct if self._graph else self._call_outputs_struct
        if self._graph and isinstance(struct, (list, tuple)) and len(struct) == 1:
            struct = struct[0]        # Keras unpacks one output given as [y]: an array
        return pack_like(struct, [backend.to_numpy(o) for o in outs])

    @property
    def output_names(self) -> list[str]:
        if self._graph:
            return self._output_names
        struct = getattr(self, "_call_outputs_struct", None)
        if isinstance(struct, dict):
            return list(struct)
        n = len(self._output_slots) if self._steps else 1
        return [f"output_{i + 1}" for i in range(n)]

    @output_names.setter
    def output_names(self, value: list) -> None:
        self._output_names = list(value)

    # ================================================================ files, summary
    def summary(self, line_length: int | None = None, positions: list | None = None,
                print_fn: Any = None, expand_nested: bool = False, show_trainable: bool = False,
                layer_range: Any = None) -> None:
        """Print the tf.keras 2.x table: layers, output shapes, parameter counts, totals."""
        from . import summary
        summary.print_summary(self, line_length=line_length, positions=positions,
                              print_fn=print_fn, expand_nested=expand_nested,
                              show_trainable=show_trainable, layer_range=layer_range)

    def save(self, filepath: Any, overwrite: bool = True, **kwargs: Any) -> None:
        """model.save('m.keras') (Keras 3 zip) or model.save('m.h5') (legacy HDF5)."""
        saving_api().save_model(self, filepath, overwrite=overwrite, **kwargs)

    def save_weights(self, filepath: Any, overwrite: bool = True, **kwargs: Any) -> None:
        saving_api().save_weights(self, filepath, overwrite=overwrite, **kwargs)

    def load_weights(self, filepath: Any, skip_mismatch: bool = False, **kwargs: Any) -> None:
        saving_api().load_weights(self, filepath, skip_mismatch=skip_mismatch, **kwargs)

    def to_json(self, **kwargs: Any) -> str:
        return saving_api().model_to_json(self, **kwargs)

    def get_config(self) -> dict:
        if not self._graph:
            base = {"name": self.name, "trainable": self.trainable}
            if type(self).get_config is Model.get_config:
                auto = getattr(self, "_auto_config", None)
                if auto is None:
                    return base
                # Keras 3: the arguments __init__ was given; name and trainable only where
                # __init__ takes them (by name or through **kwargs).
                params = inspect.signature(type(self).__init__).parameters
                if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
                    base = {k: v for k, v in base.items() if k in params}
                return {**base, **auto}
        return saving_api().serialization.model_inner_config(self)

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "Model":
        if "layers" in config and "input_layers" in config:
            return saving_api().serialization.functional_from_config(
                config, custom_objects, cls=cls)
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


class Functional(Model):
    """What ``keras.Model(inputs, outputs)`` makes (the class name in saved configs)."""


# ==================================================================== helpers
_FLOAT_TYPES = {"float16", "bfloat16", "float32", "float64"}


def recording_active() -> bool:
    from ..layers import layer as layer_module
    return layer_module._recorder is not None


def _sum_grads(layer: Layer, totals: dict | None) -> dict:
    """Add the gradients a shared layer (and the layers inside it) just wrote to `totals`."""
    totals = {} if totals is None else totals
    for l in layer._flatten_layers():
        for name, grad in l.grads.items():
            key = (l, name)
            if key in totals:
                totals[key] = totals[key] + grad
            else:
                totals[key] = grad.copy()
    return totals


def _structure(out: Any) -> Any:
    """The shape of call()'s return value: a dict's keys, a tuple or list's length."""
    if isinstance(out, dict):
        return {k: None for k in out}
    if isinstance(out, tuple):
        return (None,) * len(out)
    if isinstance(out, list):
        return [None] * len(out)
    return None


def _as_array(a: Any, index: int, text: bool = False) -> Any:
    if a is None:
        raise ValueError(f"Input {index} is None: pass the input data as a NumPy array.")
    try:
        a = xp.asarray(a)
    except ValueError:
        if _ragged(a):
            raise ValueError(_ragged_message(a, index)) from None
        raise
    if a.dtype.kind == "O" and _ragged(a):
        raise ValueError(_ragged_message(a, index))
    if text and a.dtype.kind in "USO":
        return a
    if a.dtype.kind not in "biuf":
        kind = "text" if a.dtype.kind in "USO" else str(a.dtype)
        raise TypeError(f"Input {index} must be numeric; got an array of {kind}. Turn text into "
                        f"numbers first (a Tokenizer or TextVectorization layer), or encode "
                        f"labels with integers.")
    return a


def _ragged(a: Any) -> bool:
    """A list (or object array) of sequences of different lengths: word ids of texts."""
    try:
        return len(a) > 0 and all(hasattr(v, "__len__") and not isinstance(v, (str, bytes))
                                  for v in a[:100]) and len({len(v) for v in a}) > 1
    except TypeError:
        return False


def _ragged_message(a: Any, index: int) -> str:
    lengths = [len(v) for v in a]
    return (f"Input {index} is {len(a)} sequences of different lengths ({min(lengths)} to "
            f"{max(lengths)} items), such as imdb.load_data() returns; a model needs one "
            f"rectangular array. Pad (and cut) them to one length first: "
            f"x = keras.utils.pad_sequences(x, maxlen=100).")


__all__ = ["Model", "Functional", "register_saving", "saving_api", "shape_str"]
