"""RandomFlip: in training, each image is mirrored left-right ('horizontal'), upside down
('vertical') or both ('horizontal_and_vertical', Keras 3: one coin for both axes) with
probability 1/2. Identity at inference. Backward flips the gradient the same way."""
from __future__ import annotations

from typing import Any

from ...backend import xp
from .image_layer import ImageLayer, per_sample

MODES = ("horizontal", "vertical", "horizontal_and_vertical")


class RandomFlip(ImageLayer):
    """``RandomFlip("horizontal")``. Transformation: ``{'flips': (N,) bool}``."""

    random = True

    def __init__(self, mode: str = "horizontal_and_vertical", seed: int | None = None,
                 data_format: str | None = None, **kwargs: Any):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        if mode not in MODES:
            raise ValueError(f"RandomFlip {self.name!r}: mode must be one of "
                             f"{', '.join(map(repr, MODES))}; got {mode!r}.")
        self.mode = mode

    def get_random_transformation(self, images, training=True):
        return {"flips": self.uniform(len(images), [(0.0, 1.0)])[:, 0] <= 0.5}

    def _flip(self, x, flips):
        axes = {"horizontal": (2,), "vertical": (1,), "horizontal_and_vertical": (1, 2)}
        out = x.copy()
        out[flips] = xp.flip(x[flips], axis=axes[self.mode])
        return out

    def transform_images(self, images, transformation=None):
        flips = per_sample(transformation["flips"], len(images)).astype(bool)
        self._op = lambda dy: self._flip(dy, flips)         # a flip is its own inverse
        return self._flip(images, flips)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}
