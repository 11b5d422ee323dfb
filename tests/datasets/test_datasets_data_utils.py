"""get_file: download once, verify before caching, never keep a truncated or corrupted file."""
from __future__ import annotations

import hashlib
import http.client
import io
import os
import urllib.request
import zipfile

import pytest

from mitbadak.utils import data_utils
from mitbadak.utils.data_utils import get_file, hash_file, validate_file

PAYLOAD = bytes(range(256)) * 1000  # 256,000 bytes: several read chunks
SHA256 = hashlib.sha256(PAYLOAD).hexdigest()


@pytest.fixture
def served(tmp_path, monkeypatch):
    """A file:// URL for PAYLOAD, with the real opener back on (file:// needs no network)."""
    source = tmp_path / "server" / "payload.bin"
    source.parent.mkdir()
    source.write_bytes(PAYLOAD)
    monkeypatch.setattr(data_utils, "_urlopen", urllib.request.urlopen)
    return source.as_uri()


def cache_dir(tmp_path):
    return tmp_path / "mitbadak_home" / "datasets"


class FakeResponse(io.BytesIO):
    """An HTTP-like response announcing ``length`` bytes; ``fail_after`` makes reads break off."""

    def __init__(self, body: bytes, length: int, fail_after: int | None = None):
        super().__init__(body)
        self.headers = {"Content-Length": str(length)}
        self.fail_after = fail_after

    def read(self, size=-1):
        if self.fail_after is not None and self.tell() >= self.fail_after:
            raise http.client.IncompleteRead(b"", 10)
        return super().read(size)


def test_good_download_is_cached_once(tmp_path, served, monkeypatch, capsys):
    path = get_file("payload.bin", origin=served, file_hash=SHA256)
    assert path == str(cache_dir(tmp_path) / "payload.bin")
    assert open(path, "rb").read() == PAYLOAD
    out = capsys.readouterr().out
    assert f"Downloading data from {served}" in out
    assert "256000/256000 [==============================]" in out
    assert "\r" not in out and "\x1b" not in out  # not a terminal: one final line, no control codes
    assert sorted(os.listdir(cache_dir(tmp_path))) == ["payload.bin"]  # no temp file left

    def must_not_download(*args, **kwargs):
        raise AssertionError("a verified cached file was downloaded again")

    monkeypatch.setattr(data_utils, "_urlopen", must_not_download)
    assert get_file("payload.bin", origin=served, file_hash=SHA256) == path
    assert "Downloading" not in capsys.readouterr().out


def test_default_cache_is_home_dot_mitbadak(tmp_path, served, monkeypatch):
    monkeypatch.delenv("MITBADAK_HOME")
    path = get_file(origin=served)  # fname taken from the URL
    assert path == os.path.join(os.environ["HOME"], ".mitbadak", "datasets", "payload.bin")


def test_checksum_mismatch_message_and_nothing_cached(tmp_path, served):
    wrong = "ab" * 32
    with pytest.raises(ValueError) as info:
        get_file("payload.bin", origin=served, file_hash=wrong)
    message = str(info.value)
    for part in (served, wrong, SHA256, "sha256", "nothing was cached", "again"):
        assert part in message
    assert os.listdir(cache_dir(tmp_path)) == []


def test_md5_hash_is_recognised(served):
    md5 = hashlib.md5(PAYLOAD).hexdigest()
    path = get_file("payload.bin", origin=served, file_hash=md5)
    assert validate_file(path, md5) and hash_file(path) == SHA256
    with pytest.raises(ValueError, match="md5"):
        get_file("other.bin", origin=served, file_hash="0" * 32)


def test_truncated_download_raises_and_leaves_nothing(tmp_path, monkeypatch):
    origin = "https://example.org/data/payload.bin"
    monkeypatch.setattr(data_utils, "_urlopen", lambda url, timeout=None: FakeResponse(PAYLOAD[:1000], len(PAYLOAD)))
    with pytest.raises(OSError, match="truncated") as info:
        get_file("payload.bin", origin=origin)  # no hash: the announced size still catches it
    assert origin in str(info.value) and "256000" in str(info.value)
    assert os.listdir(cache_dir(tmp_path)) == []


