"""tf.keras 2.x's ``ImageDataGenerator`` (``keras.preprocessing.image``), which Keras 3 removed,
so that TensorFlow 2 tutorials run with only their import line changed:

    from mitbadak.keras.preprocessing.image import ImageDataGenerator
    train_datagen = ImageDataGenerator(rescale=1./255, rotation_range=40, width_shift_range=0.2,
                                       height_shift_range=0.2, shear_range=0.2, zoom_range=0.2,
                                       horizontal_flip=True, fill_mode='nearest')
    train_generator = train_datagen.flow_from_directory('train', target_size=(150, 150),
                                                        batch_size=20, class_mode='binary')
    # Found 2000 images belonging to 2 classes.
    model.fit(train_generator, steps_per_epoch=100, epochs=30)

Each picture gets its own random transform, drawn exactly as tf.keras draws it (the same calls
on NumPy's global generator, reseeded with ``seed + batches seen`` when ``seed`` is given, so a
seed gives tf.keras's numbers):

    rotation by theta ~ U(−rotation_range, rotation_range) degrees,
    shift by tx (rows) and ty (columns) from height_/width_shift_range (fractions of the size
    when < 1, pixels otherwise), shear by U(−shear_range, shear_range) degrees,
    zoom zx, zy ~ U(zoom_range) (a number z means [1 − z, 1 + z]),
    horizontal/vertical flip with probability 1/2, channel shift, brightness (Pillow).

The geometric part is one affine map about the image centre, read with bilinear interpolation
(``interpolation_order=1``; 0 is the nearest pixel) and SciPy's boundary rules (``fill_mode``
'nearest', 'constant' with ``cval``, 'reflect', 'wrap'), computed for the whole batch at once
(``mitbadak.utils.image_ops``). Then ``standardize``: preprocessing_function, rescale,
sample-wise and feature-wise centring and scaling (``fit`` learns the mean and std), ZCA.
"""
from __future__ import annotations

import collections
import os
import threading
import warnings
from typing import Any

import numpy as np

from .. import backend
from ..utils import image_ops
from ..utils.image_utils import array_to_img, img_to_array, load_img, save_img, smart_resize
from ..utils.py_dataset import Sequence

FILL_MODES = ("constant", "nearest", "reflect", "wrap")


# ====================================================================== transforms
def transform_matrix_offset_center(matrix: np.ndarray, x: float, y: float) -> np.ndarray:
    """The 3x3 transform about the image centre ((x − 1)/2, (y − 1)/2) instead of (0, 0)."""
    o_x, o_y = float(x) / 2 - 0.5, float(y) / 2 - 0.5
    offset = np.array([[1, 0, o_x], [0, 1, o_y], [0, 0, 1]])
    reset = np.array([[1, 0, -o_x], [0, 1, -o_y], [0, 0, 1]])
    return offset @ matrix @ reset


def affine_matrix(theta: float = 0, tx: float = 0, ty: float = 0, shear: float = 0,
                  zx: float = 1, zy: float = 1, h: int = 1, w: int = 1) -> np.ndarray | None:
    """tf.keras's transform as a 2x3 map from an output pixel (row, col) to the input point
    it reads: rotation · shift · shear · zoom about the centre. None for the identity."""
    m = None
    parts = []
    if theta != 0:
        t = np.deg2rad(theta)
        parts.append(np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0],
                               [0, 0, 1]]))
    if tx != 0 or ty != 0:
        parts.append(np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]]))
    if shear != 0:
        s = np.deg2rad(shear)
        parts.append(np.array([[1, -np.sin(s), 0], [0, np.cos(s), 0], [0, 0, 1]]))
    if zx != 1 or zy != 1:
        parts.append(np.array([[zx, 0, 0], [0, zy, 0], [0, 0, 1]]))
    for p in parts:
        m = p if m is None else m @ p
    if m is None:
        return None
    m = transform_matrix_offset_center(m, h, w)
    # tf.keras builds it in (col, row) order for SciPy; swapped, it maps (row, col).
    m[:, [0, 1]] = m[:, [1, 0]]
    m[[0, 1]] = m[[1, 0]]
    return m[:2]


def _sample(images: np.ndarray, matrices: list, fill_mode: str, cval: float,
            order: int) -> np.ndarray:
    """Channels-last images (N, H, W, C), each read through its 2x3 matrix (None: as is)."""
    if fill_mode not in FILL_MODES:
        raise ValueError(f"fill_mode must be one of {', '.join(map(repr, FILL_MODES))}; got "
                         f"{fill_mode!r}.")
    if order not in (0, 1):
        raise ValueError(f"interpolation_order must be 0 (nearest) or 1 (bilinear); got "
                         f"{order!r} (SciPy's higher-order splines are not offered).")
    moving = [i for i, m in enumerate(matrices) if m is not None]
    if not moving:
        return images
    N, H, W, _ = images.shape
    r, c = np.meshgrid(np.arange(H, dtype=np.float64), np.arange(W, dtype=np.float64),
                       indexing="ij")
    m = np.stack([matrices[i] for i in moving])[:, :, :, None, None]     # (k, 2, 3, 1, 1)
    ys = m[:, 0, 0] * r + m[:, 0, 1] * c + m[:, 0, 2]
    xs = m[:, 1, 0] * r + m[:, 1, 1] * c + m[:, 1, 2]
    sampler = image_ops.AffineSampler(ys, xs, (H, W), order, fill_mode, cval, legacy=True)
    out = images.copy()
    out[moving] = sampler(np.ascontiguousarray(images[moving])).astype(images.dtype)
    return out


def _to_last(x: np.ndarray, channel_axis: int) -> np.ndarray:
    return np.moveaxis(x, channel_axis, -1)


