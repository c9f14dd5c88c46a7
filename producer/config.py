"""The producer's configuration, read from environment variables.

These names are an interface: the CloudFormation stack sets them and a test
checks that the template and this module agree (``ENV_VARS``).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable, Mapping

from producer.chart_events import DEFAULT_CLIMB_PLACES
from producer.schedule import ScheduleSettings
from producer.spotify import DEFAULT_RETRY_DELAY_SECONDS

from firehose.writer import CALL_TIMEOUT_SECONDS

DEFAULT_API_URL = "https://api.spotify.com/v1/"
DEFAULT_STATE_PREFIX = "producer-state/"
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
    "MAX_PAGES_PER_CHART": False,  # item pages read per chart at most (default 40)
    "MAX_ENTRIES_PER_CHART": False,  # entries a chart may have (default 1000)
    "DELIVERY_RESERVE_SECONDS": False,  # time kept back from reading for delivery and state (default 20)
    "SPOTIFY_RETRY_DELAY_MS": False,  # the first wait before retrying a Spotify 5xx, doubled each time (default 500)
    # Adaptive polling (producer/schedule.py); without POLL_SCHEDULE every poll reads every chart.
    "POLL_SCHEDULE": False,  # "adaptive" or "fixed" (default fixed)
    "POLL_INTERVAL_MINUTES": False,  # adaptive: plain interval of a chart with no history (default 15)
    "FLIP_WINDOW_MINUTES": False,  # adaptive: dense reads start this long before a learned flip (default 3)
    "SAFETY_INTERVAL_MINUTES": False,  # adaptive: no chart goes unread longer (default 120)
    "FLIP_HISTORY_DAYS": False,  # adaptive: flips are learned from this many days (default 28)
    # Chart events (producer/chart_events.py); without a topic none are published.
    "CHART_EVENTS_TOPIC_ARN": False,
    "CLIMB_EVENT_PLACES": False,  # a CLIMB event is a rise of at least this many places (default 10)
}

# Spotify's largest chart playlists hold 200 entries; a playlist five times that is not a
# chart, and reading it would cost a request per 50 entries on every change.
DEFAULT_MAX_ENTRIES_PER_CHART = 1000
# Pages of 50: the entry cap's 20 pages, with room for a server that sends short pages.
DEFAULT_MAX_PAGES_PER_CHART = 40
# Reading stops this long before the poll's deadline: the rest is for delivery (the state
# writes have the handler's safety margin). Less than one Firehose call's timeout would
# leave no time to deliver anything.
DEFAULT_DELIVERY_RESERVE_SECONDS = 20
DEFAULT_SPOTIFY_RETRY_DELAY_MS = round(DEFAULT_RETRY_DELAY_SECONDS * 1000)  # the reader's own default
# Integer settings: (environment variable, default, least value).
_INTEGER_SETTINGS = {
    "max_concurrency": ("MAX_CONCURRENCY", 8, 1),
    "movement_threshold": ("MOVEMENT_THRESHOLD", 5, 1),
    "max_pages_per_chart": ("MAX_PAGES_PER_CHART", DEFAULT_MAX_PAGES_PER_CHART, 1),
    "max_entries_per_chart": ("MAX_ENTRIES_PER_CHART", DEFAULT_MAX_ENTRIES_PER_CHART, 1),
    "delivery_reserve_seconds": ("DELIVERY_RESERVE_SECONDS", DEFAULT_DELIVERY_RESERVE_SECONDS, CALL_TIMEOUT_SECONDS),
    "climb_event_places": ("CLIMB_EVENT_PLACES", DEFAULT_CLIMB_PLACES, 1),
    "spotify_retry_delay_ms": ("SPOTIFY_RETRY_DELAY_MS", DEFAULT_SPOTIFY_RETRY_DELAY_MS, 0),
}
ADAPTIVE, FIXED = "adaptive", "fixed"


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
    state_prefix: str = DEFAULT_STATE_PREFIX
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    secret_arn: str | None = None
    refresh_token: str | None = field(default=None, repr=False)
    api_url: str = DEFAULT_API_URL
    token_url: str = DEFAULT_TOKEN_URL
    market: str | None = None
    max_concurrency: int = 8
    movement_threshold: int = 5
    max_pages_per_chart: int = DEFAULT_MAX_PAGES_PER_CHART
    max_entries_per_chart: int = DEFAULT_MAX_ENTRIES_PER_CHART
    delivery_reserve_seconds: int = DEFAULT_DELIVERY_RESERVE_SECONDS
    schedule: ScheduleSettings | None = None  # adaptive polling; None: every poll reads every chart
    events_topic_arn: str | None = None  # chart events' SNS topic; None: no events published
    climb_event_places: int = DEFAULT_CLIMB_PLACES
    spotify_retry_delay_ms: int = DEFAULT_SPOTIFY_RETRY_DELAY_MS

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
        return cls(
            playlists=parse_playlists(get("PLAYLISTS") or ""),
            delivery_stream_name=get("DELIVERY_STREAM_NAME"),
            state_bucket=get("STATE_BUCKET"),
            state_prefix=state_prefix(get("STATE_PREFIX")),
            client_id=get("SPOTIFY_CLIENT_ID"),
            client_secret=get("SPOTIFY_CLIENT_SECRET"),
            secret_arn=get("SPOTIFY_SECRET_ARN"),
            refresh_token=get("SPOTIFY_REFRESH_TOKEN"),
            api_url=_with_slash(get("SPOTIFY_API_URL") or DEFAULT_API_URL),
            token_url=get("SPOTIFY_TOKEN_URL") or DEFAULT_TOKEN_URL,
            market=get("SPOTIFY_MARKET"),
            **{name: _integer(get, *setting) for name, setting in _INTEGER_SETTINGS.items()},
            schedule=schedule_settings(get),
            events_topic_arn=get("CHART_EVENTS_TOPIC_ARN"),
        )


def state_prefix(value: str | None) -> str:
    """``STATE_PREFIX`` as a key prefix (ending with ``/``): the producer's and the import
    Lambda's, which write the sent ledger under it (firehose/ledger.py)."""
    prefix = value or DEFAULT_STATE_PREFIX
    return prefix if prefix.endswith("/") else prefix + "/"


