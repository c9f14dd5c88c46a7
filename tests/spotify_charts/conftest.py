"""Real parts for the monitoring tests: the local Spotify server replaying real charts,
the producer's handler with real spotipy and boto3 against moto (``aws_endpoint``, shared
by every test folder), and the local Snowflake engine (fakesnow) with the migrations."""
from __future__ import annotations

import os
import re
import sys
import uuid
from datetime import date
from pathlib import Path

import boto3
import pytest

import producer.handler
from firehose import contract
from local_spotify.catalog import MARKETS_BY_LABEL
from local_spotify.server import LocalSpotifyServer
from localdev.aws import apply_environ, read_records, restore_environ
from spotify_charts.stages import LocalLambdaContext
from snowflake.charts import connection
from localdev.local_snowflake.engine import fakesnow_server, local_environ
from snowflake.charts.migrate import default_variables, migrate
from tests.conftest import unique_name

# Values the local server expects: test-only, not real credentials.
CLIENT_ID, CLIENT_SECRET = "charts-cli-test-id", "charts-cli-test-secret"
LABELS = ("global", "us")
PLAYLISTS = ",".join(f"{MARKETS_BY_LABEL[label].playlist_id}:{label}" for label in LABELS)
CLI = [sys.executable, "-m", "spotify_charts"]
SCRIPT = Path(sys.executable).with_name("spotify-charts")  # the console script `make` installs
# What must never reach a terminal from the data: C0/C1 controls, DEL, bidi embeddings/overrides/isolates.
TERMINAL_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


class Producer:
    """The producer wired to the local Spotify server and fresh buckets on moto."""

    def __init__(self, spotify: LocalSpotifyServer, environ: dict[str, str]):
        self.spotify = spotify
        self.environ = environ

    @property
    def state_bucket(self) -> str:
        return self.environ["STATE_BUCKET"]

    @property
    def raw_bucket(self) -> str:
        return self.environ["RAW_BUCKET"]

    def poll(self) -> dict:
        """One invocation of the real handler (as the Lambda runs it)."""
        return producer.handler.lambda_handler({"source": "tests"}, LocalLambdaContext())

    def records(self, record_type: str | None = contract.CHART_ENTRY) -> list[dict]:
        """What Firehose landed: the chart entries (by default), the observations, or all (None)."""
        return read_records(self.raw_bucket, record_type=record_type)


@pytest.fixture(scope="module")
def spotify():
    with LocalSpotifyServer(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, start_date=date(2024, 3, 16)) as server:
        yield server


@pytest.fixture(scope="module")
def producer_env(spotify, aws_endpoint):
    """A producer environment (module-wide) with its own buckets and delivery stream."""
    from localdev.aws import create_delivery_stream, delete_delivery_stream

    spotify.control.reset()
    raw_bucket, stream, state_bucket = unique_name("raw"), unique_name("charts"), unique_name("state")
    create_delivery_stream(raw_bucket, stream, prefix="raw/")
    boto3.client("s3").create_bucket(Bucket=state_bucket)
    values = {
        "PLAYLISTS": PLAYLISTS, "DELIVERY_STREAM_NAME": stream, "STATE_BUCKET": state_bucket,
        "STATE_PREFIX": "producer-state/", "SPOTIFY_CLIENT_ID": CLIENT_ID, "SPOTIFY_CLIENT_SECRET": CLIENT_SECRET,
        "SPOTIFY_API_URL": spotify.api_url, "SPOTIFY_TOKEN_URL": spotify.token_url, "MOVEMENT_THRESHOLD": "5",
        "RAW_BUCKET": raw_bucket,  # for the tests' own reading; the producer does not read it
        "POWERTOOLS_METRICS_DISABLED": "true", "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
    previous = apply_environ(values)
    producer.handler._poller = None  # built again from this environment
    try:
        yield Producer(spotify, values)
    finally:
        producer.handler._poller = None
        restore_environ(previous)
        delete_delivery_stream(stream)


@pytest.fixture(scope="module")
def engine_url(tmp_path_factory):
    """A fakesnow server for the module, stopped by pid at its end."""
    log = tmp_path_factory.mktemp("fakesnow") / "fakesnow.log"
    with fakesnow_server(log_path=str(log)) as url:
        yield url


@pytest.fixture(scope="module")
def engine_environ(engine_url):
    """Environment of a fresh migrated database on the local engine (module-wide)."""
    values = {**local_environ(engine_url), "SNOWFLAKE_DATABASE": f"CHARTS_{uuid.uuid4().hex[:8].upper()}"}
    environ = {**os.environ, **values}
    with connection.connect(environ) as db:
        migrate(db, local=True, variables=default_variables(environ))
    previous = apply_environ(values)
    try:
        yield values
    finally:
        restore_environ(previous)


def child_environ(**extra: str) -> dict[str, str]:
    """This process's environment (AWS endpoint, producer, engine) for a CLI child process."""
    return {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), **extra}
