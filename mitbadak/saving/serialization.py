"""Layer and model configs, as both Keras lines write them, and the reader that checks them.

Two writers, because the two Keras lines read different dialects:

- **K3** (``.keras`` config.json, ``model.get_config()``, ``model.to_json()``): every object is
  ``{"module", "class_name", "config", "registered_name"}``; dtypes are ``DTypePolicy`` dicts;
  the InputLayer says ``batch_shape``; layers carry ``build_config``.
- **K2** (legacy ``.h5``): ``{"class_name", "config"}``; plain dtype strings; an InputLayer with
  ``batch_input_shape`` first. tf.keras 2.x *and* Keras 3 both read this one.

One reader accepts both. It is the gate for untrusted files: a class is found only among
mitbadak's layers and objects you registered (never by importing a module a file names), and
each argument is checked against the class's signature and the JSON type it must have.
Compile settings (optimizer, loss, metrics) live in ``compile_settings.py``.
"""
from __future__ import annotations

from typing import Any

from .. import activations, constraints, initializers, regularizers
from ..layers.layer import Layer
from . import registration
from .checks import (K2, K3, ConfigError, is_keras_module, jsonable, parameters, parse_json,
                     preview, type_ok)
from .compile_settings import compile_config, compile_from_config
from .errors import warn

__all__ = ["K2", "K3", "ConfigError", "parse_json", "serialize_layer", "sequential_config",
           "model_config", "sequential_from_config", "model_from_config", "deserialize_layer"]

# Layers whose configs hold Python code (marshal'ed bytecode or source); never loaded.
_CODE_LAYERS = {"Lambda", "TFOpLambda", "SlicingOpLambda"}

# Arguments Keras writes that mitbadak's layers do not take, with the value that means
# "not used"; dropping them changes nothing. Any other unknown argument is dropped with a warning.
_IGNORABLE = {"optional": False, "synchronized": False, "renorm": False, "renorm_clipping": None,
              "renorm_momentum": 0.99, "quantization_config": None, "lora_rank": None,
              "lora_alpha": None, "autocast": True, "ragged": False, "sparse": False,
              "input_tensor": None}

# Keras 3 classes whose constructor takes no `trainable` (their configs never hold it).
_NO_TRAINABLE_ARG = {"SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D"}

# Keras 3 arguments that tf.keras 2.x writes only when they are not the default (its
# SimpleRNN has no `seed` at all).
_K2_OMIT = {"synchronized": False, "optional": False, "rms_scaling": False, "seed": None}

_DTYPES = {"float16", "float32", "float64", "bfloat16", "int8", "int16", "int32", "int64",
           "uint8", "uint16", "uint32", "uint64", "bool", "string"}

_SHAPE_KEYS = ("batch_shape", "batch_input_shape", "input_shape", "shape", "build_input_shape")
_MAX_DIM = 2 ** 31

# Nested objects by argument name: (module that knows the classes, what to call them, K3 module)
_NESTED = {"_initializer": (initializers, "initializer", "keras.initializers"),
           "_regularizer": (regularizers, "regularizer", "keras.regularizers"),
           "_constraint": (constraints, "constraint", "keras.constraints")}


# ======================================================================== writers
def serialize_layer(layer: Layer, style: str = K3) -> dict:
    """One layer as Keras writes it in a model config (``style`` is "k3" or "k2"). A model
    used as a layer is written as its whole model entry; a layer held by another (a
    wrapper's ``layer``, an RNN's ``cell``) as a nested layer entry."""
    cls = type(layer)
    if "/" in layer.name:
        raise ValueError(f"Layer name {layer.name!r} contains '/', which file formats use as a "
                         f"path separator; rename the layer.")
    if _is_model(layer):
        return model_config(layer, style, include_compile=False)
    cfg = dict(layer.get_config())
    custom = not _is_builtin_layer(cls)
    if cls.__name__ in _NO_TRAINABLE_ARG and cfg.get("trainable", True) is True:
        cfg.pop("trainable", None)
    for key, value in cfg.items():                 # sub-layers given as objects
        if isinstance(value, Layer):
            cfg[key] = _nested_layer_entry(value, style)
        elif isinstance(value, (list, tuple)) and value and all(isinstance(v, Layer)
                                                                 for v in value):
            cfg[key] = [_nested_layer_entry(v, style) for v in value]
    if style == K3:
        shape = cfg.pop("batch_input_shape", None)   # only the InputLayer entry keeps a shape
        if cls.__name__ == "InputLayer":
            cfg = {"batch_shape": shape, **cfg, "optional": False}
        if isinstance(cfg.get("dtype"), str) and cls.__name__ != "InputLayer":
            cfg["dtype"] = _policy(cfg["dtype"])
        for key, value in cfg.items():
            cfg[key] = _add_modules(key, value)
        entry = {"module": "keras.layers" if not custom else cls.__module__,
                 "class_name": cls.__name__, "config": cfg,
                 "registered_name": registration.get_registered_name(cls) if custom else None}
        if layer.built and layer.input_shape is not None and cls.__name__ != "InputLayer":
            entry["build_config"] = {"input_shape": _shape_list(layer.input_shape)}
            if isinstance(layer.input_shape, list) and getattr(layer, "initial_state_in_call",
                                                               False):
                shapes = _shape_list(layer.input_shape)     # as Keras 3 writes an RNN's
                entry["build_config"] = {"shapes_dict": {"sequences_shape": shapes[0],
                                                         "initial_state_shape": shapes[1:]}}
    else:
        for key, default in _K2_OMIT.items():      # tf.keras 2.x before 2.12 rejects them
            if key in cfg and cfg[key] == default:
                del cfg[key]
        entry = {"class_name": registration.get_registered_name(cls) if custom else cls.__name__,
                 "config": cfg}
    return jsonable(entry, f"layer {layer.name!r}")


