"""The import Lambda through its handler, with real boto3 against a moto server: S3 (the
imports bucket) and a Firehose stream landing in a raw bucket. moto does not deliver S3
notifications, so each test delivers them: the sample events of tests/events/ with the
uploaded (or continuation) object's key and ETag."""
from __future__ import annotations

import io
import json
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterator
from urllib.parse import quote_plus

import boto3
import pytest

import producer.imports
from firehose import contract, ledger
from localdev.aws import create_delivery_stream, delete_delivery_stream, list_keys, read_records
from producer.config import ConfigError
from producer.imports import ImportConfig
from spotify_charts.stages import LocalLambdaContext
from tests.conftest import unique_name
from tests.producer.chart_files import (AR_DAY, GLOBAL_WEEK, MiB, bad_files, bundle_files, bundle_zip, make_zip, real,
                                        viral_from, with_field, zeros_zip)

EVENTS = "tests/events/"
STATE_PREFIX = "producer-state/"
AR_2, AR_3 = "regional-ar-daily-2024-05-02.csv", "regional-ar-daily-2024-05-03.csv"


class BudgetContext(LocalLambdaContext):
    """A Lambda context whose time runs short after ``files`` checks: the importer checks the
    time before each file but the first of an invocation, so it imports ``files + 1`` files."""

    def __init__(self, files: int):
        super().__init__(timeout_seconds=900)
        self.checks_left = files

    def get_remaining_time_in_millis(self) -> int:
        self.checks_left -= 1
        return 600_000 if self.checks_left >= 0 else 5_000


@dataclass
class ImportSite:
    """A fresh imports bucket and delivery stream, and the handler wired to them."""

    bucket: str
    raw_bucket: str
    state_bucket: str  # the producer's: the import Lambda writes its sent ledger there
    s3: object
    put_calls: list = field(default_factory=list)

    def event(self, template: str, key: str, etag: str, size: int) -> dict:
        event = json.loads(open(EVENTS + template).read())
        record = event["Records"][0]["s3"]
        record["bucket"]["name"] = self.bucket
        record["object"].update(key=quote_plus(key), eTag=etag, size=size)
        return event

    def upload(self, key: str, data: bytes) -> dict:
        etag = self.s3.put_object(Bucket=self.bucket, Key=key, Body=data)["ETag"].strip('"')
        return self.event("s3_upload_created.json", key, etag, len(data))

    def invoke(self, event: dict, context=None) -> dict:
        importer = producer.imports.get_importer()
        if not self.put_calls:  # count PutRecordBatch calls on the importer's own client
            self.put_calls.append(0)
            importer.writer.client.meta.events.register(
                "before-call.firehose.PutRecordBatch", lambda **_: self.put_calls.__setitem__(0, self.put_calls[0] + 1))
        return producer.imports.lambda_handler(event, context or LocalLambdaContext(timeout_seconds=900))

    def import_file(self, key: str, data: bytes, context=None) -> dict:
        """Upload, deliver the notification, return the upload's results object."""
        self.invoke(self.upload(key, data), context)
        return self.results(key)

    @property
    def sends(self) -> int:
        return self.put_calls[0] if self.put_calls else 0

    def get(self, key: str) -> bytes:
        return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def results(self, key: str) -> dict:
        return json.loads(self.get("results/uploads/" + key.removeprefix("incoming/") + ".json"))

    def held(self) -> dict[str, tuple[str, dict]]:
        """The ledger: key -> (ETag, entry)."""
        found = {}
        for key in list_keys(self.bucket, "results/held/", self.s3):
            response = self.s3.get_object(Bucket=self.bucket, Key=key)
            found[key] = (response["ETag"], json.loads(response["Body"].read()))
        return found

    def records(self) -> list[dict]:
        return read_records(self.raw_bucket, client=self.s3)

    def sent(self) -> dict[str, list[dict]]:
        """The sent ledger: key -> the records it holds."""
        return {key: ledger.decode_sent(self.s3.get_object(Bucket=self.state_bucket, Key=key)["Body"].read())
                for key in list_keys(self.state_bucket, STATE_PREFIX + ledger.SENT_FOLDER, self.s3)}

    def continuations(self) -> list[str]:
        return list_keys(self.bucket, "results/continue/", self.s3)

    def continuation_event(self, key: str) -> dict:
        head = self.s3.head_object(Bucket=self.bucket, Key=key)
        return self.event("s3_continuation_created.json", key, head["ETag"].strip('"'), head["ContentLength"])


