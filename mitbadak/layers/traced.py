"""Following the gradient of a plain NumPy function: what lets a ``Lambda`` layer train.

A Lambda layer runs a function the user wrote (``lambda x: x / 255.0``,
``lambda t: np.abs(t[0] - t[1])``). mitbadak has no automatic differentiation, so to run the
layer backward we record what the function did: its input is wrapped in a ``Traced`` array,
every NumPy operation on it (operators, ufuncs such as ``np.exp``, functions such as
``np.sum`` or ``np.concatenate``, indexing, reshaping) is computed on the plain values and
noted with its local derivative, and backward walks that record in reverse, as the
computational graph of the notes' chapter 5 does.

Only operations with a known derivative are followed. Anything else (an unknown NumPy
function, ``np.asarray(x)`` or ``float(x)``, which turn the input into untracked numbers)
still computes the forward value, but the backward pass then raises an error naming what
broke the chain, never a wrong gradient.

    out, tape = trace(fn, x)            # out: plain arrays; tape: the record
    dx = tape.backward(dout)            # dL/dx for dL/dout
"""
from __future__ import annotations

import heapq
import itertools
from typing import Any, Callable

import numpy

from ..backend import xp

_ids = itertools.count()


class NotDifferentiable(ValueError):
    """The function did something whose derivative mitbadak does not know."""


class Tape:
    """The record of one traced call: every Traced made during it, and any escape."""

    def __init__(self):
        self.escaped: str | None = None
        self._list_input = False
        self.inputs: list = []
        self.outputs: Any = None

    def backward(self, dout: Any) -> Any:
        """dL/d(inputs) (same structure as the traced inputs) for dL/d(outputs)."""
        if self.escaped:
            raise NotDifferentiable(self.escaped)
        grads: dict[int, Any] = {}
        nodes: dict[int, Traced] = {}
        waiting: list = []                        # a max-heap of node ids (as negatives)
        outs = self.outputs if isinstance(self.outputs, list) else [self.outputs]
        douts = dout if isinstance(self.outputs, list) else [dout]
        for o, g in zip(outs, douts):
            if isinstance(o, Traced) and g is not None:
                _accumulate(grads, nodes, waiting, o, xp.asarray(g))
        # Every node was made after its parents, so the newest waiting node has all its
        # gradient: walking newest first is a valid reverse order.
        while waiting:
            node = nodes[-heapq.heappop(waiting)]
            if node.vjp is None:
                continue                                  # an input
            if node.poisoned:
                raise NotDifferentiable(node.poisoned)
            for parent, pg in zip(node.parents, node.vjp(grads[node.id])):
                if isinstance(parent, Traced) and pg is not None:
                    _accumulate(grads, nodes, waiting, parent, pg)
        result = [grads.get(t.id, xp.zeros_like(t.value)) for t in self.inputs]
        return result if self._list_input else result[0]


def _accumulate(grads: dict, nodes: dict, waiting: list, node: "Traced", g: Any) -> None:
    if node.id in grads:
        grads[node.id] = grads[node.id] + g
    else:
        grads[node.id], nodes[node.id] = g, node
        heapq.heappush(waiting, -node.id)


def trace(fn: Callable, x: Any, **kwargs: Any) -> tuple[Any, Tape]:
    """Run fn on Traced copies of x (an array or a list of arrays): (plain outputs, tape)."""
    tape = Tape()
    tape._list_input = isinstance(x, (list, tuple))
    xs = list(x) if tape._list_input else [x]
    tape.inputs = [Traced(v, tape) for v in xs]
    out = fn(tape.inputs if tape._list_input else tape.inputs[0], **kwargs)
    if isinstance(out, (list, tuple)):
        tape.outputs = list(out)
        plain = [_value(o) for o in out]
    else:
        tape.outputs = out
        plain = _value(out)
    return plain, tape


def _value(a: Any) -> Any:
    return a.value if isinstance(a, Traced) else a


def _plain(obj: Any) -> Any:
    """Traced -> its value, inside lists and tuples too."""
    if isinstance(obj, Traced):
        return obj.value
    if isinstance(obj, (list, tuple)):
        return type(obj)(_plain(o) for o in obj)
    return obj


def _tape_of(objs: Any) -> Tape | None:
    for o in objs:
        if isinstance(o, Traced):
            return o.tape
        if isinstance(o, (list, tuple)):
            found = _tape_of(o)
            if found is not None:
                return found
    return None


