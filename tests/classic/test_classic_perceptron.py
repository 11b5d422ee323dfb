"""Perceptron: the Rosenblatt rule checked against hand traces, plus argument errors."""
import numpy as np
import pytest

from mitbadak.classic import LabelError, NotFittedError, Perceptron, ShapeError

X4 = [[0, 0], [0, 1], [1, 0], [1, 1]]
AND_T = [0, 0, 0, 1]
OR_T = [0, 1, 1, 1]


def test_and_hand_trace_five_epochs():
    """AND, lr 0.1, from w = (0, 0), b = 0; step(a) = 1 if a > 0 else 0.

    Each line: sample x -> net w·x + b, output y, err = t − y, then the new (w; b).
    Epoch 1: (0,0) 0 y0 ok | (0,1) 0 y0 ok | (1,0) 0 y0 ok
             (1,1) 0 y0 t1 err+1 -> w (.1,.1) b .1                   mistakes 1
    Epoch 2: (0,0) .1 y1 t0 err-1 -> w (.1,.1) b 0
             (0,1) .1 y1 t0 err-1 -> w (.1,0) b −.1
             (1,0) .1−.1 = 0 y0 ok
             (1,1) 0 y0 t1 err+1 -> w (.2,.1) b 0                    mistakes 3
    Epoch 3: (0,0) 0 y0 ok
             (0,1) .1 y1 err-1 -> w (.2,0) b −.1
             (1,0) .2−.1 = .1 y1 err-1 -> w (.1,0) b −.2
             (1,1) .1−.2 < 0 y0 err+1 -> w (.2,.1) b −.1             mistakes 3
    Epoch 4: (0,0) −.1 ok | (0,1) .1−.1 = 0 y0 ok
             (1,0) .2−.1 = .1 y1 err-1 -> w (.1,.1) b −.2
             (1,1) .2−.2 = 0 y0 err+1 -> w (.2,.2) b −.1             mistakes 2
    Epoch 5: (0,0) −.1 ok
             (0,1) .2−.1 = .1 y1 err-1 -> w (.2,.1) b −.2
             (1,0) .2−.2 = 0 y0 ok | (1,1) .3−.2 = .1 y1 ok          mistakes 1
    End: w = (0.2, 0.1), b = −0.2, not yet converged.
    """
    p = Perceptron(learning_rate=0.1, epochs=5).fit(X4, AND_T)
    np.testing.assert_allclose(p.coef_, [0.2, 0.1], rtol=0, atol=1e-12)
    assert abs(p.intercept_ - (-0.2)) < 1e-12
    assert p.errors_ == [1, 3, 3, 2, 1]
    assert p.converged_ is False and p.n_iter_ == 5


def test_and_converges_on_epoch_six_and_stops():
    """Continuing the trace above with w (.2,.1), b −.2:
    nets (0,0) −.2, (0,1) −.1, (1,0) 0, (1,1) .1 -> outputs 0,0,0,1 = AND: no mistake in epoch 6.
    """
    p = Perceptron(learning_rate=0.1, epochs=50).fit(X4, AND_T)
    assert p.errors_ == [1, 3, 3, 2, 1, 0]
    assert p.converged_ is True and p.n_iter_ == 6
    np.testing.assert_allclose(p.coef_, [0.2, 0.1], rtol=0, atol=1e-12)
    assert p.score(X4, AND_T) == 1.0


def test_or_hand_trace():
    """OR, lr 0.1, from zero; same rule (a > 0 fires).

    Epoch 1: (0,0) 0 y0 ok
             (0,1) 0 y0 t1 err+1 -> w (0,.1) b .1
             (1,0) .1 y1 ok | (1,1) .2 y1 ok                        mistakes 1
    Epoch 2: (0,0) .1 y1 t0 err-1 -> w (0,.1) b 0
             (0,1) .1 ok
             (1,0) 0 y0 t1 err+1 -> w (.1,.1) b .1
             (1,1) .3 ok                                            mistakes 2
    Epoch 3: (0,0) .1 y1 err-1 -> b 0; then nets .1, .1, .2 all fire  mistakes 1
    Epoch 4: nets 0, .1, .1, .2 -> 0,1,1,1 = OR                      mistakes 0, stop.
    End: w = (0.1, 0.1), b = 0.0 after 4 epochs (so also after "5 epochs").
    (b = −0.1 would come from the other convention, step(a) = 1 if a >= 0.)
    """
    p = Perceptron(learning_rate=0.1, epochs=5).fit(X4, OR_T)
    np.testing.assert_allclose(p.coef_, [0.1, 0.1], rtol=0, atol=1e-12)
    assert abs(p.intercept_ - 0.0) < 1e-12
    assert p.errors_ == [1, 2, 1, 0]
    assert p.converged_ is True and p.n_iter_ == 4


