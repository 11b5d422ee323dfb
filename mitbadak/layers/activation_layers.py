"""Activation layers: ReLU, LeakyReLU, PReLU, ELU, Softmax, Identity.

Each is an activation function as a layer of its own (``layers.LeakyReLU(0.2)`` after a
Dense without activation), with Keras's arguments. Any shape in, the same shape out.

    ReLU:      y = min(x, max_value)        for x >= threshold (x > threshold when threshold > 0)
               y = negative_slope·(x − threshold)   below it
    LeakyReLU: y = x for x > 0, negative_slope·x otherwise (Keras 3's default slope 0.3)
    PReLU:     the same with a learned slope per position: y = x for x > 0, alpha·x otherwise
    ELU:       y = x for x > 0, alpha·(eˣ − 1) otherwise
    Softmax:   y = e^(x − max) / Σ e^(x − max) along `axis`
"""
from __future__ import annotations

import warnings
from typing import Any

from ..backend import xp
from .layer import Layer
from .options import options_config, set_options


class ReLU(Layer):
    """Rectified linear unit with Keras's optional ceiling, negative slope and threshold.

    ``ReLU()`` is max(x, 0); ``ReLU(max_value=6)`` is ReLU6; ``ReLU(negative_slope=0.1)`` leaks.
    dy/dx is 1 between threshold and max_value, negative_slope below the threshold, 0 above
    max_value.
    """

    supports_masking = True

    def __init__(self, max_value: float | None = None, negative_slope: float = 0.0,
                 threshold: float = 0.0, **kwargs: Any):
        super().__init__(**kwargs)
        for arg, value in (("max_value", max_value), ("negative_slope", negative_slope),
                           ("threshold", threshold)):
            if (value is None and arg != "max_value") or (value is not None and value < 0):
                raise ValueError(f"ReLU {self.name!r}: {arg} must be a number >= 0"
                                 f"{' or None' if arg == 'max_value' else ''}; got {value!r}.")
        self.max_value, self.negative_slope, self.threshold = max_value, negative_slope, threshold

    def forward(self, x, training=False):
        t, s = self.threshold, self.negative_slope
        # Keras: x passes when x > threshold (x >= 0 for threshold 0: same value at 0).
        self.passes = x > t
        y = xp.where(self.passes, x, 0).astype(x.dtype)
        if self.max_value is not None:
            self.capped = y > self.max_value
            y = xp.minimum(y, xp.asarray(self.max_value, dtype=x.dtype))
        if s != 0:
            y = y + xp.where(self.passes, 0, s * (x - t)).astype(x.dtype)
        return y

    def backward(self, dy):
        slope = xp.where(self.passes, 1.0, self.negative_slope).astype(dy.dtype)
        if self.max_value is not None:
            slope[self.capped] = 0
        return dy * slope

    def get_config(self):
        return {**super().get_config(), "max_value": self.max_value,
                "negative_slope": self.negative_slope, "threshold": self.threshold}


class LeakyReLU(Layer):
    """y = x for x > 0, negative_slope·x otherwise. Keras 3's default slope is 0.3 (the
    ``leaky_relu`` activation function's is 0.2); ``alpha=`` is the tf.keras 2.x name."""

    supports_masking = True

    def __init__(self, negative_slope: float = 0.3, alpha: float | None = None, **kwargs: Any):
        if alpha is not None:          # tf.keras 2.x's name (and its .h5 configs)
            negative_slope = alpha
            warnings.warn("LeakyReLU: argument `alpha` is deprecated (Keras 3); use "
                          "`negative_slope` instead.", stacklevel=2)
        super().__init__(**kwargs)
        if negative_slope is None or negative_slope < 0:
            raise ValueError(f"LeakyReLU {self.name!r}: negative_slope must be a number >= 0; "
                             f"got {negative_slope!r}.")
        self.negative_slope = negative_slope

    def forward(self, x, training=False):
        self.positive = x > 0
        return xp.where(self.positive, x, x * xp.asarray(self.negative_slope, dtype=x.dtype))

    def backward(self, dy):
        return dy * xp.where(self.positive, 1.0, self.negative_slope).astype(dy.dtype)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


