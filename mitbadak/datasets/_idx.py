"""Read IDX files, the format MNIST and Fashion-MNIST are distributed in.

Layout, all big-endian: two zero bytes, a type code (0x08 = uint8, ...), the number of
dimensions n, n uint32 sizes, then the values in C order. Labels files therefore start with
the magic number 2049 (uint8, 1-D) and images files with 2051 (uint8, 3-D). Files may be
gzip-compressed or raw; which one is decided from their first bytes, not their name.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from pathlib import Path

import numpy as np

LABELS_MAGIC = 2049
IMAGES_MAGIC = 2051
_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_GZIP_MAGIC = b"\x1f\x8b"

# Canonical names of the four files, in the order Keras lists them.
TRAIN_LABELS = "train-labels-idx1-ubyte.gz"
TRAIN_IMAGES = "train-images-idx3-ubyte.gz"
TEST_LABELS = "t10k-labels-idx1-ubyte.gz"
TEST_IMAGES = "t10k-images-idx3-ubyte.gz"
FILES = (TRAIN_LABELS, TRAIN_IMAGES, TEST_LABELS, TEST_IMAGES)


def read_idx_bytes(path: str | os.PathLike) -> bytes:
    """The file's IDX bytes, decompressed when it is gzip."""
    data = Path(path).read_bytes()
    if not data.startswith(_GZIP_MAGIC):
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as err:
        raise ValueError(f"{path}: broken gzip data ({err}); the file is truncated or corrupted, "
                         "replace it with a fresh copy.") from err


def parse_idx(data: bytes, source: str = "<bytes>", magic: int | None = None) -> np.ndarray:
    """Decode IDX bytes into a writable array in native byte order.

    ``magic`` (e.g. ``LABELS_MAGIC``) demands that kind of file; ``source`` names it in errors.
    """
    if len(data) < 4 or data[:2] != b"\0\0" or data[2] not in _TYPES:
        raise ValueError(f"{source}: not an IDX file (expected 00 00 <type> <ndim> at the start, "
                         f"got {data[:4].hex(' ') or 'an empty file'}).")
    found = int.from_bytes(data[:4], "big")
    if magic is not None and found != magic:
        raise ValueError(f"{source}: expected IDX magic number {magic}, got {found}; "
                         "is it the right file (labels are 2049, images 2051)?")
    ndim = data[3]
    start = 4 + 4 * ndim
    if len(data) < start:
        raise ValueError(f"{source}: header cut short: {ndim} dimensions need {start} bytes, "
                         f"the file has {len(data)}.")
    shape = tuple(int(n) for n in np.frombuffer(data, ">u4", count=ndim, offset=4))
    dtype = np.dtype(_TYPES[data[2]])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) - start != expected:
        raise ValueError(f"{source}: header says shape {shape} = {expected} bytes of data, the file "
                         f"holds {len(data) - start}; it is truncated or corrupted.")
    # astype copies: the result is writable and in native byte order.
    return np.frombuffer(data, dtype, offset=start).reshape(shape).astype(dtype.newbyteorder("="))


def read_idx(path: str | os.PathLike, magic: int | None = None) -> np.ndarray:
    """Read an IDX file (``.gz`` or raw); ``magic`` demands labels (2049) or images (2051)."""
    return parse_idx(read_idx_bytes(path), str(path), magic)


def load_idx_dataset(paths: dict[str, Path], content_md5: dict[str, str] | None = None):
    """Load the four canonical files into ``((x_train, y_train), (x_test, y_test))``.

    ``paths`` maps each name in ``FILES`` to its file. With ``content_md5`` (name -> md5 of the
    decompressed bytes) each file is verified first; the error names the file that fails.
    Images come out (n, 28, 28) uint8, labels (n,) uint8.
    """
    arrays = {}
    for name in FILES:
        path = paths[name]
        data = read_idx_bytes(path)
        if content_md5 is not None:
            actual = hashlib.md5(data).hexdigest()
            if actual != content_md5[name]:
                raise ValueError(f"{path}: md5 of its decompressed content is {actual}, expected "
                                 f"{content_md5[name]}. The file is corrupted or not the canonical "
                                 f"{name}; replace it with a fresh copy.")
        arrays[name] = parse_idx(data, str(path), IMAGES_MAGIC if "images" in name else LABELS_MAGIC)
    for x_name, y_name in ((TRAIN_IMAGES, TRAIN_LABELS), (TEST_IMAGES, TEST_LABELS)):
        if len(arrays[x_name]) != len(arrays[y_name]):
            raise ValueError(f"{paths[x_name]} holds {len(arrays[x_name])} images but {paths[y_name]} "
                             f"holds {len(arrays[y_name])} labels; one of them is wrong.")
    return ((arrays[TRAIN_IMAGES], arrays[TRAIN_LABELS]), (arrays[TEST_IMAGES], arrays[TEST_LABELS]))


def find_idx_files(folder: Path, dataset: str) -> dict[str, Path]:
    """The four canonical files in an offline ``folder``; a missing one is a clear error."""
    paths = {name: folder / name for name in FILES}
    for path in paths.values():
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing: the offline {dataset} folder {folder} "
                                    f"must hold the four canonical files {', '.join(FILES)}.")
    return paths
