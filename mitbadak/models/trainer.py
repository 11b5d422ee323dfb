"""compile / fit / evaluate / predict: the one training loop, for every kind of model.

One training step is the notes' loop: forward through the model, the loss of each output and
its gradient, backward through the model, the optimizer's update. When an output's last
activation pairs with its loss (softmax + categorical cross-entropy, sigmoid + binary
cross-entropy) the gradient with respect to the pre-activation is taken directly: (p − t)/N.

The loop asks the model only for its forward walk, its backward walk and its parameters
(model.py), so a Sequential, a functional and a subclassed model train with the same code.
A model with several outputs has one loss per output (``loss=[...]`` or ``{name: ...}``);
the total is their weighted sum, ``Σ loss_weight_k · loss_k``.
"""
from __future__ import annotations

import inspect
import math
import sys
import warnings
from types import SimpleNamespace
from typing import Any

from .. import activations, backend, losses, metrics as metrics_mod, optimizers
from ..backend import xp
from ..callbacks import CallbackList, History, ProgbarLogger
from ..layers.layer import is_builtin, output_bytes
from . import slicing
from .data import (ArrayData, IterableData, as_list, is_batch_source, loader_settings,
                   split_batch)


def _deprecated(old: str, new: str) -> None:
    warnings.warn(f"`Model.{old}` is deprecated (tf.keras 2.x) and will be removed in a future "
                  f"version. Please use `Model.{new}`, which supports generators.",
                  DeprecationWarning, stacklevel=3)


