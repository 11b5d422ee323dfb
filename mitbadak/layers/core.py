"""The core layers: Input, Dense, Activation, Flatten, Dropout, Reshape."""
from __future__ import annotations

import math
from typing import Any

from .. import activations, backend, constraints, initializers, regularizers
from ..backend import xp
from .layer import Layer, add_bias
from .node import KerasTensor, Node


def _serialize_or_none(module, obj):
    return None if obj is None else module.serialize(obj)


class InputLayer(Layer):
    """Declares the input shape of a model; its forward is the identity.

    ``shape`` excludes the batch axis: ``InputLayer(shape=(784,))``. Creating one records its
    node, whose output is the KerasTensor that ``keras.Input`` returns.
    """

    def __init__(self, shape: tuple | None = None, batch_size: int | None = None,
                 dtype: Any = None, sparse: bool | None = None, batch_shape: tuple | None = None,
                 name: str | None = None, input_shape: tuple | None = None,
                 batch_input_shape: tuple | None = None, ragged: bool | None = None,
                 input_tensor: Any = None, optional: bool = False, **kwargs: Any):
        kwargs.pop("trainable", None)
        shape = shape if shape is not None else input_shape
        batch_shape = batch_shape if batch_shape is not None else batch_input_shape
        if batch_shape is None:
            if shape is None:
                raise ValueError("InputLayer needs `shape` (without the batch axis), e.g. "
                                 "keras.Input(shape=(784,))")
            shape = (shape,) if isinstance(shape, int) else tuple(shape)
            batch_shape = (batch_size,) + shape
        super().__init__(name=name or backend.unique_name("input_layer"), dtype=dtype,
                         batch_input_shape=tuple(batch_shape), **kwargs)
        self._maybe_build(self._batch_input_shape)
        Node(self, [], [KerasTensor(self._batch_input_shape, dtype=self.dtype, name=self.name)])

    def forward(self, x, training=False):
        return x

    def backward(self, dy):
        return dy

    def get_config(self):
        return {"batch_input_shape": list(self._batch_input_shape), "dtype": self.dtype,
                "sparse": False, "ragged": False, "name": self.name}


def Input(shape: tuple | None = None, batch_size: int | None = None, dtype: Any = None,
          sparse: bool | None = None, batch_shape: tuple | None = None, name: str | None = None,
          tensor: Any = None, optional: bool = False, ragged: bool | None = None) -> KerasTensor:
    """``keras.Input(shape=(784,))``: the symbolic input of a functional model (or the first
    entry of a Sequential). ``shape`` excludes the batch axis."""
    return InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, batch_shape=batch_shape,
                      name=name).output


class Dense(Layer):
    """The notes' Affine layer plus an activation: ``y = f(x·W + b)``.

    x: (batch, ..., in) -> y: (batch, ..., units); the kernel W is (in, units), b is (units,).
    Backward: ``dW = xᵀ·dz``, ``db = Σ dz``, ``dx = dz·Wᵀ`` with ``dz = f'(z)·dy``.
    """

    def __init__(self, units: int, activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any):
        super().__init__(**kwargs)
        if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
            raise ValueError(f"Dense({self.name!r}): units must be a positive int; got {units!r}")
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def build(self, input_shape):
        if len(input_shape) < 2 or input_shape[-1] is None:
            raise ValueError(f"Dense layer {self.name!r} expects input (batch, ..., features) with "
                             f"a known last axis; got {tuple(input_shape)}.")
        self.kernel = self.add_weight("kernel", (input_shape[-1], self.units),
                                      self.kernel_initializer, regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.bias = (self.add_weight("bias", (self.units,), self.bias_initializer,
                                     regularizer=self.bias_regularizer,
                                     constraint=self.bias_constraint) if self.use_bias else None)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def forward(self, x, training=False):
        self.x = x
        # x.dot(W) is the notes' np.dot(x, W); on 2-D arrays it is also cheaper than `@`
        # (matmul's generalised-ufunc set-up costs more than a tiny batch's product). The
        # transposed products in backward stay `@`: there NumPy's dot is up to 10% slower.
        z = x.dot(self.kernel) if x.ndim == 2 else x @ self.kernel
        if self.use_bias:
            add_bias(z, self.bias)
        self.z = z
        # relu writes y over z (its backward reads only y), so then z is y, not the input.
        self.y = activations.apply_overwriting(self.activation, z)
        return self.y

    def backward(self, dy, skip_activation=False):
        """skip_activation: dy is already dL/dz (the fused softmax/sigmoid + cross-entropy)."""
        if skip_activation or self.activation is activations.linear:
            dz = dy
        else:
            dz = self.activation.backward(self.z, self.y, dy)
        x = self.x
        if x.ndim > 2:      # (batch, ..., in): every position is one more row
            x, dz2 = x.reshape(-1, x.shape[-1]), dz.reshape(-1, self.units)
        else:
            dz2 = dz
        self.grads["kernel"] = x.T @ dz2                        # dW = xᵀ·dz
        if self.use_bias:
            self.grads["bias"] = dz2.sum(axis=0)                # db = Σ_batch dz
        return dz @ self.kernel.T if self.needs_input_grad else None      # dx = dz·Wᵀ

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": _serialize_or_none(regularizers, self.kernel_regularizer),
                "bias_regularizer": _serialize_or_none(regularizers, self.bias_regularizer),
                "activity_regularizer": _serialize_or_none(regularizers, self.activity_regularizer),
                "kernel_constraint": _serialize_or_none(constraints, self.kernel_constraint),
                "bias_constraint": _serialize_or_none(constraints, self.bias_constraint)}


