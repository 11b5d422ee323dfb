"""model.summary(): the tf-keras 2.13+ table, line by line, built here from the layout of the
real transcript (shared/fixtures/keras/k2_transcript.txt); automatic names."""
from __future__ import annotations

from pathlib import Path

import pytest

from mitbadak import keras

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "keras"
WIDTH = 65          # columns start at 0, 29 and 55; every cell line starts with one space


def row(name_type, shape, params):
    """The lines of one table row: the first column wraps after 26 characters."""
    name_type, shape, params = str(name_type), str(shape), str(params)
    lines = [" " + name_type[:26].ljust(28) + shape.ljust(26) + params.ljust(10)]
    rest = name_type[26:]
    while rest:
        lines.append((" " + rest[:26]).ljust(WIDTH))
        rest = rest[26:]
    return lines


def size(n_bytes):
    for unit in ("Byte", "KB", "MB", "GB"):
        if n_bytes < 1024:
            return f"{n_bytes:.2f} {unit}"
        n_bytes /= 1024
    return f"{n_bytes:.2f} TB"


def table(model_name, rows, total, trainable, itemsize=4):
    lines = [f'Model: "{model_name}"', "_" * WIDTH, *row("Layer (type)", "Output Shape", "Param #"),
             "=" * WIDTH]
    for r in rows:
        lines += row(*r)
        lines.append(" " * WIDTH)
    lines += ["=" * WIDTH,
              f"Total params: {total} ({size(total * itemsize)})",
              f"Trainable params: {trainable} ({size(trainable * itemsize)})",
              f"Non-trainable params: {total - trainable} ({size((total - trainable) * itemsize)})",
              "_" * WIDTH]
    return lines


def summary_lines(model, **kwargs):
    out = []
    model.summary(print_fn=out.append, **kwargs)
    return "\n".join(out).split("\n")


def test_layout_builder_reproduces_the_real_transcript():
    path = FIXTURES / "k2_transcript.txt"
    if not path.exists():
        pytest.skip(f"fixture missing: {path}")
    real = path.read_text(encoding="utf-8").split("\n")[:25]
    built = table("sample_cnn", [
        ("conv2d (Conv2D)", "(None, 8, 8, 4)", 40),
        ("max_pooling2d (MaxPooling2D)", "(None, 4, 4, 4)", 0),
        ("flatten (Flatten)", "(None, 64)", 0),
        ("dropout (Dropout)", "(None, 64)", 0),
        ("dense (Dense)", "(None, 8)", 520),
        ("batch_normalization (BatchNormalization)", "(None, 8)", 32),
        ("dense_1 (Dense)", "(None, 3)", 27)], total=619, trainable=603)
    assert built == real


def _mlp():
    return keras.Sequential([keras.layers.Dense(100, activation="sigmoid", input_shape=(784,)),
                             keras.layers.Dense(10, activation="softmax")])


def test_mlp_summary_exact():
    expected = table("sequential", [("dense (Dense)", "(None, 100)", 78500),
                                    ("dense_1 (Dense)", "(None, 10)", 1010)], 79510, 79510)
    assert "Total params: 79510 (310.59 KB)" in expected
    got = summary_lines(_mlp())
    assert len(got) == len(expected)
    for i, (g, e) in enumerate(zip(got, expected)):
        assert g == e, f"line {i}: {g!r} != {e!r}"


def test_deep_dropout_model_summary_exact():
    layers = [keras.layers.Flatten(input_shape=(28, 28))]
    for _ in range(4):
        layers += [keras.layers.Dense(512, activation="relu", kernel_initializer="glorot_normal"),
                   keras.layers.Dropout(0.3)]
    layers.append(keras.layers.Dense(10, activation="softmax"))
    model = keras.Sequential(layers)
    rows = [("flatten (Flatten)", "(None, 784)", 0)]
    for i in range(4):
        dense = "dense" if i == 0 else f"dense_{i}"
        dropout = "dropout" if i == 0 else f"dropout_{i}"
        rows += [(f"{dense} (Dense)", "(None, 512)", (784 if i == 0 else 512) * 512 + 512),
                 (f"{dropout} (Dropout)", "(None, 512)", 0)]
    rows.append(("dense_4 (Dense)", "(None, 10)", 5130))
    expected = table("sequential", rows, 1195018, 1195018)
    assert model.count_params() == 1195018
    assert "Total params: 1195018 (4.56 MB)" in expected
    assert summary_lines(model) == expected


