"""Preprocessing layers: data preparation inside a model. TextVectorization (strings -> ids)."""
from .text_vectorization import TextVectorization

__all__ = ["TextVectorization"]
