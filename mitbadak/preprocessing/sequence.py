"""keras.preprocessing.sequence: tf.keras 2.x's home of pad_sequences (Keras 3 keeps it in
keras.utils; the code is in mitbadak/utils/sequence_utils.py)."""
from ..utils.sequence_utils import pad_sequences

__all__ = ["pad_sequences"]
