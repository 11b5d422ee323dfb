"""The three plots of a search render PNGs with content (read back from the files)."""
from __future__ import annotations

import io
from contextlib import redirect_stdout

import numpy as np
import pytest

pytest.importorskip("optuna", reason="the tune extra (Optuna) is not installed")
pytest.importorskip("matplotlib", reason="plots need matplotlib")
pytest.importorskip("h5py", reason="weights are saved as .weights.h5 (h5py)")

from mitbadak import keras, keras_tuner, lab


def build(hp):
    model = keras.Sequential([
        keras.layers.Dense(hp.Int("units", 4, 16, step=4),
                           activation=hp.Choice("activation", ["relu", "tanh"]),
                           input_shape=(6,)),
        keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(hp.Float("lr", 0.01, 0.5, sampling="log")),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _png_has_content(path):
    import matplotlib.image as mpimg
    img = mpimg.imread(str(path))
    assert img.ndim == 3 and img.shape[0] > 100 and img.shape[1] > 100
    rgb = img[..., :3].reshape(-1, 3)
    ink = (rgb < 0.9).any(axis=1).mean()           # share of pixels that are not white
    colours = len(np.unique((rgb * 255).astype(np.uint8), axis=0))
    return ink, colours


def test_three_plots_render_non_blank_pngs(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 6)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    buf = io.StringIO()
    with redirect_stdout(buf):
        tuner = keras_tuner.RandomSearch(build, objective="val_accuracy", max_trials=4, seed=0,
                                         directory=str(tmp_path), project_name="plots")
        tuner.search(x[:60], y[:60], epochs=3, validation_data=(x[60:], y[60:]), verbose=0)
    paths = [tmp_path / n for n in ("objective.png", "parallel.png", "curves.png")]
    lab.plot_tuner_objective(tuner, path=paths[0])
    lab.plot_tuner_parallel_coordinates(tuner, path=paths[1])
    lab.plot_tuner_learning_curves(tuner, metric="val_loss", path=paths[2])
    for path in paths:
        ink, colours = _png_has_content(path)
        assert 0.01 < ink < 0.9 and colours > 20, (path.name, ink, colours)
    with pytest.raises(ValueError, match="no trial logged 'nope'"):
        lab.plot_tuner_learning_curves(tuner, metric="nope")
    with pytest.raises(TypeError, match="keras_tuner tuner"):
        lab.plot_tuner_objective(object())
