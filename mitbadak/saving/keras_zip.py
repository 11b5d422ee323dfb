"""The Keras 3 native file: ``model.save('m.keras')``, a zip holding three entries::

    metadata.json      {"keras_version": ..., "date_saved": ...}
    config.json        the model's K3 config, with build_config and compile_config
    model.weights.h5   the Keras 3 weights layout (weights.py), optimizer state included

Entries are stored uncompressed, as Keras stores them. Reading never extracts anything to
disk: members are read into memory, and an archive with an entry that points outside its
folder ('../', an absolute path), a link, a duplicate name or an encrypted or
implausibly-compressed member is refused before anything else is read.
"""
from __future__ import annotations

import datetime
import io
import json
import stat
import zipfile
from typing import Any

from . import compile_settings, h5, optimizer_state, serialization, weights
from .atomic import atomic_path
from .errors import InvalidFileError, describe, reading, warn

CONFIG, METADATA, WEIGHTS = "config.json", "metadata.json", "model.weights.h5"
_MAX_JSON_BYTES = 64 * 2 ** 20            # a config is kilobytes; refuse to read gigabytes
_MAX_EXPANSION = 1000                    # deflate cannot legitimately exceed ~1032:1


def save(model: Any, path: str, overwrite: bool = True, include_optimizer: bool = True) -> None:
    """Write `model` to a ``.keras`` archive at `path` (atomically)."""
    import mitbadak
    config = json.dumps(serialization.model_config(model, serialization.K3))
    now = datetime.datetime.now()
    metadata = json.dumps({"keras_version": weights.K3_FORMAT_VERSION,
                           "date_saved": now.strftime("%Y-%m-%d@%H:%M:%S"),
                           "mitbadak_version": getattr(mitbadak, "__version__", "")})
    weights_bytes = weights_file_bytes(model, include_optimizer)
    with atomic_path(path, overwrite) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as zf:
            for name, data in ((METADATA, metadata.encode()), (CONFIG, config.encode()),
                               (WEIGHTS, weights_bytes)):
                info = zipfile.ZipInfo(name, date_time=now.timetuple()[:6])
                info.compress_type = zipfile.ZIP_STORED
                info.external_attr = (stat.S_IFREG | 0o644) << 16
                zf.writestr(info, data)


def weights_file_bytes(model: Any, include_optimizer: bool = True) -> bytes:
    """The Keras 3 weights file of `model` as bytes (built in memory)."""
    h5py = h5.require_h5py()
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        weights.write_k3(f, model, include_optimizer)
    return buffer.getvalue()


def load(path: str, custom_objects: dict | None = None, compile: bool = True) -> Any:
    """A model from a ``.keras`` archive written by mitbadak or Keras 3."""
    h5py = h5.require_h5py()
    source = describe(path)
    with reading(path, "a model"):
        with open(path, "rb") as fh, zipfile.ZipFile(fh) as zf:
            names = check_members(zf, source)
            if CONFIG not in names:
                raise InvalidFileError(f"{source} has no {CONFIG}, so it is not a Keras model "
                                       f"archive.")
            if METADATA in names:
                meta = serialization.parse_json(_read(zf, METADATA, source), METADATA)
                if not isinstance(meta, dict):
                    raise InvalidFileError(f"{source}: {METADATA} is not a JSON object.")
            config = serialization.parse_json(_read(zf, CONFIG, source), CONFIG)
            model = serialization.model_from_config(config, custom_objects, compile=False)
            data = _read(zf, _weights_name(names, source), source, limit=None)
            _load_assets(model, zf, names, source)
        with h5py.File(io.BytesIO(data), "r") as f:
            weights.read_k3(f, model)
            if not compile:
                return model
            compile_config = config.get("compile_config")
            if not isinstance(compile_config, dict):
                warn(f"{source} holds no compile settings, so the model was *not* "
                     f"compiled. Compile it manually.")
                return model
            compile_settings.compile_from_config(model, compile_config, custom_objects)
            values = weights.k3_optimizer_values(f)
            if values is None:
                warn(f"{source} holds no optimizer state; training continues with a "
                     f"freshly initialized {type(model.optimizer).__name__}.")
            else:
                optimizer_state.restore(model.optimizer, values,
                                        optimizer_state.trainable_refs(model), source)
    return model


