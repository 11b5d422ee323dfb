"""Root test configuration: a clean library state around every test, the `slow` marker, MNIST.

- Every test starts with fresh automatic names (`dense`, `dense_1`, ...), floatx float32 and
  epsilon 1e-7, and the library's settings are put back afterwards.
- `@pytest.mark.slow` tests run only with `--runslow` or `MITBADAK_SLOW=1`.
- `mnist_dir` is the shared folder holding `mnist/` with the real IDX files (skips if absent).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False,
                     help="run tests marked @pytest.mark.slow (e.g. the real-MNIST accuracy runs)")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: long-running test (minutes); run with --runslow or MITBADAK_SLOW=1")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow") or os.environ.get("MITBADAK_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow test: run with --runslow or MITBADAK_SLOW=1")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def clean_session():
    """clear_session() and floatx float32 around each test, whatever the test changes."""
    from mitbadak import backend
    backend.clear_session()
    backend.set_floatx("float32")
    backend.set_epsilon(1e-7)
    yield
    backend.clear_session()
    backend.set_floatx("float32")
    backend.set_epsilon(1e-7)
    if hasattr(backend, "set_image_data_format"):
        backend.set_image_data_format("channels_last")


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The shared datasets folder (it holds mnist/); skips with the reason when it is absent."""
    if not (SHARED_DATASETS / "mnist").is_dir():
        pytest.skip(f"real MNIST not available: {SHARED_DATASETS / 'mnist'} does not exist")
    return SHARED_DATASETS
