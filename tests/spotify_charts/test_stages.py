"""The stage subcommands on real parts: `poll` runs the producer's handler against the local
Spotify server and moto; `backfill` and `local-glue` run the Glue job (local Spark) on what the
producer delivered; `load` drains a Snowpipe queue into the local engine; `run` starts the
local pipeline."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import boto3
import pyarrow.parquet as pq
import pytest

from firehose import contract
from glue_streaming.curated import CHART_ENTRIES_DATASET
from local_spotify.catalog import MARKETS_BY_LABEL
from snowflake.charts import connection
from localdev.local_snowflake.curated_files import write_file
from spotify_charts.cli import main
from tests.conftest import unique_name
from tests.spotify_charts.chart_history import chart_rows
from tests.spotify_charts.conftest import CLI, child_environ



@pytest.fixture(scope="module")
def delivered(producer_env):
    """Three chart days polled (plus a repeat poll that changes nothing): raw data on moto."""
    summaries = []
    for day in range(3):
        if day:
            producer_env.spotify.control.advance(1)
        summaries.append(producer_env.poll())
    summaries.append(producer_env.poll())
    return producer_env, summaries


def test_poll_runs_the_producer_once_and_reports(producer_env, capsys):
    producer_env.spotify.control.set_date("2024-04-01")
    assert main(["poll", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert len(summary["changed"]) == 2 and summary["records_sent"] == 100 and not summary["failed"]
    assert main(["poll"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("poll ") and "0 changed, 2 unchanged, 0 failed" in text

    producer_env.spotify.control.advance(1)
    us = MARKETS_BY_LABEL["us"].playlist_id
    producer_env.spotify.control.add_fault(404, count=5, endpoint="playlist", playlist_id=us)
    try:
        assert main(["poll"]) == 1  # a playlist failed: scripts see it in the exit code
    finally:
        producer_env.spotify.control.clear_faults()
    captured = capsys.readouterr()
    assert "1 changed, 0 unchanged, 1 failed" in captured.out and f"failed {us}" in captured.err


def curated_rows(target: Path) -> int:
    files = (target / CHART_ENTRIES_DATASET.name).rglob("*.parquet")
    return sum(pq.ParquetFile(f).metadata.num_rows for f in files)


@pytest.mark.spark  # the Glue job, as a child process
def test_backfill_replays_raw_data_into_a_fresh_area_with_progress(delivered, tmp_path):
    """Real Glue job (local Spark) over the producer's raw objects, read from S3 (moto) by Spark itself."""
    env, summaries = delivered
    records = env.records(record_type=None)  # chart entries and observations: every line Glue reads
    keys = {tuple(r[k] for k in contract.NATURAL_KEY) for r in env.records()}
    observations = {(r["playlist_id"], r["poll_id"]) for r in env.records(contract.CHART_OBSERVATION)}
    assert observations  # one per chart and poll
    raw_objects = len(boto3.client("s3").list_objects_v2(Bucket=env.raw_bucket)["Contents"])
    target = tmp_path / "curated"
    result = subprocess.run([*CLI, "backfill", f"s3://{env.raw_bucket}/raw/", str(target), "--chunk-files", "2",
                             "--json"], capture_output=True, text=True, env=child_environ(), timeout=400)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads(result.stdout)
    assert metrics["raw_files"] == raw_objects and metrics["files_read"] == raw_objects
    assert metrics["records_read"] == len(records)
    assert metrics["curated"] == len(keys) and metrics["quarantined"] == 0
    assert metrics["observations"] == len(observations)
    assert metrics["batches"] == -(-raw_objects // 2)  # chunks of 2 files
    bar = [line for line in result.stderr.splitlines() if line.startswith("replay [")]
    assert f"{raw_objects}/{raw_objects} files" in bar[-1] and f"{len(records):,} rows read" in bar[-1]
    assert any(f"2/{raw_objects} files" in line for line in bar)  # it moved chunk by chunk
    assert curated_rows(target) == len(keys)
    assert (target / "_checkpoint" / "run_metrics").is_dir()
    assert not (target / "_raw").exists()  # the raw objects were read from S3, not copied first

    # Not fresh any more: a second backfill into it is refused before any work.
    again = subprocess.run([*CLI, "backfill", f"s3://{env.raw_bucket}/raw/", str(target)], capture_output=True,
                           text=True, env=child_environ(), timeout=60)
    assert again.returncode == 1 and "not empty" in again.stderr and "--resume" in again.stderr

    # `local-glue` over the same raw prefix and area finds nothing new: reruns change nothing.
    rerun = subprocess.run([*CLI, "local-glue", "--source_path", f"s3://{env.raw_bucket}/raw/", "--target_path", str(target),
                            "--quarantine_path", str(target / "_quarantine"), "--checkpoint_path",
                            str(target / "_checkpoint"), "--json"],
                           capture_output=True, text=True, env=child_environ(), timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert json.loads(rerun.stdout)["files_read"] == 0
    assert curated_rows(target) == len(keys)


def test_load_drains_the_snowpipe_queue_into_the_engine(engine_environ, aws_endpoint, tmp_path, capsys):
    """Curated files on S3 (moto) announced by S3-style notifications; `load` copies and merges them."""
    s3, sqs = boto3.client("s3"), boto3.client("sqs")
    bucket = unique_name("curated")
    s3.create_bucket(Bucket=bucket)
    queue_url = sqs.create_queue(QueueName=unique_name("snowpipe"))["QueueUrl"]
    rows = chart_rows("global", date(2024, 3, 1), date(2024, 3, 2))
    for path in write_file(tmp_path / "files", CHART_ENTRIES_DATASET, rows, "part-0.parquet"):
        key = "curated/" + Path(path).relative_to(tmp_path / "files").as_posix()
        s3.upload_file(str(path), bucket, key)
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps({"Records": [{
            "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": bucket}, "object": {"key": key}}}]}))
    arguments = ["load", "--queue-url", queue_url, "--stage-dir", str(tmp_path / "stage"), "--json"]
    assert main(arguments) == 0
    stats = json.loads(capsys.readouterr().out)
    assert (stats["files_loaded"], stats["rows_loaded"], stats["failed_messages"]) == (2, 100, 0)
    assert main(arguments) == 0
    assert json.loads(capsys.readouterr().out)["messages"] == 0  # drained
    with connection.connect() as db:
        cursor = db.cursor()
        cursor.execute("SELECT COUNT(*) FROM chart_entries")
        assert cursor.fetchone()[0] == 100