def _integer(get, variable: str, default: int, least: int) -> int:
    text = get(variable)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(f"{variable} must be an integer, got {text!r}") from None
    if value < least:
        raise ConfigError(f"{variable} must be at least {least}, got {value}")
    return value


def schedule_settings(get: Callable[[str], str | None]) -> ScheduleSettings | None:
    """Adaptive polling's settings from the environment; None for a fixed schedule."""
    mode = (get("POLL_SCHEDULE") or FIXED).lower()
    if mode not in (ADAPTIVE, FIXED):
        raise ConfigError(f"POLL_SCHEDULE must be {ADAPTIVE} or {FIXED}, not {mode!r}")
    if mode == FIXED:
        return None
    defaults = ScheduleSettings()
    minutes = {
        "POLL_INTERVAL_MINUTES": defaults.interval_seconds / 60,
        "FLIP_WINDOW_MINUTES": defaults.window_seconds / 60,
        "SAFETY_INTERVAL_MINUTES": defaults.safety_seconds / 60,
        "FLIP_HISTORY_DAYS": defaults.history_days,
    }
    for name in minutes:
        try:
            minutes[name] = float(get(name) or minutes[name])
        except ValueError:
            raise ConfigError(f"{name} must be a number") from None
        if minutes[name] <= 0:
            raise ConfigError(f"{name} must be more than 0")
    if minutes["SAFETY_INTERVAL_MINUTES"] < minutes["POLL_INTERVAL_MINUTES"]:
        raise ConfigError("SAFETY_INTERVAL_MINUTES must be at least POLL_INTERVAL_MINUTES")
    return ScheduleSettings(
        interval_seconds=60 * minutes["POLL_INTERVAL_MINUTES"],
        window_seconds=60 * minutes["FLIP_WINDOW_MINUTES"],
        safety_seconds=60 * minutes["SAFETY_INTERVAL_MINUTES"],
        history_days=int(minutes["FLIP_HISTORY_DAYS"]),
    )


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"
