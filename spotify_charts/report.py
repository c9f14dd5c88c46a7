"""The chart report: one chart on one date, from the Snowflake views.

The chart with position, change (▲3 ▼2 =, NEW, RE-ENTRY), peak and days on chart;
the biggest climbers and fallers; new entries and exits; the top artists.
As text (aligned columns) or as JSON.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from spotify_charts import views
from spotify_charts.text import artists_text, change_marker, fit, table, terminal_json, terminal_text


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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def build_report(db, chart: str | None = None, day: date | None = None, movers: int = 5,
                 artists: int = 10) -> ChartReport:
    """Read everything the report shows; ``day`` defaults to the chart's latest date."""
    info = views.find_chart(db, chart)
    day = day or info.last_date
    entries = views.daily_chart(db, info.playlist_id, day)
    if not entries:
        raise views.ChartNotFoundError(
            f"no daily chart of {info.chart_label} on {day}; it has {info.days} daily charts "
            f"from {info.first_date} to {info.last_date}")
    stats = views.track_stats_as_of(db, info.playlist_id, day)
    for entry in entries:
        entry.update(stats.get(entry["track_id"], {}))
        entry["marker"] = change_marker(entry["status"], entry["change"])
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
        climbers=biggest["CLIMBER"],
        fallers=biggest["FALLER"],
        # The first chart in the data is all NEW (no history): not worth listing as entries.
        new_entries=[e for e in entries if e["status"] in ("NEW", "RE-ENTRY")]
        if first["previous_chart_date"] else [],
        exits=views.exits(db, info.playlist_id, day),
        top_artists=views.top_artists(db, info.playlist_id, day, artists),
    )


def report_json(report: ChartReport) -> str:
    return terminal_json(report.to_dict(), default=_json_default, indent=1)


def _json_default(value: Any) -> str:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _song(row: dict[str, Any]) -> str:
    return f"{row['track_name']} — {artists_text(row['artist_names'])}"


def render_text(report: ChartReport, rows: int | None = None) -> str:
    info = report.chart
    if report.previous_chart_date:
        gap = f", {report.missing_days} day(s) without a chart in between" if report.missing_days else ""
        compared = f"compared with the daily chart of {report.previous_chart_date}{gap}"
    else:
        compared = "the first chart in the data: every track is NEW"
    lines = [f"{info.playlist_name} ({info.chart_label}), daily chart of {report.chart_date}: {compared}", ""]
    shown = report.entries[:rows] if rows else report.entries
    lines += table(
        ("POS", "MOVE", "TRACK", "ARTISTS", "PEAK", "DAYS"),
        [(e["position"], e["marker"], e["track_name"], artists_text(e["artist_names"]),
          e.get("peak_position"), e.get("days_on_chart")) for e in shown],
        widths=(3, 8, 34, 26, 4, 4), align=(">", "<", "<", "<", ">", ">"))
    if len(shown) < len(report.entries):
        lines.append(f"  ... {len(report.entries) - len(shown)} more (--rows 0 shows all)")

    def section(title: str, items: list[str]) -> None:
        lines.extend(["", title])
        lines.extend(items or ["  (none)"])

    section("Biggest climbers", [f"  {fit(change_marker('UP', m['change']), 4)} #{m['position']:<3} "
                                 f"(was #{m['previous_position']:<2})  {_song(m)}" for m in report.climbers])
    section("Biggest fallers", [f"  {fit(change_marker('DOWN', m['change']), 4)} #{m['position']:<3} "
                                f"(was #{m['previous_position']:<2})  {_song(m)}" for m in report.fallers])
    if report.previous_chart_date:
        section(f"New entries ({len(report.new_entries)})", [
            f"  #{e['position']:<3} {fit(e['status'], 8)}  {_song(e)}"
            + (f" (last on the chart {e['last_chart_date']}, at #{e['last_chart_position']})"
               if e["status"] == "RE-ENTRY" else "")
            for e in report.new_entries])
    else:  # listing all of them again would repeat the chart
        section("New entries", [f"  all {len(report.entries)} (the first chart in the data)"])
    section(f"Exits ({len(report.exits)})",
            [f"  was #{x['last_position']:<3} {_song(x)}" for x in report.exits])
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
    lines += table(("POS", "MOVE", "TRACK", "ARTISTS"),
                   [(e["position"], change_marker(e["status"], e["change"]), e["track_name"],
                     artists_text(e["artist_names"])) for e in entries[:rows]],
                   widths=(3, 8, 40, 40), align=(">", "<", "<", "<"))
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
