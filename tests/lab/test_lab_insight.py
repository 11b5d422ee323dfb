"""LayerStats: per-layer statistics recorded during fit; vanishing gradients made visible."""
import numpy as np
import pytest

from mitbadak import keras
from mitbadak.lab import LayerStats


def data(seed=0, n=256, d=20):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype("float32")
    return x, (x[:, 0] + x[:, 1] > 0).astype("int64")


def deep(activation, initializer, depth=8, units=32, d=20):
    return keras.Sequential(
        [keras.Input(shape=(d,))]
        + [keras.layers.Dense(units, activation=activation, kernel_initializer=initializer)
           for _ in range(depth)]
        + [keras.layers.Dense(2, activation="softmax")])


@pytest.mark.parametrize("seed", [0, 1])
def test_vanishing_gradients_sigmoid_vs_relu_he(seed):
    x, y = data(seed)
    ratios = {}
    for activation, init in (("sigmoid", "glorot_uniform"), ("relu", "he_normal")):
        keras.utils.set_random_seed(seed)
        model = deep(activation, init)
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
        stats = LayerStats()
        model.fit(x, y, epochs=2, batch_size=64, verbose=0, callbacks=[stats])
        norms = list(stats.grad_norms("kernel").values())       # first layer first
        assert len(norms) == 9
        ratios[activation] = norms[0] / norms[-1]
    # Backprop through a sigmoid multiplies by σ' ≤ 1/4 per layer: after 8 layers the first
    # layer's gradient is orders of magnitude smaller. ReLU (σ' = 1 where active) with He
    # weights keeps it within an order of magnitude.
    assert ratios["sigmoid"] < 1e-2
    assert ratios["relu"] > 1e-1


def test_records_one_value_per_epoch_from_the_last_batch():
    x, y = data()
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(shape=(20,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    stats = LayerStats()
    model.fit(x, y, epochs=3, batch_size=100, verbose=0, callbacks=[stats],
              validation_data=(x[:10], y[:10]))
    assert stats.epochs == [0, 1, 2]
    first, last = model.layers
    table = stats.history[first.name]
    assert all(len(v) == 3 for v in table.values())
    assert {"kernel_mean", "kernel_std", "kernel_grad_norm", "bias_grad_norm", "activation_mean",
            "activation_std", "dead_fraction"} <= set(table)
    assert "dead_fraction" not in stats.history[last.name]          # softmax, not ReLU
    # Recorded after the last update of the last epoch: the final weights and gradients.
    kernel = first.get_weights()[0]
    assert table["kernel_std"][-1] == pytest.approx(float(kernel.std()), rel=1e-6)
    assert table["kernel_mean"][-1] == pytest.approx(float(kernel.mean()), rel=1e-6, abs=1e-9)
    assert table["kernel_grad_norm"][-1] == pytest.approx(
        float(np.linalg.norm(first.grads["kernel"])), rel=1e-6)


def test_activations_are_the_last_training_batch_not_validation():
    # Learning rate 0 and no shuffling: the last batch is x[200:] (256 − 2·100 = 56 rows) and
    # the weights never move, so its activations can be written down here.
    x, y = data()
    model = keras.Sequential([keras.Input(shape=(20,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0),
                  loss="sparse_categorical_crossentropy")
    stats = LayerStats()
    model.fit(x, y, epochs=1, batch_size=100, shuffle=False, verbose=0, callbacks=[stats],
              validation_data=(x[:10], y[:10]))
    kernel, bias = model.layers[0].get_weights()
    a = np.maximum(x[200:] @ kernel + bias, 0)
    name = model.layers[0].name
    assert stats.last(name, "activation_std") == pytest.approx(float(a.std()), rel=1e-5)
    assert stats.last(name, "activation_mean") == pytest.approx(float(a.mean()), rel=1e-5)
    assert stats.last(name, "dead_fraction") == float(np.mean(np.all(a == 0, axis=0)))


def test_dead_relus_are_counted():
    x, y = data()
    model = keras.Sequential([keras.Input(shape=(20,)),
                              keras.layers.Dense(6, activation="relu", bias_initializer=
                                                 keras.initializers.Constant(-100.0)),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    stats = LayerStats()
    model.fit(x, y, epochs=1, batch_size=64, verbose=0, callbacks=[stats])
    name = model.layers[0].name
    assert stats.last(name, "dead_fraction") == 1.0             # a bias of −100 kills all 6
    assert stats.last(name, "kernel_grad_norm") == 0.0           # and dead units learn nothing


def test_table_and_errors(capsys):
    stats = LayerStats()
    assert "nothing recorded" in str(stats)
    x, y = data()
    model = keras.Sequential([keras.Input(shape=(20,)), keras.layers.Dense(3, activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, verbose=0, callbacks=[LayerStats(verbose=1)])
    out = capsys.readouterr().out
    assert "epoch 1" in out and "dense" in out
    with pytest.raises(KeyError, match="not recorded"):
        stats.last("dense", "kernel_std")
