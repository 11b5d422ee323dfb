"""optimizer_path: the library's optimizers against update rules written out here, step by step."""
import math

import numpy as np
import pytest

from mitbadak import optimizers
from mitbadak.lab import bowl, notes_optimizers, optimizer_path, plot_optimizer_paths

START = (-7.0, 2.0)
STEPS = 30


def g(p):
    """Gradient of f(x, y) = x²/20 + y²: (x/10, 2y)."""
    return np.array([p[0] / 10.0, 2.0 * p[1]])


def run(update, steps=STEPS):
    """Apply `update(p, grad, t)` (t = 1, 2, ...) from START; return the (steps+1, 2) path."""
    p = np.array(START)
    path = [p.copy()]
    for t in range(1, steps + 1):
        p = update(p, g(p), t)
        path.append(p.copy())
    return np.array(path)


def sgd(lr):
    return lambda p, grad, t: p - lr * grad


def momentum(lr, mu, nesterov=False):
    v = np.zeros(2)

    def update(p, grad, t):
        nonlocal v
        v = mu * v - lr * grad
        return p + (mu * v - lr * grad if nesterov else v)
    return update


def adagrad(lr, initial=0.1, eps=1e-7):
    h = np.full(2, initial)           # Keras: the accumulator starts at 0.1, not 0

    def update(p, grad, t):
        nonlocal h
        h = h + grad * grad
        return p - lr * grad / np.sqrt(h + eps)      # epsilon inside the root
    return update


def rmsprop(lr, rho=0.9, eps=1e-7):
    v = np.zeros(2)

    def update(p, grad, t):
        nonlocal v
        v = rho * v + (1 - rho) * grad * grad
        return p - lr * grad / np.sqrt(v + eps)
    return update


def adam(lr, b1=0.9, b2=0.999, eps=1e-7):
    m, v = np.zeros(2), np.zeros(2)

    def update(p, grad, t):
        nonlocal m, v
        m = b1 * m + (1 - b1) * grad
        v = b2 * v + (1 - b2) * grad * grad
        alpha = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)   # bias correction folded in
        return p - alpha * m / (np.sqrt(v) + eps)            # epsilon outside the root
    return update


CASES = [
    ("sgd", lambda: optimizers.SGD(learning_rate=0.95), sgd(0.95)),
    ("momentum", lambda: optimizers.SGD(learning_rate=0.1, momentum=0.9), momentum(0.1, 0.9)),
    ("nesterov", lambda: optimizers.SGD(learning_rate=0.1, momentum=0.9, nesterov=True),
     momentum(0.1, 0.9, nesterov=True)),
    ("adagrad", lambda: optimizers.Adagrad(learning_rate=1.5), adagrad(1.5)),
    ("rmsprop", lambda: optimizers.RMSprop(learning_rate=0.1), rmsprop(0.1)),
    ("adam", lambda: optimizers.Adam(learning_rate=0.3), adam(0.3)),
]


@pytest.mark.parametrize("name, make, update", CASES, ids=[c[0] for c in CASES])
def test_path_equals_the_rule_step_for_step(name, make, update):
    path = optimizer_path(make(), start=START, steps=STEPS)
    expected = run(update)
    assert path.shape == (STEPS + 1, 2) and path.dtype == np.float64
    np.testing.assert_allclose(path, expected, rtol=1e-12, atol=1e-13)


def test_the_notes_pictures_in_numbers():
    # SGD 0.95 zig-zags in y: y ← y − 0.95·2y = −0.9·y, so after 30 steps y = 2·0.9³⁰
    # (30 even: the sign is back to +); x ← 0.905·x, so x = −7·0.905³⁰.
    p = optimizer_path(optimizers.SGD(learning_rate=0.95))
    assert p[-1, 1] == pytest.approx(2 * 0.9 ** 30, rel=1e-12)
    assert p[-1, 0] == pytest.approx(-7 * 0.905 ** 30, rel=1e-12)
    assert np.all(np.sign(p[1:, 1]) == [(-1) ** k for k in range(1, 31)])
    # The notes' four settings all end far down the bowl (f below 5% of where they started).
    for name, opt in notes_optimizers().items():
        end = optimizer_path(opt)[-1]
        assert bowl(*end) < 0.05 * bowl(*START), name


def test_names_classes_and_instances_are_accepted_and_not_changed():
    opt = optimizers.Adam(learning_rate=0.3)
    a = optimizer_path(opt)
    b = optimizer_path(opt)                      # the instance kept no state from the first run
    assert opt.iterations == 0
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(optimizer_path("adam"), run(adam(0.001)), rtol=1e-12)
    np.testing.assert_allclose(optimizer_path(optimizers.SGD), run(sgd(0.01)), rtol=1e-12)


def test_every_library_optimizer_runs():
    for name in ("sgd", "adagrad", "rmsprop", "adam", "adamw", "adamax", "nadam"):
        p = optimizer_path(name, steps=5)
        assert p.shape == (6, 2) and np.isfinite(p).all() and not np.array_equal(p[0], p[-1])


def test_custom_function_and_numerical_gradient():
    # f = (x − 1)² + (y + 2)²: gradient (2(x − 1), 2(y + 2)); SGD 0.25 halves the distance.
    f = lambda x, y: (x - 1) ** 2 + (y + 2) ** 2
    grad = lambda x, y: (2 * (x - 1), 2 * (y + 2))
    exact = optimizer_path(optimizers.SGD(learning_rate=0.25), f, grad, start=(3.0, 2.0), steps=4)
    expected = [[1 + 2 * 0.5 ** k, -2 + 4 * 0.5 ** k] for k in range(5)]
    np.testing.assert_allclose(exact, expected, rtol=1e-12)
    numeric = optimizer_path(optimizers.SGD(learning_rate=0.25), f, start=(3.0, 2.0), steps=4)
    np.testing.assert_allclose(numeric, expected, atol=1e-7)


def test_errors():
    with pytest.raises(ValueError, match="start"):
        optimizer_path("sgd", start=(1.0, 2.0, 3.0))
    with pytest.raises(ValueError, match="steps"):
        optimizer_path("sgd", steps=-1)
    with pytest.raises(ValueError, match="Unknown optimizer"):
        optimizer_path("adamm")
    with np.errstate(all="ignore"), pytest.raises(FloatingPointError, match="learning rate"):
        optimizer_path(optimizers.SGD(learning_rate=1e200), steps=5)


def test_plot_optimizer_paths(tmp_path):
    pytest.importorskip("matplotlib", reason="matplotlib is not installed (optional extra)")
    from matplotlib.image import imread
    import matplotlib.pyplot as plt
    fig = plot_optimizer_paths(path=tmp_path / "paths.png")
    assert len([ax for ax in fig.axes if ax.has_data()]) == 4
    image = imread(tmp_path / "paths.png")
    assert image.size and image.var() > 0
    plt.close(fig)
