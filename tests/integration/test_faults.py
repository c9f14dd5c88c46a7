"""Faults on the end-to-end pipeline: each stage gets one, and the run ends with exactly the
clean run's rows (``chart_expectations``, the same rows test_end_to_end.py asserts).

One deployed stack and one pipeline for the module; the tests are the run's stages, in
file order (each one continues where the previous one left the pipeline):

1. 2024-03-12: a 429 storm on the Spotify side: the producer defers, the next polls catch up;
2. 2024-03-13: a Firehose partial failure: refused records are retried in the same poll;
   a playlist whose records are refused until the retries run out fails, keeps its state
   and is sent by the next poll;
3. 2024-03-14/15: LocalStack restarted between the producer and Glue stages: the stack is
   redeployed and the buckets' objects (producer state, raw) are put back from copies kept
   before the restart (LocalStack's community edition keeps nothing);
4. the Glue job, on s3:// like on Glue, killed (SIGKILL to its process group) mid-run, after
   publishing part of a batch that Snowpipe then loads, and rerun;
5. a duplicated S3 notification (SQS delivers at least once): loaded once; the views equal
   the clean run's.

Glue runs twice in all (the killed run and its rerun): each run costs a JVM.
"""
from __future__ import annotations

import base64
import json
import time

import pytest

from firehose import contract
from local_spotify import catalog
from localdev.aws import read_records
from localdev.localstack import localstack as start_localstack
from localdev.local_spark.glue_runner import GlueJobError
from localdev.pipeline.settings import CURATED_PREFIX, RAW_PREFIX
from localdev.process import free_port
from tests.integration.chart_expectations import (comparable, expected_editions, expected_keys,
                                                  natural_keys_in_table, view_editions)
from localdev.firehose_faults import firehose_faults
from tests.integration.pipelines import PIPELINE_DAYS, PIPELINE_MARKETS, running_pipeline

# The whole pipeline: LocalStack, the Glue job on Spark, fakesnow, the local Spotify server.
pytestmark = [pytest.mark.localstack, pytest.mark.spark, pytest.mark.fakesnow, pytest.mark.spotify_server]

MARKETS, DAYS = PIPELINE_MARKETS, PIPELINE_DAYS
GLOBAL, US = (catalog.MARKETS_BY_LABEL[m].playlist_id for m in MARKETS)


@pytest.fixture(scope="module")
def restartable_localstack(localstack):
    """The session's LocalStack if this process started it in host mode (it can restart it);
    otherwise one of the module's own, in host mode."""
    if localstack.mode == "host":
        yield localstack
        return
    with start_localstack(f"http://127.0.0.1:{free_port()}", mode="host") as own:
        yield own


@pytest.fixture(scope="module")
def pipeline(restartable_localstack, tmp_path_factory):
    with running_pipeline(restartable_localstack, tmp_path_factory.mktemp("faults"), "faults") as running:
        yield running


def raw_keys(pipeline) -> list[tuple[str, int, str]]:
    records = read_records(pipeline.outputs["RawBucketName"], RAW_PREFIX, pipeline.aws("s3"), contract.CHART_ENTRY)
    return sorted((r["playlist_id"], r["position"], r["track_id"]) for r in records)


def expected_raw(days: list[date]) -> list[tuple[str, int, str]]:
    return sorted(key for label in MARKETS for key in expected_keys(label, days))


def views_match_the_clean_run(pipeline, days: list[date]) -> None:
    for label in MARKETS:
        assert comparable(view_editions(pipeline, label)) == comparable(expected_editions(label, days)), label
    assert natural_keys_in_table(pipeline) == expected_raw(days)


def test_1_a_429_storm_defers_playlists_and_the_next_polls_catch_up(pipeline):
    control = pipeline.spotify.control
    control.reset_stats()
    control.add_fault(429, count=12, endpoint="playlist", retry_after=1)
    polls = [pipeline.poll()]
    while polls[-1]["deferred"] and len(polls) < 5:
        polls.append(pipeline.poll())
    assert polls[0]["deferred"], "the storm did not defer anything: the test proves nothing"
    assert polls[-1]["deferred"] == [] and all(p["failed"] == {} for p in polls)
    assert sorted(g for p in polls for g in p["changed"]) == sorted([GLOBAL, US])  # each delivered once
    stats = control.stats()["by_endpoint"]["playlist"]
    assert stats["429"] == 12 == sum(p["spotify_rate_limited"] for p in polls)
    assert control.faults() == []
    assert raw_keys(pipeline) == expected_raw(DAYS[:1])


def refuse(call: int, records: list[dict]) -> set[int]:
    """Every US record on every call; every third record of the first call besides."""
    us = {i for i, r in enumerate(records) if json.loads(base64.b64decode(r["Data"]))["playlist_id"] == US}
    return us | (set(range(0, len(records), 3)) if call == 1 else set())


