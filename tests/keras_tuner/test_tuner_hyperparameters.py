"""HyperParameters: define-by-run declarations, defaults, ranges, conditions, errors."""
from __future__ import annotations

import pytest

pytest.importorskip("optuna", reason="the tune extra (Optuna) is not installed")

from mitbadak.keras_tuner import HyperParameters
from mitbadak.keras_tuner.errors import FatalError
from mitbadak.keras_tuner.hyperparameters import Float, Int
from mitbadak.keras_tuner.oracle import from_optuna, optuna_param, to_optuna


def test_defaults_outside_a_search():
    hp = HyperParameters()
    assert hp.Int("layers", 1, 3) == 1
    assert hp.Float("lr", 1e-4, 1e-2, sampling="log") == 1e-4
    assert hp.Choice("act", ["relu", "tanh"]) == "relu"
    assert hp.Boolean("dropout") is False
    assert hp.Fixed("epochs", 5) == 5
    assert hp.Int("u", 32, 512, step=32, default=64) == 64
    assert list(hp.values) == ["layers", "lr", "act", "dropout", "epochs", "u"]
    assert hp.get("act") == "relu" and hp["u"] == 64 and "lr" in hp and "nope" not in hp
    with pytest.raises(KeyError, match="nope"):
        hp.get("nope")


def test_conditional_scope_values_only_when_active():
    hp = HyperParameters()
    kind = hp.Choice("model_type", ["mlp", "cnn"])
    with hp.conditional_scope("model_type", ["mlp"]):
        units = hp.Int("units", 8, 64)
    with hp.conditional_scope("model_type", ["cnn"]):
        filters = hp.Int("filters", 8, 64)
    filters2 = hp.Int("kernel", 3, 5, parent_name="model_type", parent_values=["cnn"])
    assert (kind, units, filters, filters2) == ("mlp", 8, None, None)
    assert "filters" not in hp.values
    with pytest.raises(ValueError, match="inactive"):
        hp.get("filters")
    with pytest.raises(ValueError, match="not defined"):
        with hp.conditional_scope("missing", [1]):
            pass


def test_redefining_a_name_with_another_range_is_an_error():
    hp = HyperParameters()
    hp.Int("units", 32, 512, step=32)
    assert hp.Int("units", 32, 512, step=32) == 32          # the same declaration again: fine
    with pytest.raises(FatalError, match=r"'units' is already defined as Int\(.*max_value=512"):
        hp.Int("units", 16, 64)


def test_bad_arguments_name_the_hyperparameter():
    hp = HyperParameters()
    with pytest.raises(ValueError, match="'lr'.*min_value > 0"):
        hp.Float("lr", 0.0, 1.0, sampling="log")
    with pytest.raises(ValueError, match="'u'.*greater than max_value"):
        hp.Int("u", 5, 1)
    with pytest.raises(ValueError, match="'c'.*default 'x' is not one of"):
        hp.Choice("c", ["a", "b"], default="x")
    with pytest.raises(ValueError, match="'s'.*step multiplies, so it must be > 1"):
        hp.Int("s", 2, 32, step=1, sampling="log")


def test_grid_values_as_kerastuner_enumerates_them():
    assert Int("u", 32, 512, step=32).grid_values() == list(range(32, 513, 32))
    assert Int("b", 2, 32, step=2, sampling="log").grid_values() == [2, 4, 8, 16, 32]
    assert Float("d", 0.0, 0.5, step=0.1).grid_values() == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]
    # Unstepped: the middles of the ten deciles (0.05, 0.15, ... of the range).
    assert Float("x", 0.0, 1.0).grid_values() == pytest.approx([0.05 + 0.1 * i
                                                                for i in range(10)])
    assert Float("l", 1e-4, 1e-2, step=10, sampling="log").grid_values() == \
        pytest.approx([1e-4, 1e-3, 1e-2])


def test_optuna_distributions():
    name, dist = optuna_param(Int("u", 32, 500, step=32))
    assert (name, dist.low, dist.high, dist.step) == ("u", 32, 480, 32)   # range fits the step
    name, dist = optuna_param(Float("lr", 1e-4, 1e-2, sampling="log"))
    assert dist.log and (dist.low, dist.high) == (1e-4, 1e-2)
    # reverse_log: Optuna samples the mirror image log-uniformly.
    hp = Float("m", 0.9, 0.999, sampling="reverse_log")
    name, dist = optuna_param(hp)
    assert name == "m__reflected" and dist.log
    assert from_optuna(hp, to_optuna(hp, 0.99)) == pytest.approx(0.99)
    assert to_optuna(hp, 0.999) == pytest.approx(0.9)


def test_config_round_trip():
    hp = HyperParameters()
    hp.Int("a", 1, 4)
    with hp.conditional_scope("a", [2, 3]):
        hp.Choice("b", [0.1, 0.2])
    copy = HyperParameters.from_config(hp.get_config())
    assert [h.get_config() for h in copy.space] == [h.get_config() for h in hp.space]
    assert copy.values == hp.values
