"""Tuner: builds, trains and saves a model for each trial the oracle hands out.

``search(x, y, epochs=..., validation_data=...)`` takes fit's arguments. Each trial builds the
model from its hyperparameters, trains it ``executions_per_trial`` times from scratch, saves the
weights of its best epoch to ``directory/project_name/trial_<id>/checkpoint.weights.h5`` and
reports the objective of every epoch to the study. The trial's score is the objective at the
best epoch, averaged over executions (KerasTuner's rule).
"""
from __future__ import annotations

import copy
import math
import os
import shutil
import statistics
import traceback
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import optuna

from ..callbacks import Callback, History
from . import errors
from .display import Display
from .hypermodel import get_hypermodel
from .objective import DefaultObjective, MultiObjective, Objective
from .trial import ATTR_RESULT, Trial

CHECKPOINT = "checkpoint.weights.h5"


# ------------------------------------------------------------------ callbacks a trial adds
class SaveBestEpoch(Callback):
    """Saves the weights whenever the objective beats its best so far (over all executions)."""

    def __init__(self, objective: Objective, filepath: str):
        super().__init__()
        self.objective = objective
        self.filepath = filepath
        self.best_value = -math.inf if objective.direction == "max" else math.inf

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if not self.objective.has_value(logs):
            self.model.save_weights(self.filepath)
            return
        value = self.objective.get_value(logs)
        if self.objective.better_than(value, self.best_value):
            self.best_value = value
            self.model.save_weights(self.filepath)


class TunerCallback(Callback):
    """Per epoch: keep the logs, report the objective to Optuna, stop if the pruner says so."""

    def __init__(self, tuner: "Tuner", trial: Trial, execution: int):
        super().__init__()
        self.tuner, self.trial, self.execution = tuner, trial, execution
        self.logs: dict[str, list[float]] = {}
        tuner._epoch_logs.setdefault(trial.number, []).append(self.logs)

    def on_epoch_begin(self, epoch, logs=None):
        self.tuner.on_epoch_begin(self.trial, self.model, epoch, logs=logs)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        for name, value in logs.items():
            self.logs.setdefault(name, []).append(float(value))
        objective = self.tuner.oracle.objective
        if not isinstance(objective, DefaultObjective):
            if not objective.has_value(logs):
                raise errors.FatalValueError(_missing_objective(objective, logs))
            ot = self.trial.optuna_trial
            if self.execution == 0 and ot is not None:
                # The step is the number of epochs trained: Hyperband's resource.
                ot.report(float(objective.get_value(logs)), epoch + 1)
                # After the last epoch there is nothing left to save: the trial is complete.
                last = epoch + 1 >= (self.params or {}).get("epochs", math.inf)
                if self.tuner._prunes and not last and ot.should_prune():
                    self.tuner._pruned.add(self.trial.number)
                    self.model.stop_training = True
        self.tuner.on_epoch_end(self.trial, self.model, epoch, logs=logs)


