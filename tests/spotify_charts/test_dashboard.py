"""The dashboard, served by the real command in a child process and rendered by headless
Chromium, on realistic data:

* a month of the real global and US charts in the local engine, up to 2024-03-16 (loaded
  through the pipe's COPY and the merge task);
* the producer's handler polling the local Spotify server twice (the charts of 2024-03-16,
  then of 2024-03-17: the producer dates each read by the day the server serves), with its
  state and movement events on moto; the global records of 2024-03-17 also loaded into
  the engine, so the views hold the version the producer delivered;
* imported chart exports beside them (tests/spotify_charts/chart_exports.py): the real
  Global daily Top 200 of May 2024 with streams, the Global weekly files, two Argentina
  files and a viral chart made from them (no streams);
* a Glue run-metrics object and a Snowpipe queue with files waiting.

The screenshots are saved in the tests' output folders; the imported chart's is copied to
$SPOTIFY_CHARTS_SCREENSHOT when set (docs/dashboard.png:
``SPOTIFY_CHARTS_SCREENSHOT=docs/dashboard.png pytest tests/spotify_charts/test_dashboard.py -k imported``).
"""
from __future__ import annotations

import html
import json
import os
import re
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
from tests.spotify_charts.chart_exports import bundled, dashboard_files, load_exports, read_csv
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
        exports = load_exports(db, work / "exports-stage", dashboard_files())

    # What the Glue job leaves at the end of a run (glue_streaming/metrics.py: RunMetrics.to_dict).
    runs = work / "checkpoint" / "run_metrics"
    runs.mkdir(parents=True)
    finished = datetime.now(timezone.utc) - timedelta(minutes=3)
    (runs / "run-20240101T000000000000Z.json").write_text(json.dumps({
        "event": "glue_streaming_run", "started_at": "2024-01-01T00:00:00.000000Z",
        "finished_at": "2024-01-01T00:01:00.000000Z", "seconds": 60.0, "files_read": 4, "records_read": 400,
        "curated": 390, "observations": 10, "quarantined": 0, "batches": 1}))
    (runs / f"run-{finished:%Y%m%dT%H%M%S%f}Z.json").write_text(json.dumps({
        "event": "glue_streaming_run", "started_at": (finished - timedelta(seconds=42)).isoformat(),
        "finished_at": finished.isoformat(), "seconds": 42.0, "rows_per_second": 5, "files_read": 2,
        "records_read": 202, "curated": 200 - QUARANTINED, "observations": 2, "quarantined": QUARANTINED,
        "batches": 1, "batch_details": []}))

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
        yield {"url": url, "work": work, "first": first, "second": second, "producer": producer_env,
               "exports": exports}


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
    assert pending["details"]["files"] == history_files + 1 + pipeline["exports"].files  # today's global, exports
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


# -- imported chart exports -------------------------------------------------------------

EXPORT = "regional-global-daily"  # the real Global Top 200 of May 2024, with streams


def file_rows(name: str) -> list[dict]:
    """An imported file's rows as the CSV states them: (position, track id, name, streams)."""
    [(_, data)] = bundled(name)
    return [{"position": int(r["rank"]), "track_id": r["uri"].removeprefix("spotify:track:"),
             "track": r["track_name"], "streams": int(r["streams"]) if r.get("streams") else None}
            for r in read_csv(data)]


@pytest.fixture(scope="module")
def truth(tmp_path_factory):
    """What the imported files alone say (benchmarks/truth, no project code)."""
    from benchmarks.truth.chart_exports import all_truths

    folder = tmp_path_factory.mktemp("imported")
    for name, data in dashboard_files():
        (folder / name).write_bytes(data)
    return all_truths(folder)


def http_error(pipeline, path: str) -> int:
    try:
        urllib.request.urlopen(pipeline["url"] + path, timeout=30)
    except urllib.error.HTTPError as error:
        assert "error" in json.loads(error.read())
        return error.code
    pytest.fail(f"{path} answered 200")


