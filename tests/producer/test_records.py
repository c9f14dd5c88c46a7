import json
from datetime import datetime, timezone
from pathlib import Path

from firehose import contract
from producer.records import SkippedEntry, entry_to_record

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
