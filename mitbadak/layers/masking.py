"""Masking: skip the time steps whose features all equal ``mask_value``."""
from __future__ import annotations

from typing import Any

from ..backend import xp
from .layer import Layer


class Masking(Layer):
    """``Masking(mask_value=0.0)``: x (batch, T, features) -> the same, with the steps whose
    features all equal mask_value set to 0 and marked masked for the layers that follow
    (recurrent layers keep their state through such steps).

        keep = any(x != mask_value, over features)     (batch, T, 1)
        y = x ⊙ keep          dx = dy ⊙ keep
    """

    supports_masking = True

    def __init__(self, mask_value: float = 0.0, **kwargs: Any):
        super().__init__(**kwargs)
        self.mask_value = mask_value

    def _check_input_shape(self, shape: Any) -> None:
        """Any shape: the layer has no weights."""

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return xp.any(inputs != self.mask_value, axis=-1)

    def forward(self, x: Any, training: bool = False) -> Any:
        self.keep = xp.any(x != self.mask_value, axis=-1, keepdims=True).astype(x.dtype)
        return x * self.keep

    def backward(self, dy: Any) -> Any:
        return dy * self.keep

    def get_config(self) -> dict:
        return {**super().get_config(), "mask_value": self.mask_value}
