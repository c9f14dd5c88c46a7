"""The chart views on a hand-built history with every status, a gap day, two snapshots
in one day and peak ties; exact expected rows.

Playlist P (positions 1-4; artists: A X, B X & Y, C Y, D Z, E X, F Z):
  s1  2024-01-01 12:00  A B C D (+ a local file at 5: not a track)
  s2a 2024-01-02 08:00  A B C F      (morning snapshot)
  s2b 2024-01-02 20:00  B A C E      (evening: the day's chart)
      2024-01-03        no chart (a gap in the data)
  s4  2024-01-04 12:00  B A E D
  s5  2024-01-05 12:00  A B C E
Playlist Q: q1 2024-01-01 12:00  A
"""
from __future__ import annotations

import os
import uuid
from datetime import date

import pytest

from glue_streaming.curated import CHART_ENTRIES_DATASET
from snowflake.charts import connection
from localdev.local_snowflake.loader import CuratedLoader
from localdev.local_snowflake.engine import local_environ
from snowflake.charts.migrate import default_variables, migrate
from tests.snowflake.builders import entry, load_rows, query


ARTISTS = {"A": ("X",), "B": ("X", "Y"), "C": ("Y",), "D": ("Z",), "E": ("X",), "F": ("Z",)}
SNAPSHOTS = [
    ("P", "s1", "2024-01-01 12:00", "ABCD"),
    ("P", "s2a", "2024-01-02 08:00", "ABCF"),
    ("P", "s2b", "2024-01-02 20:00", "BACE"),
    ("P", "s4", "2024-01-04 12:00", "BAED"),
    ("P", "s5", "2024-01-05 12:00", "ABCE"),
    ("Q", "q1", "2024-01-01 12:00", "A"),
]
D1, D2, D4, D5 = date(2024, 1, 1), date(2024, 1, 2), date(2024, 1, 4), date(2024, 1, 5)


def history_rows(snapshots):
    rows = []
    for playlist, snapshot, observed, tracks in snapshots:
        rows += [entry(playlist, snapshot, observed, i + 1, t, ARTISTS[t]) for i, t in enumerate(tracks)]
    rows.append(entry("P", "s1", "2024-01-01 12:00", 5, None))  # a local file: no track id
    return rows


@pytest.fixture(scope="module")
def charts(engine_url, tmp_path_factory):
    """One migrated database holding the history, loaded in two files, later days first."""
    environ = {**os.environ, **local_environ(engine_url), "SNOWFLAKE_DATABASE": f"VIEWS_{uuid.uuid4().hex[:8]}"}
    with connection.connect(environ) as db:
        migrate(db, local=True, variables=default_variables(environ))
        loader = CuratedLoader(db, tmp_path_factory.mktemp("stage"))
        load_rows(loader, CHART_ENTRIES_DATASET, history_rows(SNAPSHOTS[3:]), "later.parquet")
        load_rows(loader, CHART_ENTRIES_DATASET, history_rows(SNAPSHOTS[:3]), "earlier.parquet")
        yield db


def test_daily_chart_statuses_compare_with_the_previous_available_day(charts):
    rows = query(charts, """
        SELECT chart_date, position, track_name, previous_position, change, status,
               previous_chart_date, missing_days, last_chart_date, last_chart_position
        FROM daily_chart WHERE chart_label = 'P' ORDER BY chart_date, position""")
    assert rows == [
        (D1, 1, "A", None, None, "NEW", None, None, None, None),
        (D1, 2, "B", None, None, "NEW", None, None, None, None),
        (D1, 3, "C", None, None, "NEW", None, None, None, None),
        (D1, 4, "D", None, None, "NEW", None, None, None, None),
        # Jan 2 is the evening snapshot s2b; F was only in the morning one.
        (D2, 1, "B", 2, 1, "UP", D1, 0, D1, 2),
        (D2, 2, "A", 1, -1, "DOWN", D1, 0, D1, 1),
        (D2, 3, "C", 3, 0, "SAME", D1, 0, D1, 3),
        (D2, 4, "E", None, None, "NEW", D1, 0, None, None),
        # Jan 3 is missing: Jan 4 compares with Jan 2 and says so (missing_days 1).
        (D4, 1, "B", 1, 0, "SAME", D2, 1, D2, 1),
        (D4, 2, "A", 2, 0, "SAME", D2, 1, D2, 2),
        (D4, 3, "E", 4, 1, "UP", D2, 1, D2, 4),
        (D4, 4, "D", None, None, "RE-ENTRY", D2, 1, D1, 4),
        (D5, 1, "A", 2, 1, "UP", D4, 0, D4, 2),
        (D5, 2, "B", 1, -1, "DOWN", D4, 0, D4, 1),
        (D5, 3, "C", None, None, "RE-ENTRY", D4, 0, D2, 3),
        (D5, 4, "E", 3, -1, "DOWN", D4, 0, D4, 3),
    ]
    # The other playlist has its own history: A is new there.
    assert query(charts, "SELECT chart_date, position, track_name, status FROM daily_chart "
                         "WHERE chart_label = 'Q'") == [(D1, 1, "A", "NEW")]


