"""Adaptive polling: which charts an invocation reads, decided at no Spotify request.

A chart playlist changes about once a day, at nearly the same time of day for a given
chart. With adaptive polling the schedule fires every minute and each invocation reads
a chart only when one of these holds:

- **no history**: the chart has no flip learned yet (new chart, lost state, or none in
  the last ``history_days``): it is read on the plain interval, as a fixed schedule would;
- **window**: the invocation falls in the window around the chart's learned flip time and
  that day's flip has not been seen yet: it is read at every invocation (dense);
- **last flip**: the chart's latest flip came off its learned time (a chart moving its
  hour): a window around that flip's time too, so the new hour is caught at once;
- **retry**: the last read failed (Spotify did not answer, or Firehose refused its
  records): nothing else applies until a read succeeds, retried on the plain interval
  counted from the last answered read (interval x failures in a row);
- **safety**: the last read is ``safety_seconds`` old: read anyway (sparse), so that a
  flip off its usual hour is still caught.

A flip is learned from the chart's own reads: the last read that saw the previous
snapshot and the first read that saw the new one bracket it. Only brackets no wider
than the plain interval count (a flip caught by a safety read says little about its
hour). The learned time is the median (on the 24-hour circle) of the latest
``RECENT_FLIPS`` of them; the window opens ``window_seconds`` before it, widened by how far
those flips strayed from it, and closes as far after.

Everything here is a pure function of a chart's history, the settings and the clock
(epoch seconds); :class:`ReadSchedule` at the end keeps the histories in the producer's
state (``StateStore.load_schedule``/``save_schedule``). Reads are dated by Spotify's
``Date`` header (as the charts are); the clock is this machine's. In production the two
agree; a replay that serves old charts dates its reads in the past, so there every poll
finds every chart due, as a replay that jumps days between polls needs. A read Spotify did
not answer has no Spotify time: it does not move the chart's last read, it counts as a
failure (and for a chart never answered, this machine's clock spaces the retries). A last
read dated in the future (clocks apart, a replay moved back) counts as no read.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping, NamedTuple, Sequence

DAY = 86_400.0
# EventBridge fires "every minute" give or take some seconds, and reads are dated in
# whole seconds: a read due within this long is made now rather than a minute late.
EARLY_SECONDS = 30.0
# A flip seen up to this long before a window opened is taken as that window's flip, come
# early: the window has nothing left to catch. One seen earlier belongs to an earlier day
# (an off-hour flip late the day before must not close today's window).
EARLY_FLIP_SECONDS = 3600.0
# The learned time is the median of this many latest flips: one off-hour flip does not
# move it, a chart that moves its hour takes it along after three flips.
RECENT_FLIPS = 5
# A flip this far from the learned time is off-hour: it does not widen the window.
OFF_HOUR_SECONDS = 3600.0

NO_HISTORY, WINDOW, LAST_FLIP, RETRY, SAFETY, NOT_DUE, FIRST_READ = (
    "no history", "window", "last flip", "retry", "safety", "not due", "first read")


@dataclass(frozen=True)
class ScheduleSettings:
    interval_seconds: float = 900.0  # plain interval: no history yet, or after a failed read
    window_seconds: float = 180.0  # the dense window opens this long before the learned flip (at least)
    safety_seconds: float = 7200.0  # no chart goes unread longer than this
    history_days: int = 28  # flips older than this are forgotten


@dataclass(frozen=True)
class Flip:
    """A snapshot change, bracketed by two reads (epoch seconds)."""

    after: float  # the last read that saw the previous snapshot
    seen: float  # the first read that saw the new one

    @property
    def width(self) -> float:
        return self.seen - self.after

    @property
    def midpoint(self) -> float:
        return (self.after + self.seen) / 2


@dataclass(frozen=True)
class ChartHistory:
    """What the schedule keeps of one chart."""

    last_read: float | None = None  # the last read Spotify answered (its Date header)
    last_failed: bool = False  # the last read failed, or its records were not delivered
    failures: int = 0  # failed reads in a row
    failed_at: float | None = None  # this machine's clock at the last read Spotify did not answer
    snapshot_id: str | None = None  # the last snapshot seen
    seen_at: float | None = None  # when it was last seen
    flips: tuple[Flip, ...] = ()  # oldest first
    reads_day: str = ""  # UTC day of reads_today
    reads_today: int = 0


@dataclass(frozen=True)
class ReadResult:
    """One read of a chart, as the schedule learns from it."""

    playlist_id: str
    read_at: float  # epoch seconds (Spotify's Date header; the clock when the read failed)
    snapshot_id: str | None  # None: the read failed
    delivered: bool  # its records reached Firehose


@dataclass(frozen=True)
class LearnedFlip:
    seconds_of_day: float  # the learned flip time, seconds after midnight UTC
    margin: float  # the window reaches this far either side
    flips: int  # how many flips it was learned from


@dataclass(frozen=True)
class Window:
    start: float  # epoch seconds
    end: float
    centre: float
    spacing: float  # seconds between reads inside (0: every invocation)
    reason: str


class Decision(NamedTuple):
    read: bool
    reason: str


# -- learning -----------------------------------------------------------------------------

def seconds_of_day(moment: float) -> float:
    return moment % DAY


def circular_difference(a: float, b: float) -> float:
    """``a - b`` as times of day, in [-12 h, 12 h)."""
    return (a - b + DAY / 2) % DAY - DAY / 2


def recent_flips(history: ChartHistory, now: float, settings: ScheduleSettings) -> list[Flip]:
    """Flips of the last ``history_days`` (oldest first)."""
    oldest = now - settings.history_days * DAY
    return [f for f in history.flips if f.seen >= oldest]


def precise(flip: Flip, settings: ScheduleSettings) -> bool:
    """Caught by reads no further apart than the plain interval: it tells its hour."""
    return flip.width <= settings.interval_seconds + EARLY_SECONDS


def learned_flip(history: ChartHistory, now: float, settings: ScheduleSettings) -> LearnedFlip | None:
    """The chart's flip time learned from its latest precise flips; None without any."""
    flips = [f for f in recent_flips(history, now, settings) if precise(f, settings)][-RECENT_FLIPS:]
    if not flips:
        return None
    reference = seconds_of_day(flips[-1].midpoint)
    offsets = [circular_difference(seconds_of_day(f.midpoint), reference) for f in flips]
    centre = (reference + statistics.median(offsets)) % DAY
    # How far the usual flips strayed from the centre, each with its own uncertainty.
    strays = [abs(circular_difference(seconds_of_day(f.midpoint), centre)) + f.width / 2 for f in flips]
    spread = max((s for s in strays if s <= OFF_HOUR_SECONDS), default=0.0)
    return LearnedFlip(centre, settings.window_seconds + spread, len(flips))


