"""Search behaviour: resuming, errors that name the fix, retries, grids, weights, imports."""
from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import pytest

optuna = pytest.importorskip("optuna", reason="the tune extra (Optuna) is not installed")
pytest.importorskip("h5py", reason="weights are saved as .weights.h5 (h5py)")

from mitbadak import keras, keras_tuner
from mitbadak.keras_tuner.errors import FatalError

ROOT = Path(__file__).resolve().parents[2]


def quiet(fn, *args, **kwargs):
    buf = io.StringIO()
    with redirect_stdout(buf):
        result = fn(*args, **kwargs)
    return result, buf.getvalue()


def build(hp):
    model = keras.Sequential([
        keras.layers.Dense(hp.Int("units", 4, 16, step=4), activation="relu", input_shape=(6,)),
        keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(hp.Float("lr", 0.01, 0.5, sampling="log")),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.fixture(scope="module")
def xy():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(80, 6)).astype("float32")
    return x, (x[:, 0] + x[:, 1] > 0).astype("int64")


def fit_args(xy, validation=True):
    x, y = xy
    kwargs = dict(epochs=1, verbose=0)
    if validation:
        kwargs["validation_data"] = (x[60:], y[60:])
    return (x[:60], y[:60]), kwargs


def test_resume_keeps_finished_trials_and_fills_the_budget(tmp_path, xy):
    (x, y), kw = fit_args(xy)
    first, _ = quiet(keras_tuner.RandomSearch, build, objective="val_accuracy", max_trials=2,
                     directory=str(tmp_path), project_name="p")
    quiet(first.search, x, y, **kw)
    before = {t.trial_id: t.hyperparameters.values for t in first.oracle.trials.values()}
    again, printed = quiet(keras_tuner.RandomSearch, build, objective="val_accuracy",
                           max_trials=4, directory=str(tmp_path), project_name="p")
    assert "Reloading Tuner from SQLite file" in printed
    assert again.remaining_trials == 2
    quiet(again.search, x, y, **kw)
    trials = again.oracle.trials
    assert len(trials) == 4 and all(t.status == "COMPLETED" for t in trials.values())
    assert {k: trials[k].hyperparameters.values for k in before} == before
    # overwrite=True starts afresh.
    fresh, _ = quiet(keras_tuner.RandomSearch, build, objective="val_accuracy", max_trials=1,
                     overwrite=True, directory=str(tmp_path), project_name="p")
    assert fresh.oracle.trials == {} and fresh.remaining_trials == 1


def test_objective_fit_does_not_log_is_fatal_and_finished_trials_stay(tmp_path, xy):
    (x, y), kw = fit_args(xy)
    tuner, _ = quiet(keras_tuner.RandomSearch, build, objective="val_accuracy", max_trials=1,
                     directory=str(tmp_path), project_name="p")
    quiet(tuner.search, x, y, **kw)
    tuner, _ = quiet(keras_tuner.RandomSearch, build, objective="val_accuracy", max_trials=3,
                     directory=str(tmp_path), project_name="p")
    (x, y), kw = fit_args(xy, validation=False)
    with pytest.raises(FatalError, match=r"'val_accuracy' is not among the metrics fit logs "
                                         r"\(loss, accuracy\).*validation_data="):
        quiet(tuner.search, x, y, **kw)
    states = [t.status for t in tuner.oracle.trials.values()]
    assert states == ["COMPLETED", "FAILED"]
    assert "val_accuracy" in tuner.oracle.trials["1"].message


def test_unknown_objective_direction_and_changed_objective(tmp_path, xy):
    with pytest.raises(ValueError, match=r"Objective\('my_score', direction="):
        keras_tuner.RandomSearch(build, objective="my_score", directory=str(tmp_path))
    quiet(keras_tuner.RandomSearch, build, objective="val_loss", directory=str(tmp_path),
          project_name="o")
    with pytest.raises(FatalError, match="optimises val_loss.*overwrite=True"):
        quiet(keras_tuner.RandomSearch, build, objective="val_accuracy",
              directory=str(tmp_path), project_name="o")


def test_a_range_changed_in_a_saved_search_is_an_error(tmp_path, xy):
    quiet(keras_tuner.RandomSearch, build, objective="val_loss", directory=str(tmp_path),
          project_name="r")

    def build_wider(hp):
        hp.Int("units", 4, 64, step=4)       # was 4..16 in the saved search
        return build(keras_tuner.HyperParameters())

    with pytest.raises(FatalError, match=r"'units' is .*max_value=16.*max_value=64.*"
                                         r"another name"):
        quiet(keras_tuner.RandomSearch, build_wider, objective="val_loss",
              directory=str(tmp_path), project_name="r")


def test_unreachable_database_url_names_it_without_the_password(tmp_path):
    pytest.importorskip("psycopg", reason="psycopg missing: pip install 'mitbadak[tune-pg]'")
    with socket.socket() as s:                  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql://learner:secret@127.0.0.1:{port}/search"
    with pytest.raises(ConnectionError) as info:
        keras_tuner.RandomSearch(build, objective="val_loss", directory=str(tmp_path),
                                 storage=url)
    text = str(info.value)
    assert f"postgresql://learner:***@127.0.0.1:{port}/search" in text
    assert "secret" not in text and "database server is running" in text


def test_retries_then_consecutive_failures(tmp_path):
    runs = []

    class Flaky(keras_tuner.RandomSearch):
        def run_trial(self, trial, *args, **kwargs):
            x = trial.hyperparameters.Int("x", 0, 1000)
            runs.append(x)
            if len(runs) == 1:
                raise RuntimeError("flaky once")
            return float(x)

    tuner, out = quiet(Flaky, max_trials=2, max_retries_per_trial=1, seed=0,
                       directory=str(tmp_path), project_name="f")
    _, out = quiet(tuner.search)
    assert runs[0] == runs[1]                 # the retry ran the same values
    statuses = sorted(t.status for t in tuner.oracle.trials.values())
    assert statuses == ["COMPLETED", "COMPLETED", "FAILED"]
    assert "will run again with the same values" in out

    class Broken(keras_tuner.RandomSearch):
        def run_trial(self, trial, *args, **kwargs):
            trial.hyperparameters.Int("x", 0, 1000)
            raise RuntimeError("always")

    tuner, _ = quiet(Broken, max_trials=10, directory=str(tmp_path), project_name="b")
    with pytest.raises(RuntimeError, match="consecutive failures exceeded the limit of 3"):
        quiet(tuner.search)
    assert len(tuner.oracle.trials) == 3


def test_grid_search_runs_every_combination_once(tmp_path):
    seen = []

    class Grid(keras_tuner.GridSearch):
        def run_trial(self, trial, *args, **kwargs):
            hp = trial.hyperparameters
            v = (hp.Choice("a", [1, 2, 3]), hp.Boolean("b"))
            seen.append(v)
            return float(v[0] + v[1])

    tuner, _ = quiet(Grid, directory=str(tmp_path), project_name="g", seed=2)
    quiet(tuner.search)         # the space is found in the first trial: a and b defaulted
    tuner, _ = quiet(Grid, directory=str(tmp_path), project_name="g2",
                     hyperparameters=tuner.oracle.get_space(), seed=2)
    seen.clear()
    quiet(tuner.search)
    assert sorted(seen) == sorted((a, b) for a in (1, 2, 3) for b in (False, True))
    assert tuner.get_best_hyperparameters()[0].values == {"a": 1, "b": False}


def test_weights_from_the_artifact_store_when_the_file_is_gone(tmp_path, xy):
    (x, y), kw = fit_args(xy)
    tuner, _ = quiet(keras_tuner.RandomSearch, build, objective="val_accuracy", max_trials=1,
                     directory=str(tmp_path / "w"), project_name="a")
    quiet(tuner.search, x, y, **kw)
    best = tuner.oracle.get_best_trials(1)[0]
    os.remove(best.result["checkpoint"])        # as on a machine that lacks it
    with pytest.raises(FileNotFoundError, match="artifact_store="):
        tuner.get_best_models(1)

    store = optuna.artifacts.FileSystemArtifactStore(str(tmp_path / "artifacts"))
    os.makedirs(tmp_path / "artifacts")
    tuner, _ = quiet(keras_tuner.RandomSearch, build, objective="val_accuracy", max_trials=1,
                     artifact_store=store, directory=str(tmp_path / "w"), project_name="b")
    quiet(tuner.search, x, y, **kw)
    best = tuner.oracle.get_best_trials(1)[0]
    reference = tuner.get_best_models(1)[0].get_weights()
    os.remove(best.result["checkpoint"])
    model = tuner.get_best_models(1)[0]
    for a, b in zip(model.get_weights(), reference):
        np.testing.assert_array_equal(a, b)


def test_import_rules():
    code = ("import sys; import mitbadak, mitbadak.lab; "
            "assert 'mitbadak.keras_tuner' not in sys.modules; "
            "assert 'optuna' not in sys.modules; "
            "sys.modules['optuna'] = None\n"
            "try:\n    from mitbadak import keras_tuner\nexcept ImportError as e:\n"
            "    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=str(ROOT), capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "pip install 'mitbadak[tune]'" in out.stdout


def test_journal_file_storage(tmp_path, xy):
    (x, y), kw = fit_args(xy)
    url = f"journal:///{tmp_path}/shared/search.log"
    tuner, _ = quiet(keras_tuner.RandomSearch, build, objective="val_accuracy", max_trials=2,
                     seed=0, directory=str(tmp_path / "w"), project_name="j", storage=url)
    quiet(tuner.search, x, y, **kw)
    assert (tmp_path / "shared" / "search.log").exists()
    study = optuna.load_study(study_name="j", storage=optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(tmp_path / "shared" / "search.log"))))
    assert [t.state.name for t in study.trials] == ["COMPLETE", "COMPLETE"]
    assert study.best_value == tuner.oracle.get_best_trials(1)[0].score
