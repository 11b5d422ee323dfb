"""Subclassed models (issue 11, acceptance 1 and 3): DLwP's CustomerTicketModel against what
Keras 3.15.1 wrote (k3_subclass.*), float64 gradient checks of subclassed models (a shared
layer called twice, a nested functional model, lists of layers, merge layers made inside
call), save_weights in Keras 3's layout, the refused whole-model save of an unregistered
subclass (no file left, an existing file intact), and .keras for a registered subclass."""
from __future__ import annotations

import numpy as np
import pytest

h5py = pytest.importorskip("h5py", reason="weights files need h5py (pip install h5py)")

from mitbadak import backend, keras  # noqa: E402
from mitbadak.keras import layers  # noqa: E402
from mitbadak.lab import gradient_check  # noqa: E402

from models_helpers import (TOL, customer_ticket_model_class, fixture, load_json,  # noqa: E402
                            mse, npz, numerical_weight_gradients, trainer_gradients)

TICKET_INPUTS = ("title", "text_body", "tags")


@pytest.fixture
def float64():
    backend.set_floatx("float64")       # conftest puts float32 back


@pytest.fixture(scope="module")
def ref():
    return npz("k3_subclass.npz")


@pytest.fixture(scope="module")
def facts():
    return load_json("k3_subclass.json")


def ticket_x(ref):
    return {n: ref[f"x_{n}"] for n in TICKET_INPUTS}


def book_model(ref):
    model = customer_ticket_model_class()(num_departments=4)
    model(ticket_x(ref))                              # built by its first call, as in Keras
    return model


def h5_tree(path):
    """{dataset path: array} and the set of group paths of an HDF5 file."""
    datasets, groups = {}, set()
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                datasets[name] = obj[()]
            else:
                groups.add(name)
        f.visititems(visit)
    return datasets, groups


# ================================================================ the book's model vs Keras
def test_book_model_is_built_by_its_first_call(ref, facts):
    model = customer_ticket_model_class()(num_departments=4)
    out = model(ticket_x(ref))
    assert type(out).__name__ == facts["type(model(x))"] == "tuple"
    assert model.name == facts["model.name"] == "customer_ticket_model"
    assert [[l.name, type(l).__name__] for l in model.layers] == facts["layers"]
    assert [list(w.shape) for w in model.weights] == [s for _, s in facts["weights"]]
    assert out[0].shape == (4, 1) and out[1].shape == (4, 4)


def test_book_model_loads_keras_weights_file_and_predicts_keras_numbers(ref, facts):
    model = book_model(ref)
    model.load_weights(fixture("k3_subclass.weights.h5"))
    for i, w in enumerate(model.get_weights()):
        np.testing.assert_array_equal(w, ref[f"w{i}"])
    pred = model.predict(ticket_x(ref), verbose=0)
    assert type(pred).__name__ == facts["predict type"] == "tuple"
    np.testing.assert_allclose(pred[0], ref["pred_priority"], **TOL)
    np.testing.assert_allclose(pred[1], ref["pred_department"], **TOL)
    k2 = npz("k2_subclass.npz")                   # tf_keras's numbers are the same
    np.testing.assert_allclose(pred[1], k2["pred_department"], **TOL)