def nearest_occurrence(time_of_day: float, now: float) -> float:
    """The epoch second nearest ``now`` that falls at ``time_of_day`` (UTC)."""
    return now + circular_difference(time_of_day, seconds_of_day(now))


def windows(history: ChartHistory, now: float, settings: ScheduleSettings) -> list[Window]:
    """Where the chart is read densely, around ``now``: its learned flip time, and its latest
    flip's time when that came off it (a moved hour)."""
    learned = learned_flip(history, now, settings)
    if learned is None:
        return []
    centre = nearest_occurrence(learned.seconds_of_day, now)
    found = [Window(centre - learned.margin, centre + learned.margin, centre, 0.0, WINDOW)]
    latest = recent_flips(history, now, settings)[-1]
    off_by = abs(circular_difference(seconds_of_day(latest.midpoint), learned.seconds_of_day))
    if off_by > learned.margin:
        # A wide bracket (a safety read caught it) is narrowed on the plain interval first.
        half = latest.width / 2 + settings.window_seconds
        spacing = 0.0 if precise(latest, settings) else settings.interval_seconds
        centre = nearest_occurrence(seconds_of_day(latest.midpoint), now)
        found.append(Window(centre - half, centre + half, centre, spacing, LAST_FLIP))
    return found


# -- deciding -----------------------------------------------------------------------------

def decide(history: ChartHistory, now: float, settings: ScheduleSettings) -> Decision:
    """Whether to read the chart at ``now``, and why."""
    if history.last_read is None or history.last_read > now + EARLY_SECONDS:
        if history.failed_at is not None and 0 <= now - history.failed_at < settings.interval_seconds - EARLY_SECONDS:
            return Decision(False, RETRY)  # never answered: not every minute either
        return Decision(True, FIRST_READ)
    elapsed = now - history.last_read
    if history.last_failed:
        return Decision(elapsed >= settings.interval_seconds * max(1, history.failures) - EARLY_SECONDS, RETRY)
    open_windows = windows(history, now, settings)
    if not open_windows:
        return Decision(elapsed >= settings.interval_seconds - EARLY_SECONDS, NO_HISTORY)
    for window in open_windows:
        if window.start <= now <= window.end and not flip_seen_for(history, window) \
                and elapsed >= window.spacing - EARLY_SECONDS:
            return Decision(True, window.reason)
    if elapsed >= settings.safety_seconds - EARLY_SECONDS:
        return Decision(True, SAFETY)
    return Decision(False, NOT_DUE)


def flip_seen_for(history: ChartHistory, window: Window) -> bool:
    """Whether the flip this window waits for has already been seen."""
    return bool(history.flips) and history.flips[-1].seen >= window.start - EARLY_FLIP_SECONDS


# -- recording ----------------------------------------------------------------------------

