"""PyDataset (Keras 3) and Sequence (tf.keras 2): your own loader as a list of batches.

    class Loader(keras.utils.PyDataset):
        def __init__(self, paths, labels, batch_size, **kwargs):
            super().__init__(**kwargs)          # workers=, use_multiprocessing=, max_queue_size=
            self.paths, self.labels, self.batch_size = paths, labels, batch_size
        def __len__(self):                      # batches per epoch
            return math.ceil(len(self.paths) / self.batch_size)
        def __getitem__(self, i):               # batch i: (x, y) NumPy arrays
            ...
        def on_epoch_end(self):                 # optional: reshuffle, ...
            ...

    model.fit(Loader(paths, labels, 32, workers=2), epochs=10)

Iterating over a PyDataset yields its batches 0, 1, ..., len − 1 (one epoch). With
``workers > 1`` the next batches are made ahead, ``max_queue_size`` at most, on threads (the
default: NumPy and image decoding release the GIL, so they really run at once) or, with
``use_multiprocessing=True``, in worker processes (for loaders that hold the GIL; the
dataset must then be copyable to them, which ``fork`` on Linux does by itself). The batches
still come in order.
"""
from __future__ import annotations

import collections
import itertools
import multiprocessing
import warnings
from typing import Any, Iterator

from .dataset import parallel_map


class PyDataset:
    """Base class for loaders: write ``__len__`` and ``__getitem__``; ``on_epoch_end`` (and
    ``on_epoch_begin``) are called between epochs."""

    def __init__(self, workers: int = 1, use_multiprocessing: bool = False,
                 max_queue_size: int = 10):
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    def _warn_if_super_not_called(self) -> None:
        missing = [a for a in ("_workers", "_use_multiprocessing", "_max_queue_size")
                   if not hasattr(self, a)]
        if missing and not isinstance(self, Sequence):
            warnings.warn("Your PyDataset class should call super().__init__(**kwargs) in its "
                          "constructor; **kwargs can include workers, use_multiprocessing, "
                          "max_queue_size. Do not pass these arguments to fit(), as they will "
                          "be ignored.", stacklevel=3)
        for attr, default in (("_workers", 1), ("_use_multiprocessing", False),
                              ("_max_queue_size", 10)):
            if not hasattr(self, attr):
                setattr(self, attr, default)

    @property
    def workers(self) -> int:
        self._warn_if_super_not_called()
        return self._workers

    @workers.setter
    def workers(self, value: int) -> None:
        self._workers = value

    @property
    def use_multiprocessing(self) -> bool:
        self._warn_if_super_not_called()
        return self._use_multiprocessing

    @use_multiprocessing.setter
    def use_multiprocessing(self, value: bool) -> None:
        self._use_multiprocessing = value

    @property
    def max_queue_size(self) -> int:
        self._warn_if_super_not_called()
        return self._max_queue_size

    @max_queue_size.setter
    def max_queue_size(self, value: int) -> None:
        self._max_queue_size = value

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__(index) "
                                  f"returning batch `index` as (x, y) or (x, y, sample_weight).")

    @property
    def num_batches(self) -> int | None:
        """Batches per epoch: ``len(self)``; None for an endless dataset."""
        if hasattr(self, "__len__"):
            return len(self)
        raise NotImplementedError(f"{type(self).__name__}: implement __len__ (or the "
                                  f"num_batches property) to say how many batches an epoch has.")

    def on_epoch_begin(self) -> None:
        """Called at the start of every epoch."""

    def on_epoch_end(self) -> None:
        """Called at the end of every epoch (reshuffle here)."""

    def __iter__(self) -> Iterator:
        """One epoch's batches in order, made ahead by the workers when there are several."""
        return self.iterate()

    def iterate(self, workers: int | None = None, use_multiprocessing: bool | None = None,
                max_queue_size: int | None = None) -> Iterator:
        """The batches of one epoch; the arguments override the constructor's (tf.keras 2's
        fit took them for a Sequence)."""
        workers = self.workers if workers is None else workers
        processes = self.use_multiprocessing if use_multiprocessing is None \
            else use_multiprocessing
        ahead = max(int(self.max_queue_size if max_queue_size is None else max_queue_size), 1)
        try:
            n = self.num_batches
        except NotImplementedError:
            n = None
        indices = range(n) if n is not None else itertools.count()
        if workers is None or workers <= 1:
            return (self[i] for i in indices)
        if processes:
            return _in_processes(self, indices, workers, ahead)
        return parallel_map(self.__getitem__, indices, workers, ahead)


class Sequence(PyDataset):
    """tf.keras 2's name for PyDataset: subclasses need not call ``super().__init__()``
    (workers and use_multiprocessing were fit's arguments there)."""


_SHARED: dict = {}     # the dataset, in a worker process


def _init_worker(data: Any) -> None:
    _SHARED["data"] = data


def _get_item(i: int) -> Any:
    return _SHARED["data"][i]


def _in_processes(data: Any, indices: Any, workers: int, ahead: int) -> Iterator:
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    ctx = multiprocessing.get_context(method)
    # A new pool each epoch: the workers see the dataset as on_epoch_end left it.
    with ctx.Pool(workers, initializer=_init_worker, initargs=(data,)) as pool:
        pending: collections.deque = collections.deque()
        for i in indices:
            pending.append(pool.apply_async(_get_item, (i,)))
            if len(pending) >= ahead:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


__all__ = ["PyDataset", "Sequence"]
