"""Image resampling shared by the preprocessing layers and the data pipeline: resizing and
affine transforms (rotation, zoom, shift, shear, flip), each with its adjoint for backward.

Both are linear in the pixels: every output pixel is a weighted sum of a few input pixels.
So each builds (indices, weights) once for a geometry, and

    forward:   out[p]  = Σ_k w[p, k] · image[idx[p, k]]
    backward:  dimage[idx[p, k]] += w[p, k] · dout[p]       (the transpose: the gradient flows
                                                              back along the same weights)

**Resizing** (Keras 3's ``ops.image.resize``, TensorFlow's ``tf.image.resize``): separable,
one axis at a time. Output pixel i of an axis samples the input at
``s = (i + 0.5)·in/out − 0.5`` (pixel centres line up), weighted by a kernel of the distance
``|s − j|``: the triangle ``max(0, 1 − d)`` for bilinear, Keys' cubic (a = −0.5) for bicubic,
Lanczos-3/5; ``nearest`` takes pixel ``floor((i + 0.5)·in/out)``; ``area`` averages the input
interval each output pixel covers. Weights are normalised to sum to 1; ``antialias`` widens the
kernel by in/out when shrinking.

**Affine transforms** (Keras 3's ``ops.image.affine_transform``): a transform
``[a0, a1, a2, b0, b1, b2, c0, c1]`` sends output pixel (x, y) to the input point
``((a0·x + a1·y + a2)/k, (b0·x + b1·y + b2)/k)`` with ``k = c0·x + c1·y + 1``, read there by
bilinear interpolation (its 4 neighbours, weights (1−fx)(1−fy), ...) or the nearest pixel.
Points outside the image follow ``fill_mode``: 'constant' (fill_value), 'nearest' (the edge
pixel), 'reflect' (d c b a | a b c d | d c b a), 'mirror' (d c b | a b c d | c b a), 'wrap'
(a b c d | a b c d). ``legacy=True`` gives SciPy's ``ndimage`` rules, which tf.keras 2.x's
ImageDataGenerator used: 'constant' fills every point outside [0, n − 1] without blending, and
'wrap' moves points outside [0, n − 1] by multiples of n − 1.
"""
from __future__ import annotations

import functools
from typing import Any

import numpy

from ..backend import xp

INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5")
FILL_MODES = ("constant", "nearest", "reflect", "mirror", "wrap")


# ====================================================================== resizing
def _triangle(d):
    return numpy.maximum(0.0, 1.0 - d)


def _keys_cubic(d):
    near = ((1.5 * d - 2.5) * d) * d + 1.0
    far = ((-0.5 * d + 2.5) * d - 4.0) * d + 2.0
    return numpy.where(d >= 2.0, 0.0, numpy.where(d >= 1.0, far, near))


def _lanczos(radius):
    def kernel(d):
        with numpy.errstate(divide="ignore", invalid="ignore"):
            y = radius * numpy.sin(numpy.pi * d) * numpy.sin(numpy.pi * d / radius) / (
                numpy.pi ** 2 * d ** 2)
        return numpy.where(d > radius, 0.0, numpy.where(d > 1e-3, y, 1.0))
    return kernel


_KERNELS = {"bilinear": _triangle, "bicubic": _keys_cubic, "lanczos3": _lanczos(3.0),
            "lanczos5": _lanczos(5.0)}


