"""``from mitbadak import keras``: the Keras namespace, backed by mitbadak.

This module is also a package-like root, so ``from mitbadak.keras.layers import Dense`` and
``from mitbadak.keras import layers`` work as they do with ``tensorflow.keras``.
"""
import sys as _sys

from . import (activations, backend, callbacks, constraints, datasets, initializers, layers,
               losses, metrics, models, optimizers, preprocessing, regularizers, saving, utils)
from .layers import Input
from .models import Model, Sequential, load_model

__version__ = "0.1.0"

for _name in ("activations", "backend", "callbacks", "constraints", "datasets", "initializers",
              "layers", "losses", "metrics", "models", "optimizers", "preprocessing",
              "regularizers", "saving", "utils"):
    _sys.modules[f"{__name__}.{_name}"] = globals()[_name]
for _name in ("sequence", "text"):
    _sys.modules[f"{__name__}.preprocessing.{_name}"] = getattr(preprocessing, _name)
_sys.modules[f"{__name__}.optimizers.schedules"] = optimizers.schedules
_sys.modules[f"{__name__}.preprocessing.image"] = preprocessing.image
__path__ = []  # a namespace root: submodules resolve through sys.modules above
