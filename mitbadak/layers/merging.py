"""Merge layers: several tensors in, one out. ``layers.Add()([x, residual])``.

Each is a node with several inputs in the notes' computational graph (chapter 5's AddLayer
and MulLayer, at the scale of whole tensors):

    Add:       y = x₁ + x₂ + ...             dxᵢ = dy
    Subtract:  y = x₁ − x₂                   dx₁ = dy,  dx₂ = −dy
    Multiply:  y = x₁ · x₂ · ...             dxᵢ = dy · Π_{j≠i} xⱼ
    Average:   y = (x₁ + ... + xₙ) / n       dxᵢ = dy / n
    Maximum:   y = max(x₁, ..., xₙ)          dxᵢ = dy where xᵢ was the max (the first on ties)
    Minimum:   y = min(x₁, ..., xₙ)          likewise
    Concatenate(axis): the inputs side by side;  dxᵢ = dy's slice of xᵢ
    Dot(axes): a dot product per sample over one axis of each input

Inputs of different shapes broadcast as in NumPy (a size-1 axis repeats); an input of lower
rank gets size-1 axes after the batch axis, as in Keras. Where an input was broadcast, its
gradient is summed back to its own shape.
"""
from __future__ import annotations

from typing import Any

from ..backend import xp
from .layer import Layer
from .node import shape_str


class Merge(Layer):
    """Base class: a list of tensors in, one out; masks are combined with AND."""

    takes_list = True
    supports_masking = True
    min_inputs = 1

    def build(self, input_shape):
        if not isinstance(input_shape, list) or len(input_shape) < self.min_inputs:
            raise ValueError(f"{type(self).__name__} layer {self.name!r} must be called on a list "
                             f"of at least {self.min_inputs} tensors; got {shape_str(input_shape)}.")
        self.compute_output_shape(input_shape)           # checks the shapes fit together

    def compute_output_shape(self, input_shape):
        rank = max(len(s) for s in input_shape)
        shapes = [_aligned_shape(s, rank) for s in input_shape]
        out = [shapes[0][0]]
        for axis in range(1, rank):
            sizes = {s[axis] for s in shapes if s[axis] is not None and s[axis] != 1}
            if len(sizes) > 1:
                raise ValueError(
                    f"{type(self).__name__} layer {self.name!r}: the inputs' shapes "
                    f"{shape_str(input_shape)} do not fit together at axis {axis} "
                    f"({sorted(sizes)}). Element-wise merges need equal sizes (or 1). To put "
                    f"tensors side by side, use layers.Concatenate().")
            known = [s[axis] for s in shapes if s[axis] is not None]
            out.append(sizes.pop() if sizes else (1 if known and len(known) == len(shapes)
                                                  else None))
        return tuple(out)

    def compute_mask(self, inputs, mask=None):
        if mask is None or all(m is None for m in mask):
            return None
        masks = [m for m in mask if m is not None]
        out = masks[0]
        for m in masks[1:]:
            out = out & m
        return out

    def forward(self, x, training=False):
        rank = max(a.ndim for a in x)
        self.shapes = [a.shape for a in x]
        self.x = [_aligned(a, rank) for a in x]
        self.y = self.merge(self.x)
        return self.y

    def backward(self, dy):
        grads = self.merge_backward(dy)
        return [_unbroadcast(g, s) for g, s in zip(grads, self.shapes)]

    def merge(self, xs: list) -> Any:
        raise NotImplementedError

    def merge_backward(self, dy: Any) -> list:
        raise NotImplementedError


class Add(Merge):
    """y = x₁ + x₂ + ... (a residual connection: ``layers.add([x, residual])``)."""

    def merge(self, xs):
        y = xs[0] + xs[1] if len(xs) > 1 else xs[0].copy()
        for a in xs[2:]:
            y += a
        return y

    def merge_backward(self, dy):
        return [dy] * len(self.x)


class Subtract(Merge):
    """y = x₁ − x₂ (exactly two inputs)."""

    min_inputs = 2

    def build(self, input_shape):
        if not isinstance(input_shape, list) or len(input_shape) != 2:
            raise ValueError(f"Subtract layer {self.name!r} takes exactly 2 inputs; got "
                             f"{shape_str(input_shape)}.")
        super().build(input_shape)

    def merge(self, xs):
        return xs[0] - xs[1]

    def merge_backward(self, dy):
        return [dy, -dy]


class Multiply(Merge):
    """y = x₁ · x₂ · ... element by element."""

    def merge(self, xs):
        y = xs[0] * xs[1] if len(xs) > 1 else xs[0].copy()
        for a in xs[2:]:
            y = y * a
        return y

    def merge_backward(self, dy):
        grads = []
        for i in range(len(self.x)):
            g = dy
            for j, a in enumerate(self.x):
                if j != i:
                    g = g * a
            grads.append(g)
        return grads


class Average(Merge):
    """y = (x₁ + ... + xₙ) / n."""

    def merge(self, xs):
        y = xs[0] + xs[1] if len(xs) > 1 else xs[0].copy()
        for a in xs[2:]:
            y += a
        return y * (1.0 / len(xs))

    def merge_backward(self, dy):
        g = dy * (1.0 / len(self.x))
        return [g] * len(self.x)


