"""Losses: the per-sample value and its gradient with respect to the model output.

Each loss class has ``forward(y_true, y_pred) -> l`` with one value per sample (the last axis
of y_pred reduced) and ``backward(y_true, y_pred) -> dl/dy_pred`` (same shape as y_pred). The
batch loss is ``Σ w·l / l.size`` (Keras's "sum_over_batch_size"); the trainer scales the
gradient the same way. Cross-entropies paired with their activation (softmax, sigmoid) also
give ``fused_backward`` = dl/dz = p − t, the notes' Softmax-with-Loss gradient.
"""
from __future__ import annotations

from typing import Any, Callable

from . import backend
from .activations import sigmoid, softmax
from .backend import xp
from .utils.naming import closest


def _eps() -> float:
    return backend.epsilon()


def _clip(a, lo, hi):
    # np.clip goes through a Python wrapper; two ufuncs are faster on small batches.
    return xp.minimum(xp.maximum(a, lo), hi)


def _mean_last(a):
    """Mean over the last axis (sum * 1/K: ndarray.mean costs a Python-level wrapper)."""
    if a.shape[-1] == 1:     # one output unit (binary): the mean is the value itself
        return a[..., 0]
    return a.sum(axis=-1) * (1.0 / a.shape[-1])


class Loss:
    """Base class. ``loss(y_true, y_pred, sample_weight=None)`` returns the batch mean."""

    fuses_with: str | None = None     # 'softmax' / 'sigmoid' when a fused gradient exists

    def __init__(self, name: str | None = None, reduction: str = "sum_over_batch_size",
                 dtype: Any = None):
        self.name = name or backend.snake_case(type(self).__name__)
        self.reduction = reduction

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        y_pred = xp.asarray(y_pred, dtype=backend.floatx()) if not hasattr(y_pred, "dtype") \
            else y_pred
        l = self.forward(self.prepare_targets(y_true, y_pred), y_pred)
        if sample_weight is not None:
            l = l * _expand(xp.asarray(sample_weight, dtype=l.dtype), l.ndim)
        if self.reduction == "none":
            return l
        total = l.sum()
        return total if self.reduction == "sum" else total / max(l.size, 1)

    def prepare_targets(self, y_true: Any, y_pred: Any) -> Any:
        """Cast labels to what forward/backward expect (float, same rank as y_pred)."""
        y = xp.asarray(y_true)
        if y.dtype != y_pred.dtype:
            y = y.astype(y_pred.dtype)
        if y.ndim == y_pred.ndim - 1:
            y = y[..., None]
        return y

    def check_targets(self, y_true: Any, output_shape: tuple) -> None:
        """Raise a clear error once, at fit entry, when labels cannot match the output."""
        out = tuple(output_shape[1:])
        got = tuple(y_true.shape[1:])
        if got != out and not (got + (1,) == out):
            raise ValueError(f"Loss {self.name!r}: labels have shape {tuple(y_true.shape)} but the "
                             f"model output has shape {_shape_text(out)}. They must match "
                             f"(apart from the batch axis).")

    def forward(self, y_true, y_pred):
        raise NotImplementedError

    def backward(self, y_true, y_pred):
        raise NotImplementedError

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict) -> "Loss":
        return cls(**config)


def _shape_text(dims) -> str:
    """(2,) -> '(None, 2)': a model output shape as Keras prints it."""
    return "(" + ", ".join(["None"] + [str(d) for d in dims]) + ")"


def _expand(w, ndim):
    return w.reshape(w.shape + (1,) * (ndim - w.ndim))


class MeanSquaredError(Loss):
    """mean((y − p)²) over the last axis."""

    def forward(self, y, p):
        d = p - y
        return _mean_last(d * d)

    def backward(self, y, p):
        return (p - y) * (2.0 / p.shape[-1])