def load_weights(model: Any, path: str, skip_mismatch: bool = False) -> None:
    """``model.load_weights('m.keras')``: the weights (and, if compiled, optimizer state)."""
    h5py = h5.require_h5py()
    source = describe(path)
    with reading(path, "weights"):
        with open(path, "rb") as fh, zipfile.ZipFile(fh) as zf:
            names = check_members(zf, source)
            data = _read(zf, _weights_name(names, source), source, limit=None)
        with h5py.File(io.BytesIO(data), "r") as f:
            weights.read_k3(f, model, skip_mismatch)
            values = weights.k3_optimizer_values(f)
            if values is not None and getattr(model, "compiled", False) and model.optimizer:
                optimizer_state.restore(model.optimizer, values,
                                        optimizer_state.trainable_refs(model), source)


def _load_assets(model: Any, zf: zipfile.ZipFile, names: set[str], source: str) -> None:
    """Keras 3 keeps some layers' state as files in ``assets/<layer path>/`` (an adapted
    TextVectorization's vocabulary.txt). A layer that reads them has ``load_asset_files``:
    it gets {file name: bytes} in memory; nothing is extracted to disk."""
    for path, layer in weights.walk_k3(model):
        if not hasattr(layer, "load_asset_files"):
            continue
        prefix = f"assets/{path}/"
        files = {n[len(prefix):]: _read(zf, n, source) for n in sorted(names)
                 if n.startswith(prefix) and "/" not in n[len(prefix):] and n != prefix}
        if files:
            layer.load_asset_files(files)


def check_members(zf: zipfile.ZipFile, source: str) -> set[str]:
    """The member names, after refusing anything that could be an attack."""
    seen: set[str] = set()
    for info in zf.infolist():
        name = info.filename
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or "\\" in name or ".." in parts or \
                (parts and ":" in parts[0]):
            raise InvalidFileError(f"{source} contains the entry {name!r}, which points outside "
                                   f"the archive's folder; refusing a possibly malicious file.")
        if name in seen:
            raise InvalidFileError(f"{source} contains the entry {name!r} twice; refusing an "
                                   f"ambiguous archive.")
        seen.add(name)
        if stat.S_ISLNK(info.external_attr >> 16):
            raise InvalidFileError(f"{source}: entry {name!r} is a symbolic link; refused.")
        if info.flag_bits & 0x1:
            raise InvalidFileError(f"{source}: entry {name!r} is encrypted; refused.")
        if info.file_size > _MAX_EXPANSION * max(info.compress_size, 1) and \
                info.file_size > 2 ** 20:
            raise InvalidFileError(f"{source}: entry {name!r} claims {info.file_size} bytes from "
                                   f"{info.compress_size} stored; refusing a possible zip bomb.")
    return seen


def _weights_name(names: set[str], source: str) -> str:
    if WEIGHTS in names:
        return WEIGHTS
    if "model.weights.npz" in names:
        raise InvalidFileError(f"{source} keeps its weights as model.weights.npz; mitbadak reads "
                               f"the default h5 weights format. Re-save it with Keras's default "
                               f"settings.")
    raise InvalidFileError(f"{source} has no {WEIGHTS} entry: the archive is incomplete.")


def _read(zf: zipfile.ZipFile, name: str, source: str, limit: int | None = _MAX_JSON_BYTES) \
        -> bytes:
    info = zf.getinfo(name)
    if limit is not None and info.file_size > limit:
        raise InvalidFileError(f"{source}: {name} is {info.file_size} bytes; a Keras config is "
                               f"far smaller, so the file is damaged or not a model.")
    data = zf.read(name)          # checks the CRC: a flipped byte is a BadZipFile here
    if len(data) != info.file_size:
        raise InvalidFileError(f"{source}: {name} is shorter than its header says; the file "
                               f"is truncated.")
    return data
