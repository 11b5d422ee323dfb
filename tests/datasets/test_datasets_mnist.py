"""MNIST and the shipped sample: real-data facts, the search order, and the errors."""
from __future__ import annotations

import gzip
import hashlib
import shutil

import numpy as np
import pytest

from mitbadak import datasets
from mitbadak.datasets import _idx, mnist, mnist_sample

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def small_npz(path, n=5):
    """A tiny mnist.npz stand-in; returns its sha256."""
    rng = np.random.default_rng(1)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, x_train=rng.integers(0, 256, (n, 28, 28), dtype=np.uint8),
             y_train=np.arange(n, dtype=np.uint8), x_test=np.zeros((2, 28, 28), np.uint8),
             y_test=np.array([7, 2], np.uint8))
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------- real data
def test_real_mnist_shapes_dtypes_and_facts(real_mnist):
    (x_train, y_train), (x_test, y_test) = real_mnist
    assert x_train.shape == (60000, 28, 28) and y_train.shape == (60000,)
    assert x_test.shape == (10000, 28, 28) and y_test.shape == (10000,)
    assert all(a.dtype == np.uint8 for a in (x_train, y_train, x_test, y_test))
    assert np.bincount(y_train).tolist() == TRAIN_COUNTS
    assert np.bincount(y_test).tolist() == TEST_COUNTS
    assert x_train.mean() == pytest.approx(33.318, abs=5e-4)
    assert x_train.max() == 255 and x_train.min() == 0


def test_data_dir_from_environment(shared_datasets, monkeypatch):
    monkeypatch.setenv("MITBADAK_DATASETS", str(shared_datasets))
    assert datasets.get_data_dir() == str(shared_datasets)
    datasets.set_data_dir(shared_datasets.parent)  # the setting wins over the variable
    assert datasets.get_data_dir() == str(shared_datasets.parent.resolve())
    datasets.set_data_dir(None)
    assert datasets.get_data_dir() == str(shared_datasets)


def test_set_data_dir_rejects_a_missing_folder(tmp_path):
    with pytest.raises(NotADirectoryError, match="nowhere"):
        datasets.set_data_dir(tmp_path / "nowhere")


def test_corrupted_offline_file_is_named(shared_datasets, tmp_path):
    folder = tmp_path / "data" / "mnist"
    shutil.copytree(shared_datasets / "mnist", folder)
    bad = folder / _idx.TEST_LABELS
    data = bytearray(gzip.decompress(bad.read_bytes()))
    data[100] ^= 1  # one flipped bit: still a valid IDX file, so only the md5 can tell
    bad.write_bytes(gzip.compress(bytes(data)))
    datasets.set_data_dir(tmp_path / "data")
    with pytest.raises(ValueError) as info:
        mnist.load_data()
    assert str(bad) in str(info.value) and mnist.CONTENT_MD5[_idx.TEST_LABELS] in str(info.value)


def test_missing_offline_file_is_named(tmp_path):
    folder = tmp_path / "data" / "mnist"
    folder.mkdir(parents=True)
    for name in _idx.FILES[:3]:
        (folder / name).write_bytes(b"")
    datasets.set_data_dir(tmp_path / "data")
    with pytest.raises(FileNotFoundError, match=_idx.TEST_IMAGES):
        mnist.load_data()


def test_sample_is_the_recorded_mnist_rows(real_mnist):
    (x_train, y_train), (x_test, y_test) = real_mnist
    with np.load(mnist_sample.PATH, allow_pickle=False) as f:
        train, test = f["train_indices"], f["test_indices"]
        np.testing.assert_array_equal(f["x_train"], x_train[train])
        np.testing.assert_array_equal(f["y_train"], y_train[train])
        np.testing.assert_array_equal(f["x_test"], x_test[test])
        np.testing.assert_array_equal(f["y_test"], y_test[test])


# ---------------------------------------------------------------- search order
def test_keras_cache_is_used(tmp_path, monkeypatch):
    sha = small_npz(tmp_path / "keras_home" / "datasets" / "mnist.npz")
    monkeypatch.setattr(mnist, "SHA256", sha)
    datasets.set_data_dir(tmp_path)  # a data folder without mnist/ is passed over
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    assert x_train.shape == (5, 28, 28) and y_test.tolist() == [7, 2]


def test_home_keras_cache_is_used(tmp_path, monkeypatch):
    monkeypatch.delenv("KERAS_HOME")
    sha = small_npz(tmp_path / "home" / ".keras" / "datasets" / "mnist.npz")
    monkeypatch.setattr(mnist, "SHA256", sha)
    assert mnist.load_data()[0][0].shape == (5, 28, 28)


def test_download_then_mitbadak_cache(tmp_path, monkeypatch, capsys):
    import urllib.request

    from mitbadak.utils import data_utils

    sha = small_npz(tmp_path / "server" / "mnist.npz")
    monkeypatch.setattr(mnist, "SHA256", sha)
    monkeypatch.setattr(mnist, "ORIGIN", (tmp_path / "server").as_uri() + "/")
    monkeypatch.setattr(data_utils, "_urlopen", urllib.request.urlopen)
    assert mnist.load_data()[0][1].tolist() == [0, 1, 2, 3, 4]
    assert (tmp_path / "mitbadak_home" / "datasets" / "mnist.npz").is_file()
    assert "Downloading data from file://" in capsys.readouterr().out
    mnist.load_data()
    assert "Downloading" not in capsys.readouterr().out


def test_offline_error_explains_the_three_ways(tmp_path, capsys):
    small_npz(tmp_path / "keras_home" / "datasets" / "mnist.npz")  # wrong hash: skipped, reported
    with pytest.raises(OSError) as info:
        mnist.load_data()
    message = str(info.value)
    for part in ("MITBADAK_DATASETS", "set_data_dir", ".keras/datasets/mnist.npz", "network",
                 "mnist_sample", "URL fetch failure", mnist.ORIGIN + "mnist.npz"):
        assert part in message
    assert "Skipping" in capsys.readouterr().out


# ---------------------------------------------------------------- shipped sample
def test_sample_structure_and_balance():
    assert mnist_sample.PATH.stat().st_size < 1_000_000
    (x_train, y_train), (x_test, y_test) = mnist_sample.load_data()
    assert x_train.shape == (3000, 28, 28) and y_train.shape == (3000,)
    assert x_test.shape == (1000, 28, 28) and y_test.shape == (1000,)
    assert all(a.dtype == np.uint8 for a in (x_train, y_train, x_test, y_test))
    assert np.bincount(y_train).tolist() == [300] * 10
    assert np.bincount(y_test).tolist() == [100] * 10
    assert 20 < x_train.mean() < 50  # looks like MNIST (mean pixel 33.3)