def apply_affine_transform(x: np.ndarray, theta: float = 0, tx: float = 0, ty: float = 0,
                           shear: float = 0, zx: float = 1, zy: float = 1, row_axis: int = 1,
                           col_axis: int = 2, channel_axis: int = 0, fill_mode: str = "nearest",
                           cval: float = 0.0, order: int = 1) -> np.ndarray:
    """One image (3-D) transformed as tf.keras's function of the same name does (its default
    axes are channels-first: row 1, column 2, channel 0)."""
    if len({row_axis, col_axis, channel_axis}) != 3 or {row_axis, col_axis, channel_axis} != \
            {0, 1, 2}:
        raise ValueError("row_axis, col_axis and channel_axis must be 0, 1 and 2 in some order.")
    if x.ndim != 3:
        raise ValueError(f"apply_affine_transform: expected one image (3-D); got shape "
                         f"{x.shape}.")
    if channel_axis not in (0, 2):
        raise ValueError("Channels are allowed and the first and last dimensions.")
    h, w = x.shape[row_axis], x.shape[col_axis]
    m = affine_matrix(theta, tx, ty, shear, zx, zy, h, w)
    if m is None:
        return x
    img = np.transpose(x, (row_axis, col_axis, channel_axis))[None]
    out = _sample(np.asarray(img, dtype=np.float64 if x.dtype.kind != "f" else x.dtype), [m],
                  fill_mode, cval, order)[0]
    inverse = np.argsort((row_axis, col_axis, channel_axis))
    return np.transpose(out, inverse).astype(x.dtype, copy=False)


def apply_channel_shift(x: np.ndarray, intensity: float, channel_axis: int = 0) -> np.ndarray:
    """Every channel + intensity, clipped to the image's own min and max."""
    lo, hi = np.min(x), np.max(x)
    return np.clip(x + intensity, lo, hi)


def random_channel_shift(x, intensity_range, channel_axis=0):
    return apply_channel_shift(x, np.random.uniform(-intensity_range, intensity_range),
                               channel_axis)


def apply_brightness_shift(x: np.ndarray, brightness: float, scale: bool = True,
                           data_format: str | None = None) -> np.ndarray:
    """Pillow's brightness enhancement (8-bit, as tf.keras does it); values outside 0..255
    are scaled into it and back."""
    from PIL import ImageEnhance
    x_min, x_max = np.min(x), np.max(x)
    local_scale = x_min < 0 or x_max > 255
    img = array_to_img(x, data_format=data_format, scale=local_scale or scale)
    img = ImageEnhance.Brightness(img).enhance(brightness)
    out = img_to_array(img, data_format=data_format)
    if not scale and local_scale:
        out = out / 255 * (x_max - x_min) + x_min
    return out


def random_brightness(x, brightness_range, scale=True):
    if len(brightness_range) != 2:
        raise ValueError(f"brightness_range should be a tuple or list of two floats; got "
                         f"{brightness_range!r}.")
    return apply_brightness_shift(x, np.random.uniform(*brightness_range), scale)


def random_rotation(x, rg, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest",
                    cval=0.0, interpolation_order=1):
    return apply_affine_transform(x, theta=np.random.uniform(-rg, rg), row_axis=row_axis,
                                  col_axis=col_axis, channel_axis=channel_axis,
                                  fill_mode=fill_mode, cval=cval, order=interpolation_order)


def random_shift(x, wrg, hrg, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest",
                 cval=0.0, interpolation_order=1):
    h, w = x.shape[row_axis], x.shape[col_axis]
    tx = np.random.uniform(-hrg, hrg) * h
    ty = np.random.uniform(-wrg, wrg) * w
    return apply_affine_transform(x, tx=tx, ty=ty, row_axis=row_axis, col_axis=col_axis,
                                  channel_axis=channel_axis, fill_mode=fill_mode, cval=cval,
                                  order=interpolation_order)


def random_shear(x, intensity, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest",
                 cval=0.0, interpolation_order=1):
    return apply_affine_transform(x, shear=np.random.uniform(-intensity, intensity),
                                  row_axis=row_axis, col_axis=col_axis,
                                  channel_axis=channel_axis, fill_mode=fill_mode, cval=cval,
                                  order=interpolation_order)


def random_zoom(x, zoom_range, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest",
                cval=0.0, interpolation_order=1):
    if len(zoom_range) != 2:
        raise ValueError(f"zoom_range should be a tuple or list of two floats; got "
                         f"{zoom_range!r}.")
    zx, zy = (1, 1) if zoom_range[0] == 1 and zoom_range[1] == 1 else \
        np.random.uniform(zoom_range[0], zoom_range[1], 2)
    return apply_affine_transform(x, zx=zx, zy=zy, row_axis=row_axis, col_axis=col_axis,
                                  channel_axis=channel_axis, fill_mode=fill_mode, cval=cval,
                                  order=interpolation_order)


