"""Reads of the Snowflake chart views (``snowflake/migrations/R__chart_views.sql``).

Works on any open connection from ``snowflake.charts.connection.connect()``: real
Snowflake or the local engine. Every function is one query over the views; the
definitions (status, change, days on chart, gaps) are the views', not redone here.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Sequence

from firehose import contract


class ChartNotFoundError(LookupError):
    """No chart (or no daily chart on the date) matches what was asked for."""


# Where a chart came from (the views' ``origin``, the contract's values): a playlist the
# producer reads, or charts.spotify.com CSV exports a user imported.
PLAYLIST, CHART_EXPORT = contract.ORIGIN_PLAYLIST, contract.ORIGIN_CHART_EXPORT
# A chart's cadence: a weekly export's alias ends in '-weekly' (its editions are a week
# apart; the views' chart_editions counts its missing_days by the same rule).
DAILY, WEEKLY = "daily", "weekly"
WEEKLY_SUFFIX = "-weekly"
# The chart commands show when none is named: the Global playlist, else the Global export.
DEFAULT_CHARTS = ("global", "regional-global-daily")


def cadence_of(playlist_id: str) -> str:
    return WEEKLY if playlist_id.endswith(WEEKLY_SUFFIX) else DAILY


def week_of(chart_date: date) -> tuple[date, date]:
    """The days a weekly chart counts: Spotify's week runs Friday to Thursday, and the
    file is dated by its Thursday."""
    return chart_date - timedelta(days=6), chart_date


@dataclass(frozen=True)
class ChartInfo:
    playlist_id: str
    chart_label: str
    playlist_name: str
    first_date: date
    last_date: date
    days: int  # editions in the data: daily charts (weekly charts for a weekly export)
    origin: str = PLAYLIST
    cadence: str = DAILY

    @property
    def imported(self) -> bool:
        return self.origin == CHART_EXPORT


def _rows(db, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    cursor = db.cursor()
    cursor.execute(sql, tuple(params) or None)
    names = [d[0].lower() for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _array(value: Any) -> list[str]:
    """ARRAY columns arrive as JSON text from the connector."""
    if value is None:
        return []
    if isinstance(value, str):
        return list(json.loads(value))
    return list(value)


def list_charts(db) -> list[ChartInfo]:
    rows = _rows(db, """
        SELECT playlist_id, chart_label, playlist_name, first_date, last_date, days, origin
        FROM chart_list
        ORDER BY chart_label""")
    return [ChartInfo(**row, cadence=cadence_of(row["playlist_id"])) for row in rows]


def find_chart(db, chart: str | None, charts: list[ChartInfo] | None = None) -> ChartInfo:
    """The chart named by label or playlist id; without a name, the first of DEFAULT_CHARTS
    held, or the only chart. ``charts``: the chart list if the caller has it (else read)."""
    charts = list_charts(db) if charts is None else charts
    if not charts:
        raise ChartNotFoundError("no charts in the Snowflake views yet (nothing loaded?)")
    if chart is None:
        named = sorted((c for c in charts if c.chart_label in DEFAULT_CHARTS),
                       key=lambda c: DEFAULT_CHARTS.index(c.chart_label)) or (charts if len(charts) == 1 else [])
        if not named:
            raise ChartNotFoundError(f"choose a chart with --chart: {', '.join(c.chart_label for c in charts)}")
        return named[0]
    for info in charts:
        if chart in (info.chart_label, info.playlist_id):
            return info
    raise ChartNotFoundError(f"no chart {chart!r}; charts loaded: {', '.join(c.chart_label for c in charts)}")


def daily_chart(db, playlist_id: str, day: date) -> list[dict[str, Any]]:
    """The day's chart: position, status, change, the track and its streams (None where
    the source states none), in chart order."""
    rows = _rows(db, """
        SELECT position, status, change, previous_position, track_id, track_name, artist_names,
               previous_chart_date, missing_days, last_chart_date, last_chart_position,
               snapshot_id, observed_at, streams
        FROM daily_chart
        WHERE playlist_id = %s AND chart_date = %s
        ORDER BY position""", (playlist_id, day))
    for row in rows:
        row["artist_names"] = _array(row["artist_names"])
    return rows


def track_stats_as_of(db, playlist_id: str, day: date) -> dict[str, dict[str, Any]]:
    """Per track of ``day``'s chart: peak position and days on chart over the daily charts up
    to ``day`` (as ``track_chart_stats`` counts them, but as of that day, so old reports stay
    true), stored with the day's chart (``daily_chart_track_stats``)."""
    rows = _rows(db, """
        SELECT track_id, peak_position, days_on_chart
        FROM daily_chart_track_stats
        WHERE playlist_id = %s AND chart_date = %s""", (playlist_id, day))
    return {row.pop("track_id"): row for row in rows}


