"""Data folders for tests that start `govbuy serve` with its own embedded PostgreSQL."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bench import harness


@contextmanager
def embedded_data_folder() -> Iterator[Path]:
    """A data folder outside pytest's basetemp, whose parents pytest keeps at 0700 (and resets
    to it whenever another session starts): the embedded server runs as its own OS user when the
    tests run as root, and must reach its data folder. Its server is stopped afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="govbuy-embedded-"))
    try:
        yield folder / "data"
    finally:
        harness.stop_embedded(folder / "data")
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def data_dir() -> Iterator[Path]:
    with embedded_data_folder() as folder:
        yield folder
