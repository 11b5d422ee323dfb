"""``image_dataset_from_directory``: a folder of pictures, one subfolder per class, as a
Dataset of ``(images, labels)`` NumPy batches, the way Keras builds it.

    train/cat/cat.0.jpg, train/cat/cat.1.jpg, ..., train/dog/dog.0.jpg, ...
    ds = keras.utils.image_dataset_from_directory("train", image_size=(180, 180))
    # Found 2000 files belonging to 2 classes.     ds.class_names == ['cat', 'dog']

Files and labels: see ``dataset_utils`` (Keras's order, shuffle and split for a seed). Each
pass the (file, label) pairs are shuffled again through a buffer of 8 batches (tf.data's
shuffle, as Keras sets it up; its own random numbers, so the order within a pass differs from
TensorFlow's), each picture is decoded (Pillow) in `color_mode`, resized to `image_size` like
``tf.image.resize`` (bilinear by default), batched, and the next batches are read and decoded
on background threads while the current one trains. Images are float32 (height, width,
channels) with values 0..255 (uint8 with interpolation='nearest', as TensorFlow gives them);
labels 'int' int32 (n,), 'binary' float32 (n, 1), 'categorical' float32 one-hot.

Pixels agree with Keras's (TensorFlow's decoders) to float precision for PNG, BMP and GIF;
JPEG decoders differ by a few levels, and a colour PNG read as grayscale by up to 1 (libpng's
and Pillow's rounding of the luminance).
"""
from __future__ import annotations

import math
import os
from typing import Any

import numpy

from . import dataset_utils, image_ops
from .dataset import AUTOTUNE, Dataset
from .image_utils import convert_mode, pil

ALLOWLIST_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5")
_TF_ONLY = ("gaussian", "mitchellcubic")


def image_dataset_from_directory(directory: Any, labels: Any = "inferred",
                                 label_mode: str | None = "int", class_names: Any = None,
                                 color_mode: str = "rgb", batch_size: int | None = 32,
                                 image_size: Any = (256, 256), shuffle: bool = True,
                                 seed: int | None = None, validation_split: float | None = None,
                                 subset: str | None = None, interpolation: str = "bilinear",
                                 follow_links: bool = False, crop_to_aspect_ratio: bool = False,
                                 pad_to_aspect_ratio: bool = False,
                                 data_format: str | None = None, format: str = "tf",
                                 verbose: bool = True) -> Any:
    """A Dataset of (images, labels) batches from `directory` (see the module docstring).

    labels: 'inferred' (from subfolder names), a list of ints (one per file, in sorted path
    order), or None (images only). label_mode: 'int', 'categorical', 'binary' or None.
    subset='both' returns [training, validation]. batch_size=None yields single images.
    """
    labels, label_mode = dataset_utils.check_labels_arg(labels, label_mode, class_names,
                                                        "image")
    channels = {"rgb": 3, "rgba": 4, "grayscale": 1}.get(color_mode)
    if channels is None:
        raise ValueError(f"color_mode must be 'rgb', 'rgba' or 'grayscale'; got {color_mode!r}.")
    if isinstance(image_size, int):
        image_size = (image_size, image_size)
    if not isinstance(image_size, (list, tuple)) or len(image_size) != 2:
        raise ValueError(f"image_size must be (height, width); got {image_size!r}.")
    image_size = (int(image_size[0]), int(image_size[1]))
    interpolation = interpolation.lower()
    if interpolation in _TF_ONLY:
        raise ValueError(f"interpolation={interpolation!r} is TensorFlow's own kernel and is "
                         f"not offered by mitbadak; use one of {', '.join(INTERPOLATIONS)}.")
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"interpolation must be one of {', '.join(INTERPOLATIONS)}; got "
                         f"{interpolation!r}.")
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("Only one of crop_to_aspect_ratio and pad_to_aspect_ratio can be True.")
    if format not in ("tf", "grain"):
        raise ValueError(f"format must be 'tf' or 'grain'; got {format!r} (mitbadak returns "
                         f"its own NumPy Dataset for both).")
    data_format = data_format or "channels_last"
    dataset_utils.check_validation_split_arg(validation_split, subset, shuffle, seed)
    pil()                                              # fail early without Pillow
    if seed is None:
        seed = numpy.random.randint(1e6)
    paths, labels, class_names = dataset_utils.index_directory(
        directory, labels, ALLOWLIST_FORMATS, class_names, shuffle, seed, follow_links, verbose)
    loader = ImageLoader(image_size, color_mode, interpolation, crop_to_aspect_ratio,
                         pad_to_aspect_ratio, data_format)
    return dataset_utils.make_subsets(
        lambda part, encoded, shuffled: paths_and_labels_to_dataset(
            part, encoded, loader, batch_size, shuffled, seed, class_names),
        paths, labels, class_names, label_mode, validation_split, subset, shuffle,
        f"No {{what}}images found in directory {os.fspath(directory)}. "
        f"Allowed formats: {ALLOWLIST_FORMATS}")


