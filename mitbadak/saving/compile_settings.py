"""Compile settings in files: optimizer, loss and metrics, written and read back.

Keras 3 keeps them in ``compile_config`` (config.json of a ``.keras``), tf.keras 2.x in the
``training_config`` attribute of a ``.h5``; both name the optimizer as
``{"class_name": "Adam", "config": {...}}``. Losses are written with their long names (Keras 3
cannot compile a legacy file whose loss says "mse"), metrics as the strings given. Reading
accepts both dialects, tf.keras 2.x's nested metric wrappers included, and like every reader
here finds classes only among mitbadak's own and the custom objects you pass or register.
"""
from __future__ import annotations

import math
from typing import Any

from .. import losses, metrics, optimizers
from . import registration
from .checks import (K2, K3, ConfigError, is_keras_module, jsonable, parameters, preview,
                     type_ok)
from .errors import warn


_NEW_OPTIMIZER_ARGS = {"weight_decay", "clipnorm", "global_clipnorm", "clipvalue"}


def compile_config(model: Any, style: str = K3) -> dict | None:
    """K3 ``compile_config`` or K2 ``training_config``; None for an uncompiled model. Losses,
    loss weights and metrics keep the structure given to compile (one, a list per output, or
    a dict by output name)."""
    if not getattr(model, "compiled", False) or model.optimizer is None:
        return None
    specs = model._compile_specs
    optimizer = serialize_optimizer(model.optimizer, style)
    loss = _map_structure(specs.loss, lambda l: _serialize_loss(l, losses.get(l), style),
                          is_leaf=lambda l: not isinstance(l, (list, tuple, dict)))
    metric_list = _serialize_metrics(specs.metrics, style)
    weighted = _serialize_metrics(specs.weighted_metrics, style)
    weights = specs.loss_weights
    if isinstance(weights, tuple):
        weights = list(weights)
    if style == K2:
        config = {"loss": loss, "metrics": metric_list, "weighted_metrics": weighted,
                  "loss_weights": weights, "optimizer_config": optimizer}
    else:
        config = {"optimizer": optimizer, "loss": loss, "loss_weights": weights,
                  "metrics": metric_list, "weighted_metrics": weighted, "run_eagerly": False,
                  "steps_per_execution": 1, "jit_compile": False}
    return jsonable(config, "compile settings")


def _map_structure(spec: Any, fn: Any, is_leaf: Any) -> Any:
    if spec is None:
        return None
    if isinstance(spec, dict) and not is_leaf(spec):
        return {k: _map_structure(v, fn, is_leaf) for k, v in spec.items()}
    if isinstance(spec, (list, tuple)) and not is_leaf(spec):
        return [_map_structure(v, fn, is_leaf) for v in spec]
    return fn(spec)


def _serialize_metrics(spec: Any, style: str) -> Any:
    if not spec:
        return None
    if isinstance(spec, (str, metrics.Metric)) or callable(spec):
        spec = [spec]
    return _map_structure(spec, lambda m: _serialize_metric(m, style),
                          is_leaf=lambda m: not isinstance(m, (list, tuple, dict)))


def serialize_optimizer(opt: Any, style: str = K3) -> dict:
    """``{"class_name": "Adam", "config": {...}}`` (K3 adds ``module``/``registered_name``)."""
    cls = type(opt)
    builtin = optimizers._CLASSES.get(cls.__name__.lower()) is cls
    config = dict(opt.get_config())
    lr = config.get("learning_rate")
    if isinstance(lr, dict):        # Keras 3 finds a schedule by its module, even in a .h5
        config["learning_rate"] = {"module": "keras.optimizers.schedules", **lr,
                                   "registered_name": None}
    name = cls.__name__ if builtin else registration.get_registered_name(cls)
    if style == K2:
        # A plain class name makes tf.keras 2.x rebuild one of its legacy optimizers, which
        # take none of these when unset (and Keras 3 reads the same entry in full).
        config = {k: v for k, v in config.items() if k not in _NEW_OPTIMIZER_ARGS or v is not None}
        return jsonable({"class_name": name, "config": config}, "optimizer")
    return jsonable({"module": "keras.optimizers" if builtin else cls.__module__,
                     "class_name": cls.__name__, "config": config,
                     "registered_name": None if builtin else name}, "optimizer")


