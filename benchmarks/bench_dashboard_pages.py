"""Benchmark: the dashboard's track, records and #1 calendar pages (#19) over a year of two
markets on the local engine, end to end through the dashboard server.

A year of real chart exports (default: the shared year, the Argentina and Global daily Top
200s with streams, and the weekly Global files) goes into a fresh database on the local
engine (fakesnow, reached by the real connector) through the pipeline's records, curated
files, COPY and MERGE (localdev.local_snowflake.exports). The real `spotify-charts
dashboard` command serves it in a child process. For each page, the API requests its
script makes when it opens (each after the one before, as the script waits for them) are
sent over HTTP and timed from the first request to the last byte of the last answer:
the page's answer time, median of --runs, against the goal of 1 s. Beside them, measured
in the same run: the reference of bench_intelligence.py (the existing daily_chart view's
chart of one day, straight through the connector) and the dashboard's front page.

With --pictures DIR, headless Chromium also saves a picture of each page over that year
(docs/dashboard-track.png, -records.png, -calendar.png come from here).

    .venv/bin/python benchmarks/bench_dashboard_pages.py [--exports PATH ...] [--runs 5] [--pictures DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_intelligence import load  # noqa: E402  (the same loading, with its progress)
from localdev import browser  # noqa: E402
from localdev.local_snowflake.engine import fakesnow_server, local_environ  # noqa: E402
from localdev.process import ManagedProcess, free_port, http_ready  # noqa: E402
from snowflake.charts import connection  # noqa: E402
from snowflake.charts.migrate import default_variables, migrate  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
DEFAULT_EXPORTS = [SHARED / "chart-export", SHARED / "chart-export-weekly"]
AR, GLOBAL = "regional-ar-daily", "regional-global-daily"
GOAL_SECONDS = 1.0
# The producer's and the Glue job's settings: this run serves the views alone.
NOT_SERVED = ("STATE_BUCKET", "GLUE_CHECKPOINT_PATH", "SNOWPIPE_QUEUE_URL", "PLAYLISTS")


@dataclass(frozen=True)
class Page:
    name: str
    address: str  # the page, for its picture
    requests: tuple[str, ...]  # what its script fetches when it opens, in order


def data_facts(db) -> dict:
    """What the pages are asked for: the track on the most grid cells (the heaviest track
    page), the most-streamed track on both daily markets (the picture's), the charts."""
    cursor = db.cursor()
    cursor.execute("SELECT track_id FROM track_market_grid GROUP BY track_id ORDER BY COUNT(*) DESC, track_id LIMIT 1")
    longest = cursor.fetchone()[0]
    cursor.execute("""SELECT track_id FROM track_market_grid WHERE playlist_id IN (%s, %s) GROUP BY track_id
                      HAVING COUNT(DISTINCT playlist_id) = 2 ORDER BY SUM(streams) DESC LIMIT 1""", (AR, GLOBAL))
    hit = cursor.fetchone()[0]
    cursor.execute("SELECT COUNT(*), COUNT(DISTINCT playlist_id), MIN(chart_date), MAX(chart_date) FROM chart_entries")
    entries, charts, first, last = cursor.fetchone()
    return {"longest": longest, "hit": hit, "entries": entries, "charts": charts, "first": first, "last": last}


def pages(facts: dict) -> list[Page]:
    charts = "api/charts"  # the picker of the records and calendar pages, fetched first
    return [
        Page("track page, the longest-charting track", f"track?track={facts['longest']}",
             (f"api/track-grid?track={facts['longest']}",)),
        Page("track page, the most-streamed track", f"track?track={facts['hit']}",
             (f"api/track-grid?track={facts['hit']}",)),
        Page("records page, Argentina", f"records?chart={AR}", (charts, f"api/records?chart={AR}")),
        Page("records page, Global", f"records?chart={GLOBAL}", (charts, f"api/records?chart={GLOBAL}")),
        Page("#1 calendar, Argentina", f"calendar?chart={AR}", (charts, f"api/number-ones?chart={AR}")),
        Page("#1 calendar, Global", f"calendar?chart={GLOBAL}", (charts, f"api/number-ones?chart={GLOBAL}")),
    ]


def front_page(facts: dict) -> Page:
    """The existing front page's requests one after another (its script sends some at once:
    an upper bound); movements need the producer's bucket, which this run leaves out."""
    return Page("front page (existing), requests in a row", f"?chart={GLOBAL}", (
        "api/charts", f"api/chart?chart={GLOBAL}", f"api/bump?chart={GLOBAL}&top=10",
        f"api/track?chart={GLOBAL}&track={facts['hit']}", "api/health"))


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=120) as response:
        body = response.read()
    json.loads(body)  # a whole answer, not a cut one
    return body


