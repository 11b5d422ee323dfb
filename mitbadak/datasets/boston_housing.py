"""Boston housing prices: 506 houses, 13 features each, target = median value in $1000s.

From the StatLib archive (Harrison & Rubinfeld, 1978), as Keras distributes it. The data has
known ethical problems (one feature encodes race) and is kept for compatibility and teaching.
Sources, in order: ``<data dir>/boston_housing/boston_housing.npz``, Keras's cache,
mitbadak's cache, then a download.
"""
from __future__ import annotations

import numpy as np

from ..utils.data_utils import get_file, validate_file
from ._sources import ORIGIN, from_keras_cache, offline_folder, unavailable

SHA256 = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"


def _locate(path):
    folder = offline_folder("boston_housing")
    if folder is not None:
        fpath = folder / "boston_housing.npz"
        if not fpath.is_file():
            raise FileNotFoundError(f"{fpath} is missing: the offline folder {folder} must hold it.")
        if not validate_file(fpath, SHA256):
            raise ValueError(f"{fpath}: its sha256 is not {SHA256}; the file is corrupted or not "
                             "Keras's boston_housing.npz. Replace it with a fresh copy.")
        return fpath
    cached = from_keras_cache(path, SHA256)
    if cached is not None:
        return cached
    try:
        return get_file(path, origin=ORIGIN + "boston_housing.npz", file_hash=SHA256)
    except OSError as err:
        raise unavailable("the Boston housing data", "boston_housing/boston_housing.npz",
                          "boston_housing.npz", err) from err


def load_data(path: str = "boston_housing.npz", test_split: float = 0.2, seed: int = 113):
    """Load ``((x_train, y_train), (x_test, y_test))``, shuffled and split exactly as Keras does.

    With the defaults: float64 (404, 13), (404,), (102, 13), (102,). The rows are permuted with
    ``np.random.RandomState(seed).shuffle``, then the first ``int(506 * (1 - test_split))`` train.
    """
    if not 0 <= test_split < 1:
        raise ValueError(f"test_split: expected a fraction in [0, 1); got {test_split!r}")
    with np.load(_locate(path), allow_pickle=False) as f:
        x, y = f["x"], f["y"]
    indices = np.arange(len(x))
    np.random.RandomState(seed).shuffle(indices)
    x, y = x[indices], y[indices]
    n_train = int(len(x) * (1 - test_split))
    return (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:])
