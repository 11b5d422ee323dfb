"""Graph nodes and layers: forward values from the formulas, backward by central differences."""
import warnings

import numpy as np
import pytest

from mitbadak.graph import (Affine, AddLayer, ForwardNotCalledError, MulLayer, Relu, ShapeError,
                            Sigmoid, SoftmaxWithLoss, cross_entropy_error, softmax)

RNG = np.random.default_rng(0)


def numerical_gradient(f, x, h=1e-5):
    """Central differences (f(x + h·e_i) − f(x − h·e_i)) / 2h, one entry of x at a time (float64)."""
    grad = np.zeros_like(x, dtype=np.float64)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        f_plus = f()
        x[idx] = old - h
        f_minus = f()
        x[idx] = old
        grad[idx] = (f_plus - f_minus) / (2 * h)
    return grad


def rel_error(analytic, numeric):
    a, n = np.asarray(analytic, dtype=np.float64), np.asarray(numeric, dtype=np.float64)
    return np.linalg.norm(a - n) / max(np.linalg.norm(a) + np.linalg.norm(n), 1e-300)


# ------------------------------------------------------------- MulLayer / AddLayer
def test_mul_add_scalars_by_hand():
    mul = MulLayer()
    assert mul.forward(3.0, 4.0) == 12.0
    assert mul.backward(2.0) == (8.0, 6.0)  # dx = dout·y, dy = dout·x
    add = AddLayer()
    assert add.forward(3.0, 4.0) == 7.0
    assert add.backward(2.0) == (2.0, 2.0)


@pytest.mark.parametrize("Layer", [MulLayer, AddLayer])
def test_mul_add_gradient_check(Layer):
    x, y = RNG.normal(size=(3, 4)), RNG.normal(size=(3, 4))
    G = RNG.normal(size=(3, 4))  # dout: L = Σ out·G, so ∂L/∂out = G
    layer = Layer()
    layer.forward(x, y)
    dx, dy = layer.backward(G)
    loss = lambda: np.sum(Layer().forward(x, y) * G)
    assert rel_error(dx, numerical_gradient(loss, x)) < 1e-7
    assert rel_error(dy, numerical_gradient(loss, y)) < 1e-7


def test_add_backward_returns_new_arrays():
    dout = np.ones(3)
    dx, dy = AddLayer().backward(dout)
    assert dx is not dout and dy is not dout and dx is not dy


# ------------------------------------------------------------- Affine
def test_affine_forward_matches_sum_formula():
    x, W, b = RNG.normal(size=(2, 3)), RNG.normal(size=(3, 4)), RNG.normal(size=4)
    expected = [[sum(x[n, d] * W[d, m] for d in range(3)) + b[m] for m in range(4)] for n in range(2)]
    np.testing.assert_allclose(Affine(W, b).forward(x), expected, rtol=1e-12)


@pytest.mark.parametrize("x_shape", [(5, 6), (5, 2, 3)])  # (5, 2, 3) is flattened to (5, 6)
def test_affine_gradient_check(x_shape):
    x, W, b = RNG.normal(size=x_shape), RNG.normal(size=(6, 3)), RNG.normal(size=3)
    G = RNG.normal(size=(5, 3))
    layer = Affine(W, b)
    layer.forward(x)
    dx = layer.backward(G)
    assert dx.shape == x_shape and layer.dW.shape == (6, 3) and layer.db.shape == (3,)
    loss = lambda: np.sum(Affine(W, b).forward(x) * G)
    assert rel_error(dx, numerical_gradient(loss, x)) < 1e-7
    assert rel_error(layer.dW, numerical_gradient(loss, W)) < 1e-7
    assert rel_error(layer.db, numerical_gradient(loss, b)) < 1e-7


def test_affine_shape_errors():
    with pytest.raises(ShapeError, match=r"b of shape \(M,\)"):
        Affine(np.zeros((3, 2)), np.zeros(3))
    layer = Affine(np.zeros((3, 2)), np.zeros(2))
    with pytest.raises(ShapeError, match=r"expected x of shape \(N, 3\)"):
        layer.forward(np.zeros((4, 5)))
    with pytest.raises(ShapeError, match="reshape"):
        layer.forward(np.zeros(3))
    with pytest.raises(ForwardNotCalledError):
        layer.backward(np.zeros((4, 2)))
    layer.forward(np.zeros((4, 3)))
    with pytest.raises(ShapeError, match=r"dout of shape \(4, 2\)"):
        layer.backward(np.zeros((4, 3)))


# ------------------------------------------------------------- Relu / Sigmoid
def test_relu_forward_backward_by_hand_and_no_mutation():
    relu = Relu()
    np.testing.assert_array_equal(relu.forward(np.array([-2.0, 0.0, 3.0])), [0.0, 0.0, 3.0])
    dout = np.array([5.0, 6.0, 7.0])
    np.testing.assert_array_equal(relu.backward(dout), [0.0, 0.0, 7.0])
    np.testing.assert_array_equal(dout, [5.0, 6.0, 7.0])  # the caller's gradient is untouched