def _nested_layer_entry(layer: Layer, style: str) -> dict:
    """A layer inside another's config (a wrapper's ``layer``, an RNN's ``cell``). tf.keras
    2.x writes these with ``module`` and ``registered_name`` even in .h5 files, and Keras 3
    needs them there to find the class."""
    entry = serialize_layer(layer, style)
    if style == K2 and not _is_model(layer) and "module" not in entry:
        custom = not _is_builtin_layer(type(layer))
        entry = {"module": type(layer).__module__ if custom else "keras.layers",
                 "class_name": entry["class_name"], "config": entry["config"],
                 "registered_name": entry["class_name"] if custom else None}
    return entry


def _shape_list(shape: Any) -> Any:
    """A shape, a list of shapes, or {input name: shape} as JSON lists."""
    if isinstance(shape, dict):
        return {k: list(s) for k, s in shape.items()}
    return [list(s) for s in shape] if isinstance(shape, list) else list(shape)


def _is_model(layer: Any) -> bool:
    return hasattr(layer, "_walk_backward")


def _is_graph_model(model: Any) -> bool:
    return getattr(model, "_graph", False) and not hasattr(model, "_build_layers")


def sequential_config(model: Any, style: str = K3) -> dict:
    """What ``Sequential.get_config()`` returns: name, layers (InputLayer first), ..."""
    entries = []
    input_entry = _input_layer_entry(model, style)
    if input_entry is not None:
        entries.append(input_entry)
    entries += [serialize_layer(layer, style) for layer in model.layers]
    if style == K2:
        return {"name": model.name, "layers": entries}
    config = {"name": model.name, "trainable": model.trainable,
              "dtype": _policy(_model_dtype(model)), "layers": entries}
    shape = _model_input_shape(model)
    if shape is not None:
        config["build_input_shape"] = list(shape)
    return config


def model_config(model: Any, style: str = K3, include_compile: bool = True) -> dict:
    """The whole model entry: ``{"class_name": "Sequential" / "Functional" / a registered
    subclass, "config": ...}`` (+ K3's module, build and compile settings)."""
    if hasattr(model, "_build_layers"):
        class_name, module, inner = "Sequential", "keras", sequential_config(model, style)
        shape = _model_input_shape(model)
        build = {"input_shape": list(shape)} if shape is not None else None
    elif _is_graph_model(model):
        custom = type(model).__name__ not in ("Functional", "Model")
        class_name = registration.get_registered_name(type(model)) if custom else "Functional"
        module = type(model).__module__ if custom else "keras.src.models.functional"
        inner = functional_config(model, style)
        build = {"input_shape": None}
    else:
        inner = _subclassed_config(model)
        class_name = registration.get_registered_name(type(model))
        module = type(model).__module__
        module = None if module == "__main__" else module         # as Keras 3 writes it
        shape = getattr(model, "_call_input_shape", None)
        build = {"input_shape": _shape_list(shape)} if shape is not None else None
    if style == K2:
        return {"class_name": class_name, "config": inner}
    entry = {"module": module, "class_name": class_name if class_name in
             ("Sequential", "Functional") else type(model).__name__, "config": inner,
             "registered_name": None if class_name == "Sequential" else class_name}
    if build is not None:
        entry["build_config"] = build
    if include_compile:
        compiled = compile_config(model, K3)
        if compiled is not None:
            entry["compile_config"] = compiled
    return jsonable(entry, f"model {model.name!r}")


def model_inner_config(model: Any, style: str = K3) -> dict:
    """What ``model.get_config()`` returns (the "config" part of the model entry)."""
    return model_config(model, style, include_compile=False)["config"]


def _subclassed_config(model: Any) -> dict:
    """A subclassed model is saved as its class (registered) and its own get_config()."""
    cls = type(model)
    auto = "get_config" not in _own_methods(cls)
    if auto and getattr(model, "_auto_config", None) is None:
        raise NotImplementedError(
            f"Model {model.name!r} is a subclassed model ({cls.__name__}) without get_config(), "
            f"and its __init__ was given values other than numbers, strings and lists of them "
            f"(which Keras would write down by itself), so it cannot be saved as a whole "
            f"model: its architecture is Python code. Save its weights with "
            f"model.save_weights('x.weights.h5') and load them into a model made by your "
            f"class; or write get_config() (returning the arguments of __init__) and register "
            f"the class with @keras.saving.register_keras_serializable() to save it as .keras.")
    if not registration.is_registered(cls):
        raise NotImplementedError(
            f"Model {model.name!r} is a subclassed model ({cls.__name__}): its architecture is "
            f"Python code, so a file can only name the class, and loading must find it without "
            f"importing code named in the file. Register the class with "
            f"@keras.saving.register_keras_serializable() to save it as .keras ("
            + ("the arguments its __init__ was given are written down, as Keras does; or write "
               "get_config() returning them" if auto else "its get_config() is written down")
            + "), or save its weights with model.save_weights('x.weights.h5') and load them "
              "into a model made by your class.")
    return dict(model.get_config())


