"""The initial-weight experiment: what the activations of a deep stack look like at the start.

1000 standard-normal inputs of 100 features go through 5 Dense layers of 100 units with no
bias, as in the notes. With sigmoid, weights of std 1 push every unit to 0 or 1 (saturated:
the gradient there is ~0); std 0.01 squeezes everything to 0.5 (every unit says the same
thing); Xavier's std √(1/n) keeps a spread. With ReLU, He's √(2/n) keeps the spread the same
in every layer, Xavier's shrinks it by √2 a layer, and std 0.01 makes it vanish.

    from mitbadak.lab import activation_distributions, plot_activation_histograms
    d = activation_distributions('glorot_normal', 'sigmoid')
    print(d)                    # mean, std, % near 0 / near 1 / exactly 0, per layer
    plot_activation_histograms({'std 1': 1.0, 'std 0.01': 0.01, 'Xavier': 'glorot_normal'},
                               'sigmoid', path='sigmoid.png')

About "Xavier": for these square 100x100 layers Keras's GlorotNormal (a normal truncated at
2σ, rescaled so that its std is √(2/(fan_in+fan_out)) = √(1/100) = 0.1) and the notes'
N(0, 1/n) (``RandomNormal(stddev=0.1)``) have the same variance and give the same picture;
so do HeNormal and N(0, 2/n).
"""
from __future__ import annotations

import copy
from numbers import Real
from typing import Any

import numpy as np

from .. import activations as _activations
from .. import backend
from .. import initializers as _initializers
from ..layers.core import Dense
from ._mpl import finish, pyplot


class ActivationDistributions:
    """Per-layer activations of the experiment. ``activations[i]`` is layer i+1's output,
    shape (n_inputs, units). ``mean``, ``std``, ``near_0``, ``near_1``, ``zeros``: arrays of
    shape (n_layers,) (fractions of values within 0.01 of 0, of 1, exactly 0)."""

    def __init__(self, activations: list[np.ndarray], label: str):
        self.activations, self.label = activations, label
        self.mean = np.array([a.mean() for a in activations])
        self.std = np.array([a.std() for a in activations])
        self.near_0 = np.array([np.mean(np.abs(a) < 0.01) for a in activations])
        self.near_1 = np.array([np.mean(np.abs(a - 1) < 0.01) for a in activations])
        self.zeros = np.array([np.mean(a == 0) for a in activations])

    def histogram(self, layer: int, bins: int = 30, range: tuple | None = None):
        """``np.histogram`` of layer ``layer``'s activations (0-based): (counts, edges)."""
        return np.histogram(self.activations[layer].ravel(), bins=bins, range=range)

    def __len__(self) -> int:
        return len(self.activations)

    def __str__(self) -> str:
        lines = [f"Activations of {self.label}",
                 "  layer      mean       std   near 0   near 1  exactly 0"]
        for i in range(len(self)):
            lines.append(f"  {i + 1:>5}  {self.mean[i]:8.4f}  {self.std[i]:8.4g}  "
                         f"{self.near_0[i]:7.1%}  {self.near_1[i]:7.1%}  {self.zeros[i]:8.1%}")
        return "\n".join(lines)

    __repr__ = __str__


def _initializer(init: Any) -> Any:
    """A number is the std of a zero-mean normal (the notes' ``randn(n, n) * std``)."""
    if isinstance(init, Real) and not isinstance(init, bool):
        if not init > 0:
            raise ValueError(f"initializer: a number means the std of N(0, std²) and must be "
                             f"positive; got {init!r}.")
        return _initializers.RandomNormal(mean=0.0, stddev=float(init))
    return _initializers.get(init)


def _describe(init: Any, activation: Any) -> str:
    if isinstance(init, Real) and not isinstance(init, bool):
        name = f"N(0, {init:g}²)"
    else:
        name = init if isinstance(init, str) else type(init).__name__
    act = activation if isinstance(activation, str) else getattr(activation, "__name__", "f")
    return f"{name} weights, {act}"


