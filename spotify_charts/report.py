"""The chart report: one chart on one date, from the Snowflake views.

The chart with position, change (▲3 ▼2 =, NEW, RE-ENTRY), streams (where the chart
states them: imported Top 200 exports), peak and days (or weeks) on chart; the biggest
climbers and fallers; new entries and exits; the top artists. As text (aligned columns)
or as JSON. Daily and weekly charts, playlists and imported exports, up to 200 positions.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from spotify_charts import views
from spotify_charts.text import (artists_text, change_marker, fit, streams_text, table, terminal_json,
                                 terminal_text)


@dataclass
class ChartReport:
    chart: views.ChartInfo
    chart_date: date
    previous_chart_date: date | None
    missing_days: int
    snapshot_id: str
    observed_at: datetime | None
    entries: list[dict[str, Any]]
    climbers: list[dict[str, Any]]
    fallers: list[dict[str, Any]]
    new_entries: list[dict[str, Any]]
    exits: list[dict[str, Any]]
    top_artists: list[dict[str, Any]] = field(default_factory=list)
    # Whether the chart states streams (a Top 200 export); playlists and viral charts do not,
    # and their report shows no streams column.
    has_streams: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def build_report(db, chart: str | None = None, day: date | None = None, movers: int = 5,
                 artists: int = 10, charts: list[views.ChartInfo] | None = None) -> ChartReport:
    """Read everything the report shows; ``day`` defaults to the chart's latest date.
    ``charts``: the chart list, if the caller has it (``views.find_chart``)."""
    info = views.find_chart(db, chart, charts)
    day = day or info.last_date
    entries = views.daily_chart(db, info.playlist_id, day)
    if not entries:
        raise views.ChartNotFoundError(
            f"no {info.cadence} chart of {info.chart_label} on {day}; it has {info.days} {info.cadence} charts "
            f"from {info.first_date} to {info.last_date}")
    stats = views.track_stats_as_of(db, info.playlist_id, day)
    for entry in entries:
        entry.update(stats.get(entry["track_id"], {}))
        entry["marker"] = change_marker(entry["status"], entry["change"])
    streams = {e["track_id"]: e.get("streams") for e in entries}
    biggest = views.biggest_movers(db, info.playlist_id, day, movers)
    first = entries[0]
    return ChartReport(
        chart=info,
        chart_date=day,
        previous_chart_date=first["previous_chart_date"],
        missing_days=first["missing_days"] or 0,
        snapshot_id=first["snapshot_id"],
        observed_at=first["observed_at"],
        entries=entries,
        climbers=[{**m, "streams": streams.get(m["track_id"])} for m in biggest["CLIMBER"]],
        fallers=[{**m, "streams": streams.get(m["track_id"])} for m in biggest["FALLER"]],
        # The first chart in the data is all NEW (no history): not worth listing as entries.
        new_entries=[e for e in entries if e["status"] in ("NEW", "RE-ENTRY")]
        if first["previous_chart_date"] else [],
        exits=views.exits(db, info.playlist_id, day),
        top_artists=views.top_artists(db, info.playlist_id, day, artists),
        has_streams=any(value is not None for value in streams.values()),
    )


def report_json(report: ChartReport) -> str:
    return terminal_json(report.to_dict(), default=_json_default, indent=1)


def _json_default(value: Any) -> str:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _song(row: dict[str, Any]) -> str:
    return f"{row['track_name']} — {artists_text(row['artist_names'])}"


def _gap_text(missing_days: int, cadence: str) -> str:
    """', 2 day(s) without a chart in between'; a weekly chart counts the weeks it misses."""
    if not missing_days:
        return ""
    if cadence == views.WEEKLY and missing_days % 7 == 0:
        return f", {missing_days // 7} week(s) without a chart in between"
    return f", {missing_days} day(s) without a chart in between"


def report_header(report: ChartReport) -> str:
    """What the chart is, which edition, and what it is compared with."""
    info = report.chart
    kind = f"{info.cadence} chart"
    edition = f"{kind} of {report.chart_date}"
    if info.cadence == views.WEEKLY:
        first, last = views.week_of(report.chart_date)
        edition += f" (week {first}..{last})"
    if report.previous_chart_date:
        compared = f"compared with the {kind} of {report.previous_chart_date}" \
                   f"{_gap_text(report.missing_days, info.cadence)}"
    else:
        compared = "the first chart in the data: every track is NEW"
    origin = ", imported chart export" if info.imported else ""
    return f"{info.playlist_name} ({info.chart_label}){origin}, {edition}: {compared}"


class _Columns:
    """Widths shared by the chart table and the sections: positions up to 200 and stream
    counts stay aligned, and a chart without streams gets no streams column at all."""

    def __init__(self, report: ChartReport):
        positions = [e["position"] for e in report.entries] + [x["last_position"] for x in report.exits]
        self.digits = max(2, len(str(max(positions, default=0))))  # a Top 50 keeps its two-digit layout
        counts = [e.get("streams") for e in report.entries] + [x.get("last_streams") for x in report.exits]
        self.streams = max([len("STREAMS")] + [len(streams_text(c)) for c in counts]) if report.has_streams else 0

    def streams_cell(self, streams: int | None) -> str:
        """The streams column of a section line ('' for a chart without streams)."""
        return f"{streams_text(streams):>{self.streams}}  " if self.streams else ""


def _chart_table(report: ChartReport, columns: _Columns, rows: int | None) -> list[str]:
    shown = report.entries[:rows] if rows else report.entries
    headers, widths, align = ["POS", "MOVE", "TRACK", "ARTISTS"], [3, 8, 34, 26], [">", "<", "<", "<"]
    if columns.streams:
        headers, widths, align = headers + ["STREAMS"], widths + [columns.streams], align + [">"]
    editions = "WEEKS" if report.chart.cadence == views.WEEKLY else "DAYS"  # editions on the chart
    headers, widths, align = headers + ["PEAK", editions], widths + [4, len(editions)], align + [">", ">"]
    lines = table(headers, [
        (e["position"], e["marker"], e["track_name"], artists_text(e["artist_names"]),
         *([streams_text(e.get("streams"))] if columns.streams else []), e.get("peak_position"),
         e.get("days_on_chart")) for e in shown], widths=widths, align=align)
    if len(shown) < len(report.entries):
        lines.append(f"  ... {len(report.entries) - len(shown)} more (--rows 0 shows all)")
    return lines


def _movement_sections(report: ChartReport, columns: _Columns) -> list[str]:
    lines: list[str] = []
    cell, digits = columns.streams_cell, columns.digits

    def section(title: str, items: list[str]) -> None:
        lines.extend(["", title])
        lines.extend(items or ["  (none)"])

    def moved(m: dict[str, Any], direction: str) -> str:
        return (f"  {fit(change_marker(direction, m['change']), 4)} #{m['position']:<3} "
                f"(was #{m['previous_position']:<{digits}})  {cell(m.get('streams'))}{_song(m)}")

    section("Biggest climbers", [moved(m, "UP") for m in report.climbers])
    section("Biggest fallers", [moved(m, "DOWN") for m in report.fallers])
    if report.previous_chart_date:
        section(f"New entries ({len(report.new_entries)})", [
            f"  #{e['position']:<3} {fit(e['status'], 8)}  {cell(e.get('streams'))}{_song(e)}"
            + (f" (last on the chart {e['last_chart_date']}, at #{e['last_chart_position']})"
               if e["status"] == "RE-ENTRY" else "")
            for e in report.new_entries])
    else:  # listing all of them again would repeat the chart
        section("New entries", [f"  all {len(report.entries)} (the first chart in the data)"])
    section(f"Exits ({len(report.exits)})",
            [f"  was #{x['last_position']:<3} {cell(x.get('last_streams'))}{_song(x)}" for x in report.exits])
    return lines


def render_text(report: ChartReport, rows: int | None = None) -> str:
    """The report as aligned text; ``rows`` cuts the chart table (None or 0: every position)."""
    columns = _Columns(report)
    lines = [report_header(report), "", *_chart_table(report, columns, rows), *_movement_sections(report, columns)]
    lines.extend(["", "Top artists"])
    lines += table(("ARTIST", "TRACKS", "BEST", "NEW"),
                   [(a["artist_name"], a["tracks_on_chart"], f"#{a['best_position']}", a["new_tracks"])
                    for a in report.top_artists],
                   widths=(30, 6, 4, 3), align=("<", ">", ">", ">"))
    return "\n".join(terminal_text(line) for line in lines)  # names from the data print as text only


def snapshot_text(db, label: str, rows: int = 10) -> str:
    """A chart's latest snapshot compared with the one before (the ``snapshot_chart`` views)."""
    latest = views.latest_snapshot(db, label)
    entries = views.snapshot_entries(db, latest["playlist_id"], latest["snapshot_id"])
    exits = views.snapshot_exits(db, latest["playlist_id"], latest["snapshot_id"])
    compared = "compared with the snapshot before" if latest["previous_snapshot_id"] else "the first snapshot"
    lines = [f"{label}: latest snapshot {latest['snapshot_id'][:12]}..., {compared}"]
    counts = [streams_text(e.get("streams")) for e in entries[:rows]]
    width = max(len("STREAMS"), *map(len, counts)) if any(counts) else 0  # no column without streams
    lines += table(("POS", "MOVE", "TRACK", "ARTISTS", "STREAMS")[:5 if width else 4],
                   [(e["position"], change_marker(e["status"], e["change"]), e["track_name"],
                     artists_text(e["artist_names"]), count)[:5 if width else 4] for e, count in zip(entries, counts)],
                   widths=(3, 8, 40, 40, width), align=(">", "<", "<", "<", ">"))
    if len(entries) > rows:
        lines.append(f"  ... {len(entries) - rows} more")
    lines.append("  exits: " + (", ".join(f"{x['track_name']} (was #{x['last_position']})" for x in exits)
                                or "none"))
    return "\n".join(terminal_text(line) for line in lines)  # names from the data print as text only


def all_charts_text(db, rows: int = 10) -> str:
    """Every chart's report: the daily report when the views hold more than one daily
    chart, else its latest snapshot against the one before (runs in accelerated time
    put every simulated day on one date)."""
    parts = [render_text(build_report(db, label), rows) if views.find_chart(db, label).days >= 2
             else snapshot_text(db, label, rows) for label in views.snapshot_labels(db)]
    return "\n\n".join(parts) if parts else "(no charts loaded yet)"
