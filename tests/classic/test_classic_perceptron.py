"""Perceptron: the Rosenblatt rule checked against hand traces, plus argument errors."""
import numpy as np
import pytest

from mitbadak.classic import LabelError, NotFittedError, Perceptron, ShapeError

X4 = [[0, 0], [0, 1], [1, 0], [1, 1]]
AND_T = [0, 0, 0, 1]
OR_T = [0, 1, 1, 1]


# The hand traces below count w and b in units of the learning rate: from zero weights every
# update adds ±lr, so w = lr·(integers), b = lr·(integer), and the sign of w·x + b does not
# depend on lr, in exact arithmetic. Rule: step(a) = 1 if a >= 0 else 0 (a tie fires).
#
# AND, exact arithmetic (w; b in units of lr). Each entry: sample: net -> y, then the update.
# Epoch 1: (0,0): 0 -> y1 t0, err −1 -> w (0,0) b −1
#          (0,1): −1 -> ok | (1,0): −1 -> ok
#          (1,1): −1 -> y0 t1, err +1 -> w (1,1) b 0                          mistakes 2
# Epoch 2: (0,0): 0 -> y1, err −1 -> b −1
#          (0,1): 1−1 = 0 -> y1, err −1 -> w (1,0) b −2
#          (1,0): 1−2 = −1 -> ok
#          (1,1): 1−2 = −1 -> y0, err +1 -> w (2,1) b −1                      mistakes 3
# Epoch 3: (0,0): −1 -> ok
#          (0,1): 1−1 = 0 -> y1, err −1 -> w (2,0) b −2
#          (1,0): 2−2 = 0 -> y1, err −1 -> w (1,0) b −3
#          (1,1): 1−3 = −2 -> y0, err +1 -> w (2,1) b −2                      mistakes 3
# Epoch 4: (0,0): −2 ok | (0,1): 1−2 = −1 ok
#          (1,0): 2−2 = 0 -> y1, err −1 -> w (1,1) b −3        <- the tie (see below)
#          (1,1): 2−3 = −1 -> y0, err +1 -> w (2,2) b −2                      mistakes 2
# Epoch 5: (0,0): −2 ok
#          (0,1): 2−2 = 0 -> y1, err −1 -> w (2,1) b −3
#          (1,0): 2−3 = −1 ok | (1,1): 3−3 = 0 -> y1 ok                       mistakes 1
# Epoch 6: nets −3, −2, −1, 0 -> 0, 0, 0, 1 = AND: no mistake, converged at w (2,1), b −3.
#
# With lr = 0.1 in float64 epochs 1-3 are identical (each tie there is an exact 0.0: 0.1 − 0.1
# and 0.2 − 0.2), but epoch 3 leaves b = ((−0.1 − 0.1) − 0.1) + 0.1 = −0.20000000000000004,
# not −0.2: −0.2 − 0.1 rounds to −0.30000000000000004. So at epoch 4 the net of (1,0) is
# 0.2 − 0.20000000000000004 = −2.8e-17 < 0: no mistake there, nor anywhere in epoch 4, and
# training stops with w = (0.2, 0.1), b ≈ −0.2.
X4_AND_LR01_B = ((-0.1 - 0.1) - 0.1) + 0.1      # float64 arithmetic, as the trace says


def test_and_five_epochs_lr_01_float64():
    p = Perceptron(learning_rate=0.1, epochs=5).fit(X4, AND_T)
    np.testing.assert_allclose(p.coef_, [0.2, 0.1], rtol=0, atol=1e-12)
    assert abs(p.intercept_ - (-0.2)) < 1e-12
    assert p.errors_ == [2, 3, 3, 0]
    assert p.converged_ is True and p.n_iter_ == 4
    # The tie at epoch 4 went the way float rounding sent it: b is a hair below −0.2.
    assert p.intercept_ == X4_AND_LR01_B and X4_AND_LR01_B < -0.2
    assert p.score(X4, AND_T) == 1.0


