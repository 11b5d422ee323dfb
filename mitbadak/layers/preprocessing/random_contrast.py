"""RandomContrast: in training, each image's contrast changes by a random factor c:
``y = clip((x − mean)·c + mean, value_range)``, the mean taken per image and channel over
height and width. Identity at inference.

``factor=0.2`` draws c in [0.8, 1.2], as Keras documents it (Keras 3.15's code draws in
[1.0, 1.2] for a single number; a pair (lower, upper) draws in [1 − lower, 1 + upper] in both).
Backward: dx = c·g + (1 − c)·mean(g) over height and width, g = dy where not clipped.
"""
from __future__ import annotations

from typing import Any

from ...backend import xp
from .image_layer import ImageLayer, per_sample


class RandomContrast(ImageLayer):
    """``RandomContrast(0.2)``. Transformation: ``{'contrast_factor': (N,)}``."""

    random = True

    def __init__(self, factor: Any, value_range: Any = (0, 255), seed: int | None = None,
                 **kwargs: Any):
        super().__init__(seed=seed, **kwargs)
        pair = isinstance(factor, (list, tuple))
        values = list(factor) if pair else [factor]
        if (pair and len(values) != 2) or not all(
                isinstance(v, (int, float)) and 0 <= v <= 1 for v in values):
            raise ValueError(f"RandomContrast {self.name!r}: factor must be a number or a pair "
                             f"of numbers in [0, 1]; got {factor!r}.")
        self.factor = (float(values[0]), float(values[-1]))
        self.value_range = tuple(value_range)

    def get_random_transformation(self, images, training=True):
        lower, upper = self.factor
        return {"contrast_factor": self.uniform(len(images), [(1 - lower, 1 + upper)])[:, 0]}

    def transform_images(self, images, transformation=None):
        c = xp.asarray(per_sample(transformation["contrast_factor"], len(images)),
                       dtype=images.dtype).reshape(-1, 1, 1, 1)
        mean = images.mean(axis=(1, 2), keepdims=True)
        y = (images - mean) * c + mean
        lo, hi = self.value_range
        inside = (y >= lo) & (y <= hi)

        def back(dy):
            g = dy * inside
            return g * c + (1 - c) * g.mean(axis=(1, 2), keepdims=True)
        self._op = back
        return xp.clip(y, lo, hi).astype(images.dtype, copy=False)

    def get_config(self):
        return {**super().get_config(), "factor": list(self.factor),
                "value_range": list(self.value_range)}
