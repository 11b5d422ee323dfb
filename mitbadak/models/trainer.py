"""compile / fit / evaluate / predict: the one training loop.

One training step is the notes' loop: forward through the layers, the loss and its gradient,
backward through the layers in reverse, the optimizer's update. When the last layer's
activation pairs with the loss (softmax + categorical cross-entropy, sigmoid + binary
cross-entropy) the gradient with respect to the pre-activation is taken directly: (p − t)/N.
"""
from __future__ import annotations

import math
import sys
from typing import Any

from .. import activations, backend, losses, metrics as metrics_mod, optimizers
from ..backend import xp
from ..callbacks import CallbackList, History, ProgbarLogger
from ..layers.layer import is_builtin, output_bytes
from . import slicing


class Model:
    """What every model can do once it has layers: compile, fit, evaluate, predict."""

    # Train a CNN's first layers in cache-sized slices of each batch (models/slicing.py): same
    # gradients, faster. False: every layer sees the whole batch (LayerStats sets this while
    # it records, as it reads whole-batch outputs).
    slice_batches = True

    def __init__(self, *args: Any, name: str | None = None, **kwargs: Any):
        if args or kwargs:
            raise TypeError("keras.Model(inputs, outputs) (the functional API) and subclassed "
                            "models are not provided by mitbadak; build the same network with "
                            "keras.Sequential([...]).")
        self.name = name
        self.optimizer = None
        self.loss = None
        self.compiled = False
        self.stop_training = False
        self.history = None
        self._loss = None
        self._metrics: list = []
        self._weighted_metrics: list = []
        self._metric_specs: list = []
        self._ready_signature = None

    # ---------------------------------------------------------------- compile
    def compile(self, optimizer: Any = "rmsprop", loss: Any = None, loss_weights: Any = None,
                metrics: Any = None, weighted_metrics: Any = None, run_eagerly: bool = False,
                steps_per_execution: int = 1, jit_compile: Any = "auto", **kwargs: Any) -> None:
        """Choose the optimizer, the loss and the metrics (Keras's defaults: rmsprop)."""
        if kwargs:
            raise TypeError(f"compile: unexpected keyword argument(s) {', '.join(sorted(kwargs))}")
        self.optimizer = optimizers.get(optimizer)
        self.loss = loss
        self._loss = None if loss is None else losses.get(loss)
        if isinstance(metrics, dict):
            raise ValueError("compile(metrics=dict) is for multi-output models; this model has one "
                             "output: pass a list, e.g. metrics=['accuracy'].")
        if isinstance(metrics, (str, metrics_mod.Metric)) or callable(metrics):
            metrics = [metrics]
        self._metric_specs = list(metrics or [])
        self._weighted_metric_specs = list(weighted_metrics or [])
        self._metrics = [metrics_mod.get(m) for m in self._metric_specs]
        # Keras weights only `weighted_metrics` by sample_weight; a clashing name gets a prefix.
        names = {m.name for m in self._metrics}
        self._weighted_metrics = []
        for spec in self._weighted_metric_specs:
            m = metrics_mod.get(spec)
            if m.name in names:
                m.name = "weighted_" + m.name
            self._weighted_metrics.append(m)
        self.compiled = True
        self._ready_signature = None

    @property
    def metrics_names(self) -> list[str]:
        return ["loss"] + [m.name for m in self._metrics + self._weighted_metrics]

    @property
    def metrics(self) -> list:
        return list(self._metrics + self._weighted_metrics)

    def _reset_compiled_state(self) -> None:
        self._ready_signature = None

    def _require_compiled(self, what: str) -> None:
        if not self.compiled or self._loss is None:
            raise RuntimeError(f"You must compile your model before {what}: call "
                               f"model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', "
                               f"metrics=['accuracy']) (with your own loss) first.")

    # ---------------------------------------------------------------- data checks
    def _as_input(self, x: Any, name: str = "x") -> Any:
        if x is None:
            raise ValueError(f"{name} is None: pass the input data as a NumPy array.")
        if isinstance(x, (list, tuple)) and x and hasattr(x[0], "shape") and len(x) == 1:
            x = x[0]
        x = xp.asarray(x)
        if x.dtype.kind not in "biuf":
            raise TypeError(f"{name} must be numeric; got an array of dtype {x.dtype}.")
        if x.ndim == 0:
            raise ValueError(f"{name} must have a batch axis; got a scalar.")
        if x.ndim == 1 and (not self._layers or self._expects_rank() == 2):
            x = x[:, None]      # (N,) -> (N, 1), as tf.keras does for one-feature inputs
        return x

    def _expects_rank(self) -> int | None:
        shape = getattr(self, "_input_layer", None)
        if shape is not None:
            return len(shape._batch_input_shape)
        first = self._layers[0]
        return len(first.input_shape) if first.built and first.input_shape else None

    @staticmethod
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
                             f"sample{'s' if count > 1 else ''}, the first at index {first}). Clean them first, e.g. "
                             f"np.nan_to_num({name}) or by dropping those rows.")

    def _validate(self, x, y=None, sample_weight=None, what="fit"):
        x = self._as_input(x)
        self._check_finite(x, "x")
        if y is not None:
            y = xp.asarray(y)
            if len(y) != len(x):
                raise ValueError(f"{what}: x and y must have the same number of samples; got "
                                 f"x with {len(x)} and y with {len(y)}.")
            self._check_finite(y, "y")
        if sample_weight is not None:
            sample_weight = xp.asarray(sample_weight, dtype=backend.floatx()).reshape(-1)
            if len(sample_weight) != len(x):
                raise ValueError(f"{what}: sample_weight has {len(sample_weight)} entries for "
                                 f"{len(x)} samples.")
        if len(x) == 0:
            raise ValueError(f"{what}: x is empty (0 samples).")
        return x, y, sample_weight

    def _cast_inputs(self, x):
        """Convert the whole input to the model's float type once (x / 255.0 is float64),
        instead of once per batch."""
        dtype = self._layers[0].dtype
        return x.astype(dtype) if x.dtype.kind == "f" and x.dtype != dtype else x

    def _ensure_built(self, x) -> None:
        if not self._layers:
            raise ValueError("The model has no layers: add some with model.add(...).")
        # Builds the layers not built yet and checks the others against x's shape.
        self._build_layers((None,) + tuple(x.shape[1:]))

    def _prepare_targets(self, x, y) -> Any:
        """Check labels against the output once; convert them to what the loss reads."""
        out_shape = self.output_shape
        if len(out_shape) > y.ndim + 1 and len(x.shape) > 2:
            raise ValueError(
                f"The model's output has shape {out_shape} but the labels have shape "
                f"{tuple(y.shape)}. The input x has shape {tuple(x.shape)}: Dense works on the last "
                f"axis only, so a {x.ndim}-D input stays {x.ndim}-D. Add keras.layers.Flatten() as "
                f"the first layer (Flatten(input_shape={tuple(x.shape[1:])})), or reshape x to "
                f"({len(x)}, {math.prod(x.shape[1:])}).")
        self._loss.check_targets(y, out_shape)
        dtype = self._layers[-1].dtype
        return self._loss.prepare_targets(y, xp.empty((0,) + tuple(out_shape[1:]), dtype=dtype))

    def _setup_step(self) -> None:
        """Work out, once, what every step needs: parameters, the fused gradient, the layers
        that need backward at all (none before the first one with weights)."""
        layers = self._layers
        last = layers[-1]
        act = getattr(last, "activation", None)
        fuses = self._loss.fuses_with
        from_logits = getattr(self._loss, "from_logits", False)
        self._fused = (not from_logits and fuses is not None and act is not None
                       and act is getattr(activations, fuses))
        with_weights = [i for i, l in enumerate(layers) if l.params]
        self._first_trainable = with_weights[0] if with_weights else len(layers)
        self._param_refs = [(l, n) for l in layers if l.trainable for n in l._trainable_names]
        self._params = [l._weights[n] for l, n in self._param_refs]
        self._regularized = [l for l in layers if l._regularizers]
        self._activity = [l for l in layers if l.activity_regularizer is not None]
        self._constrained = [l for l in layers if l._constraints]
        # The first layers of a CNN train in cache-sized slices of the batch (slicing.py).
        self._sliced, self._slice_widest = slicing.plan(layers)

    # ---------------------------------------------------------------- one step
    def _train_step(self, x, y, w=None) -> float:
        """forward, loss, backward, update; returns the batch loss."""
        layers = self._layers
        out = x
        extra = 0.0
        sliced, rows = self._sliced if self.slice_batches else 0, len(x)
        if sliced:
            rows = slicing.slice_rows(len(x), self._slice_widest)
            if rows < len(x):
                out, states = slicing.forward(layers[:sliced], x, rows)
            else:
                sliced = 0
        for layer in layers[sliced:]:
            out = layer.forward(out, training=True)
            if self._activity and layer.activity_regularizer is not None:
                layer._activity_out = out
                extra += layer.activity_regularizer(out) / len(out)
        per_sample = self._loss.forward(y, out)
        grad = self._loss.fused_backward(y, out) if self._fused else self._loss.backward(y, out)
        loss = self._reduce(per_sample, grad, w)
        for layer in self._regularized:
            extra += layer.regularization_loss()
        stop = self._first_trainable
        dy = grad
        for i in range(len(layers) - 1, max(stop, sliced) - 1, -1):
            layer = layers[i]
            if self._activity and layer.activity_regularizer is not None:
                dy = dy + layer.activity_regularizer.gradient(layer._activity_out) / len(dy)
            if i == stop:
                layer.needs_input_grad = False       # nobody needs dL/dx of the first one
            dy = layer.backward(dy, skip_activation=True) if (self._fused and i == len(layers) - 1) \
                else layer.backward(dy)
            if i == stop:
                layer.needs_input_grad = True
        if stop < sliced:
            slicing.backward(layers[:sliced], states, dy, rows, stop)
        for layer in self._regularized:
            layer.add_regularization_grads()
        refs = self._param_refs
        self.optimizer.apply(self._params, [l.grads[n] for l, n in refs])
        for layer in self._constrained:
            layer.apply_constraints()
        self._last_output = out
        return loss + extra

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

    def _test_step(self, x, y, w=None) -> tuple[float, Any]:
        out = self.forward(x, training=False)
        return self._test_loss(y, out, w), out

    def _test_loss(self, y, out, w=None) -> float:
        """The batch's loss as Keras reports it: Σ w·l / count, plus the regularization."""
        per_sample = self._loss.forward(y, out)
        if w is None:
            loss = float(per_sample.sum()) / per_sample.size
        else:
            wl = w.reshape(w.shape + (1,) * (per_sample.ndim - 1))
            loss = float((per_sample * wl).sum()) / per_sample.size
        return loss + sum(l.regularization_loss() for l in self._regularized)

    # ---------------------------------------------------------------- fit
    def fit(self, x: Any = None, y: Any = None, batch_size: int | None = None, epochs: int = 1,
            verbose: Any = "auto", callbacks: list | None = None, validation_split: float = 0.0,
            validation_data: Any = None, shuffle: bool = True, class_weight: dict | None = None,
            sample_weight: Any = None, initial_epoch: int = 0, steps_per_epoch: int | None = None,
            validation_steps: int | None = None, validation_batch_size: int | None = None,
            validation_freq: int = 1) -> History:
        """Train for `epochs` epochs of mini-batches of `batch_size` (default 32)."""
        self._require_compiled("training it")
        x, y, sample_weight = self._validate(x, y, sample_weight, "fit")
        if y is None:
            raise ValueError("fit: y (the labels) is missing.")
        if validation_data is None and validation_split:
            if not 0 < validation_split < 1:
                raise ValueError(f"validation_split must be in (0, 1); got {validation_split}")
            split = int(math.floor(len(x) * (1.0 - validation_split)))
            if split == 0 or split == len(x):
                raise ValueError(f"validation_split={validation_split} leaves an empty part of "
                                 f"{len(x)} samples.")
            val = (x[split:], y[split:], None if sample_weight is None else sample_weight[split:])
            x, y = x[:split], y[:split]
            sample_weight = None if sample_weight is None else sample_weight[:split]
        elif validation_data is not None:
            if len(validation_data) not in (2, 3):
                raise ValueError("validation_data must be (x_val, y_val) or (x_val, y_val, weights).")
            vx, vy, *vw = validation_data
            vx, vy, vw = self._validate(vx, vy, vw[0] if vw else None, "validation_data")
            val = (vx, vy, vw)
        else:
            val = None
        batch_size = self._batch_size(batch_size, "fit")
        self._ensure_built(x)
        x = self._cast_inputs(x)
        y = self._prepare_targets(x, y)
        if val is not None:
            val = (self._cast_inputs(val[0]), self._prepare_targets(val[0], val[1]), val[2])
        if class_weight:
            sample_weight = self._class_weights(class_weight, y, sample_weight)
        self._setup_step()

        n = len(x)
        steps = steps_per_epoch or math.ceil(n / batch_size)
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
                return self._fit_loop(x, y, sample_weight, val, batch_size, epochs,
                                      initial_epoch, steps, shuffle, validation_freq,
                                      validation_batch_size, cbs, params, history)
        finally:
            self.slice_batches = slice_batches

    def _fit_loop(self, x, y, sample_weight, val, batch_size, epochs, initial_epoch, steps,
                  shuffle, validation_freq, validation_batch_size, cbs, params, history):
        n = len(x)
        batch_hooks = cbs.wants("on_train_batch_end")
        begin_hooks = cbs.wants("on_train_batch_begin")
        dtype = self._layers[0].dtype
        rng = backend.rng()
        logs: dict = {}
        cbs.call("on_train_begin", logs)
        for epoch in range(initial_epoch, epochs):
            self._reset_metrics()
            cbs.call("on_epoch_begin", epoch, {})
            order = rng.permutation(n) if shuffle else None
            for step in range(steps):
                start = (step * batch_size) % n
                sl = slice(start, min(start + batch_size, n))
                idx = sl if order is None else order[sl]
                xb, yb = x[idx], y[idx]
                if xb.dtype != dtype:
                    xb = xb.astype(dtype)
                wb = None if sample_weight is None else sample_weight[idx]
                if begin_hooks:
                    cbs.call("on_train_batch_begin", step, {})
                loss = self._train_step(xb, yb, wb)
                self._update_metrics(loss, yb, self._last_output, wb)
                if not math.isfinite(loss):
                    self._report_nan(epoch, step, loss)
                    self.stop_training = True
                if batch_hooks:
                    cbs.call("on_train_batch_end", step, self._logs())
                if self.stop_training:
                    break
            logs = self._logs()
            if val is not None and (epoch + 1) % validation_freq == 0:
                params["_in_fit"] = True
                val_logs = self._evaluate_arrays(*val, validation_batch_size or batch_size,
                                                 cbs)
                params.pop("_in_fit")
                logs.update({"val_" + k: v for k, v in val_logs.items()})
            cbs.call("on_epoch_end", epoch, logs)
            if self.stop_training:
                break
        cbs.call("on_train_end", logs)
        return history

    def _macs_per_sample(self) -> float:
        """Multiply-adds per sample of the largest product: kernel size × output positions."""
        best = 0.0
        for layer in self._layers:
            kernel = layer._weights.get("kernel") if layer._weights else None
            if kernel is not None and layer.output_shape is not None:
                first = getattr(layer, "data_format", None) == "channels_first"
                spatial = layer.output_shape[2:] if first else layer.output_shape[1:-1]
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

    def _class_weights(self, class_weight, y, sample_weight):
        labels = y.argmax(axis=-1) if (y.ndim > 1 and y.shape[-1] > 1) else y.reshape(len(y), -1)[:, 0]
        labels = labels.astype(xp.int64)
        table = xp.ones(int(max(max(class_weight), labels.max())) + 1, dtype=backend.floatx())
        for k, v in class_weight.items():
            table[int(k)] = v
        w = table[labels]
        return w if sample_weight is None else w * sample_weight

    # ---------------------------------------------------------------- metrics
    def _reset_metrics(self) -> None:
        self._loss_total, self._loss_count = 0.0, 0
        for m in self._metrics + self._weighted_metrics:
            m.reset_state()

    def _update_metrics(self, loss, y, out, w) -> None:
        n = len(out)
        self._loss_total += loss * n
        self._loss_count += n
        for m in self._metrics:
            m.update_state(y, out)
        for m in self._weighted_metrics:
            m.update_state(y, out, w)

    def _logs(self) -> dict:
        logs = {"loss": self._loss_total / self._loss_count if self._loss_count else 0.0}
        for m in self._metrics + self._weighted_metrics:
            r = m.result()
            logs[m.name] = float(r) if xp.ndim(r) == 0 else r
        return logs

    # ---------------------------------------------------------------- evaluate / predict
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
        do). The first `sliced` layers run in slices (models/slicing.py), so of their
        outputs only the last, joined one counts."""
        if not all(is_builtin(l) for l in self._layers):
            return 1
        per_sample = 0                                  # bytes of all layer outputs, one sample
        for layer in self._layers[max(sliced - 1, 0):]:
            size = output_bytes(layer)
            if size is None:
                return 1
            per_sample += size
        rows = min(self.INFERENCE_CHUNK_ROWS, self.INFERENCE_CHUNK_BYTES // max(per_sample, 1))
        return max(1, rows // batch_size)

    def _inference_batches(self, x: Any, batch_size: int, n_steps: int, cbs: Any,
                           begin_hook: str):
        """(step, slice of x, the model's outputs for that batch) for every batch of x, in
        inference mode; a callback's `begin_hook` is called before each batch is computed."""
        n, dtype = len(x), self._layers[0].dtype
        begin = bool(cbs) and cbs.wants(begin_hook)
        sliced, widest = slicing.plan(self._layers) if self.slice_batches else (0, 0)
        # With a begin hook, one batch per pass: the hook must run before its batch is computed.
        per_chunk = 1 if begin else self._batches_per_chunk(batch_size, sliced)
        for first in range(0, n_steps, per_chunk):
            if begin:
                cbs.call(begin_hook, first, {})
            start = first * batch_size
            xc = x[start:min(start + per_chunk * batch_size, n)]
            if xc.dtype != dtype:
                xc = xc.astype(dtype)
            rows = slicing.slice_rows(len(xc), widest) if sliced else len(xc)
            if rows < len(xc):                  # a CNN's first layers in cache-sized slices
                out, _ = slicing.forward(self._layers[:sliced], xc, rows, training=False)
                for layer in self._layers[sliced:]:
                    out = layer.forward(out, training=False)
            else:
                out = self.forward(xc, training=False)
            for step in range(first, min(first + per_chunk, n_steps)):
                lo = step * batch_size - start
                yield (step, slice(step * batch_size, min((step + 1) * batch_size, n)),
                       out[lo:lo + batch_size])

    def _evaluate_arrays(self, x, y, w, batch_size, cbs) -> dict:
        self._reset_metrics()
        steps = math.ceil(len(x) / batch_size)
        if cbs:
            cbs.call("on_test_begin", {})
        end = bool(cbs) and cbs.wants("on_test_batch_end")
        for step, sl, out in self._inference_batches(x, batch_size, steps, cbs,
                                                     "on_test_batch_begin"):
            wb = None if w is None else w[sl]
            loss = self._test_loss(y[sl], out, wb)
            self._update_metrics(loss, y[sl], out, wb)
            if end:
                cbs.call("on_test_batch_end", step, self._logs())
        logs = self._logs()
        if cbs:
            cbs.call("on_test_end", logs)
        return logs

    def evaluate(self, x: Any = None, y: Any = None, batch_size: int | None = None,
                 verbose: Any = "auto", sample_weight: Any = None, steps: int | None = None,
                 callbacks: list | None = None, return_dict: bool = False) -> Any:
        """Loss and metrics on (x, y) in inference mode: a float, a list, or a dict."""
        self._require_compiled("evaluating it")
        x, y, sample_weight = self._validate(x, y, sample_weight, "evaluate")
        if y is None:
            raise ValueError("evaluate: y (the labels) is missing.")
        batch_size = self._batch_size(batch_size, "evaluate")
        self._ensure_built(x)
        y = self._prepare_targets(x, y)
        self._setup_step()
        verbose = 1 if verbose == "auto" else int(verbose)
        n_steps = math.ceil(len(x) / batch_size)
        cb_list = ([ProgbarLogger()] if verbose else []) + list(callbacks or [])
        cbs = CallbackList(cb_list, self, {"verbose": verbose, "epochs": 1, "steps": n_steps})
        with backend.blas_limit(self._macs_per_sample() * batch_size), \
                xp.errstate(over="ignore", invalid="ignore"):
            logs = self._evaluate_arrays(x, y, sample_weight, batch_size, cbs)
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def predict(self, x: Any, batch_size: int | None = None, verbose: Any = "auto",
                steps: int | None = None, callbacks: list | None = None) -> Any:
        """Outputs for x in inference mode, computed batch by batch; a float32 NumPy array."""
        x = self._as_input(x)
        if len(x) == 0:
            raise ValueError("predict: x is empty (0 samples); pass at least one sample.")
        batch_size = self._batch_size(batch_size, "predict")
        self._ensure_built(x)
        verbose = 1 if verbose == "auto" else int(verbose)
        n = len(x)
        n_steps = math.ceil(n / batch_size)
        cb_list = ([ProgbarLogger()] if verbose else []) + list(callbacks or [])
        cbs = CallbackList(cb_list, self, {"verbose": verbose, "epochs": 1, "steps": n_steps})
        with backend.blas_limit(self._macs_per_sample() * batch_size):
            out = self._predict_loop(x, batch_size, n_steps, cbs)
        return backend.to_numpy(out)

    def _predict_loop(self, x, batch_size, n_steps, cbs):
        out = None
        cbs.call("on_predict_begin", {})
        end = cbs.wants("on_predict_batch_end")
        for step, sl, yb in self._inference_batches(x, batch_size, n_steps, cbs,
                                                    "on_predict_batch_begin"):
            if out is None:
                out = xp.empty((len(x),) + tuple(yb.shape[1:]), dtype=yb.dtype)
            out[sl] = yb
            if end:
                cbs.call("on_predict_batch_end", step, {"outputs": yb})
        cbs.call("on_predict_end", {})
        return out

    def __call__(self, x: Any, training: bool = False) -> Any:
        x = self._as_input(x)
        self._ensure_built(x)
        dtype = self._layers[0].dtype
        return self.forward(x.astype(dtype, copy=False), training=training)

    # ---------------------------------------------------------------- single batches
    def train_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None,
                       class_weight: dict | None = None, reset_metrics: bool = True,
                       return_dict: bool = False) -> Any:
        """One gradient step on this batch; returns the loss (and metrics)."""
        self._require_compiled("training it")
        x, y = self._as_input(x), xp.asarray(y)
        y = self._fast_targets(x, y)
        if x.dtype != self._layers[0].dtype:
            x = x.astype(self._layers[0].dtype)
        w = None if sample_weight is None else xp.asarray(sample_weight, dtype=backend.floatx())
        if class_weight:
            w = self._class_weights(class_weight, y, w)
        if reset_metrics:
            self._reset_metrics()
        loss = self._train_step(x, y, w)
        self._update_metrics(loss, y, self._last_output, w)
        return self._batch_result(return_dict)

    def test_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None,
                      reset_metrics: bool = True, return_dict: bool = False) -> Any:
        self._require_compiled("evaluating it")
        x, y = self._as_input(x), xp.asarray(y)
        y = self._fast_targets(x, y)
        if x.dtype != self._layers[0].dtype:
            x = x.astype(self._layers[0].dtype)
        w = None if sample_weight is None else xp.asarray(sample_weight, dtype=backend.floatx())
        if reset_metrics:
            self._reset_metrics()
        loss, out = self._test_step(x, y, w)
        self._update_metrics(loss, y, out, w)
        return self._batch_result(return_dict)

    def predict_on_batch(self, x: Any) -> Any:
        x = self._as_input(x)
        self._ensure_built(x)
        return backend.to_numpy(self.forward(x.astype(self._layers[0].dtype, copy=False)))

    def _fast_targets(self, x, y):
        """Checks run once per input/label signature, so a loop of single batches stays fast."""
        signature = (x.shape[1:], y.shape[1:], y.dtype, len(self._layers),
                     [l.trainable for l in self._layers])
        if self._ready_signature != signature:
            self._validate(x, y, None, "train_on_batch")
            self._ensure_built(x)
            self._prepare_targets(x, y)
            self._setup_step()
            self._probe = xp.empty((0,) + tuple(self.output_shape[1:]),
                                   dtype=self._layers[-1].dtype)
            self._ready_signature = signature
        elif len(y) != len(x):
            raise ValueError(f"x has {len(x)} samples but y has {len(y)}.")
        return self._loss.prepare_targets(y, self._probe)

    def _batch_result(self, return_dict: bool) -> Any:
        logs = self._logs()
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    # ---------------------------------------------------------------- files
    def save(self, filepath: Any, overwrite: bool = True, **kwargs: Any) -> None:
        """model.save('m.keras') (Keras 3 zip) or model.save('m.h5') (legacy HDF5)."""
        from ..saving import save_model
        save_model(self, filepath, overwrite=overwrite, **kwargs)

    def save_weights(self, filepath: Any, overwrite: bool = True) -> None:
        from ..saving import save_weights
        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath: Any, skip_mismatch: bool = False, **kwargs: Any) -> None:
        from ..saving import load_weights
        load_weights(self, filepath, skip_mismatch=skip_mismatch, **kwargs)

    def to_json(self, **kwargs: Any) -> str:
        from ..saving import model_to_json
        return model_to_json(self, **kwargs)
