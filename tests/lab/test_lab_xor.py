"""XOR: one perceptron can never get it all right; two layers trained by backprop can."""
import numpy as np
import pytest

from mitbadak import keras
from mitbadak.classic import Perceptron

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype="float32")
T = np.array([0, 1, 1, 0])          # XOR's truth table, written from its definition


@pytest.mark.parametrize("kwargs", [dict(), dict(shuffle=True, random_state=1),
                                    dict(init="random", random_state=2, learning_rate=0.5)],
                         ids=["textbook", "shuffled", "random_init"])
def test_a_single_perceptron_never_reaches_zero_error(kwargs):
    # No line w·x + b = 0 puts (0,1), (1,0) on one side and (0,0), (1,1) on the other: the
    # midpoint (½, ½) of both pairs would have to lie strictly on both sides. So every epoch
    # makes a mistake, and at best 3 of the 4 points are right.
    p = Perceptron(epochs=200, **kwargs).fit(X, T)
    assert len(p.errors_) == 200 and min(p.errors_) >= 1 and not p.converged_
    assert p.score(X, T) <= 0.75


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_two_layer_network_learns_xor(seed):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input(shape=(2,)),
                              keras.layers.Dense(6, activation="sigmoid"),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.1),
                  loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(X, T, epochs=300, batch_size=4, verbose=0)
    p = model.predict(X, verbose=0).ravel()
    assert ((p > 0.5).astype(int) == T).all()               # 100% accuracy
    assert history.history["accuracy"][-1] == 1.0
    assert np.all(np.abs(p - T) < 0.2)                       # and confidently so
    assert history.history["loss"][-1] < 0.1 * history.history["loss"][0]
