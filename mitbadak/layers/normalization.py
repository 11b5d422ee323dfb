"""BatchNormalization and LayerNormalization: x̂ = (x − mean) / √(var + ε), y = γ·x̂ + β.

They differ only in which axes the statistics run over: BatchNormalization averages over the
batch (and, for images, the pixels) separately for every channel; LayerNormalization averages
over the features of each sample. Both share the notes' backward rule

    dx̂ = dy·γ,   dx = (dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)) / √(var + ε),
    dγ = Σ dy·x̂,  dβ = Σ dy,

where the means run over the axes of the statistics and the sums over the axes γ is shared
across (for BatchNormalization the same axes; for LayerNormalization the batch ones).
"""
from __future__ import annotations

from typing import Any

from ..backend import xp
from .layer import Layer
from .options import options_config, set_options

_BN_OPTIONS = ("beta_initializer", "gamma_initializer", "moving_mean_initializer",
               "moving_variance_initializer", "beta_regularizer", "gamma_regularizer",
               "beta_constraint", "gamma_constraint")
_LN_OPTIONS = _BN_OPTIONS[:2] + _BN_OPTIONS[4:]


def _axes(layer: Layer, axis: Any, ndim: int) -> tuple:
    """int or list of ints (negative allowed) -> sorted positive axes; the batch axis 0 is an
    error."""
    axes = [axis] if isinstance(axis, int) else list(axis)
    out = sorted(a + ndim if a < 0 else a for a in axes)
    if not all(0 < a < ndim for a in out):
        raise ValueError(f"{type(layer).__name__} {layer.name!r}: axis={axis!r} is out of range "
                         f"for a {ndim}-D input (the batch axis 0 cannot be normalized).")
    return tuple(out)


def normalize_backward(dy: Any, xhat: Any, inv_std: Any, gamma: Any, axes: tuple) -> Any:
    """dL/dx of y = γ·x̂ + β, where x̂ = (x − mean) / √(var + ε) with mean and var over `axes`."""
    dxhat = dy if gamma is None else dy * gamma
    dx = dxhat - dxhat.mean(axis=axes, keepdims=True)
    dx -= xhat * (dxhat * xhat).mean(axis=axes, keepdims=True)
    dx *= inv_std
    return dx


class _Normalization(Layer):
    """Shared by both: gamma and beta over the `axis` dimensions, x̂ → γ·x̂ + β, and backward."""

    def build(self, input_shape):
        ndim = len(input_shape)
        self._axes = _axes(self, self.axis, ndim)                      # where γ and β live
        self._others = tuple(a for a in range(ndim) if a not in self._axes)
        shape = tuple(input_shape[a] for a in self._axes)
        if None in shape:
            raise ValueError(f"{type(self).__name__} {self.name!r}: the normalized axis "
                             f"{self.axis} of input {tuple(input_shape)} must have a known size.")
        self._bshape = tuple(input_shape[a] if a in self._axes else 1 for a in range(ndim))
        if self.scale:
            self.add_weight("gamma", shape, self.gamma_initializer,
                            regularizer=self.gamma_regularizer, constraint=self.gamma_constraint)
        if self.center:
            self.add_weight("beta", shape, self.beta_initializer,
                            regularizer=self.beta_regularizer, constraint=self.beta_constraint)

    def _param(self, name):
        """A weight reshaped to broadcast against x (None when the layer has no such weight)."""
        w = self._weights.get(name)
        return None if w is None else w.reshape(self._bshape)

    def _normalize(self, xc, var, stats_axes):
        """x − mean and var -> γ·x̂ + β; stats_axes: the axes mean and var ran over (None when
        they are constants, as BatchNormalization's moving statistics at inference)."""
        self.stats_axes = stats_axes
        self.inv_std = 1.0 / xp.sqrt(var + self.epsilon)
        self.xhat = xc * self.inv_std
        gamma, beta = self._param("gamma"), self._param("beta")
        y = self.xhat if gamma is None else self.xhat * gamma
        return y if beta is None else y + beta

    def backward(self, dy):
        if self.scale:
            self.grads["gamma"] = (dy * self.xhat).sum(axis=self._others).reshape(
                self._weights["gamma"].shape)
        if self.center:
            self.grads["beta"] = dy.sum(axis=self._others).reshape(self._weights["beta"].shape)
        if not self.needs_input_grad:     # the first layer of a model: nobody needs dx
            return None
        gamma = self._param("gamma")
        if self.stats_axes is None:       # constant statistics: y is an affine function of x
            return dy * (self.inv_std if gamma is None else gamma * self.inv_std)
        return normalize_backward(dy, self.xhat, self.inv_std, gamma, self.stats_axes)