@functools.lru_cache(maxsize=256)
def axis_weights(n_in: int, n_out: int, method: str, antialias: bool = False) -> tuple:
    """(idx (n_out, K) int, w (n_out, K) float64): output i = Σ_k w[i, k]·input[idx[i, k]]."""
    if method not in INTERPOLATIONS:
        raise ValueError(f"interpolation must be one of {', '.join(INTERPOLATIONS)}; got "
                         f"{method!r}.")
    out = numpy.arange(n_out, dtype=numpy.float64)
    if method == "nearest":
        idx = numpy.floor((out + 0.5) * n_in / n_out).astype(numpy.int64)
        return numpy.minimum(idx, n_in - 1)[:, None], numpy.ones((n_out, 1))
    j = numpy.arange(n_in, dtype=numpy.float64)
    if method == "area":
        # Output i covers [i·s, (i+1)·s) of the input (s = in/out); weight = overlap / s.
        s = n_in / n_out
        lo, hi = out[:, None] * s, (out[:, None] + 1) * s
        dense = numpy.clip(numpy.minimum(hi, j + 1) - numpy.maximum(lo, j), 0, None) / s
    else:
        scale = n_out / n_in
        stretch = max(1.0 / scale, 1.0) if antialias else 1.0
        sample = (out + 0.5) / scale - 0.5
        dense = _KERNELS[method](numpy.abs(sample[:, None] - j[None, :]) / stretch)
        total = dense.sum(axis=1, keepdims=True)
        ok = numpy.abs(total) > 1000.0 * numpy.finfo(numpy.float32).eps
        dense = numpy.where(ok, dense / numpy.where(total != 0, total, 1), 0.0)
    K = max(int((dense != 0).sum(axis=1).max()), 1)
    idx = numpy.argsort(dense == 0, axis=1, kind="stable")[:, :K]
    return idx, numpy.take_along_axis(dense, idx, axis=1)


def _resample_axis(x: Any, axis: int, idx: Any, w: Any) -> Any:
    """Σ_k w[:, k]·take(x, idx[:, k], axis): one axis of a separable resize."""
    shape = [1] * x.ndim
    shape[axis] = -1
    out = None
    wx = xp.asarray(w, dtype=x.dtype if x.dtype.kind == "f" else numpy.float32)
    for k in range(idx.shape[1]):
        term = xp.take(x, xp.asarray(idx[:, k]), axis=axis) * wx[:, k].reshape(shape)
        out = term if out is None else out + term
    return out


def _resample_axis_adjoint(dy: Any, axis: int, idx: Any, w: Any, n_in: int) -> Any:
    """The transpose of `_resample_axis`: the gradient of each output goes back to its
    inputs (a dense (n_out, n_in) matrix: backward is rare and the sizes small)."""
    dense = numpy.zeros((idx.shape[0], n_in))
    numpy.add.at(dense, (numpy.arange(idx.shape[0])[:, None], idx), w)
    moved = xp.moveaxis(dy, axis, -1)
    back = moved @ xp.asarray(dense, dtype=dy.dtype)
    return xp.moveaxis(back, -1, axis)


def crop_box(height: int, width: int, target_h: int, target_w: int) -> tuple:
    """Keras's centred crop of the target aspect ratio: (top, left, crop_h, crop_w)."""
    crop_h = max(min(height, int(float(width * target_h) / target_w)), 1)
    crop_w = max(min(width, int(float(height * target_w) / target_h)), 1)
    return int(float(height - crop_h) / 2), int(float(width - crop_w) / 2), crop_h, crop_w


def pad_box(height: int, width: int, target_h: int, target_w: int) -> tuple:
    """Keras's padding to the target aspect ratio: (top, left, padded_h, padded_w)."""
    pad_h = max(height, int(float(width * target_h) / target_w))
    pad_w = max(width, int(float(height * target_w) / target_h))
    return int(float(pad_h - height) / 2), int(float(pad_w - width) / 2), pad_h, pad_w


