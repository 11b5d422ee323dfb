"""Backpropagation by hand: computational-graph nodes with forward/backward, as in the notes.

    from mitbadak.graph import MulLayer, AddLayer, Affine, Relu, Sigmoid, SoftmaxWithLoss, Graph
"""
from .errors import ForwardNotCalledError, ShapeError
from .functions import cross_entropy_error, softmax
from .graph import Graph, Node, Value
from .layers import Affine, Relu, Sigmoid, SoftmaxWithLoss
from .nodes import AddLayer, MulLayer

__all__ = [
    "MulLayer", "AddLayer", "Affine", "Relu", "Sigmoid", "SoftmaxWithLoss",
    "softmax", "cross_entropy_error", "Graph", "Node", "Value",
    "ShapeError", "ForwardNotCalledError",
]
