"""Dataset: a stream of NumPy elements with tf.data's everyday methods, what
``image_dataset_from_directory`` and ``text_dataset_from_directory`` return.

    ds = keras.utils.image_dataset_from_directory("train", image_size=(180, 180))
    for images, labels in ds.take(1): ...          # (32, 180, 180, 3) float32, (32,) int32
    ds = ds.map(lambda x, y: (x / 255.0, y)).prefetch(2)
    model.fit(ds, epochs=10, validation_data=val_ds)

An element is one array or a tuple of arrays; a batched dataset's elements are batches.
Iterating starts a fresh pass (an epoch) every time, so fit can run one pass per epoch, and
``len(ds)`` is the number of elements of a pass (batches, for a batched dataset).

The methods return new datasets and change nothing in place:
``map(fn, num_parallel_calls=None)`` (fn gets a tuple element's parts as arguments, as in
tf.data; several calls run at once on threads when num_parallel_calls > 1), ``batch(n)``,
``unbatch()``, ``shuffle(buffer_size, seed=None)`` (tf.data's buffer shuffle, a new order each
pass), ``take(n)``, ``skip(n)``, ``repeat(count=None)``, ``cache()`` (the first pass is kept in
memory), ``prefetch(buffer_size)`` (a thread computes the next elements while you use the
current one: decoding and training then run at once), ``as_numpy_iterator()``.
"""
from __future__ import annotations

import collections
import queue
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Iterator

import numpy

from .. import backend

AUTOTUNE = -1          # tf.data.AUTOTUNE: let the library choose a buffer size