class MeanAbsoluteError(Loss):
    """mean(|y − p|) over the last axis."""

    def forward(self, y, p):
        return _mean_last(xp.abs(p - y))

    def backward(self, y, p):
        return xp.sign(p - y) * (1.0 / p.shape[-1])


class MeanAbsolutePercentageError(Loss):
    """100 · mean(|y − p| / max(|y|, ε))."""

    def forward(self, y, p):
        return 100.0 * _mean_last(xp.abs(y - p) / xp.maximum(xp.abs(y), _eps()))

    def backward(self, y, p):
        return 100.0 * xp.sign(p - y) / xp.maximum(xp.abs(y), _eps()) / p.shape[-1]


class MeanSquaredLogarithmicError(Loss):
    """mean((log(1 + max(p, ε)) − log(1 + max(y, ε)))²)."""

    def forward(self, y, p):
        d = xp.log1p(xp.maximum(p, _eps())) - xp.log1p(xp.maximum(y, _eps()))
        return _mean_last(d * d)

    def backward(self, y, p):
        pc = xp.maximum(p, _eps())
        d = xp.log1p(pc) - xp.log1p(xp.maximum(y, _eps()))
        return 2.0 * d / (1.0 + pc) * (p > _eps()) / p.shape[-1]


class Huber(Loss):
    """½e² where |e| ≤ δ, δ·|e| − ½δ² beyond (e = p − y); mean over the last axis."""

    def __init__(self, delta: float = 1.0, name: str | None = "huber_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.delta = float(delta)

    def forward(self, y, p):
        a = xp.abs(p - y)
        q = xp.minimum(a, self.delta)
        return _mean_last(0.5 * q * q + self.delta * (a - q))

    def backward(self, y, p):
        return xp.clip(p - y, -self.delta, self.delta) / p.shape[-1]

    def get_config(self):
        return {**super().get_config(), "delta": self.delta}


class LogCosh(Loss):
    """mean(log(cosh(p − y)))."""

    def forward(self, y, p):
        e = p - y
        return _mean_last(e + xp.logaddexp(-2.0 * e, 0) - xp.log(2.0))

    def backward(self, y, p):
        return xp.tanh(p - y) / p.shape[-1]


class BinaryCrossentropy(Loss):
    """−mean(y·log p + (1 − y)·log(1 − p)), p clipped to [ε, 1 − ε]; or from logits."""

    fuses_with = "sigmoid"

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 name: str | None = "binary_crossentropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.from_logits, self.label_smoothing, self.axis = from_logits, float(label_smoothing), axis

    def _smooth(self, y):
        s = self.label_smoothing
        return y * (1.0 - s) + 0.5 * s if s else y

    def forward(self, y, p):
        y = self._smooth(y)
        if self.from_logits:     # max(z, 0) − z·y + log(1 + e^−|z|): never overflows
            return _mean_last(xp.maximum(p, 0) - p * y + xp.logaddexp(0, -xp.abs(p)))
        one, eps = backend.cached_scalar(1.0, p.dtype), _eps()
        pc = _clip(p, backend.cached_scalar(eps, p.dtype), backend.cached_scalar(1 - eps, p.dtype))
        return -_mean_last(y * xp.log(pc) + (one - y) * xp.log(one - pc))

    def backward(self, y, p):
        y = self._smooth(y)
        if self.from_logits:
            return (sigmoid(p) - y) / p.shape[-1]
        pc = _clip(p, _eps(), 1 - _eps())
        inside = (p > _eps()) & (p < 1 - _eps())
        return (pc - y) / (pc * (1 - pc)) * inside / p.shape[-1]

    def fused_backward(self, y, p):
        """dl/dz for p = sigmoid(z): (p − y) / K."""
        g = p - self._smooth(y)
        return g if p.shape[-1] == 1 else g * (1.0 / p.shape[-1])

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis}


