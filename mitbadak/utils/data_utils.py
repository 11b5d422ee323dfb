"""Download a file once into a local cache, verified by its checksum (Keras's ``get_file``).

A download is written to a temporary file beside its final place. Only when its size and
checksum agree is it renamed into place with ``os.replace`` (atomic within one folder), so an
interrupted, truncated or corrupted download never sits in the cache looking like a good file.

Cache folder: ``$MITBADAK_HOME/datasets`` if that variable is set, else ``~/.mitbadak/datasets``;
when that folder is not writable, a ``.mitbadak`` folder in the system's temp dir (as Keras does).
"""
from __future__ import annotations

import hashlib
import http.client
import os
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import zipfile

_CHUNK = 1 << 16
_BAR_CELLS = 30

# The one place that opens URLs: tests replace it to serve bytes without a network.
_urlopen = urllib.request.urlopen


# ---------------------------------------------------------------- checksums
def _resolve_algorithm(file_hash: str | None, algorithm: str) -> str:
    """'auto' means sha256 for a 64-digit hash, md5 otherwise (Keras's rule)."""
    if algorithm not in ("auto", "sha256", "md5"):
        raise ValueError(f"hash_algorithm: expected 'auto', 'sha256' or 'md5'; got {algorithm!r}")
    if algorithm == "auto":
        return "sha256" if file_hash is not None and len(file_hash) == 64 else "md5"
    return algorithm


def hash_file(fpath: str | os.PathLike, algorithm: str = "sha256", chunk_size: int = _CHUNK) -> str:
    """The hex digest of a file ('sha256' or 'md5'), read in chunks so big files stay cheap."""
    hasher = hashlib.new("sha256" if algorithm == "auto" else algorithm)
    with open(fpath, "rb") as f:
        while chunk := f.read(chunk_size):
            hasher.update(chunk)
    return hasher.hexdigest()


def validate_file(fpath: str | os.PathLike, file_hash: str, algorithm: str = "auto") -> bool:
    """True when the file's hash equals ``file_hash`` (hex, either case)."""
    algorithm = _resolve_algorithm(file_hash, algorithm)
    return hash_file(fpath, algorithm) == file_hash.lower()


# ---------------------------------------------------------------- cache folder
def cache_root() -> str:
    """mitbadak's cache root: ``$MITBADAK_HOME`` if set, else ``~/.mitbadak``."""
    return os.environ.get("MITBADAK_HOME") or os.path.join(os.path.expanduser("~"), ".mitbadak")


def _cache_folder(cache_dir: str | None, cache_subdir: str) -> str:
    """Create and return ``cache_dir/cache_subdir``, falling back to the temp dir if read-only."""
    base = os.path.expanduser(cache_dir) if cache_dir else cache_root()
    folder = os.path.join(base, cache_subdir)  # an absolute cache_subdir wins, as in Keras
    try:
        os.makedirs(folder, exist_ok=True)
        writable = os.access(folder, os.W_OK)
    except OSError:
        writable = False
    if not writable:
        # A read-only home (containers, shared machines) should still let downloads work.
        folder = os.path.join(tempfile.gettempdir(), ".mitbadak", cache_subdir)
        os.makedirs(folder, exist_ok=True)
    return folder


# ---------------------------------------------------------------- progress
def _is_dynamic(stream) -> bool:
    """Redraw in place only on a real terminal or in a notebook; logs get no control codes."""
    if "ipykernel" in sys.modules:
        return True
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


