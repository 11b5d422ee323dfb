"""tf.keras 2.x's Tokenizer: word indices, sequences and matrices on a small English corpus and a
Korean one. Every expected value is worked out in the comments from the documented rules:
lower-case, punctuation -> spaces, split on spaces; rank by count (ties: first seen); index 0
never used; num_words keeps ids < num_words; oov_token takes index 1."""
from __future__ import annotations

import math

import numpy as np
import pytest

from mitbadak.keras.preprocessing.text import (Tokenizer, text_to_word_sequence,
                                               tokenizer_from_json)

EN = ["The cat sat on the mat.", "The dog ate my homework!", "Cats and dogs; the end?",
      "it's the cat's toy"]
# the: 5 times, in all 4 texts; every other word once, in first-seen order below.
EN_INDEX = {"the": 1, "cat": 2, "sat": 3, "on": 4, "mat": 5, "dog": 6, "ate": 7, "my": 8,
            "homework": 9, "cats": 10, "and": 11, "dogs": 12, "end": 13, "it's": 14,
            "cat's": 15, "toy": 16}

KO = ["이 영화 정말 재미있다 !!", "정말 지루한 영화 였다 ...", "배우 연기 정말 좋다", "영화 최고 최고"]
# 영화 3, 정말 3, 최고 2, then the words seen once in order: 이, 재미있다, 지루한, 였다, 배우, 연기, 좋다
KO_INDEX = {"영화": 1, "정말": 2, "최고": 3, "이": 4, "재미있다": 5, "지루한": 6, "였다": 7,
            "배우": 8, "연기": 9, "좋다": 10}


def fitted(texts, **kwargs):
    t = Tokenizer(**kwargs)
    t.fit_on_texts(texts)
    return t


def test_text_to_word_sequence():
    assert text_to_word_sequence("Hello, World!  It's\tme.") == ["hello", "world", "it's", "me"]
    assert text_to_word_sequence("a-b", filters="", split="-") == ["a", "b"]


def test_english_word_index_counts_and_sequences():
    t = fitted(EN)
    assert t.word_index == EN_INDEX
    assert t.index_word[1] == "the" and t.document_count == 4
    assert t.word_counts["the"] == 5 and list(t.word_counts)[:3] == ["the", "cat", "sat"]
    assert t.word_docs["the"] == 4 and t.word_docs["cat"] == 1
    assert t.texts_to_sequences(EN[:2]) == [[1, 2, 3, 4, 1, 5], [1, 6, 7, 8, 9]]
    assert t.texts_to_sequences(["unknown words, the CAT"]) == [[1, 2]]     # unknown: dropped
    assert t.sequences_to_texts([[1, 2, 3, 4, 1, 5]]) == ["the cat sat on the mat"]


def test_num_words_and_oov_token():
    t = fitted(EN, num_words=5)
    assert t.word_index == EN_INDEX                              # all words are still indexed
    assert t.texts_to_sequences(EN[:2]) == [[1, 2, 3, 4, 1], [1]]   # only ids 1..4 kept
    t = fitted(EN, num_words=5, oov_token="<OOV>")
    assert t.word_index["<OOV>"] == 1 and t.word_index["the"] == 2 and t.word_index["toy"] == 17
    # the 2, cat 3, sat 4 are < 5; on (5), mat (6) and unknown words become 1
    assert t.texts_to_sequences([EN[0], "unknown words the cat"]) == [[2, 3, 4, 1, 2, 1],
                                                                       [1, 1, 2, 3]]
    assert t.sequences_to_texts([[2, 3, 9, 0]]) == ["the cat <OOV> <OOV>"]


def test_korean_split_on_spaces():
    t = fitted(KO)
    assert t.word_index == KO_INDEX
    assert t.texts_to_sequences(KO) == [[4, 1, 2, 5], [2, 6, 1, 7], [8, 9, 2, 10], [1, 3, 3]]
    assert t.sequences_to_texts([[1, 3, 3]]) == ["영화 최고 최고"]
    t = fitted(KO, num_words=3, oov_token="<OOV>")           # <OOV> 1, 영화 2, 정말 3, ...
    assert t.texts_to_sequences(["영화 정말 최고 몰라"]) == [[2, 1, 1, 1]]


def test_matrices_every_mode():
    t = fitted(EN)
    rows = t.texts_to_matrix(["the the cat", "zzz"], mode="count")
    assert rows.shape == (2, 17) and rows.dtype == np.float64      # 16 words + index 0
    assert rows[0, 1] == 2 and rows[0, 2] == 1 and rows[0].sum() == 3 and rows[1].sum() == 0
    binary = t.texts_to_matrix(["the the cat"], mode="binary")[0]
    assert binary[1] == 1 and binary[2] == 1 and binary.sum() == 2
    freq = t.texts_to_matrix(["the the cat"], mode="freq")[0]
    assert freq[1] == pytest.approx(2 / 3) and freq[2] == pytest.approx(1 / 3)
    tfidf = t.texts_to_matrix(["the the cat"], mode="tfidf")[0]
    # the: (1 + ln 2)·ln(1 + 4/(1 + 4));  cat (in 1 of the 4 texts): 1·ln(1 + 4/(1 + 1))
    assert tfidf[1] == pytest.approx((1 + math.log(2)) * math.log(1 + 4 / 5))
    assert tfidf[2] == pytest.approx(math.log(3))
    assert np.count_nonzero(tfidf) == 2
    limited = fitted(EN, num_words=4).texts_to_matrix(["the cat sat on"], mode="binary")
    assert limited.tolist() == [[0, 1, 1, 1]]                        # 'on' is id 4: no column
    with pytest.raises(ValueError, match="mode"):
        t.texts_to_matrix(EN, mode="onehot")


def test_char_level():
    t = fitted(["aab", "bc"], char_level=True)
    assert t.word_index == {"a": 1, "b": 2, "c": 3}           # a 2, b 2 (a first), c 1
    assert t.texts_to_sequences(["cab"]) == [[3, 1, 2]]


def test_json_round_trip_and_tf_keras_layout():
    t = fitted(KO, num_words=8, oov_token="<OOV>")
    text = t.to_json()
    assert '"class_name": "Tokenizer"' in text
    u = tokenizer_from_json(text)
    assert u.word_index == t.word_index and u.index_word == t.index_word
    assert u.texts_to_sequences(KO) == t.texts_to_sequences(KO)
    assert u.num_words == 8 and u.oov_token == "<OOV>" and u.document_count == 4


def test_clear_errors():
    with pytest.raises(TypeError, match="list of texts"):
        Tokenizer().fit_on_texts("just one string")
    with pytest.raises(TypeError, match="astype\\(str\\)"):
        Tokenizer().fit_on_texts(["ok", float("nan")])
    with pytest.raises(ValueError, match="num_words"):
        Tokenizer().sequences_to_matrix([[1, 2]])