def _own_methods(cls: type) -> set:
    """Methods defined by `cls` or its bases below mitbadak's Model."""
    names: set = set()
    for klass in cls.__mro__:
        if klass.__module__.startswith("mitbadak."):
            break
        names.update(vars(klass))
    return names


def functional_config(model: Any, style: str = K3) -> dict:
    """``{"name", "trainable", "layers": [... each with "name" and "inbound_nodes"],
    "input_layers", "output_layers"}``: the graph, as both Keras lines write it. A node is
    addressed as [layer name, node index, tensor index], counting only this model's nodes
    of each layer (and, in tf.keras 2.x's dialect, a nested model's own construction as its
    node 0, which we do not: see below)."""
    own = {id(n) for n in model._nodes}
    index: dict[tuple[int, int], int] = {}
    for layer in model.layers:
        # tf.keras 2.x counts a nested model's construction as its node 0 and Keras 3 does
        # not, so neither reads the other's nested models; we number as Keras 3 does, in both
        # dialects, so Keras 3 loads every file we write.
        kept = 0
        for i, node in enumerate(layer._inbound_nodes):
            if id(node) in own:
                index[(id(layer), i)] = kept
                kept += 1

    def history(t: Any) -> list:
        layer, node_index, tensor_index = t._keras_history
        return [layer.name, index[(id(layer), node_index)], tensor_index]

    entries = []
    for layer in model.layers:
        entry = serialize_layer(layer, style)
        entry["name"] = layer.name
        nodes = []
        for node in layer._inbound_nodes:
            if id(node) not in own or node.is_input:
                continue
            if style == K2:
                kwargs = dict(node.arguments)
                nodes.append([history(t) + [kwargs] for t in node.input_tensors])
            else:
                tensors = [{"class_name": "__keras_tensor__",
                            "config": {"shape": list(t.shape), "dtype": t.dtype,
                                       "keras_history": history(t)}}
                           for t in node.input_tensors]
                kwargs = dict(node.arguments)
                if _is_model(layer):
                    kwargs.setdefault("mask", None)
                if node.list_input and getattr(layer, "initial_state_in_call", False):
                    # RNN(x, initial_state=[h, c]): Keras 3 passes the states as a keyword
                    kwargs["initial_state"] = tensors[1:]
                    tensors = tensors[:1]
                    nodes.append({"args": [tensors[0]], "kwargs": kwargs})
                    continue
                nodes.append({"args": [tensors if node.list_input else tensors[0]],
                              "kwargs": kwargs})
        entry["inbound_nodes"] = nodes
        entries.append(entry)

    def structure(s: Any, top: bool) -> Any:
        if isinstance(s, dict):
            return {k: structure(v, False) for k, v in s.items()}
        if isinstance(s, (list, tuple)):
            return [structure(v, False) for v in s]
        return [history(s)] if (style == K2 and top) else history(s)

    return jsonable({"name": model.name, "trainable": model.trainable, "layers": entries,
                     "input_layers": structure(model._inputs_struct, True),
                     "output_layers": structure(model._outputs_struct, True)},
                    f"model {model.name!r}")


def _input_layer_entry(model: Any, style: str) -> dict | None:
    input_layer = getattr(model, "_input_layer", None)
    shape = _model_input_shape(model)
    if shape is None:
        return None
    name = input_layer.name if input_layer is not None else f"{model.layers[0].name}_input"
    dtype = input_layer.dtype if input_layer is not None else _model_dtype(model)
    if style == K2:
        config = {"batch_input_shape": list(shape), "dtype": dtype, "sparse": False,
                  "ragged": False, "name": name}
        return jsonable({"class_name": "InputLayer", "config": config}, "InputLayer")
    config = {"batch_shape": list(shape), "dtype": dtype, "sparse": False, "ragged": False,
              "name": name, "optional": False}
    return jsonable({"module": "keras.layers", "class_name": "InputLayer", "config": config,
                     "registered_name": None}, "InputLayer")


def _model_input_shape(model: Any) -> tuple | None:
    input_layer = getattr(model, "_input_layer", None)
    if input_layer is not None:
        return tuple(input_layer._batch_input_shape)
    if model.layers and model.layers[0].built and model.layers[0].input_shape is not None:
        return (None,) + tuple(model.layers[0].input_shape[1:])
    return None


def _model_dtype(model: Any) -> str:
    return model.layers[0].dtype if model.layers else "float32"


def _policy(dtype: str) -> dict:
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": dtype},
            "registered_name": None}