class Activation(Layer):
    """Applies an activation function: ``Activation('relu')``. Any shape in, same shape out."""

    def __init__(self, activation: Any, **kwargs: Any):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def forward(self, x, training=False):
        self.x = x
        self.y = self.activation(x)
        return self.y

    def backward(self, dy, skip_activation=False):
        if skip_activation:
            return dy
        return self.activation.backward(self.x, self.y, dy)

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class Flatten(Layer):
    """(batch, d1, d2, ...) -> (batch, d1·d2·...), in channels-last (C) order."""

    def __init__(self, data_format: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.data_format = data_format or "channels_last"

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        return (input_shape[0], None if None in rest else math.prod(rest))

    def forward(self, x, training=False):
        self.in_shape = x.shape
        if self.data_format == "channels_first" and x.ndim > 2:
            x = xp.moveaxis(x, 1, -1)       # Keras flattens channels_first data in NHWC order
        return x.reshape(x.shape[0], -1)

    def backward(self, dy):
        if self.data_format == "channels_first" and len(self.in_shape) > 2:
            s = self.in_shape
            return xp.moveaxis(dy.reshape((s[0],) + tuple(s[2:]) + (s[1],)), -1, 1)
        return dy.reshape(self.in_shape)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class Reshape(Layer):
    """(batch, ...) -> (batch, *target_shape); one entry of target_shape may be -1."""

    def __init__(self, target_shape: tuple, **kwargs: Any):
        super().__init__(**kwargs)
        self.target_shape = tuple(target_shape)

    def compute_output_shape(self, input_shape):
        if -1 not in self.target_shape:
            n_in, n_out = math.prod(input_shape[1:]), math.prod(self.target_shape)
            if None not in input_shape[1:] and n_in != n_out:
                raise ValueError(f"Reshape {self.name!r}: cannot reshape {tuple(input_shape[1:])} "
                                 f"({n_in} values) into {self.target_shape} ({n_out} values).")
            return (input_shape[0],) + self.target_shape
        known = math.prod(d for d in self.target_shape if d != -1)
        total = math.prod(input_shape[1:]) if None not in input_shape[1:] else None
        if total is not None and total % known:
            raise ValueError(f"Reshape {self.name!r}: {tuple(input_shape[1:])} ({total} values) "
                             f"does not divide into {self.target_shape}.")
        fill = None if total is None else total // known
        return (input_shape[0],) + tuple(fill if d == -1 else d for d in self.target_shape)

    def forward(self, x, training=False):
        self.in_shape = x.shape
        return x.reshape((x.shape[0],) + self.target_shape)

    def backward(self, dy):
        return dy.reshape(self.in_shape)

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}


class Dropout(Layer):
    """Inverted dropout: in training keep each value with probability 1 − rate and divide by
    1 − rate, so inference is the identity. Any shape in, same shape out."""

    def __init__(self, rate: float, noise_shape: tuple | None = None, seed: int | None = None,
                 **kwargs: Any):
        super().__init__(**kwargs)
        if not 0 <= rate < 1:
            raise ValueError(f"Dropout {self.name!r}: rate must be in [0, 1); got {rate!r}")
        self.rate, self.noise_shape, self.seed = float(rate), noise_shape, seed
        # A noise_shape with a fixed batch size shares one mask across the samples.
        self.per_sample = noise_shape is None or noise_shape[0] is None
        self._rng = None if seed is None else xp.random.default_rng(seed)

    def forward(self, x, training=False):
        if not training or self.rate == 0:
            self.mask = None
            return x
        shape = x.shape if self.noise_shape is None else tuple(
            x.shape[i] if d is None else d for i, d in enumerate(self.noise_shape))
        rng = self._rng or backend.rng()
        keep = rng.random(shape, dtype=xp.float32) >= self.rate
        self.mask = keep.astype(x.dtype)
        self.mask *= 1.0 / (1.0 - self.rate)
        return x * self.mask

    def backward(self, dy):
        return dy if self.mask is None else dy * self.mask

    def get_config(self):
        return {**super().get_config(), "rate": self.rate,
                "noise_shape": None if self.noise_shape is None else list(self.noise_shape),
                "seed": self.seed}
