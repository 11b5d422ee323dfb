"""Gradient checking: does backward agree with the slope you can measure?

For one number w inside a layer, the central difference

    ∂L/∂w ≈ (L(w + ε) − L(w − ε)) / 2ε          (error O(ε²))

needs two forward passes; backprop gives every ∂L/∂w from one backward pass. They must
agree. ``gradient_check`` compares them for every parameter of a layer or a Sequential
model (and for the input), in float64 on a copy, so the original is never touched:

    from mitbadak.lab import gradient_check
    gradient_check(keras.layers.Dense(3, activation='tanh'), x)        # prints a table
    gradient_check(model, x, y, loss='sparse_categorical_crossentropy')

The scalar L: with ``y``, the mean loss as the trainer computes it (including the fused
softmax/sigmoid + cross-entropy gradient and L1/L2 penalties); without ``y``,
L = Σ layer(x) ⊙ R for a fixed random R of the output's shape, so that dL/dy = R exactly.

The relative error of one weight array is ‖backprop − numerical‖ / max(‖backprop‖, ‖numerical‖).
In float64 a correct backward gives 1e-8 or less; a wrong one 1e-2 or more.
"""
from __future__ import annotations

import copy
import inspect
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import activations, backend, losses
from ..backend import xp
from ..layers.layer import Layer


@dataclass
class GradientCheckRow:
    """One checked array: ``name`` ('dense/kernel' or 'input'), its shape, how many entries
    were compared, the largest |backprop − numerical|, the relative error, and whether it is
    below the tolerance."""

    name: str
    shape: tuple
    checked: int
    max_abs_error: float
    relative_error: float
    ok: bool


class GradientCheckResult:
    """What ``gradient_check`` returns: ``rows`` (one per weight array, then the input),
    ``ok`` (every row below ``tol``), ``relative_errors`` ({name: error}); ``str()`` is the
    printed table and ``result['dense/kernel']`` one row."""

    def __init__(self, rows: list[GradientCheckRow], tol: float, title: str):
        self.rows, self.tol, self.title = rows, tol, title

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    @property
    def relative_errors(self) -> dict[str, float]:
        return {r.name: r.relative_error for r in self.rows}

    @property
    def max_relative_error(self) -> float:
        return max((r.relative_error for r in self.rows), default=0.0)

    def __getitem__(self, name: str) -> GradientCheckRow:
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(f"{name!r}: no such row; the rows are {[r.name for r in self.rows]}")

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        width = max([len("array")] + [len(r.name) for r in self.rows])
        lines = [self.title,
                 f"  {'array':<{width}}  {'shape':<14} {'checked':>7}  {'max |bp − num|':>14}  "
                 f"{'relative error':>14}"]
        for r in self.rows:
            lines.append(f"  {r.name:<{width}}  {str(r.shape):<14} {r.checked:>7}  "
                         f"{r.max_abs_error:>14.2e}  {r.relative_error:>14.2e}  "
                         f"{'ok' if r.ok else 'WRONG'}")
        bad = [r.name for r in self.rows if not r.ok]
        if not bad:
            lines.append(f"OK: every relative error is below {self.tol:g}; backward agrees with "
                         f"the numerical gradient.")
        else:
            lines.append(f"FAIL: {len(bad)} of {len(self.rows)} above {self.tol:g}: "
                         f"{', '.join(bad)}. Hint: compare backward's formula for these with the "
                         f"forward (a missing transpose, sum over the batch, factor or sign), and "
                         f"check forward caches exactly what backward reads.")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"<GradientCheckResult ok={self.ok}, max relative error "
                f"{self.max_relative_error:.2e} over {len(self.rows)} arrays>")


