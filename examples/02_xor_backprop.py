"""02 · XOR: where one perceptron fails and backpropagation succeeds.

A single perceptron keeps making mistakes on XOR forever. A network with one hidden layer,
Dense(6, sigmoid) -> Dense(1, sigmoid), trained by backpropagation (binary cross-entropy,
Adam), learns it: the hidden units bend the boundary.

    python examples/02_xor_backprop.py [--epochs 300] [--out out/02_xor_backprop]
"""
from _common import have_matplotlib, parse_args, save

import numpy as np

from mitbadak import keras
from mitbadak.classic import Perceptron

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype="float32")
T = np.array([0, 1, 1, 0])


def main():
    args = parse_args("02_xor_backprop", __doc__.splitlines()[0], epochs=300)
    epochs = args.epochs or 300

    perceptron = Perceptron(learning_rate=0.1, epochs=100).fit(X, T)
    print(f"1. One perceptron, 100 epochs: mistakes per epoch {perceptron.errors_[:8]} ... "
          f"{perceptron.errors_[-3:]}; never 0. Accuracy {perceptron.score(X, T):.0%}.")

    keras.utils.set_random_seed(args.seed)
    model = keras.Sequential([
        keras.Input(shape=(2,)),
        keras.layers.Dense(6, activation="sigmoid"),     # the hidden layer
        keras.layers.Dense(1, activation="sigmoid"),     # P(XOR = 1)
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.1),
                  loss="binary_crossentropy", metrics=["accuracy"])
    model.summary()
    history = model.fit(X, T, epochs=epochs, batch_size=4, verbose=0)
    p = model.predict(X, verbose=0).ravel()
    print(f"\n2. The 2-layer network after {epochs} epochs (loss "
          f"{history.history['loss'][0]:.3f} -> {history.history['loss'][-1]:.4f}):")
    print("   x1 x2 | XOR | P(1)   predicted")
    for (x1, x2), t, prob in zip(X.astype(int), T, p):
        print(f"   {x1:>2} {x2:>2} | {t:>3} | {prob:.3f}  {int(prob > 0.5)}")
    accuracy = float(np.mean((p > 0.5) == T))
    print(f"   accuracy {accuracy:.0%}")

    if have_matplotlib():
        save(draw(perceptron, model, history), args.out, "xor.png")


def draw(perceptron, model, history):
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.8))
    gx, gy = np.meshgrid(np.linspace(-0.5, 1.5, 150), np.linspace(-0.5, 1.5, 150))
    grid = np.c_[gx.ravel(), gy.ravel()].astype("float32")
    panels = [("one perceptron: a straight line", perceptron.predict(grid)),
              ("2-layer network: P(XOR = 1)", model.predict(grid, verbose=0).ravel())]
    for ax, (title, z) in zip(axes, panels):
        image = ax.contourf(gx, gy, z.reshape(gx.shape), levels=20, cmap="RdBu_r", vmin=0, vmax=1)
        ax.scatter(X[T == 1, 0], X[T == 1, 1], c="white", edgecolors="k", s=90, label="1")
        ax.scatter(X[T == 0, 0], X[T == 0, 1], c="black", marker="x", s=90, label="0")
        ax.set_title(title)
        ax.set_aspect("equal")
    fig.colorbar(image, ax=axes[1], fraction=0.046)
    axes[0].legend(loc="upper left", fontsize=8)
    axes[2].plot(np.arange(1, len(history.history["loss"]) + 1), history.history["loss"])
    axes[2].set_yscale("log")
    axes[2].set_xlabel("epoch")
    axes[2].set_title("training loss (binary cross-entropy)")
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    main()
