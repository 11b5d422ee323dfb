"""Image reshaping layers: ZeroPadding1D/2D, Cropping1D/2D, UpSampling1D/2D.

None has weights. Padding and cropping are each other's backward: the gradient of adding a
border is cutting it off again, and the other way round. Everything runs on the (N, H, W, C)
form of ``convolution.to_nhwc``; a sequence (N, steps, C) is a one-row image.
"""
from __future__ import annotations

from typing import Any

from ..backend import xp
from .convolution import check_image_input, from_nhwc, normalize_data_format, to_nhwc
from .im2col import pad, unpad
from .layer import Layer


def _pairs(layer: Layer, value: Any, rank: int, arg: str) -> tuple:
    """2-D: 1 -> ((1, 1), (1, 1)); (1, 2) -> ((1, 1), (2, 2)); ((1, 2), (3, 4)) stays.
    1-D: 1 -> ((1, 1),); (1, 2) -> ((1, 2),). Everything non-negative ints."""
    try:
        if isinstance(value, int):
            out = ((value, value),) * rank
        elif rank == 1:
            out = (tuple(int(v) for v in value),)
        elif all(isinstance(v, int) for v in value):
            out = tuple((v, v) for v in value)
        else:
            out = tuple(tuple(int(a) for a in v) for v in value)
        ok = len(out) == rank and all(len(p) == 2 and min(p) >= 0 for p in out)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        example = "1, (1, 2) or ((1, 1), (2, 2))" if rank == 2 else "1 or (1, 2)"
        raise ValueError(f"{type(layer).__name__} {layer.name!r}: {arg} must be non-negative "
                         f"ints such as {example}; got {value!r}.")
    return out