def _add_modules(key: str, value: Any) -> Any:
    """K3 writes nested initializers/regularizers/constraints with their module."""
    if isinstance(value, dict) and "class_name" in value and "module" not in value:
        module = next((m for suffix, (_, _, m) in _NESTED.items() if key.endswith(suffix)), None)
        if module is not None:
            return {"module": module, "class_name": value["class_name"],
                    "config": value.get("config", {}), "registered_name": None}
    return value


# ======================================================================== reader
def sequential_from_config(config: dict, custom_objects: dict | None = None) -> Any:
    """A Sequential from its ``get_config()`` dict (inner) or a whole model entry (outer)."""
    from ..models.sequential import Sequential

    if not isinstance(config, dict):
        raise ConfigError(f"A Sequential config must be a JSON object; got "
                          f"{type(config).__name__}.")
    if "layers" not in config and "config" in config:
        # A whole model entry: it must name Sequential (and a Keras module).
        if config.get("class_name") != "Sequential":
            raise ConfigError(f"Expected a Sequential model config; got class_name "
                              f"{config.get('class_name')!r}. Use "
                              f"keras.models.model_from_json / model_from_config for other "
                              f"models.")
        return _model_from_entry(config, custom_objects, "Sequential config")
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        raise ConfigError("The Sequential config has no 'layers' list.")
    name = config.get("name")
    if name is not None and not isinstance(name, str):
        raise ConfigError(f"The model name must be a string; got {name!r}.")
    model = Sequential(name=name)
    build_shape = None
    for i, entry in enumerate(config["layers"]):
        layer, layer_shape = deserialize_layer(entry, custom_objects, index=i)
        if build_shape is None and layer_shape is not None:
            build_shape = layer_shape
        model.add(layer)
    if not model.built and model.layers:
        shape = config.get("build_input_shape")
        shape = _shape(shape, "build_input_shape", "the model") if shape is not None \
            else build_shape
        if shape is not None:
            model.build(tuple(shape))
    trainable = config.get("trainable", True)
    if not isinstance(trainable, bool):
        raise ConfigError(f"The model's 'trainable' must be true or false; got {trainable!r}.")
    if not trainable:
        model.trainable = False
    return model


def model_from_config(config: Any, custom_objects: dict | None = None,
                      compile: bool = True) -> Any:
    """A model from a whole model entry; compiled when it holds a ``compile_config``."""
    if not isinstance(config, dict) or "config" not in config:
        raise ConfigError("A model config must be a JSON object with 'class_name' and 'config' "
                          "keys, as model.to_json() writes.")
    model = _model_from_entry(config, custom_objects, "the model")
    build = config.get("build_config")
    if not model.built and isinstance(build, dict) and build.get("input_shape") is not None:
        shape = build["input_shape"]
        if isinstance(shape, dict) and len(shape) > 1:      # a call() taking a dict
            model.build({str(k): tuple(_shape(s, "input_shape", "build_config"))
                         for k, s in shape.items()})
        else:
            model.build(tuple(_shape(shape, "input_shape", "build_config"))
                        if not (isinstance(shape, list) and shape and isinstance(shape[0], list))
                        else [tuple(_shape(s, "input_shape", "build_config")) for s in shape])
    if compile and isinstance(config.get("compile_config"), dict):
        compile_from_config(model, config["compile_config"], custom_objects)
    return model


_MODEL_CLASSES = ("Sequential", "Functional", "Model")


def _model_from_entry(entry: dict, custom_objects: dict | None, where: str) -> Any:
    """Sequential, Functional or a registered model class, from its entry."""
    class_name = entry.get("class_name")
    module = entry.get("module")
    inner = entry.get("config")
    if not isinstance(inner, dict):
        raise ConfigError(f"{where}: the model's 'config' must be a JSON object.")
    custom = registration.lookup([entry.get("registered_name"), class_name], custom_objects) \
        if class_name not in _MODEL_CLASSES else None
    if custom is not None:
        from ..models.model import Model
        if not (isinstance(custom, type) and issubclass(custom, Model)):
            raise ConfigError(f"{where}: the custom object for {class_name!r} is not a "
                              f"keras.Model subclass.")
        if "layers" in inner and "input_layers" in inner:
            return functional_from_config(inner, custom_objects, cls=custom)
        try:
            return custom.from_config(inner)
        except (TypeError, ValueError, KeyError) as e:
            raise ConfigError(f"{where}: {class_name}.from_config failed: {e}") from e
    if class_name not in _MODEL_CLASSES:
        raise ConfigError(
            f"{where}: expected a model config (Sequential, Functional); got class_name "
            f"{class_name!r}. If it is your own model class, register it with "
            f"@keras.saving.register_keras_serializable() or pass custom_objects.")
    if not is_keras_module(module):
        raise ConfigError(f"{where}: the model config names module {module!r}; mitbadak never "
                          f"imports modules named in a file.")
    if class_name == "Sequential":
        return sequential_from_config(inner, custom_objects)
    return functional_from_config(inner, custom_objects)