class CategoricalCrossentropy(Loss):
    """−Σ y·log p over classes; p normalised to sum 1 and clipped to [ε, 1 − ε]; y one-hot."""

    fuses_with = "softmax"

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 name: str | None = "categorical_crossentropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.from_logits, self.label_smoothing, self.axis = from_logits, float(label_smoothing), axis

    def check_targets(self, y_true, output_shape):
        if y_true.ndim == len(output_shape) - 1 or (y_true.shape[-1:] == (1,) != output_shape[-1:]):
            raise ValueError(
                f"Loss {self.name!r} expects one-hot labels of shape (N, {output_shape[-1]}); got "
                f"integer labels of shape {tuple(y_true.shape)}. Use "
                f"loss='sparse_categorical_crossentropy', or one-hot encode the labels with "
                f"keras.utils.to_categorical(y, {output_shape[-1]}).")
        super().check_targets(y_true, output_shape)

    def _smooth(self, y):
        s = self.label_smoothing
        return y * (1.0 - s) + s / y.shape[-1] if s else y

    def forward(self, y, p):
        y = self._smooth(y)
        if self.from_logits:
            z = p - p.max(axis=-1, keepdims=True)
            log_p = z - xp.log(xp.exp(z).sum(axis=-1, keepdims=True))
        else:
            log_p = xp.log(xp.clip(p / p.sum(axis=-1, keepdims=True), _eps(), 1 - _eps()))
        return -(y * log_p).sum(axis=-1)

    def backward(self, y, p):
        y = self._smooth(y)
        y_sum = y.sum(axis=-1, keepdims=True)
        if self.from_logits:
            return softmax(p) * y_sum - y
        s = p.sum(axis=-1, keepdims=True)
        q = p / s
        inside = (q > _eps()) & (q < 1 - _eps())
        # l = −Σ y·log(p_j/S): dl/dp_j = −y_j/p_j·[q_j unclipped] + Σ_k y_k·[q_k unclipped] / S
        return -y * inside / p + (y * inside).sum(axis=-1, keepdims=True) / s

    def fused_backward(self, y, p):
        """dl/dz for p = softmax(z): p·Σy − y (= p − y for one-hot labels)."""
        y = self._smooth(y)
        return p * y.sum(axis=-1, keepdims=True) - y

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis}


