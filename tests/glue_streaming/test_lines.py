"""Raw objects -> rows (glue_streaming.lines), in plain Python with Arrow: no Spark needed.

The fast path (Arrow's JSON reader plus vectorised checks) must give exactly the
verdicts of the record contract's own validate(); lines it cannot certify are
decided by the contract itself, so the corpus below mixes both paths."""
import gzip
import json
from datetime import datetime, timezone

import pyarrow as pa
import pytest

from firehose import contract
from glue_streaming import lines as L
from glue_streaming.transforms import LINE_SCHEMA
from tests.glue_streaming.raw_data import record

BASE = record()
# A chart entry of contract version 1 (no record_type, no chart_date): still valid.
V1 = {**{f.name: BASE[f.name] for f in contract.FIELDS if f.since <= 1}, "schema_version": 1}
# Version 2 (no origin, no export fields): still valid, a playlist's.
V2 = {**{f.name: BASE[f.name] for f in contract.FIELDS if f.since <= 2}, "schema_version": 2}
OBSERVATION = contract.make_observation(poll_id="poll-1", observed_at="2026-11-20T10:00:00.000Z", playlist_id="PL1",
                                        chart_label="global", playlist_name="Top 50 - Global", snapshot_id="snap-1",
                                        entry_count=50)


def variant(**changes):
    """The base record with fields changed; a value of ... removes the field."""
    result = dict(BASE)
    for name, value in changes.items():
        if value is ...:
            result.pop(name)
        else:
            result[name] = value
    return result


