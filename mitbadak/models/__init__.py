"""keras.models: Sequential, load_model, model_from_json."""
from __future__ import annotations

from typing import Any

from .sequential import Sequential
from .trainer import Model


def load_model(filepath: Any, custom_objects: dict | None = None, compile: bool = True,
               safe_mode: bool = True) -> Sequential:
    """Load a model saved with model.save (.keras or .h5), by mitbadak or by Keras."""
    from ..saving import load_model as _load
    return _load(filepath, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode)


def save_model(model: Sequential, filepath: Any, overwrite: bool = True, **kwargs: Any) -> None:
    model.save(filepath, overwrite=overwrite, **kwargs)


def model_from_json(json_string: str, custom_objects: dict | None = None) -> Sequential:
    from ..saving import model_from_json as _from_json
    return _from_json(json_string, custom_objects=custom_objects)


__all__ = ["Sequential", "Model", "load_model", "save_model", "model_from_json"]
