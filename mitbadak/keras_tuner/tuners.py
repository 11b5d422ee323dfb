"""The four tuners of KerasTuner, each an oracle (an Optuna sampler/pruner) plus the Tuner.

    tuner = keras_tuner.RandomSearch(build_model, objective="val_accuracy", max_trials=3,
                                     executions_per_trial=2, overwrite=True,
                                     directory="my_dir", project_name="helloworld")

Besides KerasTuner's arguments each takes ``storage=`` (a database URL, a journal file, or an
Optuna storage; default ``$MITBADAK_TUNER_STORAGE``, else an SQLite file in the project
folder), ``artifact_store=`` (an Optuna artifact store for the weights) and
``heartbeat_interval=`` / ``grace_period=`` (seconds; how soon a dead worker's trial is failed).
"""
from __future__ import annotations

from typing import Any

from .oracle import (BayesianOptimizationOracle, GridSearchOracle, HyperbandOracle,
                     RandomSearchOracle)
from .tuner import Tuner


class RandomSearch(Tuner):
    """Random values for ``max_trials`` trials (Optuna's RandomSampler)."""

    def __init__(self, hypermodel: Any = None, objective: Any = None, max_trials: int = 10,
                 seed: int | None = None, hyperparameters: Any = None,
                 tune_new_entries: bool = True, allow_new_entries: bool = True,
                 max_retries_per_trial: int = 0, max_consecutive_failed_trials: int = 3,
                 **kwargs: Any):
        oracle = RandomSearchOracle(objective, max_trials, hyperparameters, allow_new_entries,
                                    tune_new_entries, seed, max_retries_per_trial,
                                    max_consecutive_failed_trials)
        super().__init__(oracle, hypermodel, **kwargs)


class GridSearch(Tuner):
    """Every combination of values (Optuna's GridSampler); ``max_trials`` may cut it short."""

    def __init__(self, hypermodel: Any = None, objective: Any = None,
                 max_trials: int | None = None, seed: int | None = None,
                 hyperparameters: Any = None, tune_new_entries: bool = True,
                 allow_new_entries: bool = True, max_retries_per_trial: int = 0,
                 max_consecutive_failed_trials: int = 3, **kwargs: Any):
        oracle = GridSearchOracle(objective, max_trials, seed, hyperparameters,
                                  allow_new_entries, tune_new_entries, max_retries_per_trial,
                                  max_consecutive_failed_trials)
        super().__init__(oracle, hypermodel, **kwargs)


class BayesianOptimization(Tuner):
    """Each trial's values chosen from the results so far (Optuna's TPE sampler)."""

    def __init__(self, hypermodel: Any = None, objective: Any = None, max_trials: int = 10,
                 num_initial_points: int | None = None, alpha: float = 1e-4, beta: float = 2.6,
                 seed: int | None = None, hyperparameters: Any = None,
                 tune_new_entries: bool = True, allow_new_entries: bool = True,
                 max_retries_per_trial: int = 0, max_consecutive_failed_trials: int = 3,
                 **kwargs: Any):
        oracle = BayesianOptimizationOracle(objective, max_trials, num_initial_points, alpha,
                                            beta, seed, hyperparameters, allow_new_entries,
                                            tune_new_entries, max_retries_per_trial,
                                            max_consecutive_failed_trials)
        super().__init__(oracle, hypermodel, **kwargs)


class Hyperband(Tuner):
    """Many models started, the poor ones stopped early (Optuna's HyperbandPruner).

    Every trial is fit for up to ``max_epochs`` epochs (the ``epochs`` given to search is
    replaced, as in KerasTuner); the pruner stops it after 1, factor, factor², ... epochs
    unless it is among the best 1/factor of its bracket at that point.
    """

    def __init__(self, hypermodel: Any = None, objective: Any = None, max_epochs: int = 100,
                 factor: int = 3, hyperband_iterations: int = 1, seed: int | None = None,
                 hyperparameters: Any = None, tune_new_entries: bool = True,
                 allow_new_entries: bool = True, max_retries_per_trial: int = 0,
                 max_consecutive_failed_trials: int = 3, **kwargs: Any):
        oracle = HyperbandOracle(objective, max_epochs, factor, hyperband_iterations, seed,
                                 hyperparameters, allow_new_entries, tune_new_entries,
                                 max_retries_per_trial, max_consecutive_failed_trials)
        super().__init__(oracle, hypermodel, **kwargs)

    def run_trial(self, trial: Any, *args: Any, **kwargs: Any) -> Any:
        kwargs["epochs"] = self.oracle.max_epochs
        return super().run_trial(trial, *args, **kwargs)