# ====================================================================== the generator
class ImageDataGenerator:
    """Batches of augmented images from arrays (``flow``), folders (``flow_from_directory``)
    or a pandas DataFrame of file names (``flow_from_dataframe``); tf.keras 2.x's arguments
    and defaults."""

    def __init__(self, featurewise_center: bool = False, samplewise_center: bool = False,
                 featurewise_std_normalization: bool = False,
                 samplewise_std_normalization: bool = False, zca_whitening: bool = False,
                 zca_epsilon: float = 1e-6, rotation_range: float = 0,
                 width_shift_range: Any = 0.0, height_shift_range: Any = 0.0,
                 brightness_range: Any = None, shear_range: float = 0.0, zoom_range: Any = 0.0,
                 channel_shift_range: float = 0.0, fill_mode: str = "nearest",
                 cval: float = 0.0, horizontal_flip: bool = False, vertical_flip: bool = False,
                 rescale: float | None = None, preprocessing_function: Any = None,
                 data_format: str | None = None, validation_split: float = 0.0,
                 interpolation_order: int = 1, dtype: Any = None):
        data_format = data_format or backend.image_data_format()
        if data_format not in ("channels_last", "channels_first"):
            raise ValueError(f"data_format should be 'channels_last' (channel after row and "
                             f"column) or 'channels_first'; got {data_format!r}.")
        if fill_mode not in FILL_MODES:
            raise ValueError(f"fill_mode must be one of {', '.join(map(repr, FILL_MODES))}; got "
                             f"{fill_mode!r}.")
        if interpolation_order not in (0, 1):
            raise ValueError(f"interpolation_order must be 0 (nearest) or 1 (bilinear); got "
                             f"{interpolation_order!r}.")
        if validation_split and not 0 < validation_split < 1:
            raise ValueError(f"validation_split must be strictly between 0 and 1; got "
                             f"{validation_split!r}.")
        self.featurewise_center, self.samplewise_center = featurewise_center, samplewise_center
        self.featurewise_std_normalization = featurewise_std_normalization
        self.samplewise_std_normalization = samplewise_std_normalization
        self.zca_whitening, self.zca_epsilon = zca_whitening, zca_epsilon
        self.rotation_range = rotation_range
        self.width_shift_range, self.height_shift_range = width_shift_range, height_shift_range
        self.shear_range, self.channel_shift_range = shear_range, channel_shift_range
        self.fill_mode, self.cval = fill_mode, cval
        self.horizontal_flip, self.vertical_flip = horizontal_flip, vertical_flip
        self.rescale, self.preprocessing_function = rescale, preprocessing_function
        self.dtype = dtype or backend.floatx()
        self.interpolation_order = interpolation_order
        self.data_format = data_format
        self.channel_axis, self.row_axis, self.col_axis = \
            (1, 2, 3) if data_format == "channels_first" else (3, 1, 2)
        self._validation_split = validation_split
        self.mean = self.std = self.zca_whitening_matrix = None
        if isinstance(zoom_range, (float, int)):
            self.zoom_range = [1 - zoom_range, 1 + zoom_range]
        elif len(zoom_range) == 2 and all(isinstance(v, (float, int)) for v in zoom_range):
            self.zoom_range = [zoom_range[0], zoom_range[1]]
        else:
            raise ValueError(f"zoom_range should be a float or a tuple or list of two floats; "
                             f"got {zoom_range!r}.")
        if zca_whitening:
            if not featurewise_center:
                self.featurewise_center = True
                warnings.warn("This ImageDataGenerator specifies `zca_whitening`, which "
                              "overrides setting of `featurewise_center`.", stacklevel=2)
            if featurewise_std_normalization:
                self.featurewise_std_normalization = False
                warnings.warn("This ImageDataGenerator specifies `zca_whitening` which "
                              "overrides setting of `featurewise_std_normalization`.",
                              stacklevel=2)
        if featurewise_std_normalization and not featurewise_center:
            self.featurewise_center = True
            warnings.warn("This ImageDataGenerator specifies `featurewise_std_normalization`, "
                          "which overrides setting of `featurewise_center`.", stacklevel=2)
        if samplewise_std_normalization and not samplewise_center:
            self.samplewise_center = True
            warnings.warn("This ImageDataGenerator specifies `samplewise_std_normalization`, "
                          "which overrides setting of `samplewise_center`.", stacklevel=2)
        if brightness_range is not None and (not isinstance(brightness_range, (tuple, list))
                                             or len(brightness_range) != 2):
            raise ValueError(f"brightness_range should be a tuple or list of two floats; got "
                             f"{brightness_range!r}.")
        self.brightness_range = brightness_range

    # ------------------------------------------------------------- sources
    def flow(self, x: Any, y: Any = None, batch_size: int = 32, shuffle: bool = True,
             sample_weight: Any = None, seed: int | None = None, save_to_dir: Any = None,
             save_prefix: str = "", save_format: str = "png", ignore_class_split: bool = False,
             subset: str | None = None) -> "NumpyArrayIterator":
        """Augmented batches (x_batch, y_batch) from arrays: x (n, H, W, C)."""
        return NumpyArrayIterator(x, y, self, batch_size=batch_size, shuffle=shuffle,
                                  sample_weight=sample_weight, seed=seed,
                                  data_format=self.data_format, save_to_dir=save_to_dir,
                                  save_prefix=save_prefix, save_format=save_format,
                                  ignore_class_split=ignore_class_split, subset=subset,
                                  dtype=self.dtype)

    def flow_from_directory(self, directory: Any, target_size: tuple = (256, 256),
                            color_mode: str = "rgb", classes: Any = None,
                            class_mode: str | None = "categorical", batch_size: int = 32,
                            shuffle: bool = True, seed: int | None = None,
                            save_to_dir: Any = None, save_prefix: str = "",
                            save_format: str = "png", follow_links: bool = False,
                            subset: str | None = None, interpolation: str = "nearest",
                            keep_aspect_ratio: bool = False) -> "DirectoryIterator":
        """Augmented batches from a folder with one subfolder per class."""
        return DirectoryIterator(directory, self, target_size=target_size, color_mode=color_mode,
                                 keep_aspect_ratio=keep_aspect_ratio, classes=classes,
                                 class_mode=class_mode, data_format=self.data_format,
                                 batch_size=batch_size, shuffle=shuffle, seed=seed,
                                 save_to_dir=save_to_dir, save_prefix=save_prefix,
                                 save_format=save_format, follow_links=follow_links,
                                 subset=subset, interpolation=interpolation, dtype=self.dtype)

    def flow_from_dataframe(self, dataframe: Any, directory: Any = None, x_col: str = "filename",
                            y_col: Any = "class", weight_col: str | None = None,
                            target_size: tuple = (256, 256), color_mode: str = "rgb",
                            classes: Any = None, class_mode: str | None = "categorical",
                            batch_size: int = 32, shuffle: bool = True, seed: int | None = None,
                            save_to_dir: Any = None, save_prefix: str = "",
                            save_format: str = "png", subset: str | None = None,
                            interpolation: str = "nearest", validate_filenames: bool = True,
                            **kwargs: Any) -> "DataFrameIterator":
        """Augmented batches from a pandas DataFrame of file names (x_col) and labels (y_col)."""
        for old in ("has_ext", "sort", "drop_duplicates"):
            if old in kwargs:
                warnings.warn(f"{old} is deprecated (tf.keras 2.x ignores it too).",
                              DeprecationWarning, stacklevel=2)
        if class_mode == "other":
            warnings.warn('class_mode "other" is deprecated, please use class_mode "raw".',
                          DeprecationWarning, stacklevel=2)
            class_mode = "raw"
        return DataFrameIterator(dataframe, directory, self, x_col=x_col, y_col=y_col,
                                 weight_col=weight_col, target_size=target_size,
                                 color_mode=color_mode, classes=classes, class_mode=class_mode,
                                 data_format=self.data_format, batch_size=batch_size,
                                 shuffle=shuffle, seed=seed, save_to_dir=save_to_dir,
                                 save_prefix=save_prefix, save_format=save_format,
                                 subset=subset, interpolation=interpolation,
                                 validate_filenames=validate_filenames, dtype=self.dtype)

    # ------------------------------------------------------------- one image
    def standardize(self, x: np.ndarray) -> np.ndarray:
        """preprocessing_function, rescale, then the centring and scaling asked for, as
        tf.keras does (in place on float input; sample-wise statistics over all of x)."""
        if self.preprocessing_function:
            x = self.preprocessing_function(x)
        if self.rescale:
            x *= self.rescale
        if self.samplewise_center:
            x -= np.mean(x, keepdims=True)
        if self.samplewise_std_normalization:
            x /= np.std(x, keepdims=True) + 1e-6
        return self._featurewise(x)

    def _featurewise(self, x: np.ndarray) -> np.ndarray:
        if self.featurewise_center:
            if self.mean is not None:
                x -= self.mean
            else:
                warnings.warn("This ImageDataGenerator specifies `featurewise_center`, but it "
                              "hasn't been fit on any training data. Fit it first by calling "
                              "`.fit(numpy_data)`.", stacklevel=3)
        if self.featurewise_std_normalization:
            if self.std is not None:
                x /= self.std + 1e-6
            else:
                warnings.warn("This ImageDataGenerator specifies `featurewise_std_normalization`"
                              ", but it hasn't been fit on any training data. Fit it first by "
                              "calling `.fit(numpy_data)`.", stacklevel=3)
        if self.zca_whitening:
            if self.zca_whitening_matrix is not None:
                flat = x.reshape(-1, int(np.prod(x.shape[-3:])))
                x = np.reshape(flat @ self.zca_whitening_matrix, x.shape)
            else:
                warnings.warn("This ImageDataGenerator specifies `zca_whitening`, but it hasn't "
                              "been fit on any training data. Fit it first by calling "
                              "`.fit(numpy_data)`.", stacklevel=3)
        return x

    def get_random_transform(self, img_shape: tuple, seed: int | None = None) -> dict:
        """The parameters for one image of shape img_shape, drawn from NumPy's global
        generator (seeded with `seed` if given), in tf.keras's order."""
        if seed is not None:
            np.random.seed(seed)
        row, col = self.row_axis - 1, self.col_axis - 1
        theta = np.random.uniform(-self.rotation_range, self.rotation_range) \
            if self.rotation_range else 0
        tx = self._shift(self.height_shift_range, img_shape[row])
        ty = self._shift(self.width_shift_range, img_shape[col])
        shear = np.random.uniform(-self.shear_range, self.shear_range) if self.shear_range \
            else 0
        if self.zoom_range[0] == 1 and self.zoom_range[1] == 1:
            zx, zy = 1, 1
        else:
            zx, zy = np.random.uniform(self.zoom_range[0], self.zoom_range[1], 2)
        flip_horizontal = (np.random.random() < 0.5) * self.horizontal_flip
        flip_vertical = (np.random.random() < 0.5) * self.vertical_flip
        channel_shift = None
        if self.channel_shift_range != 0:
            channel_shift = np.random.uniform(-self.channel_shift_range,
                                              self.channel_shift_range)
        brightness = None
        if self.brightness_range is not None:
            brightness = np.random.uniform(self.brightness_range[0], self.brightness_range[1])
        return {"theta": theta, "tx": tx, "ty": ty, "shear": shear, "zx": zx, "zy": zy,
                "flip_horizontal": flip_horizontal, "flip_vertical": flip_vertical,
                "channel_shift_intensity": channel_shift, "brightness": brightness}

    @staticmethod
    def _shift(shift_range: Any, size: int) -> float:
        """tf.keras's shift draw: an int or list picks from its values with a random sign; a
        float draws uniformly; below 1 it is a fraction of the size."""
        if not shift_range:
            return 0
        try:
            t = np.random.choice(shift_range)
            t *= np.random.choice([-1, 1])
        except ValueError:
            t = np.random.uniform(-shift_range, shift_range)
        if np.max(shift_range) < 1:
            t *= size
        return t

    def apply_transform(self, x: np.ndarray, transform_parameters: dict) -> np.ndarray:
        """One image (3-D, in the generator's data_format) transformed with given parameters:
        the affine map, channel shift, flips, brightness."""
        single = self._to_batch(x[None].astype(self.dtype if x.dtype.kind != "f" else x.dtype,
                                               copy=False))
        out = self._apply_batch(single, [transform_parameters])
        return self._from_batch(out)[0]

    def _to_batch(self, x: np.ndarray) -> np.ndarray:
        return np.moveaxis(x, 1, -1) if self.data_format == "channels_first" else x

    def _from_batch(self, x: np.ndarray) -> np.ndarray:
        return np.moveaxis(x, -1, 1) if self.data_format == "channels_first" else x

    def _apply_batch(self, x: np.ndarray, params: list) -> np.ndarray:
        """Channels-last batch (N, H, W, C), one parameter dict per image."""
        N, H, W, _ = x.shape
        matrices = [affine_matrix(p.get("theta", 0), p.get("tx", 0), p.get("ty", 0),
                                  p.get("shear", 0), p.get("zx", 1), p.get("zy", 1), H, W)
                    for p in params]
        x = _sample(x, matrices, self.fill_mode, self.cval, self.interpolation_order)
        shifts = [p.get("channel_shift_intensity") for p in params]
        if any(s is not None for s in shifts):
            x = x.copy()
            for i, s in enumerate(shifts):
                if s is not None:
                    x[i] = apply_channel_shift(x[i], s)
        hflip = np.array([bool(p.get("flip_horizontal", False)) for p in params])
        vflip = np.array([bool(p.get("flip_vertical", False)) for p in params])
        if hflip.any() or vflip.any():
            x = x.copy()
            x[hflip] = x[hflip, :, ::-1]
            x[vflip] = x[vflip, ::-1]
        for i, p in enumerate(params):
            if p.get("brightness") is not None:
                x[i] = apply_brightness_shift(x[i], p["brightness"], False, "channels_last")
        return x

    def random_transform(self, x: np.ndarray, seed: int | None = None) -> np.ndarray:
        return self.apply_transform(x, self.get_random_transform(x.shape, seed))

    def fit(self, x: Any, augment: bool = False, rounds: int = 1, seed: int | None = None) -> None:
        """Learn the feature-wise mean and std (per channel) and the ZCA matrix from images
        x (n, H, W, C); ``augment`` first applies `rounds` random transforms to every image."""
        x = np.asarray(x, dtype=self.dtype)
        if x.ndim != 4:
            raise ValueError(f"Input to .fit() should have rank 4; got array with shape "
                             f"{x.shape}.")
        if x.shape[self.channel_axis] not in (1, 3, 4):
            warnings.warn(f"Expected images following the data format convention "
                          f"{self.data_format!r} (channels on axis {self.channel_axis}), i.e. "
                          f"1, 3 or 4 channels there; got an array of shape {x.shape}.",
                          stacklevel=2)
        if seed is not None:
            np.random.seed(seed)
        x = np.copy(x)
        if self.rescale:
            x *= self.rescale
        if augment:
            out = np.zeros((rounds * len(x),) + x.shape[1:], dtype=self.dtype)
            for r in range(rounds):
                for i in range(len(x)):
                    out[i + r * len(x)] = self.random_transform(x[i])
            x = out
        shape = [1, 1, 1]
        shape[self.channel_axis - 1] = x.shape[self.channel_axis]
        axes = (0, self.row_axis, self.col_axis)
        if self.featurewise_center:
            self.mean = np.reshape(np.mean(x, axis=axes), shape)
            x -= self.mean
        if self.featurewise_std_normalization:
            self.std = np.reshape(np.std(x, axis=axes), shape)
            x /= self.std + 1e-6
        if self.zca_whitening:
            flat = np.reshape(x, (len(x), -1))
            u, s, _ = np.linalg.svd(flat.T, full_matrices=False)
            s_inv = np.sqrt(len(x)) / (s + self.zca_epsilon)
            self.zca_whitening_matrix = (u * s_inv) @ u.T

    # ------------------------------------------------------------- a batch
    def _transform_batch(self, x: np.ndarray) -> np.ndarray:
        """Draw and apply every image's transform, then standardize; x (N, ...) in the
        generator's data_format and dtype. The draws come in tf.keras's order (image by
        image), so a seed gives its numbers."""
        if self.preprocessing_function is not None:
            # The user's function may draw random numbers too: keep tf.keras's interleaving.
            out = np.empty_like(x)
            for i in range(len(x)):
                params = self.get_random_transform(x[i].shape)
                out[i] = self.standardize(self.apply_transform(x[i], params))
            return out
        params = [self.get_random_transform(x.shape[1:]) for _ in range(len(x))]
        out = self._from_batch(self._apply_batch(self._to_batch(x), params)).astype(
            self.dtype, copy=False)
        out = np.array(out, dtype=self.dtype)        # own, writable memory for the steps below
        if self.rescale:
            out *= self.rescale
        axes = tuple(range(1, out.ndim))
        if self.samplewise_center:
            out -= np.mean(out, axis=axes, keepdims=True)
        if self.samplewise_std_normalization:
            out /= np.std(out, axis=axes, keepdims=True) + 1e-6
        return self._featurewise(out)


