"""07 · Overfitting, and two cures: weight decay and dropout.

The notes' set-up: only 300 training images, a big network (6 hidden ReLU layers of 100,
He initialisation), SGD 0.01, batches of 100, 200 epochs. It learns the 300 images by heart
(training accuracy near 100%) while test accuracy stalls far below: overfitting. Weight
decay (an L2 penalty, the notes' λ = 0.1, i.e. Keras's l2(0.05)) and Dropout(0.2) after every
hidden layer both narrow the gap.

    python examples/07_dropout_overfitting.py [--epochs 200] [--quick]
"""
from _common import add_data_option, data_source, have_matplotlib, load_mnist, parse_args, save

from mitbadak import keras
from mitbadak import lab


def network(weight_decay=0.0, dropout=0.0):
    stack = [keras.Input(shape=(784,))]
    for _ in range(6):
        stack.append(keras.layers.Dense(
            100, activation="relu", kernel_initializer="he_normal",
            # the notes add ½·λ·ΣW² to the loss; Keras's l2(c) adds c·ΣW²: c = λ/2
            kernel_regularizer=keras.regularizers.l2(weight_decay / 2) if weight_decay else None))
        if dropout:
            stack.append(keras.layers.Dropout(dropout))
    stack.append(keras.layers.Dense(10, activation="softmax", kernel_initializer="he_normal"))
    return keras.Sequential(stack)


def main():
    args = parse_args("07_dropout_overfitting", __doc__.splitlines()[0], epochs=200,
                      extra=add_data_option)
    epochs = args.epochs or (15 if args.quick else 200)
    (x_train, y_train), (x_test, y_test) = load_mnist(data_source(args))
    x_train, y_train = x_train[:300], y_train[:300]       # few data: easy to memorise
    print(f"training on {len(x_train)} images, testing on {len(x_test)}, {epochs} epochs\n")

    runs = {"no regularisation": {}, "weight decay λ = 0.1": {"weight_decay": 0.1},
            "dropout 0.2": {"dropout": 0.2}}
    histories = {}
    for title, kwargs in runs.items():
        keras.utils.set_random_seed(args.seed)
        model = network(**kwargs)
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        h = model.fit(x_train, y_train, batch_size=100, epochs=epochs,
                      validation_data=(x_test, y_test), verbose=0).history
        histories[title] = h
        gap = h["accuracy"][-1] - h["val_accuracy"][-1]
        print(f"{title:<22} train accuracy {h['accuracy'][-1]:.3f}, test "
              f"{h['val_accuracy'][-1]:.3f}: gap {gap:+.3f}; lowest test loss at epoch "
              f"{lab.best_epoch(h)}")
    print("\n(the gap is training minus test accuracy; dropout trains more slowly, so it "
          "needs more epochs: the notes run it for 301)")

    if have_matplotlib():
        save(lab.plot_history(histories["no regularisation"]), args.out, "history_plain.png")
        save(draw(histories), args.out, "train_vs_test.png")


def draw(histories):
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(histories), figsize=(4.5 * len(histories), 3.6), sharey=True)
    for ax, (title, h) in zip(axes, histories.items()):
        epochs = range(1, len(h["accuracy"]) + 1)
        ax.plot(epochs, h["accuracy"], label="train")
        ax.plot(epochs, h["val_accuracy"], label="test")
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("accuracy")
    axes[0].legend()
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    main()
