"""12 · Pictures from a folder, with augmentation (Deep Learning with Python ch. 8).

The script first writes a small cats-vs-dogs-like tree of PNG pictures into the out folder
(cats_vs_dogs_small/{train,validation,test}/{cat,dog}/): made up, so nothing is downloaded;
"cats" have bright round spots, "dogs" dark stripes, on random colour waves.
``keras.utils.image_dataset_from_directory`` reads each split as the book does: one class per
subfolder, every picture resized to 64x64 (32x32 with --quick), batches of 32. A
data_augmentation Sequential (RandomFlip, RandomRotation, RandomZoom) turns one picture into
nine different ones; then the book's convnet with augmentation and Rescaling inside the model
(smaller: Conv2D 16-32-64 instead of 32-64-128-256-256) is trained with validation, and the test
folder gives its accuracy. Needs Pillow to read and write pictures (pip install "mitbadak[image]").

    python examples/12_image_folder.py [--epochs 15] [--quick]
"""
from _common import have_matplotlib, parse_args, save

import shutil
import sys
import time

import numpy as np

from mitbadak import keras
from mitbadak import lab
from mitbadak.keras import layers


def main():
    args = parse_args("12_image_folder", __doc__.splitlines()[0], epochs=15)
    try:
        import PIL  # noqa: F401  (keras.utils reads and writes pictures with Pillow)
    except ImportError:
        print('(Pillow is not installed, so no pictures to read: pip install "mitbadak[image]")')
        sys.exit(0)
    epochs = args.epochs or (8 if args.quick else 15)
    size = 32 if args.quick else 64
    figures = have_matplotlib()
    keras.utils.set_random_seed(args.seed)

    # ---- 1. a folder of pictures, one subfolder per class ---------------------------------
    base = args.out / "cats_vs_dogs_small"
    shutil.rmtree(base, ignore_errors=True)     # our own folder: a fresh copy each run
    counts = ({"train": 100, "validation": 50, "test": 50} if args.quick else
              {"train": 500, "validation": 250, "test": 250})           # pictures per class
    make_pictures(base, counts, args.seed)
    print(f"wrote {2 * sum(counts.values())} pictures of 72-128 pixels a side under {base}/")

    # ---- 2. image_dataset_from_directory: labels from the subfolder names -----------------
    train_dataset = keras.utils.image_dataset_from_directory(
        base / "train", image_size=(size, size), batch_size=32)
    validation_dataset = keras.utils.image_dataset_from_directory(
        base / "validation", image_size=(size, size), batch_size=32)
    test_dataset = keras.utils.image_dataset_from_directory(
        base / "test", image_size=(size, size), batch_size=32)
    print(f"class names (sorted subfolder names, label 0, 1, ...): {train_dataset.class_names}")
    for images, labels in train_dataset:
        print(f"one batch: images {images.shape} {images.dtype} (0-255, resized to "
              f"{size}x{size}), labels {labels.shape} {labels.dtype}: {labels[:8]} ...")
        break

    # ---- 3. data augmentation: random flips, rotations and zooms --------------------------
    data_augmentation = keras.Sequential([
        layers.RandomFlip("horizontal"),
        layers.RandomRotation(0.1),        # up to 10% of a full turn, either way
        layers.RandomZoom(0.2),            # in or out by up to 20%
    ])
    # Called on images it augments (as in Keras): new random choices on every call. Inside
    # fit it does so too; in evaluate and predict these layers pass pictures through unchanged.
    print("data_augmentation(images): each call flips, turns and zooms every picture anew")
    if figures:
        save(draw_augmented(data_augmentation, images), args.out, "augmented.png")

    # ---- 4. the book's convnet, smaller, with augmentation and Rescaling inside -----------
    inputs = keras.Input(shape=(size, size, 3))
    x = data_augmentation(inputs)
    x = layers.Rescaling(1.0 / 255)(x)          # 0-255 pixels -> [0, 1], inside the model
    x = layers.Conv2D(filters=16, kernel_size=3, activation="relu")(x)
    x = layers.MaxPooling2D(pool_size=2)(x)
    x = layers.Conv2D(filters=32, kernel_size=3, activation="relu")(x)
    x = layers.MaxPooling2D(pool_size=2)(x)
    x = layers.Conv2D(filters=64, kernel_size=3, activation="relu")(x)
    x = layers.MaxPooling2D(pool_size=2)(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(1, activation="sigmoid")(x)   # P(dog): label 1 is 'dog'
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(loss="binary_crossentropy", optimizer="rmsprop", metrics=["accuracy"])
    model.summary()

    # fit takes the datasets directly: they yield (images, labels) batches
    start = time.perf_counter()
    history = model.fit(train_dataset, epochs=epochs, validation_data=validation_dataset,
                        verbose=2)
    seconds = time.perf_counter() - start
    test_loss, test_acc = model.evaluate(test_dataset, verbose=0)
    print(f"\ntest accuracy {test_acc:.3f} (loss {test_loss:.4f}) after {epochs} epochs, "
          f"{seconds:.1f} s of training")
    print("augmentation shows the network a slightly different picture every epoch, so it "
          "cannot learn the\ntraining pictures by heart: on real photos (the book's 2,000 cats "
          "and dogs) that is what keeps\na small convnet from overfitting. These made-up "
          "pictures are easier: spots or stripes.")
    if figures:
        save(lab.plot_history(history), args.out, "history.png")


def make_pictures(base, counts, seed):
    """base/<split>/{cat,dog}/<label>.<i>.png, counts[split] pictures per class.

    Each is a made-up 'photo' of 72-128 pixels a side: smooth colour waves under noise. The
    classes differ only in a simple visual pattern: cats have a few bright round spots, dogs
    dark horizontal stripes (no colour cue: the network has to see the shapes)."""
    rng = np.random.default_rng(seed)
    for split, n in counts.items():
        for label in ("cat", "dog"):
            folder = base / split / label
            folder.mkdir(parents=True)
            for i in range(n):
                h, w = rng.integers(72, 129, size=2)
                yy, xx = np.mgrid[0:h, 0:w] / 100.0
                img = np.stack([128 + 60 * np.sin(3 * yy + 2 * xx + phase)
                                for phase in rng.uniform(0, 6.3, 3)], axis=-1)
                img += rng.normal(0, 20, img.shape)
                if label == "cat":
                    for _ in range(3):                  # spots: discs of radius 8-16 pixels
                        cy, cx, r = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(8, 16)
                        img[(100 * yy - cy) ** 2 + (100 * xx - cx) ** 2 < r ** 2] += 60
                else:
                    img[np.arange(h) % 12 < 4] -= 60    # dark stripes, 4 of every 12 rows
                picture = np.clip(img, 0, 255).astype(np.uint8)
                keras.utils.save_img(folder / f"{label}.{i}.png", picture, scale=False)


def draw_augmented(data_augmentation, images):
    """The book's figure: the first picture of a batch, augmented nine times (3x3 grid)."""
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(3, 3, figsize=(6.5, 6.5))
    for ax in axes.flat:
        augmented_images = data_augmentation(images)     # a new random draw each time
        ax.imshow(np.asarray(augmented_images[0]).astype("uint8"))
        ax.axis("off")
    fig.suptitle("one picture, augmented nine times")
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    main()
