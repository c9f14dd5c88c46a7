"""The intelligence views against the truth of their CSV files (``intelligence``), view by
view: every row the truth expects keyed as the view's natural key, compared with ``==``
(lead-lag's median, mean and share as numbers, within 1e-6: Snowflake returns them with
6 decimals). A row the views hold and the truth does not is a difference too.

Reads the views through any DB-API connection (the local engine or Snowflake).
"""
from __future__ import annotations

import json
import math
from dataclasses import astuple, dataclass, field, is_dataclass
from decimal import Decimal
from typing import Any, Callable

from benchmarks.truth.compare import _rows
from benchmarks.truth.intelligence import ChartRecord, Intelligence, LeadLag, Spread

TOLERANCE = 1e-6
VIEWS = ("chart_records", "track_spread", "track_market_grid", "chart_number_ones", "market_lead_lag")


@dataclass
class ViewComparison:
    view: str
    rows_expected: int
    rows_found: int
    rows_right: int
    differences: list[str] = field(default_factory=list)  # the first few, to read
    difference_count: int = 0

    @property
    def ok(self) -> bool:
        return self.rows_right == self.rows_expected == self.rows_found and not self.difference_count

    def line(self) -> str:
        return (f"{self.view:<18} rows {self.rows_right:,}/{self.rows_expected:,} right "
                f"({self.rows_found:,} in the view)"
                + (f"; {self.difference_count} differences, first: {self.differences[0]}" if self.differences else ""))


def _number(value: Any) -> Any:
    """A view's number as the truth holds it (the connector may give Decimal)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _same(want: Any, got: Any) -> bool:
    if isinstance(want, tuple) and isinstance(got, tuple):
        return len(want) == len(got) and all(_same(w, g) for w, g in zip(want, got))
    if isinstance(want, float) and isinstance(got, (int, float)):
        return math.isclose(want, got, abs_tol=TOLERANCE)
    return want == got


def compare_view(view: str, want: dict, got: dict, show: int = 5,
                 same: Callable[[Any, Any], bool] = _same) -> ViewComparison:
    """Rows keyed by the view's natural key: right when present on both sides and equal."""
    result = ViewComparison(view, len(want), len(got), 0)
    for key in sorted(want.keys() | got.keys(), key=repr):
        if key in want and key in got and same(want[key], got[key]):
            result.rows_right += 1
        else:
            result.difference_count += 1
            if len(result.differences) < show:
                result.differences.append(f"{key}: {got.get(key, 'missing')} instead of {want.get(key, 'no row')}")
    return result


def _records(rows: list[ChartRecord]) -> dict:
    return {(r.chart_label, r.record, r.track_id, r.from_date): (r.value, r.to_date) for r in rows}


def view_records(db) -> dict:
    rows = _rows(db, "SELECT chart_label, record, track_id, value, from_date, to_date FROM chart_records", ())
    return _records([ChartRecord(r["chart_label"], r["record"], r["track_id"], _number(r["value"]), r["from_date"],
                                 r["to_date"]) for r in rows])


def _charts(value: Any) -> tuple[str, ...]:
    """An ARRAY column: the connector returns JSON text."""
    return tuple(json.loads(value) if isinstance(value, str) else value)


def view_spread(db) -> dict:
    return {r["track_id"]: Spread(r["first_chart_date"], _charts(r["first_charts"]), _number(r["charts_total"]),
                                  _number(r["max_charts"]), r["max_charts_date"])
            for r in _rows(db, "SELECT * FROM track_spread", ())}


def view_grid(db) -> dict:
    rows = _rows(db, "SELECT track_id, chart_label, chart_date, position, streams FROM track_market_grid", ())
    return {(r["track_id"], r["chart_label"], r["chart_date"]): (_number(r["position"]), _number(r["streams"]))
            for r in rows}


def view_number_ones(db) -> dict:
    return {(r["chart_label"], r["chart_date"]): (r["track_id"], _number(r["streams"]))
            for r in _rows(db, "SELECT chart_label, chart_date, track_id, streams FROM chart_number_ones", ())}


def view_lead_lag(db) -> dict:
    return {(r["chart_a"], r["chart_b"]): LeadLag(*(_number(r[name]) for name in (
                "tracks", "a_first_tracks", "same_day_tracks", "median_lag_days", "mean_lag_days", "share_a_first")))
            for r in _rows(db, "SELECT * FROM market_lead_lag", ())}


def _fields(value: Any) -> Any:
    """Dataclasses as tuples of their fields, so that _same compares numbers loosely."""
    return astuple(value) if is_dataclass(value) else value


def compare_intelligence(db, truth: Intelligence, show: int = 5) -> list[ViewComparison]:
    """Every intelligence view against the truth, one comparison per view (VIEWS order)."""
    pairs = {
        "chart_records": (_records(list(truth.records)), view_records(db)),
        "track_spread": (truth.spread, view_spread(db)),
        "track_market_grid": (truth.grid, view_grid(db)),
        "chart_number_ones": (truth.number_ones, view_number_ones(db)),
        "market_lead_lag": (truth.lead_lag, view_lead_lag(db)),
    }
    return [compare_view(view, {k: _fields(v) for k, v in want.items()}, {k: _fields(v) for k, v in got.items()},
                         show) for view, (want, got) in pairs.items()]