class Resize:
    """Resizing (N, H, W, C) images to (N, h, w, C), with backward.

    ``crop_to_aspect_ratio`` first cuts the largest centred window of the target's aspect
    ratio; ``pad_to_aspect_ratio`` first pads with ``fill_value`` (top/bottom or left/right,
    as Keras does: the same amount on both sides) to reach it.
    """

    def __init__(self, in_hw: tuple, size: tuple, interpolation: str = "bilinear",
                 antialias: bool = False, crop_to_aspect_ratio: bool = False,
                 pad_to_aspect_ratio: bool = False, fill_value: float = 0.0):
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise ValueError("Only one of crop_to_aspect_ratio and pad_to_aspect_ratio can be "
                             "True.")
        (H, W), (h, w) = in_hw, size
        self.in_hw, self.size, self.fill_value = (H, W), (h, w), fill_value
        self.crop = crop_box(H, W, h, w) if crop_to_aspect_ratio else None
        self.pad = pad_box(H, W, h, w) if pad_to_aspect_ratio else None
        if self.crop:
            H, W = self.crop[2:]
        if self.pad:
            top, left, ph, pw = self.pad
            # Keras pads only along the axis that is too short, the same on both sides.
            if top > 0:
                self.pad, H = (top, 0, H + 2 * top, W), H + 2 * top
            elif left > 0:
                self.pad, W = (0, left, H, W + 2 * left), W + 2 * left
            else:
                self.pad = None
        self.mid_hw = (H, W)
        self.rows = None if H == h else axis_weights(H, h, interpolation, antialias)
        self.cols = None if W == w else axis_weights(W, w, interpolation, antialias)

    def __call__(self, x: Any) -> Any:
        """x (N, H, W, C) -> (N, h, w, C), float (integer images come out as float32)."""
        if x.dtype.kind != "f":
            x = x.astype(numpy.float32)
        if self.crop:
            top, left, ch, cw = self.crop
            x = x[:, top:top + ch, left:left + cw]
        if self.pad:
            top, left, _, _ = self.pad
            padded = xp.full((x.shape[0],) + self.mid_hw + (x.shape[-1],), self.fill_value,
                             dtype=x.dtype)
            padded[:, top:top + x.shape[1], left:left + x.shape[2]] = x
            x = padded
        if self.rows is not None:
            x = _resample_axis(x, 1, *self.rows)
        if self.cols is not None:
            x = _resample_axis(x, 2, *self.cols)
        return x

    def backward(self, dy: Any) -> Any:
        """dL/dout (N, h, w, C) -> dL/dx (N, H, W, C)."""
        H, W = self.mid_hw
        if self.cols is not None:
            dy = _resample_axis_adjoint(dy, 2, *self.cols, W)
        if self.rows is not None:
            dy = _resample_axis_adjoint(dy, 1, *self.rows, H)
        if self.pad:
            top, left, _, _ = self.pad
            h0 = H - 2 * top
            w0 = W - 2 * left
            dy = dy[:, top:top + h0, left:left + w0]
        if self.crop:
            top, left, ch, cw = self.crop
            dx = xp.zeros((dy.shape[0],) + tuple(self.in_hw) + (dy.shape[-1],), dtype=dy.dtype)
            dx[:, top:top + ch, left:left + cw] = dy
            dy = dx
        return dy


def resize(images: Any, size: tuple, interpolation: str = "bilinear", antialias: bool = False,
           crop_to_aspect_ratio: bool = False, pad_to_aspect_ratio: bool = False,
           fill_value: float = 0.0) -> Any:
    """(N, H, W, C) or (H, W, C) -> the same with height and width `size` (float)."""
    single = images.ndim == 3
    x = images[None] if single else images
    out = Resize(x.shape[1:3], tuple(size), interpolation, antialias, crop_to_aspect_ratio,
                 pad_to_aspect_ratio, fill_value)(x)
    return out[0] if single else out


def smart_resize(x: Any, size: tuple, interpolation: str = "bilinear") -> Any:
    """Keras's ``smart_resize``: crop the centred window of the target aspect ratio, then
    resize; (H, W, C) or (N, H, W, C)."""
    return resize(x, size, interpolation, crop_to_aspect_ratio=True)


