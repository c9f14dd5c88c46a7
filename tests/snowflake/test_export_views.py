"""The chart views over imported chart exports (origin 'chart_export'), on hand-built files
with exact expected rows: streams, a corrected file that replaces the one held for its
date in every view, a weekly chart's editions and missing weeks, artists named only by
their credited string.

Daily chart X (alias 'regional-xx-daily'), one file a date, each read once by the import:
  2024-05-01  A B C      streams 300 200 100
  2024-05-02  B A D      (first import: 'x2'), then a corrected file 'x2fix': A B D,
              imported later: it is the chart of 2024-05-02 in every view
  2024-05-03  no file (a gap)
  2024-05-04  A D E
Weekly chart W (alias 'regional-xx-weekly'): files dated 2024-05-02, 05-09 and 05-30
(two weeks missing between the last two).
"""
from __future__ import annotations

import os
import uuid
from datetime import date

import pytest

from glue_streaming.curated import CHART_ENTRIES_DATASET, CHART_OBSERVATIONS_DATASET
from localdev.local_snowflake.engine import local_environ
from localdev.local_snowflake.loader import CuratedLoader
from snowflake.charts import connection
from snowflake.charts.migrate import default_variables, migrate
from tests.snowflake.builders import entry, load_rows, observation_row, query

DAILY, WEEKLY = "regional-xx-daily", "regional-xx-weekly"
CREDITS = {"A": ("Ana, Bo & Co",), "B": ("Bea",), "C": ("Cy",), "D": ("Ana, Bo & Co",), "E": ("Eve",)}
# (chart, snapshot, chart date, imported at, tracks, streams)
FILES = [
    (DAILY, "x1", "2024-05-01", "2024-06-01 10:00", "ABC", (300, 200, 100)),
    (DAILY, "x2", "2024-05-02", "2024-06-01 10:00", "BAD", (250, 240, 90)),
    (DAILY, "x4", "2024-05-04", "2024-06-01 10:00", "ADE", (400, 150, 50)),
    (DAILY, "x2fix", "2024-05-02", "2024-06-02 09:00", "ABD", (260, 230, 95)),  # the correction, a day later
    (WEEKLY, "w1", "2024-05-02", "2024-06-01 10:00", "AB", (2000, 1000)),
    (WEEKLY, "w2", "2024-05-09", "2024-06-01 10:00", "BC", (1800, 900)),
    (WEEKLY, "w5", "2024-05-30", "2024-06-01 10:00", "AC", (2100, 800)),
]
D1, D2, D4 = date(2024, 5, 1), date(2024, 5, 2), date(2024, 5, 4)


def export_rows(chart, snapshot, chart_date, imported, tracks, streams):
    entries = [entry(chart, snapshot, imported, n + 1, track, CREDITS[track], origin="chart_export",
                     chart_date=date.fromisoformat(chart_date), artist_ids=[None], streams=count,
                     playlist_id=chart, chart_label=chart, poll_id=f"import-{snapshot}")
               for n, (track, count) in enumerate(zip(tracks, streams))]
    observation = {**observation_row(chart, snapshot, imported, poll=f"import-{snapshot}", chart_date=chart_date,
                                     entry_count=len(tracks)),
                   "origin": "chart_export", "playlist_id": chart, "chart_label": chart}
    return entries, observation


@pytest.fixture(scope="module")
def exports(engine_url, tmp_path_factory):
    """One migrated database holding the files above, loaded in the order imported."""
    environ = {**os.environ, **local_environ(engine_url), "SNOWFLAKE_DATABASE": f"EXPORTS_{uuid.uuid4().hex[:8]}"}
    with connection.connect(environ) as db:
        migrate(db, local=True, variables=default_variables(environ))
        loader = CuratedLoader(db, tmp_path_factory.mktemp("stage"))
        for index, file in enumerate(FILES):
            entries, observation = export_rows(*file)
            load_rows(loader, CHART_ENTRIES_DATASET, entries, f"entries-{index}.parquet")
            load_rows(loader, CHART_OBSERVATIONS_DATASET, [observation], f"observations-{index}.parquet")
        yield db