def test_long_layer_name_wraps_like_keras():
    model = keras.Sequential([keras.layers.Dense(8, input_shape=(4,),
                                                 name="a_rather_long_hidden_layer_name"),
                              keras.layers.Dense(2, name="out")])
    got = summary_lines(model)
    assert got[4] == " a_rather_long_hidden_layer" + "  (None, 8)".ljust(28) + "40".ljust(10)
    assert got[5] == " _name (Dense)".ljust(WIDTH)
    assert got[6] == " " * WIDTH
    assert got == table("sequential", [("a_rather_long_hidden_layer_name (Dense)", "(None, 8)", 40),
                                       ("out (Dense)", "(None, 2)", 18)], 58, 58)


def test_non_ascii_names():
    model = keras.Sequential([keras.layers.Dense(3, input_shape=(2,), name="은닉층"),
                              keras.layers.Dense(1, name="출력")], name="손글씨_모델")
    expected = table("손글씨_모델", [("은닉층 (Dense)", "(None, 3)", 9), ("출력 (Dense)", "(None, 1)", 4)],
                     13, 13)
    assert summary_lines(model) == expected


def test_frozen_layer_counts_as_non_trainable():
    model = _mlp()
    model.layers[0].trainable = False
    expected = table("sequential", [("dense (Dense)", "(None, 100)", 78500),
                                    ("dense_1 (Dense)", "(None, 10)", 1010)], 79510, 1010)
    assert summary_lines(model) == expected
    assert expected[-2] == "Non-trainable params: 78500 (306.64 KB)"


def test_float64_sizes_use_eight_bytes():
    keras.backend.set_floatx("float64")
    got = summary_lines(_mlp())
    assert got[-4] == "Total params: 79510 (621.17 KB)"


def test_summary_of_an_unbuilt_model_is_a_clear_error():
    model = keras.Sequential([keras.layers.Dense(3)])
    with pytest.raises(ValueError, match="build"):
        model.summary()


def test_summary_after_lazy_build_through_fit():
    import numpy as np
    model = keras.Sequential([keras.layers.Dense(3, activation="relu"), keras.layers.Dense(1)])
    model.compile(loss="mse")
    model.fit(np.zeros((4, 5)), np.zeros((4, 1)), verbose=0)
    assert summary_lines(model) == table("sequential", [("dense (Dense)", "(None, 3)", 18),
                                                        ("dense_1 (Dense)", "(None, 1)", 4)], 22, 22)


def test_summary_prints_to_stdout(capsys):
    _mlp().summary()
    out = capsys.readouterr().out
    assert out.splitlines()[0] == 'Model: "sequential"'
    assert out.endswith("_" * WIDTH + "\n")


# ------------------------------------------------------------------ automatic names
def test_auto_names_and_clear_session():
    a = keras.layers.Dense(2)
    b = keras.layers.Dense(2)
    c = keras.layers.Dropout(0.1)
    f = keras.layers.Flatten()
    act = keras.layers.Activation("relu")
    assert (a.name, b.name, c.name, f.name, act.name) == ("dense", "dense_1", "dropout", "flatten",
                                                          "activation")
    assert keras.Sequential().name == "sequential"
    assert keras.Sequential().name == "sequential_1"
    keras.backend.clear_session()
    assert keras.layers.Dense(2).name == "dense"
    assert keras.Sequential().name == "sequential"


def test_duplicate_layer_names_rejected():
    model = keras.Sequential([keras.layers.Dense(2, input_shape=(3,), name="same")])
    with pytest.raises(ValueError, match="same"):
        model.add(keras.layers.Dense(2, name="same"))
