"""RandomFlip/Rotation/Zoom/Translation/Contrast/Brightness/Crop: the identity at inference;
in training, Keras's transforms on fixed parameters (fixtures written by Keras 3.15 on
TensorFlow: to 1e-3 on pixels 0..255, i.e. float32 rounding); formulas checked by hand;
gradients through the sampling weights; seeds and batch slices."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from mitbadak import keras
from mitbadak.keras import layers as L

from conftest import check_gradients

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "keras" / "images"
AUG = np.load(FIXTURES / "k3_augment.npz")
X = AUG["x"]                                    # (2, 13, 17, 3) pixels 0..255

RANDOM_LAYERS = [
    lambda **k: L.RandomFlip(**k), lambda **k: L.RandomFlip("vertical", **k),
    lambda **k: L.RandomRotation(0.2, **k), lambda **k: L.RandomZoom(0.3, 0.2, **k),
    lambda **k: L.RandomTranslation(0.2, 0.1, **k), lambda **k: L.RandomContrast(0.4, **k),
    lambda **k: L.RandomBrightness(0.3, **k),
]


@pytest.mark.parametrize("make", RANDOM_LAYERS)
def test_identity_at_inference(make):
    layer = make(seed=1)
    x8 = np.concatenate([X] * 4)                 # 8 images: some flip for sure (p = 1 − 2⁻⁸)
    np.testing.assert_array_equal(layer(x8, training=False), x8)
    np.testing.assert_array_equal(layer.backward(x8), x8)      # and so is its backward
    assert not np.array_equal(layer(x8, training=True), x8)
    # Called directly without training=, an augmentation layer augments (Keras's default) ...
    assert not np.array_equal(layer(x8), x8)
    # ... and in a model, predict passes images through unchanged.
    model = keras.Sequential([keras.Input(X.shape[1:]), make(seed=2)])
    np.testing.assert_array_equal(model.predict(x8, verbose=0), x8)


def test_random_crop_at_inference_is_the_documented_smart_resize():
    """Keras documents a centred crop of the target aspect ratio, resized, at inference (its
    3.15 code returns the images uncropped); mitbadak follows the documentation."""
    out = L.RandomCrop(20, 20)(X, training=False)
    np.testing.assert_allclose(out, AUG["smart_resize_20x20"], atol=1e-3)
    assert L.RandomCrop(8, 11)(X, training=False).shape == (2, 8, 11, 3)


FIXED = {
    "flip_horizontal": lambda: L.RandomFlip("horizontal").transform_images(
        X, {"flips": [True, False]}),
    "flip_vertical": lambda: L.RandomFlip("vertical").transform_images(
        X, {"flips": [True, False]}),
    "flip_horizontal_and_vertical": lambda: L.RandomFlip().transform_images(
        X, {"flips": [True, False]}),
    "zoom_in": lambda: L.RandomZoom((-0.25, -0.25))(X, training=True),
    "zoom_out_constant": lambda: L.RandomZoom((0.3, 0.3), width_factor=(-0.1, -0.1),
                                              fill_mode="constant", fill_value=9.0)(
        X, training=True),
    "translate_reflect": lambda: L.RandomTranslation((0.1, 0.1), (-0.2, -0.2))(X, training=True),
    "translate_constant": lambda: L.RandomTranslation((-0.3, -0.3), (0.15, 0.15),
                                                      fill_mode="constant")(X, training=True),
    "translate_nearest_fill": lambda: L.RandomTranslation((0.25, 0.25), (0.0, 0.0),
                                                          fill_mode="nearest")(X, training=True),
    "contrast": lambda: L.RandomContrast(0.5).transform_images(
        X, {"contrast_factor": AUG["contrast_factors"]}),
    "brightness": lambda: L.RandomBrightness(0.3).transform_images(
        X, {"rgb_delta": AUG["brightness_deltas"]}),
    "crop_2_3": lambda: L.RandomCrop(8, 11).transform_images(X, (2, 3)),
}


@pytest.mark.parametrize("name", sorted(FIXED))
def test_training_transform_matches_keras(name):
    np.testing.assert_allclose(FIXED[name](), AUG[name], atol=1e-3, rtol=0)


@pytest.mark.parametrize("fraction", [0.0625, -0.15])
@pytest.mark.parametrize("fill", ["reflect", "constant", "nearest"])
@pytest.mark.parametrize("interp", ["bilinear", "nearest"])
def test_rotation_matches_keras(fraction, fill, interp):
    """A factor (f, f) draws exactly f·360 degrees: 22.5° and −54°."""
    layer = L.RandomRotation((fraction, fraction), fill_mode=fill, interpolation=interp,
                             fill_value=40.0)
    np.testing.assert_allclose(layer(X, training=True),
                               AUG[f"rotation_{fraction}_{fill}_{interp}"], atol=1e-3, rtol=0)


def test_wrap_fill_matches_keras_numpy_backend():
    """fill_mode='wrap' is (a b c d | a b c d | a b c d), as Keras documents it and its NumPy
    and JAX backends compute it. Keras's TensorFlow backend wraps with period n − 1 instead
    (TensorFlow's ImageProjectiveTransform), so the TF fixtures differ at the borders."""
    os.environ.setdefault("KERAS_BACKEND", "numpy")
    k = pytest.importorskip("keras")
    if k.backend.backend() not in ("numpy", "jax"):
        pytest.skip("needs Keras 3 on its NumPy or JAX backend")
    for make in (lambda: L.RandomRotation((0.0625, 0.0625), fill_mode="wrap"),
                 lambda: L.RandomZoom((0.2, 0.2), fill_mode="wrap", interpolation="nearest"),
                 lambda: L.RandomTranslation((0.3, 0.3), (-0.4, -0.4), fill_mode="wrap")):
        ours = make()
        theirs = getattr(k.layers, type(ours).__name__).from_config(
            {key: v for key, v in ours.get_config().items() if key not in ("dtype", "name")})
        np.testing.assert_allclose(ours(X, training=True), np.asarray(theirs(X, training=True)),
                                   atol=1e-3)


def test_transforms_from_their_definitions():
    """Independent of Keras: a quarter turn of a square image is np.rot90; a shift by whole
    pixels moves the array; a zoom of 0.5 with nearest doubles the central pixels."""
    img = np.arange(5 * 5 * 2, dtype=np.float32).reshape(1, 5, 5, 2)
    turned = L.RandomRotation((0.25, 0.25), interpolation="nearest")(img, training=True)
    np.testing.assert_array_equal(turned[0], np.rot90(img[0], k=1, axes=(0, 1)))
    shifted = L.RandomTranslation((0.2, 0.2), (-0.4, -0.4), fill_mode="constant",
                                  fill_value=-1.0)(img, training=True)   # down 1, left 2
    expected = np.full_like(img, -1.0)
    expected[:, 1:, :3] = img[:, :4, 2:]
    np.testing.assert_array_equal(shifted, expected)
    img6 = np.arange(36, dtype=np.float32).reshape(1, 6, 6, 1)
    zoomed = L.RandomZoom((-0.5, -0.5), interpolation="nearest")(img6, training=True)
    # Output pixel i reads input 0.5·i + 1.25 (the centre stays): rows 1, 1, 2, 2, 3, 3 ...
    src = np.floor(0.5 * np.arange(6) + 1.25 + 0.5).astype(int)
    np.testing.assert_array_equal(zoomed[0, :, :, 0], img6[0][np.ix_(src, src)][:, :, 0])


def test_contrast_and_brightness_formulas(rng):
    x = rng.uniform(0, 255, size=(2, 4, 5, 3)).astype(np.float32)
    c = np.array([0.5, 1.5])
    got = L.RandomContrast(0.5).transform_images(x, {"contrast_factor": c})
    mean = x.mean(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(got, np.clip((x - mean) * c[:, None, None, None] + mean, 0, 255),
                               rtol=1e-5, atol=1e-4)
    layer = L.RandomContrast(0.2, seed=3)
    factors = layer.get_random_transformation(np.zeros((2000, 1, 1, 1)))["contrast_factor"]
    assert 0.8 <= factors.min() < 0.81 and 1.19 < factors.max() <= 1.2
    deltas = L.RandomBrightness(0.2, seed=3).get_random_transformation(
        np.zeros((2000, 1, 1, 1)))["rgb_delta"]
    assert -51 <= deltas.min() < -50 and 50 < deltas.max() <= 51


FIXED_PARAMS = [
    (lambda: L.RandomFlip(dtype="float64"), {"flips": [True, False]}),
    (lambda: L.RandomRotation(0.1, dtype="float64"), {"angle": [17.0, -40.0]}),
    (lambda: L.RandomRotation(0.1, fill_mode="constant", dtype="float64"), {"angle": [33.0, 5.0]}),
    (lambda: L.RandomZoom(0.3, fill_mode="wrap", dtype="float64"),
     {"height_zoom": [0.8, 1.3], "width_zoom": [1.1, 0.7]}),
    (lambda: L.RandomTranslation(0.2, 0.2, fill_mode="nearest", dtype="float64"),
     {"translations": [[1.3, -0.6], [-2.2, 0.9]]}),
    (lambda: L.RandomTranslation(0.2, 0.2, interpolation="nearest", dtype="float64"),
     {"translations": [[1.3, -0.6], [-2.2, 0.9]]}),
    (lambda: L.RandomContrast(0.5, value_range=(-1.5, 1.5), dtype="float64"),
     {"contrast_factor": [0.7, 1.4]}),
    (lambda: L.RandomBrightness(0.3, value_range=(-1.2, 1.2), dtype="float64"),
     {"rgb_delta": [0.4, -0.3]}),
    (lambda: L.RandomCrop(4, 3, dtype="float64"), (1, 2)),
    (lambda: L.RandomCrop(8, 8, dtype="float64"), None),      # smaller than the window: resized
]


@pytest.mark.parametrize("make,params", FIXED_PARAMS,
                         ids=[f"{i}-{type(m()).__name__}" for i, (m, _) in enumerate(FIXED_PARAMS)])
def test_gradient_check_on_fixed_parameters(make, params, rng):
    """dL/dx through the transform (the sampling weights), against central differences."""
    layer = make()
    if params is not None:
        layer.get_random_transformation = lambda images, training=True: params
    x = rng.normal(size=(2, 6, 5, 2))
    check_gradients(layer, x, training=True)


def test_seeds_repeat_and_batch_slices_draw_the_same():
    a = L.RandomRotation(0.3, seed=5)(X, training=True)
    b = L.RandomRotation(0.3, seed=5)(X, training=True)
    np.testing.assert_array_equal(a, b)
    layer = L.RandomZoom(0.3, 0.3, seed=9)
    whole = L.RandomZoom(0.3, 0.3, seed=9)(np.concatenate([X, X[::-1]]), training=True)
    parts = np.concatenate([layer(X, training=True), layer(X[::-1], training=True)])
    np.testing.assert_allclose(parts, whole, atol=1e-4)   # one (N, k) draw, row by row
    keras.utils.set_random_seed(0)
    c = L.RandomTranslation(0.3, 0.3)(X, training=True)
    keras.utils.set_random_seed(0)
    np.testing.assert_array_equal(L.RandomTranslation(0.3, 0.3)(X, training=True), c)
    layer = L.RandomFlip(seed=1)
    draws = [layer.get_random_transformation(np.zeros((64, 1, 1, 1)))["flips"] for _ in range(2)]
    assert 10 < draws[0].sum() < 54 and not np.array_equal(*draws)


def test_single_images_and_channels_first():
    single = L.RandomFlip("horizontal").transform_images(X[:1], {"flips": [True]})
    np.testing.assert_array_equal(L.RandomRotation((0.5, 0.5), interpolation="nearest")(
        X[0], training=True), X[0, ::-1, ::-1])
    np.testing.assert_array_equal(single[0], X[0, :, ::-1])
    first = np.moveaxis(X, -1, 1)
    out = L.RandomRotation((0.0625, 0.0625), fill_mode="constant", fill_value=40.0,
                           data_format="channels_first")(first, training=True)
    np.testing.assert_allclose(np.moveaxis(out, 1, -1), AUG["rotation_0.0625_constant_bilinear"],
                               atol=1e-3)


def test_augmentation_trains_in_a_model(rng):
    """DLwP ch. 8's front end in a model: fit runs the random layers, predict does not."""
    aug = keras.Sequential([L.RandomFlip("horizontal"), L.RandomRotation(0.1), L.RandomZoom(0.2)])
    inputs = keras.Input((12, 12, 3))
    x = aug(inputs)
    x = L.Rescaling(1.0 / 255)(x)
    x = L.Conv2D(4, 3, activation="relu")(x)
    x = L.Flatten()(x)
    outputs = L.Dense(1, activation="sigmoid")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
    data = rng.uniform(0, 255, (16, 12, 12, 3)).astype(np.float32)
    history = model.fit(data, rng.integers(0, 2, 16), epochs=2, batch_size=8, verbose=0)
    assert len(history.history["loss"]) == 2
    np.testing.assert_array_equal(model.predict(data, verbose=0),
                                  model.predict(data, verbose=0))


def test_errors_name_the_layer():
    with pytest.raises(ValueError, match="RandomRotation 'random_rotation'.*factor"):
        L.RandomRotation(1.5)
    with pytest.raises(ValueError, match="fill_mode"):
        L.RandomZoom(0.2, fill_mode="mirror")
    with pytest.raises(ValueError, match="interpolation"):
        L.RandomTranslation(0.1, 0.1, interpolation="bicubic")
    with pytest.raises(ValueError, match="mode"):
        L.RandomFlip("diagonal")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        L.RandomContrast(1.5)
    with pytest.raises(ValueError, match=r"height_factor.*\(-1.0, 1.0\]"):
        L.RandomZoom(-1.0)
    with pytest.raises(ValueError, match="expects images"):
        L.RandomFlip()(np.zeros((2, 3, 4, 5, 6), np.float32))


@pytest.mark.parametrize("make", RANDOM_LAYERS + [lambda **k: L.RandomCrop(5, 6, **k)])
def test_config_round_trip(make):
    layer = make(seed=4)
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    np.testing.assert_array_equal(clone(X, training=True), layer(X, training=True))
