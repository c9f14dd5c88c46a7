"""Chart events, the alerts people subscribe to: what happened on a chart between two of its
editions. Pure rules, no AWS: the producer (playlists) and the import Lambda (chart exports)
both call :func:`chart_events`, and the truth from the CSV files alone
(benchmarks/truth/chart_events.py) restates them without this code.

Conventions are the views' (snowflake/README.md): an EDITION is one chart the pipeline holds
(a playlist's delivered snapshot; an export's file for its date); each is compared with the
PREVIOUS edition held (a date without a chart is no chart: nobody exits on it, nobody
re-enters after it); a track is its id (entries without one, local files, are not tracked),
listed twice it counts once at its best position. The events of an edition:

* ``NEW_ENTRY``: on this edition, on no edition of the chart before it.
* ``RE_ENTRY``: on this edition, not on the previous one, but on an earlier one.
* ``EXIT``: on the previous edition, not on this one; its position is the last one it had.
* ``NEW_NUMBER_ONE``: at position 1 here, and the previous edition had another track (or
  none) at position 1.
* ``TOP_10_ENTRY``: at position 10 or better here, and not in the previous edition's top 10
  (a new entry straight into the top 10 is both a NEW_ENTRY and a TOP_10_ENTRY).
* ``CLIMB``: on both editions, at least ``climb_places`` places higher here.

A chart's FIRST edition has no events: the views show it all NEW, but nothing happened
then that anyone could be alerted to (200 NEW_ENTRY on a first import would be noise).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Container, Iterable, Mapping, Sequence

NEW_ENTRY, RE_ENTRY, EXIT = "NEW_ENTRY", "RE_ENTRY", "EXIT"
NEW_NUMBER_ONE, TOP_10_ENTRY, CLIMB = "NEW_NUMBER_ONE", "TOP_10_ENTRY", "CLIMB"
EVENTS = (NEW_ENTRY, RE_ENTRY, EXIT, NEW_NUMBER_ONE, TOP_10_ENTRY, CLIMB)
TOP_10 = 10
# On a Top 200 a few places is daily noise; ten is a move people notice. The stack's
# ClimbEventPlaces parameter sets it (CLIMB_EVENT_PLACES).
DEFAULT_CLIMB_PLACES = 10


@dataclass(frozen=True)
class Entry:
    """One track on one edition."""

    track_id: str
    position: int
    track_name: str | None = None
    artist_names: tuple[str, ...] = ()
    # What subscribers filter on, the views' artist_key: a Spotify artist id, or where a
    # source has none (an export credits one string per track) the credited name.
    artist_keys: tuple[str, ...] = ()


Edition = Mapping[str, Entry]  # track id -> the track's entry, at its best position


@dataclass(frozen=True)
class ChartEvent:
    event: str
    entry: Entry  # the track here; for an EXIT, as it was on the previous edition
    previous_position: int | None  # on the previous edition; None if it was not on it

    @property
    def track_id(self) -> str:
        return self.entry.track_id

    @property
    def position(self) -> int:
        """Its position on this edition; an EXIT's, the last one it had."""
        return self.entry.position

    @property
    def key(self) -> tuple[str, str]:
        return self.event, self.track_id


def artist_keys(ids: Sequence[str | None], names: Sequence[str | None]) -> tuple[str, ...]:
    """Each artist's key as the views make it: its id, else its name (COALESCE(id, name))."""
    return tuple(key for key in (artist_id or name for artist_id, name in zip(ids, names)) if key)


def edition(entries: Iterable[Entry]) -> dict[str, Entry]:
    """An edition from its entries: each track once, at its best position."""
    best: dict[str, Entry] = {}
    for entry in sorted(entries, key=lambda e: e.position):
        best.setdefault(entry.track_id, entry)
    return best


def chart_events(previous: Edition | None, current: Edition, seen_before: Container[str],
                 climb_places: int = DEFAULT_CLIMB_PLACES) -> list[ChartEvent]:
    """The events of ``current`` compared with ``previous`` (None: the chart's first
    edition, which has none). ``seen_before``: the tracks on any edition before ``current``."""
    if previous is None:
        return []
    events = []
    number_one_before = _number_one(previous)
    for entry in sorted(current.values(), key=lambda e: e.position):
        old = previous.get(entry.track_id)
        before = old.position if old else None
        if entry.position == 1 and number_one_before != entry.track_id:
            events.append(ChartEvent(NEW_NUMBER_ONE, entry, before))
        if old is None:
            events.append(ChartEvent(RE_ENTRY if entry.track_id in seen_before else NEW_ENTRY, entry, None))
        if entry.position <= TOP_10 and (before is None or before > TOP_10):
            events.append(ChartEvent(TOP_10_ENTRY, entry, before))
        if before is not None and before - entry.position >= climb_places:
            events.append(ChartEvent(CLIMB, entry, before))
    for entry in sorted(previous.values(), key=lambda e: e.position):
        if entry.track_id not in current:
            events.append(ChartEvent(EXIT, entry, entry.position))
    return events


def new_events(events: Iterable[ChartEvent], announced: Iterable[tuple[str, str]]) -> list[ChartEvent]:
    """``events`` less those ``announced`` for the same edition already ((event, track id)
    pairs): what a corrected file adds to what the files of its date announced."""
    done = {tuple(key) for key in announced}
    return [event for event in events if event.key not in done]


def _number_one(edition_: Edition) -> str | None:
    return next((entry.track_id for entry in edition_.values() if entry.position == 1), None)
