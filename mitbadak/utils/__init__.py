"""keras.utils: to_categorical, set_random_seed, Progbar, normalize, get_file, pad_sequences,
plot_model; the data pipeline: image_dataset_from_directory, text_dataset_from_directory,
PyDataset/Sequence; pictures: load_img, img_to_array, array_to_img, save_img."""
from __future__ import annotations

from typing import Any

from .. import backend
from ..backend import xp
from .data_utils import get_file
from .model_visualization import plot_model
from .progbar import Progbar
from .sequence_utils import pad_sequences


def to_categorical(x: Any, num_classes: int | None = None) -> Any:
    """Integer labels (N,) -> one-hot (N, num_classes) float32; a trailing axis of 1 is dropped."""
    y = xp.asarray(x)
    if y.ndim > 1 and y.shape[-1] == 1:
        y = y[..., 0]
    if y.size and (y.dtype.kind == "f" and (y % 1 != 0).any()):
        raise ValueError("to_categorical expects integer class labels; got non-integer values.")
    y = y.astype(xp.int64)
    if y.size and y.min() < 0:
        raise ValueError(f"to_categorical: labels must be >= 0; got {int(y.min())}.")
    n = int(y.max()) + 1 if num_classes is None else int(num_classes)
    if y.size and y.max() >= n:
        raise ValueError(f"to_categorical: label {int(y.max())} does not fit num_classes={n}.")
    _check_one_hot_size(y.shape, n)
    out = xp.zeros(y.shape + (n,), dtype="float32")
    xp.put_along_axis(out, y[..., None], 1.0, axis=-1)
    return out


def _available_memory() -> int | None:
    """Bytes of memory the system can still give (Linux's MemAvailable), or None."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _check_one_hot_size(shape: tuple, n: int) -> None:
    """A one-hot array larger than the memory left is refused before it is made: one-hot
    word ids (sequences × length × vocabulary) grow fast, and a MemoryError (or the machine
    swapping) says nothing about why."""
    import math
    need = math.prod(shape) * n * 4
    free = _available_memory()
    if free is None or need <= 0.8 * free:
        return
    gib = 1 << 30
    hint = (" These look like word ids: give them to an Embedding layer instead of one-hot "
            "vectors (keras.layers.Embedding(num_words, 16)), or keep fewer words "
            "(imdb.load_data(num_words=200)) and fewer samples at a time."
            if len(shape) >= 2 else "")
    raise MemoryError(f"to_categorical: the one-hot array would be {shape + (n,)} float32, "
                      f"{need / gib:.1f} GiB, and only {free / gib:.1f} GiB of memory is "
                      f"available.{hint}")


def set_random_seed(seed: int) -> None:
    """Same seed, same numbers: seeds Python, NumPy and mitbadak's generator."""
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ValueError(f"set_random_seed expects an int; got {seed!r}")
    backend.set_seed(seed)


def normalize(x: Any, axis: int = -1, order: int = 2) -> Any:
    """x divided by its L-`order` norm along `axis` (zero vectors stay zero)."""
    x = xp.asarray(x)
    norm = xp.linalg.norm(x, ord=order, axis=axis, keepdims=True)
    return x / xp.where(norm == 0, 1, norm)


from .dataset import Dataset  # noqa: E402
from .image_dataset import image_dataset_from_directory  # noqa: E402
from .image_utils import array_to_img, img_to_array, load_img, save_img  # noqa: E402
from .py_dataset import PyDataset, Sequence  # noqa: E402
from .text_dataset import text_dataset_from_directory  # noqa: E402

__all__ = ["to_categorical", "set_random_seed", "normalize", "Progbar", "get_file",
           "pad_sequences", "plot_model",
           "image_dataset_from_directory", "text_dataset_from_directory", "Dataset",
           "PyDataset", "Sequence", "load_img", "img_to_array", "array_to_img", "save_img"]
