"""HyperModel: a model family. ``build(hp)`` returns a compiled model; ``fit(hp, model, ...)``
trains it, and may tune training itself (batch size, epochs, shuffling)::

    class MyHyperModel(keras_tuner.HyperModel):
        def build(self, hp):
            ...
        def fit(self, hp, model, *args, **kwargs):
            return model.fit(*args, batch_size=hp.Choice("batch_size", [16, 32]), **kwargs)
"""
from __future__ import annotations

from typing import Any, Callable


class HyperModel:
    """Subclass and write ``build(hp)``; override ``fit`` to tune the training too."""

    def __init__(self, name: str | None = None, tunable: bool = True):
        self.name = name
        self.tunable = tunable

    def build(self, hp: Any) -> Any:
        """Return a compiled model whose choices come from ``hp``."""
        raise NotImplementedError(f"{type(self).__name__}.build(hp) is not written: it must "
                                  f"return a compiled model.")

    def declare_hyperparameters(self, hp: Any) -> None:
        """Hook for hyperparameters declared outside build (none by default)."""

    def fit(self, hp: Any, model: Any, *args: Any, **kwargs: Any) -> Any:
        """Train ``model``; returns fit's History (or a dict of metrics, or the objective)."""
        return model.fit(*args, **kwargs)


class FunctionHyperModel(HyperModel):
    """A plain ``build_model(hp)`` function as a HyperModel."""

    def __init__(self, build: Callable[[Any], Any]):
        super().__init__(name=getattr(build, "__name__", None))
        self._build = build

    def build(self, hp: Any) -> Any:
        return self._build(hp)


def get_hypermodel(hypermodel: Any) -> HyperModel | None:
    if hypermodel is None or isinstance(hypermodel, HyperModel):
        return hypermodel
    if not callable(hypermodel):
        raise TypeError(f"hypermodel must be a HyperModel or a function build_model(hp); got "
                        f"{type(hypermodel).__name__}.")
    return FunctionHyperModel(hypermodel)