# ====================================================================== iterators
class Iterator(Sequence):
    """Batches of `batch_size` over n samples: ``len()`` batches an epoch, ``it[i]`` is batch
    i, ``next(it)`` runs on forever (tf.keras 2's iterator). The sample order is reshuffled
    every epoch when ``shuffle``; with a seed, NumPy's generator is reseeded with
    ``seed + batches seen`` before each batch, as tf.keras does."""

    white_list_formats = ("png", "jpg", "jpeg", "bmp", "ppm", "tif", "tiff")

    def __init__(self, n: int, batch_size: int, shuffle: bool, seed: int | None):
        if not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"batch_size must be a positive int; got {batch_size!r}.")
        self.n, self.batch_size, self.seed, self.shuffle = n, batch_size, seed, shuffle
        self.batch_index = 0
        self.total_batches_seen = 0
        self.index_array = None
        self.index_generator = self._flow_index()
        self.lock = threading.Lock()

    def _set_index_array(self) -> None:
        self.index_array = np.arange(self.n)
        if self.shuffle:
            self.index_array = np.random.permutation(self.n)

    def __getitem__(self, idx: int) -> Any:
        if idx >= len(self):
            raise ValueError(f"Asked to retrieve element {idx}, but the Sequence has length "
                             f"{len(self)}")
        if self.seed is not None:
            np.random.seed(self.seed + self.total_batches_seen)
        self.total_batches_seen += 1
        if self.index_array is None:
            self._set_index_array()
        rows = self.index_array[self.batch_size * idx:self.batch_size * (idx + 1)]
        return self._get_batches_of_transformed_samples(rows)

    def __len__(self) -> int:
        return (self.n + self.batch_size - 1) // self.batch_size

    def on_epoch_end(self) -> None:
        self._set_index_array()

    def reset(self) -> None:
        self.batch_index = 0

    def _flow_index(self):
        self.reset()
        while True:
            if self.seed is not None:
                np.random.seed(self.seed + self.total_batches_seen)
            if self.batch_index == 0:
                self._set_index_array()
            current = 0 if self.n == 0 else self.batch_index * self.batch_size % self.n
            if self.n > current + self.batch_size:
                self.batch_index += 1
            else:
                self.batch_index = 0
            self.total_batches_seen += 1
            yield self.index_array[current:current + self.batch_size]

    def __iter__(self):
        return self

    def __next__(self):
        return self.next()

    def next(self) -> Any:
        with self.lock:
            rows = next(self.index_generator)
        return self._get_batches_of_transformed_samples(rows)

    def _get_batches_of_transformed_samples(self, index_array: np.ndarray) -> Any:
        raise NotImplementedError

    def _save(self, batch_x: np.ndarray, index_array: np.ndarray, hash_range: float) -> None:
        for i, j in enumerate(index_array):
            img = array_to_img(batch_x[i], self.data_format, scale=True)
            name = f"{self.save_prefix}_{j}_{np.random.randint(hash_range)}.{self.save_format}"
            img.save(os.path.join(self.save_to_dir, name))


