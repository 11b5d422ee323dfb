"""Optimizer state in the layouts Keras uses, so training resumes exactly where it stopped.

**Keras 3** (``optimizer.variables``, the ``optimizer/vars/<i>`` of a ``.keras`` file): the
iteration count (int64), the learning rate (float32; absent when it is a schedule), then the
slot variables. Slots come in groups: within a group each trainable weight gets all the
group's slots in turn (Adam: momentum, velocity for the first weight, then for the second,
...), and the groups follow each other (Adam's amsgrad ``velocity_hat`` for every weight come
after; RMSprop's velocities, then momentums, then average gradients). Nadam adds its running
``u_product`` last.

**tf.keras 2.x** (``optimizer_weights`` of a legacy ``.h5``), as its optimizers rebuilt from a
legacy file expect: ``Adam/iter:0`` (Nadam then its ``momentum_cache:0``, our u_product), then
one slot for every weight, the next slot for every weight, ..., each named
``Adam/<layer>/<weight>/m:0``. Reading also accepts tf.keras 2.11+'s own names
(``iteration:0``, ``Adam/m/<layer>/<weight>:0``); tf.keras 2.x state is matched by name.
"""
from __future__ import annotations

import math
from typing import Any

import numpy

from .. import backend, optimizers
from .errors import warn

# tf.keras 2.x slot names -> mitbadak's (its older optimizers say rms/mg, its newer ones spell
# them out; Adamax's infinity norm is 'v' in the older and 'u' in the newer)
_K2_SLOTS = {"m": "momentum", "v": "velocity", "vhat": "velocity_hat", "u": "norm",
             "rms": "velocity", "mg": "average_gradient", "accumulator": "accumulator",
             "velocity": "velocity", "momentum": "momentum",
             "average_gradient": "average_gradient", "norm": "norm"}


def trainable_refs(model: Any) -> list[tuple[Any, str]]:
    """(layer, weight name) of every trainable weight, in the trainer's (and Keras's) order."""
    return [(l, n) for l in model._flatten_layers() if l is not model and l.trainable
            for n in l._trainable_names]


def slot_groups(opt: Any) -> list[tuple[str, ...]]:
    """The optimizer's slot names grouped as Keras 3 creates them (see the module text)."""
    names = tuple(opt.slot_names)
    if isinstance(opt, optimizers.Adam):
        return [tuple(n for n in names if n != "velocity_hat")] + \
            ([("velocity_hat",)] if "velocity_hat" in names else [])
    if isinstance(opt, optimizers.RMSprop):
        return [(n,) for n in names]
    return [names] if names else []


def _has_lr_variable(opt: Any) -> bool:
    return not callable(opt._learning_rate)


def _current_slots(opt: Any, refs: list) -> list[dict]:
    """The optimizer's slots, or the values a fresh one would start from."""
    slots = getattr(opt, "_slots", None)
    params = [layer._weights[name] for layer, name in refs]
    if slots is not None and len(slots) == len(params) and all(
            s[n].shape == p.shape for s, p in zip(slots, params) for n in opt.slot_names):
        return slots
    if slots is not None:
        warn("The optimizer's state does not match the model's trainable weights "
             "(were layers frozen or added after training?); saving a fresh state.")
    return [{n: opt._init_slot(n, p) for n in opt.slot_names} for p in params]


def state_entries(opt: Any, refs: list, model_name: str) -> list[tuple[str, numpy.ndarray]]:
    """(name, value) pairs in Keras 3's order; names as Keras 3 writes them in legacy .h5."""
    entries = [("iteration", numpy.asarray(opt.iterations, dtype=numpy.int64))]
    if _has_lr_variable(opt):
        entries.append(("learning_rate", numpy.asarray(opt.learning_rate, dtype=numpy.float32)))
    slots = _current_slots(opt, refs)
    for group in slot_groups(opt):
        for i, (layer, weight) in enumerate(refs):
            for slot in group:
                entries.append((f"{model_name}_{layer.name}_{weight}_{slot}",
                                backend.to_numpy(slots[i][slot]).copy()))
    if isinstance(opt, optimizers.Nadam):
        # float64 so that a resumed run multiplies on from exactly the same number
        entries.append(("u_product", numpy.asarray(opt.u_product, dtype=numpy.float64)))
    return entries


def k2_state_entries(opt: Any, refs: list) -> list[tuple[str, numpy.ndarray]]:
    """(name, value) pairs in tf.keras 2.x's legacy-optimizer layout (see the module text)."""
    prefix = type(opt).__name__
    entries = [(f"{prefix}/iter:0", numpy.asarray(opt.iterations, dtype=numpy.int64))]
    if isinstance(opt, optimizers.Nadam):
        entries.append((f"{prefix}/momentum_cache:0",
                        numpy.asarray(opt.u_product, dtype=numpy.float64)))
    slots = _current_slots(opt, refs)
    for slot in opt.slot_names:
        for i, (layer, weight) in enumerate(refs):
            entries.append((f"{prefix}/{layer.name}/{weight}/{_k2_slot_name(opt, slot)}:0",
                            backend.to_numpy(slots[i][slot]).copy()))
    return entries