def test_the_chart_picker_lists_every_chart_by_origin_and_cadence(pipeline):
    listing = get(pipeline, "api/charts")
    assert listing["default"] == "global"
    daily, weekly = "Imported chart exports: daily", "Imported chart exports: weekly"
    assert [(c["group"], c["label"], c["origin"], c["cadence"]) for c in listing["charts"]] == [
        ("Playlists", "global", "playlist", "daily"), ("Playlists", "us", "playlist", "daily"),
        (daily, EXPORT, "chart_export", "daily"),  # the Global export first in its group
        (daily, "regional-ar-daily", "chart_export", "daily"), (daily, "viral-ar-daily", "chart_export", "daily"),
        (weekly, "regional-global-weekly", "chart_export", "weekly")]
    by_label = {c["label"]: c for c in listing["charts"]}
    assert (by_label[EXPORT]["days"], by_label[EXPORT]["first_date"], by_label[EXPORT]["last_date"]) == (
        31, "2024-05-01", "2024-05-31")
    assert by_label["regional-global-weekly"]["days"] == 3 and by_label[EXPORT]["name"] == "Daily Top Songs Global"


def test_an_imported_top_200_is_shown_whole_with_its_streams(pipeline, truth):
    chart = get(pipeline, f"api/chart?chart={EXPORT}")
    assert (chart["source"], chart["origin"], chart["cadence"], chart["view"]) == (
        "snowflake", "chart_export", "daily", "daily chart")
    assert (chart["chart_date"], chart["compared_with"], chart["has_streams"]) == ("2024-05-31", "2024-05-30", True)
    assert [{k: r[k] for k in ("position", "track_id", "track", "streams")} for r in chart["rows"]] == file_rows(
        f"{EXPORT}-2024-05-31.csv")
    [edition] = [c for c in truth[EXPORT].charts if c.day == date(2024, 5, 31)]
    assert [(r["status"], r["change"]) for r in chart["rows"]] == [(r.status, r.change) for r in edition.rows]
    stats = truth[EXPORT].stats
    assert all((r["peak"], r["days"]) == (stats[(r["track_id"], "")].peak_position,
                                          stats[(r["track_id"], "")].days_on_chart) for r in chart["rows"])

    weekly = get(pipeline, "api/chart?chart=regional-global-weekly")
    assert (weekly["cadence"], weekly["view"], weekly["chart_date"], weekly["week"]) == (
        "weekly", "weekly chart", "2024-05-30", ["2024-05-24", "2024-05-30"])
    assert (weekly["compared_with"], weekly["missing_days"]) == ("2024-04-25", 28)
    assert [r["streams"] for r in weekly["rows"]] == [r["streams"] for r in file_rows(
        "regional-global-weekly-2024-05-30.csv")]
    viral = get(pipeline, "api/chart?chart=viral-ar-daily")
    assert not viral["has_streams"] and len(viral["rows"]) == 50 and {r["streams"] for r in viral["rows"]} == {None}


def test_a_track_s_positions_and_streams_over_time(pipeline):
    number_one = file_rows(f"{EXPORT}-2024-05-31.csv")[0]
    track = get(pipeline, f"api/track?chart={EXPORT}&track={number_one['track_id']}")
    expected = [(f"2024-05-{day:02d}", row["position"], row["streams"]) for day in range(1, 32)
                for row in file_rows(f"{EXPORT}-2024-05-{day:02d}.csv") if row["track_id"] == number_one["track_id"]]
    assert list(zip(track["dates"], track["positions"], track["streams"])) == expected and len(expected) > 20
    assert (track["name"], track["has_streams"]) == (number_one["track"], True)
    assert track["total_streams"] == sum(streams for _, _, streams in expected)
    viral_one = get(pipeline, "api/chart?chart=viral-ar-daily")["rows"][0]
    viral = get(pipeline, f"api/track?chart=viral-ar-daily&track={viral_one['track_id']}")
    assert not viral["has_streams"] and viral["streams"] == [None, None] and viral["total_streams"] == 0
    assert http_error(pipeline, f"api/track?chart={EXPORT}") == 400  # which track?
    assert http_error(pipeline, f"api/track?chart={EXPORT}&track=nope") == 404


def test_the_bump_chart_follows_a_top_200(pipeline):
    bump = get(pipeline, f"api/bump?chart={EXPORT}&top=200")
    days = [f"2024-05-{day:02d}" for day in range(1, 32)]
    assert (bump["from"], bump["to"], bump["dates"], bump["cadence"]) == (days[0], days[-1], days, "daily")
    charts = {day: {r["track_id"]: r["position"] for r in file_rows(f"{EXPORT}-{day}.csv")} for day in days}
    assert {t["track_id"] for t in bump["tracks"]} == set().union(*charts.values())
    for track in bump["tracks"]:
        assert track["positions"] == [charts[day].get(track["track_id"]) for day in days]
    assert http_error(pipeline, f"api/bump?chart={EXPORT}&top=201") == 400