def functional_from_config(config: dict, custom_objects: dict | None = None,
                           cls: Any = None) -> Any:
    """A functional model from its config: every layer created, then every node replayed
    (a layer called on the tensors its node names), in order, until all are connected."""
    from ..models.model import Model
    from ..layers.core import InputLayer
    if not isinstance(config.get("layers"), list):
        raise ConfigError("The functional model config has no 'layers' list.")
    name = config.get("name")
    if name is not None and not isinstance(name, str):
        raise ConfigError(f"The model name must be a string; got {name!r}.")
    created: dict[str, Layer] = {}
    queue: dict[str, list] = {}
    order: list[str] = []
    k2_models: set[str] = set()
    mask_ops = _mask_only_ops(config)
    for i, entry in enumerate(config["layers"]):
        if not isinstance(entry, dict):
            raise ConfigError(f"layer #{i}: expected an object; got {preview(entry)}.")
        if entry.get("name") in mask_ops:
            continue
        layer, _ = deserialize_layer(entry, custom_objects, index=i)
        lname = entry.get("name", layer.name)
        if not isinstance(lname, str) or lname in created:
            raise ConfigError(f"layer #{i}: the name {lname!r} is missing or used twice.")
        created[lname] = layer
        order.append(lname)
        nodes = entry.get("inbound_nodes", [])
        if not isinstance(nodes, list):
            raise ConfigError(f"layer {lname!r}: 'inbound_nodes' must be a list.")
        if not isinstance(layer, InputLayer) and nodes:
            queue[lname] = list(nodes)
    # tf.keras 2.x numbers a nested model's calls from 1 (its construction is node 0): seen
    # as a reference one past the calls the config lists.
    for lname, layer in created.items():
        if _is_model(layer):
            calls = len(queue.get(lname, ()))
            if any(ref[0] == lname and ref[1] >= calls for ref in _references(config)):
                k2_models.add(lname)

    def tensor(ref: Any, where: str) -> Any:
        if isinstance(ref, dict) and ref.get("class_name") == "__keras_tensor__":
            ref = (ref.get("config") or {}).get("keras_history")
        if not (isinstance(ref, list) and len(ref) >= 3 and isinstance(ref[0], str) and
                all(isinstance(v, int) and not isinstance(v, bool) for v in ref[1:3])):
            raise ConfigError(f"{where}: a tensor reference must be [layer name, node index, "
                              f"tensor index]; got {preview(ref)}.")
        lname, node_index, tensor_index = ref[0], ref[1], ref[2]
        if lname not in created:
            raise ConfigError(f"{where}: refers to unknown layer {lname!r}.")
        if lname in k2_models:
            node_index -= 1
        layer = created[lname]
        if node_index >= len(layer._inbound_nodes):
            return None                   # that node is not made yet
        outs = layer._inbound_nodes[node_index].output_tensors
        if not 0 <= tensor_index < len(outs):
            raise ConfigError(f"{where}: layer {lname!r} has no output {tensor_index}.")
        return outs[tensor_index]

    def call(lname: str, node: Any) -> bool:
        layer, where = created[lname], f"layer {lname!r}"
        if isinstance(node, dict):                       # Keras 3
            args, kwargs = node.get("args", []), node.get("kwargs", {}) or {}
            if not isinstance(args, list) or not args:
                raise ConfigError(f"{where}: a node needs 'args'; got {preview(node)}.")
            first = args[0]
            refs = first if isinstance(first, list) and first and not isinstance(first[0], str) \
                else [first]
            list_input = refs is first
            states = kwargs.get("initial_state")
            if states is not None:           # RNN(x, initial_state=[h, c]): inputs [x, h, c]
                refs = [first] + (list(states) if isinstance(states, list) else [states])
                list_input = True
        elif isinstance(node, list):                     # tf.keras 2.x
            refs = node
            kwargs = node[0][3] if node and isinstance(node[0], list) and len(node[0]) > 3 \
                and isinstance(node[0][3], dict) else {}
            list_input = len(node) > 1
        else:
            raise ConfigError(f"{where}: a node must be an object or a list; got "
                              f"{preview(node)}.")
        inputs = [tensor(r, where) for r in refs]
        if any(t is None for t in inputs):
            return False
        training = kwargs.get("training")
        layer(inputs if list_input else inputs[0],
              **({} if training is None else {"training": bool(training)}))
        return True

    while queue:
        progress = False
        for lname in order:
            nodes = queue.get(lname)
            while nodes and call(lname, nodes[0]):
                nodes.pop(0)
                progress = True
            if nodes is not None and not nodes:
                del queue[lname]
        if not progress:
            raise ConfigError(f"The model's layers cannot be connected: the nodes of "
                              f"{sorted(queue)} refer to tensors no layer makes.")

    def structure(s: Any, where: str) -> Any:
        if isinstance(s, dict):
            return {k: structure(v, where) for k, v in s.items()}
        if isinstance(s, list) and s and isinstance(s[0], str):
            t = tensor(s, where)
            if t is None:
                raise ConfigError(f"{where}: {preview(s)} names a node that does not exist.")
            return t
        if isinstance(s, list):
            return [structure(v, where) for v in s]
        raise ConfigError(f"{where}: expected tensor references; got {preview(s)}.")

    inputs = structure(config.get("input_layers"), "input_layers")
    outputs = structure(config.get("output_layers"), "output_layers")
    if isinstance(inputs, list) and len(inputs) == 1 and not isinstance(
            config.get("input_layers")[0], list):
        inputs = inputs[0]
    model = (cls or Model)(inputs=inputs, outputs=outputs, name=name)
    trainable = config.get("trainable", True)
    if not isinstance(trainable, bool):
        raise ConfigError(f"The model's 'trainable' must be true or false; got {trainable!r}.")
    if not trainable:
        model.trainable = False
    return model


