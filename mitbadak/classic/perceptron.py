"""The perceptron (Rosenblatt, 1958): the first machine that learned its own weights.

A perceptron takes a weighted sum of its inputs plus a bias and fires when the sum is
zero or more (Rosenblatt's convention, as in Raschka's ``np.where(net >= 0, 1, 0)``):

    y = step(w·x + b),      step(a) = 1 if a >= 0 else 0

It learns with the Rosenblatt rule, one sample at a time, in the order given:

    err = t − y
    w  ← w + lr·err·x
    b  ← b + lr·err

If a straight line separates the two classes (AND, OR), the rule stops making mistakes
after finitely many epochs (the perceptron convergence theorem). If none does (XOR), it
never stops: see ``mitbadak.classic.gates.perceptron_cannot_learn_xor``.

A net input of exactly 0 fires. With lr = 0.1 the weights are sums of the float 0.1, so a net
input that is 0 on paper may come out as ±3e-17 and fall on either side; training on AND
hits such a tie (tests/classic/test_classic_perceptron.py traces it step by step).
"""
from __future__ import annotations

from numbers import Real
from typing import Any

import numpy as np


class ShapeError(ValueError):
    """An array argument has the wrong number of dimensions or the wrong size."""


class LabelError(ValueError):
    """Labels are not the 0/1 (or False/True) a perceptron expects."""


class NotFittedError(ValueError, AttributeError):
    """The model is used before ``fit`` gave it weights."""


def _as_inputs(X: Any, name: str = "X", n_features: int | None = None) -> np.ndarray:
    """X as a float64 array of shape (n_samples, n_features), or a clear error."""
    try:
        X = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise TypeError(
            f"{name}: expected numbers, shape (n_samples, n_features); got {type(X).__name__} "
            f"that NumPy cannot turn into floats. Hint: pass a list of rows or a NumPy array."
        ) from e
    if X.ndim != 2 or X.shape[0] == 0:
        hint = ("for one sample use X.reshape(1, -1); for one feature X.reshape(-1, 1)"
                if X.ndim == 1 else "give at least one row of shape (n_features,)")
        raise ShapeError(f"{name}: expected a non-empty 2-D array (n_samples, n_features); "
                         f"got shape {X.shape}. Hint: {hint}.")
    if n_features is not None and X.shape[1] != n_features:
        raise ShapeError(f"{name}: expected {n_features} features per row (as in fit); "
                         f"got shape {X.shape}. Hint: use the same columns as in training.")
    return X


def _as_labels(y: Any, n_samples: int) -> np.ndarray:
    """y as an int array of 0s and 1s, shape (n_samples,), or a clear error."""
    y = np.asarray(y)
    if y.shape != (n_samples,):
        raise ShapeError(f"y: expected shape ({n_samples},), one label per row of X; got shape "
                         f"{y.shape}. Hint: a column vector (n, 1) becomes (n,) with y.ravel().")
    if y.dtype == bool:
        return y.astype(np.int64)
    if y.dtype.kind not in "iuf" or not np.isin(y, (0, 1)).all():
        bad = np.unique(y)[:5]
        raise LabelError(f"y: expected labels 0 and 1 (or False/True); got values {bad}. "
                         f"Hint: -1/+1 labels become 0/1 with (y > 0).astype(int).")
    return y.astype(np.int64)


class Perceptron:
    """A single perceptron trained with the Rosenblatt rule, one sample at a time.

    Attributes after ``fit``: ``coef_`` (n_features,) weights w; ``intercept_`` bias b;
    ``errors_`` sum of squared errors (= mistakes) per epoch; ``converged_`` True once
    an epoch made no mistake (training stops there); ``n_iter_`` epochs run, so the
    epoch on which it converged when ``converged_`` is True.
    """

    def __init__(self, learning_rate: float = 0.1, epochs: int = 10, random_state: Any = None,
                 init: str = "zeros", shuffle: bool = False, verbose: int = 0) -> None:
        if isinstance(learning_rate, bool) or not isinstance(learning_rate, Real) or not learning_rate > 0:
            raise ValueError(f"learning_rate: expected a positive number; got {learning_rate!r}. "
                             f"Hint: 0.1 is the textbook value.")
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
            raise ValueError(f"epochs: expected a whole number >= 1; got {epochs!r}.")
        if init not in ("zeros", "random"):
            raise ValueError(f"init: expected 'zeros' or 'random'; got {init!r}.")
        self.learning_rate, self.epochs, self.random_state = learning_rate, int(epochs), random_state
        self.init, self.shuffle, self.verbose = init, shuffle, verbose

    def fit(self, X: Any, y: Any) -> "Perceptron":
        """Learn w and b from X (n_samples, n_features) and 0/1 labels y (n_samples,)."""
        X = _as_inputs(X)
        t = _as_labels(y, X.shape[0])
        rng = np.random.default_rng(self.random_state)
        if self.init == "zeros":
            self.coef_, self.intercept_ = np.zeros(X.shape[1]), 0.0
        else:  # small random weights break symmetry; seeded so runs repeat
            self.coef_, self.intercept_ = rng.normal(0.0, 0.01, X.shape[1]), float(rng.normal(0.0, 0.01))
        self.errors_: list[int] = []
        self.converged_ = False
        for epoch in range(1, self.epochs + 1):
            order = rng.permutation(len(X)) if self.shuffle else range(len(X))
            squared_error = 0
            for i in order:
                net = X[i] @ self.coef_ + self.intercept_
                y_i = self._step(net)
                err = int(t[i]) - y_i
                self.coef_ = self.coef_ + self.learning_rate * err * X[i]
                self.intercept_ = self.intercept_ + self.learning_rate * err
                squared_error += err ** 2
                if self.verbose >= 2:  # net printed in full: a tie (0) fires, −3e-17 does not
                    print(f"  x={X[i]} net={net:.4g} y={y_i} t={t[i]} err={err:+d} "
                          f"-> w={self.coef_} b={self.intercept_:.4g}")
            self.errors_.append(squared_error)
            if self.verbose >= 1:
                print(f"epoch {epoch}/{self.epochs}: errors={squared_error} "
                      f"w={self.coef_} b={self.intercept_:.4g}")
            if squared_error == 0:  # no mistake in a whole pass: nothing will change any more
                self.converged_ = True
                break
        self.n_iter_ = epoch
        return self

    @staticmethod
    def _step(a: float) -> int:
        return 1 if a >= 0 else 0  # a tie (net input exactly 0) fires

    def net_input(self, X: Any) -> np.ndarray:
        """w·x + b for each row of X (n_samples, n_features) -> (n_samples,)."""
        if not hasattr(self, "coef_"):
            raise NotFittedError("Perceptron: expected a fitted model; got one with no weights yet. "
                                 "Hint: call fit(X, y) first.")
        return _as_inputs(X, "X", self.coef_.shape[0]) @ self.coef_ + self.intercept_

    def predict(self, X: Any) -> np.ndarray:
        """Class labels 0/1, shape (n_samples,): 1 where w·x + b >= 0."""
        return np.where(self.net_input(X) >= 0, 1, 0).astype(np.int64)

    def score(self, X: Any, y: Any) -> float:
        """Accuracy: the fraction of rows of X whose predicted label equals y."""
        prediction = self.predict(X)
        return float(np.mean(prediction == _as_labels(y, prediction.shape[0])))
