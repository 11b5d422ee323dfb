"""Watch an optimizer walk: the path it takes on a 2-D function, step by step.

The notes' test function is the long, narrow bowl f(x, y) = x²/20 + y²: steep in y,
nearly flat in x. Plain SGD zig-zags across the valley; Momentum rolls along it like a
ball; AdaGrad shrinks the steep direction's steps; Adam does a little of both.

    from mitbadak.lab import optimizer_path, plot_optimizer_paths
    path = optimizer_path(keras.optimizers.SGD(learning_rate=0.95))   # (31, 2) array
    plot_optimizer_paths(path='paths.png')                            # the notes' four panels

The optimizer is the library's own class, so the path is exactly what its update rule
does to a weight (Keras's epsilons, AdaGrad's accumulator starting at 0.1, ...).
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from .. import optimizers as _optimizers
from ._mpl import finish, pyplot


def bowl(x: Any, y: Any) -> Any:
    """The notes' function f(x, y) = x²/20 + y² (minimum 0 at the origin)."""
    return x ** 2 / 20.0 + y ** 2


def bowl_gradient(x: float, y: float) -> tuple[float, float]:
    """Its gradient (∂f/∂x, ∂f/∂y) = (x/10, 2y)."""
    return x / 10.0, 2.0 * y


def numerical_gradient_2d(f: Callable, x: float, y: float, h: float = 1e-6) -> tuple[float, float]:
    """Central differences of f at (x, y), for a function given without its gradient."""
    return ((f(x + h, y) - f(x - h, y)) / (2 * h), (f(x, y + h) - f(x, y - h)) / (2 * h))


def _fresh(optimizer: Any) -> _optimizers.Optimizer:
    """A new optimizer with the same settings, so the caller's one keeps no state from us."""
    opt = _optimizers.get(optimizer)
    if opt is optimizer:                    # an instance: rebuild it from its config
        return type(opt).from_config(opt.get_config())
    return opt


def optimizer_path(optimizer: Any, f: Callable | None = None, grad: Callable | None = None,
                   start: tuple[float, float] = (-7.0, 2.0), steps: int = 30) -> np.ndarray:
    """Run ``steps`` updates of ``optimizer`` on f from ``start``; return the (steps+1, 2) path.

    Args:
        optimizer: any optimizer of the library: an instance (``SGD(learning_rate=0.95)``; it
            is copied, not changed), a name ('adam') or a class.
        f: a function f(x, y) -> float; default ``bowl`` (x²/20 + y²).
        grad: its gradient, grad(x, y) -> (∂f/∂x, ∂f/∂y); default the bowl's, or central
            differences of f when f is given without one.
        start: the starting point (x, y); the notes use (−7, 2).
        steps: how many updates.

    Returns: float64 array of shape (steps + 1, 2): row 0 is ``start``, row k the point
    after k updates.
    """
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"steps: expected a whole number >= 0; got {steps!r}.")
    start_arr = np.asarray(start, dtype=np.float64)
    if start_arr.shape != (2,):
        raise ValueError(f"start: expected a point (x, y); got shape {start_arr.shape}.")
    if grad is None:
        grad = bowl_gradient if f is None else (lambda a, b: numerical_gradient_2d(f, a, b))
    opt = _fresh(optimizer)
    w = start_arr.copy()                    # the one "weight": updated in place by apply
    path = np.empty((steps + 1, 2))
    path[0] = w
    for k in range(1, steps + 1):
        g = np.asarray(grad(float(w[0]), float(w[1])), dtype=np.float64).reshape(2)
        opt.apply([w], [g])
        path[k] = w
        if not np.isfinite(w).all():
            raise FloatingPointError(f"optimizer_path: the point became {w} after {k} steps "
                                     f"(diverged). Hint: lower the learning rate.")
    return path


def notes_optimizers() -> dict[str, _optimizers.Optimizer]:
    """The notes' four settings: SGD 0.95, Momentum (0.1, 0.9), AdaGrad 1.5, Adam 0.3."""
    return {"SGD": _optimizers.SGD(learning_rate=0.95),
            "Momentum": _optimizers.SGD(learning_rate=0.1, momentum=0.9),
            "AdaGrad": _optimizers.Adagrad(learning_rate=1.5),
            "Adam": _optimizers.Adam(learning_rate=0.3)}


def plot_optimizer_paths(optimizers: dict | None = None, f: Callable | None = None,
                         grad: Callable | None = None, start: tuple[float, float] = (-7.0, 2.0),
                         steps: int = 30, path: Any = None) -> Any:
    """One panel per optimizer: its path over the contour lines of f. Returns the Figure.

    ``optimizers``: {title: optimizer}; default ``notes_optimizers()``. The view is the
    notes' x ∈ [−10, 10], y ∈ [−5, 5] (widened if a path leaves it). Saves a PNG at ``path``.
    """
    plt = pyplot()
    chosen = notes_optimizers() if optimizers is None else dict(optimizers)
    if not chosen:
        raise ValueError("optimizers: expected at least one {title: optimizer}; got none.")
    f_plot = bowl if f is None else f
    paths = {name: optimizer_path(opt, f=f, grad=grad, start=start, steps=steps)
             for name, opt in chosen.items()}
    every = np.concatenate(list(paths.values()))
    x_lim = max(10.0, float(np.abs(every[:, 0]).max()) * 1.1)
    y_lim = max(5.0, float(np.abs(every[:, 1]).max()) * 1.1)
    gx, gy = np.meshgrid(np.linspace(-x_lim, x_lim, 200), np.linspace(-y_lim, y_lim, 200))
    gz = np.vectorize(f_plot)(gx, gy) if f is not None else bowl(gx, gy)
    cols = min(2, len(paths))
    rows = math.ceil(len(paths) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.5 * cols, 4 * rows), squeeze=False)
    for ax, (name, p) in zip(axes.ravel(), paths.items()):
        ax.contour(gx, gy, gz, levels=15, colors="0.7", linewidths=0.8)
        ax.plot(p[:, 0], p[:, 1], "o-", color="red", markersize=3, linewidth=1)
        ax.plot(0, 0, "+", color="black", markersize=12)
        ax.set_title(f"{name}: ({p[-1, 0]:.2f}, {p[-1, 1]:.2f}) after {steps} steps")
        ax.set_xlim(-x_lim, x_lim)
        ax.set_ylim(-y_lim, y_lim)
        ax.set_xlabel("x")
        ax.set_ylabel("y")
    for ax in axes.ravel()[len(paths):]:
        ax.axis("off")
    return finish(fig, path)
