"""What each replayed playlist holds on a given simulated day.

A playlist is a market's real chart (``catalog``), optionally shifted by some days
(the synthetic extra playlists), with injected anomalies applied on top. Content
is a pure function of (playlist, chart day, anomalies), so it is cached, and the
``snapshot_id`` is a hash of that content: it changes exactly when content does.
"""
from __future__ import annotations

import base64
import bisect
import hashlib
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, time as time_of_day, timedelta, timezone
from functools import lru_cache
from typing import Callable

from local_spotify import catalog

CHART_LENGTH = 50

# What an entry of a playlist is. Anomalies REPLACE the chart entry at their position.
KIND_TRACK = "track"
KIND_NULL = "null"  # the entry's item is null
KIND_EPISODE = "episode"  # a podcast episode
KIND_LOCAL = "local"  # a local file (no Spotify id) of the chart track it replaces
KIND_UNAVAILABLE = "unavailable"  # the chart track, not playable in any market
# The chart track in an entry that breaks the API's promises ("poison:<how>").
KIND_POISON = "poison"
POISON_ADDED_AT_GARBAGE = "added_at_garbage"  # added_at "garbage"
POISON_ADDED_AT_NUMBER = "added_at_number"  # added_at an epoch number
POISON_ENTRY_NOT_OBJECT = "entry_not_object"  # the entry is a string
POISON_ITEM_NOT_OBJECT = "item_not_object"  # the track is a string (its uri)
POISON_ARTIST_NOT_OBJECT = "artist_not_object"  # the first artist is a string (its name)
POISON_ALBUM_NOT_OBJECT = "album_not_object"  # the album is a list
POISONS = (POISON_ADDED_AT_GARBAGE, POISON_ADDED_AT_NUMBER, POISON_ENTRY_NOT_OBJECT, POISON_ITEM_NOT_OBJECT,
           POISON_ARTIST_NOT_OBJECT, POISON_ALBUM_NOT_OBJECT)
MAX_LENGTH = 10_000  # Spotify's own limit on a playlist's entries


class ReplayError(ValueError):
    """A date, playlist or anomaly request the replay cannot serve."""


# --- market history -------------------------------------------------------


@dataclass(frozen=True)
class MarketHistory:
    """One market's charts by data day, and when each charted track's current run began."""

    label: str
    days: tuple[date, ...]
    charts: dict[date, tuple[catalog.ChartTrack, ...]]
    run_starts: dict[date, dict[str, date]]

    def has_chart(self, day: date) -> bool:
        """Whether the data holds a chart of ``day`` (4 days inside the range are missing)."""
        return day in self.charts

    def data_day(self, day: date) -> date:
        """The data day whose chart is live on ``day``: ``day`` itself, or the last day
        before it when ``day`` is missing from the data (same rule as ``catalog.chart_on``)."""
        index = bisect.bisect_right(self.days, day) - 1
        if index < 0:
            raise ReplayError(f"no chart for {self.label} on or before {day}")
        return self.days[index]


@lru_cache(maxsize=None)
def _track_id(song: str, artists: tuple[str, ...]) -> str:
    return catalog.spotify_id("track", song, *artists)


def track_id(track: catalog.ChartTrack) -> str:
    """``track.track_id``, computed once per song (each row of a chart would hash again)."""
    return _track_id(track.song, track.artists)


def _build_history(label: str) -> MarketHistory:
    charts = catalog.load_market(label)
    days = tuple(sorted(charts))
    run_starts: dict[date, dict[str, date]] = {}
    previous: dict[str, date] = {}
    for day in days:
        # A track continues its run if it was on the previous data day's chart
        # (a missing day holds the chart, so it does not break a run).
        current = {}
        for t in charts[day]:
            tid = track_id(t)
            current[tid] = previous.get(tid, day)
        run_starts[day] = current
        previous = current
    return MarketHistory(label, days, charts, run_starts)


_history_lock = threading.Lock()
_histories: dict[str, MarketHistory] = {}


def market_history(label: str) -> MarketHistory:
    """The history of one market, loaded on first use (about 0.3 s) and kept."""
    history = _histories.get(label)
    if history is None:
        with _history_lock:  # concurrent first requests load a market once
            history = _histories.get(label)
            if history is None:
                history = _histories[label] = _build_history(label)
    return history


