"""The local Snowpipe runner end to end: S3 (moto) -> SQS notification -> COPY through the
pipe's statement -> the task's MERGE -> views, over the real connector and the local engine."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from datetime import date, timedelta

import boto3
import pyarrow.parquet as pq
import pytest

from glue_streaming import curated
from snowflake.charts import connection
from localdev.local_snowflake.curated_files import to_table, write_file
from localdev.local_snowflake.snowpipe import LocalSnowpipe
from tests.conftest import unique_name
from tests.snowflake.builders import at, entry, observation_row, query


PREFIX = "curated/"


@pytest.fixture
def curated_bucket(aws_endpoint):
    """A bucket notifying a fresh queue of new curated Parquet files, as the stack sets it up."""
    s3, sqs = boto3.client("s3"), boto3.client("sqs")
    bucket = unique_name("curated")
    s3.create_bucket(Bucket=bucket)
    queue_url = sqs.create_queue(QueueName=unique_name("snowpipe"))["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [{
        "QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"],
        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": PREFIX}, {"Name": "suffix", "Value": ".parquet"}]}},
    }]})
    return bucket, queue_url


def upload(tmp_path, bucket: str, dataset: curated.Dataset, rows, file_name: str) -> list[str]:
    """Write rows as curated files and put them under curated/ (each put notifies the queue)."""
    keys = []
    for path in write_file(tmp_path / "out", dataset, rows, file_name):
        key = PREFIX + path.relative_to(tmp_path / "out").as_posix()
        boto3.client("s3").upload_file(str(path), bucket, key)
        keys.append(key)
    return keys


def queue_depth(queue_url: str) -> tuple[int, int]:
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])


def day_rows(observed: str, snapshot: str, tracks: str, **kwargs) -> list[dict]:
    return [entry("global", snapshot, observed, i + 1, t, **kwargs) for i, t in enumerate(tracks)]


def test_cli_drains_the_queue_into_the_views(conn, curated_bucket, tmp_path):
    bucket, queue_url = curated_bucket
    upload(tmp_path, bucket, curated.CHART_ENTRIES_DATASET,
           day_rows("2024-01-01 12:00", "s1", "AB") + day_rows("2024-01-02 12:00", "s2", "BC"), "part-0.parquet")
    upload(tmp_path, bucket, curated.CHART_OBSERVATIONS_DATASET,
           [observation_row("global", "s2", "2024-01-02 12:00", entry_count=2)], "part-0.parquet")
    boto3.client("s3").put_object(Bucket=bucket, Key=PREFIX + "chart_entries/_SUCCESS", Body=b"")  # not notified
    boto3.client("sqs").send_message(QueueUrl=queue_url, MessageBody=json.dumps({"Records": [{
        "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": bucket}, "object": {"key": "curated/quarantine/run_date%3D2024-01-02/q.parquet"}},
    }]}))

    result = subprocess.run(
        [sys.executable, "-m", "localdev.local_snowflake.snowpipe", "--queue-url", queue_url, "--once",
         "--stage-dir", str(tmp_path / "stage")],
        capture_output=True, text=True, timeout=120, env=os.environ,
    )
    assert result.returncode == 0, result.stderr
    stats = json.loads(result.stdout.strip().splitlines()[-1])["snowpipe"]
    assert stats.pop("busy_seconds") > 0  # time spent loading and merging
    assert stats == {"messages": 5, "test_events": 1, "ignored_keys": 1, "files_loaded": 3,
                     "files_already_loaded": 0, "rows_loaded": 5, "failed_messages": 0, "merges": stats["merges"]}
    assert stats["merges"] >= 1
    assert queue_depth(queue_url) == (0, 0)
    assert query(conn, "SELECT chart_date, position, track_name, status FROM daily_chart ORDER BY 1, 2") == [
        (date(2024, 1, 1), 1, "A", "NEW"), (date(2024, 1, 1), 2, "B", "NEW"),
        (date(2024, 1, 2), 1, "B", "UP"), (date(2024, 1, 2), 2, "C", "NEW"),
    ]
    assert query(conn, "SELECT snapshot_id FROM chart_observations") == [("s2",)]
    assert (tmp_path / "stage" / bucket / "curated/chart_observations/chart_date=2024-01-02/part-0.parquet").is_file()


def test_duplicate_notifications_and_reruns_never_double_count(conn, curated_bucket, tmp_path):
    bucket, queue_url = curated_bucket
    runner = LocalSnowpipe(conn, queue_url, tmp_path / "stage")
    sqs = boto3.client("sqs")
    first = day_rows("2024-01-01 12:00", "s1", "ABC")
    keys = upload(tmp_path, bucket, curated.CHART_ENTRIES_DATASET, first, "batch-1.parquet")
    runner.drain()
    counts = lambda: query(conn, "SELECT COUNT(*), COUNT(DISTINCT batch_id) FROM chart_entries")  # noqa: E731
    assert counts() == [(3, 1)]

    # The same S3 notification delivered twice.
    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps({"Records": [{
        "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": bucket}, "object": {"key": keys[0]}}}]}))
    # A Glue rerun that rewrites the batch's file in place.
    upload(tmp_path, bucket, curated.CHART_ENTRIES_DATASET, first, "batch-1.parquet")
    # A rerun that writes the same records again under a new batch, later.
    upload(tmp_path, bucket, curated.CHART_ENTRIES_DATASET,
           day_rows("2024-01-01 12:00", "s1", "ABC", batch="2-b", batch_at=at("2024-01-11 06:00"), source_file="raw/f2"),
           "batch-2.parquet")
    runner.drain()
    assert (runner.stats.files_loaded, runner.stats.files_already_loaded) == (2, 2)
    assert counts() == [(3, 1)]  # still one row per key, from the first batch (first observation wins)
    assert query(conn, "SELECT DISTINCT batch_id FROM chart_entries") == [("1-a",)]
    assert query(conn, "SELECT COUNT(*) FROM daily_chart") == [(3,)]
    assert queue_depth(queue_url) == (0, 0)


def test_the_merge_keeps_the_first_observation_whatever_the_arrival_order(conn, curated_bucket, tmp_path):
    """The MERGE is the pipeline's one dedupe: a key seen by two polls (state lost, a
    re-send weeks later) keeps its first observation, whichever file loads first."""
    bucket, queue_url = curated_bucket
    runner = LocalSnowpipe(conn, queue_url, tmp_path / "stage")
    later = day_rows("2024-02-01 12:00", "s1", "AB", batch="9-z", batch_at=at("2024-02-01 13:00"),
                     chart_date=date(2024, 1, 1))
    earlier = day_rows("2024-01-01 12:00", "s1", "AB", batch="3-c", batch_at=at("2024-01-01 13:00"))
    sql = "SELECT position, poll_id, batch_id, chart_date FROM chart_entries ORDER BY position"
    expected = [(1, "poll-2024-01-01 12:00", "3-c", date(2024, 1, 1)), (2, "poll-2024-01-01 12:00", "3-c", date(2024, 1, 1))]
    upload(tmp_path, bucket, curated.CHART_ENTRIES_DATASET, later, "later.parquet")
    runner.drain()
    upload(tmp_path, bucket, curated.CHART_ENTRIES_DATASET, earlier, "earlier.parquet")
    runner.drain()
    assert query(conn, sql) == expected  # the earlier observation replaced the later one
    upload(tmp_path, bucket, curated.CHART_ENTRIES_DATASET, earlier + later, "both.parquet")
    upload(tmp_path, bucket, curated.CHART_ENTRIES_DATASET, later, "later-again.parquet")
    runner.drain()
    assert query(conn, sql) == expected  # both in one merge, and again: the same rows


def test_a_file_that_cannot_load_stays_on_the_queue(conn, curated_bucket, tmp_path):
    bucket, queue_url = curated_bucket
    runner = LocalSnowpipe(conn, queue_url, tmp_path / "stage", visibility_timeout=2)
    upload(tmp_path, bucket, curated.CHART_ENTRIES_DATASET, day_rows("2024-01-01 12:00", "s1", "AB"), "good.parquet")
    # A file without the required poll_id column: the landing table's NOT NULL refuses it.
    table = to_table(curated.CHART_ENTRIES_DATASET, day_rows("2024-01-02 12:00", "s2", "C"))
    bad = tmp_path / "bad.parquet"
    pq.write_table(table.drop_columns(["poll_id"]), bad)
    bad_key = PREFIX + "chart_entries/chart_date=2024-01-02/bad.parquet"
    boto3.client("s3").upload_file(str(bad), bucket, bad_key)

    stats = runner.drain()
    assert (stats.files_loaded, stats.failed_messages) == (1, 1)
    assert query(conn, "SELECT COUNT(*) FROM chart_entries") == [(2,)]
    assert queue_depth(queue_url) == (0, 1)  # the bad file's message, invisible until retried
    time.sleep(2.5)
    retried = runner.receive(1)
    assert [json.loads(m["Body"])["Records"][0]["s3"]["object"]["key"] for m in retried] == [
        bad_key.replace("=", "%3D").replace("/", "%2F")]


def test_polling_mode_loads_files_as_they_land(conn, curated_bucket, tmp_path, engine_environ):
    bucket, queue_url = curated_bucket
    stop = threading.Event()
    with connection.connect() as runner_conn:
        runner = LocalSnowpipe(runner_conn, queue_url, tmp_path / "stage")
        thread = threading.Thread(target=runner.poll, args=(stop, 1))
        thread.start()
        try:
            upload(tmp_path, bucket, curated.CHART_ENTRIES_DATASET, day_rows("2024-01-01 12:00", "s1", "AB"), "p.parquet")
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and query(conn, "SELECT COUNT(*) FROM daily_chart") != [(2,)]:
                time.sleep(0.2)
        finally:
            stop.set()
            thread.join(timeout=30)
    assert not thread.is_alive()
    assert query(conn, "SELECT COUNT(*) FROM daily_chart") == [(2,)]


def test_a_backlog_is_merged_once_or_every_merge_every_files(conn, curated_bucket, tmp_path):
    bucket, queue_url = curated_bucket

    def land(days: range) -> None:
        for day in days:
            observed = (date(2024, 1, 1) + timedelta(days=day)).isoformat() + " 12:00"
            upload(tmp_path, bucket, curated.CHART_ENTRIES_DATASET, day_rows(observed, f"s{day}", "AB"), f"d{day}.parquet")

    land(range(0, 23))
    stats = LocalSnowpipe(conn, queue_url, tmp_path / "stage").drain()
    assert (stats.files_loaded, stats.merges) == (23, 1)  # received 10 + 10 + 3, merged once
    assert query(conn, "SELECT COUNT(*) FROM daily_chart") == [(46,)]
    assert queue_depth(queue_url) == (0, 0)

    land(range(23, 48))
    stats = LocalSnowpipe(conn, queue_url, tmp_path / "stage", merge_every_files=10).drain()
    assert (stats.files_loaded, stats.merges) == (25, 3)  # after 10, 20 and the last 5
    assert query(conn, "SELECT COUNT(*) FROM daily_chart") == [(96,)]
    assert queue_depth(queue_url) == (0, 0)


def test_a_refresh_loads_what_no_notification_announced_and_reports_what_cannot_load(conn, curated_bucket, tmp_path):
    """ALTER PIPE ... REFRESH, as the local runner does it (snowflake_only/R__load_reconciliation.sql)."""
    bucket, queue_url = curated_bucket
    runner = LocalSnowpipe(conn, queue_url, tmp_path / "stage", prefix=PREFIX, visibility_timeout=2)
    upload(tmp_path, bucket, curated.CHART_ENTRIES_DATASET, day_rows("2024-01-01 12:00", "s1", "AB"), "one.parquet")
    runner.drain()
    [lost] = upload(tmp_path, bucket, curated.CHART_ENTRIES_DATASET, day_rows("2024-01-02 12:00", "s2", "CD"),
                    "two.parquet")
    sqs = boto3.client("sqs")
    for message in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)["Messages"]:
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])  # the notification is lost
    corrupt = PREFIX + "chart_entries/chart_date=2024-01-03/three.parquet"
    s3 = boto3.client("s3")
    s3.put_object(Bucket=bucket, Key=corrupt, Body=b"PAR1 not really parquet")
    s3.put_object(Bucket=bucket, Key=PREFIX + "chart_entries/_SUCCESS", Body=b"")  # no pipe loads it
    runner.receive(1)  # the corrupt file's own notification, not for this test: let it expire
    assert query(conn, "SELECT COUNT(*) FROM chart_entries") == [(2,)]

    stats = runner.refresh(bucket)
    assert (stats.files_listed, stats.files_loaded, stats.rows_loaded, stats.failed) == (3, 1, 2, [corrupt])
    assert query(conn, "SELECT snapshot_id, COUNT(*) FROM chart_entries GROUP BY 1 ORDER BY 1") == [("s1", 2), ("s2", 2)]
    assert query(conn, "SELECT COUNT(*) FROM daily_chart WHERE chart_date = '2024-01-02'") == [(2,)]  # and merged
    again = runner.refresh(bucket)
    assert (again.files_loaded, again.failed) == (0, [corrupt])
    assert f"{bucket}/{lost}" in runner.loader.loaded_paths() and f"{bucket}/{corrupt}" not in runner.loader.loaded_paths()
