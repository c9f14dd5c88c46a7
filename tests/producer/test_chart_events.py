"""The chart-event rules (producer/chart_events.py), on hand-made editions, and against the
truth computed from the CSV files alone (benchmarks/truth/chart_events.py) over the bundled
month of real exports."""
from __future__ import annotations

from collections import Counter

from benchmarks.truth.chart_events import export_events
from producer.chart_events import (CLIMB, EXIT, NEW_ENTRY, NEW_NUMBER_ONE, RE_ENTRY, TOP_10_ENTRY, Entry, artist_keys,
                                   chart_events, edition, new_events)
from producer.chart_export import parse_chart_file
from tests.producer.chart_files import BUNDLE, bundle_files


def chart(*tracks: str | None) -> dict[str, Entry]:
    """An edition: tracks in position order (None: a position without a tracked entry)."""
    return edition(Entry(t, position, f"song {t}", ("artist",), (f"id-{t}",))
                   for position, t in enumerate(tracks, start=1) if t)


def events(previous, current, seen=(), places=3) -> list[tuple[str, str, int, int | None]]:
    return [(e.event, e.track_id, e.position, e.previous_position)
            for e in chart_events(previous, current, set(seen), places)]


def test_the_first_edition_has_no_events():
    assert events(None, chart("a", "b", "c")) == []


def test_new_entries_exits_and_re_entries():
    found = events(chart("a", "b", "c"), chart("a", "b", "x", "y"), seen={"a", "b", "c", "y"})
    assert (NEW_ENTRY, "x", 3, None) in found and (RE_ENTRY, "y", 4, None) in found
    assert (EXIT, "c", 3, 3) in found  # an exit's position is its last one
    assert len(found) == 5  # and each is a top-10 entry of a track not on the previous edition (x, y)


def test_a_new_number_one_is_another_track_at_1_than_on_the_previous_edition():
    assert (NEW_NUMBER_ONE, "b", 1, 2) in events(chart("a", "b"), chart("b", "a"))
    assert not [e for e in events(chart("a", "b"), chart("a", "b")) if e[0] == NEW_NUMBER_ONE]
    # The previous edition had no track at 1 (a local file there): whatever is at 1 now is new there.
    assert (NEW_NUMBER_ONE, "a", 1, 2) in events(chart(None, "a"), chart("a", "b"), seen={"a"})
    # Nothing at 1 now: no new number one.
    assert not [e for e in events(chart("a", "b"), chart(None, "b", "a"), seen={"a", "b"}) if e[0] == NEW_NUMBER_ONE]


def test_a_top_10_entry_comes_from_below_10_or_from_off_the_chart():
    before = chart(*[f"t{n}" for n in range(1, 16)])
    after = chart(*[f"t{n}" for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 10, 12, 13, 14)], "new")
    found = events(before, after, places=99)
    assert [e for e in found if e[0] == TOP_10_ENTRY] == [(TOP_10_ENTRY, "t11", 10, 11)]
    straight_in = events(chart("a", "b"), chart("x", "a", "b"), places=99)
    assert (TOP_10_ENTRY, "x", 1, None) in straight_in and (NEW_ENTRY, "x", 1, None) in straight_in


def test_a_climb_is_at_least_the_places_asked_for():
    before = chart(*[f"t{n}" for n in range(1, 21)])
    after = chart("t1", "t15", "t2", "t3", "t4", "t5", "t6", "t7", "t8", "t9", "t10", "t11", "t12", "t13", "t14",
                  "t20", "t16", "t17", "t18", "t19")
    climbs = [e for e in events(before, after, places=4) if e[0] == CLIMB]
    assert climbs == [(CLIMB, "t15", 2, 15), (CLIMB, "t20", 16, 20)]  # 13 and exactly 4 places
    assert [e for e in events(before, after, places=5) if e[0] == CLIMB] == [(CLIMB, "t15", 2, 15)]


def test_a_track_listed_twice_counts_once_at_its_best_position():
    twice = edition([Entry("a", 1), Entry("b", 2), Entry("a", 5)])
    assert {t: e.position for t, e in twice.items()} == {"a": 1, "b": 2}
    assert events(chart("b", "x", "y", "z", "c", "a"), twice, places=3) == [
        (NEW_NUMBER_ONE, "a", 1, 6), (CLIMB, "a", 1, 6),
        (EXIT, "x", 2, 2), (EXIT, "y", 3, 3), (EXIT, "z", 4, 4), (EXIT, "c", 5, 5)]


def test_artist_keys_are_the_views_keys_an_id_else_the_name():
    assert artist_keys(["id1", None], ["One", "Two, and Three"]) == ("id1", "Two, and Three")
    assert artist_keys([None], [None]) == ()


def test_new_events_are_those_not_published_for_the_same_edition():
    first = chart_events(chart("a", "b"), chart("b", "a", "x"), {"a", "b"}, 3)
    second = chart_events(chart("a", "b"), chart("x", "a", "b"), {"a", "b"}, 3)
    added = [(e.event, e.track_id) for e in new_events(second, [e.key for e in first])]
    assert added == [(NEW_NUMBER_ONE, "x")]  # x's entry and a's, b's moves were announced already


def test_real_exports_give_the_truths_events():
    """Each bundled chart file after the first of its chart, through the import Lambda's parser,
    against the events computed from the CSV files alone."""
    files = bundle_files()
    found = []
    for alias in ("regional-ar-daily", "regional-global-daily", "regional-global-weekly"):
        previous, seen = None, set()
        for name in sorted(n for n in files if n.startswith(alias + "-")):
            parsed = parse_chart_file(name, files[name])
            current = edition(Entry(r.track_id, r.rank, r.track_name, (r.artist_names,), (r.artist_names,))
                              for r in parsed.rows)
            found += [(alias, parsed.chart_date, e.event, e.track_id, e.position, e.entry.artist_keys[0])
                      for e in chart_events(previous, current, seen, 10)]
            previous, seen = current, seen | set(current)
    truth = [(e.chart, e.chart_date, e.event, e.track, e.position, e.artist) for e in export_events(BUNDLE)]
    assert Counter(found) == Counter(truth)
    assert {t[2] for t in truth} == {NEW_ENTRY, RE_ENTRY, EXIT, NEW_NUMBER_ONE, TOP_10_ENTRY, CLIMB}