def _k2_slot_name(opt: Any, slot: str) -> str:
    if isinstance(opt, optimizers.RMSprop):
        return {"velocity": "rms", "average_gradient": "mg"}.get(slot, slot)
    if isinstance(opt, optimizers.Adamax):
        return {"momentum": "m", "norm": "v"}[slot]
    if isinstance(opt, optimizers.SGD):
        return slot
    return {"momentum": "m", "velocity": "v", "velocity_hat": "vhat"}.get(slot, slot)


def _k2_slot_aliases(opt: Any) -> dict[str, str]:
    if isinstance(opt, optimizers.Adamax):
        return {**_K2_SLOTS, "v": "norm"}
    return _K2_SLOTS


def _expected(opt: Any, refs: list) -> list[tuple[str, Any, tuple]]:
    """(kind, key, shape) for every value restore() takes, in order."""
    out: list = [("iteration", None, ())]
    if _has_lr_variable(opt):
        out.append(("learning_rate", None, ()))
    for group in slot_groups(opt):
        for i, (layer, weight) in enumerate(refs):
            for slot in group:
                out.append(("slot", (i, slot), tuple(layer._weights[weight].shape)))
    if isinstance(opt, optimizers.Nadam):
        out.append(("u_product", None, ()))
    return out


def restore(opt: Any, values: list, refs: list, source: str) -> bool:
    """Load Keras-3-ordered `values` into `opt`; warn and keep it fresh if they do not fit."""
    expected = _expected(opt, refs)
    shapes_ok = len(values) == len(expected) and all(
        tuple(numpy.shape(v)) == shape for v, (_, _, shape) in zip(values, expected))
    if not shapes_ok:
        # An optimizer that was compiled but never stepped is saved with only its counters.
        untrained = 1 <= len(values) <= 2 and all(numpy.shape(v) == () for v in values) and \
            int(numpy.asarray(values[0])) == 0
        if not untrained:
            warn(f"{source}: the saved optimizer state ({len(values)} values) does not "
                 f"match this {type(opt).__name__} on the model's "
                 f"{len(refs)} trainable weights ({len(expected)} values expected); "
                 f"training continues with a freshly initialized optimizer.")
        return False
    opt.build([layer._weights[name] for layer, name in refs])
    for value, (kind, key, _) in zip(values, expected):
        value = numpy.asarray(value)
        if kind == "iteration":
            opt.iterations = int(value)
        elif kind == "learning_rate":
            _restore_lr(opt, value)
        elif kind == "u_product":
            opt.u_product = float(value)
        else:
            i, slot = key
            opt._slots[i][slot][...] = backend.xp.asarray(value)
    return True


def restore_k2(opt: Any, named: dict, refs: list, source: str) -> bool:
    """tf.keras 2.x state (datasets by name), matched by layer, weight and slot names."""
    aliases = _k2_slot_aliases(opt)
    iteration = cache = None
    by_key: dict = {}
    for name, value in named.items():
        parts = name.rsplit(":", 1)[0].split("/")
        if parts[-1] in ("iter", "iteration"):
            iteration = value
        elif parts[-1] == "momentum_cache":
            cache = value
        elif len(parts) >= 4:
            if parts[-3] in aliases:       # tf.keras 2.11+: Adam/m/<layer>/<weight>
                by_key.setdefault((parts[-2], parts[-1], aliases[parts[-3]]), value)
            if parts[-1] in aliases:       # legacy optimizers: Adam/<layer>/<weight>/m
                by_key.setdefault((parts[-3], parts[-2], aliases[parts[-1]]), value)
    params = [layer._weights[n] for layer, n in refs]
    wanted = [((layer.name, weight, slot), tuple(p.shape))
              for (layer, weight), p in zip(refs, params) for slot in opt.slot_names]
    if iteration is None or numpy.shape(iteration) != () or any(
            key not in by_key or tuple(by_key[key].shape) != shape for key, shape in wanted):
        warn(f"{source}: the tf.keras 2.x optimizer state does not match this "
             f"{type(opt).__name__} on the model's {len(refs)} trainable weights; training "
             f"continues with a freshly initialized optimizer.")
        return False
    opt.build(params)
    opt.iterations = int(numpy.asarray(iteration))
    for i, (layer, weight) in enumerate(refs):
        for slot in opt.slot_names:
            opt._slots[i][slot][...] = backend.xp.asarray(by_key[(layer.name, weight, slot)])
    if isinstance(opt, optimizers.Nadam):
        opt.u_product = float(numpy.asarray(cache)) if cache is not None and \
            numpy.shape(cache) == () else math.prod(opt._mu(t)
                                                   for t in range(1, opt.iterations + 1))
    return True


def _restore_lr(opt: Any, value: numpy.ndarray) -> None:
    # The file holds a float32; keep the exact configured value when it rounds to the same one,
    # so that a resumed run computes with the very same learning rate as an uninterrupted one.
    if numpy.float32(opt.learning_rate) != numpy.float32(value):
        opt.learning_rate = float(value)