class NumpyArrayIterator(Iterator):
    """``ImageDataGenerator.flow``: batches (x, y[, sample_weight]) from arrays in memory;
    x may be (images, other arrays) whose rows travel along."""

    def __init__(self, x, y, image_data_generator, batch_size=32, shuffle=False,
                 sample_weight=None, seed=None, data_format=None, save_to_dir=None,
                 save_prefix="", save_format="png", subset=None, ignore_class_split=False,
                 dtype=None):
        data_format = data_format or backend.image_data_format()
        self.dtype = dtype or backend.floatx()
        if isinstance(x, (tuple, list)):
            misc = [np.asarray(x[1])] if not isinstance(x[1], list) else \
                [np.asarray(v) for v in x[1]]
            x = x[0]
            for v in misc:
                if len(x) != len(v):
                    raise ValueError(f"All of the arrays in x should have the same length; "
                                     f"found {len(x)} and {len(v)}.")
        else:
            misc = []
        if y is not None and len(x) != len(y):
            raise ValueError(f"x (images) and y (labels) should have the same length; found "
                             f"x.shape = {np.asarray(x).shape}, y.shape = {np.asarray(y).shape}.")
        if sample_weight is not None and len(x) != len(sample_weight):
            raise ValueError(f"x (images) and sample_weight should have the same length; found "
                             f"{len(x)} and {len(sample_weight)}.")
        if subset is not None:
            if subset not in ("training", "validation"):
                raise ValueError(f"subset must be 'training' or 'validation'; got {subset!r}.")
            split = int(len(x) * image_data_generator._validation_split)
            if y is not None and not ignore_class_split and not np.array_equal(
                    np.unique(y[:split]), np.unique(y[split:])):
                raise ValueError("Training and validation subsets have different number of "
                                 "classes after the split. If your numpy arrays are sorted by "
                                 "the label, you might want to shuffle them.")
            part = slice(None, split) if subset == "validation" else slice(split, None)
            x, misc = x[part], [np.asarray(v[part]) for v in misc]
            if y is not None:
                y = y[part]
            if sample_weight is not None:
                sample_weight = sample_weight[part]
        self.x = np.asarray(x, dtype=self.dtype)
        self.x_misc = misc
        if self.x.ndim != 4:
            raise ValueError(f"Input data in NumpyArrayIterator should have rank 4 (images "
                             f"(n, height, width, channels)); got shape {self.x.shape}.")
        channels_axis = 3 if data_format == "channels_last" else 1
        if self.x.shape[channels_axis] not in (1, 3, 4):
            warnings.warn(f"NumpyArrayIterator uses data format {data_format!r} (channels on "
                          f"axis {channels_axis}), i.e. expects 1, 3 or 4 channels there; got "
                          f"an array of shape {self.x.shape}.", stacklevel=3)
        self.y = None if y is None else np.asarray(y)
        self.sample_weight = None if sample_weight is None else np.asarray(sample_weight)
        self.image_data_generator = image_data_generator
        self.data_format = data_format
        self.save_to_dir, self.save_prefix, self.save_format = save_to_dir, save_prefix, save_format
        super().__init__(self.x.shape[0], batch_size, shuffle, seed)

    def _get_batches_of_transformed_samples(self, index_array):
        batch_x = self.image_data_generator._transform_batch(self.x[index_array])
        if self.save_to_dir:
            self._save(batch_x, index_array, 1e4)
        misc = [v[index_array] for v in self.x_misc]
        out = (batch_x if not misc else [batch_x] + misc,)
        if self.y is None:
            return out[0]
        out += (self.y[index_array],)
        if self.sample_weight is not None:
            out += (self.sample_weight[index_array],)
        return out


