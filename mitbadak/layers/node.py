"""Symbolic tensors and the record of one layer call: how a model becomes a graph.

``keras.Input(shape=(784,))`` returns a ``KerasTensor``: a placeholder with a shape (batch axis
``None``) and a dtype but no values. Calling a layer on KerasTensors computes nothing; it
records a ``Node`` (this layer, these input tensors, these output tensors) and returns new
KerasTensors of the output shape::

    x = keras.Input(shape=(784,))          # node 0 of an InputLayer
    h = Dense(100, activation='relu')(x)   # a node of Dense: x -> h
    y = Dense(10)(h)                       # a node of the second Dense: h -> y

``keras.Model(x, y)`` then walks the nodes back from ``y`` to ``x``: that graph is the model.
Every tensor remembers the node that made it (``_keras_history``), and every layer the nodes
of its calls (``layer._inbound_nodes``; a layer shared by two branches has two).
"""
from __future__ import annotations

import math
from typing import Any

import numpy

from .. import backend

# Operators a learner may try on symbolic tensors, and the layer that does the same job.
_LAYER_FOR = {
    "+": "layers.Add()([a, b]) (with a number: a Lambda layer)",
    "-": "layers.Subtract()([a, b]) (with a number: a Lambda layer)",
    "*": "layers.Multiply()([a, b]) (with a number: layers.Rescaling(c))",
    "@": "layers.Dot(axes=...)([a, b])",
    "/": "layers.Rescaling(1 / d) or a Lambda layer", "**": "a Lambda layer",
    "neg": "layers.Rescaling(-1.0)", "[]": "layers.Cropping1D/2D, Reshape or a Lambda layer",
    "np.add": "layers.Add()([a, b])", "np.subtract": "layers.Subtract()([a, b])",
    "np.multiply": "layers.Multiply()([a, b])", "np.maximum": "layers.Maximum()([a, b])",
    "np.minimum": "layers.Minimum()([a, b])", "np.matmul": "layers.Dot(axes=...)([a, b])",
    "np.dot": "layers.Dot(axes=...)([a, b])",
    "np.concatenate": "layers.Concatenate(axis=...)([a, b])",
    "np.stack": "layers.Concatenate(axis=...)([a, b]) after a Reshape",
    "np.reshape": "layers.Reshape(target_shape)", "np.mean": "a pooling layer (e.g. "
    "layers.GlobalAveragePooling1D)", "np.tanh": "layers.Activation('tanh')",
    "np.exp": "layers.Activation('exponential')",
}


def op_error(op: str, what: str = "a symbolic tensor (the output of a layer call)") -> TypeError:
    """The error for an operation that is not a layer, applied to a model's tensors."""
    use = _LAYER_FOR.get(op, "a layer (see keras.layers)")
    return TypeError(
        f"`{op}` on {what} is not a layer, so mitbadak's backward pass could not see it and "
        f"would compute a wrong gradient. Write it as a layer call instead: {use}.")


class KerasTensor:
    """A symbolic tensor: ``shape`` (batch axis first, ``None`` where unknown), ``dtype``,
    ``name``. It holds no values; layers called on it record the graph."""

    def __init__(self, shape: tuple, dtype: Any = None, name: str | None = None,
                 history: tuple | None = None):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = backend.standardize_dtype(dtype)
        self.name = name or backend.unique_name("keras_tensor")
        # (layer, node index in layer._inbound_nodes, output index): where it was made.
        self._keras_history = history

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def _keras_input(self):                       # the InputLayer of a keras.Input tensor
        layer = self._keras_history[0] if self._keras_history else None
        return layer if type(layer).__name__ == "InputLayer" else None

    def __repr__(self) -> str:
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"

    # Keras 3 code writes `x + residual` on symbolic tensors: two tensors of the model are
    # joined by the merge layer of that name (a node in the graph, saved as that layer).
    # Anything else has no layer here and would escape the graph: a clear error.
    def _merge(self, other: Any, op: str, layer: str, reverse: bool = False) -> "KerasTensor":
        if not isinstance(other, KerasTensor):
            raise op_error(op, "a symbolic tensor and a number")
        from . import merging
        pair = [other, self] if reverse else [self, other]
        return getattr(merging, layer)()(pair)

    def __add__(self, other): return self._merge(other, "+", "Add")
    def __radd__(self, other): return self._merge(other, "+", "Add", reverse=True)
    def __sub__(self, other): return self._merge(other, "-", "Subtract")
    def __rsub__(self, other): return self._merge(other, "-", "Subtract", reverse=True)
    def __mul__(self, other): return self._merge(other, "*", "Multiply")
    def __rmul__(self, other): return self._merge(other, "*", "Multiply", reverse=True)
    def __matmul__(self, other): raise op_error("@")
    __rmatmul__ = __matmul__
    def __truediv__(self, other): raise op_error("/")
    __rtruediv__ = __truediv__
    def __pow__(self, other): raise op_error("**")
    def __neg__(self): raise op_error("neg")
    def __getitem__(self, key): raise op_error("[]")

    def __array__(self, dtype=None, copy=None):
        raise TypeError(f"{self!r} is symbolic: it has no values yet. Build a model with "
                        f"keras.Model(inputs, outputs) and call model.predict(x) to get numbers.")

    def __bool__(self):
        raise TypeError(f"{self!r} is symbolic: it has no truth value.")

    def __len__(self):
        raise TypeError(f"{self!r} is symbolic: its batch size is unknown (None).")


