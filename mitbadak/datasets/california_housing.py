"""California housing prices (Keras 3): 20,640 districts of the 1990 US census, 8 features
each (median income, house age, average rooms and bedrooms, population, occupancy,
latitude, longitude); the target is the median house value in dollars.

From the StatLib repository (Pace & Barry, 1997), as Keras distributes it. Sources, in order:
``<data dir>/california_housing/california_housing.npz``, Keras's cache, mitbadak's cache,
then a download.
"""
from __future__ import annotations

import numpy as np

from ..utils.data_utils import get_file, validate_file
from ._sources import ORIGIN, from_keras_cache, offline_folder, unavailable

SHA256 = "1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88c3425e766f2a1a6f"


def _locate(path):
    folder = offline_folder("california_housing")
    if folder is not None:
        fpath = folder / "california_housing.npz"
        if not fpath.is_file():
            raise FileNotFoundError(f"{fpath} is missing: the offline folder {folder} must "
                                    f"hold it.")
        if not validate_file(fpath, SHA256):
            raise ValueError(f"{fpath}: its sha256 is not {SHA256}; the file is damaged or not "
                             "Keras's california_housing.npz. Replace it with a fresh copy.")
        return fpath
    cached = from_keras_cache(path, SHA256)
    if cached is not None:
        return cached
    try:
        return get_file(path, origin=ORIGIN + "california_housing.npz", file_hash=SHA256)
    except OSError as err:
        raise unavailable("the California housing data",
                          "california_housing/california_housing.npz",
                          "california_housing.npz", err) from err


def load_data(version: str = "large", path: str = "california_housing.npz",
              test_split: float = 0.2, seed: int = 113):
    """Load ``((x_train, y_train), (x_test, y_test))``, shuffled and split as Keras does.

    version 'large' has all 20,640 rows, 'small' the first 600. The rows are permuted with
    ``np.random.RandomState(seed).shuffle`` and the first ``int(n·(1 − test_split))`` train:
    float32 (16512, 8) and (4128, 8) with the defaults.
    """
    if not 0 <= test_split < 1:
        raise ValueError(f"test_split: expected a fraction in [0, 1); got {test_split!r}")
    if version not in ("large", "small"):
        raise ValueError(f"version must be 'large' or 'small'; got {version!r}")
    with np.load(_locate(path), allow_pickle=False) as f:
        x, y = f["x"], f["y"]
    if version == "small":
        x, y = x[:600], y[:600]
    indices = np.arange(len(x))
    np.random.RandomState(seed).shuffle(indices)
    x, y = x[indices], y[indices]
    n_train = int(len(x) * (1 - test_split))
    return (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:])