@pytest.fixture
def site(aws_endpoint, monkeypatch) -> Iterator[ImportSite]:
    bucket, raw_bucket, stream = unique_name("imports"), unique_name("raw"), unique_name("charts")
    state_bucket = unique_name("state")
    create_delivery_stream(raw_bucket, stream)
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.create_bucket(Bucket=state_bucket)
    monkeypatch.setenv("DELIVERY_STREAM_NAME", stream)
    monkeypatch.setenv("IMPORTS_BUCKET", bucket)
    monkeypatch.setenv("STATE_BUCKET", state_bucket)
    monkeypatch.setenv("STATE_PREFIX", STATE_PREFIX)
    monkeypatch.setattr(producer.imports, "_importer", None)  # each test builds its own clients
    yield ImportSite(bucket, raw_bucket, state_bucket, s3)
    delete_delivery_stream(stream)


def month_zip(files: int) -> bytes:
    """A zip of the bundle's first ``files`` files (moto takes about 0.15 s a file)."""
    return make_zip(list(bundle_files().items())[:files])


def outcomes(results: dict) -> dict[str, str]:
    return {f["name"]: f["outcome"] for f in results["files"]}


def chart_records_of(records: list[dict], chart: str, day: str) -> list[dict]:
    return [r for r in records if r["playlist_id"] == chart and r["chart_date"] == day]


def test_the_bundle_loads_every_file_once(site):
    results = site.import_file("incoming/u1/chart-exports-2024-05.zip", bundle_zip())
    assert results["status"] == "done" and results["entries"] == 65 and results["next_entry"] is None
    assert results["counts"] == {"loaded": 65, "unchanged": 0, "replaced": 0, "rejected": 0}
    first = results["files"][0]
    assert first == {"entry": 0, "name": AR_DAY, "chart": "regional-ar-daily", "date": "2024-05-01",
                     "outcome": "loaded", "rows": 200, "snapshot_id": first["snapshot_id"]}
    records = site.records()
    entries = [r for r in records if r["record_type"] == contract.CHART_ENTRY]
    observations = [r for r in records if r["record_type"] == contract.CHART_OBSERVATION]
    assert len(entries) == 65 * 200 and len(observations) == 65
    assert Counter((r["playlist_id"], r["chart_date"], r["position"]) for r in entries).most_common(1)[0][1] == 1
    assert {r["origin"] for r in records} == {"chart_export"} and all(contract.validate(r) == [] for r in records)
    held = site.held()
    assert len(held) == 65
    entry = held["results/held/regional-ar-daily/2024-05-01.json"][1]
    assert (entry["snapshot_id"], entry["revision"], entry["rows"], entry["outcome"], entry["entry"]) == \
        (first["snapshot_id"], 1, 200, "loaded", 0)
    assert entry["observed_at"] == chart_records_of(observations, "regional-ar-daily", "2024-05-01")[0]["observed_at"]


def test_uploading_the_same_files_again_changes_nothing(site):
    archive = month_zip(12)
    site.import_file("incoming/u1/charts.zip", archive)
    sends, records, held = site.sends, len(site.records()), site.held()
    assert sends == 12
    again = site.import_file("incoming/u2/charts.zip", archive)  # a new upload of the same files
    assert again["counts"] == {"loaded": 0, "unchanged": 12, "replaced": 0, "rejected": 0}
    one = site.import_file("incoming/u3/" + AR_DAY, real(AR_DAY))
    assert outcomes(one) == {AR_DAY: "unchanged"}
    # The same object notified again (a duplicated notification, or the same bytes put at the same key).
    summary = site.invoke(site.upload("incoming/u1/charts.zip", archive))
    assert summary["uploads"][0]["skipped"] == "already imported: nothing changes"
    assert site.sends == sends and len(site.records()) == records and site.held() == held


