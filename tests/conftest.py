"""Fixtures shared by every test folder (a local AWS endpoint and its resources), and
the test tiers.

The moto server runs in a child process for the whole session and is stopped
by pid at the end; each test gets its own bucket and delivery stream names.

Tiers: a marker says what a test needs besides Python (pyproject.toml lists them). A
test that requests one of the fixtures below gets its marker here; a test that starts
the resource another way (a child process) carries the marker itself. A test with none
is a unit test (marker ``unit``), and may start no server and no JVM: it fails if it
tries. Every test under tests/integration/ needs a resource.
"""
from __future__ import annotations

import socket
import subprocess
import uuid
from pathlib import Path

import pytest

from localdev.aws import (apply_environ, create_delivery_stream, delete_delivery_stream, local_aws_environ, moto_server,
                          restore_environ)
from localdev.process import ManagedProcess

RESOURCE_MARKERS = ("spark", "moto", "fakesnow", "spotify_server", "browser", "dashboard", "pip", "localstack")
MARKER_OF_FIXTURE = {
    "aws_endpoint": "moto",  # below
    "spark": "spark",  # below
    "localstack": "localstack",  # tests/integration/conftest.py
    "engine_url": "fakesnow",  # tests/snowflake, tests/spotify_charts
    "spotify": "spotify_server",  # tests/producer, tests/spotify_charts
    "server": "spotify_server",  # tests/local_spotify
    "dashboard": "dashboard",  # tests/spotify_charts/test_dashboard_security.py
}
# Programs a unit test may not start: a JVM (PySpark's launcher, the Glue job), a browser.
JVM_OR_BROWSER = frozenset({"spark-submit", "java", "glue_streaming.job", "chromium"})
INTEGRATION_FOLDER = Path(__file__).parent / "integration"


def pytest_collection_modifyitems(config, items):
    for item in items:
        for fixture in item.fixturenames:
            if fixture in MARKER_OF_FIXTURE and not item.get_closest_marker(MARKER_OF_FIXTURE[fixture]):
                item.add_marker(MARKER_OF_FIXTURE[fixture])
        if not any(item.get_closest_marker(marker) for marker in RESOURCE_MARKERS):
            if Path(item.path).is_relative_to(INTEGRATION_FOLDER):
                raise pytest.UsageError(f"{item.nodeid}: tests/integration/ holds integration tests only; "
                                        "a test that needs no resource belongs with its package's tests")
            item.add_marker("unit")


def _refuse(what: str):
    def refuse(*args, **kwargs):
        raise AssertionError(f"a unit test may not {what}: mark it with what it needs (tests/conftest.py)")
    return refuse


@pytest.fixture(autouse=True)
def unit_tests_start_no_server_and_no_jvm(request, monkeypatch):
    if request.node.get_closest_marker("unit"):
        monkeypatch.setattr(socket.socket, "listen", _refuse("listen on a socket (a server)"))
        monkeypatch.setattr(ManagedProcess, "start", _refuse("start a local server"))
        start = subprocess.Popen.__init__

        def popen(self, args, *rest, **kwargs):
            words = str(args).split() if isinstance(args, (str, bytes)) else [str(a) for a in args]
            if JVM_OR_BROWSER & {Path(word).name for word in words}:
                _refuse(f"start a JVM or a browser ({' '.join(words)[:80]})")()
            start(self, args, *rest, **kwargs)

        monkeypatch.setattr(subprocess.Popen, "__init__", popen)
    yield


@pytest.fixture(scope="session")
def aws_endpoint(tmp_path_factory):
    """A moto server; boto3 in this process points at it through AWS_ENDPOINT_URL."""
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with moto_server(log_path=str(log)) as url:
        previous = apply_environ(local_aws_environ(url))
        try:
            yield url
        finally:
            restore_environ(previous)


@pytest.fixture(scope="session")
def spark():
    """One local Spark session for every test that needs one (starting one takes seconds)."""
    from localdev.local_spark.session import local_session

    session = local_session("local[2]", driver_memory="1g", app_name="glue_streaming_tests")
    session.conf.set("spark.sql.shuffle.partitions", "4")
    yield session
    session.stop()


def unique_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def delivery_stream(aws_endpoint):
    """(bucket, stream) of a fresh raw bucket and a DirectPut stream into it."""
    bucket, stream = unique_name("raw"), unique_name("charts")
    create_delivery_stream(bucket, stream, prefix="raw/")
    yield bucket, stream
    delete_delivery_stream(stream)
