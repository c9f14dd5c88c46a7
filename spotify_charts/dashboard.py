"""The dashboard: one self-contained page (``static/``: the page, its script and its style;
no CDN) and the JSON endpoints behind it, served by the standard library on 127.0.0.1.

==========================  =============================================================
``GET /``                   the page (``/dashboard.js``, ``/dashboard.css``: its files)
``GET /api/charts``         charts known to the producer state and/or the Snowflake views,
                            grouped by origin and cadence (playlists, imported exports)
``GET /api/chart``          the current chart (``?chart=label|id``), see :meth:`current_chart`
``GET /api/bump``           positions over time (``?chart&from&to&top``) for the bump chart
``GET /api/track``          one track's positions and streams on a chart (``?chart&track``)
``GET /api/movements``      the latest movement events (``?chart&limit``)
``GET /api/health``         last poll, polling (flip times, reads today), last Glue run,
                            files pending load, quarantined rows
==========================  =============================================================

The track page, a chart's records and its #1 calendar, and their endpoints, are in
``pages.py``.

Every source is optional: a panel whose source is not configured says so.

The server answers only requests addressed to ``127.0.0.1`` or ``localhost`` (any port, so
an SSH tunnel works): a web page on another site cannot read it through a DNS name that
it points at 127.0.0.1 (DNS rebinding). Every answer carries a Content-Security-Policy
that lets the page run only its own script and style files (``static/``), and a browser
never sees an exception's text: the log has it, under the id the browser gets.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from datetime import date, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, urlparse

from spotify_charts import health, pages, views
# The errors the handler answers with 400 and 404 live in errors.py: the pages' module raises them too.
from spotify_charts.errors import BadRequestError, NotFoundError, error_reference, log_error
from spotify_charts.events import ProducerOutputs
from spotify_charts.report import build_report
from spotify_charts.settings import MonitorSettings
from spotify_charts.text import change_marker

log = logging.getLogger("spotify_charts.dashboard")

STATIC = Path(__file__).parent / "static"
# The only files served: path -> (file, content type). nosniff makes browsers hold
# scripts and styles to these types.
FILES = {
    "/": ("dashboard.html", "text/html; charset=utf-8"),
    "/index.html": ("dashboard.html", "text/html; charset=utf-8"),
    "/dashboard.js": ("dashboard.js", "text/javascript; charset=utf-8"),
    "/dashboard.css": ("dashboard.css", "text/css; charset=utf-8"),
    **pages.FILES,
}
ALLOWED_HOSTS = frozenset({"127.0.0.1", "localhost"})
# The page loads its own script, style and JSON, nothing else; no inline code, no
# frames, no forms; Trusted Types keep its script off HTML-parsing sinks.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "img-src 'self'",
    "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'", "require-trusted-types-for 'script'",
])
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers without CSP 2
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cache-Control": "no-store",
}
DEFAULT_PERIOD_DAYS = 183  # the bump chart's default: the last 6 months of daily charts, or all there are
DEFAULT_TOP = 10
MAX_TOP = 200  # a Top 200 export's every position
# The chart picker's groups, in its order: (origin, cadence) -> title.
CHART_GROUPS = {
    (views.PLAYLIST, views.DAILY): "Playlists",
    (views.CHART_EXPORT, views.DAILY): "Imported chart exports: daily",
    (views.CHART_EXPORT, views.WEEKLY): "Imported chart exports: weekly",
}


# Load bounds (#21 item 7). Every tab refreshes every 10 s and each refresh asks several
# endpoints at once; they share one Snowflake connection, one query at a time. So: at most
# MAX_IN_FLIGHT API requests are answered at once, a request waits QUEUE_SECONDS for its
# turn and is otherwise answered 503 with Retry-After (the page retries on its next
# refresh); and the chart list, which every endpoint reads to find its chart, is read at
# most once per CHART_LIST_SECONDS (it changes only when a load lands).
MAX_IN_FLIGHT = 4
QUEUE_SECONDS = 2.0
RETRY_AFTER_SECONDS = 2
CHART_LIST_SECONDS = 10.0


def host_allowed(host: str | None) -> bool:
    """Whether a Host header names this machine's loopback address, with or without a port."""
    name, _, port = (host or "").strip().partition(":")
    return name.lower() in ALLOWED_HOSTS and (port == "" or port.isdigit())