def test_daily_chart_holds_streams_and_the_corrected_file(exports):
    rows = query(exports, """
        SELECT chart_date, position, track_name, streams, previous_position, change, status, missing_days
        FROM daily_chart WHERE chart_label = %s ORDER BY chart_date, position""", DAILY)
    assert rows == [
        (D1, 1, "A", 300, None, None, "NEW", None),
        (D1, 2, "B", 200, None, None, "NEW", None),
        (D1, 3, "C", 100, None, None, "NEW", None),
        (D2, 1, "A", 260, 1, 0, "SAME", 0),  # the corrected file, not 'x2' (B A D)
        (D2, 2, "B", 230, 2, 0, "SAME", 0),
        (D2, 3, "D", 95, None, None, "NEW", 0),
        (D4, 1, "A", 400, 1, 0, "SAME", 1),  # 05-03 has no file: a gap, not a chart
        (D4, 2, "D", 150, 3, 1, "UP", 1),
        (D4, 3, "E", 50, None, None, "NEW", 1),
    ]
    assert query(exports, "SELECT chart_date, track_name, last_position FROM daily_chart_exits "
                          "WHERE chart_label = %s ORDER BY chart_date", DAILY) == [(D2, "C", 3), (D4, "B", 2)]


def test_the_replaced_file_is_no_edition_in_any_view(exports):
    snapshots = query(exports, "SELECT snapshot_id, previous_snapshot_id FROM snapshot_chart_exits "
                               "WHERE chart_label = %s ORDER BY observed_at, chart_date", DAILY)
    assert {s for s, _ in snapshots} | {p for _, p in snapshots} <= {"x1", "x2fix", "x4"}
    assert query(exports, "SELECT DISTINCT snapshot_id FROM snapshot_chart WHERE chart_label = %s "
                          "ORDER BY 1", DAILY) == [("x1",), ("x2fix",), ("x4",)]
    assert query(exports, "SELECT COUNT(*) FROM chart_editions WHERE chart_label = %s AND snapshot_id = 'x2'",
                 DAILY) == [(0,)]
    stats = query(exports, """
        SELECT track_name, entry_date, peak_position, days_on_chart, last_chart_date, last_position, total_streams
        FROM track_chart_stats WHERE chart_label = %s ORDER BY track_name""", DAILY)
    assert stats == [
        ("A", D1, 1, 3, D4, 1, 300 + 260 + 400),  # x2's 240 is not counted: it was replaced
        ("B", D1, 2, 2, D2, 2, 200 + 230),
        ("C", D1, 3, 1, D1, 3, 100),
        ("D", D2, 2, 2, D4, 2, 95 + 150),
        ("E", D4, 3, 1, D4, 3, 50),
    ]


def test_a_weekly_chart_has_one_edition_per_file_and_misses_weeks_not_days(exports):
    editions = query(exports, "SELECT chart_date, previous_chart_date, missing_days FROM chart_editions "
                              "WHERE grain = 'day' AND chart_label = %s ORDER BY chart_date", WEEKLY)
    assert editions == [(D2, None, None), (date(2024, 5, 9), D2, 0), (date(2024, 5, 30), date(2024, 5, 9), 14)]
    rows = query(exports, "SELECT chart_date, track_name, status, streams FROM daily_chart "
                          "WHERE chart_label = %s ORDER BY chart_date, position", WEEKLY)
    assert rows == [(D2, "A", "NEW", 2000), (D2, "B", "NEW", 1000),
                    (date(2024, 5, 9), "B", "UP", 1800), (date(2024, 5, 9), "C", "NEW", 900),
                    (date(2024, 5, 30), "A", "RE-ENTRY", 2100), (date(2024, 5, 30), "C", "SAME", 800)]


def test_artists_of_an_export_are_their_credited_names(exports):
    rows = query(exports, """
        SELECT artist_name, artist_id, tracks_on_chart, best_position FROM daily_artist_counts
        WHERE chart_label = %s AND chart_date = %s ORDER BY artist_name""", DAILY, D4)
    # 'Ana, Bo & Co' is one credit (the file's artist_names, not split at its comma), on two tracks.
    assert rows == [("Ana, Bo & Co", None, 2, 1), ("Eve", None, 1, 3)]
    stats = query(exports, "SELECT artist_name, distinct_tracks, days_on_chart FROM artist_chart_stats "
                           "WHERE chart_label = %s ORDER BY artist_name", DAILY)
    assert stats == [("Ana, Bo & Co", 2, 3), ("Bea", 1, 2), ("Cy", 1, 1), ("Eve", 1, 1)]
