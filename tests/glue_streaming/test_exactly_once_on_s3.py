"""The Glue job on ``s3://`` (a local S3 endpoint, through Spark's S3A connector), killed
from outside in the middle of a batch and rerun: the output is exactly a clean run's.

S3 has no atomic rename, and the job needs none where a reader looks: a batch stages its
files in a folder of its own, publishes each one by copying it to its final name (an S3
object appears whole when its upload ends, never in part), and Spark writes the batch's
commit entry last. A rerun replays the uncommitted batch: same rows, same names; files
the killed attempt published stay as they are.
"""
from __future__ import annotations

import gzip
import io
import re

import boto3
import pyarrow.parquet as pq
import pytest

from glue_streaming import curated
from localdev.aws import local_aws_environ
from localdev.local_spark.glue_runner import GlueJobError, GluePaths, run_glue_job
from tests.conftest import unique_name
from tests.glue_streaming.raw_data import chart, encoded

pytestmark = pytest.mark.spark  # the job as a child process; moto through aws_endpoint

DATES = ("2026-11-20", "2026-11-21", "2026-11-22", "2026-11-23")
# Columns that name the batch that wrote a row (its id and time differ between two runs).
BATCH_COLUMNS = {"batch_id", "batch_at", "quarantined_at", "run_date"}
PUBLISHED_NAME = re.compile(r"-\d{6}-[0-9a-f]{8}\.parquet$")  # <dataset>-<batch number>-<query id>.parquet


def put_raw_objects(s3, bucket: str) -> None:
    """Two charts a day as Firehose delivers them (gzip and plain), plus a line that is not JSON."""
    for day in DATES:
        for playlist in ("PL1", "PL2"):
            lines = encoded(chart(50, playlist_id=playlist, snapshot_id=f"{playlist}-{day}",
                                  observed_at=f"{day}T10:00:00.000Z"))
            body = b"".join(lines) + (b"not json\n" if day == DATES[-1] and playlist == "PL2" else b"")
            s3.put_object(Bucket=bucket, Key=f"raw/{day.replace('-', '/')}/{playlist}",
                          Body=gzip.compress(body) if playlist == "PL1" else body)


def job_paths(bucket: str, name: str) -> GluePaths:
    return GluePaths(f"s3://{bucket}/raw/", f"s3://{bucket}/{name}/curated/", f"s3://{bucket}/{name}/quarantine/",
                     f"s3://{bucket}/{name}/_checkpoints/")


def objects(s3, bucket: str, prefix: str) -> dict[str, str]:
    """{key below prefix: ETag}"""
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return {o["Key"][len(prefix):]: o["ETag"] for page in pages for o in page.get("Contents", [])}


def dataset_rows(s3, bucket: str, prefix: str) -> list[tuple]:
    """Every row of the Parquet files under ``prefix``, without the batch's own columns, sorted."""
    rows = []
    for key in objects(s3, bucket, prefix):
        table = pq.read_table(io.BytesIO(s3.get_object(Bucket=bucket, Key=prefix + key)["Body"].read()))
        rows += [tuple(sorted((k, repr(v)) for k, v in row.items() if k not in BATCH_COLUMNS))
                 for row in table.to_pylist()]
    return sorted(rows)


def layout(keys) -> list[str]:
    """Published file names with the batch's id left out: one per dataset and partition."""
    return sorted(PUBLISHED_NAME.sub(".parquet", key) for key in keys)


def test_killed_mid_batch_on_s3_then_rerun_equals_a_clean_run(aws_endpoint, tmp_path):
    s3 = boto3.client("s3")
    bucket = unique_name("glue-on-s3")
    s3.create_bucket(Bucket=bucket)
    put_raw_objects(s3, bucket)
    env = local_aws_environ(aws_endpoint)  # the job's S3 endpoint and credentials

    clean = job_paths(bucket, "clean")
    clean_run = run_glue_job(clean, tmp_path / "clean.log", env=env)
    assert (clean_run.count("records_read"), clean_run.count("curated"), clean_run.count("quarantined")) == (
        401, 400, 1)

    faulty = job_paths(bucket, "faulty")

    def chart_entries_published() -> bool:  # part of the batch is out, its commit is not
        return bool(objects(s3, bucket, "faulty/curated/chart_entries/"))

    with pytest.raises(GlueJobError) as killed:
        run_glue_job(faulty, tmp_path / "faulty.log", env=env, kill_when=chart_entries_published)
    assert killed.value.run.killed and killed.value.run.exit_code == -9
    first_attempt = objects(s3, bucket, "faulty/curated/")
    assert first_attempt and all(key.startswith(("chart_entries/", "chart_observations/")) for key in first_attempt)
    checkpoint = objects(s3, bucket, "faulty/_checkpoints/stream/")
    assert "offsets/0" in checkpoint and "commits/0" not in checkpoint  # the batch was planned, never committed

    rerun = run_glue_job(faulty, tmp_path / "faulty.log", env=env)
    assert [b["batch_id"][:6] for b in rerun.metrics["batch_details"]] == ["000000"]  # the same batch, replayed
    assert (rerun.count("records_read"), rerun.count("curated"), rerun.count("quarantined")) == (401, 400, 1)
    assert "commits/0" in objects(s3, bucket, "faulty/_checkpoints/stream/")
    after = objects(s3, bucket, "faulty/curated/")
    assert {key: after[key] for key in first_attempt} == first_attempt  # same names, same bytes: loaders see no change

    for dataset in curated.DATASETS:
        assert dataset_rows(s3, bucket, f"faulty/curated/{dataset}/") == dataset_rows(
            s3, bucket, f"clean/curated/{dataset}/"), dataset
    assert dataset_rows(s3, bucket, "faulty/quarantine/") == dataset_rows(s3, bucket, "clean/quarantine/")
    assert layout(after) == layout(objects(s3, bucket, "clean/curated/"))
    assert len(layout(after)) == len(set(layout(after)))  # no partition holds two files of one dataset
    assert [key for key in objects(s3, bucket, "faulty/_checkpoints/staging/") if key.endswith(".parquet")] == []