def test_save_weights_writes_keras3_layout(ref, tmp_path):
    """The .weights.h5 mitbadak writes has exactly the groups, dataset names, shapes and values
    of the one Keras 3 wrote for the same class and weights (k3_subclass.weights.h5)."""
    model = book_model(ref)
    model.set_weights([ref[f"w{i}"] for i in range(6)])
    path = tmp_path / "ours.weights.h5"
    model.save_weights(path)
    ours, our_groups = h5_tree(path)
    theirs, their_groups = h5_tree(fixture("k3_subclass.weights.h5"))
    assert our_groups == their_groups
    assert sorted(ours) == sorted(theirs)
    for name in theirs:
        assert ours[name].shape == theirs[name].shape, name
        np.testing.assert_array_equal(ours[name], theirs[name], err_msg=name)
    fresh = book_model(ref)
    fresh.load_weights(path)
    for a, b in zip(fresh.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_fit_history_keys_of_the_book_model(ref, facts):
    """Keras 3's names for unnamed outputs (<loss>_loss, bare metric names: k3_subclass.json),
    in tf.keras 2.x's order (loss, each output's loss, each output's metrics)."""
    model = book_model(ref)
    model.compile(optimizer="rmsprop", loss=["mean_squared_error", "categorical_crossentropy"],
                  metrics=[["mean_absolute_error"], ["accuracy"]])
    train = npz("k3_ticket_train.npz")
    history = model.fit({n: train[f"train_x_{n}"] for n in TICKET_INPUTS},
                        [train["train_y_priority"], train["train_y_department"]],
                        epochs=1, batch_size=64, verbose=0, shuffle=False)
    keys = list(history.history)
    assert sorted(keys) == facts["fit (y as a list) history keys"]
    assert keys == ["loss", "mean_squared_error_loss", "categorical_crossentropy_loss",
                    "mean_absolute_error", "accuracy"]


# ================================================================ gradients
class SharedTwice(keras.Model):
    """One Dense called on both inputs; the merges are attribute layers, or (function_forms)
    partly made inside call by layers.concatenate/layers.multiply, as Keras code may do."""

    def __init__(self, function_forms=True):
        super().__init__()
        self.function_forms = function_forms
        self.encoder = layers.Dense(4, activation="tanh")
        self.head = layers.Dense(2)
        self.subtract = layers.Subtract()
        self.multiply = layers.Multiply()
        self.concatenate = layers.Concatenate()

    def call(self, inputs):
        a, b = inputs
        ea, eb = self.encoder(a), self.encoder(b)
        if self.function_forms:
            return self.head(layers.concatenate([self.subtract([ea, eb]),
                                                 layers.multiply([ea, eb])]))
        return self.head(self.concatenate([self.subtract([ea, eb]), self.multiply([ea, eb])]))


class HoldsFunctional(keras.Model):
    """A functional model, a list of layers and a residual connection inside call()."""

    def __init__(self, base, width=3):
        super().__init__()
        self.base = base
        self.blocks = [layers.Dense(width, activation="tanh"), layers.Dense(width)]
        self.out = layers.Dense(2, activation="softmax")

    def call(self, x, training=None):
        h = self.base(x)
        r = h
        for block in self.blocks:
            h = block(h)
        return self.out(layers.add([h, r]))


def functional_base():
    i = keras.Input((5,))
    return keras.Model(i, layers.Dense(3, activation="relu")(layers.Dense(4)(i)), name="base")


class WithDropout(keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden = layers.Dense(8, activation="relu")
        self.drop = layers.Dropout(0.5)
        self.out = layers.Dense(1)

    def call(self, x, training=None):
        return self.out(self.drop(self.hidden(x), training=training))


def test_gradient_check_of_the_book_model(ref):
    model = book_model(ref)
    x = {n: v.astype(np.float64) for n, v in ticket_x(ref).items()}
    result = gradient_check(model, x, max_entries=80, verbose=0)
    assert result.ok, str(result)
    assert len(result) == 6 + 3


@pytest.mark.parametrize("function_forms", [False, True], ids=["attribute_merges",
                                                               "merges_made_in_call"])
def test_gradient_check_with_a_shared_layer_called_twice(function_forms):
    model = SharedTwice(function_forms)
    rng = np.random.default_rng(0)
    x = [rng.standard_normal((3, 5)), rng.standard_normal((3, 5))]
    model(x)
    result = gradient_check(model, x, verbose=0)
    assert result.ok, str(result)
    assert len(result) == 4 + 2


def test_gradient_check_of_a_subclass_holding_a_functional_model():
    model = HoldsFunctional(functional_base())
    x = np.random.default_rng(1).standard_normal((3, 5))
    model(x)
    assert [l.name for l in model.layers][0] == "base"
    assert len(model.trainable_weights) == 4 + 4 + 2
    result = gradient_check(model, x, verbose=0)
    assert result.ok, str(result)


def test_gradient_check_with_a_loss():
    model = HoldsFunctional(functional_base())
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 5))
    model(x)
    result = gradient_check(model, x, np.eye(2)[[0, 1, 1, 0]],
                            loss="categorical_crossentropy", verbose=0)
    assert result.ok, str(result)


def test_trainer_gradient_of_a_shared_layer_called_twice(float64):
    model = SharedTwice()
    rng = np.random.default_rng(3)
    x = [rng.standard_normal((5, 5)), rng.standard_normal((5, 5))]
    y = rng.standard_normal((5, 2))
    model(x)
    applied = trainer_gradients(model, x, y, "mse")
    numerical = numerical_weight_gradients(model, lambda: mse(y, model(x)))
    assert len(applied) == 4
    for v, g, n in zip(model.trainable_weights, applied, numerical):
        np.testing.assert_allclose(g, n, rtol=1e-5, atol=1e-8, err_msg=v.path)


def test_trainer_gradient_of_a_subclass_holding_a_functional_model(float64):
    model = HoldsFunctional(functional_base())
    rng = np.random.default_rng(4)
    x = rng.standard_normal((5, 5))
    t = np.eye(2)[rng.integers(0, 2, 5)]
    model(x)
    applied = trainer_gradients(model, x, t, "categorical_crossentropy")
    numerical = numerical_weight_gradients(
        model, lambda: float(np.mean(-np.sum(t * np.log(model(x)), axis=-1))))
    for v, g, n in zip(model.trainable_weights, applied, numerical):
        np.testing.assert_allclose(g, n, rtol=1e-5, atol=1e-8, err_msg=v.path)
    # the nested functional model's own weights moved in training
    assert any(np.abs(g).max() > 1e-4 for g in applied[:4])


