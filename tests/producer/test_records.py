import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from firehose import contract
from producer.records import MalformedEntryError, SkippedEntry, entry_to_record

PAGE = json.loads((Path(__file__).parent / "items_every_shape.json").read_text())
OBSERVED = datetime(2026, 11, 20, 22, 0, 0, 500000, tzinfo=timezone.utc)


def convert_page():
    return [
        entry_to_record(entry, position, poll_id="poll-1", observed_at=OBSERVED, playlist_id="pl",
                        chart_label="global", playlist_name="Top 50 - Global", snapshot_id="snap")
        for position, entry in enumerate(PAGE["items"], start=1)
    ]


def test_every_entry_shape_is_recorded_or_skipped_with_a_reason():
    results = convert_page()
    kinds = [r.reason if isinstance(r, SkippedEntry) else r["entry_type"] for r in results]
    assert kinds == ["track", "track", "null_entry", "null_entry", "episode", "local", "unavailable",
                     "unknown_item_type:chapter"]


def test_positions_are_playlist_indices_never_shifted_by_skips():
    results = convert_page()
    assert [r.position if isinstance(r, SkippedEntry) else r["position"] for r in results] == list(range(1, 9))


def test_records_follow_the_contract_and_carry_the_track():
    records = [r for r in convert_page() if not isinstance(r, SkippedEntry)]
    for record in records:
        assert contract.validate(record) == []
        assert record["observed_at"] == "2026-11-20T22:00:00.500Z"
    track, old_track, episode, local, unavailable = records
    assert track["artist_names"] == ["Artist One", "Artist Two"]
    assert track["isrc"] == "USUM71703861"
    assert track["popularity"] is None  # development-mode payloads carry none
    assert track["album_release_date"] == "2026-10-01"
    assert old_track["track_id"] == "7ouMYWpwJ422jRcDASZB7P" and old_track["popularity"] == 87
    assert old_track["album_release_date_precision"] == "year"
    assert episode["artist_names"] == ["A Show"] and episode["album_release_date"] == "2026-11"
    assert local["track_id"] is None and local["artist_ids"] == [None] and local["added_at"] is None
    assert unavailable["entry_type"] == "unavailable" and unavailable["track_id"] == "0VjIjW4GlUZAMYd2vXMi3b"


GOOD = PAGE["items"][0]


def with_item(**changes):
    return {**GOOD, "item": {**GOOD["item"], **changes}}


@pytest.mark.parametrize("entry, reason", [
    ({**GOOD, "added_at": "garbage"}, "added_at 'garbage' is not a UTC timestamp"),
    ({**GOOD, "added_at": 1_700_000_000}, "added_at is a number, not a timestamp"),
    ({**GOOD, "added_at": "2026-11-19T00:00:00"}, "added_at '2026-11-19T00:00:00' is not a UTC timestamp"),
    ({**GOOD, "added_at": ["2026-11-19T00:00:00Z"]}, "added_at is an array, not a timestamp"),
    ("spotify:track:4uLU6hMCjMI75M1A2tKUQC", "entry is a string, not an object"),
    (["not", "an", "entry"], "entry is an array, not an object"),
    ({**GOOD, "item": "spotify:track:4uLU6hMCjMI75M1A2tKUQC"}, "item is a string, not an object"),
    (with_item(artists=["Artist One"]), "artist is a string, not an object"),
    (with_item(artists={"id": "a", "name": "A"}), "artists is an object, not an array"),
    (with_item(album=[GOOD["item"]["album"]]), "album is an array, not an object"),
    (with_item(external_ids="USUM71703861"), "external_ids is a string, not an object"),
    ({**GOOD, "item": {**PAGE["items"][4]["item"], "show": "A Show"}}, "show is a string, not an object"),
], ids=["added-at-garbage", "added-at-number", "added-at-no-zone", "added-at-list", "entry-str", "entry-list",
        "item-str", "artist-str", "artists-dict", "album-list", "external-ids-str", "show-str"])
def test_a_malformed_entry_raises_a_clear_error_and_the_poll_skips_just_it(entry, reason):
    with pytest.raises(MalformedEntryError) as caught:
        entry_to_record(entry, 3, poll_id="p", observed_at=OBSERVED, playlist_id="pl", chart_label="global",
                        playlist_name="Top", snapshot_id="snap")
    assert str(caught.value) == reason


def test_unknown_and_null_added_at_are_recorded_as_unknown_and_offsets_become_utc():
    def added(value):
        return entry_to_record({**GOOD, "added_at": value}, 1, poll_id="p", observed_at=OBSERVED, playlist_id="pl",
                               chart_label="global", playlist_name="Top", snapshot_id="snap")["added_at"]

    assert [added(v) for v in (None, "", "1970-01-01T00:00:00Z")] == [None, None, None]
    assert added("2026-11-19T01:00:00+01:00") == "2026-11-19T00:00:00.000Z"
