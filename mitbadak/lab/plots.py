"""One-line figures for the usual questions after training (matplotlib, imported lazily).

    plot_history(history, path='history.png')       # is it still learning? overfitting?
    plot_confusion_matrix(y_test, probs)             # which classes get confused?
    plot_misclassified(x_test, y_test, probs)        # what do the mistakes look like?
    plot_filters(model)                              # what did the first Conv2D learn?

Each returns the matplotlib Figure and saves a PNG when given ``path``. Without a display
they draw with the Agg backend; without matplotlib they raise ImportError with the install
command (the data functions in ``mitbadak.lab`` work regardless).
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from .. import backend
from ._mpl import finish, pyplot
from .evaluation import as_labels, confusion_matrix


# ------------------------------------------------------------------ learning curves
def _history_dict(history: Any) -> dict[str, list]:
    if hasattr(history, "history") and isinstance(history.history, dict):
        return history.history                 # a History (fit's return value)
    if hasattr(history, "history") and hasattr(history.history, "history"):
        return history.history.history         # a model after fit
    if isinstance(history, dict):
        return history
    raise TypeError(f"history: expected what fit returns (a History), its .history dict, or a "
                    f"trained model; got {type(history).__name__}.")


def best_epoch(history: Any, monitor: str = "val_loss") -> int | None:
    """The 1-based epoch with the lowest ``monitor`` (None when it was not recorded): after
    it, validation loss rises while training loss keeps falling, i.e. overfitting begins."""
    values = _history_dict(history).get(monitor)
    if not values:
        return None
    return int(np.argmin(np.asarray(values, dtype=np.float64))) + 1


def plot_history(history: Any, path: Any = None, monitor: str = "val_loss") -> Any:
    """One panel per quantity (loss, then each metric): training vs validation per epoch.

    The epoch with the lowest validation loss (``monitor``) is marked on every panel: the
    point where more training starts to overfit. Returns the Figure; saves a PNG at ``path``.
    """
    plt = pyplot()
    from matplotlib.ticker import MaxNLocator
    h = _history_dict(history)
    names = [k for k in h if not k.startswith("val_")]
    names += [k[4:] for k in h if k.startswith("val_") and k[4:] not in names]  # val only
    if not names:
        raise ValueError("history: nothing recorded. Hint: pass what model.fit(...) returns.")
    best = best_epoch(h, monitor)
    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 3.6), squeeze=False)
    for ax, name in zip(axes[0], names):
        for key, style, label in ((name, "o-", "training"), ("val_" + name, "s--", "validation")):
            if key in h and len(h[key]):
                values = np.asarray(h[key], dtype=np.float64)
                ax.plot(np.arange(1, len(values) + 1), values, style, markersize=3, label=label)
        if best is not None:
            ax.axvline(best, color="tab:red", linestyle=":", linewidth=1.2,
                       label=f"lowest {monitor}: epoch {best}")
            if "val_" + name in h and best <= len(h["val_" + name]):
                ax.plot(best, h["val_" + name][best - 1], "*", color="tab:red", markersize=12)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(name)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    return finish(fig, path)


# ------------------------------------------------------------------ confusion matrix
def plot_confusion_matrix(y_true: Any, y_pred: Any = None, num_classes: int | None = None,
                          normalize: Any = False, class_names: Sequence[str] | None = None,
                          path: Any = None) -> Any:
    """Heat map of the confusion matrix, each cell labelled with its count (or fraction).

    Pass (y_true, y_pred) as for ``confusion_matrix``, or an existing (K, K) matrix alone.
    ``normalize``: False (counts), True or 'true' (each row sums to 1: the recall of each
    class on the diagonal), 'pred' (columns sum to 1: precision), 'all'.
    """
    plt = pyplot()
    if y_pred is None:
        cm = np.asarray(y_true)
        if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
            raise ValueError(f"y_true: alone it must be a square confusion matrix; got shape "
                             f"{cm.shape}. Hint: pass y_true and y_pred to count one.")
    else:
        cm = confusion_matrix(y_true, y_pred, num_classes)
    mode = "true" if normalize is True else normalize
    if mode not in (False, None, "true", "pred", "all"):
        raise ValueError(f"normalize: expected False, True, 'true', 'pred' or 'all'; got "
                         f"{normalize!r}.")
    values = cm.astype(np.float64)
    if mode == "true":
        values = values / np.maximum(values.sum(axis=1, keepdims=True), 1)
    elif mode == "pred":
        values = values / np.maximum(values.sum(axis=0, keepdims=True), 1)
    elif mode == "all":
        values = values / max(values.sum(), 1)
    k = len(cm)
    names = [str(i) for i in range(k)] if class_names is None else [str(n) for n in class_names]
    size = max(4.0, 0.55 * k + 2)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    image = ax.imshow(values, cmap="Blues")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    threshold = values.max() / 2 if values.size else 0
    for i in range(k):
        for j in range(k):
            text = f"{values[i, j]:.2f}" if mode else f"{cm[i, j]}"
            ax.text(j, i, text, ha="center", va="center", fontsize=8 if k <= 10 else 6,
                    color="white" if values[i, j] > threshold else "black")
    ax.set_xticks(range(k), names)
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    accuracy = np.trace(cm) / max(cm.sum(), 1)
    ax.set_title(f"confusion matrix (accuracy {accuracy:.1%})")
    return finish(fig, path)


# ------------------------------------------------------------------ images
def _as_images(x: Any) -> np.ndarray:
    """(N, H, W), (N, H, W, 1|3) or flattened square (N, H·W) -> displayable images."""
    x = np.asarray(backend.to_numpy(x))
    if x.ndim == 2:
        side = math.isqrt(x.shape[1])
        if side * side != x.shape[1]:
            raise ValueError(f"x: flattened rows of {x.shape[1]} values are not square images. "
                             f"Hint: pass x reshaped to (N, height, width).")
        return x.reshape(len(x), side, side)
    if x.ndim == 4 and x.shape[-1] == 1:
        return x[..., 0]
    if x.ndim == 3 or (x.ndim == 4 and x.shape[-1] == 3):
        return x
    raise ValueError(f"x: expected images (N, H, W), (N, H, W, 1 or 3) or flattened squares; "
                     f"got shape {x.shape}.")


def plot_misclassified(x: Any, y_true: Any, y_pred: Any, n: int = 16, seed: int = 0,
                       class_names: Sequence[str] | None = None, path: Any = None) -> Any:
    """A grid of ``n`` randomly chosen misclassified samples, titled 'true 3 / pred 5'.

    ``y_pred`` may be labels or the model's probabilities. ``seed`` picks the same samples
    each time. Returns the Figure; saves a PNG at ``path``.
    """
    plt = pyplot()
    images = _as_images(x)
    t, p = as_labels(y_true, "y_true"), as_labels(y_pred, "y_pred")
    if not len(images) == len(t) == len(p):
        raise ValueError(f"x, y_true, y_pred: expected the same number of samples; got "
                         f"{len(images)}, {len(t)} and {len(p)}.")
    wrong = np.flatnonzero(t != p)
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(wrong, size=min(n, len(wrong)), replace=False)) if len(wrong) \
        else wrong
    cols = max(1, math.ceil(math.sqrt(max(n, 1))))
    rows = max(1, math.ceil(max(len(chosen), 1) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(1.6 * cols, 1.8 * rows), squeeze=False)
    name = (lambda c: str(c)) if class_names is None else (lambda c: str(class_names[c]))
    for ax in axes.ravel():
        ax.axis("off")
    for ax, i in zip(axes.ravel(), chosen):
        ax.imshow(images[i], cmap="gray_r" if images[i].ndim == 2 else None)
        ax.set_title(f"true {name(t[i])} / pred {name(p[i])}", fontsize=8)
    if not len(wrong):
        axes[0, 0].text(0.5, 0.5, "no misclassified samples", ha="center", va="center",
                        transform=axes[0, 0].transAxes)
    fig.suptitle(f"{len(chosen)} of {len(wrong)} misclassified (of {len(t)})", fontsize=10)
    return finish(fig, path)


def first_conv_kernel(model_or_layer: Any) -> np.ndarray:
    """The kernel (kh, kw, in, out) of the first layer that has a 4-D one (Conv2D)."""
    if hasattr(model_or_layer, "shape") and not hasattr(model_or_layer, "_weights"):
        kernel = np.asarray(backend.to_numpy(model_or_layer))
        if kernel.ndim != 4:
            raise ValueError(f"kernel: expected shape (kh, kw, in, out); got {kernel.shape}.")
        return kernel
    layers = getattr(model_or_layer, "layers", None)
    layers = [model_or_layer] if layers is None else layers
    for layer in layers:
        weights = getattr(layer, "_weights", {})
        candidates = ([weights["kernel"]] if "kernel" in weights else []) + list(weights.values())
        for w in candidates:
            if getattr(w, "ndim", 0) == 4:
                return np.asarray(backend.to_numpy(w))
    raise ValueError(f"model_or_layer: no layer with a 4-D kernel (kh, kw, in, out) in "
                     f"{getattr(model_or_layer, 'name', type(model_or_layer).__name__)!r}. Hint: "
                     f"plot_filters shows Conv2D filters; build the model first (fit or build).")


def plot_filters(model_or_layer: Any, path: Any = None, max_filters: int = 64) -> Any:
    """The first Conv2D layer's filters as small images, one per output channel.

    One input channel (grey images): the filter itself; 3 (RGB): shown in colour; otherwise
    input channel 0. Each filter is scaled to its own min..max; dark = large, as in the notes.
    Accepts a model, the layer, or the kernel array. Returns the Figure; saves at ``path``.
    """
    plt = pyplot()
    kernel = first_conv_kernel(model_or_layer)
    kh, kw, c_in, c_out = kernel.shape
    count = min(c_out, max_filters)
    cols = max(1, math.ceil(math.sqrt(count)))
    rows = math.ceil(count / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(1.1 * cols, 1.1 * rows + 0.4), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for k, ax in zip(range(count), axes.ravel()):
        if c_in == 3:
            f = kernel[:, :, :, k]
            f = (f - f.min()) / max(float(f.max() - f.min()), 1e-12)
            ax.imshow(f, interpolation="nearest")
        else:
            ax.imshow(kernel[:, :, 0, k], cmap="gray_r", interpolation="nearest")
    fig.suptitle(f"{count} of {c_out} filters, {kh}x{kw}x{c_in}", fontsize=10)
    return finish(fig, path)