class SnowflakeViews:
    """One lazily opened connection, used by one request at a time."""

    def __init__(self, connect: Callable[[], Any] | None):
        self._connect = connect
        self._db = None
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self._connect is not None

    def run(self, read: Callable[[Any], Any]) -> Any:
        with self._lock:
            if self._db is None:
                self._db = self._connect()
            try:
                return read(self._db)
            except Exception:
                self._close()  # a broken connection is reopened next time
                raise

    def _close(self) -> None:
        if self._db is not None:
            try:
                self._db.close()
            finally:
                self._db = None

    def close(self) -> None:
        with self._lock:
            self._close()


class ChartListCache:
    """The chart list, read at most once per ``seconds``; callers that ask while it is read
    wait for that read. A failed read is not kept: the next caller reads again."""

    def __init__(self, read: Callable[[], list], seconds: float = CHART_LIST_SECONDS,
                 clock: Callable[[], float] = time.monotonic):
        self._read, self.seconds, self._clock = read, seconds, clock
        self._lock = threading.Lock()
        self._value: list | None = None
        self._read_at = 0.0
        self.reads = 0

    def get(self) -> list:
        with self._lock:
            if self._value is None or self._clock() - self._read_at >= self.seconds:
                self._value, self._read_at = None, self._clock()
                self._value = self._read()
                self.reads += 1
            return self._value


