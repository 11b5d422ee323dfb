"""11 · Tuning hyperparameters with keras_tuner: random search, then Hyperband.

KerasTuner's "Getting started" guide on MNIST, run by Optuna underneath (mitbadak.keras_tuner).
build_model(hp) declares the choices while it builds the model: the units of the hidden layer
(hp.Int), its activation (hp.Choice), the learning rate on a log scale (hp.Float), dropout or
not (hp.Boolean). RandomSearch tries max_trials random combinations; Hyperband starts many
and stops the poor ones after a few epochs. The best values are retrained on all the training
data and tested. The figures: the objective per trial, every trial's values side by side,
and the learning curves of the Hyperband trials.

    python examples/11_tuning.py [--epochs 5] [--trials 10] [--data auto|mnist|sample] [--quick]
"""
from _common import add_data_option, data_source, have_matplotlib, load_mnist, parse_args, save

import importlib.util

from mitbadak import keras
from mitbadak import lab


def add_options(parser):
    add_data_option(parser)
    parser.add_argument("--trials", type=int, default=None,
                        help="RandomSearch's max_trials (default 10; 4 with --quick)")


def build_model(hp):
    """One model for the values in hp; each hp.X call both declares a choice and returns the
    value of this trial (the default the first time, when hp is a fresh HyperParameters())."""
    model = keras.Sequential()
    model.add(keras.Input(shape=(784,)))
    model.add(keras.layers.Dense(
        units=hp.Int("units", min_value=32, max_value=512, step=32),
        activation=hp.Choice("activation", ["relu", "tanh"])))
    if hp.Boolean("dropout"):
        model.add(keras.layers.Dropout(rate=0.25))
    model.add(keras.layers.Dense(10, activation="softmax"))
    # 1e-4 .. 1e-2 sampled evenly in log(lr): 1e-4..1e-3 as likely as 1e-3..1e-2
    learning_rate = hp.Float("lr", min_value=1e-4, max_value=1e-2, sampling="log")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def main():
    args = parse_args("11_tuning", __doc__.splitlines()[0], epochs=5, extra=add_options)
    if importlib.util.find_spec("optuna") is None or importlib.util.find_spec("h5py") is None:
        print('(Optuna or h5py is not installed, so no search: pip install "mitbadak[tune]")')
        return
    from mitbadak import keras_tuner

    epochs = args.epochs or (2 if args.quick else 5)
    max_trials = args.trials or (4 if args.quick else 10)
    (x_train, y_train), (x_test, y_test) = load_mnist(data_source(args))
    if args.quick:                                 # a taste, not a result
        x_train, y_train = x_train[:1200], y_train[:1200]
        x_test, y_test = x_test[:500], y_test[:500]
    # The tuner compares trials on validation data; the test set stays unseen until the end.
    n_val = len(x_train) // 6
    x_fit, y_fit = x_train[:-n_val], y_train[:-n_val]
    x_val, y_val = x_train[-n_val:], y_train[-n_val:]
    print(f"tuning on {len(x_fit)} training and {len(x_val)} validation images; "
          f"{len(x_test)} test images kept aside\n")
    keras.utils.set_random_seed(args.seed)
    build_model(keras_tuner.HyperParameters())     # the guide's check: builds with the defaults

    # --- Random search ------------------------------------------------------------------
    tuner = keras_tuner.RandomSearch(
        hypermodel=build_model,
        objective="val_accuracy",       # what "best" means; val_loss would be minimised
        max_trials=max_trials,          # how many combinations to try
        seed=args.seed,
        overwrite=True,                 # start afresh (False resumes a search left unfinished)
        directory=args.out,             # trials, weights and the Optuna study live here
        project_name="random_search",
    )
    tuner.search_space_summary()
    # search takes fit's arguments and calls fit once per trial
    tuner.search(x_fit, y_fit, epochs=epochs, validation_data=(x_val, y_val), verbose=1)
    tuner.results_summary(3)
    best_hp = tuner.get_best_hyperparameters()[0]
    print(f"\nbest values: {best_hp.values}")

    # Retrain the best combination on all the training data, then test it once.
    keras.utils.set_random_seed(args.seed)
    model = build_model(best_hp)
    model.fit(x_train, y_train, epochs=epochs, batch_size=32, verbose=0)
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"best model retrained on {len(x_train)} images: test accuracy {accuracy:.4f}\n")

    # --- Hyperband ----------------------------------------------------------------------
    # Many trials, few epochs each; only the best third (factor=3) of a bracket trains on.
    # The same seed draws the same first candidates as above: what differs is their epochs.
    max_epochs = max(epochs + 1, 3)    # the survivors may train longer than a random trial
    hyperband = keras_tuner.Hyperband(build_model, objective="val_accuracy",
                                      max_epochs=max_epochs, factor=3, seed=args.seed,
                                      overwrite=True, directory=args.out,
                                      project_name="hyperband")
    hyperband.search(x_fit, y_fit, validation_data=(x_val, y_val), verbose=0)  # epochs: its own
    print(f"Hyperband, max_epochs={max_epochs}, factor=3:")
    for t in sorted(hyperband.oracle.trials.values(), key=lambda t: t.number):
        trained = len(t.history[0]["val_accuracy"])
        print(f"  trial {t.trial_id}: {trained} epoch(s), {t.status.lower():<9} val_accuracy "
              f"{t.score:.4f}  {t.hyperparameters.values}")
    best = hyperband.get_best_hyperparameters()[0]
    print(f"best values: {best.values}")

    print("\nTo scale out: start this script on several machines (or processes) with one "
          "shared database,\n  RandomSearch(..., storage=\"postgresql://user:pw@host/db\") or "
          "export MITBADAK_TUNER_STORAGE=postgresql://user:pw@host/db;\n  max_trials then "
          "counts every worker's trials (without it the study is an SQLite file in "
          f"{args.out / 'random_search'}).")

    if have_matplotlib():
        save(lab.plot_tuner_objective(tuner), args.out, "objective.png")
        save(lab.plot_tuner_parallel_coordinates(tuner), args.out, "parallel.png")
        save(lab.plot_tuner_learning_curves(hyperband), args.out, "learning_curves.png")


if __name__ == "__main__":
    main()
