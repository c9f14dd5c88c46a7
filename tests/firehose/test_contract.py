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
    types = {contract.STRING, contract.LONG, contract.BOOLEAN, contract.TIMESTAMP, contract.STRING_ARRAY}
    assert all(f.type in types for f in contract.FIELDS)
    assert len(set(contract.FIELD_NAMES)) == len(contract.FIELDS)
    assert set(contract.NATURAL_KEY) <= set(contract.FIELD_NAMES)
    json.dumps([f.__dict__ for f in contract.FIELDS])  # plain data, usable by any stage