class _ByteProgress:
    """``received/total [=====>....] - 3s``: one line redrawn with ``\\r``, or only the final line."""

    def __init__(self, total: int | None, stream=None):
        self.total = total
        self.stream = stream if stream is not None else sys.stdout
        self.dynamic = _is_dynamic(self.stream)
        self.start = self.last_draw = time.monotonic()

    def _line(self, done: int) -> str:
        elapsed = f"{time.monotonic() - self.start:.0f}s"
        if not self.total:
            return f"{done} bytes - {elapsed}"
        filled = min(_BAR_CELLS, _BAR_CELLS * done // self.total)
        head = ">" if filled < _BAR_CELLS else ""
        bar = ("=" * filled + head).ljust(_BAR_CELLS, ".")
        return f"{done:>{len(str(self.total))}}/{self.total} [{bar}] - {elapsed}"

    def update(self, done: int) -> None:
        now = time.monotonic()
        if self.dynamic and now - self.last_draw >= 0.05:  # throttled like Keras's Progbar
            self.stream.write("\r" + self._line(done))
            self.stream.flush()
            self.last_draw = now

    def finish(self, done: int) -> None:
        self.stream.write(("\r" if self.dynamic else "") + self._line(done) + "\n")
        self.stream.flush()


# ---------------------------------------------------------------- download
def _fetch(origin: str, out, hasher) -> tuple[int | None, int]:
    """Stream ``origin`` into the open file ``out``; return (announced size or None, bytes received)."""
    try:
        response = _urlopen(origin, timeout=30)  # never hang forever on a dead network
    except urllib.error.HTTPError as err:
        raise OSError(f"URL fetch failure on {origin}: HTTP {err.code} {err.reason}") from err
    except urllib.error.URLError as err:
        raise OSError(f"URL fetch failure on {origin}: {err.reason}") from err
    received = 0
    with response:
        length = response.headers.get("Content-Length")
        total = int(length) if length else None
        progress = _ByteProgress(total)
        try:
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                hasher.update(chunk)
                received += len(chunk)
                progress.update(received)
        except (OSError, http.client.HTTPException) as err:  # IncompleteRead is no OSError
            raise OSError(f"Download of {origin} broke off after {received} bytes ({err!r}). "
                          "Nothing was cached; run it again.") from err
        progress.finish(received)
    return total, received


def _download(origin: str, fpath: str, file_hash: str | None, algorithm: str) -> None:
    """Download ``origin`` to ``fpath`` through a temp file; check size and hash before renaming."""
    hasher = hashlib.new(algorithm)
    # A unique hidden name beside the target (not mkstemp: its 0600 mode would stick to the cache).
    tmp = os.path.join(os.path.dirname(fpath), f".{os.path.basename(fpath)}.{uuid.uuid4().hex[:8]}.part")
    try:
        with open(tmp, "xb") as out:
            total, received = _fetch(origin, out, hasher)
        if total is not None and received != total:
            raise OSError(f"Download of {origin} is truncated: the server announced {total} bytes "
                          f"but sent {received}. Nothing was cached; check the connection and run "
                          "it again.")
        actual = hasher.hexdigest()
        if file_hash is not None and actual != file_hash.lower():
            raise ValueError(
                f"The file downloaded from {origin} failed its {algorithm} check: expected "
                f"{file_hash.lower()}, got {actual}. It was discarded and nothing was cached. "
                "Run it again; if this keeps happening the server sends a different or damaged file: "
                f"fetch it yourself, check it with `{algorithm}sum`, and place it at {fpath}.")
        os.replace(tmp, fpath)  # atomic: the cache holds the old state or the verified file
    except BaseException:  # Ctrl-C too: never leave a partial file behind
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise


def _extract_archive(fpath: str, folder: str) -> None:
    """Extract a tar or zip archive into ``folder``, refusing members that would land outside."""
    root = os.path.realpath(folder)
    if tarfile.is_tarfile(fpath):
        with tarfile.open(fpath) as archive:
            names = archive.getnames()
            _check_inside(names, root, fpath)
            if hasattr(tarfile, "data_filter"):  # Python >= 3.10.12: also rejects unsafe links
                archive.extractall(folder, filter="data")
            else:
                archive.extractall(folder)
    elif zipfile.is_zipfile(fpath):
        with zipfile.ZipFile(fpath) as archive:
            _check_inside(archive.namelist(), root, fpath)
            archive.extractall(folder)
    else:
        raise ValueError(f"get_file(extract=True): {fpath} is neither a tar nor a zip archive; "
                         "pass extract=False to keep the file as it is.")


def _check_inside(names: list[str], root: str, fpath: str) -> None:
    for name in names:
        target = os.path.realpath(os.path.join(root, name))
        if os.path.commonpath([root, target]) != root:
            raise ValueError(f"get_file(extract=True): archive {fpath} holds {name!r}, which would be "
                             f"written outside {root}; refusing to extract it.")


def get_file(fname: str | None = None, origin: str | None = None, file_hash: str | None = None,
             cache_subdir: str = "datasets", hash_algorithm: str = "auto", extract: bool = False,
             cache_dir: str | None = None, force_download: bool = False) -> str:
    """Download ``origin`` into the cache unless a verified copy is already there; return its path.

    Args:
        fname: local file name (or an absolute path); ``None`` takes the last part of the URL.
        origin: the URL (``https://``, ``http://`` or ``file://``).
        file_hash: expected sha256 (64 hex digits) or md5 (32) of the file. With a hash, a cached
            copy is used only if it verifies (else it is downloaded again) and a download is kept
            only if it verifies. Without one, any cached copy is trusted.
        cache_subdir: folder under the cache root (an absolute path is used as it is).
        hash_algorithm: 'auto', 'sha256' or 'md5'.
        extract: extract a tar/zip archive next to it (as Keras 2 does; the archive's path is returned).
        cache_dir: cache root instead of ``$MITBADAK_HOME`` or ``~/.mitbadak``.
        force_download: download even when a verified copy is cached.

    Returns:
        The path of the local file.
    """
    if not origin:
        raise ValueError('get_file: argument "origin" is required: the URL to download, '
                         'e.g. get_file("data.npz", origin="https://example.org/data.npz")')
    fname = fname or os.path.basename(urllib.parse.urlsplit(origin).path)
    if not fname:
        raise ValueError(f"get_file: no fname given and none can be taken from origin={origin!r}; "
                         "pass fname='name.ext'.")
    algorithm = _resolve_algorithm(file_hash, hash_algorithm)
    fpath = os.path.join(_cache_folder(cache_dir, cache_subdir), fname)
    os.makedirs(os.path.dirname(fpath), exist_ok=True)  # fname may hold a subfolder

    needed = force_download or not os.path.exists(fpath)
    if not needed and file_hash is not None and not validate_file(fpath, file_hash, algorithm):
        print(f"A cached file at {fpath} does not match its expected {algorithm} hash "
              "(incomplete, corrupted or outdated); downloading it again.")
        needed = True
    if needed:
        print(f"Downloading data from {origin}")
        _download(origin, fpath, file_hash, algorithm)
    if extract:
        _extract_archive(fpath, os.path.dirname(fpath))
    return fpath
