"""Weight initializers: how a layer's parameters start (Xavier/Glorot, He, LeCun, ...).

``init(shape, dtype=None) -> array``. Fans follow Keras: a 2-D kernel (in, out) has
fan_in = in, fan_out = out; a conv kernel (kh, kw, in, out) has fan_in = kh·kw·in and
fan_out = kh·kw·out. An initializer with a ``seed`` gives the same numbers on every call;
without one it draws from the library generator (``keras.utils.set_random_seed``).
"""
from __future__ import annotations

import math
from typing import Any

from . import backend
from .backend import xp
from .utils.naming import closest

_TRUNC_STD = 0.87962566103423978   # std of a unit normal truncated at ±2σ


def compute_fans(shape: tuple) -> tuple[float, float]:
    """(fan_in, fan_out) of a weight shape."""
    if len(shape) == 0:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    receptive = math.prod(shape[:-2])
    return float(shape[-2] * receptive), float(shape[-1] * receptive)


class Initializer:
    """Base class: subclasses implement ``__call__(shape, dtype=None)``."""

    def __call__(self, shape: tuple, dtype: Any = None) -> Any:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> "Initializer":
        return cls(**config)

    def _rng(self):
        return backend.make_rng(getattr(self, "seed", None))


class Zeros(Initializer):
    def __call__(self, shape, dtype=None):
        return xp.zeros(shape, dtype=backend.standardize_dtype(dtype))


class Ones(Initializer):
    def __call__(self, shape, dtype=None):
        return xp.ones(shape, dtype=backend.standardize_dtype(dtype))


class Constant(Initializer):
    def __init__(self, value: float = 0.0):
        self.value = value

    def __call__(self, shape, dtype=None):
        return xp.full(shape, self.value, dtype=backend.standardize_dtype(dtype))

    def get_config(self):
        return {"value": self.value}


class RandomNormal(Initializer):
    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def __call__(self, shape, dtype=None):
        w = self._rng().normal(self.mean, self.stddev, size=shape)
        return w.astype(backend.standardize_dtype(dtype))

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(Initializer):
    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None):
        self.minval, self.maxval, self.seed = minval, maxval, seed

    def __call__(self, shape, dtype=None):
        w = self._rng().uniform(self.minval, self.maxval, size=shape)
        return w.astype(backend.standardize_dtype(dtype))

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


def _truncated_normal(rng, shape, mean, stddev):
    """Normal draws with every value beyond 2σ redrawn (Keras's truncated normal)."""
    w = rng.standard_normal(size=shape)
    bad = xp.abs(w) > 2
    while bad.any():
        w[bad] = rng.standard_normal(size=int(bad.sum()))
        bad = xp.abs(w) > 2
    return w * stddev + mean


class TruncatedNormal(Initializer):
    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def __call__(self, shape, dtype=None):
        w = _truncated_normal(self._rng(), shape, self.mean, self.stddev)
        return w.astype(backend.standardize_dtype(dtype))

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class VarianceScaling(Initializer):
    """The family behind Glorot, He and LeCun: variance = scale / n, n chosen by `mode`."""

    def __init__(self, scale: float = 1.0, mode: str = "fan_in",
                 distribution: str = "truncated_normal", seed: int | None = None):
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"VarianceScaling mode: expected fan_in/fan_out/fan_avg; got {mode!r}")
        if distribution not in ("truncated_normal", "untruncated_normal", "uniform", "normal"):
            raise ValueError(f"VarianceScaling distribution: got {distribution!r}")
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed

    def __call__(self, shape, dtype=None):
        fan_in, fan_out = compute_fans(tuple(shape))
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, n)
        rng = self._rng()
        if self.distribution in ("truncated_normal", "normal"):
            w = _truncated_normal(rng, shape, 0.0, math.sqrt(variance) / _TRUNC_STD)
        elif self.distribution == "untruncated_normal":
            w = rng.normal(0.0, math.sqrt(variance), size=shape)
        else:
            limit = math.sqrt(3.0 * variance)
            w = rng.uniform(-limit, limit, size=shape)
        return w.astype(backend.standardize_dtype(dtype))

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode,
                "distribution": self.distribution, "seed": self.seed}


def _preset(name: str, scale: float, mode: str, distribution: str, doc: str):
    def __init__(self, seed: int | None = None):
        VarianceScaling.__init__(self, scale, mode, distribution, seed)

    def get_config(self):
        return {"seed": self.seed}

    return type(name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config,
                                           "__doc__": doc})


