"""Small, careful helpers around h5py: opening, string attributes, safe reads.

Untrusted HDF5 files can hold links to other files, datasets whose bytes live in another
file, or "virtual" datasets stitched from elsewhere; reading any of those could touch files
the user never named. Every read here walks hard links only and refuses such datasets, and a
dataset is only read after its shape has been checked, so a file cannot make us allocate an
absurd array.
"""
from __future__ import annotations

from typing import Any

import numpy

# HDF5 keeps attributes in the object header, limited to 64 KiB; Keras splits longer lists
# into name0, name1, ... and so do we.
HDF5_OBJECT_HEADER_LIMIT = 64512


def require_h5py() -> Any:
    """The h5py module, or an ImportError that says how to get it."""
    try:
        import h5py
    except ImportError as e:
        raise ImportError("Saving and loading .h5, .weights.h5 and .keras files needs h5py: "
                          "pip install h5py (or pip install 'mitbadak[h5]').") from e
    return h5py


# ----------------------------------------------------------------- attributes
def text(value: Any) -> str:
    """An attribute read back as str, whether stored as bytes or str, fixed or variable."""
    if isinstance(value, numpy.ndarray) and value.shape == ():
        value = value[()]
    if isinstance(value, (bytes, numpy.bytes_)):
        return bytes(value).decode("utf-8")
    if isinstance(value, str):
        return value
    raise ValueError(f"expected a text attribute; got {type(value).__name__}")


def write_text(obj: Any, name: str, value: str) -> None:
    """A scalar variable-length UTF-8 string attribute (what both Keras lines read)."""
    obj.attrs[name] = value


def write_names(obj: Any, name: str, names: list[str]) -> None:
    """A list of names as Keras writes it: chunked into name0, name1, ... when too long."""
    h5py = require_h5py()
    if not names:
        obj.attrs[name] = numpy.zeros((0,), dtype=numpy.float64)    # Keras's empty list
        return
    if any(len(n.encode("utf-8")) > HDF5_OBJECT_HEADER_LIMIT for n in names):
        raise ValueError(f"A name in {name!r} is longer than {HDF5_OBJECT_HEADER_LIMIT} bytes.")
    data = numpy.array(names, dtype=h5py.string_dtype("utf-8"))
    chunks = 1
    while max(sum(len(n.encode("utf-8")) + 16 for n in part)
              for part in numpy.array_split(data, chunks)) > HDF5_OBJECT_HEADER_LIMIT:
        chunks += 1
    if chunks == 1:
        obj.attrs[name] = data
    else:
        for i, part in enumerate(numpy.array_split(data, chunks)):
            obj.attrs[f"{name}{i}"] = part


def read_names(obj: Any, name: str) -> list[str]:
    """A list attribute (joined from name0, name1, ... when split); [] when absent or empty."""
    attrs = obj.attrs
    if name in attrs:
        parts = [attrs[name]]
    else:
        parts, i = [], 0
        while f"{name}{i}" in attrs:
            parts.append(attrs[f"{name}{i}"])
            i += 1
    names: list[str] = []
    for part in parts:
        arr = numpy.asarray(part)
        if arr.size == 0:
            continue
        if arr.dtype.kind not in "OSU":
            raise ValueError(f"attribute {name!r} of {obj.name!r} should hold names; it holds "
                             f"{arr.dtype} values")
        names.extend(text(v) for v in arr.reshape(-1))
    return names


# ----------------------------------------------------------------- safe reads
def group(parent: Any, path: str, where: str = "") -> Any:
    """The group at `path` below `parent`, following hard links only."""
    h5py = require_h5py()
    current = parent
    for part in _parts(path):
        if part not in current:
            raise KeyError(f"group '{_join(current.name, path)}'{where}")
        _check_link(current, part, h5py)
        current = current[part]
        if not isinstance(current, h5py.Group):
            raise ValueError(f"'{current.name}' should be a group but is a dataset")
    return current


def has(parent: Any, path: str) -> bool:
    """True if `path` exists below `parent`; a soft or external link on the way is an error."""
    h5py = require_h5py()
    current = parent
    for part in _parts(path):
        if not isinstance(current, h5py.Group) or part not in current:
            return False
        _check_link(current, part, h5py)
        current = current[part]
    return True


def dataset(parent: Any, path: str) -> Any:
    """The dataset at `path`, refusing external or virtual storage and non-numeric data."""
    h5py = require_h5py()
    parts = _parts(path)
    holder = group(parent, "/".join(parts[:-1])) if len(parts) > 1 else parent
    name = parts[-1]
    if name not in holder:
        raise KeyError(f"dataset '{_join(holder.name, name)}'")
    _check_link(holder, name, h5py)
    ds = holder[name]
    if not isinstance(ds, h5py.Dataset):
        raise ValueError(f"'{ds.name}' should be a dataset but is a group")
    if ds.external:
        raise ValueError(f"dataset '{ds.name}' keeps its data in another file; refused")
    if ds.is_virtual:
        raise ValueError(f"dataset '{ds.name}' is a virtual dataset; refused")
    if ds.dtype.kind not in "biuf":
        raise ValueError(f"dataset '{ds.name}' holds {ds.dtype} values, not numbers")
    return ds


def read_array(ds: Any, expected_shape: tuple | None = None) -> numpy.ndarray:
    """The dataset's values, after checking its shape (so nothing huge is read by surprise)."""
    if expected_shape is not None and tuple(ds.shape) != tuple(expected_shape):
        raise ValueError(f"dataset '{ds.name}' has shape {tuple(ds.shape)}; expected "
                         f"{tuple(expected_shape)}")
    return numpy.asarray(ds[()])


def _parts(path: str) -> list[str]:
    parts = path.split("/")
    if not path or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"invalid path {path!r} inside the HDF5 file")
    return parts


def _check_link(holder: Any, name: str, h5py: Any) -> None:
    link = holder.get(name, getlink=True)
    if not isinstance(link, h5py.HardLink):
        raise ValueError(f"'{_join(holder.name, name)}' is a {type(link).__name__}; links to "
                         f"other places or files are refused")


def _join(base: str, path: str) -> str:
    return base.rstrip("/") + "/" + path
