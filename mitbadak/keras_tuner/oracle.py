"""Oracle: a tuner's Optuna study. It hands out trials, records results, ranks them.

One tuner is one study named ``project_name``. The search space (``HyperParameters``) is kept
in the study's user attributes, each trial's values in the trial's; tunable values are also
Optuna parameters (``trial.suggest_*``), so Optuna's samplers choose them and Optuna's tools
(dashboard, ``optuna.visualization``) read the search.

Several workers (processes or machines running the same script on one storage) share the
study. Two rules keep the search exact without a lock, both checked *after* a worker has
written its new trial and read everyone else's:

- a worker gives its trial up if the others already have ``max_trials`` trials running or
  done, so at most ``max_trials`` finish; a worker whose search is not finished waits while
  the last trials run elsewhere, and takes over when a dead worker's trial is failed by
  heartbeat;
- a worker gives its trial up if another running or finished trial has the same values.

Because each worker writes before it reads, of two racing workers at least one sees the
other: they never both go on (sometimes both give up, and try again).
"""
from __future__ import annotations

import json
import math
import os
import random
import socket
import threading
import time
import warnings
from typing import Any, Callable

import optuna
from optuna.trial import TrialState

from . import errors
from .hyperparameters import (Boolean, Choice, Fixed, Float, HyperParameter, HyperParameters,
                              Int, deserialize, serialize)
from .objective import create_objective
from .storage import heartbeat_interval, open_storage, quiet as _quiet
from .trial import ATTR_MESSAGE, ATTR_RESIGNED, ATTR_RESULT, Trial

STUDY_SPACE = "mitbadak:space"
STUDY_OBJECTIVE = "mitbadak:objective"
STUDY_TUNER = "mitbadak:tuner"
ATTR_RUN = "mitbadak:run"            # 1 for a first run, 2 for its first retry, ...
ATTR_RETRY_OF = "mitbadak:retry_of"  # the trial a retry repeats
REFLECTED = "__reflected"            # Optuna has no reverse_log: the mirror image is log


# ------------------------------------------------------------------ HyperParameter -> Optuna
def _linear_high(lo: float, hi: float, step: float) -> float:
    """The largest value of lo + k·step within hi (Optuna wants the range to fit the step)."""
    return lo + math.floor((hi - lo) / step + 1e-9) * step


def optuna_param(hp: HyperParameter) -> tuple[str, Any]:
    """(the Optuna parameter's name, its distribution) for a tunable hyperparameter."""
    D = optuna.distributions
    if isinstance(hp, Choice):
        return hp.name, D.CategoricalDistribution(hp.values)
    if isinstance(hp, Boolean):
        return hp.name, D.CategoricalDistribution([True, False])
    if isinstance(hp, (Int, Float)):
        dist = D.IntDistribution if isinstance(hp, Int) else D.FloatDistribution
        lo, hi = hp.min_value, hp.max_value
        if hp.sampling != "linear" and hp.step is not None:
            return hp.name, D.CategoricalDistribution(hp.stepped_values())
        if hp.sampling == "linear":
            if hp.step is None:
                return hp.name, dist(lo, hi)
            high = _linear_high(lo, hi, hp.step)
            return hp.name, dist(lo, int(high) if isinstance(hp, Int) else high, step=hp.step)
        name = hp.name if hp.sampling == "log" else hp.name + REFLECTED
        return name, dist(lo, hi, log=True)
    raise TypeError(f"{hp.name!r}: {type(hp).__name__} is not tunable.")


def to_optuna(hp: HyperParameter, value: Any) -> Any:
    """A hyperparameter value as its Optuna parameter holds it."""
    if isinstance(hp, (Int, Float)) and hp.sampling == "reverse_log" and hp.step is None:
        return hp.max_value + hp.min_value - value
    return value


def from_optuna(hp: HyperParameter, value: Any) -> Any:
    if isinstance(hp, (Int, Float)) and hp.sampling == "reverse_log" and hp.step is None:
        return type(value)(hp.max_value + hp.min_value - value)
    return value