class Node:
    """One call of ``layer``: the KerasTensors that went in and those that came out.

    ``input_tensors``/``output_tensors`` are flat lists; ``list_input`` says whether the layer
    was given a list (``Concatenate()([a, b])``) rather than one tensor; ``arguments`` holds
    call-time keywords recorded with it (``training=False`` for a frozen base model).
    """

    def __init__(self, layer: Any, input_tensors: list, output_tensors: list,
                 list_input: bool = False, arguments: dict | None = None):
        self.layer = layer
        self.input_tensors = list(input_tensors)
        self.output_tensors = list(output_tensors)
        self.list_input = list_input
        self.arguments = dict(arguments or {})
        index = len(layer._inbound_nodes)
        layer._inbound_nodes.append(self)
        for i, t in enumerate(self.output_tensors):
            t._keras_history = (layer, index, i)

    @property
    def is_input(self) -> bool:
        return not self.input_tensors

    @property
    def parent_nodes(self) -> list["Node"]:
        """The nodes that made this node's inputs."""
        return [t._keras_history[0]._inbound_nodes[t._keras_history[1]]
                for t in self.input_tensors if t._keras_history]

    @property
    def input_shapes(self) -> Any:
        shapes = [t.shape for t in self.input_tensors]
        return shapes if self.list_input else shapes[0]

    @property
    def output_shapes(self) -> Any:
        shapes = [t.shape for t in self.output_tensors]
        return shapes if len(shapes) > 1 else shapes[0]

    def __repr__(self) -> str:
        return (f"<Node {self.layer.name}: {[t.name for t in self.input_tensors]} -> "
                f"{[t.name for t in self.output_tensors]}>")


def flatten(structure: Any) -> list:
    """The leaves of a tensor, a list/tuple of tensors or a dict of them, in order; a dict's
    values in the order of their sorted keys, as Keras flattens them."""
    if isinstance(structure, dict):
        return [leaf for k in sorted(structure) for leaf in flatten(structure[k])]
    if isinstance(structure, (list, tuple)):
        return [leaf for v in structure for leaf in flatten(v)]
    return [structure]


def pack_like(structure: Any, leaves: list) -> Any:
    """``flatten``'s inverse: the leaves put back in `structure`'s shape (a dict keeps its
    own key order)."""
    if isinstance(structure, dict):
        keys = sorted(structure)
        by_key = dict(zip(keys, leaves))
        return {k: by_key[k] for k in structure}
    if isinstance(structure, tuple):
        return tuple(leaves)
    if isinstance(structure, list):
        return list(leaves)
    return leaves[0]


def is_symbolic(structure: Any) -> bool:
    return any(isinstance(t, KerasTensor) for t in flatten(structure))


def symbolic_call(layer: Any, inputs: Any, arguments: dict) -> Any:
    """``layer(keras_tensors)``: build the layer from the input shapes, record a node, return
    KerasTensors of the output shape(s)."""
    flat = flatten(inputs)
    bad = [t for t in flat if not isinstance(t, KerasTensor)]
    if bad:
        raise TypeError(f"Layer {layer.name!r} ({type(layer).__name__}) was called on a mix of "
                        f"symbolic tensors and {type(bad[0]).__name__} values. In a functional "
                        f"model every input of a layer must come from keras.Input(...) or "
                        f"another layer's output.")
    list_input = isinstance(inputs, (list, tuple, dict))
    shapes = [t.shape for t in flat]
    shape_arg = shapes if list_input else shapes[0]
    layer._check_call_inputs(shape_arg, list_input)
    if layer.built:
        layer._check_input_shape(shape_arg)
    else:
        layer._maybe_build(shape_arg)
    out_shape = layer.compute_output_shape(shape_arg)
    multi = isinstance(out_shape, list)
    out_shapes = out_shape if multi else [out_shape]
    dtype = layer.compute_dtype if hasattr(layer, "compute_dtype") else layer.dtype
    outputs = [KerasTensor(s, dtype=dtype, name=f"{layer.name}_out{i}" if multi else None)
               for i, s in enumerate(out_shapes)]
    Node(layer, flat, outputs, list_input=list_input, arguments=arguments)
    return outputs if multi else outputs[0]


def shape_str(shape: Any) -> str:
    """(None, 28, 28, 1) as Keras prints it; a list of shapes as a list."""
    if isinstance(shape, list):
        return "[" + ", ".join(shape_str(s) for s in shape) + "]"
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + \
        ("," if len(shape) == 1 else "") + ")"


def dummy_array(shape: tuple, dtype: Any) -> Any:
    """Zeros of `shape` with unknown sizes set to 1: what a subclassed model's call runs on
    to learn its output shapes."""
    from ..backend import xp
    return xp.zeros(tuple(1 if d is None else d for d in shape),
                    dtype=dtype if numpy.dtype(dtype).kind in "biuf" else "float32")


def elements(shape: tuple) -> int | None:
    return None if any(d is None for d in shape[1:]) else math.prod(shape[1:])