def test_a_corrected_file_replaces_the_one_held(site):
    site.import_file("incoming/u1/" + AR_DAY, real(AR_DAY))
    corrected = with_field(real(AR_DAY), 17, "streams", "123456")
    results = site.import_file("incoming/u2/" + AR_DAY, corrected)
    assert outcomes(results) == {AR_DAY: "replaced"}
    observations = [r for r in site.records() if r["record_type"] == contract.CHART_OBSERVATION]
    first, second = sorted(observations, key=lambda r: r["observed_at"])
    assert first["snapshot_id"] != second["snapshot_id"] == results["files"][0]["snapshot_id"]
    assert first["poll_id"] != second["poll_id"] and first["observed_at"] < second["observed_at"]
    new_rows = [r for r in site.records() if r.get("snapshot_id") == second["snapshot_id"] and "position" in r]
    assert len(new_rows) == 200 and next(r for r in new_rows if r["position"] == 17)["streams"] == 123456
    entry = site.held()["results/held/regional-ar-daily/2024-05-01.json"][1]
    assert (entry["snapshot_id"], entry["revision"], entry["outcome"]) == (second["snapshot_id"], 2, "replaced")
    # The first file again: it replaces the correction, as a new observation (the views take the latest).
    back = site.import_file("incoming/u3/" + AR_DAY, real(AR_DAY))
    assert outcomes(back) == {AR_DAY: "replaced"}
    third = max((r for r in site.records() if r["record_type"] == contract.CHART_OBSERVATION),
                key=lambda r: r["observed_at"])
    assert third["snapshot_id"] == first["snapshot_id"] and third["poll_id"] not in {first["poll_id"],
                                                                                      second["poll_id"]}


def test_csv_gz_and_viral_uploads(site):
    import gzip
    results = site.import_file(f"incoming/u1/{GLOBAL_WEEK}.gz", gzip.compress(real(GLOBAL_WEEK)))
    assert outcomes(results) == {GLOBAL_WEEK: "loaded"}
    viral = "viral-ar-daily-2024-05-01.csv"  # built from a real file's rows
    assert outcomes(site.import_file("incoming/u2/" + viral, viral_from(real(AR_DAY)))) == {viral: "loaded"}
    records = site.records()
    assert {r["weeks_on_chart"] is not None for r in chart_records_of(records, "regional-global-weekly", "2024-05-30")
            if "position" in r} == {True}
    assert [r["streams"] for r in chart_records_of(records, "viral-ar-daily", "2024-05-01") if "position" in r] \
        == [None] * 50


@pytest.mark.parametrize("bad", [b for b in bad_files() if b.id not in ("too-large",)], ids=lambda bad: bad.id)
def test_a_bad_file_is_rejected_kept_reported_and_changes_nothing_else(site, bad):
    site.import_file("incoming/before/" + AR_DAY, real(AR_DAY))  # the chart and date already held
    held_before, sends = site.held(), site.sends
    upload = "incoming/u1/my charts.zip"
    results = site.import_file(upload, make_zip([(bad.name, bad.data), (AR_2, real(AR_2)), (AR_3, real(AR_3))]))
    assert_rejected(site, upload, results, bad.name, bad.data, bad.code, bad.says)
    assert outcomes(results) == {bad.name: "rejected", AR_2: "loaded", AR_3: "loaded"}
    assert site.sends == sends + 2  # one PutRecordBatch per loaded file, none for the bad one
    held_after = site.held()
    assert {k: v for k, v in held_after.items() if k in held_before} == held_before  # the held chart untouched
    assert sorted(set(held_after) - set(held_before)) == ["results/held/regional-ar-daily/2024-05-02.json",
                                                          "results/held/regional-ar-daily/2024-05-03.json"]
    records = site.records()
    assert len(chart_records_of(records, "regional-ar-daily", "2024-05-01")) == 201  # from the first upload only
    assert len(records) == 3 * 201


def assert_rejected(site: ImportSite, upload: str, results: dict, name: str, data: bytes | None, code: str,
                    says: str) -> None:
    """The file is rejected in the results with its reason, and kept with the reason beside it."""
    item = next(f for f in results["files"] if f["name"] == name)
    assert item["outcome"] == "rejected" and item["code"] == code and says in item["reason"], item
    kept = item["kept_at"]
    assert kept.startswith("rejected/" + upload.removeprefix("incoming/") + "/")
    reason = json.loads(site.get(kept + ".reason.json"))
    assert (reason["code"], reason["reason"], reason["file"], reason["upload"]) == (code, item["reason"], name, upload)
    if data is not None:
        assert site.get(kept) == data  # the original bytes


