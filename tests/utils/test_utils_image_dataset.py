"""image_dataset_from_directory and text_dataset_from_directory on the folder tree of
tests/fixtures/keras/images/tree.py, against what Keras 3.15 (TensorFlow) returned for it:
class names, file order, labels, the split for a seed, messages and pixels."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from mitbadak import keras

pytest.importorskip("PIL", reason="reading pictures needs Pillow (pip install pillow)")

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "keras" / "images"
sys.path.insert(0, str(FIXTURES))
import tree  # noqa: E402

DATA = np.load(FIXTURES / "k3_image_dataset.npz")
INFO = json.loads((FIXTURES / "k3_image_dataset.json").read_text(encoding="utf-8"))
fn = keras.utils.image_dataset_from_directory
# File 8 of the plain order is cats/c4.jpg: JPEG decoders differ by a few levels.
JPEG = INFO["plain"]["file_paths"].index("cats/c4.jpg")


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return tree.make_tree(str(tmp_path_factory.mktemp("pictures")))


def rel(root, paths):
    return [os.path.relpath(p, root).replace(os.sep, "/") for p in paths]


def first(ds):
    return next(iter(ds))


def close(got, want, tol=1e-3, jpeg_tol=8.0):
    got = np.asarray(got, np.float64)
    ok = np.ones(len(got), bool)
    ok[JPEG] = False
    np.testing.assert_allclose(got[ok], want[ok], atol=tol, rtol=0)
    np.testing.assert_allclose(got[JPEG], want[JPEG], atol=jpeg_tol, rtol=0)


def test_class_names_file_order_labels_and_pixels(root, capsys):
    ds = fn(root, image_size=(12, 10), shuffle=False)
    assert capsys.readouterr().out == INFO["plain"]["printed"]   # "Found 15 files belonging..."
    assert ds.class_names == INFO["plain"]["class_names"] == ["birds", "cats", "dogs"]
    assert rel(root, ds.file_paths) == INFO["plain"]["file_paths"]
    x, y = first(ds)
    assert x.dtype == np.float32 and y.dtype == np.int32 and x.shape == (15, 12, 10, 3)
    np.testing.assert_array_equal(y, DATA["plain_y"])
    close(x, DATA["plain_x"])
    assert len(ds) == 1


@pytest.mark.parametrize("interp", ["nearest", "bicubic", "area", "lanczos3", "lanczos5"])
def test_interpolations(root, interp):
    x = first(fn(root, image_size=(12, 10), shuffle=False, interpolation=interp,
                 verbose=False))[0]
    # TensorFlow keeps uint8 for nearest; its bicubic reads a kernel table (~0.05 off).
    assert x.dtype == (np.uint8 if interp == "nearest" else np.float32)
    close(x, DATA[f"interp_{interp}"], tol=0.06 if interp == "bicubic" else 1e-3)


@pytest.mark.parametrize("flag", ["crop_to_aspect_ratio", "pad_to_aspect_ratio"])
def test_aspect_ratio_options(root, flag):
    close(first(fn(root, image_size=(12, 10), shuffle=False, verbose=False, **{flag: True}))[0],
          DATA[flag])


@pytest.mark.parametrize("mode,channels,tol", [("rgba", 4, 1e-3), ("grayscale", 1, 1.0 + 1e-4)])
def test_color_modes(root, mode, channels, tol):
    """Grayscale: libpng (TensorFlow) and Pillow round the luminance differently (by 1 at most)."""
    ds = fn(root, image_size=(12, 10), shuffle=False, verbose=False, color_mode=mode,
            class_names=["birds"])
    assert rel(root, ds.file_paths) == INFO[f"color_{mode}"]["file_paths"]
    x = first(ds)[0]
    assert x.shape[-1] == channels
    np.testing.assert_allclose(x, DATA[f"color_{mode}"], atol=tol, rtol=0)


def test_label_modes_and_class_names(root, capsys):
    ds = fn(root, image_size=(12, 10), shuffle=False, label_mode="binary",
            class_names=["dogs", "cats"])
    assert capsys.readouterr().out == INFO["binary"]["printed"]
    assert rel(root, ds.file_paths) == INFO["binary"]["file_paths"]
    y = first(ds)[1]
    assert y.dtype == np.float32 and y.shape == (12, 1)
    np.testing.assert_array_equal(y, DATA["binary_y"])
    y = first(fn(root, image_size=(12, 10), shuffle=False, label_mode="categorical",
                 verbose=False))[1]
    np.testing.assert_array_equal(y, DATA["categorical_y"])
    assert y.dtype == np.float32


def test_no_labels_and_explicit_labels_walk_the_whole_tree(root, capsys):
    """Without inferred labels Keras walks every folder, hidden ones too (16 files)."""
    ds = fn(root, image_size=(12, 10), shuffle=False, labels=None)
    assert capsys.readouterr().out == INFO["unlabelled"]["printed"]
    assert rel(root, ds.file_paths) == INFO["unlabelled"]["file_paths"]
    assert ds.class_names is None and first(ds).shape == tuple(INFO["unlabelled"]["element_shape"])
    info = INFO["explicit_labels"]
    ds = fn(root, image_size=(12, 10), shuffle=False, labels=info["labels"])
    assert capsys.readouterr().out == info["printed"]
    assert ds.class_names == info["class_names"]
    np.testing.assert_array_equal(first(ds)[1], info["y"])


@pytest.mark.parametrize("seed", [1337, 7])
def test_shuffle_and_split_for_a_seed(root, capsys, seed):
    info = INFO[f"split_{seed}"]
    train, val = fn(root, image_size=(12, 10), seed=seed, validation_split=0.3, subset="both",
                    batch_size=4)
    assert capsys.readouterr().out == info["printed"]
    assert rel(root, train.file_paths) == info["train"]
    assert rel(root, val.file_paths) == info["val"]
    assert [len(train), len(val)] == info["batches"]
    labels = sorted(int(v) for _, y in train for v in y)
    assert labels == info["train_labels_sorted"]
    only = fn(root, image_size=(12, 10), seed=seed, validation_split=0.3, subset="training",
              verbose=False)
    assert rel(root, only.file_paths) == info["training_only"]
    # Each pass shuffles again (a buffer of 8 batches); the files stay the same.
    passes = [[img.tobytes() for x, _ in train for img in x] for _ in range(2)]
    assert sorted(passes[0]) == sorted(passes[1]) and len(passes[0]) == len(info["train"])


def test_shuffled_file_order_is_keras(root):
    ds = fn(root, image_size=(12, 10), seed=5, batch_size=4, verbose=False)
    assert rel(root, ds.file_paths) == INFO["shuffled_5"]["file_paths"]


def test_labels_follow_their_files_through_the_shuffle(root):
    ds = fn(root, image_size=(12, 10), seed=3, batch_size=4, verbose=False)
    reference = fn(root, image_size=(12, 10), shuffle=False, batch_size=64, verbose=False)
    x_ref, y_ref = first(reference)
    key = {x_ref[i].tobytes(): int(y_ref[i]) for i in range(len(x_ref))}
    for x, y in ds:
        assert [key[img.tobytes()] for img in x] == list(y)


def test_errors_and_messages(root, tmp_path):
    with pytest.raises(ValueError, match="give a seed"):
        fn(root, validation_split=0.2, subset="training")
    with pytest.raises(ValueError, match="subset"):
        fn(root, validation_split=0.2, seed=1)
    with pytest.raises(ValueError, match="label_mode='binary' needs exactly 2 classes"):
        fn(root, label_mode="binary", verbose=False)
    with pytest.raises(ValueError, match="color_mode"):
        fn(root, color_mode="cmyk")
    with pytest.raises(ValueError, match="did not match the names of the subdirectories"):
        fn(root, class_names=["birds", "fish"], verbose=False)
    with pytest.raises(ValueError, match="TensorFlow's own kernel"):
        fn(root, interpolation="gaussian")
    with pytest.raises(ValueError, match="Could not find directory"):
        fn(tmp_path / "missing")
    (tmp_path / "empty" / "a").mkdir(parents=True)
    with pytest.raises(ValueError, match="No images found"):
        fn(tmp_path / "empty", verbose=False)


def test_dataset_methods(root):
    ds = fn(root, image_size=(12, 10), shuffle=False, batch_size=4, verbose=False)
    assert len(ds) == 4 and ds.cardinality() == 4
    assert len(ds.take(2)) == 2 and len(list(ds.take(2))) == 2
    scaled = ds.map(lambda x, y: (x / 255.0, y))
    x, y = first(scaled)
    assert x.max() <= 1.0 and scaled.class_names == ds.class_names
    singles = list(ds.unbatch())
    assert len(singles) == 15 and singles[0][0].shape == (12, 10, 3)
    rebatched = ds.unbatch().batch(5)
    assert [len(b[1]) for b in rebatched] == [5, 5, 5]
    cached = ds.cache().prefetch(2)
    np.testing.assert_array_equal(first(cached)[0], first(ds)[0])
    assert [len(b[1]) for b in cached] == [4, 4, 4, 3]
    assert len(list(ds.repeat(3))) == 12
    assert len(ds.skip(3)) == 1
    one = fn(root, image_size=(12, 10), shuffle=False, batch_size=None, verbose=False)
    assert first(one)[0].shape == (12, 10, 3) and len(one) == 15


def test_text_dataset_from_directory(tmp_path, capsys):
    root = tree.make_text_tree(str(tmp_path))
    info = INFO["text"]
    ds = keras.utils.text_dataset_from_directory(root, shuffle=False)
    ds5 = keras.utils.text_dataset_from_directory(root, shuffle=False, max_length=5)
    assert capsys.readouterr().out == info["printed"]
    assert ds.class_names == info["class_names"]
    texts, labels = first(ds)
    assert list(texts) == info["texts"] and labels.tolist() == info["labels"]
    assert texts.dtype == object and labels.dtype == np.int32
    assert list(first(ds5)[0]) == info["texts_max5"]
    train, val = keras.utils.text_dataset_from_directory(root, validation_split=0.5, seed=2,
                                                         subset="both", batch_size=2,
                                                         verbose=False)
    assert len(train.file_paths) == 3 and len(val.file_paths) == 3
    assert set(train.file_paths).isdisjoint(val.file_paths)
