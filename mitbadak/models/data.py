"""What fit/evaluate/predict accept as data, turned into batches of NumPy arrays.

Two sources, one shape of batch: ``(xs, ys, w)`` with ``xs`` one array per model input,
``ys`` one array per model output (or None) and ``w`` sample weights (or None).

- **Arrays** (NumPy arrays; lists or dicts of them for several inputs or outputs): all held
  in memory; an epoch is a permutation of the rows cut into batches (``ArrayData``).
- **Batches from Python** (``IterableData``): a generator, any iterable of ``(x, y)`` /
  ``(x, y, sample_weight)`` batches (mitbadak's datasets from image/text folders), or a
  ``keras.utils.PyDataset``/``Sequence`` (``__len__`` and ``__getitem__``). An object with a
  length is one epoch of that many batches and is iterated again every epoch; a generator
  runs on, and ``steps_per_epoch`` says how many batches make an epoch.
"""
from __future__ import annotations

import contextlib

import math
from typing import Any, Iterator

from ..backend import xp


def is_batch_source(x: Any) -> bool:
    """True for generators, datasets and PyDatasets; False for arrays and lists/dicts of them."""
    if x is None or hasattr(x, "shape") or isinstance(x, (list, tuple, dict, str, bytes)):
        return False
    return hasattr(x, "__iter__") or hasattr(x, "__next__") or (
        hasattr(x, "__getitem__") and hasattr(x, "__len__"))


def split_batch(batch: Any, what: str) -> tuple[Any, Any, Any]:
    """A batch from Python -> (x, y, sample_weight)."""
    if isinstance(batch, tuple) or (isinstance(batch, list) and len(batch) in (2, 3)
                                    and not all(hasattr(b, "shape") for b in batch)):
        if len(batch) == 1:
            return batch[0], None, None
        if len(batch) == 2:
            return batch[0], batch[1], None
        if len(batch) == 3:
            return batch
        raise ValueError(f"{what}: a batch must be (x, y) or (x, y, sample_weight); got a "
                         f"tuple of {len(batch)} items.")
    return batch, None, None


class ArrayData:
    """Arrays in memory, served in batches of `batch_size` (shuffled each epoch)."""

    def __init__(self, xs: list, ys: list | None, w: Any, batch_size: int):
        self.xs, self.ys, self.w, self.batch_size = xs, ys, w, batch_size
        self.n = len(xs[0])
        self.steps = math.ceil(self.n / batch_size)

    def epoch(self, rng: Any, shuffle: bool, steps: int | None = None) -> Iterator[tuple]:
        n, bs = self.n, self.batch_size
        order = rng.permutation(n) if shuffle else None
        for step in range(steps or self.steps):
            start = (step * bs) % n
            sl = slice(start, min(start + bs, n))
            idx = sl if order is None else order[sl]
            yield ([x[idx] for x in self.xs],
                   None if self.ys is None else [None if y is None else y[idx] for y in self.ys],
                   None if self.w is None else self.w[idx])


class IterableData:
    """Batches from a generator, an iterable dataset or a PyDataset/Sequence."""

    def __init__(self, source: Any, what: str, steps: int | None = None):
        self.source, self.what = source, what
        self.length = _length(source)
        if steps is None and self.length is None:
            steps = None                    # a generator: the epoch ends when it is exhausted
        self.steps = steps if steps is not None else self.length
        self._iterator: Iterator | None = None

    def epoch(self, rng: Any = None, shuffle: bool = False,
              steps: int | None = None) -> Iterator[tuple]:
        steps = steps or self.steps
        begin = getattr(self.source, "on_epoch_begin", None)      # PyDataset's hooks
        if callable(begin):
            begin()
        if hasattr(self.source, "__getitem__") and self.length is not None and \
                not hasattr(self.source, "__iter__"):
            batches: Iterator = (self.source[i] for i in range(self.length))
        elif self.length is not None or self._iterator is None:
            batches = iter(self.source)      # a sized dataset: a fresh pass each epoch
            if self.length is None:
                self._iterator = batches     # a generator: keep drawing from it
        else:
            batches = self._iterator
        count = 0
        for batch in batches:
            yield split_batch(batch, self.what)
            count += 1
            if steps is not None and count >= steps:
                break
        if count == 0:
            raise ValueError(f"{self.what}: the data ran out before the first batch (an "
                             f"exhausted generator?). Give steps_per_epoch so that several "
                             f"epochs fit in what it yields, or pass a dataset that can be "
                             f"iterated again.")
        end = getattr(self.source, "on_epoch_end", None)
        if callable(end):
            end()


def _length(source: Any) -> int | None:
    try:
        n = len(source)
    except TypeError:
        return None
    return int(n)


def as_list(structure: Any) -> list:
    if isinstance(structure, dict):
        return list(structure.values())
    if isinstance(structure, (list, tuple)):
        return list(structure)
    return [structure]


def rows(a: Any) -> int:
    return len(a) if hasattr(a, "__len__") else int(xp.asarray(a).shape[0])


@contextlib.contextmanager
def loader_settings(sources: list, workers: int | None, use_multiprocessing: bool | None,
                    max_queue_size: int | None) -> Iterator[None]:
    """tf.keras 2.x's ``fit(..., workers=4, use_multiprocessing=True, max_queue_size=10)``:
    how a PyDataset / Sequence given as data (an ImageDataGenerator's iterator, say) loads its
    batches, for this call only (Keras 3 moved them to the PyDataset's constructor). Arrays
    and plain generators ignore them, as in tf.keras 2.x."""
    asked = {"workers": workers, "use_multiprocessing": use_multiprocessing,
             "max_queue_size": max_queue_size}
    asked = {k: v for k, v in asked.items() if v is not None}
    touched = []
    for source in sources:
        if asked and all(isinstance(getattr(type(source), k, None), property) for k in asked):
            touched.append((source, {k: getattr(source, k) for k in asked}))
            for k, v in asked.items():
                setattr(source, k, v)
    try:
        yield
    finally:
        for source, before in touched:
            for k, v in before.items():
                setattr(source, k, v)
