"""The errors a search raises, by how a tuner reacts to them (KerasTuner's names).

- ``FailedTrialError``: this trial cannot work (say, a model over ``max_model_size``); it is
  marked failed and never retried.
- ``FatalError`` and its kin: the search itself is wrong (an objective ``fit`` never logs, a
  hyperparameter given two ranges); the trial is marked failed and the search stops.
Any other exception fails the trial, which is retried up to ``max_retries_per_trial`` times.
"""
from __future__ import annotations


class FailedTrialError(Exception):
    """Fail the current trial without retrying it."""


class FatalError(Exception):
    """Stop the whole search: something every trial would hit."""


class FatalValueError(FatalError, ValueError):
    pass


class FatalTypeError(FatalError, TypeError):
    pass


class FatalRuntimeError(FatalError, RuntimeError):
    pass
