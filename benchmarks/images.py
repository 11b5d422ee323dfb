"""The image workloads (issue 15), written once in Keras's API for mitbadak and Keras.

* ``cifar_cnn``: TensorFlow's CIFAR-10 tutorial CNN (32x32x3 -> Conv 32-64-64 -> Dense 64 ->
  10, Adam, batch 64) on CIFAR-10-shaped synthetic data (``cifar_like``: 10 classes, each a
  fixed low-resolution colour pattern under noise, so accuracy climbs as on a real task).
* ``folder_cnn``: Deep Learning with Python ch. 8's convnet with data augmentation (180x180,
  RandomFlip/Rotation/Zoom, Rescaling, Conv 32-64-128-256-256, RMSprop, batch 32) trained
  from a folder of PNG pictures with ``keras.utils.image_dataset_from_directory``. It reports
  the input pipeline alone (one pass over the training folder: read, decode, resize, batch,
  no model) and the whole fit, both in images per second.
"""
from __future__ import annotations

import os
import time

import numpy as np


def cifar_like(n_train: int, n_val: int, seed: int = 0):
    """((x_train, y_train), (x_val, y_val)): float32 (n, 32, 32, 3) in [0, 1], int64 labels.

    Class c's pictures are its 8x8 colour template (fixed, seed 0) blown up to 32x32, shifted
    by up to 4 pixels, brightened or darkened, under noise."""
    templates = np.random.default_rng(0).uniform(0.3, 0.7, (10, 8, 8, 3))
    rng = np.random.default_rng(1000 + seed)
    n = n_train + n_val
    y = rng.integers(0, 10, n)
    big = np.kron(templates, np.ones((1, 4, 4, 1)))                   # (10, 32, 32, 3)
    x = np.empty((n, 32, 32, 3), np.float32)
    shifts = rng.integers(-4, 5, (n, 2))
    for i in range(n):
        x[i] = np.roll(big[y[i]], tuple(shifts[i]), axis=(0, 1))
    x *= rng.uniform(0.6, 1.2, (n, 1, 1, 1)).astype(np.float32)
    x += rng.normal(0, 0.3, x.shape).astype(np.float32)
    x = np.clip(x, 0, 1).astype(np.float32)
    return (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:])


def cifar_model(keras):
    L = keras.layers
    model = keras.Sequential([
        keras.Input(shape=(32, 32, 3)),
        L.Conv2D(32, (3, 3), activation="relu"),
        L.MaxPooling2D((2, 2)),
        L.Conv2D(64, (3, 3), activation="relu"),
        L.MaxPooling2D((2, 2)),
        L.Conv2D(64, (3, 3), activation="relu"),
        L.Flatten(),
        L.Dense(64, activation="relu"),
        L.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def make_png_folder(root: str, n_train: int, n_val: int, seed: int = 0) -> str:
    """root/train/{cat,dog}/*.png and root/validation/{cat,dog}/*.png: photo-like pictures
    (smooth colour fields, texture, noise) of 200-400 pixels a side; the classes differ in
    colour cast and stripes. n_train / n_val pictures per split, half per class."""
    from PIL import Image
    rng = np.random.default_rng(seed)
    for split, n in (("train", n_train), ("validation", n_val)):
        for k, label in enumerate(("cat", "dog")):
            folder = os.path.join(root, split, label)
            os.makedirs(folder, exist_ok=True)
            for i in range(n // 2):
                h, w = (int(v) for v in rng.integers(200, 401, 2))
                yy, xx = np.meshgrid(np.linspace(0, 1, h), np.linspace(0, 1, w), indexing="ij")
                phase = rng.uniform(0, 6.3, 3)
                img = np.stack([128 + 90 * np.sin(3 * yy + 2 * xx + p) for p in phase], -1)
                img += rng.normal(0, 12, img.shape)
                img[..., 0 if k == 0 else 2] += 40
                if k == 1:
                    img[::8] -= 40
                Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(
                    os.path.join(folder, f"{label}.{i}.png"))
    return root


def chapter8_model(keras, size: int = 180):
    """DLwP (2nd ed.) listing 8.16 as written."""
    L = keras.layers
    data_augmentation = keras.Sequential(
        [L.RandomFlip("horizontal"), L.RandomRotation(0.1), L.RandomZoom(0.2)])
    inputs = keras.Input(shape=(size, size, 3))
    x = data_augmentation(inputs)
    x = L.Rescaling(1. / 255)(x)
    for filters in (32, 64, 128, 256):
        x = L.Conv2D(filters=filters, kernel_size=3, activation="relu")(x)
        x = L.MaxPooling2D(pool_size=2)(x)
    x = L.Conv2D(filters=256, kernel_size=3, activation="relu")(x)
    x = L.Flatten()(x)
    x = L.Dropout(0.5)(x)
    outputs = L.Dense(1, activation="sigmoid")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(loss="binary_crossentropy", optimizer="rmsprop", metrics=["accuracy"])
    return model


def folder_fit(keras, root: str, *, epochs: int, batch_size: int, seed: int = 0,
               image_size: int = 180) -> dict:
    """Pipeline passes over root/train (no model), then fit with validation on
    root/validation; times per pass and per epoch."""
    from .workloads import make_epoch_timer
    keras.utils.set_random_seed(seed)
    size = (image_size, image_size)
    train = keras.utils.image_dataset_from_directory(
        os.path.join(root, "train"), image_size=size, batch_size=batch_size, seed=seed,
        verbose=False)
    val = keras.utils.image_dataset_from_directory(
        os.path.join(root, "validation"), image_size=size, batch_size=batch_size,
        verbose=False)
    n_train = sum(1 for _ in os.scandir(os.path.join(root, "train", "cat"))) + \
        sum(1 for _ in os.scandir(os.path.join(root, "train", "dog")))
    pipeline_times = []
    for _ in range(3):                       # the first pass also warms the file cache
        t0 = time.perf_counter()
        seen = sum(int(np.shape(y)[0]) for _, y in train)
        pipeline_times.append(time.perf_counter() - t0)
    assert seen == n_train
    model = chapter8_model(keras, image_size)
    timer = make_epoch_timer(keras)
    history = model.fit(train, epochs=epochs, validation_data=val, callbacks=[timer],
                        verbose=0)
    val_acc = [float(v) for v in history.history.get("val_accuracy", [])]
    return dict(epoch_times=timer.times, pipeline_times=pipeline_times, n_images=n_train,
                val_acc=val_acc, train_loss=[float(v) for v in history.history["loss"]],
                timer_includes_validation=True, n_params=int(model.count_params()))
