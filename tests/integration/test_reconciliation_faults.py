"""Faults only reconciliation, the MERGE and the run lease can repair (#21 item 8), on the
whole local pipeline: each test breaks one thing, shows the views are wrong (or would be),
repairs, and ends with views equal to a clean run's, checked against the truth computed
from the CSV files alone (benchmarks/truth), every day and every track.

One deployed stack and one pipeline for the module; the tests are the run's stages, in
file order (each continues where the previous one left the pipeline), over the Global and
US charts of 2024-03-12..15 (2024-03-14 is a gap in the data):

1. Firehose loses the US records of a poll (accepted, never delivered: what it does after
   24 h of failed delivery to S3): the reconciler Lambda sends them again from the
   producer's sent ledger, the next Glue run curates them;
2. a duplicate weeks later: the records of the first day delivered again after later days
   were merged: the MERGE keeps one row per key and the chart store is refreshed from that
   first day; nothing changes;
3. a lost S3 notification: a curated file no pipe loaded, loaded by the Snowflake side of
   reconciliation (ALTER PIPE ... REFRESH, LocalSnowpipe.refresh here);
4. a corrupt curated file (overwritten before Snowpipe read it): its load fails, the
   reconciler restores its published version from the versioned bucket, it loads;
5. two Glue runs started together on one checkpoint: the second waits for the run lease,
   then finds nothing new; nothing is curated twice or lost.
"""
from __future__ import annotations

import base64
import json
import threading
import time
from datetime import date, timedelta

import pytest

from benchmarks.truth.compare import compare
from benchmarks.truth.csv_charts import market_truth
from firehose import contract
from local_spotify import catalog
from localdev.aws import read_records
from localdev.local_spark.glue_runner import run_glue_job
from localdev.pipeline.settings import CURATED_PREFIX, RAW_PREFIX, PipelineError
from tests.integration.chart_expectations import natural_keys_in_table, table_counts
from localdev.firehose_faults import firehose_faults
from tests.integration.pipelines import PIPELINE_DAYS, PIPELINE_MARKETS, running_pipeline
from tests.integration.test_faults import expected_raw

pytestmark = [pytest.mark.localstack, pytest.mark.spark, pytest.mark.fakesnow, pytest.mark.spotify_server]

MARKETS, DAYS = PIPELINE_MARKETS, PIPELINE_DAYS
GLOBAL, US = (catalog.MARKETS_BY_LABEL[m].playlist_id for m in MARKETS)
LATER = [DAYS[-1] + timedelta(days=n) for n in (1, 2, 3)]  # 2024-03-16..18: one more day per test


def charted(days: list[date]) -> list[date]:
    """The days with a chart (a day missing from the data is a gap: no chart)."""
    return [d for d in days if d in catalog.load_market("global")]


@pytest.fixture(scope="module")
def pipeline(localstack, tmp_path_factory):
    with running_pipeline(localstack, tmp_path_factory.mktemp("reconcile"), "reconcile") as running:
        yield running


def views_equal_the_truth(pipeline, days) -> None:
    """Every daily chart, movement, exit and track statistic of both charts, as a clean run has them."""
    for label in MARKETS:
        result = compare(pipeline.db, market_truth(label, days[0], days[-1]), days[0], days[-1])
        assert result.ok, result.line() + "\n" + "\n".join(result.differences)
    assert natural_keys_in_table(pipeline) == expected_raw(days)


def chart_days_held(pipeline, label: str) -> list:
    return [r["chart_date"] for r in pipeline.query(
        "SELECT chart_date FROM chart_editions WHERE grain = 'day' AND chart_label = %s ORDER BY chart_date", (label,))]


def us_records(call: int, records: list[dict]) -> set[int]:
    return {i for i, r in enumerate(records) if json.loads(base64.b64decode(r["Data"]))["playlist_id"] == US}


def test_1_records_firehose_lost_are_sent_again_by_reconciliation(pipeline):
    with firehose_faults(pipeline, plan=lambda call, records: set(), lose=us_records) as proxy:
        lost_poll = pipeline.poll()
    assert lost_poll["changed"] == [GLOBAL, US] and not lost_poll["failed"]  # the producer saw no problem
    assert proxy.log.records_lost == 51
    pipeline.run_glue()
    pipeline.load()
    assert chart_days_held(pipeline, "us") == [] and chart_days_held(pipeline, "global") == DAYS[:1]

    outcome = pipeline.reconcile()
    assert outcome.lambda_summary["records_missing"] == outcome.lambda_summary["records_resent"] == 51
    assert outcome.unrepaired == {}
    pipeline.run_glue()  # curates what was sent again
    pipeline.load()
    views_equal_the_truth(pipeline, DAYS[:1])
    again = pipeline.reconcile()  # now everything sent is curated
    assert (again.lambda_summary["records_missing"], again.lambda_summary["records_resent"]) == (0, 0)


