"""KerasTuner's API for mitbadak models, run by Optuna studies.

    from mitbadak import keras, keras_tuner

    def build_model(hp):
        model = keras.Sequential([keras.layers.Flatten(),
            keras.layers.Dense(hp.Int("units", 32, 512, step=32), activation="relu"),
            keras.layers.Dense(10, activation="softmax")])
        model.compile(optimizer=keras.optimizers.Adam(hp.Float("lr", 1e-4, 1e-2, sampling="log")),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    tuner = keras_tuner.RandomSearch(build_model, objective="val_accuracy", max_trials=10)
    tuner.search(x, y, epochs=2, validation_data=(x_val, y_val))

Scaling out: the study lives in an SQLite file under directory/project_name by default. Point
every worker at one database (``storage="postgresql://user:pw@host/db"`` or the environment
variable MITBADAK_TUNER_STORAGE) and start the same script on as many machines or processes
as you like: max_trials counts all workers' trials, no two trials get the same values, every
worker's get_best_hyperparameters() is the study's best, and a worker that dies mid-trial is
noticed by heartbeats (heartbeat_interval=10 s, grace_period=60 s by default; environment
MITBADAK_TUNER_HEARTBEAT_INTERVAL / MITBADAK_TUNER_GRACE_PERIOD) and its trial run again
elsewhere. Weights stay in each worker's directory; give all workers a shared directory, or
an Optuna artifact_store=, for get_best_models() to work everywhere. Optuna's dashboard and
optuna.visualization read the study (tunable values are Optuna parameters, the objective per
epoch its intermediate values, the rest the user attribute "result").

One module per concept:
  hyperparameters  HyperParameters (define-by-run space), Int, Float, Choice, Boolean, Fixed
  hypermodel       HyperModel: build(hp), and fit(hp, model, ...) to tune training
  objective        Objective, and which way 'val_accuracy' / 'val_loss' go
  oracle           the Optuna study: sampling, sharing trials between workers, ranking
  storage          which database: SQLite by default, a shared URL, heartbeats
  tuner            Tuner: build, fit, save weights, report; results_summary
  tuners           RandomSearch, GridSearch, BayesianOptimization, Hyperband
  trial, display   a trial as KerasTuner shows it; the progress lines
Plots of a search are in mitbadak.lab (plot_tuner_objective, plot_tuner_parallel_coordinates,
plot_tuner_learning_curves).
"""
try:
    import optuna  # noqa: F401
except ImportError as err:           # an optional extra: say how to get it
    raise ImportError("mitbadak.keras_tuner runs on Optuna, which is not installed: "
                      "pip install 'mitbadak[tune]' (add 'mitbadak[tune-pg]' for "
                      "PostgreSQL).") from err

from . import errors
from .errors import FailedTrialError, FatalError
from .hypermodel import HyperModel
from .hyperparameters import HyperParameters
from .objective import Objective
from .oracle import (BayesianOptimizationOracle, GridSearchOracle, HyperbandOracle, Oracle,
                     RandomSearchOracle)
from .trial import Trial
from .tuner import Tuner
from .tuners import BayesianOptimization, GridSearch, Hyperband, RandomSearch
from . import tuners, oracle as oracles  # noqa: E402  (keras_tuner.tuners.RandomSearch)

__all__ = ["HyperParameters", "HyperModel", "Objective", "Tuner", "RandomSearch", "GridSearch",
           "BayesianOptimization", "Hyperband", "Oracle", "RandomSearchOracle",
           "GridSearchOracle", "BayesianOptimizationOracle", "HyperbandOracle", "Trial",
           "errors", "FailedTrialError", "FatalError", "tuners", "oracles"]
