"""Weights inside HDF5, in the two layouts Keras uses.

**Keras 3** (``model.weights.h5`` in a ``.keras`` zip, and ``.weights.h5`` files)::

    layers/<key>/vars/0, 1, ...     the layer's weights in get_weights order; attr name=<layer>
    vars                            the model's own (none)
    optimizer/vars/0, 1, ...        iterations, learning rate, slots (optimizer_state.py)

``<key>`` is the snake_case *class* name made unique per class in layer order (``dense``,
``dense_1``, ``conv2d``), whatever the layers are called.

**Legacy** (``model_weights`` in a ``.h5`` model, or the root of a ``.h5`` weights file)::

    attrs layer_names = [every layer's name]
    <layer>/  attrs weight_names = ["<layer>/kernel:0", ...]; datasets at those paths

read by position: the n-th layer with weights in the file goes to the n-th in the model.

Readers check every count and shape before changing anything, so a load that fails leaves
the model as it was.
"""
from __future__ import annotations

import re
from typing import Any

from .. import backend
from . import h5, optimizer_state
from .errors import warn

K2_FORMAT_VERSION = "2.21.0"       # the tf.keras version whose legacy layout we write
K3_FORMAT_VERSION = "3.15.1"       # the Keras 3 version whose .keras layout we write
BACKEND_NAME = "numpy"


# ------------------------------------------------------------------ keys and orders
def keras_snake_case(name: str) -> str:
    """Keras's own to_snake_case (naming.py), used for the layer keys of Keras 3 files."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def layer_keys(model: Any) -> list[tuple[str, Any]]:
    """(key, layer) for every layer: 'dense', 'dense_1', 'conv2d', ... by class, in order."""
    used: dict[str, int] = {}
    out = []
    for layer in model.layers:
        key = keras_snake_case(type(layer).__name__)
        if key in used:
            used[key] += 1
            key = f"{key}_{used[key]}"
        else:
            used[key] = 0
        out.append((key, layer))
    return out


def legacy_order(layer: Any) -> list[str]:
    """Keras's legacy per-layer order: trainable weights, then the non-trainable ones."""
    trainable = [n for n in layer._trainable_names if layer.trainable]
    return trainable + [n for n in layer._weights if n not in trainable]


# ------------------------------------------------------------------ Keras 3 layout
def write_k3(f: Any, model: Any, include_optimizer: bool = True) -> None:
    """Fill the open h5py file `f` with the Keras 3 layout (and the optimizer state)."""
    layers = f.create_group("layers")
    for key, layer in layer_keys(model):
        g = layers.create_group(key).create_group("vars")
        h5.write_text(g, "name", layer.name)
        for i, value in enumerate(layer.get_weights()):
            g.create_dataset(str(i), data=value)
    h5.write_text(f.create_group("vars"), "name", model.name or "sequential")
    opt = getattr(model, "optimizer", None)
    if include_optimizer and getattr(model, "compiled", False) and opt is not None:
        g = f.create_group("optimizer").create_group("vars")
        h5.write_text(g, "name", opt.name)
        refs = optimizer_state.trainable_refs(model)
        for i, (_, value) in enumerate(optimizer_state.state_entries(opt, refs, model.name)):
            g.create_dataset(str(i), data=value)


def read_k3(f: Any, model: Any, skip_mismatch: bool = False) -> None:
    """Set the model's weights from the Keras 3 layout in the open file `f`."""
    if not h5.has(f, "layers"):
        if any(layer._weights for layer in model.layers):
            raise ValueError("it has no 'layers' group, so it is not a Keras 3 weights file "
                             "(legacy .h5 files keep weights under 'layer_names').")
        return
    staged = []
    keys = layer_keys(model)
    for key, layer in keys:
        if not layer._weights:
            continue
        path = f"layers/{key}/vars"
        if not h5.has(f, path):
            raise ValueError(f"it holds no weights for layer {layer.name!r} "
                             f"({type(layer).__name__}): group '{path}' is missing. Was it "
                             f"saved from a model with the same layers?")
        g = h5.group(f, path)
        if len(g) != len(layer._weights):
            raise ValueError(f"layer {layer.name!r} ({type(layer).__name__}) has "
                             f"{len(layer._weights)} weights ({', '.join(layer._weights)}) but "
                             f"'{path}' holds {len(g)}.")
        staged.append((layer, _stage(layer, list(layer._weights),
                                     [h5.dataset(g, str(i)) for i in range(len(g))],
                                     skip_mismatch)))
    known = {key for key, _ in keys}
    for key in h5.group(f, "layers").keys():
        if key not in known and h5.has(f, f"layers/{key}/vars") and \
                len(h5.group(f, f"layers/{key}/vars")):
            raise ValueError(f"it holds weights for a layer '{key}' that this model does not "
                             f"have (the model's layers: {', '.join(sorted(known)) or 'none'}).")
    _commit(staged)


