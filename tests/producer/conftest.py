"""The producer against real spotipy over HTTP (local Spotify-compatible server)
and real boto3 against a local AWS endpoint (moto server)."""
from __future__ import annotations

import boto3
import pytest

import producer.handler
from local_spotify.catalog import MARKETS
from local_spotify.server import LocalSpotifyServer
from producer.config import ProducerConfig
from localdev.aws import create_delivery_stream, delete_delivery_stream
from tests.conftest import unique_name

# Test-only values the local server expects (not real credentials).
CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN = "producer-test-id", "producer-test-secret", "producer-test-refresh"
WATCHED = MARKETS[:3]  # global, us, gb
PLAYLISTS = ",".join(f"{m.playlist_id}:{m.label}" for m in WATCHED)


@pytest.fixture(scope="module")
def spotify():
    with LocalSpotifyServer(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, refresh_token=REFRESH_TOKEN) as server:
        yield server


@pytest.fixture
def env(spotify, aws_endpoint, monkeypatch):
    """Environment of a producer wired to fresh buckets and a fresh delivery stream."""
    spotify.control.reset()
    raw_bucket, stream, state_bucket = unique_name("raw"), unique_name("charts"), unique_name("state")
    create_delivery_stream(raw_bucket, stream)
    boto3.client("s3").create_bucket(Bucket=state_bucket)
    values = {
        "PLAYLISTS": PLAYLISTS,
        "DELIVERY_STREAM_NAME": stream,
        "STATE_BUCKET": state_bucket,
        "STATE_PREFIX": "producer-state/",
        "SPOTIFY_CLIENT_ID": CLIENT_ID,
        "SPOTIFY_CLIENT_SECRET": CLIENT_SECRET,
        "SPOTIFY_API_URL": spotify.api_url,
        "SPOTIFY_TOKEN_URL": spotify.token_url,
        "MOVEMENT_THRESHOLD": "5",
        "RAW_BUCKET": raw_bucket,  # for the tests' own reading; the producer does not read it
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(producer.handler, "_poller", None)  # each test builds its own clients
    yield values
    delete_delivery_stream(stream)


@pytest.fixture
def make_poller(env):
    """Build a poller from the environment as the handler does (optionally with other settings)."""

    def make(**overrides):
        environ = {**env, **overrides}
        return producer.handler.build_poller(ProducerConfig.from_env(environ))

    return make
