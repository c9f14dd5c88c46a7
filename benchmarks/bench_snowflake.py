"""Benchmark: load and merge 1,000,000 chart-entry rows into the local Snowflake engine,
then time a curated file's trip from landing in S3 to its rows showing in the views.

Data: the real daily Top 50 of the 10 bundled markets, each also replayed from 4 later
starting days under other playlist ids (50 charts), 400 days: 50 x 50 x 400 = 1,000,000
rows, one curated Parquet file per chart date (2,500 rows), as the Glue job writes them.

1. Throughput: every file is copied with the pipe's COPY statement and merged with the
   task's MERGE every --files-per-merge files (as the Snowpipe runner does with a
   backlog), over the real connector to a fakesnow server. Prints rows/s.
2. Latency: with those rows in place, the Snowpipe runner polls an SQS queue (moto)
   that the curated bucket notifies; a new day's file is put to S3 and the clock runs
   until `daily_chart` shows its 2,500 rows. Prints each trip and the median.

    .venv/bin/python benchmarks/bench_snowflake.py [--days 400] [--trips 5]
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import threading
import time
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import boto3  # noqa: E402

from glue_streaming.curated import CHART_ENTRIES_DATASET  # noqa: E402
from local_spotify.catalog import FIRST_DATE, MARKETS, ChartTrack, chart_on, spotify_id  # noqa: E402
from localdev.aws import apply_environ, local_aws_environ, moto_server  # noqa: E402
from snowflake.charts import connection  # noqa: E402
from localdev.local_snowflake.curated_files import write_file  # noqa: E402
from localdev.local_snowflake.loader import CuratedLoader  # noqa: E402
from localdev.local_snowflake.engine import fakesnow_server, local_environ  # noqa: E402
from snowflake.charts.migrate import default_variables, migrate  # noqa: E402
from localdev.local_snowflake.snowpipe import MERGE_EVERY_FILES, LocalSnowpipe  # noqa: E402

VARIANT_OFFSETS_DAYS = (0, 30, 60, 90, 120)  # each market replayed from 5 starting days = 50 charts
START = datetime(2025, 1, 1, 6, 0, tzinfo=timezone.utc)


@lru_cache(maxsize=None)
def track_columns(track: ChartTrack) -> dict:
    """The columns a chart entry takes from its track (ids are hashes: computed once)."""
    return {
        "position": track.position, "entry_type": "track", "track_id": track.track_id,
        "track_name": track.song, "artist_ids": list(track.artist_ids), "artist_names": list(track.artists),
        "album_id": track.album_id, "album_name": track.album_name, "album_release_date": track.release_date,
        "album_release_date_precision": track.release_date_precision, "duration_ms": track.duration_ms,
        "explicit": track.explicit, "isrc": track.isrc, "popularity": track.popularity,
    }


def day_rows(day_index: int) -> list[dict]:
    """The curated chart entries of one day: every chart's snapshot of that day."""
    observed = START + timedelta(days=day_index)
    rows = []
    for market in MARKETS:
        for offset in VARIANT_OFFSETS_DAYS:
            playlist_id = spotify_id("playlist", market.label, str(offset))
            chart_day = FIRST_DATE + timedelta(days=(day_index + offset) % 556)
            common = {
                "chart_date": observed.date(), "playlist_id": playlist_id, "chart_label": f"{market.label}-{offset}",
                "playlist_name": market.name, "snapshot_id": spotify_id("snapshot", playlist_id, str(day_index)),
                "poll_id": f"poll-{day_index}", "observed_at": observed, "added_at": observed - timedelta(hours=1),
                "source_file": f"raw/{day_index}", "batch_id": f"{day_index}-bench", "batch_at": observed,
            }
            rows.extend({**common, **track_columns(track)} for track in chart_on(market.label, chart_day))
    return rows


def write_days(root: Path, first_day: int, days: int) -> tuple[list[str], int]:
    """Curated files of ``days`` days below ``root``; returns their paths (relative) and row count."""
    paths, rows = [], 0
    for day in range(first_day, first_day + days):
        data = day_rows(day)
        rows += len(data)
        for path in write_file(root / "bench-bucket" / "curated", CHART_ENTRIES_DATASET, data, f"part-{day:05d}.parquet"):
            paths.append(path.relative_to(root).as_posix())
    return paths, rows