def _serialize_loss(identifier: Any, loss: Any, style: str) -> Any:
    if isinstance(identifier, str):
        # Long names: Keras 3 cannot compile a legacy file whose loss says "mse".
        return losses.CANONICAL_NAMES.get(type(loss), identifier)
    if isinstance(identifier, losses.Loss):
        builtin = losses._NAMES.get(type(identifier).__name__) is type(identifier)
        return serialize_object(identifier, "keras.losses", builtin, style)
    if getattr(identifier, "_loss_class", None) is not None:
        return losses.CANONICAL_NAMES.get(identifier._loss_class, identifier.__name__)
    return serialize_function(identifier, style)


def _serialize_metric(spec: Any, style: str) -> Any:
    if isinstance(spec, str):
        return spec
    if isinstance(spec, metrics.Metric):
        cls = type(spec)
        if metrics._CLASSES.get(cls.__name__) is cls:
            return serialize_object(spec, "keras.metrics", True, style)
        if registration.is_registered(cls):
            return serialize_object(spec, cls.__module__, False, style)
        return spec.name            # a wrapper around a function: its name is what Keras keeps
    return serialize_function(spec, style)


def serialize_object(obj: Any, module: str, builtin: bool, style: str) -> dict:
    """A loss or metric object; custom classes go by their registered name."""
    cls = type(obj)
    name = cls.__name__ if builtin else registration.get_registered_name(cls)
    if style == K2:
        return {"class_name": name, "config": obj.get_config()}
    return {"module": module if builtin else cls.__module__, "class_name": cls.__name__,
            "config": obj.get_config(), "registered_name": None if builtin else name}


def serialize_function(fn: Any, style: str) -> Any:
    """A plain function: its (registered) name in K2, Keras 3's function entry in K3."""
    name = registration.get_registered_name(fn)
    if style == K2:
        return name
    return {"module": getattr(fn, "__module__", "builtins"), "class_name": "function",
            "config": getattr(fn, "__name__", name), "registered_name": name}


def compile_from_config(model: Any, config: dict, custom_objects: dict | None = None) -> None:
    """Compile `model` from a K3 ``compile_config`` or a K2 ``training_config``."""
    if not isinstance(config, dict):
        raise ConfigError("The compile settings must be a JSON object.")
    opt_config = config.get("optimizer", config.get("optimizer_config"))
    optimizer = deserialize_optimizer(opt_config, custom_objects) if opt_config is not None \
        else "rmsprop"
    names = list(getattr(model, "output_names", None) or ["output"])
    loss = _deserialize_losses(config.get("loss"), custom_objects, names)
    metric_list = _deserialize_metrics(config.get("metrics"), custom_objects, names)
    weighted = _deserialize_metrics(config.get("weighted_metrics"), custom_objects, names)
    weights = config.get("loss_weights")
    if weights is not None and not _numbers(weights):
        raise ConfigError(f"loss_weights: expected numbers (one, a list or a dict); got "
                          f"{preview(weights)}.")
    if len(names) == 1 and isinstance(weights, (list, dict)):
        weights = _unwrap_single(weights, "loss_weights")
    model.compile(optimizer=optimizer, loss=loss, metrics=metric_list or None,
                  weighted_metrics=weighted or None, loss_weights=weights)


def _numbers(value: Any) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _numbers(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_numbers(v) for v in value)
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _deserialize_losses(value: Any, custom_objects: dict | None, names: list) -> Any:
    """One loss, or for several outputs a list / dict of them (None where an output has
    none)."""
    if len(names) > 1 and isinstance(value, dict) and "class_name" not in value:
        unknown = [k for k in value if k not in names]
        if unknown:
            raise ConfigError(f"loss: keys {unknown} are not outputs of the model ({names}).")
        return {k: _deserialize_loss(v, custom_objects) for k, v in value.items()}
    if len(names) > 1 and isinstance(value, list):
        return [_deserialize_loss(v, custom_objects) for v in value]
    return _deserialize_loss(value, custom_objects)