class Dataset:
    """Elements made afresh by ``make_iterator()`` for each pass; ``length`` per pass
    (None when unknown, e.g. after ``repeat()``)."""

    def __init__(self, make_iterator: Callable[[], Iterator], length: int | None,
                 class_names: list | None = None, file_paths: list | None = None):
        self._make_iterator = make_iterator
        self._length = length
        if class_names is not None:
            self.class_names = class_names
        if file_paths is not None:
            self.file_paths = file_paths

    # ------------------------------------------------------------- passes
    def __iter__(self) -> Iterator:
        return self._make_iterator()

    def __len__(self) -> int:
        if self._length is None:
            raise TypeError("The length of this dataset is unknown (it repeats without end, "
                            "or its source has no length).")
        return self._length

    def cardinality(self) -> int:
        """Elements per pass; -1 for infinite or unknown (tf.data gives -1 / -2)."""
        return -1 if self._length is None else self._length

    def as_numpy_iterator(self) -> Iterator:
        return iter(self)

    def _derive(self, make_iterator: Callable[[], Iterator], length: int | None) -> "Dataset":
        return Dataset(make_iterator, length, getattr(self, "class_names", None),
                       getattr(self, "file_paths", None))

    def __repr__(self) -> str:
        n = "unknown" if self._length is None else self._length
        return f"<Dataset elements={n}>"

    # ------------------------------------------------------------- transformations
    def map(self, fn: Callable, num_parallel_calls: int | None = None,
            deterministic: bool | None = None) -> "Dataset":
        """fn applied to every element; fn(x, y) for an element (x, y). With
        num_parallel_calls > 1 (or AUTOTUNE: 2), that many calls run at once on threads;
        the order of the elements is kept."""
        def call(element):
            return fn(*element) if isinstance(element, tuple) else fn(element)

        workers = 2 if num_parallel_calls == AUTOTUNE else (num_parallel_calls or 1)
        if workers <= 1:
            return self._derive(lambda: (call(e) for e in self), self._length)
        return self._derive(lambda: parallel_map(call, iter(self), workers), self._length)

    def batch(self, batch_size: int, drop_remainder: bool = False) -> "Dataset":
        """Consecutive elements stacked into batches of `batch_size` (the last may be
        smaller unless drop_remainder)."""
        if not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"Dataset.batch: batch_size must be a positive int; got "
                             f"{batch_size!r}.")

        def batches():
            chunk = []
            for element in self:
                chunk.append(element)
                if len(chunk) == batch_size:
                    yield stack(chunk)
                    chunk = []
            if chunk and not drop_remainder:
                yield stack(chunk)
        n = self._length
        length = None if n is None else (n // batch_size if drop_remainder
                                          else -(-n // batch_size))
        return self._derive(batches, length)

    def unbatch(self) -> "Dataset":
        """The elements of every batch, one at a time."""
        def elements():
            for batch in self:
                parts = batch if isinstance(batch, tuple) else (batch,)
                for i in range(len(parts[0])):
                    row = tuple(p[i] for p in parts)
                    yield row if isinstance(batch, tuple) else row[0]
        return self._derive(elements, None)

    def shuffle(self, buffer_size: int, seed: int | None = None,
                reshuffle_each_iteration: bool = True) -> "Dataset":
        """tf.data's shuffle: a buffer of `buffer_size` elements; each output is a random
        element of the buffer, replaced by the next input. A buffer as large as the dataset
        is a full shuffle. Each pass draws a new order (unless reshuffle_each_iteration=False)."""
        if buffer_size == AUTOTUNE or buffer_size is None:
            buffer_size = 1024
        # Pass k draws from the generator keyed (base seed, k); an unseeded shuffle takes its
        # base from the library generator, so keras.utils.set_random_seed repeats it.
        base = int(seed) if seed is not None else int(backend.rng().integers(2 ** 62))
        state = {"pass": 0}

        def shuffled():
            k = state["pass"] if reshuffle_each_iteration else 0
            state["pass"] += 1
            rng = numpy.random.default_rng([base, k])
            buffer: list = []
            for element in self:
                if len(buffer) < buffer_size:
                    buffer.append(element)
                    continue
                i = int(rng.integers(len(buffer)))
                yield buffer[i]
                buffer[i] = element
            while buffer:
                yield buffer.pop(int(rng.integers(len(buffer))))
        return self._derive(shuffled, self._length)

    def take(self, count: int) -> "Dataset":
        """The first `count` elements (all of them for count = -1)."""
        if count < 0:
            return self
        def first():
            for i, element in enumerate(self):
                if i >= count:
                    return
                yield element
        return self._derive(first, None if self._length is None else min(count, self._length))

    def skip(self, count: int) -> "Dataset":
        def rest():
            for i, element in enumerate(self):
                if i >= count:
                    yield element
        length = None if self._length is None else max(self._length - count, 0)
        return self._derive(rest, length)

    def repeat(self, count: int | None = None) -> "Dataset":
        """The dataset `count` times over (without end for None or -1)."""
        def again():
            k = 0
            while count is None or count < 0 or k < count:
                yield from self
                k += 1
        infinite = count is None or count < 0
        length = None if infinite or self._length is None else self._length * count
        return self._derive(again, length)

    def cache(self, filename: str = "") -> "Dataset":
        """The first complete pass is kept in memory; later passes read it from there.
        (tf.data's on-disk cache, filename != '', is not offered: pass no filename.)"""
        if filename:
            raise ValueError("Dataset.cache: only the in-memory cache (no filename) is "
                             "offered; call cache() without arguments.")
        kept: dict = {}

        def cached():
            if "elements" in kept:
                yield from kept["elements"]
                return
            elements = []
            for element in self:
                elements.append(element)
                yield element
            kept["elements"] = elements
        return self._derive(cached, self._length)

    def prefetch(self, buffer_size: int = AUTOTUNE) -> "Dataset":
        """A background thread computes up to `buffer_size` elements ahead (AUTOTUNE: 2)."""
        size = 2 if buffer_size in (None, AUTOTUNE) else int(buffer_size)
        if size <= 0:
            return self
        return self._derive(lambda: _prefetch(self, size), self._length)


# ------------------------------------------------------------------ helpers
def stack(elements: list) -> Any:
    """A list of elements (arrays or tuples of arrays) -> one batch."""
    first = elements[0]
    if isinstance(first, tuple):
        return tuple(stack([e[i] for e in elements]) for i in range(len(first)))
    if isinstance(first, (str, bytes)):          # texts: an object array, one str each
        out = numpy.empty(len(elements), dtype=object)
        out[:] = elements
        return out
    return numpy.stack([numpy.asarray(e) for e in elements])


def parallel_map(call: Callable, source: Iterator, workers: int,
                 ahead: int | None = None) -> Iterator:
    """call(e) for e in source, `workers` at a time on threads, in order, at most `ahead`
    (default 2·workers) results waiting."""
    ahead = ahead or 2 * workers
    with ThreadPoolExecutor(workers) as pool:
        pending: collections.deque = collections.deque()
        try:
            for element in source:
                pending.append(pool.submit(call, element))
                if len(pending) >= ahead:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


_END = object()


def _prefetch(dataset: Iterator, size: int) -> Iterator:
    """The elements of `dataset`, computed ahead on a thread into a queue of `size`.

    An exception in the thread is raised here, at the element where it happened; stopping
    early (break, take) stops the thread."""
    q: queue.Queue = queue.Queue(maxsize=size)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce():
        try:
            for element in dataset:
                if not put((element, None)):
                    return
        except BaseException as err:           # handed to the consumer
            put((_END, err))
            return
        put((_END, None))

    thread = threading.Thread(target=produce, daemon=True, name="mitbadak-prefetch")
    thread.start()
    try:
        while True:
            element, err = q.get()
            if element is _END:
                if err is not None:
                    raise err
                return
            yield element
    finally:
        stop.set()
        thread.join(timeout=5)


def from_tensor_slices(data: Any) -> Dataset:
    """tf.data's ``from_tensor_slices``: the rows of an array (or of a tuple of arrays) as
    elements: ``from_tensor_slices((x, y)).shuffle(1000).batch(32)``."""
    parts = data if isinstance(data, tuple) else (data,)
    parts = tuple(numpy.asarray(p) for p in parts)
    n = len(parts[0])
    if any(len(p) != n for p in parts):
        raise ValueError(f"from_tensor_slices: all arrays need the same first dimension; got "
                         f"{[len(p) for p in parts]}.")

    def rows():
        for i in range(n):
            yield tuple(p[i] for p in parts) if isinstance(data, tuple) else parts[0][i]
    return Dataset(rows, n)


__all__ = ["Dataset", "AUTOTUNE", "from_tensor_slices", "stack"]
