"""The dashboard, served by the real command in a child process and rendered by headless
Chromium, on realistic data:

* a month of the real global and US charts in the local engine, up to 2024-03-16 (loaded
  through the pipe's COPY and the merge task);
* the producer's handler polling the local Spotify server twice (the charts of 2024-03-16,
  then of 2024-03-17: the producer dates each read by the day the server serves), with its
  state and movement events on moto; the global records of 2024-03-17 also loaded into
  the engine, so the views hold the version the producer delivered;
* a Glue run-metrics object and a Snowpipe queue with files waiting.

The screenshot is saved in the test's output folder (and copied to
$SPOTIFY_CHARTS_SCREENSHOT when set, e.g. docs/dashboard.png).
"""
from __future__ import annotations

import json
import os
import shutil
import urllib.request
from datetime import date, datetime, timedelta, timezone
from html.parser import HTMLParser

import boto3
import pytest

from local_spotify.catalog import load_market
from localdev.aws import apply_environ, restore_environ
from localdev.process import ManagedProcess, free_port, http_ready
from snowflake.charts import connection
from tests.spotify_charts import browser
from tests.spotify_charts.chart_history import load_history, load_rows, rows_from_records
from tests.spotify_charts.conftest import CLI, child_environ
from tests.conftest import unique_name

pytestmark = pytest.mark.browser  # headless Chromium renders the page

HISTORY_FIRST, HISTORY_LAST = date(2024, 2, 16), date(2024, 3, 16)  # the producer then polls 03-16 and 03-17
TODAY = date(2024, 3, 17)  # the server's chart day at the second poll: the producer's records are dated so
QUARANTINED = 2


@pytest.fixture(scope="module")
def pipeline(producer_env, engine_environ, tmp_path_factory):
    work = tmp_path_factory.mktemp("dashboard")
    # Adaptive polling, as the stack runs it: reads dated by the replayed days are long past
    # by this machine's clock, so each poll reads both charts; the schedule keeps its state.
    previous = apply_environ({"POLL_SCHEDULE": "adaptive"})
    try:
        first = producer_env.poll()  # chart of 2024-03-16 (the history's last day)
        producer_env.spotify.control.advance(1)
        second = producer_env.poll()  # 2024-03-17
    finally:
        restore_environ(previous)
    assert not first["failed"] and not second["failed"] and second["movements"]
    today_global = [r for r in producer_env.records()
                    if r["poll_id"] == second["poll_id"] and r["chart_label"] == "global"]
    with connection.connect() as db:
        for label in ("global", "us"):
            load_history(db, work / "stage", label, HISTORY_FIRST, HISTORY_LAST)
        load_rows(db, work / "stage", rows_from_records(today_global, "raw/today", "1-today"), "today.parquet")

    # What the Glue job leaves at the end of a run (glue_streaming/metrics.py: RunMetrics.to_dict).
    runs = work / "checkpoint" / "run_metrics"
    runs.mkdir(parents=True)
    finished = datetime.now(timezone.utc) - timedelta(minutes=3)
    (runs / "run-20240101T000000000000Z.json").write_text(json.dumps({
        "event": "glue_streaming_run", "started_at": "2024-01-01T00:00:00.000000Z",
        "finished_at": "2024-01-01T00:01:00.000000Z", "seconds": 60.0, "files_read": 4, "records_read": 400,
        "curated": 400, "quarantined": 0, "duplicates": 0, "batches": 1}))
    (runs / f"run-{finished:%Y%m%dT%H%M%S%f}Z.json").write_text(json.dumps({
        "event": "glue_streaming_run", "started_at": (finished - timedelta(seconds=42)).isoformat(),
        "finished_at": finished.isoformat(), "seconds": 42.0, "rows_per_second": 5, "files_read": 2,
        "records_read": 202, "curated": 100, "quarantined": QUARANTINED, "duplicates": 100, "batches": 1,
        "tracks": 50, "chart_daily": 100, "batch_details": []}))

    # Two curated files notified and not loaded yet.
    sqs = boto3.client("sqs")
    queue_url = sqs.create_queue(QueueName=unique_name("snowpipe"))["QueueUrl"]
    for n in range(2):
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps({"Records": [{
            "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "curated"},
                                                     "object": {"key": f"curated/chart_entries/f{n}.parquet"}}}]}))

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    argv = [*CLI, "dashboard", "--port", str(port), "--glue-checkpoint", str(work / "checkpoint"),
            "--queue-url", queue_url]
    with ManagedProcess(argv, ready=http_ready(url + "api/charts"), name="dashboard", env=child_environ(),
                        log_path=work / "dashboard.log", start_timeout=60):
        yield {"url": url, "work": work, "first": first, "second": second, "producer": producer_env}