def deserialize_layer(entry: Any, custom_objects: dict | None = None,
                      index: int | None = None) -> tuple[Layer, tuple | None]:
    """(layer, the input shape it was built with or None) from one config entry."""
    where = f"layer #{index}" if index is not None else "layer"
    if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str):
        raise ConfigError(f"{where}: expected an object with a string 'class_name'; got "
                          f"{preview(entry)}.")
    raw = entry.get("config", {})
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} ({entry['class_name']}): 'config' must be an object; got "
                          f"{preview(raw)}.")
    if isinstance(raw.get("name"), str):
        where = f"{where} {raw['name']!r}"
    if entry["class_name"] in _MODEL_CLASSES or _is_model_class(entry, custom_objects):
        return _model_from_entry(entry, custom_objects, where), None
    cls, builtin = _layer_class(entry, custom_objects, where)
    where = f"{where} ({cls.__name__})"
    kwargs = _layer_kwargs(cls, raw, builtin, custom_objects, where)
    try:
        layer = cls.from_config(kwargs) if (not builtin or _overrides_from_config(cls)) \
            else cls(**kwargs)
    except (TypeError, ValueError, KeyError) as e:
        raise ConfigError(f"{where}: cannot be created from its config: {e}") from e
    if not isinstance(layer, Layer):
        raise ConfigError(f"{where}: from_config returned {type(layer).__name__}, not a layer.")
    build = entry.get("build_config")
    shape = None
    if isinstance(build, dict) and build.get("input_shape") is not None:
        value = build["input_shape"]
        shape = [_shape(v, "input_shape", where) for v in value] \
            if isinstance(value, list) and value and isinstance(value[0], list) \
            else _shape(value, "input_shape", where)
    return layer, shape


def _layer_class(entry: dict, custom_objects: dict | None, where: str) -> tuple[type, bool]:
    class_name, module = entry["class_name"], entry.get("module")
    registered = entry.get("registered_name")
    for key, value in (("module", module), ("registered_name", registered)):
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"{where}: '{key}' must be a string; got {preview(value)}.")
    custom = registration.lookup([registered, class_name], custom_objects)
    if custom is not None:
        if not (isinstance(custom, type) and issubclass(custom, Layer)):
            raise ConfigError(f"{where}: the custom object for {class_name!r} is {custom!r}, "
                              f"not a Layer subclass.")
        return custom, False
    if not is_keras_module(module):
        raise ConfigError(
            f"{where}: the config asks for class {class_name!r} from module {module!r}. mitbadak "
            f"never imports a module named in a file; only Keras layers and objects you register "
            f"can be loaded. If this is your own layer, pass custom_objects={{{class_name!r}: "
            f"{class_name.split('>')[-1]}}} or decorate it with "
            f"@keras.saving.register_keras_serializable().")
    if class_name in _CODE_LAYERS:
        raise ConfigError(
            f"{where}: {class_name} layers hold Python code, and mitbadak never runs code from a "
            f"file (with or without safe_mode). Write the computation as a Layer subclass, "
            f"register it with @keras.saving.register_keras_serializable(), and rebuild the model.")
    cls = _builtin_layer_class(class_name)
    if cls is None:
        from ..utils.naming import closest
        from .. import layers as layers_module
        known = sorted(n for n in getattr(layers_module, "__all__", []) if n[0].isupper())
        raise ConfigError(
            f"{where}: unknown layer class {class_name!r}. {closest(class_name, known)}"
            f"Known layers: {', '.join(known)}. If it is your own layer, pass "
            f"custom_objects={{{class_name!r}: ...}} or register it with "
            f"@keras.saving.register_keras_serializable().")
    return cls, True


def _references(config: dict) -> list:
    """Every [layer name, node index, ...] a functional config's nodes and outputs hold."""
    found: list = []

    def walk(v: Any) -> None:
        if isinstance(v, dict):
            if v.get("class_name") == "__keras_tensor__":
                walk((v.get("config") or {}).get("keras_history"))
            else:
                for item in v.values():
                    walk(item)
        elif isinstance(v, list):
            if len(v) >= 3 and isinstance(v[0], str) and isinstance(v[1], int):
                found.append(v)
            else:
                for item in v:
                    walk(item)

    for entry in config.get("layers", []):
        if isinstance(entry, dict):
            walk(entry.get("inbound_nodes"))
    walk(config.get("output_layers"))
    return found


