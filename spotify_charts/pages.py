"""The dashboard's pages beyond its front page, from the chart-intelligence views:

==========================  =============================================================
``GET /track?track=``       a track across every chart: a date x chart heat grid of its
                            positions, its streams over time, how it spread
``GET /records?chart=``     a chart's records, in words (``chart_records``)
``GET /calendar?chart=``    a calendar of a chart's #1s (``chart_number_ones``)
``GET /api/track-grid``     the track page's data (``?track&from&to``)
``GET /api/records``        the records page's data (``?chart``)
``GET /api/number-ones``    the calendar's data (``?chart&from&to``)
==========================  =============================================================

Every parameter is checked before a query runs: a track is a Spotify id (22 base62
characters), a chart a known label or id, a period at most MAX_PERIOD_DAYS long (a page
answers one year at the most, whatever the data holds). Bad values get a 400 with the
reason, unknown tracks and charts a 404 (the dashboard's handler answers both).
"""
from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any, Callable

from spotify_charts import intelligence, views
from spotify_charts.errors import BadRequestError, NotFoundError

# The pages' files (path -> (file, content type)), served beside the front page's.
HTML, JS = "text/html; charset=utf-8", "text/javascript; charset=utf-8"
FILES = {
    "/track": ("track.html", HTML),
    "/records": ("records.html", HTML),
    "/calendar": ("calendar.html", HTML),
    "/common.js": ("common.js", JS),
    "/track.js": ("track.js", JS),
    "/records.js": ("records.js", JS),
    "/calendar.js": ("calendar.js", JS),
    "/pages.css": ("pages.css", "text/css; charset=utf-8"),
}
MAX_PERIOD_DAYS = 366  # a year, leap day included: what one page shows at most
TRACK_ID = re.compile(r"[0-9A-Za-z]{22}")  # a Spotify id
MAX_CHART_NAME = 200  # labels are the user's (PLAYLISTS) or an export's alias; none is this long
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def track_param(value: str | None) -> str:
    if not value:
        raise BadRequestError("track is required (a Spotify track id)")
    if not TRACK_ID.fullmatch(value):
        raise BadRequestError("track must be a Spotify track id (22 letters and digits)")
    return value


def chart_param(value: str | None) -> str | None:
    """A chart's label or id as asked for (None: the default chart); its existence is
    checked against the views."""
    if value is not None and (len(value) > MAX_CHART_NAME or CONTROL.search(value)):
        raise BadRequestError(f"chart must be a chart's label or id (at most {MAX_CHART_NAME} characters)")
    return value


def period(first: date | None, last: date | None, earliest: date, latest: date) -> tuple[date, date]:
    """The period a page shows: as asked for, at most MAX_PERIOD_DAYS long. An end not
    given is the data's (``earliest``, ``latest``), or a year from the other end, whichever
    is nearer; with neither, the last year of the data."""
    span = timedelta(days=MAX_PERIOD_DAYS - 1)
    if last is None:
        last = latest if first is None else max(first, min(first + span, latest))
    if first is None:
        first = min(last, max(last - span, earliest))
    return check_period(first, last)


def check_period(first: date | None, last: date | None) -> tuple[date | None, date | None]:
    """Refuse a period whose two ends were given wrongly (before any query runs)."""
    if first is not None and last is not None:
        if first > last:
            raise BadRequestError("from is after to")
        if last - first > timedelta(days=MAX_PERIOD_DAYS - 1):
            raise BadRequestError(f"a period of at most {MAX_PERIOD_DAYS} days, please")
    return first, last


def chart_identity(info: views.ChartInfo) -> dict[str, Any]:
    return {"playlist_id": info.playlist_id, "label": info.chart_label, "name": info.playlist_name,
            "origin": info.origin, "cadence": info.cadence}


def chart_summary(info: views.ChartInfo) -> dict[str, Any]:
    """A chart and the editions it holds (all of them, not only a page's period)."""
    return {**chart_identity(info), "first_date": info.first_date, "last_date": info.last_date,
            "editions": info.days}


