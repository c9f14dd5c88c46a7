"""What the import Lambda keeps of each imported chart to work out its chart events
(``results/history/<alias>.json``, written by ``producer.import_events``).

Exports arrive in any order (an archive of old files, today's file, a corrected file), so
the history is kept by date, as the views keep editions:

* ``dates``: every date held, with the snapshot counted for it;
* ``seen``: for each track, on how many of those editions it is. "On an edition before
  this one" is then ``seen`` less this edition, for the newest edition (the only one that
  publishes, below), and a corrected file for any date moves the counts exactly: less the
  tracks of the file it replaces (the ledger keeps each file's tracks), plus its own;
* ``editions``: the entries of the two newest dates, which the newest edition's events
  compare (and a correction of the newest compares again);
* ``announced``: for those dates, the (event, track) pairs already worked out, so that a
  corrected file publishes only what no file of its date announced before.

Which editions publish events (:func:`add_edition`): an edition that is, once added, the
chart's newest and not its first. A file for an older date (a backfill, or one filling a
gap) changes the history but publishes nothing: its news is old, and what was published
for newer editions stands. A corrected file for the newest date publishes only the events
no file of its date did (:func:`producer.chart_events.new_events`; a file, its correction
and the file again announce nothing the third time); nothing is taken back.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from producer.chart_events import ChartEvent, Entry, chart_events, new_events

# The history keeps the entries of this many newest editions.
KEPT_EDITIONS = 2


@dataclass(frozen=True)
class HeldEdition:
    """One chart file as the history takes it."""

    chart_date: str
    snapshot_id: str
    entries: dict[str, Entry]  # an edition: track id -> entry at its best position
    # The tracks of the file this one replaces, as the ledger kept them (None: not replacing,
    # or a ledger written before it kept tracks).
    replaced_tracks: tuple[str, ...] | None = None


@dataclass
class ChartHistory:
    chart: str
    dates: dict[str, str] = field(default_factory=dict)  # chart date -> snapshot id counted
    seen: dict[str, int] = field(default_factory=dict)  # track id -> editions held listing it
    editions: dict[str, dict[str, Entry]] = field(default_factory=dict)  # the newest dates' entries
    announced: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # the newest dates' (event, track)

    def copy(self) -> "ChartHistory":
        return ChartHistory(self.chart, dict(self.dates), dict(self.seen), dict(self.editions), dict(self.announced))

    def to_json(self) -> dict[str, Any]:
        return {"chart": self.chart, "dates": self.dates, "seen": self.seen,
                "editions": {day: [[e.track_id, e.position, e.track_name, list(e.artist_names), list(e.artist_keys)]
                                   for e in sorted(entries.values(), key=lambda e: e.position)]
                             for day, entries in self.editions.items()},
                "announced": {day: [list(key) for key in keys] for day, keys in self.announced.items()}}

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> "ChartHistory":
        editions = {day: {row[0]: Entry(row[0], row[1], row[2], tuple(row[3]), tuple(row[4])) for row in rows}
                    for day, rows in body.get("editions", {}).items()}
        announced = {day: [tuple(key) for key in keys] for day, keys in body.get("announced", {}).items()}
        return cls(body["chart"], dict(body.get("dates", {})), dict(body.get("seen", {})), editions, announced)

    def previous_date(self, chart_date: str) -> str | None:
        """The latest date held before ``chart_date``."""
        return max((day for day in self.dates if day < chart_date), default=None)


def add_edition(history: ChartHistory, held: HeldEdition, climb_places: int) -> list[ChartEvent]:
    """Count ``held`` into ``history`` (in place) and return the events it publishes: none
    unless it is the newest edition and not the first. Adding what is already counted
    (a retried invocation) changes nothing and publishes nothing."""
    day = held.chart_date
    if history.dates.get(day) == held.snapshot_id:
        return []
    replaced = history.editions.get(day)
    if day in history.dates:  # a corrected file: its predecessor's tracks leave the counts
        _count(history.seen, replaced.keys() if replaced is not None else held.replaced_tracks or (), -1)
    _count(history.seen, held.entries.keys(), +1)
    history.dates[day] = held.snapshot_id
    history.editions[day] = held.entries
    newest = sorted(history.dates, reverse=True)[:KEPT_EDITIONS]
    history.editions = {d: entries for d, entries in history.editions.items() if d in newest}
    history.announced = {d: keys for d, keys in history.announced.items() if d in newest}
    previous_day = history.previous_date(day)
    if day != newest[0] or previous_day is None or previous_day not in history.editions:
        return []
    seen_before = {track for track, count in history.seen.items() if count - (track in held.entries) > 0}
    events = new_events(chart_events(history.editions[previous_day], held.entries, seen_before, climb_places),
                        history.announced.get(day, ()))
    history.announced[day] = sorted(set(history.announced.get(day, ())) | {event.key for event in events})
    return events


def _count(seen: dict[str, int], tracks, step: int) -> None:
    for track in tracks:
        count = seen.get(track, 0) + step
        if count > 0:
            seen[track] = count
        else:
            seen.pop(track, None)
