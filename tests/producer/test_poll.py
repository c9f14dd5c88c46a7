"""Polls end to end: real spotipy -> local Spotify server; real boto3 -> Firehose and S3 on moto."""
from __future__ import annotations

import io
import json
from collections import Counter

import boto3
import pytest

import producer.handler
import producer.observability
from firehose import contract
from spotify_charts.stages import LocalLambdaContext
from producer.state import StateStore
from localdev.aws import read_records
from tests.firehose.test_writer import RefusingFirehose
from tests.producer.conftest import REFRESH_TOKEN, WATCHED

GLOBAL = WATCHED[0].playlist_id


def landed(env) -> list[dict]:
    """The chart entries Firehose delivered."""
    return read_records(env["RAW_BUCKET"], record_type=contract.CHART_ENTRY)


def observations(env) -> list[dict]:
    """The observation records Firehose delivered."""
    return read_records(env["RAW_BUCKET"], record_type=contract.CHART_OBSERVATION)


def poll(poller, poll_id="poll", seconds=60.0):
    return poller.poll(poll_id, lambda: seconds)


def test_first_poll_records_every_position_then_unchanged_charts_cost_one_request(make_poller, env, spotify):
    poller = make_poller()
    first = poll(poller, "poll-1")
    assert sorted(first.summary()["changed"]) == sorted(m.playlist_id for m in WATCHED)
    assert first.spotify_requests == 2 * len(WATCHED)  # snapshot + one page of 50
    assert first.delivery.calls == 1  # 150 records fit one PutRecordBatch
    records = landed(env)
    assert len(records) == 150 and all(contract.validate(r) == [] for r in records)
    by_chart = Counter((r["chart_label"], r["position"]) for r in records)
    assert set(by_chart) == {(m.label, p) for m in WATCHED for p in range(1, 51)}
    assert {r["poll_id"] for r in records} == {"poll-1"}
    top = next(r for r in records if r["chart_label"] == "global" and r["position"] == 1)
    assert top["track_name"] == "Ella Baila Sola" and top["playlist_name"] == "Top 50 - Global"

    second = poll(poller, "poll-2")
    assert second.summary()["unchanged"] == [m.playlist_id for m in WATCHED]
    assert second.spotify_requests == len(WATCHED) and second.delivery.calls == 1  # the observations only
    assert len(landed(env)) == 150
    # Every read chart, changed or not, is observed once per poll: one small record, not 50.
    seen = observations(env)
    assert all(contract.validate(r) == [] for r in seen)
    assert sorted((r["poll_id"], r["playlist_id"]) for r in seen) == sorted(
        (poll_id, m.playlist_id) for poll_id in ("poll-1", "poll-2") for m in WATCHED)
    snapshots = {(r["playlist_id"], r["snapshot_id"]) for r in records}
    assert {(r["playlist_id"], r["snapshot_id"]) for r in seen} == snapshots
    assert {r["entry_count"] for r in seen} == {50}
    assert second.summary()["observations_sent"] == len(WATCHED) and second.summary()["records_sent"] == 0
    # An entry and the observation of its read carry the same time.
    first_seen = {r["playlist_id"]: r["observed_at"] for r in seen if r["poll_id"] == "poll-1"}
    assert {r["observed_at"] == first_seen[r["playlist_id"]] for r in records} == {True}


def test_a_new_chart_day_is_recorded_with_its_movements(make_poller, env, spotify):
    poller = make_poller(MOVEMENT_THRESHOLD="3")
    poll(poller, "day-1")
    spotify.control.advance(1)
    result = poll(poller, "day-2")
    assert len(result.by_status("changed")) == len(WATCHED)
    day2 = [r for r in landed(env) if r["poll_id"] == "day-2" and r["playlist_id"] == GLOBAL]
    day1 = [r for r in landed(env) if r["poll_id"] == "day-1" and r["playlist_id"] == GLOBAL]
    # Movements computed from what was delivered: check them against the records themselves.
    before = {r["track_id"]: r["position"] for r in sorted(day1, key=lambda r: -r["position"])}
    after = {r["track_id"]: r["position"] for r in sorted(day2, key=lambda r: -r["position"])}
    moves = next(o for o in result.outcomes if o.playlist.id == GLOBAL).movements
    assert {m.key for m in moves.new_entries} == set(after) - set(before)
    assert {m.key for m in moves.exits} == set(before) - set(after)
    assert {m.key for m in moves.climbs} == {t for t in after if t in before and before[t] - after[t] >= 3}
    assert {m.key for m in moves.falls} == {t for t in after if t in before and after[t] - before[t] >= 3}
    event = json.loads(boto3.client("s3").get_object(Bucket=env["STATE_BUCKET"], Key=result.events_key)["Body"].read())
    assert event["event"] == "chart_movements" and event["poll_id"] == "day-2"
    assert {c["chart_label"] for c in event["charts"]} <= {m.label for m in WATCHED}


