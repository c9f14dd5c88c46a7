"""Reads of the chart-intelligence views (``snowflake/migrations/R__chart_views_intelligence.sql``)
for the dashboard's track, records and #1 calendar pages.

As in ``views.py``: every function is one query over the views, and the definitions
(editions, runs, entries, records) are the views', not redone here. The views hold ids;
names come from ``chart_entries`` (a track's latest name there: a title Spotify renamed
shows as it reads now).
"""
from __future__ import annotations

from datetime import date
from typing import Any, Sequence

from spotify_charts.views import _array, _rows

# The records of chart_records, in the order a page lists them.
RECORDS = ("longest_run_at_number_one", "most_days_at_number_one", "most_days_in_top_10", "biggest_debut",
           "biggest_climb", "most_streams_in_a_day", "most_streams_total")


def track_span(db, track_id: str) -> tuple[date, date] | None:
    """The first and last dates the track is on any chart (``track_market_grid``), or None."""
    [row] = _rows(db, "SELECT MIN(chart_date) AS first, MAX(chart_date) AS last FROM track_market_grid "
                      "WHERE track_id = %s", (track_id,))
    return (row["first"], row["last"]) if row["first"] else None


def track_grid(db, track_id: str, first: date, last: date) -> list[dict[str, Any]]:
    """The track's cells (chart, date: position and streams) dated ``first`` to ``last``,
    by chart and date."""
    return _rows(db, """
        SELECT playlist_id, chart_date, position, streams FROM track_market_grid
        WHERE track_id = %s AND chart_date BETWEEN %s AND %s
        ORDER BY playlist_id, chart_date""", (track_id, first, last))


def edition_dates(db, playlist_ids: Sequence[str], first: date, last: date) -> dict[str, list[date]]:
    """The dates each chart holds (its day editions) from ``first`` to ``last``: a date
    missing here is no chart, which the grid shows apart from a day off the chart."""
    if not playlist_ids:
        return {}
    marks = ", ".join(["%s"] * len(playlist_ids))
    rows = _rows(db, f"""
        SELECT playlist_id, chart_date FROM chart_editions
        WHERE grain = 'day' AND playlist_id IN ({marks}) AND chart_date BETWEEN %s AND %s
        ORDER BY playlist_id, chart_date""", (*playlist_ids, first, last))
    dates: dict[str, list[date]] = {playlist_id: [] for playlist_id in playlist_ids}
    for row in rows:
        dates[row["playlist_id"]].append(row["chart_date"])
    return dates


def track_names(db, track_id: str) -> dict[str, Any] | None:
    """The track's latest name and artists on any chart, or None if no chart holds it."""
    rows = _rows(db, """
        SELECT track_name, artist_names FROM chart_entries WHERE track_id = %s
        ORDER BY chart_date DESC, observed_at DESC LIMIT 1""", (track_id,))
    if not rows:
        return None
    return {"name": rows[0]["track_name"], "artists": _array(rows[0]["artist_names"])}


def track_spread(db, track_id: str) -> dict[str, Any] | None:
    """The track's row of ``track_spread`` (how it spread over the daily country charts), or
    None if it was on none."""
    rows = _rows(db, """
        SELECT first_chart_date, first_charts, charts_total, max_charts, max_charts_date FROM track_spread
        WHERE track_id = %s""", (track_id,))
    if not rows:
        return None
    return {**rows[0], "first_charts": _array(rows[0]["first_charts"])}


def chart_records(db, playlist_id: str) -> list[dict[str, Any]]:
    """The chart's records and their holders (``chart_records``, ties included) with the
    holders' names on this chart, in RECORDS order, then by date and track."""
    rows = _rows(db, """
        WITH names AS (
            SELECT track_id, MAX_BY(track_name, observed_at) AS track_name,
                   MAX_BY(artist_names, observed_at) AS artist_names
            FROM chart_entries WHERE playlist_id = %s AND track_id IS NOT NULL
            GROUP BY track_id
        )
        SELECT r.record, r.track_id, r.value, r.from_date, r.to_date, n.track_name, n.artist_names
        FROM chart_records AS r JOIN names AS n ON n.track_id = r.track_id
        WHERE r.playlist_id = %s""", (playlist_id, playlist_id))
    for row in rows:
        row["artist_names"] = _array(row["artist_names"])
    order = {record: n for n, record in enumerate(RECORDS)}
    return sorted(rows, key=lambda r: (order.get(r["record"], len(order)), r["from_date"] or date.min,
                                       r["track_id"]))


def number_ones(db, playlist_id: str, first: date, last: date) -> list[dict[str, Any]]:
    """The #1 of each of the chart's editions dated ``first`` to ``last`` (``chart_number_ones``),
    with its streams, by date."""
    rows = _rows(db, """
        SELECT chart_date, track_id, track_name, artist_names, streams FROM chart_number_ones
        WHERE playlist_id = %s AND chart_date BETWEEN %s AND %s
        ORDER BY chart_date""", (playlist_id, first, last))
    for row in rows:
        row["artist_names"] = _array(row["artist_names"])
    return rows
