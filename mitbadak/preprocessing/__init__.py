"""keras.preprocessing: the tf.keras 2.x data helpers the books use.

  sequence   pad_sequences: lists of ids of different lengths -> one array
  text       Tokenizer (fit_on_texts, texts_to_sequences, ...), text_to_word_sequence
"""
from . import sequence, text

__all__ = ["sequence", "text"]
