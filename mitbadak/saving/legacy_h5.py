"""The legacy HDF5 model file: ``model.save('m.h5')`` and ``keras.models.load_model('m.h5')``.

Layout (what tf.keras 2.x wrote for years, and Keras 3 still reads)::

    attrs  backend, keras_version, model_config (JSON), training_config (JSON, when compiled)
    model_weights/        the legacy weights layout (weights.py)
    optimizer_weights/    attr weight_names; the optimizer's state

Everything is written in tf.keras 2.x's dialect: the optimizer as a plain
``{"class_name": "Adam", "config": {...}}`` with its state in the layout tf.keras 2.x rebuilds
from that, so tf.keras 2.x loads the file and resumes training with the saved state. Keras 3
loads it too, with the optimizer's settings; like any tf.keras 2.x file it then starts from a
fresh optimizer state, with a warning (use ``.keras`` for Keras 3). Both dialects are read,
the optimizer state of either included, so our own files resume exactly.
"""
from __future__ import annotations

import json
from typing import Any

from . import compile_settings, h5, optimizer_state, serialization, weights
from .atomic import atomic_path
from .errors import InvalidFileError, describe, reading, warn


def save(model: Any, path: str, overwrite: bool = True, include_optimizer: bool = True) -> None:
    """Write `model` (config, weights, compile settings and optimizer state) to `path`."""
    h5py = h5.require_h5py()
    if not (getattr(model, "_graph", False) or hasattr(model, "_build_layers")):
        raise NotImplementedError(
            f"Saving to HDF5 (.h5) works for Sequential and functional models only; "
            f"{type(model).__name__} is a subclassed model, whose architecture is its Python "
            f"code (tf.keras 2.x refuses it too). Save its weights with "
            f"model.save_weights('x.weights.h5'), or give the class get_config() and "
            f"@keras.saving.register_keras_serializable() and save it as 'x.keras'.")
    # Everything that can fail on the model's side fails here, before any file is touched.
    model_config = json.dumps(serialization.model_config(model, serialization.K2))
    training = compile_settings.compile_config(model, serialization.K2) if include_optimizer \
        else None
    with atomic_path(path, overwrite) as tmp:
        with h5py.File(tmp, "w") as f:
            h5.write_text(f, "backend", weights.BACKEND_NAME)
            h5.write_text(f, "keras_version", weights.K2_FORMAT_VERSION)
            h5.write_text(f, "model_config", model_config)
            if training is not None:
                h5.write_text(f, "training_config", json.dumps(training))
            weights.write_legacy(f.create_group("model_weights"), model)
            if training is not None:
                weights.write_legacy_optimizer(f, model)


def load(path: str, custom_objects: dict | None = None, compile: bool = True) -> Any:
    """A model from a legacy ``.h5`` written by mitbadak, tf.keras 2.x or Keras 3."""
    h5py = h5.require_h5py()
    source = describe(path)
    with reading(path, "a model"):
        with h5py.File(path, "r") as f:
            if "model_config" not in f.attrs:
                if "layer_names" in f.attrs or "layers" in f:
                    raise InvalidFileError(
                        f"{source} holds weights only (written by save_weights), not a model. "
                        f"Build the same model in Python, then call model.load_weights({source}).")
                raise InvalidFileError(f"{source} has no 'model_config' attribute, so it is not "
                                       f"a Keras model file.")
            config = serialization.parse_json(h5.text(f.attrs["model_config"]), "model_config")
            model = serialization.model_from_config(config, custom_objects, compile=False)
            weights.read_legacy(h5.group(f, "model_weights"), model)
            if not compile:
                return model
            if "training_config" not in f.attrs:
                warn(f"No training configuration found in {source}, so the model was "
                     f"*not* compiled. Compile it manually.")
                return model
            training = serialization.parse_json(h5.text(f.attrs["training_config"]),
                                                "training_config")
            compile_settings.compile_from_config(model, training, custom_objects)
            restore_legacy_optimizer(f, model, source)
    return model


def restore_legacy_optimizer(f: Any, model: Any, source: str) -> bool:
    """Load ``optimizer_weights`` (Keras 3 order, or tf.keras 2.x names) into the optimizer."""
    found = weights.legacy_optimizer_values(f)
    refs = optimizer_state.trainable_refs(model)
    if found is None:
        warn(f"{source} holds no optimizer state; training continues with a freshly "
             f"initialized {type(model.optimizer).__name__}.")
        return False
    names, datasets = found
    if any(n.split("/")[-1] in ("iteration:0", "iter:0") for n in names):     # tf.keras 2.x
        return optimizer_state.restore_k2(model.optimizer, dict(zip(names, datasets)), refs,
                                          source)
    return optimizer_state.restore(model.optimizer, datasets, refs, source)


def save_weights(model: Any, path: str, overwrite: bool = True) -> None:
    """tf.keras 2.x ``save_weights('w.h5')``: the legacy weights layout at the file's root."""
    h5py = h5.require_h5py()
    with atomic_path(path, overwrite) as tmp:
        with h5py.File(tmp, "w") as f:
            weights.write_legacy(f, model)


def load_weights(model: Any, path: str, skip_mismatch: bool = False,
                 by_name: bool = False) -> None:
    """Weights from any HDF5 weights layout, recognised by content rather than by name."""
    h5py = h5.require_h5py()
    source = describe(path)
    with reading(path, "weights"):
        with h5py.File(path, "r") as f:
            if "model_weights" in f and ("layer_names" in f["model_weights"].attrs or
                                         "layer_names0" in f["model_weights"].attrs):
                group = h5.group(f, "model_weights")     # a whole legacy model file
            elif "layer_names" in f.attrs or "layer_names0" in f.attrs:
                group = f                                # a legacy weights file
            elif h5.has(f, "layers") or h5.has(f, "vars"):
                weights.read_k3(f, model, skip_mismatch)  # a Keras 3 file named .h5
                _restore_k3_optimizer_if_compiled(f, model, source)
                return
            else:
                raise InvalidFileError(f"{source} holds no Keras weights: neither "
                                       f"'layer_names' (legacy) nor 'layers' (Keras 3).")
            if by_name:
                _read_by_name(group, model, skip_mismatch)
            else:
                weights.read_legacy(group, model, skip_mismatch)


def _restore_k3_optimizer_if_compiled(f: Any, model: Any, source: str) -> None:
    values = weights.k3_optimizer_values(f)
    if values is not None and getattr(model, "compiled", False) and model.optimizer is not None:
        optimizer_state.restore(model.optimizer, values, optimizer_state.trainable_refs(model),
                                source)


def _read_by_name(group: Any, model: Any, skip_mismatch: bool) -> None:
    """tf.keras 2.x ``load_weights(by_name=True)``: layers whose names match, others skipped."""
    names = set(h5.read_names(group, "layer_names"))
    staged = []
    for layer in model.layers:
        pairs = weights.legacy_weights(layer)
        if layer.name not in names or not pairs:
            continue
        g = h5.group(group, layer.name)
        weight_names = h5.read_names(g, "weight_names")
        if len(weight_names) != len(pairs):
            message = (f"layer {layer.name!r} expects {len(pairs)} weights; the file has "
                       f"{len(weight_names)}.")
            if skip_mismatch:
                warn(f"Skipping: {message}")
                continue
            raise ValueError(message)
        datasets = [h5.dataset(g, w) for w in weight_names]
        for l, group_pairs in weights._by_layer(pairs, datasets):
            staged.append((l, weights._stage(l, [n for n, _ in group_pairs],
                                             [d for _, d in group_pairs], skip_mismatch)))
    weights._commit(staged)
