"""Rescaling, Resizing, CenterCrop, Normalization: Keras's outputs (fixtures written by Keras
3.15 on TensorFlow; Keras 3's NumPy backend in-process where installed), gradient checks in
float64, adapt, configs."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from mitbadak import keras
from mitbadak.keras import layers as L
from mitbadak.utils import image_ops

from conftest import check_gradients

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "keras" / "images"
AUG = np.load(FIXTURES / "k3_augment.npz")
X = AUG["x"]                                    # (2, 13, 17, 3) pixels 0..255


def keras3():
    """Keras 3 on its NumPy (or JAX) backend, as CI installs it; skips otherwise."""
    os.environ.setdefault("KERAS_BACKEND", "numpy")
    k = pytest.importorskip("keras")
    if k.backend.backend() not in ("numpy", "jax"):
        pytest.skip(f"Keras 3 runs on {k.backend.backend()} here; these checks use numpy/jax")
    return k


# TensorFlow's bicubic resize reads its kernel from a 1024-entry table: up to 0.05 apart from
# the exact Keys kernel (Keras 3's NumPy/JAX backends, and mitbadak). The rest agree to float32.
TOLERANCE = {"bicubic": 0.06}


@pytest.mark.parametrize("interp", ["bilinear", "nearest", "bicubic", "area", "lanczos3",
                                    "lanczos5"])
@pytest.mark.parametrize("size", [(7, 9), (20, 31)])
def test_resizing_matches_keras_tensorflow(interp, size):
    out = L.Resizing(*size, interpolation=interp)(X)
    assert out.shape == (2,) + size + (3,) and out.dtype == np.float32
    np.testing.assert_allclose(out, AUG[f"resize_{interp}_{size[0]}x{size[1]}"],
                               atol=TOLERANCE.get(interp, 1e-3), rtol=0)


@pytest.mark.parametrize("name,make", [
    ("resize_antialias_7x9", lambda: L.Resizing(7, 9, antialias=True)),
    ("resize_crop_9x9", lambda: L.Resizing(9, 9, crop_to_aspect_ratio=True)),
    ("resize_pad_9x9", lambda: L.Resizing(9, 9, pad_to_aspect_ratio=True, fill_value=3.0)),
    ("center_crop", lambda: L.CenterCrop(8, 11)),
    ("center_crop_up", lambda: L.CenterCrop(20, 12)),
    ("rescaling", lambda: L.Rescaling(1 / 255.0)),
])
def test_layers_match_keras_tensorflow(name, make):
    np.testing.assert_allclose(make()(X), AUG[name], atol=1e-3, rtol=0)


def test_smart_resize_matches_keras():
    np.testing.assert_allclose(keras.utils.image_utils.smart_resize(X, (20, 20)),
                               AUG["smart_resize_20x20"], atol=1e-3, rtol=0)


@pytest.mark.parametrize("interp", ["bilinear", "nearest", "bicubic", "lanczos3", "lanczos5"])
@pytest.mark.parametrize("antialias", [False, True])
def test_resize_matches_keras_numpy_backend(interp, antialias):
    k = keras3()
    if interp == "nearest" and antialias:
        pytest.skip("antialias has no meaning for nearest")
    for size in [(5, 8), (19, 30), (13, 9)]:
        for crop, pad in [(False, False), (True, False), (False, True)]:
            expected = np.asarray(k.ops.image.resize(X, size, interpolation=interp,
                                                     antialias=antialias,
                                                     crop_to_aspect_ratio=crop,
                                                     pad_to_aspect_ratio=pad, fill_value=2.0))
            got = image_ops.resize(X, size, interp, antialias, crop, pad, 2.0)
            np.testing.assert_allclose(got, expected, atol=2e-3, rtol=0,
                                       err_msg=f"{interp} {size} crop={crop} pad={pad}")


def test_resize_weights_from_their_definition():
    """Bilinear 4 -> 2 samples at (i + 0.5)·2 − 0.5 = 0.5 and 2.5: the mean of neighbours;
    nearest 3 -> 6 repeats each pixel twice; area 4 -> 2 averages pairs."""
    row = np.array([[[[1.0], [3.0], [5.0], [11.0]]]], dtype=np.float32)     # (1, 1, 4, 1)
    np.testing.assert_allclose(image_ops.resize(row, (1, 2))[0, 0, :, 0], [2.0, 8.0])
    np.testing.assert_allclose(image_ops.resize(row, (1, 2), "area")[0, 0, :, 0], [2.0, 8.0])
    np.testing.assert_allclose(image_ops.resize(row[:, :, :3], (1, 6), "nearest")[0, 0, :, 0],
                               [1, 1, 3, 3, 5, 5])


GRADIENT_LAYERS = [
    lambda: L.Rescaling([0.5, 2.0], offset=-1.0, dtype="float64"),
    lambda: L.Resizing(5, 7, dtype="float64"),
    lambda: L.Resizing(9, 4, interpolation="bicubic", dtype="float64"),
    lambda: L.Resizing(3, 3, interpolation="area", dtype="float64"),
    lambda: L.Resizing(4, 5, interpolation="nearest", dtype="float64"),
    lambda: L.Resizing(3, 4, antialias=True, dtype="float64"),
    lambda: L.Resizing(4, 4, crop_to_aspect_ratio=True, interpolation="lanczos3",
                       dtype="float64"),
    lambda: L.Resizing(4, 2, pad_to_aspect_ratio=True, fill_value=5.0, dtype="float64"),
    lambda: L.Resizing(5, 3, data_format="channels_first", dtype="float64"),
    lambda: L.CenterCrop(3, 4, dtype="float64"),
    lambda: L.CenterCrop(8, 5, dtype="float64"),
    lambda: L.Normalization(mean=[1.0, -1.0], variance=[4.0, 0.25], dtype="float64"),
    lambda: L.Normalization(mean=0.5, variance=2.0, invert=True, dtype="float64"),
]


@pytest.mark.parametrize("make", GRADIENT_LAYERS,
                         ids=[f"{i}-{type(m()).__name__}" for i, m in enumerate(GRADIENT_LAYERS)])
def test_gradient_check(make, rng):
    keras.backend.clear_session()
    layer = make()
    shape = (2, 2, 6, 5) if getattr(layer, "data_format", "") == "channels_first" else (2, 6, 5, 2)
    check_gradients(layer, rng.normal(size=shape))


def test_normalization_adapt_matches_keras_and_numpy(rng):
    norm = L.Normalization()
    norm.adapt(X)
    mean, var, count = norm.get_weights()
    np.testing.assert_allclose(mean, AUG["normalization_mean"], rtol=1e-6)
    np.testing.assert_allclose(var, AUG["normalization_variance"], rtol=1e-6)
    assert count.dtype == np.int32
    np.testing.assert_allclose(norm(X), AUG["normalization"], atol=1e-5)
    # Batch by batch (an iterable, (x, y) tuples, a Dataset) gives the same statistics.
    data = rng.normal(3.0, 2.0, size=(50, 4)).astype(np.float32)
    for source in ([data[:13], data[13:29], data[29:]],
                   ((data[i:i + 7], None) for i in range(0, 50, 7)),
                   keras.utils.Dataset(lambda: iter([data[:20], data[20:]]), 2)):
        n = L.Normalization()
        n.adapt(source)
        np.testing.assert_allclose(n.get_weights()[0], data.mean(0), rtol=1e-5)
        np.testing.assert_allclose(n.get_weights()[1], data.var(0), rtol=1e-4)
    per_pixel = L.Normalization(axis=(1, 2))
    per_pixel.adapt(X)
    np.testing.assert_allclose(per_pixel.get_weights()[0], X.mean(axis=(0, 3)), rtol=1e-5)


def test_normalization_in_a_model_and_errors():
    data = np.arange(12, dtype=np.float32).reshape(6, 2)
    norm = L.Normalization()
    norm.adapt(data)
    model = keras.Sequential([keras.Input((2,)), norm, L.Dense(1)])
    out = model.layers[0](data)
    np.testing.assert_allclose(out.mean(0), 0, atol=1e-6)
    np.testing.assert_allclose(out.std(0), 1, rtol=1e-5)
    with pytest.raises(ValueError, match="adapt"):
        L.Normalization().forward(np.zeros(3))          # neither built nor adapted
    with pytest.raises(ValueError, match="both mean and variance"):
        L.Normalization(mean=1.0)
    with pytest.raises(ValueError, match="nothing to adapt"):
        L.Normalization(mean=1.0, variance=1.0).adapt(data)


@pytest.mark.parametrize("make", [
    lambda: L.Rescaling(1 / 255.0, offset=0.5), lambda: L.Resizing(5, 6, "bicubic"),
    lambda: L.CenterCrop(4, 4), lambda: L.Normalization(axis=-1, mean=[1, 2], variance=[3, 4])])
def test_config_round_trip(make):
    layer = make()
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    assert type(layer) is getattr(keras.layers, type(layer).__name__)


def test_uint8_images_and_single_images():
    img = (X[0]).astype(np.uint8)
    out = L.Rescaling(1 / 255.0)(img[None])
    assert out.dtype == np.float32 and out.max() <= 1.0
    single = L.Resizing(6, 6)(img)                       # one (H, W, C) image
    assert single.shape == (6, 6, 3)
    np.testing.assert_allclose(single, L.Resizing(6, 6)(img[None].astype(np.float32))[0])


def test_built_image_layers_take_any_picture_size():
    """Keras's image layers fix no input size: a built layer takes other sizes (not ranks)."""
    resize, flip = L.Resizing(6, 6), L.RandomFlip()
    assert resize(X).shape == (2, 6, 6, 3) and resize(X[:, :7, :5]).shape == (2, 6, 6, 3)
    assert flip(X, training=True).shape == X.shape and flip(X[:, :4]).shape == (2, 4, 17, 3)
    norm = L.Normalization()
    norm.adapt(X)
    assert norm(X[:, :5, :6]).shape == (2, 5, 6, 3)
    with pytest.raises(ValueError, match="built for"):
        norm(np.zeros((2, 5, 6, 4), np.float32))
    with pytest.raises(ValueError, match="expects images"):
        resize(np.zeros((5, 6), np.float32))


def test_errors():
    with pytest.raises(ValueError, match="interpolation"):
        L.Resizing(3, 3, interpolation="gaussian")
    with pytest.raises(ValueError, match="only one of"):
        L.Resizing(3, 3, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)
    with pytest.raises(ValueError, match="expects images"):
        L.CenterCrop(2, 2)(np.zeros((2, 3), np.float32))