class SparseCategoricalCrossentropy(Loss):
    """−log p[label] with integer labels of shape (N,) or (N, 1)."""

    fuses_with = "softmax"

    def __init__(self, from_logits: bool = False, ignore_class: int | None = None,
                 name: str | None = "sparse_categorical_crossentropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.from_logits, self.ignore_class = from_logits, ignore_class

    def check_targets(self, y_true, output_shape):
        k = output_shape[-1]
        if y_true.ndim == len(output_shape) and y_true.shape[-1] == k and k > 1:
            raise ValueError(
                f"Loss {self.name!r} expects integer class labels of shape (N,); got one-hot labels "
                f"of shape {tuple(y_true.shape)}. Use loss='categorical_crossentropy', or pass "
                f"y.argmax(axis=-1).")
        if y_true.ndim not in (len(output_shape) - 1, len(output_shape)):
            raise ValueError(f"Loss {self.name!r}: labels of shape {tuple(y_true.shape)} do not fit "
                             f"an output of shape {_shape_text(output_shape[1:])}.")
        if y_true.size:
            valid = y_true if self.ignore_class is None else y_true[y_true != self.ignore_class]
            lo, hi = (valid.min(), valid.max()) if valid.size else (0, 0)
            if lo < 0 or hi >= k or (xp.asarray(valid) % 1 != 0).any():
                raise ValueError(
                    f"Loss {self.name!r}: labels must be integers in [0, {k - 1}] for an output of "
                    f"{k} classes; got values from {lo} to {hi}. Does the last layer have one unit "
                    f"per class (Dense({int(hi) + 1 if hi >= k else k}, activation='softmax'))?")

    def prepare_targets(self, y_true, y_pred):
        y = xp.asarray(y_true)
        if y.ndim == y_pred.ndim:
            y = y[..., 0]
        return y.astype(xp.int64, copy=False) if y.dtype.kind != "i" else y

    def _one_hot(self, y, p):
        t = xp.zeros_like(p)
        xp.put_along_axis(t, xp.clip(y, 0, None)[..., None], 1.0, axis=-1)
        return t

    def _mask(self, y, l):
        if self.ignore_class is None:
            return l, None
        keep = y != self.ignore_class
        scale = keep.size / max(int(keep.sum()), 1)    # the mean counts only kept labels
        return l * keep * scale, (keep * scale)[..., None]

    def forward(self, y, p):
        if y.ndim == 1 and not self.from_logits and self.ignore_class is None:
            # The common case, kept lean: one fancy index, no index arrays of shape p.
            picked = p[xp.arange(len(y)), y]
            if p.shape[-1] > 1:
                picked /= p.sum(axis=-1)
            return -xp.log(xp.minimum(xp.maximum(picked, _eps()), 1 - _eps()))
        idx = xp.clip(y, 0, None)[..., None]
        if self.from_logits:
            z = p - p.max(axis=-1, keepdims=True)
            l = xp.log(xp.exp(z).sum(axis=-1)) - xp.take_along_axis(z, idx, axis=-1)[..., 0]
        else:
            picked = xp.take_along_axis(p, idx, axis=-1)[..., 0]
            if p.shape[-1] > 1:
                picked = picked / p.sum(axis=-1)
            l = -xp.log(xp.clip(picked, _eps(), 1 - _eps()))
        return self._mask(y, l)[0]

    def backward(self, y, p):
        t = self._one_hot(y, p)
        if self.from_logits:
            g = softmax(p) - t
        else:
            g = CategoricalCrossentropy().backward(t, p)
        m = self._mask(y, y)[1]
        return g if m is None else g * m

    def fused_backward(self, y, p):
        """dl/dz for p = softmax(z): p − onehot(y)."""
        g = p.copy()
        if y.ndim == 1:
            g[xp.arange(len(y)), y] -= 1.0
        else:
            g -= self._one_hot(y, p)
        m = self._mask(y, y)[1]
        return g if m is None else g * m

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits,
                "ignore_class": self.ignore_class}


class Hinge(Loss):
    """mean(max(1 − y·p, 0)); labels in {0, 1} are mapped to {−1, 1} as Keras does."""

    squared = False

    def prepare_targets(self, y_true, y_pred):
        y = super().prepare_targets(y_true, y_pred)
        return 2.0 * y - 1.0 if ((y == 0) | (y == 1)).all() else y

    def forward(self, y, p):
        m = xp.maximum(1.0 - y * p, 0)
        return _mean_last(m * m if self.squared else m)

    def backward(self, y, p):
        m = xp.maximum(1.0 - y * p, 0)
        g = -y * (2.0 * m if self.squared else (m > 0))
        return g / p.shape[-1]


class SquaredHinge(Hinge):
    """mean(max(1 − y·p, 0)²)."""

    squared = True


class KLDivergence(Loss):
    """Σ y·log(y/p), y and p clipped to [ε, 1]."""

    def forward(self, y, p):
        yc, pc = xp.clip(y, _eps(), 1), xp.clip(p, _eps(), 1)
        return (yc * xp.log(yc / pc)).sum(axis=-1)

    def backward(self, y, p):
        yc, pc = xp.clip(y, _eps(), 1), xp.clip(p, _eps(), 1)
        return -yc / pc * (p > _eps()) * (p <= 1)


class Poisson(Loss):
    """mean(p − y·log(p + ε))."""

    def forward(self, y, p):
        return _mean_last(p - y * xp.log(p + _eps()))

    def backward(self, y, p):
        return (1.0 - y / (p + _eps())) / p.shape[-1]