# --- playlists --------------------------------------------------------------


@dataclass(frozen=True)
class PlaylistSource:
    """A served playlist: a market's chart, ``shift_days`` ahead of the simulated date."""

    id: str
    name: str
    market: str
    shift_days: int = 0
    description: str = ""


def build_playlists(extra: int = 0) -> tuple[PlaylistSource, ...]:
    """The 10 market playlists (real ids and names), then ``extra`` synthetic ones.

    Synthetic playlist ``i`` replays market ``i % 10`` shifted ``7 * (i // 10 + 1)``
    days ahead, under a deterministic id, so 40 extras give 50 distinct playlists.
    """
    if extra < 0:
        raise ReplayError("extra_playlists must be >= 0")
    playlists = [
        PlaylistSource(m.playlist_id, m.name, m.label, 0, f"The daily Top 50 of {m.label} (replayed).")
        for m in catalog.MARKETS
    ]
    for i in range(extra):
        market = catalog.MARKETS[i % len(catalog.MARKETS)]
        shift = 7 * (i // len(catalog.MARKETS) + 1)
        playlists.append(
            PlaylistSource(
                catalog.spotify_id("playlist", "synthetic", str(i)),
                f"{market.name} (replay +{shift} days)",
                market.label,
                shift,
                f"Synthetic: the {market.label} chart {shift} days ahead of the simulated date.",
            )
        )
    return tuple(playlists)


# --- anomalies --------------------------------------------------------------


_POSITION_LISTS = ("null_positions", "episode_positions", "local_positions", "unavailable_positions")


@dataclass(frozen=True)
class Anomalies:
    """Content anomalies of one playlist. Positions are 1-based; each REPLACES the
    entry at its position, so every other entry keeps its position. ``length`` makes
    the playlist that long: extra entries (past the chart's 50) are tracks that were
    on the same chart before; a shorter length cuts the chart. ``poison`` maps a position
    to how its entry breaks the API's promises (one of POISONS). ``loop_next``: the last
    page's ``next`` points back to the first page (a server bug that never ends a read)."""

    null_positions: tuple[int, ...] = ()
    episode_positions: tuple[int, ...] = ()
    local_positions: tuple[int, ...] = ()
    unavailable_positions: tuple[int, ...] = ()
    length: int | None = None
    poison: tuple[tuple[int, str], ...] = ()
    loop_next: bool = False

    @classmethod
    def from_json(cls, data: dict) -> "Anomalies":
        unknown = set(data) - {*_POSITION_LISTS, "length", "poison", "loop_next", "playlist_id"}
        if unknown:
            raise ReplayError(f"unknown anomaly fields: {', '.join(sorted(unknown))}")

        def positions(name: str) -> tuple[int, ...]:
            values = data.get(name) or []
            if not isinstance(values, list) or not all(_is_int(v) for v in values):
                raise ReplayError(f"{name} must be a list of integers")
            return tuple(sorted(set(values)))

        length = data.get("length")
        if length is not None and (not _is_int(length) or not 0 <= length <= MAX_LENGTH):
            raise ReplayError(f"length must be an integer from 0 to {MAX_LENGTH}")
        loop_next = data.get("loop_next", False)
        if not isinstance(loop_next, bool):
            raise ReplayError("loop_next must be true or false")
        anomalies = cls(*(positions(name) for name in _POSITION_LISTS), length,
                        _poison_from_json(data.get("poison")), loop_next)
        anomalies.check()
        return anomalies

    def to_json(self) -> dict:
        return {
            **{name: list(getattr(self, name)) for name in _POSITION_LISTS},
            "length": self.length,
            "poison": {str(position): how for position, how in self.poison},
            "loop_next": self.loop_next,
        }

    def replaced_kinds(self) -> dict[int, str]:
        kinds: dict[int, str] = {}
        for kind, positions in (
            (KIND_NULL, self.null_positions),
            (KIND_EPISODE, self.episode_positions),
            (KIND_LOCAL, self.local_positions),
            (KIND_UNAVAILABLE, self.unavailable_positions),
        ):
            for position in positions:
                kinds[position] = kind
        for position, how in self.poison:
            kinds[position] = f"{KIND_POISON}:{how}"
        return kinds

    def check(self) -> None:
        total = self.length if self.length is not None else CHART_LENGTH
        seen: set[int] = set()
        poisoned = tuple(position for position, _ in self.poison)
        for positions in (*(getattr(self, name) for name in _POSITION_LISTS), poisoned):
            for position in positions:
                if not 1 <= position <= total:
                    raise ReplayError(f"position {position} is outside the playlist (1..{total})")
                if position in seen:
                    raise ReplayError(f"position {position} has two anomalies")
                seen.add(position)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _poison_from_json(value) -> tuple[tuple[int, str], ...]:
    """``{"7": "added_at_garbage", ...}`` -> ((7, "added_at_garbage"), ...), by position."""
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise ReplayError('poison must map positions to how they are poisoned, e.g. {"7": "added_at_garbage"}')
    pairs = []
    for position, how in value.items():
        if not str(position).isdigit():
            raise ReplayError(f"poison position {position!r} is not a positive integer")
        if how not in POISONS:
            raise ReplayError(f"poison {how!r} is not one of {', '.join(POISONS)}")
        pairs.append((int(position), how))
    return tuple(sorted(pairs))


NO_ANOMALIES = Anomalies()


# --- content ----------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One entry of a playlist: what it is, the chart track behind it (``None`` for
    an episode), and the date it was added."""

    position: int
    kind: str
    track: catalog.ChartTrack | None
    added_on: date


@dataclass(frozen=True)
class PlaylistContent:
    playlist: PlaylistSource
    chart_day: date  # the data day whose chart is served (shifted, gaps held)
    entries: tuple[Entry, ...]
    snapshot_id: str = field(default="")
    loop_next: bool = False  # the last page's next points back to the first (see Anomalies)


@lru_cache(maxsize=4096)
def playlist_content(playlist: PlaylistSource, day: date, anomalies: Anomalies = NO_ANOMALIES) -> PlaylistContent:
    """What ``playlist`` holds on simulated ``day``; cached, since it is a pure function."""
    history = market_history(playlist.market)
    shift = timedelta(days=playlist.shift_days)
    chart_day = history.data_day(day + shift)
    starts = history.run_starts[chart_day]
    rows = [(t, starts[track_id(t)] - shift) for t in history.charts[chart_day]]

    length = anomalies.length if anomalies.length is not None else len(rows)
    if length > len(rows):
        rows.extend(_earlier_tracks(history, chart_day, length - len(rows), shift))
    rows = rows[:length]

    kinds = anomalies.replaced_kinds()
    entries = []
    for position, (track, added_on) in enumerate(rows, start=1):
        kind = kinds.get(position, KIND_TRACK)
        # A null entry or an episode carries nothing of the chart track it replaces.
        carried = None if kind in (KIND_NULL, KIND_EPISODE) else track
        entries.append(Entry(position, kind, carried, added_on))
    entries = tuple(entries)
    # A looping next is not content: the snapshot stays what the entries make it.
    return PlaylistContent(playlist, chart_day, entries, snapshot_id(playlist.id, entries), anomalies.loop_next)


def _earlier_tracks(history: MarketHistory, chart_day: date, count: int, shift: timedelta):
    """``count`` tracks that were on this chart on earlier days (nearest first, then later
    days if the past runs out), each added on its last run's start. Each track comes once,
    until every track of the market's history has come: then they come again in the same
    order (a playlist may hold a track twice), so any length up to MAX_LENGTH can be filled."""
    index = history.days.index(chart_day)
    taken = {track_id(t) for t in history.charts[chart_day]}
    order = list(range(index - 1, -1, -1)) + list(range(index + 1, len(history.days)))
    found = []
    for i in order:
        day = history.days[i]
        for track in history.charts[day]:
            tid = track_id(track)
            if tid not in taken:
                taken.add(tid)
                found.append((track, history.run_starts[day][tid] - shift))
                if len(found) == count:
                    return found
    if not found:
        raise ReplayError(f"the {history.label} chart has no other tracks to fill the playlist")
    return [found[i % len(found)] for i in range(count)]


def snapshot_id(playlist_id: str, entries: tuple[Entry, ...]) -> str:
    """A deterministic id of the playlist's content (its entries in order)."""
    digest = hashlib.sha256(playlist_id.encode())
    for entry in entries:
        identity = track_id(entry.track) if entry.track else ""
        digest.update(f"\x1e{entry.kind}\x1f{identity}\x1f{entry.added_on.isoformat()}".encode())
    # Spotify's snapshot ids are opaque base64 strings of about this length.
    return base64.b64encode(b"\x00\x00\x00\x01" + digest.digest()[:20]).decode()


