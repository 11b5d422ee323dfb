"""RandomBrightness: in training, each image gets a random amount added to every pixel:
``y = clip(x + delta, value_range)``, delta drawn from ``factor`` times the width of
``value_range`` (factor=0.2 on 0..255: ±51). Identity at inference. dL/dx = dL/dy where the
pixel was not clipped, 0 where it was."""
from __future__ import annotations

from typing import Any

from ...backend import xp
from .image_layer import ImageLayer, factor_range, per_sample


class RandomBrightness(ImageLayer):
    """``RandomBrightness(0.2)``. Transformation: ``{'rgb_delta': (N,)}`` (already scaled)."""

    random = True

    def __init__(self, factor: Any, value_range: Any = (0, 255), seed: int | None = None,
                 **kwargs: Any):
        super().__init__(seed=seed, **kwargs)
        self.factor = factor_range(self, "factor", factor, -1.0, 1.0)
        if not isinstance(value_range, (list, tuple)) or len(value_range) != 2:
            raise ValueError(f"RandomBrightness {self.name!r}: value_range must be a pair "
                             f"[low, high]; got {value_range!r}.")
        self.value_range = sorted(value_range)

    def get_random_transformation(self, images, training=True):
        lo, hi = self.value_range
        return {"rgb_delta": self.uniform(len(images), [self.factor])[:, 0] * (hi - lo)}

    def transform_images(self, images, transformation=None):
        delta = xp.asarray(per_sample(transformation["rgb_delta"], len(images)),
                           dtype=images.dtype).reshape(-1, 1, 1, 1)
        y = images + delta
        lo, hi = self.value_range
        inside = (y >= lo) & (y <= hi)
        self._op = lambda dy: dy * inside
        return xp.clip(y, lo, hi).astype(images.dtype, copy=False)

    def get_config(self):
        return {**super().get_config(), "factor": list(self.factor),
                "value_range": list(self.value_range)}