class Trainer:
    """compile, fit, evaluate, predict and the single-batch methods of every model."""

    # Train a CNN's first layers in cache-sized slices of each batch (models/slicing.py): same
    # gradients, faster. False: every layer sees the whole batch (LayerStats sets this while
    # it records, as it reads whole-batch outputs).
    slice_batches = True

    def __init__(self):
        self.optimizer = None
        self.loss = None
        self.compiled = False
        self.stop_training = False
        self.history = None
        self._compile_specs = None
        self._outs: list = []                 # per output: loss, weight, metrics (built lazily)
        self._fused_outputs: tuple = ()
        self._setup = SimpleNamespace(signature=None)
        self._warned_softmax = False

    # ================================================================ compile
    def compile(self, optimizer: Any = "rmsprop", loss: Any = None, loss_weights: Any = None,
                metrics: Any = None, weighted_metrics: Any = None, run_eagerly: bool = False,
                steps_per_execution: int = 1, jit_compile: Any = "auto", **kwargs: Any) -> None:
        """Choose the optimizer, the loss(es) and the metrics (Keras's defaults: rmsprop).

        Several outputs: ``loss`` as one loss for all, a list (output order) or a dict by
        output name; ``loss_weights`` likewise; ``metrics`` as a list per output, a list of
        lists or a dict by output name."""
        if kwargs:
            raise TypeError(f"compile: unexpected keyword argument(s) {', '.join(sorted(kwargs))}")
        if loss_weights is not None and not isinstance(loss_weights, (list, tuple, dict, int,
                                                                      float)):
            raise ValueError(f"compile: loss_weights must be a number, a list or a dict by output "
                             f"name; got {loss_weights!r}.")
        self.optimizer = optimizers.get(optimizer)
        self.loss = loss
        self.loss_weights = loss_weights
        self._compile_specs = SimpleNamespace(
            loss=loss, loss_weights=loss_weights,
            metrics=[metrics] if isinstance(metrics, (str, metrics_mod.Metric)) or (
                callable(metrics) and not isinstance(metrics, type)) else metrics,
            weighted_metrics=weighted_metrics)
        self._outs = []
        self.compiled = True
        self._setup.signature = None
        if self._graph_ready():
            self._build_compiled()

    def _graph_ready(self) -> bool:
        return getattr(self, "_graph", False) and self.built

    def _build_compiled(self) -> None:
        """Per output: its loss object, loss weight and metrics (Keras 3's rules)."""
        specs = self._compile_specs
        names = self.output_names
        n = len(names)
        loss_list = _per_output(specs.loss, names, "loss", broadcast=True)
        weights = _per_output(specs.loss_weights, names, "loss_weights", broadcast=True)
        metric_lists = _metrics_per_output(specs.metrics, names, "metrics")
        weighted_lists = _metrics_per_output(specs.weighted_metrics, names, "weighted_metrics")
        # A subclassed model's outputs have no names: Keras 3 then names each output's loss
        # after its loss function and leaves the metric names bare.
        anonymous = not getattr(self, "_graph", False) and not isinstance(
            getattr(self, "_call_outputs_struct", None), dict)
        outs = []
        used: dict[str, int] = {}
        for k in range(n):
            loss_obj = None if loss_list[k] is None else losses.get(loss_list[k])
            prefix = f"{names[k]}_" if n > 1 and not anonymous else ""
            loss_log = f"{names[k]}_loss" if not anonymous or loss_obj is None else \
                f"{loss_obj.name}_loss"
            if loss_log in used:
                used[loss_log] += 1
                loss_log = f"{loss_log}_{used[loss_log]}"
            else:
                used[loss_log] = 0
            ms = [metrics_mod.get(m) for m in metric_lists[k]]
            wms = [metrics_mod.get(m) for m in weighted_lists[k]]
            for m in ms + wms:
                m._log_name = prefix + m.name
            own = {m._log_name for m in ms}
            for m in wms:                       # Keras: a clashing weighted name gets a prefix
                if m._log_name in own:
                    m._log_name = prefix + "weighted_" + m.name
            outs.append(SimpleNamespace(name=names[k], loss=loss_obj, weight=weights[k],
                                        metrics=ms, weighted=wms, loss_total=0.0,
                                        loss_count=0, loss_log=loss_log))
        if all(o.loss is None for o in outs):
            if specs.loss is None:
                outs = outs         # no loss: evaluate/fit will say so
            else:
                raise ValueError("compile: every output's loss is None; nothing would be "
                                 "trained.")
        self._outs = outs
        self._warn_softmax_over_one_unit()

    def _warn_softmax_over_one_unit(self) -> None:
        """Dense(1, activation='softmax') outputs 1.0 always: training then does nothing."""
        if self._warned_softmax or not self._graph_ready():
            return
        for t in self.outputs:
            layer = t._keras_history[0]
            if getattr(layer, "activation", None) is activations.softmax and t.shape[-1] == 1:
                self._warned_softmax = True
                warnings.warn(
                    f"Layer {layer.name!r} applies softmax over ONE unit: its output is always "
                    f"1.0, so the model cannot learn. For a yes/no output use "
                    f"Dense(1, activation='sigmoid') with loss='binary_crossentropy'; for K "
                    f"classes use Dense(K, activation='softmax').", stacklevel=3)

    @property
    def metrics_names(self) -> list[str]:
        """The names of evaluate's numbers, in the order evaluate returns them, so that
        ``dict(zip(model.metrics_names, model.evaluate(x, y)))`` labels them right."""
        names = ["loss"]
        if len(self._outs) > 1:
            names += [o.loss_log for o in self._outs if o.loss is not None]
        for o in self._outs:
            names += [m._log_name for m in o.metrics + o.weighted]
        return self._ordered_names(names)

    def _ordered_names(self, keys: Any) -> list[str]:
        """Keras 3's order of evaluate's list: the loss, the metrics as compiled (their
        unprefixed names, where the logs have them), the per-output losses, then the rest by
        name."""
        first = ["loss"] + [m.name for o in self._outs for m in o.metrics + o.weighted]
        if len(self._outs) > 1:
            first += [o.loss_log for o in self._outs if o.loss is not None]
        keys = set(keys)
        ordered = list(dict.fromkeys(n for n in first if n in keys))
        return ordered + sorted(keys.difference(ordered))

    @property
    def metrics(self) -> list:
        return [m for o in self._outs for m in o.metrics + o.weighted]

    def _reset_compiled_state(self) -> None:
        """The model changed (a layer added): per-output losses and metrics are rebuilt."""
        self._setup.signature = None
        self._outs = []

    def _require_compiled(self, what: str) -> None:
        if not self.compiled or self._compile_specs.loss is None:
            raise RuntimeError(f"You must compile your model before {what}: call "
                               f"model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', "
                               f"metrics=['accuracy']) (with your own loss) first.")

    # ================================================================ data
    def _inputs_of(self, x: Any, what: str) -> list:
        """x (an array, a list or a dict by input name) -> one array per model input, each
        numeric, finite, with a batch axis."""
        if x is None:
            raise ValueError(f"{what}: x is None: pass the input data as a NumPy array.")
        xs = self._standardize_inputs(x)
        out = []
        for i, a in enumerate(xs):
            if a.ndim == 0:
                raise ValueError(f"{what}: x must have a batch axis; got a scalar.")
            a = self._adjust_rank(a, i, what)
            out.append(a)
        n = len(out[0])
        for i, a in enumerate(out[1:], 1):
            if len(a) != n:
                raise ValueError(f"{what}: all inputs must have the same number of samples; "
                                 f"input 0 has {n} and input {i} has {len(a)}.")
        return out

    def _adjust_rank(self, a: Any, i: int, what: str) -> Any:
        """Keras 3's rank adjustment: one axis of size 1 missing from x is added ((N,) ->
        (N, 1); (N, 28, 28) -> (N, 28, 28, 1) for a declared (28, 28, 1)), and an extra one
        dropped. One sample without its batch axis (x[0] instead of x[0:1]) is named."""
        expected = self._expected_input_shape(i)
        if expected is None:
            return a[:, None] if a.ndim == 1 else a
        if a.ndim == len(expected) - 1:
            if (a.ndim > 1 or expected[-1] != 1) and all(
                    e is None or e == g for e, g in zip(expected[1:], a.shape)):
                raise ValueError(
                    f"{what}: x has shape {tuple(a.shape)}, which is ONE sample of the model's "
                    f"input {_shape_text(expected)}: the batch axis is missing. Pass a batch of "
                    f"one: x[None] (or x[0:1] instead of x[0]).")
            if expected[-1] == 1:
                return a[..., None]
        elif a.ndim == len(expected) + 1 and a.shape[-1] == 1:
            return a[..., 0]
        return a

    def _expected_input_shape(self, i: int) -> tuple | None:
        if getattr(self, "_graph", False):
            return tuple(self.inputs[i].shape)
        declared = getattr(self, "_input_layer", None)
        if declared is not None:
            return tuple(declared._batch_input_shape)
        return None

    def _targets_of(self, y: Any, n: int, what: str) -> list:
        """y (an array, a list or a dict by output name) -> one array (or None) per output."""
        names = self.output_names
        if isinstance(y, dict):
            missing = [k for k in names if k not in y and self._loss_of(k) is not None]
            if missing:
                raise ValueError(f"{what}: the labels dict has keys {sorted(y)} but no labels "
                                 f"for output(s) {missing}. The model's outputs are {names}.")
            unknown = [k for k in y if k not in names]
            if unknown:
                raise ValueError(f"{what}: the labels dict has unknown key(s) {unknown}; the "
                                 f"model's outputs are {names}.")
            ys = [y.get(k) for k in names]
        elif isinstance(y, (list, tuple)) and len(names) > 1:
            if len(y) != len(names):
                raise ValueError(f"{what}: the model has {len(names)} outputs ({names}); got "
                                 f"{len(y)} label arrays.")
            ys = list(y)
        elif isinstance(y, (list, tuple)) and len(y) == 1 and hasattr(y[0], "shape"):
            ys = [y[0]]
        else:
            if len(names) > 1:
                raise ValueError(f"{what}: the model has {len(names)} outputs ({names}); give "
                                 f"one label array per output, as a list or a dict by name.")
            ys = [y]
        out = []
        for k, a in enumerate(ys):
            if a is None:
                out.append(None)
                continue
            a = xp.asarray(a)
            if a.dtype.kind in "USO":
                loss = self._outs[k].loss if k < len(self._outs) else None
                raise TypeError(
                    f"{what}: the labels{_for_output(names, k)} are {_kind_text(a)} (e.g. "
                    f"{a.reshape(-1)[0].item()!r}); the loss "
                    f"{getattr(loss, 'name', '')!r} needs numbers. Encode them as class ids: "
                    f"classes, y_ids = np.unique(y, return_inverse=True) (y_ids are 0 .. K-1), "
                    f"then use 'sparse_categorical_crossentropy' with Dense(K, "
                    f"activation='softmax').")
            if len(a) != n:
                raise ValueError(f"{what}: x and y must have the same number of samples; got "
                                 f"x with {n} and y{_for_output(names, k)} with {len(a)}.")
            _check_finite(a, "y")
            out.append(a)
        return out

    def _loss_of(self, name: str) -> Any:
        for o in self._outs:
            if o.name == name:
                return o.loss
        return True

    def _weights_of(self, sample_weight: Any, n: int, what: str) -> Any:
        if sample_weight is None:
            return None
        if isinstance(sample_weight, (dict, list, tuple)) and len(self.output_names) > 1 and \
                not hasattr(sample_weight, "shape") and not isinstance(sample_weight[0] if
                                                                      isinstance(sample_weight,
                                                                                 (list, tuple))
                                                                      else None, (int, float)):
            raise ValueError(f"{what}: per-output sample weights are not supported; give one "
                             f"array of {n} weights, used for every output.")
        w = xp.asarray(sample_weight, dtype=backend.floatx()).reshape(-1)
        if len(w) != n:
            raise ValueError(f"{what}: sample_weight has {len(w)} entries for {n} samples.")
        return w

    def _validate(self, x, y=None, sample_weight=None, what="fit"):
        xs = self._inputs_of(x, what)
        for a in xs:
            _check_finite(a, "x")
        n = len(xs[0])
        if n == 0:
            raise ValueError(f"{what}: x is empty (0 samples).")
        self._ensure_built(xs)
        if self.compiled and not self._outs:
            self._build_compiled()
        ys = None if y is None else self._targets_of(y, n, what)
        return xs, ys, self._weights_of(sample_weight, n, what)

    def _cast_inputs(self, xs: list) -> list:
        """Each input in the model's float type once (x / 255.0 is float64), not per batch."""
        return [self._cast_input(i, x) for i, x in enumerate(xs)]

    def _cast_input(self, i: int, x: Any) -> Any:
        dtype = self._input_dtype(i)
        if dtype is None or x.dtype == dtype or x.dtype.kind not in "biuf":
            return x
        # Integer data for a float Input is converted too, as Keras does (the book's
        # np.random.randint features), unless the layers reading it take ids (Embedding).
        if x.dtype.kind != "f" and self._reads_ids(i):
            return x
        return x.astype(dtype)

    def _reads_ids(self, i: int) -> bool:
        """Whether a layer that keeps integer inputs (Embedding) reads model input i."""
        if not getattr(self, "_graph", False):
            return True
        slot = self._input_slots[i]
        return any(getattr(st.layer, "keeps_integer_inputs", False)
                   for st in self._steps if slot in st.ins)

    def _ensure_built(self, xs: list) -> None:
        """Build a Sequential or subclassed model from the data's shape; check the others."""
        shapes = [(None,) + tuple(x.shape[1:]) for x in xs]
        if getattr(self, "_graph", False) and not hasattr(self, "_build_layers"):
            for i, (t, s) in enumerate(zip(self.inputs, shapes)):
                if len(t.shape) != len(s) or any(e is not None and e != g for e, g in
                                                  zip(t.shape[1:], s[1:])):
                    raise ValueError(
                        f"Input {i} of model {self.name!r} ({t.name!r}) expects shape "
                        f"{_shape_text(t.shape)}; got {_shape_text(s)}.")
            return
        if hasattr(self, "_build_layers"):          # Sequential
            if not self._layers:
                raise ValueError("The model has no layers: add some with model.add(...).")
            self._build_layers(shapes[0])
        elif not self.built:
            self.build(self._call_shape(shapes))

    def _prepare_targets(self, ys: list, xs: list | None = None) -> list:
        """Check labels against each output once; convert them to what its loss reads."""
        out_shapes = self._output_shapes()
        prepared = []
        for k, (y, o) in enumerate(zip(ys, self._outs)):
            if y is None or o.loss is None:
                prepared.append(y)
                continue
            shape = out_shapes[k]
            if len(shape) > y.ndim + 1 and len(shape) > 2 and len(self._outs) == 1 and \
                    xs is not None and xs[0].ndim > 2:
                x = xs[0]
                raise ValueError(
                    f"The model's output has shape {_shape_text(shape)} but the labels have "
                    f"shape {tuple(y.shape)}. The input x has shape {tuple(x.shape)}: Dense "
                    f"works on the last axis only, so a {x.ndim}-D input stays {x.ndim}-D. Add "
                    f"keras.layers.Flatten() as the first layer "
                    f"(Flatten(input_shape={tuple(x.shape[1:])})), or reshape x to "
                    f"({len(x)}, {math.prod(x.shape[1:])}).")
            try:
                o.loss.check_targets(y, shape)
            except ValueError as e:
                if len(self._outs) > 1:
                    raise ValueError(f"Output {o.name!r}: {e}") from None
                raise
            probe = xp.empty((0,) + tuple(shape[1:]), dtype=self._output_dtype(k))
            prepared.append(o.loss.prepare_targets(y, probe))
        return prepared

    def _output_shapes(self) -> list:
        shape = self.output_shape
        return shape if isinstance(shape, list) else [shape]

    def _output_dtype(self, k: int) -> Any:
        if getattr(self, "_graph", False):
            return self.outputs[k].dtype
        return self.dtype

    # ================================================================ one step
    def _layers_reaching(self, outputs: list) -> set:
        """ids of the layers (nested ones included) on some path to the given outputs."""
        needed = {self._output_slots[k] for k in outputs}
        reached: set = set()
        for step in reversed(self._steps):
            if needed.intersection(step.outs):
                needed.update(step.ins)
                reached.update(id(l) for l in step.layer._flatten_layers())
        return reached

    def _setup_step(self) -> None:
        """Work out, once, what every step needs: parameters, fused gradients, which layers
        need backward at all, the sliced first layers of a CNN."""
        leaves = [l for l in self._flatten_layers() if l is not self]
        fused = []
        for k, o in enumerate(self._outs):
            if o.loss is None or getattr(o.loss, "from_logits", False) or \
                    o.loss.fuses_with is None:
                continue
            layer = self._fusable_output_layer(k)
            if layer is not None and getattr(layer, "activation", None) is \
                    getattr(activations, o.loss.fuses_with):
                fused.append(k)
        self._fused_outputs = tuple(fused)
        s = self._setup
        s.leaves = leaves
        s.param_refs = [(l, n) for l in leaves if l.trainable for n in l._trainable_names]
        if any(o.loss is None for o in self._outs) and self._steps:
            # An output compiled with loss None trains nothing of its own: the layers that
            # only lead to it get no gradient this step (as Keras skips them).
            reached = self._layers_reaching(
                [k for k, o in enumerate(self._outs) if o.loss is not None])
            s.param_refs = [(l, n) for l, n in s.param_refs if id(l) in reached]
        s.params = [l._weights[n] for l, n in s.param_refs]
        s.regularized = [l for l in leaves if l._regularizers]
        s.constrained = [l for l in leaves if l._constraints]
        s.activity = [l for l in leaves if l.activity_regularizer is not None]
        if getattr(self, "_graph", False):
            self._prepare_backward(self._fused_outputs)
            chain = self._leading_chain()
            s.sliced, s.slice_widest = slicing.plan([step.layer for step in chain])
            s.chain = chain
        else:
            s.sliced, s.slice_widest, s.chain = 0, 0, []

    def _fusable_output_layer(self, k: int) -> Any:
        """The layer making output k, when its activation may be fused with the loss: one
        call of it, one output, used by nothing else."""
        if not getattr(self, "_graph", False):
            return None
        slot = self._output_slots[k]
        step = next((st for st in self._steps if slot in st.outs), None)
        if step is None or step.list_out or step.shared or self._consumers.get(slot) or \
                self._output_slots.count(slot) > 1 or isinstance(step.layer, Trainer):
            return None
        if "skip_activation" not in inspect.signature(step.layer.backward).parameters:
            return None         # its backward cannot take dL/dz (an RNN's activation is per step)
        return step.layer

    def _leading_chain(self) -> list:
        """The first steps of a one-input graph that form a plain chain (each reads only the
        previous one's output, which nothing else reads): where slicing may apply."""
        if len(self._input_slots) != 1 or self._uses_masks:
            return []
        chain, slot = [], self._input_slots[0]
        for step in self._steps:
            if step.ins != [slot] or step.list_in or step.list_out or step.shared or \
                    self._consumers.get(slot, 0) != 1 or step.outs[0] in self._output_slots or \
                    step.training is not None or isinstance(step.layer, Trainer):
                break
            chain.append(step)
            slot = step.outs[0]
        return chain

    def _train_step(self, xs: list, ys: list, w: Any = None) -> float:
        """forward, losses, backward, update; returns the batch loss."""
        s = self._setup
        sliced = s.sliced if self.slice_batches else 0
        rows = len(xs[0])
        extra = 0.0
        for layer in s.activity:
            layer._activity_loss = None
        if sliced:
            rows = slicing.slice_rows(rows, s.slice_widest)
            if rows < len(xs[0]):
                out, states = slicing.forward([st.layer for st in s.chain[:sliced]], xs[0], rows)
                outs = self._walk_forward(None, True, start=sliced,
                                          preset=(s.chain[sliced - 1].outs[0], out))
            else:
                sliced = 0
        if not sliced:
            outs = self._forward_list(xs, True)
        if s.activity:
            extra += sum(l._activity_loss for l in s.activity if l._activity_loss is not None)
        loss, grads = self._losses_and_grads(ys, outs, w)
        for layer in s.regularized:
            extra += layer.regularization_loss()
        if sliced:
            dy = self._walk_backward(grads, stop=sliced, want_slot=s.chain[sliced - 1].outs[0])
            stop = next((j for j, st in enumerate(s.chain[:sliced]) if not st.skip), sliced)
            if dy is not None and stop < sliced:
                slicing.backward([st.layer for st in s.chain[:sliced]], states, dy, rows, stop)
        else:
            self._walk_backward(grads)
        for layer in s.regularized:
            layer.add_regularization_grads()
        self.optimizer.apply(s.params, [l.grads[n] for l, n in s.param_refs])
        for layer in s.constrained:
            layer.apply_constraints()
        self._last_outputs = outs
        return loss + extra

    def _losses_and_grads(self, ys: list, outs: list, w: Any) -> tuple[float, list]:
        """Σ_k weight_k · loss_k over the outputs, and dL/d(output_k) (dL/dz where fused)."""
        total = 0.0
        grads = []
        fused = self._fused_outputs
        for k, o in enumerate(self._outs):
            if o.loss is None or ys[k] is None:
                grads.append(None)
                continue
            y, out = ys[k], outs[k]
            per_sample = o.loss.forward(y, out)
            grad = o.loss.fused_backward(y, out) if k in fused else o.loss.backward(y, out)
            value = self._reduce(per_sample, grad, w)
            o.batch_loss = value
            if o.weight is not None and o.weight != 1:
                grad *= backend.cached_scalar(float(o.weight), grad.dtype)
                value *= o.weight
            total += value
            grads.append(grad)
        return total, grads

    @staticmethod
    def _reduce(per_sample, grad, w) -> float:
        """Keras's sum_over_batch_size: Σ w·l / count; the gradient is scaled to match."""
        count = per_sample.size
        if w is None:
            grad *= backend.cached_scalar(1.0 / count, grad.dtype)
            return float(per_sample.sum()) / count
        wl = w.reshape(w.shape + (1,) * (per_sample.ndim - 1))
        grad *= (wl / count).reshape(wl.shape + (1,) * (grad.ndim - wl.ndim))
        return float((per_sample * wl).sum()) / count

    def _test_loss(self, ys: list, outs: list, w: Any = None) -> float:
        """The batch's loss as Keras reports it: Σ_k weight_k Σ w·l / count, plus the
        regularization penalties."""
        total = 0.0
        for k, o in enumerate(self._outs):
            if o.loss is None or ys[k] is None:
                continue
            per_sample = o.loss.forward(ys[k], outs[k])
            if w is None:
                value = float(per_sample.sum()) / per_sample.size
            else:
                wl = w.reshape(w.shape + (1,) * (per_sample.ndim - 1))
                value = float((per_sample * wl).sum()) / per_sample.size
            o.batch_loss = value
            total += value * (1.0 if o.weight is None else o.weight)
        return total + sum(l.regularization_loss() for l in self._setup.regularized)

    # ================================================================ fit
    def fit(self, x: Any = None, y: Any = None, batch_size: int | None = None, epochs: int = 1,
            verbose: Any = "auto", callbacks: list | None = None, validation_split: float = 0.0,
            validation_data: Any = None, shuffle: bool = True, class_weight: dict | None = None,
            sample_weight: Any = None, initial_epoch: int = 0, steps_per_epoch: int | None = None,
            validation_steps: int | None = None, validation_batch_size: int | None = None,
            validation_freq: int = 1, max_queue_size: int | None = None,
            workers: int | None = None, use_multiprocessing: bool | None = None) -> History:
        """Train for `epochs` epochs of mini-batches of `batch_size` (default 32).

        x, y: arrays (lists or dicts of them for several inputs/outputs), or x alone as a
        dataset / generator / PyDataset of (x, y) batches. max_queue_size, workers,
        use_multiprocessing: tf.keras 2.x's, for a PyDataset/Sequence x (see loader_settings).
        """
        val = validation_data[0] if isinstance(validation_data, tuple) and \
            len(validation_data) == 1 else validation_data
        with loader_settings([x, val], workers, use_multiprocessing, max_queue_size):
            return self._fit(x, y, batch_size, epochs, verbose, callbacks, validation_split,
                             validation_data, shuffle, class_weight, sample_weight,
                             initial_epoch, steps_per_epoch, validation_steps,
                             validation_batch_size, validation_freq)

    def _fit(self, x, y, batch_size, epochs, verbose, callbacks, validation_split,
             validation_data, shuffle, class_weight, sample_weight, initial_epoch,
             steps_per_epoch, validation_steps, validation_batch_size,
             validation_freq) -> History:
        self._require_compiled("training it")
        batch_size = self._batch_size(batch_size, "fit")
        if is_batch_source(x):
            if y is not None:
                raise ValueError("fit: when x is a dataset or generator it yields (x, y) "
                                 "batches itself; do not pass y.")
            if validation_split:
                raise ValueError("fit: validation_split needs arrays (it takes the last part "
                                 "of x and y); with a dataset, pass validation_data=... .")
            data = self._iterable_data(x, "fit", steps_per_epoch)
        else:
            xs, ys, sample_weight = self._validate(x, y, sample_weight, "fit")
            if ys is None:
                raise ValueError("fit: y (the labels) is missing.")
            val = None
            if validation_data is None and validation_split:
                xs, ys, sample_weight, val = _split_validation(xs, ys, sample_weight,
                                                               validation_split)
            ys = self._prepare_targets(ys, xs)
            xs = self._cast_inputs(xs)
            if class_weight:
                sample_weight = self._class_weights(class_weight, ys, sample_weight)
            data = ArrayData(xs, ys, sample_weight, batch_size)
            if val is not None:
                validation_data = (self._cast_inputs(val[0]), self._prepare_targets(val[1]),
                                   val[2])
                validation_data = ArrayData(*validation_data, validation_batch_size or
                                            batch_size)
        if validation_data is not None and not isinstance(validation_data, ArrayData):
            validation_data = self._validation_source(validation_data,
                                                      validation_batch_size or batch_size,
                                                      validation_steps)
        self._setup_step()
        steps = steps_per_epoch or data.steps
        verbose = 1 if verbose == "auto" else int(verbose)
        history = History()
        cb_list = ([ProgbarLogger()] if verbose else []) + list(callbacks or []) + [history]
        params = {"verbose": verbose, "epochs": epochs, "steps": steps}
        cbs = CallbackList(cb_list, self, params)
        self.stop_training = False
        self.history = history
        slice_batches = self.slice_batches      # a callback may turn it off while it records
        # A diverging run is reported once, clearly (see _report_nan), not as NumPy warnings.
        try:
            with backend.blas_limit(self._macs_per_sample() * batch_size), \
                    xp.errstate(over="ignore", invalid="ignore"):
                return self._fit_loop(data, validation_data, epochs, initial_epoch, steps,
                                      shuffle, validation_freq, cbs, params, history,
                                      class_weight)
        finally:
            self.slice_batches = slice_batches

    def _iterable_data(self, source: Any, what: str, steps: int | None) -> IterableData:
        data = IterableData(source, what, steps)
        if data.steps is None and what == "fit":
            data.steps = None
        return data

    def _validation_source(self, validation_data: Any, batch_size: int,
                           steps: int | None) -> Any:
        if is_batch_source(validation_data):
            return IterableData(validation_data, "validation_data", steps)
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise ValueError("validation_data must be (x_val, y_val), (x_val, y_val, "
                             "sample_weight) or a dataset of (x, y) batches.")
        vx, vy, *vw = validation_data
        xs, ys, w = self._validate(vx, vy, vw[0] if vw else None, "validation_data")
        return ArrayData(self._cast_inputs(xs), self._prepare_targets(ys), w, batch_size)

    def _fit_loop(self, data, val, epochs, initial_epoch, steps, shuffle, validation_freq, cbs,
                  params, history, class_weight):
        batch_hooks = cbs.wants("on_train_batch_end")
        begin_hooks = cbs.wants("on_train_batch_begin")
        rng = backend.rng()
        iterable = isinstance(data, IterableData)
        logs: dict = {}
        cbs.call("on_train_begin", logs)
        for epoch in range(initial_epoch, epochs):
            self._reset_metrics()
            cbs.call("on_epoch_begin", epoch, {})
            step = -1
            for step, (xb, yb, wb) in enumerate(data.epoch(rng, shuffle, steps)):
                if iterable:
                    xb, yb, wb = self._batch_from_python(xb, yb, wb, class_weight, "fit")
                if begin_hooks:
                    cbs.call("on_train_batch_begin", step, {})
                loss = self._train_step(xb, yb, wb)
                self._update_metrics(loss, yb, self._last_outputs, wb)
                if not math.isfinite(loss):
                    self._report_nan(epoch, step, loss)
                    self.stop_training = True
                if batch_hooks:
                    cbs.call("on_train_batch_end", step, self._logs())
                if self.stop_training:
                    break
            if iterable and params["steps"] is None:
                params["steps"] = step + 1
            logs = self._logs()
            if val is not None and (epoch + 1) % validation_freq == 0:
                params["_in_fit"] = True
                val_logs = self._evaluate_data(val, cbs)
                params.pop("_in_fit")
                logs.update({"val_" + k: v for k, v in val_logs.items()})
            cbs.call("on_epoch_end", epoch, logs)
            if self.stop_training:
                break
        cbs.call("on_train_end", logs)
        return history

    def _batch_from_python(self, x, y, w, class_weight, what) -> tuple:
        """One batch from a dataset or generator, checked and converted like arrays are."""
        xs = self._cast_inputs(self._inputs_of(x, what))
        if not self.built or self._setup.signature is None:
            self._ensure_built(xs)
            if self.compiled and not self._outs:
                self._build_compiled()
            if self._setup.signature is None:
                self._setup_step()
                self._setup.signature = "iterable"
        ys = None if y is None else self._prepare_targets(self._targets_of(y, len(xs[0]), what))
        w = self._weights_of(w, len(xs[0]), what)
        if class_weight and ys is not None:
            w = self._class_weights(class_weight, ys, w)
        return xs, ys, w

    def _macs_per_sample(self) -> float:
        """Multiply-adds per sample of the largest product: kernel size × output positions."""
        best = 0.0
        for layer in self._flatten_layers():
            kernel = layer._weights.get("kernel") if layer._weights else None
            shape = layer.output_shape if kernel is not None else None
            if shape is not None and not isinstance(shape, list):
                first = getattr(layer, "data_format", None) == "channels_first"
                spatial = shape[2:] if first else shape[1:-1]
                positions = math.prod(d or 1 for d in spatial)
                best = max(best, kernel.size * positions)
        return best

    def _report_nan(self, epoch: int, step: int, loss: float) -> None:
        sys.stdout.write(f"\nEpoch {epoch + 1}, batch {step}: the loss became {loss} "
                         f"(not finite); training stopped. Common causes: a learning rate that "
                         f"is too high, unscaled inputs (divide images by 255), or log of 0 in a "
                         f"custom loss.\n")

    @staticmethod
    def _batch_size(batch_size, what):
        if batch_size is None:
            return 32
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"{what}: batch_size must be a positive int; got {batch_size!r}")
        return batch_size

    def _class_weights(self, class_weight, ys, sample_weight):
        if len(self._outs) > 1:
            raise ValueError("class_weight is for models with one output; with several "
                             "outputs, pass sample_weight.")
        y = ys[0]
        labels = y.argmax(axis=-1) if (y.ndim > 1 and y.shape[-1] > 1) else \
            y.reshape(len(y), -1)[:, 0]
        labels = labels.astype(xp.int64)
        table = xp.ones(int(max(max(class_weight), labels.max())) + 1, dtype=backend.floatx())
        for k, v in class_weight.items():
            table[int(k)] = v
        w = table[labels]
        return w if sample_weight is None else w * sample_weight

    # ================================================================ metrics and logs
    def _reset_metrics(self) -> None:
        self._loss_total, self._loss_count = 0.0, 0
        for o in self._outs:
            o.loss_total, o.loss_count = 0.0, 0
            for m in o.metrics + o.weighted:
                m.reset_state()

    def _update_metrics(self, loss, ys, outs, w) -> None:
        n = len(outs[0])
        self._loss_total += loss * n
        self._loss_count += n
        several = len(self._outs) > 1
        for k, o in enumerate(self._outs):
            if several and o.loss is not None and ys[k] is not None:
                o.loss_total += o.batch_loss * n
                o.loss_count += n
            for m in o.metrics:
                m.update_state(ys[k], outs[k])
            for m in o.weighted:
                m.update_state(ys[k], outs[k], w)

    def _logs(self) -> dict:
        """loss, each output's loss (several outputs), then each output's metrics."""
        logs = {"loss": self._loss_total / self._loss_count if self._loss_count else 0.0}
        if len(self._outs) > 1:
            for o in self._outs:
                if o.loss is not None:
                    logs[o.loss_log] = o.loss_total / o.loss_count if o.loss_count else 0.0
        for o in self._outs:
            for m in o.metrics + o.weighted:
                r = m.result()
                logs[m._log_name] = float(r) if xp.ndim(r) == 0 else r
        return logs

    def _ordered_results(self, logs: dict) -> Any:
        """evaluate's list, in Keras 3's order (see _ordered_names)."""
        values = [logs[n] for n in self._ordered_names(logs)]
        return values[0] if len(values) == 1 else values

    # ================================================================ evaluate / predict
    # Inference pushes at most this many rows, and this many bytes of layer outputs (each layer
    # keeps its output until the next pass), through the layers at once.
    INFERENCE_CHUNK_ROWS = 256
    INFERENCE_CHUNK_BYTES = 16 << 20

    def _batches_per_chunk(self, batch_size: int, sliced: int = 0) -> int:
        """How many batches evaluate/predict push through the layers in one forward pass.

        In inference every sample is computed on its own, so small batches can go through
        together: BLAS and the CPU cache do better with ~64 rows than with 32 (the notes'
        CNN predicts ~6% faster), and BLAS gains little past a few hundred rows. Callbacks and
        the progress bar still see batches of `batch_size`. One batch at a time when a layer
        comes from outside mitbadak (it might mix the samples of a batch, as batch statistics
        do), or in a subclassed model. The first `sliced` layers run in slices
        (models/slicing.py), so of their outputs only the last, joined one counts."""
        if not getattr(self, "_graph", False):
            return 1
        leaves = [l for l in self._flatten_layers() if l is not self]
        if not all(is_builtin(l) for l in leaves):
            return 1
        per_sample = 0                                  # bytes of all layer outputs, one sample
        steps = self._steps[max(sliced - 1, 0):]
        for step in steps:
            size = output_bytes(step.layer) if not isinstance(step.layer, Trainer) else None
            if size is None:
                return 1
            per_sample += size
        rows = min(self.INFERENCE_CHUNK_ROWS, self.INFERENCE_CHUNK_BYTES // max(per_sample, 1))
        return max(1, rows // batch_size)

    def _inference_batches(self, data: Any, cbs: Any, begin_hook: str):
        """(step, the batch's labels and weights, the model's outputs for that batch) for
        every batch, in inference mode; a callback's `begin_hook` is called before each
        batch is computed."""
        begin = bool(cbs) and cbs.wants(begin_hook)
        if isinstance(data, IterableData):
            for step, (xb, yb, wb) in enumerate(data.epoch()):
                xs, ys, w = self._batch_from_python(xb, yb, wb, None, "evaluate")
                if begin:
                    cbs.call(begin_hook, step, {})
                yield step, ys, w, self._forward_list(xs, False)
            return
        batch_size, n = data.batch_size, data.n
        n_steps = data.steps
        chain = self._leading_chain() if getattr(self, "_graph", False) else []
        sliced, widest = slicing.plan([st.layer for st in chain]) if self.slice_batches \
            else (0, 0)
        # With a begin hook, one batch per pass: the hook must run before its batch is computed.
        per_chunk = 1 if begin else self._batches_per_chunk(batch_size, sliced)
        for first in range(0, n_steps, per_chunk):
            if begin:
                cbs.call(begin_hook, first, {})
            start = first * batch_size
            stop = min(start + per_chunk * batch_size, n)
            xs = [x[start:stop] for x in data.xs]
            xs = [x.astype(self._input_dtype(i)) if self._input_dtype(i) is not None and
                  x.dtype != self._input_dtype(i) and x.dtype.kind == "f" else x
                  for i, x in enumerate(xs)]
            rows = slicing.slice_rows(len(xs[0]), widest) if sliced else len(xs[0])
            if rows < len(xs[0]):               # a CNN's first layers in cache-sized slices
                out, _ = slicing.forward([st.layer for st in chain[:sliced]], xs[0], rows,
                                         training=False)
                outs = self._walk_forward(None, False, start=sliced,
                                          preset=(chain[sliced - 1].outs[0], out))
            else:
                outs = self._forward_list(xs, False)
            for step in range(first, min(first + per_chunk, n_steps)):
                lo = step * batch_size - start
                hi = lo + batch_size
                sl = slice(step * batch_size, min((step + 1) * batch_size, n))
                ys = None if data.ys is None else [None if y is None else y[sl] for y in data.ys]
                w = None if data.w is None else data.w[sl]
                yield step, ys, w, [o[lo:hi] for o in outs]

    def _evaluate_data(self, data: Any, cbs: Any) -> dict:
        self._reset_metrics()
        if cbs:
            cbs.call("on_test_begin", {})
        end = bool(cbs) and cbs.wants("on_test_batch_end")
        for step, ys, w, outs in self._inference_batches(data, cbs, "on_test_batch_begin"):
            if ys is None:
                raise ValueError("evaluate: the data has no labels (y).")
            loss = self._test_loss(ys, outs, w)
            self._update_metrics(loss, ys, outs, w)
            if end:
                cbs.call("on_test_batch_end", step, self._logs())
        logs = self._logs()
        if cbs:
            cbs.call("on_test_end", logs)
        return logs

    def evaluate(self, x: Any = None, y: Any = None, batch_size: int | None = None,
                 verbose: Any = "auto", sample_weight: Any = None, steps: int | None = None,
                 callbacks: list | None = None, return_dict: bool = False,
                 max_queue_size: int | None = None, workers: int | None = None,
                 use_multiprocessing: bool | None = None) -> Any:
        """Loss and metrics on (x, y) in inference mode: a float, a list (Keras 3's order)
        or a dict. max_queue_size, workers, use_multiprocessing: as in fit."""
        with loader_settings([x], workers, use_multiprocessing, max_queue_size):
            return self._evaluate(x, y, batch_size, verbose, sample_weight, steps, callbacks,
                                  return_dict)

    def _evaluate(self, x, y, batch_size, verbose, sample_weight, steps, callbacks,
                  return_dict) -> Any:
        self._require_compiled("evaluating it")
        batch_size = self._batch_size(batch_size, "evaluate")
        if is_batch_source(x):
            data = IterableData(x, "evaluate", steps)
            n_steps = data.steps
        else:
            xs, ys, w = self._validate(x, y, sample_weight, "evaluate")
            if ys is None:
                raise ValueError("evaluate: y (the labels) is missing.")
            data = ArrayData(self._cast_inputs(xs), self._prepare_targets(ys, xs), w, batch_size)
            n_steps = data.steps
        self._setup_step()
        verbose = 1 if verbose == "auto" else int(verbose)
        cb_list = ([ProgbarLogger()] if verbose else []) + list(callbacks or [])
        cbs = CallbackList(cb_list, self, {"verbose": verbose, "epochs": 1, "steps": n_steps})
        with backend.blas_limit(self._macs_per_sample() * batch_size), \
                xp.errstate(over="ignore", invalid="ignore"):
            logs = self._evaluate_data(data, cbs)
        if return_dict:
            return logs
        return self._ordered_results(logs)

    def predict(self, x: Any, batch_size: int | None = None, verbose: Any = "auto",
                steps: int | None = None, callbacks: list | None = None,
                max_queue_size: int | None = None, workers: int | None = None,
                use_multiprocessing: bool | None = None) -> Any:
        """Outputs for x in inference mode, computed batch by batch: a float32 NumPy array
        (a list or dict of them for several outputs, in the model's output structure).
        max_queue_size, workers, use_multiprocessing: as in fit."""
        with loader_settings([x], workers, use_multiprocessing, max_queue_size):
            return self._predict(x, batch_size, verbose, steps, callbacks)

    # tf.keras 2.x's generator methods: deprecated there, the same as fit/evaluate/predict.
    def fit_generator(self, generator: Any, steps_per_epoch: int | None = None,
                      epochs: int = 1, verbose: Any = 1, callbacks: list | None = None,
                      validation_data: Any = None, validation_steps: int | None = None,
                      validation_freq: int = 1, class_weight: dict | None = None,
                      max_queue_size: int = 10, workers: int = 1,
                      use_multiprocessing: bool = False, shuffle: bool = True,
                      initial_epoch: int = 0) -> History:
        """tf.keras 2.x's ``fit_generator``: ``fit`` on a generator (use fit)."""
        _deprecated("fit_generator", "fit")
        return self.fit(generator, steps_per_epoch=steps_per_epoch, epochs=epochs,
                        verbose=verbose, callbacks=callbacks, validation_data=validation_data,
                        validation_steps=validation_steps, validation_freq=validation_freq,
                        class_weight=class_weight, max_queue_size=max_queue_size,
                        workers=workers, use_multiprocessing=use_multiprocessing,
                        shuffle=shuffle, initial_epoch=initial_epoch)

    def evaluate_generator(self, generator: Any, steps: int | None = None,
                           callbacks: list | None = None, max_queue_size: int = 10,
                           workers: int = 1, use_multiprocessing: bool = False,
                           verbose: Any = 0) -> Any:
        """tf.keras 2.x's ``evaluate_generator`` (use evaluate)."""
        _deprecated("evaluate_generator", "evaluate")
        return self.evaluate(generator, steps=steps, callbacks=callbacks,
                             max_queue_size=max_queue_size, workers=workers,
                             use_multiprocessing=use_multiprocessing, verbose=verbose)

    def predict_generator(self, generator: Any, steps: int | None = None,
                          callbacks: list | None = None, max_queue_size: int = 10,
                          workers: int = 1, use_multiprocessing: bool = False,
                          verbose: Any = 0) -> Any:
        """tf.keras 2.x's ``predict_generator`` (use predict)."""
        _deprecated("predict_generator", "predict")
        return self.predict(generator, steps=steps, callbacks=callbacks,
                            max_queue_size=max_queue_size, workers=workers,
                            use_multiprocessing=use_multiprocessing, verbose=verbose)

    def _predict(self, x, batch_size, verbose, steps, callbacks) -> Any:
        batch_size = self._batch_size(batch_size, "predict")
        if is_batch_source(x):
            data = IterableData(x, "predict", steps)
        else:
            xs = self._inputs_of(x, "predict")
            if len(xs[0]) == 0:
                raise ValueError("predict: x is empty (0 samples); pass at least one sample.")
            self._ensure_built(xs)
            # Integer data becomes the Input's float type here; float data is cast batch by
            # batch by the first layer (no copy of a whole float64 dataset).
            xs = [self._cast_input(i, x) if x.dtype.kind in "biu" else x
                  for i, x in enumerate(xs)]
            data = ArrayData(xs, None, None, batch_size)
        verbose = 1 if verbose == "auto" else int(verbose)
        cb_list = ([ProgbarLogger()] if verbose else []) + list(callbacks or [])
        cbs = CallbackList(cb_list, self, {"verbose": verbose, "epochs": 1,
                                           "steps": data.steps})
        with backend.blas_limit(self._macs_per_sample() * batch_size):
            outs = self._predict_loop(data, cbs)
        return self._pack_outputs(outs)

    def _predict_loop(self, data, cbs) -> list:
        collected: list | None = None
        cbs.call("on_predict_begin", {})
        end = cbs.wants("on_predict_batch_end")
        arrays = isinstance(data, ArrayData)
        for step, _, _, outs in self._inference_batches(data, cbs, "on_predict_batch_begin"):
            if arrays:
                if collected is None:
                    collected = [xp.empty((data.n,) + tuple(o.shape[1:]), dtype=o.dtype)
                                 for o in outs]
                lo = step * data.batch_size
                for c, o in zip(collected, outs):
                    c[lo:lo + len(o)] = o
            else:
                collected = [[o] for o in outs] if collected is None else collected
                if step:
                    for c, o in zip(collected, outs):
                        c.append(o)
            if end:
                cbs.call("on_predict_batch_end", step,
                         {"outputs": outs[0] if len(outs) == 1 else outs})
        cbs.call("on_predict_end", {})
        if not arrays:
            collected = [xp.concatenate(c) for c in collected]
        return collected

    # ================================================================ single batches
    def train_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None,
                       class_weight: dict | None = None, reset_metrics: bool = True,
                       return_dict: bool = False) -> Any:
        """One gradient step on this batch; returns the loss (and metrics)."""
        self._require_compiled("training it")
        xs, ys, w = self._single_batch(x, y, sample_weight, "train_on_batch")
        if class_weight:
            w = self._class_weights(class_weight, ys, w)
        if reset_metrics:
            self._reset_metrics()
        loss = self._train_step(xs, ys, w)
        self._update_metrics(loss, ys, self._last_outputs, w)
        return self._batch_result(return_dict)

    def test_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None,
                      reset_metrics: bool = True, return_dict: bool = False) -> Any:
        self._require_compiled("evaluating it")
        xs, ys, w = self._single_batch(x, y, sample_weight, "test_on_batch")
        if reset_metrics:
            self._reset_metrics()
        outs = self._forward_list(xs, False)
        loss = self._test_loss(ys, outs, w)
        self._update_metrics(loss, ys, outs, w)
        return self._batch_result(return_dict)

    def predict_on_batch(self, x: Any) -> Any:
        xs = self._inputs_of(x, "predict_on_batch")
        self._ensure_built(xs)
        return self._pack_outputs(self._forward_list(self._cast_inputs(xs), False))

    def _single_batch(self, x, y, sample_weight, what) -> tuple:
        """Checks run once per input/label signature, so a loop of single batches stays fast."""
        if isinstance(x, xp.ndarray) and isinstance(y, xp.ndarray) and \
                self._setup.signature is not None:
            signature = (x.shape[1:], x.dtype, y.shape[1:], y.dtype, self._trainable_state())
            if signature == self._setup.signature:
                if len(y) != len(x):
                    raise ValueError(f"x has {len(x)} samples but y has {len(y)}.")
                o = self._outs[0]
                dtype = self._input_dtype(0)
                if dtype is not None and x.dtype != dtype and x.dtype.kind == "f":
                    x = x.astype(dtype)
                w = None if sample_weight is None else xp.asarray(sample_weight,
                                                                  dtype=backend.floatx())
                return [x], [o.loss.prepare_targets(y, self._setup.probe)], w
        xs, ys, w = self._validate(x, y, sample_weight, what)
        if ys is None:
            raise ValueError(f"{what}: y (the labels) is missing.")
        xs, ys = self._cast_inputs(xs), self._prepare_targets(ys, xs)
        self._setup_step()
        if len(xs) == 1 and len(ys) == 1 and isinstance(x, xp.ndarray) and \
                isinstance(y, xp.ndarray) and self._outs[0].loss is not None:
            self._setup.probe = xp.empty((0,) + tuple(self._output_shapes()[0][1:]),
                                         dtype=self._output_dtype(0))
            self._setup.signature = (x.shape[1:], x.dtype, y.shape[1:], y.dtype,
                                     self._trainable_state())
        else:
            self._setup.signature = None
        return xs, ys, w

    def _trainable_state(self) -> tuple:
        """The layers' trainable flags (freezing one after a step changes the parameters)."""
        return tuple(l._trainable for l in self._setup.leaves)

    def _batch_result(self, return_dict: bool) -> Any:
        if not return_dict and len(self._outs) == 1 and not (self._outs[0].metrics or
                                                             self._outs[0].weighted):
            return self._loss_total / self._loss_count        # only the loss: a float
        logs = self._logs()
        if return_dict:
            return logs
        return self._ordered_results(logs)