def activation_distributions(initializer: Any, activation: Any = "sigmoid", n_layers: int = 5,
                             units: int = 100, n_inputs: int = 1000,
                             seed: int = 0) -> ActivationDistributions:
    """Feed N(0, 1) inputs (n_inputs, units) through ``n_layers`` Dense(units, activation,
    use_bias=False) layers whose kernels come from ``initializer``; keep every layer's output.

    Args:
        initializer: a Keras initializer (name such as 'glorot_normal' / 'he_normal', class,
            or instance) or a number, the std of a zero-mean normal (1.0 and 0.01 as in the notes).
        activation: 'sigmoid', 'relu', 'tanh', ... or a function.
        seed: the inputs and every layer's weights are drawn from it (layer i uses seed + i + 1
            when the initializer takes a seed), so the same call gives the same numbers.

    Returns: ActivationDistributions (``.activations`` list of (n_inputs, units) float64 arrays;
    ``.mean``/``.std`` per layer; ``print()`` shows a table).
    """
    for name, value in (("n_layers", n_layers), ("units", units), ("n_inputs", n_inputs)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name}: expected a whole number >= 1; got {value!r}.")
    base = _initializer(initializer)
    act = _activations.get(activation)
    x = np.random.default_rng(seed).standard_normal((n_inputs, units))
    outputs = []
    for i in range(n_layers):
        init = base
        if hasattr(base, "seed"):              # each layer its own, reproducible, weights
            init = copy.copy(base)
            init.seed = seed + i + 1
        layer = Dense(units, activation=act, use_bias=False, kernel_initializer=init,
                      dtype="float64", name=f"layer_{i + 1}")  # named: no automatic-name use
        x = backend.to_numpy(layer(x))
        outputs.append(x)
    return ActivationDistributions(outputs, _describe(initializer, activation))


def plot_activation_histograms(initializers: Any, activation: Any = "sigmoid",
                               n_layers: int = 5, bins: int = 30, seed: int = 0,
                               title: str | None = None, path: Any = None,
                               **kwargs: Any) -> Any:
    """Histograms of each layer's activations: one row per initializer, one column per layer.

    ``initializers``: one initializer, or {row title: initializer}, or ActivationDistributions
    results. Sigmoid rows use the notes' range (0, 1), other rows one range for all their
    panels; for ReLU-like rows exact zeros are left out of the bars and given in the title.
    ``title``: a heading over the whole figure. Returns the Figure; saves a PNG at ``path``.
    """
    plt = pyplot()
    if isinstance(initializers, ActivationDistributions):
        rows = {initializers.label: initializers}
    elif isinstance(initializers, dict):
        rows = dict(initializers)
    else:
        rows = {_describe(initializers, activation): initializers}
    results = {label: (r if isinstance(r, ActivationDistributions) else
                       activation_distributions(r, activation, n_layers=n_layers, seed=seed,
                                                **kwargs))
               for label, r in rows.items()}
    n_cols = max(len(r) for r in results.values())
    fig, axes = plt.subplots(len(results), n_cols, figsize=(2.6 * n_cols, 2.4 * len(results)),
                             squeeze=False)
    for row, (label, res) in enumerate(results.items()):
        values = np.concatenate([a.ravel() for a in res.activations])
        if values.min() >= 0 and values.max() <= 1:
            x_range = (0.0, 1.0)                  # the notes' range for sigmoid
        else:                                     # one range per row, so shrinking shows
            x_range = (float(values.min()), float(np.quantile(values, 0.999)))
        for i, a in enumerate(res.activations):
            ax = axes[row, i]
            v = a.ravel()
            zeros = np.mean(v == 0)
            if zeros > 0.1:                       # ReLU: the spike at 0 would hide the rest
                v = v[v != 0]
            ax.hist(v, bins=bins, range=x_range, color="tab:blue")
            note = f", {zeros:.0%} zeros" if zeros > 0.1 else ""
            ax.set_title(f"layer {i + 1}: std {res.std[i]:.2g}{note}", fontsize=8)
            ax.tick_params(labelsize=7)
            if i:
                ax.set_yticks([])
        axes[row, 0].set_ylabel(label, fontsize=8)
        for ax in axes[row, len(res):]:
            ax.axis("off")
    if title:
        fig.suptitle(title)
    return finish(fig, path)
