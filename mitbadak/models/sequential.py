"""Sequential: a list of layers, run in order. Building, summary and weights live here;
compile/fit/evaluate/predict live in ``trainer.py``."""
from __future__ import annotations

import math
from typing import Any, Callable

from .. import backend
from ..layers.core import InputLayer, KerasTensor
from ..layers.layer import Layer
from .trainer import Model


class Sequential(Model):
    """``keras.Sequential([Dense(100, activation='relu', input_shape=(784,)), Dense(10)])``."""

    def __init__(self, layers: list | None = None, name: str | None = None,
                 trainable: bool = True):
        super().__init__(name=name or backend.unique_name("sequential"))
        self._layers: list[Layer] = []
        self._input_layer: InputLayer | None = None
        self._trainable = trainable
        for layer in layers or []:
            self.add(layer)

    # ---------------------------------------------------------------- structure
    def add(self, layer: Any) -> None:
        """Append a layer (or a ``keras.Input(...)`` placeholder as the first entry)."""
        if isinstance(layer, KerasTensor):
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
        self._reset_compiled_state()
        if self._input_layer is not None:
            self._build_layers(self._input_layer._batch_input_shape)

    def pop(self) -> Layer:
        if not self._layers:
            raise TypeError("There are no layers in the model.")
        layer = self._layers.pop()
        self._reset_compiled_state()
        return layer

    @property
    def layers(self) -> list[Layer]:
        return list(self._layers)

    @property
    def built(self) -> bool:
        return bool(self._layers) and all(l.built for l in self._layers)

    def build(self, input_shape: tuple | None = None) -> None:
        """Create every weight for inputs of `input_shape` (batch axis first, may be None)."""
        if input_shape is None:
            if self._input_layer is None:
                raise ValueError("build() needs an input shape: model.build((None, 784)), or give "
                                 "the first layer input_shape=...")
            input_shape = self._input_layer._batch_input_shape
        self._build_layers(tuple(input_shape))

    def _build_layers(self, input_shape: tuple) -> None:
        shape = tuple(input_shape)
        self._built_input_shape = shape
        for layer in self._layers:
            if layer.built:
                if layer.input_shape is not None and not _compatible(layer.input_shape, shape):
                    raise ValueError(_shape_error(layer, layer.input_shape, shape))
                shape = layer.output_shape
                continue
            layer._maybe_build(shape)
            shape = layer.output_shape

    @property
    def input_shape(self) -> tuple:
        if self._input_layer is not None:
            return self._input_layer._batch_input_shape
        if self._layers and self._layers[0].built:
            return self._layers[0].input_shape
        raise AttributeError("The model has not been built yet, so it has no input_shape.")

    @property
    def output_shape(self) -> tuple:
        if not self.built:
            raise AttributeError("The model has not been built yet, so it has no output_shape.")
        return self._layers[-1].output_shape

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = value
        for layer in self._layers:
            layer.trainable = value

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        if index is not None:
            if not -len(self._layers) <= index < len(self._layers):
                raise ValueError(f"get_layer: index {index} is out of range for a model with "
                                 f"{len(self._layers)} layers.")
            return self._layers[index]
        for layer in self._layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name!r}. Existing layers are: "
                         f"{[l.name for l in self._layers]}.")

    # ---------------------------------------------------------------- weights
    @property
    def weights(self) -> list:
        return [v for l in self._layers for v in l.weights]

    @property
    def trainable_weights(self) -> list:
        return [v for l in self._layers for v in l.trainable_weights]

    @property
    def non_trainable_weights(self) -> list:
        return [v for l in self._layers for v in l.non_trainable_weights]

    def get_weights(self) -> list:
        return [w for l in self._layers for w in l.get_weights()]

    def set_weights(self, weights: list) -> None:
        expected = sum(len(l._weights) for l in self._layers)
        if len(weights) != expected:
            raise ValueError(f"set_weights: model {self.name!r} has {expected} weight arrays; got "
                             f"{len(weights)}.")
        i = 0
        for layer in self._layers:
            n = len(layer._weights)
            layer.set_weights(list(weights[i:i + n]))
            i += n

    def count_params(self) -> int:
        if not self.built:
            raise ValueError("You tried to call count_params on a model that has not been built.")
        return sum(l.count_params() for l in self._layers)

    # ---------------------------------------------------------------- calling
    def forward(self, x: Any, training: bool = False) -> Any:
        for layer in self._layers:
            x = layer.forward(x, training=training)
        return x

    def backward(self, dy: Any) -> Any:
        for layer in reversed(self._layers):
            dy = layer.backward(dy)
        return dy

    # ---------------------------------------------------------------- summary
    def summary(self, line_length: int | None = None, positions: list | None = None,
                print_fn: Callable | None = None, expand_nested: bool = False,
                show_trainable: bool = False, layer_range: Any = None) -> None:
        """Print the tf.keras 2.x table: layer, output shape, parameter count, totals."""
        if not self.built:
            raise ValueError("This model has not yet been built. Build the model first by calling "
                             "`build()` or by calling the model on a batch of data, or give the "
                             "first layer an `input_shape`.")
        print_fn = print_fn or print
        width = line_length or 65
        positions = positions or [0.45, 0.85, 1.0]
        if positions[-1] <= 1:
            positions = [int(width * p) for p in positions]
        print_fn(f'Model: "{self.name}"')
        print_fn("_" * width)
        _print_row(["Layer (type)", "Output Shape", "Param #"], positions, print_fn)
        print_fn("=" * width)
        for layer in self._layers:
            _print_row([f"{layer.name} ({type(layer).__name__})", _shape_str(layer.output_shape),
                        layer.count_params()], positions, print_fn)
            print_fn(" " * width)
        print_fn("=" * width)
        trainable = sum(math.prod(v.shape) * v.value.dtype.itemsize for v in self.trainable_weights)
        total = sum(math.prod(v.shape) * v.value.dtype.itemsize for v in self.weights)
        n_trainable = sum(math.prod(v.shape) for v in self.trainable_weights)
        n_total = self.count_params()
        print_fn(f"Total params: {n_total} ({_readable_size(total)})")
        print_fn(f"Trainable params: {n_trainable} ({_readable_size(trainable)})")
        print_fn(f"Non-trainable params: {n_total - n_trainable} "
                 f"({_readable_size(total - trainable)})")
        print_fn("_" * width)

    # ---------------------------------------------------------------- files
    def get_config(self) -> dict:
        from ..saving.serialization import sequential_config
        return sequential_config(self)

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "Sequential":
        from ..saving.serialization import sequential_from_config
        return sequential_from_config(config, custom_objects=custom_objects)


