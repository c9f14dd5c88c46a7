"""Benchmark: the chart-intelligence views (#19) over a year of real chart exports on the
local engine (fakesnow, reached by the real connector), against truth from the CSVs.

1. Truth: the exports (default: the shared year, Argentina and Global daily Top 200 and
   the weekly Global files) go in through the pipeline's records, curated files, COPY and
   MERGE (localdev.local_snowflake.exports); every view is compared with the truth
   computed from the CSV files alone (benchmarks/truth/intelligence.py): rows expected,
   rows right.
2. Speed at two markets: each view's query (what its page asks, all rows fetched; median
   of --runs) against the goal of 1 s, beside a reference measured in the same run: the
   existing daily_chart view's chart of one day.
3. Growth: markets made from the real ones by shifting dates (printed with their source)
   bring the daily markets to 4, then 8; chart_records and track_spread are timed at each
   step beside the entries held, to show how they grow. The truth comparison runs again
   at 8 markets, where spread and lead-lag have several country charts to measure.

    .venv/bin/python benchmarks/bench_intelligence.py [--truth PATH ...] [--runs 3]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.shifted_markets import ShiftedMarket, write_shifted  # noqa: E402
from benchmarks.truth.compare_intelligence import compare_intelligence  # noqa: E402
from benchmarks.truth.intelligence import intelligence_of_files  # noqa: E402
from localdev.local_snowflake.engine import fakesnow_server, local_environ  # noqa: E402
from localdev.local_snowflake.exports import load_exports  # noqa: E402
from snowflake.charts import connection  # noqa: E402
from snowflake.charts.migrate import default_variables, migrate  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
DEFAULT_EXPORTS = [SHARED / "chart-export", SHARED / "chart-export-weekly"]
AR, GLOBAL = "regional-ar-daily", "regional-global-daily"
GOAL_SECONDS = 1.0
# Markets added at each growth step (ISO user-assigned codes: never a real market).
GROWTH = {
    4: [ShiftedMarket("regional-xa-daily", AR, 3),
        ShiftedMarket("regional-xb-daily", GLOBAL, 5, skip=(date(2023, 9, 1), date(2024, 1, 1)))],
    8: [ShiftedMarket("regional-xc-daily", AR, -4, skip=(date(2023, 12, 24), date(2023, 12, 25))),
        ShiftedMarket("regional-xd-daily", GLOBAL, -2),
        ShiftedMarket("regional-xe-daily", AR, 7),
        ShiftedMarket("regional-xf-daily", GLOBAL, 11, skip=(date(2024, 3, 3),))],
}
# What each view's page asks; %(track)s / %(chart)s / %(day)s are filled from the data.
QUERIES = {
    "chart_records": "SELECT * FROM chart_records",
    "track_spread": "SELECT * FROM track_spread",
    "track_market_grid": "SELECT * FROM track_market_grid WHERE track_id = %(track)s",
    "track_market_grid (whole view)": "SELECT COUNT(*), SUM(position), SUM(streams) FROM track_market_grid",
    "chart_number_ones": "SELECT * FROM chart_number_ones",
    "market_lead_lag": "SELECT * FROM market_lead_lag",
}
REFERENCE = ("daily_chart, one day (reference)",
             "SELECT * FROM daily_chart WHERE chart_label = %(chart)s AND chart_date = %(day)s")


def timed(db, sql: str, params: dict, runs: int) -> tuple[float, int]:
    """Median seconds of ``runs`` executions (all rows fetched), and the rows."""
    seconds, rows = [], 0
    cursor = db.cursor()
    for _ in range(runs):
        started = time.perf_counter()
        cursor.execute(sql, params)
        rows = len(cursor.fetchall())
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), rows


def load(db, paths: list[Path], stage: Path) -> None:
    started = time.monotonic()

    def progress(done: int, dates: int, entries: int) -> None:
        if done % 60 == 0 or done == dates:
            print(f"  loaded {done}/{dates} chart dates, {entries:,} entries, {time.monotonic() - started:.0f} s",
                  flush=True)

    load_exports(db, paths, stage, progress=progress)


def check_truth(db, paths: list[Path]) -> bool:
    started = time.monotonic()
    comparisons = compare_intelligence(db, intelligence_of_files(*paths))
    for comparison in comparisons:
        print(f"  {comparison.line()}")
    print(f"  truth and comparison in {time.monotonic() - started:.0f} s")
    return all(c.ok for c in comparisons)


def page_parameters(db) -> dict:
    """The track on most grid rows, and the Argentine chart's last date."""
    cursor = db.cursor()
    cursor.execute("SELECT track_id FROM track_market_grid GROUP BY track_id ORDER BY COUNT(*) DESC, track_id LIMIT 1")
    track = cursor.fetchone()[0]
    cursor.execute("SELECT MAX(chart_date) FROM chart_editions WHERE chart_label = %s", (AR,))
    return {"track": track, "chart": AR, "day": cursor.fetchone()[0]}


