"""Convolution layers: Conv2D, Conv1D, DepthwiseConv2D, Conv2DTranspose.

Each is the notes' im2col convolution (see ``im2col.py``) on channels-last images:

    cols = im2col(pad(x))               # (N·OH·OW, kh·kw·C): one row per output pixel
    y    = f(cols @ W + b)              # W: the kernel (kh, kw, C, F) as a (kh·kw·C, F) matrix
    dW   = colsᵀ · dz                   # one matrix product, like Dense
    dx   = col2im(dz · Wᵀ)              # rows added back onto the pixels they came from

1-D layers and ``data_format='channels_first'`` are turned into that (N, H, W, C) form at the
boundary, so one forward and one backward serve them all.
"""
from __future__ import annotations

from typing import Any

from .. import activations, backend
from ..backend import xp
from .im2col import (col2im, col2im_matmul, effective_size, im2col, output_length, pad,
                     padding_amounts, unpad)
from .layer import Layer, add_bias, normalize_tuple
from .options import options_config, set_options

_CONV_OPTIONS = ("kernel_initializer", "bias_initializer", "kernel_regularizer",
                 "bias_regularizer", "activity_regularizer", "kernel_constraint",
                 "bias_constraint")


def normalize_padding(layer: Layer, padding: Any, allowed: tuple = ("valid", "same")) -> str:
    """'same' / 'SAME' -> 'same'; anything else is a clear error naming the layer."""
    p = padding.lower() if isinstance(padding, str) else padding
    if p not in allowed:
        raise ValueError(f"{type(layer).__name__} {layer.name!r}: padding must be one of "
                         f"{', '.join(map(repr, allowed))}; got {padding!r}.")
    return p


def normalize_data_format(layer: Layer, data_format: Any) -> str:
    """None -> keras.backend.image_data_format() ('channels_last' unless changed)."""
    if data_format is None:
        return backend.image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"{type(layer).__name__} {layer.name!r}: data_format must be "
                         f"'channels_last' or 'channels_first'; got {data_format!r}.")
    return data_format


def check_image_input(layer: Layer, input_shape: tuple, rank: int) -> None:
    """A clear error for the shape mistakes a learner meets first (missing channel axis, ...)."""
    shape, kind = tuple(input_shape), type(layer).__name__
    want = rank + 2
    if len(shape) != want:
        axes = "(batch, steps, channels)" if rank == 1 else "(batch, height, width, channels)"
        hint = ""
        if len(shape) == want - 1 and rank == 2:
            dims = ", ".join(str(d) for d in shape[1:])
            hint = (f" Images need a channel axis, even grayscale ones: use x[..., None] "
                    f"(shape (N, {dims}, 1)) and input_shape=({dims}, 1), or put "
                    f"keras.layers.Reshape(({dims}, 1)) first.")
        elif len(shape) == want - 1:
            hint = " Add a channel axis: x[..., None]."
        raise ValueError(f"{kind} {layer.name!r} expects a {want}-D input {axes}; got shape "
                         f"{shape}.{hint}")
    if layer.data_format == "channels_last" and rank == 2 and shape[1] in (1, 3) \
            and min(shape[2] or 0, shape[3] or 0) >= 8:
        # (N, 1, 28, 28) read as a 1x28 image with 28 channels: almost surely channels_first.
        kh = effective_size(getattr(layer, "kernel_size", getattr(layer, "pool_size", (1,)))[0],
                            getattr(layer, "dilation_rate", (1,))[0])
        if kh > shape[1]:
            raise ValueError(
                f"{kind} {layer.name!r} reads input {shape} as channels_last (N, H, W, C): "
                f"height {shape[1]}, width {shape[2]}, {shape[3]} channels, and its "
                f"{kh}-high window does not fit that height. It looks like channels_first data "
                f"(N, C, H, W): transpose it with x.transpose(0, 2, 3, 1), or pass "
                f"data_format='channels_first' to the layer.")