# ====================================================================== affine transforms
def affine_coordinates(transforms: Any, out_hw: tuple) -> tuple:
    """transforms (N, 8) -> (ys, xs), each (N, h, w): where output pixel (y, x) reads the
    input (float64, exact for the index arithmetic that follows)."""
    t = numpy.asarray(transforms, dtype=numpy.float64).reshape(-1, 8)
    h, w = out_hw
    y, x = numpy.meshgrid(numpy.arange(h, dtype=numpy.float64),
                          numpy.arange(w, dtype=numpy.float64), indexing="ij")
    a0, a1, a2, b0, b1, b2, c0, c1 = (t[:, i, None, None] for i in range(8))
    k = c0 * x + c1 * y + 1.0
    return (b0 * x + b1 * y + b2) / k, (a0 * x + a1 * y + a2) / k


def _map_index(i: Any, n: int, mode: str) -> tuple:
    """Integer indices on an axis of length n -> (valid index, inside mask) under `mode`."""
    if mode == "nearest":
        return numpy.clip(i, 0, n - 1), None
    if mode == "wrap":
        return numpy.mod(i, n), None
    if mode == "reflect":                      # d c b a | a b c d | d c b a: period 2n
        m = numpy.mod(i, 2 * n)
        return numpy.where(m < n, m, 2 * n - 1 - m), None
    if mode == "mirror":                       # d c b | a b c d | c b a: period 2n − 2
        if n == 1:
            return numpy.zeros_like(i), None
        m = numpy.mod(i, 2 * n - 2)
        return numpy.where(m < n, m, 2 * n - 2 - m), None
    inside = (i >= 0) & (i < n)                # constant
    return numpy.clip(i, 0, n - 1), inside


def _fold(c: Any, n: int) -> Any:
    """SciPy's 'reflect' of a coordinate, in its arithmetic (exact at the half-way points):
    below 0 it becomes −1 − c, above n − 1 it becomes 2n − 1 − c, after whole periods of
    2n are taken off."""
    p = 2 * n
    c = numpy.asarray(c, dtype=numpy.float64)
    low = numpy.where(c < -p, p * numpy.trunc(-c / p) + c, c)
    low = numpy.where(low < -n, low + p, -1 - low)
    high = c - p * numpy.trunc(c / p)
    high = numpy.where(high >= n, p - high - 1, high)
    return numpy.where(c < 0, low, numpy.where(c > n - 1, high, c))


def _legacy_wrap(c: Any, n: int) -> Any:
    """SciPy's (and TensorFlow's) 'wrap' of a coordinate: inside [0, n − 1] it stays; below,
    it moves up by (floor(−c/p) + 1)·p, above, down by floor(c/p)·p, with p = n − 1."""
    if n <= 1:
        return numpy.zeros_like(c)
    p = n - 1
    return numpy.where(c < 0, c + p * (numpy.floor(-c / p) + 1),
                       numpy.where(c > p, c - p * numpy.floor(c / p), c))


