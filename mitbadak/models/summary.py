"""model.summary(): the tf.keras 2.x (tf-keras 2.13+) text table, for every kind of model.

A chain of layers (Sequential, a functional model without branches, a subclassed model)
prints three columns: layer (type), output shape, parameter count. A graph with branches,
merges or shared layers adds a fourth, "Connected to": for each call of the layer, the
tensors it read as ``layer_name[node_index][tensor_index]``.
"""
from __future__ import annotations

import math
from typing import Any, Callable

from ..layers.node import shape_str


def print_summary(model: Any, line_length: int | None = None, positions: list | None = None,
                  print_fn: Callable | None = None, expand_nested: bool = False,
                  show_trainable: bool = False, layer_range: Any = None) -> None:
    if not model.built:
        raise ValueError("This model has not yet been built. Build the model first by calling "
                         "`build()` or by calling the model on a batch of data, or give the "
                         "first layer an `input_shape`.")
    print_fn = print_fn or print
    chain = _sequential_like(model)
    if chain:
        line_length = line_length or 65
        positions = list(positions or [0.45, 0.85, 1.0])
        header = ["Layer (type)", "Output Shape", "Param #"]
    else:
        line_length = line_length or 98
        positions = list(positions or [0.3, 0.6, 0.70, 1.0])
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]
    if show_trainable:
        line_length += 11
        positions.append(line_length)
        header.append("Trainable")
    layers = model.layers
    first, last = _layer_range(model, layers, layer_range)
    relevant = {id(n) for n in getattr(model, "_nodes", [])}

    def row(fields: list, nested: int = 0) -> None:
        _print_row(fields, positions, print_fn, nested)

    def fields_of(layer: Any) -> list:
        fields = [f"{layer.name} ({type(layer).__name__})", _output_shape_text(layer),
                  layer.count_params() if layer.built else "0 (unused)"]
        if not chain:
            fields.append(_connections(layer, relevant))
        if show_trainable:
            fields.append("Y" if layer.trainable else "N")
        return fields

    def print_layer(layer: Any, nested: int = 0, nested_last: bool = False) -> None:
        row(fields_of(layer), nested)
        inner = getattr(layer, "layers", None) if expand_nested else None
        if inner:
            print_fn("|" * (nested + 1) + "¯" * (line_length - 2 * nested - 2) + "|" * (nested + 1))
            for i, sub in enumerate(inner):
                print_layer(sub, nested + 1, i == len(inner) - 1)
            print_fn("|" * nested + "¯" * (line_length - 2 * nested) + "|" * nested)
            nested_last = True           # tf.keras prints no blank line after a nested box
        if not nested_last:
            print_fn("|" * nested + " " * (line_length - 2 * nested) + "|" * nested)

    print_fn(f'Model: "{model.name}"')
    print_fn("_" * line_length)
    row(header)
    print_fn("=" * line_length)
    for layer in layers[first:last]:
        print_layer(layer)
    print_fn("=" * line_length)
    weights, trainable = model.weights, model.trainable_weights
    n_total = sum(math.prod(v.shape) for v in weights)
    n_trainable = sum(math.prod(v.shape) for v in trainable)
    total = sum(math.prod(v.shape) * v.value.dtype.itemsize for v in weights)
    trainable_bytes = sum(math.prod(v.shape) * v.value.dtype.itemsize for v in trainable)
    print_fn(f"Total params: {n_total} ({readable_size(total)})")
    print_fn(f"Trainable params: {n_trainable} ({readable_size(trainable_bytes)})")
    print_fn(f"Non-trainable params: {n_total - n_trainable} "
             f"({readable_size(total - trainable_bytes)})")
    print_fn("_" * line_length)


