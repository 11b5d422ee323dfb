"""Fashion-MNIST: 70,000 28x28 grayscale images of 10 kinds of clothing, MNIST's layout.

Dataset by Zalando Research (Han Xiao, Kashif Rasul, Roland Vollgraf), MIT licence.
Sources, in order: the offline folder ``<data dir>/fashion_mnist/`` (or ``fashion-mnist/``) with
the four canonical IDX ``.gz`` files, Keras's cache ``~/.keras/datasets/fashion-mnist/``,
mitbadak's cache, then a download. Labels: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress,
4 Coat, 5 Sandal, 6 Shirt, 7 Sneaker, 8 Bag, 9 Ankle boot.
"""
from __future__ import annotations

import os

from ..utils.data_utils import get_file, validate_file
from . import _idx
from ._sources import ORIGIN, from_keras_cache, offline_folder, unavailable

SUBDIR = "fashion-mnist"  # Keras's cache subfolder
# The published md5 of each .gz file (Keras itself checks none).
MD5 = {
    _idx.TRAIN_LABELS: "25c81989df183df01b3e8a0aad5dffbe",
    _idx.TRAIN_IMAGES: "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    _idx.TEST_LABELS: "bb300cfdad3c16e7a12a480ee83cd310",
    _idx.TEST_IMAGES: "bef4ecab320f06d8554ea6380940ec79",
}


def _from_offline_folder(folder):
    paths = _idx.find_idx_files(folder, "Fashion-MNIST")
    for name, path in paths.items():
        if not validate_file(path, MD5[name]):
            raise ValueError(f"{path}: its md5 is not the published {MD5[name]}. The file is corrupted "
                             f"or not the canonical Fashion-MNIST {name}; replace it with a fresh copy.")
    return paths


def _fetch(name):
    """One file from Keras's cache, else mitbadak's cache or the network (verified either way)."""
    cached = from_keras_cache(os.path.join(SUBDIR, name), MD5[name])
    if cached is not None:
        return cached
    try:
        return get_file(name, origin=ORIGIN + name, file_hash=MD5[name],
                        cache_subdir=os.path.join("datasets", SUBDIR))
    except OSError as err:
        raise unavailable("Fashion-MNIST", "fashion_mnist/ with the four canonical .gz files",
                          f"{SUBDIR}/{name}", err) from err


def load_data():
    """Load Fashion-MNIST as ``((x_train, y_train), (x_test, y_test))``.

    Shapes and dtypes: uint8 (60000, 28, 28), uint8 (60000,), uint8 (10000, 28, 28), uint8 (10000,).
    """
    folder = offline_folder("fashion_mnist", SUBDIR)
    if folder is not None:
        paths = _from_offline_folder(folder)
    else:
        paths = {name: _fetch(name) for name in _idx.FILES}
    return _idx.load_idx_dataset(paths)