def dom_texts(dom: str, pattern: str) -> list[str]:
    """The texts of the elements a regular expression finds in a rendered DOM."""
    return [html.unescape(text) for text in re.findall(pattern, dom)]


def test_an_imported_chart_renders_with_streams_in_headless_chromium(pipeline, tmp_path):
    rows = file_rows(f"{EXPORT}-2024-05-31.csv")
    fifth = rows[4]["track_id"]
    rendered = browser.render(pipeline["url"] + f"?chart={EXPORT}&top=10&track={fifth}", tmp_path)
    refused = [m for m in rendered.console
               if "Content Security Policy" in m or "requires 'Trusted" in m or m.startswith("Uncaught")]
    assert not refused, rendered.console
    dom = Elements(rendered.dom)
    assert dom.select("body")[0]["data-ready"] == "true"
    # The picker: every chart, grouped and marked by origin and cadence.
    assert [g["label"] for g in dom.select("optgroup", inside="chart")] == [
        "Playlists", "Imported chart exports: daily", "Imported chart exports: weekly"]
    assert {o["value"]: (o["data-origin"], o["data-cadence"]) for o in dom.select("option", inside="chart")}[
        "regional-global-weekly"] == ("chart_export", "weekly")
    # All 200 positions, with a streams column holding the file's streams, readably.
    table = [r for r in dom.select("tr", inside="chart-table") if "data-position" in r]
    assert [int(r["data-position"]) for r in table] == list(range(1, 201))
    assert dom_texts(rendered.dom, r'<th class="streams num">([^<]*)</th>') == ["Streams"]
    assert dom_texts(rendered.dom, r'<td class="streams num"[^>]*>([^<]*)</td>') == [
        f"{r['streams']:,}" for r in rows]
    assert [r["data-track"] for r in table if r.get("class") == "selected"] == [fifth]  # ?track= followed
    # The chosen track over time: its streams and its position, a point per chart it was on.
    plots = {svg.get("class"): svg for svg in dom.select("svg", inside="track-plot")}
    assert set(plots) == {"streams-plot", "position-plot"}
    history = get(pipeline, f"api/track?chart={EXPORT}&track={fifth}")
    assert len(dom.select("circle", inside="track-plot")) == 2 * len(history["dates"])
    [sub] = dom_texts(rendered.dom, r'<p class="sub" id="track-sub">([^<]*)</p>')
    assert sub.startswith(f"{history['name']} — ") and f"{history['total_streams']:,} streams in all" in sub
    bump = get(pipeline, f"api/bump?chart={EXPORT}&top=10")
    assert len([p for p in dom.select("path", inside="bump-plot") if p.get("class") == "bump-line"]) == len(
        bump["tracks"])
    [current] = dom_texts(rendered.dom, r'<p class="sub" id="current-sub">([^<]*)</p>')
    assert "imported chart export · daily chart of 2024-05-31, compared with 2024-05-30 · 200 positions" in current

    shot = tmp_path / "dashboard-imported.png"
    width, height = browser.screenshot(pipeline["url"] + f"?chart={EXPORT}&top=10", shot, tmp_path,
                                       window=(1440, 1500))
    assert (width, height) == (1440, 1500) and shot.stat().st_size > 50_000
    print(f"dashboard screenshot of an imported chart: {shot}")
    if os.environ.get("SPOTIFY_CHARTS_SCREENSHOT"):
        shutil.copyfile(shot, os.environ["SPOTIFY_CHARTS_SCREENSHOT"])


def test_a_chart_without_streams_renders_without_a_streams_column(pipeline, tmp_path):
    rendered = browser.render(pipeline["url"] + "?chart=viral-ar-daily", tmp_path)
    assert not [m for m in rendered.console if m.startswith("Uncaught") or "Content Security Policy" in m]
    dom = Elements(rendered.dom)
    assert len([r for r in dom.select("tr", inside="chart-table") if "data-position" in r]) == 50
    assert dom_texts(rendered.dom, r'<th[^>]*>([^<]*)</th>') == ["#", "Move", "Track", "Artists", "Peak", "Days"]
    assert [svg.get("class") for svg in dom.select("svg", inside="track-plot")] == ["position-plot"]
    [sub] = dom_texts(rendered.dom, r'<p class="sub" id="track-sub">([^<]*)</p>')
    assert sub.endswith("this chart states no streams")
