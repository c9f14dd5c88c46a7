"""Load bounds (#21 item 7): the chart report and a dashboard refresh over today's history
and over ten times as much, measured in one run.

    .venv/bin/python benchmarks/bench_views.py              # 1x, then 10x (make bench-views, ~4 min)
    .venv/bin/python benchmarks/bench_views.py --eras 3     # a quicker look

History: the real daily Top 50 of the 10 bundled markets (benchmarks/curated_history.py):
one era is today's history (556 charted days per market, 249,450 entries and 5,560
observations as the producer sends them), era k the same 560 days later. Each era is
loaded as a backfill through the pipes' COPY and the merge task, which stores the
editions, movements and exits (the chart store). Then, at 1 era and at all of them:

- report: ``spotify-charts report --chart us`` for the latest day (text), median of N;
- dashboard refresh: the page's full refresh against the real dashboard server over HTTP
  (``/api/charts``, then ``/api/chart``; ``/api/bump`` and ``/api/track`` after it,
  ``/api/health`` beside), with the chart list read afresh each time (its cache empty);
- 8 tabs refreshing at once: wall time, and requests told to retry (HTTP 503);
- a day's merge: one more day of every chart merged, the chart store refreshed from it.

The reference is the same measurement at 1 era in the same run: the 10x / 1x ratio says
how the cost grows with history (1.0: not at all; 10: in proportion).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pyarrow.compute as pc  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from benchmarks.curated_history import ERA_DAYS, era_tables, last_chart_date  # noqa: E402
from glue_streaming.curated import CHART_ENTRIES_DATASET, CHART_OBSERVATIONS_DATASET  # noqa: E402
from local_spotify.catalog import MARKETS_BY_LABEL  # noqa: E402
from localdev.local_snowflake.engine import fakesnow_server, local_environ  # noqa: E402
from localdev.local_snowflake.loader import CuratedLoader  # noqa: E402
from snowflake.charts import connection  # noqa: E402
from snowflake.charts.migrate import default_variables, migrate  # noqa: E402
from spotify_charts import report  # noqa: E402
from spotify_charts.dashboard import DashboardData, DashboardServer, SnowflakeViews  # noqa: E402
from spotify_charts.settings import MonitorSettings  # noqa: E402

MARKETS = tuple(MARKETS_BY_LABEL)
CHART = "us"
TABS = 8


def copy_table(loader: CuratedLoader, stage: Path, dataset, table, name: str) -> None:
    """One Parquet file of ``table`` in the stage, COPYed by its pipe (no merge). Its path has
    no ``chart_date=`` folder: the local engine would take the folder's date for every row."""
    path = stage / "bench" / dataset.name / f"{name}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    loader.copy(path.relative_to(stage).as_posix())


def load_era(loader: CuratedLoader, stage: Path, era: int) -> tuple[int, float]:
    """A backfill of one era: its entries and observations copied, then merged; (rows, seconds)."""
    started = time.monotonic()
    entries, observations = era_tables(MARKETS, era)
    copy_table(loader, stage, CHART_ENTRIES_DATASET, entries, f"era{era}")
    copy_table(loader, stage, CHART_OBSERVATIONS_DATASET, observations, f"era{era}")
    loader.merge()
    return entries.num_rows + observations.num_rows, time.monotonic() - started


def merge_one_day(loader: CuratedLoader, stage: Path, eras: int) -> float:
    """Seconds to merge one more day of every chart after ``eras`` eras (the next era's first day)."""
    entries, observations = era_tables(MARKETS, eras)
    first = pc.min(observations["chart_date"])
    day = [table.filter(pc.equal(table["chart_date"], first)) for table in (entries, observations)]
    copy_table(loader, stage, CHART_ENTRIES_DATASET, day[0], f"day-after-{eras}")
    copy_table(loader, stage, CHART_OBSERVATIONS_DATASET, day[1], f"day-after-{eras}")
    started = time.monotonic()
    loader.merge()
    return time.monotonic() - started