class _Border(Layer):
    """Shared by ZeroPadding and Cropping: a border of `pairs` added (sign +1) or cut (−1)."""

    rank, sign, arg = 2, 1, "padding"

    def __init__(self, value: Any, data_format: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.data_format = normalize_data_format(self, data_format)
        self.pairs = _pairs(self, value, self.rank, self.arg)

    def build(self, input_shape):
        check_image_input(self, input_shape, self.rank)
        self.compute_output_shape(input_shape)

    def compute_output_shape(self, input_shape):
        first = self.data_format == "channels_first"
        shape, start = list(input_shape), 2 if first else 1
        for k, (a, b) in enumerate(self.pairs):
            n = shape[start + k]
            if n is not None:
                shape[start + k] = n + self.sign * (a + b)
                if shape[start + k] <= 0:
                    raise ValueError(f"{type(self).__name__} {self.name!r}: cropping {a + b} "
                                     f"from an axis of size {n} leaves nothing; crop less.")
        return tuple(shape)

    def _pads(self):
        return ((0, 0),) * (2 - self.rank) + self.pairs

    def forward(self, x, training=False):
        x = to_nhwc(x, self.rank, self.data_format)
        y = pad(x, self._pads()) if self.sign > 0 else unpad(x, self._pads())
        return from_nhwc(y, self.rank, self.data_format)

    def backward(self, dy):
        dy = to_nhwc(dy, self.rank, self.data_format)
        dx = unpad(dy, self._pads()) if self.sign > 0 else pad(dy, self._pads())
        return from_nhwc(dx, self.rank, self.data_format)

    def get_config(self):
        value = [list(p) for p in self.pairs] if self.rank == 2 else list(self.pairs[0])
        config = {**super().get_config(), self.arg: value}
        if self.rank == 2 or self.sign > 0:      # Keras's Cropping1D has no data_format
            config["data_format"] = self.data_format
        return config


class ZeroPadding2D(_Border):
    """(N, H, W, C) -> (N, top + H + bottom, left + W + right, C), the border zeros."""

    def __init__(self, padding: Any = (1, 1), data_format: str | None = None, **kwargs: Any):
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding1D(_Border):
    """(N, steps, C) -> (N, before + steps + after, C), the new steps zeros."""

    rank = 1

    def __init__(self, padding: Any = 1, data_format: str | None = None, **kwargs: Any):
        super().__init__(padding, data_format, **kwargs)


class Cropping2D(_Border):
    """(N, H, W, C) -> (N, H − top − bottom, W − left − right, C)."""

    sign, arg = -1, "cropping"

    def __init__(self, cropping: Any = ((0, 0), (0, 0)), data_format: str | None = None,
                 **kwargs: Any):
        super().__init__(cropping, data_format, **kwargs)


class Cropping1D(_Border):
    """(N, steps, C) -> (N, steps − before − after, C)."""

    rank, sign, arg = 1, -1, "cropping"

    def __init__(self, cropping: Any = (1, 1), **kwargs: Any):
        super().__init__(cropping, "channels_last", **kwargs)


def _bilinear_matrix(n_in: int, scale: int, dtype: Any) -> Any:
    """(n_in·scale, n_in): each output row mixes the two nearest inputs, half-pixel centred
    (output o sits at input coordinate (o + ½)/scale − ½, clamped), as tf.image.resize."""
    n_out = n_in * scale
    src = xp.clip((xp.arange(n_out) + 0.5) / scale - 0.5, 0, n_in - 1)
    lo = xp.floor(src).astype(int)
    hi = xp.minimum(lo + 1, n_in - 1)
    frac = src - lo
    m = xp.zeros((n_out, n_in), dtype=dtype)
    m[xp.arange(n_out), lo] += 1 - frac
    m[xp.arange(n_out), hi] += frac
    return m


class UpSampling2D(Layer):
    """(N, H, W, C) -> (N, H·sh, W·sw, C). 'nearest' repeats each pixel sh x sw times (its
    backward sums each block); 'bilinear' mixes neighbours, a matrix product per axis."""

    rank = 2

    def __init__(self, size: Any = (2, 2), data_format: str | None = None,
                 interpolation: str = "nearest", **kwargs: Any):
        super().__init__(**kwargs)
        self.size = (size,) * self.rank if isinstance(size, int) else tuple(size)
        if len(self.size) != self.rank or min(self.size) <= 0:
            raise ValueError(f"{type(self).__name__} {self.name!r}: size must be a positive int "
                             f"or {self.rank} of them; got {size!r}.")
        if interpolation not in ("nearest", "bilinear"):
            raise ValueError(f"{type(self).__name__} {self.name!r}: interpolation must be "
                             f"'nearest' or 'bilinear'; got {interpolation!r}.")
        self.data_format = normalize_data_format(self, data_format)
        self.interpolation = interpolation

    def build(self, input_shape):
        check_image_input(self, input_shape, self.rank)

    def compute_output_shape(self, input_shape):
        shape, start = list(input_shape), 2 if self.data_format == "channels_first" else 1
        for k, s in enumerate(self.size):
            shape[start + k] = None if shape[start + k] is None else shape[start + k] * s
        return tuple(shape)

    def forward(self, x, training=False):
        x = to_nhwc(x, self.rank, self.data_format)
        sh, sw = (1,) * (2 - self.rank) + self.size
        self.in_shape = N, H, W, C = x.shape
        if self.interpolation == "nearest":
            y = x.repeat(sh, axis=1).repeat(sw, axis=2)
        else:
            self.mh, self.mw = _bilinear_matrix(H, sh, x.dtype), _bilinear_matrix(W, sw, x.dtype)
            y = xp.einsum("ph,nhwc,qw->npqc", self.mh, x, self.mw, optimize=True)
        return from_nhwc(y, self.rank, self.data_format)

    def backward(self, dy):
        dy = to_nhwc(dy, self.rank, self.data_format)
        N, H, W, C = self.in_shape
        if self.interpolation == "nearest":
            dx = dy.reshape(N, H, dy.shape[1] // H, W, dy.shape[2] // W, C).sum(axis=(2, 4))
        else:
            dx = xp.einsum("ph,npqc,qw->nhwc", self.mh, dy, self.mw, optimize=True)
        return from_nhwc(dx, self.rank, self.data_format)

    def get_config(self):
        config = {**super().get_config(), "size": list(self.size)}
        if self.rank == 2:
            config.update(data_format=self.data_format, interpolation=self.interpolation)
        return config


class UpSampling1D(UpSampling2D):
    """(N, steps, C) -> (N, steps·size, C): each step repeated `size` times."""

    rank = 1

    def __init__(self, size: int = 2, **kwargs: Any):
        super().__init__(size, "channels_last", "nearest", **kwargs)

    def get_config(self):
        return {**super().get_config(), "size": self.size[0]}