class BatchFromFilesMixin:
    """Reading, transforming and labelling a batch of image files."""

    def set_processing_attrs(self, image_data_generator, target_size, color_mode, data_format,
                             save_to_dir, save_prefix, save_format, subset, interpolation,
                             keep_aspect_ratio):
        self.image_data_generator = image_data_generator
        self.target_size = tuple(target_size)
        self.keep_aspect_ratio = keep_aspect_ratio
        if color_mode not in ("rgb", "rgba", "grayscale"):
            raise ValueError(f"Invalid color mode: {color_mode!r}; expected 'rgb', 'rgba' or "
                             f"'grayscale'.")
        self.color_mode, self.data_format = color_mode, data_format
        channels = {"rgba": 4, "rgb": 3, "grayscale": 1}[color_mode]
        self.image_shape = (self.target_size + (channels,) if data_format == "channels_last"
                            else (channels,) + self.target_size)
        self.save_to_dir, self.save_prefix, self.save_format = save_to_dir, save_prefix, save_format
        self.interpolation = interpolation
        if subset is not None:
            v = image_data_generator._validation_split
            if subset == "validation":
                split = (0, v)
            elif subset == "training":
                split = (v, 1)
            else:
                raise ValueError(f"Invalid subset name: {subset!r}; expected 'training' or "
                                 f"'validation'.")
        else:
            split = None
        self.split, self.subset = split, subset

    def _get_batches_of_transformed_samples(self, index_array):
        batch_x = np.zeros((len(index_array),) + self.image_shape, dtype=self.dtype)
        paths = self.filepaths
        for i, j in enumerate(index_array):
            img = load_img(paths[j], color_mode=self.color_mode, target_size=self.target_size,
                           interpolation=self.interpolation,
                           keep_aspect_ratio=self.keep_aspect_ratio)
            batch_x[i] = img_to_array(img, data_format=self.data_format)
            img.close()
        if self.image_data_generator:
            batch_x = self.image_data_generator._transform_batch(batch_x)
        if self.save_to_dir:
            self._save(batch_x, index_array, 1e7)
        mode = self.class_mode
        if mode == "input":
            batch_y = batch_x.copy()
        elif mode in ("binary", "sparse"):
            batch_y = np.asarray(self.classes)[index_array].astype(self.dtype)
        elif mode == "categorical":
            batch_y = np.zeros((len(batch_x), len(self.class_indices)), dtype=self.dtype)
            for i, n in enumerate(index_array):
                batch_y[i, self.classes[n]] = 1.0
        elif mode == "multi_output":
            batch_y = [output[index_array] for output in self.labels]
        elif mode == "raw":
            batch_y = self.labels[index_array]
        else:
            return batch_x
        if self.sample_weight is None:
            return batch_x, batch_y
        return batch_x, batch_y, self.sample_weight[index_array]


