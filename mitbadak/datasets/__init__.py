"""Ready-made datasets with Keras's ``load_data()`` API, downloaded once, verified, cached.

Each loader looks first in the offline data folder (``set_data_dir(path)``, by default
``$MITBADAK_DATASETS``), then in Keras's cache, then in mitbadak's cache, and downloads only
when none has the data. ``mnist_sample`` ships inside the package and needs nothing.
"""
from . import (boston_housing, california_housing, cifar10, cifar100, fashion_mnist, imdb, mnist,
               mnist_sample, reuters)
from ._sources import get_data_dir, set_data_dir

__all__ = ["boston_housing", "california_housing", "cifar10", "cifar100", "fashion_mnist", "imdb",
           "mnist", "mnist_sample", "reuters", "get_data_dir", "set_data_dir"]
