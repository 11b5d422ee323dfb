"""Where does a classifier go wrong? The confusion matrix and per-class precision/recall/F1.

    from mitbadak.lab import confusion_matrix, classification_report
    probs = model.predict(x_test)                   # (N, 10) probabilities
    cm = confusion_matrix(y_test, probs)            # (10, 10) counts: rows true, columns predicted
    print(classification_report(y_test, probs))     # the scikit-learn table
    report = classification_report(y_test, probs, output_dict=True)   # the same as data

Labels may be integers (N,), one-hot or probability rows (N, K) (the argmax is taken), or one
sigmoid probability per sample (N,) / (N, 1) (thresholded at 0.5).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .. import backend


def as_labels(y: Any, name: str = "y") -> np.ndarray:
    """Integer class labels (N,) from labels, one-hot rows or probabilities."""
    y = np.asarray(backend.to_numpy(y))
    if y.ndim == 2 and y.shape[1] > 1:
        return y.argmax(axis=1).astype(np.int64)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"{name}: expected labels (N,), one-hot/probabilities (N, K) or (N, 1); "
                         f"got shape {y.shape}. Hint: for images pass the labels, not the images.")
    if y.dtype == bool:
        return y.astype(np.int64)
    if y.dtype.kind == "f" and not np.all(y == np.round(y)):
        if y.min() < 0 or y.max() > 1:
            raise ValueError(f"{name}: expected integer labels or probabilities in [0, 1]; got "
                             f"values from {y.min():g} to {y.max():g}.")
        return (y > 0.5).astype(np.int64)        # one sigmoid probability per sample
    if y.dtype.kind not in "iuf":
        raise TypeError(f"{name}: expected numbers; got dtype {y.dtype}.")
    return y.astype(np.int64)


def confusion_matrix(y_true: Any, y_pred: Any, num_classes: int | None = None) -> np.ndarray:
    """Counts (num_classes, num_classes): entry [i, j] = samples of class i predicted as j.

    The diagonal holds the correct predictions; row i sums to the number of class-i samples.
    ``num_classes`` defaults to the largest label seen + 1.
    """
    t, p = as_labels(y_true, "y_true"), as_labels(y_pred, "y_pred")
    if len(t) != len(p):
        raise ValueError(f"y_true, y_pred: expected the same number of samples; got {len(t)} "
                         f"and {len(p)}.")
    seen = int(max(t.max(initial=-1), p.max(initial=-1))) + 1
    k = seen if num_classes is None else int(num_classes)
    if min(t.min(initial=0), p.min(initial=0)) < 0 or seen > k:
        raise ValueError(f"num_classes: labels must lie in [0, {k - 1}]; got labels from "
                         f"{min(t.min(initial=0), p.min(initial=0))} to {seen - 1}. Hint: leave "
                         f"num_classes=None to count the classes from the labels.")
    cm = np.zeros((k, k), dtype=np.int64)
    np.add.at(cm, (t, p), 1)
    return cm


def _per_class(cm: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """precision, recall, F1, support for each class of a confusion matrix (0 where undefined)."""
    tp = np.diag(cm).astype(np.float64)
    predicted, support = cm.sum(axis=0), cm.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    both = precision + recall
    f1 = np.divide(2 * precision * recall, both, out=np.zeros_like(tp), where=both > 0)
    return precision, recall, f1, support


def classification_report(y_true: Any, y_pred: Any, num_classes: int | None = None,
                          target_names: Sequence[str] | None = None, digits: int = 2,
                          output_dict: bool = False) -> Any:
    """Precision, recall, F1 and support per class, plus accuracy and the macro/weighted
    averages, in scikit-learn's layout: a text table, or with ``output_dict=True`` the dict
    {class name: {'precision', 'recall', 'f1-score', 'support'}, 'accuracy': float,
    'macro avg': {...}, 'weighted avg': {...}}. Undefined ratios (no sample) count as 0.

    precision_c = TP / (TP + FP) (of what was called c, how much was c);
    recall_c = TP / (TP + FN) (of what was c, how much was found); F1 = their harmonic mean.
    """
    cm = confusion_matrix(y_true, y_pred, num_classes)
    k = len(cm)
    names = [str(i) for i in range(k)] if target_names is None else [str(n) for n in target_names]
    if len(names) != k:
        raise ValueError(f"target_names: expected {k} names (one per class); got {len(names)}.")
    precision, recall, f1, support = _per_class(cm)
    total = int(support.sum())
    report: dict[str, Any] = {}
    for i, name in enumerate(names):
        report[name] = {"precision": float(precision[i]), "recall": float(recall[i]),
                        "f1-score": float(f1[i]), "support": int(support[i])}
    report["accuracy"] = float(np.trace(cm) / total) if total else 0.0
    weights = support / total if total else np.zeros(k)
    report["macro avg"] = {"precision": float(precision.mean()), "recall": float(recall.mean()),
                           "f1-score": float(f1.mean()), "support": total}
    report["weighted avg"] = {"precision": float(precision @ weights),
                              "recall": float(recall @ weights),
                              "f1-score": float(f1 @ weights), "support": total}
    if output_dict:
        return report
    width = max(len("weighted avg"), *(len(n) for n in names))
    head = f"{'':>{width}} {'precision':>9} {'recall':>9} {'f1-score':>9} {'support':>9}"
    lines = [head, ""]

    def row(name, r):
        return (f"{name:>{width}} {r['precision']:>9.{digits}f} {r['recall']:>9.{digits}f} "
                f"{r['f1-score']:>9.{digits}f} {r['support']:>9}")
    lines += [row(n, report[n]) for n in names]
    lines += ["", f"{'accuracy':>{width}} {'':>9} {'':>9} {report['accuracy']:>9.{digits}f} "
                  f"{total:>9}"]
    lines += [row("macro avg", report["macro avg"]), row("weighted avg", report["weighted avg"])]
    return "\n".join(lines) + "\n"
