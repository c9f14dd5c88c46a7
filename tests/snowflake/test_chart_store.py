"""The chart store (V11__chart_store.sql): editions, movements and exits stored by the merge
task, recomputed per playlist from the earliest date the landed rows can change
(refresh_chart_store, snowflake_only/R__chart_store_refresh.sql).

Real charts arrive a day at a time in a shuffled order, with a day missing for one market
(a gap filled weeks later, as reconciliation fills one), a day delivered twice weeks
later, and a snapshot whose entries arrive weeks after its reads, re-sent under a later
date (as a producer that lost its state sends them): after each load the store must
equal what a refresh from scratch computes over the same final tables, and, at the end,
what loading the same history in date order in one go stores."""
from __future__ import annotations

import random
from datetime import date, timedelta

import pyarrow.compute as pc
import pytest
import sqlglot
from sqlglot import exp

from benchmarks.curated_history import first_era
from glue_streaming.curated import CHART_ENTRIES_DATASET, CHART_OBSERVATIONS_DATASET
from localdev.local_snowflake.loader import CuratedLoader
from snowflake.charts.migrate import default_variables, migrate
from snowflake.charts import connection
from snowflake.charts.pipes import load_definitions
from tests.snowflake.builders import load_rows, query

STORES = ("chart_edition_rows", "chart_movement_rows", "chart_exit_rows", "chart_artist_rows")
FIRST, LAST = date(2023, 5, 18), date(2023, 6, 10)
GAP_DAY = date(2023, 5, 25)  # US: its read and entries arrive last


RESENT_DAY = date(2023, 5, 20)  # Global: its entries come again weeks later, dated then, the first ones lost


def history_by_day() -> dict[date, tuple[list[dict], list[dict]]]:
    """{day: (entries, observations)} of the Global and US charts, FIRST..LAST; Global's
    entries of RESENT_DAY moved to the day after LAST, under that day's poll."""
    entries, observations = first_era(("global", "us"))
    days: dict[date, tuple[list[dict], list[dict]]] = {}
    for table, slot in ((entries, 0), (observations, 1)):
        window = table.filter(pc.and_(pc.greater_equal(table["chart_date"], FIRST),
                                      pc.less_equal(table["chart_date"], LAST)))
        for row in window.to_pylist():
            days.setdefault(row["chart_date"], ([], []))[slot].append(row)
    resent = [r for r in days[RESENT_DAY][0] if r["chart_label"] == "global"]
    assert resent, "Global's chart of RESENT_DAY changed nothing: pick another day"
    days[RESENT_DAY] = ([r for r in days[RESENT_DAY][0] if r["chart_label"] != "global"], days[RESENT_DAY][1])
    later = LAST + timedelta(days=1)
    days[later] = ([{**r, "chart_date": later, "observed_at": r["observed_at"] + (later - RESENT_DAY),
                     "poll_id": f"resent-{later}"} for r in resent], [])
    return days


def load(loader: CuratedLoader, name: str, entries: list[dict], observations: list[dict]) -> None:
    if entries:
        load_rows(loader, CHART_ENTRIES_DATASET, entries, f"{name}.parquet", merge=False)
    if observations:
        load_rows(loader, CHART_OBSERVATIONS_DATASET, observations, f"{name}.parquet", merge=False)
    loader.merge()


def stored(db) -> dict[str, list[tuple]]:
    return {table: sorted(query(db, f"SELECT * FROM {table}"), key=repr) for table in STORES}


def refreshed_from_scratch(db, loader: CuratedLoader) -> dict[str, list[tuple]]:
    """The store computed again from the final tables alone: every playlist from its first date."""
    for table in STORES:
        query(db, f"DELETE FROM {table}")
    query(db, "INSERT INTO chart_refresh_requests SELECT DISTINCT playlist_id, DATE '0001-01-01' FROM chart_observations")
    loader.merge()  # nothing landed: only the refresh runs
    return stored(db)


