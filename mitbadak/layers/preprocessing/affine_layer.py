"""What RandomRotation, RandomZoom and RandomTranslation share: a per-image affine transform
read with bilinear (or nearest) interpolation, filled outside the picture by ``fill_mode``
(see ``mitbadak.utils.image_ops``). Backward sends each output pixel's gradient back to the
input pixels it was read from, with the same interpolation weights."""
from __future__ import annotations

from typing import Any

from ...utils import image_ops
from .image_layer import ImageLayer

FILL_MODES = ("reflect", "wrap", "constant", "nearest")
INTERPOLATIONS = ("nearest", "bilinear")


class AffineLayer(ImageLayer):
    random = True

    def __init__(self, fill_mode: str = "reflect", interpolation: str = "bilinear",
                 seed: int | None = None, fill_value: float = 0.0,
                 data_format: str | None = None, **kwargs: Any):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        kind = f"{type(self).__name__} {self.name!r}"
        if fill_mode not in FILL_MODES:
            raise ValueError(f"{kind}: fill_mode must be one of {', '.join(map(repr, FILL_MODES))}"
                             f"; got {fill_mode!r}.")
        if interpolation not in INTERPOLATIONS:
            raise ValueError(f"{kind}: interpolation must be 'nearest' or 'bilinear'; got "
                             f"{interpolation!r}.")
        self.fill_mode, self.interpolation, self.fill_value = fill_mode, interpolation, fill_value

    def matrices(self, transformation, n: int, height: int, width: int):
        """(n, 8) transforms for the given parameters."""
        raise NotImplementedError

    def transform_images(self, images, transformation=None):
        N, H, W, _ = images.shape
        ys, xs = image_ops.affine_coordinates(self.matrices(transformation, N, H, W), (H, W))
        sampler = image_ops.AffineSampler(ys, xs, (H, W), int(self.interpolation == "bilinear"),
                                          self.fill_mode, self.fill_value)
        self._op = sampler.backward
        return sampler(images)

    def get_config(self):
        return {**super().get_config(), "fill_mode": self.fill_mode,
                "interpolation": self.interpolation, "fill_value": self.fill_value}