def to_nhwc(x: Any, rank: int, data_format: str) -> Any:
    """Any image/sequence batch -> the (N, H, W, C) view the im2col code works on (no copy).

    (N, C, H, W) channels_first is moved to channels-last; a sequence (N, L, C) becomes a
    one-row image (N, 1, L, C).
    """
    if data_format == "channels_first":
        x = xp.moveaxis(x, 1, -1)
    return x[:, None] if rank == 1 else x


def from_nhwc(y: Any, rank: int, data_format: str) -> Any:
    """The inverse of `to_nhwc`."""
    y = y[:, 0] if rank == 1 else y
    return xp.moveaxis(y, -1, 1) if data_format == "channels_first" else y


def spatial_output(layer: Layer, sizes: tuple, kernel: tuple, strides: tuple,
                   dilation: tuple, padding: str) -> tuple:
    """Output sizes of the spatial axes; an error when the window does not fit the input."""
    out = tuple(output_length(n, k, s, d, padding)
                for n, k, s, d in zip(sizes, kernel, strides, dilation))
    if any(o is not None and o <= 0 for o in out):
        window = "x".join(str(effective_size(k, d)) for k, d in zip(kernel, dilation))
        what = "pool window" if hasattr(layer, "pool_size") else "kernel"
        raise ValueError(
            f"{type(layer).__name__} {layer.name!r}: the {window} {what} is larger than its "
            f"{'x'.join(str(n) for n in sizes)} input (padding={padding!r}), so the output "
            f"would have size {'x'.join(str(max(o, 0)) for o in out)}. Use padding='same', a "
            f"smaller {what}, or fewer pooling/strided layers before this one.")
    return out


