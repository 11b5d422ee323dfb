"""IMDB and Reuters: Keras's lists, from small files in Keras's format the tests make.

The expected lists are worked out here from Keras's documented rules (shuffle with
RandomState(seed), start_char, index_from, maxlen, num_words/skip_top -> oov_char), and,
when Keras 3 is installed, compared with what its own load_data returns for the same file.
Hostile pickles are refused without running them. No network: the conftest disables it.
"""
from __future__ import annotations

import importlib.util
import io
import json
import os
import pickle
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from mitbadak import keras
from mitbadak.datasets import imdb, reuters, set_data_dir
from mitbadak.utils import safe_pickle
from mitbadak.utils.data_utils import hash_file

# Stored ids (before index_from) of 5 training and 4 test reviews, and their labels.
TRAIN = [[1, 2, 3], [4, 5, 6, 7, 8, 9], [1], [10, 2, 2, 11], [3, 4, 5, 6, 7]]
TEST = [[2, 3], [12, 1, 1, 1, 1, 1, 1], [5, 6, 7], [8]]
Y_TRAIN, Y_TEST = [1, 0, 1, 0, 1], [0, 1, 1, 0]


def objects(lists):
    out = np.empty(len(lists), dtype=object)
    for i, x in enumerate(lists):
        out[i] = list(x)
    return out


@pytest.fixture
def imdb_folder(tmp_path, monkeypatch):
    """<tmp>/imdb/imdb.npz and imdb_word_index.json in Keras's format, set as the offline
    folder, with the module's expected hashes pointed at them."""
    folder = tmp_path / "data" / "imdb"
    folder.mkdir(parents=True)
    np.savez(folder / "imdb.npz", x_train=objects(TRAIN), y_train=np.array(Y_TRAIN),
             x_test=objects(TEST), y_test=np.array(Y_TEST))
    (folder / "imdb_word_index.json").write_text(json.dumps({"the": 1, "영화": 2, "good": 3}))
    monkeypatch.setattr(imdb, "SHA256", hash_file(folder / "imdb.npz"))
    monkeypatch.setattr(imdb, "WORD_INDEX_MD5",
                        hash_file(folder / "imdb_word_index.json", algorithm="md5"))
    set_data_dir(tmp_path / "data")
    return folder


def keras_rule(train, test, y_train, y_test, num_words=None, skip_top=0, maxlen=None, seed=113,
               start_char=1, oov_char=2, index_from=3):
    """Keras's imdb.load_data written out step by step."""
    rng = np.random.RandomState(seed)
    a = np.arange(len(train))
    rng.shuffle(a)
    b = np.arange(len(test))
    rng.shuffle(b)
    tr = [[start_char] + [w + index_from for w in train[i]] for i in a]
    te = [[start_char] + [w + index_from for w in test[i]] for i in b]
    ytr, yte = [y_train[i] for i in a], [y_test[i] for i in b]
    if maxlen:
        ytr = [y for x, y in zip(tr, ytr) if len(x) < maxlen]
        tr = [x for x in tr if len(x) < maxlen]
        yte = [y for x, y in zip(te, yte) if len(x) < maxlen]
        te = [x for x in te if len(x) < maxlen]
    top = num_words or max(max(x) for x in tr + te)
    fix = [[w if skip_top <= w < top else oov_char for w in x] for x in tr + te]
    return fix[:len(tr)], ytr, fix[len(tr):], yte


def as_lists(a):
    return [list(map(int, x)) for x in a]


@pytest.mark.parametrize("kwargs", [{}, {"num_words": 8}, {"num_words": 10, "skip_top": 5},
                                    {"maxlen": 5}, {"seed": 1, "index_from": 2, "start_char": 7}],
                         ids=["defaults", "num_words", "skip_top", "maxlen", "seed"])
def test_imdb_lists_follow_keras_rules(imdb_folder, kwargs):
    (x_train, y_train), (x_test, y_test) = keras.datasets.imdb.load_data(**kwargs)
    tr, ytr, te, yte = keras_rule(TRAIN, TEST, Y_TRAIN, Y_TEST, **kwargs)
    assert x_train.dtype == object and x_test.dtype == object
    assert as_lists(x_train) == tr and as_lists(x_test) == te
    assert y_train.tolist() == ytr and y_test.tolist() == yte


