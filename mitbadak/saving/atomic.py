"""Atomic writes: a file is either the old good one or the complete new one, never half.

Writers fill a temporary file in the destination folder (same file system, so the final
``os.replace`` is a rename, atomic on POSIX and Windows) and only rename it into place after it
has been completely written and flushed to disk. On any error the temporary file is removed
and the existing file is untouched.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from typing import Iterator


@contextlib.contextmanager
def atomic_path(path: str, overwrite: bool = True) -> Iterator[str]:
    """Yield a temporary path next to `path`; rename it onto `path` when the block succeeds."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path!r} already exists and overwrite=False; pass "
                              f"overwrite=True or choose another name.")
    if not os.path.isdir(folder):
        os.makedirs(folder, exist_ok=True)         # Keras creates missing folders too
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp",
                               dir=folder)
    os.close(fd)
    try:
        yield tmp
        _fsync(tmp)
        if os.path.exists(path):
            _copy_mode(path, tmp)
        else:
            os.chmod(tmp, 0o666 & ~_umask())     # mkstemp makes 0600; use the usual mode
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def _fsync(path: str) -> None:
    # The rename is only as durable as the data behind it: flush the bytes first.
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def _copy_mode(src: str, dst: str) -> None:
    with contextlib.suppress(OSError):
        os.chmod(dst, os.stat(src).st_mode & 0o7777)


def _read_umask() -> int:
    mask = os.umask(0o022)       # the only way to read it is to set it; put it straight back
    os.umask(mask)
    return mask


_UMASK = _read_umask()            # once, at import: os.umask is process-wide, not thread-safe


def _umask() -> int:
    return _UMASK