class ImageLoader:
    """One picture file -> (height, width, channels) float32, as Keras's TF loader does:
    decode in the colour mode, then resize (or smart-resize / pad-resize)."""

    def __init__(self, image_size: tuple, color_mode: str, interpolation: str,
                 crop_to_aspect_ratio: bool, pad_to_aspect_ratio: bool, data_format: str):
        self.size, self.color_mode, self.interpolation = image_size, color_mode, interpolation
        self.crop, self.pad = crop_to_aspect_ratio, pad_to_aspect_ratio
        self.data_format = data_format

    def __call__(self, path: str) -> numpy.ndarray:
        Image = pil()
        with Image.open(path) as img:
            img = convert_mode(img, self.color_mode)
            x = numpy.asarray(img)
        if x.ndim == 2:
            x = x[..., None]
        dtype = x.dtype if self.interpolation == "nearest" else numpy.float32
        if self.pad:
            x = resize_with_pad(x.astype(numpy.float32), self.size, self.interpolation)
        else:
            x = image_ops.resize(x.astype(numpy.float32), self.size, self.interpolation,
                                 crop_to_aspect_ratio=self.crop)
        # tf.image.resize returns float32, except 'nearest', which keeps the pixels' dtype.
        x = x.astype(dtype, copy=False)
        return x.transpose(2, 0, 1) if self.data_format == "channels_first" else x


def resize_with_pad(x: numpy.ndarray, size: tuple, interpolation: str) -> numpy.ndarray:
    """``tf.image.resize_with_pad``: scale to fit inside `size` keeping the aspect ratio,
    then pad with zeros around it. The sizes are computed in float32, as TensorFlow does
    (16 / (16 / 10) is 9.99999 there, so a 16-pixel side fitted to 10 becomes 9)."""
    f32 = numpy.float32
    H, W = f32(x.shape[0]), f32(x.shape[1])
    th, tw = f32(size[0]), f32(size[1])
    ratio = max(W / tw, H / th)
    h_float, w_float = H / ratio, W / ratio
    h, w = max(int(numpy.floor(h_float)), 1), max(int(numpy.floor(w_float)), 1)
    top = max(0, int(numpy.floor((th - h_float) / f32(2))))
    left = max(0, int(numpy.floor((tw - w_float) / f32(2))))
    out = numpy.zeros((size[0], size[1], x.shape[2]), dtype=numpy.float32)
    out[top:top + h, left:left + w] = image_ops.resize(x, (h, w), interpolation)
    return out


def paths_and_labels_to_dataset(paths: list, labels: Any, loader: Any, batch_size: int | None,
                                shuffle: bool, seed: int, class_names: Any = None,
                                workers: int = 2) -> Dataset:
    """(path, label) pairs -> shuffled (buffer of 8 batches), loaded on `workers` threads,
    batched, prefetched."""
    n = len(paths)
    labelled = labels is not None

    def pairs():
        for i in range(n):
            yield (paths[i], labels[i]) if labelled else paths[i]
    ds = Dataset(pairs, n)
    if shuffle:
        ds = ds.shuffle(batch_size * 8 if batch_size else 1024, seed=seed)
    if labelled:
        ds = ds.map(lambda p, y: (loader(p), y), num_parallel_calls=workers)
    else:
        ds = ds.map(loader, num_parallel_calls=workers)
    if batch_size is not None:
        ds = ds.batch(batch_size)
    ds = ds.prefetch(AUTOTUNE)
    ds.class_names, ds.file_paths = class_names, paths
    return ds
