"""Preprocessing layers: data transformations that live inside a model.

Images: Rescaling, Resizing, CenterCrop and the augmentation layers RandomFlip,
RandomRotation, RandomZoom, RandomTranslation, RandomContrast, RandomBrightness, RandomCrop
(random in training only). Features: Normalization (with adapt). Text: TextVectorization
(strings -> ids).
"""
from .center_crop import CenterCrop
from .normalization import Normalization
from .random_brightness import RandomBrightness
from .random_contrast import RandomContrast
from .random_crop import RandomCrop
from .random_flip import RandomFlip
from .random_rotation import RandomRotation
from .random_translation import RandomTranslation
from .random_zoom import RandomZoom
from .rescaling import Rescaling
from .resizing import Resizing
from .text_vectorization import TextVectorization

__all__ = ["Rescaling", "Resizing", "CenterCrop", "Normalization", "RandomFlip",
           "RandomRotation", "RandomZoom", "RandomTranslation", "RandomContrast",
           "RandomBrightness", "RandomCrop", "TextVectorization"]
