"""California housing prices (Keras 3): 20,640 districts of the 1990 US census, 8 features
each (median income, house age, average rooms and bedrooms, population, occupancy,
latitude, longitude); the target is the median house value in dollars.

From the StatLib repository (Pace & Barry, 1997), as Keras distributes it. Sources, in order:
``<data dir>/california_housing/california_housing.npz``, Keras's cache, mitbadak's cache,
then a download.
"""
from __future__ import annotations

import numpy as np

from ._sources import locate, shuffle_split

SHA256 = "1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88c3425e766f2a1a6f"


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
    fpath = locate("california_housing", path, SHA256, "the California housing data")
    with np.load(fpath, allow_pickle=False) as f:
        x, y = f["x"], f["y"]
    if version == "small":
        x, y = x[:600], y[:600]
    return shuffle_split(x, y, test_split, seed)
