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
    """Base class. Subclasses write ``build``, ``forward``, ``backward`` and ``get_config``."""

    # True when each sample's output depends on that sample alone, in training too, so a
    # batch may be computed in slices (see models/slicing.py). BatchNormalization's is False.
    per_sample = True

    def __init__(self, trainable: bool = True, name: str | None = None, dtype: Any = None,
                 **kwargs: Any):
        unknown = set(kwargs) - set(_BASE_KWARGS)
        if unknown:
            raise TypeError(f"{type(self).__name__}: unexpected keyword argument(s) "
                            f"{', '.join(sorted(unknown))}")
        self.name = name or backend.unique_name(backend.snake_case(type(self).__name__))
        if not isinstance(self.name, str):
            raise TypeError(f"Layer name must be a string; got {self.name!r}")
        self.trainable = trainable
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
        """Trainable parameter arrays, in order (empty when the layer is frozen)."""
        return [self._weights[n] for n in self._trainable_names] if self.trainable else []

    @property
    def weights(self) -> list[Variable]:
        return [Variable(self, n) for n in self._weights]

    @property
    def trainable_weights(self) -> list[Variable]:
        return [Variable(self, n) for n in self._trainable_names] if self.trainable else []

    @property
    def non_trainable_weights(self) -> list[Variable]:
        trainable = {v.name for v in self.trainable_weights}
        return [Variable(self, n) for n in self._weights if n not in trainable]

    def get_weights(self) -> list:
        return [backend.to_numpy(w).copy() for w in self._weights.values()]

    def set_weights(self, weights: list) -> None:
        if len(weights) != len(self._weights):
            raise ValueError(f"Layer {self.name!r} expects {len(self._weights)} weight arrays "
                             f"({', '.join(self._weights) or 'none'}); got {len(weights)}.")
        for name, w in zip(list(self._weights), weights):
            self._assign(name, w)

    def _assign(self, name: str, value: Any) -> None:
        # Copy in place so optimizers and views keep pointing at the same array.
        target = self._weights[name]
        value = xp.asarray(value)
        if value.shape != target.shape:
            raise ValueError(f"Layer {self.name!r} weight {name!r}: expected shape "
                             f"{tuple(target.shape)}; got {tuple(value.shape)}.")
        target[...] = value

    def count_params(self) -> int:
        return int(sum(math.prod(w.shape) for w in self._weights.values()))

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

    def _maybe_build(self, input_shape: tuple) -> None:
        if not self.built:
            input_shape = tuple(input_shape)
            self.build(input_shape)
            self.built = True
            self.input_shape = input_shape
            self.output_shape = self.compute_output_shape(input_shape)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return tuple(input_shape)

    def forward(self, x: Any, training: bool = False) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement forward(x, training)")

    def backward(self, dy: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement backward(dy)")

    def __call__(self, x: Any, training: bool = False) -> Any:
        if hasattr(x, "_keras_input"):        # functional-style call on keras.Input(...)
            raise TypeError("mitbadak supports Sequential models; pass layers to "
                            "keras.Sequential([...]) instead of calling them on Input tensors.")
        x = xp.asarray(x)
        if x.dtype.kind in "biuf" and x.dtype != self.dtype:
            x = x.astype(self.dtype)
        self._maybe_build((None,) + tuple(x.shape[1:]))
        return self.forward(x, training=training)

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
    """Bytes of one sample's output; None while a size is unknown."""
    shape = layer.output_shape
    if shape is None or any(d is None for d in shape[1:]):
        return None
    return math.prod(shape[1:]) * numpy.dtype(layer.dtype).itemsize
