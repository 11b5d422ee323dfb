"""CIFAR-100: 60,000 32x32 colour images in 100 classes grouped into 20 superclasses; 50,000
for training, 10,000 for testing. Dataset by Alex Krizhevsky (2009).

Where the files are looked for: see ``_cifar``; the offline folder is ``<data dir>/cifar100/``
(or ``cifar-100-python/``).
"""
from __future__ import annotations

import numpy as np

from ._cifar import Cifar, images

SHA256 = "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7"
CIFAR100 = Cifar("CIFAR-100", ("cifar100", "cifar-100-python"), "cifar-100-python.tar.gz",
                 SHA256, "cifar-100-python", ("train", "test"),
                 {"fine_labels": 100, "coarse_labels": 20})


def load_data(label_mode: str = "fine"):
    """Load CIFAR-100 as ``((x_train, y_train), (x_test, y_test))``, as Keras does.

    label_mode 'fine' gives the 100 classes, 'coarse' the 20 superclasses. uint8
    (50000, 32, 32, 3) and (10000, 32, 32, 3) images; labels int64 (n, 1) (Keras reshapes the
    files' Python lists without casting them).
    """
    if label_mode not in ("fine", "coarse"):
        raise ValueError(f"cifar100.load_data: label_mode must be 'fine' or 'coarse'; got "
                         f"{label_mode!r}.")
    batches = CIFAR100.read()
    key = f"{label_mode}_labels"
    out = []
    for name in ("train", "test"):
        b = batches[name]
        out.append((images(b["data"]), np.reshape(np.asarray(b[key], dtype=np.int64), (-1, 1))))
    return tuple(out)
