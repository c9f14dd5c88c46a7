"""The reconciler (producer.reconciler, handler producer.reconcile; #21 item 3) with real boto3
against a moto server: the producer's sent ledger written by its own StateStore, the Glue
job's manifests in the ledger's format, a versioned curated bucket, and a delivery stream
landing in a raw bucket, where every re-sent record can be read back."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import boto3
import pytest

import producer.reconcile
from firehose import contract, ledger
from firehose.writer import FirehoseWriter
from localdev.aws import create_delivery_stream, read_records
from producer.config import ConfigError
from producer.reconcile import ReconcileConfig
from producer.reconciler import CuratedStore, Reconciler, ReconcileSettings, SentLedger
from producer.state import StateStore
from spotify_charts.stages import LocalLambdaContext
from tests.conftest import unique_name
from tests.glue_streaming.raw_data import chart, observation

PREFIX = "producer-state/"
MANIFESTS = "_checkpoints/curate-charts/manifests/"


class Site:
    """A state bucket, a versioned curated bucket, a stream into a raw bucket; a clock to move."""

    def __init__(self):
        self.s3 = boto3.client("s3")
        self.state, self.curated, self.raw, self.stream = (unique_name(n) for n in ("state", "curated", "raw", "charts"))
        self.s3.create_bucket(Bucket=self.state)
        self.s3.create_bucket(Bucket=self.curated)
        self.s3.put_bucket_versioning(Bucket=self.curated, VersioningConfiguration={"Status": "Enabled"})
        create_delivery_stream(self.raw, self.stream)
        self.hours_later = 0.0
        self.batches = 0

    def now(self) -> datetime:
        return datetime.now(timezone.utc) + timedelta(hours=self.hours_later)

    def reconciler(self, grace_hours: float = 1.0, max_resends: int = 2) -> Reconciler:
        return Reconciler(SentLedger(self.state, PREFIX, self.s3), CuratedStore(self.curated, MANIFESTS, self.s3),
                          FirehoseWriter(self.stream, boto3.client("firehose"), sleep=lambda s: None),
                          ReconcileSettings(window_days=14, grace_hours=grace_hours, max_resends=max_resends),
                          now=self.now)

    def send(self, poll_id: str, records: list[dict]) -> str:
        """What the producer does once Firehose accepted a poll's records."""
        return StateStore(self.state, PREFIX, self.s3).save_sent(poll_id, ledger.encode_sent(map(contract.encode, records)))

    def curate(self, records: list[dict], body: bytes = b"PAR1 curated PAR1") -> str:
        """What a Glue batch does: one curated file holding ``records``, and its manifest."""
        self.batches += 1
        key = f"curated/chart_entries/chart_date=2026-11-20/chart_entries-{self.batches:06d}-abc.parquet"
        self.s3.put_object(Bucket=self.curated, Key=key, Body=body)
        file = ledger.CuratedFile(f"s3://{self.curated}/{key}", ledger.ENTRIES)
        for r in records:
            if r["record_type"] == contract.CHART_ENTRY:
                file.entries.setdefault(r["playlist_id"], {}).setdefault(r["snapshot_id"], []).append(r["position"])
        observed = ledger.CuratedFile(f"s3://{self.curated}/{key}".replace("chart_entries", "chart_observations"),
                                      ledger.OBSERVATIONS)
        for r in records:
            if r["record_type"] == contract.CHART_OBSERVATION:
                observed.observations.setdefault(r["playlist_id"], []).append(r["poll_id"])
        if observed.observations:
            self.s3.put_object(Bucket=self.curated, Key=observed.key.split("/", 3)[3], Body=body)
        self.s3.put_object(Bucket=self.curated, Key=ledger.manifest_key(MANIFESTS, f"{self.batches:06d}-abc"),
                           Body=ledger.manifest_json(f"{self.batches:06d}-abc",
                                                     [f for f in (file, observed) if f.entries or f.observations]))
        return key

    def resent(self) -> list[dict]:
        return read_records(self.raw)


@pytest.fixture
def site(aws_endpoint):
    return Site()


def a_poll(poll_id: str, snapshot: str) -> list[dict]:
    return chart(3, poll_id=poll_id, snapshot_id=snapshot) + [observation(poll_id=poll_id, snapshot_id=snapshot)]


def test_a_poll_whose_records_were_all_curated_is_verified_once_and_never_read_again(site):
    records = a_poll("p1", "s1")
    site.send("p1", records)
    site.curate(records)
    site.hours_later = 2
    first = site.reconciler().run(lambda: 60)
    assert (first.polls_checked, first.polls_verified, first.records_missing, first.unrepaired) == (1, 1, 0, {})
    assert site.resent() == []
    assert site.reconciler().run(lambda: 60).polls_checked == 0  # verified: not read again


def test_records_firehose_dropped_are_sent_again_as_sent_then_verified_once_curated(site):
    lost = a_poll("p2", "s2")
    site.send("p1", a_poll("p1", "s1"))
    site.curate(a_poll("p1", "s1"))
    site.send("p2", lost)  # accepted by Firehose, never delivered to S3
    site.curate(lost[:1])  # ... but for its first entry, redelivered elsewhere
    assert site.reconciler().run(lambda: 60).polls_checked == 0  # not due yet: within the grace period
    site.hours_later = 2
    run = site.reconciler().run(lambda: 60)
    assert (run.polls_checked, run.polls_verified, run.records_missing, run.records_resent) == (2, 1, 3, 3)
    assert site.resent() == lost[1:]  # exactly what was missing, as it was sent
    site.hours_later = 2.5  # within the grace period after the re-send: a Glue run has to come first
    assert site.reconciler().run(lambda: 60).polls_checked == 0
    site.curate(site.resent())  # the next Glue run curates them
    site.hours_later = 4
    again = site.reconciler().run(lambda: 60)
    assert (again.polls_checked, again.polls_verified, again.records_resent, again.unrepaired) == (1, 1, 0, {})


