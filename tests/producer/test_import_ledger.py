"""Imported chart exports are reconciled too (#21, "nothing lost"): once Firehose accepted a
file's records, the import Lambda keeps them in the producer's sent ledger (firehose/ledger.py)
before it holds the file; a file whose records could not be recorded is not held, and the
retry sends it again; the reconciler re-sends what of them never reached the curated data.
The import Lambda through its handler, the reconciler's own classes, real boto3 against moto."""
from __future__ import annotations

import re

import pytest

import producer.imports
from firehose import contract, ledger
from producer.importer import SentLedgerError
from tests.producer.chart_files import AR_DAY, make_zip, real, with_field
from tests.producer.test_imports import AR_2, AR_3, STATE_PREFIX, ImportSite, outcomes, site  # noqa: F401 - fixture
from tests.producer.test_reconcile import Site
from tests.producer.test_sent_ledger import LedgerWritesFail

SENT_KEY = re.compile(rf"{STATE_PREFIX}sent/\d{{4}}-\d\d-\d\d/\d{{6}}-(import-[0-9a-f]{{32}})\.jsonl\.gz")
THREE = make_zip([(AR_DAY, real(AR_DAY)), (AR_2, real(AR_2)), (AR_3, real(AR_3))])


def lines(records: list[dict]) -> list[bytes]:
    """Records as sent (contract.encode), in a stable order."""
    return sorted(map(contract.encode, records))


def contract_key(record: dict) -> tuple:
    """What the reconciler looks a record up by (ledger.CuratedKeys)."""
    if record["record_type"] == contract.CHART_OBSERVATION:
        return tuple(record[name] for name in contract.OBSERVATION_KEY)
    return tuple(record[name] for name in contract.NATURAL_KEY)


def held_poll_ids(site: ImportSite) -> dict[str, str]:
    """Chart date -> the poll id the held ledger names for it."""
    return {entry["chart_date"]: entry["poll_id"] for _, entry in site.held().values()}


def test_each_imported_file_s_accepted_records_are_in_the_sent_ledger_under_its_observation(site):
    results = site.import_file("incoming/u1/charts.zip", THREE)
    assert outcomes(results) == {AR_DAY: "loaded", AR_2: "loaded", AR_3: "loaded"}
    sent = site.sent()
    assert len(sent) == 3 and all(SENT_KEY.fullmatch(key) for key in sent)
    # One object per file, named by its observation's poll id, which the held ledger names too.
    poll_ids = held_poll_ids(site)
    assert sorted(SENT_KEY.fullmatch(key)[1] for key in sent) == sorted(poll_ids.values())
    for key, records in sent.items():
        [day] = {r["chart_date"] for r in records}
        assert {r["poll_id"] for r in records} == {poll_ids[day]} == {SENT_KEY.fullmatch(key)[1]}
        assert len(records) == 201 and records[-1]["record_type"] == contract.CHART_OBSERVATION
    # Exactly what Firehose accepted, byte for byte as sent.
    assert lines([r for records in sent.values() for r in records]) == lines(site.records())
    # A corrected file is a new observation: a new ledger object, with its own poll id.
    corrected = site.import_file("incoming/u2/" + AR_DAY, with_field(real(AR_DAY), 9, "streams", "42"))
    assert outcomes(corrected) == {AR_DAY: "replaced"}
    [(key, records)] = [(k, r) for k, r in site.sent().items() if k not in sent]
    assert SENT_KEY.fullmatch(key)[1] == held_poll_ids(site)["2024-05-01"] != poll_ids["2024-05-01"]
    assert {r["snapshot_id"] for r in records} == {corrected["files"][0]["snapshot_id"]} and len(records) == 201


def test_a_file_whose_records_could_not_be_recorded_is_not_held_and_the_retry_sends_it(site):
    event = site.upload("incoming/u1/charts.zip", THREE)
    importer = producer.imports.get_importer()
    real_client = importer.sent.client
    importer.sent.client = LedgerWritesFail(real_client, first=2)  # the second file's write fails
    with pytest.raises(SentLedgerError, match=f"{AR_2}: delivered, but not recorded as sent \\(ClientError"):
        site.invoke(event)
    assert sorted(held_poll_ids(site)) == ["2024-05-01"]  # the second file is not held
    assert [r["chart_date"] for records in site.sent().values() for r in records] == ["2024-05-01"] * 201
    assert AR_2 not in outcomes(site.results("incoming/u1/charts.zip"))  # nor reported loaded
    assert site.sends == 2  # Firehose did accept the second file's records

    importer.sent.client = real_client
    site.invoke(event)  # Lambda's retry of the same event
    assert outcomes(site.results("incoming/u1/charts.zip")) == {AR_DAY: "loaded", AR_2: "loaded", AR_3: "loaded"}
    assert site.sends == 4  # the first file is not sent again; the second is, with the third
    sent = site.sent()
    assert sorted(SENT_KEY.fullmatch(key)[1] for key in sent) == sorted(held_poll_ids(site).values())
    # The key of every record Firehose accepted is in the ledger: the second file's first send
    # (its observed_at earlier) has the same keys as its second, the one recorded.
    recorded = [r for records in sent.values() for r in records]
    assert len(recorded) == 3 * 201 and len(site.records()) == 4 * 201
    assert {contract_key(r) for r in site.records()} == {contract_key(r) for r in recorded}


def test_an_unchanged_re_upload_writes_nothing_to_the_sent_ledger(site):
    site.import_file("incoming/u1/charts.zip", THREE)
    before = {key: site.s3.head_object(Bucket=site.state_bucket, Key=key)["ETag"] for key in site.sent()}
    again = site.import_file("incoming/u2/" + AR_2, real(AR_2))  # the same file, another upload
    assert outcomes(again) == {AR_2: "unchanged"}
    summary = site.invoke(site.upload("incoming/u1/charts.zip", THREE))  # the same object notified again
    assert summary["uploads"][0]["skipped"] == "already imported: nothing changes"
    after = {key: site.s3.head_object(Bucket=site.state_bucket, Key=key)["ETag"] for key in site.sent()}
    assert after == before and len(after) == 3


def test_the_reconciler_re_sends_exactly_the_imported_records_no_manifest_names(site):
    site.import_file("incoming/u1/charts.zip", make_zip([(AR_DAY, real(AR_DAY)), (AR_2, real(AR_2))]))
    landed = site.records()
    curated = [r for r in landed if r["chart_date"] == "2024-05-01"]
    lost = [r for r in landed if r["chart_date"] == "2024-05-02"]  # as if Firehose never delivered them
    assert len(curated) == len(lost) == 201
    recon = Site()  # a curated bucket with the Glue job's manifests, a stream to re-send to
    recon.curate(curated)
    recon.hours_later = 2  # past the grace period
    reconciler = recon.reconciler()
    reconciler.sent.bucket = site.state_bucket  # the ledger the import Lambda wrote
    run = reconciler.run(lambda: 60)
    assert (run.polls_checked, run.polls_verified, run.records_missing, run.records_resent) == (2, 1, 201, 201)
    assert lines(recon.resent()) == lines(lost)  # exactly those records, as they were sent
    [(key, _)] = [(k, r) for k, r in site.sent().items() if r[0]["chart_date"] == "2024-05-02"]
    assert key in reconciler.sent.load_progress()["resent"]

    recon.curate(recon.resent())  # the next Glue run curates them
    recon.hours_later = 4
    again = reconciler.run(lambda: 60)
    assert (again.polls_checked, again.polls_verified, again.records_resent, again.unrepaired) == (1, 1, 0, {})