def _mask_only_ops(config: dict) -> set:
    """Names of the operation nodes that only compute masks. Keras 3 writes a functional
    model's mask computations (Embedding(mask_zero=True)'s ``inputs != 0``, Masking's
    ``any(...)``) as nodes of ``keras.src.ops`` operations (NotEqual, Any) feeding the
    ``mask`` argument of the next layers. mitbadak's model walk computes masks itself (each
    layer's compute_mask), so those nodes are left out; an operation whose result is used as
    data (or is a model output) is kept, and then reported as an unknown layer."""
    entries = [e for e in config.get("layers", []) if isinstance(e, dict)]
    ops = {e.get("name") for e in entries
           if isinstance(e.get("module"), str) and e["module"].startswith("keras.src.ops.")}
    if not ops:
        return set()
    data_uses: dict[str, set] = {}          # op name -> names of the layers using it as data

    def refs(value: Any) -> list:
        found: list = []
        if isinstance(value, dict):
            if value.get("class_name") == "__keras_tensor__":
                history = (value.get("config") or {}).get("keras_history")
                if isinstance(history, list) and history and isinstance(history[0], str):
                    found.append(history[0])
            else:
                for v in value.values():
                    found += refs(v)
        elif isinstance(value, list):
            if len(value) >= 3 and isinstance(value[0], str) and isinstance(value[1], int):
                found.append(value[0])
            else:
                for v in value:
                    found += refs(v)
        return found

    for e in entries:
        for node in e.get("inbound_nodes") or []:
            if not isinstance(node, dict):
                continue
            kwargs = node.get("kwargs") if isinstance(node.get("kwargs"), dict) else {}
            data = refs(node.get("args")) + refs({k: v for k, v in kwargs.items()
                                                  if k != "mask"})
            for name in data:
                data_uses.setdefault(name, set()).add(e.get("name"))
    outputs = set(refs(config.get("output_layers")))
    mask_only = {n for n in ops if n not in outputs}
    changed = True
    while changed:                          # used as data by a kept layer: kept
        changed = False
        for n in list(mask_only):
            if any(user not in mask_only for user in data_uses.get(n, ())):
                mask_only.discard(n)
                changed = True
    return mask_only


def _is_model_class(entry: dict, custom_objects: dict | None) -> bool:
    from ..models.model import Model
    custom = registration.lookup([entry.get("registered_name"), entry["class_name"]],
                                 custom_objects)
    return isinstance(custom, type) and issubclass(custom, Model)


def _builtin_layer_class(name: str) -> type | None:
    from .. import layers as layers_module
    if not name.isidentifier() or name.startswith("_"):
        return None
    obj = vars(layers_module).get(name)
    if isinstance(obj, type) and issubclass(obj, Layer) and obj is not Layer:
        return obj
    return None


def _is_builtin_layer(cls: type) -> bool:
    return _builtin_layer_class(cls.__name__) is cls


def _overrides_from_config(cls: type) -> bool:
    return getattr(cls.from_config, "__func__", None) is not Layer.from_config.__func__


def _layer_kwargs(cls: type, raw: dict, builtin: bool, custom_objects: dict | None,
                  where: str) -> dict:
    """Checked constructor arguments from a layer config of either Keras line."""
    kwargs: dict = {}
    for key, value in raw.items():
        if key in ("module", "registered_name", "shared_object_id"):
            continue
        if key == "dtype":
            value = _dtype(value, where)
        elif key == "name":
            if not isinstance(value, str) or not value or "/" in value:
                raise ConfigError(f"{where}: 'name' must be a non-empty string without '/'; "
                                  f"got {preview(value)}.")
        elif key == "trainable" and not isinstance(value, bool):
            raise ConfigError(f"{where}: 'trainable' must be true or false; got "
                              f"{preview(value)}.")
        elif key in _SHAPE_KEYS and value is not None:
            value = _shape(value, key, where)
        elif key == "axis" and isinstance(value, list) and len(value) == 1:
            value = value[0]                 # K2 writes BatchNormalization's axis as [3]
        elif key == "activation":
            value = _activation(value, custom_objects, where)
        elif _is_layer_entry(value, custom_objects):
            value = deserialize_layer(value, custom_objects)[0]
        elif isinstance(value, list) and value and all(_is_layer_entry(v, custom_objects)
                                                       for v in value):
            value = [deserialize_layer(v, custom_objects)[0] for v in value]
        else:
            for suffix, (module, kind, _) in _NESTED.items():
                if key.endswith(suffix):
                    value = _nested_object(value, module, kind, custom_objects, f"{where} {key}")
                    break
        kwargs[key] = value
    if builtin:
        kwargs = _check_signature(cls, kwargs, where)
    return kwargs


def _is_layer_entry(value: Any, custom_objects: dict | None) -> bool:
    """A nested layer's entry (a wrapper's "layer", an RNN's "cell")."""
    if not (isinstance(value, dict) and isinstance(value.get("class_name"), str) and
            isinstance(value.get("config"), dict)):
        return False
    name = value["class_name"]
    if name in _MODEL_CLASSES or _builtin_layer_class(name) is not None:
        return True
    custom = registration.lookup([value.get("registered_name"), name], custom_objects)
    return isinstance(custom, type) and issubclass(custom, Layer)


