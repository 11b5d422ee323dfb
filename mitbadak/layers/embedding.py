"""Embedding: token ids -> dense vectors, a table lookup (the notes' Embedding layer)."""
from __future__ import annotations

from typing import Any

import numpy

from ..backend import xp
from .layer import Layer
from .options import options_config, set_options


class Embedding(Layer):
    """``Embedding(input_dim, output_dim, mask_zero=False)``: row ``x`` of the table W.

    x (batch, ...) integer ids in [0, input_dim) -> y (batch, ..., output_dim)::

        forward:   y[b, t] = W[x[b, t]]                       (W: (input_dim, output_dim))
        backward:  dW = 0;  dW[x[b, t]] += dy[b, t]           (a scatter-add of rows: an id
                                                                that occurs twice gets both)

    ``mask_zero=True``: id 0 is padding; the mask ``x != 0`` goes to the layers after it
    (recurrent layers then skip those steps). ``input_length`` declares the input shape
    ``(input_length,)`` of a first layer, as tf.keras 2.x did (so ``summary()`` has shapes).
    """

    keeps_integer_inputs = True

    def __init__(self, input_dim: int, output_dim: int, embeddings_initializer: Any = "uniform",
                 embeddings_regularizer: Any = None, embeddings_constraint: Any = None,
                 mask_zero: bool = False, weights: Any = None, input_length: int | None = None,
                 activity_regularizer: Any = None, sparse: bool = False, **kwargs: Any):
        if input_length is not None and not any(
                kwargs.get(k) is not None for k in ("input_shape", "batch_input_shape",
                                                    "batch_shape", "input_dim")):
            length = input_length if isinstance(input_length, int) else None
            kwargs["input_shape"] = (length,)
        super().__init__(**kwargs)
        for what, value in (("input_dim", input_dim), ("output_dim", output_dim)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"Embedding {self.name!r}: {what} must be a positive int; got "
                                 f"{value!r}.")
        self.input_dim, self.output_dim = input_dim, output_dim
        set_options(self, embeddings_initializer=embeddings_initializer,
                    embeddings_regularizer=embeddings_regularizer,
                    embeddings_constraint=embeddings_constraint,
                    activity_regularizer=activity_regularizer)
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero
        self.input_length = input_length
        self._initial_weights = weights

    def build(self, input_shape: tuple | None = None) -> None:
        self.embeddings = self.add_weight(
            "embeddings", (self.input_dim, self.output_dim), self.embeddings_initializer,
            regularizer=self.embeddings_regularizer, constraint=self.embeddings_constraint)
        if self._initial_weights is not None:
            w = self._initial_weights
            self._assign("embeddings", w[0] if isinstance(w, (list, tuple)) else w)
            self._initial_weights = None

    def _check_input_shape(self, shape: Any) -> None:
        """Ids of any shape: the table does not depend on it."""

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return tuple(input_shape) + (self.output_dim,)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return (xp.asarray(inputs) != 0) if self.mask_zero else None

    def _ids(self, x: Any) -> Any:
        """x as integer ids, checked against the table's size (once per batch: one max)."""
        ids = x if x.dtype.kind in "iu" else x.astype(numpy.intp)
        if ids.size:
            hi, lo = int(ids.max()), int(ids.min())
            if hi >= self.input_dim or lo < 0:
                bad = hi if hi >= self.input_dim else lo
                raise ValueError(
                    f"Embedding layer {self.name!r} has input_dim={self.input_dim}, so token ids "
                    f"must be in [0, {self.input_dim - 1}]; its input of shape {tuple(x.shape)} "
                    f"holds the id {bad}. Use Embedding(input_dim={hi + 1}, ...) (the vocabulary "
                    f"size: largest id + 1), or keep the vocabulary to input_dim words when "
                    f"loading (e.g. imdb.load_data(num_words={self.input_dim}), "
                    f"Tokenizer(num_words={self.input_dim})).")
        return ids

    def forward(self, x: Any, training: bool = False) -> Any:
        self.ids = self._ids(x)
        return self.embeddings[self.ids]                       # y = W[x]

    def backward(self, dy: Any) -> Any:
        # dW[x] += dy, as a scatter-add over single numbers: NumPy's add.at is ~10x faster
        # on a flat array with flat indices (row x, column j -> x·output_dim + j) than on rows.
        dim = self.output_dim
        dw = xp.zeros(self.embeddings.size, dtype=self.embeddings.dtype)
        flat = (self.ids.reshape(-1, 1) * dim + xp.arange(dim)).reshape(-1)
        xp.add.at(dw, flat, dy.reshape(-1))
        self.grads["embeddings"] = dw.reshape(self.embeddings.shape)
        return None                        # ids have no gradient

    def get_config(self) -> dict:
        config = {**super().get_config(), "input_dim": self.input_dim,
                  "output_dim": self.output_dim}
        config.update(options_config(self, ("embeddings_initializer", "embeddings_regularizer",
                                             "activity_regularizer", "embeddings_constraint")))
        config["mask_zero"] = self.mask_zero
        return config