def test_glue_starts_a_run_of_a_deployed_job_and_waits_for_it(aws_endpoint, capsys):
    """Against moto's Glue API (its job runs go STARTING -> RUNNING -> SUCCEEDED as they are read)."""
    job = unique_name("charts-glue")
    boto3.client("glue").create_job(Name=job, Role="arn:aws:iam::000000000000:role/glue",
                                    Command={"Name": "gluestreaming", "ScriptLocation": "s3://artifacts/job.py"})
    assert main(["glue", "--job-name", job, "--source_path", "s3://raw/raw/", "--wait", "--poll-seconds", "0.1",
                 "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["state"] == "SUCCEEDED"
    [run] = boto3.client("glue").get_job_runs(JobName=job)["JobRuns"]
    assert run["Id"] == result["run_id"] and run["Arguments"] == {"--source_path": "s3://raw/raw/"}


@pytest.mark.moto
@pytest.mark.spotify_server  # the producer-only run starts both as child processes
def test_run_module_switch_runs_the_producer_only_local_run(tmp_path):
    """`run` hands its arguments to its module's main; the end-to-end pipeline behind it is tested in
    tests/integration (LocalStack). Here the producer-only run, through the same hand-over."""
    script = ("import sys; from spotify_charts import cli; from localdev import commands; "
              "commands.RUN = commands.Passthrough(commands.RUN.help, 'localdev.run_local'); "
              "sys.exit(cli.main(sys.argv[1:]))")
    result = subprocess.run([sys.executable, "-c", script, "run", "--days", "1", "--markets", "gb"],
                            capture_output=True, text=True, env=child_environ(), cwd=tmp_path, timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "records sent   50" in result.stdout and "All local servers stopped." in result.stdout
