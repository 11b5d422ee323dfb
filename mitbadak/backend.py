"""The one place that knows which array module and float type the library uses.

Every numerical line in mitbadak writes ``xp.<function>``; selecting CuPy with
``set_backend('cupy')`` moves the whole library onto a GPU without a second code path.
This module also owns the library's random generator and the automatic-name counters.
"""
from __future__ import annotations

import os
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


# ---------------------------------------------------------------- threads
_THREADS: Any = "auto"
_controller = None
_setting = None          # the _ThreadSetting of the fit/evaluate/predict running now
_step_threads = 1        # threads `parallel` uses now


def set_threads(n: Any) -> None:
    """How many cores fit/evaluate/predict may use: an int, None (leave BLAS as it is and
    use no threads of our own), or 'auto' (default; env MITBADAK_THREADS overrides).

    A CNN's first layers then run on that many threads of mitbadak's own, as do the
    optimizer's updates (models/slicing.py calls `step_threads`), and BLAS gets one thread.
    Other models leave the cores to BLAS: 'auto' gives it one thread when each step's
    products are small or the machine is already busy (BLAS threads spin-wait, so small
    products get several times slower whenever another process holds a core), all of them
    otherwise. Limiting BLAS needs threadpoolctl."""
    global _THREADS
    if not (n is None or n == "auto" or (isinstance(n, int) and n > 0)):
        raise ValueError(f"set_threads: expected a positive int, None or 'auto'; got {n!r}")
    _THREADS = n


set_blas_threads = set_threads          # its earlier name


def blas_limit(macs_per_step: float = 0.0):
    """A context manager applying the thread setting inside fit/evaluate/predict
    (macs_per_step: multiply-adds of each step's largest matrix product). Our own threads
    wait without spinning, and take the next piece of work as they come free, so they are
    used on a busy machine too (there they just gain less)."""
    n = os.environ.get("MITBADAK_THREADS") or os.environ.get("MITBADAK_BLAS_THREADS") \
        or _THREADS
    cores = os.cpu_count() or 1
    own = 1
    if n == "auto":
        small = macs_per_step < 2e7
        own = 1 if small or xp is not numpy else min(cores, 2)
        # One BLAS thread for small products, or when other processes already keep the
        # cores busy (spinning BLAS threads then wait for each other); all threads otherwise.
        busy = hasattr(os, "getloadavg") and os.getloadavg()[0] >= cores
        n = 1 if (small or busy) else None
    elif n is not None:
        n = own = int(n)
    return _ThreadSetting(own if xp is numpy else 1, n)


class _ThreadSetting:
    """For a with-block: the BLAS limit, and how many threads of our own `step_threads` may
    hand out; both put back at the end."""

    def __init__(self, own: int, blas: Any):
        self.own, self.blas, self.limits = own, blas, []

    def __enter__(self):
        global _setting, _step_threads
        self.saved = _setting, _step_threads
        _setting, _step_threads = self, 1
        if self.blas is not None:
            self._limit_blas(int(self.blas))
        return self

    def _limit_blas(self, n: int) -> None:
        controller = blas_controller()
        if controller is not None:
            limit = controller.limit(limits=n, user_api="blas")
            self.limits.append(limit)

    def __exit__(self, *exc):
        global _setting, _step_threads
        _setting, _step_threads = self.saved
        while self.limits:
            self.limits.pop().__exit__(*exc)


def step_threads() -> int:
    """The threads a step's independent pieces may run on (1 outside fit/evaluate/predict).
    The first call inside one of them gives BLAS's cores to mitbadak's own threads: BLAS
    gets one thread until it ends, since its threads spin-wait for ~0.1 s after every call
    and would take a core from ours (measured: a two-thread pass after a two-thread BLAS
    product took 48 ms instead of 31)."""
    global _step_threads
    s = _setting
    if s is not None and s.own > 1 and _step_threads == 1:
        s._limit_blas(1)
        _step_threads = s.own
    return _step_threads


def blas_controller() -> Any:
    """threadpoolctl's controller of the loaded BLAS libraries (None without threadpoolctl
    or on CuPy)."""
    global _controller
    if xp is not numpy:
        return None
    if _controller is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            return None
        _controller = ThreadpoolController()
    return _controller


class _Worker:
    """A helper thread that runs the jobs `parallel` hands it."""

    def __init__(self):
        import queue
        import threading
        self.jobs: Any = queue.SimpleQueue()
        threading.Thread(target=self._loop, name="mitbadak-worker", daemon=True).start()

    def _loop(self):
        while True:
            job, done = self.jobs.get()
            try:
                job()
            finally:
                done.set()


_workers: list = []
if hasattr(os, "register_at_fork"):      # a forked child has none of the parent's threads
    os.register_at_fork(after_in_child=_workers.clear)


def parallel(fn: Any, n: int) -> list:
    """[fn(0), ..., fn(n − 1)] on `_step_threads` threads (this one and helpers), each
    taking the next i as it comes free, so a thread that another process slows down takes
    fewer. fn(i) must depend on i alone, never on which thread runs it: then the results,
    returned in order, are the same for any number of threads. NumPy releases the GIL in
    its loops and in BLAS, so the threads really run at the same time."""
    threads = min(_step_threads, n)
    if threads <= 1:
        return [fn(i) for i in range(n)]
    import itertools
    import threading
    results: list = [None] * n
    errors: list = []
    counter = itertools.count()          # next() on it is atomic under the GIL

    def work():
        try:
            i = next(counter)
            while i < n:
                results[i] = fn(i)
                i = next(counter)
        except BaseException as e:       # raised again in the calling thread
            errors.append(e)

    while len(_workers) < threads - 1:
        _workers.append(_Worker())
    done = [threading.Event() for _ in range(threads - 1)]
    for worker, event in zip(_workers, done):
        worker.jobs.put((work, event))
    work()
    for event in done:
        event.wait()
    if errors:
        raise errors[0]
    return results
