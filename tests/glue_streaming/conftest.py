"""One Spark session for every Glue job test that needs Spark (starting one takes seconds)."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def spark():
    from localdev.local_spark.session import local_session

    session = local_session("local[2]", driver_memory="1g", app_name="glue_streaming_tests")
    session.conf.set("spark.sql.shuffle.partitions", "4")
    yield session
    session.stop()


@pytest.fixture
def job_paths(tmp_path):
    """Fresh source/target/quarantine/checkpoint folders for one job."""
    paths = {name: tmp_path / name for name in ("raw", "curated", "quarantine", "checkpoint")}
    paths["raw"].mkdir()
    return paths

