"""One in-process local Spotify server per test module, reset before every test."""
import pytest

from local_spotify.example import spotipy_client
from local_spotify.server import LocalSpotifyServer

# Test-only values the local server is configured to expect (not real credentials).
CLIENT_ID = "test-client-id"
CLIENT_SECRET = "test-client-secret"
REFRESH_TOKEN = "test-refresh-token"


@pytest.fixture(scope="module")
def server():
    with LocalSpotifyServer(
        extra_playlists=2, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, refresh_token=REFRESH_TOKEN
    ) as running:
        yield running


@pytest.fixture
def control(server):
    server.control.reset()
    return server.control


@pytest.fixture
def sp(server, control):
    """spotipy with no urllib3 retries: every status reaches the test as itself."""
    return spotipy_client(server.api_url, server.token_url, CLIENT_ID, CLIENT_SECRET, retries=0)


@pytest.fixture
def credentials():
    return {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "refresh_token": REFRESH_TOKEN}