def suggest(trial: Any, hp: HyperParameter) -> Any:
    """Ask Optuna's sampler for a value of ``hp`` in the running trial."""
    name, dist = optuna_param(hp)
    D = optuna.distributions
    if isinstance(dist, D.CategoricalDistribution):
        return trial.suggest_categorical(name, list(dist.choices))
    if isinstance(dist, D.IntDistribution):
        value = trial.suggest_int(name, dist.low, dist.high, step=dist.step, log=dist.log)
    else:
        value = trial.suggest_float(name, dist.low, dist.high, step=dist.step, log=dist.log)
    return from_optuna(hp, value)


def _canonical(values: dict) -> dict:
    """Values as JSON gives them back (the form the study stores), for comparisons."""
    return json.loads(json.dumps(values))


# ------------------------------------------------------------------ seeded per trial
class _TrialSeeded(optuna.samplers.BaseSampler):
    """A sampler made afresh for every trial, seeded with (seed, trial number).

    Workers started with the same ``seed`` would otherwise draw the same values in lockstep.
    This way trial n gets the same draw whoever runs it, and a one-worker search repeats
    exactly. Optuna's samplers keep no state besides their random generator (they read the
    history from the study), so nothing is lost by making one per trial.
    """

    def __init__(self, make: Callable[[int | None], Any], seed: int | None):
        self._make = make
        self._seed = seed
        self._shared = make(None) if seed is None else None
        self._by_trial: dict[int, Any] = {}

    def _inner(self, trial: Any) -> Any:
        if self._shared is not None:
            return self._shared
        inner = self._by_trial.get(trial.number)
        if inner is None:
            inner = self._make((self._seed * 1_000_003 + trial.number) % (2 ** 32))
            self._by_trial[trial.number] = inner
        return inner

    def before_trial(self, study: Any, trial: Any) -> None:
        self._inner(trial).before_trial(study, trial)

    def infer_relative_search_space(self, study: Any, trial: Any) -> dict:
        return self._inner(trial).infer_relative_search_space(study, trial)

    def sample_relative(self, study: Any, trial: Any, search_space: dict) -> dict:
        return self._inner(trial).sample_relative(study, trial, search_space)

    def sample_independent(self, study: Any, trial: Any, name: str, dist: Any) -> Any:
        return self._inner(trial).sample_independent(study, trial, name, dist)

    def after_trial(self, study: Any, trial: Any, state: Any, values: Any) -> None:
        inner = self._inner(trial)
        self._by_trial.pop(trial.number, None)
        # GridSampler's after_trial only calls study.stop(), which Optuna allows inside
        # study.optimize alone; the oracle checks for an exhausted grid itself.
        if not isinstance(inner, optuna.samplers.GridSampler):
            inner.after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:
        if self._shared is not None:
            self._shared.reseed_rng()


