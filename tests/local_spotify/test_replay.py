"""Replay model: what a playlist holds on a day, snapshot ids, added_at, anomalies, clock."""
from datetime import date, timedelta

import pytest

from local_spotify import catalog
from local_spotify.replay import (
    KIND_EPISODE,
    KIND_LOCAL,
    KIND_NULL,
    KIND_POISON,
    KIND_TRACK,
    KIND_UNAVAILABLE,
    Anomalies,
    ReplayError,
    SimulatedClock,
    build_playlists,
    market_history,
    playlist_content,
)

GLOBAL = build_playlists()[0]
MISSING_DAY = date(2024, 3, 14)  # one of the 4 days missing from the data


def ids(content):
    return [e.track.track_id if e.track else None for e in content.entries]


def test_the_ten_markets_come_first_with_their_real_ids_and_names():
    playlists = build_playlists()
    assert [(p.id, p.name) for p in playlists] == [(m.playlist_id, m.name) for m in catalog.MARKETS]
    assert GLOBAL.market == "global" and GLOBAL.shift_days == 0


def test_extra_playlists_are_deterministic_distinct_and_shifted():
    first, again = build_playlists(40), build_playlists(40)
    assert first == again
    extra = first[10:]
    assert len(extra) == 40 and len({p.id for p in first}) == 50
    assert all(len(p.id) == 22 and p.id.isalnum() for p in extra)
    shifted = extra[0]  # market 0 (global), 7 days ahead
    assert (shifted.market, shifted.shift_days) == ("global", 7)
    day = date(2023, 6, 1)
    content = playlist_content(shifted, day)
    assert ids(content) == [t.track_id for t in catalog.chart_on("global", day + timedelta(days=7))]
    # added_at moves with the shift: the track entered this playlist 7 days before the chart.
    unshifted = playlist_content(GLOBAL, day + timedelta(days=7))
    assert [e.added_on for e in content.entries] == [e.added_on - timedelta(days=7) for e in unshifted.entries]
    with pytest.raises(ReplayError):
        build_playlists(-1)


def test_content_is_the_chart_of_the_day_and_holds_through_a_missing_day():
    day_before = MISSING_DAY - timedelta(days=1)
    held = playlist_content(GLOBAL, MISSING_DAY)
    assert held.chart_day == day_before
    assert ids(held) == [t.track_id for t in catalog.chart_on("global", MISSING_DAY)]
    assert held.snapshot_id == playlist_content(GLOBAL, day_before).snapshot_id
    assert [e.position for e in held.entries] == list(range(1, 51))
    assert all(e.kind == KIND_TRACK for e in held.entries)


def test_snapshot_changes_exactly_when_content_changes():
    history = market_history("global")
    changed = 0
    for earlier, later in zip(history.days[:60], history.days[1:61]):
        a, b = playlist_content(GLOBAL, earlier), playlist_content(GLOBAL, later)
        same_content = [(e.kind, e.track.track_id, e.added_on) for e in a.entries] == [
            (e.kind, e.track.track_id, e.added_on) for e in b.entries
        ]
        assert (a.snapshot_id == b.snapshot_id) == same_content
        changed += not same_content
    assert changed > 50  # a real chart moves almost every day
    # Deterministic, and different for another playlist.
    day = history.days[5]
    assert playlist_content.__wrapped__(GLOBAL, day).snapshot_id == playlist_content(GLOBAL, day).snapshot_id
    assert playlist_content(build_playlists()[1], day).snapshot_id != playlist_content(GLOBAL, day).snapshot_id


def _brute_force_run_starts(days, on_chart, day):
    """Walk back from ``day`` while each track was on the previous data day's chart."""
    starts = {}
    for track_id in on_chart[day]:
        index = days.index(day)
        while index > 0 and track_id in on_chart[days[index - 1]]:
            index -= 1
        starts[track_id] = days[index]
    return starts


