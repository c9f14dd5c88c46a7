"""Chart intelligence computed from charts.spotify.com CSV exports alone: the truth the
views of ``R__chart_views_intelligence.sql`` are checked against (records, spread, the
market grid, #1s, lead-lag).

Independent of every project module on purpose: it takes ``chart_exports``' charts (the
files read with the standard library, ``csv_charts``' movement rules) and applies the
definitions below, which snowflake/README.md states for the views too. Nothing here
knows how many markets there are or which dates they hold.

- EDITIONS: a chart's file dates, in order; the first is all NEW; a date without a file
  is no edition, so it neither breaks a run nor counts as one.
- RECORDS, per chart; a record nothing holds has no row; ties keep every holder (one per
  track; for the one-edition records one per occurrence, i.e. per track and date):
  ``longest_run_at_number_one`` most consecutive editions at #1 (value: editions; dates:
  the run's first and last; of a track's equally long runs, its first);
  ``most_days_at_number_one`` / ``most_days_in_top_10`` editions at #1 / at <= 10 (no
  dates); ``biggest_debut`` the best position of a NEW entry after the first edition
  (from = to = its date); ``biggest_climb`` the largest previous position - position > 0;
  ``most_streams_in_a_day`` the largest streams of one entry (a weekly chart's: a
  week's); ``most_streams_total`` the largest sum of a track's streams (no dates).
- COUNTRY CHARTS: aliases ``regional-<cc>-daily`` with a two-letter <cc> (so not
  ``regional-global-daily``). SPREAD, per track on any: its first date, the charts
  holding it that date (sorted), how many charts ever, the most charts on one date and
  the first such date.
- LEAD-LAG, per ordered pair (A, B) of country charts: over the tracks whose NEW entry on
  each is after that chart's first edition (a RE-ENTRY is no entry), lag = entry date on
  B - entry date on A in days (positive: A first); how many tracks, how many with lag > 0
  and lag = 0, the median and mean lag, and the share with lag > 0. Every ordered pair
  has a value; without such tracks: 0 tracks and None statistics.
- GRID: (track, chart, date) -> (position, streams) of every edition; #1s: (chart, date)
  -> (the track at position 1, its streams).
"""
from __future__ import annotations

import re
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from benchmarks.truth.chart_exports import ExportTruth, all_truths

COUNTRY_CHART = re.compile(r"^regional-[a-z]{2}-daily$")
RECORDS = ("longest_run_at_number_one", "most_days_at_number_one", "most_days_in_top_10", "biggest_debut",
           "biggest_climb", "most_streams_in_a_day", "most_streams_total")


@dataclass(frozen=True)
class ChartRecord:
    chart_label: str
    record: str
    track_id: str
    value: int
    from_date: date | None
    to_date: date | None


@dataclass(frozen=True)
class Spread:
    first_chart_date: date
    first_charts: tuple[str, ...]  # sorted
    charts_total: int
    max_charts: int
    max_charts_date: date


@dataclass(frozen=True)
class LeadLag:
    tracks: int
    a_first_tracks: int
    same_day_tracks: int
    median_lag_days: float | None
    mean_lag_days: float | None
    share_a_first: float | None


@dataclass(frozen=True)
class Intelligence:
    records: tuple[ChartRecord, ...]
    spread: dict[str, Spread]  # by track id
    grid: dict[tuple[str, str, date], tuple[int, int | None]]  # (track, chart, date) -> (position, streams)
    number_ones: dict[tuple[str, date], tuple[str, int | None]]  # (chart, date) -> (track, streams)
    lead_lag: dict[tuple[str, str], LeadLag]  # (chart A, chart B)


# A candidate holder of a record: (score: higher is better, track, value, from, to).
Candidate = tuple[int, str, int, date | None, date | None]


def _editions(truth: ExportTruth) -> list[tuple[int, date, dict[str, object]]]:
    """(edition index, date, track id -> its row) of every edition, in order."""
    return [(index, chart.day, {row.track[0]: row for row in chart.rows}) for index, chart in enumerate(truth.charts)]


def _longest_runs(truth: ExportTruth) -> list[Candidate]:
    """Each track's longest run of consecutive editions at #1 (its first of equal ones)."""
    at_one: dict[str, list[tuple[int, date]]] = defaultdict(list)  # track -> (edition index, date) at #1
    for index, day, rows in _editions(truth):
        for track, row in rows.items():
            if row.position == 1:
                at_one[track].append((index, day))
    candidates = []
    for track, editions in at_one.items():
        runs = [[editions[0]]]
        for edition in editions[1:]:
            if edition[0] == runs[-1][-1][0] + 1:
                runs[-1].append(edition)
            else:
                runs.append([edition])
        longest = max(runs, key=len)  # the first of equally long runs
        candidates.append((len(longest), track, len(longest), longest[0][1], longest[-1][1]))
    return candidates


