"""When each replayed playlist's chart of a day goes live: its flip.

By default every chart of day D goes live at 00:00:00 UTC of D (the server's behaviour
before flips existed; tests and the pipeline replay rely on it). A :class:`FlipSchedule`
can instead give each playlist its own time of day, as real chart playlists have:

- ``times``: a time of day per playlist, or ``SPREAD`` (each playlist gets one drawn
  from the seed, in whole minutes, so it is the same in every run);
- ``moves``: from a given day on, a playlist flips at another time of day (a chart that
  moves its hour);
- ``jitter_seconds``: each day's flip lands up to this far either side of its time;
- ``off_hour_rate``: the share of days on which the flip lands at any time of the day
  instead (an occasional off-hour flip).

Everything random comes from ``random.Random`` seeded with text (the seed, the playlist,
the day): deterministic across runs and processes. A flip always stays on its own day
(clamped to 00:00:00..23:59:59), so charts go live in date order.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time as time_of_day, timedelta, timezone
from typing import Any, Mapping

DAY_SECONDS = 86_400
SPREAD = "spread"
MIDNIGHT = "midnight"


class FlipScheduleError(ValueError):
    """A flip setting the server cannot use."""


@dataclass(frozen=True)
class FlipMove:
    playlist_id: str
    since: date  # from this chart day on
    seconds: int  # the new time of day, seconds after midnight UTC


@dataclass(frozen=True)
class FlipSchedule:
    times: Mapping[str, int] | str = MIDNIGHT  # playlist id -> seconds after midnight, SPREAD or MIDNIGHT
    moves: tuple[FlipMove, ...] = ()
    jitter_seconds: float = 0.0
    off_hour_rate: float = 0.0
    seed: int = 0

    def usual_seconds(self, playlist_id: str, day: date) -> int:
        """The playlist's planned time of day on ``day`` (before jitter), seconds after midnight."""
        moved = [m for m in self.moves if m.playlist_id == playlist_id and m.since <= day]
        if moved:
            return max(moved, key=lambda m: m.since).seconds
        if self.times == SPREAD:
            return 60 * random.Random(f"{self.seed}|time|{playlist_id}").randrange(DAY_SECONDS // 60)
        if self.times == MIDNIGHT:
            return 0
        return int(self.times.get(playlist_id, 0))

    def _draws(self, playlist_id: str, day: date) -> tuple[float, float, float]:
        """The day's three random numbers: off-hour or not, where off-hour, the jitter."""
        rng = random.Random(f"{self.seed}|day|{playlist_id}|{day.isoformat()}")
        return rng.random(), rng.uniform(0, DAY_SECONDS), rng.uniform(-1, 1)

    def is_off_hour(self, playlist_id: str, day: date) -> bool:
        return self._draws(playlist_id, day)[0] < self.off_hour_rate

    def offset(self, playlist_id: str, day: date) -> float:
        """Seconds after midnight of ``day`` at which the chart of ``day`` goes live."""
        off_hour, anywhere, jitter = self._draws(playlist_id, day)
        if off_hour < self.off_hour_rate:
            seconds = anywhere
        else:
            seconds = self.usual_seconds(playlist_id, day) + jitter * self.jitter_seconds
        return float(min(max(round(seconds), 0), DAY_SECONDS - 1))  # whole seconds, as HTTP dates are

    def flip_at(self, playlist_id: str, day: date) -> datetime:
        """The instant (UTC) the chart of ``day`` goes live on ``playlist_id``."""
        midnight = datetime.combine(day, time_of_day(), tzinfo=timezone.utc)
        return midnight + timedelta(seconds=self.offset(playlist_id, day))

    def live_day(self, playlist_id: str, instant: datetime) -> date:
        """The chart day live at ``instant``: its own date once that day's flip has passed."""
        day = instant.astimezone(timezone.utc).date()
        return day if instant >= self.flip_at(playlist_id, day) else day - timedelta(days=1)

    def to_json(self) -> dict[str, Any]:
        times = self.times if isinstance(self.times, str) else {p: clock_text(s) for p, s in self.times.items()}
        return {"flip_times": times, "flip_jitter_minutes": self.jitter_seconds / 60,
                "off_hour_rate": self.off_hour_rate, "flip_seed": self.seed,
                "flip_moves": [{"playlist": m.playlist_id, "from": m.since.isoformat(), "at": clock_text(m.seconds)}
                               for m in self.moves]}


def clock_text(seconds: float) -> str:
    """Seconds after midnight as ``HH:MM`` (``HH:MM:SS`` when not whole minutes)."""
    whole = int(seconds)
    text = f"{whole // 3600:02d}:{whole % 3600 // 60:02d}"
    return text if whole % 60 == 0 else f"{text}:{whole % 60:02d}"


def parse_clock(text: Any) -> int:
    """``HH:MM`` or ``HH:MM:SS`` as seconds after midnight."""
    try:
        parts = [int(p) for p in str(text).split(":")]
        if len(parts) not in (2, 3):
            raise ValueError
        hours, minutes, seconds = (parts + [0])[:3]
        moment = time_of_day(hours, minutes, seconds)
    except ValueError:
        raise FlipScheduleError(f"a time of day is HH:MM or HH:MM:SS, not {text!r}") from None
    return moment.hour * 3600 + moment.minute * 60 + moment.second


def schedule_from_json(data: Mapping[str, Any], resolve: Mapping[str, str],
                       current: FlipSchedule = FlipSchedule()) -> FlipSchedule:
    """``current`` with the flip settings of a control request or the command line.

    ``resolve`` maps what users may name a playlist by (its id, a market label) to its id.
    """
    times, moves = current.times, current.moves
    if "flip_times" in data:
        times = _times(data["flip_times"], resolve)
    if "flip_moves" in data:
        moves = _moves(data["flip_moves"], resolve)
    jitter = _number(data, "flip_jitter_minutes", current.jitter_seconds / 60, 0, 12 * 60) * 60
    rate = _number(data, "off_hour_rate", current.off_hour_rate, 0, 1)
    seed = data.get("flip_seed", current.seed)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise FlipScheduleError("flip_seed must be an integer")
    return FlipSchedule(times, moves, jitter, rate, seed)


def _times(value: Any, resolve: Mapping[str, str]) -> Mapping[str, int] | str:
    if value in (SPREAD, MIDNIGHT):
        return value
    if not isinstance(value, dict):
        raise FlipScheduleError(f'flip_times is "{SPREAD}", "{MIDNIGHT}" or {{"playlist or market": "HH:MM"}}')
    return {_playlist(name, resolve): parse_clock(text) for name, text in value.items()}


def _moves(value: Any, resolve: Mapping[str, str]) -> tuple[FlipMove, ...]:
    if not isinstance(value, list):
        raise FlipScheduleError('flip_moves is a list of {"playlist": ..., "from": "YYYY-MM-DD", "at": "HH:MM"}')
    moves = []
    for move in value:
        if not isinstance(move, dict) or set(move) != {"playlist", "from", "at"}:
            raise FlipScheduleError(f'a flip move is {{"playlist", "from", "at"}}, not {move!r}')
        try:
            since = date.fromisoformat(str(move["from"]))
        except ValueError:
            raise FlipScheduleError(f"flip move date {move['from']!r} is not YYYY-MM-DD") from None
        moves.append(FlipMove(_playlist(move["playlist"], resolve), since, parse_clock(move["at"])))
    return tuple(moves)


def _playlist(name: Any, resolve: Mapping[str, str]) -> str:
    if name not in resolve:
        raise FlipScheduleError(f"unknown playlist or market {name!r}")
    return resolve[name]


def _number(data: Mapping[str, Any], name: str, default: float, low: float, high: float) -> float:
    value = data.get(name, default)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not low <= value <= high:
        raise FlipScheduleError(f"{name} must be a number from {low:g} to {high:g}")
    return float(value)
