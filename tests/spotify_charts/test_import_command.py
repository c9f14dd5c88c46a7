"""``spotify-charts import``'s own parts: which files it takes, how it packs loose CSV
files, the upload to a bucket (real boto3 on the moto server) and how it reports the
import Lambda's results. The whole path (notification -> Lambda) is tested on LocalStack
in tests/integration/test_import_on_localstack.py."""
from __future__ import annotations

import io
import json
import zipfile

import boto3
import pytest

from spotify_charts.commands import CommandError
from spotify_charts.imports import (ChartImporter, ImportSummary, NothingToImportError, Upload, collect_files,
                                    outcome_lines, pack_csv_files)
from tests.conftest import unique_name


def make_files(folder, names):
    for name in names:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f"rank,uri\n1,{name}\n".encode())
    return [folder / name for name in names]


def test_folders_are_searched_for_exports_and_a_missing_path_is_an_error(tmp_path):
    make_files(tmp_path, ["a/regional-ar-daily-2024-05-01.csv", "a/b/regional-ar-daily-2024-05-02.csv.gz",
                          "a/archive.zip", "a/notes.txt"])
    found = collect_files([tmp_path / "a"])
    assert [p.name for p in found] == ["archive.zip", "regional-ar-daily-2024-05-02.csv.gz",
                                       "regional-ar-daily-2024-05-01.csv"]
    with pytest.raises(CommandError, match="no such file or folder"):
        collect_files([tmp_path / "missing"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(NothingToImportError):
        collect_files([tmp_path / "empty"])


def test_loose_csv_files_go_in_packs_and_a_name_twice_goes_in_two(tmp_path):
    files = make_files(tmp_path, ["x/regional-ar-daily-2024-05-01.csv", "y/regional-ar-daily-2024-05-01.csv",
                                  "x/regional-ar-daily-2024-05-02.csv", "x/archive.zip"])
    out = tmp_path / "packs"
    out.mkdir()
    sources = pack_csv_files(files, out)
    assert sources[0].name == "archive.zip"  # archives go as they are
    packs = [zipfile.ZipFile(p) for p in sources[1:]]
    assert [sorted(z.namelist()) for z in packs] == [
        ["regional-ar-daily-2024-05-01.csv", "regional-ar-daily-2024-05-02.csv"], ["regional-ar-daily-2024-05-01.csv"]]
    assert packs[1].read("regional-ar-daily-2024-05-01.csv") == files[1].read_bytes()  # the bytes, unchanged
    single = [files[0]]
    assert pack_csv_files(single, out) == single  # one file needs no pack


def test_upload_puts_each_file_under_incoming_and_waits_for_its_results(aws_endpoint, tmp_path):
    s3 = boto3.client("s3")
    bucket = unique_name("imports")
    s3.create_bucket(Bucket=bucket)
    files = make_files(tmp_path, ["regional-ar-daily-2024-05-01.csv", "bad.csv"])
    progress = io.StringIO()
    importer = ChartImporter(bucket, s3, out=progress, poll_seconds=0.05)
    uploads = importer.upload(files, upload_id="run-1")
    assert [u.key for u in uploads] == ["incoming/run-1/regional-ar-daily-2024-05-01.csv", "incoming/run-1/bad.csv"]
    # Where the import Lambda writes an upload's results: its key without incoming/ (producer/IMPORTS.md).
    assert uploads[0].results_key == "results/uploads/run-1/regional-ar-daily-2024-05-01.csv.json"
    assert s3.get_object(Bucket=bucket, Key=uploads[0].key)["Body"].read() == files[0].read_bytes()
    assert "upload [" in progress.getvalue() and "2 files" in progress.getvalue()

    # What the import Lambda writes once it has judged each upload (producer/IMPORTS.md).
    results = [{"status": "done", "files": [{"name": files[0].name, "chart": "regional-ar-daily",
                                             "date": "2024-05-01", "outcome": "loaded", "rows": 1}]},
               {"status": "done", "files": [{"name": "bad.csv", "chart": None, "date": None,
                                             "outcome": "rejected", "reason": "name does not parse"}]}]
    for upload, body in zip(uploads, results):
        s3.put_object(Bucket=bucket, Key=upload.results_key, Body=json.dumps(body).encode())
    summary = importer.wait(uploads, timeout=10)
    assert summary.counts == {"loaded": 1, "replaced": 0, "unchanged": 0, "rejected": 1}
    assert not summary.ok and not summary.unfinished
    lines = outcome_lines(summary)
    assert lines[0].startswith("loaded    regional-ar-daily 2024-05-01")
    assert lines[1].startswith("rejected") and lines[1].endswith("bad.csv: name does not parse")
    assert lines[-1] == "imported 2 uploads: 1 loaded, 1 rejected"


def test_an_upload_without_results_is_reported_pending(aws_endpoint, tmp_path):
    s3 = boto3.client("s3")
    bucket = unique_name("imports")
    s3.create_bucket(Bucket=bucket)
    importer = ChartImporter(bucket, s3, out=io.StringIO(), poll_seconds=0.05)
    uploads = importer.upload(make_files(tmp_path, ["regional-ar-daily-2024-05-01.csv"]), upload_id="run-2")
    summary = importer.wait(uploads, timeout=0.2)
    assert summary.unfinished == uploads and not summary.ok
    assert outcome_lines(summary)[-1] == "imported 1 uploads: no chart files; 1 still in progress"


def test_the_summary_is_ok_only_when_everything_finished_without_rejections(tmp_path):
    upload = Upload(tmp_path / "x.zip", "incoming/r/x.zip",
                    {"status": "done", "files": [{"outcome": "unchanged", "name": "a.csv"}]})
    assert ImportSummary([upload], {"unchanged": 1}).ok
    assert not ImportSummary([upload], {"rejected": 1}).ok