def test_relu_does_not_mutate_its_input():
    x = np.array([-1.0, 2.0])
    Relu().forward(x)
    np.testing.assert_array_equal(x, [-1.0, 2.0])


def test_relu_gradient_check():
    # Keep every entry at least 0.1 from the kink at 0, so x ± h stays on one side.
    x = RNG.uniform(0.1, 1.0, size=(4, 5)) * RNG.choice([-1.0, 1.0], size=(4, 5))
    G = RNG.normal(size=(4, 5))
    relu = Relu()
    relu.forward(x)
    dx = relu.backward(G)
    assert rel_error(dx, numerical_gradient(lambda: np.sum(Relu().forward(x) * G), x)) < 1e-7


def test_sigmoid_by_hand():
    s = Sigmoid()
    # σ(0) = 1/2 and σ'(0) = σ(0)(1 − σ(0)) = 1/4; σ(ln 3) = 1/(1 + 1/3) = 3/4
    np.testing.assert_allclose(s.forward(np.array([0.0, np.log(3.0)])), [0.5, 0.75], rtol=1e-15)
    np.testing.assert_allclose(s.backward(np.array([2.0, 1.0])), [2 * 0.25, 0.75 * 0.25], rtol=1e-15)


def test_sigmoid_extremes_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = Sigmoid().forward(np.array([-1000.0, 1000.0]))
    np.testing.assert_array_equal(out, [0.0, 1.0])


def test_sigmoid_gradient_check():
    x, G = RNG.normal(size=(3, 4)), RNG.normal(size=(3, 4))
    s = Sigmoid()
    s.forward(x)
    dx = s.backward(G)
    assert rel_error(dx, numerical_gradient(lambda: np.sum(Sigmoid().forward(x) * G), x)) < 1e-7


# ------------------------------------------------------------- softmax / cross-entropy
def test_softmax_and_cross_entropy_by_hand():
    # softmax(0, ln 2) = (1, 2)/(1 + 2) = (1/3, 2/3); adding 1000 to both changes nothing.
    np.testing.assert_allclose(softmax([[0.0, np.log(2.0)]]), [[1 / 3, 2 / 3]], rtol=1e-14)
    np.testing.assert_allclose(softmax([1000.0, 1000.0 + np.log(2.0)]), [1 / 3, 2 / 3], rtol=1e-12)
    y = np.array([[0.25, 0.75], [0.5, 0.5]])
    expected = -(np.log(0.75) + np.log(0.5)) / 2
    assert abs(cross_entropy_error(y, [1, 0]) - expected) < 1e-14
    assert abs(cross_entropy_error(y, [[0, 1], [1, 0]]) - expected) < 1e-14
    assert abs(cross_entropy_error([0.25, 0.75], 1) - (-np.log(0.75))) < 1e-14  # one sample
    # a probability of exactly 0 at the true class is clipped to epsilon: −log(1e-7)
    assert abs(cross_entropy_error([[1.0, 0.0]], [1]) - (-np.log(1e-7))) < 1e-9


@pytest.mark.parametrize("one_hot", [False, True])
def test_softmax_with_loss_gradient_check(one_hot):
    x = RNG.normal(size=(4, 3))
    labels = np.array([0, 2, 1, 2])
    t = np.eye(3)[labels] if one_hot else labels
    layer = SoftmaxWithLoss()
    loss = layer.forward(x, t)
    # forward value: the mean of −log softmax(x)[n, t_n], computed here from the formula
    log_softmax = x - np.log(np.sum(np.exp(x), axis=1, keepdims=True))
    assert abs(loss - (-np.mean(log_softmax[np.arange(4), labels]))) < 1e-12
    dout = 0.7
    dx = layer.backward(dout)
    numeric = numerical_gradient(lambda: dout * SoftmaxWithLoss().forward(x, t), x)
    assert rel_error(dx, numeric) < 1e-7


def test_softmax_with_loss_errors():
    layer = SoftmaxWithLoss()
    with pytest.raises(ForwardNotCalledError, match="forward"):
        layer.backward()
    with pytest.raises(ShapeError, match="t: expected one-hot"):
        layer.forward(np.zeros((2, 3)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"class indices in \[0, 3\)"):
        layer.forward(np.zeros((2, 3)), [0, 3])
    with pytest.raises(ShapeError, match=r"x of shape \(N, C\)"):
        layer.forward(np.zeros(3), [0])


def test_backward_before_forward_names_the_node():
    for Layer in (MulLayer, Relu, Sigmoid):
        with pytest.raises(ForwardNotCalledError, match=Layer.__name__):
            Layer().backward(np.ones(2))
