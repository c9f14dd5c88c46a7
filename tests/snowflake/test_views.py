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

The history above has entries only (as contract version 1 recorded it): each snapshot's
first sighting is its read. Playlist R (further below) is read by observations too: days
on which the chart did not change, a gap, a read whose entries never arrived, and a chart
whose source stated its date.
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
from glue_streaming.curated import CHART_OBSERVATIONS_DATASET
from tests.snowflake.builders import entry, load_rows, observation_row, query


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


# -- days built from observations ---------------------------------------------------------
#   r1 entries     2024-02-01 12:00  A B C D
#   r1 observed    2024-02-01 12:00, 2024-02-02 06:00 (unchanged), 2024-02-04 06:00 (unchanged)
#                  2024-02-03        no read: a gap
#   r1 observed    2024-02-07 09:00 with chart_date 2024-01-31 (an export of Jan 31, read later)
#   r2 entries     2024-02-05 06:00  B A E C (+ its observation)
#   r3 observed    2024-02-06 06:00, entries never loaded: no chart that day
#   r4 entries     2024-02-08 06:00  2 of its 4 (the others not loaded yet): no chart that day
R0, R1, R2, R4, R5 = (date(2024, 1, 31), date(2024, 2, 1), date(2024, 2, 2), date(2024, 2, 4),
                      date(2024, 2, 5))


@pytest.fixture(scope="module")
def observed(engine_url, tmp_path_factory):
    environ = {**os.environ, **local_environ(engine_url), "SNOWFLAKE_DATABASE": f"OBS_{uuid.uuid4().hex[:8]}"}
    with connection.connect(environ) as db:
        migrate(db, local=True, variables=default_variables(environ))
        loader = CuratedLoader(db, tmp_path_factory.mktemp("stage"))
        entries = [entry("R", "r1", "2024-02-01 12:00", i + 1, t, ARTISTS[t]) for i, t in enumerate("ABCD")]
        entries += [entry("R", "r2", "2024-02-05 06:00", i + 1, t, ARTISTS[t]) for i, t in enumerate("BAEC")]
        entries += [entry("R", "r4", "2024-02-08 06:00", i + 1, t, ARTISTS[t]) for i, t in enumerate("EB")]
        load_rows(loader, CHART_ENTRIES_DATASET, entries, "entries.parquet")
        observations = [observation_row("R", "r1", observed) for observed in (
            "2024-02-01 12:00", "2024-02-02 06:00", "2024-02-04 06:00")]
        observations += [observation_row("R", "r1", "2024-02-07 09:00", chart_date="2024-01-31", poll="export"),
                         observation_row("R", "r2", "2024-02-05 06:00"),
                         observation_row("R", "r3", "2024-02-06 06:00"),
                         observation_row("R", "r4", "2024-02-08 06:00", entry_count=4)]
        load_rows(loader, CHART_OBSERVATIONS_DATASET, observations, "observations.parquet")
        yield db


def test_every_day_with_a_read_has_a_chart_and_only_those(observed):
    rows = query(observed, """
        SELECT chart_date, snapshot_id, previous_chart_date, missing_days FROM chart_editions
        WHERE grain = 'day' AND chart_label = 'R' ORDER BY edition_no""")
    assert rows == [
        (R0, "r1", None, None),  # the export's stated date, though read a week later
        (R1, "r1", R0, 0),
        (R2, "r1", R1, 0),  # unchanged: the snapshot in force
        (R4, "r1", R2, 1),  # Feb 3 had no read: a gap, flagged
        (R5, "r2", R4, 0),
        # Feb 6: r3's entries never arrived, so its read is left out (no empty chart);
        # Feb 8: r4 has 2 of its 4 entries so far: left out too (no cut chart).
    ]
    snapshots = query(observed, "SELECT snapshot_id, chart_date FROM chart_editions "
                                "WHERE grain = 'snapshot' AND chart_label = 'R' ORDER BY edition_no")
    assert snapshots == [("r1", R1), ("r2", R5), ("r4", date(2024, 2, 8))]


def test_unchanged_days_repeat_the_chart_and_nobody_moves_across_a_gap(observed):
    rows = query(observed, """
        SELECT chart_date, position, track_name, previous_position, change, status
        FROM daily_chart WHERE chart_label = 'R' ORDER BY chart_date, position""")
    expected = [(R0, p, t, None, None, "NEW") for p, t in enumerate("ABCD", start=1)]
    for day in (R1, R2, R4):
        expected += [(day, p, t, p, 0, "SAME") for p, t in enumerate("ABCD", start=1)]
    expected += [(R5, 1, "B", 2, 1, "UP"), (R5, 2, "A", 1, -1, "DOWN"), (R5, 3, "E", None, None, "NEW"),
                 (R5, 4, "C", 3, -1, "DOWN")]
    assert rows == expected
    exits = query(observed, "SELECT chart_date, track_name, last_position, missing_days FROM daily_chart_exits "
                            "WHERE chart_label = 'R'")
    assert exits == [(R5, "D", 4, 0)]


def test_track_stats_count_unchanged_days_and_not_gaps(observed):
    rows = query(observed, """
        SELECT track_name, entry_date, entry_position, peak_position, peak_date, days_at_peak,
               days_on_chart, last_chart_date, last_position, current_streak, current_streak_since,
               current_streak_missing_days
        FROM track_chart_stats WHERE chart_label = 'R' ORDER BY track_name""")
    assert rows == [
        ("A", R0, 1, 1, R0, 4, 5, R5, 2, 5, R0, 1),
        ("B", R0, 2, 1, R5, 1, 5, R5, 1, 5, R0, 1),
        ("C", R0, 3, 3, R0, 4, 5, R5, 4, 5, R0, 1),
        ("D", R0, 4, 4, R0, 4, 4, R4, 4, 0, None, 0),
        ("E", R5, 3, 3, R5, 1, 1, R5, 3, 1, R5, 0),
    ]
    movers = query(observed, "SELECT chart_date, direction, mover_rank, track_name FROM daily_biggest_movers "
                             "WHERE chart_label = 'R' ORDER BY direction, track_name")
    assert movers == [(R5, "CLIMBER", 1, "B"), (R5, "FALLER", 1, "A"), (R5, "FALLER", 1, "C")]
