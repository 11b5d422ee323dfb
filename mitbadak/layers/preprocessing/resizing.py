"""Resizing: every image to (height, width), as ``tf.image.resize`` / Keras 3 do.

(N, H, W, C) -> (N, height, width, C). Interpolation 'bilinear' (default), 'nearest',
'bicubic', 'area', 'lanczos3', 'lanczos5' (see ``mitbadak.utils.image_ops``).
``crop_to_aspect_ratio`` first cuts the largest centred window of the target's shape, so
pictures are not squashed; ``pad_to_aspect_ratio`` pads instead. Backward is the transpose of
the resampling weights.
"""
from __future__ import annotations

from typing import Any

from ...utils import image_ops
from .image_layer import SizedImageLayer


class Resizing(SizedImageLayer):
    """``Resizing(180, 180)``; ``Resizing(224, 224, crop_to_aspect_ratio=True)``."""

    def __init__(self, height: int, width: int, interpolation: str = "bilinear",
                 crop_to_aspect_ratio: bool = False, pad_to_aspect_ratio: bool = False,
                 fill_mode: str = "constant", fill_value: float = 0.0, antialias: bool = False,
                 data_format: str | None = None, **kwargs: Any):
        super().__init__(height, width, data_format=data_format, **kwargs)
        if interpolation not in image_ops.INTERPOLATIONS:
            raise ValueError(f"Resizing {self.name!r}: interpolation must be one of "
                             f"{', '.join(image_ops.INTERPOLATIONS)}; got {interpolation!r}.")
        if fill_mode != "constant":
            raise ValueError(f"Resizing {self.name!r}: only fill_mode='constant' is supported "
                             f"(as in Keras); got {fill_mode!r}.")
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise ValueError(f"Resizing {self.name!r}: only one of crop_to_aspect_ratio and "
                             f"pad_to_aspect_ratio can be True.")
        self.interpolation, self.antialias = interpolation, bool(antialias)
        self.crop_to_aspect_ratio = crop_to_aspect_ratio
        self.pad_to_aspect_ratio = pad_to_aspect_ratio
        self.fill_mode, self.fill_value = fill_mode, fill_value

    def transform_images(self, images, transformation=None):
        resize = image_ops.Resize(images.shape[1:3], (self.height, self.width),
                                  self.interpolation, self.antialias, self.crop_to_aspect_ratio,
                                  self.pad_to_aspect_ratio, self.fill_value)
        self._op = resize.backward
        return resize(images).astype(self.dtype, copy=False)

    def get_config(self):
        return {**super().get_config(), "interpolation": self.interpolation,
                "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
                "pad_to_aspect_ratio": self.pad_to_aspect_ratio, "fill_mode": self.fill_mode,
                "fill_value": self.fill_value, "antialias": self.antialias}
