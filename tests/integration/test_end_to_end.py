"""The whole pipeline on LocalStack, end to end, asserted row by row on a small case.

The local Spotify server replays the real Global and US Top 50 from 2024-03-12 to
2024-03-15 (2024-03-14 is missing from the data: the server answers as Spotify failing, a gap).
The producer runs as the DEPLOYED Lambda (``lambda.invoke``) once per chart day; Firehose
delivers to the raw bucket; the Glue job runs locally (local Spark) over what landed,
reading and writing LocalStack's S3 itself on the paths the stack gives it on Glue,
checkpoint included; the curated bucket notifies SQS; the local
Snowpipe loads fakesnow; the snapshot views must show exactly the movements computed from
``local_spotify.catalog`` (``chart_expectations``), independent of every stage.

One deployed stack and one pipeline run for the module (``LocalPipeline``); the tests
read what that run left, in file order (the last ones rerun stages on top of it).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest

from tests.integration.chart_expectations import (comparable, expected_editions, expected_keys, natural_keys_in_table,
                                table_counts, view_editions)
from tests.integration.pipelines import PIPELINE_DAYS, PIPELINE_MARKETS, running_pipeline
from firehose import contract
from local_spotify import catalog
from localdev.aws import read_records
from localdev.local_spark.glue_runner import GlueRun
from localdev.pipeline.settings import CURATED_PREFIX, RAW_PREFIX, REPO_ROOT
from localdev.local_snowflake.snowpipe import RunStats

# The whole pipeline: LocalStack, the Glue job on Spark, fakesnow, the local Spotify server.
pytestmark = [pytest.mark.localstack, pytest.mark.spark, pytest.mark.fakesnow, pytest.mark.spotify_server]

MARKETS, DAYS = PIPELINE_MARKETS, PIPELINE_DAYS
GAP_DAY = date(2024, 3, 14)  # missing from the data in every market: Spotify "fails" that day


@dataclass
class CleanRun:
    polls: list[dict] = field(default_factory=list)
    glue: list[GlueRun] = field(default_factory=list)
    loads: list[RunStats] = field(default_factory=list)
    uploaded: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def pipeline(localstack, tmp_path_factory):
    with running_pipeline(localstack, tmp_path_factory.mktemp("pipeline"), "e2e") as running:
        yield running


@pytest.fixture(scope="module")
def clean_run(pipeline, record_timing) -> CleanRun:
    """Four chart days, then Glue and the load (one Glue run: each costs a JVM; the
    fault tests show a run that picks up only what is new since the last)."""
    started = time.monotonic()
    run = CleanRun()
    for n, day in enumerate(DAYS):
        if n:
            assert pipeline.advance_day() == day
        run.polls.append(pipeline.poll())
    run.glue.append(pipeline.run_glue())
    run.loads.append(pipeline.load())
    record_timing("e2e: 4 polls, Glue, load", time.monotonic() - started)
    return run


def playlist(label: str) -> str:
    return catalog.MARKETS_BY_LABEL[label].playlist_id


def test_the_deployed_producer_polled_each_day_and_the_gap_day_failed(pipeline, clean_run):
    both = sorted(playlist(m) for m in MARKETS)
    for day, poll in zip(DAYS, clean_run.polls):
        assert poll["deferred"] == [], day
        if day == GAP_DAY:  # nothing read, nothing sent: a day without a chart
            assert sorted(poll["failed"]) == both and all("HTTP 503" in e for e in poll["failed"].values())
            assert poll["records_sent"] == poll["observations_sent"] == 0
        else:
            assert poll["failed"] == {} and sorted(poll["changed"]) == both, day
            assert (poll["records_sent"], poll["observations_sent"]) == (100, 2), day
    # The producer's movement counts agree with the chart data: new entries (NEW or
    # RE-ENTRY against the previous version) and exits, summed over both charts.
    for index in (1, 3):
        expected_new = expected_exits = 0
        for label in MARKETS:
            edition = expected_editions(label, DAYS[:index + 1])[-1]
            expected_new += sum(r.status in ("NEW", "RE-ENTRY") for r in edition.rows)
            expected_exits += len(edition.exits)
        movements = clean_run.polls[index]["movements"]
        assert (movements["new_entries"], movements["exits"]) == (expected_new, expected_exits), DAYS[index]


def test_the_polls_ran_in_the_lambda_and_logged_chart_movements(pipeline, clean_run):
    logs = pipeline.aws("logs")
    group = pipeline.outputs["ProducerLogGroupName"]
    lines = [e["message"] for page in logs.get_paginator("filter_log_events").paginate(logGroupName=group)
             for e in page["events"]]
    assert sum("poll finished" in line for line in lines) == len(DAYS)
    assert sum('"event": "chart_movements"' in line or '"event":"chart_movements"' in line for line in lines) == 2


def test_the_schedule_invokes_nothing_in_accelerated_time_and_the_producer_when_turned_on(pipeline, clean_run):
    events, rule = pipeline.aws("events"), pipeline.schedule_rule
    assert events.list_targets_by_rule(Rule=rule)["Targets"] == []  # so only our invokes polled
    function_arn = pipeline.aws("lambda").get_function(
        FunctionName=pipeline.outputs["ProducerFunctionName"])["Configuration"]["FunctionArn"]
    try:
        pipeline.set_schedule(True)
        assert events.describe_rule(Name=rule)["ScheduleExpression"] == "rate(1 minute)"
        assert [t["Arn"] for t in events.list_targets_by_rule(Rule=rule)["Targets"]] == [function_arn]
    finally:
        pipeline.set_schedule(False)
    assert events.list_targets_by_rule(Rule=rule)["Targets"] == []


def test_firehose_delivered_every_chart_entry_and_observation_to_the_raw_bucket(pipeline, clean_run):
    records = read_records(pipeline.outputs["RawBucketName"], RAW_PREFIX, pipeline.aws("s3"))
    assert [problem for r in records for problem in contract.validate(r)] == []
    entries = [r for r in records if r["record_type"] == contract.CHART_ENTRY]
    assert sorted((r["playlist_id"], r["position"], r["track_id"]) for r in entries) == sorted(
        key for label in MARKETS for key in expected_keys(label, DAYS))
    # One observation per chart and successful poll, dated by the day the server served.
    observed = sorted((r["observed_at"][:10], r["chart_label"]) for r in records
                      if r["record_type"] == contract.CHART_OBSERVATION)
    assert observed == sorted((str(day), label) for day in DAYS if day != GAP_DAY for label in MARKETS)
    assert {r["observed_at"][:10] for r in entries} == {str(d) for d in DAYS if d != GAP_DAY}


def test_glue_curated_what_landed_on_s3_and_kept_its_checkpoint_there(pipeline, clean_run):
    [run] = clean_run.glue
    counts = [run.count(name) for name in ("files_read", "records_read", "curated", "observations", "quarantined")]
    # One raw object per day with charts (LocalStack's Firehose: one per batch): entries and observations.
    assert counts == [3, 306, 300, 6, 0]
    paths = pipeline.glue_paths()
    assert paths.on_s3() and paths.target == f"s3://{pipeline.outputs['CuratedBucketName']}/{CURATED_PREFIX}"
    s3, bucket = pipeline.aws("s3"), pipeline.outputs["CuratedBucketName"]
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))
    published = [key for key in keys if key.startswith(CURATED_PREFIX)]
    [batch] = run.metrics["batch_details"]
    # Only the published files are in the notified prefix: <dataset>/<partition>/<dataset>-<batch id>.parquet.
    assert published and all(key.endswith(f"-{batch['batch_id']}.parquet") for key in published)
    assert {key.split("/")[1] for key in published} == {"chart_entries", "chart_observations"}
    assert sorted(key.split("/")[2] for key in published if key.split("/")[1] == "chart_entries") == [
        f"chart_date={day}" for day in batch["chart_dates"]]
    checkpoint = paths.checkpoint.removeprefix(f"s3://{bucket}/")
    assert f"{checkpoint}stream/commits/0" in keys  # the batch is committed in the checkpoint on S3
    assert [key for key in keys if key.startswith(f"{checkpoint}run_metrics/")]
    assert not [key for key in keys if key.startswith(f"{checkpoint}staging/") and key.endswith(".parquet")]


def test_s3_notified_sqs_and_the_local_snowpipe_loaded_every_file_once(pipeline, clean_run):
    curated_files = len(pipeline.aws("s3").list_objects_v2(
        Bucket=pipeline.outputs["CuratedBucketName"], Prefix=CURATED_PREFIX)["Contents"])
    assert sum(load.files_loaded for load in clean_run.loads) == curated_files
    assert [(load.failed_messages, load.files_already_loaded) for load in clean_run.loads] == [(0, 0)]
    attributes = pipeline.aws("sqs").get_queue_attributes(
        QueueUrl=pipeline.queue_url, AttributeNames=["ApproximateNumberOfMessages",
                                                     "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    assert attributes == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}
    assert natural_keys_in_table(pipeline) == sorted(key for label in MARKETS for key in expected_keys(label, DAYS))


@pytest.mark.parametrize("label", MARKETS)
def test_the_snapshot_views_show_exactly_the_charts_movements(pipeline, clean_run, label):
    expected = expected_editions(label, DAYS)
    assert [e.first_day for e in expected] == [DAYS[0], DAYS[1], DAYS[3]]  # the gap day adds no version
    assert [len(e.rows) for e in expected] == [50, 50, 50]
    actual = view_editions(pipeline, label)
    for number, (want, got) in enumerate(zip(comparable(expected), comparable(actual))):
        assert got[0] == want[0], f"{label} snapshot {number + 1}: positions, previous positions, statuses"
        assert got[1] == want[1], f"{label} snapshot {number + 1}: exits"
    assert len(actual) == len(expected)
    # Something moved in every later snapshot (so the comparison above is not trivially equal).
    assert all({r.status for r in e.rows} - {"SAME"} for e in expected[1:])


def test_the_report_shows_each_charts_latest_movements(pipeline, clean_run):
    text = pipeline.report_text(rows=5)
    for label in MARKETS:
        latest = expected_editions(label, DAYS)[-1]
        assert label in text
        assert latest.rows[0].track_name[:30] in text


def test_rerunning_every_stage_changes_nothing(pipeline, clean_run):
    before = {label: comparable(view_editions(pipeline, label)) for label in MARKETS}
    chart_columns = "chart_date, chart_label, position, track_id, status, change, previous_position, snapshot_id"
    daily = pipeline.query(f"SELECT {chart_columns} FROM daily_chart ORDER BY chart_date, chart_label, position")
    # Polling the same day again: the charts are unchanged; each gets a new observation, nothing else.
    poll = pipeline.poll()
    assert sorted(poll["unchanged"]) == sorted(playlist(m) for m in MARKETS)
    assert (poll["records_sent"], poll["observations_sent"]) == (0, 2)
    glue = pipeline.run_glue()
    assert (glue.count("records_read"), glue.count("curated"), glue.count("observations")) == (2, 0, 2)
    assert pipeline.load().files_loaded == 1  # the observations' file of the day
    counts = table_counts(pipeline)
    # Every stage again, with nothing new: nothing changes.
    rerun = pipeline.run_glue()
    assert rerun.count("records_read") == 0
    stats = pipeline.load()
    assert stats.files_loaded == 0
    assert table_counts(pipeline) == counts == {"chart_entries": 300, "chart_observations": 8}
    assert {label: comparable(view_editions(pipeline, label)) for label in MARKETS} == before
    assert pipeline.query(f"SELECT {chart_columns} FROM daily_chart ORDER BY chart_date, chart_label, position") == daily


# -- the command line -------------------------------------------------------------------
def descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def children_of(pid: int) -> list[int]:
    return [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()
            and _parent(entry) == pid]


def _parent(entry: Path) -> int | None:
    try:
        return int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


def test_ctrl_c_stops_every_process_the_command_started(localstack, tmp_path):
    stack_name = f"cli-{uuid.uuid4().hex[:6]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SPOTIFY_"))}
    command = subprocess.Popen(
        [sys.executable, "-m", "localdev.pipeline", "--keep-running", "--localstack-endpoint", localstack.endpoint,
         "--work-dir", str(tmp_path / "work"), "--stack-name", stack_name, "--glue-seconds", "3600"],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)  # its own process group, as a command in a terminal has
    output = []
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            line = command.stdout.readline()
            output.append(line)
            if not line or line.startswith("schedule"):
                break
        assert output[-1].startswith("schedule"), "".join(output)
        started = descendants(command.pid)
        assert len(started) >= 2, "".join(output)  # at least the Spotify server and the Snowflake engine
        # The servers it started are in sessions of their own: the terminal's Ctrl-C reaches only the
        # command, which then reads from them once more (the report) before stopping them by pid.
        servers = [pid for pid in started if pid in set(children_of(command.pid))]
        assert servers and all(os.getsid(pid) != os.getsid(command.pid) for pid in servers)
        os.killpg(command.pid, signal.SIGINT)  # Ctrl-C in a terminal: every process of the group gets it
        rest, _ = command.communicate(timeout=120)
    finally:
        if command.poll() is None:  # a failed assertion above: let it stop what it started, then kill it
            command.terminate()
            try:
                command.wait(timeout=120)
            except subprocess.TimeoutExpired:
                command.kill()
                command.wait()
    output.append(rest)
    assert command.returncode == 130, "".join(output)
    assert [pid for pid in started if alive(pid)] == []
    assert "all local processes stopped" in rest
    # It ended cleanly: the report of what was loaded (nothing, here), no error from a server
    # that went away first (its children do not get the terminal's Ctrl-C).
    assert "interrupted: the report of what was loaded" in rest and "(no charts loaded yet)" in rest
    assert "Error" not in rest and "Traceback" not in rest, rest
    # What a second terminal needs was printed, and is in the file it names.
    [terminal] = [line for line in output if line.startswith("terminal")]
    environment = Path(terminal.split("source ", 1)[1].split()[0])
    exported = dict(line[len("export "):].split("=", 1) for line in environment.read_text().splitlines()
                    if line.startswith("export "))
    assert {"SNOWFLAKE_LOCAL_URL", "AWS_ENDPOINT_URL", "STATE_BUCKET", "SNOWPIPE_QUEUE_URL", "PLAYLISTS"} <= set(exported)
    stacks = localstack.client("cloudformation").list_stacks()["StackSummaries"]
    assert [s["StackStatus"] for s in stacks if s["StackName"] == stack_name] in ([], ["DELETE_COMPLETE"])