def median_seconds(action: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.monotonic()
        action()
        times.append(time.monotonic() - started)
    return statistics.median(times)


class Dashboard:
    """The real dashboard server over the engine, in a thread; requests as the page makes them."""

    def __init__(self, environ: dict[str, str]):
        self.data = DashboardData(MonitorSettings(), SnowflakeViews(lambda: connection.connect(environ)))
        self.server = DashboardServer(self.data, port=0)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        self.refused = 0

    def get(self, path: str) -> dict:
        url = f"http://127.0.0.1:{self.server.server_address[1]}{path}"
        try:
            with urllib.request.urlopen(url, timeout=120) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            if error.code != 503:
                raise
            self.refused += 1
            return {}

    def refresh(self) -> None:
        """What the page asks on a full refresh, in its order, the chart list read afresh."""
        self.data.chart_list.seconds = 0  # every refresh reads it again: the cost without the cache
        beside = threading.Thread(target=self.get, args=("/api/health",))
        beside.start()
        chart = self.get(f"/api/chart?chart={CHART}")
        track = chart["rows"][0]["track_id"] if chart.get("rows") else ""
        after = [threading.Thread(target=self.get, args=(path,)) for path in
                 (f"/api/bump?chart={CHART}&top=10", f"/api/track?chart={CHART}&track={track}")]
        for request in after:
            request.start()
        for request in [beside, *after]:
            request.join()

    def tabs(self, count: int) -> float:
        """Seconds for ``count`` tabs refreshing at once (the chart list cached as served)."""
        self.data.chart_list.seconds = 10.0
        started = time.monotonic()
        threads = [threading.Thread(target=self.refresh_cached) for _ in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return time.monotonic() - started

    def refresh_cached(self) -> None:
        for path in (f"/api/chart?chart={CHART}", f"/api/bump?chart={CHART}&top=10", "/api/health"):
            self.get(path)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def measure(db, environ: dict[str, str], loader: CuratedLoader, stage: Path, eras: int, repeats: int) -> dict:
    day = last_chart_date(eras)
    figures = {"report": median_seconds(lambda: report.render_text(report.build_report(db, CHART, day), 10), repeats)}
    dashboard = Dashboard(environ)
    try:
        dashboard.get("/api/charts")
        figures["dashboard refresh"] = median_seconds(dashboard.refresh, repeats)
        figures[f"{TABS} tabs at once"] = dashboard.tabs(TABS)
        figures["retry answers (503)"] = dashboard.refused
    finally:
        dashboard.close()
    figures["a day's merge"] = merge_one_day(loader, stage, eras)
    return figures


def print_figures(first: dict, last: dict, eras: int) -> None:
    print(f"\n{'':<24}{'1x history':>14}{f'{eras}x history':>14}{'ratio':>9}")
    for name in first:
        a, b = first[name], last[name]
        if name.startswith("retry"):
            print(f"{name:<24}{a:>14}{b:>14}")
            continue
        ratio = f"{b / a:.2f}" if a else "-"
        print(f"{name:<24}{a * 1000:>11.0f} ms{b * 1000:>11.0f} ms{ratio:>9}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eras", type=int, default=10, help="history multiple measured after the first (default 10)")
    parser.add_argument("--repeats", type=int, default=5, help="measurements per figure, median kept (default 5)")
    args = parser.parse_args()
    stage = Path(tempfile.mkdtemp(prefix="bench-views-"))
    print(f"load bounds: {len(MARKETS)} markets, one era = {ERA_DAYS} days; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (the machine may be shared)", flush=True)
    try:
        with fakesnow_server() as url:
            environ = {**os.environ, **local_environ(url), "SNOWFLAKE_DATABASE": "BENCH_VIEWS"}
            with connection.connect(environ) as db:
                migrate(db, local=True, variables=default_variables(environ))
                loader = CuratedLoader(db, stage)
                first = run_eras(db, environ, loader, stage, args, 0, 1)
                last = run_eras(db, environ, loader, stage, args, 1, args.eras)
        print_figures(first, last, args.eras)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return 0


def run_eras(db, environ, loader, stage, args, start: int, stop: int) -> dict:
    for era in range(start, stop):
        rows, seconds = load_era(loader, stage, era)
        print(f"era {era + 1}/{args.eras}: {rows:,} rows loaded and merged, chart store refreshed in "
              f"{seconds:.1f} s (a backfill of {ERA_DAYS} days)", flush=True)
    figures = measure(db, environ, loader, stage, stop, args.repeats)
    cursor = db.cursor()
    cursor.execute("SELECT COUNT(*) FROM daily_chart")
    print(f"measured at {stop}x: {cursor.fetchone()[0]:,} rows in daily_chart, up to "
          f"{last_chart_date(stop) + timedelta(days=1)} (the merged day after)", flush=True)
    return figures


if __name__ == "__main__":
    sys.exit(main())
