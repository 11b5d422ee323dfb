"""keras.layers: Dense, Conv2D, ... Every layer has forward(x) and backward(dy)."""
from .core import Activation, Dense, Dropout, Flatten, Input, InputLayer, KerasTensor, Reshape
from .layer import Layer, Variable

__all__ = ["Layer", "Variable", "Input", "InputLayer", "Dense", "Activation", "Flatten", "Dropout",
           "Reshape"]