def test_2_a_duplicate_arriving_weeks_later_changes_nothing(pipeline):
    first_day = read_records(pipeline.outputs["RawBucketName"], RAW_PREFIX, pipeline.aws("s3"))
    for _ in DAYS[1:]:
        pipeline.advance_day()
        pipeline.poll()
    pipeline.run_glue()
    pipeline.load()
    views_equal_the_truth(pipeline, DAYS)
    counts = table_counts(pipeline)
    # The first day's records, all of them, delivered again after the later days were merged.
    firehose = pipeline.aws("firehose")
    for start in range(0, len(first_day), 500):
        firehose.put_record_batch(DeliveryStreamName=pipeline.outputs["DeliveryStreamName"], Records=[
            {"Data": contract.encode(r)} for r in first_day[start:start + 500]])
    run = pipeline.run_glue()
    assert run.count("records_read") == len(first_day)  # curated again: the Glue job does not dedupe
    pipeline.load()
    assert table_counts(pipeline) == counts  # the MERGE did
    views_equal_the_truth(pipeline, DAYS)


def drop_notifications(pipeline, dataset: str) -> list[str]:
    """Receive the curated bucket's pending notifications; delete those of ``dataset``'s files
    (lost), make the others visible again. Returns the keys whose notification was lost."""
    sqs, lost = pipeline.aws("sqs"), []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not lost:
        for message in sqs.receive_message(QueueUrl=pipeline.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                           VisibilityTimeout=30).get("Messages", []):
            keys = [r["s3"]["object"]["key"] for r in json.loads(message["Body"]).get("Records", [])]
            if any(f"{CURATED_PREFIX}{dataset}/" in key.replace("%2F", "/") for key in keys):
                sqs.delete_message(QueueUrl=pipeline.queue_url, ReceiptHandle=message["ReceiptHandle"])
                lost += keys
            else:
                sqs.change_message_visibility(QueueUrl=pipeline.queue_url, ReceiptHandle=message["ReceiptHandle"],
                                              VisibilityTimeout=0)
    return lost


def test_3_a_curated_file_whose_notification_was_lost_is_loaded_by_reconciliation(pipeline):
    pipeline.advance_day()  # 2024-03-16: a new chart day
    pipeline.poll()
    pipeline.run_glue()
    lost = drop_notifications(pipeline, "chart_entries")
    assert len(lost) == 1
    pipeline.snowflake.unloaded_files -= len(lost)  # what the load waits for: the notified files
    pipeline.load()
    days = DAYS + LATER[:1]
    assert pipeline.chart_date() == days[-1]
    assert chart_days_held(pipeline, "global") == charted(DAYS)  # its entries never loaded: the day has no chart
    outcome = pipeline.reconcile()
    assert (outcome.refresh.files_loaded, outcome.refresh.failed) == (1, [])
    views_equal_the_truth(pipeline, days)


def test_4_a_corrupt_curated_file_is_restored_by_reconciliation(pipeline):
    pipeline.advance_day()  # 2024-03-17
    pipeline.poll()
    before = pipeline.glue.curated_files()
    pipeline.run_glue()
    [corrupt] = sorted(k for k in pipeline.glue.curated_files() - before if "/chart_entries/" in k)
    bucket = pipeline.outputs["CuratedBucketName"]
    published = pipeline.aws("s3").get_object(Bucket=bucket, Key=corrupt)["Body"].read()
    pipeline.aws("s3").put_object(Bucket=bucket, Key=corrupt, Body=b"PAR1\x00 overwritten by mistake \x00PAR1")
    with pytest.raises(PipelineError, match="published files"):
        pipeline.load(timeout=20)  # its load fails: not Parquet
    days = DAYS + LATER[:2]
    assert chart_days_held(pipeline, "us") == charted(days[:-1])  # its entries missing: the day's reads are not charts

    outcome = pipeline.reconcile()
    assert outcome.lambda_summary["files_restored"] == [corrupt] and outcome.unrepaired == {}
    assert pipeline.aws("s3").get_object(Bucket=bucket, Key=corrupt)["Body"].read() == published
    assert outcome.refresh.files_loaded == 1
    views_equal_the_truth(pipeline, days)


def test_5_two_glue_runs_started_together_take_turns_on_the_checkpoint(pipeline):
    pipeline.advance_day()  # 2024-03-18
    pipeline.poll()
    glue_log = pipeline.settings.logs / "glue.log"
    logged_before = glue_log.stat().st_size
    second: dict = {}

    def second_run():
        time.sleep(1.0)  # while the first is starting
        second["run"] = run_glue_job(pipeline.glue_paths(), pipeline.settings.logs / "glue-second.log",
                                     env=pipeline.stack.aws_environ())

    thread = threading.Thread(target=second_run)
    thread.start()
    first = pipeline.run_glue()
    thread.join(timeout=300)
    runs = (first, second["run"])
    assert all(run.exit_code == 0 for run in runs)
    # One took the lease and curated the new raw objects; the other waited, then found nothing new.
    assert sorted(run.count("files_read") for run in runs)[0] == 0 and sum(r.count("files_read") for r in runs) >= 1
    logs = glue_log.read_text()[logged_before:] + (pipeline.settings.logs / "glue-second.log").read_text()
    assert logs.count(": waiting up to") == 1 and logs.count("taken by") == 2
    pipeline.load()
    views_equal_the_truth(pipeline, DAYS + LATER)
    assert pipeline.reconcile().unrepaired == {}
