"""Keras's generic layer test, applied to every image layer: the output shape equals
compute_output_shape, the weight count, the get_config -> from_config round trip, and one
training step of a tiny model containing the layer changes the weights it should."""
from __future__ import annotations

import math

import numpy as np
import pytest

from mitbadak import keras
from mitbadak.keras import layers

L = layers
IMAGE, SEQ = (6, 5, 4), (7, 4)
CASES = [  # (factory, input shape without batch, weight shapes)
    (lambda: L.Conv2D(3, (3, 2), strides=(2, 1), padding="same", activation="relu"), IMAGE,
     [(3, 2, 4, 3), (3,)]),
    (lambda: L.Conv2D(4, 3, dilation_rate=2, groups=2, use_bias=False), IMAGE, [(3, 3, 2, 4)]),
    (lambda: L.Conv2D(2, 1, data_format="channels_first"), (4, 6, 5), [(1, 1, 4, 2), (2,)]),
    (lambda: L.Conv1D(3, 3, padding="causal", activation="tanh"), SEQ, [(3, 4, 3), (3,)]),
    (lambda: L.DepthwiseConv2D(3, depth_multiplier=2, padding="same"), IMAGE,
     [(3, 3, 4, 2), (8,)]),
    (lambda: L.Conv2DTranspose(3, 3, strides=2, padding="same"), IMAGE, [(3, 3, 3, 4), (3,)]),
    (lambda: L.MaxPooling2D(), IMAGE, []),
    (lambda: L.AveragePooling2D(3, strides=2, padding="same"), IMAGE, []),
    (lambda: L.MaxPooling1D(2), SEQ, []),
    (lambda: L.AveragePooling1D(3, strides=1, padding="same"), SEQ, []),
    (lambda: L.GlobalMaxPooling2D(), IMAGE, []),
    (lambda: L.GlobalAveragePooling2D(keepdims=True), IMAGE, []),
    (lambda: L.GlobalMaxPooling1D(), SEQ, []),
    (lambda: L.GlobalAveragePooling1D(), SEQ, []),
    (lambda: L.BatchNormalization(momentum=0.9), IMAGE, [(4,)] * 4),
    (lambda: L.LayerNormalization(), IMAGE, [(4,)] * 2),
    (lambda: L.ZeroPadding2D(((1, 0), (2, 1))), IMAGE, []),
    (lambda: L.ZeroPadding1D(2), SEQ, []),
    (lambda: L.Cropping2D(((1, 0), (2, 1))), IMAGE, []),
    (lambda: L.Cropping1D((1, 2)), SEQ, []),
    (lambda: L.UpSampling2D((2, 1), interpolation="bilinear"), IMAGE, []),
    (lambda: L.UpSampling1D(3), SEQ, []),
    (lambda: L.SpatialDropout2D(0.3, seed=1), IMAGE, []),
    (lambda: L.SpatialDropout1D(0.3, seed=1), SEQ, []),
]
IDS = [f"{i}-{type(make()).__name__}" for i, (make, _, _) in enumerate(CASES)]


@pytest.mark.parametrize("make,shape,weights", CASES, ids=IDS)
def test_output_shape_weights_and_config(make, shape, weights, rng):
    layer = make()
    x = rng.normal(size=(3,) + shape).astype(np.float32)
    y = layer(x, training=True)
    assert y.dtype == np.float32
    assert (None,) + tuple(y.shape[1:]) == layer.compute_output_shape((None,) + shape)
    assert [tuple(w.shape) for w in layer.weights] == weights
    assert layer.count_params() == sum(math.prod(s) for s in weights)
    dx = layer.backward(np.ones_like(y))
    assert dx.shape == x.shape and dx.dtype == np.float32
    assert set(layer.grads) == set(layer._trainable_names)
    assert all(g.dtype == np.float32 and g.shape == layer._weights[n].shape
               for n, g in layer.grads.items())
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    assert type(layer) is getattr(keras.layers, type(layer).__name__)


@pytest.mark.parametrize("make,shape,weights", CASES, ids=IDS)
def test_one_training_step_changes_weights(make, shape, weights, rng):
    layer = make()
    # A convolution in front, so the layer's backward (dx) is exercised too.
    data_format = getattr(layer, "data_format", "channels_last")
    first = L.Conv1D(2, 1) if len(shape) == 2 else L.Conv2D(4, 1, data_format=data_format)
    model = keras.Sequential([L.InputLayer(shape=shape), first, layer, L.Flatten(),
                              L.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    before = [w.copy() for w in model.get_weights()]
    model.train_on_batch(rng.normal(size=(4,) + shape).astype(np.float32),
                         np.array([0, 1, 1, 0]))
    after = model.get_weights()
    changed = [not np.array_equal(a, b) for a, b in zip(before, after)]
    assert all(changed), "every weight (first conv, the layer's own, the Dense) must move"
    assert len(after) == 2 + len(weights) + 2


def test_variable_image_size_with_global_pooling(rng):
    model = keras.Sequential([keras.Input(shape=(None, None, 3)),
                              L.Conv2D(4, 3, padding="same", activation="relu"),
                              L.MaxPooling2D(), L.BatchNormalization(),
                              L.GlobalAveragePooling2D(), L.Dense(2, activation="softmax")])
    assert model.layers[0].output_shape == (None, None, None, 4)
    assert model.layers[1].output_shape == (None, None, None, 4)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    for size in [(8, 6), (11, 9)]:
        x = rng.normal(size=(3,) + size + (3,)).astype(np.float32)
        model.train_on_batch(x, np.array([0, 1, 0]))
        assert model.predict(x, verbose=0).shape == (3, 2)
