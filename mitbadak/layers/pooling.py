"""Pooling layers: MaxPooling1D/2D, AveragePooling1D/2D and their global forms.

A pooling window slides like a convolution kernel (see ``im2col.py``), but instead of a
matrix product it takes the max or the mean of each ph x pw window. Both are separable: the
max of a window is the max over its rows of the max along each row, so we reduce in two
passes, first along the width, then along the height:

    b[n, h, q] = max over j of x[n, h, q·sw + j]         (N, H, OW, C)
    y[n, p, q] = max over i of b[n, p·sh + i, q]         (N, OH, OW, C)

each a loop over a few window offsets of strided slices (no copy of the windows). When the
windows tile the image (2x2, stride 2) this equals ``x.reshape(N, H//2, 2, W//2, 2, C)
.max(axis=(2, 4))``, which NumPy runs ~3x slower than these element-wise maxima.

Max-pooling backward sends each window's gradient to its maximum. When several values tie for
the maximum, exactly one gets it: the first in row-major window order (top row first, then
left to right), as TensorFlow does; so the result is deterministic. When the windows tile the
input (max pooling 2x2 with stride 2 on an even size, every CNN's case), the forward pass
keeps, for each window, the number of the cell holding that maximum (`_max_tiles`), and the
backward pass puts each gradient there.
"""
from __future__ import annotations

from typing import Any

from ..backend import xp
from .convolution import (check_image_input, from_nhwc, normalize_data_format,
                          normalize_padding, spatial_output, to_nhwc)
from .im2col import pad, padding_amounts, unpad
from .layer import Layer, normalize_tuple


def _strided(a: Any, axis: int, start: int, stride: int, n: int) -> Any:
    """The view a[:, start : start + stride·n : stride] along `axis` (1 or 2): window offset
    `start` of n windows."""
    index = [slice(None)] * a.ndim
    index[axis] = slice(start, start + stride * (n - 1) + 1, stride)
    return a[tuple(index)]


def _pool_axis(a: Any, axis: int, k: int, s: int, n: int, mode: str) -> Any:
    """Max or sum of k window offsets along one axis: (…, size, …) -> (…, n, …)."""
    out = _strided(a, axis, 0, s, n).copy()
    for i in range(1, k):
        if mode == "max":
            xp.maximum(out, _strided(a, axis, i, s, n), out=out)
        else:
            out += _strided(a, axis, i, s, n)
    return out


def _unpool_axis(dy: Any, a: Any, y: Any, axis: int, k: int, s: int, mode: str) -> Any:
    """The backward of `_pool_axis`: dy (…, n, …) -> da (shape of a). For max, the gradient
    left for a window goes to its first offset equal to the max, so ties get it once."""
    n = dy.shape[axis]
    tiles = s == k and n * k == a.shape[axis]          # every cell in exactly one window
    da = (xp.empty if tiles else xp.zeros)(a.shape, dtype=dy.dtype)
    for i in range(k):
        target = _strided(da, axis, i, s, n)
        if mode == "max" and i < k - 1:
            part = dy * (_strided(a, axis, i, s, n) == y)
            dy = dy - part                             # what is left for the later offsets
        else:
            part = dy
        if tiles:
            target[...] = part
        else:
            target += part
    return da


