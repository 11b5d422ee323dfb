"""Normalization: y = (x − mean) / sqrt(variance), with mean and variance learned from data by
``adapt`` (or given), per feature along ``axis`` (the last by default: one per channel).

    norm = layers.Normalization()
    norm.adapt(x_train)                 # mean and variance of each feature over the data
    model = keras.Sequential([keras.Input((13,)), norm, layers.Dense(1)])

``invert=True`` undoes it: y = mean + x·sqrt(variance). The denominator is
max(sqrt(variance), epsilon), so a constant feature does not divide by zero.
dL/dx = dL/dy / max(sqrt(variance), epsilon).
"""
from __future__ import annotations

import math
from typing import Any

import numpy

from ... import backend
from ...backend import xp
from ..layer import Layer


class Normalization(Layer):
    """``Normalization(axis=-1, mean=None, variance=None, invert=False)``.

    Weights after build (when mean/variance are not given): ``mean`` and ``variance``
    (the kept axes' shape) and ``count`` (int32, as Keras 3 writes it), none trainable.
    """

    supports_masking = True

    def __init__(self, axis: Any = -1, mean: Any = None, variance: Any = None,
                 invert: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        self.axis = () if axis is None else (axis,) if isinstance(axis, int) else tuple(axis)
        if (mean is None) != (variance is None):
            raise ValueError(f"Normalization {self.name!r}: give both mean and variance, or "
                             f"neither (then call adapt()); got mean={mean!r}, "
                             f"variance={variance!r}.")
        if mean is not None and numpy.shape(mean) != numpy.shape(variance):
            raise ValueError(f"Normalization {self.name!r}: mean and variance must have the "
                             f"same shape; got {numpy.shape(mean)} and {numpy.shape(variance)}.")
        self.input_mean, self.input_variance, self.invert = mean, variance, invert
        self.mean = self.variance = None

    def build(self, input_shape):
        ndim = len(input_shape)
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise ValueError(f"Normalization {self.name!r}: axis {self.axis} is outside an "
                             f"input of rank {ndim} (shape {tuple(input_shape)}).")
        self._keep = tuple(sorted(a % ndim for a in self.axis))
        if 0 in self._keep:
            raise ValueError(f"Normalization {self.name!r}: axis 0 is the batch axis; "
                             f"normalize along feature axes (axis=-1 is each feature).")
        if any(input_shape[a] is None for a in self._keep):
            raise ValueError(f"Normalization {self.name!r}: the kept axes {self._keep} need "
                             f"known sizes; got input shape {tuple(input_shape)}.")
        self._reduce = tuple(a for a in range(ndim) if a not in self._keep)
        self._broadcast = tuple(input_shape[a] if a in self._keep else 1 for a in range(ndim))
        self._stat_shape = tuple(input_shape[a] for a in self._keep)
        if self.input_mean is None:
            self.add_weight("mean", self._stat_shape, "zeros", trainable=False)
            self.add_weight("variance", self._stat_shape, "ones", trainable=False)
            self.add_weight("count", (), "zeros", trainable=False, dtype="int32")
        self._finalize()

    def _check_input_shape(self, shape):
        """Same rank and the same sizes along the kept axes (others may differ, as in Keras)."""
        if len(shape) != len(self._broadcast) or any(
                shape[a] is not None and shape[a] != self._broadcast[a] for a in self._keep):
            raise ValueError(f"Normalization {self.name!r} was built for inputs of shape "
                             f"{self.input_shape} (axis={self.axis}); got {tuple(shape)}.")

    def _finalize(self):
        """mean and variance as arrays broadcasting against the input."""
        self.mean = xp.asarray(self._broadcastable("mean"), dtype=self.dtype)
        self.variance = xp.asarray(self._broadcastable("variance"), dtype=self.dtype)
        self._denominator = xp.maximum(xp.sqrt(self.variance),
                                       xp.asarray(backend.epsilon(), dtype=self.dtype))

    def _broadcastable(self, name):
        given = self.input_mean if name == "mean" else self.input_variance
        if given is None:             # adapted: the kept axes' full shape
            return backend.to_numpy(self._weights[name]).reshape(self._broadcast)
        v = numpy.asarray(given, dtype=numpy.float64)
        shape = [1] * len(self._broadcast)
        for i in range(1, v.ndim + 1):            # given values line up with the last kept axes
            shape[self._keep[-i]] = v.shape[-i]
        return numpy.broadcast_to(v.reshape(shape), self._broadcast)

    def _assign(self, name, value):
        super()._assign(name, value)
        if name in ("mean", "variance"):
            self._finalize()

    def adapt(self, data: Any, batch_size: int | None = None, steps: int | None = None) -> None:
        """Learn mean and variance from an array, or from an iterable of batches (a dataset
        of (x, y) batches, a PyDataset, a list of arrays): their exact mean and (population)
        variance over every sample, combined batch by batch."""
        if self.input_mean is not None:
            raise ValueError(f"Normalization {self.name!r}: mean and variance were given to "
                             f"the constructor, so there is nothing to adapt.")
        batches = [data] if hasattr(data, "shape") else _batches(data, steps)
        total_mean = total_var = None
        count = 0
        for batch in batches:
            batch = xp.asarray(batch[0] if isinstance(batch, tuple) else batch,
                               dtype=numpy.float64)
            if not self.built:
                self._maybe_build((None,) + tuple(batch.shape[1:]))
            elif any(batch.shape[a] != self._broadcast[a] for a in self._keep):
                raise ValueError(f"Normalization {self.name!r}: adapt() got a batch of shape "
                                 f"{batch.shape}; the layer was built for {self.input_shape}.")
            n = math.prod(batch.shape[a] for a in self._reduce)
            mean = batch.mean(axis=self._reduce)
            var = batch.var(axis=self._reduce)
            if total_mean is None:
                total_mean, total_var, count = mean, var, n
                continue
            # Combine two groups' means and variances (parallel variance formula).
            w_new = n / (count + n)
            new_mean = total_mean * (1 - w_new) + mean * w_new
            total_var = ((total_var + (total_mean - new_mean) ** 2) * (1 - w_new)
                         + (var + (mean - new_mean) ** 2) * w_new)
            total_mean, count = new_mean, count + n
        if total_mean is None:
            raise ValueError(f"Normalization {self.name!r}: adapt() got no data (an empty "
                             f"iterable).")
        self._weights["mean"][...] = total_mean
        self._weights["variance"][...] = total_var
        self._finalize()

    def forward(self, x, training=False):
        if self.mean is None:
            raise ValueError(f"Normalization {self.name!r}: call adapt(data) or build the "
                             f"layer before using it.")
        if self.invert:
            return self.mean + x * self._denominator
        return (x - self.mean) / self._denominator

    def backward(self, dy):
        return dy * self._denominator if self.invert else dy / self._denominator

    def get_config(self):
        def plain(v):
            return None if v is None else numpy.asarray(v).tolist()
        return {**super().get_config(), "axis": list(self.axis), "invert": self.invert,
                "mean": plain(self.input_mean), "variance": plain(self.input_variance)}


def _batches(data: Any, steps: int | None):
    """The batches of a dataset, PyDataset or iterable (at most `steps`)."""
    if hasattr(data, "__getitem__") and hasattr(data, "__len__") and \
            hasattr(data, "on_epoch_end"):                        # PyDataset / Sequence
        items = (data[i] for i in range(len(data)))
    else:
        items = iter(data)
    for i, item in enumerate(items):
        if steps is not None and i >= steps:
            break
        yield item
