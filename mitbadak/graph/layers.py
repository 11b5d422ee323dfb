"""Layers as graph nodes: each has ``forward`` and ``backward``, as in the notes.

    Affine:           out = x·W + b        dx = dout·Wᵀ,  dW = xᵀ·dout,  db = Σ_n dout
    Relu:             out = max(0, x)      dx = dout where x > 0, else 0
    Sigmoid:          out = 1/(1 + e^−x)   dx = dout·out·(1 − out)
    SoftmaxWithLoss:  L = CE(softmax(x), t) dx = (y − t)/N

``backward`` never changes the ``dout`` it is given: the same array may also flow into
another branch of the network.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .errors import ForwardNotCalledError, ShapeError
from .functions import as_targets, cross_entropy_error, softmax


def _same_shape(dout: Any, shape: tuple[int, ...], node: str) -> np.ndarray:
    dout = np.asarray(dout)
    if dout.shape != shape:
        raise ShapeError(f"{node}.backward: expected dout of shape {shape} (the forward output's); "
                         f"got {dout.shape}. Hint: pass the gradient of the loss w.r.t. this output.")
    return dout


class Affine:
    """Fully connected: x (N, D) or (N, d1, d2, ...) flattened to (N, D); W (D, M); b (M,).

    forward(x) -> (N, M). backward(dout (N, M)) -> dx of x's original shape, and stores
    ``dW`` (D, M) and ``db`` (M,). W and b are kept by reference, so an optimizer that
    updates them in place updates the layer.
    """

    def __init__(self, W: Any, b: Any) -> None:
        W, b = np.asarray(W), np.asarray(b)
        if W.ndim != 2 or b.shape != (W.shape[-1],):
            raise ShapeError(f"Affine: expected W of shape (D, M) and b of shape (M,); got W {W.shape} "
                             f"and b {b.shape}. Hint: b has one entry per column of W.")
        self.W, self.b = W, b
        self.x = None                 # the flattened input, needed for dW
        self.original_x_shape = None  # to give dx back in the shape x came in
        self.dW = None
        self.db = None

    def forward(self, x: Any) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim < 2 or int(np.prod(x.shape[1:])) != self.W.shape[0]:
            raise ShapeError(f"Affine.forward: expected x of shape (N, {self.W.shape[0]}) (or (N, ...) "
                             f"with {self.W.shape[0]} values per sample); got {x.shape}. "
                             f"Hint: one sample is x.reshape(1, -1).")
        self.original_x_shape = x.shape
        self.x = x.reshape(x.shape[0], -1)
        return self.x @ self.W + self.b

    def backward(self, dout: Any) -> np.ndarray:
        if self.x is None:
            raise ForwardNotCalledError("Affine")
        dout = _same_shape(dout, (self.x.shape[0], self.W.shape[1]), "Affine")
        dx = dout @ self.W.T
        self.dW = self.x.T @ dout
        self.db = np.sum(dout, axis=0)
        return dx.reshape(self.original_x_shape)


class Relu:
    """out = max(0, x), any shape. backward lets dout through only where x > 0."""

    def __init__(self) -> None:
        self.mask = None  # True where x <= 0: those entries output 0 and pass no gradient

    def forward(self, x: Any) -> np.ndarray:
        x = np.asarray(x)
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout: Any) -> np.ndarray:
        if self.mask is None:
            raise ForwardNotCalledError("Relu")
        # The notes write dout[mask] = 0, changing the caller's array: work on a copy.
        dx = _same_shape(dout, self.mask.shape, "Relu").copy()
        dx[self.mask] = 0
        return dx


class Sigmoid:
    """out = 1 / (1 + exp(−x)), any shape. backward: dout·out·(1 − out), from the stored out."""

    def __init__(self) -> None:
        self.out = None

    def forward(self, x: Any) -> np.ndarray:
        # For x < −709, exp(−x) overflows to inf and 1/(1 + inf) = 0 is the right limit: no warning.
        with np.errstate(over="ignore"):
            self.out = 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))
        return self.out

    def backward(self, dout: Any) -> np.ndarray:
        if self.out is None:
            raise ForwardNotCalledError("Sigmoid")
        return _same_shape(dout, self.out.shape, "Sigmoid") * (1.0 - self.out) * self.out


class SoftmaxWithLoss:
    """Softmax then mean cross-entropy. forward(x (N, C), t one-hot (N, C) or indices (N,)) -> L.

    backward(dout=1) -> dx (N, C) = dout·(y − t)/N, y = softmax(x): the two local derivatives
    multiply out to this simple difference, which is why the notes pair them in one layer.
    """

    def __init__(self, epsilon: float = 1e-7) -> None:
        self.epsilon = epsilon
        self.y = None     # softmax output (N, C)
        self.t = None     # targets as given: one-hot (N, C) or indices (N,)
        self.loss = None

    def forward(self, x: Any, t: Any) -> float:
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2:
            raise ShapeError(f"SoftmaxWithLoss.forward: expected scores x of shape (N, C); got "
                             f"{x.shape}. Hint: one sample is x.reshape(1, -1).")
        self.t = as_targets(t, x.shape)
        self.y = softmax(x)
        self.loss = cross_entropy_error(self.y, self.t, self.epsilon)
        return self.loss

    def backward(self, dout: float = 1.0) -> np.ndarray:
        if self.y is None:
            raise ForwardNotCalledError("SoftmaxWithLoss")
        n = self.y.shape[0]
        if self.t.ndim == 2:  # one-hot
            dx = (self.y - self.t) / n
        else:                 # indices: subtracting 1 at the true class is subtracting one-hot t
            dx = self.y.copy()
            dx[np.arange(n), self.t] -= 1
            dx = dx / n
        return dout * dx
