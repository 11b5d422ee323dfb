"""Custom objects: how a file's class name finds your Python class.

A file never says *where* code lives in a way we act on: loading only ever looks names up in
the tables below (and in ``mitbadak.layers``), it never imports a module named in a file. So a
custom layer is found only when you hand it over, either per call
(``load_model(path, custom_objects={'MyLayer': MyLayer})``), for a block
(``with custom_object_scope({...}):``), or once for the whole program with the decorator::

    @keras.saving.register_keras_serializable(package="Custom")
    class MyLayer(keras.layers.Layer): ...

which files then name ``"Custom>MyLayer"``, exactly as Keras does.
"""
from __future__ import annotations

import threading
from typing import Any, Callable

# "package>name" -> object, and object -> "package>name" (Keras's GLOBAL_CUSTOM_OBJECTS/_NAMES)
_GLOBAL_CUSTOM_OBJECTS: dict[str, Any] = {}
_GLOBAL_CUSTOM_NAMES: dict[Any, str] = {}
_scopes = threading.local()          # stack of dicts pushed by custom_object_scope


def register_keras_serializable(package: str = "Custom", name: str | None = None) -> Callable:
    """Decorator registering a class or function under ``"package>name"`` for loading.

    ``name`` defaults to the object's ``__name__``. Classes must define ``get_config`` (as in
    Keras), so that saving can write their arguments.
    """
    if not isinstance(package, str) or ">" in package:
        raise ValueError(f"register_keras_serializable: package must be a string without '>'; "
                         f"got {package!r}")

    def decorator(obj: Any) -> Any:
        serialized = name if name is not None else getattr(obj, "__name__", None)
        if not serialized:
            raise ValueError(f"register_keras_serializable: cannot find a name for {obj!r}; "
                             f"pass name='...'.")
        key = f"{package}>{serialized}"
        if isinstance(obj, type) and not hasattr(obj, "get_config"):
            raise ValueError(f"Cannot register class {obj.__name__!r}: it has no get_config() "
                             f"method, so its arguments could not be saved.")
        _GLOBAL_CUSTOM_OBJECTS[key] = obj
        _GLOBAL_CUSTOM_NAMES[obj] = key
        return obj

    return decorator


def get_registered_name(obj: Any) -> str:
    """``"package>name"`` for a registered object, else its plain ``__name__``."""
    if obj in _GLOBAL_CUSTOM_NAMES:
        return _GLOBAL_CUSTOM_NAMES[obj]
    return getattr(obj, "__name__", type(obj).__name__)


def is_registered(obj: Any) -> bool:
    try:
        return obj in _GLOBAL_CUSTOM_NAMES
    except TypeError:            # unhashable objects are never registered
        return False


def get_registered_object(name: str, custom_objects: dict | None = None,
                          module_objects: dict | None = None) -> Any:
    """The object known under `name` (scopes, then the global table, then the given dicts)."""
    for table in [*_scope_stack()[::-1], _GLOBAL_CUSTOM_OBJECTS, custom_objects or {},
                  module_objects or {}]:
        if name in table:
            return table[name]
    return None


def get_custom_objects() -> dict:
    """The global registry itself (``get_custom_objects()['MyLayer'] = MyLayer`` works)."""
    return _GLOBAL_CUSTOM_OBJECTS


class CustomObjectScope:
    """``with CustomObjectScope({'MyLayer': MyLayer}): load_model(...)``."""

    def __init__(self, custom_objects: dict | None = None):
        self.custom_objects = dict(custom_objects or {})

    def __enter__(self) -> "CustomObjectScope":
        _scope_stack().append(self.custom_objects)
        return self

    def __exit__(self, *exc: Any) -> None:
        _scope_stack().pop()


custom_object_scope = CustomObjectScope


def _scope_stack() -> list:
    if not hasattr(_scopes, "stack"):
        _scopes.stack = []
    return _scopes.stack


def lookup(names: list[str | None], custom_objects: dict | None = None) -> Any:
    """First object found for any of `names` in custom_objects, scopes and the registry.

    `names` is tried in order (e.g. the registered name "Custom>MyLayer", then the class
    name "MyLayer"); a "package>name" also matches a plain "name" given in custom_objects.
    """
    tables = [custom_objects or {}, *_scope_stack()[::-1], _GLOBAL_CUSTOM_OBJECTS]
    candidates: list[str] = []
    for n in names:
        if isinstance(n, str) and n:
            candidates.append(n)
            if ">" in n:
                candidates.append(n.rsplit(">", 1)[1])
    for n in candidates:
        for table in tables:
            if n in table:
                return table[n]
    return None
