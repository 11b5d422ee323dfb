"""Objective: the logged metric a search optimises, and which way is better.

``'val_accuracy'`` is maximised and ``'val_loss'`` minimised, as KerasTuner infers them from the
name (a ``val_`` prefix is ignored); for other names give ``Objective(name, direction)``.
"""
from __future__ import annotations

from typing import Any

# Names whose larger values are better (KerasTuner's list, for the metrics mitbadak has).
_MAX_NAMES = {
    "acc", "accuracy", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
    "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy", "auc", "precision",
    "recall", "true_positives", "true_negatives", "f1_score", "fbeta_score", "r2_score",
    "specificity_at_sensitivity", "sensitivity_at_specificity", "precision_at_recall",
    "recall_at_precision", "mean_iou", "iou", "one_hot_iou", "cosine_similarity",
}
# Losses and error metrics: smaller is better.
_MIN_NAMES = {
    "loss", "ce", "crossentropy", "mse", "mae", "mape", "msle", "mean_squared_error",
    "mean_absolute_error", "mean_absolute_percentage_error", "mean_squared_logarithmic_error",
    "root_mean_squared_error", "binary_crossentropy", "categorical_crossentropy",
    "sparse_categorical_crossentropy", "kl_divergence", "kld", "kullback_leibler_divergence",
    "poisson", "hinge", "squared_hinge", "categorical_hinge", "logcosh", "log_cosh", "huber",
    "false_positives", "false_negatives",
}


def infer_direction(name: str) -> str | None:
    """'max', 'min', or None when the name says nothing."""
    base = name[4:] if name.startswith("val_") else name
    base = base[9:] if base.startswith("weighted_") else base
    if base in _MAX_NAMES:
        return "max"
    if base in _MIN_NAMES:
        return "min"
    return None


class Objective:
    """``Objective('val_accuracy', direction='max')``."""

    def __init__(self, name: str, direction: str):
        if direction not in ("min", "max"):
            raise ValueError(f"Objective({name!r}): direction must be 'min' or 'max'; "
                             f"got {direction!r}.")
        self.name = name
        self.direction = direction

    def has_value(self, logs: dict) -> bool:
        return self.name in logs

    def get_value(self, logs: dict) -> float:
        return logs[self.name]

    def better_than(self, a: float, b: float) -> bool:
        return a > b if self.direction == "max" else a < b

    @property
    def optuna_direction(self) -> str:
        return "maximize" if self.direction == "max" else "minimize"

    def __eq__(self, other: Any) -> bool:
        return (isinstance(other, Objective) and self.name == other.name
                and self.direction == other.direction)

    def __str__(self) -> str:
        return f'Objective(name="{self.name}", direction="{self.direction}")'

    __repr__ = __str__


class DefaultObjective(Objective):
    """No objective given: ``run_trial``/``HyperModel.fit`` return the number to minimise."""

    def __init__(self) -> None:
        super().__init__("default_objective", "min")


class MultiObjective(Objective):
    """Several objectives folded into one number to minimise (as KerasTuner does): the sum of
    the 'min' metrics minus the sum of the 'max' ones."""

    def __init__(self, objectives: list[Objective]):
        super().__init__("multi_objective", "min")
        self.objectives = list(objectives)

    def has_value(self, logs: dict) -> bool:
        return all(o.name in logs for o in self.objectives)

    def get_value(self, logs: dict) -> float:
        return float(sum(logs[o.name] if o.direction == "min" else -logs[o.name]
                         for o in self.objectives))

    def __str__(self) -> str:
        return f"Multi{super().__str__()}: [{', '.join(map(str, self.objectives))}]"

    __repr__ = __str__


def create_objective(objective: Any) -> Objective:
    if objective is None:
        return DefaultObjective()
    if isinstance(objective, Objective):
        return objective
    if isinstance(objective, (list, tuple)):
        return MultiObjective([create_objective(o) for o in objective])
    if not isinstance(objective, str):
        raise TypeError(f"objective must be a metric name or an Objective; got "
                        f"{type(objective).__name__}.")
    direction = infer_direction(objective)
    if direction is None:
        raise ValueError(f'Could not infer whether to minimise or maximise the objective '
                         f'{objective!r}. Give it as keras_tuner.Objective({objective!r}, '
                         f'direction="min") or direction="max".')
    return Objective(objective, direction)