def unbroadcast(g: Any, shape: tuple) -> Any:
    """Sum g over the axes NumPy broadcast to reach g.shape from `shape`."""
    if g.shape == tuple(shape):
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, n in enumerate(shape)
                                      if n == 1 and g.shape[i + lead] != 1)
    g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape)


class Traced:
    """An array whose operations are recorded. ``.value`` is the plain array."""

    __array_priority__ = 1000

    def __init__(self, value: Any, tape: Tape, parents: tuple = (), vjp: Callable | None = None,
                 poisoned: str | None = None):
        self.value, self.tape, self.parents = value, tape, parents
        self.vjp, self.poisoned = vjp, poisoned
        self.id = next(_ids)

    # ------------------------------------------------------------- array attributes
    shape = property(lambda self: self.value.shape)
    ndim = property(lambda self: self.value.ndim)
    dtype = property(lambda self: self.value.dtype)
    size = property(lambda self: self.value.size)
    T = property(lambda self: numpy.transpose(self))

    def __len__(self):
        return len(self.value)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __repr__(self):
        return f"Traced({self.value!r})"

    # ------------------------------------------------------------- escapes
    def _escape(self, how: str) -> None:
        self.tape.escaped = (
            f"the function turned its input into untracked numbers ({how}), so mitbadak "
            f"cannot follow its gradient. Write it with NumPy operations on the array itself "
            f"(x * 2, np.exp(x), np.sum(x, axis=1), x[:, 0], ...), or write a Layer subclass "
            f"with forward and backward.")

    def __array__(self, dtype=None, copy=None):
        self._escape("np.asarray / np.array")
        return self.value if dtype is None else self.value.astype(dtype)

    def __float__(self):
        self._escape("float()")
        return float(self.value)

    def __int__(self):
        self._escape("int()")
        return int(self.value)

    def __index__(self):
        self._escape("use as an index")
        return int(self.value)

    def __bool__(self):
        return bool(self.value)

    # ------------------------------------------------------------- operators
    def __add__(self, o): return numpy.add(self, o)
    def __radd__(self, o): return numpy.add(o, self)
    def __sub__(self, o): return numpy.subtract(self, o)
    def __rsub__(self, o): return numpy.subtract(o, self)
    def __mul__(self, o): return numpy.multiply(self, o)
    def __rmul__(self, o): return numpy.multiply(o, self)
    def __truediv__(self, o): return numpy.true_divide(self, o)
    def __rtruediv__(self, o): return numpy.true_divide(o, self)
    def __pow__(self, o): return numpy.power(self, o)
    def __rpow__(self, o): return numpy.power(o, self)
    def __matmul__(self, o): return numpy.matmul(self, o)
    def __rmatmul__(self, o): return numpy.matmul(o, self)
    def __neg__(self): return numpy.negative(self)
    def __pos__(self): return self
    def __abs__(self): return numpy.absolute(self)
    def __gt__(self, o): return numpy.greater(self, o)
    def __ge__(self, o): return numpy.greater_equal(self, o)
    def __lt__(self, o): return numpy.less(self, o)
    def __le__(self, o): return numpy.less_equal(self, o)
    def __eq__(self, o): return numpy.equal(self, o)
    def __ne__(self, o): return numpy.not_equal(self, o)
    __hash__ = object.__hash__

    def __getitem__(self, key):
        key = _plain(key)
        value = self.value[key]
        basic = all(isinstance(k, (int, slice, type(None), type(Ellipsis)))
                    for k in (key if isinstance(key, tuple) else (key,)))

        def vjp(g):
            dx = xp.zeros_like(self.value)
            if basic:
                dx[key] += g
            else:
                xp.add.at(dx, key, g)     # repeated indices add up
            return (dx,)
        return Traced(value, self.tape, (self,), vjp)

    # ------------------------------------------------------------- methods
    def sum(self, *a, **k): return numpy.sum(self, *a, **k)
    def mean(self, *a, **k): return numpy.mean(self, *a, **k)
    def max(self, *a, **k): return numpy.max(self, *a, **k)
    def min(self, *a, **k): return numpy.min(self, *a, **k)
    def var(self, *a, **k): return numpy.var(self, *a, **k)
    def std(self, *a, **k): return numpy.std(self, *a, **k)
    def clip(self, *a, **k): return numpy.clip(self, *a, **k)
    def dot(self, o): return numpy.dot(self, o)
    def squeeze(self, *a, **k): return numpy.squeeze(self, *a, **k)
    def swapaxes(self, a, b): return numpy.swapaxes(self, a, b)
    def ravel(self): return numpy.ravel(self)
    flatten = ravel

    def reshape(self, *shape, **k):
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        return numpy.reshape(self, shape, **k)

    def transpose(self, *axes):
        axes = axes[0] if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
        return numpy.transpose(self, axes or None)

    def astype(self, dtype, **k):
        return Traced(self.value.astype(dtype, **k), self.tape, (self,),
                      lambda g: (g.astype(self.value.dtype),))

    def copy(self):
        return Traced(self.value.copy(), self.tape, (self,), lambda g: (g,))

    # ------------------------------------------------------------- NumPy protocols
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        tape = _tape_of(inputs)
        plain = [_plain(i) for i in inputs]
        if kwargs.get("out") is not None:
            kwargs["out"] = _plain(kwargs["out"])
            self._escape(f"np.{ufunc.__name__}(..., out=...)")
        value = getattr(ufunc, method)(*plain, **kwargs)
        if ufunc.__name__ in _NO_GRADIENT:
            return value                                  # booleans, comparisons
        rule = _UFUNC_RULES.get(ufunc.__name__) if method == "__call__" else None
        if ufunc.__name__ in _ZERO_GRADIENT and method == "__call__":
            rule = lambda g, out, *args: [None] * len(args)   # noqa: E731
        return _node(value, tape, inputs, plain, rule, f"np.{ufunc.__name__}"
                     + ("" if method == "__call__" else f".{method}"))

    def __array_function__(self, func, types, args, kwargs):
        tape = _tape_of(args) or _tape_of(list(kwargs.values()))
        plain_args, plain_kwargs = _plain(args), {k: _plain(v) for k, v in kwargs.items()}
        value = func(*plain_args, **plain_kwargs)
        name = getattr(func, "__name__", str(func))
        if func in (numpy.shape, numpy.ndim, numpy.size):
            return value
        rule = _FUNCTION_RULES.get(name)
        if name in ("concatenate", "stack"):
            seq = list(args[0])
            return _node(value, tape, seq, [_plain(s) for s in seq],
                         rule and (lambda g, out, *xs: rule(g, out, xs, plain_kwargs,
                                                            plain_args[1:])),
                         f"np.{name}")
        bound = rule and (lambda g, out, *xs: rule(g, out, xs, plain_kwargs, ()))
        return _node(value, tape, list(args), list(plain_args), bound, f"np.{name}")


