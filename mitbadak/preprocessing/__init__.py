"""keras.preprocessing: tf.keras 2.x's data tools, which Keras 3 removed or moved.

``image``: ImageDataGenerator and its iterators, the random image transforms, load_img and
friends. ``image_dataset_from_directory`` / ``text_dataset_from_directory`` are also here, as
in Keras 3 (they live in ``mitbadak.utils``).
"""
from ..utils.image_dataset import image_dataset_from_directory
from ..utils.text_dataset import text_dataset_from_directory
from . import image

__all__ = ["image", "image_dataset_from_directory", "text_dataset_from_directory"]
