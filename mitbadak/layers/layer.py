"""The Layer base class: the contract every layer keeps.

A layer turns an array into an array (``forward``) and a gradient into a gradient
(``backward``). Parameters live in ``self._weights`` (name -> array, in creation order, the
order of ``get_weights`` and of saved files); ``backward`` writes ``self.grads[name]`` for
every trainable one. Optimizers, ``summary``, ``get_weights`` and the file formats all read
this single source of truth.
"""
from __future__ import annotations

import math
from typing import Any

import numpy

from .. import backend, constraints, initializers, regularizers
from ..backend import xp
from .node import is_symbolic, shape_str, symbolic_call

_BASE_KWARGS = ("input_shape", "input_dim", "batch_input_shape", "batch_size", "batch_shape")


class Variable:
    """A read/write view of one layer weight, as Keras's ``layer.weights`` entries look.

    ``.name`` ('kernel'), ``.path`` ('dense/kernel'), ``.shape``, ``.dtype``, ``.trainable``,
    ``.numpy()``, ``.assign(value)``; it converts to an array with ``np.asarray``.
    """

    def __init__(self, layer: "Layer", name: str):
        self._layer, self.name = layer, name

    @property
    def value(self):
        return self._layer._weights[self.name]

    path = property(lambda self: f"{self._layer.name}/{self.name}")
    shape = property(lambda self: tuple(self.value.shape))
    dtype = property(lambda self: self.value.dtype.name)
    trainable = property(lambda self: self._layer.trainable and
                         self.name in self._layer._trainable_names)

    def numpy(self):
        return backend.to_numpy(self.value).copy()

    def assign(self, value) -> None:
        self._layer._assign(self.name, value)

    def __array__(self, dtype=None, copy=None):
        a = backend.to_numpy(self.value)
        return a.astype(dtype) if dtype is not None else a

    def __repr__(self):
        return f"<Variable path={self.path}, shape={self.shape}, dtype={self.dtype}>"


