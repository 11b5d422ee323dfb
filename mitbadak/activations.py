"""Activation functions, each with the derivative a layer's backward needs.

Every activation ``f`` is a plain function of an array (as in Keras) and carries
``f.backward(x, y, dy) -> dx``: given the input ``x``, the output ``y = f(x)`` and the
upstream gradient ``dy``, it returns ``dy * f'(x)`` (softmax: the Jacobian-vector product).
Shapes: ``x``, ``y``, ``dy`` and ``dx`` all have the same shape.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy

from . import backend
from .backend import cached_scalar as _const, rows_of_512 as _rows_of_512, xp
from .utils.naming import closest

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_SELU_ALPHA = 1.6732632423543772
_SELU_SCALE = 1.0507009873554805


def _register(backward: Callable) -> Callable:
    """Attach the derivative to its function: ``relu.backward(x, y, dy)``."""
    def wrap(f: Callable) -> Callable:
        f.backward = backward
        return f
    return wrap


@_register(lambda x, y, dy: dy)
def linear(x: Any) -> Any:
    """f(x) = x."""
    return x


def _max0(x: Any, out: Any = None) -> Any:
    """max(x, 0), into `out` if given. NumPy's maximum against the scalar 0 takes a slow loop;
    against a row of zeros it runs vectorised, 2-3x faster. So a big contiguous x is seen as
    rows of 512 numbers and compared with one cached row of 512 zeros."""
    rows = _rows_of_512(x)
    if rows is None or (out is not None and not out.flags.c_contiguous):
        return xp.maximum(x, 0, out=out)
    zeros = _ZERO_ROWS.get(x.dtype)
    if zeros is None:
        zeros = _ZERO_ROWS[x.dtype] = numpy.zeros(512, dtype=x.dtype)
    y = xp.maximum(rows, zeros, out=None if out is None else out.reshape(rows.shape))
    return y.reshape(x.shape)


_ZERO_ROWS: dict = {}


@_register(lambda x, y, dy: dy * (y > 0))
def relu(x: Any, negative_slope: float = 0.0, max_value: float | None = None,
         threshold: float = 0.0) -> Any:
    """max(x, 0); Keras's optional negative slope, ceiling and threshold are honoured."""
    if negative_slope == 0 and max_value is None and threshold == 0:
        return _max0(x)
    y = xp.where(x >= threshold, x, negative_slope * (x - threshold))
    return y if max_value is None else xp.minimum(y, max_value)


# relu's backward reads only y, so a layer may write y over x (saves a big array's pass).
relu.overwrite = lambda x: _max0(x, out=x)


def apply_overwriting(f: Callable, x: Any) -> Any:
    """f(x), written over x when f allows it (``f.overwrite``: relu); x is then lost."""
    overwrite = getattr(f, "overwrite", None)
    return f(x) if overwrite is None else overwrite(x)


@_register(lambda x, y, dy: dy * ((x > 0) & (x < 6)))
def relu6(x: Any) -> Any:
    """min(max(x, 0), 6)."""
    return xp.clip(x, 0, 6)


def _sigmoid_backward(x, y, dy):
    return dy * y * (_const(1.0, y.dtype) - y)


@_register(_sigmoid_backward)
def sigmoid(x: Any) -> Any:
    """1 / (1 + e^-x). e^-x is capped (e^80 in float32) so it never overflows; the
    result for very negative x is then ~1e-35 instead of a smaller denormal.
    Small arrays use the equal form ½·tanh(x/2) + ½: one NumPy call fewer."""
    if x.size <= 1024:
        half = _const(0.5, x.dtype)
        y = xp.tanh(x * half)
        y *= half
        y += half
        return y
    y = xp.negative(x)
    xp.minimum(y, 80.0 if x.dtype.itemsize <= 4 else 700.0, out=y)
    xp.exp(y, out=y)
    y += 1
    return xp.reciprocal(y, out=y)


@_register(lambda x, y, dy: dy * (1 - y * y))
def tanh(x: Any) -> Any:
    return xp.tanh(x)


def _softmax_backward(x, y, dy):
    # Jacobian-vector product of softmax: y * (dy - sum(dy * y)).
    return y * (dy - (dy * y).sum(axis=-1, keepdims=True))


@_register(_softmax_backward)
def softmax(x: Any, axis: int = -1) -> Any:
    """exp(x - max) / sum(exp(x - max)) along `axis` (the last by default)."""
    e = xp.exp(x - x.max(axis=axis, keepdims=True))
    e /= e.sum(axis=axis, keepdims=True)
    return e


@_register(lambda x, y, dy: dy - xp.exp(y) * dy.sum(axis=-1, keepdims=True))
def log_softmax(x: Any, axis: int = -1) -> Any:
    z = x - x.max(axis=axis, keepdims=True)
    return z - xp.log(xp.exp(z).sum(axis=axis, keepdims=True))


@_register(lambda x, y, dy: dy * xp.where(x > 0, 1, 0.2).astype(dy.dtype))
def leaky_relu(x: Any, negative_slope: float = 0.2) -> Any:
    """x for x > 0, negative_slope·x otherwise (Keras's default slope is 0.2)."""
    return xp.where(x > 0, x, x * negative_slope)


