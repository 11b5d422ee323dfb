"""Weight constraints, applied right after each optimizer update: ``w <- c(w)``."""
from __future__ import annotations

from typing import Any

from .backend import xp
from .utils.naming import closest


class Constraint:
    def __call__(self, w: Any) -> Any:
        return w

    def get_config(self) -> dict:
        return {}


class NonNeg(Constraint):
    """w <- max(w, 0)."""

    def __call__(self, w):
        return xp.maximum(w, 0)


class MaxNorm(Constraint):
    """Rescale each slice along `axis` whose L2 norm exceeds max_value."""

    def __init__(self, max_value: float = 2.0, axis: int = 0):
        self.max_value, self.axis = max_value, axis

    def __call__(self, w):
        norms = xp.sqrt((w * w).sum(axis=self.axis, keepdims=True))
        return w * (xp.clip(norms, 0, self.max_value) / (norms + 1e-7))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class UnitNorm(Constraint):
    def __init__(self, axis: int = 0):
        self.axis = axis

    def __call__(self, w):
        return w / (xp.sqrt((w * w).sum(axis=self.axis, keepdims=True)) + 1e-7)

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    def __init__(self, min_value: float = 0.0, max_value: float = 1.0, rate: float = 1.0,
                 axis: int = 0):
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, w):
        norms = xp.sqrt((w * w).sum(axis=self.axis, keepdims=True))
        desired = self.rate * xp.clip(norms, self.min_value, self.max_value) + (1 - self.rate) * norms
        return w * (desired / (norms + 1e-7))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
                "axis": self.axis}


_CLASSES = {"NonNeg": NonNeg, "MaxNorm": MaxNorm, "UnitNorm": UnitNorm, "MinMaxNorm": MinMaxNorm,
            "non_neg": NonNeg, "max_norm": MaxNorm, "unit_norm": UnitNorm,
            "min_max_norm": MinMaxNorm}
non_neg, max_norm, unit_norm, min_max_norm = NonNeg, MaxNorm, UnitNorm, MinMaxNorm


def get(identifier: Any) -> Constraint | None:
    if identifier is None or isinstance(identifier, Constraint):
        return identifier
    if isinstance(identifier, str):
        if identifier not in _CLASSES:
            raise ValueError(f"Unknown constraint {identifier!r}. {closest(identifier, _CLASSES)}")
        return _CLASSES[identifier]()
    if isinstance(identifier, dict):
        return _CLASSES[identifier["class_name"]](**identifier.get("config", {}))
    if callable(identifier):
        return identifier
    raise TypeError(f"constraint: expected a name, dict or Constraint; got {identifier!r}")


def serialize(c: Constraint) -> dict:
    return {"class_name": type(c).__name__, "config": c.get_config()}