class HoldsTwoInputModel(keras.Model):
    """A functional model of two inputs, called inside call() on a list."""

    def __init__(self):
        super().__init__()
        a, b = keras.Input((3,), name="a"), keras.Input((3,), name="b")
        self.pair = keras.Model([a, b], layers.Dense(4, activation="tanh")(
            layers.concatenate([a, b])), name="pair")
        self.out = layers.Dense(2)

    def call(self, inputs):
        return self.out(self.pair(inputs))


def test_subclass_calling_a_multi_input_functional_model():
    model = HoldsTwoInputModel()
    rng = np.random.default_rng(7)
    x = [rng.standard_normal((3, 3)), rng.standard_normal((3, 3))]
    y = np.asarray(model([v.astype("float32") for v in x]))
    w, b = model.pair.layers[-1].get_weights()
    w2, b2 = model.out.get_weights()
    np.testing.assert_allclose(y, np.tanh(np.concatenate(x, axis=1) @ w + b) @ w2 + b2,
                               rtol=1e-5, atol=1e-6)
    result = gradient_check(model, x, verbose=0)
    assert result.ok, str(result)


class Residual(keras.Model):
    """A residual block written as a subclass, then used twice inside a functional model."""

    def __init__(self):
        super().__init__()
        self.d1 = layers.Dense(4, activation="tanh")
        self.d2 = layers.Dense(4)
        self.add = layers.Add()

    def call(self, x):
        return self.add([x, self.d2(self.d1(x))])


def test_subclassed_block_shared_inside_a_functional_model():
    x = keras.Input((4,))
    block = Residual()
    model = keras.Model(x, layers.Dense(2)(block(block(x))))
    assert [type(l).__name__ for l in model.layers] == ["InputLayer", "Residual", "Dense"]
    assert len(model.trainable_weights) == 6
    data = np.random.default_rng(8).standard_normal((3, 4))
    result = gradient_check(model, data, verbose=0)
    assert result.ok, str(result)
    once = np.asarray(block(data.astype("float32")))
    twice = np.asarray(block(once))
    w, b = model.layers[-1].get_weights()
    np.testing.assert_allclose(model.predict(data, verbose=0), twice @ w + b, rtol=1e-5,
                               atol=1e-6)


def test_training_argument_reaches_dropout():
    model = WithDropout()
    x = np.random.default_rng(5).random((16, 6)).astype("float32")
    model(x)
    np.testing.assert_array_equal(model.predict(x, verbose=0), model.predict(x, verbose=0))
    np.testing.assert_allclose(np.asarray(model(x)), model.predict(x, verbose=0), rtol=1e-6)
    assert not np.allclose(np.asarray(model(x, training=True)), model.predict(x, verbose=0))


def test_subclassed_model_trains_as_its_functional_twin():
    """The same network written as a subclass and as a functional model, same weights: fit
    gives the same losses and the same weights (one forward/backward walk for both kinds)."""
    sub = SharedTwice()
    rng = np.random.default_rng(6)
    x = [rng.standard_normal((48, 5)).astype("float32") for _ in range(2)]
    y = rng.standard_normal((48, 2)).astype("float32")
    sub(x)
    a, b = keras.Input((5,)), keras.Input((5,))
    encoder, head = layers.Dense(4, activation="tanh"), layers.Dense(2)
    ea, eb = encoder(a), encoder(b)
    twin = keras.Model([a, b], head(layers.concatenate([layers.subtract([ea, eb]),
                                                        layers.multiply([ea, eb])])))
    encoder.set_weights(sub.encoder.get_weights())
    head.set_weights(sub.head.get_weights())
    histories = []
    for model in (sub, twin):
        model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9), loss="mse",
                      metrics=["mae"])
        histories.append(model.fit(x, y, epochs=3, batch_size=16, shuffle=False,
                                   verbose=0).history)
    assert list(histories[0]) == list(histories[1]) == ["loss", "mae"]
    for key in histories[0]:
        np.testing.assert_allclose(histories[0][key], histories[1][key], **TOL)
    assert histories[0]["loss"][-1] < histories[0]["loss"][0]
    for u, v in zip(sub.get_weights(), twin.get_weights()):
        np.testing.assert_allclose(u, v, **TOL)


