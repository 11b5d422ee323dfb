"""Boston housing prices: 506 houses, 13 features each, target = median value in $1000s.

From the StatLib archive (Harrison & Rubinfeld, 1978), as Keras distributes it. The data has
known ethical problems (one feature encodes race) and is kept for compatibility and teaching.
Sources, in order: ``<data dir>/boston_housing/boston_housing.npz``, Keras's cache,
mitbadak's cache, then a download.
"""
from __future__ import annotations

import numpy as np

from ._sources import locate, shuffle_split

SHA256 = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"


def load_data(path: str = "boston_housing.npz", test_split: float = 0.2, seed: int = 113):
    """Load ``((x_train, y_train), (x_test, y_test))``, shuffled and split exactly as Keras does.

    With the defaults: float64 (404, 13), (404,), (102, 13), (102,). The rows are permuted with
    ``np.random.RandomState(seed).shuffle``, then the first ``int(506 * (1 - test_split))`` train.
    """
    if not 0 <= test_split < 1:
        raise ValueError(f"test_split: expected a fraction in [0, 1); got {test_split!r}")
    fpath = locate("boston_housing", path, SHA256, "the Boston housing data")
    with np.load(fpath, allow_pickle=False) as f:
        x, y = f["x"], f["y"]
    return shuffle_split(x, y, test_split, seed)
