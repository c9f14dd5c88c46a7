import json
from datetime import datetime, timedelta, timezone

import pytest

from firehose import contract


def valid_record(**overrides):
    values = dict(
        poll_id="p1", observed_at="2026-11-20T22:04:01.123Z", playlist_id="pl", chart_label="global",
        playlist_name="Top 50 - Global", snapshot_id="s1", position=1, entry_type="track",
        track_id="t1", track_name="Song", artist_ids=["a1"], artist_names=["Artist"], album_id=None,
        album_name=None, album_release_date=None, album_release_date_precision=None, duration_ms=1000,
        explicit=False, isrc=None, popularity=None, added_at=None,
    )
    values.update(overrides)
    return contract.make_record(**values)


def test_make_record_orders_fields_as_the_contract():
    record = valid_record()
    assert list(record) == list(contract.FIELD_NAMES)
    assert record["schema_version"] == contract.SCHEMA_VERSION


@pytest.mark.parametrize(
    "overrides, problem",
    [
        ({"position": 0}, "position: must be >= 1"),
        ({"position": True}, "position: expected long"),
        ({"entry_type": "chapter"}, "entry_type: unknown type"),
        ({"observed_at": "yesterday"}, "observed_at: expected timestamp"),
        ({"observed_at": "2026-11-20T22:04:01"}, "observed_at: expected timestamp"),  # no zone
        ({"playlist_id": None}, "playlist_id: null not allowed"),
        ({"artist_ids": ["a", "b"]}, "differ in length"),
        ({"artist_names": [1]}, "artist_names: expected array<string>"),
        ({"schema_version": 99}, "unsupported version 99"),
        ({"surprise": 1}, "unknown fields: surprise"),
    ],
)
def test_make_record_names_every_broken_rule(overrides, problem):
    with pytest.raises(contract.RecordContractError, match=problem):
        valid_record(**overrides)


def test_validate_reports_missing_fields():
    record = valid_record()
    del record["snapshot_id"]
    assert contract.validate(record) == ["missing fields: snapshot_id"]


def test_encode_is_one_json_line_and_round_trips():
    record = valid_record(track_name="Ünïcode, \"quoted\"\nnewline")
    data = contract.encode(record)
    assert data.endswith(b"\n") and data.count(b"\n") == 1
    assert list(contract.decode_lines(data + data)) == [record, record]


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\u0085", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\r"])
def test_a_line_ends_at_newline_only_whatever_a_name_holds(separator):
    """str.splitlines breaks at all of these; encode writes the first three as they are
    (ensure_ascii=False), the control characters escaped."""
    record = valid_record(track_name=f"Line{separator}Separated", playlist_name=f"{separator}Top{separator}")
    data = contract.encode(record)
    assert (separator.encode("utf-8") in data) == (separator >= "\x80") and data.count(b"\n") == 1
    assert list(contract.decode_lines(data + data)) == [record, record]
    assert list(contract.decode_lines((data + data).replace(b"\n", b"\r\n"))) == [record, record]


def test_encode_refuses_records_over_the_firehose_limit():
    record = valid_record(track_name="x" * contract.MAX_RECORD_BYTES)
    with pytest.raises(contract.RecordTooLargeError, match="over the 1024000-byte Firehose limit"):
        contract.encode(record)


def test_timestamps_are_utc_with_milliseconds():
    moment = datetime(2026, 11, 20, 23, 4, 1, 123456, tzinfo=timezone(timedelta(hours=1)))
    assert contract.format_timestamp(moment) == "2026-11-20T22:04:01.123Z"
    assert contract.parse_timestamp("2026-11-20T22:04:01.123Z") == moment.replace(microsecond=123000)
    with pytest.raises(contract.RecordContractError):
        contract.format_timestamp(datetime(2026, 1, 1))


def test_every_field_has_a_known_type_and_unique_name():
    types = {contract.STRING, contract.LONG, contract.BOOLEAN, contract.TIMESTAMP, contract.STRING_ARRAY,
             contract.DATE}
    assert all(f.type in types for f in contract.ALL_FIELDS)
    for kind in contract.RECORD_TYPES.values():
        assert len(set(kind.field_names)) == len(kind.fields)
        assert set(kind.key) <= set(kind.field_names)
    assert set(contract.NATURAL_KEY) <= set(contract.FIELD_NAMES)
    # A name means one field, of one type, in every record type (readers parse their union).
    assert len({f.name for f in contract.ALL_FIELDS}) == len(contract.ALL_FIELDS)
    json.dumps([f.__dict__ for f in contract.ALL_FIELDS])  # plain data, usable by any stage


