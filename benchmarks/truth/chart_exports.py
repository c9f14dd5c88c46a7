"""Charts, movements, streams and per-track stats computed from charts.spotify.com CSV
exports alone: the truth the pipeline's views are checked against for imported charts.

Independent of every project module on purpose (the standard library's csv and zipfile
read the files; ``csv_charts`` holds the movement rules, also project-free). The rules
are those a chart watcher applies to the files, and snowflake/README.md states the same
for the views:

- A CHART is a file alias: the file name without its date (``regional-ar-daily``,
  ``regional-global-weekly``). Its EDITIONS are the dates of the files held, in order: a
  date without a file has no chart, and each edition is compared with the previous one
  held. The first edition held is all NEW.
- A TRACK is its Spotify id (the ``uri`` column); listed twice in one file, it counts
  once, at its best rank.
- ``missing_days``: calendar days between an edition and the previous one, minus the
  chart's cadence (1 day; 7 for a weekly chart), so consecutive editions miss 0.
- status, previous position, change, exits, movers and the per-track stats are
  ``csv_charts``'s (entry, peak, peak date, days at peak, editions on chart, last).
- streams: the file's ``streams`` of the track's row that edition (None where the file
  has no such column: viral charts); total_streams: their sum over the track's editions
  (None when no edition states any).
- Spotify's own ``previous_rank``, ``peak_rank`` and ``days_on_chart`` are NOT the truth
  of the files held: they count the chart's whole life at Spotify (see PLATFORM_NOTES).
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Iterator

from benchmarks.truth.csv_charts import DayChart, TrackStats, daily_charts, track_stats

FILE_NAME = re.compile(r"^(?P<alias>(?:regional|viral)-[a-z]+-(?:daily|weekly))-(?P<date>\d{4}-\d{2}-\d{2})\.csv$")
TRACK_URI = "spotify:track:"

Track = tuple[str, str]  # (track id, "") : the shape csv_charts' rules take


@dataclass(frozen=True)
class ExportTruth:
    alias: str
    charts: tuple[DayChart, ...]  # one per file date, in date order
    stats: dict[Track, TrackStats]
    streams: dict[tuple[date, str], int | None]  # (edition date, track id) -> streams
    total_streams: dict[str, int | None]  # track id -> sum over its editions

    @property
    def cadence_days(self) -> int:
        return 7 if self.alias.endswith("-weekly") else 1


def export_files(*paths: Path) -> Iterator[tuple[str, bytes]]:
    """(file name, bytes) of every export CSV under the given files, folders and zips."""
    for path in map(Path, paths):
        if path.is_dir():
            yield from export_files(*sorted(p for p in path.iterdir() if p.suffix in (".csv", ".zip")))
        elif path.suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                for name in sorted(archive.namelist()):
                    if FILE_NAME.match(Path(name).name):
                        yield Path(name).name, archive.read(name)
        elif FILE_NAME.match(path.name):
            yield path.name, path.read_bytes()


def read_exports(*paths: Path) -> dict[str, dict[date, dict[str, tuple[int, int | None]]]]:
    """alias -> date -> track id -> (best rank that date, its streams)."""
    charts: dict[str, dict[date, dict[str, tuple[int, int | None]]]] = defaultdict(dict)
    for name, data in export_files(*paths):
        match = FILE_NAME.match(name)
        rows: dict[str, tuple[int, int | None]] = {}
        for row in csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")):
            track = row["uri"].removeprefix(TRACK_URI)
            rank = int(row["rank"])
            streams = int(row["streams"]) if row.get("streams") not in (None, "") else None
            if track not in rows or rank < rows[track][0]:
                rows[track] = (rank, streams)
        charts[match["alias"]][date.fromisoformat(match["date"])] = rows
    return dict(charts)


def export_truth(alias: str, days: dict[date, dict[str, tuple[int, int | None]]]) -> ExportTruth:
    """The truth of one chart over every date held."""
    positions = {day: {(track, ""): rank for track, (rank, _) in rows.items()} for day, rows in days.items()}
    charts = daily_charts(positions, min(days), max(days))
    cadence = 7 if alias.endswith("-weekly") else 1
    charts = [replace(c, missing_days=None if c.previous_day is None else (c.day - c.previous_day).days - cadence)
              for c in charts]
    streams = {(day, track): value for day, rows in days.items() for track, (_, value) in rows.items()}
    totals: dict[str, int | None] = {}
    for (_, track), value in streams.items():
        if value is not None:
            totals[track] = (totals.get(track) or 0) + value
        else:
            totals.setdefault(track, None)
    return ExportTruth(alias, tuple(charts), track_stats(charts), streams, totals)


def all_truths(*paths: Path) -> dict[str, ExportTruth]:
    """Every chart of the given exports, by alias."""
    return {alias: export_truth(alias, days) for alias, days in sorted(read_exports(*paths).items())}