def gradient_check(model_or_layer: Any, x: Any, y: Any = None, loss: Any = None,
                   eps: float | None = None, dtype: str = "float64", tol: float = 1e-6,
                   training: bool = True, max_entries: int | None = 1000, seed: int = 0,
                   check_input: bool = True, verbose: int = 1) -> GradientCheckResult:
    """Compare backprop's gradients with central differences, array by array.

    Args:
        model_or_layer: a ``Layer`` (built-in or your own subclass with forward/backward) or
            a ``Sequential``; it is copied and cast to ``dtype``, never modified.
        x: the input batch, shape (batch, ...) as the layer expects.
        y, loss: labels and a loss (name or Loss); then L is the mean loss. A compiled model's
            own loss is used when ``loss`` is None. Without y, L = Σ output ⊙ R.
        eps: the finite-difference step; 1e-6 in float64, 1e-3 in float32 by default.
        tol: the largest relative error that passes (float64: 1e-6).
        training: the forward mode (True: Dropout drops, with one fixed mask throughout).
        max_entries: compare at most this many random entries of each array (None: all).
        seed: for R and the sampled entries.
        check_input: also check dL/dx (what backward returns).
        verbose: 1 prints the table, 0 is silent.

    Returns: a GradientCheckResult (its ``str`` is the table; ``.ok``; ``.rows``).
    """
    if not 0 < tol:
        raise ValueError(f"tol: expected a positive number; got {tol!r}.")
    dtype = backend.standardize_dtype(dtype)
    if eps is None:
        eps = 1e-6 if dtype == "float64" else 1e-3
    previous = backend.floatx()
    # Layers a subclassed model creates inside call() (layers.add(...)) take floatx.
    backend.set_floatx(dtype)
    try:
        return _check(model_or_layer, x, y, loss, eps, dtype, tol, training, max_entries, seed,
                      check_input, verbose)
    finally:
        backend.set_floatx(previous)


