"""HyperParameters: the search space, written while the model is built (define-by-run).

    def build_model(hp):
        units = hp.Int("units", min_value=32, max_value=512, step=32)   # a value, not a range
        lr = hp.Float("lr", 1e-4, 1e-2, sampling="log")

Each call both declares a hyperparameter (the first time its name is met) and returns the value
of the current trial. Outside a search, the value is the default (``min_value``, the first
choice, ``False``). A tuner hands ``build`` a ``HyperParameters`` whose ``values`` were chosen
by the Optuna sampler. Only active hyperparameters have values: one declared inside
``conditional_scope(parent, parent_values)`` returns ``None`` while the parent's value is
not among ``parent_values``.

This module is plain Python; the mapping onto Optuna's distributions is in ``oracle.py``.
"""
from __future__ import annotations

import contextlib
import math
from typing import Any, Callable, Iterator

from .errors import FatalValueError

SAMPLINGS = ("linear", "log", "reverse_log")


# ------------------------------------------------------------------ conditions
class Parent:
    """Active when the hyperparameter ``name`` currently has one of ``values``."""

    def __init__(self, name: str, values: Any):
        self.name = name
        values = values if isinstance(values, (list, tuple)) else [values]
        self.values = list(values)

    def is_active(self, values: dict) -> bool:
        return self.name in values and values[self.name] in self.values

    def get_config(self) -> dict:
        return {"class_name": "Parent", "config": {"name": self.name, "values": self.values}}

    @classmethod
    def from_config(cls, config: dict) -> "Parent":
        inner = config.get("config", config)
        return cls(inner["name"], inner["values"])

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, Parent) and (self.name, self.values) == (other.name, other.values)

    def __repr__(self) -> str:
        return f"Parent(name={self.name!r}, values={self.values!r})"


# ------------------------------------------------------------------ one hyperparameter
class HyperParameter:
    """Base: a name, a default, and the conditions under which it is active."""

    def __init__(self, name: str, default: Any = None, conditions: list | None = None):
        self.name = name
        self._default = default
        self.conditions = list(conditions or [])

    @property
    def default(self) -> Any:
        return self._default

    def grid_values(self) -> list:
        """The values GridSearch tries."""
        raise NotImplementedError

    def get_config(self) -> dict:
        return {"name": self.name, "default": self.default,
                "conditions": [c.get_config() for c in self.conditions]}

    @classmethod
    def from_config(cls, config: dict) -> "HyperParameter":
        config = dict(config)
        config["conditions"] = [Parent.from_config(c) for c in config.get("conditions", [])]
        return cls(**config)

    def describe(self) -> str:
        """One line for error messages: the class and its settings."""
        config = {k: v for k, v in self.get_config().items() if k not in ("name", "conditions")}
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in config.items())})"

    def same_as(self, other: "HyperParameter") -> bool:
        return type(self) is type(other) and self.get_config() == other.get_config()


def _as_int(value: Any, name: str, arg: str) -> int:
    if isinstance(value, bool) or not float(value).is_integer():
        raise ValueError(f"HyperParameters.Int(name={name!r}): {arg} must be an integer; "
                         f"got {value!r}.")
    return int(value)


