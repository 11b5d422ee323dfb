"""04 · Handwritten digits with the notes' two-layer network (TwoLayerNet), as Keras code.

784 pixels -> Dense(50, sigmoid) -> Dense(10, softmax), cross-entropy, plain SGD with
learning rate 0.1 and mini-batches of 100, as in the notes (10,000 steps is about 17 epochs
of MNIST). Afterwards: learning curves, the confusion matrix, per-class precision/recall
and a grid of digits it got wrong.

    python examples/04_mnist_mlp.py [--epochs 17] [--data auto|mnist|sample] [--quick]

MNIST comes from keras.datasets.mnist.load_data() (an offline folder named by
$MITBADAK_DATASETS, a cache, or a download); without it the 3,000-image sample shipped
with mitbadak is used, with a note.
"""
from _common import add_data_option, data_source, have_matplotlib, load_mnist, parse_args, save

import time

from mitbadak import keras
from mitbadak import lab


def main():
    args = parse_args("04_mnist_mlp", __doc__.splitlines()[0], epochs=17, extra=add_data_option)
    (x_train, y_train), (x_test, y_test) = load_mnist(data_source(args))
    epochs = args.epochs or (3 if args.quick else 17)

    keras.utils.set_random_seed(args.seed)
    model = keras.Sequential([
        keras.Input(shape=(784,)),
        keras.layers.Dense(50, activation="sigmoid"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.summary()
    start = time.perf_counter()
    history = model.fit(x_train, y_train, batch_size=100, epochs=epochs,
                        validation_data=(x_test, y_test), verbose=2)
    seconds = time.perf_counter() - start
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"\ntest accuracy {accuracy:.4f} (loss {loss:.4f}) after {epochs} epochs, "
          f"{seconds:.1f} s of training")
    probs = model.predict(x_test, verbose=0)
    print("\nper class (precision: of the digits called c, how many were c; "
          "recall: of the c's, how many were found):")
    print(lab.classification_report(y_test, probs, digits=3))
    cm = lab.confusion_matrix(y_test, probs)
    off = cm.copy()
    off[range(10), range(10)] = 0
    i, j = divmod(int(off.argmax()), 10)
    print(f"most frequent confusion: {cm[i, j]} images of {i} read as {j}")

    if have_matplotlib():
        save(lab.plot_history(history), args.out, "history.png")
        save(lab.plot_confusion_matrix(y_test, probs), args.out, "confusion_matrix.png")
        save(lab.plot_misclassified(x_test, y_test, probs, n=16, seed=args.seed), args.out,
             "misclassified.png")


if __name__ == "__main__":
    main()
