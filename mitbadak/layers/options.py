"""Weight options: a layer's ``*_initializer``, ``*_regularizer`` and ``*_constraint``
arguments, resolved by name when the layer is made and written back by ``get_config``.

    set_options(self, kernel_initializer="he_normal", bias_regularizer=None)
    config.update(options_config(self, ("kernel_initializer", "bias_regularizer")))
"""
from __future__ import annotations

from typing import Any

from .. import constraints, initializers, regularizers


def _module(key: str):
    if key.endswith("_initializer"):
        return initializers
    return regularizers if key.endswith("_regularizer") else constraints


def set_options(layer: Any, **options: Any) -> None:
    """layer.<key> = initializers/regularizers/constraints.get(value) for every key."""
    for key, value in options.items():
        setattr(layer, key, _module(key).get(value))


def options_config(layer: Any, keys: tuple) -> dict:
    """{key: serialized option or None}, in the order of `keys` (Keras's config order)."""
    config = {}
    for key in keys:
        value = getattr(layer, key)
        config[key] = None if value is None else _module(key).serialize(value)
    return config
