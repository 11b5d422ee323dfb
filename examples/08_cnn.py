"""08 · A convolutional network: the notes' SimpleConvNet, as Keras code.

Conv2D(30 filters of 5x5, ReLU) -> MaxPooling2D(2x2) -> Flatten -> Dense(100, ReLU) ->
Dense(10, softmax), Adam 0.001, batches of 100, 20 epochs (about 99% on MNIST's test set).
The convolution is im2col plus one matrix product, as in the notes. The figures show the 30
first-layer filters before training (noise) and after (edge and blob detectors), the
learning curves and the digits it still gets wrong.

    python examples/08_cnn.py [--epochs 20] [--data auto|mnist|sample] [--quick]
"""
from _common import add_data_option, data_source, have_matplotlib, load_mnist, parse_args, save

import sys
import time

from mitbadak import keras
from mitbadak import lab


def main():
    args = parse_args("08_cnn", __doc__.splitlines()[0], epochs=20, extra=add_data_option)
    if not hasattr(keras.layers, "Conv2D") or not hasattr(keras.layers, "MaxPooling2D"):
        sys.exit("this example needs keras.layers.Conv2D and MaxPooling2D, which this version "
                 "of mitbadak does not have yet.")
    epochs = args.epochs or (1 if args.quick else 20)
    (x_train, y_train), (x_test, y_test) = load_mnist(data_source(args), flatten=False)
    if args.quick:                                         # a taste, not a result
        x_train, y_train, x_test, y_test = x_train[:600], y_train[:600], x_test[:300], y_test[:300]

    keras.utils.set_random_seed(args.seed)
    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        keras.layers.Conv2D(30, (5, 5), activation="relu"),   # (24, 24, 30)
        keras.layers.MaxPooling2D((2, 2)),                      # (12, 12, 30)
        keras.layers.Flatten(),                                 # 4320
        keras.layers.Dense(100, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.001),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.summary()
    figures = have_matplotlib()
    if figures:
        save(lab.plot_filters(model), args.out, "filters_before.png")

    start = time.perf_counter()
    history = model.fit(x_train, y_train, batch_size=100, epochs=epochs,
                        validation_data=(x_test, y_test), verbose=2)
    seconds = time.perf_counter() - start
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"\ntest accuracy {accuracy:.4f} (loss {loss:.4f}) after {epochs} epochs, "
          f"{seconds:.1f} s of training ({seconds / epochs:.1f} s per epoch)")
    probs = model.predict(x_test, verbose=0)
    print(lab.classification_report(y_test, probs, digits=3))

    if figures:
        save(lab.plot_filters(model), args.out, "filters_after.png")
        save(lab.plot_history(history), args.out, "history.png")
        save(lab.plot_misclassified(x_test, y_test, probs, n=16, seed=args.seed), args.out,
             "misclassified.png")


if __name__ == "__main__":
    main()