class _Conv(Layer):
    """The shared machinery; ``rank`` is 1 (sequences) or 2 (images)."""

    rank = 2

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 data_format: str | None = None, dilation_rate: Any = 1, groups: int = 1,
                 activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any):
        super().__init__(**kwargs)
        kind, r = f"{type(self).__name__} {self.name!r}", self.rank
        if not isinstance(filters, int) or isinstance(filters, bool) or filters <= 0:
            raise ValueError(f"{kind}: filters must be a positive int; got {filters!r}")
        if not isinstance(groups, int) or groups <= 0 or filters % groups:
            raise ValueError(f"{kind}: groups must be a positive int that divides filters="
                             f"{filters}; got groups={groups!r}")
        self.filters, self.groups = filters, groups
        self.kernel_size = normalize_tuple(kernel_size, r, f"{kind}: kernel_size")
        self.strides = normalize_tuple(strides, r, f"{kind}: strides")
        self.dilation_rate = normalize_tuple(dilation_rate, r, f"{kind}: dilation_rate")
        if min(self.kernel_size + self.strides + self.dilation_rate) <= 0:
            raise ValueError(f"{kind}: kernel_size, strides and dilation_rate must be positive; "
                             f"got {self.kernel_size}, {self.strides}, {self.dilation_rate}")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"{kind}: strides > 1 together with dilation_rate > 1 is not "
                             f"supported (as in Keras); got strides={self.strides}, "
                             f"dilation_rate={self.dilation_rate}. Use one or the other.")
        allowed = ("valid", "same", "causal") if r == 1 else ("valid", "same")
        self.padding = normalize_padding(self, padding, allowed)
        self.data_format = normalize_data_format(self, data_format)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        set_options(self, kernel_initializer=kernel_initializer,
                    bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                    bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
                    kernel_constraint=kernel_constraint, bias_constraint=bias_constraint)

    # ------------------------------------------------------------- shapes
    def _channels(self, input_shape):
        return input_shape[1] if self.data_format == "channels_first" else input_shape[-1]

    def _spatial(self, input_shape):
        return tuple(input_shape[2:] if self.data_format == "channels_first" else input_shape[1:-1])

    def _kernel_shape(self, channels: int) -> tuple:
        return self.kernel_size + (channels // self.groups, self.filters)

    def build(self, input_shape):
        check_image_input(self, input_shape, self.rank)
        channels = self._channels(input_shape)
        if channels is None or channels % self.groups:
            raise ValueError(f"{type(self).__name__} {self.name!r}: the input channel axis must "
                             f"be known and divisible by groups={self.groups}; got input shape "
                             f"{tuple(input_shape)} ({self.data_format}).")
        self.kernel = self.add_weight("kernel", self._kernel_shape(channels),
                                      self.kernel_initializer, regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.bias = (self.add_weight("bias", (self._out_channels(input_shape),),
                                     self.bias_initializer, regularizer=self.bias_regularizer,
                                     constraint=self.bias_constraint) if self.use_bias else None)

    def _out_channels(self, input_shape) -> int:
        return self.filters

    def compute_output_shape(self, input_shape):
        check_image_input(self, input_shape, self.rank)
        out = spatial_output(self, self._spatial(input_shape), self.kernel_size, self.strides,
                             self.dilation_rate, self.padding)
        channels = self._out_channels(input_shape)
        if self.data_format == "channels_first":
            return (input_shape[0], channels) + out
        return (input_shape[0],) + out + (channels,)

    def _geometry(self, H: int, W: int) -> tuple:
        """(kernel, strides, dilation, pads, out_size) of the 2-D convolution on an H x W input;
        a 1-D layer is a 2-D one whose kernel, stride and dilation are 1 along the height."""
        one = (1,) * (2 - self.rank)
        k, s, d = one + self.kernel_size, one + self.strides, one + self.dilation_rate
        pads = tuple(padding_amounts(n, *g, self.padding) for n, *g in zip((H, W), k, s, d))
        out = spatial_output(self, (H, W)[2 - self.rank:], self.kernel_size, self.strides,
                             self.dilation_rate, self.padding)
        return k, s, d, pads, one + out

    def _kernel_matrix(self):
        """The kernel as (kh·kw·C, F), or as (G, kh·kw·C/G, F/G) with groups."""
        G, F = self.groups, self.filters
        if G == 1:
            return self.kernel.reshape(-1, F)
        return self.kernel.reshape(-1, G, F // G).transpose(1, 0, 2)

    # ------------------------------------------------------------- computation
    def forward(self, x, training=False):
        """x (N, H, W, C) -> y (N, OH, OW, F); channels_first (N, C, H, W) -> (N, F, OH, OW);
        Conv1D (N, L, C) -> (N, OL, F)."""
        x = to_nhwc(x, self.rank, self.data_format)             # (N, H, W, C)
        N, H, W, _ = x.shape
        k, s, d, pads, (OH, OW) = self._geom = self._geometry(H, W)
        x = pad(x, pads)
        self._padded_shape = x.shape
        self.cols = im2col(x, k, s, d, (OH, OW), self.groups)   # (N·OH·OW, kh·kw·C)
        z = self.cols @ self._kernel_matrix()                   # (N·OH·OW, F)
        if self.groups > 1:                                     # (G, M, F/G) -> (M, F)
            z = z.transpose(1, 0, 2).reshape(N * OH * OW, self.filters)
        if self.use_bias:
            add_bias(z, self.bias)
        self.z, self.y = z, activations.apply_overwriting(self.activation, z)  # relu: in place
        y = self.y.reshape(N, OH, OW, self.filters)
        return from_nhwc(y, self.rank, self.data_format)

    def backward(self, dy, skip_activation=False):
        """dy: dL/dy -> dL/dx (None for the first layer of a model, which needs no dx)."""
        dy = to_nhwc(dy, self.rank, self.data_format).reshape(self.z.shape)   # (N·OH·OW, F)
        if skip_activation or self.activation is activations.linear:
            dz = dy
        else:
            dz = self.activation.backward(self.z, self.y, dy)
        if self.use_bias:   # Σ over rows, as 1ᵀ·dz: BLAS is ~6x faster than dz.sum(axis=0)
            self.grads["bias"] = xp.ones(len(dz), dtype=dz.dtype) @ dz
        G, F = self.groups, self.filters
        dzg = dz if G == 1 else dz.reshape(-1, G, F // G).transpose(1, 0, 2)  # (G, M, F/G)
        dW = self.cols.swapaxes(-1, -2) @ dzg                   # colsᵀ·dz, as Dense's xᵀ·dz
        self.grads["kernel"] = (dW if G == 1 else dW.transpose(1, 0, 2)).reshape(self.kernel.shape)
        if not self.needs_input_grad:
            return None
        # dx = col2im(dz·Wᵀ): every window hands its gradient back to the pixels it read.
        k, s, d, pads, out = self._geom
        dx = col2im_matmul(dz, self.kernel.reshape(k + (-1, F)), self._padded_shape, s, d,
                           out, G)
        return from_nhwc(unpad(dx, pads), self.rank, self.data_format)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": list(self.kernel_size), "strides": list(self.strides),
                "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": list(self.dilation_rate), "groups": self.groups,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                **options_config(self, _CONV_OPTIONS)}


class Conv2D(_Conv):
    """2-D convolution: x (N, H, W, C) -> y (N, OH, OW, filters); kernel (kh, kw, C, filters).

    ``Conv2D(32, (5, 5), padding='same', activation='relu', input_shape=(28, 28, 1))``.
    padding='valid': OH = floor((H − kh)/s) + 1; 'same': OH = ceil(H/s), zeros around the
    image (the odd one at the bottom/right). groups=G convolves G channel blocks separately.
    """

    rank = 2

    def __init__(self, filters: int, kernel_size: Any, strides: Any = (1, 1),
                 padding: str = "valid", data_format: str | None = None,
                 dilation_rate: Any = (1, 1), groups: int = 1, **kwargs: Any):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate,
                         groups, **kwargs)


class Conv1D(_Conv):
    """1-D convolution over time: x (N, steps, C) -> y (N, out_steps, filters); kernel
    (k, C, filters). padding may also be 'causal' (zeros at the start only), as in WaveNet."""

    rank = 1

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 data_format: str | None = None, dilation_rate: Any = 1, groups: int = 1,
                 **kwargs: Any):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate,
                         groups, **kwargs)


