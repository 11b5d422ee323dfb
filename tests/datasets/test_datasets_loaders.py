"""Fashion-MNIST and Boston housing loaders, on small stand-in files (no network)."""
from __future__ import annotations

import gzip
import hashlib

import numpy as np
import pytest

from mitbadak import datasets
from mitbadak.datasets import _idx, boston_housing, fashion_mnist


def write_fashion(folder, monkeypatch):
    """Small canonical-name .gz files in ``folder``; patches the published md5s to theirs."""
    folder.mkdir(parents=True, exist_ok=True)
    md5 = {}
    for name in _idx.FILES:
        n = 6 if name.startswith("train") else 4
        shape = (n, 28, 28) if "images" in name else (n,)
        magic = bytes([0, 0, 8, len(shape)]) + np.array(shape, ">u4").tobytes()
        data = gzip.compress(magic + np.full(shape, 3, np.uint8).tobytes())
        (folder / name).write_bytes(data)
        md5[name] = hashlib.md5(data).hexdigest()
    monkeypatch.setattr(fashion_mnist, "MD5", md5)


@pytest.mark.parametrize("subfolder", ["fashion_mnist", "fashion-mnist"])
def test_fashion_offline_folder(tmp_path, monkeypatch, subfolder):
    write_fashion(tmp_path / "data" / subfolder, monkeypatch)
    datasets.set_data_dir(tmp_path / "data")
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    assert x_train.shape == (6, 28, 28) and y_train.shape == (6,)
    assert x_test.shape == (4, 28, 28) and y_test.dtype == np.uint8


def test_fashion_published_md5_is_checked(tmp_path, monkeypatch):
    write_fashion(tmp_path / "data" / "fashion_mnist", monkeypatch)
    monkeypatch.setattr(fashion_mnist, "MD5", {**fashion_mnist.MD5, _idx.TEST_IMAGES: "f" * 32})
    datasets.set_data_dir(tmp_path / "data")
    with pytest.raises(ValueError, match=_idx.TEST_IMAGES):
        fashion_mnist.load_data()


def test_fashion_keras_cache_and_offline_error(tmp_path, monkeypatch):
    write_fashion(tmp_path / "keras_home" / "datasets" / "fashion-mnist", monkeypatch)
    assert fashion_mnist.load_data()[1][0].shape == (4, 28, 28)
    (tmp_path / "keras_home" / "datasets" / "fashion-mnist" / _idx.TEST_LABELS).unlink()
    with pytest.raises(OSError, match="t10k-labels-idx1-ubyte.gz") as info:
        fashion_mnist.load_data()
    assert "MITBADAK_DATASETS" in str(info.value)


def write_boston(path, monkeypatch):
    path.parent.mkdir(parents=True, exist_ok=True)
    x = np.arange(506 * 13, dtype=np.float64).reshape(506, 13)
    np.savez(path, x=x, y=np.arange(506, dtype=np.float64))
    monkeypatch.setattr(boston_housing, "SHA256", hashlib.sha256(path.read_bytes()).hexdigest())
    return x


def test_boston_split_matches_keras(tmp_path, monkeypatch):
    x = write_boston(tmp_path / "keras_home" / "datasets" / "boston_housing.npz", monkeypatch)
    (x_train, y_train), (x_test, y_test) = boston_housing.load_data()
    assert x_train.shape == (404, 13) and y_train.shape == (404,)
    assert x_test.shape == (102, 13) and y_test.shape == (102,)
    order = np.arange(506)
    np.random.RandomState(113).shuffle(order)
    np.testing.assert_array_equal(y_train, order[:404])
    np.testing.assert_array_equal(x_test, x[order[404:]])
    with pytest.raises(ValueError, match="test_split"):
        boston_housing.load_data(test_split=1.0)


def test_boston_offline_folder_checked(tmp_path, monkeypatch):
    write_boston(tmp_path / "data" / "boston_housing" / "boston_housing.npz", monkeypatch)
    datasets.set_data_dir(tmp_path / "data")
    assert boston_housing.load_data(test_split=0.5)[0][0].shape == (253, 13)
    monkeypatch.setattr(boston_housing, "SHA256", "0" * 64)
    with pytest.raises(ValueError, match="boston_housing.npz"):
        boston_housing.load_data()