def test_2_a_firehose_partial_failure_is_retried_and_nothing_is_lost(pipeline):
    pipeline.advance_day()
    with firehose_faults(pipeline, refuse) as proxy:
        faulty = pipeline.poll()
    # Global: its refused records were retried in the same poll and all accepted.
    assert faulty["changed"] == [GLOBAL] and faulty["records_sent"] == 50
    # US: refused on every attempt: failed, its state not advanced.
    assert list(faulty["failed"]) == [US] and "ServiceUnavailableException" in faulty["failed"][US]
    # The last refusal (US: 50 entries and its observation) is not retried.
    assert faulty["firehose_retried_records"] == proxy.log.records_refused - 51
    # 5 calls: the first (entries and observations), then 4 retries of what was refused; US's
    # observation is refused with its entries, Global's went through.
    assert proxy.log.calls == faulty["firehose_calls"] == 5 and faulty["observations_sent"] == 1
    again = pipeline.poll()  # no faults: the next poll sends US, and only US
    assert (again["changed"], again["unchanged"], again["records_sent"]) == ([US], [GLOBAL], 50)
    assert raw_keys(pipeline) == expected_raw(DAYS[:2])


def test_3_localstack_restarted_between_the_producer_and_glue_resumes_from_the_state_kept(pipeline):
    pipeline.advance_day()  # 2024-03-14: missing from the data: the server answers as Spotify failing
    gap = pipeline.poll()
    assert sorted(gap["failed"]) == sorted([GLOBAL, US]) and gap["records_sent"] == gap["observations_sent"] == 0
    pipeline.advance_day()
    assert pipeline.poll()["records_sent"] == 100
    old_function = pipeline.outputs["ProducerFunctionName"]
    old_raw_bucket = pipeline.outputs["RawBucketName"]

    pipeline.restart_localstack()

    assert pipeline.outputs["ProducerFunctionName"] == old_function  # same stack name, redeployed
    assert pipeline.outputs["RawBucketName"] != old_raw_bucket  # really a new stack: new generated names
    assert raw_keys(pipeline) == expected_raw(DAYS)  # put back from the copy
    again = pipeline.poll()  # the producer reads its state back from S3: nothing to resend
    assert sorted(again["unchanged"]) == sorted([GLOBAL, US]) and again["records_sent"] == 0
    # Glue's input is the new raw bucket, restored
    assert pipeline.glue_paths().source == f"s3://{pipeline.outputs['RawBucketName']}/{RAW_PREFIX}"


def s3_objects(pipeline, url: str) -> dict[str, str]:
    """{key below the s3:// URL: ETag}"""
    bucket, prefix = url.removeprefix("s3://").split("/", 1)
    pages = pipeline.aws("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return {o["Key"][len(prefix):]: o["ETag"] for page in pages for o in page.get("Contents", [])}


def test_4_the_glue_job_killed_mid_run_then_rerun(pipeline):
    paths = pipeline.glue_paths()  # s3:// on the stack's buckets: the job reads and writes LocalStack's S3

    def published_part_of_the_batch() -> bool:  # the first chart entries file is out, the others and the commit not yet
        return bool(s3_objects(pipeline, f"{paths.target}chart_entries/"))

    with pytest.raises(GlueJobError) as killed:
        pipeline.run_glue(kill_when=published_part_of_the_batch)
    assert killed.value.run.killed and killed.value.run.exit_code == -9
    checkpoint = s3_objects(pipeline, f"{paths.checkpoint}stream/")
    assert "offsets/0" in checkpoint and "commits/0" not in checkpoint  # the batch was never committed
    first_attempt = s3_objects(pipeline, paths.target)
    assert first_attempt
    partial = pipeline.load()  # Snowpipe loads what was published before the kill
    assert partial.files_loaded >= 1

    rerun = pipeline.run_glue()  # replays the uncommitted batch under the same file names
    observations = len(read_records(pipeline.outputs["RawBucketName"], RAW_PREFIX, pipeline.aws("s3"),
                                    contract.CHART_OBSERVATION))
    assert (rerun.count("records_read"), rerun.count("curated"), rerun.count("observations"),
            rerun.count("quarantined")) == (300 + observations, 300, observations, 0)
    assert "commits/0" in s3_objects(pipeline, f"{paths.checkpoint}stream/")
    after = s3_objects(pipeline, paths.target)
    assert {key: after[key] for key in first_attempt} == first_attempt  # left as they were: nothing notified twice


def test_5_a_duplicated_s3_notification_is_loaded_once_and_the_rows_equal_the_clean_run(pipeline):
    sqs = pipeline.aws("sqs")
    deadline = time.monotonic() + 30
    pending: dict[str, str] = {}
    while time.monotonic() < deadline and len(pending) < pipeline.unloaded_files:
        for message in sqs.receive_message(QueueUrl=pipeline.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                           VisibilityTimeout=0).get("Messages", []):
            pending[message["MessageId"]] = message["Body"]
    curated = [body for body in pending.values() if CURATED_PREFIX in body]
    assert curated, "no notification to duplicate"
    for body in curated:  # at-least-once delivery: the same event again
        sqs.send_message(QueueUrl=pipeline.queue_url, MessageBody=body)
    stats = pipeline.load()
    assert stats.failed_messages == 0
    assert stats.files_already_loaded >= len(curated)
    views_match_the_clean_run(pipeline, DAYS)
