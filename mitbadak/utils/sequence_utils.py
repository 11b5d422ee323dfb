"""keras.utils.pad_sequences (and keras.preprocessing.sequence): lists of token ids of
different lengths -> one rectangular array a model can take."""
from __future__ import annotations

from typing import Any

import numpy


def pad_sequences(sequences: Any, maxlen: int | None = None, dtype: Any = "int32",
                  padding: str = "pre", truncating: str = "pre", value: Any = 0.0) -> Any:
    """Pad (and cut) every sequence to the same length, as Keras does.

    ``sequences``: a list (or array) of lists of ids, e.g. IMDB reviews. Returns an array of
    shape ``(len(sequences), maxlen)`` (plus any per-step shape the items have); ``maxlen``
    defaults to the longest sequence. A longer sequence loses its first steps
    (``truncating='pre'``) or its last ones (``'post'``); a shorter one gets ``value`` in
    front (``padding='pre'``, the default, so the recurrent layer reads the words last) or
    behind (``'post'``).
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError(f"pad_sequences: `sequences` must be a list of sequences; got "
                         f"{type(sequences).__name__}.")
    for what, option in (("padding", padding), ("truncating", truncating)):
        if option not in ("pre", "post"):
            raise ValueError(f"pad_sequences: {what} must be 'pre' or 'post'; got {option!r}.")
    if maxlen is not None and (not isinstance(maxlen, (int, numpy.integer)) or maxlen < 0):
        raise ValueError(f"pad_sequences: maxlen must be a non-negative int or None; got "
                         f"{maxlen!r}.")
    lengths, item_shape, found = [], (), False
    for i, s in enumerate(sequences):
        try:
            lengths.append(len(s))
        except TypeError:
            raise ValueError(f"pad_sequences: `sequences` must be a list of sequences; item {i} "
                             f"is {s!r}, not a sequence.") from None
        if not found and len(s):
            item_shape, found = numpy.asarray(s).shape[1:], True
    if maxlen is None:
        maxlen = max(lengths) if lengths else 0
    text_dtype = numpy.issubdtype(dtype, numpy.str_) or numpy.issubdtype(dtype, numpy.bytes_)
    if isinstance(value, str) and dtype is not object and not text_dtype:
        raise ValueError(f"pad_sequences: a text padding value {value!r} needs dtype=object "
                         f"(or a string dtype); got dtype={dtype!r}.")
    out = numpy.full((len(lengths), maxlen) + tuple(item_shape), value, dtype=dtype)
    if maxlen == 0:
        return out
    for i, s in enumerate(sequences):
        if not lengths[i]:
            continue
        kept = s[-maxlen:] if truncating == "pre" else s[:maxlen]
        kept = numpy.asarray(kept, dtype=dtype)
        if kept.shape[1:] != tuple(item_shape):
            raise ValueError(f"pad_sequences: sequence {i} has items of shape {kept.shape[1:]}, "
                             f"the others {tuple(item_shape)}.")
        if padding == "post":
            out[i, :len(kept)] = kept
        else:
            out[i, maxlen - len(kept):] = kept
    return out


__all__ = ["pad_sequences"]