def test_connection_broken_mid_download_leaves_nothing(tmp_path, monkeypatch):
    origin = "https://example.org/payload.bin"
    response = FakeResponse(PAYLOAD, len(PAYLOAD), fail_after=70000)
    monkeypatch.setattr(data_utils, "_urlopen", lambda url, timeout=None: response)
    with pytest.raises(OSError, match="broke off") as info:
        get_file("payload.bin", origin=origin, file_hash=SHA256)
    assert origin in str(info.value)
    assert os.listdir(cache_dir(tmp_path)) == []


def test_corrupted_cached_file_is_downloaded_again(tmp_path, served, capsys):
    cached = cache_dir(tmp_path) / "payload.bin"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(PAYLOAD[:-1] + b"X")
    assert get_file("payload.bin", origin=served, file_hash=SHA256) == str(cached)
    assert cached.read_bytes() == PAYLOAD
    out = capsys.readouterr().out
    assert "does not match" in out and "Downloading data from" in out


def test_cached_file_is_trusted_without_hash_and_force_download(tmp_path, served):
    cached = cache_dir(tmp_path) / "payload.bin"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"old")
    assert open(get_file("payload.bin", origin=served), "rb").read() == b"old"
    assert open(get_file("payload.bin", origin=served, force_download=True), "rb").read() == PAYLOAD


def test_no_network_error_names_url(tmp_path):
    origin = "https://example.org/x.npz"
    with pytest.raises(OSError, match="URL fetch failure on https://example.org/x.npz"):
        get_file("x.npz", origin=origin)
    assert os.listdir(cache_dir(tmp_path)) == []


def test_unwritable_cache_falls_back_to_temp_dir(tmp_path, served, monkeypatch):
    monkeypatch.setattr(data_utils.os, "access", lambda path, mode: False)
    monkeypatch.setattr(data_utils.tempfile, "gettempdir", lambda: str(tmp_path / "tmp"))
    path = get_file("payload.bin", origin=served)
    assert path == str(tmp_path / "tmp" / ".mitbadak" / "datasets" / "payload.bin")


def test_progress_redraws_one_line_on_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    progress = data_utils._ByteProgress(100, stream)
    progress.last_draw -= 1  # let the throttle allow a draw now
    progress.update(40)
    progress.finish(100)
    text = stream.getvalue()
    assert text.startswith("\r 40/100 [============>.................]")
    assert text.endswith("\r100/100 [==============================] - 0s\n")


def test_unknown_size_shows_bytes(monkeypatch, capsys):
    response = FakeResponse(PAYLOAD, 0)
    response.headers = {}
    monkeypatch.setattr(data_utils, "_urlopen", lambda url, timeout=None: response)
    get_file("p.bin", origin="https://example.org/p.bin", file_hash=SHA256)
    assert "256000 bytes" in capsys.readouterr().out


def test_extract_zip_and_refuse_escaping_members(tmp_path, monkeypatch):
    monkeypatch.setattr(data_utils, "_urlopen", urllib.request.urlopen)
    good = tmp_path / "good.zip"
    with zipfile.ZipFile(good, "w") as archive:
        archive.writestr("folder/a.txt", "hello")
    path = get_file("good.zip", origin=good.as_uri(), extract=True)
    assert (cache_dir(tmp_path) / "folder" / "a.txt").read_text() == "hello"
    assert path == str(cache_dir(tmp_path) / "good.zip")

    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("../escaped.txt", "x")
    with pytest.raises(ValueError, match="outside"):
        get_file("evil.zip", origin=evil.as_uri(), extract=True)
    assert not (tmp_path / "mitbadak_home" / "escaped.txt").exists()


def test_argument_errors():
    with pytest.raises(ValueError, match="origin"):
        get_file("x")
    with pytest.raises(ValueError, match="hash_algorithm"):
        get_file("x", origin="https://example.org/x", hash_algorithm="sha1")
