"""keras.saving: model files that real Keras reads, and Keras files that mitbadak reads.

    model.save('my_mnist.keras')              # Keras 3 native zip (recommended)
    model.save('my_mnist.h5')                 # legacy HDF5, readable by tf.keras 2.x and Keras 3
    model = keras.models.load_model('my_mnist.h5')
    model.save_weights('w.weights.h5'); model.load_weights('w.weights.h5')
    model = keras.models.model_from_json(model.to_json())

The format follows the file name, as in Keras. Loading never unpickles, never evaluates code
and never imports a module named in a file: configs are JSON checked against the known
layers (and the custom objects you register or pass), weights are plain arrays.

Modules: ``serialization`` (configs), ``keras_zip`` (.keras), ``legacy_h5`` (.h5),
``weights`` (HDF5 weight layouts), ``optimizer_state``, ``h5`` (careful h5py access),
``atomic`` (atomic writes), ``registration`` (custom objects), ``errors``.
"""
from __future__ import annotations

import json
import os
from typing import Any

from . import (compile_settings, h5, keras_zip, legacy_h5, registration, serialization,
               weights)
from .atomic import atomic_path
from .errors import InvalidFileError
from .registration import (CustomObjectScope, custom_object_scope, get_custom_objects,
                           get_registered_name, get_registered_object,
                           register_keras_serializable)

_H5_SUFFIXES = (".h5", ".hdf5")


def save_model(model: Any, filepath: Any, overwrite: bool = True, include_optimizer: bool = True,
               save_format: str | None = None, **kwargs: Any) -> None:
    """Save architecture, weights, compile settings and optimizer state to one file.

    ``.keras`` writes Keras 3's zip format; ``.h5``/``.hdf5`` the legacy HDF5 format. The
    write is atomic: an existing file is replaced only once the new one is complete.
    """
    if kwargs:
        raise TypeError(f"save_model: unexpected keyword argument(s) {', '.join(sorted(kwargs))}")
    path = _path(filepath, "save_model")
    kind = _kind(path)
    if save_format is not None:
        wanted = {"h5": "h5", "keras": "keras", "keras_v3": "keras"}.get(str(save_format).lower())
        if wanted is None:
            raise ValueError(f"save_format={save_format!r} is not supported: mitbadak writes "
                             f"'keras' (.keras) and 'h5' (.h5) files, never TensorFlow "
                             f"SavedModel folders.")
        if kind is not None and kind != wanted:
            raise ValueError(f"save_format={save_format!r} contradicts the file name {path!r}; "
                             f"drop save_format and let the suffix decide.")
        kind = wanted
    if kind == "keras":
        keras_zip.save(model, path, overwrite, include_optimizer)
    elif kind == "h5":
        legacy_h5.save(model, path, overwrite, include_optimizer)
    else:
        raise ValueError(f"Invalid filepath extension for saving: {path!r}. Add a `.keras` "
                         f"extension for the native Keras format (recommended) or a `.h5` "
                         f"extension for the legacy HDF5 format, e.g. model.save('model.keras').")


def load_model(filepath: Any, custom_objects: dict | None = None, compile: bool = True,
               safe_mode: bool = True) -> Any:
    """A model from a ``.keras`` or ``.h5`` file written by mitbadak, Keras 3 or tf.keras 2.x.

    ``compile=False`` skips the compile settings and optimizer state. ``safe_mode`` is
    accepted for Keras compatibility; mitbadak never runs code from a file either way.
    """
    path = _path(filepath, "load_model")
    _check_exists(path)
    kind = _kind(path)
    if kind == "keras":
        return keras_zip.load(path, custom_objects, compile)
    if kind == "h5":
        return legacy_h5.load(path, custom_objects, compile)
    raise ValueError(f"File format not supported: {path!r}. mitbadak, like Keras 3, loads "
                     f"`.keras` files and legacy `.h5` files.{_content_hint(path)}")


def save_weights(model: Any, filepath: Any, overwrite: bool = True,
                 save_format: str | None = None, **kwargs: Any) -> None:
    """``.weights.h5``: Keras 3 weights file (with optimizer state); ``.h5``: legacy layout."""
    path = _path(filepath, "save_weights")
    if path.endswith(".weights.h5") and save_format in (None, "h5", "keras"):
        h5py = h5.require_h5py()
        with atomic_path(path, overwrite) as tmp:
            with h5py.File(tmp, "w") as f:
                weights.write_k3(f, model)
    elif path.endswith(_H5_SUFFIXES) and save_format in (None, "h5"):
        legacy_h5.save_weights(model, path, overwrite)
    else:
        raise ValueError(f"The filename must end in `.weights.h5` (Keras 3 weights file) or "
                         f"`.h5` (legacy layout); got {path!r}. To save the whole model use "
                         f"model.save('model.keras').")