def deserialize_optimizer(config: Any, custom_objects: dict | None = None) -> Any:
    """An Optimizer from 'adam' or {"class_name": "Adam" / "Custom>Adam", "config": {...}}."""
    if isinstance(config, str):
        return optimizers.get(config)
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise ConfigError(f"optimizer: expected a name or {{'class_name', 'config'}}; got "
                          f"{preview(config)}.")
    name, inner = config["class_name"], config.get("config", {})
    if not isinstance(inner, dict):
        raise ConfigError("optimizer: 'config' must be an object.")
    custom = registration.lookup([config.get("registered_name"), name], custom_objects)
    if custom is not None:
        if not (isinstance(custom, type) and issubclass(custom, optimizers.Optimizer)):
            raise ConfigError(f"optimizer: custom object {name!r} is not an Optimizer class.")
        return custom.from_config(inner)
    if not is_keras_module(config.get("module")):
        raise ConfigError(f"optimizer {name!r} from module {config.get('module')!r} is not "
                          f"registered; mitbadak never imports modules named in a file.")
    cls = optimizers._CLASSES.get(name.replace("Custom>", "").lower())
    if cls is None:
        raise ConfigError(f"optimizer: unknown class {name!r}; known: "
                          f"{', '.join(sorted(c.__name__ for c in optimizers._CLASSES.values()))}.")
    kwargs = {}
    params = {**parameters(optimizers.Optimizer), **parameters(cls)}
    if "learning_rate" not in inner and "lr" in inner:        # Keras 1 / early 2.x files
        inner = {**inner, "learning_rate": inner["lr"]}
    for key, value in inner.items():
        if key not in params or key == "kwargs":
            continue                      # jit_compile, is_legacy_optimizer, ...
        if key == "learning_rate":
            value = _learning_rate(value)
        elif not isinstance(value, (int, float, str, type(None))):
            raise ConfigError(f"optimizer {name}: argument {key!r} must be a number; got "
                              f"{preview(value)}.")
        if key in ("use_ema",) and not value:
            continue
        kwargs[key] = value
    try:
        return cls(**kwargs)
    except (TypeError, ValueError, NotImplementedError) as e:
        raise ConfigError(f"optimizer {name}: {e}") from e


def _learning_rate(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value) or value < 0:
            raise ConfigError(f"optimizer: learning_rate must be a non-negative number; got "
                              f"{value!r}.")
        return float(value)
    if isinstance(value, dict) and isinstance(value.get("class_name"), str):
        sched = getattr(optimizers.schedules, value["class_name"], None) \
            if value["class_name"].isidentifier() and not value["class_name"].startswith("_") \
            else None
        if not (isinstance(sched, type) and issubclass(sched, optimizers.LearningRateSchedule)):
            raise ConfigError(f"optimizer: unknown learning-rate schedule "
                              f"{value['class_name']!r}.")
        inner = value.get("config", {})
        if not isinstance(inner, dict):
            raise ConfigError("optimizer: the schedule's 'config' must be an object.")
        params = parameters(sched)
        kwargs = {k: v for k, v in inner.items() if k in params}
        for k, v in kwargs.items():
            if not type_ok(v, params[k]) or isinstance(v, dict):
                raise ConfigError(f"optimizer: schedule argument {k!r} has the wrong type: "
                                  f"{preview(v)}.")
        return sched(**kwargs)
    raise ConfigError(f"optimizer: learning_rate must be a number or a schedule; got "
                      f"{preview(value)}.")


def _unwrap_single(value: Any, what: str) -> Any:
    """Single-output models: [x] -> x, {"output": x} -> x."""
    if isinstance(value, list) and len(value) == 1 and not isinstance(value[0], str):
        return _unwrap_single(value[0], what)
    if isinstance(value, dict) and "class_name" not in value and len(value) == 1:
        return _unwrap_single(next(iter(value.values())), what)
    if isinstance(value, (list, dict)) and "class_name" not in value:
        raise ConfigError(f"{what}: {preview(value)} is for a model with several outputs; "
                          f"this model has one.")
    return value


def _registered(entry: dict, name: str, inner: Any, custom_objects: dict | None) -> Any:
    """The custom loss/metric an entry names (registered name or class name), built from its
    config when it is a class; None when nothing registered or passed matches."""
    custom = registration.lookup([entry.get("registered_name"), name], custom_objects)
    if isinstance(custom, type):
        return custom.from_config(inner if isinstance(inner, dict) else {})
    return custom