def arrival_order(days: list[date]) -> list[tuple[str, date, str]]:
    """(name, day, what) to load: the days shuffled (seeded), the US gap day's rows last,
    one day again, and one snapshot's entries after its reads."""
    rng = random.Random(21)
    order = [(f"d{day}", day, "all") for day in days if day != GAP_DAY]
    rng.shuffle(order)
    late_entries_day = order[3][1]
    order[3] = (f"d{late_entries_day}-reads", late_entries_day, "observations")
    order.insert(len(order) - 2, (f"d{late_entries_day}-entries", late_entries_day, "entries"))
    order.append((f"d{GAP_DAY}", GAP_DAY, "all"))
    resent = max(days)  # the re-sent entries, after every read of their snapshot
    order.remove((f"d{resent}", resent, "all"))
    order.append((f"d{resent}", resent, "all"))
    order.append((f"d{order[0][1]}-again", order[0][1], "all"))  # delivered twice, weeks later
    return order


@pytest.mark.fakesnow
def test_the_store_refreshed_as_rows_arrive_equals_one_computed_from_scratch(conn, tmp_path, engine_environ):
    days = history_by_day()
    loader = CuratedLoader(conn, tmp_path / "stage")
    for step, (name, day, what) in enumerate(arrival_order(sorted(days))):
        entries, observations = days[day]
        load(loader, name, entries if what != "observations" else [], observations if what != "entries" else [])
        if step in (5, 20):  # part way: the store is already what a refresh from scratch gives
            assert stored(conn) == refreshed_from_scratch(conn, loader), f"after {step + 1} loads"
    incremental = stored(conn)
    # Every day of both charts has its chart (the re-sent entries' day holds no read).
    assert query(conn, "SELECT COUNT(*) FROM chart_editions WHERE grain = 'day'") == [(2 * (len(days) - 1),)]
    assert incremental == refreshed_from_scratch(conn, loader)
    assert query(conn, "SELECT COUNT(*) FROM chart_refresh_requests") == [(0,)]

    assert running_stats(conn) == stats_counted_from_daily_charts(conn)

    # The same history loaded in date order, in one go, into another database.
    environ = {**engine_environ, "SNOWFLAKE_DATABASE": engine_environ["SNOWFLAKE_DATABASE"] + "_ONCE"}
    with connection.connect(environ) as once:
        migrate(once, local=True, variables=default_variables(environ))
        load(CuratedLoader(once, tmp_path / "once"), "all",
             [r for day in sorted(days) for r in days[day][0]], [r for day in sorted(days) for r in days[day][1]])
        assert stored(once) == incremental


def running_stats(db) -> dict[tuple, tuple[int, int]]:
    rows = query(db, "SELECT playlist_id, chart_date, track_id, peak_position, days_on_chart FROM daily_chart_track_stats")
    return {(p, d, t): (peak, days) for p, d, t, peak, days in rows}


def stats_counted_from_daily_charts(db) -> dict[tuple, tuple[int, int]]:
    """Each daily chart's tracks: best position and daily charts on, up to that date, counted here."""
    seen: dict[tuple, tuple[int, int]] = {}
    stats = {}
    for playlist, day, track, position in query(
            db, "SELECT playlist_id, chart_date, track_id, position FROM daily_chart ORDER BY chart_date"):
        peak, days = seen.get((playlist, track), (position, 0))
        seen[(playlist, track)] = stats[(playlist, day, track)] = (min(peak, position), days + 1)
    return stats


def refresh_statements() -> list[str]:
    task = load_definitions().task
    return [s for s in task.statements if not s.upper().startswith("MERGE")]


@pytest.mark.unit
def test_the_refresh_statements_parse_as_snowflake_sql_and_write_only_the_store():
    written = []
    for statement in refresh_statements():
        tree = sqlglot.parse_one(statement, read="snowflake", error_level=sqlglot.ErrorLevel.RAISE)
        assert isinstance(tree, (exp.Insert, exp.Delete)), statement[:60]
        written.append(tree.this.find(exp.Table).name.lower())
    # The requests first (read from the streams before the MERGEs), then the store, requests emptied last.
    assert written[0] == "chart_refresh_requests" and written[-1] == "chart_refresh_requests"
    assert written[1:-1] == ["chart_edition_rows", "chart_edition_rows", "chart_movement_rows",
                             "chart_movement_rows", "chart_exit_rows", "chart_exit_rows", "chart_artist_rows",
                             "chart_artist_rows"]
