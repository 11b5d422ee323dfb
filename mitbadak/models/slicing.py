"""A CNN's first layers in pieces of the batch: cache-sized, and on both cores.

A convolution's outputs are big: the notes' CNN's first Conv2D writes 100 KB per image, so
12.8 MB for a batch of 128. That is more than the CPU's fast cache, so every element-wise pass
(bias, ReLU, pooling, and their backward) waits on main memory. Run through those layers 32
images at a time and each slice's arrays stay in cache from one layer to the next (the notes'
CNN's step took ~10% less time: a median 110 -> 100 ms in one A/B). And the slices are
independent, so two threads can compute two of them at once: NumPy releases the GIL in its
loops and in BLAS.

It is the same step, because those layers compute every sample on its own:

    forward:  the batch is cut into slices; each goes through the first k layers, and their
              outputs are joined into the batch the remaining layers see;
    backward: dL/d(joined output) is cut into the same slices; each goes back through the
              first k layers, and their weight gradients are summed over the slices
              (∂L/∂W = Σ over samples, so the sum over slices is the whole batch's gradient).

Three kinds of layer take part, each in its own kind of piece:

    small weights (Conv2D, pooling, Flatten): in the cache-sized slices, on any free thread;
    big weights (the Dense(1000) after Flatten): in two halves of the batch, one per core
              (in slices, each slice would read its 12.5 MB of weights again);
    random draws (Dropout): slice after slice on one thread, so the masks are the ones the
              whole batch draws, whatever the number of threads.

A layer keeps what its backward needs in its own attributes (``self.cols``, ``self.mask``, ...),
so every piece goes through shallow copies of the layers (sharing their weights), and keeps them
for its backward. The pieces, and the order in which their gradients are summed, depend on the
batch alone: one thread or two, the step gives the same numbers. Inference (evaluate, predict,
fit's validation) runs forward the same way.

Only layers that compute each sample on its own are sliced (not BatchNormalization, not a layer
written outside mitbadak, nor one holding other layers), and the run must start with small
weights (a CNN, not an MLP).
"""
from __future__ import annotations

import math
from typing import Any

import numpy

from .. import activations, backend
from ..backend import xp
from ..layers.layer import is_builtin, output_bytes
from ..layers.pooling import _Pooling

# Rows per slice: this many bytes of the widest output of the small-weight layers (~32 images
# for the notes' CNN; 16 and 64 were slower).
SLICE_BYTES = 4 << 20
# More weights than this make a layer "big": it runs in halves of the batch, not in slices.
MAX_WEIGHTS = 1 << 16
# No slice has fewer rows than this (tiny products cost more in calls than they save).
MIN_ROWS = 8


def plan(layers: list) -> tuple[int, int]:
    """(k, bytes): of a model's leading chain of layers (never its output layer, whose
    backward may be fused with the loss), the first k can run in pieces of the batch; the
    widest output of their layers with small weights holds `bytes` per sample (k = 0: none;
    bytes = 0: nothing worth slicing, as in an MLP)."""
    if xp is not numpy:                # a GPU has no such cache to fit in
        return 0, 0
    k, widest = 0, 0
    for layer in layers:
        size = output_bytes(layer)
        big = layer.count_params() > MAX_WEIGHTS
        if (not is_builtin(layer) or not layer.per_sample or size is None or (big and k == 0)
                or layer.activity_regularizer is not None or layer._sublayers()):
            break
        k += 1
        if not big and layer.count_params():   # (an MLP's Flatten measures no work)
            widest = max(widest, size)
    return k, widest


