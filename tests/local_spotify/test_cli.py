"""``python -m local_spotify`` as a child process, as the local pipeline runs it."""
import subprocess
import sys
import time
from datetime import date

import pytest
import spotipy

from local_spotify import catalog
from localdev.local_spotify_process import LocalSpotifyProcess
from local_spotify.example import spotipy_client

pytestmark = pytest.mark.spotify_server  # the server as a child process


def test_help_lists_the_options():
    result = subprocess.run([sys.executable, "-m", "local_spotify", "--help"], capture_output=True, text=True,
                            timeout=60, check=True)
    for option in ("--port", "--speed", "--start-date", "--extra-playlists", "--latency-ms"):
        assert option in result.stdout


def test_child_process_serves_spotipy_moves_with_speed_and_stops(tmp_path):
    log = tmp_path / "local_spotify.log"
    env = {"LOCAL_SPOTIFY_CLIENT_ID": "cli-id", "LOCAL_SPOTIFY_CLIENT_SECRET": "cli-secret"}
    spotify = LocalSpotifyProcess("--start-date", "2024-01-01", "--speed", "20", "--latency-ms", "1",
                                  extra_playlists=3, env=env, log_path=log)
    with spotify:
        sp = spotipy_client(spotify.api_url, spotify.token_url, "cli-id", "cli-secret", retries=0)
        assert sp.playlist(catalog.MARKETS[0].playlist_id, fields="name") == {"name": "Top 50 - Global"}
        with pytest.raises(spotipy.SpotifyOauthError):  # the credentials came from the environment
            spotipy_client(spotify.api_url, spotify.token_url, "cli-id", "wrong", retries=0).playlist(
                catalog.MARKETS[0].playlist_id, fields="name")
        assert spotify.control.config()["playlists"] == 13
        # 20 simulated days per second: the date moves on its own.
        deadline = time.monotonic() + 10
        while spotify.control.date() == date(2024, 1, 1) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert spotify.control.date() > date(2024, 1, 1)
        spotify.control.configure(speed=0)
        frozen = spotify.control.date()
        time.sleep(0.2)
        assert spotify.control.date() == frozen
        process = spotify.process
    assert process.poll() is not None  # stopped by pid on exit
    printed = log.read_text()
    assert f"SPOTIFY_API_URL={spotify.api_url}" in printed and f"SPOTIFY_TOKEN_URL={spotify.token_url}" in printed
