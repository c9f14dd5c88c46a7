"""Chart exports through the deployed import path on LocalStack, checked against the truth
computed from the CSV files alone.

The bundled month of real exports (May 2024: Argentina and Global daily Top 200, three
weekly Global files) goes up the way ``spotify-charts import`` sends it, as one archive
under the stack's imports bucket's ``incoming/``; LocalStack's S3 notification invokes the
DEPLOYED import Lambda (the stack's notification configuration, its permission, its
role), which puts the records on the delivery stream; the Glue job (local Spark) curates
what landed; the local Snowpipe loads it; the views must equal the truth for every chart,
date and track (benchmarks/truth/chart_exports.py). Then the same archive again (nothing
changes, nothing is sent), a corrected file (it replaces the one held in every view) and
bad files (kept under rejected/ with their reason, nothing else changed).

One stack and one pipeline for the module; the tests run in file order on what the
earlier ones left.
"""
from __future__ import annotations

import csv
import io
import json
import uuid
import zipfile
from pathlib import Path

import pytest

from benchmarks.truth.chart_exports import all_truths
from benchmarks.truth.compare_exports import compare_export
from localdev.pipeline import LocalPipeline, PipelineSettings
from localdev.pipeline.settings import RAW_PREFIX, REPO_ROOT

pytestmark = [pytest.mark.localstack, pytest.mark.spark, pytest.mark.fakesnow, pytest.mark.spotify_server]

BUNDLE = REPO_ROOT / "localdev" / "data" / "chart-exports-2024-05.zip"
CORRECTED = "regional-ar-daily-2024-05-31.csv"


@pytest.fixture(scope="module")
def pipeline(localstack, tmp_path_factory):
    settings = PipelineSettings(markets=("global",), work_dir=tmp_path_factory.mktemp("imports"),
                                stack_name=f"imports-{uuid.uuid4().hex[:6]}")
    with LocalPipeline(settings, localstack=localstack) as running:
        yield running


def raw_objects(pipeline) -> int:
    s3, bucket = pipeline.aws("s3"), pipeline.outputs["RawBucketName"]
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=RAW_PREFIX)
    return sum(len(page.get("Contents", [])) for page in pages)


def daily_chart(pipeline) -> list[dict]:
    return pipeline.query("SELECT chart_label, chart_date, position, track_id, streams, status, previous_position "
                          "FROM daily_chart ORDER BY chart_label, chart_date, position")


def check_truth(pipeline, *paths: Path) -> None:
    truths = all_truths(*paths)
    assert set(truths) == {"regional-ar-daily", "regional-global-daily", "regional-global-weekly"}
    for truth in truths.values():
        result = compare_export(pipeline.db, truth)
        assert result.ok, result.line()
        assert result.days_expected == len(truth.charts) and result.tracks_right == len(truth.stats) > 0


def test_the_bundle_goes_through_the_notification_lambda_and_firehose(pipeline):
    summary = pipeline.import_charts([BUNDLE])
    assert summary.counts == {"loaded": 65, "replaced": 0, "unchanged": 0, "rejected": 0}
    [upload] = summary.uploads
    assert upload.results["status"] == "done" and upload.key.startswith("incoming/")
    assert raw_objects(pipeline) > 0  # Firehose landed what the Lambda sent
    glue = pipeline.run_glue()
    assert glue.count("quarantined") == 0
    assert glue.count("curated") == sum(f["rows"] for f in upload.files)  # 200 per file, fewer where ranks miss
    pipeline.load()


def test_the_views_equal_the_truth_of_the_files(pipeline):
    check_truth(pipeline, BUNDLE)
    origins = pipeline.query("SELECT DISTINCT origin FROM chart_entries")
    assert origins == [{"origin": "chart_export"}]


def test_the_same_archive_again_changes_nothing_and_sends_nothing(pipeline):
    before, raw_before = daily_chart(pipeline), raw_objects(pipeline)
    summary = pipeline.import_charts([BUNDLE])
    assert summary.counts == {"loaded": 0, "replaced": 0, "unchanged": 65, "rejected": 0}
    assert raw_objects(pipeline) == raw_before  # not one record sent
    assert pipeline.run_glue().count("records_read") == 0
    pipeline.load()
    assert daily_chart(pipeline) == before


def corrected_file(tmp_path: Path) -> Path:
    """The last Argentina day with ranks 1 and 2 swapped and their streams changed."""
    with zipfile.ZipFile(BUNDLE) as bundle:
        text = bundle.read(CORRECTED).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    header, first, second = rows[0], rows[1], rows[2]
    rows[1], rows[2] = [first[0], *second[1:]], [second[0], *first[1:]]
    rows[1][header.index("streams")] = str(int(rows[1][header.index("streams")]) + 1000)
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL).writerows(rows)
    path = tmp_path / CORRECTED
    path.write_bytes(b"\xef\xbb\xbf" + out.getvalue().encode("utf-8"))
    return path


def test_a_corrected_file_replaces_the_one_held_in_every_view(pipeline, tmp_path):
    fixed = corrected_file(tmp_path)
    summary = pipeline.import_charts([fixed])
    assert summary.counts["replaced"] == 1
    pipeline.run_glue()
    pipeline.load()
    # The truth of the bundle with the corrected file in place of the first one.
    folder = tmp_path / "corrected-month"
    with zipfile.ZipFile(BUNDLE) as bundle:
        bundle.extractall(folder)
    (folder / CORRECTED).write_bytes(fixed.read_bytes())
    check_truth(pipeline, folder)
    top = pipeline.query("SELECT position, streams FROM daily_chart WHERE chart_label = 'regional-ar-daily' "
                         "AND chart_date = '2024-05-31' AND position <= 2 ORDER BY position")
    assert [row["position"] for row in top] == [1, 2]


def test_bad_files_are_kept_with_their_reason_and_change_nothing(pipeline, tmp_path):
    before, raw_before = daily_chart(pipeline), raw_objects(pipeline)
    bad = {"regional-ar-daily-2024-06-01.csv": b"not,a,chart\r\n1,2,3\r\n",
           "top-songs.csv": b"\xef\xbb\xbfrank,uri\r\n1,spotify:track:x\r\n",
           "regional-ar-daily-2024-06-02.csv": b""}
    for name, data in bad.items():
        (tmp_path / name).write_bytes(data)
    summary = pipeline.import_charts(sorted(tmp_path / name for name in bad))
    assert summary.counts["rejected"] == 3 and summary.counts["loaded"] == 0
    s3, bucket = pipeline.aws("s3"), pipeline.outputs["ImportsBucketName"]
    for upload in summary.uploads:
        for entry in upload.files:
            kept = entry["kept_at"]
            assert s3.get_object(Bucket=bucket, Key=kept)["Body"].read() == bad[entry["name"]]
            reason = json.loads(s3.get_object(Bucket=bucket, Key=f"{kept}.reason.json")["Body"].read())
            assert reason["reason"] == entry["reason"] and entry["reason"]
    assert raw_objects(pipeline) == raw_before
    assert pipeline.run_glue().count("records_read") == 0
    pipeline.load()
    assert daily_chart(pipeline) == before
