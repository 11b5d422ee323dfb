"""CIFAR-10, CIFAR-100 and California housing on small files in Keras's formats, made here
(Python-2-style pickled dicts with bytes keys, in folders and in .tar.gz archives); a hostile
pickle in place of a batch is refused before anything of it runs."""
from __future__ import annotations

import hashlib
import io
import os
import pickle
import tarfile

import numpy as np
import pytest

from mitbadak import backend, datasets
from mitbadak.datasets import _cifar, california_housing, cifar10, cifar100
from mitbadak.utils import safe_pickle

SIZES = {f"data_batch_{i}": 3 + i for i in range(1, 6)} | {"test_batch": 4}


def batch(name, n, seed, keys=("labels",), n_classes=(10,)):
    """A CIFAR batch as Keras's file holds it: bytes keys, uint8 rows of 3072 (R, G, B planes)."""
    rng = np.random.default_rng(seed)
    d = {b"batch_label": name.encode(), b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
         b"filenames": [f"img_{i}.png".encode() for i in range(n)]}
    for key, k in zip(keys, n_classes):
        d[key.encode()] = [int(v) for v in rng.integers(0, k, n)]
    return d


def cifar10_batches():
    return {name: batch(name, n, seed) for seed, (name, n) in enumerate(SIZES.items())}


def write_folder(folder, batches):
    folder.mkdir(parents=True, exist_ok=True)
    for name, d in batches.items():
        (folder / name).write_bytes(pickle.dumps(d, protocol=2))


def write_archive(path, top, batches):
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for name, d in batches.items():
            data = pickle.dumps(d, protocol=2)
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def expected10(batches):
    """Keras's arrays, computed here from the batches: rows reshaped (3, 32, 32) -> NHWC."""
    def imgs(d):
        return d[b"data"].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    train = [batches[f"data_batch_{i}"] for i in range(1, 6)]
    return ((np.concatenate([imgs(d) for d in train]),
             np.concatenate([d[b"labels"] for d in train]).astype(np.uint8).reshape(-1, 1)),
            (imgs(batches["test_batch"]),
             np.array(batches["test_batch"][b"labels"], np.uint8).reshape(-1, 1)))


def check_equal(got, want):
    for (gx, gy), (wx, wy) in zip(got, want):
        assert gx.dtype == np.uint8 and gy.dtype == wy.dtype
        np.testing.assert_array_equal(gx, wx)
        np.testing.assert_array_equal(gy, wy)


@pytest.mark.parametrize("layout", ["offline_folder", "offline_subfolder", "offline_archive",
                                    "keras3_cache", "keras3_archive", "keras2_cache"])
def test_cifar10_from_every_source(tmp_path, monkeypatch, layout):
    batches = cifar10_batches()
    keras_cache = tmp_path / "keras_home" / "datasets"
    if layout == "offline_folder":
        write_folder(tmp_path / "data" / "cifar10", batches)
    elif layout == "offline_subfolder":
        write_folder(tmp_path / "data" / "cifar10" / "cifar-10-batches-py", batches)
    elif layout == "offline_archive":
        sha = write_archive(tmp_path / "data" / "cifar10" / "cifar-10-python.tar.gz",
                            "cifar-10-batches-py", batches)
        monkeypatch.setattr(cifar10.CIFAR10, "sha256", sha)
    elif layout == "keras3_cache":
        write_folder(keras_cache / "cifar-10-batches-py-target" / "cifar-10-batches-py", batches)
    elif layout == "keras3_archive":
        sha = write_archive(keras_cache / "cifar-10-batches-py-target_archive",
                            "cifar-10-batches-py", batches)
        monkeypatch.setattr(cifar10.CIFAR10, "sha256", sha)
    else:
        write_folder(keras_cache / "cifar-10-batches-py", batches)
    if layout.startswith("offline"):
        datasets.set_data_dir(tmp_path / "data")
    got = cifar10.load_data()
    (x_train, y_train), (x_test, y_test) = got
    assert x_train.shape == (sum(SIZES.values()) - 4, 32, 32, 3) and y_train.shape[1] == 1
    check_equal(got, expected10(batches))


def test_cifar10_channels_first_and_pixel_layout(tmp_path):
    batches = cifar10_batches()
    write_folder(tmp_path / "data" / "cifar10", batches)
    datasets.set_data_dir(tmp_path / "data")
    row = batches["data_batch_1"][b"data"][0]
    (x, _), _ = cifar10.load_data()
    # Pixel (i, j) of channel c is byte c·1024 + i·32 + j of the row (CIFAR's layout).
    assert x[0, 5, 7, 2] == row[2 * 1024 + 5 * 32 + 7]
    backend.set_image_data_format("channels_first")
    (x_first, _), _ = cifar10.load_data()
    np.testing.assert_array_equal(x_first, x.transpose(0, 3, 1, 2))


