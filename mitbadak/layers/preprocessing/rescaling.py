"""Rescaling: y = x·scale + offset, e.g. ``Rescaling(1./255)`` turns pixels 0..255 into 0..1.

Any shape in, the same shape out (float). ``scale``/``offset`` may be numbers or one value
per channel. dL/dx = dL/dy · scale.
"""
from __future__ import annotations

from typing import Any

import numpy

from ... import backend
from ...backend import xp
from ..layer import Layer


class Rescaling(Layer):
    """``Rescaling(scale, offset=0.0)``: ``Rescaling(1./127.5, offset=-1)`` maps 0..255 to
    -1..1. Integer images (uint8) come out in the layer's float dtype."""

    supports_masking = True

    def __init__(self, scale: Any, offset: Any = 0.0, **kwargs: Any):
        super().__init__(**kwargs)
        self.scale, self.offset = scale, offset

    def _check_input_shape(self, shape):
        pass           # element-wise: any shape, as in Keras

    def _value(self, v, ndim):
        a = xp.asarray(v, dtype=self.dtype)
        if a.ndim > 0 and backend.image_data_format() == "channels_first":
            a = a.reshape(a.shape + (1,) * (3 - a.ndim))     # per channel, before H and W
        return a

    def forward(self, x, training=False):
        if x.dtype != numpy.dtype(self.dtype):
            x = x.astype(self.dtype)
        self._scale = self._value(self.scale, x.ndim)
        return x * self._scale + self._value(self.offset, x.ndim)

    def backward(self, dy):
        return dy * self._scale

    def get_config(self):
        def plain(v):
            return numpy.asarray(v).tolist() if not isinstance(v, (int, float)) else v
        return {**super().get_config(), "scale": plain(self.scale), "offset": plain(self.offset)}