def test_and_exact_arithmetic_lr_one_eighth():
    # 1/8 is exact in binary, so every sum in the trace is exact: the real-number trace above.
    lr = 0.125
    p = Perceptron(learning_rate=lr, epochs=5).fit(X4, AND_T)
    np.testing.assert_array_equal(p.coef_, [2 * lr, 1 * lr])   # after epoch 5: w (2,1), b −3
    assert p.intercept_ == -3 * lr
    assert p.errors_ == [2, 3, 3, 2, 1] and p.converged_ is False
    q = Perceptron(learning_rate=lr, epochs=50).fit(X4, AND_T)
    assert q.errors_ == [2, 3, 3, 2, 1, 0] and q.converged_ is True and q.n_iter_ == 6
    np.testing.assert_array_equal(q.net_input(X4), [-3 * lr, -2 * lr, -1 * lr, 0.0])
    assert q.predict(X4).tolist() == [0, 0, 0, 1]     # the exact tie at (1,1) fires


# OR, exact arithmetic, units of lr; with lr = 0.1 every tie is an exact 0.0, so float64 agrees.
# Epoch 1: (0,0): 0 -> y1 t0, err −1 -> b −1
#          (0,1): −1 -> y0 t1, err +1 -> w (0,1) b 0
#          (1,0): 0 -> y1 ok | (1,1): 1 -> ok                                  mistakes 2
# Epoch 2: (0,0): 0 -> y1, err −1 -> b −1
#          (0,1): 1−1 = 0 -> y1 ok
#          (1,0): −1 -> y0, err +1 -> w (1,1) b 0
#          (1,1): 2 -> ok                                                      mistakes 2
# Epoch 3: (0,0): 0 -> y1, err −1 -> b −1; then nets 0, 0, 1 all fire          mistakes 1
# Epoch 4: nets −1, 0, 0, 1 -> 0, 1, 1, 1 = OR: no mistake, converged at w (1,1), b −1.
def test_or_hand_trace_lr_01():
    p = Perceptron(learning_rate=0.1, epochs=5).fit(X4, OR_T)
    np.testing.assert_allclose(p.coef_, [0.1, 0.1], rtol=0, atol=1e-12)
    assert abs(p.intercept_ - (-0.1)) < 1e-12
    assert p.errors_ == [2, 2, 1, 0]
    assert p.converged_ is True and p.n_iter_ == 4
    assert p.predict(X4).tolist() == OR_T


@pytest.mark.parametrize("lr", [0.125, 1.0])
def test_or_exact_arithmetic(lr):
    p = Perceptron(learning_rate=lr, epochs=5).fit(X4, OR_T)
    np.testing.assert_array_equal(p.coef_, [lr, lr])
    assert p.intercept_ == -lr and p.errors_ == [2, 2, 1, 0]


@pytest.mark.parametrize("t", [AND_T, OR_T], ids=["AND", "OR"])
def test_more_epochs_converge_and_stop(t):
    p = Perceptron(learning_rate=0.1, epochs=100).fit(X4, t)
    assert p.converged_ and p.errors_[-1] == 0 and p.n_iter_ == len(p.errors_) < 100
    assert p.predict(X4).tolist() == t


def test_single_update_is_the_rosenblatt_rule():
    # One sample x = (2, -3), t = 0, from zero: net 0 is a tie, so y = 1, err = −1:
    # w = −lr·x and b = −lr.
    p = Perceptron(learning_rate=0.5, epochs=1).fit([[2.0, -3.0]], [0])
    np.testing.assert_allclose(p.coef_, [-1.0, 1.5], rtol=0, atol=1e-12)
    assert p.intercept_ == -0.5
    # With t = 1 the tie already gives the right answer: nothing moves.
    q = Perceptron(learning_rate=0.5, epochs=1).fit([[2.0, -3.0]], [1])
    assert q.coef_.tolist() == [0.0, 0.0] and q.intercept_ == 0.0 and q.errors_ == [0]


def test_net_input_predict_score():
    p = Perceptron(epochs=5).fit(X4, AND_T)  # w (.2,.1), b ≈ −.2 from the trace above
    np.testing.assert_allclose(p.net_input(X4), [-0.2, -0.1, 0.0, 0.1], atol=1e-12)
    assert p.net_input([[1, 0]])[0] < 0       # the −2.8e-17 of the trace: no tie, so no fire
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


def test_verbose_prints_epochs_and_the_tie(capsys):
    Perceptron(epochs=2, verbose=1).fit(X4, AND_T)
    assert "epoch 1/2: errors=2" in capsys.readouterr().out
    Perceptron(epochs=1, verbose=2).fit(X4, AND_T)
    first = capsys.readouterr().out.splitlines()[0]
    assert "net=0 y=1 t=0 err=-1" in first      # (0,0) from zero weights: the tie fires


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