def biggest_movers(db, playlist_id: str, day: date, limit: int) -> dict[str, list[dict[str, Any]]]:
    rows = _rows(db, """
        SELECT direction, mover_rank, position, previous_position, change, track_id, track_name, artist_names
        FROM daily_biggest_movers
        WHERE playlist_id = %s AND chart_date = %s AND mover_rank <= %s
        ORDER BY direction, mover_rank, position""", (playlist_id, day, limit))
    movers: dict[str, list[dict[str, Any]]] = {"CLIMBER": [], "FALLER": []}
    for row in rows:
        row["artist_names"] = _array(row["artist_names"])
        movers[row.pop("direction")].append(row)
    return {direction: found[:limit] for direction, found in movers.items()}


def exits(db, playlist_id: str, day: date) -> list[dict[str, Any]]:
    """The tracks that left the chart on ``day``, with their streams on the chart they
    were last on (``last_streams``; None where the source states none)."""
    rows = _rows(db, """
        SELECT x.last_position, x.track_id, x.track_name, x.artist_names, d.streams AS last_streams
        FROM daily_chart_exits AS x
        LEFT JOIN daily_chart AS d
          ON d.playlist_id = x.playlist_id AND d.chart_date = x.previous_chart_date AND d.track_id = x.track_id
        WHERE x.playlist_id = %s AND x.chart_date = %s
        ORDER BY x.last_position""", (playlist_id, day))
    for row in rows:
        row["artist_names"] = _array(row["artist_names"])
    return rows


def top_artists(db, playlist_id: str, day: date, limit: int) -> list[dict[str, Any]]:
    return _rows(db, """
        SELECT artist_name, tracks_on_chart, best_position, new_tracks
        FROM daily_artist_counts
        WHERE playlist_id = %s AND chart_date = %s
        ORDER BY tracks_on_chart DESC, best_position, artist_name
        LIMIT %s""", (playlist_id, day, limit))


def chart_artists(db) -> list[dict[str, Any]]:
    """Every artist on every chart: ``chart_label``, ``artist_name`` and ``artist_key``, the key
    the per-artist views group by and chart events carry (a Spotify artist id, or an export's
    credited name)."""
    return _rows(db, """
        SELECT chart_label, artist_name, COALESCE(artist_id, artist_name) AS artist_key
        FROM artist_chart_stats ORDER BY artist_name, chart_label""")


def chart_dates(db, playlist_id: str, first: date, last: date) -> list[date]:
    """The dates with a daily chart in [first, last]."""
    rows = _rows(db, """
        SELECT chart_date FROM chart_editions
        WHERE grain = 'day' AND playlist_id = %s AND chart_date >= %s AND chart_date <= %s
        ORDER BY chart_date""", (playlist_id, first, last))
    return [row["chart_date"] for row in rows]


