"""Metrics: running averages (accuracy, mae, ...) and counts (precision, recall, AUC).

A metric is stateful, as in Keras: ``update_state(y_true, y_pred, sample_weight=None)`` adds
a batch, ``result()`` gives the value so far, ``reset_state()`` starts over. Shapes: y_pred
(batch, ..., K); y_true (batch, ..., K) or integer labels (batch, ...).
"""
from __future__ import annotations

from typing import Any, Callable

from . import backend, losses
from .backend import xp
from .utils.naming import closest


class Metric:
    def __init__(self, name: str | None = None, dtype: Any = None):
        self.name = name or backend.snake_case(type(self).__name__)
        self.dtype = backend.standardize_dtype(dtype)
        self.reset_state()

    def reset_state(self) -> None:
        raise NotImplementedError

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        raise NotImplementedError

    def result(self) -> float:
        raise NotImplementedError

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
        self.update_state(y_true, y_pred, sample_weight)
        return self.result()

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict) -> "Metric":
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


class Mean(Metric):
    """The (weighted) running mean of the values it is given."""

    def reset_state(self):
        self.total, self.count = 0.0, 0.0

    def update_state(self, values, sample_weight=None):
        values = xp.asarray(values)
        if sample_weight is None:
            self.total += float(values.sum())
            self.count += values.size
        else:
            w = xp.broadcast_to(_expand(xp.asarray(sample_weight, dtype=xp.float64), values.ndim),
                                values.shape)
            self.total += float((values * w).sum())
            self.count += float(w.sum())

    def result(self):
        return self.total / self.count if self.count else 0.0


def _expand(w, ndim):
    return w.reshape(w.shape + (1,) * max(ndim - w.ndim, 0))


