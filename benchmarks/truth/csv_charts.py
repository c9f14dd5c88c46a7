"""Daily charts, their movements and per-track stats computed from the CSV files alone:
the truth the pipeline's views are checked against.

Independent of every project module on purpose: the standard library's csv and gzip
read the files, and the definitions below are applied as a chart watcher reads a chart
(snowflake/README.md states the same rules for the views):

- A TRACK is a song by an artist: the CSV's (song, artist) pair, as written there.
- The chart of a date is that date's rows. A date without rows has no chart (a gap):
  nothing happens on it, nobody exits on it and nobody re-enters after it.
- A track listed twice on one date (the Japanese chart lists one song at 2 and 40 on
  5 days) counts ONCE that date, at its best (smallest) position.
- Each chart is compared with the previous chart in the window (gaps skipped);
  ``missing_days`` = calendar days between the two, minus 1.
- status: NEW (not on any earlier chart of the window), RE-ENTRY (on an earlier chart,
  not on the previous one), UP / DOWN / SAME (on the previous one); change =
  previous position - position (positive: climbed). The window's first chart is all NEW.
- Exits: the previous chart's tracks that are not on this one, at their position there.
- Biggest movers: tracks on both charts whose position changed; CLIMBER (change > 0)
  or FALLER, ranked by the size of the change, ties sharing a rank (SQL's RANK).
- Per track over the window: entry date and position (its first chart), peak (best
  position), peak date (the first date at the peak), days at peak, days on chart
  (charts it is on; gaps never count), last date and position.
"""
from __future__ import annotations

import csv
import gzip
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

# The data's files, by the chart label the pipeline gives each market (a fact about the
# files, written here again so that nothing of the project is read).
MARKET_FILES = {
    "global": "world", "us": "usa", "gb": "uk", "es": "spain", "it": "italy", "fr": "france",
    "mx": "mexico", "ar": "argentina", "jp": "japan", "kr": "south-korea",
}
DATA_DIR = Path(__file__).resolve().parents[2] / "local_spotify" / "data"

Track = tuple[str, str]  # (song, artist) as in the CSV


@dataclass(frozen=True)
class Row:
    position: int
    track: Track
    previous_position: int | None
    change: int | None
    status: str


@dataclass(frozen=True)
class Mover:
    direction: str  # CLIMBER or FALLER
    rank: int
    track: Track
    previous_position: int
    position: int
    change: int


@dataclass(frozen=True)
class DayChart:
    day: date
    previous_day: date | None
    missing_days: int | None  # None for the window's first chart
    rows: tuple[Row, ...]  # by position
    exits: tuple[tuple[int, Track], ...]  # (position on the previous chart, track), by position
    movers: tuple[Mover, ...]  # by direction, rank, track


@dataclass(frozen=True)
class TrackStats:
    entry_date: date
    entry_position: int
    peak_position: int
    peak_date: date
    days_at_peak: int
    days_on_chart: int
    last_date: date
    last_position: int


@dataclass(frozen=True)
class MarketTruth:
    label: str
    charts: tuple[DayChart, ...]  # one per date with rows, in date order
    stats: dict[Track, TrackStats]


def read_days(path: Path) -> dict[date, dict[Track, int]]:
    """Each date's chart: track -> its best position that date."""
    days: dict[date, dict[Track, int]] = defaultdict(dict)
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            chart = days[date.fromisoformat(row["date"])]
            track = (row["song"], row["artist"])
            position = int(row["position"])
            chart[track] = min(position, chart.get(track, position))
    return dict(days)


def _rank(moves: list[tuple[Track, int, int, int]]) -> list[tuple[int, tuple[Track, int, int, int]]]:
    """RANK() by the size of the change, biggest first; ties share a rank."""
    ordered = sorted(moves, key=lambda m: (-abs(m[3]), m[0]))
    ranked, rank = [], 0
    for index, move in enumerate(ordered):
        if index == 0 or abs(move[3]) != abs(ordered[index - 1][3]):
            rank = index + 1
        ranked.append((rank, move))
    return ranked


def daily_charts(days: dict[date, dict[Track, int]], first: date, last: date) -> list[DayChart]:
    charts: list[DayChart] = []
    ever: set[Track] = set()
    previous: dict[Track, int] = {}
    previous_day: date | None = None
    for day in sorted(d for d in days if first <= d <= last):
        chart = days[day]
        rows = []
        for track, position in sorted(chart.items(), key=lambda item: (item[1], item[0])):
            if track not in ever:
                rows.append(Row(position, track, None, None, "NEW"))
            elif track not in previous:
                rows.append(Row(position, track, None, None, "RE-ENTRY"))
            else:
                change = previous[track] - position
                rows.append(Row(position, track, previous[track], change,
                                "UP" if change > 0 else "DOWN" if change < 0 else "SAME"))
        exits = tuple(sorted((position, track) for track, position in previous.items() if track not in chart))
        moves = [(r.track, r.previous_position, r.position, r.change) for r in rows if r.change]
        movers = []
        for direction, chosen in (("CLIMBER", [m for m in moves if m[3] > 0]),
                                  ("FALLER", [m for m in moves if m[3] < 0])):
            movers += [Mover(direction, rank, *move) for rank, move in _rank(chosen)]
        missing = None if previous_day is None else (day - previous_day).days - 1
        charts.append(DayChart(day, previous_day, missing, tuple(rows), exits,
                               tuple(sorted(movers, key=lambda m: (m.direction, m.rank, m.track)))))
        ever.update(chart)
        previous, previous_day = dict(chart), day
    return charts


def track_stats(charts: list[DayChart]) -> dict[Track, TrackStats]:
    seen: dict[Track, list[tuple[date, int]]] = defaultdict(list)
    for chart in charts:
        for row in chart.rows:
            seen[row.track].append((chart.day, row.position))
    stats = {}
    for track, days in seen.items():  # days in date order
        peak = min(position for _, position in days)
        at_peak = [day for day, position in days if position == peak]
        stats[track] = TrackStats(
            entry_date=days[0][0], entry_position=days[0][1], peak_position=peak, peak_date=at_peak[0],
            days_at_peak=len(at_peak), days_on_chart=len(days), last_date=days[-1][0], last_position=days[-1][1])
    return stats


def market_truth(label: str, first: date, last: date, data_dir: Path = DATA_DIR) -> MarketTruth:
    """The truth of one market's charts dated ``first`` to ``last`` (inclusive)."""
    days = read_days(data_dir / f"spotify-streaming-top-50-{MARKET_FILES[label]}.csv.gz")
    charts = daily_charts(days, first, last)
    return MarketTruth(label, tuple(charts), track_stats(charts))


def calendar(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]
