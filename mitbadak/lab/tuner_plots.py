"""Plots of a hyperparameter search (a ``mitbadak.keras_tuner`` tuner, or its oracle).

  plot_tuner_objective              the objective of each trial, and the best so far
  plot_tuner_parallel_coordinates   one line per trial through every hyperparameter's axis,
                                    coloured by the objective
  plot_tuner_learning_curves        each trial's metric per epoch (first execution)

They read the tuner through its public results (``oracle.trials``: number, status, score,
``hyperparameters.values``, ``history``), so they also show searches run by other workers.
"""
from __future__ import annotations

from typing import Any

from ._mpl import finish, pyplot


def _oracle(search: Any) -> Any:
    oracle = getattr(search, "oracle", search)
    if not hasattr(oracle, "trials") or not hasattr(oracle, "objective"):
        raise TypeError(f"expected a keras_tuner tuner (or its oracle); got "
                        f"{type(search).__name__}.")
    return oracle


def _finished(oracle: Any) -> list:
    trials = sorted(oracle.trials.values(), key=lambda t: t.number)
    return [t for t in trials if t.score is not None]


def _need(trials: list, what: str) -> None:
    if not trials:
        raise ValueError(f"{what}: the search has no finished trial yet; run tuner.search(...) "
                         f"first.")


def plot_tuner_objective(search: Any, path: Any = None) -> Any:
    """Objective per trial (dots; early-stopped trials hollow) and the best so far (a step)."""
    oracle = _oracle(search)
    trials = _finished(oracle)
    _need(trials, "plot_tuner_objective")
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    done = [t for t in trials if t.status == "COMPLETED"]
    stopped = [t for t in trials if t.status != "COMPLETED"]
    ax.plot([t.number for t in done], [t.score for t in done], "o", color="C0",
            label="trial")
    if stopped:
        ax.plot([t.number for t in stopped], [t.score for t in stopped], "o", mfc="none",
                color="C0", label="stopped early")
    best, xs, ys = None, [], []
    better = (lambda a, b: a > b) if oracle.objective.direction == "max" else (lambda a, b: a < b)
    for t in done:
        if best is None or better(t.score, best):
            best = t.score
        xs.append(t.number)
        ys.append(best)
    if xs:
        ax.step(xs, ys, where="post", color="C3", label="best so far")
    ax.set_xlabel("trial")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_ylabel(oracle.objective.name)
    ax.set_title(f"{oracle.objective.name} over trials ({oracle.objective.direction})")
    ax.legend()
    ax.grid(alpha=0.3)
    return finish(fig, path)


def _axis(values: list) -> tuple[list[float], list[float], list[str]]:
    """Values -> positions in [0, 1], with tick positions and labels."""
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    if numeric:
        lo, hi = min(values), max(values)
        span = (hi - lo) or 1.0
        return ([(v - lo) / span for v in values], [0.0, 1.0], [f"{lo:.3g}", f"{hi:.3g}"])
    cats = sorted({str(v) for v in values})
    pos = {c: (i / (len(cats) - 1) if len(cats) > 1 else 0.5) for i, c in enumerate(cats)}
    return [pos[str(v)] for v in values], list(pos.values()), cats


def plot_tuner_parallel_coordinates(search: Any, path: Any = None) -> Any:
    """One vertical axis per hyperparameter (and the objective last); a line per trial."""
    oracle = _oracle(search)
    trials = _finished(oracle)
    _need(trials, "plot_tuner_parallel_coordinates")
    names = []
    for t in trials:
        for name in t.hyperparameters.values:
            if name not in names:
                names.append(name)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(max(6, 1.6 * (len(names) + 1)), 4.5))
    columns = []
    for name in names:
        col = [t.hyperparameters.values.get(name) for t in trials]
        present = [v for v in col if v is not None]
        pos, ticks, labels = _axis(present)
        it = iter(pos)
        columns.append(([next(it) if v is not None else None for v in col], ticks, labels))
    scores = [t.score for t in trials]
    pos, ticks, labels = _axis(scores)
    columns.append((pos, ticks, labels))
    cmap = plt.get_cmap("viridis")
    lo, hi = min(scores), max(scores)
    good = (lambda s: (s - lo) / ((hi - lo) or 1.0)) if oracle.objective.direction == "max" \
        else (lambda s: (hi - s) / ((hi - lo) or 1.0))
    for i, t in enumerate(trials):
        pts = [(k, col[0][i]) for k, col in enumerate(columns) if col[0][i] is not None]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], color=cmap(good(t.score)),
                alpha=0.8, marker="o", ms=3)
    for k, (_, ticks, labels) in enumerate(columns):
        ax.axvline(k, color="0.6", lw=0.8)
        for y, label in zip(ticks, labels):
            ax.annotate(label, (k, y), xytext=(3, 0), textcoords="offset points", fontsize=7,
                        va="center")
    ax.set_xticks(range(len(columns)))
    ax.set_xticklabels(names + [oracle.objective.name], rotation=20)
    ax.set_yticks([])
    ax.set_ylim(-0.05, 1.05)
    ax.set_title("hyperparameters of each trial (yellow: best objective)")
    return finish(fig, path)


def plot_tuner_learning_curves(search: Any, metric: str | None = None, path: Any = None) -> Any:
    """Each trial's ``metric`` (default: the objective) per epoch, best trial drawn thick."""
    oracle = _oracle(search)
    trials = [t for t in sorted(oracle.trials.values(), key=lambda t: t.number)
              if t.history and t.history[0]]
    _need(trials, "plot_tuner_learning_curves")
    metric = metric or oracle.objective.name
    curves = [(t, t.history[0].get(metric)) for t in trials]
    curves = [(t, c) for t, c in curves if c]
    if not curves:
        logged = sorted({k for t in trials for k in t.history[0]})
        raise ValueError(f"plot_tuner_learning_curves: no trial logged {metric!r}; logged: "
                         f"{', '.join(logged)}.")
    best = oracle.get_best_trials(1)
    best = best[0].number if best else None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    for t, curve in curves:
        epochs = range(1, len(curve) + 1)
        if t.number == best:
            ax.plot(epochs, curve, color="C3", lw=2.5, marker="o", label=f"trial {t.trial_id} (best)")
        else:
            ax.plot(epochs, curve, color="C0", alpha=0.5, lw=1, marker=".")
    ax.set_xlabel("epoch")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_ylabel(metric)
    ax.set_title(f"{metric} per epoch, one line per trial")
    ax.grid(alpha=0.3)
    if best is not None:
        ax.legend()
    return finish(fig, path)
