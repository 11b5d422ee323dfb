"""RandomRotation: in training, each image turns about its centre by a random angle drawn
from ``factor`` (a fraction of a full turn: 0.1 means up to ±36°). Positive angles turn
counter-clockwise. Identity at inference."""
from __future__ import annotations

from typing import Any

from ...utils import image_ops
from .affine_layer import AffineLayer
from .image_layer import factor_range, per_sample


class RandomRotation(AffineLayer):
    """``RandomRotation(0.1)`` (±36°); ``factor=(-0.2, 0.3)`` draws in [−72°, 108°].
    Transformation: ``{'angle': (N,) degrees}``."""

    def __init__(self, factor: Any, fill_mode: str = "reflect", interpolation: str = "bilinear",
                 seed: int | None = None, fill_value: float = 0.0,
                 data_format: str | None = None, **kwargs: Any):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.factor = factor_range(self, "factor", factor, -1.0, 1.0)

    def get_random_transformation(self, images, training=True):
        lo, hi = self.factor
        return {"angle": self.uniform(len(images), [(lo * 360.0, hi * 360.0)])[:, 0]}

    def matrices(self, transformation, n, height, width):
        return image_ops.rotation_matrix(per_sample(transformation["angle"], n), height, width)

    def get_config(self):
        return {**super().get_config(), "factor": list(self.factor)}
