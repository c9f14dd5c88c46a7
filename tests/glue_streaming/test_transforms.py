"""Each transform on small inputs, in the shared Spark session."""
import gzip
from datetime import date, datetime, timezone

import pytest

from glue_streaming import curated
from glue_streaming import transforms as T
from glue_streaming.schema import RAW_FILE_SCHEMA, dataset_schema
from tests.glue_streaming.raw_data import chart, encoded, json_line, record, write_object


BATCH = T.Batch("000007-abcdef12", int(datetime(2026, 11, 21, 3, 0, tzinfo=timezone.utc).timestamp() * 1e6))
NO_KEYS = "playlist_id string, snapshot_id string, position long"


def records_of(spark, folder):
    files = spark.read.format("binaryFile").schema(RAW_FILE_SCHEMA).option("recursiveFileLookup", "true")
    return T.read_records(files.load(str(folder)))


def entries_of(spark, folder):
    return T.new_entries(T.collapse_duplicates(records_of(spark, folder)), spark.createDataFrame([], NO_KEYS))


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


def test_collapse_keeps_the_first_observation_and_counts_copies(spark, tmp_path):
    late = record(poll_id="poll-2", observed_at="2026-11-20T11:00:00.000Z", popularity=90)
    early = record(poll_id="poll-1", observed_at="2026-11-20T10:00:00.000Z", popularity=80)
    write_object(tmp_path, "a", encoded([late, early, early]))  # early twice: an at-least-once redelivery
    write_object(tmp_path, "b", [*encoded([early]), b"broken\n", b"broken\n"])
    collapsed = T.collapse_duplicates(records_of(spark, tmp_path)).collect()

    [entry] = [r for r in collapsed if r.problem is None]
    assert (entry.poll_id, entry.popularity, entry.copies) == ("poll-1", 80, 4)
    assert entry.source_file.endswith("/a") and entry.line_number == 2  # ties broken by file, then line
    problems = [r for r in collapsed if r.problem is not None]
    assert sorted(r.line_number for r in problems) == [2, 3] and {r.copies for r in problems} == {1}


def test_new_entries_skips_keys_curated_before(spark, tmp_path):
    write_object(tmp_path, "a", encoded(chart(3)))
    collapsed = T.collapse_duplicates(records_of(spark, tmp_path))
    previous = spark.createDataFrame([("PL1", "snap-1", 2), ("PL1", "other", 3)], NO_KEYS)
    assert sorted(r.position for r in T.new_entries(collapsed, previous).collect()) == [1, 3]


def test_tracks_hold_the_latest_attributes(spark, tmp_path):
    write_object(tmp_path, "a", encoded([
        record(snapshot_id="s1", observed_at="2026-11-20T10:00:00.000Z", popularity=50, track_name="Old name"),
        record(snapshot_id="s2", observed_at="2026-11-21T09:00:00.000Z", popularity=60, track_name="New name",
               position=4),
        record(snapshot_id="s2", position=5, track_id=None, entry_type="local", observed_at="2026-11-21T09:00:00.000Z"),
    ]))
    tracks = T.tracks_from_entries(entries_of(spark, tmp_path), BATCH)
    assert [(f.name, f.dataType) for f in tracks.schema] == [
        (f.name, f.dataType) for f in dataset_schema(curated.TRACKS_DATASET)]
    assert tracks.columns == list(curated.TRACKS_DATASET.column_names)
    [track] = tracks.collect()  # the local file is not a track
    assert (track.track_id, track.track_name, track.popularity) == ("T1", "New name", 60)
    assert track.first_seen_at == datetime(2026, 11, 20, 10, 0) and track.last_seen_at == datetime(2026, 11, 21, 9, 0)
    assert track.chart_date == date(2026, 11, 21)
    assert track.batch_id == BATCH.batch_id and track.batch_at == datetime(2026, 11, 21, 3, 0)


def test_chart_daily_aggregates_the_snapshots_of_a_day(spark, tmp_path):
    day = [
        record(snapshot_id="s1", observed_at="2026-11-20T01:00:00.000Z", position=5),
        record(snapshot_id="s2", observed_at="2026-11-20T09:00:00.000Z", position=2),
        record(snapshot_id="s3", observed_at="2026-11-20T20:00:00.000Z", position=3),
        record(snapshot_id="s3", observed_at="2026-11-20T20:00:00.000Z", position=7),  # in the chart twice
        record(snapshot_id="s4", observed_at="2026-11-21T01:00:00.000Z", position=1),  # the next day
    ]
    write_object(tmp_path, "a", encoded(day))
    daily = T.chart_daily_from_entries(entries_of(spark, tmp_path), BATCH)
    assert daily.columns == list(curated.CHART_DAILY_DATASET.column_names)
    rows = {r.chart_date: r for r in daily.collect()}
    first = rows[date(2026, 11, 20)]
    assert (first.best_position, first.worst_position, first.last_position, first.snapshots_seen) == (2, 7, 3, 3)
    assert first.first_seen_at == datetime(2026, 11, 20, 1, 0) and first.last_seen_at == datetime(2026, 11, 20, 20, 0)
    assert rows[date(2026, 11, 21)].snapshots_seen == 1


def test_quarantine_rows_keep_line_reason_and_file(spark, tmp_path):
    write_object(tmp_path, "a", [b"{oops\n", json_line({**record(), "position": 0})])
    rows = T.quarantine_rows(T.collapse_duplicates(records_of(spark, tmp_path)), BATCH)
    assert rows.columns == list(curated.QUARANTINE_DATASET.column_names)
    by_line = {r.line_number: r for r in rows.collect()}
    assert by_line[1].raw_line == "{oops" and by_line[1].reason.startswith("malformed JSON")
    assert by_line[2].reason == "invalid record: position: must be >= 1, got 0"
    assert by_line[2].source_file.endswith("/a")
    assert by_line[2].run_date == date(2026, 11, 21) and by_line[2].quarantined_at == datetime(2026, 11, 21, 3, 0)