def _max_tiles(x: Any, ph: int, pw: int) -> tuple[Any, Any]:
    """Max pooling when ph x pw windows tile x (N, H, W, C) (strides = window, no padding):
    y (N, H/ph, W/pw, C), and code (same shape, uint8): which cell of its window, i·pw + j,
    holds the first maximum. The backward then reads only the codes (1 byte per window), not
    x and the per-row maxima (8 bytes per cell, mostly fetched from memory again): the notes'
    CNN's step (one thread) 59.9 -> 58.0 ms at batch 128, the book's 12.7 -> 12.2 at 32."""
    N, H, W, C = x.shape
    v = x.reshape(N, H // ph, ph, W // pw, pw, C)
    y = v[:, :, 0, :, 0].copy()
    code = xp.zeros(y.shape, dtype=xp.uint8)
    for k in range(1, ph * pw):                 # row-major: a tie keeps the earlier cell
        cell = v[:, :, k // pw, :, k % pw]
        # code ← k where this cell beats the max so far; code < k before, so a maximum
        # does it (a masked assignment is ~50x slower on random masks).
        xp.maximum(code, (cell > y) * xp.uint8(k), out=code)
        xp.maximum(y, cell, out=y)
    return y, code


def _unpool_tiles(dy: Any, code: Any, ph: int, pw: int) -> Any:
    """The backward of `_max_tiles`: each window's dy to the cell its code names."""
    N, OH, OW, C = dy.shape
    dx = xp.empty((N, OH, ph, OW, pw, C), dtype=dy.dtype)
    for k in range(ph * pw):
        xp.multiply(dy, code == k, out=dx[:, :, k // pw, :, k % pw])
    return dx.reshape(N, OH * ph, OW * pw, C)


class _Pooling(Layer):
    """Shared by the windowed poolings; ``mode`` is 'max' or 'avg', ``rank`` 1 or 2."""

    rank, mode = 2, "max"
    # Set by models/slicing.py on a max pooling right after a relu'd layer that skips relu's
    # derivative in its backward: the pooling applies it instead (see backward).
    relu_below = False

    def __init__(self, pool_size: Any = 2, strides: Any = None, padding: str = "valid",
                 data_format: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        kind, r = f"{type(self).__name__} {self.name!r}", self.rank
        self.pool_size = normalize_tuple(pool_size, r, f"{kind}: pool_size")
        self.strides = normalize_tuple(self.pool_size if strides is None else strides, r,
                                       f"{kind}: strides")
        if min(self.pool_size + self.strides) <= 0:
            raise ValueError(f"{kind}: pool_size and strides must be positive; got "
                             f"{self.pool_size} and {self.strides}")
        self.padding = normalize_padding(self, padding)
        self.data_format = normalize_data_format(self, data_format)

    def _spatial(self, shape):
        return tuple(shape[2:] if self.data_format == "channels_first" else shape[1:-1])

    def build(self, input_shape):
        check_image_input(self, input_shape, self.rank)

    def compute_output_shape(self, input_shape):
        check_image_input(self, input_shape, self.rank)
        out = spatial_output(self, self._spatial(input_shape), self.pool_size, self.strides,
                             (1,) * self.rank, self.padding)
        if self.data_format == "channels_first":
            return tuple(input_shape[:2]) + out
        return (input_shape[0],) + out + (input_shape[-1],)

    def forward(self, x, training=False):
        """x (N, H, W, C) -> y (N, OH, OW, C) (channels_first and 1-D forms alike)."""
        x = to_nhwc(x, self.rank, self.data_format)                      # (N, H, W, C)
        one = (1,) * (2 - self.rank)
        (ph, pw), (sh, sw) = one + self.pool_size, one + self.strides
        OH, OW = one + spatial_output(self, x.shape[3 - self.rank:3], self.pool_size,
                                      self.strides, (1,) * self.rank, self.padding)
        pads = tuple(padding_amounts(n, k, s, 1, self.padding)
                     for n, k, s in zip(x.shape[1:3], (ph, pw), (sh, sw)))
        if training and self.mode == "max" and (ph, pw) == (sh, sw) and \
                x.shape[1:3] == (OH * ph, OW * pw):        # windows that tile the input
            y, self.code = _max_tiles(x, ph, pw)           # (inference needs no codes)
            self.cache, self.y = None, y
            return from_nhwc(y, self.rank, self.data_format)
        # Padded cells must never win a max nor count in a mean.
        x = pad(x, pads, -xp.inf if self.mode == "max" else 0.0)
        b = _pool_axis(x, 2, pw, sw, OW, self.mode)                     # along the width
        y = _pool_axis(b, 1, ph, sh, OH, self.mode)                     # then the height
        if self.mode == "avg":
            self.count = self._window_counts(x.shape[1:3], pads, (OH, OW), x.dtype)
            y /= self.count
        self.cache = (x, b, y, pads)
        return from_nhwc(y, self.rank, self.data_format)

    def _window_counts(self, size, pads, out, dtype):
        """How many real (unpadded) cells each window holds: (OH, OW, 1), or one number."""
        one = (1,) * (2 - self.rank)
        (ph, pw), (sh, sw) = one + self.pool_size, one + self.strides
        if not any(p for pair in pads for p in pair):
            return ph * pw
        real = xp.ones((1,) + tuple(size) + (1,), dtype=dtype)
        real[:, :pads[0][0]] = real[:, size[0] - pads[0][1]:] = 0
        real[:, :, :pads[1][0]] = real[:, :, size[1] - pads[1][1]:] = 0
        counts = _pool_axis(_pool_axis(real, 2, pw, sw, out[1], "avg"), 1, ph, sh, out[0], "avg")
        return counts[0]

    def backward(self, dy):
        """Max: dy goes to each window's (first) maximum; avg: dy / count to every cell."""
        one = (1,) * (2 - self.rank)
        (ph, pw), (sh, sw) = one + self.pool_size, one + self.strides
        dy = to_nhwc(dy, self.rank, self.data_format)
        if self.relu_below:
            # The layer below is relu'd and skips its derivative, which is 1 at every window's
            # maximum unless that is 0; so it is applied here, at a quarter of the size.
            dy = dy * ((self.y if self.cache is None else self.cache[2]) > 0)
        if self.cache is None:
            return from_nhwc(_unpool_tiles(dy, self.code, ph, pw), self.rank, self.data_format)
        x, b, y, pads = self.cache
        if self.mode == "avg":
            dy = dy / self.count
        db = _unpool_axis(dy, b, y, 1, ph, sh, self.mode)               # the height first
        dx = _unpool_axis(db, x, b, 2, pw, sw, self.mode)               # then the width
        return from_nhwc(unpad(dx, pads), self.rank, self.data_format)

    def get_config(self):
        return {**super().get_config(), "pool_size": list(self.pool_size),
                "padding": self.padding, "strides": list(self.strides),
                "data_format": self.data_format}


class MaxPooling2D(_Pooling):
    """(N, H, W, C) -> (N, OH, OW, C): the max of each pool_size window (stride = pool_size)."""

    def __init__(self, pool_size: Any = (2, 2), strides: Any = None, padding: str = "valid",
                 data_format: str | None = None, **kwargs: Any):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling2D(_Pooling):
    """(N, H, W, C) -> (N, OH, OW, C): the mean of each window; with padding='same' the
    padded cells are left out of the mean (as in Keras)."""

    mode = "avg"

    def __init__(self, pool_size: Any = (2, 2), strides: Any = None, padding: str = "valid",
                 data_format: str | None = None, **kwargs: Any):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class MaxPooling1D(_Pooling):
    """(N, steps, C) -> (N, out_steps, C): the max of each window of pool_size steps."""

    rank = 1


class AveragePooling1D(_Pooling):
    """(N, steps, C) -> (N, out_steps, C): the mean of each window of pool_size steps."""

    rank, mode = 1, "avg"


class _GlobalPooling(Layer):
    """The max or mean over all spatial axes: (N, ..., C) -> (N, C), or (N, 1, ..., C) with
    keepdims=True. Max-pooling's gradient goes to the first maximum of each channel."""

    rank, mode = 2, "max"

    def __init__(self, data_format: str | None = None, keepdims: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        self.data_format = normalize_data_format(self, data_format)
        self.keepdims = keepdims

    def build(self, input_shape):
        check_image_input(self, input_shape, self.rank)

    def compute_output_shape(self, input_shape):
        check_image_input(self, input_shape, self.rank)
        first = self.data_format == "channels_first"
        channels = input_shape[1] if first else input_shape[-1]
        if not self.keepdims:
            return (input_shape[0], channels)
        ones = (1,) * self.rank
        if first:
            return (input_shape[0], channels) + ones
        return (input_shape[0],) + ones + (channels,)

    def forward(self, x, training=False):
        x = to_nhwc(x, self.rank, self.data_format)
        N, H, W, C = self.in_shape = x.shape
        flat = x.reshape(N, H * W, C)
        if self.mode == "max":
            self.index = flat.argmax(axis=1)                         # (N, C): the first max
            y = xp.take_along_axis(flat, self.index[:, None, :], axis=1)[:, 0]
        else:
            y = flat.mean(axis=1)
        return self._shape_out(y)

    def _shape_out(self, y):
        if not self.keepdims:
            return y
        return from_nhwc(y[:, None, None, :], self.rank, self.data_format)

    def backward(self, dy):
        N, H, W, C = self.in_shape
        dy = dy.reshape(N, C)
        if self.mode == "max":
            dx = xp.zeros((N, H * W, C), dtype=dy.dtype)
            xp.put_along_axis(dx, self.index[:, None, :], dy[:, None, :], axis=1)
        else:
            dx = xp.empty((N, H * W, C), dtype=dy.dtype)
            dx[...] = (dy / (H * W))[:, None, :]
        return from_nhwc(dx.reshape(N, H, W, C), self.rank, self.data_format)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format,
                "keepdims": self.keepdims}


class GlobalMaxPooling2D(_GlobalPooling):
    """(N, H, W, C) -> (N, C): the largest value of each channel."""


class GlobalAveragePooling2D(_GlobalPooling):
    """(N, H, W, C) -> (N, C): the mean of each channel (a common replacement for Flatten)."""

    mode = "avg"


class GlobalMaxPooling1D(_GlobalPooling):
    """(N, steps, C) -> (N, C): the largest value of each channel over time."""

    rank = 1


class GlobalAveragePooling1D(_GlobalPooling):
    """(N, steps, C) -> (N, C): the mean of each channel over time."""

    rank, mode = 1, "avg"


MaxPool2D, AvgPool2D = MaxPooling2D, AveragePooling2D
MaxPool1D, AvgPool1D = MaxPooling1D, AveragePooling1D
GlobalMaxPool2D, GlobalAvgPool2D = GlobalMaxPooling2D, GlobalAveragePooling2D
GlobalMaxPool1D, GlobalAvgPool1D = GlobalMaxPooling1D, GlobalAveragePooling1D