Convolution2D = Conv2D
Convolution1D = Conv1D


class DepthwiseConv2D(_Conv):
    """Each input channel gets its own depth_multiplier kernels: (N, H, W, C) ->
    (N, OH, OW, C·depth_multiplier); kernel (kh, kw, C, depth_multiplier).

    It is a grouped convolution with one group per input channel (groups = C), so forward
    and backward are the ones above.
    """

    _renamed = {"kernel_initializer": "depthwise_initializer",
                "kernel_regularizer": "depthwise_regularizer",
                "kernel_constraint": "depthwise_constraint"}

    def __init__(self, kernel_size: Any, strides: Any = (1, 1), padding: str = "valid",
                 depth_multiplier: int = 1, data_format: str | None = None,
                 dilation_rate: Any = (1, 1), activation: Any = None, use_bias: bool = True,
                 depthwise_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 depthwise_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, depthwise_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any):
        super().__init__(depth_multiplier, kernel_size, strides, padding, data_format,
                         dilation_rate, 1, activation, use_bias, depthwise_initializer,
                         bias_initializer, depthwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, bias_constraint, **kwargs)
        self.depth_multiplier = depth_multiplier

    def _out_channels(self, input_shape):
        return self._channels(input_shape) * self.depth_multiplier

    def _kernel_shape(self, channels):
        self.groups, self.filters = channels, channels * self.depth_multiplier
        return self.kernel_size + (channels, self.depth_multiplier)

    def get_config(self):
        config = super().get_config()
        for key in ("filters", "groups"):
            config.pop(key)
        config = {self._renamed.get(k, k): v for k, v in config.items()}
        return {**config, "depth_multiplier": self.depth_multiplier}


