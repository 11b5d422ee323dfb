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


def container_keys(layers: list) -> list[tuple[str, Any]]:
    """(key, layer) for a list of layers: 'dense', 'dense_1', 'conv2d', ... by class, in order
    (Keras names a list's entries by class, never by the layers' own names)."""
    used: dict[str, int] = {}
    out = []
    for layer in layers:
        key = keras_snake_case(type(layer).__name__)
        if key in used:
            used[key] += 1
            key = f"{key}_{used[key]}"
        else:
            used[key] = 0
        out.append((key, layer))
    return out


def layer_keys(model: Any) -> list[tuple[str, Any]]:
    """(key, layer) for every layer of `model`, as its Keras 3 file names them."""
    return container_keys(model.layers)


# Attributes of mitbadak's own model classes that hold layers for bookkeeping; Keras 3 files
# name a model's layers through its `layers` list instead.
_INTERNAL = {"_layers", "_input_layer", "_graph_layers"}


def _natural_key(name: str) -> list:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", name)]


def saveable_children(layer: Any) -> list[tuple[str, Any]]:
    """(attribute name, layer or list of layers) in Keras 3's order: a Sequential's or
    functional model's ``layers`` first, then the attributes holding layers, sorted by name
    (a subclassed model's ``layers`` among them, sorted with the rest)."""
    from ..layers.layer import Layer
    children: dict[str, Any] = {}
    for name, value in vars(layer).items():
        if name.startswith("__") or name in _INTERNAL:
            continue
        if isinstance(value, Layer) and value is not layer:
            children[name] = value
        elif isinstance(value, (list, tuple)) and value and \
                any(isinstance(v, Layer) for v in value):
            children[name] = [v for v in value if isinstance(v, Layer)]
    graph = getattr(layer, "_graph", False) or hasattr(layer, "_build_layers")
    if hasattr(layer, "_walk_backward") and not graph:
        children["layers"] = layer.layers                # a subclassed model's property
    out = [(n, children[n]) for n in sorted(children, key=_natural_key)]
    if graph:
        out.insert(0, ("layers", layer.layers))
    return out


def k3_weight_order(layer: Any) -> list[str]:
    """A layer's own weights as Keras 3 stores them: created trainable, then the others."""
    trainable = [n for n in layer._weights if n in layer._trainable_names]
    return trainable + [n for n in layer._weights if n not in trainable]


def walk_k3(model: Any) -> list[tuple[str, Any]]:
    """(path, layer) for the model and every layer in it, each once, as Keras 3 lays them out
    in a weights file: the model at '', its layers at 'layers/<key>', a layer's sub-layers at
    '<its path>/<attribute>' (an LSTM's cell: 'layers/lstm/cell')."""
    out: list = []
    seen: set[int] = set()

    def visit(layer: Any, path: str) -> None:
        if id(layer) in seen:
            return
        seen.add(id(layer))
        out.append((path, layer))
        for name, child in saveable_children(layer):
            child_path = f"{path}/{name}" if path else name
            if isinstance(child, list):
                for key, item in container_keys(child):
                    visit(item, f"{child_path}/{key}")
            else:
                visit(child, child_path)

    visit(model, "")
    return out


def legacy_order(layer: Any) -> list[str]:
    """Keras's legacy per-layer order: trainable weights, then the non-trainable ones."""
    trainable = [n for n in layer._trainable_names if layer.trainable]
    return trainable + [n for n in layer._weights if n not in trainable]


def legacy_weights(layer: Any) -> list[tuple[Any, str]]:
    """(layer, weight name) of a top-level layer in tf.keras 2.x's legacy order: every
    trainable weight (its own, then its sub-layers'), then every non-trainable one."""
    flat = layer._flatten_layers()
    trainable = [(l, n) for l in flat if l.trainable for n in l._trainable_names]
    taken = set((id(l), n) for l, n in trainable)
    return trainable + [(l, n) for l in flat for n in l._weights if (id(l), n) not in taken]


# ------------------------------------------------------------------ Keras 3 layout
def write_k3(f: Any, model: Any, include_optimizer: bool = True) -> None:
    """Fill the open h5py file `f` with the Keras 3 layout (and the optimizer state)."""
    for path, layer in walk_k3(model):
        g = f.require_group(f"{path}/vars" if path else "vars")
        h5.write_text(g, "name", layer.name)
        for i, name in enumerate(k3_weight_order(layer)):
            g.create_dataset(str(i), data=backend.to_numpy(layer._weights[name]))
    opt = getattr(model, "optimizer", None)
    if include_optimizer and getattr(model, "compiled", False) and opt is not None:
        g = f.create_group("optimizer").create_group("vars")
        h5.write_text(g, "name", opt.name)
        refs = optimizer_state.trainable_refs(model)
        for i, (_, value) in enumerate(optimizer_state.state_entries(opt, refs, model.name)):
            g.create_dataset(str(i), data=value)


