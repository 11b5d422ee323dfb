"""KerasTuner's "Getting started" guide, with only the import lines changed.

The guide's code (build_model with num_layers / units_i / activation / dropout / log-sampled
lr; RandomSearch(max_trials=3, executions_per_trial=2, overwrite=True, directory,
project_name); search_space_summary, search, get_best_models(2), results_summary,
get_best_hyperparameters(5), rebuilding from the best; a HyperModel tuning batch_size in fit;
Hyperband and BayesianOptimization; a Tuner subclass tuning a plain function) on the MNIST
sample shipped in the package, cut small and to 1 epoch so the test stays fast.
"""
from __future__ import annotations

import io
from contextlib import redirect_stdout

import numpy as np
import pytest

pytest.importorskip("optuna", reason="the tune extra (Optuna) is not installed")
pytest.importorskip("h5py", reason="weights are saved as .weights.h5 (h5py)")

# The guide's imports were: import keras; from keras import layers; import keras_tuner
from mitbadak import keras
from mitbadak.keras import layers
from mitbadak import keras_tuner
from mitbadak.datasets import mnist_sample


def build_model(hp):
    model = keras.Sequential()
    model.add(layers.Flatten())
    # Tune the number of layers.
    for i in range(hp.Int("num_layers", 1, 3)):
        model.add(
            layers.Dense(
                # Tune number of units separately.
                units=hp.Int(f"units_{i}", min_value=32, max_value=512, step=32),
                activation=hp.Choice("activation", ["relu", "tanh"]),
            )
        )
    if hp.Boolean("dropout"):
        model.add(layers.Dropout(rate=0.25))
    model.add(layers.Dense(10, activation="softmax"))
    learning_rate = hp.Float("lr", min_value=1e-4, max_value=1e-2, sampling="log")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


@pytest.fixture(scope="module")
def data():
    (x, y), _ = mnist_sample.load_data()
    x = np.expand_dims(x[:400], -1).astype("float32") / 255.0
    y = keras.utils.to_categorical(y[:400], 10)
    return x[:300], y[:300], x[300:], y[300:]


def _out(fn, *args, **kwargs):
    buf = io.StringIO()
    with redirect_stdout(buf):
        result = fn(*args, **kwargs)
    return result, buf.getvalue()


def test_getting_started_random_search(tmp_path, data):
    x_train, y_train, x_val, y_val = data
    build_model(keras_tuner.HyperParameters())      # the guide's quick check: defaults
    tuner, _ = _out(keras_tuner.RandomSearch, hypermodel=build_model, objective="val_accuracy",
                    max_trials=3, executions_per_trial=2, overwrite=True,
                    directory=str(tmp_path / "my_dir"), project_name="helloworld")

    _, summary = _out(tuner.search_space_summary)
    # KerasTuner's summary of this space (its get_config order), written out by hand.
    assert summary.splitlines() == [
        "Search space summary",
        "Default search space size: 5",
        "num_layers (Int)",
        "{'default': None, 'conditions': [], 'min_value': 1, 'max_value': 3, 'step': 1, "
        "'sampling': 'linear'}",
        "units_0 (Int)",
        "{'default': None, 'conditions': [], 'min_value': 32, 'max_value': 512, 'step': 32, "
        "'sampling': 'linear'}",
        "activation (Choice)",
        "{'default': 'relu', 'conditions': [], 'values': ['relu', 'tanh'], 'ordered': False}",
        "dropout (Boolean)",
        "{'default': False, 'conditions': []}",
        "lr (Float)",
        "{'default': 0.0001, 'conditions': [], 'min_value': 0.0001, 'max_value': 0.01, "
        "'step': None, 'sampling': 'log'}",
    ]

    _, log = _out(tuner.search, x_train, y_train, epochs=1, validation_data=(x_val, y_val),
                  verbose=1)
    # A progress block per trial: number, values beside the best so far, the objective.
    for n in (1, 2, 3):
        assert f"Search: Running Trial #{n}" in log
        assert f"Trial {n} Complete [" in log
    assert "Value             |Best Value So Far |Hyperparameter" in log
    assert log.count("Best val_accuracy So Far: ") == 3
    # From the second trial on, the best values so far are shown (not '?').
    second = log.split("Search: Running Trial #2")[1].split("Trial 2 Complete")[0]
    assert "Hyperparameter" in second and "|?" not in second

    trials = tuner.oracle.trials
    assert sorted(trials) == ["0", "1", "2"]
    for t in trials.values():
        assert t.status == "COMPLETED"
        assert len(t.history) == 2                         # executions_per_trial=2
        best_each = [max(h["val_accuracy"]) for h in t.history]
        assert t.score == pytest.approx(np.mean(best_each))  # KerasTuner: mean of the best
        assert 1e-4 <= t.hyperparameters["lr"] <= 1e-2
        assert t.hyperparameters["units_0"] % 32 == 0

    models = tuner.get_best_models(num_models=2)
    assert len(models) == 2
    best_model = models[0]
    _out(best_model.summary)
    best = tuner.oracle.get_best_trials(1)[0]
    # Its weights are those of the best epoch over both executions.
    _, acc = best_model.evaluate(x_val, y_val, verbose=0)
    assert acc == pytest.approx(max(max(h["val_accuracy"]) for h in best.history), abs=1e-6)

    _, text = _out(tuner.results_summary)
    lines = text.splitlines()
    assert lines[:4] == ["Results summary", f"Results in {tmp_path / 'my_dir' / 'helloworld'}",
                         "Showing 10 best trials",
                         'Objective(name="val_accuracy", direction="max")']
    ranked = sorted(trials.values(), key=lambda t: -t.score)
    expected = lines[:4]
    for t in ranked:
        expected += ["", f"Trial {t.trial_id} summary", "Hyperparameters:"]
        expected += [f"{k}: {v}" for k, v in t.hyperparameters.values.items()]
        expected += [f"Score: {t.score}"]
    assert lines == expected

    best_hps = tuner.get_best_hyperparameters(5)
    assert len(best_hps) == 3 and best_hps[0].values == ranked[0].hyperparameters.values
    model = build_model(best_hps[0])
    x_all = np.concatenate((x_train, x_val))
    y_all = np.concatenate((y_train, y_val))
    model.fit(x=x_all, y=y_all, epochs=1, verbose=0)


