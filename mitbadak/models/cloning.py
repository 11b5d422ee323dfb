"""keras.models.clone_model: the same architecture with new layers (and fresh weights)."""
from __future__ import annotations

from typing import Any, Callable

from ..layers.core import Input, InputLayer
from ..layers.layer import Layer
from ..layers.node import flatten
from .model import Model, saving_api
from .sequential import Sequential


def clone_layer(layer: Layer) -> Layer:
    """A new layer from `layer`'s config (through the file format's own reader), so nested
    layers are new too; its weights are initialised afresh."""
    ser = saving_api().serialization
    return ser.deserialize_layer(ser.serialize_layer(layer, ser.K3))[0]


def clone_model(model: Model, input_tensors: Any = None,
                clone_function: Callable[[Layer], Layer] | None = None,
                call_function: Callable | None = None, recursive: bool = False) -> Model:
    """A copy of `model`'s architecture: every layer rebuilt by `clone_function` (by default
    from its config, with new weights), connected as in `model`. Copy the weights with
    ``clone.set_weights(model.get_weights())``.

    ``input_tensors``: keras.Input tensors to build the clone on instead of new ones.
    ``call_function(layer, *args, **kwargs)``: called instead of ``layer(*args, **kwargs)``.
    ``recursive``: clone the layers inside nested models with `clone_function` too.
    """
    if not isinstance(model, Model):
        raise TypeError(f"clone_model expects a keras Model; got {type(model).__name__}.")
    clone_function = clone_function or clone_layer

    def clone(layer: Layer) -> Layer:
        if recursive and isinstance(layer, Model):
            return clone_model(layer, clone_function=clone_function,
                               call_function=call_function, recursive=True)
        return clone_function(layer)

    call = call_function or (lambda layer, *args, **kwargs: layer(*args, **kwargs))
    if isinstance(model, Sequential):
        layers = [clone(l) for l in model.layers]
        if input_tensors is not None:
            new = Sequential(name=model.name)
            new.add(flatten(input_tensors)[0])
        elif model._input_layer is not None:
            new = Sequential(name=model.name)
            new.add(InputLayer(batch_shape=model._input_layer._batch_input_shape,
                               dtype=model._input_layer.dtype,
                               name=model._input_layer.name))
        else:
            new = Sequential(name=model.name)
        for layer in layers:
            new.add(layer)
        return new
    if not model._graph:
        if type(model).get_config is Model.get_config:
            raise ValueError(f"clone_model: {type(model).__name__} is a subclassed model without "
                             f"get_config(); implement get_config()/from_config() (or build "
                             f"the model again by calling its class).")
        return type(model).from_config(model.get_config())
    tensors: dict[int, Any] = {}
    given = flatten(input_tensors) if input_tensors is not None else None
    for i, t in enumerate(model.inputs):
        if given is not None:
            tensors[id(t)] = given[i]
        else:
            layer = t._keras_history[0]
            tensors[id(t)] = Input(batch_shape=t.shape, dtype=t.dtype,
                                   name=getattr(layer, "name", None))
    clones: dict[int, Layer] = {}
    for node in model._nodes:
        if node.is_input:
            continue
        layer = node.layer
        if id(layer) not in clones:
            clones[id(layer)] = clone(layer)
        args = [tensors[id(t)] for t in node.input_tensors]
        kwargs = {} if node.arguments.get("training") is None else \
            {"training": node.arguments["training"]}
        out = call(clones[id(layer)], args if node.list_input else args[0], **kwargs)
        for t, o in zip(node.output_tensors, flatten(out)):
            tensors[id(t)] = o
    inputs = _restructure(model._inputs_struct, tensors)
    outputs = _restructure(model._outputs_struct, tensors)
    return Model(inputs, outputs, name=model.name)


def _restructure(structure: Any, tensors: dict) -> Any:
    if isinstance(structure, dict):
        return {k: tensors[id(v)] for k, v in structure.items()}
    if isinstance(structure, (list, tuple)):
        return [tensors[id(v)] for v in structure]
    return tensors[id(structure)]
