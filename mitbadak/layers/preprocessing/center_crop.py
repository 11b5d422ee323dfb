"""CenterCrop: the central (height, width) window of every image.

(N, H, W, C) -> (N, height, width, C); the window starts at ((H − height) // 2,
(W − width) // 2). An image smaller than the window is first resized, keeping its aspect
ratio (Keras's ``smart_resize``). Backward puts the gradient back into the window.
"""
from __future__ import annotations

from typing import Any

from ...utils import image_ops
from .image_layer import SizedImageLayer, window_gradient


class CenterCrop(SizedImageLayer):
    """``CenterCrop(150, 150)``."""

    def __init__(self, height: int, width: int, data_format: str | None = None, **kwargs: Any):
        super().__init__(height, width, data_format=data_format, **kwargs)

    def transform_images(self, images, transformation=None):
        N, H, W, C = images.shape
        dh, dw = H - self.height, W - self.width
        if dh >= 0 and dw >= 0:
            top, left = dh // 2, dw // 2
            self._op = lambda dy: window_gradient(dy, H, W, top, left)
            return images[:, top:top + self.height, left:left + self.width]
        resize = image_ops.Resize((H, W), (self.height, self.width), crop_to_aspect_ratio=True)
        self._op = resize.backward
        return resize(images).astype(self.dtype, copy=False)
