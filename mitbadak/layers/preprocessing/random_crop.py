"""RandomCrop: in training, a random (height, width) window of the batch (one position for
the whole batch, as in Keras). At inference, and in training when the images are not larger
than the window in both directions, the largest centred window of the target's aspect ratio
is cut and resized to (height, width), as Keras documents it (Keras 3.15's code returns the
images uncropped at inference, whatever their size; mitbadak follows the documentation, so
the output shape is always (height, width)). Backward puts the gradient back into the window
(through the resize's transpose when one was made)."""
from __future__ import annotations

from typing import Any

from ...utils import image_ops
from .image_layer import SizedImageLayer, window_gradient


class RandomCrop(SizedImageLayer):
    """``RandomCrop(150, 150)``. Transformation: ``(top, left)``."""

    random = True
    per_sample = False       # one crop position for the whole batch

    def __init__(self, height: int, width: int, seed: int | None = None,
                 data_format: str | None = None, **kwargs: Any):
        super().__init__(height, width, data_format=data_format, seed=seed, **kwargs)

    def forward(self, x, training=False):
        images = self.to_last(x)
        transformation = self.get_random_transformation(images, training)
        return self.from_last(self.transform_images(images, transformation))

    def get_random_transformation(self, images, training=True):
        """(top, left) of a (height, width) window, or (top, left, h, w) of the centred
        window of the target's aspect ratio that is then resized."""
        H, W = images.shape[1:3]
        if training and H > self.height and W > self.width:
            # Keras: ints drawn uniformly in [0, H − height], one draw for the batch.
            u = self.uniform(1, [(0.0, H - self.height + 1.0), (0.0, W - self.width + 1.0)])
            return int(u[0, 0]), int(u[0, 1])
        return image_ops.crop_box(H, W, self.height, self.width)

    def transform_images(self, images, transformation=None):
        N, H, W, C = images.shape
        top, left, ch, cw = tuple(transformation) + (self.height, self.width)[
            len(transformation) - 2:]
        out = images[:, top:top + ch, left:left + cw]
        resize = None
        if (ch, cw) != (self.height, self.width):
            resize = image_ops.Resize((ch, cw), (self.height, self.width))
            out = resize(out).astype(self.dtype, copy=False)

        def back(dy):
            return window_gradient(dy if resize is None else resize.backward(dy), H, W, top,
                                   left)
        self._op = back
        return out
