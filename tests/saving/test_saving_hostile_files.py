"""Damaged and hostile files: each gets a clear error (a ValueError naming the file), nothing
from the file is ever executed or imported, and nothing is written outside the target."""
from __future__ import annotations

import base64
import io
import json
import marshal
import os
import shutil
import stat
import sys
import warnings
import zipfile

import numpy as np
import pytest

h5py = pytest.importorskip("h5py", reason="saving needs h5py (pip install h5py)")

import mitbadak as keras  # noqa: E402
from mitbadak.saving import InvalidFileError  # noqa: E402

from saving_helpers import build_cnn, cnn_data  # noqa: E402


@pytest.fixture
def files(tmp_path):
    """A trained small CNN saved every way, in tmp_path/good/."""
    keras.utils.set_random_seed(0)
    x, y = cnn_data(32)
    model = build_cnn(keras)
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    good = tmp_path / "good"
    good.mkdir()
    model.save(good / "m.keras")
    model.save(good / "m.h5")
    model.save_weights(good / "w.weights.h5")
    model.save_weights(good / "w.h5")
    return good


@pytest.fixture
def untouched(tmp_path):
    """Snapshot of tmp_path, its parent and the working folder: assert nothing appears."""
    roots = [tmp_path, tmp_path.parent, os.getcwd()]

    def listing():
        return {str(r): sorted(os.listdir(r)) for r in roots}

    before = listing()
    yield
    after = listing()
    for root in before:
        new = set(after[root]) - set(before[root])
        assert not new - {"bad", "crafted"}, f"files appeared in {root}: {new}"


def load_any(path):
    """What a user does with each kind of file."""
    name = os.path.basename(path)
    if name.startswith("w"):
        model = build_cnn(keras)
        model.load_weights(path)
        return model
    return keras.models.load_model(path)


def assert_clean_error(path, match=None):
    with pytest.raises(InvalidFileError, match=match) as err:
        load_any(path)
    assert os.path.basename(path) in str(err.value), str(err.value)
    return str(err.value)


def copy_to(tmp_path, src, data: bytes | None = None, name: str | None = None):
    folder = tmp_path / "bad"
    folder.mkdir(exist_ok=True)
    dst = folder / (name or src.name)
    if data is None:
        shutil.copy(src, dst)
    else:
        dst.write_bytes(data)
    return dst


ALL = ["m.keras", "m.h5", "w.weights.h5", "w.h5"]