GlorotUniform = _preset("GlorotUniform", 1.0, "fan_avg", "uniform",
                        "Xavier uniform: U(±√(6/(fan_in+fan_out))). Keras's default kernel.")
GlorotNormal = _preset("GlorotNormal", 1.0, "fan_avg", "truncated_normal",
                       "Xavier normal: truncated normal, σ = √(2/(fan_in+fan_out)).")
HeNormal = _preset("HeNormal", 2.0, "fan_in", "truncated_normal",
                   "He normal: truncated normal, σ = √(2/fan_in); for ReLU.")
HeUniform = _preset("HeUniform", 2.0, "fan_in", "uniform", "He uniform: U(±√(6/fan_in)).")
LecunNormal = _preset("LecunNormal", 1.0, "fan_in", "truncated_normal",
                      "LeCun normal: truncated normal, σ = √(1/fan_in); for SELU.")
LecunUniform = _preset("LecunUniform", 1.0, "fan_in", "uniform", "LeCun uniform: U(±√(3/fan_in)).")


class Orthogonal(Initializer):
    """A (scaled) orthogonal matrix from the QR decomposition of a normal one."""

    def __init__(self, gain: float = 1.0, seed: int | None = None):
        self.gain, self.seed = gain, seed

    def __call__(self, shape, dtype=None):
        if len(shape) < 2:
            raise ValueError(f"Orthogonal needs a shape of rank >= 2; got {tuple(shape)}")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = self._rng().normal(0.0, 1.0, size=(max(rows, cols), min(rows, cols)))
        q, r = xp.linalg.qr(a)
        q *= xp.sign(xp.diag(r))            # make the decomposition unique
        if rows < cols:
            q = q.T
        return (self.gain * q.reshape(shape)).astype(backend.standardize_dtype(dtype))

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


class Identity(Initializer):
    """gain·I for a 2-D shape (non-square: ones on the main diagonal)."""

    def __init__(self, gain: float = 1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        if len(shape) != 2:
            raise ValueError(f"Identity needs a 2-D shape; got {tuple(shape)}")
        return self.gain * xp.eye(*shape, dtype=backend.standardize_dtype(dtype))

    def get_config(self):
        return {"gain": self.gain}


_CLASSES = {c.__name__: c for c in (Zeros, Ones, Constant, RandomNormal, RandomUniform,
                                    TruncatedNormal, VarianceScaling, GlorotUniform, GlorotNormal,
                                    HeNormal, HeUniform, LecunNormal, LecunUniform, Orthogonal,
                                    Identity)}
_ALIASES = {backend.snake_case(n): c for n, c in _CLASSES.items()}
_ALIASES.update({"he_normal": HeNormal, "he_uniform": HeUniform, "lecun_normal": LecunNormal,
                 "lecun_uniform": LecunUniform, "zero": Zeros, "one": Ones,
                 "normal": RandomNormal, "uniform": RandomUniform, "IdentityInitializer": Identity})

# Keras's lower-case function-style names: keras.initializers.glorot_uniform(seed=...)
zeros, ones, constant = Zeros, Ones, Constant
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
variance_scaling, orthogonal, identity = VarianceScaling, Orthogonal, Identity
glorot_uniform, glorot_normal = GlorotUniform, GlorotNormal
he_normal, he_uniform, lecun_normal, lecun_uniform = HeNormal, HeUniform, LecunNormal, LecunUniform


def get(identifier: Any) -> Initializer:
    """A name ('he_normal' / 'HeNormal'), a config dict, a class or an instance -> an instance."""
    if identifier is None:
        return None
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        cls = _CLASSES.get(identifier) or _ALIASES.get(identifier)
        if cls is None:
            names = sorted(set(_ALIASES) - {"zero", "one", "normal", "uniform"})
            raise ValueError(f"Unknown initializer {identifier!r}. "
                             f"{closest(identifier, names)}Valid names: {', '.join(names)}.")
        return cls()
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if callable(identifier):
        return identifier
    raise TypeError(f"initializer: expected a name, dict, class or instance; got {identifier!r}")


def serialize(init: Any) -> dict:
    """Keras's `{"class_name": ..., "config": {...}}` form."""
    return {"class_name": type(init).__name__, "config": init.get_config()}


def deserialize(config: dict, custom_objects: dict | None = None) -> Initializer:
    name = config.get("class_name")
    cls = (custom_objects or {}).get(name) or _CLASSES.get(name) or _ALIASES.get(name)
    if cls is None:
        raise ValueError(f"Unknown initializer class {name!r}. {closest(str(name), _CLASSES)}")
    return cls(**config.get("config", {}))
