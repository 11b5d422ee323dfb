"""Softmax and cross-entropy, the functions inside ``SoftmaxWithLoss``.

    softmax(a)_k = exp(a_k − max a) / Σ_j exp(a_j − max a)     (subtracting max a avoids overflow)
    cross-entropy = −(1/N) Σ_n Σ_k t_nk · log y_nk              (one-hot t)
                  = −(1/N) Σ_n log y_n,t_n                       (integer labels t)
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .errors import ShapeError


def softmax(x: Any) -> np.ndarray:
    """Softmax over the last axis: x (N, C) or (C,) -> probabilities of the same shape."""
    x = np.asarray(x, dtype=np.float64)
    shifted = x - np.max(x, axis=-1, keepdims=True)  # same result, no exp overflow
    e = np.exp(shifted)
    return e / np.sum(e, axis=-1, keepdims=True)


def as_targets(t: Any, y_shape: tuple[int, ...]) -> np.ndarray:
    """Check t against scores of shape (N, C): one-hot (N, C) floats or labels (N,) ints."""
    t = np.asarray(t)
    n, c = y_shape
    if t.shape == (n, c):
        return t.astype(np.float64)
    if t.shape != (n,):
        raise ShapeError(f"t: expected one-hot labels of shape {(n, c)} or class indices of shape "
                         f"({n},); got shape {t.shape}. Hint: one row (or one index) per sample.")
    if t.dtype.kind not in "iu" or t.min(initial=0) < 0 or t.max(initial=0) >= c:
        raise ValueError(f"t: expected integer class indices in [0, {c}); got dtype {t.dtype}, "
                         f"values {np.unique(t)[:5]}. Hint: labels.astype(int), or pass one-hot rows.")
    return t


def cross_entropy_error(y: Any, t: Any, epsilon: float = 1e-7) -> float:
    """Mean cross-entropy of probabilities y (N, C) or (C,) against t, one-hot or indices.

    y is clipped to at least ``epsilon`` before the log, so log(0) never happens; clipping
    (rather than adding epsilon) leaves the gradient exact wherever y > epsilon.
    """
    y = np.asarray(y, dtype=np.float64)
    if y.ndim == 1:  # one sample: treat it as a batch of one
        y = y.reshape(1, -1)
        t = np.asarray(t).reshape(1, -1) if np.ndim(t) == 1 else np.asarray(t).reshape(1)
    if y.ndim != 2:
        raise ShapeError(f"y: expected probabilities of shape (N, C) or (C,); got shape {y.shape}. "
                         f"Hint: flatten extra axes first.")
    t = as_targets(t, y.shape)
    log_y = np.log(np.maximum(y, epsilon))
    n = y.shape[0]
    if t.ndim == 2:
        return float(-np.sum(t * log_y) / n)
    return float(-np.sum(log_y[np.arange(n), t]) / n)
