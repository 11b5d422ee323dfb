"""keras.models: Model, Sequential, load_model, save_model, model_from_json, clone_model."""
from __future__ import annotations

from typing import Any

from .model import Functional, Model, saving_api
from .sequential import Sequential
from .cloning import clone_model


def load_model(filepath: Any, custom_objects: dict | None = None, compile: bool = True,
               safe_mode: bool = True) -> Model:
    """Load a model saved with model.save (.keras or .h5), by mitbadak or by Keras."""
    return saving_api().load_model(filepath, custom_objects=custom_objects, compile=compile,
                                   safe_mode=safe_mode)


def save_model(model: Model, filepath: Any, overwrite: bool = True, **kwargs: Any) -> None:
    model.save(filepath, overwrite=overwrite, **kwargs)


def model_from_json(json_string: str, custom_objects: dict | None = None) -> Model:
    return saving_api().model_from_json(json_string, custom_objects=custom_objects)


__all__ = ["Sequential", "Model", "Functional", "load_model", "save_model", "model_from_json",
           "clone_model"]
