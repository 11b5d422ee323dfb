"""Which files a folder tree holds, their labels, and the training/validation split, by
Keras's rules (shared by ``image_dataset_from_directory`` and ``text_dataset_from_directory``).

- ``labels='inferred'``: each subfolder of `directory` is a class, in alphanumeric order
  (hidden folders skipped), or in the order of ``class_names``; a file's label is its class's
  index. Files are found walking each class folder (subfolders too), folders and files in
  sorted order, keeping the allowed extensions (case-insensitive).
- ``shuffle``: the file list and the labels are permuted with ``numpy.random.RandomState(seed)``
  (the same permutation for both), as Keras does, so the same seed gives the same order.
- ``validation_split=v``: the last ``int(v·n)`` files (of that order) validate, the rest train.
"""
from __future__ import annotations

import os
from typing import Any

import numpy


def check_validation_split_arg(validation_split: Any, subset: Any, shuffle: bool,
                               seed: Any) -> None:
    if validation_split and not 0 < validation_split < 1:
        raise ValueError(f"validation_split must be between 0 and 1; got {validation_split!r}.")
    if (validation_split or subset) and not (validation_split and subset):
        raise ValueError("If `subset` is set, `validation_split` must be set, and inversely.")
    if subset not in ("training", "validation", "both", None):
        raise ValueError(f"subset must be 'training', 'validation' or 'both'; got {subset!r}.")
    if validation_split and shuffle and seed is None:
        raise ValueError("With validation_split and shuffle=True, give a seed, so that the "
                         "training and validation subsets do not overlap (each call shuffles "
                         "with the seed, then splits).")


def _valid_files(directory: str, follow_links: bool, formats: tuple):
    """(root, file name) of every allowed file under `directory`, in sorted walk order."""
    walk = sorted(os.walk(directory, followlinks=follow_links), key=lambda w: w[0])
    for root, _, files in walk:
        for name in sorted(files):
            if name.lower().endswith(formats):
                yield root, name


def index_directory(directory: Any, labels: Any, formats: tuple, class_names: Any = None,
                    shuffle: bool = True, seed: int | None = None, follow_links: bool = False,
                    verbose: bool = True) -> tuple:
    """(file paths, labels or None, class names or None) for the files under `directory`."""
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise ValueError(f"Could not find directory {directory!r}: expected a folder with one "
                         f"subfolder per class (e.g. train/cat/*.jpg, train/dog/*.jpg).")
    if labels == "inferred":
        subdirs = [d for d in sorted(os.listdir(directory))
                   if os.path.isdir(os.path.join(directory, d)) and not d.startswith(".")]
        if class_names is not None:
            if not set(class_names).issubset(subdirs):
                raise ValueError(f"The class_names passed did not match the names of the "
                                 f"subdirectories of the target directory. Expected: {subdirs} "
                                 f"(or a subset of it), but received: class_names="
                                 f"{list(class_names)}")
            subdirs = list(class_names)
    else:
        if class_names is not None:
            if labels is None:
                raise ValueError("When labels=None (no labels), class_names cannot be given.")
            raise ValueError("When labels are given, class_names cannot be given (they are the "
                             "sorted list of the labels).")
        subdirs = [""]
    filenames, per_class = [], []
    for sub in subdirs:
        folder = os.path.join(directory, sub)
        found = [os.path.join(os.path.basename(folder),
                              os.path.relpath(os.path.join(root, name), folder))
                 for root, name in _valid_files(folder, follow_links, formats)]
        filenames += found
        per_class.append(len(found))
    if labels == "inferred":
        labels = numpy.repeat(numpy.arange(len(subdirs), dtype=numpy.int32), per_class)
        class_names = subdirs
    elif labels is None:
        class_names = None
    else:
        if len(labels) != len(filenames):
            raise ValueError(f"Expected the lengths of `labels` to match the number of files in "
                             f"the target directory. len(labels) is {len(labels)} while we found "
                             f"{len(filenames)} files in directory {directory}.")
        class_names = [str(v) for v in sorted(set(labels))]
        labels = list(labels)
    if verbose:
        if labels is None:
            print(f"Found {len(filenames)} files.")
        else:
            print(f"Found {len(filenames)} files belonging to {len(class_names)} classes.")
    paths = [os.path.join(directory, f) for f in filenames]
    if shuffle:
        if seed is None:
            seed = numpy.random.randint(1e6)
        numpy.random.RandomState(seed).shuffle(paths)
        if labels is not None:
            numpy.random.RandomState(seed).shuffle(labels)
    return paths, labels, class_names