@pytest.mark.parametrize("label", ["global", "jp"])
def test_added_at_is_the_start_of_the_tracks_current_run(label):
    playlist = next(p for p in build_playlists() if p.market == label)
    days = market_history(label).days
    on_chart = {d: {t.track_id for t in chart} for d, chart in catalog.load_market(label).items()}
    for day in days[::37]:
        expected = _brute_force_run_starts(days, on_chart, day)
        for entry in playlist_content(playlist, day).entries:
            assert entry.added_on == expected[entry.track.track_id]
    # A run survives a missing day: the day after the gap continues it.
    after_gap = MISSING_DAY + timedelta(days=1)
    entries = playlist_content(playlist, after_gap).entries
    kept = {t.track_id for t in catalog.chart_on(label, MISSING_DAY)}
    assert any(e.added_on < MISSING_DAY for e in entries if e.track.track_id in kept)


def test_anomalies_replace_entries_and_keep_every_other_position():
    day = date(2023, 8, 1)
    plain = playlist_content(GLOBAL, day)
    anomalies = Anomalies(null_positions=(1,), episode_positions=(2,), local_positions=(3,), unavailable_positions=(50,))
    odd = playlist_content(GLOBAL, day, anomalies)
    assert [e.kind for e in odd.entries[:3]] == [KIND_NULL, KIND_EPISODE, KIND_LOCAL]
    assert odd.entries[49].kind == KIND_UNAVAILABLE and odd.entries[49].track == plain.entries[49].track
    assert odd.entries[2].track == plain.entries[2].track  # the local file is of the replaced track
    assert odd.entries[0].track is None and odd.entries[1].track is None
    assert [e.track for e in odd.entries[3:49]] == [e.track for e in plain.entries[3:49]]
    assert len(odd.entries) == 50
    assert odd.snapshot_id != plain.snapshot_id
    assert playlist_content(GLOBAL, day, Anomalies()).snapshot_id == plain.snapshot_id


def test_long_playlist_appends_distinct_earlier_tracks_and_short_cuts():
    day = date(2024, 1, 10)
    plain = playlist_content(GLOBAL, day)
    long = playlist_content(GLOBAL, day, Anomalies(length=120))
    assert len(long.entries) == 120
    assert ids(long)[:50] == ids(plain)
    assert len(set(ids(long))) == 120  # fillers repeat neither the chart nor each other
    assert all(e.added_on <= day for e in long.entries)
    assert long.snapshot_id != plain.snapshot_id
    assert ids(playlist_content(GLOBAL, day, Anomalies(length=10))) == ids(plain)[:10]
    # Filling works on the very first day too (it takes tracks from later days).
    assert len(playlist_content(GLOBAL, catalog.FIRST_DATE, Anomalies(length=120)).entries) == 120


@pytest.mark.parametrize(
    "data, problem",
    [
        ({"null_positions": [0]}, "outside"),
        ({"null_positions": [51]}, "outside"),
        ({"null_positions": [3], "local_positions": [3]}, "two anomalies"),
        ({"null_positions": "3"}, "list of integers"),
        ({"length": -1}, "length"),
        ({"length": 10_001}, "length"),
        ({"sideways": [1]}, "unknown"),
        ({"poison": {"3": "sour"}}, "not one of"),
        ({"poison": {"x": "added_at_garbage"}}, "not a positive integer"),
        ({"poison": ["added_at_garbage"]}, "must map positions"),
        ({"poison": {"51": "added_at_garbage"}}, "outside"),
        ({"poison": {"4": "added_at_garbage"}, "null_positions": [4]}, "two anomalies"),
        ({"loop_next": "yes"}, "loop_next"),
    ],
)
def test_bad_anomalies_are_refused(data, problem):
    with pytest.raises(ReplayError, match=problem):
        Anomalies.from_json(data)