class Numerical(HyperParameter):
    """Int and Float: a range [min_value, max_value], an optional step and a sampling.

    ``sampling`` maps a uniform u in [0, 1) onto the range: 'linear' min + u·(max − min),
    'log' min·(max/min)^u (as many values per decade), 'reverse_log' the mirror image of
    'log' (values crowd near max). With ``step``, 'linear' adds it and 'log' multiplies by it.
    """

    def __init__(self, name: str, min_value: Any, max_value: Any, step: Any = None,
                 sampling: str | None = "linear", default: Any = None,
                 conditions: list | None = None):
        super().__init__(name, default, conditions)
        self.min_value, self.max_value, self.step = min_value, max_value, step
        self.sampling = (sampling or "linear").lower()
        kind = type(self).__name__
        if self.min_value > self.max_value:
            raise ValueError(f"HyperParameters.{kind}(name={name!r}): min_value {min_value} is "
                             f"greater than max_value {max_value}.")
        if self.sampling not in SAMPLINGS:
            raise ValueError(f"HyperParameters.{kind}(name={name!r}): sampling must be one of "
                             f"{', '.join(SAMPLINGS)}; got {sampling!r}.")
        if self.sampling != "linear" and self.min_value <= 0:
            raise ValueError(f"HyperParameters.{kind}(name={name!r}): sampling={self.sampling!r} "
                             f"needs min_value > 0; got {min_value}.")
        if self.sampling != "linear" and self.step is not None and self.step <= 1:
            raise ValueError(f"HyperParameters.{kind}(name={name!r}): with sampling="
                             f"{self.sampling!r} the step multiplies, so it must be > 1; "
                             f"got step={step}.")
        if self.sampling == "linear" and self.step is not None and self.step <= 0:
            raise ValueError(f"HyperParameters.{kind}(name={name!r}): step must be > 0; "
                             f"got {step}.")

    @property
    def default(self) -> Any:
        return self.min_value if self._default is None else self._default

    def _n_steps(self) -> int:
        if self.sampling == "linear":
            # With a tolerance: 0.5 // 0.1 is 4.0 in floating point, and the documented
            # values of Float(0, 1, step=0.2) end at 1.0.
            return int(math.floor((self.max_value - self.min_value) / self.step + 1e-9)) + 1
        return int(math.log(self.max_value / self.min_value, self.step) + 1e-8) + 1

    def stepped_values(self) -> list:
        """All values on the step grid (only when ``step`` is set)."""
        out = []
        for i in range(self._n_steps()):
            if self.sampling == "linear":
                v = self.min_value + i * self.step
            elif self.sampling == "log":
                v = self.min_value * self.step ** i
            else:
                v = self.max_value + self.min_value - self.min_value * self.step ** i
            out.append(self._cast(v))
        return sorted(out)

    def from_unit(self, u: float) -> Any:
        """The value at u in [0, 1] of the continuous range (for grids without a step)."""
        lo, hi = self.min_value, self.max_value
        if isinstance(self, Int):
            hi = hi + 1          # every integer gets an equal share of [0, 1)
        if self.sampling == "linear":
            v = lo + u * (hi - lo)
        elif self.sampling == "log":
            v = lo * (hi / lo) ** u
        else:
            v = hi + lo - lo * (hi / lo) ** (1 - u)
        return self._cast(v)

    def grid_values(self) -> list:
        if self.step is not None:
            return self.stepped_values()
        # KerasTuner's grid for an unstepped range: the middles of its ten deciles.
        return sorted({self.from_unit(0.1 * i + 0.05) for i in range(10)})

    def _cast(self, v: float) -> Any:
        return v

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(min_value=self.min_value, max_value=self.max_value, step=self.step,
                      sampling=self.sampling)
        return config


class Int(Numerical):
    """An integer in [min_value, max_value], both included; step 1 unless given."""

    def __init__(self, name: str, min_value: Any, max_value: Any, step: Any = None,
                 sampling: str | None = "linear", default: Any = None,
                 conditions: list | None = None):
        if step is not None:
            step = _as_int(step, name, "step")
        elif (sampling or "linear").lower() == "linear":
            step = 1
        super().__init__(name, _as_int(min_value, name, "min_value"),
                         _as_int(max_value, name, "max_value"), step, sampling,
                         None if default is None else _as_int(default, name, "default"),
                         conditions)

    def _cast(self, v: float) -> int:
        return int(math.floor(v + 1e-9)) if self.step is None else int(round(v))

    def get_config(self) -> dict:
        config = super().get_config()
        config["default"] = self._default
        return config


class Float(Numerical):
    """A float in [min_value, max_value]; continuous unless ``step`` is given."""

    def __init__(self, name: str, min_value: Any, max_value: Any, step: Any = None,
                 sampling: str | None = "linear", default: Any = None,
                 conditions: list | None = None):
        super().__init__(name, float(min_value), float(max_value),
                         None if step is None else float(step), sampling,
                         None if default is None else float(default), conditions)

    def _cast(self, v: float) -> float:
        return float(round(v, 12))