def page_seconds(base: str, page: Page, runs: int) -> tuple[float, list[float]]:
    """Median seconds of the page's requests in a row, and each request's median."""
    totals, each = [], [[] for _ in page.requests]
    for _ in range(runs):
        started = time.perf_counter()
        for n, path in enumerate(page.requests):
            request_started = time.perf_counter()
            fetch(base + path)
            each[n].append(time.perf_counter() - request_started)
        totals.append(time.perf_counter() - started)
    return statistics.median(totals), [statistics.median(s) for s in each]


def reference_seconds(db, runs: int) -> float:
    """bench_intelligence.py's reference: the daily_chart view's chart of one day (Argentina's last)."""
    cursor = db.cursor()
    cursor.execute("SELECT MAX(chart_date) FROM chart_editions WHERE chart_label = %s", (AR,))
    day, seconds = cursor.fetchone()[0], []
    for _ in range(runs):
        started = time.perf_counter()
        cursor.execute("SELECT * FROM daily_chart WHERE chart_label = %s AND chart_date = %s", (AR, day))
        cursor.fetchall()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


def print_page(page: Page, seconds: float, each: list[float], reference: float) -> bool:
    verdict = "within" if seconds <= GOAL_SECONDS else "OVER"
    print(f"  {page.name:<42} {seconds:6.3f} s  {seconds / reference:5.1f} x reference, {verdict} the "
          f"{GOAL_SECONDS:.0f} s goal")
    for path, s in zip(page.requests, each):
        print(f"      {s:6.3f} s  /{path[:80]}")
    return seconds <= GOAL_SECONDS


def take_pictures(base: str, facts: dict, folder: Path, work: Path) -> None:
    """A picture of each new page over the year: the most-streamed track's page, the Global
    records, the Argentine #1 calendar."""
    folder.mkdir(parents=True, exist_ok=True)
    shots = {"dashboard-track.png": (f"track?track={facts['hit']}", 880),
             "dashboard-records.png": (f"records?chart={GLOBAL}", 640),
             "dashboard-calendar.png": (f"calendar?chart={AR}", 1480)}
    for name, (address, height) in shots.items():
        browser.screenshot(base + address, folder / name, work, window=(1440, height))
        print(f"  {folder / name}  ({address})")


def serve_and_measure(environ: dict, facts: dict, db, args, work: Path) -> bool:
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    argv = [sys.executable, "-m", "spotify_charts", "dashboard", "--port", str(port)]
    with ManagedProcess(argv, ready=http_ready(base + "api/charts"), name="dashboard", env=environ,
                        log_path=work / "dashboard.log", start_timeout=60):
        fetch(base + "api/charts")  # the server's first request opens its connection: not timed
        reference = reference_seconds(db, args.runs)
        print(f"Answer times (median of {args.runs} runs; goal: each page at most {GOAL_SECONDS:.0f} s)")
        print(f"  {'reference: daily_chart, one day (connector)':<42} {reference:6.3f} s")
        ok = all([print_page(page, *page_seconds(base, page, args.runs), reference) for page in pages(facts)])
        front = front_page(facts)
        print_page(front, *page_seconds(base, front, args.runs), reference)
        if args.pictures:
            print("Pictures")
            take_pictures(base, facts, args.pictures, work)
    return ok


def run(args, work: Path) -> bool:
    with fakesnow_server() as url:
        environ = {k: v for k, v in os.environ.items() if k not in NOT_SERVED}
        environ.update(local_environ(url), SNOWFLAKE_DATABASE=f"PAGES_{uuid.uuid4().hex[:8].upper()}",
                       PYTHONPATH=str(Path(__file__).resolve().parents[1]))
        with connection.connect(environ) as db:
            migrate(db, local=True, variables=default_variables(environ))
            print(f"Loading {', '.join(map(str, args.exports))}", flush=True)
            load(db, args.exports, work / "stage")
            facts = data_facts(db)
            print(f"Held: {facts['entries']:,} chart entries of {facts['charts']} charts, {facts['first']} .. "
                  f"{facts['last']}")
            ok = serve_and_measure(environ, facts, db, args, work)
    print("every page within the goal" if ok else "SOME PAGE IS OVER THE GOAL")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--exports", nargs="+", type=Path, default=DEFAULT_EXPORTS,
                        help="export CSV files, folders or zips (default: the shared year and weekly files)")
    parser.add_argument("--runs", type=int, default=5, help="runs per page (the median is printed)")
    parser.add_argument("--pictures", type=Path, help="save a picture of each page in this folder")
    args = parser.parse_args(argv)
    missing = [str(p) for p in args.exports if not p.exists()]
    if missing:
        parser.error(f"not found: {', '.join(missing)}")
    with tempfile.TemporaryDirectory(prefix="bench-dashboard-pages-") as work:
        return 0 if run(args, Path(work)) else 1


if __name__ == "__main__":
    raise SystemExit(main())
