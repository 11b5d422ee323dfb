"""summary() of functional models (issue 11): the tf.keras 2.x table with its "Connected to"
column, exactly as tf_keras 2.21.0 printed it (k2_*_summary.txt), for the models loaded from
the files tf_keras wrote and for the same models built here; the nested model also with
expand_nested, show_trainable, and after freezing the nested model."""
from __future__ import annotations

import warnings

import pytest

from mitbadak import backend, keras

from models_helpers import BUILDERS, STEMS, fixture, summary_text

NESTED_PARTS = [
    ({}, ""),
    ({"expand_nested": True}, "\n### summary(expand_nested=True)\n"),
    ({"show_trainable": True}, "\n### summary(show_trainable=True)\n"),
]
FROZEN_HEADER = ("\n### after model.get_layer('inner').trainable = False: "
                 "summary(expand_nested=True, show_trainable=True)\n")


def expected(stem):
    return fixture(f"k2_{stem}_summary.txt").read_text()


def printed(model, stem):
    """What make_functional.py captured, printed by mitbadak."""
    if stem != "nested":
        return summary_text(model)
    text = "".join(header + summary_text(model, **kw) for kw, header in NESTED_PARTS)
    model.get_layer("inner").trainable = False
    return text + FROZEN_HEADER + summary_text(model, expand_nested=True, show_trainable=True)


def _diff(got, want):
    import difflib
    return "\n".join(difflib.unified_diff(want.splitlines(), got.splitlines(), "tf_keras",
                                          "mitbadak", lineterm=""))


@pytest.mark.parametrize("stem", STEMS)
def test_summary_of_tf_keras_file_is_tf_keras_text(stem):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = keras.models.load_model(fixture(f"k2_{stem}.h5"))
    got, want = printed(model, stem), expected(stem)
    assert got == want, _diff(got, want)


@pytest.mark.parametrize("stem", STEMS)
def test_summary_of_the_model_built_here(stem):
    """Built with mitbadak's API: the same table; only the default model name differs
    (Keras 3's 'functional' where tf_keras says 'model')."""
    backend.clear_session()
    model = BUILDERS[stem]()
    got = printed(model, stem)
    want = expected(stem).replace('Model: "model"', f'Model: "{model.name}"')
    assert model.name == "functional"
    assert got == want, _diff(got, want)


def test_summary_print_fn_and_line_length():
    model = BUILDERS["ticket"]()
    lines = []
    model.summary(print_fn=lines.append)
    assert "\n".join(lines) + "\n" == summary_text(model)
    assert "Connected to" in lines[2]
    assert all(len(line) <= 98 for line in lines)
    wide = []
    model.summary(line_length=120, print_fn=wide.append)
    assert max(len(line) for line in wide) == 120


def test_summary_of_a_subclassed_model_lists_its_layers():
    from models_helpers import customer_ticket_model_class, npz
    ref = npz("k3_subclass.npz")
    model = customer_ticket_model_class()(4)
    model({n: ref[f"x_{n}"] for n in ("title", "text_body", "tags")})
    text = summary_text(model)
    assert text.startswith('Model: "customer_ticket_model"')
    for row in ("concatenate (Concatenate)", "dense (Dense)", "dense_1 (Dense)",
                "dense_2 (Dense)"):
        assert row in text
    assert "Total params: 1573" in text