def _valid_files(directory: str, formats: tuple, follow_links: bool):
    for root, _, files in sorted(os.walk(directory, followlinks=follow_links),
                                 key=lambda w: w[0]):
        for name in sorted(files):
            if name.lower().endswith(".tiff"):
                warnings.warn('Using ".tiff" files with multiple bands will cause distortion. '
                              'Please verify your output.', stacklevel=4)
            if name.lower().endswith(formats):
                yield root, name


class DirectoryIterator(BatchFromFilesMixin, Iterator):
    """``ImageDataGenerator.flow_from_directory``: each subfolder is a class (alphanumeric
    order, or `classes`); with a validation_split, the first fraction of every class's sorted
    files is the validation subset and the rest the training subset."""

    allowed_class_modes = {"categorical", "binary", "sparse", "input", None}

    def __init__(self, directory, image_data_generator, target_size=(256, 256),
                 color_mode="rgb", classes=None, class_mode="categorical", batch_size=32,
                 shuffle=True, seed=None, data_format=None, save_to_dir=None, save_prefix="",
                 save_format="png", follow_links=False, subset=None, interpolation="nearest",
                 keep_aspect_ratio=False, dtype=None):
        data_format = data_format or backend.image_data_format()
        self.dtype = dtype or backend.floatx()
        self.set_processing_attrs(image_data_generator, target_size, color_mode, data_format,
                                  save_to_dir, save_prefix, save_format, subset, interpolation,
                                  keep_aspect_ratio)
        directory = os.fspath(directory)
        if not os.path.isdir(directory):
            raise FileNotFoundError(f"flow_from_directory: {directory!r} is not a folder; it "
                                    f"should hold one subfolder of images per class.")
        self.directory = directory
        if class_mode not in self.allowed_class_modes:
            raise ValueError(f"Invalid class_mode: {class_mode!r}; expected one of: "
                             f"{sorted(self.allowed_class_modes, key=str)}")
        self.class_mode = class_mode
        if not classes:
            classes = [d for d in sorted(os.listdir(directory))
                       if os.path.isdir(os.path.join(directory, d))]
        self.num_classes = len(classes)
        self.class_indices = dict(zip(classes, range(len(classes))))
        self.filenames, labels = [], []
        for name in classes:
            folder = os.path.join(directory, name)
            found = list(_valid_files(folder, self.white_list_formats, follow_links))
            if self.split:
                start, stop = int(self.split[0] * len(found)), int(self.split[1] * len(found))
                found = found[start:stop]
            for root, fname in found:
                self.filenames.append(os.path.join(name, os.path.relpath(
                    os.path.join(root, fname), folder)))
                labels.append(self.class_indices[name])
        self.samples = len(self.filenames)
        self.classes = np.asarray(labels, dtype="int32")
        print(f"Found {self.samples} images belonging to {self.num_classes} classes.")
        self._filepaths = [os.path.join(directory, f) for f in self.filenames]
        super().__init__(self.samples, batch_size, shuffle, seed)

    @property
    def filepaths(self):
        return self._filepaths

    @property
    def labels(self):
        return self.classes

    @property
    def sample_weight(self):
        return None


