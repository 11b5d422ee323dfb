"""``text_dataset_from_directory``: a folder of ``.txt`` files, one subfolder per class, as a
Dataset of ``(texts, labels)`` batches, the way Keras builds it (DLwP ch. 11's IMDB folders).

    ds = keras.utils.text_dataset_from_directory("aclImdb/train", batch_size=32)
    # Found 25000 files belonging to 2 classes.
    for texts, labels in ds.take(1): texts[0]      # a str; labels int32 (32,)

Files, labels, order and split: see ``dataset_utils``; shuffling, batching and reading ahead
as in ``image_dataset``. A text is the file's content decoded as UTF-8 (NumPy object arrays
of str; TensorFlow gives bytes), cut to its first ``max_length`` bytes when given.
"""
from __future__ import annotations

import os
from typing import Any

import numpy

from . import dataset_utils
from .image_dataset import paths_and_labels_to_dataset


class TextLoader:
    """A path -> its text (the first max_length bytes, as tf.strings.substr counts)."""

    def __init__(self, max_length: int | None):
        self.max_length = max_length

    def __call__(self, path: str) -> str:
        with open(path, "rb") as f:
            data = f.read() if self.max_length is None else f.read(self.max_length)
        return data.decode("utf-8", errors="ignore" if self.max_length else "replace")


def text_dataset_from_directory(directory: Any, labels: Any = "inferred",
                                label_mode: str | None = "int", class_names: Any = None,
                                batch_size: int | None = 32, max_length: int | None = None,
                                shuffle: bool = True, seed: int | None = None,
                                validation_split: float | None = None, subset: str | None = None,
                                follow_links: bool = False, format: str = "tf",
                                verbose: bool = True) -> Any:
    """A Dataset of (texts, labels) batches from `directory`; arguments as
    ``image_dataset_from_directory``'s. subset='both' returns [training, validation]."""
    if labels not in ("inferred", None):
        if not isinstance(labels, (list, tuple)):
            raise ValueError(f"labels should be 'inferred', None, or a list/tuple of integer "
                             f"labels, one per text file in the directory; got {labels!r}.")
        if class_names:
            raise ValueError(f"You can only pass class_names if labels='inferred'; got "
                             f"labels={labels!r} and class_names={class_names!r}.")
    if label_mode not in ("int", "categorical", "binary", None):
        raise ValueError(f"label_mode must be 'int', 'categorical', 'binary' or None; got "
                         f"{label_mode!r}.")
    if format not in ("tf", "grain"):
        raise ValueError(f"format must be 'tf' or 'grain'; got {format!r}.")
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    dataset_utils.check_validation_split_arg(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = numpy.random.randint(1e6)
    paths, labels, class_names = dataset_utils.index_directory(
        directory, labels, (".txt",), class_names, shuffle, seed, follow_links, verbose)
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError(f"label_mode='binary' needs exactly 2 classes; found class_names="
                         f"{class_names}.")
    loader, n_classes = TextLoader(max_length), len(class_names) if class_names else 0

    def make(split_paths, split_labels, subset_name, shuffled):
        if not split_paths:
            what = f"{subset_name} " if subset_name in ("training", "validation") else ""
            raise ValueError(f"No {what}text files found in directory "
                             f"{os.fspath(directory)}. Allowed format: .txt")
        return paths_and_labels_to_dataset(
            split_paths, dataset_utils.encode_labels(split_labels, label_mode, n_classes),
            loader, batch_size, shuffled, seed, class_names)

    return dataset_utils.make_subsets(make, paths, labels, validation_split, subset, shuffle)
