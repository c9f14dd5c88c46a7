"""The chart-intelligence views (R__chart_views_intelligence.sql) on the local engine, against
truth computed from the CSV files alone (benchmarks/truth/intelligence.py):

- hand-made exports whose records, spread and lead-lag were worked out by hand
  (tests/truth/hand_exports.py): the views hold exactly those rows;
- the bundled window (localdev/data/chart-exports-2024-05.zip: May 2024 of Argentina and
  Global, 3 weekly Global files) with three markets made from it by shifting dates (see
  SHIFTED): every view equals the truth, row for row.

Exports go in through localdev.local_snowflake.exports (contract records -> the Glue
job's line reader -> curated Parquet -> the pipes' COPY and the task's MERGE).
"""
from __future__ import annotations

import os
import uuid
from dataclasses import astuple
from datetime import date
from pathlib import Path

import pytest

from benchmarks.shifted_markets import ShiftedMarket, write_shifted
from benchmarks.truth.compare_intelligence import VIEWS, compare_intelligence, view_lead_lag, view_spread
from benchmarks.truth.intelligence import intelligence_of_files
from localdev.local_snowflake.engine import local_environ
from localdev.local_snowflake.exports import load_exports
from snowflake.charts import connection
from snowflake.charts.migrate import default_variables, migrate
from tests.snowflake.builders import query
from tests.truth.hand_exports import (EXPECTED_LEAD_LAG, EXPECTED_RECORDS, EXPECTED_SPREAD, write_market_charts,
                                      write_record_charts)

BUNDLE = Path(__file__).resolve().parents[2] / "localdev" / "data" / "chart-exports-2024-05.zip"
AR, GLOBAL = "regional-ar-daily", "regional-global-daily"
SHIFTED = [  # made-up markets (ISO user-assigned codes), so that spread and lead-lag measure something
    ShiftedMarket("regional-xa-daily", AR, 3, skip=(date(2024, 5, 10), date(2024, 5, 20))),
    ShiftedMarket("regional-xb-daily", GLOBAL, -2),
    ShiftedMarket("regional-xc-daily", AR, -1, skip=tuple(date(2024, 5, d) for d in range(1, 6))),
]


def loaded_database(engine_url: str, stage: Path, *paths: Path):
    """A fresh migrated database on the local engine holding the exports under ``paths``."""
    environ = {**os.environ, **local_environ(engine_url), "SNOWFLAKE_DATABASE": f"INTEL_{uuid.uuid4().hex[:8]}"}
    db = connection.connect(environ)
    migrate(db, local=True, variables=default_variables(environ))
    load_exports(db, paths, stage)
    return db


@pytest.fixture(scope="module")
def hand_made(engine_url, tmp_path_factory):
    """The hand-made record charts and market charts, each in a database of its own."""
    records = write_record_charts(tmp_path_factory.mktemp("records"))
    markets = write_market_charts(tmp_path_factory.mktemp("markets"))
    stages = tmp_path_factory.mktemp("stage-records"), tmp_path_factory.mktemp("stage-markets")
    with loaded_database(engine_url, stages[0], records) as records_db, \
            loaded_database(engine_url, stages[1], markets) as markets_db:
        yield {"records": (records_db, records, stages[0]), "markets": (markets_db, markets, stages[1])}


@pytest.fixture(scope="module")
def bundled(engine_url, tmp_path_factory):
    """The bundled window, then (a second load, of the same dates too) the shifted markets
    made from it; yields (database, paths)."""
    shifted = tmp_path_factory.mktemp("shifted")
    write_shifted(SHIFTED, [BUNDLE], shifted)
    stage = tmp_path_factory.mktemp("stage")
    with loaded_database(engine_url, stage, BUNDLE) as db:
        assert load_exports(db, [shifted], stage) == 200 * (31 - 2 + 31 + 31 - 5)
        yield db, (BUNDLE, shifted)


def assert_views_equal_the_truth(db, *paths: Path) -> None:
    comparisons = compare_intelligence(db, intelligence_of_files(*paths))
    assert [c.view for c in comparisons] == list(VIEWS)
    assert all(c.ok for c in comparisons), "\n".join(c.line() + "\n  " + "\n  ".join(c.differences)
                                                     for c in comparisons if not c.ok)


def test_records_view_holds_the_records_worked_out_by_hand(hand_made):
    db, files, _ = hand_made["records"]
    rows = query(db, "SELECT chart_label, record, track_id, value, from_date, to_date FROM chart_records")
    assert len(rows) == len(EXPECTED_RECORDS)
    assert set(rows) == EXPECTED_RECORDS
    assert_views_equal_the_truth(db, files)


def test_spread_and_lead_lag_views_hold_what_was_worked_out_by_hand(hand_made):
    db, files, _ = hand_made["markets"]
    assert {track: astuple(s) for track, s in view_spread(db).items()} == EXPECTED_SPREAD
    got = {pair: astuple(value) for pair, value in view_lead_lag(db).items()}
    assert got.keys() == EXPECTED_LEAD_LAG.keys()
    for pair, want in EXPECTED_LEAD_LAG.items():
        assert got[pair] == pytest.approx(want), pair
    assert_views_equal_the_truth(db, files)


def test_loading_the_same_files_again_changes_no_view(hand_made):
    db, files, stage = hand_made["records"]
    before = {view: sorted(map(repr, query(db, f"SELECT * FROM {view}"))) for view in VIEWS}
    assert load_exports(db, [files], stage) == 0  # the same curated files: the load history skips them
    assert {view: sorted(map(repr, query(db, f"SELECT * FROM {view}"))) for view in VIEWS} == before


def test_every_view_equals_the_truth_of_the_bundled_window(bundled):
    db, paths = bundled
    assert_views_equal_the_truth(db, *paths)
    assert query(db, "SELECT COUNT(*) FROM chart_entries") == [(200 * (31 + 31 + 3) + 200 * (29 + 31 + 26),)]
    # The shifted markets give spread and lead-lag something to measure.
    assert query(db, "SELECT MAX(max_charts) FROM track_spread") == [(4,)]
    pairs = query(db, "SELECT chart_a, chart_b, tracks FROM market_lead_lag WHERE tracks > 0")
    assert len(pairs) == 4 * 3 and min(tracks for _, _, tracks in pairs) > 10


def test_helper_views_agree_with_the_chart_movements(bundled):
    """chart_day_entries and chart_track_entries restate chart_movements' day grain without
    its windows: the same entries, and each track's entry is its NEW row."""
    db, _ = bundled
    assert query(db, """
        SELECT playlist_id, edition_no, chart_date, track_id, position, streams FROM chart_day_entries
        EXCEPT SELECT playlist_id, edition_no, chart_date, track_id, position, streams
        FROM chart_movements WHERE grain = 'day'""") == []
    assert query(db, "SELECT COUNT(*) FROM chart_day_entries") == query(db, "SELECT COUNT(*) FROM daily_chart")
    entries = query(db, "SELECT playlist_id, track_id, entry_date, entry_position FROM chart_track_entries")
    new_rows = query(db, "SELECT playlist_id, track_id, chart_date, position FROM daily_chart WHERE status = 'NEW'")
    assert sorted(entries) == sorted(new_rows) and len(entries) > 1000
