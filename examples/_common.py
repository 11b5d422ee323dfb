"""What every example shares: its command line, the output folder, figures and MNIST.

Not an example itself; each ``NN_name.py`` imports it (they sit in the same folder).
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

try:
    import mitbadak  # noqa: F401
except ImportError:  # running from a source checkout without installing: use the checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def parse_args(name: str, description: str, epochs: int, extra=None) -> argparse.Namespace:
    """--out (default ./out/<name>/), --epochs, --quick (tiny data, few epochs: for CI), --seed."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", type=Path, default=Path("out") / name,
                        help=f"folder for the figures (default: out/{name})")
    parser.add_argument("--epochs", type=int, default=None,
                        help=f"training epochs (default {epochs}; fewer with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help="a fast run on little data (what the tests run)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    if extra is not None:
        extra(parser)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    return args


def have_matplotlib() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print('(matplotlib is not installed, so no figures: pip install "mitbadak[plot]")')
        return False
    return True


def save(fig, out: Path, filename: str) -> Path:
    """Save the figure as out/filename, close it, say where it went."""
    import matplotlib.pyplot as plt
    path = out / filename
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"  figure: {path}")
    return path


def load_mnist(source: str = "auto", flatten: bool = True):
    """MNIST scaled to [0, 1]: ((x_train, y_train), (x_test, y_test)).

    source 'auto': the real MNIST (keras.datasets.mnist: an offline folder named by
    $MITBADAK_DATASETS, a cache, or a download), else the 3,000/1,000-image sample shipped
    with mitbadak; 'mnist' or 'sample' ask for one of them.
    x: (N, 784) float32 when flatten, else (N, 28, 28, 1); y: (N,) int labels.
    """
    from mitbadak import keras
    from mitbadak.datasets import mnist_sample
    data = None
    if source in ("auto", "mnist"):
        try:
            data = keras.datasets.mnist.load_data()
            print("data: MNIST, 60,000 training and 10,000 test images")
        except OSError as err:
            if source == "mnist":
                raise
            print(f"note: MNIST is not available here ({str(err).splitlines()[0]})\n"
                  f"      using the 3,000/1,000-image sample shipped with mitbadak instead.")
    if data is None:
        data = mnist_sample.load_data()
        print("data: the MNIST sample shipped with mitbadak, 3,000 training and 1,000 test images")
    (x_train, y_train), (x_test, y_test) = data
    shape = (-1, 784) if flatten else (-1, 28, 28, 1)
    x_train = (x_train.reshape(shape) / 255.0).astype("float32")
    x_test = (x_test.reshape(shape) / 255.0).astype("float32")
    return (x_train, y_train.astype("int64")), (x_test, y_test.astype("int64"))


def add_data_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", choices=("auto", "mnist", "sample"), default=None,
                        help="'mnist' (real MNIST), 'sample' (shipped subset), 'auto' (MNIST if "
                             "available, else the sample; the default, 'sample' with --quick)")


def data_source(args: argparse.Namespace) -> str:
    return args.data or ("sample" if args.quick else "auto")


def step_count(args: argparse.Namespace, n_samples: int, batch: int) -> int:
    """--iterations, else --epochs worth of batches, else 100 with --quick and 2000 without."""
    if args.iterations:
        return args.iterations
    if args.epochs:
        return args.epochs * math.ceil(n_samples / batch)
    return 100 if args.quick else 2000


def one_blas_thread():
    """A context manager: matrix products on one BLAS thread, as fit does for small networks.

    A loop of ``train_on_batch`` calls runs outside fit; with 2+ BLAS threads spin-waiting,
    small products get many times slower whenever another process holds a core.
    """
    import contextlib
    from mitbadak import backend
    limit = getattr(backend, "blas_limit", None)
    return limit(0) if limit is not None else contextlib.nullcontext()


def loss_curve(model, x, y, iterations: int, batch: int, seed: int):
    """The training loss of `iterations` train_on_batch steps on random batches (the same
    batches for the same seed, so runs compare like for like)."""
    import numpy as np
    rng = np.random.default_rng(seed)
    curve = []
    with one_blas_thread():
        for _ in range(iterations):
            idx = rng.choice(len(x), batch)
            curve.append(model.train_on_batch(x[idx], y[idx]))
    return np.array(curve)


def draw_loss_curves(losses: dict, title: str):
    """One moving-average loss curve per entry of `losses` (name -> per-step losses)."""
    import matplotlib.pyplot as plt
    import numpy as np
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for name, curve in losses.items():
        k = max(1, min(50, len(curve) // 10))            # a moving average, for readability
        ax.plot(np.arange(k, len(curve) + 1), np.convolve(curve, np.ones(k) / k, "valid"),
                label=name)
    ax.set_xlabel("iteration")
    ax.set_ylabel("training loss")
    ax.set_ylim(0, None)
    ax.legend()
    ax.set_title(title)
    fig.tight_layout()
    return fig


def synthetic_reviews(n_train: int, n_test: int, num_words: int = 500, seed: int = 0):
    """IMDB-shaped reviews made up here: ((x_train, y_train), (x_test, y_test)) in the form
    keras.datasets.imdb.load_data gives (x: object arrays of lists of word ids, y: 0/1).

    A review has 40-400 words whose frequency ranks follow a Zipf law, like real text; 15%
    of them are sentiment words of its side (ranks 20-29 positive, 30-39 negative), so the
    label can be learned from the words. Encoded as Keras does: 1 starts a review, a word of
    rank r is r + 3, and ids >= num_words become 2 (out of vocabulary).
    """
    import numpy as np
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, size=n_train + n_test)
    reviews = []
    for y in labels:
        length = int(rng.integers(40, 400))
        ranks = rng.zipf(1.3, size=length) % 5000 + 1
        k = int(length * 0.15)
        at = rng.choice(length, size=k, replace=False)
        ranks[at] = rng.integers(20, 30, size=k) if y else rng.integers(30, 40, size=k)
        ids = np.concatenate([[1], ranks + 3])
        ids[ids >= num_words] = 2
        reviews.append(ids.tolist())
    x = np.empty(len(reviews), dtype=object)
    x[:] = reviews
    y = labels.astype("int64")
    return (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:])


def load_imdb(source: str = "auto", num_words: int = 500, synthetic: int = 25_000,
              seed: int = 0):
    """IMDB reviews as keras.datasets.imdb.load_data(num_words=...) gives them.

    source 'auto': the real IMDB (an offline folder named by $MITBADAK_DATASETS holding
    imdb/imdb.npz, Keras's cache, or a download), else `synthetic` training and as many
    test reviews made by synthetic_reviews; 'imdb' or 'synthetic' ask for one of them.
    """
    from mitbadak import keras
    if source in ("auto", "imdb"):
        try:
            data = keras.datasets.imdb.load_data(num_words=num_words)
            print("data: IMDB, 25,000 training and 25,000 test reviews")
            return data
        except OSError as err:
            if source == "imdb":
                raise
            print(f"note: IMDB is not available here ({str(err).splitlines()[0]})\n"
                  f"      using synthetic IMDB-shaped reviews instead.")
    print(f"data: {synthetic:,} training and {synthetic:,} test synthetic IMDB-shaped reviews "
          f"(Zipf-distributed words, 15% of them sentiment words)")
    return synthetic_reviews(synthetic, synthetic, num_words, seed)