def test_records_that_never_reach_the_curated_data_are_reported_after_the_last_re_send(site):
    quarantined = a_poll("p3", "s3")  # e.g. the Glue job quarantines them every time
    key = site.send("p3", quarantined)
    resends = []
    for hours in (2, 4, 6):
        site.hours_later = hours
        resends.append(site.reconciler(max_resends=2).run(lambda: 60))
    assert [r.records_resent for r in resends] == [4, 4, 0]
    assert resends[-1].unrepaired == {key: "4 records not curated after 2 re-sends"}
    site.hours_later = 6.5
    assert site.reconciler(max_resends=2).run(lambda: 60).unrepaired == {key: "4 records not curated after 2 re-sends"}


def test_an_overwritten_or_deleted_curated_file_gets_its_published_version_back(site):
    records = a_poll("p4", "s4")
    site.send("p4", records)
    published = b"PAR1 the rows the job wrote PAR1"
    overwritten = site.curate(records[:2], body=published)
    deleted = site.curate(records[2:3], body=published)
    untouched = site.curate(records[3:], body=published)
    repeated = site.curate(records[:2], body=published)  # the same records curated again (a redelivery)
    site.s3.put_object(Bucket=site.curated, Key=overwritten, Body=b"\x00 corrupt \x00")
    site.s3.put_object(Bucket=site.curated, Key=repeated, Body=b"\x00 corrupt too \x00")
    site.s3.delete_object(Bucket=site.curated, Key=deleted)
    site.hours_later = 2
    run = site.reconciler().run(lambda: 60)
    assert sorted(run.files_restored) == sorted([overwritten, deleted, repeated]) and run.unrepaired == {}
    for key in (overwritten, deleted, untouched, repeated):
        assert site.s3.get_object(Bucket=site.curated, Key=key)["Body"].read() == published
    again = site.reconciler().run(lambda: 60)  # restored: nothing more to do
    assert again.files_restored == [] and again.files_checked == run.files_checked
    versions = site.s3.list_object_versions(Bucket=site.curated, Prefix=untouched)["Versions"]
    assert len(versions) == 1  # a file left alone is never copied


def test_a_curated_file_whose_published_version_is_gone_is_reported(site):
    records = a_poll("p5", "s5")
    site.send("p5", records)
    key = site.curate(records)
    for version in site.s3.list_object_versions(Bucket=site.curated, Prefix=key)["Versions"]:
        site.s3.delete_object(Bucket=site.curated, Key=key, VersionId=version["VersionId"])
    site.hours_later = 2
    run = site.reconciler().run(lambda: 60)
    assert run.unrepaired == {key: "the published version of this curated file is gone"}


def test_the_handler_reads_its_settings_from_the_environment_and_counts_what_it_cannot_repair(
        site, monkeypatch, capsys):
    for name, value in {"DELIVERY_STREAM_NAME": site.stream, "STATE_BUCKET": site.state, "STATE_PREFIX": PREFIX,
                        "CURATED_BUCKET": site.curated, "MANIFEST_PREFIX": MANIFESTS,
                        "RECONCILE_GRACE_HOURS": "0", "RECONCILE_MAX_RESENDS": "0"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(producer.reconcile, "_reconciler", None)
    key = site.send("p6", a_poll("p6", "s6"))
    event = json.load(open("tests/events/scheduled_reconcile.json"))
    summary = producer.reconcile.lambda_handler(event, LocalLambdaContext(timeout_seconds=60))
    assert summary["unrepaired"] == {key: "4 records not curated after 0 re-sends"}
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    [metrics] = [m for m in emf if "ReconcileUnrepaired" in m]
    assert (metrics["ReconcileUnrepaired"], metrics["ReconcileSucceeded"], metrics["service"]) == \
        ([1.0], [1.0], "chart-reconciler")


@pytest.mark.unit
@pytest.mark.parametrize("environ, problem", [
    ({}, "missing environment variables: DELIVERY_STREAM_NAME, STATE_BUCKET, CURATED_BUCKET, MANIFEST_PREFIX"),
    ({"RECONCILE_WINDOW_DAYS": "two"}, "must be numbers"),
    ({"RECONCILE_WINDOW_DAYS": "0"}, "RECONCILE_WINDOW_DAYS must be at least 1"),
])
def test_a_bad_environment_is_refused_with_a_clear_error(environ, problem):
    required = {"DELIVERY_STREAM_NAME": "s", "STATE_BUCKET": "b", "CURATED_BUCKET": "c", "MANIFEST_PREFIX": "m/"}
    with pytest.raises(ConfigError, match=problem):
        ReconcileConfig.from_env({**(required if environ else {}), **environ})


@pytest.mark.unit
def test_the_state_prefix_is_read_as_the_producer_and_the_import_lambda_read_it():
    required = {"DELIVERY_STREAM_NAME": "s", "STATE_BUCKET": "b", "CURATED_BUCKET": "c", "MANIFEST_PREFIX": "m/"}
    assert ReconcileConfig.from_env({**required, "STATE_PREFIX": "my/state"}).state_prefix == "my/state/"
    assert ReconcileConfig.from_env(required).state_prefix == "producer-state/"