class _BatchHooks(Callback):
    """Only added when a Tuner subclass overrides on_batch_begin/end (they cost per batch)."""

    def __init__(self, tuner: "Tuner", trial: Trial):
        super().__init__()
        self.tuner, self.trial = tuner, trial

    def on_train_batch_begin(self, batch, logs=None):
        self.tuner.on_batch_begin(self.trial, self.model, batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self.tuner.on_batch_end(self.trial, self.model, batch, logs)


def _missing_objective(objective: Objective, logs: dict) -> str:
    names = objective.objectives if isinstance(objective, MultiObjective) else [objective]
    missing = [o.name for o in names if o.name not in logs]
    hint = ""
    if any(m.startswith("val_") for m in missing):
        hint = (" Validation metrics need validation data: pass validation_data=(x_val, y_val) "
                "or validation_split=0.2 to search().")
    elif missing:
        hint = (f" Add the metric to compile(metrics=[...]), or choose an objective fit logs, "
                f"e.g. objective={next(iter(logs), 'loss')!r}.")
    return (f"The objective {', '.join(repr(m) for m in missing)} is not among the metrics fit "
            f"logs ({', '.join(logs) or 'none'}).{hint}")


# ------------------------------------------------------------------ results -> one score
def _epoch_rows(history: dict) -> list[dict]:
    n = max((len(v) for v in history.values()), default=0)
    return [{k: v[i] for k, v in history.items() if i < len(v)} for i in range(n)]


def _best_of_history(history: dict, objective: Objective) -> tuple[dict, int]:
    rows = _epoch_rows(history)
    if not rows:
        raise errors.FatalValueError("fit returned a History with no epochs: train at least "
                                     "one epoch (epochs >= 1).")
    best = 0
    for epoch, row in enumerate(rows):
        if not objective.has_value(row):
            raise errors.FatalValueError(_missing_objective(objective, row))
        row[objective.name] = objective.get_value(row)
        if objective.better_than(row[objective.name], rows[best][objective.name]):
            best = epoch
    return rows[best], best


def _as_history(result: Any) -> dict | None:
    if isinstance(result, History) or (hasattr(result, "history") and
                                       isinstance(getattr(result, "history"), dict)):
        return result.history
    return None


def validate_results(results: Any, objective: Objective, where: str) -> None:
    if isinstance(results, list):
        for r in results:
            validate_results(r, objective, where)
        return
    if isinstance(results, (int, float, np.floating)) and not isinstance(results, bool):
        return
    if results is None:
        raise errors.FatalTypeError(f"{where} returned None. Did you forget to return fit's "
                                    f"History (or the metrics, or the objective's value)?")
    if isinstance(objective, DefaultObjective) and not (
            isinstance(results, dict) and objective.name in results):
        raise errors.FatalTypeError(f"With no objective given, {where} must return the number "
                                    f"to minimise; got {type(results).__name__}. Or pass "
                                    f"objective='val_loss' (or another metric) to the tuner.")
    if isinstance(results, dict):
        if objective.name not in results:
            raise errors.FatalValueError(f"{where} returned a dict without the objective "
                                         f"{objective.name!r}: {sorted(results)}.")
        return
    if _as_history(results) is not None:
        return
    raise errors.FatalTypeError(f"{where} must return a History, a dict of metrics, a number, "
                                f"or a list of these; got {type(results).__name__}.")


def metrics_of(results: Any, objective: Objective) -> dict:
    """The metrics at the best epoch, averaged over a list of results."""
    if isinstance(results, list):
        rows = [metrics_of(r, objective) for r in results]
        names = {k for row in rows for k in row}
        return {k: float(np.mean([row[k] for row in rows if k in row])) for k in names}
    if isinstance(results, (int, float, np.floating)):
        return {objective.name: float(results)}
    if isinstance(results, dict):
        return {k: float(v) for k, v in results.items()}
    return _best_of_history(_as_history(results), objective)[0]


def best_step_of(results: Any, objective: Objective) -> int:
    if isinstance(results, list):
        return int(statistics.mean(best_step_of(r, objective) for r in results)) if results \
            else 0
    history = _as_history(results)
    return _best_of_history(history, objective)[1] if history is not None else 0


# ------------------------------------------------------------------ the tuner
class Tuner:
    """Base tuner: give it an oracle and a hypermodel (or subclass and write run_trial)."""

    def __init__(self, oracle: Any, hypermodel: Any = None, max_model_size: int | None = None,
                 optimizer: Any = None, loss: Any = None, metrics: Any = None,
                 distribution_strategy: Any = None, directory: Any = None,
                 project_name: str | None = None, logger: Any = None,
                 tuner_id: str | None = None, overwrite: bool = False,
                 executions_per_trial: int = 1, storage: Any = None, artifact_store: Any = None,
                 heartbeat_interval: float | None = None, grace_period: float | None = None,
                 **kwargs: Any):
        if kwargs:
            raise ValueError(f"Unrecognized arguments {list(kwargs)} for `Tuner.__init__()`.")
        if hypermodel is None and type(self).run_trial is Tuner.run_trial:
            raise ValueError("Received `hypermodel=None`. Give a build_model(hp) function or a "
                             "HyperModel, or subclass the tuner and write run_trial().")
        if distribution_strategy is not None:
            raise ValueError("distribution_strategy is TensorFlow's; mitbadak trains in one "
                             "process. To use more cores or machines, start the same script "
                             "several times on a shared storage= (see the storage docs).")
        if executions_per_trial < 1:
            raise ValueError(f"executions_per_trial must be >= 1; got {executions_per_trial}.")
        self.oracle = oracle
        self.hypermodel = get_hypermodel(hypermodel)
        self.max_model_size = max_model_size
        self.optimizer, self.loss, self.metrics = optimizer, loss, metrics
        self.executions_per_trial = executions_per_trial
        self.directory = str(directory) if directory is not None else "."
        self.project_name = project_name or "untitled_project"
        self.artifact_store = artifact_store
        self.tuner_id = tuner_id or os.environ.get("KERASTUNER_TUNER_ID", "tuner0")
        if overwrite and os.path.exists(self.project_dir):
            shutil.rmtree(self.project_dir)
        existed = self.oracle._connect(self.project_dir, self.project_name, overwrite, storage,
                                       heartbeat_interval, grace_period)
        if existed:
            print(f"Reloading Tuner from {self.oracle.storage_description}")
        self._display = Display(self.oracle)
        self._epoch_logs: dict[int, list[dict]] = {}
        self._pruned: set[int] = set()
        self._prunes = not isinstance(self.oracle.study.pruner, optuna.pruners.NopPruner)
        self._input_shape: dict[int, Any] = {}
        self._populate_initial_space()

    # -------------------------------------------------------------- places
    @property
    def project_dir(self) -> str:
        return os.path.join(self.directory, self.project_name)

    def get_trial_dir(self, trial_id: str) -> str:
        path = os.path.join(self.project_dir, f"trial_{trial_id}")
        os.makedirs(path, exist_ok=True)
        return path

    def _get_checkpoint_fname(self, trial_id: str) -> str:
        return os.path.join(self.get_trial_dir(trial_id), CHECKPOINT)

    @property
    def remaining_trials(self) -> int | None:
        return self.oracle.remaining_trials()

    # -------------------------------------------------------------- the space
    def _populate_initial_space(self) -> None:
        """Build the model once per conditional branch so the whole space is known up front."""
        if self.hypermodel is None:
            return
        hp = self.oracle.get_space()
        self.hypermodel.declare_hyperparameters(hp)
        self.oracle.update_space(hp)
        never, once = [], []
        hp = self.oracle.get_space()
        for _ in range(100):
            self.hypermodel.build(hp)
            self.oracle.update_space(hp)
            for scope in hp.active_scopes:
                if scope not in once:
                    once.append(copy.deepcopy(scope))
                if scope in never:
                    never.remove(scope)
            for scope in hp.inactive_scopes:
                if scope not in once and scope not in never:
                    never.append(copy.deepcopy(scope))
            if not never:
                break
            hp = self.oracle.get_space()
            for condition in never.pop(0):
                hp.values[condition.name] = condition.values[0]
            hp.ensure_active_values()

    # -------------------------------------------------------------- searching
    def search(self, *fit_args: Any, **fit_kwargs: Any) -> None:
        """Run trials until the search's budget is spent (by all workers together).

        The storage work around a trial (claiming the next one, recording the last one: a
        dozen database round trips) runs on a background thread while the model trains, so
        a search of short trials spends its time in fit. BayesianOptimization stays strictly
        sequential: its next values should know the last result.
        """
        if "verbose" in fit_kwargs:
            self._display.verbose = self.oracle.verbose = fit_kwargs["verbose"]
        self.on_search_begin()
        self._queue = ThreadPoolExecutor(1, thread_name_prefix="tuner-storage") \
            if self.oracle.pipelined else None
        self._pending: list = []
        prefetched = None
        failures = 0
        try:
            self.pre_create_trial()
            trial = self.oracle.create_trial(self.tuner_id)
            while trial is not None:
                self.on_trial_begin(trial)
                if self._queue is not None:         # claim the next trial meanwhile
                    prefetched = self._queue.submit(self.oracle.create_trial, self.tuner_id,
                                                    False)
                retried = self._try_run_and_update_trial(trial, *fit_args, **fit_kwargs)
                self.on_trial_end(trial)
                if trial.status == "FAILED" and not retried:
                    failures += 1
                    if failures >= self.oracle.max_consecutive_failed_trials:
                        raise RuntimeError(f"Number of consecutive failures exceeded the limit "
                                           f"of {self.oracle.max_consecutive_failed_trials}.\n"
                                           f"{trial.message or ''}")
                elif trial.status != "FAILED":
                    failures = 0
                self._raise_storage_errors()
                self.pre_create_trial()
                trial = prefetched.result() if prefetched is not None else None
                prefetched = None
                if trial is None:       # none claimed ahead: wait for the records, then ask
                    self._drain()
                    trial = self.oracle.create_trial(self.tuner_id)
        finally:
            if prefetched is not None:
                try:
                    unused = prefetched.result()
                    if unused is not None:
                        self.oracle.abandon(unused, "the search stopped before it started")
                except Exception:
                    pass
            try:
                self._drain()
            finally:
                if self._queue is not None:
                    self._queue.shutdown(wait=True)
                self._queue = None
        self.on_search_end()

    def _raise_storage_errors(self) -> None:
        """Raise the first error of the background storage jobs that have finished."""
        still = []
        for job in self._pending:
            if job.done():
                job.result()
            else:
                still.append(job)
        self._pending = still

    def _drain(self) -> None:
        jobs, self._pending = self._pending, []
        for job in jobs:
            job.result()

    def _try_run_and_update_trial(self, trial: Trial, *fit_args: Any, **fit_kwargs: Any) -> bool:
        try:
            results = self.run_trial(trial, *fit_args, **fit_kwargs)
            validate_results(results, self.oracle.objective, "Tuner.run_trial()")
            metrics = metrics_of(results, self.oracle.objective)
            score = float(metrics[self.oracle.objective.name])
            attrs = self._trial_attrs(trial, best_step_of(results, self.oracle.objective))
            if math.isnan(score):
                return self._end(trial, "INVALID", None, attrs,
                                 f"The objective {self.oracle.objective.name} is NaN.")
            status = "STOPPED" if trial.number in self._pruned else "COMPLETED"
            trial.score, trial.best_step = score, attrs[ATTR_RESULT]["best_epoch"]
            return self._end(trial, status, score, attrs)
        except errors.FatalError:
            self._end(trial, "FAILED", None, self._trial_attrs(trial, 0), traceback.format_exc(),
                      fatal=True)
            raise
        except errors.FailedTrialError:
            return self._end(trial, "FAILED", None, self._trial_attrs(trial, 0),
                             traceback.format_exc())
        except Exception:
            return self._end(trial, "INVALID", None, self._trial_attrs(trial, 0),
                             traceback.format_exc())
        except BaseException:            # Ctrl-C: record it, so a resumed search goes on
            self._end(trial, "FAILED", None, self._trial_attrs(trial, 0), "interrupted",
                      fatal=True)
            raise

    def _end(self, trial: Trial, status: str, score: float | None, attrs: dict,
             message: str | None = None, fatal: bool = False) -> bool:
        trial.message = message
        retried = self.oracle.will_retry(trial, status)
        trial.status = "FAILED" if status == "INVALID" else status
        if retried:
            print(f"Trial {trial.trial_id} failed; it will run again with the same values "
                  f"(max_retries_per_trial={self.oracle.max_retries_per_trial}).")
        self._epoch_logs.pop(trial.number, None)
        self._pruned.discard(trial.number)

        def record() -> None:
            try:
                self.oracle.update_space(trial.hyperparameters)
            finally:                    # a conflict raised here still ends the trial
                self.oracle.end_trial(trial, status, score, attrs, message)

        if getattr(self, "_queue", None) is not None and not fatal:
            self._pending.append(self._queue.submit(record))
        else:
            record()
        return retried

    def _trial_attrs(self, trial: Trial, best_step: int) -> dict:
        result = {"hyperparameters": trial.hyperparameters.values, "best_epoch": best_step,
                  "history": self._epoch_logs.get(trial.number, []),
                  "worker": self.oracle._worker}
        path = os.path.abspath(self._get_checkpoint_fname(trial.trial_id))
        if os.path.exists(path):
            result["checkpoint"] = path
            if self.artifact_store is not None:
                result["checkpoint_artifact_id"] = optuna.artifacts.upload_artifact(
                    artifact_store=self.artifact_store, file_path=path,
                    study_or_trial=trial.optuna_trial)
        shape = self._input_shape.pop(trial.number, None)
        if shape is not None:
            result["input_shape"] = shape
        return {ATTR_RESULT: result}

    def run_trial(self, trial: Trial, *args: Any, **kwargs: Any) -> Any:
        """Build and fit the model ``executions_per_trial`` times; returns the Histories.

        Override it to tune anything: read ``trial.hyperparameters`` and return the
        objective's value (or a dict of metrics).
        """
        checkpoint = SaveBestEpoch(self.oracle.objective,
                                   self._get_checkpoint_fname(trial.trial_id))
        original = kwargs.pop("callbacks", None) or []
        histories = []
        for execution in range(self.executions_per_trial):
            copied = copy.copy(kwargs)
            callbacks = self._deepcopy_callbacks(original)
            callbacks.append(TunerCallback(self, trial, execution))
            if (type(self).on_batch_begin is not Tuner.on_batch_begin
                    or type(self).on_batch_end is not Tuner.on_batch_end):
                callbacks.append(_BatchHooks(self, trial))
            callbacks.append(checkpoint)
            copied["callbacks"] = callbacks
            histories.append(self._build_and_fit_model(trial, *args, **copied))
            if trial.number in self._pruned:
                break                   # the pruner stopped it: no more executions
        return histories

    def _build_and_fit_model(self, trial: Trial, *args: Any, **kwargs: Any) -> Any:
        hp = trial.hyperparameters
        model = self._try_build(hp)
        results = self.hypermodel.fit(hp, model, *args, **kwargs)
        if getattr(model, "built", False):
            self._input_shape[trial.number] = list(model.input_shape)
        validate_results(results, self.oracle.objective, "HyperModel.fit()")
        return results

    def _deepcopy_callbacks(self, callbacks: list) -> list:
        try:
            return copy.deepcopy(list(callbacks))
        except Exception as err:
            raise errors.FatalValueError(
                f"Every callback given to search() is copied for each trial, and "
                f"copy.deepcopy({callbacks}) failed: {err}.") from err

    # -------------------------------------------------------------- models
    def _try_build(self, hp: Any) -> Any:
        model = self.hypermodel.build(hp)
        if not (hasattr(model, "fit") and hasattr(model, "save_weights")):
            raise errors.FatalTypeError(
                f"The model-building function (HyperModel.build) must return a compiled "
                f"model; it returned {type(model).__name__}.")
        if self.max_model_size and getattr(model, "built", False):
            size = model.count_params()
            if size > self.max_model_size:
                raise errors.FailedTrialError(f"Oversized model: {size} parameters "
                                              f"(max_model_size={self.max_model_size}).")
        if self.optimizer or self.loss or self.metrics:
            model.compile(optimizer=self.optimizer or model.optimizer,
                          loss=self.loss or model.loss,
                          metrics=self.metrics or [m for m in model.metrics
                                                   if m.name not in ("loss",)])
        return model

    def _checkpoint_for(self, trial: Trial) -> str:
        """A local path to the trial's weights: its own file, or one fetched from the
        artifact store. Raises FileNotFoundError saying what to configure."""
        attrs = trial.result
        saved = attrs.get("checkpoint")
        if saved and os.path.exists(saved):
            return saved
        artifact = attrs.get("checkpoint_artifact_id")
        if artifact and self.artifact_store is not None:
            local = os.path.join(self.get_trial_dir(trial.trial_id), "artifact_" + CHECKPOINT)
            if not os.path.exists(local):
                optuna.artifacts.download_artifact(artifact_store=self.artifact_store,
                                                   file_path=local, artifact_id=artifact)
            return local
        if not saved:
            raise FileNotFoundError(f"Trial {trial.trial_id} saved no weights "
                                    f"(status {trial.status}).")
        where = attrs.get("worker", "another worker")
        raise FileNotFoundError(
            f"The weights of trial {trial.trial_id} were saved by {where} at {saved}, which "
            f"this worker cannot read. Give every worker the same directory= on a shared disk, "
            f"or pass artifact_store= (e.g. optuna.artifacts.FileSystemArtifactStore on a "
            f"shared folder, or Boto3ArtifactStore) to the tuner so weights go into the study's "
            f"artifact store"
            + (" (this trial has an artifact: configure the same store here)." if artifact
               else ".")
            + " get_best_hyperparameters() works anywhere: rebuild and train from them.")

    def load_model(self, trial: Trial) -> Any:
        """The trial's model with the weights of its best epoch."""
        path = self._checkpoint_for(trial)
        model = self._try_build(trial.hyperparameters.copy())
        shape = trial.result.get("input_shape")
        if not getattr(model, "built", True) and shape:
            model.build(tuple(shape))
        model.load_weights(path)
        return model

    def get_best_models(self, num_models: int = 1) -> list:
        """The best trials' models, best first, with their best epoch's weights."""
        return [self.load_model(t) for t in self.oracle.get_best_trials(num_models)]

    def get_best_hyperparameters(self, num_trials: int = 1) -> list:
        """The best trials' HyperParameters, best first: ``hypermodel.build(hps[0])``."""
        return [t.hyperparameters for t in self.oracle.get_best_trials(num_trials)]

    # -------------------------------------------------------------- what a learner sees
    def search_space_summary(self, extended: bool = False) -> None:
        print("Search space summary")
        hp = self.oracle.get_space()
        print(f"Default search space size: {len(hp.space)}")
        for p in hp.space:
            config = p.get_config()
            name = config.pop("name")
            print(f"{name} ({type(p).__name__})")
            print(config)

    def results_summary(self, num_trials: int = 10) -> None:
        print("Results summary")
        print(f"Results in {self.project_dir}")
        print("Showing %d best trials" % num_trials)
        print(f"{self.oracle.objective}")
        for trial in self.oracle.get_best_trials(num_trials):
            print()
            trial.summary()

    # -------------------------------------------------------------- hooks
    def pre_create_trial(self) -> None:
        pass

    def on_search_begin(self) -> None:
        pass

    def on_search_end(self) -> None:
        pass

    def on_trial_begin(self, trial: Trial) -> None:
        self._display.on_trial_begin(trial)

    def on_trial_end(self, trial: Trial) -> None:
        self._display.on_trial_end(trial)

    def on_epoch_begin(self, trial: Trial, model: Any, epoch: int, logs: Any = None) -> None:
        pass

    def on_epoch_end(self, trial: Trial, model: Any, epoch: int, logs: Any = None) -> None:
        pass

    def on_batch_begin(self, trial: Trial, model: Any, batch: int, logs: Any = None) -> None:
        pass

    def on_batch_end(self, trial: Trial, model: Any, batch: int, logs: Any = None) -> None:
        pass
