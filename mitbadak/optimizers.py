"""Optimizers: the update rules from the notes, with Keras's defaults and epsilon placement.

Each class's ``update_step(w, g, lr, slots)`` is the rule as written in the notes; it updates
the parameter ``w`` in place given its gradient ``g``. ``slots`` holds the per-parameter
state (velocity, accumulators, moments). The base class adds what every optimizer shares:
the step counter, learning-rate schedules, gradient clipping and decoupled weight decay.
"""
from __future__ import annotations

import inspect
import math
import threading
import warnings
from typing import Any, Sequence

from . import backend
from .backend import xp
from .utils.naming import closest


# ------------------------------------------------------------------ schedules
class LearningRateSchedule:
    """A learning rate that is a function of the step number (0, 1, 2, ...)."""

    def __call__(self, step: int) -> float:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> "LearningRateSchedule":
        return cls(**config)


class ExponentialDecay(LearningRateSchedule):
    """lr · rate^(step / decay_steps), the exponent floored when staircase."""

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float,
                 staircase: bool = False, name: str | None = None):
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.decay_rate, self.staircase, self.name = decay_rate, staircase, name

    def __call__(self, step):
        p = step / self.decay_steps
        return self.initial_learning_rate * self.decay_rate ** (math.floor(p) if self.staircase else p)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase, "name": self.name}


class InverseTimeDecay(ExponentialDecay):
    """lr / (1 + rate · step / decay_steps)."""

    def __call__(self, step):
        p = step / self.decay_steps
        return self.initial_learning_rate / (1 + self.decay_rate * (math.floor(p) if self.staircase else p))


class PiecewiseConstantDecay(LearningRateSchedule):
    """values[0] while step <= boundaries[0], values[1] while step <= boundaries[1], ..."""

    def __init__(self, boundaries: Sequence[int], values: Sequence[float], name: str | None = None):
        if len(values) != len(boundaries) + 1:
            raise ValueError(f"PiecewiseConstantDecay needs len(values) == len(boundaries) + 1; "
                             f"got {len(values)} values and {len(boundaries)} boundaries")
        self.boundaries, self.values, self.name = list(boundaries), list(values), name

    def __call__(self, step):
        for b, v in zip(self.boundaries, self.values):
            if step <= b:
                return v
        return self.values[-1]

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """(lr − end) · (1 − step/decay_steps)^power + end."""

    def __init__(self, initial_learning_rate: float, decay_steps: int,
                 end_learning_rate: float = 0.0001, power: float = 1.0, cycle: bool = False,
                 name: str | None = None):
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.end_learning_rate, self.power, self.cycle, self.name = end_learning_rate, power, cycle, name

    def __call__(self, step):
        steps = self.decay_steps
        if self.cycle:
            steps = steps * max(1, math.ceil(step / steps))
        else:
            step = min(step, steps)
        frac = (1 - step / steps) ** self.power
        return (self.initial_learning_rate - self.end_learning_rate) * frac + self.end_learning_rate

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "end_learning_rate": self.end_learning_rate, "power": self.power,
                "cycle": self.cycle, "name": self.name}


class CosineDecay(LearningRateSchedule):
    """Optional linear warm-up, then lr · ((1 − α)·½(1 + cos(π·step/decay_steps)) + α)."""

    def __init__(self, initial_learning_rate: float, decay_steps: int, alpha: float = 0.0,
                 name: str | None = None, warmup_target: float | None = None,
                 warmup_steps: int = 0):
        self.initial_learning_rate, self.decay_steps, self.alpha = initial_learning_rate, decay_steps, alpha
        self.name, self.warmup_target, self.warmup_steps = name, warmup_target, warmup_steps

    def __call__(self, step):
        start = self.initial_learning_rate
        if self.warmup_target is not None:
            if step < self.warmup_steps:
                return start + (self.warmup_target - start) * step / self.warmup_steps
            start, step = self.warmup_target, step - self.warmup_steps
        step = min(step, self.decay_steps)
        cosine = 0.5 * (1 + math.cos(math.pi * step / self.decay_steps))
        return start * ((1 - self.alpha) * cosine + self.alpha)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "alpha": self.alpha, "name": self.name, "warmup_target": self.warmup_target,
                "warmup_steps": self.warmup_steps}