def _node(value, tape, inputs, plain, rule, what) -> Any:
    """A Traced result whose parents are the Traced among `inputs`."""
    if isinstance(value, tuple):                      # e.g. np.divmod: not followed
        return value
    parents = tuple(i if isinstance(i, Traced) else None for i in inputs)
    poisoned = None
    if rule is None:
        poisoned = (f"{what} has no gradient mitbadak knows, so a Lambda layer using it cannot "
                    f"train through it. Use other NumPy operations, or write a Layer subclass "
                    f"with forward and backward.")

    def vjp(g):
        return rule(g, value, *plain)
    return Traced(xp.asarray(value), tape, parents, vjp, poisoned)


# ------------------------------------------------------------------ the derivatives
def _b(g, shape):
    return unbroadcast(g, numpy.shape(shape) if not isinstance(shape, tuple) else shape)


def _sh(a):
    return numpy.shape(a)


_UFUNC_RULES: dict[str, Callable] = {
    "add": lambda g, out, a, b: (_b(g, _sh(a)), _b(g, _sh(b))),
    "subtract": lambda g, out, a, b: (_b(g, _sh(a)), _b(-g, _sh(b))),
    "multiply": lambda g, out, a, b: (_b(g * b, _sh(a)), _b(g * a, _sh(b))),
    "true_divide": lambda g, out, a, b: (_b(g / b, _sh(a)), _b(-g * out / b, _sh(b))),
    "negative": lambda g, out, a: (-g,),
    "positive": lambda g, out, a: (g,),
    "square": lambda g, out, a: (2 * a * g,),
    "sqrt": lambda g, out, a: (g / (2 * out),),
    "exp": lambda g, out, a: (g * out,),
    "expm1": lambda g, out, a: (g * (out + 1),),
    "log": lambda g, out, a: (g / a,),
    "log1p": lambda g, out, a: (g / (1 + a),),
    "absolute": lambda g, out, a: (g * numpy.sign(a),),
    "tanh": lambda g, out, a: (g * (1 - out * out),),
    "sin": lambda g, out, a: (g * numpy.cos(a),),
    "cos": lambda g, out, a: (-g * numpy.sin(a),),
    "reciprocal": lambda g, out, a: (-g * out * out,),
    "maximum": lambda g, out, a, b: (_b(g * (a >= b), _sh(a)), _b(g * (a < b), _sh(b))),
    "minimum": lambda g, out, a, b: (_b(g * (a <= b), _sh(a)), _b(g * (a > b), _sh(b))),
    "matmul": lambda g, out, a, b: _matmul_vjp(g, a, b),
}


