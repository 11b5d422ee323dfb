"""Deep Learning with Python (2nd ed.) ch. 8: the convnet with data augmentation, trained from
folders of pictures with image_dataset_from_directory, as the book writes it (only the import
line changed), on small cats-vs-dogs folders made here: the two classes differ in colour
cast and texture, so a convnet learns them in a few epochs."""
from __future__ import annotations

import pathlib

import numpy as np
import pytest

pytest.importorskip("PIL", reason="reading pictures needs Pillow (pip install pillow)")


def make_cats_vs_dogs(base: pathlib.Path, counts: dict, seed: int = 0) -> pathlib.Path:
    """base/{train,validation,test}/{cat,dog}/*.png, pictures of 90-140 pixels a side."""
    from PIL import Image
    rng = np.random.default_rng(seed)
    for split, n in counts.items():
        for label, cast in (("cat", (60, 0, -40)), ("dog", (-40, 0, 60))):
            folder = base / split / label
            folder.mkdir(parents=True)
            for i in range(n):
                h, w = rng.integers(90, 141, size=2)
                img = rng.normal(128, 40, (h, w, 3)) + np.array(cast)
                if label == "dog":                        # dogs also get stripes
                    img[::6] -= 50
                Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(
                    folder / f"{label}.{i}.png")
    return base


def chapter8(new_base_dir, size, epochs, tmp_path):
    """Listings 8.6-8.16, image size as a parameter (the book's is 180)."""
    # The book's imports were: from tensorflow import keras / from tensorflow.keras import ...
    from mitbadak import keras
    from mitbadak.keras import layers
    from mitbadak.keras.utils import image_dataset_from_directory

    train_dataset = image_dataset_from_directory(
        new_base_dir / "train", image_size=(size, size), batch_size=32)
    validation_dataset = image_dataset_from_directory(
        new_base_dir / "validation", image_size=(size, size), batch_size=32)
    test_dataset = image_dataset_from_directory(
        new_base_dir / "test", image_size=(size, size), batch_size=32)

    data_augmentation = keras.Sequential(
        [
            layers.RandomFlip("horizontal"),
            layers.RandomRotation(0.1),
            layers.RandomZoom(0.2),
        ]
    )
    inputs = keras.Input(shape=(size, size, 3))
    x = data_augmentation(inputs)
    x = layers.Rescaling(1./255)(x)
    x = layers.Conv2D(filters=32, kernel_size=3, activation="relu")(x)
    x = layers.MaxPooling2D(pool_size=2)(x)
    x = layers.Conv2D(filters=64, kernel_size=3, activation="relu")(x)
    x = layers.MaxPooling2D(pool_size=2)(x)
    x = layers.Conv2D(filters=128, kernel_size=3, activation="relu")(x)
    x = layers.MaxPooling2D(pool_size=2)(x)
    x = layers.Conv2D(filters=256, kernel_size=3, activation="relu")(x)
    x = layers.MaxPooling2D(pool_size=2)(x)
    x = layers.Conv2D(filters=256, kernel_size=3, activation="relu")(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)

    model.compile(loss="binary_crossentropy",
                  optimizer="rmsprop",
                  metrics=["accuracy"])

    callbacks = [
        keras.callbacks.ModelCheckpoint(
            filepath=str(tmp_path / "convnet_from_scratch_with_augmentation.keras"),
            save_best_only=True,
            monitor="val_loss")
    ]
    history = model.fit(
        train_dataset,
        epochs=epochs,
        validation_data=validation_dataset,
        callbacks=callbacks)

    test_model = keras.models.load_model(
        str(tmp_path / "convnet_from_scratch_with_augmentation.keras"))
    test_loss, test_acc = test_model.evaluate(test_dataset)
    print(f"Test accuracy: {test_acc:.3f}")
    return history, test_acc


def test_chapter8_convnet_with_augmentation_learns(tmp_path, capsys):
    pytest.importorskip("h5py", reason="ModelCheckpoint's .keras file needs h5py")
    from mitbadak import keras
    keras.utils.set_random_seed(0)
    base = make_cats_vs_dogs(tmp_path / "cats_vs_dogs_small",
                             {"train": 32, "validation": 16, "test": 16})
    history, test_acc = chapter8(base, 80, 6, tmp_path)
    out = capsys.readouterr().out
    assert "Found 64 files belonging to 2 classes." in out
    assert "Found 32 files belonging to 2 classes." in out
    assert max(history.history["val_accuracy"]) >= 0.8
    assert test_acc >= 0.75


def test_listing_8_14_shows_augmented_pictures(tmp_path):
    """Listing 8.14 calls the augmentation model on a batch to plot augmented pictures."""
    from mitbadak import keras
    from mitbadak.keras import layers
    base = make_cats_vs_dogs(tmp_path / "small", {"train": 2})
    train_dataset = keras.utils.image_dataset_from_directory(base / "train",
                                                             image_size=(32, 32))
    data_augmentation = keras.Sequential(
        [layers.RandomFlip("horizontal"), layers.RandomRotation(0.1), layers.RandomZoom(0.2)])
    for images, _ in train_dataset.take(1):
        for i in range(9):
            augmented_images = data_augmentation(images)
            assert augmented_images.shape == images.shape
            assert not np.array_equal(augmented_images, images)


@pytest.mark.slow
def test_chapter8_as_written_at_180_pixels(tmp_path):
    """The book's sizes (180x180); minutes on a laptop CPU."""
    from mitbadak import keras
    keras.utils.set_random_seed(0)
    base = make_cats_vs_dogs(tmp_path / "cats_vs_dogs_small",
                             {"train": 64, "validation": 32, "test": 32})
    history, test_acc = chapter8(base, 180, 8, tmp_path)
    assert max(history.history["val_accuracy"]) >= 0.8 and test_acc >= 0.75
