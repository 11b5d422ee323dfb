"""Trial: one set of hyperparameter values and what training it gave, read from the study.

A KerasTuner-shaped view of an Optuna trial: ``trial_id`` is its number padded like
KerasTuner's ('0'...'9', or '00'...'19' for 20 trials), ``hyperparameters.values`` the values
used, ``score`` the objective at the best epoch (averaged over executions), ``best_step`` that
epoch, ``metrics`` every logged metric per epoch, ``status`` one of 'RUNNING', 'COMPLETED',
'FAILED', 'STOPPED' (Hyperband's pruner stopped it early), 'IDLE' (queued).
"""
from __future__ import annotations

from typing import Any

# The user attribute a mitbadak search writes on each Optuna trial when it ends (one write:
# each storage write is a database commit, and a search of one-epoch trials should spend
# its time in fit). Tunable values are Optuna parameters as well.
ATTR_RESULT = "result"                # {"hyperparameters": {name: value} of the active
#   hyperparameters, "best_epoch": the epoch of the score (0-based, as
#   KerasTuner), "history": one {metric: [per-epoch values]} per execution, "checkpoint":
#   where the best epoch's weights were saved, "checkpoint_artifact_id": the same file in
#   the Optuna artifact store, "input_shape": to build the model before loading them,
#   "worker": host:pid that ran it}
ATTR_MESSAGE = "message"              # why it failed
ATTR_RESIGNED = "resigned"            # started but given up (a duplicate, or one too many)

_STATUS = {"COMPLETE": "COMPLETED", "RUNNING": "RUNNING", "FAIL": "FAILED", "PRUNED": "STOPPED",
           "WAITING": "IDLE"}


class MetricHistory:
    """The per-epoch values of one metric (the first execution's; KerasTuner keeps one too)."""

    def __init__(self, values: list[float], direction: str | None = None):
        self.values = list(values)
        self.direction = direction

    def get_history(self) -> list[float]:
        return list(self.values)

    def get_best_value(self) -> float | None:
        if not self.values:
            return None
        return max(self.values) if self.direction == "max" else min(self.values)

    def get_last_value(self) -> float | None:
        return self.values[-1] if self.values else None


class MetricsTracker:
    """``trial.metrics.get_history('val_accuracy')``, ``get_best_value``, ``get_last_value``."""

    def __init__(self, history: dict[str, list[float]], objective: Any):
        self.metrics = {}
        for name, values in history.items():
            direction = objective.direction if name == objective.name else None
            self.metrics[name] = MetricHistory(values, direction)

    def exists(self, name: str) -> bool:
        return name in self.metrics

    def get_history(self, name: str) -> list[float]:
        return self.metrics[name].get_history() if name in self.metrics else []

    def get_best_value(self, name: str) -> float | None:
        return self.metrics[name].get_best_value() if name in self.metrics else None

    def get_last_value(self, name: str) -> float | None:
        return self.metrics[name].get_last_value() if name in self.metrics else None


class Trial:
    """Read-only view of one trial of the study (see the module docstring)."""

    def __init__(self, number: int, hyperparameters: Any, objective: Any, width: int = 1,
                 frozen: Any = None, optuna_trial: Any = None):
        attrs = frozen.user_attrs if frozen is not None else {}
        state = frozen.state.name if frozen is not None else "RUNNING"
        self.frozen = frozen                        # the Optuna FrozenTrial, when finished
        self.optuna_trial = optuna_trial            # the live optuna.trial.Trial, while running
        self.number = number
        self.trial_id = f"{number:0{width}d}"
        self.hyperparameters = hyperparameters
        self.score = frozen.value if state in ("COMPLETE", "PRUNED") else None
        self.result = attrs.get(ATTR_RESULT) or {}
        self.best_step = int(self.result.get("best_epoch", 0) or 0)
        self.history = self.result.get("history") or [{}]
        self.metrics = MetricsTracker(self.history[0] if self.history else {}, objective)
        self.status = _STATUS.get(state, state)
        self.message = attrs.get(ATTR_MESSAGE)
        self.resigned = attrs.get(ATTR_RESIGNED)

    def summary(self) -> None:
        """Print this trial as KerasTuner's results_summary does."""
        print(f"Trial {self.trial_id} summary")
        print("Hyperparameters:")
        self.display_hyperparameters()
        if self.score is not None:
            print(f"Score: {self.score}")
        if self.message is not None:
            print(self.message)

    def display_hyperparameters(self) -> None:
        if self.hyperparameters.values:
            for name, value in self.hyperparameters.values.items():
                print(f"{name}:", value)
        else:
            print("default configuration")

    def __repr__(self) -> str:
        return (f"Trial(trial_id={self.trial_id!r}, status={self.status!r}, score={self.score}, "
                f"values={self.hyperparameters.values})")