def load_weights(model: Any, filepath: Any, skip_mismatch: bool = False, by_name: bool = False,
                 **kwargs: Any) -> None:
    """Weights from ``.weights.h5``, ``.keras`` or legacy ``.h5`` into a built model."""
    kwargs.pop("options", None)
    if kwargs:
        raise TypeError(f"load_weights: unexpected keyword argument(s) "
                        f"{', '.join(sorted(kwargs))}")
    path = _path(filepath, "load_weights")
    _check_exists(path)
    if not model.built:
        raise ValueError(f"load_weights: model {model.name!r} has not been built, so it has no "
                         f"weights to fill yet. Give the first layer an input_shape, or call "
                         f"model.build((None, ...)) first.")
    kind = _kind(path)
    if kind == "keras":
        keras_zip.load_weights(model, path, skip_mismatch)
    elif kind == "h5":
        legacy_h5.load_weights(model, path, skip_mismatch, by_name)
    else:
        raise ValueError(f"load_weights reads `.weights.h5`, `.keras` and legacy `.h5` files; "
                         f"got {path!r}.{_content_hint(path)}")


def model_to_json(model: Any, **kwargs: Any) -> str:
    """The model's config as Keras 3 writes it (``json.dumps`` keyword arguments pass on)."""
    return json.dumps(serialization.model_config(model, serialization.K3), **kwargs)


def model_from_json(json_string: Any, custom_objects: dict | None = None) -> Any:
    """A fresh (untrained) model from ``to_json()`` text of mitbadak, Keras 3 or tf.keras."""
    try:
        config = serialization.parse_json(json_string, "the text")
        return serialization.model_from_config(config, custom_objects, compile=True)
    except (ValueError, TypeError, KeyError) as e:
        raise InvalidFileError(f"model_from_json: {e}") from e
    except MemoryError:
        raise InvalidFileError("model_from_json: the config describes layers too large for "
                               "memory; it is damaged or not a real model.") from None


def serialize_keras_object(obj: Any) -> Any:
    """Keras 3's ``{"module", "class_name", "config", "registered_name"}`` for an object."""
    from ..layers.layer import Layer
    from ..models.sequential import Sequential
    from .. import optimizers
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, Sequential):
        return serialization.model_config(obj, serialization.K3)
    if isinstance(obj, Layer):
        return serialization.serialize_layer(obj, serialization.K3)
    if isinstance(obj, optimizers.Optimizer):
        return compile_settings.serialize_optimizer(obj, serialization.K3)
    if hasattr(obj, "get_config"):
        cls = type(obj)
        custom = registration.is_registered(cls)
        module = cls.__module__ if custom else cls.__module__.replace("mitbadak.", "keras.")
        return {"module": module, "class_name": cls.__name__, "config": obj.get_config(),
                "registered_name": get_registered_name(cls) if custom else None}
    if callable(obj):
        return compile_settings.serialize_function(obj, serialization.K3)
    raise TypeError(f"serialize_keras_object: cannot serialize {obj!r}")


def deserialize_keras_object(config: Any, custom_objects: dict | None = None,
                             safe_mode: bool = True, **kwargs: Any) -> Any:
    """The inverse of serialize_keras_object for models, layers and optimizers."""
    if not isinstance(config, dict):
        return config
    if config.get("class_name") == "Sequential":
        return serialization.model_from_config(config, custom_objects)
    if str(config.get("module") or "").startswith("keras.optimizers"):
        return compile_settings.deserialize_optimizer(config, custom_objects)
    return serialization.deserialize_layer(config, custom_objects)[0]


# ------------------------------------------------------------------ helpers
def _path(filepath: Any, what: str) -> str:
    if isinstance(filepath, (str, os.PathLike)):
        return os.fspath(filepath)
    raise TypeError(f"{what}: expected a file path (str or pathlib.Path); got "
                    f"{type(filepath).__name__}.")


def _kind(path: str) -> str | None:
    lower = path.lower()
    if lower.endswith(".keras"):
        return "keras"
    if lower.endswith(_H5_SUFFIXES):
        return "h5"
    return None


def _check_exists(path: str) -> None:
    if os.path.isdir(path):
        raise ValueError(f"{path!r} is a folder (a TensorFlow SavedModel?). mitbadak reads "
                         f"`.keras` and `.h5` files: in TensorFlow, save with "
                         f"model.save('model.keras') or model.save('model.h5').")
    if not os.path.exists(path):
        raise FileNotFoundError(f"No file found at {path!r}. Check the name and the folder "
                                f"(the current folder is {os.getcwd()!r}).")


def _content_hint(path: str) -> str:
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError:
        return ""
    if head.startswith(b"PK"):
        return " This file is a zip archive: if it is a Keras model, rename it to end in .keras."
    if head == b"\x89HDF\r\n\x1a\n":
        return " This file is an HDF5 file: if it is a Keras model or weights, rename it to .h5."
    return ""


def _register() -> None:
    """Give models their way to files (models never import saving; saving imports models)."""
    import sys
    from ..models import model as model_module
    model_module.register_saving(sys.modules[__name__])


_register()

__all__ = ["save_model", "load_model", "save_weights", "load_weights", "model_to_json",
           "model_from_json", "register_keras_serializable", "get_registered_name",
           "get_registered_object", "get_custom_objects", "CustomObjectScope",
           "custom_object_scope", "serialize_keras_object", "deserialize_keras_object",
           "InvalidFileError"]