@_register(lambda x, y, dy: dy * xp.where(x > 0, 1, y + 1).astype(dy.dtype))
def elu(x: Any, alpha: float = 1.0) -> Any:
    """x for x > 0, alpha·(e^x − 1) otherwise."""
    return xp.where(x > 0, x, alpha * xp.expm1(xp.minimum(x, 0)))


@_register(lambda x, y, dy: dy * xp.where(x > 0, _SELU_SCALE,
                                          y + _SELU_SCALE * _SELU_ALPHA).astype(dy.dtype))
def selu(x: Any) -> Any:
    """scale·elu(x, alpha) with the self-normalising constants."""
    return _SELU_SCALE * xp.where(x > 0, x, _SELU_ALPHA * xp.expm1(xp.minimum(x, 0)))


@_register(lambda x, y, dy: dy * sigmoid(x))
def softplus(x: Any) -> Any:
    """log(1 + e^x), stable for large |x|."""
    return xp.logaddexp(x, 0).astype(x.dtype, copy=False)


@_register(lambda x, y, dy: dy / (1 + xp.abs(x)) ** 2)
def softsign(x: Any) -> Any:
    return x / (1 + xp.abs(x))


def _swish_backward(x, y, dy):
    s = sigmoid(x)
    return dy * (s + y * (1 - s))


@_register(_swish_backward)
def silu(x: Any) -> Any:
    """x·sigmoid(x) (also called swish)."""
    return x * sigmoid(x)


swish = silu


def _erf(x):
    """erf, vectorised: exact (math.erf) in float64, Abramowitz-Stegun 7.1.26 (|err| < 1.5e-7,
    below float32's resolution) otherwise. NumPy has no erf of its own."""
    if x.dtype == xp.float64:
        return _erf64(x).astype(xp.float64)
    a = xp.abs(x)
    t = 1 / (1 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return xp.sign(x) * (1 - poly * xp.exp(-a * a))


_erf64 = __import__("numpy").frompyfunc(math.erf, 1, 1)


def _gelu_backward(x, y, dy, approximate=False):
    if approximate:     # d/dx of 0.5·x·(1 + tanh(u)), u = √(2/π)·(x + 0.044715·x³)
        t = xp.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x ** 3))
        du = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
        return dy * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du)
    cdf = 0.5 * (1 + _erf(x * (1 / math.sqrt(2))))
    pdf = xp.exp(-0.5 * x * x) * (1 / math.sqrt(2 * math.pi))
    return dy * (cdf + x * pdf)


@_register(_gelu_backward)
def gelu(x: Any, approximate: bool = False) -> Any:
    """x·Φ(x), Φ the standard normal CDF (Keras's default, approximate=False).

    approximate=True gives the tanh form 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
    """
    if approximate:
        return 0.5 * x * (1 + xp.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x ** 3)))
    return x * (0.5 * (1 + _erf(x * (1 / math.sqrt(2)))))


@_register(lambda x, y, dy: dy * ((x > -3) & (x < 3)) / 6)
def hard_sigmoid(x: Any) -> Any:
    """relu6(x + 3) / 6 (Keras 3's definition)."""
    return xp.clip(x + 3, 0, 6) / 6


@_register(lambda x, y, dy: dy * y)
def exponential(x: Any) -> Any:
    return xp.exp(x)


_ALL = {f.__name__: f for f in (linear, relu, relu6, sigmoid, tanh, softmax, log_softmax,
                                leaky_relu, elu, selu, softplus, softsign, silu, gelu,
                                hard_sigmoid, exponential)}
_ALL["swish"] = silu


def get(identifier: Any) -> Callable:
    """'relu' -> relu; None -> linear; a callable is returned as it is."""
    if identifier is None:
        return linear
    if isinstance(identifier, dict):        # a serialized activation {"class_name": ..., ...}
        identifier = identifier.get("config", identifier.get("class_name"))
    if isinstance(identifier, str):
        if identifier in _ALL:
            return _ALL[identifier]
        raise ValueError(f"Unknown activation {identifier!r}. "
                         f"{closest(identifier, _ALL)}Valid names: {', '.join(sorted(_ALL))}.")
    if callable(identifier):
        if not hasattr(identifier, "backward"):
            identifier = _with_numerical_backward(identifier)
        return identifier
    raise TypeError(f"activation: expected a name or a function; got {type(identifier).__name__}")


def serialize(f: Callable) -> str:
    """The Keras name of an activation: relu -> 'relu'."""
    name = getattr(f, "__name__", str(f))
    return "swish" if f is silu and name == "swish" else name


def deserialize(name: Any) -> Callable:
    return get(name)


def _with_numerical_backward(f: Callable) -> Callable:
    """A user function without `.backward` gets an elementwise central-difference derivative.

    Valid for elementwise activations only (the usual case); a learner who needs more
    writes `f.backward = lambda x, y, dy: ...`.
    """
    def wrapped(x):
        return f(x)

    def backward(x, y, dy):
        h = 1e-3 if x.dtype == xp.float32 else 1e-6
        return dy * (f(x + h) - f(x - h)) / (2 * h)

    wrapped.__name__ = getattr(f, "__name__", "custom_activation")
    wrapped.backward = backward
    wrapped.__wrapped__ = f
    return wrapped


__all__ = sorted(_ALL) + ["get", "serialize", "deserialize"]
del backend
