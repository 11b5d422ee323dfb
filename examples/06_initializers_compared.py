"""06 · Initial weights: std 1, std 0.01, Xavier and He.

Part 1 is the notes' experiment: 1,000 random inputs through 5 layers of 100 units, no
training, and the histogram of every layer's activations. With sigmoid, std 1 saturates
(everything at 0 or 1, where the gradient vanishes) and std 0.01 collapses to 0.5 (every
unit says the same); Xavier keeps a spread. With ReLU, He keeps the spread, Xavier shrinks
it layer by layer, std 0.01 kills it. Part 2 trains the notes' MNIST network
(4 hidden ReLU layers of 100, SGD 0.01, batches of 128) from each start.

    python examples/06_initializers_compared.py [--iterations 2000] [--epochs E] [--quick]
"""
from _common import (add_data_option, data_source, draw_loss_curves, have_matplotlib, load_mnist,
                     loss_curve, parse_args, save, step_count)

import numpy as np

from mitbadak import keras
from mitbadak import lab

SIGMOID = {"std 1": 1.0, "std 0.01": 0.01, "Xavier (glorot_normal)": "glorot_normal"}
RELU = {"std 0.01": 0.01, "Xavier (glorot_normal)": "glorot_normal", "He (he_normal)": "he_normal"}


def options(parser):
    add_data_option(parser)
    parser.add_argument("--iterations", type=int, default=None,
                        help="training steps per initializer (default 2000, 100 with --quick)")


def network(init):
    kernel = keras.initializers.RandomNormal(stddev=init) if isinstance(init, float) else init
    return keras.Sequential(
        [keras.Input(shape=(784,))]
        + [keras.layers.Dense(100, activation="relu", kernel_initializer=kernel)
           for _ in range(4)]
        + [keras.layers.Dense(10, activation="softmax", kernel_initializer=kernel)])


def main():
    args = parse_args("06_initializers_compared", __doc__.splitlines()[0], epochs=0, extra=options)
    n_inputs, n_layers = (200, 3) if args.quick else (1000, 5)

    results = {}
    for activation, rows in (("sigmoid", SIGMOID), ("relu", RELU)):
        print(f"1. {activation}: activation std per layer ({n_layers} layers of 100, "
              f"{n_inputs} inputs)")
        for title, init in rows.items():
            d = lab.activation_distributions(init, activation, n_layers=n_layers,
                                             n_inputs=n_inputs, seed=args.seed)
            results[(activation, title)] = d
            print(f"   {title:<24} " + "  ".join(f"{s:8.3g}" for s in d.std)
                  + (f"   ({d.near_0[-1] + d.near_1[-1]:.0%} of the last within 0.01 of 0 or 1)"
                     if activation == "sigmoid" else f"   ({d.zeros[-1]:.0%} exact zeros)"))
        print()

    (x, y), _ = load_mnist(data_source(args))
    batch = 128
    iterations = step_count(args, len(x), batch)
    print(f"2. Training loss on MNIST, SGD 0.01, {iterations} steps of {batch} random images:")
    losses = {}
    for title, init in RELU.items():
        keras.utils.set_random_seed(args.seed)
        model = network(init)
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01),
                      loss="sparse_categorical_crossentropy")
        curve = losses[title] = loss_curve(model, x, y, iterations, batch, args.seed)
        tail = max(1, iterations // 10)
        print(f"   {title:<24} loss {curve[0]:.3f} -> {np.mean(curve[-tail:]):.3f}")
    print("   (std 0.01: the signal vanishes on the way in, so the gradient does on the way "
          "back: it barely learns)")

    if have_matplotlib():
        for activation, rows in (("sigmoid", SIGMOID), ("relu", RELU)):
            fig = lab.plot_activation_histograms(
                {t: results[(activation, t)] for t in rows},
                title=f"{activation}: activations of {n_layers} layers at initialisation")
            save(fig, args.out, f"histograms_{activation}.png")
        save(draw_loss_curves(losses, "MNIST, 4 x 100 ReLU, SGD 0.01: loss per step, moving average"), args.out,
                 "mnist_loss.png")


if __name__ == "__main__":
    main()
