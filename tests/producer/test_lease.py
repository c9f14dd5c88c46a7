"""Polls never overlap without reserved concurrency: the poll lease in the state bucket.

Real concurrency: each poll runs in its own thread with its own clients (as two Lambda
containers would), against a moto server (real S3 conditional writes over HTTP) and
the local Spotify server. tests/infra/test_deploy_localstack.py does the same with two
invocations of the deployed function on LocalStack.
"""
from __future__ import annotations

import threading
import time
from collections import Counter

import boto3
import pytest

from firehose.contract import CHART_ENTRY, CHART_OBSERVATION
from localdev.aws import read_records
from producer.state import LeaseHeldError, LeaseLostError, StateStore
from tests.producer.conftest import WATCHED

pytestmark = [pytest.mark.moto, pytest.mark.spotify_server]
ENTRIES = 50 * len(WATCHED)


def state_of(env) -> StateStore:
    return StateStore(env["STATE_BUCKET"], env["STATE_PREFIX"])


def run_together(pollers, poll_ids, seconds=60.0, start_gaps=None):
    """Run ``poller.poll`` in one thread each, released together (or ``start_gaps`` apart)."""
    results, errors = {}, {}
    barrier = threading.Barrier(len(pollers))

    def run(index, poller, poll_id):
        barrier.wait()
        if start_gaps:
            time.sleep(start_gaps[index])
        try:
            results[poll_id] = poller.poll(poll_id, lambda: seconds)
        except Exception as error:  # noqa: BLE001 - reported by the test
            errors[poll_id] = error

    threads = [threading.Thread(target=run, args=(i, p, pid)) for i, (p, pid) in enumerate(zip(pollers, poll_ids))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results, errors


def assert_delivered_once_by(env, winner: str) -> None:
    """Every chart position landed exactly once, from the winning poll; its state is the state."""
    records = read_records(env["RAW_BUCKET"])
    entries = [r for r in records if r["record_type"] == CHART_ENTRY]
    keys = Counter((r["playlist_id"], r["snapshot_id"], r["position"]) for r in entries)
    assert len(entries) == ENTRIES and set(keys.values()) == {1}, "a position was sent twice or not at all"
    observed = Counter(r["playlist_id"] for r in records if r["record_type"] == CHART_OBSERVATION)
    assert observed == Counter(m.playlist_id for m in WATCHED), "one observation per chart read, from one poll"
    assert {r["poll_id"] for r in records} == {winner}
    state = state_of(env)
    for market in WATCHED:
        saved = state.load(market.playlist_id)
        assert saved.poll_id == winner and len(saved.slots) == 50
        assert saved.snapshot_id == next(r["snapshot_id"] for r in records if r["playlist_id"] == market.playlist_id)
    assert state.load_last_poll()["poll_id"] == winner


def test_two_polls_started_at_once_send_once(make_poller, env):
    """Both read the lease as free and both write it conditionally: S3 lets exactly one win."""
    for round_number in range(3):  # round 1 creates the lease (If-None-Match), later rounds take it (If-Match)
        ids = [f"r{round_number}-a", f"r{round_number}-b"]
        results, errors = run_together([make_poller(), make_poller()], ids)
        assert not errors, errors
        ran = [pid for pid, result in results.items() if not result.skipped]
        skipped = [pid for pid, result in results.items() if result.skipped]
        assert len(ran) == 1 and len(skipped) == 1, {pid: r.skipped for pid, r in results.items()}
        assert results[skipped[0]].spotify_requests == 0 and results[skipped[0]].delivery.calls == 0
        if round_number == 0:
            assert_delivered_once_by(env, ran[0])
    # Later rounds: charts unchanged, so no entries again; each round's winner records one observation per chart.
    records = read_records(env["RAW_BUCKET"])
    assert sum(r["record_type"] == CHART_ENTRY for r in records) == ENTRIES
    observations = Counter(r["poll_id"] for r in records if r["record_type"] == CHART_OBSERVATION)
    assert len(observations) == 3 and set(observations.values()) == {len(WATCHED)}


def test_a_poll_that_starts_while_another_runs_stops_at_once(make_poller, env, spotify):
    spotify.control.set_latency(400)  # the first poll takes about a second
    results, errors = run_together([make_poller(), make_poller()], ["first", "second"], start_gaps=[0, 0.3])
    assert not errors, errors
    assert results["first"].skipped is None
    assert "poll first holds the poll lease" in results["second"].skipped
    assert results["second"].duration_ms < results["first"].duration_ms
    assert_delivered_once_by(env, "first")
    # Released at the end: the next poll runs at once, without waiting for the lease to expire.
    spotify.control.set_latency(0)
    spotify.control.advance(1)
    assert make_poller().poll("next", lambda: 60.0).skipped is None


def test_an_expired_lease_of_a_crashed_poll_is_taken_over_by_exactly_one(make_poller, env):
    state = state_of(env)
    state.acquire_lease("crashed", seconds=1.0)  # and never released: the Lambda died
    with pytest.raises(LeaseHeldError, match="crashed"):
        state.acquire_lease("too-early", seconds=60)
    time.sleep(1.2)
    ids = [f"taker-{i}" for i in range(4)]
    results, errors = run_together([make_poller() for _ in ids], ids)
    assert not errors, errors
    ran = [pid for pid, result in results.items() if not result.skipped]
    assert len(ran) == 1, {pid: r.skipped for pid, r in results.items()}
    assert_delivered_once_by(env, ran[0])


def test_a_poll_that_outlived_its_lease_sends_nothing(make_poller, env, spotify):
    """A poll past its lease (taken over meanwhile) finds out before delivering and stops."""
    spotify.control.set_latency(1000)  # reading takes about 2 s
    slow, taker = make_poller(), make_poller()
    errors, taken = [], []

    def slow_poll():
        # A lease of 0.5 s (the grace is 60 s): the budget is that short when the lease is
        # taken, and then ample, so reading (which respects the budget) goes on past it.
        budget = iter([0.5 - 60.0])
        try:
            slow.poll("slow", lambda: next(budget, 60.0))
        except LeaseLostError as error:
            errors.append(error)

    thread = threading.Thread(target=slow_poll)
    thread.start()
    time.sleep(1.5)  # the slow poll's lease has expired; it is still reading (its renewal comes after 3 s)
    taken.append(taker.poll("taker", lambda: 60.0))
    thread.join(timeout=60)
    assert taken[0].skipped is None
    assert len(errors) == 1 and "lost the poll lease" in str(errors[0])
    assert_delivered_once_by(env, "taker")


def test_lease_writes_are_conditional_on_s3(env):
    """The S3 endpoint honours If-None-Match and If-Match (what the lease relies on)."""
    s3, bucket, key = boto3.client("s3"), env["STATE_BUCKET"], "producer-state/probe"
    first = s3.put_object(Bucket=bucket, Key=key, Body=b"1", IfNoneMatch="*")["ETag"]
    for condition in ({"IfNoneMatch": "*"}, {"IfMatch": '"0123456789abcdef0123456789abcdef"'}):
        with pytest.raises(s3.exceptions.ClientError) as refused:
            s3.put_object(Bucket=bucket, Key=key, Body=b"2", **condition)
        assert refused.value.response["Error"]["Code"] == "PreconditionFailed"
    s3.put_object(Bucket=bucket, Key=key, Body=b"3", IfMatch=first)
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"3"


def test_a_skipped_invocation_counts_as_overlapped_not_as_a_successful_poll(env, capsys):
    import producer.handler
    from spotify_charts.stages import LocalLambdaContext

    state_of(env).acquire_lease("running", seconds=60)
    summary = producer.handler.lambda_handler({}, LocalLambdaContext(timeout_seconds=30))
    assert "poll running holds the poll lease" in summary["skipped"] and summary["records_sent"] == 0
    emf = [line for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert any('"PollsOverlapped"' in line for line in emf)
    assert not any('"PollSucceeded"' in line for line in emf)  # the no-successful-poll alarm still sees a gap