class DashboardData:
    """What the endpoints answer, from the producer's S3 outputs and the Snowflake views."""

    def __init__(self, settings: MonitorSettings, snowflake: SnowflakeViews, snowflake_local: bool = True,
                 chart_list_seconds: float = CHART_LIST_SECONDS):
        self.settings = settings
        self.outputs = ProducerOutputs(settings.state_bucket, settings.state_prefix) if settings.state_bucket else None
        self.snowflake = snowflake
        self.snowflake_local = snowflake_local
        # Read outside snowflake.run (which does not nest): before a request's own queries.
        self.chart_list = ChartListCache(lambda: self.snowflake.run(views.list_charts), chart_list_seconds)
        self.pages = pages.ChartPages(snowflake, self.chart_list.get)

    # -- charts ---------------------------------------------------------------------

    def charts(self) -> dict[str, Any]:
        """Every chart the producer's state or the views hold, in the picker's order (its
        groups, the default chart first in its group), with the chart shown by default."""
        found: dict[str, dict[str, Any]] = {}
        if self.outputs:
            labels = self._event_labels()
            for playlist_id, written in self.outputs.charted_playlists():
                found[playlist_id] = {"playlist_id": playlist_id, "label": labels.get(playlist_id, playlist_id),
                                      "state_written_at": written.isoformat(), "sources": ["producer state"],
                                      "origin": views.PLAYLIST, "cadence": views.DAILY}
        problem = None
        if self.snowflake.enabled:
            try:
                loaded = self.chart_list.get()
            except Exception:  # noqa: BLE001 - the producer's charts still show
                error_id = log_error(log, "Snowflake views unreadable")
                loaded, problem = [], f"Snowflake views unreadable ({error_reference(error_id)})"
            for info in loaded:
                entry = found.setdefault(info.playlist_id, {"playlist_id": info.playlist_id, "sources": []})
                entry.update(label=info.chart_label, name=info.playlist_name, first_date=info.first_date,
                             last_date=info.last_date, days=info.days, origin=info.origin, cadence=info.cadence)
                entry["sources"].append("snowflake")
        for entry in found.values():
            entry["group"] = CHART_GROUPS.get((entry["origin"], entry["cadence"]), entry["origin"])
        charts = sorted(found.values(), key=_picker_order)
        default = next((c for name in views.DEFAULT_CHARTS for c in charts if c["label"] == name),
                       charts[0] if charts else None)
        return {"charts": charts, "default": default and default["label"], "problem": problem}

    def _event_labels(self) -> dict[str, str]:
        labels = {m["playlist_id"]: m["chart_label"] for m in self.outputs.latest_movements(limit=500, events=20)}
        return {**labels, **self.settings.labels}

    def _playlist_id(self, chart: str | None) -> str:
        listing = self.charts()
        charts = listing["charts"]
        if not charts:
            raise NotFoundError("no charts yet: nothing polled or loaded")
        if chart is None:
            chart = listing["default"]
        for entry in charts:
            if chart in (entry["playlist_id"], entry["label"]):
                return entry["playlist_id"]
        raise NotFoundError(f"no chart {chart!r}")

    def current_chart(self, chart: str | None) -> dict[str, Any]:
        """The chart's latest version: from the Snowflake views when they hold the version the
        producer last delivered (full change, peak and days), else from the producer's state
        (fresher; marks only the movements its events reported)."""
        playlist_id = self._playlist_id(chart)
        state = self.outputs.chart_state(playlist_id) if self.outputs else None
        report = None
        if self.snowflake.enabled:
            try:
                charts = self.chart_list.get()
                report = self.snowflake.run(lambda db: build_report(db, playlist_id, movers=0, artists=0,
                                                                    charts=charts))
            except views.ChartNotFoundError:
                report = None
            except Exception:  # noqa: BLE001 - the producer's state still shows the chart
                if state is None:
                    raise
                log_error(log, "Snowflake views unreadable, showing the producer state")
        if report and (state is None or report.snapshot_id == state.snapshot_id):
            return _chart_from_report(playlist_id, report)
        if state is None:
            raise NotFoundError(f"no current chart for {chart or playlist_id}")
        return self._chart_from_state(playlist_id, state)

    def _chart_from_state(self, playlist_id: str, state) -> dict[str, Any]:
        moves = [m for m in self.outputs.latest_movements(limit=500, chart=playlist_id, events=20)
                 if m["snapshot_id"] == state.snapshot_id]
        by_key = {}
        for move in moves:
            if move["kind"] in ("new_entries", "climbs", "falls"):
                by_key[move["key"]] = move
        label = next((m["chart_label"] for m in moves), None) or self.settings.labels.get(playlist_id, playlist_id)
        rows = []
        for slot in state.slots:
            move = by_key.get(slot.key)
            status = "NEW" if move and move["kind"] == "new_entries" else None
            rows.append({"position": slot.position, "marker": change_marker(status, move and move["change"]),
                         "status": status, "change": move and move["change"], "track": slot.name,
                         "track_id": slot.key, "artists": slot.artists, "peak": None, "days": None,
                         "streams": None})
        return {"source": "producer state", "view": "latest snapshot", "playlist_id": playlist_id, "label": label,
                "name": label, "origin": views.PLAYLIST, "cadence": views.DAILY, "has_streams": False,
                "chart_date": state.observed_at[:10], "snapshot_id": state.snapshot_id,
                "observed_at": state.observed_at, "compared_with": None,
                "note": "marks show new entries and moves the producer reported (at least its threshold)",
                "rows": rows}

    # -- bump chart -------------------------------------------------------------------

    def bump(self, chart: str | None, first: date | None, last: date | None, top: int) -> dict[str, Any]:
        if not self.snowflake.enabled:
            raise NotFoundError("the bump chart reads the Snowflake views: configure Snowflake (SNOWFLAKE_LOCAL_URL ...)")
        if not 1 <= top <= MAX_TOP:
            raise BadRequestError(f"top must be between 1 and {MAX_TOP}")

        charts = self.chart_list.get()

        def read(db):
            info = views.find_chart(db, chart if chart else None, charts)
            end = last or info.last_date
            start = first or max(info.first_date, end - timedelta(days=DEFAULT_PERIOD_DAYS - 1))
            if start > end:
                raise BadRequestError("from is after to")
            return info, start, end, views.chart_dates(db, info.playlist_id, start, end), \
                views.positions(db, info.playlist_id, start, end, top)

        info, start, end, dates, rows = self.snowflake.run(read)
        index = {d: i for i, d in enumerate(dates)}
        tracks: dict[str, dict[str, Any]] = {}
        for row in rows:
            track = tracks.setdefault(row["track_id"], {"track_id": row["track_id"], "name": row["track_name"],
                                                        "artists": row["artist_names"],
                                                        "positions": [None] * len(dates)})
            track["positions"][index[row["chart_date"]]] = row["position"]

        def order(track):  # the period's last standing first, then the best ever
            placed = [p for p in track["positions"] if p is not None]
            last_position = track["positions"][-1] if track["positions"] else None
            return (last_position is None, last_position or 0, min(placed))

        return {"playlist_id": info.playlist_id, "label": info.chart_label, "name": info.playlist_name,
                "origin": info.origin, "cadence": info.cadence,
                "from": start, "to": end, "top": top, "dates": dates, "tracks": sorted(tracks.values(), key=order),
                "available": {"first_date": info.first_date, "last_date": info.last_date}}

    def track(self, chart: str | None, track_id: str | None) -> dict[str, Any]:
        """One track on one chart over time: its position and streams (None where the chart
        states none) on every chart it was on, from the ``daily_chart`` view."""
        if not self.snowflake.enabled:
            raise NotFoundError("a track's history reads the Snowflake views: configure Snowflake")
        if not track_id:
            raise BadRequestError("track is required (a track id)")

        charts = self.chart_list.get()

        def read(db):
            info = views.find_chart(db, chart, charts)
            return info, views.track_history(db, info.playlist_id, track_id)

        info, rows = self.snowflake.run(read)
        if not rows:
            raise NotFoundError(f"track {track_id!r} was never on {info.chart_label}")
        latest = rows[-1]
        streams = [r["streams"] for r in rows]
        return {"playlist_id": info.playlist_id, "label": info.chart_label, "cadence": info.cadence,
                "track_id": track_id, "name": latest["track_name"], "artists": latest["artist_names"],
                "dates": [r["chart_date"] for r in rows], "positions": [r["position"] for r in rows],
                "streams": streams, "has_streams": any(v is not None for v in streams),
                "total_streams": sum(v for v in streams if v is not None)}

    # -- movements and health -----------------------------------------------------------

    def movements(self, chart: str | None, limit: int) -> dict[str, Any]:
        if self.outputs is None:
            raise NotFoundError("movement events are in the producer's state bucket: set STATE_BUCKET")
        return {"movements": self.outputs.latest_movements(limit=limit, chart=chart)}

    def health(self) -> dict[str, Any]:
        def load_history():
            return self.snowflake.run(lambda db: health.snowflake_load_history(db, self.snowflake_local))

        checks = health.pipeline_health(self.outputs, self.settings.labels, self.settings.glue_checkpoint,
                                        self.settings.snowpipe_queue_url,
                                        load_history if self.snowflake.enabled else None)
        return {"checks": health.health_dict(checks)}