def _counts(truth: ExportTruth) -> dict[str, list[Candidate]]:
    """The records that count or sum over a track's editions (no dates)."""
    at_one: dict[str, int] = defaultdict(int)
    in_top_10: dict[str, int] = defaultdict(int)
    for _, _, rows in _editions(truth):
        for track, row in rows.items():
            at_one[track] += row.position == 1
            in_top_10[track] += row.position <= 10
    return {
        "most_days_at_number_one": [(n, t, n, None, None) for t, n in at_one.items() if n],
        "most_days_in_top_10": [(n, t, n, None, None) for t, n in in_top_10.items() if n],
        "most_streams_total": [(n, t, n, None, None) for t, n in truth.total_streams.items() if n is not None],
    }


def _one_edition_records(truth: ExportTruth) -> dict[str, list[Candidate]]:
    """The records one entry holds: debut, climb, streams in a day (with its date)."""
    found: dict[str, list[Candidate]] = defaultdict(list)
    for index, day, rows in _editions(truth):
        for track, row in rows.items():
            if row.status == "NEW" and index > 0:
                found["biggest_debut"].append((-row.position, track, row.position, day, day))
            if row.change is not None and row.change > 0:
                found["biggest_climb"].append((row.change, track, row.change, day, day))
            streams = truth.streams.get((day, track))
            if streams is not None:
                found["most_streams_in_a_day"].append((streams, track, streams, day, day))
    return found


def chart_records(truth: ExportTruth) -> list[ChartRecord]:
    """Every record of one chart and its holders (all ties)."""
    candidates = {"longest_run_at_number_one": _longest_runs(truth), **_counts(truth),
                  **_one_edition_records(truth)}
    records = []
    for record in RECORDS:
        found = candidates.get(record, [])
        best = max((c[0] for c in found), default=None)
        records += [ChartRecord(truth.alias, record, track, value, start, end)
                    for score, track, value, start, end in found if score == best]
    return records


def _country_days(truths: dict[str, ExportTruth]) -> dict[str, dict[date, set[str]]]:
    """track -> date -> the country charts holding it that date."""
    days: dict[str, dict[date, set[str]]] = defaultdict(lambda: defaultdict(set))
    for alias, truth in truths.items():
        if COUNTRY_CHART.match(alias):
            for chart in truth.charts:
                for row in chart.rows:
                    days[row.track[0]][chart.day].add(alias)
    return days


def track_spread(truths: dict[str, ExportTruth]) -> dict[str, Spread]:
    spread = {}
    for track, days in _country_days(truths).items():
        first = min(days)
        most = max(len(charts) for charts in days.values())
        spread[track] = Spread(first, tuple(sorted(days[first])), len(set().union(*days.values())), most,
                               min(day for day, charts in days.items() if len(charts) == most))
    return spread


def entries(truth: ExportTruth) -> dict[str, date]:
    """track -> the date it entered the chart (its NEW row), for entries after the first edition."""
    return {row.track[0]: chart.day for chart in truth.charts[1:] for row in chart.rows if row.status == "NEW"}


def market_lead_lag(truths: dict[str, ExportTruth]) -> dict[tuple[str, str], LeadLag]:
    entered = {alias: entries(truth) for alias, truth in truths.items() if COUNTRY_CHART.match(alias)}
    result = {}
    for a, on_a in entered.items():
        for b, on_b in entered.items():
            if a == b:
                continue
            lags = [(on_b[track] - on_a[track]).days for track in on_a.keys() & on_b.keys()]
            a_first = sum(lag > 0 for lag in lags)
            result[a, b] = LeadLag(len(lags), a_first, lags.count(0),
                                   statistics.median(lags) if lags else None,
                                   statistics.fmean(lags) if lags else None,
                                   a_first / len(lags) if lags else None)
    return result


def grid(truths: dict[str, ExportTruth]) -> dict[tuple[str, str, date], tuple[int, int | None]]:
    return {(row.track[0], alias, chart.day): (row.position, truth.streams.get((chart.day, row.track[0])))
            for alias, truth in truths.items() for chart in truth.charts for row in chart.rows}


def number_ones(truths: dict[str, ExportTruth]) -> dict[tuple[str, date], tuple[str, int | None]]:
    return {(alias, chart.day): (row.track[0], truth.streams.get((chart.day, row.track[0])))
            for alias, truth in truths.items() for chart in truth.charts for row in chart.rows if row.position == 1}


def intelligence(truths: dict[str, ExportTruth]) -> Intelligence:
    """Everything the intelligence views hold, for the charts of ``truths`` (by alias)."""
    return Intelligence(tuple(r for truth in truths.values() for r in chart_records(truth)), track_spread(truths),
                        grid(truths), number_ones(truths), market_lead_lag(truths))


def intelligence_of_files(*paths: Path) -> Intelligence:
    """The intelligence of every export CSV under the given files, folders and zips."""
    return intelligence(all_truths(*paths))
