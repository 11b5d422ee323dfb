"""IMDB movie reviews: 25,000 training and 25,000 test reviews, labelled positive (1) or
negative (0), each a list of word ids (id 3 + k is the k-th most frequent word).

Dataset by Andrew Maas et al. (Large Movie Review Dataset, ACL 2011), as Keras distributes it.
Sources, in order (see ``mitbadak.datasets._sources``): the offline folder
``<data dir>/imdb/`` with Keras's ``imdb.npz`` and ``imdb_word_index.json``, Keras's cache,
mitbadak's cache, then a download; every file's hash is checked first. The lists are stored as
pickled object arrays, read with mitbadak's restricted reader (plain lists and NumPy arrays
only), never with ``np.load(allow_pickle=True)``.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from . import _word_sequences as ws
from ._sources import locate

SHA256 = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"  # imdb.npz
WORD_INDEX_MD5 = "bfafd718b763782e994055a2d397834f"                          # imdb_word_index.json


def load_data(path: str = "imdb.npz", num_words: int | None = None, skip_top: int = 0,
              maxlen: int | None = None, seed: int = 113, start_char: int | None = 1,
              oov_char: int | None = 2, index_from: int = 3, **kwargs: Any):
    """``(x_train, y_train), (x_test, y_test)``, exactly as Keras returns them.

    x: object arrays of lists of word ids, each starting with ``start_char``; words whose id
    is not in [skip_top, num_words) become ``oov_char``. y: int64 arrays of 0/1. The reviews
    are shuffled with ``np.random.RandomState(seed)`` (the training set, then the test set,
    with one generator); with ``maxlen``, reviews of maxlen words or more are dropped.
    Typical use (혼공머신 9-2): ``imdb.load_data(num_words=500)``, then
    ``pad_sequences(x, maxlen=100)``.
    """
    if "nb_words" in kwargs:                     # Keras 1's name
        num_words = kwargs.pop("nb_words")
    if kwargs:
        raise TypeError(f"imdb.load_data: unexpected argument(s) {', '.join(sorted(kwargs))}.")
    ws.check_arguments(num_words, skip_top, maxlen)
    fpath = locate("imdb", path, SHA256, "the IMDB reviews")
    x_train, y_train, x_test, y_test = ws.read_npz(fpath, ("x_train", "y_train", "x_test",
                                                           "y_test"))
    rng = np.random.RandomState(seed)
    order = np.arange(len(x_train))
    rng.shuffle(order)
    x_train, y_train = x_train[order], y_train[order]
    order = np.arange(len(x_test))
    rng.shuffle(order)
    x_test, y_test = x_test[order], y_test[order]
    x_train, y_train = ws.encode(x_train, y_train, start_char, index_from, maxlen)
    x_test, y_test = ws.encode(x_test, y_test, start_char, index_from, maxlen)
    if maxlen and (not x_train or not x_test):
        raise ValueError(f"imdb.load_data: no review is shorter than maxlen={maxlen}, so none "
                         f"was kept. Increase maxlen.")
    xs = ws.limit_vocabulary(x_train + x_test, num_words, skip_top, oov_char)
    labels = np.concatenate([np.asarray(y_train), np.asarray(y_test)])
    n = len(x_train)
    return ((ws.object_array(xs[:n]), labels[:n]), (ws.object_array(xs[n:]), labels[n:]))


def get_word_index(path: str = "imdb_word_index.json") -> dict:
    """word -> its rank by frequency (1 = most frequent). In ``load_data``'s lists a word
    appears as rank + index_from (3): decode with ``{i + 3: w for w, i in index.items()}``."""
    return ws.read_word_index(locate("imdb", path, WORD_INDEX_MD5,
                                        "the IMDB word index"))


__all__ = ["load_data", "get_word_index"]
