"""Each transform on small inputs, in the shared Spark session."""
import gzip
from datetime import date, datetime, timezone

import pytest

from glue_streaming import curated
from glue_streaming import transforms as T
from glue_streaming.transforms import RAW_FILE_SCHEMA, dataset_schema
from tests.glue_streaming.raw_data import chart, encoded, json_line, observation, record, write_object


BATCH = T.Batch("000007-abcdef12", int(datetime(2026, 11, 21, 3, 0, tzinfo=timezone.utc).timestamp() * 1e6))


def records_of(spark, folder):
    files = spark.read.format("binaryFile").schema(RAW_FILE_SCHEMA).option("recursiveFileLookup", "true")
    return T.read_records(files.load(str(folder)))


def test_read_records_handles_plain_gzip_blank_and_broken_input(spark, tmp_path):
    write_object(tmp_path, "dt=!{timestamp:yyyy-MM-dd}/2026/11/20/10/plain-1",
                 [*encoded(chart(2)), b"\n", b"   \n", b"not json\n"])
    write_object(tmp_path, "raw/dt=2026-11-20/hour=10/stream-1-2026-11-20-10-00-00-uuid",
                 [*encoded(chart(2, snapshot_id="snap-2")), b"\xff\xfe\n"], gzipped=True)
    (tmp_path / "truncated-gzip").write_bytes(gzip.compress(b"".join(encoded(chart(50))))[:100])
    rows = records_of(spark, tmp_path).collect()

    by_file = {}
    for row in rows:
        by_file.setdefault(row.source_file.rsplit("/", 1)[-1], []).append(row)
    plain = sorted(by_file["plain-1"], key=lambda r: r.line_number)
    assert [r.line_number for r in plain] == [1, 2, 5]  # blank lines 3 and 4 carry no record
    assert [r.problem for r in plain] == [None, None, "malformed JSON: not a JSON object"]
    assert plain[0].raw_line is None and plain[2].raw_line == "not json"  # raw text kept for problems only
    assert plain[0].observed_at == datetime(2026, 11, 20, 10, 0)  # UTC, as the session time zone
    assert plain[0].chart_date == date(2026, 11, 20) and plain[0].artist_ids == ["A1"]

    gzipped = sorted(by_file["stream-1-2026-11-20-10-00-00-uuid"], key=lambda r: r.line_number)
    assert [(r.line_number, r.snapshot_id, r.problem) for r in gzipped] == [
        (1, "snap-2", None), (2, "snap-2", None), (3, None, "not UTF-8")]

    [truncated] = by_file["truncated-gzip"]
    assert truncated.line_number == 0 and truncated.raw_line is None
    assert truncated.problem.startswith("unreadable file: ")


def test_chart_entries_pass_every_valid_line_through(spark, tmp_path):
    # The job does not deduplicate (Snowflake's MERGE does): a redelivered line is a row.
    early = record(poll_id="poll-1", observed_at="2026-11-20T10:00:00.000Z", popularity=80)
    local = record(position=2, track_id=None, entry_type="local")
    write_object(tmp_path, "a", [*encoded([early, early, local]), b"broken\n"])
    write_object(tmp_path, "b", encoded([observation(), early]))
    entries = T.chart_entries_rows(records_of(spark, tmp_path), BATCH)
    assert [(f.name, f.dataType) for f in entries.schema] == [
        (f.name, f.dataType) for f in dataset_schema(curated.CHART_ENTRIES_DATASET)]
    rows = sorted(entries.collect(), key=lambda r: (r.source_file, r.position))
    assert [(r.source_file.rsplit("/", 1)[-1], r.position, r.track_id) for r in rows] == [
        ("a", 1, "T1"), ("a", 1, "T1"), ("a", 2, None), ("b", 1, "T1")]
    assert {(r.poll_id, r.popularity, r.chart_date) for r in rows if r.track_id} == {("poll-1", 80, date(2026, 11, 20))}
    assert {(r.batch_id, r.batch_at) for r in rows} == {(BATCH.batch_id, datetime(2026, 11, 21, 3, 0))}


def test_chart_observations_take_only_observations(spark, tmp_path):
    write_object(tmp_path, "a", encoded([record(), observation(), observation(poll_id="poll-9", entry_count=0)]))
    rows = T.chart_observations_rows(records_of(spark, tmp_path), BATCH)
    assert rows.columns == list(curated.CHART_OBSERVATIONS_DATASET.column_names)
    assert sorted((r.poll_id, r.entry_count) for r in rows.collect()) == [("poll-1", 3), ("poll-9", 0)]


def test_quarantine_rows_keep_line_reason_and_file(spark, tmp_path):
    write_object(tmp_path, "a", [b"{oops\n", json_line({**record(), "position": 0})])
    rows = T.quarantine_rows(records_of(spark, tmp_path), BATCH)
    assert rows.columns == list(curated.QUARANTINE_DATASET.column_names)
    by_line = {r.line_number: r for r in rows.collect()}
    assert by_line[1].raw_line == "{oops" and by_line[1].reason.startswith("malformed JSON")
    assert by_line[2].reason == "invalid record: position: must be >= 1, got 0"
    assert by_line[2].source_file.endswith("/a")
    assert by_line[2].run_date == date(2026, 11, 21) and by_line[2].quarantined_at == datetime(2026, 11, 21, 3, 0)
