"""Metrics: 'accuracy' resolved from shapes, top-k, mae/mse, Precision/Recall/AUC against counts
and a trapezoid ROC computed here."""
from __future__ import annotations

import numpy as np
import pytest

from mitbadak import keras, metrics


def _acc(name, y, p):
    m = metrics.get(name)
    m.update_state(np.asarray(y), np.asarray(p))
    return m, float(m.result())


P3 = np.array([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2], [0.2, 0.2, 0.6], [0.3, 0.4, 0.3]])


@pytest.mark.parametrize("name", ["accuracy", "acc"])
def test_accuracy_resolves_sparse_from_shapes(name):
    m, v = _acc(name, [1, 0, 1, 2], P3)                 # argmax = 1, 0, 2, 1 -> 2 of 4
    assert v == pytest.approx(0.5)
    assert m.name == name
    _, v = _acc(name, np.array([[1], [0], [1], [2]]), P3)      # (N, 1) labels: still sparse
    assert v == pytest.approx(0.5)


@pytest.mark.parametrize("name", ["accuracy", "acc"])
def test_accuracy_resolves_categorical_from_shapes(name):
    onehot = np.eye(3)[[1, 0, 2, 2]]                      # argmax = 1, 0, 2, 1 -> 3 of 4
    _, v = _acc(name, onehot, P3)
    assert v == pytest.approx(0.75)


@pytest.mark.parametrize("name", ["accuracy", "acc"])
def test_accuracy_resolves_binary_from_shapes(name):
    p = np.array([[0.9], [0.2], [0.6], [0.4], [0.51]])
    y = np.array([[1], [0], [0], [1], [1]])
    _, v = _acc(name, y, p)                               # right: 1st, 2nd, 5th
    assert v == pytest.approx(3 / 5)
    _, v = _acc(name, y[:, 0], p)                         # (N,) labels with (N, 1) output
    assert v == pytest.approx(3 / 5)


def test_explicit_accuracy_metrics():
    assert _acc("sparse_categorical_accuracy", [1, 0, 1, 2], P3)[1] == pytest.approx(0.5)
    assert _acc("categorical_accuracy", np.eye(3)[[1, 0, 2, 2]], P3)[1] == pytest.approx(0.75)
    p = np.array([[0.9, 0.2], [0.6, 0.4]])
    assert _acc("binary_accuracy", np.array([[1, 1], [1, 0]]), p)[1] == pytest.approx(0.75)
    m = keras.metrics.BinaryAccuracy(threshold=0.7)
    m.update_state(np.array([[1, 1], [1, 0]]), p)
    assert float(m.result()) == pytest.approx(0.5)


def test_accuracy_accumulates_over_batches_and_resets():
    m = metrics.get("accuracy")
    m.update_state(np.array([1, 0]), P3[:2])              # 2 of 2
    m.update_state(np.array([0, 0]), P3[2:])              # 0 of 2
    assert float(m.result()) == pytest.approx(0.5)
    m.reset_state()
    m.update_state(np.array([2]), P3[2:3])
    assert float(m.result()) == pytest.approx(1.0)


def test_accuracy_with_sample_weight():
    m = metrics.get("sparse_categorical_accuracy")
    m.update_state(np.array([1, 0, 1, 2]), P3, sample_weight=np.array([1.0, 2.0, 3.0, 4.0]))
    assert float(m.result()) == pytest.approx((1 + 2) / 10)


def test_top_k():
    p = np.array([[0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.2, 0.1], [0.25, 0.35, 0.3, 0.1]])
    y = np.array([1, 1, 3])
    # ranks of the true class: 3rd, 2nd, 4th
    for k, expected in ((1, 0.0), (2, 1 / 3), (3, 2 / 3), (4, 1.0)):
        m = keras.metrics.SparseTopKCategoricalAccuracy(k=k)
        m.update_state(y, p)
        assert float(m.result()) == pytest.approx(expected), k
        m = keras.metrics.TopKCategoricalAccuracy(k=k)
        m.update_state(np.eye(4)[y], p)
        assert float(m.result()) == pytest.approx(expected), k


def test_mae_mse_metrics():
    y = np.array([[0.0, 1.0], [2.0, 3.0]])
    p = np.array([[0.5, 1.0], [1.0, 5.0]])
    # per-sample mae: 0.25, 1.5; mse: 0.125, 2.5
    assert _acc("mae", y, p)[1] == pytest.approx(0.875)
    assert _acc("mse", y, p)[1] == pytest.approx(1.3125)
    assert _acc("mae", y, p)[0].name == "mae"
    m = keras.metrics.RootMeanSquaredError()
    m.update_state(y, p)
    assert float(m.result()) == pytest.approx(np.sqrt(1.3125))


