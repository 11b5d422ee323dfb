"""The shape mistakes a learner meets first with image layers get a message that says what
was expected, what was given, and how to fix it."""
from __future__ import annotations

import numpy as np
import pytest

from mitbadak import keras
from mitbadak.keras import layers


def _mnist_cnn(**first):
    model = keras.Sequential([layers.Conv2D(8, (3, 3), activation="relu", **first),
                              layers.MaxPool2D(), layers.Flatten(),
                              layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def test_mnist_without_channel_axis_declared_input_shape():
    # Keras 3 adds a missing channel axis of size 1 when the input is declared (28, 28, 1).
    model = _mnist_cnn(input_shape=(28, 28, 1))
    model.fit(np.zeros((4, 28, 28), np.float32), np.zeros(4, int), verbose=0)
    assert model.predict(np.zeros((2, 28, 28), np.float32), verbose=0).shape[0] == 2
    # One image without its batch axis is named as such.
    with pytest.raises(ValueError) as err:
        model.predict(np.zeros((28, 28, 1), np.float32), verbose=0)
    assert "ONE sample" in str(err.value) and "x[None]" in str(err.value)


def test_mnist_without_channel_axis_built_from_data():
    model = _mnist_cnn()
    with pytest.raises(ValueError) as err:
        model.fit(np.zeros((4, 28, 28), np.float32), np.zeros(4, int), verbose=0)
    msg = str(err.value)
    assert "Conv2D" in msg and "4-D input" in msg and "(None, 28, 28)" in msg
    assert "x[..., None]" in msg and "keras.layers.Reshape((28, 28, 1))" in msg


def test_pooling_without_channel_axis():
    with pytest.raises(ValueError, match=r"x\[\.\.\., None\]"):
        layers.MaxPooling2D()(np.zeros((2, 28, 28), np.float32))


def test_conv1d_without_channel_axis():
    pattern = r"3-D input \(batch, steps, channels\).*x\[\.\.\., None\]"
    with pytest.raises(ValueError, match=pattern):
        layers.Conv1D(4, 3)(np.zeros((2, 28), np.float32))


def test_kernel_larger_than_input():
    with pytest.raises(ValueError) as err:
        layers.Conv2D(8, (5, 5))(np.zeros((2, 3, 3, 1), np.float32))
    msg = str(err.value)
    assert "5x5 kernel is larger than its 3x3 input" in msg and "padding='valid'" in msg
    assert "padding='same'" in msg


def test_dilated_kernel_counts_its_full_extent():
    # 3 taps with dilation 3 span 7 pixels: too big for a 6-wide image.
    with pytest.raises(ValueError, match="7x7 kernel is larger than its 6x6 input"):
        layers.Conv2D(2, 3, dilation_rate=3)(np.zeros((1, 6, 6, 1), np.float32))


def test_output_shrinking_to_zero_size_names_the_layer():
    with pytest.raises(ValueError) as err:
        keras.Sequential([layers.Conv2D(4, 3, padding="same", input_shape=(4, 4, 1)),
                          layers.MaxPool2D(), layers.MaxPool2D(), layers.MaxPool2D()])
    msg = str(err.value)
    assert "max_pooling2d_2" in msg and "2x2 pool window is larger than its 1x1 input" in msg
    assert "output would have size 0x0" in msg and "fewer pooling" in msg


def test_channels_first_data_into_channels_last_layer():
    with pytest.raises(ValueError) as err:
        layers.Conv2D(8, 3)(np.zeros((2, 1, 28, 28), np.float32))
    msg = str(err.value)
    assert "channels_first" in msg and "x.transpose(0, 2, 3, 1)" in msg
    assert "data_format='channels_first'" in msg and "28 channels" in msg


def test_channels_first_data_into_declared_channels_last_model():
    model = _mnist_cnn(input_shape=(28, 28, 1))
    with pytest.raises(ValueError) as err:
        model.predict(np.zeros((2, 1, 28, 28), np.float32), verbose=0)
    msg = str(err.value)
    assert "(None, 1, 28, 28)" in msg and "x.transpose(0, 2, 3, 1)" in msg


def test_a_one_row_image_is_not_mistaken_for_channels_first():
    # (N, 1, W, C) with a 1-high kernel is a legitimate way to convolve sequences.
    y = layers.Conv2D(4, (1, 3))(np.zeros((2, 1, 20, 16), np.float32))
    assert y.shape == (2, 1, 18, 4)


@pytest.mark.parametrize("make,pattern", [
    (lambda: layers.Conv2D(8, 3, padding="full"), r"padding must be one of 'valid', 'same'"),
    (lambda: layers.Conv1D(8, 3, padding="full"), r"'valid', 'same', 'causal'"),
    (lambda: layers.Conv2D(0, 3), r"filters must be a positive int; got 0"),
    (lambda: layers.Conv2D(8, 3, groups=3), r"groups .* divides filters=8; got groups=3"),
    (lambda: layers.Conv2D(8, (3, 3, 3)), r"kernel_size: expected an int or a tuple of 2 ints"),
    (lambda: layers.Conv2D(8, 3, strides=2, dilation_rate=2), r"strides > 1 together with"),
    (lambda: layers.Conv2D(8, 3, data_format="NHWC"), r"'channels_last' or 'channels_first'"),
    (lambda: layers.MaxPooling2D(0), r"pool_size and strides must be positive"),
    (lambda: layers.ZeroPadding2D((1, 2, 3)), r"padding must be non-negative ints"),
    (lambda: layers.UpSampling2D(interpolation="bicubic"), r"'nearest' or 'bilinear'"),
    (lambda: layers.BatchNormalization(renorm=True), r"renorm=True is not supported"),
])
def test_bad_arguments(make, pattern):
    with pytest.raises(ValueError, match=pattern):
        make()


def test_groups_must_divide_input_channels():
    pattern = r"divisible by groups=3; got input shape \(None, 5, 5, 4\)"
    with pytest.raises(ValueError, match=pattern):
        layers.Conv2D(6, 3, groups=3)(np.zeros((1, 5, 5, 4), np.float32))


def test_cropping_everything_away():
    with pytest.raises(ValueError, match="cropping 4 from an axis of size 4"):
        layers.Cropping2D(2)(np.zeros((1, 4, 6, 1), np.float32))


def test_batchnorm_axis_out_of_range():
    with pytest.raises(ValueError, match=r"axis=3 is out of range for a 2-D input"):
        layers.BatchNormalization(axis=3)(np.zeros((2, 4), np.float32))