class MeanMetricWrapper(Mean):
    """Mean of ``fn(y_true, y_pred)``, one value per sample."""

    def __init__(self, fn: Callable, name: str | None = None, dtype: Any = None, **fn_kwargs):
        self.fn, self.fn_kwargs = fn, fn_kwargs
        super().__init__(name=name or getattr(fn, "__name__", "metric"), dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(self.fn(y_true, y_pred, **self.fn_kwargs), sample_weight)


# ------------------------------------------------------------ per-sample functions
def _labels(y_true, y_pred):
    """Integer labels -> shape of y_pred without its last axis."""
    y = xp.asarray(y_true)
    if y.ndim == y_pred.ndim:
        y = y[..., 0]
    return y


def binary_accuracy(y_true, y_pred, threshold: float = 0.5):
    y_pred = xp.asarray(y_pred)
    y = xp.asarray(y_true).reshape(y_pred.shape) if xp.asarray(y_true).size == y_pred.size \
        else xp.asarray(y_true)
    return ((y_pred > threshold) == (y > 0.5)).mean(axis=-1)


def categorical_accuracy(y_true, y_pred):
    return xp.asarray(y_true).argmax(axis=-1) == xp.asarray(y_pred).argmax(axis=-1)


def sparse_categorical_accuracy(y_true, y_pred):
    y_pred = xp.asarray(y_pred)
    return _labels(y_true, y_pred) == y_pred.argmax(axis=-1)


def _in_top_k(labels, y_pred, k):
    # The label's score beats all but at most k−1 others (ties count in its favour, as TF does).
    score = xp.take_along_axis(y_pred, labels[..., None].astype(xp.int64), axis=-1)
    return (y_pred > score).sum(axis=-1) < k


def top_k_categorical_accuracy(y_true, y_pred, k: int = 5):
    y_pred = xp.asarray(y_pred)
    return _in_top_k(xp.asarray(y_true).argmax(axis=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k: int = 5):
    y_pred = xp.asarray(y_pred)
    return _in_top_k(_labels(y_true, y_pred), y_pred, k)


def accuracy(y_true, y_pred):
    """Exact equality of labels and predictions (Keras's plain Accuracy)."""
    return xp.asarray(y_true).reshape(xp.asarray(y_pred).shape) == xp.asarray(y_pred)


def auto_accuracy_fn(y_true, y_pred) -> Callable:
    """Keras's resolution of 'accuracy', from the shapes only (never the loss)."""
    y_true, y_pred = xp.asarray(y_true), xp.asarray(y_pred)
    if y_pred.shape[-1:] == (1,):
        return binary_accuracy
    if y_true.ndim < y_pred.ndim or (y_true.shape[-1:] == (1,) and y_pred.shape[-1] > 1):
        return sparse_categorical_accuracy
    return categorical_accuracy


def _loss_fn(name):
    def f(y_true, y_pred):
        y_pred = xp.asarray(y_pred)
        loss = losses.get(name)
        return loss.forward(loss.prepare_targets(y_true, y_pred), y_pred)
    f.__name__ = name
    return f


mean_squared_error = mse = _loss_fn("mean_squared_error")
mean_absolute_error = mae = _loss_fn("mean_absolute_error")
mean_absolute_percentage_error = mape = _loss_fn("mean_absolute_percentage_error")
mean_squared_logarithmic_error = msle = _loss_fn("mean_squared_logarithmic_error")


# ------------------------------------------------------------ metric classes
def _wrapper(fn: Callable, default_name: str, doc: str, **defaults) -> type:
    def __init__(self, name: str | None = default_name, dtype: Any = None, **kwargs):
        MeanMetricWrapper.__init__(self, fn, name=name, dtype=dtype, **{**defaults, **kwargs})

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, **self.fn_kwargs}

    cls_name = "".join(p.capitalize() for p in default_name.split("_"))
    return type(cls_name, (MeanMetricWrapper,), {"__init__": __init__, "__doc__": doc,
                                                 "get_config": get_config})


Accuracy = _wrapper(accuracy, "accuracy", "Fraction of predictions equal to the labels.")
BinaryAccuracy = _wrapper(binary_accuracy, "binary_accuracy", "mean(y == (p > threshold)).",
                          threshold=0.5)
CategoricalAccuracy = _wrapper(categorical_accuracy, "categorical_accuracy",
                               "argmax(p) == argmax(y) for one-hot y.")
SparseCategoricalAccuracy = _wrapper(sparse_categorical_accuracy, "sparse_categorical_accuracy",
                                     "argmax(p) == y for integer y.")
TopKCategoricalAccuracy = _wrapper(top_k_categorical_accuracy, "top_k_categorical_accuracy",
                                   "The true class is among the k highest scores.", k=5)
SparseTopKCategoricalAccuracy = _wrapper(sparse_top_k_categorical_accuracy,
                                         "sparse_top_k_categorical_accuracy",
                                         "Top-k accuracy with integer labels.", k=5)
MeanSquaredError = _wrapper(mean_squared_error, "mean_squared_error", "mean((y − p)²).")
MeanAbsoluteError = _wrapper(mean_absolute_error, "mean_absolute_error", "mean(|y − p|).")
MeanAbsolutePercentageError = _wrapper(mean_absolute_percentage_error,
                                       "mean_absolute_percentage_error", "100·mean(|y − p|/|y|).")
MeanSquaredLogarithmicError = _wrapper(mean_squared_logarithmic_error,
                                       "mean_squared_logarithmic_error", "MSLE.")


class RootMeanSquaredError(Mean):
    """sqrt of the running mean of (y − p)²."""

    def __init__(self, name: str = "root_mean_squared_error", dtype: Any = None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(mean_squared_error(y_true, y_pred), sample_weight)

    def result(self):
        return super().result() ** 0.5


class _AutoAccuracy(MeanMetricWrapper):
    """'accuracy' / 'acc': binary, categorical or sparse, picked from the first batch's shapes."""

    def __init__(self, name: str = "accuracy"):
        super().__init__(None, name=name)

    def update_state(self, y_true, y_pred, sample_weight=None):
        if self.fn is None:
            self.fn = auto_accuracy_fn(y_true, y_pred)
        super().update_state(y_true, y_pred, sample_weight)


class _ConfusionCounts(Metric):
    """Counts of true/false positives/negatives over thresholds, for Precision/Recall/AUC."""

    def __init__(self, thresholds: Any, name: str | None = None, dtype: Any = None,
                 class_id: int | None = None):
        self.thresholds = xp.asarray(thresholds, dtype=xp.float64).reshape(-1)
        self.class_id = class_id
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        n = len(self.thresholds)
        self.tp, self.fp, self.tn, self.fn = (xp.zeros(n) for _ in range(4))

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = xp.asarray(y_pred, dtype=xp.float64)
        y_true = xp.asarray(y_true, dtype=xp.float64).reshape(y_pred.shape)
        if self.class_id is not None:
            y_pred, y_true = y_pred[..., self.class_id], y_true[..., self.class_id]
        w = xp.ones(y_pred.shape) if sample_weight is None else xp.broadcast_to(
            _expand(xp.asarray(sample_weight, dtype=xp.float64), y_pred.ndim), y_pred.shape)
        p, t, w = y_pred.reshape(-1), (y_true.reshape(-1) > 0.5), w.reshape(-1)
        # bucket b = number of thresholds strictly below p: p counts as positive for those.
        bucket = xp.searchsorted(self.thresholds, p, side="left")
        n = len(self.thresholds)
        pos = xp.bincount(bucket, weights=w * t, minlength=n + 1)
        neg = xp.bincount(bucket, weights=w * ~t, minlength=n + 1)
        pos_above = xp.cumsum(pos[::-1])[::-1][1:]      # positives with p > threshold i
        neg_above = xp.cumsum(neg[::-1])[::-1][1:]
        self.tp += pos_above
        self.fp += neg_above
        self.fn += pos.sum() - pos_above
        self.tn += neg.sum() - neg_above


def _div(a, b):
    return xp.where(b > 0, a / xp.where(b > 0, b, 1), 0.0)


class Precision(_ConfusionCounts):
    """tp / (tp + fp) at threshold 0.5 (or each of `thresholds`)."""

    def __init__(self, thresholds: Any = None, top_k: int | None = None,
                 class_id: int | None = None, name: str | None = "precision", dtype: Any = None):
        if top_k is not None:
            raise NotImplementedError("Precision(top_k=...) is not supported; use class_id")
        self._given = thresholds
        super().__init__(0.5 if thresholds is None else thresholds, name, dtype, class_id)

    def result(self):
        r = _div(self.tp, self.tp + self.fp)
        return float(r[0]) if r.size == 1 else r

    def get_config(self):
        return {**super().get_config(), "thresholds": self._given, "class_id": self.class_id}


class Recall(Precision):
    """tp / (tp + fn) at threshold 0.5 (or each of `thresholds`)."""

    def __init__(self, thresholds: Any = None, top_k: int | None = None,
                 class_id: int | None = None, name: str | None = "recall", dtype: Any = None):
        super().__init__(thresholds, top_k, class_id, name, dtype)

    def result(self):
        r = _div(self.tp, self.tp + self.fn)
        return float(r[0]) if r.size == 1 else r


class AUC(_ConfusionCounts):
    """Area under the ROC (or PR) curve from counts at `num_thresholds` thresholds."""

    def __init__(self, num_thresholds: int = 200, curve: str = "ROC",
                 summation_method: str = "interpolation", name: str | None = "auc",
                 dtype: Any = None, thresholds: Any = None, multi_label: bool = False,
                 num_labels: int | None = None, label_weights: Any = None,
                 from_logits: bool = False):
        if curve not in ("ROC", "PR"):
            raise ValueError(f"AUC curve: expected 'ROC' or 'PR'; got {curve!r}")
        eps = 1e-7
        inner = (xp.arange(1, num_thresholds - 1) / (num_thresholds - 1)
                 if thresholds is None else xp.sort(xp.asarray(thresholds, dtype=xp.float64)))
        self.num_thresholds, self.curve = num_thresholds, curve
        self.summation_method, self.from_logits = summation_method, from_logits
        super().__init__(xp.concatenate([[-eps], inner, [1 + eps]]), name, dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        if self.from_logits:
            from .activations import sigmoid
            y_pred = sigmoid(xp.asarray(y_pred, dtype=xp.float64))
        super().update_state(y_true, y_pred, sample_weight)

    def result(self):
        tp, fp, tn, fn = self.tp, self.fp, self.tn, self.fn
        if self.curve == "ROC":
            x, y = _div(fp, fp + tn), _div(tp, tp + fn)
        elif self.summation_method == "interpolation":
            return float(_interpolated_pr_auc(tp, fp, fn))
        else:
            x, y = _div(tp, tp + fn), _div(tp, tp + fp)
        if self.summation_method == "minoring":
            heights = xp.minimum(y[:-1], y[1:])
        elif self.summation_method == "majoring":
            heights = xp.maximum(y[:-1], y[1:])
        else:
            heights = (y[:-1] + y[1:]) / 2
        return float(((x[:-1] - x[1:]) * heights).sum())

    def get_config(self):
        return {**super().get_config(), "num_thresholds": self.num_thresholds, "curve": self.curve,
                "summation_method": self.summation_method}


def _interpolated_pr_auc(tp, fp, fn):
    """Davis & Goadrich interpolation of the PR curve between thresholds (as Keras computes it)."""
    dtp = tp[:-1] - tp[1:]
    p = tp + fp
    dp = p[:-1] - p[1:]
    slope = _div(dtp, xp.maximum(dp, 0))
    intercept = tp[1:] - slope * p[1:]
    ratio = xp.where((dp > 0) & (p[1:] > 0), _div(p[:-1], xp.maximum(p[1:], 0)), 1.0)
    inc = slope * (dtp + intercept * xp.log(xp.maximum(ratio, 1e-300)))
    return _div(inc, xp.maximum(tp[1:] + fn[1:], 0)).sum()


# ------------------------------------------------------------ lookup
_CLASSES = {c.__name__: c for c in (
    Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
    TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, MeanSquaredError, MeanAbsoluteError,
    MeanAbsolutePercentageError, MeanSquaredLogarithmicError, RootMeanSquaredError, Precision,
    Recall, AUC, Mean)}
_STRINGS: dict[str, Callable[[str], Metric]] = {
    "binary_accuracy": lambda n: BinaryAccuracy(name=n),
    "categorical_accuracy": lambda n: CategoricalAccuracy(name=n),
    "sparse_categorical_accuracy": lambda n: SparseCategoricalAccuracy(name=n),
    "top_k_categorical_accuracy": lambda n: TopKCategoricalAccuracy(name=n),
    "sparse_top_k_categorical_accuracy": lambda n: SparseTopKCategoricalAccuracy(name=n),
    "precision": lambda n: Precision(name=n), "recall": lambda n: Recall(name=n),
    "auc": lambda n: AUC(name=n), "AUC": lambda n: AUC(name=n),
    "root_mean_squared_error": lambda n: RootMeanSquaredError(name=n),
    "rmse": lambda n: RootMeanSquaredError(name=n),
}
for _n in ("accuracy", "acc"):
    _STRINGS[_n] = _AutoAccuracy
for _fn, _names in [(mean_squared_error, "mse MSE mean_squared_error"),
                    (mean_absolute_error, "mae MAE mean_absolute_error"),
                    (mean_absolute_percentage_error, "mape MAPE mean_absolute_percentage_error"),
                    (mean_squared_logarithmic_error, "msle MSLE mean_squared_logarithmic_error")]:
    for _n in _names.split():
        _STRINGS[_n] = (lambda f: lambda n: MeanMetricWrapper(f, name=n))(_fn)
for _n in ("binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy",
           "kl_divergence", "poisson", "hinge", "squared_hinge", "log_cosh"):
    _STRINGS[_n] = (lambda ln: lambda n: MeanMetricWrapper(_loss_fn(ln), name=n))(_n)


def get(identifier: Any) -> Metric:
    """A string ('accuracy', 'mae', ...), a Metric, a Metric class or a function -> a Metric.

    The metric's name (its History key) is exactly the string given: 'acc' stays 'acc'.
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        if identifier in _STRINGS:
            return _STRINGS[identifier](identifier)
        if identifier in _CLASSES:
            return _CLASSES[identifier]()
        raise ValueError(f"Unknown metric {identifier!r}. {closest(identifier, _STRINGS)}"
                         f"Valid names: {', '.join(sorted(_STRINGS))}.")
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, dict):
        cls = _CLASSES.get(identifier.get("class_name"))
        if cls is None:
            raise ValueError(f"Unknown metric class {identifier.get('class_name')!r}")
        return cls(**identifier.get("config", {}))
    if callable(identifier):
        return MeanMetricWrapper(identifier, name=getattr(identifier, "__name__", "metric"))
    raise TypeError(f"metric: expected a name, a Metric or a function; got {identifier!r}")


def serialize(metric: Metric) -> Any:
    return {"class_name": type(metric).__name__, "config": metric.get_config()}