class _Heartbeat:
    """Writes the running trial's heartbeat every interval, from a daemon thread."""

    def __init__(self, storage: Any, trial_id: int):
        self._storage = storage
        self._trial_id = trial_id
        self._interval = heartbeat_interval(storage)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> "_Heartbeat":
        if self._interval:
            # The first one now, so that a trial is without a heartbeat for milliseconds.
            self._storage.record_heartbeat(self._trial_id)
            self._thread = threading.Thread(target=self._beat, daemon=True,
                                            name=f"heartbeat-{self._trial_id}")
            self._thread.start()
        return self

    def _beat(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._storage.record_heartbeat(self._trial_id)
            except Exception:           # a brief database outage must not kill training
                pass

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


class _Running:
    """What the oracle keeps about a trial this worker runs."""

    def __init__(self, optuna_trial: Any, heartbeat: _Heartbeat, run: int):
        self.optuna_trial = optuna_trial
        self.heartbeat = heartbeat
        self.run = run


# ------------------------------------------------------------------ the oracle
class Oracle:
    """Base oracle: Optuna's random sampler, no pruner. Subclasses choose others."""

    done_states = (TrialState.COMPLETE,)
    pipelined = True        # may claim the next trial while one trains (see Tuner.search)

    def __init__(self, objective: Any = None, max_trials: int | None = None,
                 hyperparameters: HyperParameters | None = None, allow_new_entries: bool = True,
                 tune_new_entries: bool = True, seed: int | None = None,
                 max_retries_per_trial: int = 0, max_consecutive_failed_trials: int = 3):
        if max_trials is not None and max_trials < 1:
            raise ValueError(f"max_trials must be >= 1 (or None); got {max_trials}.")
        if max_consecutive_failed_trials is not None and max_consecutive_failed_trials < 1:
            raise ValueError(f"max_consecutive_failed_trials must be >= 1; got "
                             f"{max_consecutive_failed_trials}.")
        self.objective = create_objective(objective)
        self.max_trials = max_trials
        self.hyperparameters = hyperparameters.copy() if hyperparameters else HyperParameters()
        self.allow_new_entries = allow_new_entries
        self.tune_new_entries = tune_new_entries
        self.seed = seed
        self.max_retries_per_trial = max_retries_per_trial
        self.max_consecutive_failed_trials = max_consecutive_failed_trials
        self.verbose = 1
        self.study: Any = None
        self.storage: Any = None
        self.storage_description = ""
        self.project_dir = ""
        self._running: dict[int, _Running] = {}
        self._max_collisions = 20           # KerasTuner's: then the space counts as exhausted
        self._worker = f"{socket.gethostname()}:{os.getpid()}"
        self._stale_checked = -math.inf
        # The space is read by the trial in the main thread and extended by the storage
        # thread that records the last trial.
        self._lock = threading.RLock()
        self._room = 0      # free slots seen by the last check (a hint; the check decides)

    # -------------------------------------------------------------- what subclasses choose
    def _make_sampler(self, seed: int | None) -> Any:
        return optuna.samplers.RandomSampler(seed=seed)

    def _make_pruner(self) -> Any:
        return optuna.pruners.NopPruner()

    def _budget(self) -> int | None:
        """How many trials the whole search runs (all workers together); None: no limit."""
        return self.max_trials

    # -------------------------------------------------------------- the study
    def _connect(self, project_dir: str, project_name: str, overwrite: bool, storage: Any,
                 heartbeat_interval: Any = None, grace_period: Any = None) -> bool:
        """Open (or create) the study; True when it already existed (a resumed search)."""
        self.project_dir = project_dir
        self.storage, self.storage_description = open_storage(
            storage, project_dir, heartbeat_interval, grace_period, self.max_retries_per_trial)
        names = optuna.study.get_all_study_names(self.storage)
        if overwrite and project_name in names:
            optuna.delete_study(study_name=project_name, storage=self.storage)
            names.remove(project_name)
        existed = project_name in names
        with _quiet():
            self.study = optuna.create_study(
                storage=self.storage, study_name=project_name, load_if_exists=True,
                sampler=_TrialSeeded(self._make_sampler, self.seed),
                pruner=self._make_pruner(), direction=self.objective.optuna_direction)
        attrs = self.study.user_attrs
        saved = attrs.get(STUDY_OBJECTIVE)
        mine = {"name": self.objective.name, "direction": self.objective.direction}
        if existed and saved and saved != mine:
            raise errors.FatalValueError(
                f"The saved search {project_name!r} in {self.storage_description} optimises "
                f"{saved['name']} ({saved['direction']}), not {mine['name']} "
                f"({mine['direction']}). Use the same objective to resume it, or start a new "
                f"search with overwrite=True or another project_name.")
        if self.study.direction.name.lower() != self.objective.optuna_direction:
            raise errors.FatalValueError(
                f"The study {project_name!r} in {self.storage_description} was created to "
                f"{self.study.direction.name.lower()}, but the objective {self.objective} is "
                f"to {self.objective.optuna_direction}. Use another project_name.")
        if not saved:
            self.study.set_user_attr(STUDY_OBJECTIVE, mine)
            self.study.set_user_attr(STUDY_TUNER, type(self).__name__)
        for item in attrs.get(STUDY_SPACE, []):
            self._add_known(deserialize(item))
        return existed

    def _add_known(self, hp: HyperParameter) -> bool:
        """Add ``hp`` to the space unless it is there; an other definition is an error."""
        known = self.hyperparameters._find(hp.name, hp.conditions)
        if known is None:
            self.hyperparameters.merge([hp])
            return True
        if not known.same_as(hp):
            raise errors.FatalValueError(
                f"Hyperparameter {hp.name!r} is {known.describe()} in this search but "
                f"{hp.describe()} elsewhere (the saved search or another worker). A saved "
                f"search keeps its ranges: give the new one another name, or start a new "
                f"search with overwrite=True or another project_name.")
        return False

    def get_space(self) -> HyperParameters:
        """A copy of the search space, with default values."""
        with self._lock:
            hp = self.hyperparameters.copy()
        hp.values = {}
        hp.ensure_active_values()
        return hp

    def update_space(self, hyperparameters: HyperParameters) -> None:
        """Add the hyperparameters a build declared; shared with the other workers."""
        with self._lock:
            self._update_space(hyperparameters)

    def _update_space(self, hyperparameters: HyperParameters) -> None:
        new = []
        for hp in hyperparameters.space:
            known = self.hyperparameters._find(hp.name, hp.conditions)
            if known is None:
                new.append(hp)
            elif not known.same_as(hp):
                self._add_known(hp)          # raises, naming both definitions
        if new and not self.allow_new_entries:
            raise errors.FatalRuntimeError(
                f"allow_new_entries=False, but the model declares new hyperparameters: "
                f"{', '.join(hp.name for hp in new)}. Declare them in the `hyperparameters` "
                f"given to the tuner, or set allow_new_entries=True.")
        if not new or not self.tune_new_entries:
            return                  # untuned new entries keep their defaults (KerasTuner)
        for hp in new:
            self._add_known(hp)
        if self.study is not None:
            # Read again first: another worker may have added its own discoveries.
            for item in self.study.user_attrs.get(STUDY_SPACE, []):
                self._add_known(deserialize(item))
            self.study.set_user_attr(STUDY_SPACE,
                                     [serialize(hp) for hp in self.hyperparameters.space])

    # -------------------------------------------------------------- handing out trials
    def _width(self) -> int:
        budget = self._budget()
        return len(str(budget)) if budget else 1

    def _fail_stale(self) -> None:
        """Fail the trials of dead workers. A trial goes stale only after grace_period, so
        looking more often than once a heartbeat interval finds nothing new."""
        now = time.monotonic()
        interval = heartbeat_interval(self.storage)
        if interval and now - self._stale_checked < interval:
            return
        self._stale_checked = now
        with _quiet():
            optuna.storages.fail_stale_trials(self.study)
        self._fail_orphans()

    def _fail_orphans(self) -> None:
        """Fail RUNNING trials that never wrote a heartbeat and started over grace_period ago.

        Optuna's check skips trials without a heartbeat, so a worker killed between creating
        a trial and its first heartbeat (a few milliseconds) would leave it RUNNING forever
        and the other workers waiting for it. This reads Optuna's own tables (``trials``,
        ``trial_heartbeats``) directly; start times are the workers' clocks.
        """
        rdb = self.storage
        if not isinstance(rdb, optuna.storages.RDBStorage) or not rdb.heartbeat_interval:
            return
        import datetime

        import sqlalchemy
        grace = rdb.grace_period or 2 * rdb.heartbeat_interval
        cutoff = datetime.datetime.now() - datetime.timedelta(seconds=grace)
        query = sqlalchemy.text(
            "SELECT t.trial_id FROM trials t LEFT JOIN trial_heartbeats h "
            "ON h.trial_id = t.trial_id WHERE t.study_id = :study AND t.state = 'RUNNING' "
            "AND h.trial_id IS NULL AND t.datetime_start < :cutoff")
        with rdb.engine.connect() as conn:
            ids = [row[0] for row in conn.execute(query, {"study": self.study._study_id,
                                                          "cutoff": cutoff})]
        for trial_id in ids:
            try:
                rdb.set_trial_state_values(trial_id, state=TrialState.FAIL)
            except optuna.exceptions.UpdateFinishedTrialError:
                pass                    # another worker got there first

    def _grid_exhausted(self) -> bool:
        return False

    def _wait(self, seconds: float) -> None:
        threading.Event().wait(seconds)

    def create_trial(self, tuner_id: str = "tuner0", wait: bool = True) -> Trial | None:
        """The next trial for this worker, or None when the search is over (or, with
        wait=False, when there is nothing to claim right now)."""
        collisions = 0
        interval = heartbeat_interval(self.storage)
        while True:
            self._fail_stale()
            budget = self._budget()
            if self._room >= 2 and not self._grid_exhausted():
                # The last check saw room for this trial and more: ask at once (one read
                # less per trial; the check after asking still decides).
                self._room = 0
                trials = []
            else:
                trials = self.study.get_trials(deepcopy=False)
            done = sum(t.state in self.done_states for t in trials)
            running = sum(t.state == TrialState.RUNNING for t in trials)
            waiting = sum(t.state == TrialState.WAITING for t in trials)
            if trials and budget is not None and done >= budget:
                return None
            if trials and not waiting and self._grid_exhausted():
                return None
            if budget is not None and done + running >= budget and not waiting:
                if not interval or not wait:
                    return None      # no heartbeats: a dead worker's trial would never end
                self._wait(interval)     # the last trials run elsewhere; one may die
                continue
            with _quiet():
                ot = self.study.ask()
            beat = _Heartbeat(self.storage, ot._trial_id).start()
            try:
                with self._lock:
                    values = self._sample(ot)
                    hp = self.hyperparameters.copy()
                reason = self._conflict(ot.number, ot.params, budget)
            except BaseException:
                self._tell_failed(ot, "the trial could not start", beat)
                raise
            if reason is None:
                run = int(ot.user_attrs.get(ATTR_RUN, 1))
                self._running[ot.number] = _Running(ot, beat, run)
                hp.values = values
                return Trial(ot.number, hp, self.objective, self._width(), optuna_trial=ot)
            self._resign(ot, reason, beat)
            if reason.startswith("duplicate"):
                collisions += 1
                if collisions > self._max_collisions:
                    return None      # the space seems exhausted (KerasTuner stops too)
            if not wait:
                return None
            # Break the symmetry of two workers that keep giving each other way.
            self._wait(random.uniform(0, min(1.0, interval or 1.0)))

    def _sample(self, ot: Any) -> dict:
        """Values for every active hyperparameter of the known space, in space order."""
        values: dict = {}
        for hp in self.hyperparameters.space:
            if all(c.is_active(values) for c in hp.conditions):
                values[hp.name] = hp.value if isinstance(hp, Fixed) else suggest(ot, hp)
        return values

    def _conflict(self, number: int, params: dict, budget: int | None) -> str | None:
        """Why this new trial must give way, or None. ``params`` are its Optuna parameters
        (the suggest_* calls above wrote them, so the other workers can see them)."""
        live = [t for t in self.study.get_trials(deepcopy=False) if t.number != number
                and (t.state in self.done_states or t.state in (TrialState.RUNNING,
                                                                 TrialState.PRUNED))
                and not t.user_attrs.get(ATTR_RESIGNED)]
        if budget is not None:
            counted = [t for t in live if t.state in self.done_states
                       or t.state == TrialState.RUNNING]
            if len(counted) >= budget:
                return f"one too many: {budget} trials already run or finished"
            self._room = budget - len(counted) - 1
        if params:           # an empty space (not discovered yet) has nothing to repeat
            for t in live:
                if t.params == params:
                    return f"duplicate of trial {t.number}"
        return None

    def _resign(self, ot: Any, reason: str, beat: _Heartbeat) -> None:
        ot.set_user_attr(ATTR_RESIGNED, reason)
        if "grid_id" in ot.storage.get_trial_system_attrs(ot._trial_id):
            # Let Optuna's GridSampler hand this grid point out again.
            ot.storage.set_trial_system_attr(ot._trial_id, "grid_id", -1)
        with _quiet():
            self.study.tell(ot, state=TrialState.FAIL)
        beat.stop()

    def _tell_failed(self, ot: Any, message: str, beat: _Heartbeat) -> None:
        try:
            ot.set_user_attr(ATTR_MESSAGE, message)
            with _quiet():
                self.study.tell(ot, state=TrialState.FAIL)
        except Exception:
            pass
        beat.stop()

    # -------------------------------------------------------------- finishing trials
    def running(self, trial: Trial) -> _Running:
        return self._running[trial.number]

    def will_retry(self, trial: Trial, status: str) -> bool:
        """Whether ending ``trial`` with ``status`` queues it to run again."""
        record = self._running.get(trial.number)
        return (status == "INVALID" and record is not None
                and record.run <= self.max_retries_per_trial)

    def abandon(self, trial: Trial, reason: str) -> None:
        """Give back a claimed trial that will not run (it leaves no trace in the views)."""
        record = self._running.pop(trial.number)
        self._resign(record.optuna_trial, reason, record.heartbeat)

    def end_trial(self, trial: Trial, status: str, score: float | None = None,
                  attrs: dict | None = None, message: str | None = None) -> bool:
        """Record a finished trial; returns True when it was queued to run again."""
        retry = self.will_retry(trial, status)
        record = self._running.pop(trial.number)
        ot = record.optuna_trial
        try:
            for key, value in (attrs or {}).items():
                ot.set_user_attr(key, value)
            if message is not None:
                ot.set_user_attr(ATTR_MESSAGE, message)
            with _quiet():
                if status == "COMPLETED":
                    self.study.tell(ot, score)
                elif status == "STOPPED":
                    self.study.tell(ot, state=TrialState.PRUNED)
                else:
                    if retry:
                        self._enqueue_retry(trial, record.run)
                    self.study.tell(ot, state=TrialState.FAIL)
        except optuna.exceptions.UpdateFinishedTrialError:
            # A worker saw no heartbeat for grace_period and failed this trial: the result
            # does not count (the slot was given to another trial).
            pass
        finally:
            record.heartbeat.stop()
        trial.status = "FAILED" if status == "INVALID" else status
        return retry

    def _enqueue_retry(self, trial: Trial, run: int) -> None:
        params = {}
        by_name = {hp.name: hp for hp in self.hyperparameters.space
                   if not isinstance(hp, Fixed)}
        for name, value in trial.hyperparameters.values.items():
            hp = by_name.get(name)
            if hp is not None:
                params[optuna_param(hp)[0]] = to_optuna(hp, value)
        with _quiet():
            self.study.enqueue_trial(params, user_attrs={ATTR_RUN: run + 1,
                                                         ATTR_RETRY_OF: trial.number})

    # -------------------------------------------------------------- reading results
    def _view(self, frozen: Any) -> Trial:
        with self._lock:
            hp = self.hyperparameters.copy()
        hp.values = dict((frozen.user_attrs.get(ATTR_RESULT) or {}).get("hyperparameters", {}))
        return Trial(frozen.number, hp, self.objective, self._width(), frozen=frozen)

    @property
    def trials(self) -> dict[str, Trial]:
        """Every trial of the study (all workers'), by trial_id; given-up starts left out."""
        out = {}
        for frozen in self.study.get_trials(deepcopy=False):
            if frozen.user_attrs.get(ATTR_RESIGNED):
                continue
            view = self._view(frozen)
            out[view.trial_id] = view
        return out

    def get_trial(self, trial_id: str) -> Trial:
        return self.trials[trial_id]

    def get_best_trials(self, num_trials: int = 1) -> list[Trial]:
        """Completed trials from best to worst score; then the others, to fill num_trials."""
        trials = list(self.trials.values())
        done = [t for t in trials if t.status == "COMPLETED" and t.score is not None]
        done.sort(key=lambda t: t.score, reverse=self.objective.direction == "max")
        if len(done) < num_trials:
            done += [t for t in trials if t.status != "COMPLETED"]
        return done[:num_trials]

    def remaining_trials(self) -> int | None:
        budget = self._budget()
        if budget is None:
            return None
        done = sum(t.state in self.done_states for t in self.study.get_trials(deepcopy=False))
        return max(0, budget - done)


# ------------------------------------------------------------------ the four oracles
class RandomSearchOracle(Oracle):
    """Values drawn at random by Optuna's RandomSampler."""


class BayesianOptimizationOracle(Oracle):
    """Optuna's TPE sampler (Tree-structured Parzen Estimator).

    KerasTuner fits a Gaussian process. Optuna's GPSampler needs PyTorch, and TPE handles the
    conditional and categorical spaces of KerasTuner models natively, so TPE it is; its first
    ``num_initial_points`` trials are random (default: 3 per hyperparameter, at least 3, as
    KerasTuner). Its trials run one after the other (``pipelined = False``): each draw
    should know every result before it.
    """

    pipelined = False

    def __init__(self, objective: Any = None, max_trials: int = 10,
                 num_initial_points: int | None = None, alpha: float = 1e-4, beta: float = 2.6,
                 seed: int | None = None, hyperparameters: HyperParameters | None = None,
                 allow_new_entries: bool = True, tune_new_entries: bool = True,
                 max_retries_per_trial: int = 0, max_consecutive_failed_trials: int = 3):
        super().__init__(objective, max_trials, hyperparameters, allow_new_entries,
                         tune_new_entries, seed, max_retries_per_trial,
                         max_consecutive_failed_trials)
        if alpha != 1e-4 or beta != 2.6:
            warnings.warn("BayesianOptimization: alpha and beta tune KerasTuner's Gaussian "
                          "process; this oracle runs Optuna's TPE sampler, which has no such "
                          "settings, so they are not used.", stacklevel=3)
        self.num_initial_points = num_initial_points
        self.alpha, self.beta = alpha, beta

    def _make_sampler(self, seed: int | None) -> Any:
        tunable = [hp for hp in self.hyperparameters.space if not isinstance(hp, Fixed)]
        startup = self.num_initial_points or max(3 * len(tunable), 3)
        with _quiet():
            return optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup)