# ==================================================================== helpers
def _per_output(spec: Any, names: list[str], what: str, broadcast: bool) -> list:
    """A loss/loss_weights spec -> one entry per output (Keras 3's rules)."""
    n = len(names)
    if isinstance(spec, dict):
        unknown = [k for k in spec if k not in names]
        if unknown:
            raise ValueError(f"compile({what}=...): key(s) {unknown} are not outputs of the "
                             f"model; its outputs are {names}.")
        if what == "loss":
            missing = [k for k in names if k not in spec]
            if missing and n > 1:
                raise ValueError(f"compile(loss=...): the dict has no loss for output(s) "
                                 f"{missing}. Give every output a loss (or None to leave one "
                                 f"untrained); the outputs are {names}.")
        return [spec.get(k) for k in names]
    if isinstance(spec, (list, tuple)):
        if len(spec) != n:
            raise ValueError(f"compile({what}=...): got a list of {len(spec)} for a model with "
                             f"{n} output(s) ({names}). Give one entry per output, or a dict by "
                             f"output name.")
        return list(spec)
    return [spec] * n if broadcast else [spec] + [None] * (n - 1)


def _metrics_per_output(spec: Any, names: list[str], what: str) -> list[list]:
    """metrics: a list (one output: all of it; several: one entry per output), a list of
    lists, or a dict by output name -> a list of metric specs per output."""
    n = len(names)
    if not spec:
        return [[] for _ in names]
    if isinstance(spec, dict):
        unknown = [k for k in spec if k not in names]
        if unknown:
            raise ValueError(f"compile({what}=...): key(s) {unknown} are not outputs of the "
                             f"model; its outputs are {names}. Key the dict by output name, or "
                             f"pass a list, e.g. {what}=['accuracy'].")
    if n == 1:
        if isinstance(spec, dict):
            spec = spec.get(names[0], [])
        flat = []
        for m in (spec if isinstance(spec, (list, tuple)) else [spec]):
            flat.extend(m if isinstance(m, (list, tuple)) else [m])
        return [flat]
    if isinstance(spec, dict):
        per = [spec.get(k) for k in names]
    elif isinstance(spec, (list, tuple)) and len(spec) == n:
        per = list(spec)
    else:
        raise ValueError(f"compile({what}={spec!r}): the model has {n} outputs ({names}); give "
                         f"a list with one entry (a metric or a list of metrics) per output, "
                         f"e.g. {what}=[['mae'], ['accuracy']], or a dict by output name.")
    return [[] if p is None else list(p) if isinstance(p, (list, tuple)) else [p] for p in per]


