"""tf.keras 2.x's ImageDataGenerator: transforms on fixed parameters, seeded streams,
fit/ZCA and flow_from_directory against what tf_keras 2.21 returned (k2_datagen.*, written by
tests/fixtures/keras/images/make_images.py); SciPy's ndimage as an independent reference;
flow_from_dataframe with pandas."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from mitbadak.keras.preprocessing.image import (ImageDataGenerator, apply_affine_transform,
                                                affine_matrix)

pytest.importorskip("PIL", reason="ImageDataGenerator reads pictures with Pillow")

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "keras" / "images"
sys.path.insert(0, str(FIXTURES))
import tree  # noqa: E402

DATA = np.load(FIXTURES / "k2_datagen.npz")
INFO = json.loads((FIXTURES / "k2_datagen.json").read_text())
X = DATA["x"]                                   # one (13, 17, 3) image, pixels 0..255


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return tree.make_tree(str(tmp_path_factory.mktemp("pictures")))


FIXED = [key for key in DATA.files if key.split("_")[0] in INFO["cases"]]


@pytest.mark.parametrize("key", sorted(FIXED))
def test_apply_transform_matches_tf_keras(key):
    case, fill, order = key.rsplit("_", 2)
    gen = ImageDataGenerator(fill_mode=fill, cval=7.0, interpolation_order=int(order))
    got = gen.apply_transform(X.copy(), INFO["cases"][case])
    np.testing.assert_allclose(got, DATA[key], atol=1e-3, rtol=0)


@pytest.mark.parametrize("fill", ["nearest", "constant", "reflect", "wrap"])
@pytest.mark.parametrize("order", [0, 1])
def test_affine_transform_matches_scipy(fill, order, rng):
    """SciPy's ndimage.affine_transform, which tf.keras called, as an independent reference."""
    ndimage = pytest.importorskip("scipy.ndimage")
    img = rng.uniform(0, 255, (11, 14, 2))
    for params in ({"theta": 37, "tx": 1.7, "ty": -2.2, "shear": 12, "zx": 1.3, "zy": 0.7},
                   {"theta": -90}, {"tx": 11.0}, {"zx": 2.5, "zy": 0.4}):
        m = affine_matrix(h=11, w=14, **params)
        want = np.stack([ndimage.affine_transform(img[..., c], m[:, :2], m[:, 2], order=order,
                                                  mode=fill, cval=-3.0) for c in range(2)], -1)
        got = apply_affine_transform(img, row_axis=0, col_axis=1, channel_axis=2,
                                     fill_mode=fill, cval=-3.0, order=order, **params)
        np.testing.assert_allclose(got, want, atol=1e-9, err_msg=str(params))


@pytest.mark.parametrize("name", sorted(INFO["flow_settings"]))
def test_seeded_flow_gives_tf_keras_batches(name):
    """Same seed, same numbers: the sample order, every image's random transform and the
    reshuffle after an epoch, through it[i] (fit's way) and next(it) (the tutorials' way)."""
    kwargs = dict(INFO["flow_settings"][name])
    if "brightness_range" in kwargs:
        kwargs["brightness_range"] = tuple(kwargs["brightness_range"])
    gen = ImageDataGenerator(**kwargs)
    xs, ys = DATA["flow_x"], np.arange(7)
    tol = 1e-5 if "rescale" in kwargs or "samplewise_center" in kwargs else 1e-3
    it = gen.flow(xs, ys, batch_size=3, seed=42)
    batches = [it[i] for i in range(len(it))]
    it.on_epoch_end()
    batches += [it[i] for i in range(len(it))]
    for k, (bx, by) in enumerate(batches):
        np.testing.assert_array_equal(by, DATA[f"flow_{name}_get{k}_y"])
        np.testing.assert_allclose(bx, DATA[f"flow_{name}_get{k}_x"], atol=tol, rtol=0)
    it = gen.flow(xs, ys, batch_size=3, seed=42)
    for k in range(4):
        bx, by = next(it)
        np.testing.assert_array_equal(by, DATA[f"flow_{name}_next{k}_y"])
        np.testing.assert_allclose(bx, DATA[f"flow_{name}_next{k}_x"], atol=tol, rtol=0)


