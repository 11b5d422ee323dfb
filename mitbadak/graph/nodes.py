"""The two simplest nodes of a computational graph: multiply and add.

Each node computes its output in ``forward`` and, in ``backward``, turns the gradient of
the final result with respect to its output (``dout``) into gradients with respect to
its inputs, by the chain rule: upstream gradient × local derivative.

    z = x·y:   ∂z/∂x = y,  ∂z/∂y = x   ->  dx = dout·y,  dy = dout·x   (the inputs swap)
    z = x + y: ∂z/∂x = 1,  ∂z/∂y = 1   ->  dx = dout,    dy = dout     (passed through)

x and y may be numbers or arrays of one shape (elementwise).
"""
from __future__ import annotations

from typing import Any

from .errors import ForwardNotCalledError


class MulLayer:
    """z = x·y. ``forward(x, y) -> z``; ``backward(dout) -> (dout·y, dout·x)``."""

    def __init__(self) -> None:
        self.x = None  # backward needs both inputs: each one is the other's local derivative
        self.y = None

    def forward(self, x: Any, y: Any) -> Any:
        self.x, self.y = x, y
        return x * y

    def backward(self, dout: Any) -> tuple[Any, Any]:
        if self.x is None:
            raise ForwardNotCalledError("MulLayer")
        dx = dout * self.y
        dy = dout * self.x
        return dx, dy


class AddLayer:
    """z = x + y. ``forward(x, y) -> z``; ``backward(dout) -> (dout, dout)``."""

    def __init__(self) -> None:
        pass  # nothing to remember: the local derivatives are always 1

    def forward(self, x: Any, y: Any) -> Any:
        return x + y

    def backward(self, dout: Any) -> tuple[Any, Any]:
        dx = dout * 1  # `* 1` makes new objects, so the caller never gets its own dout back
        dy = dout * 1
        return dx, dy
