"""keras.preprocessing: tf.keras 2.x's data tools the books use, which Keras 3 removed or moved.

  sequence   pad_sequences: lists of ids of different lengths -> one array
  text       Tokenizer (fit_on_texts, texts_to_sequences, ...), text_to_word_sequence
  image      ImageDataGenerator and its iterators, the random image transforms, load_img and
             friends
``image_dataset_from_directory`` / ``text_dataset_from_directory`` are also here, as in
Keras 3 (they live in ``mitbadak.utils``).
"""
from ..utils.image_dataset import image_dataset_from_directory
from ..utils.text_dataset import text_dataset_from_directory
from . import image, sequence, text

__all__ = ["image", "sequence", "text", "image_dataset_from_directory",
           "text_dataset_from_directory"]
