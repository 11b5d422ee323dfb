"""The initial-weight experiment: the notes' pictures as numbers, for sigmoid and ReLU."""
import math

import numpy as np
import pytest

from mitbadak import initializers
from mitbadak.lab import ActivationDistributions, activation_distributions, plot_activation_histograms

SEEDS = [0, 1, 2]
N = 100                                    # units = input features, as in the notes
XAVIER = {"keras GlorotNormal": "glorot_normal",
          "notes N(0, 1/n)": initializers.RandomNormal(stddev=math.sqrt(1 / N))}
HE = {"keras HeNormal": "he_normal",
      "notes N(0, 2/n)": initializers.RandomNormal(stddev=math.sqrt(2 / N))}


@pytest.mark.parametrize("seed", SEEDS)
def test_sigmoid_std_1_saturates(seed):
    d = activation_distributions(1.0, "sigmoid", seed=seed)
    assert d.std[-1] > 0.4
    assert d.near_0[-1] + d.near_1[-1] > 0.3       # piled up at 0 and 1
    assert d.near_0[-1] > 0.1 and d.near_1[-1] > 0.1


@pytest.mark.parametrize("seed", SEEDS)
def test_sigmoid_std_001_collapses_to_one_half(seed):
    d = activation_distributions(0.01, "sigmoid", seed=seed)
    assert d.std[-1] < 0.02
    assert abs(d.mean[-1] - 0.5) < 0.02
    # Layer 1 by hand: z = x·W has std 0.01·√100 = 0.1, and sigmoid(z) ≈ 1/2 + z/4 near 0,
    # so its std is about 0.1/4 = 0.025.
    assert d.std[0] == pytest.approx(0.025, rel=0.1)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("init", list(XAVIER.values()), ids=list(XAVIER))
def test_sigmoid_xavier_keeps_a_spread(init, seed):
    d = activation_distributions(init, "sigmoid", seed=seed)
    assert 0.08 < d.std[-1] < 0.25
    assert d.near_0[-1] + d.near_1[-1] < 0.01      # no saturation


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("init", list(HE.values()), ids=list(HE))
def test_relu_he_keeps_the_std_within_a_factor_of_two(init, seed):
    d = activation_distributions(init, "relu", seed=seed)
    assert d.std.max() / d.std.min() < 2
    # Layer 1 by hand: z ~ N(0, 2), relu(z) has E[a²] = 1 and E[a] = √2/√(2π), so
    # std = √(1 − 1/π) ≈ 0.826.
    assert d.std[0] == pytest.approx(math.sqrt(1 - 1 / math.pi), rel=0.05)
    assert 0.4 < d.zeros[0] < 0.6                   # half the units are off for any input


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("init", list(XAVIER.values()), ids=list(XAVIER))
def test_relu_xavier_shrinks_by_more_than_two(init, seed):
    # Each layer halves the variance (ReLU zeroes half of it, Xavier does not make up for it):
    # std shrinks by √2 per layer, (√2)⁴ = 4 from layer 1 to 5.
    d = activation_distributions(init, "relu", seed=seed)
    assert d.std[0] / d.std[-1] > 2
    assert np.all(np.diff(d.std) < 0)


@pytest.mark.parametrize("seed", SEEDS)
def test_relu_std_001_vanishes(seed):
    d = activation_distributions(0.01, "relu", seed=seed)
    assert d.std[-1] < 1e-3


def test_shapes_seed_and_table():
    d = activation_distributions("he_normal", "relu", n_layers=3, units=20, n_inputs=50, seed=4)
    assert isinstance(d, ActivationDistributions) and len(d) == 3
    assert all(a.shape == (50, 20) and a.dtype == np.float64 for a in d.activations)
    again = activation_distributions("he_normal", "relu", n_layers=3, units=20, n_inputs=50, seed=4)
    other = activation_distributions("he_normal", "relu", n_layers=3, units=20, n_inputs=50, seed=5)
    np.testing.assert_array_equal(d.activations[-1], again.activations[-1])
    assert not np.array_equal(d.activations[-1], other.activations[-1])
    counts, edges = d.histogram(0, bins=10)
    assert counts.sum() == 50 * 20 and len(edges) == 11
    text = str(d)
    assert "he_normal" in text and len(text.splitlines()) == 2 + 3


def test_layers_use_different_weights():
    # A seeded initializer gives the same numbers on every call; each layer must get its own.
    d = activation_distributions(initializers.GlorotNormal(seed=3), "linear", n_layers=2,
                                 units=4, n_inputs=4)
    assert not np.allclose(d.activations[0], d.activations[1])


def test_errors():
    with pytest.raises(ValueError, match="std"):
        activation_distributions(-1.0, "relu")
    with pytest.raises(ValueError, match="n_layers"):
        activation_distributions("he_normal", "relu", n_layers=0)
    with pytest.raises(ValueError, match="Unknown initializer"):
        activation_distributions("he_normall", "relu")


def test_plot_activation_histograms(tmp_path):
    pytest.importorskip("matplotlib", reason="matplotlib is not installed (optional extra)")
    import matplotlib.pyplot as plt
    from matplotlib.image import imread
    fig = plot_activation_histograms({"std 1": 1.0, "std 0.01": 0.01, "Xavier": "glorot_normal"},
                                     "sigmoid", n_inputs=200, path=tmp_path / "sigmoid.png")
    assert len(fig.axes) == 15
    assert imread(tmp_path / "sigmoid.png").var() > 0
    plt.close(fig)
    fig = plot_activation_histograms("he_normal", "relu", n_inputs=200,
                                     path=tmp_path / "relu.png")
    assert imread(tmp_path / "relu.png").var() > 0
    plt.close(fig)