def _power_vjp(g, out, a, b):
    da = _b(g * b * numpy.power(a, b - 1), _sh(a))
    with numpy.errstate(divide="ignore", invalid="ignore"):
        db = _b(g * out * numpy.log(numpy.where(a > 0, a, 1)), _sh(b))
    return da, db


_UFUNC_RULES["power"] = _power_vjp
_UFUNC_RULES["divide"] = _UFUNC_RULES["true_divide"]

_NO_GRADIENT = {"greater", "greater_equal", "less", "less_equal", "equal", "not_equal",
                "logical_and", "logical_or", "logical_not", "logical_xor", "isnan", "isinf",
                "isfinite", "signbit"}
_ZERO_GRADIENT = {"sign", "floor", "ceil", "rint", "trunc"}


def _matmul_vjp(g, a, b):
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    g2 = g
    if a.ndim == 1:
        g2 = xp.expand_dims(g2, -2)
    if b.ndim == 1:
        g2 = xp.expand_dims(g2, -1)
    da = g2 @ xp.swapaxes(b2, -1, -2)
    db = xp.swapaxes(a2, -1, -2) @ g2
    da = unbroadcast(da, a2.shape).reshape(a.shape)
    db = unbroadcast(db, b2.shape).reshape(b.shape)
    return da, db


