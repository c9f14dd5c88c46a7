"""End-to-end freshness of the local pipeline: from a chart change on the server to

* the live view: the producer's movement event in S3, written by a poll that
  EventBridge scheduled (target: within one poll interval + 5 s);
* the Snowflake views: the new snapshot in ``snapshot_chart``, after the next Glue run
  on its schedule and the local Snowpipe (target: within one Glue interval + 60 s).

    .venv/bin/python benchmarks/bench_freshness.py [--samples 3] [--glue-seconds 120]

The whole local pipeline runs (``localdev.pipeline.LocalPipeline``: local Spotify server,
LocalStack with the deployed stack, Glue on local Spark, fakesnow). Each sample changes
the chart (the server moves to the next chart day) at a random moment, so the change
falls anywhere in the schedule's minute and in the Glue interval. LocalStack's scheduler
checks rules once a minute, so ``rate(1 minute)`` is the shortest poll interval here.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from local_spotify import catalog  # noqa: E402
from localdev.pipeline import LocalPipeline, PipelineSettings  # noqa: E402
from localdev.pipeline.settings import LOCAL_DIR, STATE_PREFIX  # noqa: E402

POLL_INTERVAL_S = 60.0  # rate(1 minute)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument("--glue-seconds", type=float, default=120.0, help="the local Glue schedule")
    parser.add_argument("--market", default="global")
    return parser.parse_args()


def event_times(pipeline: LocalPipeline) -> dict[str, float]:
    """poll id -> detected_at (epoch seconds) of every movement event in the state bucket."""
    s3, bucket = pipeline.aws("s3"), pipeline.outputs["StateBucketName"]
    found = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=STATE_PREFIX + "events/"):
        for obj in page.get("Contents", []):
            event = json.loads(s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read())
            found[event["poll_id"]] = datetime.fromisoformat(event["detected_at"]).timestamp()
    return found


def days_to_next_change(market: str, today: date) -> int:
    """Chart days until the market's chart differs from today's (a day missing from the
    data is skipped: the server answers as Spotify failing that day, nothing changes)."""
    charts = catalog.load_market(market)
    current = [t.track_id for t in catalog.chart_on(market, today)]
    days = 1
    while (today + timedelta(days=days) not in charts
           or [t.track_id for t in charts[today + timedelta(days=days)]] == current):
        days += 1
    return days


def snapshots_in_views(pipeline: LocalPipeline) -> int:
    return pipeline.query("SELECT COUNT(DISTINCT snapshot_id) AS n FROM snapshot_chart")[0]["n"]


def main() -> int:
    args = parse_args()
    settings = PipelineSettings(markets=(args.market,), work_dir=LOCAL_DIR / "bench-freshness")
    live, views, glue_seconds, load_seconds = [], [], [], []
    with LocalPipeline(settings) as pipeline:
        pipeline.poll()  # the first chart version, so later polls report movements
        pipeline.run_glue()
        pipeline.load()
        pipeline.set_schedule(True)
        next_glue = time.time() + args.glue_seconds
        for sample in range(1, args.samples + 1):
            time.sleep(random.uniform(0, POLL_INTERVAL_S))  # any phase of the scheduler's minute
            known_events, known_snapshots = set(event_times(pipeline)), snapshots_in_views(pipeline)
            step = days_to_next_change(args.market, pipeline.chart_date())
            changed_at = time.time()
            day = pipeline.advance_day(step)
            live_at = view_at = None
            while view_at is None:
                if live_at is None:
                    fresh = {k: v for k, v in event_times(pipeline).items() if k not in known_events}
                    if fresh:
                        live_at = min(fresh.values())
                if time.time() >= next_glue:
                    glue_seconds.append(pipeline.run_glue().seconds)
                    started = time.monotonic()
                    pipeline.load()
                    load_seconds.append(time.monotonic() - started)
                    next_glue += args.glue_seconds
                    if snapshots_in_views(pipeline) > known_snapshots:
                        view_at = time.time()
                time.sleep(0.5)
            live.append(live_at - changed_at)
            views.append(view_at - changed_at)
            print(f"sample {sample}: chart day {day}: live view after {live[-1]:.1f} s, "
                  f"Snowflake views after {views[-1]:.1f} s", flush=True)

    def row(name: str, values: list[float], target: float) -> str:
        return (f"{name:<34} {min(values):>7.1f} {statistics.median(values):>7.1f} {max(values):>7.1f}   "
                f"{target:>5.0f} s   {'met' if max(values) <= target else 'MISSED'}")

    print(f"\nFreshness over {args.samples} chart changes (poll every {POLL_INTERVAL_S:.0f} s by EventBridge, "
          f"Glue + load every {args.glue_seconds:.0f} s):")
    print(f"{'':<34} {'min':>7} {'median':>7} {'max':>7}   target")
    print(row("change -> live view (S3 event)", live, POLL_INTERVAL_S + 5))
    print(row("change -> Snowflake views", views, args.glue_seconds + 60))
    print(f"Glue run {statistics.median(glue_seconds):.1f} s (median of {len(glue_seconds)}), "
          f"load {statistics.median(load_seconds):.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
