"""One kind of error for a file that cannot be read as a model, always naming the file.

Whatever goes wrong inside h5py, zipfile or json (a truncated file, a flipped byte, a missing
group, a wrong shape) reaches the user as ``InvalidFileError`` — a ``ValueError`` — whose
message starts with the file name and says what was expected.
"""
from __future__ import annotations

import contextlib
import os
import sys
import warnings
import zipfile
from typing import Any, Iterator


class InvalidFileError(ValueError):
    """A model or weights file that is damaged, incomplete or not what its name says."""


def describe(path: Any) -> str:
    """A printable name for a path or a file object."""
    if isinstance(path, (str, bytes, os.PathLike)):
        return repr(os.fsdecode(path))
    return repr(getattr(path, "name", None) or f"<{type(path).__name__}>")


@contextlib.contextmanager
def reading(path: Any, what: str = "model") -> Iterator[None]:
    """Turn any low-level failure while reading `path` into an InvalidFileError naming it."""
    try:
        yield
    except InvalidFileError:
        raise
    except (FileNotFoundError, IsADirectoryError, PermissionError, ImportError):
        raise                      # already clear, and callers may want to catch them as is
    except RecursionError:
        raise InvalidFileError(f"Cannot load {what} from {describe(path)}: its JSON is nested "
                               f"too deeply to be a Keras config.") from None
    except MemoryError:
        raise InvalidFileError(f"Cannot load {what} from {describe(path)}: it describes arrays "
                               f"too large for memory; the file is damaged or not a model.") \
            from None
    except zipfile.BadZipFile as e:
        raise InvalidFileError(f"Cannot load {what} from {describe(path)}: the zip archive is "
                               f"damaged ({e}). Was it truncated or changed after saving?") from e
    except (OSError, KeyError, ValueError, TypeError, IndexError, AttributeError,
            UnicodeDecodeError, EOFError, RuntimeError) as e:
        raise InvalidFileError(f"Cannot load {what} from {describe(path)}: {_short(e)}") from e


def _short(e: BaseException) -> str:
    text = str(e) or type(e).__name__
    if isinstance(e, OSError) and "signature" in text:
        return "it is not an HDF5 file (damaged, truncated, or another format)."
    if isinstance(e, OSError) and ("truncated" in text or "eof" in text.lower()):
        return f"the file is truncated ({text})."
    if isinstance(e, KeyError):
        return f"an expected entry is missing: {text}."
    return text


def warn(message: str) -> None:
    """warnings.warn pointing at the user's line (the first frame outside mitbadak)."""
    frame, level = sys._getframe(1), 2     # stacklevel 2 is our caller
    while frame is not None and (frame.f_globals.get("__name__", "") + ".").startswith(
            "mitbadak."):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, UserWarning, stacklevel=level)
