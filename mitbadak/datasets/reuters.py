"""Reuters newswires: 11,228 short news stories in 46 topics, each a list of word ids.

From the Reuters-21578 collection, as Keras distributes it. Sources, in order: the offline
folder ``<data dir>/reuters/`` with Keras's ``reuters.npz`` and ``reuters_word_index.json``,
Keras's cache, mitbadak's cache, then a download; every file's hash is checked first, and the
ragged lists are read with mitbadak's restricted pickle reader.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from . import _word_sequences as ws
from ._sources import locate

SHA256 = "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"  # reuters.npz
WORD_INDEX_MD5 = "4d44cc38712099c9e383dc6e5f11a921"                          # reuters_word_index.json

_LABELS = ("cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing",
           "money-supply", "coffee", "sugar", "trade", "reserves", "ship", "cotton", "carcass",
           "crude", "nat-gas", "cpi", "money-fx", "interest", "gnp", "meal-feed", "alum",
           "oilseed", "gold", "tin", "strategic-metal", "livestock", "retail", "ipi",
           "iron-steel", "rubber", "heat", "jobs", "lei", "bop", "zinc", "orange", "pet-chem",
           "dlr", "gas", "silver", "wpi", "hog", "lead")


def load_data(path: str = "reuters.npz", num_words: int | None = None, skip_top: int = 0,
              maxlen: int | None = None, test_split: float = 0.2, seed: int = 113,
              start_char: int | None = 1, oov_char: int | None = 2, index_from: int = 3,
              **kwargs: Any):
    """``(x_train, y_train), (x_test, y_test)``, exactly as Keras returns them.

    All stories are shuffled with ``np.random.RandomState(seed)``, encoded as in
    ``imdb.load_data`` (start_char, index_from, maxlen, num_words, skip_top, oov_char), then
    the first ``int(n · (1 − test_split))`` are the training set. y: topic numbers 0..45
    (``get_label_names()`` names them).
    """
    if "nb_words" in kwargs:
        num_words = kwargs.pop("nb_words")
    if kwargs:
        raise TypeError(f"reuters.load_data: unexpected argument(s) "
                        f"{', '.join(sorted(kwargs))}.")
    ws.check_arguments(num_words, skip_top, maxlen)
    if not 0 <= test_split < 1:
        raise ValueError(f"reuters.load_data: test_split must be in [0, 1); got {test_split!r}.")
    fpath = locate("reuters", path, SHA256, "the Reuters newswires")
    xs, labels = ws.read_npz(fpath, ("x", "y"))
    rng = np.random.RandomState(seed)
    order = np.arange(len(xs))
    rng.shuffle(order)
    xs, labels = xs[order], labels[order]
    xs, labels = ws.encode(xs, labels, start_char, index_from, maxlen)
    xs = ws.limit_vocabulary(xs, num_words, skip_top, oov_char)
    n = int(len(xs) * (1 - test_split))
    return ((ws.object_array(xs[:n]), np.array(labels[:n])),
            (ws.object_array(xs[n:]), np.array(labels[n:])))


def get_word_index(path: str = "reuters_word_index.json") -> dict:
    """word -> its rank by frequency (1 = most frequent); in the lists, rank + index_from."""
    return ws.read_word_index(locate("reuters", path, WORD_INDEX_MD5,
                                        "the Reuters word index"))


def get_label_names() -> tuple:
    """The 46 topic names, in label order (0 'cocoa', 3 'earn', 4 'acq', ...)."""
    return _LABELS


__all__ = ["load_data", "get_word_index", "get_label_names"]