def test_a_playlist_of_ten_thousand_entries_repeats_the_market_s_tracks_once_all_have_come():
    day = date(2024, 1, 10)
    plain = playlist_content(GLOBAL, day)
    huge = playlist_content(GLOBAL, day, Anomalies(length=10_000))
    assert len(huge.entries) == 10_000 and ids(huge)[:50] == ids(plain)
    distinct = len(set(ids(huge)))
    assert 500 < distinct < 10_000  # the global chart's whole history, then again in the same order
    assert ids(huge)[distinct:2 * distinct - 50] == ids(huge)[50:distinct]


def test_poison_and_a_looping_next_are_anomalies_too():
    day = date(2023, 8, 1)
    plain = playlist_content(GLOBAL, day)
    anomalies = Anomalies.from_json({"poison": {"7": "added_at_garbage", "2": "entry_not_object"}, "loop_next": True})
    assert anomalies.poison == ((2, "entry_not_object"), (7, "added_at_garbage"))
    assert anomalies.to_json()["poison"] == {"2": "entry_not_object", "7": "added_at_garbage"}
    odd = playlist_content(GLOBAL, day, anomalies)
    assert [odd.entries[i].kind for i in (1, 6)] == [f"{KIND_POISON}:entry_not_object", f"{KIND_POISON}:added_at_garbage"]
    assert odd.entries[6].track == plain.entries[6].track  # a poisoned entry is still the chart's track
    assert odd.snapshot_id != plain.snapshot_id and odd.loop_next
    # A looping next is not content: the snapshot is what the entries make it.
    assert playlist_content(GLOBAL, day, Anomalies(loop_next=True)).snapshot_id == plain.snapshot_id


def test_anomalies_allow_positions_of_a_long_playlist():
    anomalies = Anomalies.from_json({"episode_positions": [101], "length": 120})
    assert anomalies.replaced_kinds() == {101: KIND_EPISODE}


class FakeTime:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_clock_moves_only_when_told_at_speed_zero():
    fake = FakeTime()
    clock = SimulatedClock(date(2024, 1, 1), 0, now=fake)
    fake.now += 10_000
    assert clock.today() == date(2024, 1, 1)
    assert clock.advance(3) == date(2024, 1, 4)
    clock.set_date(date(2023, 6, 1))
    assert clock.today() == date(2023, 6, 1)
    with pytest.raises(ReplayError):
        clock.set_date(date(2020, 1, 1))
    with pytest.raises(ReplayError):
        clock.advance(-1000)
    assert clock.today() == date(2023, 6, 1)


def test_clock_with_speed_advances_whole_days():
    fake = FakeTime()
    clock = SimulatedClock(date(2024, 1, 1), 2.0, now=fake)  # 2 simulated days per second
    fake.now += 1.4
    assert clock.today() == date(2024, 1, 3)
    clock.set_speed(0)
    fake.now += 100
    assert clock.today() == date(2024, 1, 3)
    with pytest.raises(ReplayError):
        clock.set_speed(-1)


def test_the_simulated_instant_is_always_on_the_simulated_day():
    fake = FakeTime()
    clock = SimulatedClock(date(2024, 3, 12), 0, now=fake)
    assert clock.now().isoformat() == "2024-03-12T00:00:00+00:00"  # a day starts at midnight UTC
    fake.now += 4.5
    assert clock.now().isoformat() == "2024-03-12T00:00:04.500000+00:00"  # its time runs at real speed
    clock.advance(1)
    assert clock.now().isoformat() == "2024-03-13T00:00:00+00:00"  # the next day starts at midnight again
    fake.now += 2 * 86_400  # a day that lasts longer than a day stays on its date
    assert clock.now().date() == clock.today() == date(2024, 3, 13)
    fast = SimulatedClock(date(2024, 1, 1), 2.0, now=fake)  # 2 simulated days per second
    fake.now += 0.75
    assert fast.now().isoformat() == "2024-01-02T12:00:00+00:00" and fast.today() == date(2024, 1, 2)


def test_the_data_says_which_days_have_no_chart():
    history = market_history("global")
    assert not history.has_chart(MISSING_DAY) and history.has_chart(MISSING_DAY - timedelta(days=1))
    assert not history.has_chart(catalog.LAST_DATE + timedelta(days=1))
