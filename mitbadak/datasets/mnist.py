"""MNIST handwritten digits: 60,000 training and 10,000 test images, 28x28 grayscale.

Dataset by Yann LeCun, Corinna Cortes and Christopher J.C. Burges, CC BY-SA 3.0.
Sources, in order (see ``mitbadak.datasets._sources``): the offline folder ``<data dir>/mnist/``
with the four canonical IDX ``.gz`` files, Keras's cached ``mnist.npz``, mitbadak's cache,
then a download of Keras's ``mnist.npz``.
"""
from __future__ import annotations

import numpy as np

from ..utils.data_utils import get_file
from . import _idx
from ._sources import ORIGIN, from_keras_cache, offline_folder, unavailable

SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"  # Keras's mnist.npz
# md5 of the decompressed canonical IDX files: recompressing them does not change these.
CONTENT_MD5 = {
    _idx.TRAIN_IMAGES: "6bbc9ace898e44ae57da46a324031adb",
    _idx.TRAIN_LABELS: "a25bea736e30d166cdddb491f175f624",
    _idx.TEST_IMAGES: "2646ac647ad5339dbf082846283269ea",
    _idx.TEST_LABELS: "27ae3e4e09519cfbb04c329615203637",
}


def _load_npz(path):
    with np.load(path, allow_pickle=False) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])


def load_data(path: str = "mnist.npz"):
    """Load MNIST as ``((x_train, y_train), (x_test, y_test))``.

    Shapes and dtypes: uint8 (60000, 28, 28), uint8 (60000,), uint8 (10000, 28, 28), uint8 (10000,);
    pixels 0..255, labels 0..9. ``path`` is the file name in the caches, as in Keras.
    """
    folder = offline_folder("mnist")
    if folder is not None:
        return _idx.load_idx_dataset(_idx.find_idx_files(folder, "MNIST"), CONTENT_MD5)
    cached = from_keras_cache(path, SHA256)
    if cached is not None:
        return _load_npz(cached)
    try:
        fpath = get_file(path, origin=ORIGIN + "mnist.npz", file_hash=SHA256)
    except OSError as err:
        raise unavailable("MNIST", "mnist/ with the four canonical IDX .gz files", "mnist.npz", err,
                          "Offline now? mitbadak.datasets.mnist_sample.load_data() returns a "
                          "3000/1000-image MNIST subset shipped inside the package.") from err
    return _load_npz(fpath)