def read_k3(f: Any, model: Any, skip_mismatch: bool = False) -> None:
    """Set the model's weights from the Keras 3 layout in the open file `f`."""
    walked = walk_k3(model)
    if not h5.has(f, "layers") and not any(path and not path.startswith("layers")
                                           for path, _ in walked):
        if any(layer._weights for _, layer in walked):
            raise ValueError("it has no 'layers' group, so it is not a Keras 3 weights file "
                             "(legacy .h5 files keep weights under 'layer_names').")
        return
    staged = []
    for path, layer in walked:
        if not layer._weights:
            continue
        vars_path = f"{path}/vars" if path else "vars"
        if not h5.has(f, vars_path):
            raise ValueError(f"it holds no weights for layer {layer.name!r} "
                             f"({type(layer).__name__}): group '{vars_path}' is missing. Was it "
                             f"saved from a model with the same layers?")
        g = h5.group(f, vars_path)
        order = k3_weight_order(layer)
        if len(g) != len(order):
            raise ValueError(f"layer {layer.name!r} ({type(layer).__name__}) has "
                             f"{len(order)} weights ({', '.join(order)}) but "
                             f"'{vars_path}' holds {len(g)}.")
        staged.append((layer, _stage(layer, order,
                                     [h5.dataset(g, str(i)) for i in range(len(g))],
                                     skip_mismatch)))
    known = {path for path, _ in walked}
    if h5.has(f, "layers"):
        for key in h5.group(f, "layers").keys():
            path = f"layers/{key}"
            if path not in known and h5.has(f, f"{path}/vars") and \
                    len(h5.group(f, f"{path}/vars")):
                top = sorted(p for p in known if p.count("/") == 1)
                raise ValueError(f"it holds weights for a layer '{key}' that this model does "
                                 f"not have (the model's layers: "
                                 f"{', '.join(p.split('/')[1] for p in top) or 'none'}).")
    _commit(staged)


def k3_optimizer_values(f: Any) -> list | None:
    """The datasets of optimizer/vars in order (not yet read), or None when absent."""
    if not h5.has(f, "optimizer/vars"):
        return None
    g = h5.group(f, "optimizer/vars")
    return [h5.dataset(g, str(i)) for i in range(len(g))]


# ------------------------------------------------------------------ legacy layout
def write_legacy(group: Any, model: Any) -> None:
    """The tf.keras 2.x layout into `group` (``model_weights``, or a weights file's root). A
    nested model is one entry holding all its weights (``dense/kernel:0``, ...)."""
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
        pairs = legacy_weights(layer)
        weight_names = [f"{l.name}/{n}:0" for l, n in pairs]
        h5.write_names(g, "weight_names", weight_names)
        for path, (l, n) in zip(weight_names, pairs):
            g.create_dataset(path, data=backend.to_numpy(l._weights[n]))
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
    in_model = [layer for layer in model.layers if legacy_weights(layer)]
    if len(in_file) != len(in_model):
        raise ValueError(f"it holds weights for {len(in_file)} layers "
                         f"({', '.join(n for n, _, _ in in_file) or 'none'}) but the model has "
                         f"{len(in_model)} layers with weights "
                         f"({', '.join(l.name for l in in_model) or 'none'}).")
    staged = []
    for k, ((name, g, weight_names), layer) in enumerate(zip(in_file, in_model)):
        pairs = legacy_weights(layer)
        if len(weight_names) != len(pairs):
            raise ValueError(f"layer #{k} ({layer.name!r} in the model, {name!r} in the file): "
                             f"the model expects {len(pairs)} weights "
                             f"({', '.join(n for _, n in pairs)}); the file has "
                             f"{len(weight_names)}.")
        datasets = [h5.dataset(g, w) for w in weight_names]
        for l, group_pairs in _by_layer(pairs, datasets):
            staged.append((l, _stage(l, [n for n, _ in group_pairs],
                                     [d for _, d in group_pairs], skip_mismatch)))
    _commit(staged)


def _by_layer(pairs: list, datasets: list) -> list:
    """[(layer, [(weight name, dataset), ...]), ...] in order of first appearance."""
    out: dict[int, tuple] = {}
    for (l, n), d in zip(pairs, datasets):
        out.setdefault(id(l), (l, []))[1].append((n, d))
    return list(out.values())


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
