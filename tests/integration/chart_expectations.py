"""What the chart views must show, computed from the bundled chart data alone.

Independent of every pipeline stage: it reads ``local_spotify.catalog`` (the real charts
the local server replays) and applies the views' definitions (snowflake/README.md):
each distinct chart version is one snapshot; every snapshot is compared with the
previous one; status NEW (never on this chart before), RE-ENTRY (on it before, not on
the previous snapshot), UP / DOWN / SAME; change = previous position - position; a track
listed twice counts once, at its best position; exits are the previous snapshot's tracks
that are gone.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from local_spotify import catalog


@dataclass(frozen=True)
class Row:
    position: int
    track_id: str
    track_name: str
    previous_position: int | None
    change: int | None
    status: str


@dataclass(frozen=True, order=True)
class Exit:
    last_position: int
    track_id: str


@dataclass(frozen=True)
class Edition:
    first_day: date  # the first chart day that served this version
    rows: tuple[Row, ...]
    exits: tuple[Exit, ...]


def chart_days(start: date, count: int) -> list[date]:
    return [start + timedelta(days=n) for n in range(count)]


def snapshots(label: str, days: list[date]) -> list[tuple[date, tuple[catalog.ChartTrack, ...]]]:
    """The distinct chart versions served over ``days`` (a day whose chart is the same
    track list as the day before, such as a day missing from the data, adds none)."""
    versions: list[tuple[date, tuple[catalog.ChartTrack, ...]]] = []
    for day in days:
        chart = catalog.chart_on(label, day)
        if not versions or [t.track_id for t in chart] != [t.track_id for t in versions[-1][1]]:
            versions.append((day, chart))
    return versions


def expected_editions(label: str, days: list[date]) -> list[Edition]:
    editions, ever, previous = [], set(), {}
    for day, chart in snapshots(label, days):
        best: dict[str, catalog.ChartTrack] = {}
        for track in chart:  # in position order: the first listing is the best position
            best.setdefault(track.track_id, track)
        rows = []
        for track_id, track in best.items():
            if track_id not in ever:
                rows.append(Row(track.position, track_id, track.song, None, None, "NEW"))
            elif track_id not in previous:
                rows.append(Row(track.position, track_id, track.song, None, None, "RE-ENTRY"))
            else:
                change = previous[track_id] - track.position
                status = "UP" if change > 0 else "DOWN" if change < 0 else "SAME"
                rows.append(Row(track.position, track_id, track.song, previous[track_id], change, status))
        exits = tuple(sorted(Exit(pos, tid) for tid, pos in previous.items() if tid not in best))
        editions.append(Edition(day, tuple(rows), exits))
        ever.update(best)
        previous = {tid: t.position for tid, t in best.items()}
    return editions


def expected_keys(label: str, days: list[date]) -> list[tuple[str, int, str]]:
    """(playlist_id, position, track_id) of every chart entry the producer must record."""
    playlist_id = catalog.MARKETS_BY_LABEL[label].playlist_id
    return sorted((playlist_id, t.position, t.track_id) for _, chart in snapshots(label, days) for t in chart)


# -- what the pipeline's views hold ----------------------------------------------------
def view_editions(pipeline, label: str) -> list[Edition]:
    """The snapshot_chart and snapshot_chart_exits views of one chart, as Editions, oldest first."""
    snapshots_seen = pipeline.query("""
        SELECT snapshot_id, MIN(observed_at) AS observed_at FROM snapshot_chart
        WHERE chart_label = %s GROUP BY snapshot_id ORDER BY observed_at""", (label,))
    editions = []
    for snap in snapshots_seen:
        rows = pipeline.query("""
            SELECT position, track_id, track_name, previous_position, change, status FROM snapshot_chart
            WHERE chart_label = %s AND snapshot_id = %s ORDER BY position""", (label, snap["snapshot_id"]))
        exits = pipeline.query("""
            SELECT last_position, track_id FROM snapshot_chart_exits
            WHERE chart_label = %s AND snapshot_id = %s ORDER BY last_position, track_id""",
                               (label, snap["snapshot_id"]))
        editions.append(Edition(
            date.min,  # the views know real observation times, not simulated chart days
            tuple(Row(r["position"], r["track_id"], r["track_name"], r["previous_position"], r["change"],
                      r["status"]) for r in rows),
            tuple(Exit(x["last_position"], x["track_id"]) for x in exits)))
    return editions


def comparable(editions: list[Edition]) -> list[tuple[tuple[Row, ...], tuple[Exit, ...]]]:
    return [(e.rows, e.exits) for e in editions]


def table_counts(pipeline) -> dict[str, int]:
    """Rows of the final tables (a duplicate anywhere would show here)."""
    return {table: pipeline.query(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"]
            for table in ("chart_entries", "chart_observations")}


def natural_keys_in_table(pipeline) -> list[tuple[str, int, str]]:
    rows = pipeline.query("SELECT playlist_id, position, track_id FROM chart_entries")
    return sorted((r["playlist_id"], r["position"], r["track_id"]) for r in rows)