def record(history: ChartHistory, read: ReadResult, settings: ScheduleSettings) -> ChartHistory:
    """The chart's history after ``read``: a new snapshot after a known one is a flip."""
    day = datetime.fromtimestamp(read.read_at, timezone.utc).date().isoformat()
    counted = replace(history, reads_day=day, reads_today=(history.reads_today if history.reads_day == day else 0) + 1)
    if read.snapshot_id is None:  # Spotify did not answer: no Spotify time, one failure more
        return replace(counted, last_failed=True, failures=history.failures + 1, failed_at=read.read_at)
    updated = replace(counted, last_read=read.read_at, last_failed=not read.delivered,
                      failures=0 if read.delivered else 1, failed_at=None)
    flips = history.flips
    if history.snapshot_id not in (None, read.snapshot_id) and history.seen_at is not None \
            and history.seen_at < read.read_at:
        flips = flips + (Flip(history.seen_at, read.read_at),)
    oldest = read.read_at - settings.history_days * DAY
    return replace(updated, snapshot_id=read.snapshot_id, seen_at=read.read_at,
                   flips=tuple(f for f in flips if f.seen >= oldest))


# Statuses of ``producer.poll.PlaylistOutcome`` (that module imports this one).
_DELIVERED, _NOT_READ = ("changed", "unchanged"), "deferred"


def reads_of(outcomes: Iterable[Any], now: float) -> list[ReadResult]:
    """The reads a poll made, from its outcomes (``producer.poll.PlaylistOutcome``): a
    deferred chart was not read; a failed one without a snapshot is dated ``now``."""
    reads = []
    for outcome in outcomes:
        if outcome.status == _NOT_READ:
            continue
        read_at = datetime.fromisoformat(outcome.observed_at).timestamp() if outcome.observed_at else now
        seen = outcome.snapshot_id if outcome.observed_at else None
        reads.append(ReadResult(outcome.playlist.id, read_at, seen, outcome.status in _DELIVERED))
    return reads


# -- state --------------------------------------------------------------------------------

def histories_to_json(histories: Mapping[str, ChartHistory], settings: ScheduleSettings) -> dict[str, Any]:
    """The state object: every chart's history, and the settings it was kept with (so that
    readers such as the dashboard's health page learn the same flip times)."""
    return {"version": 1, "settings": asdict(settings),
            "charts": {pid: {**asdict(h), "flips": [[f.after, f.seen] for f in h.flips]}
                       for pid, h in histories.items()}}


def settings_from_json(raw: Any) -> ScheduleSettings:
    """The settings kept in the state object; the defaults if it has none readable."""
    try:
        return ScheduleSettings(**raw["settings"])
    except (KeyError, TypeError):
        return ScheduleSettings()


def histories_from_json(raw: Any) -> dict[str, ChartHistory]:
    """The histories kept in the state; a chart whose entry cannot be read starts afresh
    (no history: the plain interval), so a damaged state object costs reads, not changes."""
    charts = raw.get("charts") if isinstance(raw, dict) else None
    histories = {}
    for playlist_id, entry in (charts if isinstance(charts, dict) else {}).items():
        try:
            histories[playlist_id] = _history(entry)
        except (AttributeError, TypeError, ValueError):
            continue
    return histories


def _history(entry: Mapping[str, Any]) -> ChartHistory:
    def moment(value: Any) -> float | None:
        return None if value is None else float(value)

    snapshot_id = entry.get("snapshot_id")
    return ChartHistory(
        last_read=moment(entry.get("last_read")),
        last_failed=bool(entry.get("last_failed")),
        failures=int(entry.get("failures") or 0),
        failed_at=moment(entry.get("failed_at")),
        snapshot_id=None if snapshot_id is None else str(snapshot_id),
        seen_at=moment(entry.get("seen_at")),
        flips=tuple(Flip(float(after), float(seen)) for after, seen in entry.get("flips") or []),
        reads_day=str(entry.get("reads_day") or ""),
        reads_today=int(entry.get("reads_today") or 0),
    )


@dataclass
class ReadSchedule:
    """Adaptive polling for a poll: ``due`` picks the charts to read, ``record`` learns from
    what was read. The histories live in the producer's state (one object for all charts);
    the poll lease keeps polls from writing it at once."""

    settings: ScheduleSettings
    state: Any  # producer.state.StateStore (load_schedule/save_schedule)
    clock: Any = time.time
    logger: Any = None
    histories: dict[str, ChartHistory] = field(default_factory=dict)
    decisions: dict[str, Decision] = field(default_factory=dict)

    def due(self, playlists: Sequence[Any]) -> list[Any]:
        """The playlists to read now (the others wait; see ``decisions`` for why)."""
        raw = self.state.load_schedule()
        self.histories = histories_from_json(raw)
        if raw is None and self.logger is not None:
            self.logger.info("no polling history: every chart is read on the plain interval until it has one")
        now = self.clock()
        self.decisions = {p.id: decide(self.histories.get(p.id, ChartHistory()), now, self.settings)
                          for p in playlists}
        return [p for p in playlists if self.decisions[p.id].read]

    def record(self, outcomes: Iterable[Any], playlists: Sequence[Any]) -> None:
        """Learn from the poll's reads and keep the histories of the configured charts."""
        reads = reads_of(outcomes, self.clock())
        for read in reads:
            history = self.histories.get(read.playlist_id, ChartHistory())
            self.histories[read.playlist_id] = record(history, read, self.settings)
        if reads:
            configured = {p.id for p in playlists}
            self.state.save_schedule(histories_to_json(
                {pid: h for pid, h in self.histories.items() if pid in configured}, self.settings))