def _check(model_or_layer, x, y, loss, eps, dtype, tol, training, max_entries, seed,
           check_input, verbose) -> GradientCheckResult:
    subject = copy.deepcopy(model_or_layer)
    layers, is_model = _layers_of(subject)
    multi_input = isinstance(x, (list, tuple, dict))
    xs = [xp.array(v, dtype=dtype) for v in (x.values() if isinstance(x, dict) else x)] \
        if multi_input else [xp.array(x, dtype=dtype)]   # our own copies: perturbed in place
    if any(v.ndim < 1 or len(v) == 0 for v in xs):
        raise ValueError(f"x: expected a non-empty batch (batch, ...); got shapes "
                         f"{[v.shape for v in xs]}.")
    _cast_and_build(subject, layers, is_model, [v.shape for v in xs], dtype)
    # Every layer whose weights are checked: a model's layers, a wrapper and its inner layers.
    layers = [l for l in subject._flatten_layers() if not (is_model and l is subject)]
    loss_objs, loss_weights = _resolve_losses(model_or_layer, subject, y, loss, is_model)
    rng = np.random.default_rng(seed)
    generators = _generators(layers)
    states = [g.bit_generator.state for g in generators]

    def forward():
        for g, st in zip(generators, states):  # the same random draws (dropout mask) every time
            g.bit_generator.state = st
        if is_model:
            return subject._forward_list(xs, training)
        out = subject.forward(xs if multi_input else xs[0], training=training)
        return list(out) if isinstance(out, (list, tuple)) else [out]

    outs = forward()
    fused = _fused_outputs(subject, layers, loss_objs, is_model)
    if loss_objs is None:
        Rs = [xp.asarray(rng.standard_normal(o.shape), dtype=o.dtype) for o in outs]
        targets = None
    else:
        Rs = None
        ys = list(y) if isinstance(y, (list, tuple)) else [y]
        if isinstance(y, dict):
            ys = [y[n] for n in subject.output_names]
        targets = [None if l is None else l.prepare_targets(xp.asarray(t), o)
                   for l, t, o in zip(loss_objs, ys, outs)]

    def objective(os_):
        if Rs is not None:
            value = sum(float((o * R).sum()) for o, R in zip(os_, Rs))
        else:
            value = 0.0
            for l, t, o, w in zip(loss_objs, targets, os_, loss_weights):
                if l is not None:
                    per_sample = l.forward(t, o)
                    value += w * float(per_sample.sum()) / per_sample.size
        return value + sum(layer.regularization_loss() for layer in layers)

    def L():
        return objective(forward())

    # Backprop, once, exactly as the trainer does it.
    L0 = objective(outs)
    if Rs is not None:
        dys = [R.copy() for R in Rs]
    else:
        dys = []
        for k, (l, t, o, w) in enumerate(zip(loss_objs, targets, outs, loss_weights)):
            if l is None:
                dys.append(None)
                continue
            d = l.fused_backward(t, o) if k in fused else l.backward(t, o)
            dys.append(d * (w / l.forward(t, o).size))
    if is_model:
        grads_in = subject._walk_backward(dys, need_input_grads=True)
    else:
        subject.needs_input_grad = True           # its state is that of the forward above
        dy = dys if len(dys) > 1 else dys[0]
        out = subject.backward(dy, skip_activation=True) if 0 in fused else subject.backward(dy)
        grads_in = list(out) if multi_input else [out]
    for layer in layers:
        layer.add_regularization_grads()

    floor = 1e-8 * max(1.0, abs(L0))   # gradients below this are zero at eps's resolution
    rows = []
    for layer in layers:
        if not layer.trainable:
            continue
        for name in layer._trainable_names:
            label = f"{layer.name}/{name}"
            w = layer._weights[name]
            if name not in layer.grads or layer.grads[name] is None:
                rows.append(GradientCheckRow(label, tuple(w.shape), 0, float("inf"),
                                             float("inf"), False))
                continue
            analytic = backend.to_numpy(layer.grads[name]).astype(np.float64)
            if analytic.shape != tuple(w.shape):
                rows.append(GradientCheckRow(label + f" (grad shape {analytic.shape})",
                                             tuple(w.shape), 0, float("inf"), float("inf"), False))
                continue
            rows.append(_compare(label, w, analytic, L, eps, rng, max_entries, tol, floor))
    if check_input:
        for i, (xv, gv) in enumerate(zip(xs, grads_in or [None] * len(xs))):
            label = "input" if len(xs) == 1 else f"input {i}"
            if gv is None:
                rows.append(GradientCheckRow(f"{label} (backward returned None)",
                                             tuple(xv.shape), 0, float("inf"), float("inf"),
                                             False))
            else:
                analytic = backend.to_numpy(gv).astype(np.float64)
                rows.append(_compare(label, xv, analytic, L, eps, rng, max_entries, tol, floor))
    for g, s in zip(generators, states):
        g.bit_generator.state = s            # leave the library generator as we found it

    kind = "model" if is_model else "layer"
    what = "L = mean loss" if Rs is None else "L = Σ output ⊙ R (dL/dy = R)"
    title = (f"Gradient check of {kind} {getattr(subject, 'name', '')!r} "
             f"({type(subject).__name__}) in {dtype}: central differences, eps = {eps:g}, {what}")
    result = GradientCheckResult(rows, tol, title)
    if verbose:
        print(result)
    return result


def _compare(label, arr, analytic, L, eps, rng, max_entries, tol, floor) -> GradientCheckRow:
    """Central differences for (a sample of) the entries of `arr`, against `analytic`."""
    size = int(np.prod(arr.shape))
    if max_entries is None or size <= max_entries:
        flat_idx = np.arange(size)
    else:
        flat_idx = np.sort(rng.choice(size, size=max_entries, replace=False))
    numerical = np.empty(len(flat_idx))
    for k, i in enumerate(flat_idx):
        index = np.unravel_index(int(i), arr.shape)
        old = float(arr[index])
        arr[index] = old + eps
        plus = L()
        arr[index] = old - eps
        minus = L()
        arr[index] = old                       # put it back exactly
        numerical[k] = (plus - minus) / (2 * eps)
    a = analytic.reshape(-1)[flat_idx]
    diff = np.linalg.norm(a - numerical)
    scale = max(np.linalg.norm(a), np.linalg.norm(numerical), floor)
    rel = float(diff / scale)
    max_abs = float(np.max(np.abs(a - numerical))) if len(a) else 0.0
    return GradientCheckRow(label, tuple(arr.shape), len(flat_idx), max_abs, rel, rel < tol)


