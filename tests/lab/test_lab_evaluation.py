"""confusion_matrix and classification_report, checked against counts made by hand."""
import numpy as np
import pytest

from mitbadak.lab import classification_report, confusion_matrix

# 10 samples, 3 classes. By hand, rows = true, columns = predicted:
#   true 0: predicted 0, 0, 1        -> [2, 1, 0]
#   true 1: predicted 1, 1, 1, 2     -> [0, 3, 1]
#   true 2: predicted 0, 2, 2        -> [1, 0, 2]
Y_TRUE = np.array([0, 0, 0, 1, 1, 1, 1, 2, 2, 2])
Y_PRED = np.array([0, 0, 1, 1, 1, 1, 2, 0, 2, 2])
CM = [[2, 1, 0], [0, 3, 1], [1, 0, 2]]


def test_counts():
    cm = confusion_matrix(Y_TRUE, Y_PRED)
    assert cm.tolist() == CM and cm.dtype == np.int64
    assert confusion_matrix(Y_TRUE, Y_PRED, num_classes=5).shape == (5, 5)


def test_probabilities_and_one_hot_are_argmaxed():
    probs = np.eye(3)[Y_PRED] * 0.6 + 0.1          # rows like softmax outputs
    one_hot = np.eye(3)[Y_TRUE]
    assert confusion_matrix(one_hot, probs).tolist() == CM
    assert confusion_matrix(Y_TRUE[:, None], probs).tolist() == CM


def test_binary_sigmoid_probabilities_are_thresholded():
    # p > 0.5 is class 1: predictions 0, 1, 1, 0 for true 0, 1, 0, 1.
    cm = confusion_matrix([0, 1, 0, 1], np.array([[0.2], [0.9], [0.7], [0.4]]))
    assert cm.tolist() == [[1, 1], [1, 1]]


def test_report_numbers_by_hand():
    r = classification_report(Y_TRUE, Y_PRED, output_dict=True)
    # class 0: precision 2/(2+0+1) = 2/3, recall 2/3;  class 1: precision 3/4, recall 3/4;
    # class 2: precision 2/3, recall 2/3.  F1 = harmonic mean = the same when P = R.
    expected = {"0": (2 / 3, 2 / 3, 3), "1": (3 / 4, 3 / 4, 4), "2": (2 / 3, 2 / 3, 3)}
    for name, (p, rc, support) in expected.items():
        assert r[name]["precision"] == pytest.approx(p)
        assert r[name]["recall"] == pytest.approx(rc)
        assert r[name]["f1-score"] == pytest.approx(2 * p * rc / (p + rc))
        assert r[name]["support"] == support
    assert r["accuracy"] == pytest.approx(7 / 10)
    assert r["macro avg"]["precision"] == pytest.approx((2 / 3 + 3 / 4 + 2 / 3) / 3)
    assert r["weighted avg"]["recall"] == pytest.approx((3 * 2 / 3 + 4 * 3 / 4 + 3 * 2 / 3) / 10)


def test_report_unequal_precision_and_recall_and_absent_class():
    # true [0, 0, 1, 1], pred [0, 1, 1, 1]: class 0 P = 1/1, R = 1/2, F1 = 2/3;
    # class 1 P = 2/3, R = 1, F1 = 0.8; class 2 never appears: all zeros, support 0.
    r = classification_report([0, 0, 1, 1], [0, 1, 1, 1], num_classes=3, output_dict=True)
    assert (r["0"]["precision"], r["0"]["recall"]) == (1.0, 0.5)
    assert r["0"]["f1-score"] == pytest.approx(2 / 3) and r["1"]["f1-score"] == pytest.approx(0.8)
    assert r["2"] == {"precision": 0.0, "recall": 0.0, "f1-score": 0.0, "support": 0}


def test_report_text_layout():
    text = classification_report(Y_TRUE, Y_PRED, target_names=["cat", "dog", "bird"])
    lines = text.splitlines()
    assert lines[0].split() == ["precision", "recall", "f1-score", "support"]
    assert lines[2].split() == ["cat", "0.67", "0.67", "0.67", "3"]
    assert any(line.split() == ["accuracy", "0.70", "10"] for line in lines)
    assert lines[-1].split()[:2] == ["weighted", "avg"]


def test_errors():
    with pytest.raises(ValueError, match="same number of samples"):
        confusion_matrix([0, 1], [0, 1, 1])
    with pytest.raises(ValueError, match="num_classes"):
        confusion_matrix([0, 3], [0, 1], num_classes=3)
    with pytest.raises(ValueError, match="target_names"):
        classification_report([0, 1], [0, 1], target_names=["a"])
    with pytest.raises(ValueError, match="y_true"):
        confusion_matrix(np.zeros((2, 3, 3)), [0, 1])