def _compatible(expected: tuple, got: tuple) -> bool:
    return len(expected) == len(got) and all(
        e is None or g is None or e == g for e, g in zip(expected[1:], got[1:]))


def _shape_error(layer: Layer, expected: tuple, got: tuple) -> str:
    hint = ""
    if len(got) > len(expected) == 2:
        hint = (f" Hint: add keras.layers.Flatten() before it, or reshape x to "
                f"(N, {math.prod(d for d in got[1:] if d)}).")
    elif len(got) == len(expected) - 1 and expected[-1] == 1 and got[1:] == expected[1:-1]:
        hint = (f" Hint: images need a channel axis, even grayscale ones: use x[..., None], or "
                f"start the model with keras.layers.Reshape({tuple(expected[1:])}).")
    elif len(got) == len(expected) == 4 and got[2:] + got[1:2] == expected[1:]:
        hint = (" Hint: x looks channels_first (N, C, H, W); make it channels_last with "
                "x.transpose(0, 2, 3, 1).")
    return (f"Input 0 of layer {layer.name!r} ({type(layer).__name__}) expects shape "
            f"{_shape_str(expected)}; got {_shape_str(got)}.{hint}")


def _shape_str(shape: tuple) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + \
        ("," if len(shape) == 1 else "") + ")"


def _readable_size(n_bytes: float) -> str:
    """tf-keras's size: '310.59 KB', '64.00 Byte'."""
    for unit in ("Byte", "KB", "MB", "GB", "TB"):
        if n_bytes / 1024 < 1:
            return f"{n_bytes:.2f} {unit}"
        n_bytes /= 1024
    return f"{n_bytes:.2f} PB"


def _print_row(fields: list, positions: list, print_fn: Callable) -> None:
    """One table row, wrapping long cells onto following lines as tf-keras does."""
    left = [str(f) for f in fields]
    last = len(positions) - 1
    while any(left):
        line = ""
        for col, text in enumerate(left):
            start = positions[col - 1] if col else 0
            space = 0 if col == last else 2
            cutoff = positions[col] - start - space - (0 if col == last else 1)
            part = text[:cutoff]
            breaks = [part.find(s) + len(s) for s in ("),", "},", "],", "',") if part.find(s) >= 0]
            if breaks:
                cutoff = min(breaks)
                part = part[:cutoff]
            if col == 0:
                line += " "
            line += part + " " * space
            left[col] = text[cutoff:]
            line += " " * (positions[col] - len(line))
        print_fn(line)
