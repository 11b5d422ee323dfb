"""RandomZoom: in training, each image is zoomed about its centre by a random factor.

``height_factor=0.2`` reads a window between 0.8 and 1.2 times the image height: values
below 1 zoom in (the picture looks bigger), above 1 zoom out (the border is filled by
``fill_mode``). Without ``width_factor`` the aspect ratio is kept. Identity at inference.
"""
from __future__ import annotations

from typing import Any

from ...utils import image_ops
from .affine_layer import AffineLayer
from .image_layer import factor_range, per_sample


class RandomZoom(AffineLayer):
    """``RandomZoom(0.2)``. Transformation: ``{'height_zoom': (N,), 'width_zoom': (N,)}``
    (1 + the drawn factor)."""

    def __init__(self, height_factor: Any, width_factor: Any = None, fill_mode: str = "reflect",
                 interpolation: str = "bilinear", seed: int | None = None,
                 fill_value: float = 0.0, data_format: str | None = None, **kwargs: Any):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self.height_range = factor_range(self, "height_factor", height_factor, -1.0, 1.0, True)
        self.width_range = (None if width_factor is None else
                            factor_range(self, "width_factor", width_factor, -1.0, 1.0, True))

    def get_random_transformation(self, images, training=True):
        (hl, hu), n = self.height_range, len(images)
        if self.width_range is None:
            z = self.uniform(n, [(1 + hl, 1 + hu)])[:, 0]
            return {"height_zoom": z, "width_zoom": z}
        (wl, wu) = self.width_range
        z = self.uniform(n, [(1 + hl, 1 + hu), (1 + wl, 1 + wu)])
        return {"height_zoom": z[:, 0], "width_zoom": z[:, 1]}

    def matrices(self, transformation, n, height, width):
        return image_ops.zoom_matrix(per_sample(transformation["height_zoom"], n),
                                     per_sample(transformation["width_zoom"], n), height, width)

    def get_config(self):
        return {**super().get_config(), "height_factor": _plain(self.height_factor),
                "width_factor": _plain(self.width_factor)}


def _plain(v):
    return list(v) if isinstance(v, tuple) else v
