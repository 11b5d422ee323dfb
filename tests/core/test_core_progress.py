"""Progress output: the tf.keras 2.x lines (shared/fixtures/keras/k2_*), clean when not on a
terminal, redrawn with \\b and \\r on one."""
from __future__ import annotations

import io
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from mitbadak import keras
from mitbadak.utils import progbar as progbar_mod
from mitbadak.utils.progbar import Progbar

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "keras"

NUM = r"\d\.\d{4}"
TIME = r"\d+(us|ms|s)"
BAR_LINE = re.compile(rf"^\d+/\d+ \[=+\] - \d+s {TIME}/step - loss: {NUM} - accuracy: {NUM}"
                      rf"(?P<val> - val_loss: {NUM} - val_accuracy: {NUM})?$")
VERBOSE2_LINE = re.compile(rf"^\d+/\d+ - \d+s - loss: {NUM} - accuracy: {NUM}"
                           rf"( - val_loss: {NUM} - val_accuracy: {NUM})? - {TIME}/epoch - {TIME}/step$")


class FakeTTY(io.StringIO):
    def isatty(self):
        return True


class NotTTY(io.StringIO):
    def isatty(self):
        return False


def _fit_model():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(100, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    model = keras.Sequential([keras.layers.Dense(8, activation="relu", input_shape=(4,)),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, x, y


def _no_control_chars(text):
    for ch in ("\r", "\b", "\x1b"):
        assert ch not in text, f"{ch!r} in output"


@pytest.fixture(autouse=True)
def no_notebook(monkeypatch):
    """Outside a notebook whatever imported ipykernel in this process."""
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)


# ------------------------------------------------------------------ the fixture's own shapes
def test_regexes_match_the_real_k2_output():
    transcript = FIXTURES / "k2_transcript.txt"
    raw = FIXTURES / "k2_progress_raw.txt"
    if not (transcript.exists() and raw.exists()):
        pytest.skip("K2 fixtures missing")
    fit_lines = [l for l in transcript.read_text().splitlines() if l.startswith("3/3")]
    assert len(fit_lines) == 2 and all(VERBOSE2_LINE.match(l) for l in fit_lines)
    raw_text = raw.read_bytes().decode("utf-8")          # keep the \r and \b as written
    final_lines = [seg.split("\r")[-1] for seg in raw_text.split("\n") if "24/24" in seg]
    assert len(final_lines) == 2 and all(BAR_LINE.match(l) for l in final_lines)


# ------------------------------------------------------------------ fit, verbose 1 / 2 / 0
def test_fit_verbose1_not_a_tty(capsys):
    model, x, y = _fit_model()
    model.fit(x, y, epochs=3, verbose=1)
    out = capsys.readouterr().out
    _no_control_chars(out)
    lines = out.splitlines()
    assert lines[0::2] == ["Epoch 1/3", "Epoch 2/3", "Epoch 3/3"]
    bars = lines[1::2]
    assert len(lines) == 6
    for line in bars:
        assert BAR_LINE.match(line), line
        assert line.startswith("4/4 [==============================] - ")
        assert " - val_" not in line


def test_fit_verbose1_with_validation(capsys):
    model, x, y = _fit_model()
    h = model.fit(x, y, epochs=2, validation_split=0.2, verbose=1)
    out = capsys.readouterr().out
    _no_control_chars(out)
    bars = [l for l in out.splitlines() if not l.startswith("Epoch")]
    assert len(bars) == 2
    for e, line in enumerate(bars):
        m = BAR_LINE.match(line)
        assert m and m.group("val"), line
        assert f"val_loss: {h.history['val_loss'][e]:.4f}" in line
        assert f" - loss: {h.history['loss'][e]:.4f} - accuracy: {h.history['accuracy'][e]:.4f}" in line


def test_single_epoch_has_no_epoch_header(capsys):
    model, x, y = _fit_model()
    model.fit(x, y, epochs=1, verbose=1)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and BAR_LINE.match(lines[0])


def test_fit_verbose_auto_is_1(capsys):
    model, x, y = _fit_model()
    h = model.fit(x, y, epochs=1)
    assert h.params["verbose"] == 1
    assert BAR_LINE.match(capsys.readouterr().out.strip())


def test_fit_verbose2(capsys):
    model, x, y = _fit_model()
    model.fit(x, y, epochs=2, validation_split=0.2, verbose=2)
    out = capsys.readouterr().out
    _no_control_chars(out)
    lines = out.splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2" and len(lines) == 4
    for line in (lines[1], lines[3]):
        assert VERBOSE2_LINE.match(line), line
        assert line.startswith("3/3 - ") and " - val_accuracy: " in line


def test_verbose0_prints_nothing(capsys):
    model, x, y = _fit_model()
    model.fit(x, y, epochs=2, validation_split=0.2, verbose=0)
    model.evaluate(x, y, verbose=0)
    model.predict(x, verbose=0)
    assert capsys.readouterr().out == ""


def test_evaluate_and_predict_lines(capsys):
    model, x, y = _fit_model()
    model.evaluate(x, y, batch_size=50, verbose=1)
    model.evaluate(x, y, batch_size=50, verbose=2)
    model.predict(x, batch_size=100, verbose=1)
    lines = capsys.readouterr().out.splitlines()
    _no_control_chars("\n".join(lines))
    assert len(lines) == 3
    assert BAR_LINE.match(lines[0]) and lines[0].startswith("2/2 [")
    assert VERBOSE2_LINE.match(lines[1]) and lines[1].startswith("2/2 - ")
    assert re.match(rf"^1/1 \[=+\] - \d+s {TIME}/step$", lines[2]), lines[2]


# ------------------------------------------------------------------ a terminal
def test_progbar_redraws_on_a_tty_like_the_raw_fixture():
    tty = FakeTTY()
    bar = Progbar(24, stream=tty, interval=0.0)
    bar.update(1, [("loss", 1.2697), ("accuracy", 0.625)])
    first = tty.getvalue()
    assert re.match(rf"^\r 1/24 \[>\.{{29}}\] - ETA: \d+s - loss: 1\.2697 - accuracy: 0\.6250$",
                    first), repr(first)
    width = len(first) - 1
    bar.update(24, [("loss", 1.0), ("accuracy", 0.625)], finalize=True)
    second = tty.getvalue()[len(first):]
    assert second.startswith("\b" * width + "\r24/24 [" + "=" * 30 + "] - ")
    assert second.endswith("\n") and "\b" * (width + 1) not in second
    final = second[width + 1:-1]
    # values are averaged over the steps they cover: (1.2697·1 + 1.0·23) / 24
    assert re.match(rf"^24/24 \[=+\] - \d+s {TIME}/step - loss: 1\.0112 - accuracy: 0\.6250$",
                    final), final


def test_progbar_pads_when_the_line_gets_shorter():
    tty = FakeTTY()
    bar = Progbar(10, stream=tty, interval=0.0)
    bar.update(1, [("a_very_long_metric_name", 0.5)])
    w1 = len(tty.getvalue()) - 1
    bar.update(2)
    second = tty.getvalue()[w1 + 1:]
    assert second.startswith("\b" * w1 + "\r")
    assert len(second) - w1 - 1 >= w1           # blanks cover the longer previous line


def test_fit_on_a_tty_redraws(monkeypatch):
    model, x, y = _fit_model()
    tty = FakeTTY()
    monkeypatch.setattr(sys, "stdout", tty)
    model.fit(x, y, epochs=2, verbose=1)
    monkeypatch.undo()
    out = tty.getvalue()
    assert "\r" in out and "\b" in out and "\x1b" not in out
    assert out.startswith("Epoch 1/2\n\r1/4 [")
    finals = [seg.split("\r")[-1] for seg in out.split("\n") if seg.startswith("\r") or "\b" in seg]
    assert len(finals) == 2 and all(BAR_LINE.match(f) for f in finals), finals


def test_dynamic_display_detection():
    assert progbar_mod.dynamic_display(FakeTTY())
    assert not progbar_mod.dynamic_display(NotTTY())


def test_not_a_tty_writes_only_the_final_line():
    s = NotTTY()
    bar = Progbar(5, stream=s, interval=0.0)
    for i in range(1, 5):
        bar.update(i, [("loss", 0.5)])
    assert s.getvalue() == ""
    bar.update(5, [("loss", 0.5)])
    assert re.match(rf"^5/5 \[=+\] - \d+s {TIME}/step - loss: 0\.5000\n$", s.getvalue())


# ------------------------------------------------------------------ pieces
@pytest.mark.parametrize("value,text", [(0.123456, "0.1235"), (2.5, "2.5000"), (0.0011, "0.0011"),
                                        (0.001, "1.0000e-03"), (0.0005, "5.0000e-04"),
                                        (0.0, "0.0000e+00"), (-0.00002, "-2.0000e-05"),
                                        (12.3, "12.3000")])
def test_number_format(value, text):
    assert progbar_mod.format_value(value) == text
    s = NotTTY()
    Progbar(1, stream=s).update(1, [("loss", value)])
    assert s.getvalue().rstrip("\n").endswith(f" - loss: {text}")


@pytest.mark.parametrize("seconds,text", [(2.4, " 2s/step"), (1.0, " 1s/step"), (0.0123, " 12ms/step"),
                                          (0.001, " 1ms/step"), (0.0000123, " 12us/step"),
                                          (0.0, " 0s/step")])
def test_time_format(seconds, text):
    assert progbar_mod.format_time(seconds, "step") == text


def test_bar_and_counter_while_running():
    bar = Progbar(25, stream=NotTTY())
    assert bar._bar(14) == "14/25 [===============>..............]"
    assert bar._bar(1) == " 1/25 [>.............................]"
    assert bar._bar(25) == "25/25 [==============================]"
    assert Progbar(None, stream=NotTTY())._bar(7) == "      7/Unknown"


def test_progbar_verbose2_line():
    s = NotTTY()
    bar = Progbar(3, stream=s, verbose=2)
    bar.update(1, [("loss", 1.0)])
    bar.update(3, [("loss", 2.0)])
    assert re.match(rf"^3/3 - \d+s - loss: 1\.6667 - {TIME}/epoch - {TIME}/step\n$", s.getvalue())


def test_progbar_stateful_metrics_are_shown_as_given():
    s = NotTTY()
    bar = Progbar(2, stream=s, stateful_metrics=["acc"])
    bar.update(1, [("acc", 0.2), ("loss", 1.0)])
    bar.update(2, [("acc", 0.8), ("loss", 3.0)])
    assert s.getvalue().rstrip().endswith("- acc: 0.8000 - loss: 2.0000")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_nan_loss_is_printed_and_stops_training(capsys):
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).uniform(0, 255, size=(64, 10)).astype(np.float32) * 1e3
    y = np.random.default_rng(1).normal(size=(64, 1)).astype(np.float32)
    model = keras.Sequential([keras.layers.Dense(32, activation="relu", input_shape=(10,)),
                              keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=10.0), loss="mse")
    h = model.fit(x, y, epochs=5, batch_size=8, verbose=0)
    out = capsys.readouterr().out
    m = re.search(r"Epoch (\d+), batch (\d+): the loss became (nan|inf)", out)
    assert m, out
    assert len(h.history["loss"]) == int(m.group(1))      # no epoch after the one that failed
    assert "learning rate" in out