class ChartPages:
    """What the pages' endpoints answer, from the Snowflake views (``SnowflakeViews``)."""

    def __init__(self, snowflake, charts: Callable[[], list[views.ChartInfo]] | None = None):
        self.snowflake = snowflake
        # The chart list: the dashboard's cache (read outside snowflake.run, which does not nest).
        self._charts = charts or (lambda: snowflake.run(views.list_charts))

    def _run(self, read):
        """``read(db, charts)`` on the Snowflake views, with the chart list."""
        if not self.snowflake.enabled:
            raise NotFoundError("this page reads the Snowflake views: configure Snowflake (SNOWFLAKE_LOCAL_URL ...)")
        charts = self._charts()
        return self.snowflake.run(lambda db: read(db, charts))

    # -- the track page ---------------------------------------------------------------

    def track_grid(self, track: str | None, first: date | None, last: date | None) -> dict[str, Any]:
        """A track on every chart holding it in the period: per chart, the dates it holds
        (a date it does not is no chart), the track's positions and streams there."""
        track_id = track_param(track)
        check_period(first, last)

        def read(db, charts):
            span = intelligence.track_span(db, track_id)
            if span is None:
                raise NotFoundError(f"track {track_id} is on no chart")
            # By default the year from its first date on a chart: where it broke, and how it spread.
            start, end = period(first if first or last else span[0], last, *span)
            cells = intelligence.track_grid(db, track_id, start, end)
            held = sorted({cell["playlist_id"] for cell in cells})
            return (span, start, end, cells, intelligence.edition_dates(db, held, start, end),
                    charts, intelligence.track_names(db, track_id),
                    intelligence.track_spread(db, track_id))

        span, start, end, cells, editions, charts, names, spread = self._run(read)
        info = {c.playlist_id: c for c in charts}
        rows = [_grid_row(info[playlist_id], dates, [c for c in cells if c["playlist_id"] == playlist_id])
                for playlist_id, dates in editions.items()]
        rows.sort(key=lambda r: (r["first_date"], r["best_position"], r["label"]))  # where it charted first, on top
        return {"track_id": track_id, **names, "from": start, "to": end,
                "available": {"first_date": span[0], "last_date": span[1]}, "charts": rows, "spread": spread}

    # -- the records page -------------------------------------------------------------

    def records(self, chart: str | None) -> dict[str, Any]:
        name = chart_param(chart)

        def read(db, charts):
            info = views.find_chart(db, name, charts)
            return info, intelligence.chart_records(db, info.playlist_id)

        info, rows = self._run(read)
        return {**chart_summary(info), "records": [
            {"record": r["record"], "track_id": r["track_id"], "name": r["track_name"], "artists": r["artist_names"],
             "value": r["value"], "from": r["from_date"], "to": r["to_date"]} for r in rows]}

    # -- the #1 calendar --------------------------------------------------------------

    def number_ones(self, chart: str | None, first: date | None, last: date | None) -> dict[str, Any]:
        """The chart's #1 of each edition in the period, and each #1 track once with its
        editions at #1 there (the calendar's legend, in order of first day at #1)."""
        name = chart_param(chart)
        check_period(first, last)

        def read(db, charts):
            info = views.find_chart(db, name, charts)
            start, end = period(first, last, info.first_date, info.last_date)
            return info, start, end, intelligence.number_ones(db, info.playlist_id, start, end)

        info, start, end, rows = self._run(read)
        tracks: dict[str, dict[str, Any]] = {}
        for row in rows:
            track = tracks.setdefault(row["track_id"], {
                "track_id": row["track_id"], "name": row["track_name"], "artists": row["artist_names"],
                "editions": 0, "first_date": row["chart_date"], "streams": None})
            track["editions"] += 1
            if row["streams"] is not None:
                track["streams"] = (track["streams"] or 0) + row["streams"]
        return {**chart_summary(info), "from": start, "to": end,
                "days": [{"date": r["chart_date"], "track_id": r["track_id"], "streams": r["streams"]} for r in rows],
                "tracks": list(tracks.values())}


def _grid_row(info: views.ChartInfo, dates: list[date], cells: list[dict[str, Any]]) -> dict[str, Any]:
    """One chart's row of the track page's grid (cells in date order)."""
    streams = [c["streams"] for c in cells]
    stated = [s for s in streams if s is not None]
    return {**chart_identity(info), "chart_dates": dates, "dates": [c["chart_date"] for c in cells],
            "positions": [c["position"] for c in cells], "streams": streams,
            "first_date": cells[0]["chart_date"], "best_position": min(c["position"] for c in cells),
            "on_chart": len(cells), "total_streams": sum(stated) if stated else None}