def compact(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def corpus() -> list[str]:
    lines = [
        compact(BASE),
        json.dumps(BASE),  # another writer's spacing
        compact(dict(reversed(list(BASE.items())))),  # another key order
        compact(variant(track_id=None, entry_type="local", album_id=None, isrc=None, added_at=None)),
        compact(variant(popularity=87, explicit=True, track_name='He said "hi"\n\t\\ ✓ 日本')),
        compact(variant(artist_ids=["A1", None], artist_names=["x", "y"])),
        compact(variant(observed_at="2026-11-20T10:00:00+02:00", added_at="2026-11-20T10:00:00.123456Z")),
        compact(variant(observed_at="2026-11-20 10:00:00Z")),  # Python reads it; the fast path leaves it
        compact(variant(observed_at="2026-02-30T10:00:00Z")),  # passes the pattern, not a date
        compact(variant(position=0)), compact(variant(position=-3)),
        compact(variant(entry_type="podcast")),
        compact(variant(artist_ids=["A1", "A2"])),
        compact(variant(schema_version=4)), compact(variant(schema_version="1")),
        compact(variant(schema_version=4, position=..., extra=1)), compact(V2), compact({**V2, "streams": 3}),
        compact(variant(unknown_field=1)),
        compact(variant(position="1")), compact(variant(position=1.5)), compact(variant(position=True)),
        compact(variant(explicit="yes")), compact(variant(artist_ids="A1")), compact(variant(duration_ms="x")),
        compact(variant(popularity="high")), compact(variant(popularity=[1])),
        compact(variant(track_name=123)), compact(variant(artist_ids=["A1", "A2"], artist_names=["x", 1])),
        compact(variant(observed_at=12345)), compact(variant(observed_at="not a time")),
        compact(variant(observed_at="2026-11-20T10:00:00")),  # no time zone
        compact(variant(added_at="yesterday")),
        compact(BASE)[:-1] + ',"position":7}',  # a repeated key: JSON takes the last one
        compact(BASE) + " " + compact(BASE),  # two objects on one line
        "not json", "{", "[]", "123", '"text"', "null", "true", compact(BASE)[:-20],
    ]
    for field in contract.FIELDS:
        lines.append(compact(variant(**{field.name: ...})))  # missing
        lines.append(compact(variant(**{field.name: None})))  # null (fine only when nullable)
    # Chart dates, record types, observations, version 1.
    lines += [
        compact(variant(chart_date="2026-11-19")), compact(variant(chart_date="2026-02-30")),
        compact(variant(chart_date="2026-11-19T00:00:00Z")), compact(variant(chart_date=20261119)),
        compact(variant(record_type=...)), compact(variant(record_type="chart_guess")),
        compact(variant(record_type=contract.CHART_OBSERVATION)),  # an entry's fields under the other type
        compact(V1), json.dumps(V1), compact({**V1, "chart_date": None}), compact({**V1, "position": 0}),
        compact(OBSERVATION), json.dumps(OBSERVATION), compact(dict(reversed(list(OBSERVATION.items())))),
        compact({**OBSERVATION, "chart_date": "2026-11-19"}), compact({**OBSERVATION, "entry_count": -1}),
        compact({**OBSERVATION, "entry_count": "50"}), compact({**OBSERVATION, "position": 1}),
        compact({**OBSERVATION, "position": None}), compact({**OBSERVATION, "record_type": contract.CHART_ENTRY}),
        compact({**OBSERVATION, "schema_version": 1}),
    ]
    for field in contract.OBSERVATION_FIELDS:
        lines.append(compact({k: v for k, v in OBSERVATION.items() if k != field.name}))  # missing
        lines.append(compact({**OBSERVATION, field.name: None}))  # null (fine only when nullable)
    return lines


# The one place the job is stricter than validate(): a long must fit in 64 bits.
TOO_LONG = compact(variant(duration_ms=2**70))


def contract_verdict(line: str) -> bool:
    try:
        value = json.loads(line)
    except ValueError:
        return False
    return isinstance(value, dict) and not contract.validate(value)


def rows_of(data: bytes, path: str = "s3://raw/object") -> list[dict]:
    return [row for batch in L.read_object(path, data) for row in batch.to_pylist()]


@pytest.fixture(scope="module")
def verdicts():
    lines = corpus() + [TOO_LONG]
    rows = rows_of("\n".join(lines).encode() + b"\n")
    assert sorted(r["line_number"] for r in rows) == list(range(1, len(lines) + 1))
    return {lines[r["line_number"] - 1]: r for r in rows}


def test_verdicts_are_the_contracts(verdicts):
    disagreements = [(line, row["problem"]) for line, row in verdicts.items()
                     if (row["problem"] is None) != contract_verdict(line)]
    assert disagreements == []
    assert sum(r["problem"] is None for r in verdicts.values()) >= 9  # the corpus does hold valid records
    valid = {line: row for line, row in verdicts.items() if row["problem"] is None}
    # Rows say their type: the observations' lines are observations, the others chart entries.
    assert {row["record_type"] for line, row in valid.items() if '"entry_count"' in line} == {
        contract.CHART_OBSERVATION}
    assert {row["record_type"] for line, row in valid.items() if '"entry_count"' not in line} == {contract.CHART_ENTRY}
    # Version 1 is read as a chart entry without a chart date; an explicit chart date is kept.
    assert (valid[compact(V1)]["record_type"], valid[compact(V1)]["chart_date"]) == (contract.CHART_ENTRY, None)
    assert valid[compact(variant(chart_date="2026-11-19"))]["chart_date"].isoformat() == "2026-11-19"
    # Version 2 has no origin: null here, a playlist's once read_records fills it in.
    assert (valid[compact(V2)]["record_type"], valid[compact(V2)]["origin"]) == (contract.CHART_ENTRY, None)
    assert valid[compact(OBSERVATION)]["entry_count"] == 50 and valid[compact(OBSERVATION)]["position"] is None


def test_every_broken_line_in_a_file_of_good_ones_is_found():
    """One object: mostly fast-path lines, a few the contract must decide."""
    good = [compact(variant(position=n)) for n in range(1, 201)]
    broken = {17: "not json", 60: compact(variant(position=0)), 150: compact(variant(unknown_field=1)),
              199: compact(variant(track_id=...))}
    lines = [broken.get(n, line) for n, line in enumerate(good, start=1)]
    rows = rows_of("\n".join(lines).encode())
    assert sorted(r["line_number"] for r in rows) == list(range(1, 201))
    assert {r["line_number"] for r in rows if r["problem"]} == set(broken)


def test_null_timestamps_take_the_fast_path(monkeypatch):
    """A null timestamp (every chart export's added_at) is certified without the contract's
    line-by-line check: the whole object stays on the fast path."""
    def slow(*args):
        raise AssertionError("a line went to the slow path")
    monkeypatch.setattr(L, "_decided", slow)  # the line-by-line path
    data = "\n".join(compact(variant(position=n, added_at=None)) for n in range(1, 4)).encode()
    rows = rows_of(data)
    assert [(r["problem"], r["position"], r["added_at"]) for r in rows] == [(None, n, None) for n in range(1, 4)]


def test_a_64_bit_overflow_is_refused(verdicts):
    # The contract's own rule (a long is 64-bit: Parquet's INT64, Snowflake's NUMBER(19)).
    assert not contract_verdict(TOO_LONG)
    assert verdicts[TOO_LONG]["problem"] == "invalid record: duration_ms: expected long, out of 64-bit range"


@pytest.mark.parametrize("line, reason", [
    ("not json", "malformed JSON: not a JSON object"),
    ("[]", "malformed JSON: not a JSON object"),
    ("null", "malformed JSON: not a JSON object"),
    (compact(variant(schema_version=4, position=..., extra=1)), "unsupported schema_version: 4"),
    (compact({**V2, "streams": 3}), "invalid record: unknown fields: streams"),
    (compact(variant(position=...)), "invalid record: missing fields: position"),
    (compact(variant(track_id=...)), "invalid record: missing fields: track_id"),
    (compact(variant(unknown_field=1)), "invalid record: unknown fields: unknown_field"),
    (compact(variant(position=0)), "invalid record: position: must be >= 1, got 0"),
    (compact(variant(playlist_id=None)), "invalid record: playlist_id: null not allowed"),
    (compact(variant(popularity="high")), "invalid record: popularity: expected long, got str"),
    (compact(variant(observed_at="2026-11-20T10:00:00")), "invalid record: observed_at: expected timestamp, got str"),
    (compact(variant(entry_type="podcast")), "invalid record: entry_type: unknown type 'podcast'"),
])
def test_reasons_name_the_problem(verdicts, line, reason):
    assert verdicts[line]["problem"] == reason
    assert verdicts[line]["raw_line"] == line  # the raw text is kept for problems


def test_valid_rows_carry_typed_values_and_no_raw_text(verdicts):
    fast, spaced = verdicts[compact(BASE)], verdicts[json.dumps(BASE)]  # fast path, then the contract's
    for row in (fast, spaced):
        assert row["problem"] is None and row["raw_line"] is None
        assert row["observed_at"] == datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)
        assert row["artist_ids"] == ["A1"] and row["position"] == 1 and row["popularity"] is None
    assert {k: v for k, v in fast.items() if k != "line_number"} == {k: v for k, v in spaced.items()
                                                                    if k != "line_number"}
    offset = verdicts[compact(variant(observed_at="2026-11-20T10:00:00+02:00",
                                      added_at="2026-11-20T10:00:00.123456Z"))]
    assert offset["observed_at"] == datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
    assert offset["added_at"] == datetime(2026, 11, 20, 10, 0, 0, 123456, tzinfo=timezone.utc)


