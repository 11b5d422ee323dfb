"""10 · Recurrent networks on movie reviews: SimpleRNN, LSTM and GRU.

혼자 공부하는 머신러닝+딥러닝 9-2/9-3. Texts become sequences of word ids (Tokenizer), cut or
padded to 100 steps (pad_sequences); IMDB's reviews, 500 most frequent words. Three models
read them: Embedding(500, 16) -> SimpleRNN(8) | LSTM(8) | GRU(8) -> Dense(1, sigmoid),
RMSprop 1e-4, batches of 64, early stopping. The figures: the three validation curves, and
‖dL/dh_t‖ per time step, SimpleRNN against LSTM (vanishing gradients through time).

    python examples/10_rnn_reviews.py [--epochs 100] [--data auto|imdb|synthetic] [--quick]
"""
from _common import have_matplotlib, load_imdb, parse_args, save

import numpy as np

from mitbadak import keras
from mitbadak import lab

MAXLEN = 100          # every review becomes 100 word ids
NUM_WORDS = 500       # the 500 most frequent words; the others become 2 (unknown)


def add_options(parser):
    parser.add_argument("--data", choices=("auto", "imdb", "synthetic"), default=None,
                        help="'imdb' (the real reviews), 'synthetic' (made-up IMDB-shaped "
                             "reviews), 'auto' (IMDB if available, else synthetic; the default, "
                             "'synthetic' with --quick)")


def show_tokenizer():
    """What happens before load_data: words -> ids (Keras's Tokenizer), then padding."""
    texts = ["This movie was great!",
             "The movie was boring, so boring.",
             "이 영화 정말 재미있다! 영화가 최고다"]
    tokenizer = keras.preprocessing.text.Tokenizer()
    tokenizer.fit_on_texts(texts)                  # rank the words: 1 = the most frequent
    sequences = tokenizer.texts_to_sequences(texts)
    print("Tokenizer: word -> id (1 = most frequent; ties in order of appearance)")
    print(f"  {tokenizer.word_index}")
    for text, seq in zip(texts, sequences):
        print(f"  {text!r} -> {seq}")
    print("  pad_sequences(maxlen=5): zeros in front, long ones keep their end")
    for row in keras.utils.pad_sequences(sequences, maxlen=5):
        print(f"    {row}")
    print("  (Korean attaches particles to words: '영화' and '영화가' are two different tokens "
          "here;\n   a morpheme analyser, e.g. KoNLPy's Okt().morphs, can be passed as "
          "Tokenizer(analyzer=...))\n")


def review_model(recurrent):
    return keras.Sequential([
        keras.Input(shape=(MAXLEN,)),
        keras.layers.Embedding(NUM_WORDS, 16),   # word id -> a learned vector of 16 numbers
        recurrent,                               # reads the 100 vectors in order; keeps h_100
        keras.layers.Dense(1, activation="sigmoid"),   # P(the review is positive)
    ])