# ------------------------------------------------------------------ damaged files
@pytest.mark.parametrize("name", ALL)
def test_truncated_files_give_a_clear_error(name, files, tmp_path, untouched):
    data = (files / name).read_bytes()
    n = len(data)
    for cut in sorted({0, 1, 8, 64, 512, n // 4, n // 2, 3 * n // 4, n - 200, n - 1}):
        bad = copy_to(tmp_path, files / name, data[:cut])
        assert_clean_error(bad)


@pytest.mark.parametrize("name", ALL)
def test_flipped_bytes_give_a_clear_error_or_a_model(name, files, tmp_path, untouched):
    """HDF5 keeps no checksum on array data, so some flips just change a weight; none may
    crash with anything but a clean error. In a .keras archive the CRC catches every flip
    inside a member."""
    data = bytearray((files / name).read_bytes())
    errors = 0
    for pos in np.linspace(0, len(data) - 1, 41).astype(int):
        flipped = bytearray(data)
        flipped[pos] ^= 0xFF
        bad = copy_to(tmp_path, files / name, bytes(flipped))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")     # e.g. a flipped attribute name
                load_any(bad)
        except InvalidFileError as e:
            assert bad.name in str(e)
            errors += 1
    assert errors > 0


def test_flipped_byte_in_a_keras_member_is_caught_by_the_crc(files, tmp_path):
    data = bytearray((files / "m.keras").read_bytes())
    start = data.find(b'"class_name"')
    data[start + 3] ^= 0x01
    bad = copy_to(tmp_path, files / "m.keras", bytes(data))
    assert_clean_error(bad, match="(?i)crc|damaged")


def test_not_a_model_at_all(tmp_path, untouched):
    folder = tmp_path / "bad"
    folder.mkdir()
    for name, data in [("a.keras", b"hello"), ("b.h5", b"hello"), ("c.keras", b""),
                       ("w.weights.h5", b"\x89HDF\r\n\x1a\n" + b"\0" * 100)]:
        (folder / name).write_bytes(data)
        assert_clean_error(folder / name)


# ------------------------------------------------------------------ crafted archives
def rewrite_keras(src, dst, config=None, weights=None, extra=(), drop=(), metadata=None):
    """A copy of the .keras archive `src` with entries replaced, added or dropped."""
    with zipfile.ZipFile(src) as zf:
        entries = {n: zf.read(n) for n in zf.namelist()}
    if config is not None:
        entries["config.json"] = config if isinstance(config, bytes) else \
            json.dumps(config).encode()
    if weights is not None:
        entries["model.weights.h5"] = weights
    if metadata is not None:
        entries["metadata.json"] = metadata
    with zipfile.ZipFile(dst, "w") as zf:
        for n, d in entries.items():
            if n not in drop:
                zf.writestr(n, d)
        for item in extra:
            if isinstance(item, zipfile.ZipInfo):
                zf.writestr(item, b"payload")
            else:
                zf.writestr(item[0], item[1])
    return dst


def keras_config(files):
    with zipfile.ZipFile(files / "m.keras") as zf:
        return json.loads(zf.read("config.json"))


def crafted(tmp_path, name="c.keras"):
    folder = tmp_path / "crafted"
    folder.mkdir(exist_ok=True)
    return folder / name


@pytest.mark.parametrize("entry", ["../evil.txt", "../../evil.txt", "sub/../../evil.txt",
                                   "/tmp/evil.txt", "..\\evil.txt", "C:/evil.txt"])
def test_zip_entries_escaping_the_folder_are_refused(entry, files, tmp_path, untouched):
    bad = rewrite_keras(files / "m.keras", crafted(tmp_path), extra=[(entry, b"owned")])
    msg = assert_clean_error(bad, match="outside")
    assert repr(entry) in msg
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path.parent / "evil.txt").exists()
    model = build_cnn(keras)
    with pytest.raises(InvalidFileError, match="outside"):
        model.load_weights(bad)


def test_zip_links_and_duplicates_are_refused(files, tmp_path, untouched):
    link = zipfile.ZipInfo("assets/link")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    assert_clean_error(rewrite_keras(files / "m.keras", crafted(tmp_path), extra=[link]),
                       match="link")
    with pytest.warns(UserWarning, match="Duplicate name"):
        dup = rewrite_keras(files / "m.keras", crafted(tmp_path, "d.keras"),
                            extra=[("config.json", b"{}")])
    assert_clean_error(dup, match="twice")


@pytest.mark.parametrize("missing, match", [("config.json", "no config.json"),
                                            ("model.weights.h5", "no model.weights.h5")])
def test_missing_archive_entries(missing, match, files, tmp_path):
    bad = rewrite_keras(files / "m.keras", crafted(tmp_path), drop={missing})
    assert_clean_error(bad, match=match)


def test_metadata_and_config_that_are_not_json(files, tmp_path):
    assert_clean_error(rewrite_keras(files / "m.keras", crafted(tmp_path), metadata=b"\xff\xfe"),
                       match="UTF-8")
    assert_clean_error(rewrite_keras(files / "m.keras", crafted(tmp_path, "b.keras"),
                                     config=b'{"class_name": NaN}'), match="class_name")
    assert_clean_error(rewrite_keras(files / "m.keras", crafted(tmp_path, "c.keras"),
                                     config=b"[" * 100000 + b"]" * 100000), match="deeply")
    assert_clean_error(rewrite_keras(files / "m.keras", crafted(tmp_path, "d.keras"),
                                     config=b"[1, 2]"), match="class_name")


def _edit_weights(files, edit):
    """model.weights.h5 of the good archive, changed by edit(h5py.File)."""
    with zipfile.ZipFile(files / "m.keras") as zf:
        data = zf.read("model.weights.h5")
    buf = io.BytesIO(data)
    with h5py.File(buf, "a") as f:
        edit(f)
    return buf.getvalue()


def test_missing_and_misshapen_weights_in_an_archive(files, tmp_path):
    no_layer = _edit_weights(files, lambda f: f.__delitem__("layers/dense_1/vars"))
    assert_clean_error(rewrite_keras(files / "m.keras", crafted(tmp_path), weights=no_layer),
                       match="dense_1")

    def reshape(f):
        del f["layers/dense/vars/0"]
        f["layers/dense/vars/0"] = np.zeros((64, 9), np.float32)
    assert_clean_error(rewrite_keras(files / "m.keras", crafted(tmp_path, "b.keras"),
                                     weights=_edit_weights(files, reshape)),
                       match=r"shape \(64, 8\).*\(64, 9\)")

    def one_less(f):
        del f["layers/batch_normalization/vars/3"]
    assert_clean_error(rewrite_keras(files / "m.keras", crafted(tmp_path, "c.keras"),
                                     weights=_edit_weights(files, one_less)),
                       match="4 weights")

    def strings(f):
        del f["layers/dense/vars/1"]
        f["layers/dense/vars/1"] = np.array([b"a"] * 8)
    assert_clean_error(rewrite_keras(files / "m.keras", crafted(tmp_path, "d.keras"),
                                     weights=_edit_weights(files, strings)), match="not numbers")

    def extra_layer(f):
        f.create_group("layers/dense_7/vars")["0"] = np.zeros(3, np.float32)
    assert_clean_error(rewrite_keras(files / "m.keras", crafted(tmp_path, "e.keras"),
                                     weights=_edit_weights(files, extra_layer)), match="dense_7")


def test_config_that_disagrees_with_the_weights(files, tmp_path):
    config = keras_config(files)
    config["config"]["layers"][-1]["config"]["units"] = 5
    assert_clean_error(rewrite_keras(files / "m.keras", crafted(tmp_path), config=config),
                       match="shape")


# ------------------------------------------------------------------ hostile configs
@pytest.fixture
def trap(tmp_path, monkeypatch):
    """An importable module that leaves a marker file if it is ever imported or run."""
    marker = tmp_path / "PWNED"
    lib = tmp_path / "trap_lib"
    lib.mkdir()
    (lib / "saving_trap_module.py").write_text(
        f"open({str(marker)!r}, 'w').write('imported')\n"
        f"def system(*a, **k):\n    open({str(marker)!r}, 'w').write('called')\n"
        f"class Boom:\n    def __init__(self, *a, **k):\n"
        f"        open({str(marker)!r}, 'w').write('constructed')\n")
    monkeypatch.syspath_prepend(str(lib))
    yield marker
    assert not marker.exists(), "code from a file was run"
    assert "saving_trap_module" not in sys.modules, "a module named in a file was imported"


def _lambda_code(marker):
    def payload(x):
        open(str(marker), "w").write("lambda ran")
        return x
    return base64.b64encode(marshal.dumps(payload.__code__)).decode()


HOSTILE_LAYERS = {
    "lambda": lambda m: {"module": "keras.layers", "class_name": "Lambda", "config": {
        "name": "lam", "function": {"module": "builtins", "class_name": "function",
                                    "config": {"code": _lambda_code(m), "defaults": None,
                                               "closure": None},
                                    "registered_name": "function"}}},
    "os.system": lambda m: {"module": "os", "class_name": "system",
                            "config": {"command": f"touch {m}"}},
    "trap module": lambda m: {"module": "saving_trap_module", "class_name": "Boom",
                              "config": {}},
    "registered name": lambda m: {"module": "saving_trap_module", "class_name": "Boom",
                                  "registered_name": "Custom>Boom", "config": {}},
    "dunder class": lambda m: {"class_name": "__class__", "config": {}},
    "base Layer": lambda m: {"class_name": "Layer", "config": {}},
    "Input function": lambda m: {"class_name": "Input", "config": {"shape": [2]}},
    "Variable": lambda m: {"class_name": "Variable", "config": {}},
    "initializer module": lambda m: {"class_name": "Dense", "config": {
        "units": 2, "kernel_initializer": {"module": "saving_trap_module", "class_name": "Boom",
                                           "config": {}}}},
    "regularizer class": lambda m: {"class_name": "Dense", "config": {
        "units": 2, "kernel_regularizer": {"class_name": "__init__", "config": {}}}},
    "activation eval": lambda m: {"class_name": "Dense", "config": {
        "units": 2, "activation": "eval"}},
    "activation module": lambda m: {"class_name": "Dense", "config": {
        "units": 2, "activation": {"module": "saving_trap_module", "class_name": "function",
                                   "config": "system", "registered_name": "function"}}},
    "units string": lambda m: {"class_name": "Dense", "config": {"units": "10"}},
    "units bool": lambda m: {"class_name": "Dense", "config": {"units": True}},
    "rate string": lambda m: {"class_name": "Dropout", "config": {"rate": "0.5"}},
    "name with slash": lambda m: {"class_name": "Dense", "config": {"units": 2,
                                                                     "name": "../../x"}},
    "object dtype": lambda m: {"class_name": "Dense", "config": {"units": 2, "dtype": "object"}},
    "trainable string": lambda m: {"class_name": "Dense", "config": {"units": 2,
                                                                      "trainable": "yes"}},
    "shape negative": lambda m: {"class_name": "InputLayer", "config": {"batch_shape": [None, -3]}},
    "functional": None,
}


@pytest.mark.parametrize("case", sorted(HOSTILE_LAYERS))
@pytest.mark.parametrize("fmt", [".keras", ".h5"])
def test_hostile_configs_are_refused_without_running_anything(case, fmt, files, tmp_path, trap,
                                                              untouched):
    if fmt == ".keras":
        config = keras_config(files)
    else:
        with h5py.File(files / "m.h5") as f:
            config = json.loads(f.attrs["model_config"])
    if case == "functional":
        config["class_name"] = "Functional"
    else:
        entry = HOSTILE_LAYERS[case](trap)
        layers = config["config"]["layers"]
        if entry["class_name"] == "InputLayer":
            layers[0] = entry
        else:
            layers.insert(2, entry)
    bad = crafted(tmp_path, "hostile" + fmt)
    if fmt == ".keras":
        rewrite_keras(files / "m.keras", bad, config=config)
    else:
        shutil.copy(files / "m.h5", bad)
        with h5py.File(bad, "a") as f:
            f.attrs["model_config"] = json.dumps(config)
    msg = assert_clean_error(bad)
    if case in ("lambda",):
        assert "never runs code" in msg
    if case in ("os.system", "trap module"):
        assert "never imports" in msg


@pytest.mark.parametrize("where", ["optimizer", "loss", "metric"])
def test_hostile_compile_settings(where, files, tmp_path, trap, untouched):
    config = keras_config(files)
    evil = {"module": "saving_trap_module", "class_name": "Boom", "config": {},
            "registered_name": None}
    compile_config = config["compile_config"]
    if where == "optimizer":
        compile_config["optimizer"] = evil
    elif where == "loss":
        compile_config["loss"] = evil
    else:
        compile_config["metrics"] = [evil]
    bad = rewrite_keras(files / "m.keras", crafted(tmp_path), config=config)
    if where == "metric":                  # an unknown metric is left out with a warning
        with pytest.warns(UserWarning, match="Boom"):
            keras.models.load_model(bad)
    else:
        assert_clean_error(bad)
    assert keras.models.load_model(bad, compile=False).predict(cnn_data(2)[0], verbose=0) \
        .shape == (2, 3)


def test_hostile_learning_rate_schedule(files, tmp_path, untouched):
    config = keras_config(files)
    config["compile_config"]["optimizer"]["config"]["learning_rate"] = {
        "class_name": "__init__", "config": {}}
    assert_clean_error(rewrite_keras(files / "m.keras", crafted(tmp_path), config=config),
                       match="schedule")


# ------------------------------------------------------------------ HDF5 tricks
def _weights_copy(files, tmp_path, name="w.weights.h5"):
    bad = crafted(tmp_path, name)
    shutil.copy(files / "w.weights.h5", bad)
    return bad


def test_hdf5_links_are_not_followed(files, tmp_path, untouched):
    secret = crafted(tmp_path, "secret.h5")
    with h5py.File(secret, "w") as f:
        f["kernel"] = np.full((64, 8), 42.0, np.float32)
    ext = _weights_copy(files, tmp_path)
    with h5py.File(ext, "a") as f:
        del f["layers/dense/vars/0"]
        f["layers/dense/vars/0"] = h5py.ExternalLink(str(secret), "kernel")
    assert_clean_error(ext, match="ExternalLink")
    soft = _weights_copy(files, tmp_path, "w2.weights.h5")
    with h5py.File(soft, "a") as f:
        del f["layers/dense/vars"]
        f["layers/dense/vars"] = h5py.SoftLink("/layers/dense_1/vars")
    assert_clean_error(soft, match="SoftLink")


def test_hdf5_external_storage_is_refused(files, tmp_path, untouched):
    secret = crafted(tmp_path, "secret.bin")
    secret.write_bytes(np.full((64, 8), 7.0, np.float32).tobytes())
    bad = _weights_copy(files, tmp_path)
    with h5py.File(bad, "a") as f:
        del f["layers/dense/vars/0"]
        f["layers/dense/vars"].create_dataset("0", shape=(64, 8), dtype=np.float32,
                                              external=[(str(secret), 0, 64 * 8 * 4)])
    assert_clean_error(bad, match="another file")


def test_hdf5_virtual_dataset_is_refused(files, tmp_path, untouched):
    bad = _weights_copy(files, tmp_path)
    with h5py.File(bad, "a") as f:
        layout = h5py.VirtualLayout(shape=(64, 8), dtype=np.float32)
        layout[:] = h5py.VirtualSource(".", "layers/dense/vars/0", shape=(64, 8))
        del f["layers/dense/vars/0"]
        f["layers/dense/vars"].create_virtual_dataset("0", layout)
    assert_clean_error(bad, match="virtual")


def test_legacy_h5_missing_groups_and_attributes(files, tmp_path):
    def edited(name, edit):
        bad = crafted(tmp_path, name)
        shutil.copy(files / "m.h5", bad)
        with h5py.File(bad, "a") as f:
            edit(f)
        return bad

    assert_clean_error(edited("a.h5", lambda f: f.__delitem__("model_weights/dense")),
                       match="dense")
    assert_clean_error(edited("b.h5", lambda f: f.attrs.__delitem__("model_config")),
                       match="model_config")
    assert_clean_error(edited("c.h5", lambda f: f.__delitem__("model_weights")),
                       match="model_weights")
    assert_clean_error(edited("d.h5", lambda f: f.attrs.__setitem__("model_config", "{oops")),
                       match="not valid JSON")

    def reshape(f):
        del f["model_weights/conv2d/conv2d/kernel:0"]
        f["model_weights/conv2d/conv2d/kernel:0"] = np.zeros((3, 3, 2, 4), np.float32)
    assert_clean_error(edited("e.h5", reshape), match=r"\(3, 3, 1, 4\).*\(3, 3, 2, 4\)")

    def names_not_text(f):
        f["model_weights/dense"].attrs["weight_names"] = np.array([1.0, 2.0])
    assert_clean_error(edited("f.h5", names_not_text), match="weight_names")


def test_legacy_weights_of_another_model(files, tmp_path):
    other = keras.Sequential([keras.layers.Dense(3, input_shape=(4,))])
    with pytest.raises(InvalidFileError, match="1 layers with weights") as err:
        other.load_weights(files / "w.h5")
    assert "w.h5" in str(err.value)
    with pytest.raises(InvalidFileError, match=r"shape \(4, 3\) in the model"):
        other.load_weights(files / "w.weights.h5")


def test_a_failed_load_leaves_the_model_unchanged(files, tmp_path):
    model = build_cnn(keras)
    before = model.get_weights()
    data = _edit_weights(files, lambda f: f.__delitem__("layers/dense_1/vars"))
    bad = rewrite_keras(files / "m.keras", crafted(tmp_path), weights=data)
    with pytest.raises(InvalidFileError):
        model.load_weights(bad)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_model_from_json_with_garbage():
    for text, match in [("not json", "not valid JSON"), ("[]", "class_name"),
                        (json.dumps({"class_name": "Sequential", "config": {"layers": "x"}}),
                         "layers"), (b"\xff", "UTF-8"), (42, "JSON text")]:
        with pytest.raises(InvalidFileError, match=match) as err:
            keras.models.model_from_json(text)
        assert "model_from_json" in str(err.value)


def test_absurd_sizes_are_a_clear_error_not_a_crash():
    config = {"class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": "InputLayer", "config": {"batch_shape": [None, 5], "name": "in"}},
        {"class_name": "Dense", "config": {"units": 10 ** 13}}]}}
    with pytest.raises(InvalidFileError, match="model_from_json"):
        keras.models.model_from_json(json.dumps(config))