class Maximum(Merge):
    """y = max(x₁, ..., xₙ); the gradient goes to the input that was the max."""

    pick = staticmethod(xp.maximum)

    def merge(self, xs):
        y = xs[0]
        for a in xs[1:]:
            y = self.pick(y, a)
        return y

    def merge_backward(self, dy):
        # The first input equal to y wins a tie, as TensorFlow's pairwise gradient does.
        taken = xp.zeros(dy.shape, dtype=bool)
        grads = []
        for a in self.x:
            win = (a == self.y) & ~taken
            taken |= win
            grads.append(dy * win)
        return grads


class Minimum(Maximum):
    """y = min(x₁, ..., xₙ); the gradient goes to the input that was the min."""

    pick = staticmethod(xp.minimum)


class Concatenate(Merge):
    """The inputs joined along `axis` (the last by default): shapes equal elsewhere."""

    def __init__(self, axis: int = -1, **kwargs: Any):
        super().__init__(**kwargs)
        self.axis = axis

    def compute_output_shape(self, input_shape):
        rank = len(input_shape[0])
        axis = self.axis % rank
        if any(len(s) != rank for s in input_shape) or axis == 0:
            raise ValueError(f"Concatenate layer {self.name!r} (axis={self.axis}) needs inputs "
                             f"of one rank, joined along a non-batch axis; got "
                             f"{shape_str(input_shape)}.")
        for i in range(1, rank):
            if i == axis:
                continue
            sizes = {s[i] for s in input_shape if s[i] is not None}
            if len(sizes) > 1:
                raise ValueError(
                    f"Concatenate layer {self.name!r} (axis={self.axis}) needs inputs whose "
                    f"shapes match except along axis {self.axis}; got {shape_str(input_shape)}.")
        sizes = [s[axis] for s in input_shape]
        out = list(input_shape[0])
        out[axis] = None if None in sizes else sum(sizes)
        for i in range(1, rank):
            if i != axis and out[i] is None:
                out[i] = next((s[i] for s in input_shape if s[i] is not None), None)
        return tuple(out)

    def compute_mask(self, inputs, mask=None):
        if mask is None or all(m is None for m in mask):
            return None
        nd = next(m.ndim for m in mask if m is not None)
        axis = self.axis % inputs[0].ndim
        if axis >= nd:                          # joined along features: the masks AND
            return super().compute_mask(inputs, mask)
        masks = [xp.ones(a.shape[:nd], dtype=bool) if m is None else m
                 for a, m in zip(inputs, mask)]
        return xp.concatenate(masks, axis=axis)   # joined along time: the masks too

    def forward(self, x, training=False):
        self.sizes = [a.shape[self.axis] for a in x]
        return xp.concatenate(x, axis=self.axis)

    def backward(self, dy):
        cuts = xp.cumsum(xp.asarray(self.sizes[:-1])).tolist()
        return xp.split(dy, cuts, axis=self.axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class Dot(Merge):
    """Per sample, the dot product of two tensors over one axis of each.

    (batch, d)·(batch, d), axes=1 -> (batch, 1); (batch, n, d)·(batch, m, d), axes=2 ->
    (batch, n, m). With ``normalize=True`` each input is first divided by its L2 norm along
    its axis, so the result is the cosine similarity.
    """

    min_inputs = 2

    def __init__(self, axes: Any, normalize: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        if not isinstance(axes, int) and not (isinstance(axes, (list, tuple)) and len(axes) == 2):
            raise ValueError(f"Dot layer {self.name!r}: axes must be an int or a pair of ints; "
                             f"got {axes!r}.")
        self.axes = axes if isinstance(axes, int) else tuple(axes)
        self.normalize = normalize

    def _axes(self, ranks: list) -> tuple[int, int]:
        pair = (self.axes, self.axes) if isinstance(self.axes, int) else self.axes
        return tuple(a % r if a < 0 else a for a, r in zip(pair, ranks))

    def build(self, input_shape):
        if not isinstance(input_shape, list) or len(input_shape) != 2:
            raise ValueError(f"Dot layer {self.name!r} takes exactly 2 inputs; got "
                             f"{shape_str(input_shape)}.")
        self.compute_output_shape(input_shape)

    def compute_output_shape(self, input_shape):
        s1, s2 = input_shape
        a1, a2 = self._axes([len(s1), len(s2)])
        if 0 in (a1, a2) or a1 >= len(s1) or a2 >= len(s2):
            raise ValueError(f"Dot layer {self.name!r}: axes {self.axes} must name non-batch "
                             f"axes of inputs {shape_str(input_shape)}.")
        if s1[a1] is not None and s2[a2] is not None and s1[a1] != s2[a2]:
            raise ValueError(f"Dot layer {self.name!r}: axis {a1} of the first input has size "
                             f"{s1[a1]} but axis {a2} of the second has {s2[a2]}; the dot "
                             f"product needs equal sizes. Inputs: {shape_str(input_shape)}.")
        out = (s1[0],) + tuple(d for i, d in enumerate(s1) if i not in (0, a1)) + \
            tuple(d for i, d in enumerate(s2) if i not in (0, a2))
        return out if len(out) > 1 else out + (1,)

    def compute_mask(self, inputs, mask=None):
        return None

    def forward(self, x, training=False):
        x1, x2 = x
        a1, a2 = self._axes([x1.ndim, x2.ndim])
        self.a = (a1, a2)
        self.raw = (x1, x2)
        if self.normalize:
            x1, self.n1 = _l2_normalize(x1, a1)
            x2, self.n2 = _l2_normalize(x2, a2)
        self.x = (x1, x2)
        # x1 as (batch, P, d), x2 as (batch, d, Q): one batched matrix product.
        m1 = xp.moveaxis(x1, a1, -1)
        m2 = xp.moveaxis(x2, a2, 1)
        self.m1_shape, self.m2_shape = m1.shape, m2.shape
        self.r1 = m1.reshape(len(m1), -1, m1.shape[-1])
        self.r2 = m2.reshape(len(m2), m2.shape[1], -1)
        out = self.r1 @ self.r2                                   # (batch, P, Q)
        shape = (len(out),) + m1.shape[1:-1] + m2.shape[2:]
        return out.reshape(shape if len(shape) > 1 else shape + (1,))

    def backward(self, dy):
        d = dy.reshape(len(dy), self.r1.shape[1], self.r2.shape[2])
        d1 = (d @ xp.swapaxes(self.r2, 1, 2)).reshape(self.m1_shape)      # dL/dx1 = dy · x2ᵀ
        d2 = (xp.swapaxes(self.r1, 1, 2) @ d).reshape(self.m2_shape)      # dL/dx2 = x1ᵀ · dy
        d1 = xp.moveaxis(d1, -1, self.a[0])
        d2 = xp.moveaxis(d2, 1, self.a[1])
        if self.normalize:
            d1 = _l2_normalize_backward(self.x[0], self.n1, d1, self.a[0])
            d2 = _l2_normalize_backward(self.x[1], self.n2, d2, self.a[1])
        return [d1, d2]

    def get_config(self):
        return {**super().get_config(), "axes": self.axes if isinstance(self.axes, int)
                else list(self.axes), "normalize": self.normalize}


# -------------------------------------------------------------------- helpers
_NORM_EPSILON = 1e-7        # Keras's backend epsilon: 1/norm is capped at 1e7


def _l2_normalize(x: Any, axis: int) -> tuple[Any, Any]:
    """x · min(1/‖x‖, 1/ε) along `axis`; returns it and the factor used."""
    inv = 1.0 / xp.sqrt((x * x).sum(axis=axis, keepdims=True))
    inv = xp.minimum(inv, 1.0 / _NORM_EPSILON)
    return x * inv, inv


def _l2_normalize_backward(xhat: Any, inv: Any, dxhat: Any, axis: int) -> Any:
    """Gradient of x̂ = x/‖x‖: (dx̂ − x̂·Σ(dx̂·x̂)) / ‖x‖ (where the cap applied: dx̂/ε)."""
    capped = inv >= 1.0 / _NORM_EPSILON
    projected = dxhat - xhat * (dxhat * xhat).sum(axis=axis, keepdims=True)
    return xp.where(capped, dxhat, projected) * inv


def _aligned_shape(shape: tuple, rank: int) -> tuple:
    return tuple(shape[:1]) + (1,) * (rank - len(shape)) + tuple(shape[1:])


def _aligned(a: Any, rank: int) -> Any:
    return a if a.ndim == rank else a.reshape(_aligned_shape(a.shape, rank))


def _unbroadcast(g: Any, shape: tuple) -> Any:
    """Sum g back to `shape` (the input's own) over the axes that were broadcast."""
    if g.shape == tuple(shape):
        return g
    target = _aligned_shape(tuple(shape), g.ndim)
    axes = tuple(i for i, (t, s) in enumerate(zip(target, g.shape)) if t == 1 and s != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape)


# ------------------------------------------------------- the functional forms
def add(inputs: list, **kwargs: Any) -> Any:
    """``layers.add([a, b])`` = ``layers.Add()([a, b])``."""
    return Add(**kwargs)(inputs)


def subtract(inputs: list, **kwargs: Any) -> Any:
    return Subtract(**kwargs)(inputs)


def multiply(inputs: list, **kwargs: Any) -> Any:
    return Multiply(**kwargs)(inputs)


def average(inputs: list, **kwargs: Any) -> Any:
    return Average(**kwargs)(inputs)


def maximum(inputs: list, **kwargs: Any) -> Any:
    return Maximum(**kwargs)(inputs)


def minimum(inputs: list, **kwargs: Any) -> Any:
    return Minimum(**kwargs)(inputs)


def concatenate(inputs: list, axis: int = -1, **kwargs: Any) -> Any:
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs: list, axes: Any = -1, normalize: bool = False, **kwargs: Any) -> Any:
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