def _check_signature(cls: type, kwargs: dict, where: str) -> dict:
    """Keep the arguments `cls` takes, each of the JSON type its annotation allows."""
    params = parameters(cls)
    kept = {}
    for key, value in kwargs.items():
        if key not in params:
            if key in _IGNORABLE and value == _IGNORABLE[key]:
                continue
            if value in (None, False, [], {}):
                continue
            warn(f"{where}: argument {key}={value!r} is not supported by mitbadak's "
                 f"{cls.__name__} and was ignored.")
            continue
        annotation = params[key]
        if not isinstance(value, Layer) and not type_ok(value, annotation):
            raise ConfigError(f"{where}: argument {key!r} must be {annotation}; got "
                              f"{preview(value)}.")
        kept[key] = value
    return kept


def _dtype(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, dict):
        inner = value.get("config")
        if value.get("class_name") not in ("DTypePolicy", "Policy", "FloatDTypePolicy") or \
                not isinstance(inner, dict) or not isinstance(inner.get("name"), str):
            raise ConfigError(f"{where}: unsupported dtype policy {preview(value)}.")
        value = inner["name"]
    if not isinstance(value, str):
        raise ConfigError(f"{where}: 'dtype' must be a string; got {preview(value)}.")
    if value.startswith("mixed_"):
        warn(f"{where}: mixed precision policy {value!r} is loaded as float32.")
        return "float32"
    if value not in _DTYPES:
        raise ConfigError(f"{where}: unsupported dtype {value!r}; expected one of "
                          f"{', '.join(sorted(_DTYPES))}.")
    return value


def _shape(value: Any, key: str, where: str) -> list:
    if isinstance(value, dict) and len(value) == 1:      # K3 build_config for one named input
        value = next(iter(value.values()))
    if not isinstance(value, list) or len(value) > 32 or not all(
            d is None or (isinstance(d, int) and not isinstance(d, bool) and 0 <= d < _MAX_DIM)
            for d in value):
        raise ConfigError(f"{where}: '{key}' must be a list of at most 32 sizes (null or "
                          f"non-negative ints); got {preview(value)}.")
    return value


def _activation(value: Any, custom_objects: dict | None, where: str) -> Any:
    if value is None:
        return None
    names: list = []
    if isinstance(value, str):
        names = [value]
    elif isinstance(value, dict):
        # Keras 3 writes custom functions as {"class_name": "function", "config": "name", ...}
        names = [value.get("registered_name"), value.get("config"), value.get("class_name")]
        names = [n for n in names if isinstance(n, str) and n != "function"]
        module = value.get("module")
        if not is_keras_module(module) and module not in ("builtins", "__main__") and \
                registration.lookup(names, custom_objects) is None:
            raise ConfigError(f"{where}: activation from module {module!r} is not registered; "
                              f"mitbadak never imports modules named in a file.")
    else:
        raise ConfigError(f"{where}: 'activation' must be a name; got {preview(value)}.")
    custom = registration.lookup(names, custom_objects)
    if custom is not None:
        if not callable(custom):
            raise ConfigError(f"{where}: custom activation {names[0]!r} is not callable.")
        return custom
    for name in names:
        if name in activations._ALL:
            return name
    try:
        activations.get(names[0] if names else "")
    except (ValueError, TypeError) as e:
        raise ConfigError(f"{where}: {e} If it is your own function, pass it in "
                          f"custom_objects.") from None
    return names[0]


def _nested_object(value: Any, module: Any, kind: str, custom_objects: dict | None,
                   where: str) -> Any:
    """An initializer/regularizer/constraint from a name or a {"class_name", "config"} dict."""
    if value is None:
        return None
    if isinstance(value, str):
        if value in module._CLASSES or value in getattr(module, "_ALIASES", {}):
            return value
        custom = registration.lookup([value], custom_objects)
        if custom is not None:
            return custom() if isinstance(custom, type) else custom
        raise ConfigError(f"{where}: unknown {kind} {value!r}.")
    if not isinstance(value, dict) or not isinstance(value.get("class_name"), str):
        raise ConfigError(f"{where}: expected a {kind} name or object; got {preview(value)}.")
    name, inner = value["class_name"], value.get("config", {})
    if not isinstance(inner, dict):
        raise ConfigError(f"{where}: the {kind}'s 'config' must be an object.")
    custom = registration.lookup([value.get("registered_name"), name], custom_objects)
    if custom is not None:
        if not isinstance(custom, type):
            raise ConfigError(f"{where}: custom {kind} {name!r} must be a class.")
        return custom.from_config(inner) if hasattr(custom, "from_config") else custom(**inner)
    if not is_keras_module(value.get("module")):
        raise ConfigError(f"{where}: {kind} {name!r} from module {value.get('module')!r} is not "
                          f"registered; mitbadak never imports modules named in a file.")
    cls = module._CLASSES.get(name) or getattr(module, "_ALIASES", {}).get(name)
    if not isinstance(cls, type):
        known = sorted(n for n in module._CLASSES if n[0].isupper())
        raise ConfigError(f"{where}: unknown {kind} class {name!r}; known: {', '.join(known)}.")
    params = parameters(cls)
    kwargs = {}
    for key, arg in inner.items():
        if key not in params:
            continue                  # e.g. Keras 3's input_axes/output_axes, always null
        if not type_ok(arg, params[key]):
            raise ConfigError(f"{where}: {name} argument {key!r} must be {params[key]}; got "
                              f"{preview(arg)}.")
        kwargs[key] = arg
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"{where}: {name}: {e}") from e
