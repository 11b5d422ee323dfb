"""mitbadak (밑바닥, "from the very bottom"): Keras's API on plain, readable NumPy.

    from mitbadak import keras        # or: import mitbadak as keras
    model = keras.Sequential([keras.layers.Dense(10, activation='softmax', input_shape=(784,))])
"""
from . import backend
from . import activations, constraints, initializers, regularizers
from . import losses, metrics, optimizers, callbacks
from . import layers, models, datasets, utils
from . import preprocessing
from . import saving
from .layers import Input
from .models import Model, Sequential, load_model

__version__ = "0.1.0"

from . import keras  # noqa: E402  (the same namespace, importable as mitbadak.keras)

__all__ = ["Sequential", "Model", "Input", "layers", "activations", "initializers", "losses",
           "metrics", "optimizers", "callbacks", "models", "datasets", "utils", "preprocessing",
           "backend", "regularizers", "constraints", "saving", "load_model", "keras"]
