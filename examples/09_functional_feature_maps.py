"""09 · The functional API and what a CNN sees.

혼자 공부하는 머신러닝+딥러닝 8-3 and Deep Learning with Python ch. 7. A small CNN
(Conv2D 32 -> MaxPooling2D -> Conv2D 64 -> MaxPooling2D -> Dense 100 -> Dropout -> Dense 10) is
trained on MNIST. Its layers are nodes of a graph, so
``keras.Model(model.inputs, model.layers[0].output)`` is a new model that stops after the first
convolution: its prediction for one digit is that layer's 32 feature maps (``layers[2].output``
gives the second convolution's 64). Then DLwP's ticket model: three named inputs (title,
text_body, tags), Concatenate, Dense, two named outputs (priority, department), a loss and
metrics per output; trained one epoch on random data as in the book, its summary and its graph
(plot_model). Last, a residual block (``layers.add``): a connection a Sequential cannot make.

    python examples/09_functional_feature_maps.py [--epochs 5] [--data auto|mnist|sample] [--quick]
"""
from _common import add_data_option, data_source, have_matplotlib, load_mnist, parse_args, save

import numpy as np

from mitbadak import keras
from mitbadak.keras import layers


def main():
    args = parse_args("09_functional_feature_maps", __doc__.splitlines()[0], epochs=5,
                      extra=add_data_option)
    epochs = args.epochs or (1 if args.quick else 5)
    figures = have_matplotlib()
    keras.utils.set_random_seed(args.seed)

    # ---- 1. a small CNN (혼공머신 8-2's, on MNIST) -------------------------------------
    (x_train, y_train), (x_test, y_test) = load_mnist(data_source(args), flatten=False)
    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, kernel_size=3, activation="relu", padding="same"),   # layers[0]
        layers.MaxPooling2D(2),                                                 # layers[1]
        layers.Conv2D(64, kernel_size=3, activation="relu", padding="same"),   # layers[2]
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(100, activation="relu"),
        layers.Dropout(0.4),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.summary()
    model.fit(x_train, y_train, epochs=epochs, batch_size=32,
              validation_data=(x_test, y_test), verbose=2)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test accuracy {accuracy:.4f} after {epochs} epoch(s)")

    # ---- 2. feature maps: a model made of the trained model's first layers ---------------
    # model.inputs and model.layers[i].output are the symbolic tensors the Sequential model
    # was built from; keras.Model(inputs, outputs) makes a model of the layers between them,
    # sharing their trained weights (nothing is copied or retrained).
    conv1 = keras.Model(model.inputs, model.layers[0].output)
    conv2 = keras.Model(model.inputs, model.layers[2].output)
    digit = x_test[:1]                                    # one digit, kept as a batch of 1
    maps1 = conv1.predict(digit, verbose=0)[0]            # (28, 28, 32)
    maps2 = conv2.predict(digit, verbose=0)[0]            # (14, 14, 64)
    print(f"\nfeature maps of one test digit (a {y_test[0]}):")
    print(f"  keras.Model(model.inputs, model.layers[0].output).predict(digit): {maps1.shape}, "
          f"one 28x28 map per filter of the first Conv2D")
    print(f"  keras.Model(model.inputs, model.layers[2].output).predict(digit): {maps2.shape}, "
          f"the second Conv2D, after pooling halved the picture")
    print("  the first layer's maps are still the digit, each bright where one edge or stroke "
          "direction is;\n  the second's are coarser and more abstract: combinations of "
          "the first layer's features.")
    if figures:
        save(draw_feature_maps(digit[0, :, :, 0], y_test[0], maps1, maps2), args.out,
             "feature_maps.png")

    # ---- 3. DLwP's ticket model: several inputs, several outputs -------------------------
    print("\nDLwP's ticket model: three inputs, two outputs (the functional API)")
    vocabulary_size, num_tags, num_departments = 10000, 100, 4
    title = keras.Input(shape=(vocabulary_size,), name="title")
    text_body = keras.Input(shape=(vocabulary_size,), name="text_body")
    tags = keras.Input(shape=(num_tags,), name="tags")
    features = layers.Concatenate()([title, text_body, tags])     # one long vector
    features = layers.Dense(64, activation="relu")(features)
    priority = layers.Dense(1, activation="sigmoid", name="priority")(features)
    department = layers.Dense(num_departments, activation="softmax",
                              name="department")(features)
    ticket_model = keras.Model(inputs=[title, text_body, tags], outputs=[priority, department])
    ticket_model.summary()                  # "Connected to" shows the graph, layer by layer

    # Random data, as in the book: the numbers mean nothing, the point is how inputs, outputs,
    # losses and metrics are matched up by name.
    num_samples = 1280
    title_data = np.random.randint(0, 2, size=(num_samples, vocabulary_size))
    text_body_data = np.random.randint(0, 2, size=(num_samples, vocabulary_size))
    tags_data = np.random.randint(0, 2, size=(num_samples, num_tags))
    priority_data = np.random.random(size=(num_samples, 1))
    department_data = np.random.randint(0, 2, size=(num_samples, num_departments))
    inputs = {"title": title_data, "text_body": text_body_data, "tags": tags_data}
    targets = {"priority": priority_data, "department": department_data}

    # A loss and metrics per output, keyed by the output layers' names.
    ticket_model.compile(optimizer="rmsprop",
                         loss={"priority": "mean_squared_error",
                               "department": "categorical_crossentropy"},
                         metrics={"priority": ["mean_absolute_error"],
                                  "department": ["accuracy"]})
    history = ticket_model.fit(inputs, targets, epochs=1, verbose=2)
    print(f"History keys: {list(history.history)}  (the total loss, one loss per output, "
          f"and each output's metrics, named after it)")
    # return_dict=True gives each number with its name (the order of the plain list
    # differs between Keras versions).
    results = ticket_model.evaluate(inputs, targets, verbose=0, return_dict=True)
    print("evaluate: " + ", ".join(f"{name} {value:.4f}" for name, value in results.items()))
    priority_preds, department_preds = ticket_model.predict(inputs, verbose=0)
    print(f"predict gives one array per output: priority {priority_preds.shape}, "
          f"department {department_preds.shape}")
    if figures:
        # Keras draws with pydot and Graphviz; mitbadak draws the same picture with matplotlib.
        # show_layer_names=True puts title/text_body/tags/priority/department in the boxes.
        path = args.out / "ticket_model.png"
        keras.utils.plot_model(ticket_model, to_file=path, show_shapes=True,
                               show_layer_names=True)
        print(f"  figure: {path}")

    # ---- 4. a residual connection: a layer's input added to its output -------------------
    print("\na residual block (DLwP ch. 9): the block's input skips past it and is added back")
    inputs = keras.Input(shape=(32, 32, 3))
    x = layers.Conv2D(32, 3, activation="relu")(inputs)
    residual = x                                              # set aside
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(x)
    residual = layers.Conv2D(64, 1)(residual)    # a 1x1 convolution: 32 -> 64 channels to match
    x = layers.add([x, residual])                # same shapes, added element by element
    keras.Model(inputs, x).summary()             # `add` is connected to two layers


def draw_feature_maps(image, label, maps1, maps2):
    """The digit, then the first Conv2D's maps in a 8x4 grid and the second's in a 8x8 grid
    (each map scaled on its own: bright = strong response)."""
    import matplotlib.pyplot as plt
    fig = plt.figure(figsize=(13, 5.8))
    left, mid, right = fig.subfigures(1, 3, width_ratios=[1.6, 2.6, 5.2])
    ax = left.subplots()
    ax.imshow(image, cmap="gray_r")
    ax.set_title(f"the input digit (a {label})")
    ax.axis("off")
    for sub, maps, cols, title in ((mid, maps1, 4, "layers[0]: Conv2D 32 maps, 28x28"),
                                   (right, maps2, 8, "layers[2]: Conv2D 64 maps, 14x14")):
        axes = sub.subplots(maps.shape[-1] // cols, cols,
                            gridspec_kw={"wspace": 0.08, "hspace": 0.08})
        for k, ax in enumerate(axes.flat):
            ax.imshow(maps[:, :, k], cmap="gray")
            ax.axis("off")
        sub.suptitle(title)
    return fig


if __name__ == "__main__":
    main()