def test_fit_and_zca_match_tf_keras():
    gen = ImageDataGenerator(featurewise_center=True, featurewise_std_normalization=True)
    gen.fit(DATA["flow_x"])
    np.testing.assert_allclose(gen.mean, DATA["fit_mean"], rtol=1e-5)
    np.testing.assert_allclose(gen.std, DATA["fit_std"], rtol=1e-5)
    np.testing.assert_allclose(gen.flow(DATA["flow_x"], batch_size=7, shuffle=False)[0],
                               DATA["fit_flow"], atol=1e-4)
    with pytest.warns(UserWarning, match="zca_whitening"):
        gen = ImageDataGenerator(zca_whitening=True)
    gen.fit(DATA["zca_x"])
    np.testing.assert_allclose(gen.zca_whitening_matrix, DATA["zca_matrix"], atol=2e-3)
    np.testing.assert_allclose(gen.flow(DATA["zca_x"], batch_size=10, shuffle=False)[0],
                               DATA["zca_flow"], atol=2e-2)
    with pytest.warns(UserWarning, match="hasn't been fit"):
        ImageDataGenerator(featurewise_center=True).flow(DATA["zca_x"], batch_size=2)[0]


@pytest.mark.parametrize("subset,mode", [("training", "categorical"), ("validation", "sparse")])
def test_flow_from_directory_matches_tf_keras(root, capsys, subset, mode):
    info = INFO[f"dir_{subset}"]
    gen = ImageDataGenerator(rescale=1 / 255.0, validation_split=0.25, horizontal_flip=True,
                             rotation_range=10)
    it = gen.flow_from_directory(root, target_size=(12, 10), batch_size=4, class_mode=mode,
                                 subset=subset, seed=7)
    assert capsys.readouterr().out == info["printed"]
    # tf.keras takes every folder as a class, .ipynb_checkpoints included (Colab's trap).
    assert it.class_indices == info["class_indices"]
    assert it.filenames == info["filenames"] and it.classes.tolist() == info["classes"]
    assert it.samples == info["samples"] and len(it) == info["len"]
    for k in range(len(it)):
        bx, by = it[k]
        np.testing.assert_allclose(bx, DATA[f"dir_{subset}_{k}_x"], atol=1e-5, rtol=0)
        np.testing.assert_array_equal(by, DATA[f"dir_{subset}_{k}_y"])
        assert bx.dtype == np.float32 and by.dtype == np.float32


@pytest.mark.parametrize("name,kwargs", [
    ("binary", dict(classes=["dogs", "cats"], class_mode="binary")),
    ("gray", dict(color_mode="grayscale", class_mode="sparse")),
    ("aspect", dict(keep_aspect_ratio=True, interpolation="bilinear", class_mode="input"))])
def test_flow_from_directory_options(root, capsys, name, kwargs):
    it = ImageDataGenerator().flow_from_directory(root, target_size=(12, 10), batch_size=64,
                                                  shuffle=False, **kwargs)
    info = INFO[f"dir_{name}"]
    assert capsys.readouterr().out == info["printed"]
    assert it.filenames == info["filenames"] and it.class_indices == info["class_indices"]
    bx, by = it[0]
    np.testing.assert_allclose(bx, DATA[f"dir_{name}_x"], atol=1e-5)
    np.testing.assert_allclose(by, DATA[f"dir_{name}_y"], atol=1e-5)


def test_tutorial_fit_on_generators(root, capsys):
    """A TensorFlow 2 tutorial's code with only the import line changed: augmenting
    generator for training, a rescaling one for validation, model.fit(generator)."""
    from mitbadak.keras import layers, models
    train_datagen = ImageDataGenerator(rescale=1. / 255, rotation_range=40,
                                       width_shift_range=0.2, height_shift_range=0.2,
                                       shear_range=0.2, zoom_range=0.2, horizontal_flip=True,
                                       fill_mode="nearest")
    test_datagen = ImageDataGenerator(rescale=1. / 255)
    train_generator = train_datagen.flow_from_directory(
        root, target_size=(16, 16), batch_size=4, class_mode="categorical", classes=None)
    validation_generator = test_datagen.flow_from_directory(
        root, target_size=(16, 16), batch_size=4, class_mode="categorical")
    model = models.Sequential()
    model.add(layers.Conv2D(8, (3, 3), activation="relu", input_shape=(16, 16, 3)))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Flatten())
    model.add(layers.Dense(16, activation="relu"))
    model.add(layers.Dense(4, activation="softmax"))
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["acc"])
    history = model.fit(train_generator, steps_per_epoch=3, epochs=3,
                        validation_data=validation_generator, validation_steps=2)
    assert len(history.history["loss"]) == 3 and "val_acc" in history.history
    x_batch, y_batch = next(train_generator)
    assert x_batch.shape == (4, 16, 16, 3) and y_batch.shape == (4, 4)
    assert 0 <= x_batch.min() and x_batch.max() <= 1 + 1e-6
    assert "Found 16 images belonging to 4 classes." in capsys.readouterr().out


