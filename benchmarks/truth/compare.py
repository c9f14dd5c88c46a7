"""The pipeline's daily views against the CSV truth (``csv_charts``), market by market.

Reads ``daily_chart``, ``daily_chart_exits``, ``daily_biggest_movers``, ``chart_editions``
and ``track_chart_stats`` through any DB-API connection to the views (the local engine
or Snowflake) and builds the same objects the truth computes, so the two compare with
``==``, day by day and track by track.

Matching a view's track to a CSV track: the local Spotify server splits the CSV's
``artist`` column into artists on " & " and trims each (one Italian row reads
"Calcutta " with a trailing space), and the views hold those artists. So a CSV track is
matched by its song and its artists joined back the same way; :func:`check_keys`
verifies that no two tracks of the CSV become one by this.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any, Callable

from benchmarks.truth.csv_charts import DayChart, MarketTruth, Mover, Row, Track, TrackStats


# A full history compares ~470,000 rows naming ~5,000 tracks: each name is worked out once.
@lru_cache(maxsize=None)
def view_key(track: Track) -> Track:
    """A CSV track as the views name it: the song, its artists trimmed and joined by " & "."""
    song, artist = track
    return song, " & ".join(part.strip() for part in artist.split(" & ") if part.strip())


def check_keys(truth: MarketTruth) -> None:
    """No two CSV tracks may look the same in the views (else the comparison would merge them)."""
    keys: dict[Track, Track] = {}
    for track in truth.stats:
        other = keys.setdefault(view_key(track), track)
        if other != track:
            raise AssertionError(f"{truth.label}: CSV tracks {other} and {track} look the same in the views")


def _rows(db, sql: str, params: tuple) -> list[dict[str, Any]]:
    cursor = db.cursor()
    cursor.execute(sql, params)
    names = [d[0].lower() for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _track(row: dict[str, Any]) -> Track:
    names = row["artist_names"]
    return row["track_name"], _joined_artists(names) if isinstance(names, str) else " & ".join(names or [])


@lru_cache(maxsize=None)
def _joined_artists(names_json: str) -> str:
    return " & ".join(json.loads(names_json))


def _normalised(truth: MarketTruth) -> tuple[list[DayChart], dict[Track, TrackStats]]:
    """The truth with every track under its view key."""
    charts = []
    for chart in truth.charts:
        charts.append(DayChart(
            chart.day, chart.previous_day, chart.missing_days,
            tuple(Row(r.position, view_key(r.track), r.previous_position, r.change, r.status) for r in chart.rows),
            tuple((position, view_key(track)) for position, track in chart.exits),
            tuple(sorted((Mover(m.direction, m.rank, view_key(m.track), m.previous_position, m.position, m.change)
                          for m in chart.movers), key=lambda m: (m.direction, m.rank, m.track)))))
    return charts, {view_key(track): stats for track, stats in truth.stats.items()}


TrackOf = Callable[[dict[str, Any]], Track]  # a view row's track, as the truth names it


def view_charts(db, label: str, first: date, last: date, track_of: TrackOf = _track
                ) -> tuple[list[DayChart], dict[Track, TrackStats]]:
    """What the views hold for one chart label between two dates, as truth objects."""
    window = (label, first, last)
    days = _rows(db, """
        SELECT chart_date, previous_chart_date, missing_days FROM chart_editions
        WHERE grain = 'day' AND chart_label = %s AND chart_date BETWEEN %s AND %s ORDER BY chart_date""", window)
    rows: dict[date, list[Row]] = {d["chart_date"]: [] for d in days}
    for r in _rows(db, """
            SELECT chart_date, position, track_id, track_name, artist_names, previous_position, change, status
            FROM daily_chart WHERE chart_label = %s AND chart_date BETWEEN %s AND %s
            ORDER BY chart_date, position""", window):
        rows.setdefault(r["chart_date"], []).append(
            Row(r["position"], track_of(r), r["previous_position"], r["change"], r["status"]))
    exits: dict[date, list[tuple[int, Track]]] = {}
    for r in _rows(db, """
            SELECT chart_date, last_position, track_id, track_name, artist_names FROM daily_chart_exits
            WHERE chart_label = %s AND chart_date BETWEEN %s AND %s""", window):
        exits.setdefault(r["chart_date"], []).append((r["last_position"], track_of(r)))
    movers: dict[date, list[Mover]] = {}
    for r in _rows(db, """
            SELECT chart_date, direction, mover_rank, track_id, track_name, artist_names, previous_position, position, change
            FROM daily_biggest_movers WHERE chart_label = %s AND chart_date BETWEEN %s AND %s""", window):
        movers.setdefault(r["chart_date"], []).append(Mover(r["direction"], r["mover_rank"], track_of(r),
                                                            r["previous_position"], r["position"], r["change"]))
    charts = [DayChart(d["chart_date"], d["previous_chart_date"], d["missing_days"],
                       tuple(sorted(rows.get(d["chart_date"], []), key=lambda r: (r.position, r.track))),
                       tuple(sorted(exits.get(d["chart_date"], []))),
                       tuple(sorted(movers.get(d["chart_date"], []), key=lambda m: (m.direction, m.rank, m.track))))
              for d in days]
    stats = {}
    for r in _rows(db, """
            SELECT track_id, track_name, artist_names, entry_date, entry_position, peak_position, peak_date, days_at_peak,
                   days_on_chart, last_chart_date, last_position
            FROM track_chart_stats WHERE chart_label = %s""", (label,)):
        stats[track_of(r)] = TrackStats(r["entry_date"], r["entry_position"], r["peak_position"], r["peak_date"],
                                      r["days_at_peak"], r["days_on_chart"], r["last_chart_date"], r["last_position"])
    return charts, stats


@dataclass
class MarketComparison:
    label: str
    days_expected: int
    days_found: int
    days_right: int  # same date, previous date, missing days, rows, exits and movers
    entries_expected: int  # chart rows (track-days)
    entries_right: int
    tracks_expected: int
    tracks_right: int  # entry date/position, peak/peak date, days at peak, days on chart, last date/position
    differences: list[str] = field(default_factory=list)  # the first few, to read
    difference_count: int = 0

    @property
    def ok(self) -> bool:
        return (self.days_right == self.days_expected == self.days_found
                and self.tracks_right == self.tracks_expected and not self.differences)

    def line(self) -> str:
        return (f"{self.label:<6} days {self.days_right}/{self.days_expected} right ({self.days_found} in the views), "
                f"chart entries {self.entries_right}/{self.entries_expected}, "
                f"tracks {self.tracks_right}/{self.tracks_expected}"
                + (f"; {self.difference_count} differences, first: {self.differences[0]}" if self.differences else ""))


def compare(db, truth: MarketTruth, first: date, last: date, show: int = 5) -> MarketComparison:
    """The views of ``truth.label`` against the truth, for charts dated ``first`` to ``last``."""
    check_keys(truth)
    want_charts, want_stats = _normalised(truth)
    result = compare_charts(db, truth.label, want_charts, want_stats, first, last, _track)
    del result.differences[show:]
    return result


def compare_charts(db, label: str, want_charts: list[DayChart], want_stats: dict[Track, TrackStats],
                   first: date, last: date, track_of: TrackOf) -> MarketComparison:
    """The views of one chart against expected charts and track stats (every difference listed)."""
    got_charts, got_stats = view_charts(db, label, first, last, track_of)
    got_by_day = {c.day: c for c in got_charts}
    result = MarketComparison(label, len(want_charts), len(got_charts), 0,
                              sum(len(c.rows) for c in want_charts), 0, len(want_stats), 0)
    for want in want_charts:
        got = got_by_day.get(want.day)
        if got is None:
            result.differences.append(f"{want.day}: no daily chart in the views")
            continue
        result.entries_right += len(set(want.rows) & set(got.rows))
        if got == want:
            result.days_right += 1
            continue
        for name in ("previous_day", "missing_days", "rows", "exits", "movers"):
            if getattr(got, name) != getattr(want, name):
                wrong = getattr(got, name)
                detail = (sorted(set(wrong) ^ set(getattr(want, name)))[:3] if isinstance(wrong, tuple)
                          else f"{wrong} instead of {getattr(want, name)}")
                result.differences.append(f"{want.day}: {name} differ: {detail}")
    extra = sorted(set(got_by_day) - {c.day for c in want_charts})
    if extra:
        result.differences.append(f"daily charts on days the data has none: {extra[:5]}")
    for track, stats in want_stats.items():
        if got_stats.get(track) == stats:
            result.tracks_right += 1
        else:
            result.differences.append(f"track {track}: {got_stats.get(track)} instead of {stats}")
    unexpected = set(got_stats) - set(want_stats)
    if unexpected:
        result.differences.append(f"tracks the data does not have: {sorted(unexpected)[:3]}")
    result.difference_count = len(result.differences)
    return result
