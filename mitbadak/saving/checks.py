"""The checks every config reader shares, and the JSON plumbing.

A config from a file is untrusted data. These helpers answer the questions the readers ask of
it: is this a module Keras writes for its own objects (anything else would mean importing
code, which never happens)? Which arguments does a class take, and is this JSON value of the
type its annotation allows? They also turn Python values into JSON and back with clear errors.
"""
from __future__ import annotations

import inspect
import json
from typing import Any

import numpy

K2, K3 = "k2", "k3"          # the dialects: tf.keras 2.x (legacy .h5) and Keras 3 (.keras)

# The module prefixes Keras writes for its own objects. A file naming any other module is
# asking us to import code, which we never do: only registered objects may carry one.
_KERAS_MODULES = ("keras", "tf_keras", "tensorflow.keras", "tensorflow.python.keras", "mitbadak")

# What the type annotations in constructor signatures allow, as JSON values.
_JSON_TYPES = {"int": (int,), "float": (int, float), "bool": (bool,), "str": (str,),
               "tuple": (list, tuple), "list": (list, tuple), "dict": (dict,),
               "None": (type(None),)}


class ConfigError(ValueError):
    """A config that does not describe a model mitbadak can build safely."""


def is_keras_module(module: Any) -> bool:
    """True for None (older files name no module) and for Keras's own module names."""
    return module is None or (isinstance(module, str) and any(
        module == m or module.startswith(m + ".") for m in _KERAS_MODULES))


def parameters(cls: type) -> dict[str, str]:
    """name -> annotation text of everything cls(...) accepts (following **kwargs to Layer)."""
    from ..layers.layer import _BASE_KWARGS, Layer
    params: dict[str, str] = {}
    for klass in cls.__mro__:
        if klass is object:
            break
        init = vars(klass).get("__init__")
        if init is None:
            continue
        var_kw = False
        for p in list(inspect.signature(init).parameters.values())[1:]:
            if p.kind is p.VAR_KEYWORD:
                var_kw = True
            elif p.kind is not p.VAR_POSITIONAL:
                ann = p.annotation
                params.setdefault(p.name, ann if isinstance(ann, str) else
                                  getattr(ann, "__name__", "Any"))
        if not var_kw:
            break
        if klass is Layer:
            for name in _BASE_KWARGS:
                params.setdefault(name, "Any")
            break
    return params


def type_ok(value: Any, annotation: str) -> bool:
    """Does the JSON `value` fit an annotation such as "int", "float | None", "tuple"?"""
    allowed: list = []
    for part in str(annotation).split("|"):
        base = part.strip().split("[")[0].strip()
        if base not in _JSON_TYPES:
            return True                     # Any, Callable, a class: checked by the layer itself
        allowed.extend(_JSON_TYPES[base])
    if isinstance(value, bool) and bool not in allowed:
        return False
    return isinstance(value, tuple(allowed))


def jsonable(value: Any, where: str, path: str = "") -> Any:
    """Tuples -> lists, NumPy scalars -> Python; anything else not JSON is a clear error."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, numpy.integer)):
        return int(value)
    if isinstance(value, (float, numpy.floating)):
        return float(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v, where, f"{path}.{k}" if path else str(k))
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v, where, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, numpy.ndarray) and value.size <= 1024:
        return jsonable(value.tolist(), where, path)
    raise TypeError(f"Cannot save {where}: its config value {path or 'value'} is "
                    f"{type(value).__name__} {value!r:.80}, which JSON cannot hold. Return plain "
                    f"numbers, strings, lists or dicts from get_config().")


def parse_json(text: Any, what: str) -> Any:
    """json.loads reporting problems as ConfigError (NaN/Infinity pass: Python writes them)."""
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as e:
            raise ConfigError(f"{what} is not UTF-8 text: {e}") from None
    if not isinstance(text, str):
        raise ConfigError(f"{what} must be JSON text; got {type(text).__name__}.")
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(f"{what} is not valid JSON ({e}).") from None
    except RecursionError:
        raise ConfigError(f"{what} is nested too deeply to be a Keras config.") from None


def preview(value: Any) -> str:
    """A value for an error message, cut to 80 characters."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
