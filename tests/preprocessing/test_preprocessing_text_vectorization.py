"""Keras 3's TextVectorization: vocabularies and outputs worked out by hand from its rules,
files written by Keras 3.15 (tests/fixtures/keras/recurrent: k3_tv_*), and the layer at the
front of a model that trains and saves.

Rules: lower-case A-Z, drop ASCII punctuation, split on whitespace; rank tokens by count,
ties by the token's UTF-8 bytes, highest first; int mode: 0 = "" (padding), 1 = "[UNK]";
other modes: column 0 = "[UNK]"; idf = ln(1 + texts / (1 + texts holding the token)), the
unknown column weighted by the mean idf.
"""
from __future__ import annotations

import importlib.util
import math
import warnings
from pathlib import Path

import numpy as np
import pytest

from mitbadak import keras

TV = keras.layers.TextVectorization
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "keras" / "recurrent"

EN = ["The cat sat on the mat.", "The dog ate my homework!", "Cats and dogs; the end?"]
# the: 4; every other word once, so they follow in reverse byte order.
EN_VOCAB = ["", "[UNK]", "the", "sat", "on", "my", "mat", "homework", "end", "dogs", "dog",
            "cats", "cat", "ate", "and"]
KO = ["이 영화 정말 재미있다 !!", "정말 지루한 영화 였다 ...", "배우 연기 정말 좋다", "영화 최고 최고"]
# 영화 3 and 정말 3 (정 U+C815 > 영 U+C601), 최고 2, then the rest by their first syllable:
# 지 C9C0, 좋 C88B, 재 C7AC, 이 C774, 였 C600, 연 C5F0, 배 BC30.
KO_VOCAB = ["", "[UNK]", "정말", "영화", "최고", "지루한", "좋다", "재미있다", "이", "였다", "연기",
            "배우"]


def adapted(texts, **kwargs):
    layer = TV(**kwargs)
    layer.adapt(texts)
    return layer


def test_english_vocabulary_and_ids():
    layer = adapted(EN)
    assert layer.get_vocabulary() == EN_VOCAB and layer.vocabulary_size() == 15
    assert layer.get_vocabulary(include_special_tokens=False) == EN_VOCAB[2:]
    out = layer(np.array(["The cat sat on the mat.", "the END, unknown"]))
    assert out.dtype == np.int64
    # the 2, cat 12, sat 3, on 4, the 2, mat 6 | the 2, end 8, unknown 1; padded with 0
    assert out.tolist() == [[2, 12, 3, 4, 2, 6], [2, 8, 1, 0, 0, 0]]


def test_korean_vocabulary_and_ids():
    layer = adapted(KO, output_sequence_length=5)
    assert layer.get_vocabulary() == KO_VOCAB
    assert layer(np.array([["영화 최고 최고"], ["정말 몰라요"]])).tolist() == \
        [[3, 4, 4, 0, 0], [2, 1, 0, 0, 0]]


def test_max_tokens_and_output_sequence_length():
    layer = adapted(EN, max_tokens=6, output_sequence_length=3)
    assert layer.get_vocabulary() == EN_VOCAB[:6]
    assert layer(np.array(["the cat sat on the mat"])).tolist() == [[2, 1, 3]]    # cut to 3


def test_count_multi_hot_and_tf_idf():
    count = adapted(EN, output_mode="count", max_tokens=5)     # [UNK], the, sat, on, my
    assert count.get_vocabulary() == ["[UNK]", "the", "sat", "on", "my"]
    row = count(np.array(["The cat sat on the mat."]))
    assert row.dtype == np.float32 and row.tolist() == [[2, 2, 1, 1, 0]]   # cat, mat unknown
    hot = adapted(EN, output_mode="multi_hot", max_tokens=5)
    assert hot(np.array(["The cat sat on the mat."])).tolist() == [[1, 1, 1, 1, 0]]
    tfidf = adapted(EN, output_mode="tf_idf", max_tokens=5)
    idf_the, idf_once = math.log(1 + 3 / 4), math.log(1 + 3 / 2)
    oov = (idf_the + 3 * idf_once) / 4                          # the mean of the 4 tokens
    np.testing.assert_allclose(tfidf(np.array(["The cat sat on the mat."]))[0],
                               [2 * oov, 2 * idf_the, idf_once, idf_once, 0], rtol=1e-6)
    padded = adapted(EN, output_mode="tf_idf", max_tokens=20, pad_to_max_tokens=True)
    assert padded(np.array(["the"])).shape == (1, 20)