def get(pipeline, path: str) -> dict:
    with urllib.request.urlopen(pipeline["url"] + path.lstrip("/"), timeout=30) as response:
        return json.loads(response.read())


def test_the_current_chart_comes_from_the_views_once_they_hold_the_delivered_version(pipeline):
    chart = get(pipeline, "api/chart?chart=global")
    assert chart["source"] == "snowflake" and chart["chart_date"] == TODAY.isoformat()
    assert chart["view"] == "daily chart"  # the page says which it shows
    assert chart["compared_with"] == (TODAY - timedelta(days=1)).isoformat()
    assert [r["position"] for r in chart["rows"]] == list(range(1, 51))
    replayed = load_market("global")[date(2024, 3, 17)]
    assert [r["track"] for r in chart["rows"]] == [t.song for t in replayed]
    yesterday = {t.song: t.position for t in load_market("global")[date(2024, 3, 16)]}
    for row in chart["rows"]:
        if row["track"] in yesterday:
            assert row["change"] == yesterday[row["track"]] - row["position"]
        else:
            assert row["status"] in ("NEW", "RE-ENTRY")
        assert row["days"] >= 1 and row["peak"] <= row["position"]
    # The producer's own movement event says the same about the big moves.
    moves = get(pipeline, "api/movements?chart=global&limit=200")["movements"]
    climbs = {m["name"]: m["change"] for m in moves if m["kind"] == "climbs"}
    assert climbs and all(next(r for r in chart["rows"] if r["track"] == name)["change"] == change
                          for name, change in climbs.items())


def test_a_chart_not_loaded_yet_comes_from_the_producer_state(pipeline):
    chart = get(pipeline, "api/chart?chart=us")
    assert chart["source"] == "producer state" and chart["view"] == "latest snapshot"
    replayed = load_market("us")[date(2024, 3, 17)]
    assert [r["track"] for r in chart["rows"]] == [t.song for t in replayed]
    moves = get(pipeline, "api/movements?chart=us&limit=200")["movements"]
    new = {m["name"] for m in moves if m["kind"] == "new_entries"}
    assert new and {r["track"] for r in chart["rows"] if r["marker"] == "NEW"} == new


def test_the_bump_chart_data_follows_the_top_tracks_over_the_period(pipeline):
    bump = get(pipeline, "api/bump?chart=global&top=10")
    first = HISTORY_FIRST  # by default the last 6 months of daily charts, or all there are
    assert bump["from"] == first.isoformat() and bump["to"] == TODAY.isoformat()
    history = {d: chart for d, chart in load_market("global").items()
               if HISTORY_FIRST <= d <= HISTORY_LAST} | {TODAY: load_market("global")[TODAY]}
    period = sorted(d for d in history if first <= d <= TODAY)
    assert bump["dates"] == [d.isoformat() for d in period]  # a date without a chart stays out
    contenders = {t.track_id for d in period for t in history[d] if t.position <= 10}
    assert {t["track_id"] for t in bump["tracks"]} == contenders
    for track in bump["tracks"]:
        for d, position in zip(period, track["positions"]):
            on_chart = [t.position for t in history[d] if t.track_id == track["track_id"]]
            assert position == (on_chart[0] if on_chart else None)


def test_health_reports_every_stage(pipeline):
    checks = get(pipeline, "api/health")["checks"]
    poll = checks["last_poll"]
    assert poll["status"] == "ok" and poll["details"]["poll_id"] == pipeline["second"]["poll_id"]
    assert poll["details"]["charts_with_state"] == 2
    # The heartbeat every poll writes, changed charts or not.
    assert poll["details"]["last_poll_id"] == pipeline["second"]["poll_id"] and poll["details"]["last_poll_failed"] == 0
    assert poll["summary"].startswith("last poll ")
    glue = checks["last_glue_run"]
    assert glue["status"] == "ok" and glue["details"]["records_read"] == 202 and glue["details"]["runs"] == 2
    pending = checks["pending_load"]
    assert pending["status"] == "warning" and pending["details"]["queued_notifications"] == 2
    history_files = sum(1 for label in ("global", "us") for d in load_market(label)
                        if HISTORY_FIRST <= d <= HISTORY_LAST)  # one file per chart and day
    assert pending["details"]["files"] == history_files + 1  # and today's global file
    quarantine = checks["quarantine"]
    assert quarantine["status"] == "warning" and quarantine["details"]["quarantined_total"] == QUARANTINED
    # Adaptive polling's state: a flip seen only between two replayed days tells no hour yet.
    polling = checks["polling"]
    assert polling["status"] == "ok" and polling["summary"].endswith("global learning, us learning")
    assert {(c["chart"], c["flip_time"], c["last_read_day"], c["reads_that_day"])
            for c in polling["details"]["charts"]} == {("global", None, TODAY.isoformat(), 1),
                                                       ("us", None, TODAY.isoformat(), 1)}