def _layers_of(subject: Any) -> tuple[list, bool]:
    if isinstance(subject, Layer) and not hasattr(subject, "_walk_backward"):
        return [subject], False
    if hasattr(subject, "_walk_backward"):
        if hasattr(subject, "_build_layers") and not subject.layers:
            raise ValueError("model_or_layer: the model has no layers; add some first.")
        return list(subject.layers), True
    raise TypeError(f"model_or_layer: expected a keras Layer (with forward and backward) or a "
                    f"keras Model; got {type(subject).__name__}. Hint: a custom layer "
                    f"subclasses mitbadak.layers.Layer.")


def _cast_and_build(subject, layers, is_model, x_shapes, dtype) -> None:
    """Cast every weight to `dtype` (and any attribute that pointed at the old array), then
    build what is not built yet, in `dtype`."""
    every = [l for l in subject._flatten_layers()] if is_model else subject._flatten_layers()
    for layer in every:
        layer.dtype = dtype
        layer.needs_input_grad = True
        for name, w in list(layer._weights.items()):
            new = xp.asarray(w).astype(dtype)
            for attr, value in list(vars(layer).items()):
                if value is w:                 # e.g. Dense keeps self.kernel as well
                    setattr(layer, attr, new)
            layer._weights[name] = new
    shapes = [(None,) + tuple(s[1:]) for s in x_shapes]
    if is_model:
        if not subject.built:
            subject.build(shapes[0] if len(shapes) == 1 else shapes)
    else:
        subject._maybe_build(shapes[0] if len(shapes) == 1 else shapes)
    for layer in subject._flatten_layers():     # layers built just now
        layer.dtype = dtype


def _resolve_losses(original, subject, y, loss, is_model) -> tuple[list | None, list]:
    """(one loss per output, or None for L = Σ output ⊙ R; the loss weights)."""
    if y is None:
        if loss is not None:
            raise ValueError("loss: given without y. Pass y (the labels) too, or neither to "
                             "check with L = Σ output ⊙ R.")
        return None, []
    n = len(subject.output_names) if is_model else (len(y) if isinstance(y, list) else 1)
    if loss is None and is_model and getattr(original, "compiled", False) and \
            original._compile_specs.loss is not None:
        subject._build_compiled()
        return ([o.loss for o in subject._outs],
                [1.0 if o.weight is None else float(o.weight) for o in subject._outs])
    if loss is None:
        raise ValueError("loss: expected a loss when y is given, e.g. loss='mse' or "
                         "loss='sparse_categorical_crossentropy'; got None.")
    specs = list(loss) if isinstance(loss, (list, tuple)) else [loss] * n
    return [None if l is None else losses.get(l) for l in specs], [1.0] * n


def _fused_outputs(subject, layers, loss_objs, is_model) -> tuple:
    """The trainer's rule: softmax/sigmoid followed by its cross-entropy uses (p − t)/N."""
    if loss_objs is None:
        if is_model:
            subject._prepare_backward(())
        return ()
    fused = []
    for k, loss_obj in enumerate(loss_objs):
        last = subject._fusable_output_layer(k) if is_model else subject
        if loss_obj is not None and last is not None and _fuses(loss_obj, last):
            fused.append(k)
    if is_model:
        subject._fused_outputs = tuple(fused)
        if subject._graph:          # a subclassed model's steps are prepared at each forward
            subject._prepare_backward(subject._fused_outputs)
    return tuple(fused)


def _fuses(loss_obj, last) -> bool:
    """The trainer's rule: softmax/sigmoid followed by its cross-entropy uses (p − t)/N."""
    fuses = getattr(loss_obj, "fuses_with", None)
    act = getattr(last, "activation", None)
    if getattr(loss_obj, "from_logits", False) or fuses is None or act is None:
        return False
    if act is not getattr(activations, fuses):
        return False
    return "skip_activation" in inspect.signature(last.backward).parameters


def _generators(layers) -> list:
    """Every random generator a forward pass may draw from: the library's and the layers' own."""
    gens = [backend.rng()]
    for layer in layers:
        gens += [v for v in vars(layer).values()
                 if hasattr(v, "bit_generator") and all(v is not g for g in gens)]
    return gens
