"""Shared fixtures for the dataset tests: no network, no real home folder, no leaked settings."""
from __future__ import annotations

import urllib.error
from pathlib import Path

import pytest

from mitbadak.datasets import set_data_dir
from mitbadak.utils import data_utils

# The canonical MNIST IDX files kept beside the repository (see its README.md).
SHARED_DATASETS = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"


def _no_network(url, *args, **kwargs):
    raise urllib.error.URLError(f"network disabled in tests (asked for {url})")


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Point every home and cache at tmp_path and make any download fail like an offline machine."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("MITBADAK_HOME", str(tmp_path / "mitbadak_home"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.delenv("MITBADAK_DATASETS", raising=False)
    monkeypatch.setattr(data_utils, "_urlopen", _no_network)
    set_data_dir(None)
    yield tmp_path
    set_data_dir(None)


@pytest.fixture
def shared_datasets() -> Path:
    """The folder holding mnist/ with the real IDX files; skips when this checkout lacks it."""
    if not (SHARED_DATASETS / "mnist").is_dir():
        pytest.skip(f"real MNIST not available: {SHARED_DATASETS / 'mnist'} does not exist")
    return SHARED_DATASETS


@pytest.fixture(scope="session")
def real_mnist():
    """Real MNIST loaded once through the offline data-dir setting; skips when it is absent."""
    if not (SHARED_DATASETS / "mnist").is_dir():
        pytest.skip(f"real MNIST not available: {SHARED_DATASETS / 'mnist'} does not exist")
    from mitbadak.datasets import mnist

    set_data_dir(SHARED_DATASETS)
    try:
        return mnist.load_data()
    finally:
        set_data_dir(None)
