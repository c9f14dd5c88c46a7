"""The producer's sent ledger (firehose/ledger.py; #21 item 3): what Firehose accepted in a
poll is kept, as sent, for the reconciler; nothing Firehose refused is in it, and a chart
whose records could not be recorded keeps its state, so the next poll sends it again.
Real spotipy against the local Spotify server, real boto3 against moto."""
from __future__ import annotations

import boto3
from botocore.exceptions import ClientError

from firehose import ledger
from local_spotify.catalog import MARKETS
from producer.poll import CHANGED, FAILED, UNCHANGED
from producer.state import StateStore
from tests.firehose.flaky_endpoint import DROP, PASS, FlakyFirehoseEndpoint
from tests.producer.test_delivery_faults import BUDGET, LAST, fresh_poller
from tests.producer.test_poll import landed, observations


def sent(env) -> dict[str, list[dict]]:
    """{ledger key: its records} of every poll the producer recorded as sent."""
    s3 = boto3.client("s3")
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=env["STATE_BUCKET"],
                                                         Prefix=env["STATE_PREFIX"] + ledger.SENT_FOLDER)
    return {o["Key"]: ledger.decode_sent(s3.get_object(Bucket=env["STATE_BUCKET"], Key=o["Key"])["Body"].read())
            for page in pages for o in page.get("Contents", [])}


def key(record: dict) -> tuple:
    return (record["record_type"], record["playlist_id"], record.get("snapshot_id"), record.get("position"),
            record["poll_id"])


def test_a_poll_records_exactly_what_firehose_accepted(make_poller, env, aws_endpoint, monkeypatch):
    # The second PutRecordBatch call's connection always closes: the last chart is not accepted whole.
    with FlakyFirehoseEndpoint(aws_endpoint, lambda call: PASS if call == 1 else DROP) as endpoint:
        first = fresh_poller(make_poller, monkeypatch, endpoint).poll("first", lambda: BUDGET)
    assert [o.status for o in first.outcomes] == [CHANGED] * 9 + [FAILED]
    [(ledger_key, records)] = sent(env).items()
    assert ledger_key.startswith(f"{env['STATE_PREFIX']}sent/") and ledger_key.endswith("-first.jsonl.gz")
    # Every record of the 9 charts accepted whole, and not one of the last chart's (some of
    # whose entries Firehose did accept: it is sent again whole, as its state did not move).
    accepted = [r for r in landed(env) + observations(env) if r["playlist_id"] != LAST]
    assert sorted(map(key, records)) == sorted(map(key, accepted)) and len(records) == 9 * 51
    assert records == [r for r in records if r["playlist_id"] != LAST]

    second = fresh_poller(make_poller, monkeypatch).poll("second", lambda: BUDGET)
    assert [o.status for o in second.outcomes] == [UNCHANGED] * 9 + [CHANGED]
    [records] = [records for name, records in sent(env).items() if name.endswith("-second.jsonl.gz")]
    # The unchanged charts: their observation; the last chart: its 50 entries and its observation.
    assert sorted((r["record_type"], r["playlist_id"]) for r in records if r["playlist_id"] != LAST) == \
        sorted(("chart_observation", m.playlist_id) for m in MARKETS[:-1])
    assert sorted(r.get("position", 0) for r in records if r["playlist_id"] == LAST) == list(range(0, 51))


class LedgerWritesFail:
    """The real S3 client, except that writing to the sent ledger fails (S3 answers 503) from
    the ``first``-th write on."""

    def __init__(self, client, first: int = 1):
        self.client, self.first, self.writes = client, first, 0

    def put_object(self, **kwargs):
        if "/sent/" in kwargs["Key"]:
            self.writes += 1
            if self.writes >= self.first:
                raise ClientError({"Error": {"Code": "SlowDown", "Message": "Please reduce your request rate."}},
                                  "PutObject")
        return self.client.put_object(**kwargs)

    def __getattr__(self, name):
        return getattr(self.client, name)


def test_charts_that_could_not_be_recorded_keep_their_state_and_are_sent_again(make_poller, env, monkeypatch):
    poller = fresh_poller(make_poller, monkeypatch)
    real = poller.state.client
    poller.state.client = LedgerWritesFail(real)
    first = poller.poll("first", lambda: BUDGET)
    assert {o.status for o in first.outcomes} == {FAILED}
    assert all(e.startswith("delivered, but not recorded as sent (ClientError") for e in first.summary()["failed"].values())
    state = StateStore(env["STATE_BUCKET"], env["STATE_PREFIX"])
    assert all(state.load(m.playlist_id) is None for m in MARKETS) and sent(env) == {}

    poller.state.client = real
    second = poller.poll("second", lambda: BUDGET)
    assert {o.status for o in second.outcomes} == {CHANGED}
    [records] = sent(env).values()
    assert len(records) == 10 * 51 and {r["poll_id"] for r in records} == {"second"}