def test_gzip_is_recognised_by_its_magic_bytes_not_a_name():
    text = (compact(BASE) + "\n").encode()
    plain, gzipped = rows_of(text), rows_of(gzip.compress(text), "s3://raw/no-extension")
    assert [r["problem"] for r in plain + gzipped] == [None, None]
    # Firehose may deliver concatenated gzip members; all of them are read.
    both = rows_of(gzip.compress(text) + gzip.compress(text.replace(b'"position":1', b'"position":2')))
    assert sorted(r["position"] for r in both) == [1, 2]


def test_blank_lines_crlf_and_non_utf8_lines():
    data = (compact(BASE) + "\r\n\r\n   \n\t\n").encode() + b"\xff\xfe\n" + (compact(variant(position=2)) + "\n").encode()
    rows = sorted(rows_of(data), key=lambda r: r["line_number"])
    assert [(r["line_number"], r["problem"]) for r in rows] == [(1, None), (5, "not UTF-8"), (6, None)]
    assert rows[1]["raw_line"] == "\ufffd\ufffd"  # kept, with the undecodable bytes replaced


def test_truncated_gzip_is_a_file_problem_not_a_crash():
    [row] = rows_of(gzip.compress((compact(BASE) + "\n").encode() * 100)[:30])
    assert row["line_number"] == 0 and row["raw_line"] is None
    assert row["problem"].startswith("unreadable file: ")


def test_empty_objects_have_no_rows():
    assert rows_of(b"") == [] and rows_of(b"\n\n  \n") == [] and rows_of(gzip.compress(b"")) == []


def test_read_objects_yields_every_line_of_every_object():
    line = (compact(BASE) + "\n").encode()
    batch = pa.RecordBatch.from_pydict({"path": ["a", "b", "c"], "content": [line, gzip.compress(line * 2), b"oops\n"]})
    rows = [r for b in L.read_objects([batch]) for r in b.to_pylist()]
    # Repeated lines stay rows: the job does not deduplicate, Snowflake's MERGE does.
    assert sorted((r["source_file"], r["line_number"], r["problem"] is None) for r in rows) == [
        ("a", 1, True), ("b", 1, True), ("b", 2, True), ("c", 1, False)]


def test_the_arrow_and_spark_schemas_agree():
    from pyspark.sql.pandas.types import from_arrow_schema

    spark_fields = [(f.name, f.dataType) for f in LINE_SCHEMA.fields]
    assert [(f.name, f.dataType) for f in from_arrow_schema(L.ARROW_LINE_SCHEMA).fields] == spark_fields