def test_pagination_past_fifty_and_every_entry_shape(make_poller, env, spotify):
    spotify.control.set_anomalies(GLOBAL, length=120, null_positions=[3], episode_positions=[60],
                                  local_positions=[101], unavailable_positions=[120])
    result = poll(make_poller(PLAYLISTS=f"{GLOBAL}:global", SPOTIFY_MARKET="US"))
    assert result.spotify_requests == 1 + 3  # snapshot + pages of 50, 50, 20
    records = {r["position"]: r for r in landed(env)}
    assert sorted(records) == [p for p in range(1, 121) if p != 3]  # the null entry is skipped, nothing shifts
    assert result.summary()["entries_skipped"] == {"null_entry": 1}
    assert records[60]["entry_type"] == "episode" and records[60]["artist_names"]
    assert records[101]["entry_type"] == "local" and records[101]["track_id"] is None
    assert records[120]["entry_type"] == "unavailable"
    assert Counter(r["entry_type"] for r in records.values())["track"] == 116


def test_older_payloads_with_the_track_key_give_the_same_records(make_poller, env, spotify):
    spotify.control.configure(entry_key="track")
    poll(make_poller(PLAYLISTS=f"{GLOBAL}:global"), "old")
    spotify.control.configure(entry_key="item")
    spotify.control.advance(1)
    spotify.control.advance(-1)  # same content, same snapshot: state says unchanged
    old = sorted(landed(env), key=lambda r: r["position"])
    assert len(old) == 50 and all(r["entry_type"] == "track" and r["track_id"] for r in old)


def test_a_rate_limit_longer_than_the_time_left_defers_cleanly(make_poller, env, spotify):
    spotify.control.add_fault(429, endpoint="items", count=1, retry_after=3600)
    poller = make_poller(MAX_CONCURRENCY="1")  # in order: the first items request is limited
    result = poll(poller, "limited", seconds=30)
    summary = result.summary()
    assert summary["deferred"] == [m.playlist_id for m in WATCHED]  # the limited one and the ones not started
    assert summary["spotify_rate_limited"] == 1 and summary["records_sent"] == 0
    state = StateStore(env["STATE_BUCKET"], env["STATE_PREFIX"])
    assert state.load(GLOBAL) is None
    # Within the hour nobody calls Spotify: not this container, nor a new one (the hold is in S3).
    for later in (poller, make_poller()):
        held = poll(later, "within-the-hour")
        assert held.spotify_requests == 0 and len(held.by_status("deferred")) == len(WATCHED)
    state.save_rate_limit(0)  # the hour has passed
    again = poll(make_poller(), "after")
    assert len(again.by_status("changed")) == len(WATCHED)


def test_a_short_rate_limit_is_waited_out(make_poller, env, spotify):
    spotify.control.add_fault(429, endpoint="playlist", count=1, retry_after=1, playlist_id=GLOBAL)
    result = poll(make_poller(), seconds=30)
    assert len(result.by_status("changed")) == len(WATCHED) and result.rate_limited == 1


def test_server_errors_are_retried_then_fail_one_playlist_only(make_poller, env, spotify):
    us, gb = WATCHED[1].playlist_id, WATCHED[2].playlist_id
    spotify.control.add_fault(500, endpoint="items", count=2, playlist_id=us)  # recovers on the 3rd try
    spotify.control.add_fault(503, endpoint="playlist", count=10, playlist_id=gb)  # never recovers
    reader_sleeps = []
    poller = make_poller()
    poller.reader.sleep = reader_sleeps.append
    result = poll(poller)
    assert sorted(o.playlist.id for o in result.by_status("changed")) == sorted([GLOBAL, us])
    assert "HTTP 503 after 4 attempts" in result.summary()["failed"][gb]
    assert len(reader_sleeps) == 2 + 3


@pytest.mark.parametrize("delay_ms", [500, 20])
def test_retry_waits_follow_the_retry_delay_setting(make_poller, env, spotify, delay_ms):
    gb = WATCHED[2].playlist_id
    spotify.control.add_fault(503, endpoint="playlist", count=10, playlist_id=gb)
    reader_sleeps = []
    poller = make_poller(SPOTIFY_RETRY_DELAY_MS=str(delay_ms))
    poller.reader.sleep = reader_sleeps.append
    poll(poller)
    # Each wait is between half and all of the delay, doubled at each retry.
    base = delay_ms / 1000
    assert len(reader_sleeps) == 3
    for retry, wait in enumerate(reader_sleeps):
        assert base * 2 ** retry / 2 <= wait <= base * 2 ** retry


def test_a_forbidden_chart_is_reported_with_its_likely_cause(make_poller, env, spotify, caplog):
    spotify.control.add_fault(404, endpoint="playlist", count=1, playlist_id=GLOBAL)
    result = poll(make_poller())
    assert "development-mode apps" in result.summary()["failed"][GLOBAL]
    assert len(result.by_status("changed")) == len(WATCHED) - 1