class GridSearchOracle(Oracle):
    """Every combination of the hyperparameters' values, by Optuna's GridSampler.

    An Int or stepped Float gives each value of its range; an unstepped Float the middles of
    its ten deciles (as KerasTuner). The order is Optuna's (shuffled by ``seed``).
    """

    def __init__(self, objective: Any = None, max_trials: int | None = None,
                 seed: int | None = None, hyperparameters: HyperParameters | None = None,
                 allow_new_entries: bool = True, tune_new_entries: bool = True,
                 max_retries_per_trial: int = 0, max_consecutive_failed_trials: int = 3):
        super().__init__(objective, max_trials, hyperparameters, allow_new_entries,
                         tune_new_entries, seed, max_retries_per_trial,
                         max_consecutive_failed_trials)

    def _grid(self) -> dict:
        grid = {}
        for hp in self.hyperparameters.space:
            if isinstance(hp, Fixed):
                continue
            name, _ = optuna_param(hp)
            grid[name] = [to_optuna(hp, v) for v in hp.grid_values()]
        return grid

    def grid_size(self) -> int:
        return math.prod(len(v) for v in self._grid().values())

    def _make_sampler(self, seed: int | None) -> Any:
        # One grid order for every worker: the shuffle depends on the seed alone.
        return optuna.samplers.GridSampler(self._grid(), seed=self.seed or 0)

    def _budget(self) -> int | None:
        size = self.grid_size()
        return size if self.max_trials is None else min(self.max_trials, size)

    def _grid_exhausted(self) -> bool:
        with _quiet():
            return self._make_sampler(None).is_exhausted(self.study)


