"""What a search prints, in KerasTuner's words and layout.

Before a trial::

    Search: Running Trial #2

    Value             |Best Value So Far |Hyperparameter
    2                 |1                 |num_layers
    0.0012345         |0.0032107         |lr

After it::

    Trial 2 Complete [00h 00m 04s]
    val_accuracy: 0.9415000081062317

    Best val_accuracy So Far: 0.9415000081062317
    Total elapsed time: 00h 00m 09s
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

COL_WIDTH = 18


def format_value(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:.5g}"
    text = str(value)
    return text if len(text) <= COL_WIDTH else text[:COL_WIDTH - 3] + "..."


def format_duration(d: timedelta) -> str:
    s = round(d.total_seconds())
    days, s = divmod(s, 86400)
    hours, s = divmod(s, 3600)
    minutes, s = divmod(s, 60)
    if days:
        return f"{days:d}d {hours:02d}h {minutes:02d}m {s:02d}s"
    return f"{hours:02d}h {minutes:02d}m {s:02d}s"


class Display:
    """Prints a trial's start (its values beside the best so far) and its end."""

    def __init__(self, oracle: Any, verbose: int = 1):
        self.oracle = oracle
        self.verbose = verbose
        self.search_start: datetime | None = None
        self.trial_start: dict[str, datetime] = {}
        # This worker's best trial: its record may still be on its way to the storage.
        self._mine: Any = None

    def _best(self) -> Any:
        """The best completed trial: the study's, or this worker's latest if better."""
        best = self.oracle.get_best_trials(1)
        best = best[0] if best and best[0].status == "COMPLETED" else None
        mine = self._mine
        if mine is not None and (best is None or self.oracle.objective.better_than(
                mine.score, best.score)):
            return mine
        return best

    def on_trial_begin(self, trial: Any) -> None:
        if not self.verbose:
            return
        now = datetime.now()
        self.trial_start[trial.trial_id] = now
        self.search_start = self.search_start or now
        print()
        print(f"Search: Running Trial #{trial.number + 1}")
        print()
        self.show_hyperparameter_table(trial)
        print()

    def show_hyperparameter_table(self, trial: Any) -> None:
        best = self._best()
        template = f"{{0:{COL_WIDTH}}}|{{1:{COL_WIDTH}}}|{{2}}"
        if not trial.hyperparameters.values:
            print("default configuration")
            return
        print(template.format("Value", "Best Value So Far", "Hyperparameter"))
        for name, value in trial.hyperparameters.values.items():
            best_value = best.hyperparameters.values.get(name) if best else "?"
            print(template.format(format_value(value), format_value(best_value), name))

    def on_trial_end(self, trial: Any) -> None:
        if not self.verbose:
            return
        now = datetime.now()
        took = format_duration(now - self.trial_start.get(trial.trial_id, now))
        word = {"COMPLETED": "Complete", "STOPPED": "Stopped early"}.get(trial.status, "Failed")
        print(f"Trial {trial.number + 1} {word} [{took}]")
        if trial.score is not None:
            print(f"{self.oracle.objective.name}: {trial.score}")
        print()
        if trial.status == "COMPLETED" and trial.score is not None and (
                self._mine is None
                or self.oracle.objective.better_than(trial.score, self._mine.score)):
            self._mine = trial
        best = self._best()
        print(f"Best {self.oracle.objective.name} So Far: {best.score if best else None}")
        print(f"Total elapsed time: {format_duration(now - (self.search_start or now))}")
