"""Reading Python pickles without running them: the one restricted reader of the package.

Some dataset files Keras downloads are pickles: CIFAR-10/100 batches are pickled dicts, and
IMDB/Reuters ``.npz`` files hold ragged lists as pickled object arrays. A general
``pickle.load`` (or ``np.load(allow_pickle=True)``) would call any function the file names,
so a hostile file could run code. This reader admits only what such data needs:

- plain values, which pickle builds without naming any function: lists, tuples, dicts,
  ints, floats, strings, bytes, booleans, None;
- NumPy arrays and dtypes (``numpy.ndarray``, ``numpy.dtype`` and NumPy's own array and
  scalar reconstruction functions).

A file that asks for anything else is refused with ``UnsafePickleError`` before the requested
object is looked up, so nothing of it runs.

    from mitbadak.utils import safe_pickle
    batch = safe_pickle.load(open('data_batch_1', 'rb'), encoding='bytes')
    with safe_pickle.load_npz('imdb.npz') as f: x_train = f['x_train']
"""
from __future__ import annotations

import io
import os
import pickle
import zipfile
from typing import Any, BinaryIO

import numpy

def _numpy_helper(name: str) -> Any:
    """NumPy's own pickle helpers, taken from what NumPy itself writes (never by importing a
    module a file names)."""
    if name == "scalar":
        return numpy.float64(0).__reduce__()[0]
    if name == "_frombuffer":
        return numpy.arange(2).__reduce_ex__(5)[0]
    return numpy.zeros(0).__reduce__()[0]             # _reconstruct


# (module, name) -> the object. NumPy 1.x pickles name numpy.core, NumPy 2.x numpy._core.
_ALLOWED: dict[tuple[str, str], Any] = {("numpy", "ndarray"): numpy.ndarray,
                                        ("numpy", "dtype"): numpy.dtype}
for _core in ("numpy.core", "numpy._core"):
    _ALLOWED[(f"{_core}.multiarray", "_reconstruct")] = _numpy_helper("_reconstruct")
    _ALLOWED[(f"{_core}.multiarray", "scalar")] = _numpy_helper("scalar")
    _ALLOWED[(f"{_core}.numeric", "_frombuffer")] = _numpy_helper("_frombuffer")


def _latin1_bytes(text: str, encoding: str = "latin1") -> bytes:
    """Pickle protocols 0-2 store bytes as ``_codecs.encode(text, 'latin1')``; only that
    encoding is honoured."""
    if encoding not in ("latin1", "latin-1") or not isinstance(text, str):
        raise UnsafePickleError(f"refused to read this file: it asks to encode text as "
                                f"{encoding!r}, which no NumPy or list pickle does.")
    return text.encode("latin1")


_ALLOWED[("_codecs", "encode")] = _latin1_bytes


class UnsafePickleError(pickle.UnpicklingError):
    """A pickle asked for something other than plain data and NumPy arrays."""


class RestrictedUnpickler(pickle.Unpickler):
    """``pickle.Unpickler`` whose ``find_class`` knows only NumPy's array types."""

    def find_class(self, module: str, name: str) -> Any:
        found = _ALLOWED.get((module, name))
        if found is None:
            raise UnsafePickleError(
                f"refused to read this file: it asks for {module}.{name}, and mitbadak reads "
                f"only plain data (lists, dicts, numbers, strings) and NumPy arrays from "
                f"pickles, never code. If the file should hold a dataset, it is damaged or not "
                f"the original: delete it and download it again.")
        return found

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError("refused to read this file: it refers to persistent objects "
                                "outside the pickle.")


def load(file: BinaryIO, encoding: str = "ASCII") -> Any:
    """One pickled object from an open binary file, through the restricted reader.

    ``encoding='bytes'`` (or ``'latin1'``) reads Python 2 pickles, as CIFAR's batches are.
    """
    return RestrictedUnpickler(file, encoding=encoding).load()


def loads(data: bytes, encoding: str = "ASCII") -> Any:
    """``load`` for bytes in memory."""
    return load(io.BytesIO(data), encoding=encoding)


def read_npy(file: BinaryIO) -> numpy.ndarray:
    """One ``.npy`` array from an open file; object arrays are read with the restricted
    reader (``np.load(allow_pickle=True)`` would run whatever the file names)."""
    fmt = numpy.lib.format
    version = fmt.read_magic(file)
    if version == (1, 0):
        shape, fortran, dtype = fmt.read_array_header_1_0(file)
    elif version == (2, 0):
        shape, fortran, dtype = fmt.read_array_header_2_0(file)
    else:
        raise ValueError(f"unsupported .npy format version {version}")
    if not dtype.hasobject:
        count = int(numpy.prod(shape, dtype=numpy.int64))
        data = file.read(count * dtype.itemsize)
        if len(data) != count * dtype.itemsize:
            raise ValueError(f"the .npy data is truncated: expected {count} values of {dtype}")
        array = numpy.frombuffer(data, dtype=dtype, count=count)
        return array.reshape(shape, order="F" if fortran else "C").copy()
    array = load(file, encoding="latin1")
    if not isinstance(array, numpy.ndarray) or array.shape != tuple(shape):
        raise ValueError(f"the object array's pickle holds "
                         f"{type(array).__name__} {getattr(array, 'shape', '')}, not the "
                         f"array of shape {tuple(shape)} its header declares")
    return array


class NpzFile:
    """The arrays of an ``.npz`` file by name, read on access like ``np.load``'s result."""

    def __init__(self, path: str | os.PathLike):
        self._zip = zipfile.ZipFile(path)
        self.files = [n[:-4] for n in self._zip.namelist() if n.endswith(".npy")]

    def __getitem__(self, key: str) -> numpy.ndarray:
        if key not in self.files:
            raise KeyError(f"{key!r} is not in the file; it holds {self.files}")
        with self._zip.open(key + ".npy") as member:
            return read_npy(io.BufferedReader(member))

    def __contains__(self, key: str) -> bool:
        return key in self.files

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> "NpzFile":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def load_npz(path: str | os.PathLike) -> NpzFile:
    """``np.load(path)`` for ``.npz`` files whose arrays may hold pickled objects."""
    return NpzFile(path)


__all__ = ["load", "loads", "load_npz", "read_npy", "NpzFile", "RestrictedUnpickler",
           "UnsafePickleError"]
