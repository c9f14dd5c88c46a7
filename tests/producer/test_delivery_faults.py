"""Delivery that breaks mid-way (issue 21, item 2): a connection error mid-``put``, an
endpoint that goes down, a final error, and a poll whose time runs out mid-delivery. Each
ends with the right state: the charts Firehose accepted whole advance, the others are
sent again by the next poll, and nothing is sent twice but what at-least-once allows (the
records of a chart that was not accepted whole). Real spotipy against the local Spotify
server, real boto3 against moto, through a flaky endpoint for Firehose."""
from __future__ import annotations

from collections import Counter

import pytest
from botocore.exceptions import ClientError

from local_spotify.catalog import MARKETS
from producer.poll import CHANGED, FAILED, UNCHANGED
from producer.state import StateStore
from tests.firehose.flaky_endpoint import DENY, DROP, GO_DOWN, PASS, FlakyFirehoseEndpoint
from tests.producer.test_poll import landed, observations

PLAYLISTS = ",".join(f"{m.playlist_id}:{m.label}" for m in MARKETS)
LAST = MARKETS[-1].playlist_id
# One poll sends 10 charts x (50 entries + 1 observation) = 510 records in two calls: the first
# holds 9 charts whole and the last chart's first 41 entries; the second, the rest of it.
IN_FIRST_CALL = 500 - 9 * 51
BUDGET = 40.0
SECONDS_PER_CALL = 30.0  # the deadline case: the clock moves this much per PutRecordBatch call


def fresh_poller(make_poller, monkeypatch, endpoint=None):
    """A poller as a new Lambda container builds it, its Firehose client pointed at ``endpoint``."""
    if endpoint is None:
        monkeypatch.delenv("AWS_ENDPOINT_URL_FIREHOSE", raising=False)
    else:
        monkeypatch.setenv("AWS_ENDPOINT_URL_FIREHOSE", endpoint.url)
    poller = make_poller(PLAYLISTS=PLAYLISTS)
    poller.writer.sleep = lambda seconds: None  # backoff without waiting
    return poller


CASES = {  # (the plan of PutRecordBatch calls, the reason given, the calls that reached the endpoint)
    # The second call's connection is closed, every time it is retried.
    "connection-closed": (lambda call: PASS if call == 1 else DROP, "ConnectionClosedError", [PASS] + [DROP] * 5),
    # Firehose's endpoint stops answering after the first call: connections are refused.
    "endpoint-down": (lambda call: GO_DOWN if call == 1 else PASS, "EndpointConnectionError", [GO_DOWN]),
    # A final error: not retried, nothing more is sent.
    "access-denied": (lambda call: DENY if call == 2 else PASS, "AccessDeniedException", [PASS, DENY]),
    # The poll's time runs out after the first call: no call starts that could end after it.
    "deadline": (lambda call: PASS, "DeadlineExceeded", [PASS]),
}


@pytest.mark.parametrize("case", CASES)
def test_charts_accepted_before_a_delivery_failure_advance_and_the_rest_is_sent_next_poll(
        make_poller, env, aws_endpoint, monkeypatch, case):
    plan, reason, calls = CASES[case]
    with FlakyFirehoseEndpoint(aws_endpoint, plan) as endpoint:
        poller = fresh_poller(make_poller, monkeypatch, endpoint)
        if case == "deadline":
            time_left = lambda: BUDGET - SECONDS_PER_CALL * len(endpoint.calls)  # noqa: E731
        else:
            time_left = lambda: BUDGET  # noqa: E731
        first = poller.poll("first", time_left)
    assert endpoint.calls == calls
    summary = first.summary()
    assert list(summary["failed"]) == [LAST] and reason in summary["failed"][LAST]
    assert [o.status for o in first.outcomes] == [CHANGED] * 9 + [FAILED]
    state = StateStore(env["STATE_BUCKET"], env["STATE_PREFIX"])
    assert [state.load(m.playlist_id) is not None for m in MARKETS] == [True] * 9 + [False]
    assert summary["records_sent"] == 9 * 50 + IN_FIRST_CALL and summary["observations_sent"] == 9
    heartbeat = state.load_last_poll()  # the poll ended cleanly: its summary is saved
    assert heartbeat["poll_id"] == "first" and heartbeat["failed"] == summary["failed"]

    # The next poll (a new container, Firehose reachable) sends the last chart again, and only it.
    second = fresh_poller(make_poller, monkeypatch).poll("second", lambda: BUDGET)
    assert [o.status for o in second.outcomes] == [UNCHANGED] * 9 + [CHANGED]
    assert state.load(LAST).poll_id == "second"
    entries = Counter((r["playlist_id"], r["position"]) for r in landed(env))
    assert set(entries) == {(m.playlist_id, p) for m in MARKETS for p in range(1, 51)}  # nothing lost
    # At least once, and no more than that: only the entries of the chart not accepted whole, once more.
    assert {key for key, copies in entries.items() if copies > 1} == {(LAST, p) for p in range(1, IN_FIRST_CALL + 1)}
    assert max(entries.values()) == 2
    assert Counter(r["poll_id"] for r in observations(env)) == {"first": 9, "second": 10}


class StateWritesFailFor:
    """The real S3 client, except that writing one playlist's state fails (S3 answers 503)."""

    def __init__(self, client, key):
        self.client, self.key = client, key

    def put_object(self, **kwargs):
        if kwargs["Key"] == self.key:
            raise ClientError({"Error": {"Code": "SlowDown", "Message": "Please reduce your request rate."}},
                              "PutObject")
        return self.client.put_object(**kwargs)

    def __getattr__(self, name):
        return getattr(self.client, name)


def test_a_state_write_that_fails_fails_its_chart_alone_and_the_next_poll_sends_it_again(make_poller, env,
                                                                                          monkeypatch):
    poller = fresh_poller(make_poller, monkeypatch)
    real = poller.state.client
    poller.state.client = StateWritesFailFor(real, poller.state.key(LAST))
    first = poller.poll("first", lambda: BUDGET)
    assert [o.status for o in first.outcomes] == [CHANGED] * 9 + [FAILED]
    assert first.summary()["failed"][LAST].startswith("delivered, but its state was not saved (ClientError")
    state = StateStore(env["STATE_BUCKET"], env["STATE_PREFIX"])
    assert [state.load(m.playlist_id) is not None for m in MARKETS] == [True] * 9 + [False]
    poller.state.client = real
    second = poller.poll("second", lambda: BUDGET)
    assert [o.status for o in second.outcomes] == [UNCHANGED] * 9 + [CHANGED]
    entries = Counter((r["playlist_id"], r["position"]) for r in landed(env))
    assert {key for key, copies in entries.items() if copies > 1} == {(LAST, p) for p in range(1, 51)}