def _axes_of(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axis = axis if isinstance(axis, tuple) else (axis,)
    return tuple(a % ndim for a in axis)


def _spread(g, a, axis, keepdims):
    """g of a reduction over `axis` back to a's shape (before scaling)."""
    if not keepdims:
        for ax in sorted(_axes_of(axis, a.ndim)):
            g = xp.expand_dims(g, ax)
    return xp.broadcast_to(g, a.shape)


def _kw(kwargs, rest, name, pos, default=None):
    if name in kwargs:
        return kwargs[name]
    return rest[pos] if len(rest) > pos else default


def _reduce_rule(kind):
    def rule(g, out, xs, kwargs, _):
        a, *rest = xs
        axis, keepdims = _kw(kwargs, rest, "axis", 0), kwargs.get("keepdims", False)
        if kind == "sum":
            return (_spread(g, a, axis, keepdims),)
        count = a.size // max(numpy.size(out), 1)
        if kind == "mean":
            return (_spread(g, a, axis, keepdims) / count,)
        mean = xp.mean(a, axis=axis, keepdims=True)
        ddof = kwargs.get("ddof", 0)
        if kind == "var":
            return (_spread(g, a, axis, keepdims) * 2 * (a - mean) / (count - ddof),)
        std = _spread(out, a, axis, keepdims)         # std
        return (_spread(g, a, axis, keepdims) * (a - mean) / ((count - ddof) * std),)
    return rule


def _extreme_rule(g, out, xs, kwargs, _):
    """max/min: the gradient goes to the extreme entries, shared equally among ties."""
    a, *rest = xs
    axis, keepdims = _kw(kwargs, rest, "axis", 0), kwargs.get("keepdims", False)
    hit = a == _spread(out, a, axis, keepdims)
    share = (hit / hit.sum(axis=axis, keepdims=True)).astype(g.dtype)
    return (_spread(g, a, axis, keepdims) * share,)


def _shape_back(g, out, xs, kwargs, _):
    return (g.reshape(numpy.shape(xs[0])),) + (None,) * (len(xs) - 1)


def _transpose_rule(g, out, xs, kwargs, _):
    a, *rest = xs
    axes = _kw(kwargs, rest, "axes", 0)
    if axes is None:
        return (g.transpose(),)
    return (g.transpose(numpy.argsort(axes)),)


def _moveaxis_rule(g, out, xs, kwargs, _):
    a, src, dst = (list(xs) + [kwargs.get("source"), kwargs.get("destination")])[:3]
    return (xp.moveaxis(g, dst, src), None, None)


def _swapaxes_rule(g, out, xs, kwargs, _):
    return (xp.swapaxes(g, xs[1], xs[2]), None, None)


def _flip_rule(g, out, xs, kwargs, _):
    return (xp.flip(g, axis=_kw(kwargs, xs[1:], "axis", 0)),)


def _broadcast_rule(g, out, xs, kwargs, _):
    return (unbroadcast(g, numpy.shape(xs[0])), None)


def _concatenate_rule(g, out, xs, kwargs, rest):
    axis = _kw(kwargs, rest, "axis", 0, 0)
    if axis is None:
        raise NotDifferentiable("np.concatenate(..., axis=None) is not followed")
    sizes = numpy.cumsum([numpy.shape(x)[axis] for x in xs])[:-1]
    return tuple(xp.split(g, sizes, axis=axis))


def _stack_rule(g, out, xs, kwargs, rest):
    axis = _kw(kwargs, rest, "axis", 0, 0)
    return tuple(xp.take(g, i, axis=axis) for i in range(len(xs)))


def _clip_rule(g, out, xs, kwargs, _):
    a, lo, hi = (list(xs) + [kwargs.get("a_min", kwargs.get("min")),
                             kwargs.get("a_max", kwargs.get("max"))])[:3]
    inside = xp.ones(numpy.shape(a), dtype=bool)
    if lo is not None:
        inside &= a >= lo
    if hi is not None:
        inside &= a <= hi
    return (g * inside, None, None)


def _where_rule(g, out, xs, kwargs, _):
    cond, a, b = xs
    return (None, _b(g * cond, _sh(a)), _b(g * ~xp.asarray(cond, bool), _sh(b)))


def _dot_rule(g, out, xs, kwargs, _):
    a, b = xs
    if numpy.ndim(a) > 2 or numpy.ndim(b) > 2 or numpy.ndim(a) == 0 or numpy.ndim(b) == 0:
        raise NotDifferentiable("np.dot is followed for 1-D and 2-D arrays only; use np.matmul "
                                "(the @ operator) for stacks of matrices.")
    return _matmul_vjp(g, xp.asarray(a), xp.asarray(b))


def _norm_rule(g, out, xs, kwargs, _):
    a, *rest = xs
    ord_ = _kw(kwargs, rest, "ord", 0)
    axis, keepdims = _kw(kwargs, rest, "axis", 1), kwargs.get("keepdims", False)
    if ord_ not in (None, 2, "fro") or (ord_ == 2 and (axis is None or isinstance(axis, tuple))):
        raise NotDifferentiable(f"np.linalg.norm(ord={ord_!r}) is not followed; the Euclidean "
                                f"norm (ord=None) is.")
    return (_spread(g / out, a, axis, keepdims) * a,)


def _pad_rule(g, out, xs, kwargs, _):
    a, pad_width = xs[0], xs[1]
    if kwargs.get("mode", xs[2] if len(xs) > 2 else "constant") != "constant":
        raise NotDifferentiable("np.pad is followed for mode='constant' only.")
    widths = numpy.broadcast_to(numpy.asarray(pad_width), (numpy.ndim(a), 2))
    return (g[tuple(slice(b, g.shape[i] - e) for i, (b, e) in enumerate(widths))],)


_FUNCTION_RULES: dict[str, Callable] = {
    "sum": _reduce_rule("sum"), "mean": _reduce_rule("mean"), "var": _reduce_rule("var"),
    "std": _reduce_rule("std"), "max": _extreme_rule, "amax": _extreme_rule,
    "min": _extreme_rule, "amin": _extreme_rule,
    "reshape": _shape_back, "ravel": _shape_back, "expand_dims": _shape_back,
    "squeeze": _shape_back, "transpose": _transpose_rule, "moveaxis": _moveaxis_rule,
    "swapaxes": _swapaxes_rule, "flip": _flip_rule, "broadcast_to": _broadcast_rule,
    "concatenate": _concatenate_rule, "stack": _stack_rule, "clip": _clip_rule,
    "where": _where_rule, "dot": _dot_rule, "norm": _norm_rule, "pad": _pad_rule,
}
