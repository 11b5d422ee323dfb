"""CIFAR-10: 60,000 32x32 colour images in 10 classes, 50,000 for training and 10,000 for
testing. Dataset by Alex Krizhevsky, Vinod Nair and Geoffrey Hinton (2009).

Labels: 0 airplane, 1 automobile, 2 bird, 3 cat, 4 deer, 5 dog, 6 frog, 7 horse, 8 ship,
9 truck. Where the files are looked for: see ``_cifar``; the offline folder is
``<data dir>/cifar10/`` (or ``cifar-10-batches-py/``).
"""
from __future__ import annotations

import numpy as np

from ._cifar import Cifar, images

SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
FILES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch",)
CIFAR10 = Cifar("CIFAR-10", ("cifar10", "cifar-10-batches-py"), "cifar-10-python.tar.gz",
                SHA256, "cifar-10-batches-py", FILES, {"labels": 10})
CLASS_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
               "ship", "truck"]


def load_data():
    """Load CIFAR-10 as ``((x_train, y_train), (x_test, y_test))``, as Keras does.

    uint8 (50000, 32, 32, 3), uint8 (50000, 1), uint8 (10000, 32, 32, 3), uint8 (10000, 1);
    training images in the order of data_batch_1 ... data_batch_5. With
    ``image_data_format() == 'channels_first'`` the images are (n, 3, 32, 32).
    """
    batches = CIFAR10.read()
    train = [batches[f"data_batch_{i}"] for i in range(1, 6)]
    x_train = images(np.concatenate([b["data"] for b in train]))
    y_train = np.concatenate([np.asarray(b["labels"], dtype=np.uint8) for b in train])
    test = batches["test_batch"]
    x_test = images(test["data"])
    y_test = np.asarray(test["labels"], dtype=np.uint8)
    return (x_train, y_train.reshape(-1, 1)), (x_test, y_test.reshape(-1, 1))
