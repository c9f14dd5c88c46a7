"""The CSV truth itself, on a small hand-made file and on facts of the real data."""
from __future__ import annotations

import gzip
from datetime import date

import pytest

from benchmarks.truth.csv_charts import DATA_DIR, MARKET_FILES, Mover, Row, TrackStats, market_truth, read_days
from benchmarks.truth.compare import check_keys, view_key

HEADER = "date,position,song,artist,popularity,duration_ms,album_type,total_tracks,release_date,is_explicit,album_cover_url"
A, B, C, D, E = (("A", "X"), ("B", "X & Y"), ("C, \"quoted\"", "Z"), ("D", "Z"), ("E", "W"))
# Jan 1: A B C D; Jan 2 unchanged; Jan 3 missing; Jan 4: B A C(twice: 3 and 5) E; Jan 5: D A B C
DAYS = {
    "2024-01-01": [A, B, C, D],
    "2024-01-02": [A, B, C, D],
    "2024-01-04": [B, A, C, E, C],
    "2024-01-05": [D, A, B, C],
}
D1, D2, D4, D5 = date(2024, 1, 1), date(2024, 1, 2), date(2024, 1, 4), date(2024, 1, 5)


@pytest.fixture
def small(tmp_path):
    lines = [HEADER]
    for day, tracks in DAYS.items():
        for position, (song, artist) in enumerate(tracks, start=1):
            quoted = '"' + song.replace('"', '""') + '"' if "," in song else song
            lines.append(f"{day},{position},{quoted},{artist},80,180000,single,1,2023-01-01,False,http://x")
    with gzip.open(tmp_path / f"spotify-streaming-top-50-{MARKET_FILES['us']}.csv.gz", "wt", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return market_truth("us", D1, D5, tmp_path)


def test_charts_skip_the_gap_and_keep_unchanged_days(small):
    assert [(c.day, c.previous_day, c.missing_days) for c in small.charts] == [
        (D1, None, None), (D2, D1, 0), (D4, D2, 1), (D5, D4, 0)]
    assert small.charts[1].rows == tuple(Row(p, t, p, 0, "SAME") for p, t in enumerate([A, B, C, D], start=1))
    assert small.charts[1].exits == () and small.charts[1].movers == ()


def test_a_track_listed_twice_counts_once_at_its_best_position(small):
    jan4 = small.charts[2]
    assert jan4.rows == (Row(1, B, 2, 1, "UP"), Row(2, A, 1, -1, "DOWN"), Row(3, C, 3, 0, "SAME"),
                         Row(4, E, None, None, "NEW"))
    assert jan4.exits == ((4, D),)  # across the gap: D left, compared with Jan 2
    assert jan4.movers == (Mover("CLIMBER", 1, B, 2, 1, 1), Mover("FALLER", 1, A, 1, 2, -1))


def test_re_entries_exits_and_tied_movers(small):
    jan5 = small.charts[3]
    assert jan5.rows == (Row(1, D, None, None, "RE-ENTRY"), Row(2, A, 2, 0, "SAME"), Row(3, B, 1, -2, "DOWN"),
                         Row(4, C, 3, -1, "DOWN"))
    assert jan5.exits == ((4, E),)
    assert jan5.movers == (Mover("FALLER", 1, B, 1, 3, -2), Mover("FALLER", 2, C, 3, 4, -1))


def test_track_stats(small):
    assert small.stats[A] == TrackStats(D1, 1, 1, D1, 2, 4, D5, 2)
    assert small.stats[B] == TrackStats(D1, 2, 1, D4, 1, 4, D5, 3)
    assert small.stats[C] == TrackStats(D1, 3, 3, D1, 3, 4, D5, 4)
    assert small.stats[D] == TrackStats(D1, 4, 1, D5, 1, 3, D5, 1)
    assert small.stats[E] == TrackStats(D4, 4, 4, D4, 1, 1, D4, 4)


def test_facts_of_the_real_data():
    days = read_days(DATA_DIR / "spotify-streaming-top-50-japan.csv.gz")
    assert len(days) == 556 and date(2024, 3, 14) not in days
    assert len(days[date(2023, 11, 30)]) == 49  # a song listed twice counts once
    for label in MARKET_FILES:
        truth = market_truth(label, date(2024, 3, 1), date(2024, 3, 21))
        assert [c.day for c in truth.charts if c.missing_days] == [date(2024, 3, 15)]  # after the gap
        assert any(all(r.status == "SAME" for r in c.rows) for c in truth.charts[1:])  # an unchanged day
        check_keys(truth)
    assert view_key(("Song", "Calcutta ")) == ("Song", "Calcutta")