class Choice(HyperParameter):
    """One of ``values`` (all int, all float, all str or all bool)."""

    def __init__(self, name: str, values: Any, ordered: bool | None = None, default: Any = None,
                 conditions: list | None = None):
        values = list(values or [])
        if not values:
            raise ValueError(f"HyperParameters.Choice(name={name!r}): values is empty; give "
                             f"the list of values to try.")
        kinds = {type(v) for v in values}
        if len(kinds) > 1:
            raise TypeError(f"HyperParameters.Choice(name={name!r}): all values must have one "
                            f"type; got {values} ({', '.join(sorted(k.__name__ for k in kinds))}).")
        if not isinstance(values[0], (int, float, str, bool)):
            raise TypeError(f"HyperParameters.Choice(name={name!r}): values must be int, float, "
                            f"str or bool; got {type(values[0]).__name__}.")
        if default is not None and default not in values:
            raise ValueError(f"HyperParameters.Choice(name={name!r}): default {default!r} is not "
                             f"one of values {values}.")
        numeric = isinstance(values[0], (int, float)) and not isinstance(values[0], bool)
        if ordered and not numeric:
            raise ValueError(f"HyperParameters.Choice(name={name!r}): ordered=True needs "
                             f"numbers; got {values}.")
        super().__init__(name, default, conditions)
        self.values = values
        self.ordered = numeric if ordered is None else bool(ordered)

    @property
    def default(self) -> Any:
        return self.values[0] if self._default is None else self._default

    def grid_values(self) -> list:
        return list(self.values)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(values=self.values, ordered=self.ordered)
        return config


class Boolean(HyperParameter):
    """True or False (default False)."""

    def __init__(self, name: str, default: bool = False, conditions: list | None = None):
        if default not in (True, False):
            raise ValueError(f"HyperParameters.Boolean(name={name!r}): default must be True or "
                             f"False; got {default!r}.")
        super().__init__(name, bool(default), conditions)

    def grid_values(self) -> list:
        return [True, False]


class Fixed(HyperParameter):
    """A value that is recorded with the trial but never tuned."""

    def __init__(self, name: str, value: Any, conditions: list | None = None):
        if not isinstance(value, (bool, int, float, str)):
            raise ValueError(f"HyperParameters.Fixed(name={name!r}): value must be int, float, "
                             f"str or bool; got {type(value).__name__}.")
        super().__init__(name, value, conditions)
        self.value = value

    def grid_values(self) -> list:
        return [self.value]

    def get_config(self) -> dict:
        return {"name": self.name, "conditions": [c.get_config() for c in self.conditions],
                "value": self.value}


HP_CLASSES = {cls.__name__: cls for cls in (Int, Float, Choice, Boolean, Fixed)}


def deserialize(config: dict) -> HyperParameter:
    """``{"class_name": "Int", "config": {...}}`` -> Int(...)."""
    try:
        cls = HP_CLASSES[config["class_name"]]
    except KeyError:
        raise ValueError(f"Unknown hyperparameter class {config.get('class_name')!r}; expected "
                         f"one of {', '.join(HP_CLASSES)}.") from None
    return cls.from_config(config["config"])


def serialize(hp: HyperParameter) -> dict:
    return {"class_name": type(hp).__name__, "config": hp.get_config()}