class AffineSampler:
    """Reads (N, H, W, C) images at the points (ys, xs) (N, h, w): forward and backward.

    order 1 is bilinear, order 0 the nearest pixel (``floor(c + 0.5)``). Indices and weights
    are computed once; the same sampler then transforms images or their gradients.
    """

    def __init__(self, ys: Any, xs: Any, in_hw: tuple, order: int = 1, fill_mode: str = "constant",
                 fill_value: float = 0.0, legacy: bool = False):
        if fill_mode not in FILL_MODES:
            raise ValueError(f"fill_mode must be one of {', '.join(FILL_MODES)}; got "
                             f"{fill_mode!r}.")
        H, W = in_hw
        self.in_hw, self.out_shape, self.fill_value = (H, W), ys.shape, fill_value
        N = ys.shape[0]
        outside = None
        if legacy and fill_mode == "constant":
            # SciPy's 'constant': any point outside [0, n − 1] is the fill value, no blending.
            outside = (ys < 0) | (ys > H - 1) | (xs < 0) | (xs > W - 1)
            ys, xs = numpy.clip(ys, 0, H - 1), numpy.clip(xs, 0, W - 1)
            fill_mode = "nearest"
        elif legacy and fill_mode == "reflect" and order == 0:
            # SciPy folds the point into the image first, then takes the nearest pixel (at a
            # half-way point that can be the other neighbour than folding the pixel would).
            ys, xs = _fold(ys, H), _fold(xs, W)
            fill_mode = "nearest"
        elif legacy and fill_mode == "wrap":
            # SciPy's 'wrap' moves a point outside [0, n − 1] by multiples of n − 1.
            ys, xs = _legacy_wrap(ys, H), _legacy_wrap(xs, W)
            fill_mode = "nearest"
        # Each axis is mapped once: rows (y0, y0 + 1) and columns (x0, x0 + 1) with their
        # weights; the (up to) 4 corners are their combinations.
        if order == 0:
            rows = [(numpy.floor(ys + 0.5), None)]
            cols = [(numpy.floor(xs + 0.5), None)]
        else:
            y0, x0 = numpy.floor(ys), numpy.floor(xs)
            fy, fx = ys - y0, xs - x0
            rows, cols = [(y0, 1 - fy), (y0 + 1, fy)], [(x0, 1 - fx), (x0 + 1, fx)]
        rows = [_map_index(c.astype(numpy.int64), H, fill_mode) + (w,) for c, w in rows]
        cols = [_map_index(c.astype(numpy.int64), W, fill_mode) + (w,) for c, w in cols]
        base = (numpy.arange(N) * (H * W)).reshape(N, 1, 1)
        self.idx, self.w = [], []
        self.fill = numpy.zeros(ys.shape)             # the weight given to fill_value
        for iy, in_y, wy in rows:
            row_index = base + iy * W
            for ix, in_x, wx in cols:
                wgt = numpy.ones(ys.shape) if wy is None else (wy * wx)
                if in_y is not None:
                    inside = in_y & in_x
                    self.fill += numpy.where(inside, 0.0, wgt)
                    wgt = numpy.where(inside, wgt, 0.0)
                if outside is not None:
                    wgt = numpy.where(outside, 0.0, wgt)
                self.idx.append((row_index + ix).astype(numpy.intp).ravel())
                self.w.append(wgt.reshape(N, -1, 1))
        if outside is not None:
            self.fill = numpy.where(outside, 1.0, 0.0)
        self.fill = self.fill.reshape(N, -1, 1)
        self.has_fill = bool(self.fill.any()) and fill_value != 0
        self._cast: dict = {}

    def _weights(self, dtype: Any) -> list:
        """The weights (and the fill weights) in `dtype`, converted once and kept."""
        if dtype not in self._cast:
            self._cast[dtype] = ([xp.asarray(w, dtype=dtype) for w in self.w],
                                 [xp.asarray(i) for i in self.idx],
                                 xp.asarray(self.fill * self.fill_value, dtype=dtype)
                                 if self.has_fill else None)
        return self._cast[dtype]

    def __call__(self, images: Any) -> Any:
        """images (N, H, W, C) -> (N, h, w, C) in the images' float dtype."""
        N, H, W, C = images.shape
        dtype = images.dtype if images.dtype.kind == "f" else numpy.dtype(numpy.float32)
        flat = images.reshape(N * H * W, C)
        weights, indices, fill = self._weights(dtype)
        out = None
        for idx, w in zip(indices, weights):
            term = xp.take(flat, idx, axis=0).reshape(N, -1, C)
            term *= w
            if out is None:
                out = term
            else:
                out += term
        if fill is not None:
            out += fill
        return out.astype(dtype, copy=False).reshape(self.out_shape + (C,))

    def backward(self, dy: Any) -> Any:
        """dL/dout (N, h, w, C) -> dL/dimages (N, H, W, C): each output's gradient goes back
        to the pixels it read, times their weights."""
        N, C = dy.shape[0], dy.shape[-1]
        H, W = self.in_hw
        g = dy.reshape(N, -1, C)
        weights, indices, _ = self._weights(dy.dtype)
        dx = xp.zeros((N * H * W, C), dtype=dy.dtype)
        for idx, w in zip(indices, weights):
            contrib = (g * w).reshape(-1, C)
            for c in range(C):
                dx[:, c] += xp.bincount(idx, weights=contrib[:, c],
                                        minlength=N * H * W).astype(dy.dtype)
        return dx.reshape(N, H, W, C)