def slice_rows(batch: int, widest: int) -> int:
    """Rows per slice for a batch: about SLICE_BYTES of the widest output, in an even number
    of equal slices (two at least, one per core; 128 -> 4 x 32, 32 -> 2 x 16); the whole
    batch when its widest output is under a quarter of that (an MLP's: too little work to
    share) or the batch is too small to cut."""
    total = batch * widest
    if 4 * total <= SLICE_BYTES or batch < 2 * MIN_ROWS:
        return batch
    n_slices = max(2, math.ceil(total / SLICE_BYTES))
    n_slices = min(n_slices + n_slices % 2, 2 * (batch // (2 * MIN_ROWS)))
    return math.ceil(batch / n_slices)


def _kind(layer: Any) -> str:
    if hasattr(layer, "_rng"):         # Dropout and the random image layers
        return "random"
    return "big" if layer.count_params() > MAX_WEIGHTS else "small"


def _stages(layers: list) -> list[tuple[int, int, str]]:
    """(start, stop, kind): the runs of consecutive layers of one kind."""
    stages: list = []
    for j, layer in enumerate(layers):
        kind = _kind(layer)
        if stages and stages[-1][2] == kind:
            stages[-1] = (stages[-1][0], j + 1, kind)
        else:
            stages.append((j, j + 1, kind))
    return stages


def _pieces(n: int, rows: int, kind: str) -> list[slice]:
    """The batch's slices of `rows` rows; for big layers, the two halves made of them."""
    cuts = [slice(start, min(start + rows, n)) for start in range(0, n, rows)]
    if kind != "big" or len(cuts) < 2:
        return cuts
    middle = cuts[(len(cuts) + 1) // 2].start
    return [slice(0, middle), slice(middle, n)]


def _relu_then_max_pool(below: Any, layer: Any) -> bool:
    """A max pooling right after a layer with relu (Conv2D(..., activation='relu')): relu's
    derivative can be applied to the pooling's gradient, a quarter of the size (2x2
    windows), instead of to the layer's: each window's gradient goes to its maximum, where
    relu' is 1 unless the maximum is 0. The layer's backward skips it, as it does for the
    fused softmax + cross-entropy gradient; that saves a pass over the convolution's output."""
    return (isinstance(layer, _Pooling) and layer.mode == "max"
            and getattr(below, "activation", None) is activations.relu
            and "skip_activation" in type(below).backward.__code__.co_varnames)


def _copy(layer: Any) -> Any:
    """A shallow copy that shares the weights and keeps its own caches and gradients."""
    twin = object.__new__(type(layer))
    vars(twin).update(vars(layer))
    twin.grads = {}
    return twin


def _sum(parts: list) -> Any:
    """parts[0] + parts[1] + ... in that order. Added into parts[0] (a piece's own gradient,
    made by its backward, not read again) unless it shares memory with another part; a big
    sum (the Dense's 12.5 MB kernel gradient) in blocks on the step's threads."""
    first = parts[0]
    if any(xp.may_share_memory(first, p) for p in parts[1:]) or not first.flags.c_contiguous:
        first = first.copy()
    flat = [first.reshape(-1)] + [xp.ravel(p) for p in parts[1:]]
    n = 8 if first.size >= 1 << 16 else 1
    size = -(-first.size // n)

    def add(i):
        block = slice(i * size, (i + 1) * size)
        total = flat[0][block]
        for g in flat[1:]:
            total += g[block]

    backend.parallel(add, n)
    return first


def _recut(parts: list, cuts: list, new_cuts: list) -> list:
    """Arrays holding the batch in pieces `cuts` -> the same rows in pieces `new_cuts`."""
    if new_cuts == cuts:
        return parts
    whole = parts[0] if len(parts) == 1 else xp.concatenate(parts)
    return [whole[cut] for cut in new_cuts]


def forward(layers: list, x: Any, rows: int, training: bool = True) -> tuple[Any, list]:
    """x (N, ...) through `layers` in pieces of the batch -> (the joined output, what
    `backward` needs: each stage's pieces and their layer copies; none at inference)."""
    saved = []
    threads = backend.step_threads()
    cuts = [slice(0, len(x))]
    parts = [x]
    for start, stop, kind in _stages(layers):
        new_cuts = _pieces(len(x), rows, kind)
        parts, cuts = _recut(parts, cuts, new_cuts), new_cuts

        def run(i, parts=parts, start=start, stop=stop):
            copies = [_copy(layer) for layer in layers[start:stop]]
            for below, layer in zip(copies, copies[1:]):
                if _relu_then_max_pool(below, layer):
                    layer.relu_below = True
            out = parts[i]
            for layer in copies:
                out = layer.forward(out, training=training)
            return out, copies if training else None       # (their caches can go now)

        if kind == "random" or threads == 1:     # draws in the order of the rows
            done = [run(i) for i in range(len(cuts))]
        else:
            done = backend.parallel(run, len(cuts))
        parts = [out for out, _ in done]
        if training:
            saved.append((start, cuts, [copies for _, copies in done]))
    return _recut(parts, cuts, [slice(0, len(x))])[0], saved


def backward(layers: list, saved: list, dy: Any, rows: int, stop: int) -> None:
    """dL/d(output of `layers`) back through layers[stop:], piece by piece; each layer's
    ``grads`` ends up summed over the pieces, in their order. Nobody needs dL/dx of the
    first layers, so nothing is returned."""
    cuts = [slice(0, len(dy))]
    parts = [dy]
    for start, new_cuts, copies in reversed(saved):
        if start + len(copies[0]) <= stop:
            break
        parts, cuts = _recut(parts, cuts, new_cuts), new_cuts

        def run(i, parts=parts, start=start, copies=copies):
            d = parts[i]
            above = None
            for j in range(len(copies[i]) - 1, max(stop - start, 0) - 1, -1):
                layer = copies[i][j]
                layer.needs_input_grad = start + j > stop
                if getattr(above, "relu_below", False):
                    d = layer.backward(d, skip_activation=True)   # see _relu_then_max_pool
                else:
                    d = layer.backward(d)
                above = layer
            return d

        parts = backend.parallel(run, len(cuts))
        for j in range(max(stop - start, 0), len(copies[0])):
            grads = layers[start + j].grads
            for name in copies[0][j].grads:
                grads[name] = _sum([c[j].grads[name] for c in copies])