class DataFrameIterator(BatchFromFilesMixin, Iterator):
    """``ImageDataGenerator.flow_from_dataframe`` (needs pandas): file names in `x_col`
    (relative to `directory`), labels in `y_col`."""

    allowed_class_modes = {"binary", "categorical", "input", "multi_output", "raw", "sparse",
                           None}

    def __init__(self, dataframe, directory=None, image_data_generator=None, x_col="filename",
                 y_col="class", weight_col=None, target_size=(256, 256), color_mode="rgb",
                 classes=None, class_mode="categorical", batch_size=32, shuffle=True, seed=None,
                 data_format="channels_last", save_to_dir=None, save_prefix="",
                 save_format="png", subset=None, interpolation="nearest",
                 keep_aspect_ratio=False, dtype="float32", validate_filenames=True):
        self.set_processing_attrs(image_data_generator, target_size, color_mode, data_format,
                                  save_to_dir, save_prefix, save_format, subset, interpolation,
                                  keep_aspect_ratio)
        df = dataframe.copy()
        self.directory = os.fspath(directory) if directory is not None else ""
        self.class_mode, self.dtype = class_mode, dtype
        self._check_params(df, x_col, y_col, weight_col, classes)
        if validate_filenames:
            df = self._filter_valid_filepaths(df, x_col)
        labelled = class_mode not in ("input", "multi_output", "raw", None)
        if labelled:
            df, classes = self._filter_classes(df, y_col, classes)
            self.class_indices = dict(zip(classes, range(len(classes))))
        if self.split:
            n = len(df)
            df = df.iloc[int(self.split[0] * n):int(self.split[1] * n), :]
        if labelled:
            self.classes = self.get_classes(df, y_col)
        self.filenames = df[x_col].tolist()
        self._sample_weight = df[weight_col].values if weight_col else None
        if class_mode == "multi_output":
            self._targets = [np.array(df[col].tolist()) for col in y_col]
        if class_mode == "raw":
            self._targets = df[y_col].values
        self.samples = len(self.filenames)
        kind = "validated" if validate_filenames else "non-validated"
        if labelled:
            print(f"Found {self.samples} {kind} image filenames belonging to {len(classes)} "
                  f"classes.")
        else:
            print(f"Found {self.samples} {kind} image filenames.")
        self._filepaths = [os.path.join(self.directory, f) for f in self.filenames]
        super().__init__(self.samples, batch_size, shuffle, seed)

    def _check_params(self, df, x_col, y_col, weight_col, classes):
        mode = self.class_mode
        if mode not in self.allowed_class_modes:
            raise ValueError(f"Invalid class_mode: {mode!r}; expected one of: "
                             f"{sorted(self.allowed_class_modes, key=str)}")
        if mode == "multi_output" and not isinstance(y_col, list):
            raise TypeError(f"If class_mode='multi_output', y_col must be a list; got "
                            f"{type(y_col).__name__}.")
        if not all(isinstance(v, str) for v in df[x_col]):
            raise TypeError(f"All values in column x_col={x_col!r} must be strings.")
        if mode in ("binary", "sparse") and not all(isinstance(v, str) for v in df[y_col]):
            raise TypeError(f"If class_mode={mode!r}, y_col={y_col!r} column values must be "
                            f"strings.")
        if mode == "binary":
            n = len(set(classes)) if classes else df[y_col].nunique()
            if n != 2:
                raise ValueError(f"If class_mode='binary' there must be 2 classes; found {n}.")
        if mode == "categorical" and not all(isinstance(v, (str, list, tuple))
                                             for v in df[y_col]):
            raise TypeError(f"If class_mode='categorical', y_col={y_col!r} column values must "
                            f"be strings, lists or tuples.")
        if classes and mode in ("input", "multi_output", "raw", None):
            warnings.warn(f"`classes` will be ignored given the class_mode={mode!r}",
                          stacklevel=4)
        if weight_col and not issubclass(df[weight_col].dtype.type, np.number):
            raise TypeError(f"Column weight_col={weight_col!r} must be numeric.")

    def get_classes(self, df, y_col):
        return [[self.class_indices[v] for v in label] if isinstance(label, (list, tuple))
                else self.class_indices[label] for label in df[y_col]]

    @staticmethod
    def _filter_classes(df, y_col, classes):
        df = df.copy()

        def keep(labels):
            if isinstance(labels, (list, tuple)):
                kept = [c for c in labels if c in classes]
                return kept or None
            if isinstance(labels, str):
                return labels if labels in classes else None
            raise TypeError(f"Expect string, list or tuple but found {type(labels)} in "
                            f"{y_col} column ")
        if classes:
            classes = list(collections.OrderedDict.fromkeys(classes))
            df[y_col] = df[y_col].apply(keep)
        else:
            found: set = set()
            for v in df[y_col]:
                found.update(v) if isinstance(v, (list, tuple)) else found.add(v)
            classes = sorted(found)
        return df.dropna(subset=[y_col]), classes

    def _filter_valid_filepaths(self, df, x_col):
        paths = df[x_col].map(lambda f: os.path.join(self.directory, f))
        mask = paths.apply(lambda p: p.lower().endswith(self.white_list_formats)
                           and os.path.isfile(p))
        n_invalid = int((~mask).sum())
        if n_invalid:
            warnings.warn(f"Found {n_invalid} invalid image filename(s) in x_col={x_col!r}. "
                          f"These filename(s) will be ignored.", stacklevel=4)
        return df[mask]

    @property
    def filepaths(self):
        return self._filepaths

    @property
    def labels(self):
        return self._targets if self.class_mode in ("multi_output", "raw") else self.classes

    @property
    def sample_weight(self):
        return self._sample_weight


__all__ = ["ImageDataGenerator", "Iterator", "NumpyArrayIterator", "DirectoryIterator",
           "DataFrameIterator", "apply_affine_transform", "apply_brightness_shift",
           "apply_channel_shift", "random_rotation", "random_shift", "random_shear",
           "random_zoom", "random_channel_shift", "random_brightness", "load_img",
           "img_to_array", "array_to_img", "save_img", "smart_resize"]
