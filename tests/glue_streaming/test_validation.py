"""The job's Spark-side checks give the verdicts of the record contract's validate()."""
import json

import pytest

from firehose import contract
from glue_streaming import transforms as T
from glue_streaming.schema import RAW_FILE_SCHEMA
from tests.glue_streaming.raw_data import record

pytestmark = pytest.mark.integration

BASE = record()


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
        compact(variant(position=0)), compact(variant(position=-3)),
        compact(variant(entry_type="podcast")),
        compact(variant(artist_ids=["A1", "A2"])),
        compact(variant(schema_version=2)), compact(variant(schema_version="1")),
        compact(variant(schema_version=2, position=..., extra=1)),
        compact(variant(unknown_field=1)),
        compact(variant(position="1")), compact(variant(position=1.5)), compact(variant(position=True)),
        compact(variant(explicit="yes")), compact(variant(artist_ids="A1")), compact(variant(duration_ms="x")),
        compact(variant(popularity="high")), compact(variant(popularity=[1])),
        compact(variant(observed_at=12345)), compact(variant(observed_at="not a time")),
        compact(variant(observed_at="2026-11-20T10:00:00")),  # no time zone
        compact(variant(added_at="yesterday")),
        "not json", "{", "[]", "123", '"text"', "null", compact(BASE)[:-20],
    ]
    for field in contract.FIELDS:
        lines.append(compact(variant(**{field.name: ...})))  # missing
        lines.append(compact(variant(**{field.name: None})))  # null (fine only when nullable)
    return lines


# Where Spark's JSON reader and Python's differ, on purpose and documented:
# numbers where a string is wanted are read as their text (Spark is more lenient),
# integers beyond 64 bits cannot be stored (the job is stricter).
LENIENT = {compact(variant(track_name=123)), compact(variant(artist_ids=["A1", "A2"], artist_names=["x", 1]))}
STRICTER = {compact(variant(duration_ms=2**70))}


def contract_verdict(line: str) -> bool:
    try:
        value = json.loads(line)
    except ValueError:
        return False
    return isinstance(value, dict) and not contract.validate(value)


@pytest.fixture(scope="module")
def verdicts(spark, tmp_path_factory):
    lines = corpus() + sorted(LENIENT) + sorted(STRICTER)
    folder = tmp_path_factory.mktemp("validation")
    (folder / "lines").write_text("\n".join(lines) + "\n", encoding="utf-8")
    files = spark.read.format("binaryFile").schema(RAW_FILE_SCHEMA).load(str(folder / "lines"))
    rows = T.read_records(files).select("line_number", "problem").collect()
    assert len(rows) == len(lines)
    return {lines[r.line_number - 1]: r.problem for r in rows}


def test_spark_checks_agree_with_the_contract(verdicts):
    disagreements = [
        (line, problem) for line, problem in verdicts.items()
        if line not in LENIENT | STRICTER and (problem is None) != contract_verdict(line)
    ]
    assert disagreements == []
    assert sum(p is None for p in verdicts.values()) >= 7  # the corpus does hold valid records


def test_documented_differences(verdicts):
    for line in LENIENT:
        assert not contract_verdict(line) and verdicts[line] is None
    for line in STRICTER:
        assert contract_verdict(line) and verdicts[line] == "invalid record: duration_ms: expected long"


@pytest.mark.parametrize("line, reason", [
    ("not json", "malformed JSON: not a JSON object"),
    ("[]", "malformed JSON: not a JSON object"),
    (compact(variant(schema_version=2, position=..., extra=1)), "unsupported schema_version: 2"),
    (compact(variant(position=...)), "invalid record: missing fields: position"),
    (compact(variant(unknown_field=1)), "invalid record: unknown fields: unknown_field"),
    (compact(variant(position=0)), "invalid record: position: must be >= 1, got 0"),
    (compact(variant(playlist_id=None)), "invalid record: playlist_id: null not allowed"),
    (compact(variant(popularity="high")), "invalid record: popularity: expected long"),
    (compact(variant(observed_at="2026-11-20T10:00:00")), "invalid record: observed_at: expected timestamp"),
    (compact(variant(entry_type="podcast")), "invalid record: entry_type: unknown type podcast"),
])
def test_reasons_name_the_problem(verdicts, line, reason):
    assert verdicts[line] == reason
