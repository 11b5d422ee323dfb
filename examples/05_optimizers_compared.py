"""05 · SGD, Momentum, AdaGrad and Adam: how each one walks, and how each one trains.

Part 1 is the notes' picture: each optimizer, started at (−7, 2), walking 30 steps down
f(x, y) = x²/20 + y² (a long, narrow valley). Part 2 trains the notes' MNIST network
(4 hidden ReLU layers of 100, He initialisation, batches of 128 drawn at random) with each
optimizer for 2,000 steps and compares the training loss.

    python examples/05_optimizers_compared.py [--iterations 2000] [--epochs E] [--quick]
"""
from _common import (add_data_option, data_source, draw_loss_curves, have_matplotlib, load_mnist,
                     loss_curve, parse_args, save, step_count)

import numpy as np

from mitbadak import keras
from mitbadak import lab


def options(parser):
    add_data_option(parser)
    parser.add_argument("--iterations", type=int, default=None,
                        help="training steps per optimizer (default 2000, 100 with --quick)")


def mnist_optimizers():
    """The notes' settings for the MNIST comparison."""
    return {"SGD": keras.optimizers.SGD(learning_rate=0.01),
            "Momentum": keras.optimizers.SGD(learning_rate=0.01, momentum=0.9),
            "AdaGrad": keras.optimizers.Adagrad(learning_rate=0.01),
            "Adam": keras.optimizers.Adam(learning_rate=0.001)}


def network():
    return keras.Sequential(
        [keras.Input(shape=(784,))]
        + [keras.layers.Dense(100, activation="relu", kernel_initializer="he_normal")
           for _ in range(4)]
        + [keras.layers.Dense(10, activation="softmax")])


def main():
    args = parse_args("05_optimizers_compared", __doc__.splitlines()[0], epochs=0, extra=options)

    print("1. 30 steps on f(x, y) = x²/20 + y² from (−7, 2):")
    for name, opt in lab.notes_optimizers().items():
        path = lab.optimizer_path(opt)
        print(f"   {name:<8} ({opt.get_config()['learning_rate']:g}) ends at "
              f"({path[-1, 0]:+.3f}, {path[-1, 1]:+.3f}), f = {lab.bowl(*path[-1]):.4f}")

    (x, y), _ = load_mnist(data_source(args))
    batch = 128
    iterations = step_count(args, len(x), batch)
    print(f"\n2. Training loss on MNIST over {iterations} steps of {batch} random images:")
    losses = {}
    for name, opt in mnist_optimizers().items():
        keras.utils.set_random_seed(args.seed)           # the same start for every optimizer
        model = network()
        model.compile(optimizer=opt, loss="sparse_categorical_crossentropy")
        curve = losses[name] = loss_curve(model, x, y, iterations, batch, args.seed)
        tail = max(1, iterations // 10)
        print(f"   {name:<8} loss {curve[0]:.3f} -> {np.mean(curve[-tail:]):.3f} "
              f"(mean of the last {tail} steps)")

    if have_matplotlib():
        save(lab.plot_optimizer_paths(), args.out, "optimizer_paths.png")
        save(draw_loss_curves(losses, "MNIST, 4 x 100 ReLU (He): loss per step, moving average"), args.out,
                 "mnist_loss.png")


if __name__ == "__main__":
    main()
