"""The `mitbadak` command (also `python -m mitbadak`).

    mitbadak demo [--epochs 5] [--dataset mnist|fashion_mnist|sample]
    mitbadak info
"""
from __future__ import annotations

import argparse
import platform
import sys
import time


def _load(dataset: str):
    """(x_train, y_train), (x_test, y_test), name; falls back to the shipped MNIST sample."""
    from . import datasets
    if dataset != "sample":
        loader = getattr(datasets, dataset)
        try:
            return loader.load_data(), dataset
        except (OSError, ValueError) as err:
            reason = " ".join(str(err).split())[:300] or type(err).__name__
            print(f"{dataset} is not available here: {reason}\n"
                  f"Training on the small MNIST sample shipped inside mitbadak instead "
                  f"(3,000 training / 1,000 test images). Set MITBADAK_DATASETS to a folder "
                  f"holding mnist/ to use the full data set.\n")
    return datasets.mnist_sample.load_data(), "mnist_sample"


def demo(epochs: int = 5, dataset: str = "mnist", batch_size: int = 32, seed: int = 0) -> None:
    """Train the notes' MLP (784-100 sigmoid-10 softmax, SGD) and print the Keras-style log."""
    from . import keras
    keras.utils.set_random_seed(seed)
    ((x, y), (xt, yt)), name = _load(dataset)
    x = x.reshape(len(x), -1) / 255.0
    xt = xt.reshape(len(xt), -1) / 255.0
    print(f"Data: {name}, {len(x)} training and {len(xt)} test images of {x.shape[1]} pixels\n")
    model = keras.Sequential([
        keras.layers.Dense(100, activation="sigmoid", input_shape=(784,), name="hidden"),
        keras.layers.Dense(10, activation="softmax", name="output")], name="mnist_mlp")
    model.summary()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(x, y, epochs=epochs, batch_size=batch_size, validation_split=0.2)
    seconds = time.perf_counter() - start
    loss, acc = model.evaluate(xt, yt, verbose=0)
    print(f"\nTest loss {loss:.4f}, test accuracy {acc:.4f} "
          f"({seconds:.1f} s for {epochs} epochs of training)")


def info() -> None:
    import numpy
    from . import __version__, backend
    print(f"mitbadak {__version__} on Python {platform.python_version()}, NumPy {numpy.__version__}")
    print(f"array backend: {backend.backend()}, floatx: {backend.floatx()}")
    for extra in ("h5py", "matplotlib", "threadpoolctl", "cupy"):
        try:
            mod = __import__(extra)
            print(f"{extra}: {getattr(mod, '__version__', 'installed')}")
        except ImportError:
            print(f"{extra}: not installed")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mitbadak", description="Keras's API on plain NumPy.")
    sub = parser.add_subparsers(dest="command")
    d = sub.add_parser("demo", help="train the notes' MNIST MLP and print the Keras-style log")
    d.add_argument("--epochs", type=int, default=5)
    d.add_argument("--batch-size", type=int, default=32)
    d.add_argument("--dataset", choices=["mnist", "fashion_mnist", "sample"], default="mnist")
    d.add_argument("--seed", type=int, default=0)
    sub.add_parser("info", help="versions and optional extras")
    args = parser.parse_args(argv)
    if args.command == "demo":
        demo(args.epochs, args.dataset, args.batch_size, args.seed)
    elif args.command == "info":
        info()
    else:
        parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
