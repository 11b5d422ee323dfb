"""The restricted pickle reader: plain data and NumPy arrays come back equal to what was
pickled, in every protocol; anything that names another function or class is refused before
it runs (a marker file that the hostile payload would create never appears)."""
from __future__ import annotations

import io
import os
import pickle
import zipfile

import numpy as np
import pytest

from mitbadak.utils import safe_pickle


@pytest.mark.parametrize("protocol", range(0, pickle.HIGHEST_PROTOCOL + 1))
def test_plain_data_and_arrays_round_trip(protocol):
    ragged = np.empty(2, dtype=object)
    ragged[0], ragged[1] = [1, 2, 3], [4]
    data = {"x": np.arange(12, dtype=np.uint8).reshape(3, 4), b"labels": [0, 1, 2],
            "ragged": ragged, "t": (1.5, None, True, "글"), "s": np.float32(2.5),
            "f": np.asfortranarray(np.arange(6.0).reshape(2, 3))}
    back = safe_pickle.loads(pickle.dumps(data, protocol=protocol))
    assert back["x"].dtype == np.uint8 and np.array_equal(back["x"], data["x"])
    assert back[b"labels"] == [0, 1, 2] and back["t"] == (1.5, None, True, "글")
    assert back["ragged"].dtype == object and back["ragged"].tolist() == [[1, 2, 3], [4]]
    assert back["s"] == np.float32(2.5) and back["s"].dtype == np.float32
    assert np.array_equal(back["f"], data["f"])


def test_python2_style_bytes_pickle():
    # CIFAR's batches are Python 2 pickles read with encoding='bytes'.
    payload = pickle.dumps({b"data": np.zeros((2, 3), np.uint8), b"labels": [3, 1]}, protocol=2)
    back = safe_pickle.loads(payload, encoding="bytes")
    assert back[b"labels"] == [3, 1] and back[b"data"].shape == (2, 3)


class _Payload:
    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


@pytest.mark.parametrize("func", [os.system, eval, exec, open, getattr, __import__,
                                  np.load, np.frombuffer])
def test_hostile_pickles_are_refused_without_running(tmp_path, func):
    marker = tmp_path / "ran"
    args = {os.system: (f"touch {marker}",), eval: (f"open({str(marker)!r}, 'w')",),
            exec: (f"open({str(marker)!r}, 'w')",), open: (str(marker), "w"),
            getattr: ("x", "upper"), __import__: ("os",), np.load: (str(marker),),
            np.frombuffer: (b"\0" * 8,)}[func]
    for protocol in (0, 2, pickle.HIGHEST_PROTOCOL):
        blob = pickle.dumps([1, {"a": _Payload(func, *args)}], protocol=protocol)
        with pytest.raises(safe_pickle.UnsafePickleError, match="refused"):
            safe_pickle.loads(blob)
    assert not marker.exists()


def test_codecs_encode_only_for_latin1():
    import _codecs
    blob = pickle.dumps(_Payload(_codecs.encode, "abc", "rot13"), protocol=2)
    with pytest.raises(safe_pickle.UnsafePickleError, match="rot13"):
        safe_pickle.loads(blob)


def test_persistent_ids_are_refused():
    buf = io.BytesIO()

    class P(pickle.Pickler):
        def persistent_id(self, obj):
            return "ext" if obj == "x" else None
    P(buf, protocol=2).dump(["x"])
    with pytest.raises(safe_pickle.UnsafePickleError, match="persistent"):
        safe_pickle.loads(buf.getvalue())


def test_npz_with_object_arrays(tmp_path):
    ragged = np.empty(3, dtype=object)
    ragged[:] = [[1, 14, 22], [1, 5], [1]]
    path = tmp_path / "seq.npz"
    np.savez(path, x=ragged, y=np.array([1, 0, 1], dtype=np.int64))
    with safe_pickle.load_npz(path) as f:
        assert f.files == ["x", "y"] and "x" in f
        assert f["x"].tolist() == [[1, 14, 22], [1, 5], [1]]
        assert f["y"].dtype == np.int64 and f["y"].tolist() == [1, 0, 1]
        with pytest.raises(KeyError, match="holds"):
            f["z"]


def test_npz_with_hostile_object_member(tmp_path):
    marker = tmp_path / "ran"
    hostile = np.empty(1, dtype=object)
    hostile[0] = _Payload(os.system, f"touch {marker}")
    path = tmp_path / "evil.npz"
    np.savez(path, x_train=hostile)
    with safe_pickle.load_npz(path) as f, pytest.raises(safe_pickle.UnsafePickleError):
        f["x_train"]
    assert not marker.exists()


def test_npz_object_member_that_is_not_the_declared_array(tmp_path):
    # A header promising shape (2,) followed by a pickle of something else.
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "|O", "fortran_order": False,
                                               "shape": (2,)})
    buf.write(pickle.dumps([1, 2]))
    path = tmp_path / "odd.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("x.npy", buf.getvalue())
    with safe_pickle.load_npz(path) as f, pytest.raises(ValueError, match="declares"):
        f["x"]