def test_daily_exits_never_fall_on_a_missing_day(charts):
    rows = query(charts, """
        SELECT chart_date, track_name, last_position, previous_chart_date, missing_days
        FROM daily_chart_exits WHERE chart_label = 'P' ORDER BY chart_date, last_position""")
    assert rows == [
        (D2, "D", 4, D1, 0),
        (D4, "C", 3, D2, 1),
        (D5, "D", 4, D4, 0),
    ]
    assert query(charts, "SELECT COUNT(*) FROM daily_chart_exits WHERE chart_label = 'Q'") == [(0,)]


def test_snapshot_chart_compares_each_snapshot_with_the_previous_one(charts):
    rows = query(charts, """
        SELECT snapshot_id, position, track_name, previous_position, change, status, previous_snapshot_id
        FROM snapshot_chart WHERE snapshot_id IN ('s2a', 's2b', 's4') ORDER BY observed_at, position""")
    assert rows == [
        ("s2a", 1, "A", 1, 0, "SAME", "s1"),
        ("s2a", 2, "B", 2, 0, "SAME", "s1"),
        ("s2a", 3, "C", 3, 0, "SAME", "s1"),
        ("s2a", 4, "F", None, None, "NEW", "s1"),
        ("s2b", 1, "B", 2, 1, "UP", "s2a"),
        ("s2b", 2, "A", 1, -1, "DOWN", "s2a"),
        ("s2b", 3, "C", 3, 0, "SAME", "s2a"),
        ("s2b", 4, "E", None, None, "NEW", "s2a"),
        ("s4", 1, "B", 1, 0, "SAME", "s2b"),
        ("s4", 2, "A", 2, 0, "SAME", "s2b"),
        ("s4", 3, "E", 4, 1, "UP", "s2b"),
        ("s4", 4, "D", None, None, "RE-ENTRY", "s2b"),
    ]
    exits = query(charts, """
        SELECT snapshot_id, track_name, last_position, previous_snapshot_id FROM snapshot_chart_exits
        WHERE chart_label = 'P' ORDER BY observed_at, last_position""")
    assert exits == [
        ("s2a", "D", 4, "s1"),
        ("s2b", "F", 4, "s2a"),
        ("s4", "C", 3, "s2b"),
        ("s5", "D", 4, "s4"),
    ]


def test_track_stats_entry_peak_days_and_current_streak(charts):
    rows = query(charts, """
        SELECT track_name, entry_date, entry_position, peak_position, peak_date, days_at_peak,
               days_on_chart, last_chart_date, last_position, current_streak, current_streak_since,
               current_streak_missing_days
        FROM track_chart_stats WHERE chart_label = 'P' ORDER BY track_name""")
    assert rows == [
        # Peak ties: A and B were at 1 on two days each; the peak date is the first.
        ("A", D1, 1, 1, D1, 2, 4, D5, 1, 4, D1, 1),
        ("B", D1, 2, 1, D2, 2, 4, D5, 2, 4, D1, 1),
        ("C", D1, 3, 3, D1, 3, 3, D5, 3, 1, D5, 0),
        ("D", D1, 4, 4, D1, 2, 2, D4, 4, 0, None, 0),
        ("E", D2, 4, 3, D4, 1, 3, D5, 4, 3, D2, 1),
        # F was only in a morning snapshot, never on a daily chart.
    ]
    assert query(charts, "SELECT track_name, current_streak, latest_chart_date FROM track_chart_stats "
                         "WHERE chart_label = 'Q'") == [("A", 1, D1)]


def test_biggest_movers_rank_climbers_and_fallers_with_ties(charts):
    rows = query(charts, """
        SELECT chart_date, direction, mover_rank, track_name, previous_position, position, change
        FROM daily_biggest_movers WHERE chart_label = 'P' ORDER BY chart_date, direction, mover_rank, track_name""")
    assert rows == [
        (D2, "CLIMBER", 1, "B", 2, 1, 1),
        (D2, "FALLER", 1, "A", 1, 2, -1),
        (D4, "CLIMBER", 1, "E", 4, 3, 1),
        (D5, "CLIMBER", 1, "A", 2, 1, 1),
        (D5, "FALLER", 1, "B", 1, 2, -1),
        (D5, "FALLER", 1, "E", 3, 4, -1),
    ]


def test_artist_counts_per_day_and_overall(charts):
    daily = query(charts, """
        SELECT chart_date, artist_name, tracks_on_chart, best_position, new_tracks
        FROM daily_artist_counts WHERE chart_label = 'P' AND chart_date IN ('2024-01-01', '2024-01-05')
        ORDER BY chart_date, artist_name""")
    assert daily == [
        (D1, "X", 2, 1, 2),  # A and B (a feature counts for both its artists)
        (D1, "Y", 2, 2, 2),  # B and C
        (D1, "Z", 1, 4, 1),  # D
        (D5, "X", 3, 1, 0),  # A, B, E
        (D5, "Y", 2, 2, 0),  # B, C (C is a re-entry, not new)
    ]
    overall = query(charts, """
        SELECT artist_name, distinct_tracks, days_on_chart, track_days, best_position,
               first_chart_date, last_chart_date
        FROM artist_chart_stats WHERE chart_label = 'P' ORDER BY artist_name""")
    assert overall == [
        ("X", 3, 4, 11, 1, D1, D5),  # A 4 days + B 4 days + E 3 days
        ("Y", 2, 4, 7, 1, D1, D5),   # B 4 days (at 1 on Jan 2 and 4) + C 3 days
        ("Z", 1, 2, 2, 4, D1, D4),   # D 2 days
    ]