class Conv2DTranspose(_Conv):
    """The transposed ("de-")convolution: (N, H, W, C) -> (N, OH, OW, filters) with
    OH = H·s ('same') or H·s + max(kh − s, 0) ('valid'); kernel (kh, kw, filters, C).

    It is exactly the backward (dx) of a Conv2D with the same kernel, so its forward is
    col2im and its backward is im2col: the two helpers swap places.
    """

    def __init__(self, filters: int, kernel_size: Any, strides: Any = (1, 1),
                 padding: str = "valid", output_padding: Any = None,
                 data_format: str | None = None, dilation_rate: Any = (1, 1), **kwargs: Any):
        if "groups" in kwargs:
            raise TypeError("Conv2DTranspose does not take `groups` (Keras's has none either).")
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate,
                         **kwargs)
        self.output_padding = None if output_padding is None else normalize_tuple(
            output_padding, self.rank, f"Conv2DTranspose {self.name!r}: output_padding")

    def _kernel_shape(self, channels):
        return self.kernel_size + (self.filters, channels)

    def _lengths(self, sizes: tuple) -> tuple:
        """Keras's output length of each spatial axis."""
        out = []
        for k, (n, kk, s, d) in enumerate(zip(sizes, self.kernel_size, self.strides,
                                              self.dilation_rate)):
            k_eff = effective_size(kk, d)
            if n is None:
                out.append(None)
            elif self.output_padding is None:
                out.append(n * s + (max(k_eff - s, 0) if self.padding == "valid" else 0))
            else:
                p = k_eff // 2 if self.padding == "same" else 0
                out.append((n - 1) * s + k_eff - 2 * p + self.output_padding[k])
        return tuple(out)

    def compute_output_shape(self, input_shape):
        check_image_input(self, input_shape, self.rank)
        out = self._lengths(self._spatial(input_shape))
        if self.data_format == "channels_first":
            return (input_shape[0], self.filters) + out
        return (input_shape[0],) + out + (self.filters,)

    def forward(self, x, training=False):
        """x (N, H, W, C) -> y (N, OH, OW, filters), OH from `_lengths`."""
        x = to_nhwc(x, self.rank, self.data_format)             # (N, H, W, C)
        N, H, W, C = self.x_shape = x.shape
        one = (1,) * (2 - self.rank)
        k, s, d = one + self.kernel_size, one + self.strides, one + self.dilation_rate
        L = one + self._lengths((H, W)[2 - self.rank:])
        # The convolution whose dx this is: input L x L, padded by `pads`, output H x W.
        pads = tuple(padding_amounts(n, *g, self.padding) for n, *g in zip(L, k, s, d))
        padded = (N,) + tuple(n + a + b for n, (a, b) in zip(L, pads)) + (self.filters,)
        self._geom = (k, s, d, pads, (H, W))
        self.x2 = x.reshape(N * H * W, C)
        cols = self.x2 @ self.kernel.reshape(-1, C).T           # (N·H·W, kh·kw·F)
        z = unpad(col2im(cols, padded, k, s, d, (H, W)), pads)  # (N, OH, OW, F)
        if self.use_bias:
            z = z + self.bias
        self.z, self.y = z, self.activation(z)
        return from_nhwc(self.y, self.rank, self.data_format)

    def backward(self, dy, skip_activation=False):
        """dy (N, OH, OW, filters) -> dx (N, H, W, C): a Conv2D forward of dy (im2col)."""
        dy = to_nhwc(dy, self.rank, self.data_format)
        if not (skip_activation or self.activation is activations.linear):
            dy = self.activation.backward(self.z, self.y, dy)
        if self.use_bias:
            self.grads["bias"] = dy.sum(axis=(0, 1, 2))
        k, s, d, pads, (H, W) = self._geom
        cols = im2col(pad(dy, pads), k, s, d, (H, W))           # (N·H·W, kh·kw·F)
        W2 = self.kernel.reshape(-1, self.x_shape[-1])          # (kh·kw·F, C)
        self.grads["kernel"] = (cols.T @ self.x2).reshape(self.kernel.shape)
        if not self.needs_input_grad:
            return None
        return from_nhwc((cols @ W2).reshape(self.x_shape), self.rank, self.data_format)

    def get_config(self):
        config = super().get_config()
        config.pop("groups")
        out_pad = None if self.output_padding is None else list(self.output_padding)
        return {**config, "output_padding": out_pad}