def test_bad_requests_get_clear_errors(pipeline):
    for path, status in (("api/bump?top=0", 400), ("api/bump?from=yesterday", 400), ("api/chart?chart=nope", 404),
                         ("api/nothing", 404)):
        try:
            urllib.request.urlopen(pipeline["url"] + path, timeout=30)
        except urllib.error.HTTPError as error:
            assert error.code == status, path
            assert "error" in json.loads(error.read())
        else:
            pytest.fail(f"{path} answered 200")


class Elements(HTMLParser):
    """Start tags of a document with their attributes and the ids of their ancestors."""

    VOID = {"meta", "link", "input", "br", "img", "hr", "circle", "line", "path", "source"}

    def __init__(self, html: str):
        super().__init__()
        self.found: list[tuple[str, dict, tuple[str, ...]]] = []
        self._open: list[tuple[str, str | None]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.found.append((tag, attrs, tuple(i for _, i in self._open if i)))
        if tag not in self.VOID:
            self._open.append((tag, attrs.get("id")))

    def handle_startendtag(self, tag, attrs):
        self.found.append((tag, dict(attrs), tuple(i for _, i in self._open if i)))

    def handle_endtag(self, tag):
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i][0] == tag:
                del self._open[i:]
                break

    def select(self, tag: str, inside: str | None = None, **attrs: str) -> list[dict]:
        return [a for t, a, ids in self.found if t == tag and (inside is None or inside in ids)
                and all(a.get(k.replace("_", "-")) == v for k, v in attrs.items())]


def test_the_page_renders_in_headless_chromium(pipeline, tmp_path):
    page = pipeline["url"] + "?chart=global&top=10"
    rendered = browser.render(page, tmp_path)
    # The browser enforces the dashboard's Content-Security-Policy (Trusted Types included):
    # nothing of the page was refused, and its script ran without an error.
    refused = [m for m in rendered.console
               if "Content Security Policy" in m or "requires 'Trusted" in m or m.startswith("Uncaught")]
    assert not refused, rendered.console
    dom = Elements(rendered.dom)
    [body] = dom.select("body")
    assert body["data-ready"] == "true"  # every panel loaded
    rows = dom.select("tr", inside="chart-table")
    assert len([r for r in rows if "data-position" in r]) == 50
    bump = get(pipeline, "api/bump?chart=global&top=10")
    lines = [p for p in dom.select("path", inside="bump-plot") if p.get("class") == "bump-line"]
    assert len(lines) == len(bump["tracks"]) > 10
    assert all(p["d"].startswith("M") for p in lines)
    movements = get(pipeline, "api/movements?limit=40")["movements"]
    assert len(dom.select("li", inside="movements", **{"class": "movement"})) == len(movements) > 0
    statuses = {c["data-check"]: c["data-status"] for c in dom.select("div", inside="health") if "data-check" in c}
    assert statuses == {"last_poll": "ok", "polling": "ok", "last_glue_run": "ok", "pending_load": "warning",
                        "quarantine": "warning"}
    assert {li["data-chart"] for li in dom.select("li", inside="health")} == {"global", "us"}

    shot = tmp_path / "dashboard.png"
    width, height = browser.screenshot(page, shot, tmp_path, window=(1440, 1500))
    assert (width, height) == (1440, 1500) and shot.stat().st_size > 50_000  # a rendered page, not a blank one
    print(f"dashboard screenshot: {shot}")
    if os.environ.get("SPOTIFY_CHARTS_SCREENSHOT"):
        shutil.copyfile(shot, os.environ["SPOTIFY_CHARTS_SCREENSHOT"])


def test_without_the_views_the_producer_state_still_shows(pipeline):
    """Snowflake not configured, or down: the charts and the current chart come from the producer."""
    from spotify_charts.dashboard import DashboardData, SnowflakeViews
    from spotify_charts.settings import MonitorSettings

    def engine_down():
        raise ConnectionError("engine down")

    settings = MonitorSettings.from_env()
    cases = ((SnowflakeViews(None), None, LookupError),
             (SnowflakeViews(engine_down), "Snowflake views unreadable (error id ", ConnectionError))
    for snowflake, problem, bump_error in cases:
        data = DashboardData(settings, snowflake)
        charts = data.charts()
        assert [c["label"] for c in charts["charts"]] == ["global", "us"]
        assert (charts["problem"] is None) if problem is None else (problem in charts["problem"])
        assert "engine down" not in json.dumps(charts)  # the error's text stays in the log
        assert data.current_chart("global")["source"] == "producer state"
        with pytest.raises(bump_error):  # the bump chart needs the views: its panel shows why
            data.bump("global", None, None, 10)
        assert data.health()["checks"]["last_poll"]["status"] == "ok"
