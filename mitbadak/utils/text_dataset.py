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
    labels, label_mode = dataset_utils.check_labels_arg(labels, label_mode, class_names,
                                                        "text")
    if format not in ("tf", "grain"):
        raise ValueError(f"format must be 'tf' or 'grain'; got {format!r}.")
    dataset_utils.check_validation_split_arg(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = numpy.random.randint(1e6)
    paths, labels, class_names = dataset_utils.index_directory(
        directory, labels, (".txt",), class_names, shuffle, seed, follow_links, verbose)
    loader = TextLoader(max_length)
    return dataset_utils.make_subsets(
        lambda part, encoded, shuffled: paths_and_labels_to_dataset(
            part, encoded, loader, batch_size, shuffled, seed, class_names),
        paths, labels, class_names, label_mode, validation_split, subset, shuffle,
        f"No {{what}}text files found in directory {os.fspath(directory)}. "
        f"Allowed format: .txt")