def positions(db, playlist_id: str, first: date, last: date, top: int) -> list[dict[str, Any]]:
    """(date, track, position) of the tracks that reached the top ``top`` in [first, last]."""
    rows = _rows(db, """
        WITH period AS (
            SELECT chart_date, track_id, track_name, artist_names, position
            FROM daily_chart
            WHERE playlist_id = %s AND chart_date >= %s AND chart_date <= %s
        ), contenders AS (
            SELECT track_id FROM period GROUP BY track_id HAVING MIN(position) <= %s
        )
        SELECT p.chart_date, p.track_id, p.track_name, p.artist_names, p.position
        FROM period AS p JOIN contenders AS c ON c.track_id = p.track_id
        ORDER BY p.chart_date, p.position""", (playlist_id, first, last, top))
    for row in rows:
        row["artist_names"] = _array(row["artist_names"])
    return rows


def track_history(db, playlist_id: str, track_id: str) -> list[dict[str, Any]]:
    """Date, position, streams (None where the chart states none) and the names, of every
    chart of ``playlist_id`` the track was on, by date."""
    rows = _rows(db, """
        SELECT chart_date, position, streams, track_name, artist_names FROM daily_chart
        WHERE playlist_id = %s AND track_id = %s
        ORDER BY chart_date""", (playlist_id, track_id))
    for row in rows:
        row["artist_names"] = _array(row["artist_names"])
    return rows


def snapshot_labels(db) -> list[str]:
    """The labels of every chart with a snapshot."""
    return [r["chart_label"] for r in _rows(db, "SELECT DISTINCT chart_label FROM chart_snapshots ORDER BY chart_label")]


def latest_snapshot(db, label: str) -> dict[str, Any]:
    """A chart's latest snapshot (``snapshot_chart``): its playlist, snapshot and previous snapshot ids."""
    return _rows(db, """
        SELECT playlist_id, snapshot_id, previous_snapshot_id FROM snapshot_chart WHERE chart_label = %s
        ORDER BY observed_at DESC LIMIT 1""", (label,))[0]


def snapshot_entries(db, playlist_id: str, snapshot_id: str) -> list[dict[str, Any]]:
    """A snapshot's chart compared with the snapshot before, in chart order."""
    rows = _rows(db, """
        SELECT position, status, change, track_name, artist_names, streams FROM snapshot_chart
        WHERE playlist_id = %s AND snapshot_id = %s ORDER BY position""", (playlist_id, snapshot_id))
    for row in rows:
        row["artist_names"] = _array(row["artist_names"])
    return rows


def snapshot_exits(db, playlist_id: str, snapshot_id: str) -> list[dict[str, Any]]:
    return _rows(db, """
        SELECT last_position, track_name FROM snapshot_chart_exits
        WHERE playlist_id = %s AND snapshot_id = %s ORDER BY last_position""", (playlist_id, snapshot_id))


def load_history(db) -> dict[str, Any]:
    """Files the engine has loaded (local engine: INFORMATION_SCHEMA.LOAD_HISTORY)."""
    rows = _rows(db, """
        SELECT COUNT(*) AS files, SUM(row_count) AS rows_loaded, MAX(last_load_time) AS last_load_time,
               COUNT_IF(status <> 'LOADED') AS files_with_errors
        FROM information_schema.load_history""")
    return rows[0]


def daily_chart_range(db, playlist_id: str, first: date, last: date, columns: Sequence[str]) -> list[dict[str, Any]]:
    """``columns`` of the chart's daily charts dated ``first`` to ``last``, by date and position
    (``artist_names`` as a list)."""
    rows = _rows(db, f"""
        SELECT {', '.join(columns)} FROM daily_chart
        WHERE playlist_id = %s AND chart_date BETWEEN %s AND %s
        ORDER BY chart_date, position""", (playlist_id, first, last))
    for row in rows:
        if "artist_names" in row:
            row["artist_names"] = _array(row["artist_names"])
    return rows


def daily_chart_count(db, playlist_id: str, first: date, last: date) -> int:
    """How many daily charts the chart has dated ``first`` to ``last``."""
    return _rows(db, """
        SELECT COUNT(*) AS n FROM chart_editions
        WHERE grain = 'day' AND playlist_id = %s AND chart_date BETWEEN %s AND %s""", (playlist_id, first, last))[0]["n"]
