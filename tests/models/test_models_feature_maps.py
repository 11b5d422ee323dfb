"""혼자 공부하는 머신러닝+딥러닝 8-3 (issue 11, acceptance 4): load the trained CNN Keras wrote
(k3_cnn83.keras by Keras 3.15.1, k2_cnn83.h5 by tf_keras 2.21.0), build
`keras.Model(model.inputs, model.layers[0].output)` and `... layers[2].output`, and predict the
feature maps Keras predicted (k3_cnn83.npz; tf_keras's were bit-identical). The feature models
share the Sequential's layers: a change of weights in one is seen by the other."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from mitbadak import keras

from models_helpers import TOL, build_cnn83, fixture, npz

FILES = ["k3_cnn83.keras", "k2_cnn83.h5"]


@pytest.fixture(scope="module")
def ref():
    return npz("k3_cnn83.npz")


def load(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")          # "no training configuration": as Keras says
        return keras.models.load_model(fixture(name))


@pytest.mark.parametrize("name", FILES)
def test_the_books_feature_maps(name, ref):
    model = load(name)
    assert [l.name for l in model.layers] == ["conv2d", "max_pooling2d", "conv2d_1",
                                              "max_pooling2d_1", "flatten", "dense", "dropout",
                                              "dense_1"]
    for i, w in enumerate(model.get_weights()):
        np.testing.assert_array_equal(w, ref[f"w{i}"])
    np.testing.assert_allclose(model.predict(ref["x"], verbose=0), ref["pred"], **TOL)
    conv_acti = keras.Model(model.inputs, model.layers[0].output)
    feature_maps = conv_acti.predict(ref["x"], verbose=0)
    assert feature_maps.shape == (3, 28, 28, 32)
    np.testing.assert_allclose(feature_maps, ref["fmap0"], **TOL)
    conv2_acti = keras.Model(model.inputs, model.layers[2].output)
    feature_maps = conv2_acti.predict(ref["x"], verbose=0)
    assert feature_maps.shape == (3, 14, 14, 64)
    np.testing.assert_allclose(feature_maps, ref["fmap2"], **TOL)


@pytest.mark.parametrize("name", FILES)
def test_model_input_as_the_first_edition_writes_it(name, ref):
    """The book's 1st edition (tf.keras 2.x) writes model.input, not model.inputs."""
    model = load(name)
    conv_acti = keras.Model(model.input, model.layers[0].output)
    np.testing.assert_allclose(conv_acti.predict(ref["x"][0:1], verbose=0), ref["fmap0"][0:1],
                               **TOL)


def test_the_books_cell_by_cell(ref):
    """8-3's cells on the loaded model: model.layers, conv.weights[0].shape, .numpy(), one
    image with x[0:1] as the book does."""
    model = load("k3_cnn83.keras")
    conv = model.layers[0]
    assert conv.weights[0].shape == (3, 3, 1, 32) and conv.weights[1].shape == (32,)
    conv_weights = conv.weights[0].numpy()
    np.testing.assert_allclose(conv_weights.mean(), ref["w0"].mean(), rtol=1e-6)
    np.testing.assert_allclose(conv_weights.std(), ref["w0"].std(), rtol=1e-6)
    inputs = ref["x"][0:1].reshape(-1, 28, 28, 1)
    conv_acti = keras.Model(model.inputs, model.layers[0].output)
    feature_maps = conv_acti.predict(inputs, verbose=0)
    assert feature_maps.shape == (1, 28, 28, 32)
    np.testing.assert_allclose(feature_maps[0], ref["fmap0"][0], **TOL)


@pytest.mark.parametrize("name", FILES)
def test_feature_model_shares_weights_with_the_sequential(name, ref):
    model = load(name)
    conv_acti = keras.Model(model.inputs, model.layers[0].output)
    conv2_acti = keras.Model(model.inputs, model.layers[2].output)
    assert conv_acti.layers[1] is model.layers[0]
    assert conv2_acti.layers[-1] is model.layers[2]
    x = ref["x"]
    # change the Sequential's first kernel: the feature model sees it
    kernel, bias = model.layers[0].get_weights()
    model.layers[0].set_weights([kernel * 2, bias * 2])
    np.testing.assert_allclose(conv_acti.predict(x, verbose=0), 2 * ref["fmap0"], **TOL)
    # change it through the feature model: the Sequential sees it
    conv_acti.set_weights([kernel, bias])
    np.testing.assert_allclose(model.predict(x, verbose=0), ref["pred"], **TOL)
    conv2_acti.layers[-1].set_weights([w * 0 for w in conv2_acti.layers[-1].get_weights()])
    assert not np.allclose(model.predict(x, verbose=0), ref["pred"], atol=1e-3)
    assert len(conv2_acti.get_weights()) == 4 and len(model.get_weights()) == 8


def test_the_book_model_built_here_with_fixture_weights(ref):
    """8-2's code as written (input_shape= in the first layer) with Keras's weights."""
    model = build_cnn83()
    assert model.count_params() == 333526
    model.set_weights([ref[f"w{i}"] for i in range(8)])
    np.testing.assert_allclose(model.predict(ref["x"], verbose=0), ref["pred"], **TOL)
    fmap = keras.Model(model.inputs, model.layers[2].output).predict(ref["x"], verbose=0)
    np.testing.assert_allclose(fmap, ref["fmap2"], **TOL)


def test_feature_model_of_a_sequential_built_by_fit():
    """A Sequential without input_shape gets its inputs when fit builds it."""
    model = keras.Sequential([keras.layers.Conv2D(4, 3, activation="relu", padding="same"),
                              keras.layers.Flatten(), keras.layers.Dense(2)])
    x = np.random.default_rng(0).random((8, 6, 6, 1)).astype("float32")
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, np.zeros((8, 2), "float32"), verbose=0)
    features = keras.Model(model.inputs, model.layers[0].output).predict(x, verbose=0)
    kernel, bias = model.layers[0].get_weights()
    direct = model.layers[0](x)
    np.testing.assert_allclose(features, direct, rtol=1e-6, atol=1e-6)
    assert features.shape == (8, 6, 6, 4) and kernel.shape == (3, 3, 1, 4) and bias.shape == (4,)
