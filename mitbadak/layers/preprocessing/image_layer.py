"""What the image preprocessing and augmentation layers share.

- Images are channels-last (N, H, W, C) inside; ``data_format='channels_first'`` input
  (N, C, H, W) is seen channels-last and turned back on the way out.
- A single image (H, W, C) may be passed directly, as in Keras; it comes out single.
- The random layers (RandomFlip, RandomRotation, ...) transform only in training and are the
  identity at inference. Called directly on an array without ``training=``, they transform
  (Keras's default, so ``data_augmentation(images)`` shows augmented pictures); inside a model,
  fit trains with them and evaluate/predict pass images through unchanged.
- Each random layer owns a generator: seeded with ``seed``, else from the library generator
  when the layer is made (so ``keras.utils.set_random_seed`` makes it repeatable). It draws one
  (N, k) array of parameters per call, row by row, so a batch split into slices draws the same
  numbers as the whole batch.
- ``get_random_transformation(images)`` draws a batch's parameters and
  ``transform_images(images, transformation)`` applies given ones (Keras 3's method names).
"""
from __future__ import annotations

from typing import Any

import numpy

from ... import backend
from ...backend import xp
from ..convolution import normalize_data_format
from ..layer import Layer


def factor_range(layer: Layer, name: str, factor: Any, low: float, high: float,
                 low_open: bool = False) -> tuple:
    """A factor as Keras reads it: f -> (−|f|, |f|), (a, b) -> sorted; all within bounds."""
    def ok(v):
        return isinstance(v, (int, float)) and not isinstance(v, bool) and (
            (low < v if low_open else low <= v) and v <= high)
    pair = isinstance(factor, (list, tuple))
    if (pair and (len(factor) != 2 or not all(ok(v) for v in factor))) or \
            (not pair and not ok(factor)):
        bracket = "(" if low_open else "["
        raise ValueError(f"{type(layer).__name__} {layer.name!r}: {name} must be a number or "
                         f"a pair of numbers in {bracket}{low}, {high}]; got {factor!r}.")
    if pair:
        lo, hi = sorted(float(v) for v in factor)
        return lo, hi
    return -abs(float(factor)), abs(float(factor))


class ImageLayer(Layer):
    """Base class: channels handling, single images, training default and generator."""

    random = False          # True for the augmentation layers (identity at inference)

    @property
    def training_default(self) -> bool:
        """Called on data without training=, an augmentation layer augments (Keras's
        call(training=True) default); predict/evaluate pass training=False."""
        return self.random

    def __init__(self, data_format: str | None = None, seed: int | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.data_format = normalize_data_format(self, data_format)
        if self.random:
            self.seed = seed
            start = seed if seed is not None else int(backend.rng().integers(2 ** 62))
            self._rng = numpy.random.default_rng(start)

    # ------------------------------------------------------------- calling
    def __call__(self, inputs: Any, training: Any = None, *args: Any, **kwargs: Any) -> Any:
        if _is_array(inputs):
            if training is None:
                training = self.training_default
            if getattr(inputs, "ndim", 0) == 3:            # one image (H, W, C)
                return super().__call__(inputs[None], training, *args, **kwargs)[0]
        return super().__call__(inputs, training, *args, **kwargs)

    def _check_input_shape(self, shape: Any) -> None:
        """Any picture size is fine once built (Keras's image layers fix none): only images."""
        if not isinstance(shape, list):
            self.check_images(shape)

    def to_last(self, x: Any) -> Any:
        return xp.moveaxis(x, 1, -1) if self.data_format == "channels_first" else x

    def from_last(self, x: Any) -> Any:
        return xp.moveaxis(x, -1, 1) if self.data_format == "channels_first" else x

    def check_images(self, shape: tuple) -> None:
        if len(shape) != 4:
            raise ValueError(f"{type(self).__name__} {self.name!r} expects images (batch, "
                             f"height, width, channels) or one image (height, width, channels); "
                             f"got shape {tuple(shape)}.")

    def build(self, input_shape):
        self.check_images(input_shape)

    def hw_axes(self) -> tuple:
        return (2, 3) if self.data_format == "channels_first" else (1, 2)

    # ------------------------------------------------------------- randomness
    def uniform(self, n: int, bounds: list) -> numpy.ndarray:
        """(n, k) uniform numbers, column j in [bounds[j][0], bounds[j][1]), one draw call."""
        lo = numpy.array([b[0] for b in bounds], dtype=numpy.float64)
        hi = numpy.array([b[1] for b in bounds], dtype=numpy.float64)
        return lo + (hi - lo) * self._rng.random((n, len(bounds)))

    # ------------------------------------------------------------- the transform
    def forward(self, x, training=False):
        """x (N, H, W, C) (or channels_first) -> the transformed batch; at inference
        (random layers) the input unchanged."""
        self._op = None
        if self.random and not training:
            return x
        images = self.to_last(x)
        transformation = self.get_random_transformation(images, training=True)
        return self.from_last(self.transform_images(images, transformation))

    def backward(self, dy):
        if self._op is None:
            return dy
        return self.from_last(self._op(self.to_last(dy)))

    def get_random_transformation(self, images: Any, training: bool = True) -> Any:
        return None

    def transform_images(self, images: Any, transformation: Any = None) -> Any:
        """Channels-last images with the given parameters; sets what backward needs."""
        raise NotImplementedError

    def get_config(self):
        config = {**super().get_config(), "data_format": self.data_format}
        if self.random:
            config["seed"] = self.seed
        return config


def _is_array(x: Any) -> bool:
    return isinstance(x, numpy.ndarray) or (xp is not numpy and isinstance(x, xp.ndarray))


def per_sample(values: Any, n: int) -> numpy.ndarray:
    """A transformation's parameter as a float64 (n,) vector (Keras keeps them (n, 1, 1, 1))."""
    v = numpy.asarray(backend.to_numpy(values), dtype=numpy.float64).reshape(-1)
    return numpy.broadcast_to(v, (n,)) if v.size == 1 else v


class SizedImageLayer(ImageLayer):
    """An image layer whose output images are (height, width): Resizing, CenterCrop,
    RandomCrop."""

    def __init__(self, height: int, width: int, **kwargs: Any):
        super().__init__(**kwargs)
        self.height, self.width = int(height), int(width)

    def compute_output_shape(self, input_shape):
        s = list(input_shape)
        h, w = self.hw_axes()
        s[h], s[w] = self.height, self.width
        return tuple(s)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width}


def window_gradient(dy: Any, H: int, W: int, top: int, left: int) -> Any:
    """Backward of cutting the window at (top, left) out of (N, H, W, C) images: dy back in
    its place, zeros around it."""
    dx = xp.zeros((dy.shape[0], H, W, dy.shape[-1]), dtype=dy.dtype)
    dx[:, top:top + dy.shape[1], left:left + dy.shape[2]] = dy
    return dx