class schedules:  # noqa: N801 - Keras's namespace: keras.optimizers.schedules.ExponentialDecay
    LearningRateSchedule = LearningRateSchedule
    ExponentialDecay = ExponentialDecay
    InverseTimeDecay = InverseTimeDecay
    PiecewiseConstantDecay = PiecewiseConstantDecay
    PolynomialDecay = PolynomialDecay
    CosineDecay = CosineDecay


def _takes_an_argument(f: Any) -> bool:
    """True for ``f(step)``, False for a no-argument ``f()``."""
    try:
        params = inspect.signature(f).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
               for p in params)


# ------------------------------------------------------------------ base class
class Optimizer:
    """Shared machinery. Subclasses set ``slot_names`` and write ``update_step``."""

    slot_names: tuple[str, ...] = ()

    def __init__(self, learning_rate: Any = 0.001, weight_decay: float | None = None,
                 clipnorm: float | None = None, clipvalue: float | None = None,
                 global_clipnorm: float | None = None, use_ema: bool = False,
                 ema_momentum: float = 0.99, ema_overwrite_frequency: int | None = None,
                 loss_scale_factor: float | None = None, gradient_accumulation_steps: int | None = None,
                 name: str | None = None, **kwargs: Any):
        if "lr" in kwargs:
            warnings.warn(f"{type(self).__name__}: `lr` is a deprecated alias; "
                          f"use learning_rate={kwargs['lr']!r}.", stacklevel=3)
            learning_rate = kwargs.pop("lr")
        if "decay" in kwargs:
            warnings.warn(f"{type(self).__name__}: `decay` is ignored (as in Keras 3); use a "
                          f"learning-rate schedule such as ExponentialDecay.", stacklevel=3)
            kwargs.pop("decay")
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected keyword argument(s) "
                            f"{', '.join(sorted(kwargs))}")
        if sum(c is not None for c in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError("Only one of clipnorm, clipvalue and global_clipnorm can be set.")
        if use_ema:
            raise NotImplementedError("use_ema=True is not supported")
        self.name = name or backend.snake_case(type(self).__name__)
        self._learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self.iterations = 0
        self._slots: list[dict] | None = None

    # learning rate: a float, a schedule, or any callable of the step
    @property
    def learning_rate(self) -> float:
        lr = self._learning_rate
        if not callable(lr):
            return float(lr)
        if isinstance(lr, LearningRateSchedule) or _takes_an_argument(lr):
            return float(lr(self.iterations))
        return float(lr())          # Keras 3 calls a plain callable with no arguments

    @learning_rate.setter
    def learning_rate(self, value: Any) -> None:
        self._learning_rate = value

    lr = learning_rate

    def build(self, params: Sequence[Any]) -> None:
        """Create the state of every parameter (zeros unless the rule says otherwise)."""
        self._slots = [{name: self._init_slot(name, w) for name in self.slot_names} for w in params]

    def _init_slot(self, name: str, w: Any) -> Any:
        return xp.zeros_like(w)

    def apply(self, params: Sequence[Any], grads: Sequence[Any]) -> None:
        """One step: w ← rule(w, g) for every (w, g), in place."""
        if self._slots is None or len(self._slots) != len(params):
            self.build(params)
        if self.clipnorm is not None or self.clipvalue is not None or self.global_clipnorm is not None:
            grads = self._clip(grads)
        lr, decay, update = self.learning_rate, self.weight_decay, self.update_step
        for w, g, slots in zip(params, grads, self._slots):
            if decay:
                w -= (lr * decay) * w                   # decoupled: before the rule, as Keras 3
            update(w, g, lr, slots)
        self.iterations += 1

    def apply_gradients(self, grads_and_vars) -> None:
        """Keras's form: ``opt.apply_gradients(zip(grads, vars))`` (vars: arrays or Variables)."""
        pairs = list(grads_and_vars)
        self.apply([getattr(v, "value", v) for _, v in pairs], [g for g, _ in pairs])

    def _clip(self, grads):
        if self.clipvalue is not None:
            return [xp.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        if self.clipnorm is not None:
            out = []
            for g in grads:
                norm = float(xp.sqrt((g * g).sum()))
                out.append(g * (self.clipnorm / norm) if norm > self.clipnorm else g)
            return out
        if self.global_clipnorm is not None:
            norm = math.sqrt(sum(float((g * g).sum()) for g in grads))
            if norm > self.global_clipnorm:
                return [g * (self.global_clipnorm / norm) for g in grads]
        return grads

    def update_step(self, w: Any, g: Any, lr: float, slots: dict) -> None:
        raise NotImplementedError

    # Elements per block: a few arrays of it stay in the CPU cache. 2^16 rather than 2^15:
    # half the NumPy calls, and the notes' CNN's step on two threads 34.8 -> 33.9 ms.
    BLOCK = 1 << 16

    def _in_blocks(self, rule: Any, w: Any, g: Any, *state: Any) -> None:
        """rule(work, w, g, *state) on successive blocks of one parameter: flat views, and a
        work array the block's size, so an in-place rule allocates nothing and each array
        crosses memory once per step instead of once per operation. The blocks of a big
        parameter are shared out among the step's threads (`backend.parallel`; Adam on the
        notes' CNN's 3.2M weights: ~4.6 ms on one thread, ~3.7 on two, as memory limits it);
        an element-wise rule gives the same numbers whichever thread computes a block."""
        if not (w.flags.c_contiguous and all(a.flags.c_contiguous for a in state)):
            rule(xp.empty_like(w), w, g, *state)      # (never for weights made here)
            return
        flat = [w.reshape(-1), xp.ravel(g)] + [a.reshape(-1) for a in state]
        size, block = w.size, self.BLOCK
        if size <= block:                             # (a bias, a small kernel)
            rule(self._work(w.dtype)[:size], *flat)
            return
        per_item = max(1, -(-size // block) // 16)    # blocks per piece of work

        def run(i):
            work = self._work(w.dtype)
            for start in range(i * per_item * block, min((i + 1) * per_item * block, size),
                               block):
                stop = min(start + block, size)
                rule(work[:stop - start], *(a[start:stop] for a in flat))

        backend.parallel(run, -(-size // (per_item * block)))

    def _work(self, dtype: Any) -> Any:
        """The calling thread's work array of BLOCK numbers."""
        key = (threading.get_ident(), dtype, self.BLOCK)
        buffers = self.__dict__.setdefault("_buffers", {})
        work = buffers.get(key)
        if work is None:
            work = buffers[key] = xp.empty(self.BLOCK, dtype=dtype)
        return work

    @property
    def variables(self) -> list:
        """Keras 3 order: iteration, learning rate, then each parameter's slots in order."""
        state = [xp.asarray(self.iterations, dtype=xp.int64),
                 xp.asarray(self.learning_rate, dtype=backend.floatx())]
        for slots in self._slots or []:
            state.extend(slots[n] for n in self.slot_names)
        return state

    def get_config(self) -> dict:
        lr = self._learning_rate
        if isinstance(lr, LearningRateSchedule):
            lr = {"class_name": type(lr).__name__, "config": lr.get_config()}
        elif callable(lr):
            lr = self.learning_rate
        return {"name": self.name, "learning_rate": lr, "weight_decay": self.weight_decay,
                "clipnorm": self.clipnorm, "global_clipnorm": self.global_clipnorm,
                "clipvalue": self.clipvalue}

    @classmethod
    def from_config(cls, config: dict) -> "Optimizer":
        config = dict(config)
        lr = config.get("learning_rate")
        if isinstance(lr, dict):
            sched = getattr(schedules, lr.get("class_name", ""), None)
            if sched is None:
                raise ValueError(f"Unknown learning-rate schedule {lr.get('class_name')!r}")
            config["learning_rate"] = sched(**lr.get("config", {}))
        known = set(cls.__init__.__code__.co_varnames) | set(Optimizer.__init__.__code__.co_varnames)
        return cls(**{k: v for k, v in config.items() if k in known})


# ------------------------------------------------------------------ the rules
class SGD(Optimizer):
    """w ← w − lr·g; with momentum μ: v ← μ·v − lr·g, w ← w + v;
    nesterov: w ← w + μ·v − lr·g."""

    def __init__(self, learning_rate: Any = 0.01, momentum: float = 0.0, nesterov: bool = False,
                 **kwargs: Any):
        super().__init__(learning_rate, **kwargs)
        if not 0 <= momentum <= 1:
            raise ValueError(f"SGD momentum must be a float in [0, 1]; got {momentum!r}")
        self.momentum, self.nesterov = float(momentum), nesterov
        self.slot_names = ("momentum",) if momentum else ()

    def update_step(self, w, g, lr, slots):
        if not self.momentum:
            w -= lr * g
            return
        v = slots["momentum"]
        v *= self.momentum
        v -= lr * g
        if self.nesterov:
            w += self.momentum * v - lr * g
        else:
            w += v

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Adagrad(Optimizer):
    """a ← a + g² (a starts at 0.1); w ← w − lr·g / √(a + ε)."""

    slot_names = ("accumulator",)

    def __init__(self, learning_rate: Any = 0.001, initial_accumulator_value: float = 0.1,
                 epsilon: float = 1e-7, **kwargs: Any):
        super().__init__(learning_rate, **kwargs)
        self.initial_accumulator_value, self.epsilon = initial_accumulator_value, epsilon

    def _init_slot(self, name, w):
        return xp.full_like(w, self.initial_accumulator_value)

    def update_step(self, w, g, lr, slots):
        a = slots["accumulator"]
        a += g * g
        w -= lr * g / xp.sqrt(a + self.epsilon)

    def get_config(self):
        return {**super().get_config(), "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


class RMSprop(Optimizer):
    """v ← ρ·v + (1−ρ)·g²; w ← w − lr·g / √(v + ε) (centered: √(v − ḡ² + ε));
    with momentum μ: m ← μ·m + lr·g/√(...), w ← w − m."""

    def __init__(self, learning_rate: Any = 0.001, rho: float = 0.9, momentum: float = 0.0,
                 epsilon: float = 1e-7, centered: bool = False, **kwargs: Any):
        super().__init__(learning_rate, **kwargs)
        self.rho, self.momentum, self.epsilon, self.centered = rho, momentum, epsilon, centered
        self.slot_names = ("velocity",) + (("momentum",) if momentum else ()) + \
                          (("average_gradient",) if centered else ())

    def update_step(self, w, g, lr, slots):
        v = slots["velocity"]
        v *= self.rho
        v += (1 - self.rho) * g * g
        denominator = v + self.epsilon
        if self.centered:
            avg = slots["average_gradient"]
            avg *= self.rho
            avg += (1 - self.rho) * g
            denominator -= avg * avg
        increment = lr * g / xp.sqrt(denominator)
        if self.momentum:
            m = slots["momentum"]
            m *= self.momentum
            m += increment
            w -= m
        else:
            w -= increment

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}


class Adam(Optimizer):
    """m ← m + (g − m)(1 − β1); v ← v + (g² − v)(1 − β2);
    α = lr·√(1 − β2^t)/(1 − β1^t); w ← w − α·m / (√v + ε) (ε outside the root)."""

    def __init__(self, learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, amsgrad: bool = False, **kwargs: Any):
        super().__init__(learning_rate, **kwargs)
        self.beta_1, self.beta_2, self.epsilon, self.amsgrad = beta_1, beta_2, epsilon, amsgrad
        self.slot_names = ("momentum", "velocity") + (("velocity_hat",) if amsgrad else ())

    def update_step(self, w, g, lr, slots):
        t = self.iterations + 1
        alpha = lr * math.sqrt(1 - self.beta_2 ** t) / (1 - self.beta_1 ** t)
        hat = (slots["velocity_hat"],) if self.amsgrad else ()

        def rule(tmp, w, g, m, v, *vhat):                 # in place, through `tmp`
            xp.subtract(g, m, out=tmp)
            tmp *= 1 - self.beta_1
            m += tmp                                      # m ← m + (g − m)(1 − β1)
            xp.multiply(g, g, out=tmp)
            tmp -= v
            tmp *= 1 - self.beta_2
            v += tmp                                      # v ← v + (g² − v)(1 − β2)
            if vhat:
                v = xp.maximum(vhat[0], v, out=vhat[0])   # amsgrad: the running max of v
            xp.sqrt(v, out=tmp)
            tmp += self.epsilon
            xp.divide(m, tmp, out=tmp)
            tmp *= alpha
            w -= tmp                                      # w ← w − α·m / (√v + ε)

        # Large weights go through in cache-sized blocks (see _in_blocks).
        self._in_blocks(rule, w, g, slots["momentum"], slots["velocity"], *hat)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay w ← w − lr·λ·w before each step (λ = 0.004)."""

    def __init__(self, learning_rate: Any = 0.001, weight_decay: float = 0.004,
                 beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7,
                 amsgrad: bool = False, **kwargs: Any):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad,
                         weight_decay=weight_decay, **kwargs)


class Adamax(Optimizer):
    """m ← m + (g − m)(1 − β1); u ← max(β2·u, |g|); w ← w − lr·m / ((1 − β1^t)(u + ε))."""

    slot_names = ("momentum", "norm")

    def __init__(self, learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, **kwargs: Any):
        super().__init__(learning_rate, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon

    def update_step(self, w, g, lr, slots):
        t = self.iterations + 1
        m, u = slots["momentum"], slots["norm"]
        m += (g - m) * (1 - self.beta_1)
        xp.maximum(self.beta_2 * u, xp.abs(g), out=u)
        w -= lr * m / ((1 - self.beta_1 ** t) * (u + self.epsilon))

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}


class Nadam(Optimizer):
    """Adam with Nesterov momentum and Keras 3's momentum schedule μ_t = β1(1 − ½·0.96^t)."""

    slot_names = ("momentum", "velocity")

    def __init__(self, learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, **kwargs: Any):
        super().__init__(learning_rate, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self.u_product = 1.0

    def _mu(self, t):
        return self.beta_1 * (1 - 0.5 * 0.96 ** t)

    def apply(self, params, grads):
        self.u_product *= self._mu(self.iterations + 1)     # once per step, shared by all weights
        super().apply(params, grads)

    def update_step(self, w, g, lr, slots):
        t = self.iterations + 1
        u_t, u_next = self._mu(t), self._mu(t + 1)
        u_prod_next = self.u_product * u_next
        m, v = slots["momentum"], slots["velocity"]
        m += (g - m) * (1 - self.beta_1)
        v += (g * g - v) * (1 - self.beta_2)
        m_hat = u_next * m / (1 - u_prod_next) + (1 - u_t) * g / (1 - self.u_product)
        v_hat = v / (1 - self.beta_2 ** t)
        w -= lr * m_hat / (xp.sqrt(v_hat) + self.epsilon)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}


_CLASSES = {c.__name__.lower(): c for c in (SGD, Adagrad, RMSprop, Adam, AdamW, Adamax, Nadam)}


def get(identifier: Any) -> Optimizer:
    """'adam' / 'SGD' (case-insensitive) / a config dict / an Optimizer -> an Optimizer."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        cls = _CLASSES.get(identifier.lower())
        if cls is None:
            raise ValueError(f"Unknown optimizer {identifier!r}. {closest(identifier.lower(), _CLASSES)}"
                             f"Valid names: {', '.join(sorted(_CLASSES))}.")
        return cls()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    raise TypeError(f"optimizer: expected a name or an Optimizer; got {identifier!r}")


def serialize(opt: Optimizer) -> dict:
    return {"class_name": type(opt).__name__, "config": opt.get_config()}


def deserialize(config: dict, custom_objects: dict | None = None) -> Optimizer:
    name = str(config.get("class_name", "")).replace("Custom>", "")
    cls = (custom_objects or {}).get(name) or _CLASSES.get(name.lower())
    if cls is None:
        raise ValueError(f"Unknown optimizer class {name!r}. {closest(name.lower(), _CLASSES)}")
    return cls.from_config(config.get("config", {}))
