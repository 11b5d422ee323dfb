"""A tiny IDX reader for MNIST, so that every framework gets the very same arrays.

The files are the canonical ``*-idx?-ubyte.gz`` files.  An IDX file starts with a
4-byte magic number (two zero bytes, a type code -- 0x08 = unsigned byte -- and the
number of dimensions), then one big-endian uint32 per dimension, then the raw data.
For images that header is 16 bytes, for labels 8 bytes.
"""
from __future__ import annotations

import gzip
import os
import struct

import numpy as np

_HERE = os.path.dirname(os.path.abspath(__file__))
# <repo>/../shared/datasets/mnist, i.e. /work/shared/datasets/mnist here.
DEFAULT_MNIST_DIR = os.path.normpath(os.path.join(_HERE, "..", "..", "shared", "datasets", "mnist"))

N_TRAIN = 48_000  # first 48,000 of the 60,000 training images (Keras's validation_split=0.2)
N_VAL = 12_000    # last 12,000


def mnist_dir() -> str:
    return os.environ.get("MITBADAK_BENCH_MNIST", DEFAULT_MNIST_DIR)


def read_idx(path: str) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        raw = f.read()
    zero, dtype_code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype_code != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    header = 4 + 4 * ndim  # 16 for images (3 dims), 8 for labels (1 dim)
    data = np.frombuffer(raw, dtype=np.uint8, offset=header)
    return data.reshape(dims)


def load_raw(directory: str | None = None):
    d = directory or mnist_dir()
    x_train = read_idx(os.path.join(d, "train-images-idx3-ubyte.gz"))
    y_train = read_idx(os.path.join(d, "train-labels-idx1-ubyte.gz"))
    x_test = read_idx(os.path.join(d, "t10k-images-idx3-ubyte.gz"))
    y_test = read_idx(os.path.join(d, "t10k-labels-idx1-ubyte.gz"))
    return (x_train, y_train), (x_test, y_test)


def _shape(x_uint8: np.ndarray, layout: str) -> np.ndarray:
    x = x_uint8.astype(np.float32) / np.float32(255.0)
    if layout == "flat":
        return np.ascontiguousarray(x.reshape(len(x), 784))
    if layout == "image2d":
        return np.ascontiguousarray(x)                         # (N, 28, 28)
    if layout == "image3d":
        return np.ascontiguousarray(x.reshape(len(x), 28, 28, 1))  # (N, 28, 28, 1), NHWC
    raise ValueError(layout)


def load_split(layout: str, n_train: int | None = None, n_val: int | None = None):
    """Return (x_tr, y_tr), (x_val, y_val) as float32 in [0, 1] and int64 labels.

    Train = first 48,000, validation = last 12,000 (optionally only the first
    ``n_train`` / ``n_val`` of each, for --quick runs).
    """
    (x, y), _ = load_raw()
    x_tr, y_tr = x[:N_TRAIN], y[:N_TRAIN]
    x_val, y_val = x[N_TRAIN:N_TRAIN + N_VAL], y[N_TRAIN:N_TRAIN + N_VAL]
    if n_train:
        x_tr, y_tr = x_tr[:n_train], y_tr[:n_train]
    if n_val:
        x_val, y_val = x_val[:n_val], y_val[:n_val]
    return ((_shape(x_tr, layout), y_tr.astype(np.int64)),
            (_shape(x_val, layout), y_val.astype(np.int64)))


def load_test(layout: str, n: int | None = None):
    _, (x, y) = load_raw()
    if n:
        x, y = x[:n], y[:n]
    return _shape(x, layout), y.astype(np.int64)