def _picker_order(chart: dict[str, Any]) -> tuple:
    """The picker's groups in CHART_GROUPS' order, the default charts first within them, then by label."""
    groups = list(CHART_GROUPS.values())
    group = groups.index(chart["group"]) if chart["group"] in groups else len(groups)
    preferred = views.DEFAULT_CHARTS.index(chart["label"]) if chart["label"] in views.DEFAULT_CHARTS else len(
        views.DEFAULT_CHARTS)
    return group, preferred, chart["label"]


def _chart_from_report(playlist_id: str, report) -> dict[str, Any]:
    """The current chart from the views: a daily or weekly chart, with streams where stated."""
    info = report.chart
    return {
        "source": "snowflake", "view": f"{info.cadence} chart", "playlist_id": playlist_id,
        "label": info.chart_label, "name": info.playlist_name, "origin": info.origin, "cadence": info.cadence,
        "chart_date": report.chart_date, "snapshot_id": report.snapshot_id, "observed_at": report.observed_at,
        "compared_with": report.previous_chart_date, "missing_days": report.missing_days,
        "week": views.week_of(report.chart_date) if info.cadence == views.WEEKLY else None,
        "has_streams": report.has_streams,
        "rows": [{"position": e["position"], "marker": e["marker"], "status": e["status"], "change": e["change"],
                  "track": e["track_name"], "track_id": e["track_id"], "artists": e["artist_names"],
                  "streams": e.get("streams"), "peak": e.get("peak_position"), "days": e.get("days_on_chart")}
                 for e in report.entries],
    }


def _json_default(value: Any) -> str:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _date_param(params: dict[str, list[str]], name: str) -> date | None:
    value = params.get(name, [""])[0]
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadRequestError(f"{name} must be a date like 2024-03-15") from None