def _split_validation(xs, ys, w, fraction):
    """Keras's validation_split: the last `fraction` of the samples, before any shuffling."""
    if not 0 < fraction < 1:
        raise ValueError(f"validation_split must be in (0, 1); got {fraction}")
    n = len(xs[0])
    split = int(math.floor(n * (1.0 - fraction)))
    if split == 0 or split == n:
        raise ValueError(f"validation_split={fraction} leaves an empty part of {n} samples.")
    val = ([x[split:] for x in xs], [None if y is None else y[split:] for y in ys],
           None if w is None else w[split:])
    return ([x[:split] for x in xs], [None if y is None else y[:split] for y in ys],
            None if w is None else w[:split], val)


def _check_finite(a: Any, name: str) -> None:
    if a.dtype.kind != "f":
        return
    if math.isfinite(float(a.sum(dtype=xp.float64))):     # one cheap pass; rarely false
        return
    bad = ~xp.isfinite(a.reshape(len(a), -1)).all(axis=1)
    if bad.any():
        first = int(xp.argmax(bad))
        count = int(bad.sum())
        raise ValueError(f"{name} contains NaN or infinite values ({count} "
                         f"sample{'s' if count > 1 else ''}, the first at index {first}). "
                         f"Clean them first, e.g. np.nan_to_num({name}) or by dropping those "
                         f"rows.")


def _shape_text(shape: Any) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + \
        ("," if len(shape) == 1 else "") + ")"


def _for_output(names: list, k: int) -> str:
    return f" of output {names[k]!r}" if len(names) > 1 else ""


def _kind_text(a: Any) -> str:
    return "strings" if a.dtype.kind in "US" else "Python objects"
