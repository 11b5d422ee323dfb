"""keras.preprocessing: tf.keras 2.x's data tools, which Keras 3 removed or moved.

``image``: ImageDataGenerator and its iterators, the random image transforms, load_img and
friends.
"""
from . import image

__all__ = ["image"]
