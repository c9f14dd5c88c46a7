"""The import Lambda's chart histories (producer/chart_history.py): which editions publish
events, in any order of arrival, with corrected files."""
from __future__ import annotations

import json

from producer.chart_events import CLIMB, EXIT, NEW_ENTRY, NEW_NUMBER_ONE, RE_ENTRY, TOP_10_ENTRY, Entry, edition
from producer.chart_history import ChartHistory, HeldEdition, add_edition


def held(day: str, *tracks: str, snapshot: str | None = None, replaced: tuple[str, ...] | None = None) -> HeldEdition:
    entries = edition(Entry(t, n, f"song {t}", (f"artist {t}",), (f"artist {t}",)) for n, t in enumerate(tracks, 1))
    return HeldEdition(f"2024-05-{day}", snapshot or "-".join(tracks), entries, replaced)


def add(history: ChartHistory, edition_: HeldEdition) -> list[tuple[str, str]]:
    return sorted((e.event, e.track_id) for e in add_edition(history, edition_, climb_places=2))


def test_editions_in_date_order_publish_from_the_second_on():
    history = ChartHistory("regional-ar-daily")
    assert add(history, held("01", "a", "b", "c")) == []  # the first edition: no events
    assert add(history, held("02", "b", "a", "x")) == [(EXIT, "c"), (NEW_ENTRY, "x"), (NEW_NUMBER_ONE, "b"),
                                                       (TOP_10_ENTRY, "x")]
    assert add(history, held("04", "c", "b", "a")) == [(EXIT, "x"), (NEW_NUMBER_ONE, "c"), (RE_ENTRY, "c"),
                                                       (TOP_10_ENTRY, "c")]  # 03 is a gap: compared with 02
    assert history.seen == {"a": 3, "b": 3, "c": 2, "x": 1}
    assert sorted(history.editions) == ["2024-05-02", "2024-05-04"]  # the two newest only


def test_older_files_change_the_history_but_publish_nothing():
    history = ChartHistory("c")
    add(history, held("10", "a", "b"))
    add(history, held("12", "a", "b", "c"))
    assert add(history, held("11", "c", "a", "b")) == []  # fills a gap: not the newest
    assert add(history, held("01", "z", "a")) == []  # a backfill
    assert history.seen["z"] == 1 and history.seen["c"] == 2
    # z was on an earlier edition (the backfill): back now, it re-enters.
    assert add(history, held("13", "a", "z")) == [(EXIT, "b"), (EXIT, "c"), (RE_ENTRY, "z"), (TOP_10_ENTRY, "z")]


def test_adding_what_is_held_already_changes_nothing():
    history = ChartHistory("c")
    add(history, held("01", "a", "b"))
    add(history, held("02", "b", "a"))
    before = json.dumps(history.to_json(), sort_keys=True)
    assert add(history, held("02", "b", "a")) == []
    assert json.dumps(history.to_json(), sort_keys=True) == before


def test_a_corrected_newest_file_publishes_only_what_the_replaced_one_did_not():
    history = ChartHistory("c")
    add(history, held("01", "a", "b", "c"))
    assert add(history, held("02", "a", "c", "b")) == []  # moves of one place: nothing at climb_places=2
    corrected = held("02", "c", "a", "x", snapshot="fixed", replaced=("a", "b", "c"))
    # New: c at 1 (a new number one, a climb of 2), x a new entry, b exits.
    assert add(history, corrected) == [(CLIMB, "c"), (EXIT, "b"), (NEW_ENTRY, "x"), (NEW_NUMBER_ONE, "c"),
                                       (TOP_10_ENTRY, "x")]
    assert history.seen == {"a": 2, "b": 1, "c": 2, "x": 1}
    assert add(history, held("02", "a", "c", "b", snapshot="a-c-b")) == []  # back to the first: all announced


def test_a_file_its_correction_and_the_file_again_announce_each_event_once():
    history = ChartHistory("c")
    add(history, held("01", "a", "b", "c"))
    assert add(history, held("02", "c", "a", "b")) == [(CLIMB, "c"), (NEW_NUMBER_ONE, "c")]
    assert add(history, held("02", "a", "b", "c", snapshot="fixed", replaced=("a", "b", "c"))) == []
    assert add(history, held("02", "c", "a", "b")) == []  # c's events were announced with the first file
    assert add(history, held("03", "b", "c", "a")) == [(CLIMB, "b"), (NEW_NUMBER_ONE, "b")]  # a new date: its own
    assert sorted(history.announced) == ["2024-05-02", "2024-05-03"]


def test_a_corrected_older_file_moves_the_counts_by_the_tracks_the_ledger_kept():
    history = ChartHistory("c")
    for day, tracks in (("01", ("a", "wrong")), ("02", ("a", "b")), ("03", ("a", "b")), ("04", ("a", "b"))):
        add(history, held(day, *tracks))
    assert history.seen["wrong"] == 1 and "2024-05-01" not in history.editions
    assert add(history, held("01", "a", "c", snapshot="fixed", replaced=("a", "wrong"))) == []
    assert "wrong" not in history.seen and history.seen["c"] == 1
    # 'wrong' was never on the chart after all: back now, it is new; c was, it re-enters.
    assert add(history, held("05", "wrong", "c")) == [(EXIT, "a"), (EXIT, "b"), (NEW_ENTRY, "wrong"),
                                                      (NEW_NUMBER_ONE, "wrong"), (RE_ENTRY, "c"),
                                                      (TOP_10_ENTRY, "c"), (TOP_10_ENTRY, "wrong")]


def test_a_history_survives_json():
    history = ChartHistory("regional-global-weekly")
    add(history, held("02", "a", "b"))
    add(history, held("09", "b", "c"))
    copy = ChartHistory.from_json(json.loads(json.dumps(history.to_json())))
    assert copy == history
    assert add(copy, held("16", "c", "a")) == add(history, held("16", "c", "a"))
