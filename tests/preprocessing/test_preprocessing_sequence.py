"""pad_sequences, as Keras documents it: pad and cut in front by default ('pre'), or behind."""
from __future__ import annotations

import numpy as np
import pytest

from mitbadak import keras
from mitbadak.keras.preprocessing.sequence import pad_sequences

SEQS = [[1, 2, 3], [4, 5], [6]]


def test_both_names_are_one_function():
    assert keras.utils.pad_sequences is pad_sequences


def test_defaults_pad_to_the_longest_in_front():
    out = pad_sequences(SEQS)
    assert out.dtype == np.int32
    assert out.tolist() == [[1, 2, 3], [0, 4, 5], [0, 0, 6]]


@pytest.mark.parametrize("padding,truncating,expected", [
    ("pre", "pre", [[2, 3], [4, 5], [0, 6]]),
    ("post", "pre", [[2, 3], [4, 5], [6, 0]]),
    ("pre", "post", [[1, 2], [4, 5], [0, 6]]),
    ("post", "post", [[1, 2], [4, 5], [6, 0]]),
])
def test_padding_and_truncating(padding, truncating, expected):
    assert pad_sequences(SEQS, maxlen=2, padding=padding, truncating=truncating).tolist() == \
        expected


def test_value_dtype_and_empty_sequences():
    out = pad_sequences([[1.5, 2.5], []], maxlen=3, dtype="float32", value=-1.0)
    assert out.dtype == np.float32
    assert out.tolist() == [[-1.0, 1.5, 2.5], [-1.0, -1.0, -1.0]]


def test_object_array_of_lists_as_imdb_returns():
    x = np.empty(2, dtype=object)
    x[0], x[1] = [1, 14, 22, 16], [1, 194]
    assert pad_sequences(x, maxlen=3).tolist() == [[14, 22, 16], [0, 1, 194]]


def test_items_with_their_own_shape():
    out = pad_sequences([[[1, 1], [2, 2]], [[3, 3]]], maxlen=2)
    assert out.shape == (2, 2, 2)
    assert out[1].tolist() == [[0, 0], [3, 3]]


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="padding"):
        pad_sequences(SEQS, padding="middle")
    with pytest.raises(ValueError, match="truncating"):
        pad_sequences(SEQS, truncating="end")
    with pytest.raises(ValueError, match="item 1"):
        pad_sequences([[1], 5])
    with pytest.raises(ValueError, match="dtype=object"):
        pad_sequences([["a"]], value="x")
