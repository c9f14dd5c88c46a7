"""Folders for the Glue job tests (their Spark session: ``spark`` in tests/conftest.py)."""
from __future__ import annotations

import pytest


@pytest.fixture
def job_paths(tmp_path):
    """Fresh source/target/quarantine/checkpoint folders for one job."""
    paths = {name: tmp_path / name for name in ("raw", "curated", "quarantine", "checkpoint")}
    paths["raw"].mkdir()
    return paths

