"""A small MNIST subset shipped inside the package, so examples and tests work fully offline.

3,000 training images (300 per digit) and 1,000 test images (100 per digit), drawn
deterministically from MNIST's training and test sets by ``tools/make_mnist_sample.py``; the
file also records which MNIST rows they are (``train_indices``, ``test_indices``).

MNIST is by Yann LeCun, Corinna Cortes and Christopher J.C. Burges, distributed under the
Creative Commons Attribution-Share Alike 3.0 licence (CC BY-SA 3.0); this subset is under the same.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

PATH = Path(__file__).resolve().parent / "data" / "mnist_sample.npz"


def load_data():
    """Load the subset as ``((x_train, y_train), (x_test, y_test))``, like ``mnist.load_data()``.

    Shapes and dtypes: uint8 (3000, 28, 28), uint8 (3000,), uint8 (1000, 28, 28), uint8 (1000,).
    """
    with np.load(PATH, allow_pickle=False) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
