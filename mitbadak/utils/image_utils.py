"""Pictures to arrays and back, with Pillow (the ``image`` extra): ``load_img``,
``img_to_array``, ``array_to_img``, ``save_img``, ``smart_resize``, as in Keras.

    img = keras.utils.load_img("cat.jpg", target_size=(180, 180))    # a PIL image
    x = keras.utils.img_to_array(img)                                  # (180, 180, 3) float32
    keras.utils.save_img("out.png", x)

Images are (height, width, channels) channels-last arrays unless ``data_format`` says
otherwise; pixel values 0..255.
"""
from __future__ import annotations

import io
import os
import pathlib
import warnings
from typing import Any

import numpy

from .. import backend
from . import image_ops

COLOR_MODES = ("grayscale", "rgb", "rgba")


def pil():
    """The PIL.Image module, or a clear error naming the extra to install."""
    try:
        from PIL import Image
    except ImportError as err:
        raise ImportError("Reading and writing images needs Pillow: pip install pillow "
                          "(or pip install 'mitbadak[image]').") from err
    return Image


def _resampling(name: str):
    Image = pil()
    methods = {"nearest": Image.Resampling.NEAREST, "bilinear": Image.Resampling.BILINEAR,
               "bicubic": Image.Resampling.BICUBIC, "hamming": Image.Resampling.HAMMING,
               "box": Image.Resampling.BOX, "lanczos": Image.Resampling.LANCZOS}
    if name not in methods:
        raise ValueError(f"Invalid interpolation method {name!r}; supported methods are "
                         f"{', '.join(methods)}.")
    return methods[name]


def _data_format(data_format: str | None) -> str:
    data_format = data_format or backend.image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"data_format must be 'channels_last' or 'channels_first'; got "
                         f"{data_format!r}.")
    return data_format


def convert_mode(img: Any, color_mode: str) -> Any:
    """A PIL image in the mode color_mode asks for ('grayscale' keeps 16/32-bit gray)."""
    if color_mode == "grayscale":
        return img if img.mode in ("L", "I;16", "I") else img.convert("L")
    if color_mode == "rgba":
        return img if img.mode == "RGBA" else img.convert("RGBA")
    if color_mode == "rgb":
        return img if img.mode == "RGB" else img.convert("RGB")
    raise ValueError(f"color_mode must be one of {', '.join(map(repr, COLOR_MODES))}; got "
                     f"{color_mode!r}.")


def load_img(path: Any, color_mode: str = "rgb", target_size: tuple | None = None,
             interpolation: str = "nearest", keep_aspect_ratio: bool = False) -> Any:
    """A picture file (path or ``io.BytesIO``) as a PIL image in `color_mode`, resized by
    Pillow to ``target_size = (height, width)`` if given. ``keep_aspect_ratio`` resizes the
    largest centred window of the target's aspect ratio instead of squashing the picture."""
    Image = pil()
    if isinstance(path, io.BytesIO):
        img = Image.open(path)
    elif isinstance(path, (str, bytes, os.PathLike)):
        path = os.fsdecode(path)
        with open(path, "rb") as f:
            img = Image.open(io.BytesIO(f.read()))
    else:
        raise TypeError(f"load_img: path should be a path or io.BytesIO, not "
                        f"{type(path).__name__}.")
    img = convert_mode(img, color_mode)
    if target_size is not None:
        width_height = (int(target_size[1]), int(target_size[0]))
        if img.size != width_height:
            resample = _resampling(interpolation)
            if keep_aspect_ratio:
                width, height = img.size
                crop_h = min(height, width * width_height[1] // width_height[0])
                crop_w = min(width, height * width_height[0] // width_height[1])
                top, left = (height - crop_h) // 2, (width - crop_w) // 2
                img = img.resize(width_height, resample, box=(left, top, left + crop_w,
                                                              top + crop_h))
            else:
                img = img.resize(width_height, resample)
    return img


def img_to_array(img: Any, data_format: str | None = None, dtype: Any = None) -> numpy.ndarray:
    """A PIL image -> (height, width, channels) array (floatx by default); a grayscale image
    gets a channel axis of 1."""
    data_format = _data_format(data_format)
    x = numpy.asarray(img, dtype=dtype or backend.floatx())
    if x.ndim == 2:
        x = x[None] if data_format == "channels_first" else x[..., None]
    elif x.ndim == 3:
        if data_format == "channels_first":
            x = x.transpose(2, 0, 1)
    else:
        raise ValueError(f"img_to_array: unsupported image shape {x.shape}.")
    return x


def array_to_img(x: Any, data_format: str | None = None, scale: bool = True,
                 dtype: Any = None) -> Any:
    """An (height, width, channels) array -> a PIL image. ``scale`` stretches the values to
    0..255 first (min to 0, max to 255), as Keras does; with scale=False they must already be
    in 0..255. 1 channel gives 'L' (or 32-bit 'I' above 255), 3 'RGB', 4 'RGBA'."""
    Image = pil()
    data_format = _data_format(data_format)
    x = numpy.array(backend.to_numpy(x), dtype=dtype or backend.floatx())
    if x.ndim != 3:
        raise ValueError(f"array_to_img: expected one image of rank 3 (height, width, "
                         f"channels); got an array of shape {x.shape}.")
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - x.min()
        top = x.max()
        if top != 0:
            x /= top
        x *= 255
    channels = x.shape[2]
    if channels == 4:
        return Image.fromarray(x.astype("uint8"), "RGBA")
    if channels == 3:
        return Image.fromarray(x.astype("uint8"), "RGB")
    if channels == 1:
        if x.max() > 255:
            return Image.fromarray(x[:, :, 0].astype("int32"), "I")
        return Image.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"array_to_img: unsupported number of channels {channels} (1, 3 or 4).")


def save_img(path: Any, x: Any, data_format: str | None = None, file_format: str | None = None,
             scale: bool = True, **kwargs: Any) -> None:
    """Write an image array to a file; the format comes from the file's extension unless
    `file_format` is given. Extra keywords go to Pillow's ``save`` (``quality=90``, ...)."""
    if file_format is None and isinstance(path, (str, pathlib.Path)):
        file_format = pathlib.Path(path).suffix[1:].lower() or None
    if file_format and file_format.lower() == "jpg":
        file_format = "jpeg"
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and file_format == "jpeg":
        warnings.warn("The JPEG format does not support RGBA images, converting to RGB.",
                      stacklevel=2)
        img = img.convert("RGB")
    img.save(path, format=file_format, **kwargs)


def smart_resize(x: Any, size: tuple, interpolation: str = "bilinear",
                 data_format: str = "channels_last") -> numpy.ndarray:
    """Resize an image (or a batch) to `size` without distorting it: the largest centred
    window of the target's aspect ratio is cut, then resized. Float output."""
    if len(size) != 2:
        raise ValueError(f"smart_resize: size must be (height, width); got {size!r}.")
    x = numpy.asarray(backend.to_numpy(x))
    if x.ndim not in (3, 4):
        raise ValueError(f"smart_resize: expected (height, width, channels) or (batch, "
                         f"height, width, channels); got shape {x.shape}.")
    first = data_format == "channels_first"
    if first:
        x = numpy.moveaxis(x, -3, -1)
    out = image_ops.smart_resize(x, tuple(size), interpolation)
    return numpy.moveaxis(out, -1, -3) if first else out


__all__ = ["load_img", "img_to_array", "array_to_img", "save_img", "smart_resize"]