def test_a_file_over_the_size_limit_is_rejected(site, monkeypatch):
    monkeypatch.setenv("MAX_FILE_BYTES", "20000")  # a real file is about 24 KB
    upload = "incoming/u1/a.zip"
    small = "regional-is-daily-2024-05-01.csv"
    results = site.import_file(upload, make_zip([(AR_DAY, real(AR_DAY)), (small, real(AR_DAY)[:15_000])]))
    assert_rejected(site, upload, results, AR_DAY, None, "too_large", "over the 20,000-byte limit")
    reason = json.loads(site.get(results["files"][0]["kept_at"] + ".reason.json"))
    assert "stays at incoming/u1/a.zip" in reason["not_kept"]  # not copied: the upload keeps it
    assert results["files"][1]["code"] == "truncated" and site.sends == 0 and site.held() == {}


def test_a_zip_bomb_entry_is_rejected_and_the_rest_of_the_zip_loads(site):
    upload = "incoming/u1/bomb.zip"
    buffer = io.BytesIO(zeros_zip(AR_DAY, 256 * MiB))  # 256 MiB of zeros, 255 KiB zipped
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr(AR_2, real(AR_2))
    results = site.import_file(upload, buffer.getvalue())
    assert_rejected(site, upload, results, AR_DAY, None, "too_large", "268,435,456 bytes uncompressed")
    assert outcomes(results) == {AR_DAY: "rejected", AR_2: "loaded"} and site.sends == 1


def test_a_single_bad_csv_upload_is_kept_whole(site):
    upload = "incoming/u1/" + AR_DAY
    html = b"<!DOCTYPE html><html><body>Sign in to Spotify</body></html>\n"
    results = site.import_file(upload, html)
    assert_rejected(site, upload, results, AR_DAY, html, "not_csv", "HTML")
    assert results["files"][0]["kept_at"] == f"rejected/u1/{AR_DAY}/{AR_DAY}"
    assert site.sends == 0 and site.held() == {}


@pytest.mark.parametrize("name", ["charts/" + AR_DAY, "../" + AR_DAY])
def test_a_zip_entry_with_a_path_is_rejected(site, name):
    upload = "incoming/u1/a.zip"
    results = site.import_file(upload, make_zip([(name, real(AR_DAY)), (AR_2, real(AR_2))]))
    assert_rejected(site, upload, results, name, real(AR_DAY), "entry_path", "inside a folder")
    assert "/.." not in results["files"][0]["kept_at"] and results["files"][0]["kept_at"].count("/") == 3
    assert outcomes(results)[AR_2] == "loaded" and list(site.held()) == ["results/held/regional-ar-daily/2024-05-02.json"]


@pytest.mark.parametrize("key, data, env, code, says", [
    ("incoming/u1/big.zip", None, {"MAX_UPLOAD_BYTES": "100000"}, "object_too_large", "limit of one upload"),
    ("incoming/u1/many.zip", None, {"MAX_ZIP_ENTRIES": "64"}, "zip_too_many_entries", "65 files"),
    ("incoming/u1/huge.zip", None, {"MAX_ZIP_BYTES": "1000000"}, "zip_too_large", "uncompressed"),
    ("incoming/u1/broken.zip", b"PK\x03\x04 not a zip", {}, "bad_archive", "not a readable zip"),
    ("incoming/u1/charts.xlsx", b"PK\x03\x04", {}, "unsupported_object", ".csv, .csv.gz or .zip"),
])
def test_an_object_rejected_whole_is_kept_and_reported(site, monkeypatch, key, data, env, code, says):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    data = data if data is not None else bundle_zip()
    results = site.import_file(key, data)
    assert results["status"] == "done" and results["entries"] == 1 and results["counts"]["rejected"] == 1
    name = key.rsplit("/", 1)[1]
    assert_rejected(site, key, results, name, data, code, says)
    assert site.sends == 0 and site.held() == {} and site.records() == []