def affine_transform(images: Any, transforms: Any, interpolation: str = "bilinear",
                     fill_mode: str = "constant", fill_value: float = 0.0,
                     legacy: bool = False) -> Any:
    """Keras 3's ``ops.image.affine_transform`` on channels-last (N, H, W, C) images (or one
    (H, W, C) image): transforms (N, 8) or (8,), as described at the top of this module."""
    single = images.ndim == 3
    x = images[None] if single else images
    t = numpy.asarray(transforms, dtype=numpy.float64).reshape(-1, 8)
    if len(t) == 1 and len(x) > 1:
        t = numpy.repeat(t, len(x), axis=0)
    ys, xs = affine_coordinates(t, x.shape[1:3])
    order = {"bilinear": 1, "nearest": 0}.get(interpolation)
    if order is None:
        raise ValueError(f"interpolation must be 'bilinear' or 'nearest'; got "
                         f"{interpolation!r}.")
    out = AffineSampler(ys, xs, x.shape[1:3], order, fill_mode, fill_value, legacy)(x)
    return out[0] if single else out


def rotation_matrix(angles_deg: Any, height: int, width: int) -> Any:
    """Keras 3's transform for a rotation by `angles_deg` (N,) about the image centre
    ((width − 1)/2, (height − 1)/2): (N, 8). Positive angles turn the picture
    counter-clockwise."""
    a = numpy.deg2rad(numpy.asarray(angles_deg, dtype=numpy.float64))
    cx, cy = 0.5 * (width - 1), 0.5 * (height - 1)
    cos, sin = numpy.cos(a), numpy.sin(a)
    zeros = numpy.zeros_like(a)
    return numpy.stack([cos, -sin, cx - cx * cos + cy * sin,
                        sin, cos, cy - cx * sin - cy * cos, zeros, zeros], axis=1)


def zoom_matrix(height_zoom: Any, width_zoom: Any, height: int, width: int) -> Any:
    """Keras 3's transform for zooms (N,) about the centre: a zoom of 0.8 reads a window 0.8
    times the image, so the picture appears 1/0.8 times larger."""
    hz, wz = (numpy.asarray(v, dtype=numpy.float64).ravel() for v in (height_zoom, width_zoom))
    zeros = numpy.zeros_like(hz)
    return numpy.stack([wz, zeros, (width - 1) / 2.0 * (1 - wz),
                        zeros, hz, (height - 1) / 2.0 * (1 - hz), zeros, zeros], axis=1)


def translation_matrix(dy: Any, dx: Any) -> Any:
    """Keras 3's transform for shifts (N,) in pixels: the picture moves down by dy and right
    by dx."""
    dy, dx = (numpy.asarray(v, dtype=numpy.float64).ravel() for v in (dy, dx))
    ones, zeros = numpy.ones_like(dy), numpy.zeros_like(dy)
    return numpy.stack([ones, zeros, -dx, zeros, ones, -dy, zeros, zeros], axis=1)


__all__ = ["resize", "smart_resize", "Resize", "affine_transform", "AffineSampler",
           "affine_coordinates", "rotation_matrix", "zoom_matrix", "translation_matrix",
           "axis_weights", "crop_box", "pad_box", "INTERPOLATIONS", "FILL_MODES"]
