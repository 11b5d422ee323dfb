"""IDX reading: header, magic numbers, sizes, gzip, and the four-file MNIST layout."""
from __future__ import annotations

import gzip
import hashlib

import numpy as np
import pytest

from mitbadak.datasets import _idx


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode a uint8 array as IDX: 00 00 08 ndim, big-endian sizes, payload."""
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    return header + array.astype(np.uint8).tobytes()


def write_set(folder, n_train=6, n_test=4, gz=True):
    """The four canonical files with small random contents; returns {name: path}."""
    rng = np.random.default_rng(0)
    arrays = {
        _idx.TRAIN_IMAGES: rng.integers(0, 256, (n_train, 28, 28)),
        _idx.TRAIN_LABELS: rng.integers(0, 10, n_train),
        _idx.TEST_IMAGES: rng.integers(0, 256, (n_test, 28, 28)),
        _idx.TEST_LABELS: rng.integers(0, 10, n_test),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name, array in arrays.items():
        data = idx_bytes(array)
        (folder / name).write_bytes(gzip.compress(data) if gz else data)
    return arrays


@pytest.mark.parametrize("gz", [True, False])
def test_read_idx_round_trip_gz_and_raw(tmp_path, gz):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = tmp_path / "x.idx"
    data = idx_bytes(images)
    path.write_bytes(gzip.compress(data) if gz else data)
    out = _idx.read_idx(path, magic=_idx.IMAGES_MAGIC)
    assert out.dtype == np.uint8 and out.shape == (2, 3, 4)
    np.testing.assert_array_equal(out, images)
    out[0, 0, 0] = 7  # callers may modify what they get
    labels = tmp_path / "y.idx"
    labels.write_bytes(idx_bytes(np.array([3, 1, 4], np.uint8)))
    np.testing.assert_array_equal(_idx.read_idx(labels, magic=_idx.LABELS_MAGIC), [3, 1, 4])


def test_wider_types_decode_big_endian():
    data = bytes([0, 0, 0x0C, 1]) + np.array([2], ">u4").tobytes() + np.array([1, -2], ">i4").tobytes()
    out = _idx.parse_idx(data)
    assert out.dtype == np.int32 and out.dtype.isnative
    np.testing.assert_array_equal(out, [1, -2])


def test_wrong_magic_names_file_and_numbers(tmp_path):
    path = tmp_path / "train-labels-idx1-ubyte"
    path.write_bytes(idx_bytes(np.zeros((2, 28, 28), np.uint8)))
    with pytest.raises(ValueError) as info:
        _idx.read_idx(path, magic=_idx.LABELS_MAGIC)
    message = str(info.value)
    assert str(path) in message and "2049" in message and "2051" in message


def test_payload_length_checked_against_header(tmp_path):
    path = tmp_path / "cut.idx"
    path.write_bytes(idx_bytes(np.zeros((3, 28, 28), np.uint8))[:-10])
    with pytest.raises(ValueError, match="truncated") as info:
        _idx.read_idx(path)
    assert str(path) in str(info.value)
    path.write_bytes(idx_bytes(np.zeros(3, np.uint8)) + b"\0")  # one byte too many
    with pytest.raises(ValueError, match=r"\(3,\) = 3 bytes"):
        _idx.read_idx(path)


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 a zip", bytes([0, 0, 0x08, 3, 0, 0])])
def test_not_idx_or_short_header(tmp_path, content):
    path = tmp_path / "junk"
    path.write_bytes(content)
    with pytest.raises(ValueError) as info:
        _idx.read_idx(path)
    assert str(path) in str(info.value)


def test_broken_gzip_names_file(tmp_path):
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros((2, 28, 28), np.uint8)))[:-20])
    with pytest.raises(ValueError, match="gzip") as info:
        _idx.read_idx(path)
    assert str(path) in str(info.value)


def test_load_idx_dataset_structure_and_md5(tmp_path):
    arrays = write_set(tmp_path)
    paths = _idx.find_idx_files(tmp_path, "test")
    md5 = {name: hashlib.md5(idx_bytes(a)).hexdigest() for name, a in arrays.items()}
    (x_train, y_train), (x_test, y_test) = _idx.load_idx_dataset(paths, md5)
    assert x_train.shape == (6, 28, 28) and y_train.shape == (6,)
    assert x_test.shape == (4, 28, 28) and y_test.shape == (4,)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    np.testing.assert_array_equal(y_test, arrays[_idx.TEST_LABELS])

    md5[_idx.TEST_IMAGES] = "0" * 32
    with pytest.raises(ValueError) as info:
        _idx.load_idx_dataset(paths, md5)
    message = str(info.value)
    assert str(paths[_idx.TEST_IMAGES]) in message and "0" * 32 in message


def test_missing_file_and_count_mismatch(tmp_path):
    write_set(tmp_path)
    (tmp_path / _idx.TRAIN_LABELS).unlink()
    with pytest.raises(FileNotFoundError, match=_idx.TRAIN_LABELS):
        _idx.find_idx_files(tmp_path, "MNIST")
    (tmp_path / _idx.TRAIN_LABELS).write_bytes(idx_bytes(np.zeros(5, np.uint8)))  # 6 images
    with pytest.raises(ValueError, match="6 images"):
        _idx.load_idx_dataset(_idx.find_idx_files(tmp_path, "MNIST"))