class Layer:
    """Base class. Subclasses write ``build``, ``forward``, ``backward`` and ``get_config``.

    A layer called on a list (``Concatenate()([a, b])``) gets a list in ``forward`` and returns
    a list of input gradients from ``backward``; a layer with several outputs
    (``LSTM(return_state=True)``) returns a list from ``forward`` and gets a list (entries may
    be None: no gradient reached that output) in ``backward``.
    """

    # True when each sample's output depends on that sample alone, in training too, so a
    # batch may be computed in slices (see models/slicing.py). BatchNormalization's is False.
    per_sample = True
    # True for layers that take a list of inputs (the merge layers).
    takes_list = False
    # True when the layer passes a mask through unchanged (Keras's supports_masking).
    supports_masking = False
    # Integer inputs (token ids) are cast to the layer's float dtype unless this is True.
    keeps_integer_inputs = False
    # What training=None means when the layer (or a model holding it) is called on data
    # without training=: Keras uses the default of the layer's call() (True for the
    # augmentation layers, False for Dropout). A model passes None on to its layers.
    training_default: Any = False

    def __init__(self, trainable: bool = True, name: str | None = None, dtype: Any = None,
                 **kwargs: Any):
        unknown = set(kwargs) - set(_BASE_KWARGS)
        if unknown:
            raise TypeError(f"{type(self).__name__}: unexpected keyword argument(s) "
                            f"{', '.join(sorted(unknown))}")
        self.name = name or backend.unique_name(backend.snake_case(type(self).__name__))
        if not isinstance(self.name, str):
            raise TypeError(f"Layer name must be a string; got {self.name!r}")
        self._trainable = bool(trainable)
        self._inbound_nodes: list = []      # one Node per symbolic call (node.py)
        self.dtype = backend.standardize_dtype(dtype)
        self.built = False
        self.needs_input_grad = True     # the first layer of a model skips computing dx
        self._weights: dict[str, Any] = {}
        self._trainable_names: list[str] = []
        self._regularizers: dict[str, Any] = {}
        self._constraints: dict[str, Any] = {}
        self.activity_regularizer = None
        self.grads: dict[str, Any] = {}
        self.input_shape = self.output_shape = None
        self._batch_input_shape = _declared_input_shape(kwargs)

    # ------------------------------------------------------------- weights
    def add_weight(self, name: str, shape: tuple, initializer: Any = "glorot_uniform",
                   trainable: bool = True, regularizer: Any = None, constraint: Any = None,
                   dtype: Any = None) -> Any:
        """Create a parameter with its initializer and register it under `name`."""
        init = initializers.get(initializer)
        value = xp.asarray(init(tuple(shape), dtype=dtype or self.dtype), dtype=dtype or self.dtype)
        self._weights[name] = value
        if trainable:
            self._trainable_names.append(name)
        if regularizer is not None:
            self._regularizers[name] = regularizers.get(regularizer)
        if constraint is not None:
            self._constraints[name] = constraints.get(constraint)
        return value

    @property
    def params(self) -> list:
        """This layer's own trainable parameter arrays, in order (empty when frozen)."""
        return [self._weights[n] for n in self._trainable_names] if self.trainable else []

    # ------------------------------------------------------------- sub-layers
    def _sublayers(self) -> list["Layer"]:
        """The layers this one holds as attributes (an RNN's ``cell``, a wrapper's ``layer``,
        a subclassed model's layers; lists and tuples of layers too), in assignment order."""
        found: list = []
        for value in vars(self).values():
            items = value if isinstance(value, (list, tuple)) else (value,)
            for v in items:
                if isinstance(v, Layer) and v is not self and all(v is not f for f in found):
                    found.append(v)
        return found

    def _flatten_layers(self) -> list["Layer"]:
        """This layer, then its sub-layers depth first, each once: whose weights it holds."""
        out, seen = [], set()
        stack = [self]
        while stack:
            layer = stack.pop()
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            out.append(layer)
            stack.extend(reversed(layer._sublayers()))
        return out

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        """Freezing a layer freezes the layers it holds, as in Keras."""
        self._trainable = bool(value)
        for layer in self._sublayers():
            layer.trainable = value

    @property
    def weights(self) -> list[Variable]:
        """Every weight: this layer's own, then each sub-layer's (Keras 3's order)."""
        return [Variable(l, n) for l in self._flatten_layers() for n in l._weights]

    @property
    def trainable_weights(self) -> list[Variable]:
        return [Variable(l, n) for l in self._flatten_layers() if l.trainable
                for n in l._trainable_names]

    @property
    def non_trainable_weights(self) -> list[Variable]:
        return [Variable(l, n) for l in self._flatten_layers() for n in l._weights
                if not (l.trainable and n in l._trainable_names)]

    def get_weights(self) -> list:
        return [backend.to_numpy(w).copy() for l in self._flatten_layers()
                for w in l._weights.values()]

    def set_weights(self, weights: list) -> None:
        targets = [(l, n) for l in self._flatten_layers() for n in l._weights]
        if len(weights) != len(targets):
            raise ValueError(f"Layer {self.name!r} expects {len(targets)} weight arrays "
                             f"({', '.join(v.path for v in self.weights) or 'none'}); got "
                             f"{len(weights)}.")
        for (layer, name), w in zip(targets, weights):
            target = layer._weights[name]
            if tuple(numpy.shape(w)) != tuple(target.shape):
                raise ValueError(f"Layer {self.name!r} weight {layer.name}/{name}: expected "
                                 f"shape {tuple(target.shape)}; got {tuple(numpy.shape(w))}.")
        for (layer, name), w in zip(targets, weights):
            layer._assign(name, w)

    def _assign(self, name: str, value: Any) -> None:
        # Copy in place so optimizers and views keep pointing at the same array.
        target = self._weights[name]
        value = xp.asarray(value)
        if value.shape != target.shape:
            raise ValueError(f"Layer {self.name!r} weight {name!r}: expected shape "
                             f"{tuple(target.shape)}; got {tuple(value.shape)}.")
        target[...] = value

    def count_params(self) -> int:
        return int(sum(math.prod(w.shape) for l in self._flatten_layers()
                       for w in l._weights.values()))

    def regularization_loss(self) -> float:
        """Sum of the weight penalties (L1/L2) of this layer."""
        return sum(float(r(self._weights[n])) for n, r in self._regularizers.items())

    def add_regularization_grads(self) -> None:
        for n, r in self._regularizers.items():
            if n in self.grads:
                self.grads[n] = self.grads[n] + r.gradient(self._weights[n])

    def apply_constraints(self) -> None:
        for n, c in self._constraints.items():
            self._weights[n][...] = c(self._weights[n])

    # ------------------------------------------------------------- computation
    def build(self, input_shape: tuple) -> None:
        """Create the weights once the input shape (batch axis first, may be None) is known."""
        self.built = True

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return tuple(input_shape)

    def forward(self, x: Any, training: bool = False) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement forward(x, training)")

    def backward(self, dy: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement backward(dy)")

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The mask of the output (boolean, (batch, time)) given the input's mask: passed on
        unchanged by layers that support masking, dropped by the others (Keras 3)."""
        return mask if self.supports_masking else None

    # ------------------------------------------------------------- calling
    def __call__(self, inputs: Any, training: Any = None, mask: Any = None,
                 **kwargs: Any) -> Any:
        """On KerasTensors: record a node of the graph and return symbolic outputs. On arrays:
        build if needed and run ``forward`` (``training`` defaults to False)."""
        if kwargs:
            raise TypeError(f"Layer {self.name!r} ({type(self).__name__}) got unexpected call "
                            f"argument(s) {', '.join(sorted(kwargs))}; a layer is called as "
                            f"layer(inputs, training=None, mask=None).")
        if is_symbolic(inputs):
            return symbolic_call(self, inputs, {} if training is None else
                                 {"training": bool(training)})
        if _recorder is not None:          # inside a subclassed model's call()
            return _recorder.record(self, inputs, training, mask)
        return self._eager_call(inputs, training, mask)

    def _eager_call(self, inputs: Any, training: Any = None, mask: Any = None) -> Any:
        training = self.training_default if training is None else bool(training)
        inputs = self.prepare_inputs(inputs)
        shape = ([(None,) + tuple(a.shape[1:]) for a in inputs] if isinstance(inputs, list)
                 else (None,) + tuple(inputs.shape[1:]))
        self._check_call_inputs(shape, isinstance(inputs, list))
        if self.built:
            self._check_input_shape(shape)
        else:
            self._maybe_build(shape)
        if mask is not None and takes_mask(self):
            return self.forward(inputs, training=training, mask=mask)
        return self.forward(inputs, training=training)

    def prepare_inputs(self, inputs: Any) -> Any:
        """Arrays of the layer's dtype: one, or a list for a list of inputs."""
        if isinstance(inputs, (list, tuple)) and inputs and all(
                hasattr(a, "shape") for a in inputs):
            if len(inputs) == 1 and not self.takes_list:
                return self._as_array(inputs[0])
            return [self._as_array(a) for a in inputs]
        return self._as_array(inputs)

    def _as_array(self, x: Any) -> Any:
        x = xp.asarray(x)
        kinds = "f" if self.keeps_integer_inputs else "biuf"
        if x.dtype.kind in kinds and x.dtype != self.dtype:
            x = x.astype(self.dtype)
        return x

    def _check_call_inputs(self, shape: Any, list_input: bool) -> None:
        """A merge layer needs a list of tensors; any other layer exactly one."""
        if self.takes_list and not list_input:
            raise ValueError(f"Layer {self.name!r} ({type(self).__name__}) merges several "
                             f"tensors: call it on a list, e.g. {type(self).__name__}()([a, b]); "
                             f"got one tensor of shape {shape_str(shape)}.")
        if list_input and not self.takes_list and len(shape) != 1:
            raise ValueError(f"Layer {self.name!r} ({type(self).__name__}) takes one input; got "
                             f"a list of {len(shape)} ({shape_str(shape)}). To combine tensors, "
                             f"merge them first: layers.Concatenate()([a, b]) or "
                             f"layers.Add()([a, b]).")

    def _check_input_shape(self, shape: Any) -> None:
        """A built layer (a shared one, say) called again must get the shape it was built for."""
        expected = self.input_shape
        if expected is None:
            return
        pairs = list(zip(expected, shape)) if isinstance(shape, list) else [(expected, shape)]
        if isinstance(shape, list) and (not isinstance(expected, list) or
                                        len(expected) != len(shape)):
            raise ValueError(f"Layer {self.name!r} ({type(self).__name__}) was built for "
                             f"{shape_str(expected)}; got {shape_str(shape)}.")
        for i, (e, g) in enumerate(pairs):
            if not compatible(e, g):
                raise ValueError(shape_error(self, e, g, i))

    def _maybe_build(self, input_shape: Any) -> None:
        if not self.built:
            input_shape = ([tuple(s) for s in input_shape] if isinstance(input_shape, list)
                           else tuple(input_shape))
            self.build(input_shape)
            self.built = True
            self.input_shape = input_shape
            self.output_shape = self.compute_output_shape(input_shape)

    # ------------------------------------------------------------- the graph
    def _node_attribute(self, attribute: str, what: str) -> Any:
        if not self._inbound_nodes:
            raise ValueError(f"The layer {self.name!r} has never been called on symbolic "
                             f"tensors (keras.Input or another layer's output), so it has no "
                             f"defined {what}.")
        node = self._inbound_nodes[0]
        tensors = getattr(node, attribute)
        if attribute == "input_tensors":
            if not tensors:            # an InputLayer: its input is its tensor (tf.keras 2.x)
                return node.output_tensors[0]
            return tensors if node.list_input else tensors[0]
        return tensors if len(tensors) > 1 else tensors[0]

    @property
    def input(self) -> Any:
        """The symbolic input of this layer's first call (a list for a list of inputs)."""
        return self._node_attribute("input_tensors", "input")

    @property
    def output(self) -> Any:
        """The symbolic output of this layer's first call: ``keras.Model(model.inputs,
        model.layers[0].output)`` shows a layer's feature maps."""
        return self._node_attribute("output_tensors", "output")

    # ------------------------------------------------------------- config
    def get_config(self) -> dict:
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = list(self._batch_input_shape)
        return config

    @classmethod
    def from_config(cls, config: dict) -> "Layer":
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


# The recorder of a subclassed model's call() while it runs (models/model.py), or None.
_recorder: Any = None


def set_recorder(recorder: Any) -> Any:
    """Route eager layer calls to `recorder` (None: run them directly); returns the previous."""
    global _recorder
    previous, _recorder = _recorder, recorder
    return previous


def takes_mask(layer: Layer) -> bool:
    """Whether the layer's forward accepts a ``mask`` keyword (checked once per class)."""
    cls = type(layer)
    flag = cls.__dict__.get("_takes_mask_flag")
    if flag is None:
        import inspect
        flag = "mask" in inspect.signature(cls.forward).parameters
        setattr(cls, "_takes_mask_flag", flag)
    return flag


def compatible(expected: tuple, got: tuple) -> bool:
    """Same rank, and every size known on both sides equal (the batch axis is not compared)."""
    return len(expected) == len(got) and all(
        e is None or g is None or e == g for e, g in zip(expected[1:], got[1:]))


def shape_error(layer: Layer, expected: tuple, got: tuple, index: int = 0) -> str:
    """Expected vs got, with the hint for the common mistakes (a missing Flatten, a missing
    channel axis, channels-first images)."""
    hint = ""
    if len(got) > len(expected) == 2:
        hint = (f" Hint: add keras.layers.Flatten() before it, or reshape x to "
                f"(N, {math.prod(d for d in got[1:] if d)}).")
    elif len(got) == len(expected) - 1 and expected[-1] == 1 and got[1:] == expected[1:-1]:
        hint = (f" Hint: images need a channel axis, even grayscale ones: use x[..., None], or "
                f"start the model with keras.layers.Reshape({tuple(expected[1:])}).")
    elif len(got) == len(expected) - 2 and expected[-1] == 1 and len(got) >= 2 and \
            tuple(got[1:]) == tuple(expected[2:-1]):
        image = tuple(expected[1:-1])
        hint = (f" Hint: if x is one image of shape {image}, it has neither the batch axis nor "
                f"the channel axis: predict on x[None, ..., None] (shape "
                f"{(1,) + tuple(expected[1:])}), or reshape the whole set first: "
                f"x.reshape(-1, {', '.join(str(d) for d in expected[1:])}).")
    elif len(got) == len(expected) - 1 and len(got) >= 2 and \
            tuple(got[1:]) == tuple(expected[2:]):
        hint = (f" Hint: if x is one sample of shape {tuple(expected[1:])}, it misses the batch "
                f"axis: use x[None] or x[0:1] (shape {(1,) + tuple(expected[1:])}).")
    elif len(got) == len(expected) == 4 and got[2:] + got[1:2] == expected[1:]:
        hint = (" Hint: x looks channels_first (N, C, H, W); make it channels_last with "
                "x.transpose(0, 2, 3, 1).")
    return (f"Input {index} of layer {layer.name!r} ({type(layer).__name__}) expects shape "
            f"{shape_str(expected)}; got {shape_str(got)}.{hint}")


def _declared_input_shape(kwargs: dict) -> tuple | None:
    """input_shape / input_dim / batch_input_shape / batch_shape -> (batch, ...) or None."""
    if kwargs.get("batch_input_shape") is not None:
        return tuple(kwargs["batch_input_shape"])
    if kwargs.get("batch_shape") is not None:
        return tuple(kwargs["batch_shape"])
    batch = kwargs.get("batch_size")
    if kwargs.get("input_shape") is not None:
        shape = kwargs["input_shape"]
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        return (batch,) + shape
    if kwargs.get("input_dim") is not None:
        return (batch, int(kwargs["input_dim"]))
    return None


def normalize_tuple(value: Any, n: int, name: str) -> tuple:
    """3 -> (3, 3); (3, 2) stays; anything else is a clear error."""
    if isinstance(value, int):
        return (value,) * n
    value = tuple(value)
    if len(value) != n or not all(isinstance(v, int) for v in value):
        raise ValueError(f"{name}: expected an int or a tuple of {n} ints; got {value!r}")
    return value


def add_bias(z: Any, bias: Any) -> Any:
    """z (..., F) += bias (F,), in place; returns z. NumPy adds row by row, F numbers at a
    time, which is slow for a few dozen channels; when it can, z is seen as rows of 512
    numbers and bias repeated 512 / F times, ~2x faster on a convolution's output."""
    F = bias.shape[0]
    rows = None if 512 % F else backend.rows_of_512(z)
    if rows is None:
        z += bias
    else:
        rows += xp.tile(bias, 512 // F)
    return z


def is_builtin(layer: Layer) -> bool:
    """A layer class of mitbadak's own, whose `per_sample` is known to be right (a user's
    layer might mix the samples of a batch)."""
    return type(layer).__module__.startswith("mitbadak.")


def output_bytes(layer: Layer) -> int | None:
    """Bytes of one sample's output (all outputs of a layer with several, such as
    LSTM(return_state=True)); None while a size is unknown."""
    shapes = layer.output_shape
    if shapes is None:
        return None
    total = 0
    for shape in shapes if isinstance(shapes, list) else [shapes]:
        if any(d is None for d in shape[1:]):
            return None
        total += math.prod(shape[1:]) * numpy.dtype(layer.dtype).itemsize
    return total