def main():
    args = parse_args("10_rnn_reviews", __doc__.splitlines()[0], epochs=100, extra=add_options)
    epochs = args.epochs or (2 if args.quick else 100)
    show_tokenizer()

    source = args.data or ("synthetic" if args.quick else "auto")
    (train_input, train_target), _ = load_imdb(source, NUM_WORDS,
                                               synthetic=2_000 if args.quick else 25_000,
                                               seed=args.seed)
    lengths = np.array([len(review) for review in train_input])
    print(f"review lengths: mean {lengths.mean():.0f}, median {np.median(lengths):.0f} words; "
          f"first review starts {train_input[0][:10]}")
    # IMDB arrives shuffled: keep the last 20% of the training reviews for validation.
    split = int(len(train_input) * 0.8)
    train_seq = keras.utils.pad_sequences(train_input[:split], maxlen=MAXLEN)
    val_seq = keras.utils.pad_sequences(train_input[split:], maxlen=MAXLEN)
    train_target, val_target = train_target[:split], train_target[split:]
    print(f"padded: train {train_seq.shape}, validation {val_seq.shape}\n")

    learning_rate = 1e-4                           # the book's
    if args.quick:                                 # 2 epochs of 1e-4 barely move the weights
        learning_rate = 3e-3
        print(f"--quick: {len(train_seq)} reviews, {epochs} epochs, learning rate "
              f"{learning_rate:g} instead of the book's 1e-4 so that learning shows\n")

    histories, models, before = {}, {}, {}
    probe = (val_seq[:256], val_target[:256])      # reviews to measure gradients on
    for name, layer in (("SimpleRNN", keras.layers.SimpleRNN), ("LSTM", keras.layers.LSTM),
                        ("GRU", keras.layers.GRU)):
        keras.utils.set_random_seed(args.seed)
        recurrent = layer(8)
        model = review_model(recurrent)
        model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=learning_rate),
                      loss="binary_crossentropy", metrics=["accuracy"])
        before[name] = lab.time_step_gradients(model, *probe)   # at the initial weights
        # the book's early stopping: stop when val_loss has not improved for 3 epochs
        stop = keras.callbacks.EarlyStopping(patience=3, restore_best_weights=True)
        history = model.fit(train_seq, train_target, batch_size=64, epochs=epochs,
                            validation_data=(val_seq, val_target), callbacks=[stop], verbose=0)
        _, accuracy = model.evaluate(val_seq, val_target, verbose=0)
        trained = len(history.history["loss"])
        print(f"{name:<9} ({recurrent.count_params():>3} recurrent weights): val accuracy "
              f"{accuracy:.3f} after {trained} epoch{'s' if trained > 1 else ''}")
        histories[name], models[name] = history.history, model
    print("(an LSTM has 4 weight sets, input/forget/output gates and the candidate; a GRU 3;"
          " a SimpleRNN 1)\n")

    # Backpropagation through time: how much of dL/dh reaches each earlier word?
    after = {name: lab.time_step_gradients(models[name], *probe) for name in ("SimpleRNN", "LSTM")}
    print("‖dL/dh_1‖ / ‖dL/dh_100‖, the gradient left at the first word relative to the last:")
    for name in after:
        print(f"  {name:<9} before training {before[name].ratio:.2g}, "
              f"after {after[name].ratio:.2g}")
    rnn, lstm = after["SimpleRNN"].ratio, after["LSTM"].ratio
    print("Each step back multiplies dL/dh by W_hᵀ·tanh' (SimpleRNN) or, on the LSTM's cell "
          "path, by the forget gate;\nwhere that factor is below 1 the gradient shrinks "
          "geometrically and the early words barely train: vanishing gradients.")
    if lstm > rnn:
        print(f"Here the trained LSTM keeps {lstm / max(rnn, 1e-30):.2g} times more of it at "
              f"the first word than the SimpleRNN.")
    else:
        print("Here the SimpleRNN keeps more of it: an LSTM *can* learn to hold its forget gates "
              "near 1, but only does when the task needs the early words; measure, don't assume.")

    if have_matplotlib():
        save(draw_curves(histories), args.out, "curves.png")
        save(lab.plot_time_step_gradients(
            [before["SimpleRNN"], after["SimpleRNN"], before["LSTM"], after["LSTM"]],
            labels=["SimpleRNN before training", "SimpleRNN after", "LSTM before training",
                    "LSTM after"]), args.out, "time_step_gradients.png")


def draw_curves(histories):
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for name, h in histories.items():
        epochs = range(1, len(h["val_loss"]) + 1)
        axes[0].plot(epochs, h["val_loss"], "o-", markersize=3, label=name)
        axes[1].plot(epochs, h["val_accuracy"], "o-", markersize=3, label=name)
    for ax, what in zip(axes, ("validation loss", "validation accuracy")):
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(what)
        ax.grid(alpha=0.3)
    axes[0].legend()
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    main()
