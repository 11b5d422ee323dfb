"""Benchmarks: mitbadak vs Keras/TensorFlow vs PyTorch (and a naive NumPy CNN) on MNIST.

Run ``python -m benchmarks --help`` from the repository root; see README.md.
"""