def test_hostile_pickle_is_refused_without_running(tmp_path):
    """A batch file that asks pickle to call os.system is refused before the call."""
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    batches = cifar10_batches()
    write_folder(tmp_path / "data" / "cifar10", batches)
    (tmp_path / "data" / "cifar10" / "data_batch_3").write_bytes(pickle.dumps(
        {b"data": Evil(), b"labels": []}, protocol=2))
    datasets.set_data_dir(tmp_path / "data")
    with pytest.raises(safe_pickle.UnsafePickleError, match="data_batch_3.*refused.*system"):
        cifar10.load_data()
    assert not marker.exists()


def test_damaged_batches_and_archives_are_reported(tmp_path, monkeypatch):
    batches = cifar10_batches()
    batches["test_batch"][b"labels"][0] = 12              # out of 0..9
    write_folder(tmp_path / "data" / "cifar10", batches)
    datasets.set_data_dir(tmp_path / "data")
    with pytest.raises(ValueError, match="test_batch.*labels"):
        cifar10.load_data()
    bad = tmp_path / "bad" / "cifar10"
    write_archive(bad / "cifar-10-python.tar.gz", "cifar-10-batches-py", cifar10_batches())
    datasets.set_data_dir(tmp_path / "bad")
    with pytest.raises(ValueError, match="sha256"):
        cifar10.load_data()
    empty = tmp_path / "empty" / "cifar10"
    empty.mkdir(parents=True)
    datasets.set_data_dir(tmp_path / "empty")
    with pytest.raises(FileNotFoundError, match="data_batch_1"):
        cifar10.load_data()


def test_no_source_says_where_to_put_the_files():
    with pytest.raises(OSError, match="cifar10/cifar-10-python.tar.gz"):
        cifar10.load_data()


@pytest.mark.parametrize("label_mode,key", [("fine", b"fine_labels"),
                                            ("coarse", b"coarse_labels")])
def test_cifar100(tmp_path, monkeypatch, label_mode, key):
    batches = {name: batch(name, n, seed, ("fine_labels", "coarse_labels"), (100, 20))
               for seed, (name, n) in enumerate({"train": 6, "test": 3}.items())}
    sha = write_archive(tmp_path / "keras_home" / "datasets" / "cifar-100-python-target_archive",
                        "cifar-100-python", batches)
    monkeypatch.setattr(cifar100.CIFAR100, "sha256", sha)
    (x_train, y_train), (x_test, y_test) = cifar100.load_data(label_mode)
    assert x_train.shape == (6, 32, 32, 3) and x_test.shape == (3, 32, 32, 3)
    assert y_train.dtype == np.int64 and y_train.shape == (6, 1)   # as Keras: not cast
    np.testing.assert_array_equal(y_test[:, 0], batches["test"][key])
    np.testing.assert_array_equal(
        x_train, batches["train"][b"data"].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    with pytest.raises(ValueError, match="label_mode"):
        cifar100.load_data("medium")


def test_california_housing_split_matches_keras(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(700, 8)).astype(np.float32)
    y = rng.uniform(1e4, 5e5, 700).astype(np.float32)
    path = tmp_path / "data" / "california_housing" / "california_housing.npz"
    path.parent.mkdir(parents=True)
    np.savez(path, x=x, y=y)
    monkeypatch.setattr(california_housing, "SHA256", hashlib.sha256(path.read_bytes()).hexdigest())
    datasets.set_data_dir(tmp_path / "data")
    for version, n in (("large", 700), ("small", 600)):
        (xtr, ytr), (xte, yte) = california_housing.load_data(version=version, test_split=0.25)
        idx = np.arange(n)
        np.random.RandomState(113).shuffle(idx)              # Keras's rule, written out
        cut = int(n * 0.75)
        np.testing.assert_array_equal(xtr, x[:n][idx[:cut]])
        np.testing.assert_array_equal(yte, y[:n][idx[cut:]])
    with pytest.raises(ValueError, match="version"):
        california_housing.load_data(version="medium")
    monkeypatch.setattr(california_housing, "SHA256", "0" * 64)
    with pytest.raises(ValueError, match="sha256"):
        california_housing.load_data()


def test_module_names():
    from mitbadak import keras
    assert keras.datasets.cifar10 is cifar10 and keras.datasets.cifar100 is cifar100
    assert keras.datasets.california_housing is california_housing
    assert _cifar.images(np.zeros((1, 3072), np.uint8)).shape == (1, 32, 32, 3)