class _SeparableConv(_Conv):
    """A depthwise convolution (each channel its own depth_multiplier kernels) followed by a
    pointwise one (a 1x1 convolution mixing the channels):

        t  = depthwise(x)            # (N·OH·OW, C·dm), as DepthwiseConv2D, no bias
        y  = f(t · P + b)            # P: the pointwise kernel (1, 1, C·dm, filters) as a matrix
        dP = tᵀ·dz,  dt = dz·Pᵀ,  then DepthwiseConv2D's backward of dt.

    Weights, in Keras's order: depthwise_kernel (kh, kw, C, dm), pointwise_kernel
    (1, 1, C·dm, filters), bias (filters,). Far fewer weights than a full convolution.
    """

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 data_format: str | None = None, dilation_rate: Any = 1, depth_multiplier: int = 1,
                 activation: Any = None, use_bias: bool = True,
                 depthwise_initializer: Any = "glorot_uniform",
                 pointwise_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 depthwise_regularizer: Any = None, pointwise_regularizer: Any = None,
                 bias_regularizer: Any = None, activity_regularizer: Any = None,
                 depthwise_constraint: Any = None, pointwise_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any):
        if kwargs.pop("groups", 1) != 1:      # tf.keras 2.x writes groups=1 into the config
            raise ValueError(f"{type(self).__name__}: groups must be 1 (a separable "
                             f"convolution is already one group per channel).")
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, 1,
                         activation, use_bias, bias_initializer=bias_initializer,
                         bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer,
                         bias_constraint=bias_constraint, **kwargs)
        if not isinstance(depth_multiplier, int) or depth_multiplier <= 0:
            raise ValueError(f"{type(self).__name__} {self.name!r}: depth_multiplier must be a "
                             f"positive int; got {depth_multiplier!r}")
        self.depth_multiplier = depth_multiplier
        set_options(self, depthwise_initializer=depthwise_initializer,
                    pointwise_initializer=pointwise_initializer,
                    depthwise_regularizer=depthwise_regularizer,
                    pointwise_regularizer=pointwise_regularizer,
                    depthwise_constraint=depthwise_constraint,
                    pointwise_constraint=pointwise_constraint)

    def build(self, input_shape):
        check_image_input(self, input_shape, self.rank)
        C = self._channels(input_shape)
        if C is None:
            raise ValueError(f"{type(self).__name__} {self.name!r}: the channel axis must be "
                             f"known; got input shape {tuple(input_shape)} ({self.data_format}).")
        dm, one = self.depth_multiplier, (1,) * self.rank
        self.depthwise_kernel = self.add_weight(
            "depthwise_kernel", self.kernel_size + (C, dm), self.depthwise_initializer,
            regularizer=self.depthwise_regularizer, constraint=self.depthwise_constraint)
        self.pointwise_kernel = self.add_weight(
            "pointwise_kernel", one + (C * dm, self.filters), self.pointwise_initializer,
            regularizer=self.pointwise_regularizer, constraint=self.pointwise_constraint)
        self.bias = (self.add_weight("bias", (self.filters,), self.bias_initializer,
                                     regularizer=self.bias_regularizer,
                                     constraint=self.bias_constraint) if self.use_bias else None)

    def forward(self, x, training=False):
        """x (N, H, W, C) -> y (N, OH, OW, filters); channels_first and 1-D as in Conv2D."""
        x = to_nhwc(x, self.rank, self.data_format)
        N, H, W, C = x.shape
        k, s, d, pads, (OH, OW) = self._geom = self._geometry(H, W)
        x = pad(x, pads)
        self._padded_shape = x.shape
        self.cols = im2col(x, k, s, d, (OH, OW), C)                 # (C, M, kh·kw)
        dm = self.depth_multiplier
        kd = self.depthwise_kernel.reshape(-1, C, dm).transpose(1, 0, 2)   # (C, kh·kw, dm)
        # Channel c's m-th map is output channel c·dm + m, as in Keras.
        self.t = (self.cols @ kd).transpose(1, 0, 2).reshape(N * OH * OW, C * dm)
        z = self.t @ self.pointwise_kernel.reshape(C * dm, self.filters)
        if self.use_bias:
            add_bias(z, self.bias)
        self.z, self.y = z, activations.apply_overwriting(self.activation, z)
        return from_nhwc(self.y.reshape(N, OH, OW, self.filters), self.rank, self.data_format)

    def backward(self, dy, skip_activation=False):
        dy = to_nhwc(dy, self.rank, self.data_format).reshape(self.z.shape)
        if skip_activation or self.activation is activations.linear:
            dz = dy
        else:
            dz = self.activation.backward(self.z, self.y, dy)
        if self.use_bias:
            self.grads["bias"] = dz.sum(axis=0)
        C, dm = self._padded_shape[-1], self.depth_multiplier
        pw = self.pointwise_kernel.reshape(C * dm, self.filters)
        self.grads["pointwise_kernel"] = (self.t.T @ dz).reshape(self.pointwise_kernel.shape)
        dt = (dz @ pw.T).reshape(-1, C, dm).transpose(1, 0, 2)           # (C, M, dm)
        dkd = self.cols.swapaxes(-1, -2) @ dt                             # (C, kh·kw, dm)
        self.grads["depthwise_kernel"] = dkd.transpose(1, 0, 2).reshape(
            self.depthwise_kernel.shape)
        if not self.needs_input_grad:
            return None
        k, s, d, pads, out = self._geom
        dx = col2im_matmul(dt.transpose(1, 0, 2).reshape(-1, C * dm),
                           self.depthwise_kernel.reshape(k + (1, C * dm)),
                           self._padded_shape, s, d, out, C)
        return from_nhwc(unpad(dx, pads), self.rank, self.data_format)

    def get_config(self):
        config = super().get_config()
        for key in ("groups", "kernel_initializer", "kernel_regularizer", "kernel_constraint"):
            config.pop(key, None)
        return {**config, "depth_multiplier": self.depth_multiplier,
                **options_config(self, ("depthwise_initializer", "pointwise_initializer",
                                        "depthwise_regularizer", "pointwise_regularizer",
                                        "depthwise_constraint", "pointwise_constraint"))}


class SeparableConv2D(_SeparableConv):
    """Depthwise-separable 2-D convolution (Xception, MobileNet): x (N, H, W, C) ->
    (N, OH, OW, filters). ``SeparableConv2D(64, 3, padding='same', activation='relu')``."""

    rank = 2

    def __init__(self, filters: int, kernel_size: Any, strides: Any = (1, 1),
                 padding: str = "valid", data_format: str | None = None,
                 dilation_rate: Any = (1, 1), depth_multiplier: int = 1, **kwargs: Any):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate,
                         depth_multiplier, **kwargs)


class SeparableConv1D(_SeparableConv):
    """Depthwise-separable 1-D convolution: x (N, steps, C) -> (N, out_steps, filters)."""

    rank = 1

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 data_format: str | None = None, dilation_rate: Any = 1,
                 depth_multiplier: int = 1, **kwargs: Any):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate,
                         depth_multiplier, **kwargs)


SeparableConvolution2D = SeparableConv2D
SeparableConvolution1D = SeparableConv1D