def test_imdb_hand_worked_example(imdb_folder):
    """RandomState(113) shuffles the 5 training reviews to [1, 0, 3, 2, 4], then (same
    generator) the 4 test reviews to [0, 1, 3, 2]; ids +3 with start 1 in front; without
    num_words the largest id (12 + 3 = 15) counts as the limit, so it becomes oov (2)."""
    (x_train, y_train), (x_test, y_test) = imdb.load_data()
    assert as_lists(x_train)[0] == [1, 7, 8, 9, 10, 11, 12]      # TRAIN[1] = [4, ..., 9]
    assert y_train.tolist() == [0, 1, 0, 1, 1]
    assert as_lists(x_test)[:2] == [[1, 5, 6], [1, 2, 4, 4, 4, 4, 4, 4]]
    assert y_test.tolist() == [0, 1, 0, 1]


def test_imdb_word_index(imdb_folder):
    assert keras.datasets.imdb.get_word_index() == {"the": 1, "영화": 2, "good": 3}


def test_imdb_offline_file_with_wrong_hash_is_refused(imdb_folder, monkeypatch):
    monkeypatch.setattr(imdb, "SHA256", "0" * 64)
    with pytest.raises(ValueError, match="not Keras's"):
        imdb.load_data()


def test_imdb_maxlen_that_keeps_nothing(imdb_folder):
    with pytest.raises(ValueError, match="Increase maxlen"):
        imdb.load_data(maxlen=2)


class _Hostile:
    def __reduce__(self):
        return (os.system, ("touch HACKED",))