def test_learns_on_an_easy_task(rng):
    """Bright vs dark pictures through flow(): the model learns (accuracy ≥ 0.9)."""
    from mitbadak import keras
    x = np.concatenate([rng.uniform(0, 90, (40, 8, 8, 1)), rng.uniform(160, 255, (40, 8, 8, 1))])
    y = np.array([0] * 40 + [1] * 40)
    gen = ImageDataGenerator(rescale=1 / 255.0, horizontal_flip=True, rotation_range=20,
                             fill_mode="reflect")
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="binary_crossentropy",
                  metrics=["accuracy"])
    model.fit(gen.flow(x, y, batch_size=16, seed=1), epochs=8, verbose=0)
    assert model.evaluate(x / 255.0, y, verbose=0)[1] >= 0.9


def test_flow_from_dataframe(root, capsys):
    pd = pytest.importorskip("pandas")
    files = ["birds/b0.png", "cats/c0.png", "dogs/d2.png", "dogs/missing.png", "cats/c4.jpg",
             "cats/c3.bmp"]
    df = pd.DataFrame({"filename": files, "class": ["bird", "cat", "dog", "dog", "cat", "cat"],
                       "w": [1.0, 2, 3, 4, 5, 6], "score": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]})
    gen = ImageDataGenerator(rescale=1 / 255.0)
    with pytest.warns(UserWarning, match="1 invalid image filename"):
        it = gen.flow_from_dataframe(df, directory=root, target_size=(8, 8), batch_size=8,
                                     shuffle=False, weight_col="w")
    assert "Found 5 validated image filenames belonging to 3 classes." in capsys.readouterr().out
    assert it.class_indices == {"bird": 0, "cat": 1, "dog": 2}
    x, y, w = it[0]
    assert x.shape == (5, 8, 8, 3) and y.shape == (5, 3)
    np.testing.assert_array_equal(y.argmax(1), [0, 1, 2, 1, 1])
    np.testing.assert_array_equal(w, [1, 2, 3, 5, 6])
    raw = gen.flow_from_dataframe(df, directory=root, y_col="score", class_mode="raw",
                                  target_size=(8, 8), shuffle=False, validate_filenames=False)
    assert raw.labels.tolist() == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
    with pytest.raises(TypeError, match="must be strings"):
        gen.flow_from_dataframe(df, directory=root, y_col="w", class_mode="sparse")


def test_save_to_dir_and_errors(root, tmp_path, rng):
    out = tmp_path / "aug"
    out.mkdir()
    gen = ImageDataGenerator(rotation_range=30)
    bx, by = gen.flow(rng.uniform(0, 255, (5, 6, 6, 3)), np.arange(5), batch_size=5,
                      save_to_dir=out, save_prefix="aug", seed=1)[0]
    assert len(list(out.glob("aug_*.png"))) == 5
    with pytest.raises(ValueError, match="fill_mode"):
        ImageDataGenerator(fill_mode="mirror")
    with pytest.raises(ValueError, match="interpolation_order"):
        ImageDataGenerator(interpolation_order=3)
    with pytest.raises(ValueError, match="validation_split"):
        ImageDataGenerator(validation_split=1.5)
    with pytest.raises(ValueError, match="rank 4"):
        ImageDataGenerator().flow(np.zeros((3, 4, 4)))
    with pytest.raises(ValueError, match="class_mode"):
        ImageDataGenerator().flow_from_directory(root, class_mode="one_hot")
    with pytest.raises(FileNotFoundError, match="not a folder"):
        ImageDataGenerator().flow_from_directory(os.path.join(root, "nothing"))
    with pytest.raises(ValueError, match="different number of classes"):
        ImageDataGenerator(validation_split=0.5).flow(np.zeros((4, 2, 2, 1)), [0, 0, 1, 1],
                                                      subset="training")