def test_single_update_is_the_rosenblatt_rule():
    # One sample x = (2, -3), t = 1, from zero: y = 0, err = 1, so w = lr·x and b = lr.
    p = Perceptron(learning_rate=0.5, epochs=1).fit([[2.0, -3.0]], [1])
    np.testing.assert_allclose(p.coef_, [1.0, -1.5], rtol=0, atol=1e-12)
    assert p.intercept_ == 0.5


def test_net_input_predict_score():
    p = Perceptron(epochs=5).fit(X4, AND_T)  # w (.2,.1), b −.2 from the trace above
    np.testing.assert_allclose(p.net_input(X4), [-0.2, -0.1, 0.0, 0.1], atol=1e-12)
    assert p.predict(X4).tolist() == [0, 0, 0, 1]
    assert p.score(X4, [0, 0, 0, 0]) == 0.75  # 3 of 4 agree


def test_boolean_labels_equal_integer_labels():
    a = Perceptron(epochs=5).fit(X4, np.array(AND_T, dtype=bool))
    b = Perceptron(epochs=5).fit(X4, AND_T)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert a.intercept_ == b.intercept_


def test_random_init_is_seeded_and_small():
    a = Perceptron(init="random", random_state=3, epochs=1).fit([[0.0, 0.0]], [0])
    b = Perceptron(init="random", random_state=3, epochs=1).fit([[0.0, 0.0]], [0])
    np.testing.assert_array_equal(a.coef_, b.coef_)
    # (0,0) contributes nothing to w, so w is still the initial draw: small and nonzero.
    assert np.all(np.abs(a.coef_) < 0.1) and np.any(a.coef_ != 0)


def test_shuffle_still_learns_and():
    p = Perceptron(epochs=100, shuffle=True, random_state=0).fit(X4, AND_T)
    assert p.converged_ and p.predict(X4).tolist() == AND_T


def test_verbose_prints_epochs(capsys):
    Perceptron(epochs=2, verbose=1).fit(X4, AND_T)
    assert "epoch 1/2: errors=1" in capsys.readouterr().out


@pytest.mark.parametrize("X, y, match", [
    ([0, 1, 1], [0, 1, 1], "X: expected a non-empty 2-D"),
    ([[0, 1], [1, 1]], [0, 1, 1], r"y: expected shape \(2,\)"),
    ([[0, 1], [1, 1]], [[0], [1]], r"y\.ravel\(\)"),
])
def test_bad_shapes_name_the_argument(X, y, match):
    with pytest.raises(ShapeError, match=match):
        Perceptron().fit(X, y)


def test_minus_one_labels_are_rejected_with_hint():
    with pytest.raises(LabelError, match=r"\(y > 0\)"):
        Perceptron().fit(X4, [-1, -1, -1, 1])


def test_predict_checks_feature_count_and_fitted():
    with pytest.raises(NotFittedError, match="fit"):
        Perceptron().predict(X4)
    p = Perceptron().fit(X4, AND_T)
    with pytest.raises(ShapeError, match="expected 2 features"):
        p.predict([[0, 1, 1]])
    assert isinstance(ShapeError("x"), ValueError)


@pytest.mark.parametrize("kwargs", [{"learning_rate": 0}, {"epochs": 0}, {"epochs": 2.5},
                                    {"init": "ones"}])
def test_bad_hyperparameters(kwargs):
    with pytest.raises(ValueError):
        Perceptron(**kwargs)
