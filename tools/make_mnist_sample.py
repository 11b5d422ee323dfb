"""Make mitbadak/datasets/data/mnist_sample.npz: a stratified MNIST subset shipped in the package.

Usage: python tools/make_mnist_sample.py [MNIST_FOLDER]
MNIST_FOLDER holds the four canonical IDX .gz files (default: ../shared/datasets/mnist from the
repository root). Deterministic: the same rows are chosen on every run and NumPy version
(RandomState's stream is frozen), 300 per digit from training and 100 per digit from test,
kept in MNIST's own order.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mitbadak.datasets import _idx, mnist  # noqa: E402

SEED = 0
PER_CLASS = {"train": 300, "test": 100}
OUT = ROOT / "mitbadak" / "datasets" / "data" / "mnist_sample.npz"


def choose(labels: np.ndarray, per_class: int, rng: np.random.RandomState) -> np.ndarray:
    """``per_class`` row indices of each digit, drawn without replacement, sorted."""
    picks = [rng.permutation(np.flatnonzero(labels == digit))[:per_class] for digit in range(10)]
    return np.sort(np.concatenate(picks)).astype(np.uint16)  # MNIST has < 65536 rows per split


def main(folder: Path) -> None:
    paths = _idx.find_idx_files(folder, "MNIST")
    (x_train, y_train), (x_test, y_test) = _idx.load_idx_dataset(paths, mnist.CONTENT_MD5)
    rng = np.random.RandomState(SEED)
    train = choose(y_train, PER_CLASS["train"], rng)
    test = choose(y_test, PER_CLASS["test"], rng)
    np.savez_compressed(OUT, x_train=x_train[train], y_train=y_train[train],
                        x_test=x_test[test], y_test=y_test[test],
                        train_indices=train, test_indices=test)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes): {len(train)} train, {len(test)} test images")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "datasets" / "mnist")