def test_two_files_for_one_chart_and_date_in_one_upload(site):
    """Identical files (a browser's second download) are one chart: the first loads, the other is
    unchanged. Different ones conflict: which one is meant cannot be known, so both are rejected
    (kept, with the reason naming both) and the rest of the zip loads."""
    twin = AR_DAY.replace(".csv", " (1).csv")
    results = site.import_file("incoming/u1/a.zip", make_zip([(AR_DAY, real(AR_DAY)), (twin, real(AR_DAY))]))
    assert outcomes(results) == {AR_DAY: "loaded", twin: "unchanged"}
    assert results["files"][1]["reason"] == f"the same chart as {AR_DAY} in this upload" and site.sends == 1
    other = with_field(real(AR_2), 3, "streams", "1")
    upload = "incoming/u2/b.zip"
    results = site.import_file(upload, make_zip([(AR_2, real(AR_2)), (AR_3, real(AR_3)),
                                                 (AR_2.replace(".csv", " (1).csv"), other)]))
    assert outcomes(results)[AR_3] == "loaded"
    for name, data in ((AR_2, real(AR_2)), (AR_2.replace(".csv", " (1).csv"), other)):
        assert_rejected(site, upload, results, name, data, "conflict", "different files for regional-ar-daily "
                                                                       "2024-05-02")
    assert "results/held/regional-ar-daily/2024-05-02.json" not in site.held() and site.sends == 2
    # A zip may even hold two entries of one name: both kept, under distinct names.
    upload = "incoming/u3/c.zip"
    with pytest.warns(UserWarning, match="Duplicate name"):
        data = make_zip([(AR_2, real(AR_2)), (AR_2, other)])
    kept = [f["kept_at"] for f in site.import_file(upload, data)["files"]]
    assert len(set(kept)) == 2 and site.get(kept[0]) == real(AR_2) and site.get(kept[1]) == other


def test_a_long_zip_is_imported_over_several_invocations_each_file_once(site):
    upload = "incoming/u1/chart-exports-2024-05.zip"
    site.invoke(site.upload(upload, bundle_zip()), BudgetContext(files=9))  # 10 files an invocation
    seen, invocations = set(), 1
    while True:
        pending = [key for key in site.continuations() if key not in seen]
        if not pending:
            break
        for key in pending:
            seen.add(key)
            results = site.results(upload)
            assert results["status"] == "in_progress" and key.endswith(f"-{results['next_entry']:06d}.json")
            site.invoke(site.continuation_event(key), BudgetContext(files=9))
            invocations += 1
    results = site.results(upload)
    assert invocations == 7 and len(seen) == 6 and results["invocations"] == 7
    assert results["status"] == "done" and [f["entry"] for f in results["files"]] == list(range(65))
    assert results["counts"]["loaded"] == 65 and site.sends == 65
    keys = Counter((r["playlist_id"], r["chart_date"], r.get("position")) for r in site.records())
    assert len(keys) == 65 * 201 and set(keys.values()) == {1}  # no record sent twice
    # A continuation delivered again (S3 delivers at least once) finds the upload done.
    summary = site.invoke(site.continuation_event(sorted(seen)[2]))
    assert summary["uploads"][0]["skipped"] == "already imported: nothing changes" and site.sends == 65


def test_a_duplicated_continuation_mid_way_does_not_import_a_file_twice(site):
    upload = "incoming/u1/charts.zip"
    site.invoke(site.upload(upload, month_zip(20)), BudgetContext(files=5))  # 6 files an invocation
    first = site.continuations()
    assert len(first) == 1
    event = site.continuation_event(first[0])
    site.invoke(event, BudgetContext(files=5))
    site.invoke(event, BudgetContext(files=5))  # the same notification again: it goes on from where the import is
    for key in sorted(set(site.continuations()) - set(first)):
        site.invoke(site.continuation_event(key), BudgetContext(files=5))
    results = site.results(upload)
    assert results["status"] == "done" and [f["entry"] for f in results["files"]] == list(range(20))
    keys = Counter((r["playlist_id"], r["chart_date"], r.get("position")) for r in site.records())
    assert site.sends == 20 and len(keys) == 20 * 201 and set(keys.values()) == {1}