def speed(db, runs: int) -> None:
    params = page_parameters(db)
    reference, rows = timed(db, REFERENCE[1], params, runs)
    print(f"  {REFERENCE[0]:<32} {reference:6.3f} s  {rows:>7,} rows")
    for view, sql in QUERIES.items():
        seconds, rows = timed(db, sql, params, runs)
        verdict = "within" if seconds <= GOAL_SECONDS else "OVER"
        print(f"  {view:<32} {seconds:6.3f} s  {rows:>7,} rows  {seconds / reference:5.2f} x reference, "
              f"{verdict} the {GOAL_SECONDS:.0f} s goal")


def markets_held(db) -> tuple[int, int, int]:
    """(daily regional markets, country charts among them, chart entries)."""
    cursor = db.cursor()
    cursor.execute("""SELECT COUNT(DISTINCT playlist_id), COUNT(DISTINCT IFF(playlist_id LIKE 'regional-__-daily',
                      playlist_id, NULL)) FROM chart_editions WHERE playlist_id LIKE 'regional-%-daily'""")
    markets, countries = cursor.fetchone()
    cursor.execute("SELECT COUNT(*) FROM chart_entries")
    return markets, countries, cursor.fetchone()[0]


def growth_line(db, runs: int, first: dict | None) -> dict:
    markets, countries, entries = markets_held(db)
    times = {view: timed(db, QUERIES[view], {}, runs)[0] for view in ("chart_records", "track_spread")}
    scale = "" if first is None else f" (x{entries / first['entries']:.1f})"
    parts = [f"{view} {seconds:.3f} s" + ("" if first is None else f" (x{seconds / first[view]:.1f})")
             for view, seconds in times.items()]
    print(f"  {markets} markets ({countries} country chart{'s' * (countries != 1)}), {entries:,} entries{scale}: "
          + ", ".join(parts)
          + "; per 100k entries: " + ", ".join(f"{view} {s * 1e5 / entries:.3f} s" for view, s in times.items()))
    return {"entries": entries, **times}


def run(paths: list[Path], runs: int, work: Path) -> bool:
    with fakesnow_server() as url:
        environ = {**os.environ, **local_environ(url), "SNOWFLAKE_DATABASE": f"BENCH_{uuid.uuid4().hex[:8].upper()}"}
        with connection.connect(environ) as db:
            migrate(db, local=True, variables=default_variables(environ))
            print(f"Loading {', '.join(map(str, paths))}", flush=True)
            load(db, paths, work / "stage")
            print("Truth (two markets and the weekly files): rows right / expected, per view")
            ok = check_truth(db, paths)
            print(f"Speed over a year of two markets (median of {runs} runs; goal: at most {GOAL_SECONDS:.0f} s)")
            speed(db, runs)
            print("Growth with markets (chart_records, track_spread)")
            first = growth_line(db, runs, None)
            for count, markets in GROWTH.items():
                for market in markets:
                    print(f"  + {market.label}")
                folder = work / f"shifted-{count}"
                write_shifted(markets, paths, folder)
                load(db, [folder], work / "stage")
                paths = paths + [folder]
                growth_line(db, runs, first)
            print("Truth at 8 markets: rows right / expected, per view")
            ok = check_truth(db, paths) and ok
    print("every view equals the truth" if ok else "DIFFERENCES: some view does not equal the truth")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--truth", nargs="+", type=Path, default=DEFAULT_EXPORTS,
                        help="export CSV files, folders or zips (default: the shared year and weekly files)")
    parser.add_argument("--runs", type=int, default=3, help="runs per timed query (the median is printed)")
    args = parser.parse_args(argv)
    missing = [str(p) for p in args.truth if not p.exists()]
    if missing:
        parser.error(f"not found: {', '.join(missing)}")
    with tempfile.TemporaryDirectory(prefix="bench-intelligence-") as work:
        return 0 if run(list(args.truth), args.runs, Path(work)) else 1


if __name__ == "__main__":
    raise SystemExit(main())
