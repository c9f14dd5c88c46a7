"""The chart-intelligence truth itself, on hand-made exports whose records, spread and
lead-lag were worked out by hand (tests/truth/hand_exports.py), and the shifted markets."""
from __future__ import annotations

from dataclasses import astuple
from datetime import date

import pytest

from benchmarks.shifted_markets import ShiftedMarket, write_shifted
from benchmarks.truth.chart_exports import read_exports
from benchmarks.truth.intelligence import intelligence_of_files
from tests.truth.hand_exports import (EXPECTED_LEAD_LAG, EXPECTED_RECORDS, EXPECTED_SPREAD, GLOBAL, X, XA, XB,
                                      track_id, write_export, write_market_charts, write_record_charts)


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    return intelligence_of_files(write_record_charts(tmp_path_factory.mktemp("records")))


@pytest.fixture(scope="module")
def markets(tmp_path_factory):
    return intelligence_of_files(write_market_charts(tmp_path_factory.mktemp("markets")))


def test_records_keep_every_tie_and_follow_the_run_rules(records):
    assert {astuple(r) for r in records.records} == EXPECTED_RECORDS


def test_spread_counts_country_charts_only(markets):
    assert {track: astuple(s) for track, s in markets.spread.items()} == EXPECTED_SPREAD
    assert track_id("T7") not in markets.spread  # on Global only


def test_lead_lag_counts_entries_after_each_first_edition(markets):
    got = {pair: astuple(value) for pair, value in markets.lead_lag.items()}
    assert got.keys() == EXPECTED_LEAD_LAG.keys()
    for pair, want in EXPECTED_LEAD_LAG.items():
        assert got[pair] == pytest.approx(want), pair


def test_grid_and_number_ones_hold_every_chart(records, markets):
    assert records.number_ones[X, date(2024, 1, 5)] == (track_id("B"), 400)
    assert (X, date(2024, 1, 3)) not in records.number_ones  # no file that date: no chart
    assert markets.grid[track_id("T4"), GLOBAL, date(2024, 2, 1)] == (1, 400)  # Global is in the grid
    assert markets.grid[track_id("T5"), XA, date(2024, 2, 5)] == (1, 400)
    assert len(markets.grid) == 10 + 8 + 5 + 2 + 3  # every entry of xa, xb, xc, xd and Global


def test_a_chart_without_streams_holds_no_streams_record(tmp_path):
    for day in ("2024-03-01", "2024-03-02"):
        path = write_export(tmp_path, "viral-xa-daily", day, ["A", "B"])
        lines = path.read_text(encoding="utf-8-sig").splitlines()  # a viral chart: no streams column
        path.write_text("\n".join(line.rsplit(",", 1)[0] for line in lines) + "\n", encoding="utf-8")
    held = {r.record for r in intelligence_of_files(tmp_path).records}
    assert held == {"longest_run_at_number_one", "most_days_at_number_one", "most_days_in_top_10"}


def test_shifted_markets_are_real_files_renamed_and_redated(tmp_path):
    sources = write_market_charts(tmp_path / "real")
    market = ShiftedMarket("regional-xz-daily", XA, 3, skip=(date(2024, 2, 2),))
    written = write_shifted([market], [sources], tmp_path / "shifted")
    charts = read_exports(tmp_path / "shifted")["regional-xz-daily"]
    real = read_exports(sources)[XA]
    assert sorted(charts) == [date(2024, 2, 4), date(2024, 2, 6), date(2024, 2, 7), date(2024, 2, 8)]
    assert charts[date(2024, 2, 4)] == real[date(2024, 2, 1)]
    assert (tmp_path / "shifted" / "regional-xz-daily-2024-02-04.csv").read_bytes() == \
        (sources / f"{XA}-2024-02-01.csv").read_bytes()
    assert len(written) == 4 and "shifted +3 days" in market.label and XB not in market.label