class HyperbandOracle(Oracle):
    """Random values, run under Optuna's HyperbandPruner with epochs as the resource.

    Each trial may train up to ``max_epochs``; the pruner stops one early (status 'STOPPED')
    when its objective after 1, factor, factor², ... epochs is not among the best 1/factor of
    its bracket. The number of trials is the number of models KerasTuner's Hyperband starts:
    ``hyperband_iterations`` × Σ over brackets of ⌈(1 + log_factor max_epochs)/(b + 1)⌉·factor^b.
    """

    done_states = (TrialState.COMPLETE, TrialState.PRUNED)

    def __init__(self, objective: Any = None, max_epochs: int = 100, factor: int = 3,
                 hyperband_iterations: int = 1, seed: int | None = None,
                 hyperparameters: HyperParameters | None = None, allow_new_entries: bool = True,
                 tune_new_entries: bool = True, max_retries_per_trial: int = 0,
                 max_consecutive_failed_trials: int = 3):
        super().__init__(objective, None, hyperparameters, allow_new_entries, tune_new_entries,
                         seed, max_retries_per_trial, max_consecutive_failed_trials)
        if factor < 2:
            raise ValueError(f"Hyperband: factor must be an integer >= 2; got {factor}.")
        if max_epochs < 1:
            raise ValueError(f"Hyperband: max_epochs must be >= 1; got {max_epochs}.")
        self.max_epochs, self.factor = int(max_epochs), int(factor)
        self.hyperband_iterations = int(hyperband_iterations or 1)
        self.max_trials = self._budget()

    def _n_brackets(self) -> int:
        n, epochs = 0, float(self.max_epochs)
        while epochs >= 1:
            epochs /= self.factor
            n += 1
        return n

    def _budget(self) -> int:
        end = math.ceil(1 + math.log(self.max_epochs, self.factor))
        per_iteration = sum(math.ceil(end / (b + 1) * self.factor ** b)
                            for b in range(self._n_brackets()))
        return self.hyperband_iterations * per_iteration

    def _make_pruner(self) -> Any:
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=self.max_epochs,
                                              reduction_factor=self.factor)
