"""Reading CIFAR's files: pickled Python 2 dicts, from a folder or straight from the
``.tar.gz`` archive, through the package's restricted unpickler (never ``pickle.load``).

Each batch file holds ``{b'data': uint8 (n, 3072), b'labels': [n ints], ...}`` (CIFAR-100:
``b'fine_labels'`` and ``b'coarse_labels'``); a row is the red, green, blue 32x32 planes.

Where the files are looked for, in order (see ``_sources``):
1. the offline folder ``<data dir>/<name>/`` holding the archive (``cifar-10-python.tar.gz``),
   the extracted folder (``cifar-10-batches-py/``) or the batch files themselves;
2. Keras's cache: Keras 3's ``cifar-10-batches-py-target_archive`` (the archive) or
   ``cifar-10-batches-py-target/cifar-10-batches-py/``, tf.keras 2's
   ``cifar-10-batches-py.tar.gz`` or ``cifar-10-batches-py/``;
3. mitbadak's cache, 4. a download of the archive (checksum verified before it is kept).
Archives are checked against their sha256; extracted files cannot be, so their contents are
checked instead (types, shapes, label range) after the restricted reader has read them.
"""
from __future__ import annotations

import io
import tarfile
from pathlib import Path

import numpy as np

from .. import backend
from ..utils import safe_pickle
from ..utils.data_utils import get_file, validate_file
from ._sources import from_keras_cache, keras_cache_dirs, offline_folder, unavailable


class Cifar:
    """One CIFAR variant: its archive, folder and file names."""

    def __init__(self, title: str, offline: tuple, archive: str, sha256: str, folder: str,
                 files: tuple, n_labels: dict):
        self.title, self.offline, self.archive, self.sha256 = title, offline, archive, sha256
        self.folder, self.files, self.n_labels = folder, files, n_labels
        self.origin = "https://www.cs.toronto.edu/~kriz/" + archive

    # ------------------------------------------------------------- finding the files
    def read(self) -> dict:
        """{file name: its dict}, from the first source that has the data."""
        folder = offline_folder(*self.offline)
        if folder is not None:
            return self._from_offline(folder)
        for d in keras_cache_dirs():
            for name in (f"{self.folder}-target_archive", f"{self.folder}.tar.gz"):
                if (d / name).is_file():
                    path = from_keras_cache(name, self.sha256)
                    if path is not None:
                        return self._from_archive(path)
            for sub in (Path(f"{self.folder}-target") / self.folder, Path(self.folder)):
                if all((d / sub / f).is_file() for f in self.files):
                    return self._from_folder(d / sub)
        try:
            path = get_file(self.archive, origin=self.origin, file_hash=self.sha256)
        except OSError as err:
            raise unavailable(self.title, f"{self.offline[0]}/{self.archive}",
                              f"{self.folder}-target_archive", err) from err
        return self._from_archive(path)

    def _from_offline(self, folder: Path) -> dict:
        if (folder / self.archive).is_file():
            if not validate_file(folder / self.archive, self.sha256):
                raise ValueError(f"{folder / self.archive}: its sha256 is not {self.sha256}; "
                                 f"the file is damaged or not the original {self.archive}. "
                                 f"Replace it with a fresh copy.")
            return self._from_archive(folder / self.archive)
        for sub in (folder / self.folder, folder):
            if all((sub / f).is_file() for f in self.files):
                return self._from_folder(sub)
        raise FileNotFoundError(f"The offline folder {folder} holds neither {self.archive} nor "
                                f"the batch files {', '.join(self.files)} (directly or in "
                                f"{self.folder}/).")

    def _from_folder(self, folder: Path) -> dict:
        out = {}
        for name in self.files:
            with open(folder / name, "rb") as f:
                out[name] = self._load(f, folder / name)
        return out

    def _from_archive(self, path) -> dict:
        out = {}
        with tarfile.open(path, "r:*") as archive:
            members = {Path(m.name).name: m for m in archive.getmembers() if m.isfile()}
            for name in self.files:
                if name not in members:
                    raise ValueError(f"{path}: the archive has no {name}; it is not "
                                     f"{self.archive}.")
                data = archive.extractfile(members[name]).read()
                out[name] = self._load(io.BytesIO(data), f"{path}:{name}")
        return out

    def _load(self, f, where) -> dict:
        try:
            batch = safe_pickle.load(f, encoding="bytes")
        except safe_pickle.UnsafePickleError as err:
            raise safe_pickle.UnsafePickleError(f"{where}: {err}") from None
        if not isinstance(batch, dict):
            raise ValueError(f"{where}: expected a pickled dict (a CIFAR batch); got "
                             f"{type(batch).__name__}.")
        batch = {k.decode("utf8") if isinstance(k, bytes) else k: v for k, v in batch.items()}
        data = batch.get("data")
        if not (isinstance(data, np.ndarray) and data.dtype == np.uint8 and data.ndim == 2
                and data.shape[1] == 3072):
            raise ValueError(f"{where}: 'data' must be a uint8 array of shape (n, 3072); got "
                             f"{getattr(data, 'dtype', type(data).__name__)} "
                             f"{getattr(data, 'shape', '')}.")
        for key, n in self.n_labels.items():
            labels = batch.get(key)
            values = np.asarray(labels) if isinstance(labels, (list, np.ndarray)) else None
            if values is None or values.shape != (len(data),) or (
                    len(values) and (values.dtype.kind not in "iu" or values.min() < 0
                                     or values.max() >= n)):
                raise ValueError(f"{where}: '{key}' must hold {len(data)} labels in 0..{n - 1}.")
        return batch


def images(data: np.ndarray) -> np.ndarray:
    """(n, 3072) rows -> (n, 32, 32, 3) (or (n, 3, 32, 32) with channels_first)."""
    x = data.reshape(len(data), 3, 32, 32)
    if backend.image_data_format() == "channels_last":
        x = x.transpose(0, 2, 3, 1)
    return x