def test_refused_records_are_retried_and_a_playlist_that_keeps_failing_is_sent_again(make_poller, env):
    poller = make_poller()
    real = poller.writer.client
    # 150 records in one call: refuse 2 records of the global chart in every attempt, and 1 us record once.
    poller.writer.client = RefusingFirehose(real, [{0, 1, 60}] + [{0, 1}] * 4)
    poller.writer.sleep = lambda s: None
    result = poll(poller, "partial")
    summary = result.summary()
    assert list(summary["failed"]) == [GLOBAL] and "refused 2 records" in summary["failed"][GLOBAL]
    assert summary["records_sent"] == 148 and summary["firehose_retried_records"] == 3 + 2 * 3
    state = StateStore(env["STATE_BUCKET"], env["STATE_PREFIX"])
    assert state.load(GLOBAL) is None and state.load(WATCHED[1].playlist_id) is not None
    poller.writer.client = real
    retry = poll(poller, "resend")
    assert [o.playlist.id for o in retry.by_status("changed")] == [GLOBAL]
    positions = Counter(r["position"] for r in landed(env) if r["playlist_id"] == GLOBAL)
    assert set(positions) == set(range(1, 51))  # nothing lost; positions 3..50 twice (at least once)
    # Every read was observed, the global one too: its observation went through while 2 of its
    # entries did not. It names the snapshot the poll saw; the views use it once all of that
    # snapshot's entries are loaded (its entry_count), here after the resend.
    assert sorted((r["poll_id"], r["playlist_id"]) for r in observations(env)) == sorted(
        [(poll_id, m.playlist_id) for poll_id in ("partial", "resend") for m in WATCHED])
    assert {r["entry_count"] for r in observations(env)} == {50}


def test_a_refused_observation_fails_its_chart_and_the_next_poll_reads_it_again(make_poller, env):
    poller = make_poller()
    real = poller.writer.client
    # One call: each chart's 50 entries then its observation; refuse the global one's (index 50) every time.
    poller.writer.client = RefusingFirehose(real, [{50}] + [{0}] * 4)
    poller.writer.sleep = lambda s: None
    summary = poll(poller, "first").summary()
    assert list(summary["failed"]) == [GLOBAL] and "refused 1 records" in summary["failed"][GLOBAL]
    assert summary["records_sent"] == 150 and summary["observations_sent"] == len(WATCHED) - 1
    assert summary["firehose_calls"] == 5
    assert StateStore(env["STATE_BUCKET"], env["STATE_PREFIX"]).load(GLOBAL) is None
    poller.writer.client = real
    again = poll(poller, "second").summary()
    assert again["changed"] == [GLOBAL] and again["observations_sent"] == len(WATCHED)
    assert sorted(r["poll_id"] for r in observations(env) if r["playlist_id"] == GLOBAL) == ["second"]


def test_refresh_token_and_secrets_manager_credentials(make_poller, env, spotify):
    secret = boto3.client("secretsmanager").create_secret(
        Name="spotify-test", SecretString=json.dumps({"client_id": env["SPOTIFY_CLIENT_ID"],
                                                     "client_secret": env["SPOTIFY_CLIENT_SECRET"],
                                                     "refresh_token": REFRESH_TOKEN}))
    poller = make_poller(SPOTIFY_CLIENT_ID="", SPOTIFY_CLIENT_SECRET="", SPOTIFY_SECRET_ARN=secret["ARN"])
    assert len(poll(poller).by_status("changed")) == len(WATCHED)
    stats = spotify.control.stats()["by_endpoint"]["token"]
    assert stats.get("200") == 1  # one refresh-token grant served every request


def test_a_token_endpoint_outage_fails_the_poll_cleanly(make_poller, env, spotify):
    spotify.control.add_fault(503, endpoint="token", count=1)
    result = poll(make_poller())
    assert len(result.by_status("failed")) == len(WATCHED) and result.spotify_requests == 0
    assert "token request failed" in result.summary()["failed"][GLOBAL]


def test_lambda_handler_runs_a_scheduled_poll_and_emits_metrics(env, capsys, monkeypatch):
    log_stream = io.StringIO()  # the JSON log lines, as CloudWatch Logs would receive them
    monkeypatch.setattr(producer.observability.logger.registered_handler, "stream", log_stream)
    event = json.loads(open("tests/events/scheduled_poll.json").read())
    context = LocalLambdaContext(timeout_seconds=60)
    summary = producer.handler.lambda_handler(event, context)
    assert summary["poll_id"] == context.aws_request_id and summary["records_sent"] == 150
    lines = [json.loads(l) for l in capsys.readouterr().out.splitlines() if l.startswith("{")]
    emf = next(l for l in lines if "RecordsSent" in l)
    assert emf["RecordsSent"] in (150, [150]) and emf["SpotifyRequests"] in (6, [6])
    assert emf["PollSucceeded"] in (1, [1]) and emf["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "SpotifyCharts"
    logs = [json.loads(l) for l in log_stream.getvalue().splitlines()]
    finished = next(l for l in logs if l.get("message") == "poll finished")
    assert finished["poll_id"] == context.aws_request_id
    assert finished["summary"]["records_sent"] == 150 and finished["cold_start"] in (True, False)
    assert env["SPOTIFY_CLIENT_SECRET"] not in log_stream.getvalue() + json.dumps(lines)