def throughput(db, stage: Path, days: int, files_per_merge: int) -> int:
    started = time.monotonic()
    paths, rows = write_days(stage, 0, days)
    print(f"generated {rows:,} rows in {len(paths)} Parquet files in {time.monotonic() - started:.1f} s")
    loader = CuratedLoader(db, stage)
    started = time.monotonic()
    copy_seconds = merge_seconds = 0.0
    for start in range(0, len(paths), files_per_merge):
        t0 = time.monotonic()
        for path in paths[start:start + files_per_merge]:
            loader.copy(path)
        t1 = time.monotonic()
        loader.merge()
        copy_seconds += t1 - t0
        merge_seconds += time.monotonic() - t1
    elapsed = time.monotonic() - started
    cursor = db.cursor()
    cursor.execute("SELECT COUNT(*) FROM chart_entries")
    final_rows = cursor.fetchone()[0]
    assert final_rows == rows, f"{final_rows} rows merged, {rows} expected"
    print(f"load + merge: {rows:,} rows in {elapsed:.1f} s = {rows / elapsed:,.0f} rows/s "
          f"(COPY {copy_seconds:.1f} s, MERGE {merge_seconds:.1f} s, one MERGE per {files_per_merge} files)")
    return final_rows


def latency(db, stage: Path, first_day: int, trips: int) -> list[float]:
    s3, sqs = boto3.client("s3"), boto3.client("sqs")
    bucket = "bench-curated"
    s3.create_bucket(Bucket=bucket)
    queue_url = sqs.create_queue(QueueName="bench-snowpipe")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [{
        "QueueArn": arn, "Events": ["s3:ObjectCreated:*"],
        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "curated/"}, {"Name": "suffix", "Value": ".parquet"}]}},
    }]})
    files = stage / "latency"
    stop = threading.Event()
    seconds = []
    with connection.connect() as runner_db:
        runner = LocalSnowpipe(runner_db, queue_url, stage / "snowpipe")
        runner.drain()  # the s3:TestEvent
        thread = threading.Thread(target=runner.poll, args=(stop, 2), daemon=True)
        thread.start()
        try:
            for trip in range(trips):
                day = first_day + trip
                (path,) = write_file(files, CHART_ENTRIES_DATASET, day_rows(day), f"part-{day:05d}.parquet")
                chart_date = (START + timedelta(days=day)).date()
                key = "curated/" + path.relative_to(files).as_posix()
                cursor = db.cursor()
                started = time.monotonic()
                s3.upload_file(str(path), bucket, key)
                while True:
                    cursor.execute("SELECT COUNT(*) FROM daily_chart WHERE chart_date = %s", (chart_date,))
                    if cursor.fetchone()[0] == 2500:
                        break
                    if time.monotonic() - started > 120:
                        raise TimeoutError(f"{key} did not show in daily_chart within 120 s")
                    time.sleep(0.05)
                seconds.append(time.monotonic() - started)
                print(f"trip {trip + 1}: s3 put -> SQS -> COPY -> MERGE -> daily_chart in {seconds[-1]:.2f} s")
        finally:
            stop.set()
            thread.join(timeout=30)
    return seconds


def view_timings(db, chart_date: date) -> None:
    cursor = db.cursor()
    for label, sql in [
        ("daily_chart, one date, all charts", f"SELECT COUNT(*) FROM daily_chart WHERE chart_date = '{chart_date}'"),
        ("track_chart_stats, one chart", "SELECT COUNT(*) FROM track_chart_stats WHERE chart_label = 'global-0'"),
        ("daily_biggest_movers, one date", f"SELECT COUNT(*) FROM daily_biggest_movers WHERE chart_date = '{chart_date}'"),
    ]:
        started = time.monotonic()
        cursor.execute(sql)
        count = cursor.fetchone()[0]
        print(f"query {label}: {count:,} rows in {time.monotonic() - started:.2f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=400, help="days of 50 charts x 50 rows (default 400 = 1M rows)")
    parser.add_argument("--files-per-merge", type=int, default=MERGE_EVERY_FILES,
                        help=f"files copied per MERGE (default {MERGE_EVERY_FILES}, the runner's backlog batch)")
    parser.add_argument("--trips", type=int, default=5, help="S3-to-view trips to time (default 5)")
    args = parser.parse_args()
    stage = Path(tempfile.mkdtemp(prefix="bench-snowflake-"))
    try:
        with fakesnow_server() as engine_url, moto_server() as aws_url:
            apply_environ({**local_environ(engine_url), **local_aws_environ(aws_url), "SNOWFLAKE_DATABASE": "BENCH"})
            with connection.connect() as db:
                migrate(db, local=True, variables=default_variables())
                throughput(db, stage, args.days, args.files_per_merge)
                view_timings(db, (START + timedelta(days=args.days - 1)).date())
                seconds = latency(db, stage, args.days, args.trips)
        print(f"latency S3 -> views: median {statistics.median(seconds):.2f} s, max {max(seconds):.2f} s "
              f"over {len(seconds)} files of 2,500 rows, on top of {args.days * 2500:,} rows")
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