def _sequential_like(model: Any) -> bool:
    """tf.keras's rule: one node per depth, each with one input, and no layer called twice."""
    if type(model).__name__ == "Sequential" or not getattr(model, "_graph", False) or \
            hasattr(model, "_build_layers"):
        return True
    nodes = model._nodes
    depth = _node_depths(nodes)
    per_depth: dict[int, int] = {}
    for node in nodes:
        d = depth[id(node)]
        per_depth[d] = per_depth.get(d, 0) + 1
        if per_depth[d] > 1 or len(node.input_tensors) > 1:
            return False
    seen: set[int] = set()
    for node in nodes:
        if id(node.layer) in seen:
            return False
        seen.add(id(node.layer))
    return True


def _node_depths(nodes: list) -> dict[int, int]:
    """A node's depth: 0 for the outputs, 1 + the largest depth of the nodes it feeds."""
    depth: dict[int, int] = {}
    in_graph = {id(n) for n in nodes}
    for node in reversed(nodes):
        d = depth.setdefault(id(node), 0)
        for parent in node.parent_nodes:
            if id(parent) in in_graph:
                depth[id(parent)] = max(depth.get(id(parent), 0), d + 1)
    return depth


def _connections(layer: Any, relevant: set) -> list[str]:
    out = []
    for node in layer._inbound_nodes:
        if relevant and id(node) not in relevant:
            continue
        for t in node.input_tensors:
            source, node_index, tensor_index = t._keras_history
            out.append(f"{source.name}[{node_index}][{tensor_index}]")
    return out


def _output_shape_text(layer: Any) -> str:
    """The output shape as tf.keras prints it: an InputLayer's as a list, a layer called
    with different shapes as 'multiple'."""
    if type(layer).__name__ == "InputLayer":
        return f"[{shape_str(layer._batch_input_shape)}]"
    shapes = {tuple(map(tuple, s)) if isinstance(s, list) else tuple(s)
              for s in (n.output_shapes for n in layer._inbound_nodes)}
    if len(shapes) > 1:
        return "multiple"
    try:
        shape = layer.output_shape
    except AttributeError:
        return "multiple"
    if shape is None:
        return "?"
    return shape_str(shape)


def _layer_range(model: Any, layers: list, layer_range: Any) -> tuple[int, int]:
    if layer_range is None:
        return 0, len(layers)
    if len(layer_range) != 2:
        raise ValueError(f"layer_range must be [first_name, last_name]; got {layer_range!r}.")
    names = [l.name for l in layers]
    first = [i for i, n in enumerate(names) if layer_range[0] in n]
    last = [i for i, n in enumerate(names) if layer_range[1] in n]
    if not first or not last:
        raise ValueError(f"layer_range {layer_range!r} matches no layer name; the layers are "
                         f"{names}.")
    return first[0], last[-1] + 1


def readable_size(n_bytes: float) -> str:
    """tf-keras's size: '310.59 KB', '64.00 Byte'."""
    for unit in ("Byte", "KB", "MB", "GB", "TB"):
        if n_bytes / 1024 < 1:
            return f"{n_bytes:.2f} {unit}"
        n_bytes /= 1024
    return f"{n_bytes:.2f} PB"


def _print_row(fields: list, positions: list, print_fn: Callable, nested: int = 0) -> None:
    """One table row, wrapping long cells onto following lines as tf-keras does."""
    left = [str(f) for f in fields]
    last = len(positions) - 1
    while any(left):
        line = ""
        for col, text in enumerate(left):
            start = positions[col - 1] if col else 0
            space = 0 if col == last else 2
            cutoff = positions[col] - start - space - (0 if col == last else 1)
            if col == 0:
                cutoff -= nested
            part = text[:cutoff]
            breaks = [part.find(s) + len(s) for s in ("),", "},", "],", "',") if part.find(s) >= 0]
            if breaks:
                cutoff = min(breaks)
                part = part[:cutoff]
            if col == 0:
                line += "|" * nested + " "
            line += part + " " * space
            left[col] = text[cutoff:]
            if nested and col == last:
                line += " " * (positions[col] - len(line) - nested)
            else:
                line += " " * (positions[col] - len(line))
        print_fn(line + "|" * nested)
