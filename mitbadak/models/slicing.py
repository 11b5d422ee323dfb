"""Training a CNN's first layers in cache-sized slices of the batch.

A convolution's outputs are big: the notes' CNN's first Conv2D writes 100 KB per image, so
12.8 MB for a batch of 128. That is more than the CPU's fast cache, so every element-wise pass
(bias, ReLU, pooling, and their backward) waits on main memory. Run through those layers 32
images at a time and each slice's arrays stay in cache from one layer to the next: the notes'
CNN's step takes ~10% less time (a median 110 -> 100 ms in one A/B), for the same result.

It is the same step, because those layers compute every sample on its own:

    forward:  the slices go through the first k layers one after another, and their outputs
              are joined into the batch the remaining layers see (Dense needs all rows in one
              matrix product to read its big weight matrix once);
    backward: dL/d(joined output) is cut into the same slices; each goes back through the
              first k layers, and their weight gradients are summed over the slices
              (∂L/∂W = Σ over samples, so the sum over slices is the whole batch's gradient).

A layer keeps what its backward needs in its own attributes (``self.cols``, ``self.mask``, ...);
after each slice's forward we keep a shallow copy of those attributes and put it back before
that slice's backward. Inference (evaluate, predict, fit's validation) slices the same way.

Only layers that compute each sample on its own are sliced (not BatchNormalization, not a layer
written outside mitbadak), and only layers with few weights (summing a big weight gradient
over the slices would cost more than the cache saves).
"""
from __future__ import annotations

import math
from typing import Any

import numpy

from ..backend import xp
from ..layers.core import Dropout
from ..layers.layer import is_builtin, output_bytes

# Rows per slice: this many bytes of the widest output of the sliced layers (~32 images for
# the notes' CNN; 16 and 64 were slower).
SLICE_BYTES = 4 << 20
# A layer with more weights than this ends the sliced run (the Dense(1000) on 3136 inputs
# has 3.1 million; a Conv2D usually has a few thousand).
MAX_WEIGHTS = 1 << 16


def plan(layers: list) -> tuple[int, int]:
    """(k, bytes): the first k layers can run in slices; the widest of their outputs holds
    `bytes` per sample. k = 0: no slicing."""
    if xp is not numpy:                # a GPU has no such cache to fit in
        return 0, 0
    k, widest, shared_draws = 0, 0, 0
    for layer in layers[:-1]:          # the last layer's backward may be fused with the loss
        size = output_bytes(layer)
        # Dropout without a seed draws from the library's one generator. Two such layers,
        # sliced, would take turns at it (D1 slice 1, D2 slice 1, D1 slice 2, ...) and get
        # other masks than with the whole batch; with one, the draws come out the same.
        shared_draws += isinstance(layer, Dropout) and layer._rng is None
        if (not is_builtin(layer) or not layer.per_sample or layer.count_params() > MAX_WEIGHTS
                or layer.activity_regularizer is not None or size is None or shared_draws > 1):
            break
        k += 1
        widest = max(widest, size)
    return k, widest


def slice_rows(batch: int, widest: int) -> int:
    """Rows per slice for a batch: about SLICE_BYTES of the widest output, in equal slices
    (128 -> 4 x 32); the whole batch when slicing would not help."""
    n_slices = math.ceil(batch * widest / SLICE_BYTES)
    if n_slices <= 1:
        return batch
    return math.ceil(batch / n_slices)


def forward(layers: list, x: Any, rows: int, training: bool = True) -> tuple[Any, list]:
    """x (N, ...) through `layers`, `rows` samples at a time -> (the joined output, the
    layers' saved attributes for each slice; none at inference, where no backward follows)."""
    outs, states = [], []
    for start in range(0, len(x), rows):
        out = x[start:start + rows]
        for layer in layers:
            out = layer.forward(out, training=training)
        outs.append(out)
        if training:
            states.append([dict(vars(layer)) for layer in layers])
    return xp.concatenate(outs), states


def backward(layers: list, states: list, dy: Any, rows: int, stop: int) -> None:
    """dL/d(output of `layers`) back through layers[stop:], slice by slice; each layer's
    ``grads`` ends up summed over the slices. Nobody needs dL/dx of the first layers, so
    nothing is returned."""
    total: dict = {}
    # The last slice first: its arrays were written last, so some are still in the cache.
    for i in range(len(states) - 1, -1, -1):
        d = dy[i * rows:(i + 1) * rows]
        for j in range(len(layers) - 1, stop - 1, -1):
            layer = layers[j]
            vars(layer).update(states[i][j])
            layer.needs_input_grad = j > stop
            d = layer.backward(d)
            for name, g in layer.grads.items():
                key = (j, name)
                if key in total:
                    total[key] += g
                else:
                    total[key] = g.copy()      # a layer may write its gradient in place
        layers[stop].needs_input_grad = True
    for (j, name), g in total.items():
        layers[j].grads[name] = g