class BatchNormalization(_Normalization):
    """Normalizes each channel with the batch's statistics in training and with the moving
    averages at inference. (N, ..., C) -> same shape; gamma, beta, moving_mean and
    moving_variance are (C,) (the shape of the `axis` dimensions).

    Training updates ``moving = moving·momentum + batch·(1 − momentum)`` with the batch mean
    and the biased batch variance. A frozen layer (trainable=False) always runs in inference
    mode, as in Keras 3.
    """

    per_sample = False          # training normalizes with statistics of the whole batch

    def __init__(self, axis: Any = -1, momentum: float = 0.99, epsilon: float = 1e-3,
                 center: bool = True, scale: bool = True, beta_initializer: Any = "zeros",
                 gamma_initializer: Any = "ones", moving_mean_initializer: Any = "zeros",
                 moving_variance_initializer: Any = "ones", beta_regularizer: Any = None,
                 gamma_regularizer: Any = None, beta_constraint: Any = None,
                 gamma_constraint: Any = None, synchronized: bool = False, renorm: bool = False,
                 renorm_clipping: Any = None, renorm_momentum: float = 0.99, **kwargs: Any):
        super().__init__(**kwargs)
        if renorm:
            raise ValueError(f"BatchNormalization {self.name!r}: renorm=True is not supported; "
                             f"use renorm=False (the default).")
        self.axis, self.momentum, self.epsilon = axis, float(momentum), float(epsilon)
        self.center, self.scale, self.synchronized = center, scale, synchronized
        set_options(self, beta_initializer=beta_initializer, gamma_initializer=gamma_initializer,
                    moving_mean_initializer=moving_mean_initializer,
                    moving_variance_initializer=moving_variance_initializer,
                    beta_regularizer=beta_regularizer, gamma_regularizer=gamma_regularizer,
                    beta_constraint=beta_constraint, gamma_constraint=gamma_constraint)

    def build(self, input_shape):
        super().build(input_shape)
        shape = tuple(input_shape[a] for a in self._axes)
        self.add_weight("moving_mean", shape, self.moving_mean_initializer, trainable=False)
        self.add_weight("moving_variance", shape, self.moving_variance_initializer,
                        trainable=False)

    def forward(self, x, training=False):
        if not (training and self.trainable):
            return self._normalize(x - self._param("moving_mean"),
                                   self._param("moving_variance"), None)
        mean = x.mean(axis=self._others, keepdims=True)
        xc = x - mean
        var = (xc * xc).mean(axis=self._others, keepdims=True)          # biased, as Keras
        for name, batch in (("moving_mean", mean), ("moving_variance", var)):
            moving = self._weights[name]
            moving *= self.momentum
            moving += (1.0 - self.momentum) * batch.reshape(moving.shape)
        return self._normalize(xc, var, self._others)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum,
                "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
                **options_config(self, _BN_OPTIONS), "synchronized": self.synchronized}


class LayerNormalization(_Normalization):
    """Normalizes each sample over its `axis` features (the last by default), the same in
    training and inference. (N, ..., F) -> same shape; gamma and beta are (F,)."""

    def __init__(self, axis: Any = -1, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, rms_scaling: bool = False, beta_initializer: Any = "zeros",
                 gamma_initializer: Any = "ones", beta_regularizer: Any = None,
                 gamma_regularizer: Any = None, beta_constraint: Any = None,
                 gamma_constraint: Any = None, **kwargs: Any):
        super().__init__(**kwargs)
        if rms_scaling:
            raise ValueError(f"LayerNormalization {self.name!r}: rms_scaling=True is not "
                             f"supported; use rms_scaling=False (the default).")
        self.axis, self.epsilon, self.center, self.scale = axis, float(epsilon), center, scale
        set_options(self, beta_initializer=beta_initializer, gamma_initializer=gamma_initializer,
                    beta_regularizer=beta_regularizer, gamma_regularizer=gamma_regularizer,
                    beta_constraint=beta_constraint, gamma_constraint=gamma_constraint)

    def forward(self, x, training=False):
        xc = x - x.mean(axis=self._axes, keepdims=True)
        return self._normalize(xc, (xc * xc).mean(axis=self._axes, keepdims=True), self._axes)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale, "rms_scaling": False,
                **options_config(self, _LN_OPTIONS)}
