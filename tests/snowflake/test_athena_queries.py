"""The stack's Athena named queries, run for real on another engine: each is Athena (Trino)
SQL, transpiled by sqlglot to DuckDB and run over curated Parquet files shaped as the
Glue job writes them (localdev.local_snowflake.curated_files), with the Glue catalog's
tables as views over those files. Their answers must equal the Snowflake views' over the
same rows, loaded into the local engine through the real pipes and MERGE; the files
hold a redelivered file (twice the rows), which the Athena views must dedupe too."""
from __future__ import annotations

import json
from datetime import date

import duckdb
import pytest
import sqlglot

from glue_streaming.curated import CHART_ENTRIES_DATASET, CHART_OBSERVATIONS_DATASET
from infra.template import PIPELINE_TEMPLATE, load_template
from localdev.local_snowflake.curated_files import write_file
from localdev.local_snowflake.loader import CuratedLoader
from tests.snowflake.builders import load_rows, query
from tests.snowflake.test_export_views import DAILY, FILES, WEEKLY, export_rows


def named_queries() -> dict[str, str]:
    resources = load_template(PIPELINE_TEMPLATE)["Resources"]
    return {r["Properties"]["Name"]: r["Properties"]["QueryString"] for r in resources.values()
            if r["Type"] == "AWS::Athena::NamedQuery"}


def duck(sql: str) -> str:
    return sqlglot.transpile(sql, read="athena", write="duckdb")[0]


@pytest.fixture
def engines(conn, tmp_path):
    """The same rows: as curated files read by DuckDB (a redelivery included), and in Snowflake."""
    loader = CuratedLoader(conn, tmp_path / "stage")
    entries, observations = [], []
    for index, file in enumerate(FILES):
        rows, seen = export_rows(*file)
        load_rows(loader, CHART_ENTRIES_DATASET, rows, f"entries-{index}.parquet")
        load_rows(loader, CHART_OBSERVATIONS_DATASET, [seen], f"observations-{index}.parquet")
        entries += rows
        observations.append(seen)
    curated = tmp_path / "curated"
    write_file(curated, CHART_ENTRIES_DATASET, entries, "batch-1.parquet")
    write_file(curated, CHART_ENTRIES_DATASET, entries[:6], "batch-2-redelivered.parquet")
    write_file(curated, CHART_OBSERVATIONS_DATASET, observations, "batch-1.parquet")
    athena = duckdb.connect()
    for dataset in (CHART_ENTRIES_DATASET, CHART_OBSERVATIONS_DATASET):  # what the catalog's tables read
        athena.execute(f"CREATE VIEW {dataset.name} AS SELECT * FROM read_parquet('{curated}/{dataset.name}/*/*.parquet')")
    queries = named_queries()
    for name in sorted(n for n in queries if "create view" in n):
        athena.execute(duck(queries[name]))
    return conn, athena, queries


def test_the_stack_names_the_views_and_the_questions():
    assert sorted(named_queries()) == ["1 create view chart_entries_unique", "2 create view daily_chart",
                                       "a chart's records", "a day's new entries", "a track's history across markets"]


def test_athena_daily_chart_equals_snowflakes(engines):
    snowflake, athena, _ = engines
    columns = "chart_label, chart_date, position, track_id, streams, status, previous_position, change"
    want = query(snowflake, f"SELECT {columns} FROM daily_chart ORDER BY chart_label, chart_date, position")
    got = athena.execute(f"SELECT {columns} FROM daily_chart ORDER BY chart_label, chart_date, position").fetchall()
    assert got == want and len(got) == 15  # 9 daily (the corrected file, not the first) + 6 weekly
    assert athena.execute("SELECT COUNT(*) FROM chart_entries").fetchone()[0] == 6 + len(
        [r for r in athena.execute("SELECT 1 FROM chart_entries_unique").fetchall()])  # the redelivery, deduped


def test_a_days_new_entries_and_a_tracks_history(engines):
    snowflake, athena, queries = engines
    new = athena.execute(duck(queries["a day's new entries"]), [DAILY, "2024-05-04"]).fetchall()
    assert [(row[0], row[1], row[4]) for row in new] == query(
        snowflake, "SELECT position, track_name, status FROM daily_chart WHERE chart_label = %s AND chart_date = %s "
                   "AND status IN ('NEW', 'RE-ENTRY') ORDER BY position", DAILY, date(2024, 5, 4))
    [track_a] = {r[0] for r in query(snowflake, "SELECT track_id FROM daily_chart WHERE track_name = 'A'")}
    history = athena.execute(duck(queries["a track's history across markets"]), [track_a]).fetchall()
    assert history == query(snowflake, "SELECT chart_date, chart_label, position, streams, status FROM daily_chart "
                                       "WHERE track_id = %s ORDER BY chart_date, chart_label", track_a)
    assert {row[1] for row in history} == {DAILY, WEEKLY}


def test_a_charts_records(engines):
    _, athena, queries = engines
    records = athena.execute(duck(queries["a chart's records"]), [DAILY]).fetchall()
    by_record = {}
    for record, _track_id, track_name, value, first, last in records:
        by_record.setdefault(record, []).append((track_name, value, first and str(first), last and str(last)))
    # A is #1 on every daily chart held: 05-01, 05-02 (the corrected file) and 05-04 (05-03 is a gap).
    assert by_record["longest_run_at_number_one"] == [("A", 3, "2024-05-01", "2024-05-04")]
    assert by_record["most_days_at_number_one"] == [("A", 3, None, None)]
    # D and E both debut at 3 (after the first edition, which is all NEW): a tie, one row each.
    assert by_record["biggest_debut"] == [("D", 3, "2024-05-02", "2024-05-02"), ("E", 3, "2024-05-04", "2024-05-04")]
    assert by_record["most_streams_in_a_day"] == [("A", 400, "2024-05-04", "2024-05-04")]
    json.dumps(records, default=str)  # plain values