# --- simulated clock --------------------------------------------------------


class SimulatedClock:
    """The current chart date: ``start`` plus ``speed`` simulated days per real second
    (0: it moves only when told), plus any days it was advanced.

    :meth:`now` is the simulated instant the server's ``Date`` header carries. With a
    speed, simulated time runs ``speed`` days per real second; without one, time runs at
    real speed from where it was put: a day starts at 00:00:00 UTC when the clock is set or
    advanced to it, or at the instant given to :meth:`set_instant` (held at 23:59:59.999 if
    the day lasts longer), so the instant is always on the day.
    """

    def __init__(self, start: date = catalog.FIRST_DATE, speed: float = 0.0, now: Callable[[], float] = time.monotonic):
        if speed < 0:
            raise ReplayError("speed must be >= 0")
        self._now = now
        self._lock = threading.Lock()
        self._base_date = check_date(start)
        self._base_seconds = 0.0  # time of day at the base, seconds after midnight
        self._base_time = now()
        self._speed = float(speed)

    @property
    def speed(self) -> float:
        return self._speed

    def today(self) -> date:
        with self._lock:
            return self._today()

    def _today(self) -> date:
        elapsed_days = int((self._base_seconds / 86_400) + (self._now() - self._base_time) * self._speed)
        return self._base_date + timedelta(days=elapsed_days)

    def now(self) -> datetime:
        """The simulated instant (UTC): on ``today()``, with a time of day (see the class)."""
        with self._lock:
            return self._instant()

    def _instant(self) -> datetime:
        elapsed = max(0.0, self._now() - self._base_time)
        if self._speed > 0:
            offset = timedelta(seconds=self._base_seconds) + timedelta(days=elapsed * self._speed)
        else:
            offset = timedelta(seconds=min(self._base_seconds + elapsed, 86_399.999))
        return datetime.combine(self._base_date, time_of_day(), tzinfo=timezone.utc) + offset

    def set_date(self, day: date) -> None:
        day = check_date(day)
        with self._lock:
            self._base_date, self._base_seconds, self._base_time = day, 0.0, self._now()

    def set_instant(self, moment: datetime) -> datetime:
        """Put the clock at ``moment`` (timezone-aware); time runs on from there as usual."""
        if moment.tzinfo is None:
            raise ReplayError("the instant needs a time zone (e.g. 2023-06-01T14:00:00Z)")
        moment = moment.astimezone(timezone.utc)
        day = check_date(moment.date())
        seconds = (moment - datetime.combine(day, time_of_day(), tzinfo=timezone.utc)).total_seconds()
        with self._lock:
            self._base_date, self._base_seconds, self._base_time = day, seconds, self._now()
            return self._instant()

    def advance(self, days: int) -> date:
        with self._lock:
            check_date(self._today() + timedelta(days=days))
            self._base_date += timedelta(days=days)
            if self._speed == 0:  # the new day starts at midnight (with a speed, time runs on)
                self._base_seconds, self._base_time = 0.0, self._now()
            return self._today()

    def set_speed(self, speed: float) -> None:
        if speed < 0:
            raise ReplayError("speed must be >= 0")
        with self._lock:
            self._base_date, self._base_seconds, self._base_time = self._today(), 0.0, self._now()
            self._speed = float(speed)


def check_date(day: date) -> date:
    if day < catalog.FIRST_DATE:
        raise ReplayError(f"the charts start on {catalog.FIRST_DATE}; {day} is before that")
    return day
