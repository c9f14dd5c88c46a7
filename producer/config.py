"""The producer's configuration, read from environment variables.

These names are an interface: the CloudFormation stack sets them and a test
checks that the template and this module agree (``ENV_VARS``).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping

DEFAULT_API_URL = "https://api.spotify.com/v1/"
DEFAULT_TOKEN_URL = "https://accounts.spotify.com/api/token"

# Every environment variable the producer reads, with whether the stack must set it.
ENV_VARS: dict[str, bool] = {
    "SPOTIFY_CLIENT_ID": False,  # or SPOTIFY_SECRET_ARN
    "SPOTIFY_CLIENT_SECRET": False,  # not needed with a PKCE refresh token
    "SPOTIFY_SECRET_ARN": False,  # Secrets Manager secret: JSON, see producer/credentials.py
    "SPOTIFY_REFRESH_TOKEN": False,  # user-authorized app (reads a user-owned mirror of a chart)
    "SPOTIFY_API_URL": False,
    "SPOTIFY_TOKEN_URL": False,
    "SPOTIFY_MARKET": False,  # market for is_playable; default: none
    "PLAYLISTS": True,  # comma-separated "id" or "id:label"
    "DELIVERY_STREAM_NAME": True,
    "STATE_BUCKET": True,
    "STATE_PREFIX": False,
    "MAX_CONCURRENCY": False,  # playlists fetched at once (default 8)
    "MOVEMENT_THRESHOLD": False,  # climbs/falls of at least this many places are movements (default 5)
}


class ConfigError(ValueError):
    """The producer's environment is incomplete or malformed."""


@dataclass(frozen=True)
class Playlist:
    id: str
    label: str


def parse_playlists(text: str) -> tuple[Playlist, ...]:
    """Parse ``PLAYLISTS``: comma-separated ``id`` or ``id:label`` (label defaults to the id)."""
    playlists = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        playlist_id, _, label = part.partition(":")
        playlist_id, label = playlist_id.strip(), label.strip()
        if not playlist_id:
            raise ConfigError(f"PLAYLISTS entry {part!r} has no playlist id")
        playlists.append(Playlist(playlist_id, label or playlist_id))
    ids = [p.id for p in playlists]
    if len(set(ids)) != len(ids):
        raise ConfigError("PLAYLISTS lists a playlist id twice")
    if not playlists:
        raise ConfigError("PLAYLISTS is empty: set it to comma-separated 'id' or 'id:label'")
    return tuple(playlists)


@dataclass(frozen=True)
class ProducerConfig:
    playlists: tuple[Playlist, ...]
    delivery_stream_name: str
    state_bucket: str
    state_prefix: str = "producer-state/"
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    secret_arn: str | None = None
    refresh_token: str | None = field(default=None, repr=False)
    api_url: str = DEFAULT_API_URL
    token_url: str = DEFAULT_TOKEN_URL
    market: str | None = None
    max_concurrency: int = 8
    movement_threshold: int = 5

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "ProducerConfig":
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        missing = [n for n, required in ENV_VARS.items() if required and not get(n)]
        if missing:
            raise ConfigError(f"missing environment variables: {', '.join(missing)}")
        if not get("SPOTIFY_SECRET_ARN") and not (
                get("SPOTIFY_CLIENT_ID") and (get("SPOTIFY_CLIENT_SECRET") or get("SPOTIFY_REFRESH_TOKEN"))):
            raise ConfigError("set SPOTIFY_SECRET_ARN, or SPOTIFY_CLIENT_ID with SPOTIFY_CLIENT_SECRET "
                              "and/or SPOTIFY_REFRESH_TOKEN")
        prefix = get("STATE_PREFIX") or "producer-state/"
        try:
            max_concurrency = int(get("MAX_CONCURRENCY") or 8)
            threshold = int(get("MOVEMENT_THRESHOLD") or 5)
        except ValueError as error:
            raise ConfigError(f"MAX_CONCURRENCY and MOVEMENT_THRESHOLD must be integers: {error}") from None
        if max_concurrency < 1 or threshold < 1:
            raise ConfigError("MAX_CONCURRENCY and MOVEMENT_THRESHOLD must be at least 1")
        return cls(
            playlists=parse_playlists(get("PLAYLISTS") or ""),
            delivery_stream_name=get("DELIVERY_STREAM_NAME"),
            state_bucket=get("STATE_BUCKET"),
            state_prefix=prefix if prefix.endswith("/") else prefix + "/",
            client_id=get("SPOTIFY_CLIENT_ID"),
            client_secret=get("SPOTIFY_CLIENT_SECRET"),
            secret_arn=get("SPOTIFY_SECRET_ARN"),
            refresh_token=get("SPOTIFY_REFRESH_TOKEN"),
            api_url=_with_slash(get("SPOTIFY_API_URL") or DEFAULT_API_URL),
            token_url=get("SPOTIFY_TOKEN_URL") or DEFAULT_TOKEN_URL,
            market=get("SPOTIFY_MARKET"),
            max_concurrency=max_concurrency,
            movement_threshold=threshold,
        )


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"