def k3_optimizer_values(f: Any) -> list | None:
    """The datasets of optimizer/vars in order (not yet read), or None when absent."""
    if not h5.has(f, "optimizer/vars"):
        return None
    g = h5.group(f, "optimizer/vars")
    return [h5.dataset(g, str(i)) for i in range(len(g))]


# ------------------------------------------------------------------ legacy layout
def write_legacy(group: Any, model: Any) -> None:
    """The tf.keras 2.x layout into `group` (``model_weights``, or a weights file's root)."""
    names = [layer.name for layer in model.layers]
    if "top_level_model_weights" in names:
        raise ValueError("A layer named 'top_level_model_weights' clashes with the legacy .h5 "
                         "layout; rename it.")
    h5.write_names(group, "layer_names", names)
    h5.write_text(group, "backend", BACKEND_NAME)
    h5.write_text(group, "keras_version", K2_FORMAT_VERSION)
    # tf.keras creates the groups in sorted order (it avoids one name prefixing another's path)
    for layer in sorted(model.layers, key=lambda l: l.name):
        g = group.create_group(layer.name)
        order = legacy_order(layer)
        weight_names = [f"{layer.name}/{n}:0" for n in order]
        h5.write_names(g, "weight_names", weight_names)
        for path, n in zip(weight_names, order):
            g.create_dataset(path, data=backend.to_numpy(layer._weights[n]))
    h5.write_names(group.create_group("top_level_model_weights"), "weight_names", [])


def read_legacy(group: Any, model: Any, skip_mismatch: bool = False) -> None:
    """Set the model's weights from a legacy layout, layer by layer in order."""
    if "layer_names" not in group.attrs and "layer_names0" not in group.attrs:
        raise ValueError(f"'{group.name}' has no 'layer_names' attribute, so it holds no "
                         f"Keras weights.")
    in_file = []
    for name in h5.read_names(group, "layer_names"):
        g = h5.group(group, name)
        weight_names = h5.read_names(g, "weight_names")
        if weight_names:
            in_file.append((name, g, weight_names))
    in_model = [layer for layer in model.layers if layer._weights]
    if len(in_file) != len(in_model):
        raise ValueError(f"it holds weights for {len(in_file)} layers "
                         f"({', '.join(n for n, _, _ in in_file) or 'none'}) but the model has "
                         f"{len(in_model)} layers with weights "
                         f"({', '.join(l.name for l in in_model) or 'none'}).")
    staged = []
    for k, ((name, g, weight_names), layer) in enumerate(zip(in_file, in_model)):
        order = legacy_order(layer)
        if len(weight_names) != len(order):
            raise ValueError(f"layer #{k} ({layer.name!r} in the model, {name!r} in the file): "
                             f"the model expects {len(order)} weights ({', '.join(order)}); the "
                             f"file has {len(weight_names)}.")
        staged.append((layer, _stage(layer, order, [h5.dataset(g, w) for w in weight_names],
                                     skip_mismatch)))
    _commit(staged)


def legacy_optimizer_values(f: Any) -> tuple[list, list] | None:
    """(names, datasets) of ``optimizer_weights`` in file order, or None when absent."""
    if not h5.has(f, "optimizer_weights"):
        return None
    g = h5.group(f, "optimizer_weights")
    names = h5.read_names(g, "weight_names")
    return names, [h5.dataset(g, n) for n in names]


def write_legacy_optimizer(f: Any, model: Any) -> None:
    """``optimizer_weights`` as tf.keras 2.x writes it (optimizer_state.py has the layout)."""
    entries = optimizer_state.k2_state_entries(model.optimizer,
                                               optimizer_state.trainable_refs(model))
    g = f.create_group("optimizer_weights")
    h5.write_names(g, "weight_names", [name for name, _ in entries])
    for name, value in entries:
        g.create_dataset(name, data=value)


# ------------------------------------------------------------------ shared
def _stage(layer: Any, names: list[str], datasets: list, skip_mismatch: bool) -> list:
    """[(weight name, array)] after checking each dataset's shape against the layer's."""
    out = []
    for name, ds in zip(names, datasets):
        expected = tuple(layer._weights[name].shape)
        if tuple(ds.shape) != expected:
            message = (f"layer {layer.name!r} ({type(layer).__name__}) weight {name!r} has "
                       f"shape {expected} in the model but {tuple(ds.shape)} in the file "
                       f"('{ds.name}').")
            if skip_mismatch:
                warn(f"Skipping: {message}")
                continue
            raise ValueError(message + " Was the model built with the same input shape and "
                                       "layer sizes?")
        out.append((name, h5.read_array(ds, expected)))
    return out


def _commit(staged: list) -> None:
    for layer, values in staged:
        for name, value in values:
            layer._assign(name, value)
