"""The whole real chart history through the whole local pipeline: rows, days, minutes.

    .venv/bin/python benchmarks/bench_history.py                 # 10 markets x 560 calendar days, 556 with a chart (make bench-history)
    .venv/bin/python benchmarks/bench_history.py --truth         # ... then check every market against the CSVs
    .venv/bin/python benchmarks/bench_history.py --days 60       # a shorter run (from 2023-05-18)

It runs what ``spotify-charts run --history`` runs (``LocalPipeline.run_days``): the local
Spotify server replays every market day by day, the DEPLOYED producer Lambda polls once
per day through LocalStack, Firehose lands the records, the Glue job curates them on
local Spark, the local Snowpipe loads them into fakesnow. Then it times what a user
does next: the report of one day (``spotify-charts report --chart us --date 2024-06-01``)
and the dashboard's bump chart over six months. With ``--truth`` every market's daily
views are compared with the truth computed from the CSV files alone (benchmarks/truth).

Prints where the time went, per stage, as shares of the whole run (the machine may be
shared: the shares say more than the seconds).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.cpu_by_process import tree_cpu_seconds  # noqa: E402
from local_spotify import catalog  # noqa: E402
from localdev.pipeline import LocalPipeline, PipelineSettings  # noqa: E402
from localdev.pipeline.cli import HISTORY_GLUE_EVERY, PROGRESS_SECONDS  # noqa: E402
from localdev.pipeline.progress import minutes  # noqa: E402
from localdev.pipeline.settings import LOCAL_DIR  # noqa: E402
from spotify_charts import report, views  # noqa: E402

TARGET_MINUTES = 5.0  # the whole run, set-up and the truth check included (issue 22)
REPORT_CHART, REPORT_DAY = "us", date(2024, 6, 1)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=(catalog.LAST_DATE - catalog.FIRST_DATE).days + 1,
                        help="chart days from 2023-05-18 (default: all 560 calendar days, 4 of them gaps in the data)")
    parser.add_argument("--markets", default=",".join(catalog.MARKETS_BY_LABEL), help="default: all 10")
    parser.add_argument("--glue-every", type=int, default=HISTORY_GLUE_EVERY, metavar="K",
                        help=f"Glue + load after every K days (default {HISTORY_GLUE_EVERY}, as --history)")
    parser.add_argument("--truth", action="store_true", help="then compare every market with the CSV truth")
    parser.add_argument("--serial", action="store_true",
                        help="Glue + load between polls instead of beside them (for comparison)")
    parser.add_argument("--work-dir", default=str(LOCAL_DIR / "bench-history"))
    return parser.parse_args()


def timed(action):
    started = time.monotonic()
    result = action()
    return result, time.monotonic() - started


def main() -> int:
    started = time.monotonic()
    args = parse_args()
    markets = tuple(m.strip() for m in args.markets.split(",") if m.strip())
    first, last = catalog.FIRST_DATE, catalog.FIRST_DATE + timedelta(days=args.days - 1)
    settings = PipelineSettings(markets=markets, start_date=first, work_dir=Path(args.work_dir))
    print(f"history: {len(markets)} markets x {args.days} days ({first} to {last}), Glue + load every "
          f"{args.glue_every} days; the machine may be shared with other work", flush=True)
    with LocalPipeline(settings) as pipeline:
        set_up = time.monotonic() - started
        _, replay = timed(lambda: pipeline.run_days(args.days, args.glue_every, progress_seconds=PROGRESS_SECONDS,
                                                    background_glue=not args.serial))
        counts = pipeline.query("""
            SELECT (SELECT COUNT(*) FROM chart_entries) AS entries,
                   (SELECT COUNT(*) FROM chart_observations) AS observations,
                   (SELECT COUNT(*) FROM chart_editions WHERE grain = 'day') AS daily_charts,
                   (SELECT COUNT(*) FROM daily_chart) AS chart_rows,
                   (SELECT COUNT(DISTINCT chart_date) FROM chart_editions WHERE grain = 'day') AS days""")[0]
        text = None
        if REPORT_CHART in markets and first <= REPORT_DAY <= last:
            text, report_seconds = timed(lambda: report.render_text(
                report.build_report(pipeline.db, REPORT_CHART, REPORT_DAY), 10))
            info = views.find_chart(pipeline.db, REPORT_CHART)
            bump_from = max(info.first_date, info.last_date - timedelta(days=182))
            bump, bump_seconds = timed(lambda: views.positions(pipeline.db, info.playlist_id, bump_from,
                                                               info.last_date, 10))
        truth_lines, truth_ok = [], True
        if args.truth:
            from benchmarks.truth.compare import compare
            from benchmarks.truth.csv_charts import market_truth

            truth_started = time.monotonic()
            for label in markets:
                result = compare(pipeline.db, market_truth(label, first, last), first, last)
                truth_lines.append(result.line())
                truth_ok &= result.ok
            truth_seconds = time.monotonic() - truth_started
        seconds, polls = pipeline.seconds, pipeline.polls
        cpu = tree_cpu_seconds()  # before the pipeline stops the processes it started
    total = time.monotonic() - started

    print("\n== figures ==")
    print(f"rows: {counts['entries']:,} chart entries and {counts['observations']:,} observations in Snowflake; "
          f"{counts['daily_charts']:,} daily charts on {counts['days']} days ({counts['chart_rows']:,} chart rows)")
    print(f"days: {args.days} replayed ({first} to {last}), markets: {len(markets)}")
    print(f"minutes: {replay / 60:.2f} for the replay through the pipeline; {total / 60:.2f} in all (set-up "
          f"{minutes(set_up)}: LocalStack, stack deploy, engine; target {TARGET_MINUTES:.0f} in all): "
          f"{'within' if total / 60 <= TARGET_MINUTES else 'OVER'} the target")
    if cpu is not None:  # the same work costs more CPU seconds on a slower hour of a shared host
        print(f"cpu: {cpu:.0f} CPU seconds in this run's processes (LocalStack, the Lambda runtime, Spark, "
              f"fakesnow, ...), {cpu / total:.2f} of {os.cpu_count()} cores busy on average")
    print("where the replay's time went: busy time per stage, as a share of the replay"
          + ("" if args.serial else " (Glue and the load run beside the polls: the shares add up to more than 100%)"))
    stages = {"producer polls (Lambda invokes, Spotify, Firehose, S3 state)": seconds["poll"],
              "Glue job runs (local Spark, one long-lived session, reading and writing S3 through S3A)":
                  seconds["glue"],
              "load (local Snowpipe: COPY + MERGE on fakesnow)": seconds["load"]}
    if args.serial:
        stages["the rest (moving the server's clock, progress)"] = replay - sum(stages.values())
    for name, value in stages.items():
        print(f"  {value / replay:6.1%}  {minutes(value):>7}  {name}")
    inside = sum(p.get("duration_ms", 0) for p in polls) / 1000
    print(f"  per chart day: {replay / args.days:.2f} s ({seconds['poll'] / args.days:.2f} s of it the poll: "
          f"{inside / len(polls):.2f} s in the handler, the rest the invoke through LocalStack)")
    if text is not None:
        print(f"report --chart {REPORT_CHART} --date {REPORT_DAY}: {report_seconds:.2f} s; bump chart over "
              f"{bump_from} .. {info.last_date} (top 10): {bump_seconds:.2f} s, {len({r['track_id'] for r in bump})} "
              f"tracks on {len({r['chart_date'] for r in bump})} dates")
        print("\n" + "\n".join(text.splitlines()[:14]) + "\n  ...")
    if args.truth:
        print(f"\n== truth: the daily views against the CSV files ({truth_seconds:.1f} s) ==")
        print("\n".join(truth_lines))
        print("every market right" if truth_ok else "SOME MARKETS DIFFER")
    print(f"\nthe history ({args.days} days x {len(markets)} markets) through the local pipeline, set-up"
          + (" and the truth check" if args.truth else "") + f" included, in {total / 60:.1f} min")
    return 0 if truth_ok else 1


if __name__ == "__main__":
    sys.exit(main())