class MyHyperModel(keras_tuner.HyperModel):
    def build(self, hp):
        model = keras.Sequential()
        model.add(layers.Flatten())
        model.add(layers.Dense(units=hp.Int("units", min_value=32, max_value=512, step=32),
                               activation="relu"))
        model.add(layers.Dense(10, activation="softmax"))
        model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
        return model

    def fit(self, hp, model, *args, **kwargs):
        return model.fit(*args, batch_size=hp.Choice("batch_size", [16, 32]), **kwargs)


def test_hypermodel_tunes_batch_size_in_fit(tmp_path, data):
    x_train, y_train, x_val, y_val = data
    hp = keras_tuner.HyperParameters()
    hypermodel = MyHyperModel()
    model = hypermodel.build(hp)
    hypermodel.fit(hp, model, np.random.rand(100, 28, 28), np.random.rand(100, 10), verbose=0)
    assert hp.values == {"units": 32, "batch_size": 16}          # the defaults

    tuner, _ = _out(keras_tuner.RandomSearch, MyHyperModel(), objective="val_accuracy",
                    max_trials=4, overwrite=True, seed=3, directory=str(tmp_path),
                    project_name="tune_hypermodel")
    _out(tuner.search, x_train, y_train, epochs=1, validation_data=(x_val, y_val))
    trials = sorted(tuner.oracle.trials.values(), key=lambda t: t.number)
    # Found in the first trial's fit (so it has the default there, as in KerasTuner), then
    # part of the space that Optuna samples.
    assert trials[0].hyperparameters["batch_size"] == 16
    assert all(t.hyperparameters["batch_size"] in (16, 32) for t in trials)
    names = [hp.name for hp in tuner.oracle.get_space().space]
    assert names == ["units", "batch_size"]
    assert all("batch_size" in t.frozen.params for t in trials[1:])


def test_hyperband_and_bayesian_optimization(tmp_path, data):
    x_train, y_train, x_val, y_val = data
    tuner, _ = _out(keras_tuner.Hyperband, build_model, objective="val_accuracy", max_epochs=3,
                    factor=3, overwrite=True, directory=str(tmp_path), project_name="hb")
    # KerasTuner's Hyperband for max_epochs=3, factor=3 starts 2 + 3 models.
    assert tuner.oracle.max_trials == 5
    _out(tuner.search, x_train[:120], y_train[:120], epochs=99,
         validation_data=(x_val, y_val))
    trials = tuner.oracle.trials.values()
    assert len(trials) == 5
    for t in trials:
        epochs = len(t.history[0]["val_accuracy"])
        assert epochs <= 3                     # the epochs given to search are replaced
        assert (t.status == "COMPLETED" and epochs == 3) or (t.status == "STOPPED" and epochs < 3)
        assert sorted(t.frozen.intermediate_values) == list(range(1, epochs + 1))
    assert tuner.get_best_hyperparameters()[0].values

    tuner, _ = _out(keras_tuner.BayesianOptimization, hypermodel=build_model,
                    objective="val_accuracy", max_trials=3, overwrite=True,
                    directory=str(tmp_path), project_name="bo")
    _out(tuner.search, x_train[:120], y_train[:120], epochs=1, validation_data=(x_val, y_val))
    assert [t.status for t in tuner.oracle.trials.values()] == ["COMPLETED"] * 3


class MyTuner(keras_tuner.RandomSearch):
    def run_trial(self, trial, *args, **kwargs):
        hp = trial.hyperparameters
        x = hp.Float("x", -1.0, 1.0)
        return x * x + 1


def test_tuner_subclass_tunes_a_function(tmp_path):
    tuner, _ = _out(MyTuner, max_trials=8, overwrite=True, seed=0, directory=str(tmp_path),
                    project_name="f")
    _out(tuner.search)
    best = tuner.get_best_hyperparameters()[0]
    scores = [t.score for t in tuner.oracle.trials.values()]
    assert len(scores) == 8
    assert best["x"] ** 2 + 1 == pytest.approx(min(scores))