def test_a_retry_after_a_crash_does_not_send_a_file_twice(site, monkeypatch):
    """Lambda retries a failed invocation: the files whose records Firehose accepted are in the
    ledger with this upload's name, so they keep their outcome and are not sent again."""
    upload = "incoming/u1/charts.zip"
    event = site.upload(upload, month_zip(20))
    importer = producer.imports.get_importer()
    put = importer.writer.put
    calls = []

    def failing_put(records):
        calls.append(len(records))
        if len(calls) == 12:
            raise RuntimeError("the Lambda's sandbox died")
        return put(records)
    monkeypatch.setattr(importer.writer, "put", failing_put)
    with pytest.raises(RuntimeError, match="sandbox died"):
        site.invoke(event)
    assert len(site.held()) == 11
    monkeypatch.setattr(importer.writer, "put", put)
    site.invoke(event)  # Lambda's retry of the same event
    results = site.results(upload)
    assert results["counts"] == {"loaded": 20, "unchanged": 0, "replaced": 0, "rejected": 0}
    keys = Counter((r["playlist_id"], r["chart_date"], r.get("position")) for r in site.records())
    assert len(keys) == 20 * 201 and set(keys.values()) == {1} and site.sends == 20


def test_metrics_count_rejections_by_reason(site, capsys):
    bad = {b.id: b for b in bad_files()}
    files = [(AR_2, real(AR_2)), (bad["html"].name, bad["html"].data),
             ("notes.csv", b"x"), ("regional-ar-daily-2024-05-09.csv", bad["binary"].data)]
    site.import_file("incoming/u1/a.zip", make_zip(files))
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    main = next(line for line in lines if "FilesLoaded" in line)
    assert main["service"] == "chart-importer" and main["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"]]
    assert (main["FilesLoaded"], main["RejectedFiles"], main["RecordsSent"]) in (([1.0], [3.0], [201.0]), (1, 3, 201))
    by_reason = {line["Reason"]: line["RejectedFiles"] for line in lines if "Reason" in line}
    assert by_reason in ({"not_csv": [2.0], "bad_name": [1.0]}, {"not_csv": 2, "bad_name": 1})


def test_notifications_for_other_keys_and_buckets_are_ignored(site):
    event = site.upload("incoming/u1/" + AR_DAY, real(AR_DAY))
    event["Records"][0]["s3"]["bucket"]["name"] = "someone-elses-bucket"
    assert site.invoke(event) == {"uploads": []}
    for key in ("rejected/u1/x.csv", "incoming/folder/"):
        assert site.invoke(site.event("s3_upload_created.json", key, "0" * 32, 0)) == {"uploads": []}
    assert site.sends == 0 and list_keys(site.bucket, "results/", site.s3) == []


def test_an_object_overwritten_before_its_notification_is_handled_by_the_newer_one(site):
    stale = site.upload("incoming/u1/" + AR_DAY, real(AR_DAY))
    newer = site.upload("incoming/u1/" + AR_DAY, with_field(real(AR_DAY), 5, "streams", "7"))
    summary = site.invoke(stale)
    assert "overwritten" in summary["uploads"][0]["skipped"] and site.sends == 0
    site.invoke(newer)
    results = site.results("incoming/u1/" + AR_DAY)
    assert results["etag"] == newer["Records"][0]["s3"]["object"]["eTag"] and outcomes(results) == {AR_DAY: "loaded"}


def test_the_configuration_comes_from_the_environment():
    config = ImportConfig.from_env({"DELIVERY_STREAM_NAME": "charts", "IMPORTS_BUCKET": "imports",
                                    "STATE_BUCKET": "state", "STATE_PREFIX": "my/state",
                                    "MAX_ZIP_ENTRIES": "5000", "CONTINUE_BELOW_SECONDS": "45"})
    assert (config.delivery_stream_name, config.imports_bucket) == ("charts", "imports")
    assert (config.state_bucket, config.state_prefix) == ("state", "my/state/")  # a prefix, as the producer's
    assert ImportConfig.from_env({"DELIVERY_STREAM_NAME": "c", "IMPORTS_BUCKET": "i",
                                  "STATE_BUCKET": "s"}).state_prefix == "producer-state/"
    assert config.limits.max_zip_entries == 5000 and config.continue_below_seconds == 45
    assert config.limits.max_file_bytes == 1024 * 1024 and config.limits.max_object_bytes == 128 * 1024 * 1024
    with pytest.raises(ConfigError, match="IMPORTS_BUCKET, STATE_BUCKET"):
        ImportConfig.from_env({"DELIVERY_STREAM_NAME": "charts"})
    with pytest.raises(ConfigError, match="must be numbers"):
        ImportConfig.from_env({"DELIVERY_STREAM_NAME": "c", "IMPORTS_BUCKET": "i", "STATE_BUCKET": "s",
                               "MAX_FILE_BYTES": "1MB"})
