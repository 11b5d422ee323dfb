"""Logic gates as perceptrons with hand-picked weights, and why XOR needs two layers.

Each gate is ``y = 1 if w1·x1 + w2·x2 + b > 0 else 0``; only (w1, w2, b) differ. The
inputs may be scalars (the result is an int) or arrays of the same shape (the result is
an int array of that shape), so ``AND(np.array([0, 1]), np.array([1, 1]))`` gives
``array([0, 1])``.

XOR is not linearly separable, so no single perceptron computes it, but two layers do:
``XOR(x1, x2) = AND(NAND(x1, x2), OR(x1, x2))``.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .perceptron import Perceptron, ShapeError

Gate = Callable[[Any, Any], Any]


def _fire(x1: Any, x2: Any, w1: float, w2: float, b: float) -> Any:
    """step(w1·x1 + w2·x2 + b): an int for scalar inputs, an int array otherwise."""
    try:
        x1, x2 = np.asarray(x1, dtype=np.float64), np.asarray(x2, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise TypeError(f"x1, x2: expected numbers or arrays of numbers; got "
                        f"{type(x1).__name__} and {type(x2).__name__}. Hint: use 0 and 1.") from e
    try:
        a = w1 * x1 + w2 * x2 + b
    except ValueError as e:
        raise ShapeError(f"x1, x2: expected the same shape (or broadcastable); got {x1.shape} "
                         f"and {x2.shape}. Hint: pass two arrays of equal length.") from e
    y = (a > 0).astype(np.int64)
    return int(y) if y.ndim == 0 else y


def AND(x1: Any, x2: Any) -> Any:
    """1 only when both inputs are 1: w = (0.5, 0.5), b = −0.7."""
    return _fire(x1, x2, 0.5, 0.5, -0.7)


def NAND(x1: Any, x2: Any) -> Any:
    """NOT AND: every weight and the bias of AND with the sign flipped."""
    return _fire(x1, x2, -0.5, -0.5, 0.7)


def OR(x1: Any, x2: Any) -> Any:
    """1 when at least one input is 1: w = (0.5, 0.5), b = −0.2."""
    return _fire(x1, x2, 0.5, 0.5, -0.2)


def NOR(x1: Any, x2: Any) -> Any:
    """NOT OR: every weight and the bias of OR with the sign flipped."""
    return _fire(x1, x2, -0.5, -0.5, 0.2)


def XOR(x1: Any, x2: Any) -> Any:
    """1 when exactly one input is 1: a two-layer perceptron, AND(NAND, OR)."""
    s1 = NAND(x1, x2)  # first layer: two perceptrons side by side
    s2 = OR(x1, x2)
    return AND(s1, s2)  # second layer


INPUTS = ((0, 0), (0, 1), (1, 0), (1, 1))  # every input of a two-input gate, in table order


def truth_table(gate: Gate, show: bool = False) -> list[tuple[int, int, int]]:
    """The rows (x1, x2, gate(x1, x2)) for the four inputs; printed as a table if ``show``."""
    if not callable(gate):
        raise TypeError(f"gate: expected a function of two inputs such as AND; got "
                        f"{type(gate).__name__}. Hint: pass the function itself, AND not AND(0, 1).")
    rows = [(x1, x2, int(gate(x1, x2))) for x1, x2 in INPUTS]
    if show:
        name = getattr(gate, "__name__", "y")
        print(f"x1 x2 | {name}")
        for x1, x2, y in rows:
            print(f"{x1:>2} {x2:>2} | {y:>{len(name)}}")
    return rows


def perceptron_cannot_learn_xor(epochs: int = 100, learning_rate: float = 0.1) -> list[int]:
    """Train one ``Perceptron`` on XOR; return its mistakes per epoch (never reaching 0).

    An epoch with no mistake would mean one line w·x + b = 0 separates (0,1), (1,0) from
    (0,0), (1,1), and no line does; so every entry is at least 1.
    """
    X = np.array(INPUTS, dtype=np.float64)
    t = np.array([0, 1, 1, 0])
    model = Perceptron(learning_rate=learning_rate, epochs=epochs).fit(X, t)
    return model.errors_