class PReLU(Layer):
    """Leaky ReLU whose slope ``alpha`` is learned, one per input position (batch axis
    excluded); ``shared_axes=[1, 2]`` shares one slope over height and width (one per channel).

    x (batch, *d) -> y, same shape; alpha: d with the shared axes set to 1.
    dL/dalpha = Σ dy·min(x, 0) over the batch and the shared axes; dL/dx = dy·(1 or alpha).
    """

    supports_masking = True

    def __init__(self, alpha_initializer: Any = "Zeros", alpha_regularizer: Any = None,
                 alpha_constraint: Any = None, shared_axes: Any = None, **kwargs: Any):
        super().__init__(**kwargs)
        set_options(self, alpha_initializer=alpha_initializer,
                    alpha_regularizer=alpha_regularizer, alpha_constraint=alpha_constraint)
        if shared_axes is None:
            self.shared_axes = None
        else:
            axes = list(shared_axes) if isinstance(shared_axes, (list, tuple)) else [shared_axes]
            if not all(isinstance(a, int) and a >= 1 for a in axes):
                raise ValueError(f"PReLU {self.name!r}: shared_axes are axes of the input "
                                 f"counted from 1 (axis 0 is the batch); got {shared_axes!r}.")
            self.shared_axes = axes

    def build(self, input_shape):
        shape = list(input_shape[1:])
        for a in self.shared_axes or ():
            if a > len(shape):
                raise ValueError(f"PReLU {self.name!r}: shared axis {a} does not exist in an "
                                 f"input of shape {tuple(input_shape)}.")
            shape[a - 1] = 1
        if any(d is None for d in shape):
            raise ValueError(f"PReLU {self.name!r}: every non-shared axis needs a known size; "
                             f"got input shape {tuple(input_shape)}. Share the unknown axes "
                             f"(shared_axes=[...]).")
        self.alpha = self.add_weight("alpha", tuple(shape), self.alpha_initializer,
                                     regularizer=self.alpha_regularizer,
                                     constraint=self.alpha_constraint)

    def forward(self, x, training=False):
        self.x = x
        return xp.where(x > 0, x, self.alpha * x)

    def backward(self, dy):
        x = self.x
        negative = xp.minimum(x, 0)
        # Sum over the batch axis and over every axis the slope is shared along.
        axes = (0,) + tuple(self.shared_axes or ())
        self.grads["alpha"] = (dy * negative).sum(axis=axes, keepdims=True)[0]
        return dy * xp.where(x > 0, 1, self.alpha).astype(dy.dtype)

    def get_config(self):
        return {**super().get_config(),
                **options_config(self, ("alpha_initializer", "alpha_regularizer",
                                        "alpha_constraint")),
                "shared_axes": self.shared_axes}


class ELU(Layer):
    """Exponential linear unit: y = x for x > 0, alpha·(eˣ − 1) otherwise;
    dy/dx = 1 for x > 0, alpha·eˣ = y + alpha otherwise."""

    supports_masking = True

    def __init__(self, alpha: float = 1.0, **kwargs: Any):
        super().__init__(**kwargs)
        self.alpha = alpha

    def forward(self, x, training=False):
        self.positive = x > 0
        self.y = xp.where(self.positive, x, self.alpha * xp.expm1(xp.minimum(x, 0)))
        return self.y

    def backward(self, dy):
        return dy * xp.where(self.positive, 1, self.y + self.alpha).astype(dy.dtype)

    def get_config(self):
        # Keras 3 writes no `alpha` into the config (it is lost on reload); mitbadak keeps it.
        return {**super().get_config(), "alpha": self.alpha}


class Softmax(Layer):
    """Softmax along ``axis`` (an int or a tuple of axes; default the last).

    With ``mask`` (broadcastable to x, True = keep), masked positions get probability 0, as
    in Keras: ``Softmax()(scores, mask=mask)``. Backward is the Jacobian-vector product
    ``dx = y·(dy − Σ dy·y)`` over the softmax axes.
    """

    supports_masking = True

    def __init__(self, axis: Any = -1, **kwargs: Any):
        super().__init__(**kwargs)
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else axis

    def _axes(self):
        return tuple(self.axis) if isinstance(self.axis, list) else self.axis

    def forward(self, x, training=False, mask=None):
        axes = self._axes()
        self.mask = None
        if mask is not None:
            mask = xp.asarray(mask)
            if mask.ndim > x.ndim or any(m != 1 and m != i for m, i in
                                         zip(mask.shape[::-1], x.shape[::-1])):
                raise ValueError(f"Softmax {self.name!r}: the mask must be broadcastable to the "
                                 f"inputs; got inputs {x.shape} and mask {mask.shape}.")
            self.mask = mask if mask.dtype == bool else mask > 0.5
            x = xp.where(self.mask, x, xp.asarray(-1e9, dtype=x.dtype))
        e = xp.exp(x - x.max(axis=axes, keepdims=True))
        y = e / e.sum(axis=axes, keepdims=True)
        if self.mask is not None:
            y = xp.where(self.mask, y, 0).astype(x.dtype)
        self.y = y
        return y

    def backward(self, dy):
        y = self.y
        dx = y * (dy - (dy * y).sum(axis=self._axes(), keepdims=True))
        return dx if self.mask is None else xp.where(self.mask, dx, 0).astype(dx.dtype)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class Identity(Layer):
    """y = x; dy passes back unchanged. A placeholder where a layer is expected."""

    supports_masking = True

    def forward(self, x, training=False):
        return x

    def backward(self, dy):
        return dy


__all__ = ["ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax", "Identity"]
