"""Weight penalties added to the loss: L1 (λ·Σ|w|), L2 (λ·Σw²) and both."""
from __future__ import annotations

from typing import Any

from .backend import xp
from .utils.naming import closest


class Regularizer:
    """``reg(w) -> penalty`` (a scalar) and ``reg.gradient(w) -> d penalty / dw``."""

    def __call__(self, w: Any) -> Any:
        return 0.0

    def gradient(self, w: Any) -> Any:
        return xp.zeros_like(w)

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> "Regularizer":
        return cls(**config)


class L1L2(Regularizer):
    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, w):
        penalty = 0.0
        if self.l1:
            penalty += self.l1 * float(xp.abs(w).sum())
        if self.l2:
            penalty += self.l2 * float((w * w).sum())
        return penalty

    def gradient(self, w):
        g = xp.zeros_like(w)
        if self.l1:
            g += self.l1 * xp.sign(w)
        if self.l2:
            g += (2 * self.l2) * w
        return g

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    def __init__(self, l1: float = 0.01):
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    def __init__(self, l2: float = 0.01):
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


l1, l2, l1_l2 = L1, L2, L1L2
_CLASSES = {"L1": L1, "L2": L2, "L1L2": L1L2, "l1": L1, "l2": L2, "l1_l2": L1L2}


def get(identifier: Any) -> Regularizer | None:
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, str):
        if identifier not in _CLASSES:
            raise ValueError(f"Unknown regularizer {identifier!r}. {closest(identifier, _CLASSES)}"
                             f"Valid names: l1, l2, l1_l2.")
        return _CLASSES[identifier]()
    if isinstance(identifier, dict):
        return _CLASSES[identifier["class_name"]](**identifier.get("config", {}))
    raise TypeError(f"regularizer: expected a name, dict or Regularizer; got {identifier!r}")


def serialize(reg: Regularizer) -> dict:
    return {"class_name": type(reg).__name__, "config": reg.get_config()}
