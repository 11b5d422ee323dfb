"""SpatialDropout1D/2D: dropout that drops whole channels (feature maps) at once.

Neighbouring pixels of a feature map are strongly correlated, so dropping single pixels
barely regularizes a convolution; dropping a whole channel does. In training each channel of
each sample is kept with probability 1 − rate and scaled by 1 / (1 − rate) (inverted dropout,
as ``Dropout``); at inference the layer is the identity.
"""
from __future__ import annotations

from typing import Any

from .convolution import check_image_input, normalize_data_format
from .core import Dropout
from .layer import Layer


class SpatialDropout2D(Dropout):
    """(N, H, W, C) -> same shape; the keep-mask is (N, 1, 1, C), one draw per channel."""

    rank = 2

    def __init__(self, rate: float, data_format: str | None = None, seed: int | None = None,
                 **kwargs: Any):
        super().__init__(rate, seed=seed, **kwargs)
        self.data_format = normalize_data_format(self, data_format)

    def build(self, input_shape):
        check_image_input(self, input_shape, self.rank)

    def forward(self, x, training=False):
        ones = (1,) * self.rank
        if self.data_format == "channels_first":
            self.noise_shape = (x.shape[0], x.shape[1]) + ones
        else:
            self.noise_shape = (x.shape[0],) + ones + (x.shape[-1],)
        return super().forward(x, training)

    def get_config(self):
        config = {**Layer.get_config(self), "rate": self.rate, "seed": self.seed}
        if self.rank == 2:
            config["data_format"] = self.data_format
        return config


class SpatialDropout1D(SpatialDropout2D):
    """(N, steps, C) -> same shape; the keep-mask is (N, 1, C), one draw per channel."""

    rank = 1

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any):
        super().__init__(rate, "channels_last", seed=seed, **kwargs)