Y_BIN = np.array([1, 0, 1, 1, 0, 0, 1, 0])
P_BIN = np.array([0.9, 0.8, 0.7, 0.3, 0.2, 0.6, 0.55, 0.1])


def test_precision_recall_at_half():
    # predicted positive (p > 0.5): idx 0,1,2,5,6 -> tp = 0,2,6 (3), fp = 1,5 (2); fn = 3 (1)
    prec, rec = keras.metrics.Precision(), keras.metrics.Recall()
    prec.update_state(Y_BIN, P_BIN)
    rec.update_state(Y_BIN, P_BIN)
    assert float(prec.result()) == pytest.approx(3 / 5)
    assert float(rec.result()) == pytest.approx(3 / 4)


def test_precision_recall_thresholds_and_weights():
    prec = keras.metrics.Precision(thresholds=[0.25, 0.65])
    prec.update_state(Y_BIN, P_BIN)
    # 0.25: positive idx 0,1,2,3,5,6 -> tp 4 of 6; 0.65: idx 0,1,2 -> tp 2 of 3
    np.testing.assert_allclose(prec.result(), [4 / 6, 2 / 3])
    rec = keras.metrics.Recall()
    w = np.array([1, 1, 1, 3, 1, 1, 1, 1], dtype=float)
    rec.update_state(Y_BIN, P_BIN, sample_weight=w)
    assert float(rec.result()) == pytest.approx(3 / 6)      # fn weight 3


def test_precision_class_id():
    y = np.eye(3)[[0, 1, 2, 1]]
    p = np.array([[0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.1, 0.6, 0.3], [0.4, 0.4, 0.2]])
    m = keras.metrics.Precision(class_id=1)
    m.update_state(y, p)                       # class 1 predicted (p > .5) for rows 1, 2: tp 1
    assert float(m.result()) == pytest.approx(0.5)


def _roc_auc_trapezoid(y, p, thresholds):
    """ROC AUC by the trapezoid rule over the given thresholds (positive when p > threshold)."""
    tpr, fpr = [], []
    for t in thresholds:
        pred = p > t
        tp = np.sum(pred & (y == 1))
        fp = np.sum(pred & (y == 0))
        tpr.append(tp / np.sum(y == 1))
        fpr.append(fp / np.sum(y == 0))
    area = 0.0
    for i in range(len(thresholds) - 1):
        area += (fpr[i] - fpr[i + 1]) * (tpr[i] + tpr[i + 1]) / 2
    return area


def _exact_auc(y, p):
    """Probability that a random positive scores above a random negative (ties count half)."""
    pos, neg = p[y == 1], p[y == 0]
    diff = pos[:, None] - neg[None, :]
    return ((diff > 0).sum() + 0.5 * (diff == 0).sum()) / diff.size


def test_auc_against_trapezoid_roc():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=400)
    p = np.clip(rng.normal(0.35 + 0.3 * y, 0.2), 0, 1)
    n = 200
    thresholds = [-1e-7] + [i / (n - 1) for i in range(1, n - 1)] + [1 + 1e-7]
    m = keras.metrics.AUC(num_thresholds=n)
    m.update_state(y[:150], p[:150])
    m.update_state(y[150:], p[150:])
    assert float(m.result()) == pytest.approx(_roc_auc_trapezoid(y, p, thresholds), abs=1e-9)
    assert float(m.result()) == pytest.approx(_exact_auc(y, p), abs=5e-3)
    fine = keras.metrics.AUC(num_thresholds=2000)
    fine.update_state(y, p)
    assert float(fine.result()) == pytest.approx(_exact_auc(y, p), abs=1e-3)


def test_auc_perfect_and_reversed():
    y = np.array([0, 0, 1, 1])
    m = keras.metrics.AUC()
    m.update_state(y, np.array([0.1, 0.2, 0.8, 0.9]))
    assert float(m.result()) == pytest.approx(1.0, abs=1e-6)
    m = keras.metrics.AUC()
    m.update_state(y, np.array([0.9, 0.8, 0.2, 0.1]))
    assert float(m.result()) == pytest.approx(0.0, abs=1e-6)


def test_metric_lookup_names():
    assert metrics.get("auc").name == "auc"
    assert metrics.get("precision").name == "precision"
    assert isinstance(metrics.get("AUC"), keras.metrics.AUC)
    assert isinstance(metrics.get(keras.metrics.Recall), keras.metrics.Recall)
    with pytest.raises(ValueError, match=r"Did you mean 'accuracy'"):
        metrics.get("acuracy")


def test_function_metric_is_wrapped_with_its_name():
    def my_metric(y_true, y_pred):
        return np.abs(y_true - y_pred).max(axis=-1)

    m = metrics.get(my_metric)
    assert m.name == "my_metric"
    m.update_state(np.zeros((2, 2)), np.array([[1.0, 2.0], [0.5, 0.0]]))
    assert float(m.result()) == pytest.approx(1.25)
