"""The one place that knows which array module and float type the library uses.

Every numerical line in mitbadak writes ``xp.<function>``; selecting CuPy with
``set_backend('cupy')`` moves the whole library onto a GPU without a second code path.
This module also owns the library's random generator and the automatic-name counters.
"""
from __future__ import annotations

import random as _pyrandom
import re
from collections import defaultdict
from typing import Any

import numpy

xp: Any = numpy          # the active array module (numpy or cupy)
_FLOATX = "float32"
_EPSILON = 1e-7
_rng = numpy.random.default_rng()
_name_counts: dict[str, int] = defaultdict(int)


# ---------------------------------------------------------------- float type
def floatx() -> str:
    """The default float type as a string, 'float32' unless changed."""
    return _FLOATX


def set_floatx(value: str) -> None:
    """Set the default float type: 'float16', 'float32' or 'float64'."""
    global _FLOATX
    if value not in ("float16", "float32", "float64"):
        raise ValueError(f"set_floatx: expected 'float16', 'float32' or 'float64'; got {value!r}")
    _FLOATX = str(value)


_constants: dict = {}


def cached_scalar(value: float, dtype: Any = None) -> Any:
    """``value`` as a cached, read-only 0-d array of ``dtype`` (default: floatx()).

    ``a * cached_scalar(0.5, a.dtype)`` gives exactly ``a * 0.5`` (NumPy casts a Python float to
    the array's dtype), but skips NumPy's Python-scalar conversion, which costs about as much
    as the arithmetic itself on the tiny arrays of a small network's step."""
    key = (value, _FLOATX if dtype is None else dtype)
    c = _constants.get(key)
    if c is None:
        c = xp.asarray(value, dtype=key[1])
        if xp is numpy:
            c.flags.writeable = False      # shared by every caller (CuPy has no such flag)
        _constants[key] = c
    return c


def rows_of_512(a: Any) -> Any:
    """A big contiguous NumPy array seen as rows of 512 numbers (a view), or None.

    NumPy's element-wise loops run over the last axis; against a short row (a few dozen
    channels, or a scalar) they take slow paths. Seen as rows of 512, relu and the bias
    addition run 2-3x faster. None for CuPy, strided or small arrays, or a size that 512 does
    not divide."""
    if not isinstance(a, numpy.ndarray) or a.size % 512 or a.size < 8192 \
            or not a.flags.c_contiguous:
        return None
    return a.reshape(-1, 512)


def epsilon() -> float:
    """The fuzz factor used in losses and optimizers (Keras: 1e-7)."""
    return _EPSILON


def set_epsilon(value: float) -> None:
    global _EPSILON
    _EPSILON = float(value)


def standardize_dtype(dtype: Any = None) -> str:
    """None -> floatx(); numpy dtypes and strings -> their canonical name."""
    if dtype is None:
        return _FLOATX
    if isinstance(dtype, dict):            # a Keras 3 DTypePolicy config
        dtype = dtype.get("config", {}).get("name", _FLOATX)
    if dtype in ("string", str):           # Keras's name for text (keras.Input(dtype="string"))
        return "string"
    name = numpy.dtype(dtype).name
    return name


_IMAGE_DATA_FORMAT = "channels_last"


def image_data_format() -> str:
    """'channels_last' (NHWC, Keras's default) or 'channels_first'."""
    return _IMAGE_DATA_FORMAT


def set_image_data_format(value: str) -> None:
    global _IMAGE_DATA_FORMAT
    if value not in ("channels_last", "channels_first"):
        raise ValueError(f"set_image_data_format: expected 'channels_last' or 'channels_first'; "
                         f"got {value!r}")
    _IMAGE_DATA_FORMAT = value


# ---------------------------------------------------------------- array module
def set_backend(name: str) -> None:
    """Select the array module: 'numpy' (default) or 'cupy' (needs a CUDA GPU)."""
    global xp, _rng
    if name == "numpy":
        xp = numpy
    elif name == "cupy":
        try:
            import cupy
        except ImportError as e:  # pragma: no cover - depends on the machine
            raise ImportError("set_backend('cupy') needs CuPy: pip install cupy-cuda12x") from e
        xp = cupy
    else:
        raise ValueError(f"set_backend: expected 'numpy' or 'cupy'; got {name!r}")
    _rng = xp.random.default_rng(int(numpy.random.default_rng().integers(2**31)))
    _constants.clear()        # they belong to the previous array module
    _sync_modules()


