"""IMDB-shaped reviews, made here so that every framework trains on the very same arrays.

Like ``keras.datasets.imdb`` after the book's preprocessing (혼공머신 9-2/9-3): reviews of
40-400 word ids, ranks drawn from a Zipf law; a review is positive or negative, and 15% of
its words are sentiment words of that side (ranks 20-29 positive, 30-39 negative), so the
label can be learned from the words, as in real reviews. Encoded as Keras does (start 1,
rank + 3, rank + 3 >= num_words -> 2) and padded/cut to 100 steps in front, as
``pad_sequences(maxlen=100)`` does. Written with NumPy only: no framework code shapes the data.
"""
from __future__ import annotations

import numpy as np

MAXLEN = 100


def _reviews(rng: np.random.Generator, n: int) -> tuple[list, np.ndarray]:
    labels = rng.integers(0, 2, size=n)
    reviews = []
    for y in labels:
        length = int(rng.integers(40, 400))
        ranks = rng.zipf(1.3, size=length) % 5000 + 1
        k = int(length * 0.15)
        at = rng.choice(length, size=k, replace=False)
        ranks[at] = rng.integers(20, 30, size=k) if y else rng.integers(30, 40, size=k)
        reviews.append(ranks)
    return reviews, labels.astype(np.int64)


def _encode(reviews: list, num_words: int) -> np.ndarray:
    out = np.zeros((len(reviews), MAXLEN), dtype=np.int32)
    for i, ranks in enumerate(reviews):
        ids = np.concatenate([[1], ranks + 3])
        ids[ids >= num_words] = 2
        ids = ids[-MAXLEN:]                       # truncating='pre'
        out[i, MAXLEN - len(ids):] = ids          # padding='pre'
    return out


def load_imdb_like(n_train: int, n_val: int, num_words: int, one_hot: bool = False,
                   seed: int = 12):
    """((x_train, y_train), (x_val, y_val)): int32 ids (N, 100), or float32 one-hot
    (N, 100, num_words) as keras.utils.to_categorical makes them; int64 labels 0/1."""
    rng = np.random.default_rng(seed)
    reviews, labels = _reviews(rng, n_train + n_val)
    x = _encode(reviews, num_words)
    if one_hot:
        x = np.eye(num_words, dtype=np.float32)[x]
    return (x[:n_train], labels[:n_train]), (x[n_train:], labels[n_train:])