# ------------------------------------------------------------------ the container
class HyperParameters:
    """The search space (``space``) and the current trial's values (``values``).

    ``values`` holds active hyperparameters only, in the order they were declared.
    """

    def __init__(self) -> None:
        self._scopes: list[str] = []
        self._conditions: list[Parent] = []
        self._hps: dict[str, list[HyperParameter]] = {}
        self._space: list[HyperParameter] = []
        self.values: dict[str, Any] = {}
        # Which conditional scopes a build entered active / inactive (the tuner rebuilds
        # with each parent value so that every conditional hyperparameter is declared).
        self.active_scopes: list[list[Parent]] = []
        self.inactive_scopes: list[list[Parent]] = []
        # Called as on_new(hp) when a build declares a hyperparameter the space lacks; returns
        # the value to use. Unset: the default, as KerasTuner does.
        self._on_new: Callable[[HyperParameter], Any] | None = None

    # -------------------------------------------------------------- scopes
    @contextlib.contextmanager
    def name_scope(self, name: str) -> Iterator[None]:
        """Prefix the names declared inside with ``name/``."""
        self._scopes.append(name)
        try:
            yield
        finally:
            self._scopes.pop()

    @contextlib.contextmanager
    def conditional_scope(self, parent_name: str, parent_values: Any) -> Iterator[None]:
        """Hyperparameters declared inside are active only when ``parent_name`` has one of
        ``parent_values``; inactive ones return None (the code inside still runs)."""
        parent_name = self._full_name(parent_name)
        if parent_name not in self._hps:
            raise ValueError(f"conditional_scope: the parent hyperparameter {parent_name!r} is "
                             f"not defined yet; declare it (e.g. hp.Choice({parent_name!r}, ...)) "
                             f"before the scope.")
        condition = Parent(parent_name, parent_values)
        self._conditions.append(condition)
        scope = list(self._conditions)
        (self.active_scopes if condition.is_active(self.values)
         and self._conditions_active(scope) else self.inactive_scopes).append(scope)
        try:
            yield
        finally:
            self._conditions.pop()

    @contextlib.contextmanager
    def _maybe_scope(self, parent_name: str | None, parent_values: Any) -> Iterator[None]:
        if parent_name:
            with self.conditional_scope(parent_name, parent_values):
                yield
        else:
            yield

    def _full_name(self, name: Any) -> str:
        return "/".join(self._scopes + [str(name)])

    def _conditions_active(self, conditions: list[Parent]) -> bool:
        return all(c.is_active(self.values) for c in conditions)

    def is_active(self, hp: Any) -> bool:
        """Whether a hyperparameter (object or name) is active given the current values."""
        if isinstance(hp, HyperParameter):
            return self._conditions_active(hp.conditions)
        return any(self._conditions_active(h.conditions) for h in self._hps.get(str(hp), []))

    # -------------------------------------------------------------- declaring
    def _find(self, name: str, conditions: list[Parent]) -> HyperParameter | None:
        for hp in self._hps.get(name, []):
            if hp.conditions == conditions:
                return hp
        return None

    def _retrieve(self, hp: HyperParameter) -> Any:
        known = self._find(hp.name, hp.conditions)
        if known is not None:
            if not known.same_as(hp):
                raise FatalValueError(
                    f"Hyperparameter {hp.name!r} is already defined as {known.describe()}, and is "
                    f"now declared again as {hp.describe()}. One name keeps one definition: "
                    f"give the new one another name, or change both places. (Resuming a saved "
                    f"search with a changed range? Start a new one with overwrite=True or "
                    f"another project_name.)")
            return self.values.get(hp.name) if self.is_active(known) else None
        return self._register(hp)

    def _register(self, hp: HyperParameter, overwrite: bool = False) -> Any:
        for condition in hp.conditions:
            if condition.name == hp.name:
                raise ValueError(f"Hyperparameter {hp.name!r} cannot be conditional on itself.")
        self._hps.setdefault(hp.name, []).append(hp)
        self._space.append(hp)
        if not self.is_active(hp):
            return None
        if overwrite or hp.name not in self.values:
            if isinstance(hp, Fixed):
                self.values[hp.name] = hp.value
            elif self._on_new is not None:
                self.values[hp.name] = self._on_new(hp)
            else:
                self.values[hp.name] = hp.default
        return self.values[hp.name]

    def Int(self, name: str, min_value: int, max_value: int, step: int | None = None,
            sampling: str = "linear", default: int | None = None,
            parent_name: str | None = None, parent_values: Any = None) -> int | None:
        """An integer in [min_value, max_value] (max included), e.g. Int('units', 32, 512, 32)."""
        with self._maybe_scope(parent_name, parent_values):
            return self._retrieve(Int(self._full_name(name), min_value, max_value, step,
                                      sampling, default, list(self._conditions)))

    def Float(self, name: str, min_value: float, max_value: float, step: float | None = None,
              sampling: str = "linear", default: float | None = None,
              parent_name: str | None = None, parent_values: Any = None) -> float | None:
        """A float in [min_value, max_value], e.g. Float('lr', 1e-4, 1e-2, sampling='log')."""
        with self._maybe_scope(parent_name, parent_values):
            return self._retrieve(Float(self._full_name(name), min_value, max_value, step,
                                        sampling, default, list(self._conditions)))

    def Choice(self, name: str, values: list, ordered: bool | None = None, default: Any = None,
               parent_name: str | None = None, parent_values: Any = None) -> Any:
        """One of ``values``, e.g. Choice('activation', ['relu', 'tanh'])."""
        with self._maybe_scope(parent_name, parent_values):
            return self._retrieve(Choice(self._full_name(name), values, ordered, default,
                                         list(self._conditions)))

    def Boolean(self, name: str, default: bool = False, parent_name: str | None = None,
                parent_values: Any = None) -> bool | None:
        """True or False, e.g. ``if hp.Boolean('dropout'): model.add(Dropout(0.25))``."""
        with self._maybe_scope(parent_name, parent_values):
            return self._retrieve(Boolean(self._full_name(name), default,
                                          list(self._conditions)))

    def Fixed(self, name: str, value: Any, parent_name: str | None = None,
              parent_values: Any = None) -> Any:
        """A value recorded with each trial but not tuned."""
        with self._maybe_scope(parent_name, parent_values):
            return self._retrieve(Fixed(self._full_name(name), value, list(self._conditions)))

    # -------------------------------------------------------------- reading
    def get(self, name: str) -> Any:
        """The current value; KeyError if never declared, ValueError if inactive."""
        name = self._full_name(name)
        if name in self.values:
            return self.values[name]
        if name in self._hps:
            raise ValueError(f"Hyperparameter {name!r} is currently inactive (its conditional "
                             f"scope's parent has another value).")
        raise KeyError(f"Hyperparameter {name!r} does not exist; declared: "
                       f"{', '.join(self._hps) or 'none'}.")

    def __getitem__(self, name: str) -> Any:
        return self.get(name)

    def __contains__(self, name: str) -> bool:
        try:
            self.get(name)
            return True
        except (KeyError, ValueError):
            return False

    @property
    def space(self) -> list[HyperParameter]:
        return self._space

    # -------------------------------------------------------------- copying
    def get_config(self) -> dict:
        return {"space": [serialize(hp) for hp in self._space], "values": dict(self.values)}

    @classmethod
    def from_config(cls, config: dict) -> "HyperParameters":
        hps = cls()
        for item in config.get("space", []):
            hp = deserialize(item)
            hps._hps.setdefault(hp.name, []).append(hp)
            hps._space.append(hp)
        hps.values = dict(config.get("values", {}))
        return hps

    def copy(self) -> "HyperParameters":
        return HyperParameters.from_config(self.get_config())

    def merge(self, hps: Any, overwrite: bool = True) -> None:
        """Add the hyperparameters of ``hps`` (HyperParameters or a list) to this space."""
        items = hps.space if isinstance(hps, HyperParameters) else list(hps)
        for hp in items:
            known = self._find(hp.name, hp.conditions)
            if known is not None:
                if not overwrite:
                    continue
                self._hps[hp.name].remove(known)
                self._space.remove(known)
            self._register(deserialize(serialize(hp)), overwrite)

    def ensure_active_values(self) -> None:
        """Give every active hyperparameter a value (its default) and drop inactive ones."""
        for hp in self._space:
            if self.is_active(hp):
                self.values.setdefault(hp.name, hp.default)
            else:
                self.values.pop(hp.name, None)

    def __repr__(self) -> str:
        return f"HyperParameters(values={self.values})"
