"""What IMDB and Reuters share: their files (ragged lists of word ids in an .npz, read with
the restricted pickle reader; a word index in .json) and Keras's rules for turning the stored
ids into the lists ``load_data`` returns."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..utils import safe_pickle


def read_npz(path: Path, keys: tuple[str, ...]) -> list:
    """The arrays `keys` of Keras's .npz; its object arrays (lists of word ids) are read by
    the restricted pickle reader, which refuses anything but plain lists and NumPy arrays."""
    try:
        with safe_pickle.load_npz(path) as f:
            return [f[k] for k in keys]
    except safe_pickle.UnsafePickleError as err:
        raise safe_pickle.UnsafePickleError(f"{path}: {err}") from None


def read_word_index(path: Path) -> dict:
    with open(path, encoding="utf-8") as f:
        index = json.load(f)
    if not isinstance(index, dict):
        raise ValueError(f"{path}: expected a JSON object word -> index; got "
                         f"{type(index).__name__}.")
    return index


def check_arguments(num_words: Any, skip_top: Any, maxlen: Any) -> None:
    for name, value in (("num_words", num_words), ("maxlen", maxlen)):
        if value is not None and (not isinstance(value, (int, np.integer)) or value < 0):
            raise ValueError(f"load_data: {name} must be a positive int or None; got {value!r}.")
    if not isinstance(skip_top, (int, np.integer)) or skip_top < 0:
        raise ValueError(f"load_data: skip_top must be a non-negative int; got {skip_top!r}.")


def encode(sequences: list, labels: list, start_char: Any, index_from: int,
           maxlen: Any) -> tuple[list, list]:
    """Keras's steps 1-2 on lists of stored ids: shift every id by index_from (the first
    index_from ids mean padding, start and out-of-vocabulary), put start_char in front, and
    with maxlen keep only the sequences shorter than maxlen."""
    if start_char is not None:
        out = [[start_char] + [w + index_from for w in x] for x in sequences]
    else:
        out = [[w + index_from for w in x] for x in sequences]
    labels = list(labels)
    if maxlen:
        kept = [(x, y) for x, y in zip(out, labels) if len(x) < maxlen]
        out, labels = [x for x, _ in kept], [y for _, y in kept]
    return out, labels


def limit_vocabulary(sequences: list, num_words: Any, skip_top: int, oov_char: Any) -> list:
    """Keras's step 3: ids outside [skip_top, num_words) become oov_char (or are dropped when
    oov_char is None). Without num_words, Keras takes the largest id as num_words (so that
    one id, too, is replaced)."""
    if not num_words:
        num_words = max(max(x) for x in sequences if len(x))
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in x] for x in sequences]
    return [[w for w in x if skip_top <= w < num_words] for x in sequences]


def object_array(sequences: list) -> Any:
    """The lists as Keras returns them: np.array(..., dtype='object')."""
    return np.array(sequences, dtype="object")