# ================================================================ whole-model files
def test_save_of_an_unregistered_subclass_is_refused_and_leaves_no_file(ref, tmp_path):
    """Keras 3 raises NotImplementedError asking for get_config (k3_subclass.json) and leaves
    a broken file behind; mitbadak raises it too, names what to do, and writes nothing."""
    model = book_model(ref)
    for name in ("x.h5", "x.keras"):
        with pytest.raises(NotImplementedError) as err:
            model.save(tmp_path / name)
        message = str(err.value)
        assert "get_config" in message and "save_weights" in message, message
        assert "CustomerTicketModel" in message or "customer_ticket_model" in message, message
        assert not (tmp_path / name).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_failed_save_leaves_an_existing_good_file_intact(ref, tmp_path):
    """Keras 3 truncated the existing good .keras to 0 bytes (k3_subclass.json): here the
    file keeps its bytes and still loads."""
    good = tmp_path / "good.keras"
    seq = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    seq.save(good)
    good_h5 = tmp_path / "good.h5"
    seq.save(good_h5)
    before = {p: p.read_bytes() for p in (good, good_h5)}
    model = book_model(ref)
    for path in (good, good_h5):
        with pytest.raises(NotImplementedError):
            model.save(path)
        assert path.read_bytes() == before[path]
        x = np.ones((2, 3), "float32")
        np.testing.assert_allclose(keras.models.load_model(path, compile=False)
                                   .predict(x, verbose=0), seq.predict(x, verbose=0))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.h5", "good.keras"]


def registered_ticket_class():
    @keras.saving.register_keras_serializable(package="tests11")
    class RegisteredTicket(customer_ticket_model_class()):
        def __init__(self, num_departments, **kwargs):
            super().__init__(num_departments)
            self.num_departments = num_departments

        def get_config(self):
            return {"num_departments": self.num_departments}

    return RegisteredTicket


def test_registered_subclass_with_get_config_saves_and_loads_as_keras(ref, tmp_path):
    cls = registered_ticket_class()
    model = cls(4)
    model(ticket_x(ref))
    model.set_weights([ref[f"w{i}"] for i in range(6)])
    path = tmp_path / "ticket.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded) is cls and loaded.num_departments == 4
    pred = loaded.predict(ticket_x(ref), verbose=0)
    np.testing.assert_allclose(pred[0], ref["pred_priority"], **TOL)
    np.testing.assert_allclose(pred[1], ref["pred_department"], **TOL)
    again = cls.from_config(model.get_config())
    again(ticket_x(ref))
    assert [w.shape for w in again.get_weights()] == [w.shape for w in model.get_weights()]


def test_registered_subclass_trained_and_compiled_round_trips(ref, tmp_path):
    cls = registered_ticket_class()
    model = cls(4)
    train = npz("k3_ticket_train.npz")
    x = {n: train[f"train_x_{n}"] for n in TICKET_INPUTS}
    y = [train["train_y_priority"], train["train_y_department"]]
    model.compile(optimizer="adam", loss=["mse", "categorical_crossentropy"])
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    path = tmp_path / "trained.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    for a, b in zip(loaded.predict(x, verbose=0), model.predict(x, verbose=0)):
        np.testing.assert_allclose(a, b, **TOL)
    np.testing.assert_allclose(loaded.evaluate(x, y, verbose=0), model.evaluate(x, y, verbose=0),
                               **TOL)


def test_registered_subclass_without_get_config_saves_its_init_arguments(tmp_path):
    """Keras 3's automatic config: a subclass whose __init__ gets plain values (numbers,
    strings) needs no get_config to be saved as .keras; what it was given is written down
    and given back to __init__ on load. (Keras 3.15's own Model records only the defaults
    there; Keras loads the file we write, checked by hand with keras 3.15.1.)"""
    @keras.saving.register_keras_serializable(package="auto_test")
    class Ticket(keras.Model):
        def __init__(self, num_departments, hidden=8):
            super().__init__()
            self.mix = layers.Dense(hidden, activation="relu")
            self.out = layers.Dense(num_departments, activation="softmax")

        def call(self, x):
            return self.out(self.mix(x))

    model = Ticket(num_departments=4, hidden=5)
    x = np.random.default_rng(0).random((3, 6)).astype("float32")
    model(x)
    assert model.get_config() == {"num_departments": 4, "hidden": 5}   # no name: __init__
    model.save(tmp_path / "ticket.keras")                                # takes none
    loaded = keras.models.load_model(tmp_path / "ticket.keras")
    assert type(loaded) is Ticket and loaded.mix.units == 5
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               **TOL)


def test_subclass_given_a_layer_still_needs_get_config(tmp_path):
    @keras.saving.register_keras_serializable(package="auto_test")
    class Wrap(keras.Model):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def call(self, x):
            return self.inner(x)

    model = Wrap(layers.Dense(2))
    model(np.ones((1, 3), "float32"))
    with pytest.raises(NotImplementedError, match="get_config"):
        model.save(tmp_path / "wrap.keras")
    assert not (tmp_path / "wrap.keras").exists()
