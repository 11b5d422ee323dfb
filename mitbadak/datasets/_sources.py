"""Where dataset files come from, in the order the loaders try them.

1. the offline data folder: ``set_data_dir(path)``, by default ``$MITBADAK_DATASETS``;
   it holds one subfolder per dataset (``mnist/``, ``fashion_mnist/``, ...) with canonical names;
2. Keras's cache: ``$KERAS_HOME/datasets`` or ``~/.keras/datasets`` (read, never written);
3. mitbadak's cache: ``$MITBADAK_HOME/datasets`` or ``~/.mitbadak/datasets``;
4. the network: Keras's dataset URLs, downloaded once into mitbadak's cache.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..utils.data_utils import _resolve_algorithm, cache_root, get_file, validate_file

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"

_data_dir: str | None = None  # set by set_data_dir; None means "use $MITBADAK_DATASETS"


def set_data_dir(path: str | os.PathLike | None) -> None:
    """Use ``path`` as the offline data folder; ``None`` goes back to ``$MITBADAK_DATASETS``."""
    global _data_dir
    if path is None:
        _data_dir = None
        return
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise NotADirectoryError(f"set_data_dir: expected an existing folder holding e.g. mnist/; "
                                 f"got {str(path)!r}, which is not a folder.")
    _data_dir = str(folder.resolve())


def get_data_dir() -> str | None:
    """The offline data folder: ``set_data_dir``'s, else ``$MITBADAK_DATASETS``, else None."""
    return _data_dir or os.environ.get("MITBADAK_DATASETS") or None


def offline_folder(*names: str) -> Path | None:
    """The first ``<data dir>/<name>`` that exists as a folder, or None."""
    data_dir = get_data_dir()
    if data_dir is None:
        return None
    for name in names:
        if (Path(data_dir) / name).is_dir():
            return Path(data_dir) / name
    return None


def keras_cache_dirs() -> list[Path]:
    """Keras's dataset cache folders: ``$KERAS_HOME/datasets`` and ``~/.keras/datasets``."""
    roots = [os.environ.get("KERAS_HOME"), os.path.join(os.path.expanduser("~"), ".keras")]
    dirs = [Path(root) / "datasets" for root in roots if root]
    return list(dict.fromkeys(dirs))  # same folder once


def from_keras_cache(relpath: str, file_hash: str) -> Path | None:
    """A verified copy of ``relpath`` in Keras's cache, or None; a bad copy is reported and skipped."""
    for folder in keras_cache_dirs():
        candidate = folder / relpath
        if candidate.is_file():
            if validate_file(candidate, file_hash):
                return candidate
            print(f"Skipping {candidate}: its hash is not the expected {file_hash} "
                  "(incomplete or corrupted; Keras's cache is left untouched).")
    return None


def unavailable(title: str, offline_example: str, keras_file: str, cause: BaseException,
                alternative: str = "") -> OSError:
    """The error raised when no source has the data: why, and the three ways to provide it."""
    data_dir = get_data_dir() or "(not set)"
    lines = [
        f"Could not load {title}: it is in no offline data folder or cache, and the download failed:",
        f"    {cause}",
        "Three ways to provide it:",
        f"  1. an offline data folder holding {offline_example} (currently: {data_dir}):",
        "     export MITBADAK_DATASETS=/path/to/folder, or",
        "     mitbadak.datasets.set_data_dir('/path/to/folder');",
        f"  2. Keras's cached copy at ~/.keras/datasets/{keras_file}",
        f"     (or $KERAS_HOME/datasets/{keras_file});",
        f"  3. a network connection: the next call downloads it once into {cache_root()}/datasets.",
    ]
    if alternative:
        lines.append(alternative)
    return OSError("\n".join(lines))


def locate(dataset: str, fname: str, file_hash: str, title: str) -> Path:
    """The verified file: the offline folder's ``<dataset>/<fname>``, Keras's cache,
    mitbadak's cache, else a download (a file whose hash is wrong is never used or kept)."""
    folder = offline_folder(dataset)
    if folder is not None:
        path = folder / Path(fname).name
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing: the offline folder {folder} must hold "
                                    f"Keras's {Path(fname).name}.")
        if not validate_file(path, file_hash):
            kind = _resolve_algorithm(file_hash, "auto")           # as validate_file reads it
            raise ValueError(f"{path}: its {kind} is not Keras's {file_hash}; the file is "
                             f"corrupted or not Keras's {Path(fname).name}. Replace it with a "
                             f"fresh copy.")
        return path
    cached = from_keras_cache(fname, file_hash)
    if cached is not None:
        return cached
    try:
        return Path(get_file(fname, origin=ORIGIN + Path(fname).name, file_hash=file_hash))
    except OSError as err:
        raise unavailable(title, f"{dataset}/{Path(fname).name}", Path(fname).name,
                          err) from err


def shuffle_split(x, y, test_split: float, seed: int) -> tuple:
    """Keras's split of the housing sets: rows permuted by ``np.random.RandomState(seed)``,
    the first ``int(n·(1 − test_split))`` for training."""
    indices = np.arange(len(x))
    np.random.RandomState(seed).shuffle(indices)
    x, y = x[indices], y[indices]
    n_train = int(len(x) * (1 - test_split))
    return (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:])
