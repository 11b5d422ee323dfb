"""01 · The perceptron and logic gates.

A perceptron fires (1) when w·x + b >= 0. With hand-picked weights it is an AND, OR or NAND
gate; with the Rosenblatt rule it finds such weights itself. No single perceptron is an XOR
gate (no line separates its 1s from its 0s), but two layers of them are.

    python examples/01_perceptron_and_gates.py [--epochs 10] [--out out/01_perceptron_and_gates]
"""
from _common import have_matplotlib, parse_args, save

import numpy as np

from mitbadak.classic import AND, NAND, OR, XOR, Perceptron, perceptron_cannot_learn_xor, truth_table

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
TARGETS = {"AND": [0, 0, 0, 1], "OR": [0, 1, 1, 1], "NAND": [1, 1, 1, 0], "XOR": [0, 1, 1, 0]}


def main():
    args = parse_args("01_perceptron_and_gates", __doc__.splitlines()[0], epochs=10)
    epochs = args.epochs or 10

    print("1. Gates as perceptrons with hand-picked weights (w1, w2, b):")
    for gate in (AND, NAND, OR, XOR):
        truth_table(gate, show=True)
        print()
    print("   XOR = AND(NAND(x1, x2), OR(x1, x2)): two layers of perceptrons.\n")

    print(f"2. The Rosenblatt rule learns the weights (lr 0.1, up to {epochs} epochs, from zero):")
    models = {}
    for name in ("AND", "OR", "NAND", "XOR"):
        p = Perceptron(learning_rate=0.1, epochs=epochs).fit(X, TARGETS[name])
        models[name] = p
        state = f"converged after {p.n_iter_} epochs" if p.converged_ else "never converged"
        print(f"   {name:<4}: w = {np.round(p.coef_, 3)}, b = {p.intercept_:+.3f}, mistakes per "
              f"epoch {p.errors_}: {state}; predicts {p.predict(X).tolist()}")
        for x, net in zip(X, p.net_input(X)):
            if 0 < abs(net) < 1e-12:   # a point on the line, up to float rounding
                print(f"         note: {x.astype(int).tolist()} lies on the line: its net input "
                      f"is {net:.1e}, 0 up to float rounding of 0.1, so it does not fire.")
    history = perceptron_cannot_learn_xor(epochs=max(epochs, 50))
    print(f"\n3. XOR: over {len(history)} epochs the fewest mistakes in an epoch is "
          f"{min(history)} (never 0): no line separates (0,1), (1,0) from (0,0), (1,1).")

    if have_matplotlib():
        save(draw(models), args.out, "perceptron_lines.png")


def draw(models):
    """Each learned line w·x + b = 0 over the four inputs; the shaded side fires."""
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(models), figsize=(3.3 * len(models), 3.4))
    gx, gy = np.meshgrid(np.linspace(-0.5, 1.5, 200), np.linspace(-0.5, 1.5, 200))
    for ax, (name, p) in zip(axes, models.items()):
        fires = p.predict(np.c_[gx.ravel(), gy.ravel()]).reshape(gx.shape)
        ax.contourf(gx, gy, fires, levels=[-0.5, 0.5, 1.5], colors=["white", "#cde"])
        t = np.array(TARGETS[name])
        ax.scatter(X[t == 1, 0], X[t == 1, 1], marker="o", s=80, c="tab:blue", label="1")
        ax.scatter(X[t == 0, 0], X[t == 0, 1], marker="x", s=80, c="tab:red", label="0")
        wrong = int((p.predict(X) != t).sum())
        ax.set_title(f"{name}: {wrong} wrong" if wrong else f"{name}: all right")
        ax.set_xlim(-0.5, 1.5)
        ax.set_ylim(-0.5, 1.5)
        ax.set_aspect("equal")
        ax.set_xlabel("x1")
    axes[0].set_ylabel("x2")
    axes[0].legend(loc="upper left", fontsize=8)
    fig.suptitle("perceptrons trained by the Rosenblatt rule: the shaded side outputs 1")
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    main()