class CosineSimilarity(Loss):
    """−Σ ŷ·p̂ over the last axis, both L2-normalised (−1 is a perfect match)."""

    def __init__(self, axis: int = -1, name: str | None = "cosine_similarity", **kwargs):
        super().__init__(name=name, **kwargs)
        self.axis = axis

    @staticmethod
    def _normalize(v):
        n = xp.sqrt(xp.maximum((v * v).sum(axis=-1, keepdims=True), 1e-12))
        return v / n, n

    def forward(self, y, p):
        return -(self._normalize(y)[0] * self._normalize(p)[0]).sum(axis=-1)

    def backward(self, y, p):
        yh = self._normalize(y)[0]
        ph, n = self._normalize(p)
        return -(yh - (yh * ph).sum(axis=-1, keepdims=True) * ph) / n

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class LossFunctionWrapper(Loss):
    """A user's ``f(y_true, y_pred) -> per-sample loss`` used as a loss.

    Its gradient is taken by central differences on each output unit (2·K extra evaluations of
    f per batch for K outputs): correct, but slow for wide outputs. For speed, subclass Loss and
    write ``backward``.
    """

    def __init__(self, fn: Callable, name: str | None = None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", "custom_loss"), **kwargs)
        self.fn = fn

    def forward(self, y, p):
        l = xp.asarray(self.fn(y, p))
        return l if l.ndim else l.reshape(1)

    def backward(self, y, p):
        h = 1e-3 if p.dtype == xp.float32 else 1e-6
        p = xp.array(p, copy=True)          # perturbed below; contiguous, so reshape is a view
        g = xp.empty_like(p)
        flat_p, flat_g = p.reshape(-1, p.shape[-1]), g.reshape(-1, p.shape[-1])
        if xp.asarray(self.fn(y, p)).size != flat_p.shape[0]:
            # fn mixes samples (e.g. returns the batch mean): perturb one entry at a time.
            flat_p, flat_g = p.reshape(-1), g.reshape(-1)
            for i in range(flat_p.size):
                old = flat_p[i].copy()
                flat_p[i] = old + h
                up = float(xp.asarray(self.fn(y, p), dtype=xp.float64).sum())
                flat_p[i] = old - h
                down = float(xp.asarray(self.fn(y, p), dtype=xp.float64).sum())
                flat_p[i] = old
                flat_g[i] = (up - down) / (2 * h)
            return g
        for k in range(p.shape[-1]):        # one pass per output unit, vectorised over samples
            old = flat_p[:, k].copy()
            flat_p[:, k] = old + h
            up = xp.asarray(self.fn(y, p), dtype=xp.float64).reshape(-1)
            flat_p[:, k] = old - h
            down = xp.asarray(self.fn(y, p), dtype=xp.float64).reshape(-1)
            flat_p[:, k] = old
            flat_g[:, k] = ((up - down) / (2 * h)).reshape(-1)[: flat_g.shape[0]]
        return g


# Keras's function forms: keras.losses.mean_squared_error(y_true, y_pred) -> per-sample values.
def _function(cls: type, name: str) -> Callable:
    def f(y_true, y_pred):
        y_pred = xp.asarray(y_pred)
        loss = cls()
        return loss.forward(loss.prepare_targets(y_true, y_pred), y_pred)
    f.__name__ = name
    f._loss_class = cls
    return f


mean_squared_error = _function(MeanSquaredError, "mean_squared_error")
mean_absolute_error = _function(MeanAbsoluteError, "mean_absolute_error")
mean_absolute_percentage_error = _function(MeanAbsolutePercentageError,
                                           "mean_absolute_percentage_error")
mean_squared_logarithmic_error = _function(MeanSquaredLogarithmicError,
                                           "mean_squared_logarithmic_error")
huber = _function(Huber, "huber")
log_cosh = _function(LogCosh, "log_cosh")
binary_crossentropy = _function(BinaryCrossentropy, "binary_crossentropy")
categorical_crossentropy = _function(CategoricalCrossentropy, "categorical_crossentropy")
sparse_categorical_crossentropy = _function(SparseCategoricalCrossentropy,
                                            "sparse_categorical_crossentropy")
hinge = _function(Hinge, "hinge")
squared_hinge = _function(SquaredHinge, "squared_hinge")
kl_divergence = _function(KLDivergence, "kl_divergence")
poisson = _function(Poisson, "poisson")
cosine_similarity = _function(CosineSimilarity, "cosine_similarity")
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh

_NAMES: dict[str, type] = {}
for _cls, _aliases in [
        (MeanSquaredError, "mse MSE mean_squared_error MeanSquaredError"),
        (MeanAbsoluteError, "mae MAE mean_absolute_error MeanAbsoluteError"),
        (MeanAbsolutePercentageError, "mape MAPE mean_absolute_percentage_error "
                                      "MeanAbsolutePercentageError"),
        (MeanSquaredLogarithmicError, "msle MSLE mean_squared_logarithmic_error "
                                      "MeanSquaredLogarithmicError"),
        (Huber, "huber huber_loss Huber"), (LogCosh, "log_cosh logcosh LogCosh"),
        (BinaryCrossentropy, "binary_crossentropy bce BinaryCrossentropy"),
        (CategoricalCrossentropy, "categorical_crossentropy cce CategoricalCrossentropy"),
        (SparseCategoricalCrossentropy, "sparse_categorical_crossentropy "
                                        "SparseCategoricalCrossentropy"),
        (Hinge, "hinge Hinge"), (SquaredHinge, "squared_hinge SquaredHinge"),
        (KLDivergence, "kld KLD kl_divergence kullback_leibler_divergence KLDivergence"),
        (Poisson, "poisson Poisson"),
        (CosineSimilarity, "cosine_similarity CosineSimilarity")]:
    for _a in _aliases.split():
        _NAMES[_a] = _cls

# The long name Keras writes into files (Keras 3 cannot compile a legacy file saying "mse").
CANONICAL_NAMES = {MeanSquaredError: "mean_squared_error", MeanAbsoluteError: "mean_absolute_error",
                   MeanAbsolutePercentageError: "mean_absolute_percentage_error",
                   MeanSquaredLogarithmicError: "mean_squared_logarithmic_error",
                   Huber: "huber", LogCosh: "log_cosh", BinaryCrossentropy: "binary_crossentropy",
                   CategoricalCrossentropy: "categorical_crossentropy",
                   SparseCategoricalCrossentropy: "sparse_categorical_crossentropy",
                   Hinge: "hinge", SquaredHinge: "squared_hinge", KLDivergence: "kl_divergence",
                   Poisson: "poisson", CosineSimilarity: "cosine_similarity"}


def get(identifier: Any) -> Loss:
    """'mse' / 'sparse_categorical_crossentropy' / a Loss / a function -> a Loss instance."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        if identifier not in _NAMES:
            names = sorted(a for a in _NAMES if a[0].islower())
            raise ValueError(f"Unknown loss {identifier!r}. {closest(identifier, _NAMES)}"
                             f"Valid names: {', '.join(names)}.")
        return _NAMES[identifier]()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if callable(identifier):
        cls = getattr(identifier, "_loss_class", None)
        return cls() if cls else LossFunctionWrapper(identifier)
    raise TypeError(f"loss: expected a name, a Loss or a function; got {identifier!r}")


def serialize(loss: Loss) -> Any:
    return {"class_name": type(loss).__name__, "config": loss.get_config()}


def deserialize(config: dict, custom_objects: dict | None = None) -> Loss:
    name = config.get("class_name")
    cls = (custom_objects or {}).get(name) or _NAMES.get(name)
    if cls is None:
        raise ValueError(f"Unknown loss class {name!r}. {closest(str(name), _NAMES)}")
    return cls(**config.get("config", {}))
