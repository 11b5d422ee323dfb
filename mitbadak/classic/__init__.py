"""The first chapter of every deep-learning course: the perceptron and logic gates.

    from mitbadak.classic import Perceptron, AND, XOR, truth_table
"""
from .gates import AND, NAND, NOR, OR, XOR, perceptron_cannot_learn_xor, truth_table
from .perceptron import LabelError, NotFittedError, Perceptron, ShapeError

__all__ = [
    "Perceptron", "AND", "OR", "NAND", "NOR", "XOR", "truth_table",
    "perceptron_cannot_learn_xor", "ShapeError", "LabelError", "NotFittedError",
]
