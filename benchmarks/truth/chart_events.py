"""Chart events (the alerts subscribers filter) computed from the CSV files alone: the truth
the producer's and the import Lambda's published events are checked against.

Independent of every project module on purpose (the standard library reads the files;
``chart_exports`` and ``csv_charts``, also project-free, list and read them). The rules,
as a chart watcher applies them to the files held (producer/chart_events.py states the same
for the code):

- A chart's EDITIONS are the dates it has a chart for, in order (a date without one is no
  chart); each edition is compared with the previous one. A track counts once per edition,
  at its best position.
- The FIRST edition has no events.
- NEW_ENTRY: on this edition, on no earlier one. RE_ENTRY: on this edition, not on the
  previous one, on an earlier one. EXIT: on the previous edition, not on this one (its
  position: the previous one).
- NEW_NUMBER_ONE: at position 1, where the previous edition had another track or none.
- TOP_10_ENTRY: at position 10 or better, and not at 10 or better on the previous edition.
- CLIMB: on both, at least N places higher (N: ``climb_places``).
- An export's artist is its credited string, whole (the views' artist key for exports).
"""
from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Hashable, Mapping

from benchmarks.truth.chart_exports import FILE_NAME, TRACK_URI, export_files
from benchmarks.truth.csv_charts import DATA_DIR, MARKET_FILES, read_days

TOP = 10
CLIMB_PLACES = 10


@dataclass(frozen=True, order=True)
class Event:
    chart: str
    chart_date: date
    event: str
    track: Hashable  # an export's track id; a playlist CSV's (song, artist)
    position: int  # on this edition; an EXIT's, on the previous one
    artist: str = ""  # an export's credited artist string


def edition_events(previous: Mapping[Hashable, int] | None, current: Mapping[Hashable, int],
                   earlier: set, climb_places: int = CLIMB_PLACES) -> list[tuple[str, Hashable, int]]:
    """(event, track, position) of ``current`` after ``previous`` (None: the first edition);
    ``earlier``: the tracks on any edition before ``current``."""
    if previous is None:
        return []
    found = []
    top_before = [track for track, position in previous.items() if position == 1]
    for track, position in current.items():
        before = previous.get(track)
        if position == 1 and top_before != [track]:
            found.append(("NEW_NUMBER_ONE", track, position))
        if before is None:
            found.append(("RE_ENTRY" if track in earlier else "NEW_ENTRY", track, position))
        if position <= TOP and (before is None or before > TOP):
            found.append(("TOP_10_ENTRY", track, position))
        if before is not None and before - position >= climb_places:
            found.append(("CLIMB", track, position))
    found += [("EXIT", track, position) for track, position in previous.items() if track not in current]
    return found


def events_of_chart(chart: str, days: Mapping[date, Mapping[Hashable, int]], climb_places: int = CLIMB_PLACES,
                    artists: Mapping[tuple[date, Hashable], str] | None = None) -> list[Event]:
    """Every event of one chart over the dates it has, in date order. ``artists``: the
    credited artist of a track on a date (an EXIT's, on the previous edition's date)."""
    events, earlier, previous, previous_day = [], set(), None, None
    for day in sorted(days):
        current = days[day]
        for name, track, position in edition_events(previous, current, earlier, climb_places):
            credited = (artists or {}).get((previous_day if name == "EXIT" else day, track), "")
            events.append(Event(chart, day, name, track, position, credited))
        earlier.update(current)
        previous, previous_day = current, day
    return events


def read_export_charts(*paths: Path) -> dict[str, tuple[dict[date, dict[str, int]], dict[tuple[date, str], str]]]:
    """alias -> (date -> track id -> best rank, (date, track id) -> credited artist string
    of the row at that rank)."""
    charts: dict[str, tuple[dict, dict]] = defaultdict(lambda: ({}, {}))
    for name, data in export_files(*paths):
        match = FILE_NAME.match(name)
        day = date.fromisoformat(match["date"])
        days, artists = charts[match["alias"]]
        rows: dict[str, int] = {}
        for row in csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")):
            track = row["uri"].removeprefix(TRACK_URI)
            rank = int(row["rank"])
            if track not in rows or rank < rows[track]:
                rows[track] = rank
                artists[(day, track)] = row["artist_names"]
        days[day] = rows
    return dict(charts)


def export_events(*paths: Path, climb_places: int = CLIMB_PLACES) -> list[Event]:
    """Every chart's events in the given exports (files, folders, zips), sorted."""
    return sorted(event for alias, (days, artists) in read_export_charts(*paths).items()
                  for event in events_of_chart(alias, days, climb_places, artists))


def market_events(label: str, first: date, last: date, climb_places: int = CLIMB_PLACES,
                  data_dir: Path = DATA_DIR) -> list[Event]:
    """A playlist market's events over its CSV's dates ``first`` to ``last``; tracks are the
    CSV's (song, artist)."""
    days = read_days(data_dir / f"spotify-streaming-top-50-{MARKET_FILES[label]}.csv.gz")
    return events_of_chart(label, {day: chart for day, chart in days.items() if first <= day <= last}, climb_places)