def get_training_or_validation_split(samples: list, labels: Any, validation_split: Any,
                                     subset: str | None) -> tuple:
    """The training (all but the last int(v·n)) or validation (the last int(v·n)) part."""
    if not validation_split:
        return samples, labels
    n_val = int(validation_split * len(samples))
    if subset == "training":
        print(f"Using {len(samples) - n_val} files for training.")
        samples = samples[:-n_val] if n_val else samples
        labels = None if labels is None else (labels[:-n_val] if n_val else labels)
    elif subset == "validation":
        print(f"Using {n_val} files for validation.")
        samples = samples[-n_val:] if n_val else []
        labels = None if labels is None else (labels[-n_val:] if n_val else labels[:0])
    else:
        raise ValueError(f"subset must be 'training' or 'validation'; got {subset!r}.")
    return samples, labels


def check_labels_arg(labels: Any, label_mode: Any, class_names: Any,
                     item: str) -> tuple[Any, Any]:
    """Keras's checks of labels / label_mode / class_names; returns (labels, label_mode),
    both None when there are to be no labels. `item` names a file ("image", "text")."""
    if labels not in ("inferred", None):
        if not isinstance(labels, (list, tuple)):
            raise ValueError(f"labels should be 'inferred', None, or a list/tuple of integer "
                             f"labels, one per {item} file in the directory; got {labels!r}.")
        if class_names:
            raise ValueError(f"You can only pass class_names if labels='inferred'; got "
                             f"labels={labels!r} and class_names={class_names!r}.")
    if label_mode not in ("int", "categorical", "binary", None):
        raise ValueError(f"label_mode must be 'int', 'categorical', 'binary' or None; got "
                         f"{label_mode!r}.")
    if labels is None or label_mode is None:
        return None, None
    return labels, label_mode


def make_subsets(build: Any, paths: list, labels: Any, class_names: list, label_mode: Any,
                 validation_split: Any, subset: Any, shuffle: bool, none_found: str) -> Any:
    """The dataset for `subset`, or [training, validation] for 'both' (as in Keras, the
    validation part is not shuffled): ``build(paths, encoded labels, shuffled)`` makes one.
    `none_found` is the error for an empty part, with {what} for "training "/"validation "."""
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError(f"label_mode='binary' needs exactly 2 classes; found class_names="
                         f"{class_names}.")
    n_classes = len(class_names) if class_names else 0

    def make(name: Any, shuffled: bool) -> Any:
        part, part_labels = get_training_or_validation_split(paths, labels, validation_split,
                                                             name)
        if not part:
            what = f"{name} " if name in ("training", "validation") else ""
            raise ValueError(none_found.replace("{what}", what))
        return build(part, encode_labels(part_labels, label_mode, n_classes), shuffled)
    if subset == "both":
        return [make("training", shuffle), make("validation", False)]
    return make(subset, shuffle)


def encode_labels(labels: Any, label_mode: str | None, num_classes: int) -> Any:
    """Labels as Keras's datasets yield them: 'int' int32, 'binary' float32 (n, 1),
    'categorical' one-hot float32 (n, num_classes)."""
    if label_mode is None:
        return None
    labels = numpy.asarray(labels)
    if label_mode == "binary":
        return labels.astype(numpy.float32).reshape(-1, 1)
    if label_mode == "categorical":
        return numpy.eye(num_classes, dtype=numpy.float32)[labels.astype(numpy.int64)]
    return labels.astype(numpy.int32)