def _int_param(params: dict[str, list[str]], name: str, default: int) -> int:
    value = params.get(name, [""])[0]
    try:
        return int(value) if value else default
    except ValueError:
        raise BadRequestError(f"{name} must be an integer") from None


class _Handler(BaseHTTPRequestHandler):
    server: "DashboardServer"

    def do_GET(self) -> None:  # noqa: N802 - the http.server interface
        if not host_allowed(self.headers.get("Host")):
            log.warning("refused a request for host %r (only 127.0.0.1 and localhost are served)",
                        self.headers.get("Host"))
            self._send_json(HTTPStatus.MISDIRECTED_REQUEST,
                            {"error": "this server answers only requests for 127.0.0.1 or localhost"})
            return
        url = urlparse(self.path)
        if url.path in FILES:
            name, content_type = FILES[url.path]
            self._send(HTTPStatus.OK, (STATIC / name).read_bytes(), content_type)
            return
        params = parse_qs(url.query)
        chart = params.get("chart", [""])[0] or None
        data = self.server.data
        routes: dict[str, Callable[[], Any]] = {
            "/api/charts": data.charts,
            "/api/chart": lambda: data.current_chart(chart),
            "/api/bump": lambda: data.bump(chart, _date_param(params, "from"), _date_param(params, "to"),
                                           _int_param(params, "top", DEFAULT_TOP)),
            "/api/track": lambda: data.track(chart, params.get("track", [""])[0] or None),
            "/api/movements": lambda: data.movements(chart, _int_param(params, "limit", 30)),
            "/api/health": data.health,
            "/api/track-grid": lambda: data.pages.track_grid(params.get("track", [""])[0] or None,
                                                             _date_param(params, "from"), _date_param(params, "to")),
            "/api/records": lambda: data.pages.records(chart),
            "/api/number-ones": lambda: data.pages.number_ones(chart, _date_param(params, "from"),
                                                               _date_param(params, "to")),
        }
        if url.path not in routes:
            self._send_json(HTTPStatus.NOT_FOUND, {"error": "not found"})
            return
        if not self.server.in_flight.acquire(timeout=self.server.queue_seconds):
            self.server.refused += 1
            self._send_json(HTTPStatus.SERVICE_UNAVAILABLE, {"error": "busy: too many requests at once, retry shortly"},
                            {"Retry-After": str(RETRY_AFTER_SECONDS)})
            return
        try:
            self._answer(url.path, routes[url.path])
        finally:
            self.server.in_flight.release()

    def _answer(self, path: str, route: Callable[[], Any]) -> None:
        try:
            body, status = route(), HTTPStatus.OK
        except BadRequestError as error:
            body, status = {"error": str(error)}, HTTPStatus.BAD_REQUEST
        except (NotFoundError, views.ChartNotFoundError) as error:  # messages written for users
            body, status = {"error": str(error)}, HTTPStatus.NOT_FOUND
        except Exception:  # noqa: BLE001 - answer the page, log the cause
            error_id = log_error(log, "%s failed", path)
            body, status = {"error": f"internal error ({error_reference(error_id)})", "error_id": error_id}, \
                HTTPStatus.INTERNAL_SERVER_ERROR
        self._send_json(status, body)

    def _send_json(self, status: HTTPStatus, body: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(body, default=_json_default, ensure_ascii=False).encode(),
                   "application/json; charset=utf-8", headers)

    def _send(self, status: HTTPStatus, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def end_headers(self) -> None:
        for name, value in SECURITY_HEADERS.items():  # on every answer, http.server's own errors too
            self.send_header(name, value)
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the http.server signature
        log.debug("%s - %s", self.address_string(), format % args)


class DashboardServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, data: DashboardData, port: int = 0, *, max_in_flight: int = MAX_IN_FLIGHT,
                 queue_seconds: float = QUEUE_SECONDS):
        self.data = data
        self.in_flight = threading.BoundedSemaphore(max_in_flight)  # API requests being answered
        self.queue_seconds = queue_seconds
        self.refused = 0  # API requests answered 503 (busy)
        super().__init__(("127.0.0.1", port), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"