def valid_observation(**overrides):
    values = dict(poll_id="p1", observed_at="2024-03-13T00:00:04.000Z", playlist_id="pl", chart_label="us",
                  playlist_name="Top 50 - USA", snapshot_id="s1", entry_count=50)
    values.update(overrides)
    return contract.make_observation(**values)


def test_an_observation_is_small_and_typed_apart_from_entries():
    record = valid_observation()
    assert list(record) == list(contract.OBSERVATION_FIELD_NAMES)
    assert record["record_type"] == contract.CHART_OBSERVATION and record["chart_date"] is None
    assert record["schema_version"] == contract.SCHEMA_VERSION == 3
    assert record["origin"] == contract.ORIGIN_PLAYLIST
    assert contract.validate(record) == []
    assert valid_record()["record_type"] == contract.CHART_ENTRY
    assert len(contract.encode(record)) < 300  # instead of 50 chart entries for an unchanged chart


@pytest.mark.parametrize(
    "overrides, problem",
    [
        ({"entry_count": -1}, "entry_count: must be >= 0"),
        ({"position": 1}, "unknown fields: position"),  # an entry's field does not belong here
        ({"snapshot_id": None}, "snapshot_id: null not allowed"),
        ({"chart_date": "2024-3-13"}, "chart_date: expected date"),
        ({"chart_date": "2024-02-30"}, "chart_date: expected date"),
        ({"record_type": "chart_guess"}, "record_type: unknown record type 'chart_guess'"),
    ],
)
def test_make_observation_names_every_broken_rule(overrides, problem):
    with pytest.raises(contract.RecordContractError, match=problem):
        valid_observation(**overrides)


def test_a_record_may_carry_its_chart_date():
    assert valid_record(chart_date="2024-03-13")["chart_date"] == "2024-03-13"
    assert contract.parse_date("2024-03-13").isoformat() == "2024-03-13"
    with pytest.raises(contract.RecordContractError, match="chart_date: expected date"):
        valid_record(chart_date="13/03/2024")


def fields_since(version: int) -> set[str]:
    return {f.name for f in contract.ALL_FIELDS if f.since > version}


def test_version_1_chart_entries_are_still_valid_and_nothing_else_of_version_1():
    v1 = {k: v for k, v in valid_record().items() if k not in fields_since(1)}
    assert {"record_type", "chart_date", "origin", "streams"} <= fields_since(1)
    v1["schema_version"] = 1
    assert contract.validate(v1) == []
    assert contract.record_type_of(v1).name == contract.CHART_ENTRY
    assert "unknown fields: chart_date" in contract.validate({**v1, "chart_date": None})[0]
    v2_without_type = {**v1, "schema_version": 2}
    assert contract.validate(v2_without_type) == ["missing fields: record_type"]
    assert contract.validate({**v2_without_type, "record_type": ["x"]})[0].startswith("record_type: unknown")


def test_version_2_records_are_read_with_the_fields_they_had():
    v2_entry = {k: v for k, v in valid_record().items() if k not in fields_since(2)}
    v2_observation = {k: v for k, v in valid_observation().items() if k not in fields_since(2)}
    for record in (v2_entry, v2_observation):
        record["schema_version"] = 2
        assert contract.validate(record) == []
        assert contract.record_type_of(record).version == 2
    assert contract.validate({**v2_entry, "streams": 5}) == ["unknown fields: streams"]
    v3_without_origin = {k: v for k, v in valid_record().items() if k != "origin"}
    assert contract.validate(v3_without_origin) == ["missing fields: origin"]


def test_a_chart_export_entry_carries_what_the_file_states():
    record = valid_record(origin=contract.ORIGIN_CHART_EXPORT, playlist_id="regional-ar-daily",
                          chart_label="regional-ar-daily", chart_date="2024-05-31", streams=1_234_567,
                          previous_rank=None, peak_rank=1, days_on_chart=12, label="Columbia")
    assert (record["streams"], record["weeks_on_chart"], record["label"]) == (1_234_567, None, "Columbia")
    assert valid_record()["streams"] is None  # a playlist's entries state none of it


@pytest.mark.parametrize("overrides, problem", [
    ({"origin": "scraped"}, "origin: unknown origin 'scraped'"),
    ({"streams": -1}, "streams: must be >= 0"),
    ({"peak_rank": 0}, "peak_rank: must be >= 1"),
    ({"previous_rank": -1}, "previous_rank: must be >= 1"),  # the file's -1 ("none") travels as null
    ({"weeks_on_chart": "3"}, "weeks_on_chart: expected long"),
])
def test_export_fields_are_checked(overrides, problem):
    with pytest.raises(contract.RecordContractError, match=problem):
        valid_record(**overrides)