def test_ngrams_split_and_standardize_options():
    bigrams = adapted(["a b c"], ngrams=2)
    assert set(bigrams.get_vocabulary()[2:]) == {"a", "b", "c", "a b", "b c"}
    chars = adapted(["abba"], split="character")
    assert chars.get_vocabulary() == ["", "[UNK]", "b", "a"]
    raw = adapted(["Hello, World", "hello"], standardize=None)
    assert "Hello," in raw.get_vocabulary() and "hello" in raw.get_vocabulary()
    lower = adapted(["ÉCOLE School"], standardize="lower")
    # A-Z only are lowered (É stays); a tie, and É's UTF-8 byte 0xC3 beats s's 0x73
    assert lower.get_vocabulary()[2:] == ["\u00c9cole", "school"]
    whole = adapted(["a b", "a b", "c"], split=None, standardize=None)
    assert whole.get_vocabulary() == ["", "[UNK]", "a b", "c"]
    assert whole(np.array(["c", "a b", "x"])).tolist() == [3, 2, 1]


def test_set_vocabulary_with_or_without_special_tokens():
    a = TV(vocabulary=["good", "bad"])
    b = TV(vocabulary=["", "[UNK]", "good", "bad"])
    assert a.get_vocabulary() == b.get_vocabulary() == ["", "[UNK]", "good", "bad"]
    assert a(np.array(["bad good ugly"])).tolist() == [[3, 2, 1]]
    t = TV(output_mode="tf_idf", vocabulary=["x", "y"], idf_weights=[0.5, 1.5])
    np.testing.assert_allclose(t(np.array(["y y z"])), [[1.0, 0.0, 3.0]])     # z: mean 1.0
    with pytest.raises(ValueError, match="repeats"):
        TV(vocabulary=["a", "a"])
    with pytest.raises(ValueError, match="idf_weights"):
        TV(output_mode="tf_idf", vocabulary=["a"])


def test_errors_name_the_fix():
    with pytest.raises(ValueError, match="adapt"):
        TV()(np.array(["text"]))
    with pytest.raises(ValueError, match="output_mode"):
        TV(output_mode="one_hot")
    with pytest.raises(ValueError, match="output_sequence_length"):
        TV(output_mode="count", output_sequence_length=4)
    with pytest.raises(ValueError, match="sparse"):
        TV(sparse=True)
    with pytest.raises(ValueError, match="shape"):
        adapted(EN)(np.array([["a", "b"]]))


@pytest.mark.parametrize("name", ["tv_int", "tv_tfidf", "tv_bigrams"])
def test_same_as_keras3_files(name):
    """Keras 3.15 adapted these layers on the same texts and saved the models: mitbadak
    adapts to the same vocabulary, gives the same outputs, and loads Keras's files."""
    spec = importlib.util.spec_from_file_location("mr", FIXTURES / "make_recurrent.py")
    fixtures = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fixtures)
    data = np.load(FIXTURES / f"k3_{name}.npz")
    probes = data["probes"][:, None]
    ours = adapted(list(data["texts"]), **fixtures.TEXT_MODELS[name])
    assert ours.get_vocabulary() == data["vocabulary"].tolist()
    np.testing.assert_allclose(ours(probes), data["pred"], rtol=1e-6)
    pytest.importorskip("h5py")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = keras.models.load_model(FIXTURES / f"k3_{name}.keras")
    assert model.layers[1].get_vocabulary() == data["vocabulary"].tolist()
    np.testing.assert_allclose(model.predict(probes, verbose=0), data["pred"], rtol=1e-6)


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_first_layer_of_a_model_trains_and_saves(tmp_path, suffix):
    pytest.importorskip("h5py")
    texts = np.array(["good movie", "bad movie", "very good", "very bad film", "good", "bad"])
    y = np.array([1, 0, 1, 0, 1, 0])
    layer = adapted(texts, max_tokens=10, output_sequence_length=4)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([layer, keras.layers.Embedding(10, 4), keras.layers.LSTM(4),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(keras.optimizers.Adam(0.05), "binary_crossentropy", metrics=["accuracy"])
    history = model.fit(texts, y, epochs=20, verbose=0)
    assert history.history["accuracy"][-1] == 1.0
    model.save(tmp_path / f"m{suffix}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = keras.models.load_model(tmp_path / f"m{suffix}")
    np.testing.assert_array_equal(again.predict(texts, verbose=0), model.predict(texts,
                                                                                 verbose=0))
    inp = keras.Input(shape=(1,), dtype="string")
    functional = keras.Model(inp, model.layers[-1](model.layers[-2](model.layers[-3](
        layer(inp)))))
    np.testing.assert_allclose(functional.predict(texts[:, None], verbose=0),
                               model.predict(texts, verbose=0), rtol=1e-6)
