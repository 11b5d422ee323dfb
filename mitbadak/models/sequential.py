"""Sequential: a list of layers, run in order: the chain special case of the model graph.

Once the input shape is known (an ``Input``, a first layer's ``input_shape=``, or the first
batch of data), the layers are called one after the other on a ``keras.Input``: that records
the chain ``input -> layer 0 -> layer 1 -> ...`` as a graph, so a built Sequential has
``inputs``/``outputs`` like a functional model, and ``keras.Model(model.inputs,
model.layers[0].output)`` shows a layer's feature maps with the same weights.
"""
from __future__ import annotations

from typing import Any

from .. import backend
from ..layers.core import InputLayer
from ..layers.layer import Layer, shape_error
from ..layers.node import KerasTensor
from .model import Model


class Sequential(Model):
    """``keras.Sequential([Dense(100, activation='relu', input_shape=(784,)), Dense(10)])``."""

    def __init__(self, layers: list | None = None, name: str | None = None,
                 trainable: bool = True):
        super().__init__(name=name or backend.unique_name("sequential"))
        self._layers: list[Layer] = []
        self._input_layer: InputLayer | None = None
        self._seq_trainable = trainable
        for layer in layers or []:
            self.add(layer)
        if not trainable:
            self.trainable = False

    # ---------------------------------------------------------------- structure
    def add(self, layer: Any) -> None:
        """Append a layer (or a ``keras.Input(...)`` placeholder as the first entry)."""
        if isinstance(layer, KerasTensor):
            if layer._keras_input is None:
                raise ValueError("Sequential.add takes keras.Input(...) as its first entry; "
                                 "the output of another layer cannot start a Sequential.")
            layer = layer._keras_input
        if isinstance(layer, InputLayer):
            if self._layers or self._input_layer is not None:
                raise ValueError("An Input/InputLayer can only be the first entry of a Sequential.")
            self._input_layer = layer
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add expects a layer instance; got {layer!r}. "
                            f"Did you forget the parentheses, e.g. Flatten() instead of Flatten?")
        if any(l.name == layer.name for l in self._layers):
            raise ValueError(f"All layers in a model must have unique names; {layer.name!r} "
                             f"is already used in model {self.name!r}.")
        if not self._layers and self._input_layer is None and layer._batch_input_shape:
            self._input_layer = InputLayer(batch_shape=layer._batch_input_shape,
                                           dtype=layer.dtype)
        self._layers.append(layer)
        self._graph = False
        self._reset_compiled_state()
        if self._input_layer is not None:
            self._build_layers(self._input_layer._batch_input_shape)

    def pop(self) -> Layer:
        if not self._layers:
            raise TypeError("There are no layers in the model.")
        layer = self._layers.pop()
        self._graph = False
        self._reset_compiled_state()
        if self._layers and self._input_layer is not None:
            self._build_layers(self._input_layer._batch_input_shape)
        return layer

    @property
    def layers(self) -> list[Layer]:
        """The layers in order (the InputLayer is not one of them, as in Keras)."""
        return list(self._layers)

    def _sublayers(self) -> list[Layer]:
        return list(self._layers)

    @property
    def built(self) -> bool:
        return self._graph and bool(self._layers)

    @built.setter
    def built(self, value: bool) -> None:
        pass                                     # derived from the layers

    def __call__(self, inputs: Any, training: Any = None, mask: Any = None, **kwargs: Any):
        """As Model's; an unbuilt Sequential called on data is built for its shape first."""
        if not self._graph and self._layers and hasattr(inputs, "shape") and \
                not isinstance(inputs, KerasTensor):
            self._build_layers((None,) + tuple(inputs.shape)[1:])
        return super().__call__(inputs, training=training, mask=mask, **kwargs)

    def build(self, input_shape: tuple | None = None) -> None:
        """Create every weight for inputs of `input_shape` (batch axis first, may be None)."""
        if input_shape is None:
            if self._input_layer is None:
                raise ValueError("build() needs an input shape: model.build((None, 784)), or give "
                                 "the first layer input_shape=...")
            input_shape = self._input_layer._batch_input_shape
        self._build_layers(tuple(input_shape))

    def _build_layers(self, input_shape: tuple) -> None:
        """Record the chain on an Input of `input_shape`; builds the layers not built yet and
        checks the others against the shape they were built for."""
        shape = (None,) + tuple(input_shape)[1:]
        declared = self._input_layer
        if declared is not None and not _same(declared._batch_input_shape, shape):
            raise ValueError(shape_error(self._layers[0], tuple(declared._batch_input_shape),
                                         shape))
        if self._graph:
            return
        if declared is None:        # a first layer that reads text gets a string Input
            first = self._layers[0]
            self._input_layer = InputLayer(batch_shape=shape,
                                           dtype=getattr(first, "input_dtype", first.dtype))
        x = self._input_layer.output
        for layer in self._layers:
            x = layer(x)
        self._init_graph(self._input_layer.output, x)

    @property
    def input_shape(self) -> tuple:
        if self._input_layer is not None:
            return self._input_layer._batch_input_shape
        raise AttributeError("The model has not been built yet, so it has no input_shape.")

    @input_shape.setter
    def input_shape(self, value: Any) -> None:
        pass

    @property
    def output_shape(self) -> tuple:
        if not self.built:
            raise AttributeError("The model has not been built yet, so it has no output_shape.")
        return self._layers[-1].output_shape

    @output_shape.setter
    def output_shape(self, value: Any) -> None:
        pass

    def compute_output_shape(self, input_shape: Any) -> Any:
        self._build_layers(tuple(input_shape))
        return self.output_shape

    def _maybe_build(self, input_shape: Any) -> None:
        self._build_layers(tuple(input_shape))

    # ---------------------------------------------------------------- files
    def get_config(self) -> dict:
        from .model import saving_api
        return saving_api().serialization.sequential_config(self)

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "Sequential":
        from .model import saving_api
        return saving_api().serialization.sequential_from_config(config,
                                                                 custom_objects=custom_objects)


def _same(declared: tuple, shape: tuple) -> bool:
    """The data's shape fits the declared input (sizes given as None match anything)."""
    return len(declared) == len(shape) and all(
        d is None or g is None or d == g for d, g in zip(declared[1:], shape[1:]))
