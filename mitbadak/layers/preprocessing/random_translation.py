"""RandomTranslation: in training, each image shifts by a random fraction of its height
(``height_factor``) and width (``width_factor``); positive shifts move it down and right.
The uncovered border is filled by ``fill_mode``. Identity at inference."""
from __future__ import annotations

from typing import Any

import numpy

from ...utils import image_ops
from .affine_layer import AffineLayer
from .image_layer import factor_range


class RandomTranslation(AffineLayer):
    """``RandomTranslation(0.1, 0.1)``. Transformation: ``{'translations': (N, 2)}``, pixels
    (width shift, height shift) as Keras 3 orders them."""

    def __init__(self, height_factor: Any, width_factor: Any, fill_mode: str = "reflect",
                 interpolation: str = "bilinear", seed: int | None = None,
                 fill_value: float = 0.0, data_format: str | None = None, **kwargs: Any):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self.height_range = factor_range(self, "height_factor", height_factor, -1.0, 1.0)
        self.width_range = factor_range(self, "width_factor", width_factor, -1.0, 1.0)

    def get_random_transformation(self, images, training=True):
        N, H, W = images.shape[:3]
        t = self.uniform(N, [self.height_range, self.width_range])
        return {"translations": numpy.stack([t[:, 1] * W, t[:, 0] * H], axis=1)}

    def matrices(self, transformation, n, height, width):
        t = numpy.asarray(transformation["translations"], dtype=numpy.float64).reshape(n, 2)
        return image_ops.translation_matrix(t[:, 1], t[:, 0])

    def get_config(self):
        def plain(v):
            return list(v) if isinstance(v, tuple) else v
        return {**super().get_config(), "height_factor": plain(self.height_factor),
                "width_factor": plain(self.width_factor)}
