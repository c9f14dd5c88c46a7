"""The views of imported charts against the truth of their CSV files (``chart_exports``),
chart by chart: every edition's rows, statuses, previous positions, changes, exits and
movers, every track's stats (``compare.compare_charts``), and the streams of every entry
and every track's total. Tracks are matched by their Spotify id, which the files hold.
"""
from __future__ import annotations

from typing import Any

from benchmarks.truth.chart_exports import ExportTruth
from benchmarks.truth.compare import MarketComparison, _rows, compare_charts


def _track_id(row: dict[str, Any]) -> tuple[str, str]:
    return row["track_id"], ""


def compare_export(db, truth: ExportTruth, show: int = 5) -> MarketComparison:
    """Every edition of ``truth.alias`` in the views against its files."""
    first, last = truth.charts[0].day, truth.charts[-1].day
    result = compare_charts(db, truth.alias, list(truth.charts), truth.stats, first, last, _track_id)
    got_streams = {(r["chart_date"], r["track_id"]): r["streams"] for r in _rows(db, """
        SELECT chart_date, track_id, streams FROM daily_chart WHERE chart_label = %s""", (truth.alias,))}
    for key, want in sorted(truth.streams.items()):
        if got_streams.get(key, "missing") != want:
            result.differences.append(f"{key[0]} {key[1]}: streams {got_streams.get(key, 'missing')} instead of {want}")
    got_totals = {r["track_id"]: r["total_streams"] for r in _rows(db, """
        SELECT track_id, total_streams FROM track_chart_stats WHERE chart_label = %s""", (truth.alias,))}
    for track, want in sorted(truth.total_streams.items()):
        if got_totals.get(track, "missing") != want:
            result.differences.append(f"track {track}: total_streams {got_totals.get(track, 'missing')} instead of {want}")
    result.difference_count = len(result.differences)
    del result.differences[show:]
    return result
