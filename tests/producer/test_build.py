"""Building records from one playlist read: oversized and malformed entries are counted, not fatal."""
from firehose import contract
from producer.config import Playlist, ProducerConfig
from producer.poll import CHANGED, ChartPoller
from producer.spotify import PlaylistItems, PlaylistVersion


def track(track_id, name="Song", **extra):
    return {"added_at": "2026-11-01T00:00:00Z", "is_local": False,
            "item": {"id": track_id, "name": name, "type": "track", "duration_ms": 1000, "explicit": False,
                     "artists": [{"id": "a", "name": "Artist"}], **extra}}


def build(entries):
    config = ProducerConfig(playlists=(Playlist("pl", "global"),), delivery_stream_name="s", state_bucket="b")
    poller = ChartPoller(config, reader=None, writer=None, state=None)
    items = PlaylistItems(PlaylistVersion("pl", "Top", "snap", observed_at=1_790_000_000.0), entries, requests=1)
    return poller._build(config.playlists[0], "poll", items, previous=None)


def test_oversized_and_malformed_entries_are_skipped_with_reasons_and_the_rest_recorded():
    outcome = build([
        track("t1"),
        track("t2", name="x" * contract.MAX_RECORD_BYTES),
        track("t3", duration_ms="three minutes"),
        track("t4"),
    ])
    assert outcome.status == CHANGED
    assert [r.position for r in outcome.skipped] == [2, 3]
    assert outcome.skipped[0].reason.startswith("RecordTooLargeError")
    assert outcome.skipped[1].reason.startswith("RecordContractError: duration_ms: expected long")
    assert [contract.parse_timestamp(r["observed_at"]).year for r in map(lambda b: next(contract.decode_lines(b)), outcome.records)] == [2026, 2026]
    assert [s.position for s in outcome.new_state.slots] == [1, 4]
    # The read's observation counts the records the snapshot has: the skipped entries are not among them.
    observation = next(contract.decode_lines(outcome.observation))
    assert contract.validate(observation) == []
    assert (observation["record_type"], observation["snapshot_id"], observation["entry_count"]) == (
        contract.CHART_OBSERVATION, "snap", 2)
    assert observation["observed_at"] == "2026-09-21T14:13:20.000Z"  # the version's observed_at


def test_poisoned_entries_cost_themselves_only_and_are_counted_by_reason():
    outcome = build([
        track("t1"),
        {**track("t2"), "added_at": "garbage"},
        "spotify:track:t3",
        {**track("t4"), "added_at": 1_700_000_000},
        track("t5", artists=["Artist"]),
        track("t6", name="half a surrogate \ud800"),  # valid JSON ("\\ud800"), not encodable as UTF-8
        track("t7"),
    ])
    assert outcome.status == CHANGED
    assert [s.position for s in outcome.new_state.slots] == [1, 7]
    assert {s.position: s.reason for s in outcome.skipped} == {
        2: "malformed_entry: added_at 'garbage' is not a UTC timestamp",
        3: "malformed_entry: entry is a string, not an object",
        4: "malformed_entry: added_at is a number, not a timestamp",
        5: "malformed_entry: artist is a string, not an object",
        6: outcome.skipped[4].reason,
    }
    assert outcome.skipped[4].reason.startswith("UnicodeEncodeError: 'utf-8' codec can't encode")
    assert next(contract.decode_lines(outcome.observation))["entry_count"] == 2