def _sync_modules() -> None:
    # Modules import `xp` by name for speed; keep them pointing at the active module.
    import sys
    for mod in list(sys.modules.values()):
        if getattr(mod, "__name__", "").startswith("mitbadak.") and "xp" in getattr(mod, "__dict__", {}):
            if mod.__name__ != __name__:
                mod.xp = xp


def backend() -> str:
    """'numpy' or 'cupy'."""
    return "cupy" if xp.__name__ == "cupy" else "numpy"


def to_numpy(a: Any) -> numpy.ndarray:
    """Any array of the active backend -> a NumPy array (a no-op on the CPU)."""
    if hasattr(a, "get") and not isinstance(a, numpy.ndarray):
        return a.get()
    return numpy.asarray(a)


def convert_to_tensor(a: Any, dtype: Any = None) -> Any:
    return xp.asarray(a, dtype=dtype)


# ---------------------------------------------------------------- randomness
def rng() -> numpy.random.Generator:
    """The library's random generator: initializers, shuffling and dropout draw from it."""
    return _rng


def set_seed(seed: int) -> None:
    """Seed Python's `random`, NumPy's global state and the library generator."""
    global _rng
    _pyrandom.seed(seed)
    numpy.random.seed(seed)
    _rng = xp.random.default_rng(seed)


def make_rng(seed: int | None) -> numpy.random.Generator:
    """A private generator for a layer or initializer with its own seed; the library one otherwise."""
    return _rng if seed is None else xp.random.default_rng(seed)


# ---------------------------------------------------------------- names
def snake_case(name: str) -> str:
    """'MaxPooling2D' -> 'max_pooling2d', 'BatchNormalization' -> 'batch_normalization'."""
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", s).lower()


def unique_name(prefix: str) -> str:
    """'dense', then 'dense_1', 'dense_2', ... per process, until clear_session()."""
    n = _name_counts[prefix]
    _name_counts[prefix] += 1
    return prefix if n == 0 else f"{prefix}_{n}"


def clear_session() -> None:
    """Forget automatic names, so the next Dense is called 'dense' again."""
    _name_counts.clear()


# ---------------------------------------------------------------- BLAS threads
_BLAS_THREADS: Any = "auto"
_controller = None


def set_blas_threads(n: Any) -> None:
    """Threads for matrix products inside fit/evaluate/predict: an int, None (leave BLAS as
    it is), or 'auto' (default; env MITBADAK_BLAS_THREADS overrides): one thread when each
    step's products are small. BLAS threads spin-wait, so small products get several times
    slower with 2 threads whenever another process holds a core. Needs threadpoolctl."""
    global _BLAS_THREADS
    if not (n is None or n == "auto" or (isinstance(n, int) and n > 0)):
        raise ValueError(f"set_blas_threads: expected a positive int, None or 'auto'; got {n!r}")
    _BLAS_THREADS = n


def blas_limit(macs_per_step: float = 0.0):
    """A context manager applying the BLAS thread setting (a no-op without threadpoolctl)."""
    import contextlib
    import os
    global _controller
    n = os.environ.get("MITBADAK_BLAS_THREADS") or _BLAS_THREADS
    if n == "auto":
        # One thread for small products, or when other processes already keep the cores busy
        # (spinning BLAS threads then wait for each other); all threads otherwise.
        busy = hasattr(os, "getloadavg") and os.getloadavg()[0] >= (os.cpu_count() or 1)
        n = 1 if (macs_per_step < 2e7 or busy) else None
    if n is None or xp is not numpy:
        return contextlib.nullcontext()
    try:
        if _controller is None:
            from threadpoolctl import ThreadpoolController
            _controller = ThreadpoolController()
        return _controller.limit(limits=int(n), user_api="blas")
    except ImportError:
        return contextlib.nullcontext()