def _deserialize_loss(value: Any, custom_objects: dict | None) -> Any:
    if value is None:
        return None
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], str):
        value = value[0]
    value = _unwrap_single(value, "loss")
    if isinstance(value, str):
        if value in losses._NAMES:
            return value
        custom = registration.lookup([value], custom_objects)
        if custom is not None and callable(custom):
            return custom
        raise ConfigError(f"loss: unknown loss {value!r}. If it is your own function, pass "
                          f"custom_objects={{{value!r}: {value.split('>')[-1]}}}, or load with "
                          f"compile=False.")
    if not isinstance(value, dict) or not isinstance(value.get("class_name"), str):
        raise ConfigError(f"loss: expected a name or an object; got {preview(value)}.")
    name, inner = value["class_name"], value.get("config", {})
    if name == "function":            # Keras 3's form for a plain function
        custom = registration.lookup([value.get("registered_name"),
                                      inner if isinstance(inner, str) else None], custom_objects)
        if custom is not None:
            return custom
        if isinstance(inner, str):
            return _deserialize_loss(inner, custom_objects)
        raise ConfigError(f"loss: a function entry without a name: {preview(value)}.")
    custom = _registered(value, name, inner, custom_objects)
    if custom is not None:
        return custom
    cls = losses._NAMES.get(name)
    if not (isinstance(cls, type) and issubclass(cls, losses.Loss)) or \
            not is_keras_module(value.get("module")):
        raise ConfigError(f"loss: unknown loss class {name!r}; pass it in custom_objects or "
                          f"load with compile=False.")
    if not isinstance(inner, dict):
        raise ConfigError("loss: 'config' must be an object.")
    params = parameters(cls)
    kwargs = {k: v for k, v in inner.items() if k in params and type_ok(v, params[k])}
    if kwargs.get("reduction") == "auto":
        kwargs["reduction"] = "sum_over_batch_size"
    kwargs.pop("dtype", None)
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"loss {name}: {e}") from e


def _deserialize_metrics(value: Any, custom_objects: dict | None, names: list) -> Any:
    """Metric identifiers from K2's nested wrapper dicts or K3's lists; unknown ones warn.
    Several outputs: a list per output or a dict by output name."""
    if value is None:
        return []
    if len(names) > 1:
        if isinstance(value, dict) and "class_name" not in value:
            return {k: _flat_metrics(v, custom_objects) for k, v in value.items()}
        if isinstance(value, list) and len(value) == len(names):
            return [_flat_metrics(v, custom_objects) for v in value]
    if isinstance(value, dict) and "class_name" not in value:
        if len(value) != 1:
            raise ConfigError(f"metrics: a dict for {len(value)} outputs; this model has one.")
        value = next(iter(value.values()))
    return _flat_metrics(value, custom_objects)


def _flat_metrics(value: Any, custom_objects: dict | None) -> list:
    flat: list = []

    def walk(v: Any) -> None:
        if isinstance(v, list):
            for item in v:
                walk(item)
        elif v is not None:
            flat.append(v)

    walk(value if isinstance(value, list) else [value])
    result = []
    for item in flat:
        metric = _deserialize_metric(item, custom_objects)
        if metric is not None:
            result.append(metric)
    return result


def _deserialize_metric(item: Any, custom_objects: dict | None) -> Any:
    if isinstance(item, str):
        if item in metrics._STRINGS or item in metrics._CLASSES:
            return item
        custom = registration.lookup([item], custom_objects)
        if custom is not None:
            return custom
        warn(f"metrics: unknown metric {item!r} was left out; pass it in "
             f"custom_objects to keep it.")
        return None
    if not isinstance(item, dict) or not isinstance(item.get("class_name"), str):
        raise ConfigError(f"metrics: expected a name or an object; got {preview(item)}.")
    name, inner = item["class_name"], item.get("config", {})
    inner = inner if isinstance(inner, (dict, str)) else {}
    if name == "function" or name == "MeanMetricWrapper":
        # K2's wrapper {"name": "accuracy", "fn": "sparse_categorical_accuracy"}: the name is
        # what History shows and, for the accuracy family, picks the same function.
        candidates = [inner] if isinstance(inner, str) else [inner.get("name"), inner.get("fn")]
        candidates.insert(0, item.get("registered_name"))
        for cand in candidates:
            if isinstance(cand, str) and (cand in metrics._STRINGS):
                return cand
        custom = registration.lookup([c for c in candidates if isinstance(c, str)],
                                     custom_objects)
        if custom is not None:
            return custom
        warn(f"metrics: unknown metric function {candidates[1:]!r} was left out.")
        return None
    custom = _registered(item, name, inner, custom_objects)
    if custom is not None:
        return custom
    cls = metrics._CLASSES.get(name)
    if cls is None or not isinstance(inner, dict) or not is_keras_module(item.get("module")):
        warn(f"metrics: unknown metric class {name!r} was left out.")
        return None
    # Metric wrappers pass extra arguments (threshold, k) on through **kwargs: try them all
    # (plain JSON data), then only the declared ones.
    kwargs = {k: v for k, v in inner.items() if k not in ("fn", "dtype")}
    params = parameters(cls)
    for attempt in (kwargs, {k: v for k, v in kwargs.items()
                             if k in params and type_ok(v, params[k])}):
        try:
            return cls(**attempt)
        except TypeError:
            continue
        except ValueError as e:
            raise ConfigError(f"metric {name}: {e}") from e
    raise ConfigError(f"metric {name}: cannot be created from {preview(inner)}.")
