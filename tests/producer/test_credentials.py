"""A user's PKCE refresh token in the producer, against the local Spotify server (which
rotates PKCE refresh tokens as Spotify does): refreshed without a client secret, each new
refresh token stored at once, and the stored one read again before a later refresh."""
from __future__ import annotations

import json
import time
import types

import boto3
import pytest
import requests
import spotipy.oauth2
from spotipy.cache_handler import MemoryCacheHandler

from producer.config import ConfigError, ProducerConfig
from producer.credentials import SecretRefreshTokens, spotify_credentials
from producer.spotify import READ_SCOPE, ChartReader, SpotifyAuthError, build_spotify
from tests.conftest import unique_name
from tests.producer.conftest import CLIENT_ID, WATCHED

GLOBAL = WATCHED[0].playlist_id


def user_refresh_token(server) -> str:
    """A refresh token as ``spotify-charts auth`` gets one (PKCE; the user approves at once)."""
    auth = spotipy.oauth2.SpotifyPKCE(client_id=CLIENT_ID, redirect_uri="http://127.0.0.1:9/callback",
                                      scope=READ_SCOPE, state="s", open_browser=False,
                                      cache_handler=MemoryCacheHandler())
    auth.OAUTH_AUTHORIZE_URL, auth.OAUTH_TOKEN_URL = server.authorize_url, server.token_url
    location = requests.get(auth.get_authorize_url(), allow_redirects=False, timeout=10).headers["Location"]
    auth.get_access_token(code=auth.parse_response_code(location), check_cache=False)
    return auth.cache_handler.get_cached_token()["refresh_token"]


class MemoryStore:
    """A refresh token store in memory, counting its reads and writes."""

    def __init__(self, value: str, fail: bool = False):
        self.value, self.fail = value, fail
        self.loads, self.saves = 0, []

    def load(self) -> str:
        self.loads += 1
        return self.value

    def save(self, refresh_token: str) -> None:
        if self.fail:
            raise ConnectionError("secrets manager unreachable")
        self.saves.append(refresh_token)
        self.value = refresh_token


def user_client(spotify, store, refresh_token=None):
    return build_spotify(client_id=CLIENT_ID, refresh_token=refresh_token or store.value, refresh_token_store=store,
                         api_url=spotify.api_url, token_url=spotify.token_url)


def test_a_rotated_token_is_stored_and_read_again_before_the_next_refresh(spotify, monkeypatch):
    first = user_refresh_token(spotify)
    store = MemoryStore(first)
    client = user_client(spotify, store)
    ChartReader(client).authenticate()  # no client secret anywhere: a PKCE refresh
    [second] = store.saves
    assert second != first and store.loads == 0  # the token it started from was current
    assert client.playlist(GLOBAL, fields="name")["name"] == "Top 50 - Global"

    # Meanwhile another container refreshes, rotating the stored token once more.
    ChartReader(user_client(spotify, store)).authenticate()
    third = store.value
    assert third != second

    # An hour later this container's access token has expired: it reads the stored token
    # first (its own, `second`, was retired by that rotation) and refreshes with it.
    later = time.time() + 3700
    monkeypatch.setattr(spotipy.oauth2, "time", types.SimpleNamespace(time=lambda: later))
    ChartReader(client).authenticate()
    assert store.loads == 1 and store.value not in (first, second, third)
    assert client.playlist(GLOBAL, fields="name")["name"] == "Top 50 - Global"


def test_a_token_that_cannot_be_stored_still_serves_this_container_and_says_so(spotify, caplog):
    store = MemoryStore(user_refresh_token(spotify), fail=True)
    client = user_client(spotify, store)
    ChartReader(client).authenticate()
    assert client.playlist(GLOBAL, fields="name")["name"] == "Top 50 - Global"
    [logged] = [r for r in caplog.records if r.levelname == "ERROR"]
    assert "could not store Spotify's new refresh token" in logged.getMessage()
    assert "spotify-charts auth" in logged.getMessage() and store.value not in caplog.text  # no token in the log


def test_a_retired_token_fails_with_what_to_do(spotify):
    token = user_refresh_token(spotify)
    ChartReader(user_client(spotify, MemoryStore(token))).authenticate()  # rotates: `token` is retired
    with pytest.raises(SpotifyAuthError, match="Refresh token revoked.*run `spotify-charts auth` again"):
        ChartReader(user_client(spotify, MemoryStore(token))).authenticate()


def test_the_secret_store_keeps_the_other_fields(aws_endpoint):
    secrets = boto3.client("secretsmanager")
    arn = secrets.create_secret(Name=unique_name("spotify"), SecretString=json.dumps(
        {"client_id": "id", "refresh_token": "old"}))["ARN"]
    store = SecretRefreshTokens(arn, secrets)
    assert store.load() == "old"
    store.save("new")
    assert json.loads(secrets.get_secret_value(SecretId=arn)["SecretString"]) == {"client_id": "id",
                                                                                  "refresh_token": "new"}
    assert store.load() == "new"  # read fresh, not from a cache


@pytest.mark.parametrize("value", [
    {"client_id": "id", "client_secret": "app-secret-value"},  # the app alone
    {"client_id": "id", "client_secret": "app-secret-value", "refresh_token": "user-refresh-value"},
    {"client_id": "id", "refresh_token": "user-refresh-value"},  # as spotify-charts auth stores it
])
def test_the_secret_s_three_shapes(aws_endpoint, env, value):
    arn = boto3.client("secretsmanager").create_secret(Name=unique_name("spotify"),
                                                       SecretString=json.dumps(value))["ARN"]
    config = ProducerConfig.from_env({**env, "SPOTIFY_SECRET_ARN": arn, "SPOTIFY_CLIENT_ID": "",
                                      "SPOTIFY_CLIENT_SECRET": ""})
    credentials = spotify_credentials(config)
    assert (credentials.client_id, credentials.client_secret, credentials.refresh_token) == \
        ("id", value.get("client_secret"), value.get("refresh_token"))
    assert "value" not in repr(credentials)  # secrets stay out of reprs (and so out of logs)


def test_a_secret_without_a_client_secret_or_a_refresh_token_is_refused(aws_endpoint, env):
    arn = boto3.client("secretsmanager").create_secret(Name=unique_name("spotify"),
                                                       SecretString=json.dumps({"client_id": "id"}))["ARN"]
    with pytest.raises(ConfigError, match="client_id and refresh_token"):
        spotify_credentials(ProducerConfig.from_env({**env, "SPOTIFY_SECRET_ARN": arn}))
