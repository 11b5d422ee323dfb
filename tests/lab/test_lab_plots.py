"""Every plot function renders a non-blank PNG; without matplotlib they say how to install it."""
import sys

import numpy as np
import pytest

from mitbadak import keras
from mitbadak.lab import (best_epoch, plot_confusion_matrix, plot_filters, plot_history,
                          plot_misclassified)
from mitbadak.layers import Layer

HISTORY = {"loss": [1.0, 0.6, 0.4, 0.3, 0.25], "accuracy": [0.5, 0.7, 0.8, 0.85, 0.9],
           "val_loss": [1.1, 0.7, 0.55, 0.6, 0.7], "val_accuracy": [0.5, 0.65, 0.75, 0.74, 0.72]}


@pytest.fixture
def plt():
    pytest.importorskip("matplotlib", reason="matplotlib is not installed (optional extra)")
    import matplotlib.pyplot as pyplot
    yield pyplot
    pyplot.close("all")


def assert_png(path):
    from matplotlib.image import imread
    assert path.is_file() and path.stat().st_size > 0
    image = imread(path)
    assert image.ndim == 3 and image.var() > 0          # not one flat colour


def test_best_epoch_is_the_lowest_val_loss():
    assert best_epoch(HISTORY) == 3                      # 0.55 at the third epoch
    assert best_epoch({"loss": [1.0]}) is None


def test_plot_history(plt, tmp_path):
    fig = plot_history(HISTORY, path=tmp_path / "h.png")
    assert len(fig.axes) == 2 and [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    # the overfitting point is marked on each panel
    assert all(any("epoch 3" in t.get_text() for t in ax.get_legend().get_texts())
               for ax in fig.axes)
    assert_png(tmp_path / "h.png")


def test_plot_history_from_fit(plt, tmp_path):
    x = np.random.default_rng(0).standard_normal((40, 3)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    model = keras.Sequential([keras.layers.Dense(2, activation="softmax", input_shape=(3,))])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=3, validation_split=0.25, verbose=0)
    plot_history(history, path=tmp_path / "fit.png")
    assert_png(tmp_path / "fit.png")
    assert len(plot_history(model).axes) == 2             # a trained model works too


@pytest.mark.parametrize("normalize", [False, True, "pred"])
def test_plot_confusion_matrix(plt, tmp_path, normalize):
    y_true = np.array([0, 0, 1, 1, 2, 2, 2])
    probs = np.eye(3)[[0, 1, 1, 1, 2, 0, 2]]
    fig = plot_confusion_matrix(y_true, probs, normalize=normalize, class_names=["a", "b", "c"],
                                path=tmp_path / "cm.png")
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert len(texts) == 9
    assert texts[0] == ("1" if normalize is False else "0.50")   # cell (true a, pred a)
    assert_png(tmp_path / "cm.png")


def test_plot_confusion_matrix_from_a_matrix(plt):
    fig = plot_confusion_matrix(np.array([[5, 1], [2, 7]]))
    assert [t.get_text() for t in fig.axes[0].texts] == ["5", "1", "2", "7"]
    with pytest.raises(ValueError, match="square"):
        plot_confusion_matrix(np.zeros((2, 3)))


def test_plot_misclassified(plt, tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((60, 28, 28))
    y_true = rng.integers(0, 10, 60)
    y_pred = y_true.copy()
    y_pred[::2] = (y_pred[::2] + 1) % 10                  # 30 mistakes
    fig = plot_misclassified(x, y_true, y_pred, n=16, path=tmp_path / "wrong.png")
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert len(titles) == 16 and all(t.startswith("true ") and " / pred " in t for t in titles)
    for t in titles:                                     # each shown sample is really wrong
        true, pred = t[5:].split(" / pred ")
        assert true != pred
    assert_png(tmp_path / "wrong.png")
    again = plot_misclassified(x, y_true, y_pred, n=16)
    assert titles == [ax.get_title() for ax in again.axes if ax.get_title()]   # same seed
    flat = plot_misclassified(x.reshape(60, -1), y_true, np.eye(10)[y_pred], n=4)
    assert len([ax for ax in flat.axes if ax.get_title()]) == 4
    none = plot_misclassified(x, y_true, y_true)
    assert "no misclassified" in none.axes[0].texts[0].get_text()


class FakeConv(Layer):
    """Only a Conv2D-shaped kernel (kh, kw, in, out), to test without the real layer."""

    def build(self, input_shape):
        self.add_weight("kernel", (5, 5, 1, 30), "glorot_uniform")
        self.add_weight("bias", (30,), "zeros")


def test_plot_filters_of_a_kernel(plt, tmp_path):
    layer = FakeConv()
    layer._maybe_build((None, 28, 28, 1))
    fig = plot_filters(layer, path=tmp_path / "filters.png")
    assert sum(1 for ax in fig.axes if ax.images) == 30
    assert_png(tmp_path / "filters.png")
    rgb = plot_filters(np.random.default_rng(0).standard_normal((3, 3, 3, 8)))
    assert sum(1 for ax in rgb.axes if ax.images) == 8
    with pytest.raises(ValueError, match="4-D kernel"):
        plot_filters(keras.layers.Dense(3))


def test_plot_filters_of_a_conv2d_model(plt, tmp_path):
    conv2d = getattr(keras.layers, "Conv2D", None)
    if conv2d is None:
        pytest.skip("keras.layers.Conv2D does not exist yet")
    model = keras.Sequential([keras.Input(shape=(12, 12, 1)), conv2d(6, 3), keras.layers.Flatten(),
                              keras.layers.Dense(2)])
    fig = plot_filters(model, path=tmp_path / "conv.png")
    assert sum(1 for ax in fig.axes if ax.images) == 6
    assert_png(tmp_path / "conv.png")


def test_without_matplotlib_the_plots_say_how_to_install(monkeypatch):
    # None in sys.modules makes `import matplotlib` raise ImportError, as if not installed.
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    calls = [lambda: plot_history(HISTORY), lambda: plot_confusion_matrix([0, 1], [0, 1]),
             lambda: plot_misclassified(np.zeros((2, 4, 4)), [0, 1], [1, 1]),
             lambda: plot_filters(np.zeros((3, 3, 1, 2)))]
    for call in calls:
        with pytest.raises(ImportError, match=r'pip install "mitbadak\[plot\]"'):
            call()
    # The data side needs no matplotlib.
    from mitbadak.lab import activation_distributions, confusion_matrix, optimizer_path
    assert confusion_matrix([0, 1], [1, 1]).tolist() == [[0, 1], [0, 1]]
    assert optimizer_path("sgd", steps=2).shape == (3, 2)
    assert len(activation_distributions(0.1, "relu", n_layers=2, n_inputs=10)) == 2