def hostile_npz(path, payload):
    """An .npz whose x_train.npy is an object array whose pickle holds `payload`."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "|O", "fortran_order": False,
                                                  "shape": (1,)})
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("x_train.npy", b"\x93NUMPY\x01\x00" + header.getvalue()[8:] +
                   pickle.dumps(payload, protocol=2))
        for key, value in (("y_train", np.zeros(1)), ("x_test", np.zeros(1)),
                           ("y_test", np.zeros(1))):
            buf = io.BytesIO()
            np.save(buf, value)
            z.writestr(f"{key}.npy", buf.getvalue())


def test_hostile_pickle_is_refused_and_not_run(tmp_path, monkeypatch):
    folder = tmp_path / "data" / "imdb"
    folder.mkdir(parents=True)
    hostile_npz(folder / "imdb.npz", [_Hostile()])
    monkeypatch.setattr(imdb, "SHA256", hash_file(folder / "imdb.npz"))
    monkeypatch.chdir(tmp_path)
    set_data_dir(tmp_path / "data")
    with pytest.raises(safe_pickle.UnsafePickleError, match="os|posix|system"):
        imdb.load_data()
    assert not (tmp_path / "HACKED").exists()


def test_missing_data_explains_the_three_sources():
    with pytest.raises(OSError, match="imdb/imdb.npz"):
        imdb.load_data()


# ---------------------------------------------------------------------- Reuters
@pytest.fixture
def reuters_folder(tmp_path, monkeypatch):
    folder = tmp_path / "data" / "reuters"
    folder.mkdir(parents=True)
    stories = TRAIN + TEST + [[3, 3, 9], [7, 1]]
    np.savez(folder / "reuters.npz", x=objects(stories), y=np.arange(len(stories)) % 46)
    (folder / "reuters_word_index.json").write_text(json.dumps({"said": 1, "mln": 2}))
    monkeypatch.setattr(reuters, "SHA256", hash_file(folder / "reuters.npz"))
    monkeypatch.setattr(reuters, "WORD_INDEX_MD5",
                        hash_file(folder / "reuters_word_index.json", algorithm="md5"))
    set_data_dir(tmp_path / "data")
    return stories


@pytest.mark.parametrize("kwargs", [{}, {"num_words": 9, "test_split": 0.3},
                                    {"maxlen": 6, "skip_top": 4}])
def test_reuters_lists_follow_keras_rules(reuters_folder, kwargs):
    stories = reuters_folder
    labels = list(np.arange(len(stories)) % 46)
    rng = np.random.RandomState(113)
    order = np.arange(len(stories))
    rng.shuffle(order)
    xs = [[1] + [w + 3 for w in stories[i]] for i in order]
    ys = [labels[i] for i in order]
    if kwargs.get("maxlen"):
        ys = [y for x, y in zip(xs, ys) if len(x) < kwargs["maxlen"]]
        xs = [x for x in xs if len(x) < kwargs["maxlen"]]
    top = kwargs.get("num_words") or max(max(x) for x in xs)
    xs = [[w if kwargs.get("skip_top", 0) <= w < top else 2 for w in x] for x in xs]
    n = int(len(xs) * (1 - kwargs.get("test_split", 0.2)))
    (x_train, y_train), (x_test, y_test) = keras.datasets.reuters.load_data(**kwargs)
    assert as_lists(x_train) == xs[:n] and as_lists(x_test) == xs[n:]
    assert y_train.tolist() == ys[:n] and y_test.tolist() == ys[n:]


def test_reuters_word_index_and_label_names(reuters_folder):
    assert reuters.get_word_index() == {"said": 1, "mln": 2}
    names = reuters.get_label_names()
    assert len(names) == 46 and names[:5] == ("cocoa", "grain", "veg-oil", "earn", "acq")
    assert names[-1] == "lead"


# ---------------------------------------------------------------------- Keras 3 itself
KERAS_SCRIPT = r'''
import json, sys
import numpy as np
try:
    from keras.src.datasets import imdb, reuters
except Exception as e:
    print(json.dumps({"skip": str(e)})); sys.exit(0)
imdb.get_file = lambda *a, **k: sys.argv[1]           # the test's file, no download
reuters.get_file = lambda *a, **k: sys.argv[2]
out = {}
for name, kw in [("d", {}), ("n", {"num_words": 8}), ("s", {"num_words": 10, "skip_top": 5}),
                 ("m", {"maxlen": 5}), ("x", {"seed": 1, "index_from": 2, "start_char": 7})]:
    (a, b), (c, d) = imdb.load_data(**kw)
    out["imdb_" + name] = [[list(map(int, x)) for x in a], b.tolist(),
                           [list(map(int, x)) for x in c], d.tolist()]
(a, b), (c, d) = reuters.load_data(num_words=9, test_split=0.3)
out["reuters"] = [[list(map(int, x)) for x in a], b.tolist(), [list(map(int, x)) for x in c],
                  d.tolist()]
print(json.dumps(out))
'''


def test_same_lists_as_keras3_on_the_same_files(imdb_folder, reuters_folder, tmp_path):
    if importlib.util.find_spec("keras") is None:
        pytest.skip("Keras 3 is not installed")
    script = tmp_path / "k.py"
    script.write_text(KERAS_SCRIPT)
    env = {**os.environ, "KERAS_BACKEND": os.environ.get("KERAS_BACKEND", "numpy"),
           "PYTHONPATH": "", "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run([sys.executable, str(script), str(imdb_folder / "imdb.npz"),
                           str(tmp_path / "data" / "reuters" / "reuters.npz")],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    theirs = json.loads(proc.stdout.strip().splitlines()[-1])
    if "skip" in theirs:
        pytest.skip(f"Keras 3 could not start: {theirs['skip']}")
    for name, kw in [("d", {}), ("n", {"num_words": 8}), ("s", {"num_words": 10, "skip_top": 5}),
                     ("m", {"maxlen": 5}), ("x", {"seed": 1, "index_from": 2,
                                                  "start_char": 7})]:
        (a, b), (c, d) = imdb.load_data(**kw)
        assert [as_lists(a), b.tolist(), as_lists(c), d.tolist()] == theirs["imdb_" + name]
    (a, b), (c, d) = reuters.load_data(num_words=9, test_split=0.3)
    assert [as_lists(a), b.tolist(), as_lists(c), d.tolist()] == theirs["reuters"]
