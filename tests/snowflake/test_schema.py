"""Landing and final tables against the curated datasets of glue_streaming/curated.py,
and a COPY of curated-shaped Parquet files through every pipe into the local engine."""
from __future__ import annotations

import json
from datetime import date, datetime

import pytest
import sqlglot
from sqlglot import exp

from firehose import contract
from glue_streaming import curated
from localdev.local_snowflake.loader import CuratedLoader
from snowflake.charts.migrations import discover
from snowflake.charts.pipes import load_definitions
from tests.snowflake.builders import at, entry, load_rows, observation_row, query

# Logical type of curated.py -> column type of the landing and final tables.
SNOWFLAKE_TYPES = {
    contract.STRING: "VARCHAR",
    contract.LONG: "NUMBER(38,0)",
    contract.BOOLEAN: "BOOLEAN",
    contract.TIMESTAMP: "TIMESTAMP_NTZ",  # UTC
    contract.STRING_ARRAY: "ARRAY",
    curated.DATE: "DATE",
}


def tables_of_migrations() -> dict[str, exp.Schema]:
    """The tables the versioned migrations leave, by name: created, altered, dropped, in order."""
    tables = {}
    for migration in discover():
        if migration.version is None or migration.snowflake_only:
            continue
        for statement in migration.statements({"database": "D", "schema": "S"}):
            tree = sqlglot.parse_one(statement, read="snowflake")
            if isinstance(tree, exp.Create) and tree.args.get("kind") == "TABLE":
                tables[tree.this.this.name.lower()] = tree.this
            elif isinstance(tree, exp.Drop) and tree.args.get("kind") == "TABLE":
                for table in tree.args["tables"]:
                    tables.pop(table.name.lower(), None)
            elif isinstance(tree, exp.Alter) and tree.args.get("kind") == "TABLE":
                schema = tables[tree.this.name.lower()]
                schema.set("expressions", [*schema.expressions, *(
                    a for a in tree.args["actions"] if isinstance(a, exp.ColumnDef))])
    return tables


def columns(schema: exp.Schema) -> list[tuple[str, exp.DataType, bool]]:
    """(name, type, nullable) of each column definition."""
    return [
        (c.name.lower(), c.args["kind"],
         not any(isinstance(k.args.get("kind"), exp.NotNullColumnConstraint) for k in c.args.get("constraints") or []))
        for c in schema.expressions if isinstance(c, exp.ColumnDef)
    ]


@pytest.mark.parametrize("dataset", curated.DATASETS.values(), ids=lambda d: d.name)
@pytest.mark.parametrize("prefix", ["landing_", ""])
def test_tables_follow_the_curated_dataset(dataset, prefix):
    table = tables_of_migrations()[prefix + dataset.name]
    expected = [(c.name, exp.DataType.build(SNOWFLAKE_TYPES[c.type], dialect="snowflake"), c.nullable)
                for c in dataset.columns]
    assert columns(table) == expected


@pytest.mark.parametrize("dataset", curated.DATASETS.values(), ids=lambda d: d.name)
def test_final_tables_declare_the_natural_key_and_the_merge_joins_on_it(dataset):
    key = next(c for c in tables_of_migrations()[dataset.name].expressions if isinstance(c, exp.PrimaryKey))
    assert tuple(i.name.lower() for i in key.expressions) == dataset.key
    merge = next(sqlglot.parse_one(m, read="snowflake") for m in load_definitions().task.merges
                 if sqlglot.parse_one(m, read="snowflake").this.name.lower() == dataset.name)
    joined = sorted({c.name.lower() for c in merge.args["on"].find_all(exp.Column)})
    assert joined == sorted(dataset.key)


@pytest.mark.parametrize("dataset", curated.DATASETS.values(), ids=lambda d: d.name)
def test_the_merge_moves_every_column_of_the_dataset(dataset):
    """The MERGE's column lists are written out in SQL (the task runs as is on Snowflake):
    each must name exactly the dataset's columns, which derive from the contract."""
    merge = next(sqlglot.parse_one(m, read="snowflake") for m in load_definitions().task.merges
                 if sqlglot.parse_one(m, read="snowflake").this.name.lower() == dataset.name)
    columns = list(dataset.column_names)
    selected = [e.alias_or_name.lower() for e in merge.args["using"].this.expressions]
    assert selected == columns
    whens = merge.args["whens"].expressions
    [update] = [w.args["then"] for w in whens if isinstance(w.args["then"], exp.Update)]
    [insert] = [w.args["then"] for w in whens if isinstance(w.args["then"], exp.Insert)]
    assert [e.this.name.lower() for e in update.expressions] == [c for c in columns if c not in dataset.key]
    assert [c.name.lower() for c in insert.this.expressions] == columns
    assert [c.sql().lower() for c in insert.expression.expressions] == [f"s.{c}" for c in columns]


def test_one_pipe_per_curated_dataset():
    pipes = {p.dataset: p for p in load_definitions().pipes}
    assert set(pipes) == set(curated.DATASETS)
    for name, pipe in pipes.items():
        assert (pipe.table, pipe.path) == (f"landing_{name}", f"{name}/")


def _as_loaded(value):
    """A Parquet value as the connector returns it from the table (arrays: after json.loads)."""
    return value.replace(tzinfo=None) if isinstance(value, datetime) else value  # TIMESTAMP_NTZ holding UTC


def _rows(db, table: str, dataset: curated.Dataset) -> list[dict]:
    # fakesnow 0.12.1's server sends a NULL timestamp as 1970-01-01 (its Arrow struct
    # conversion drops the null mask; the stored value is NULL): read IS NULL alongside.
    nullable_timestamps = [c.name for c in dataset.columns if c.type == contract.TIMESTAMP and c.nullable]
    select = [*dataset.column_names, *(f"{name} IS NULL" for name in nullable_timestamps)]
    rows = []
    for values in query(db, f"SELECT {', '.join(select)} FROM {table} ORDER BY {', '.join(dataset.key)}"):
        row = dict(zip(dataset.column_names, values))
        for name, is_null in zip(nullable_timestamps, values[len(dataset.column_names):]):
            if is_null:
                row[name] = None
        for column in dataset.columns:
            if column.type == contract.STRING_ARRAY:
                row[column.name] = json.loads(row[column.name])
        rows.append(row)
    return rows


def test_curated_files_load_through_the_pipes_value_for_value(conn, tmp_path):
    loader = CuratedLoader(conn, tmp_path)
    samples = {
        curated.CHART_ENTRIES: [
            entry("global", "snap-1", "2024-03-01 23:59:59.123456", 1, "Song, \"quoted\" 日本",
                  ("Ana", "Bo & Co"), album_id="alb", album_name="Album", explicit=True, isrc="QZ1230000001",
                  popularity=87, added_at=at("2024-02-28 10:00"), duration_ms=201234),
            entry("global", "snap-1", "2024-03-01 23:59:59.123456", 2, None, ("Somebody",)),  # local file
        ],
        curated.CHART_OBSERVATIONS: [  # in key order (playlist, poll)
            observation_row("global", "csv-2024-02-29", "2024-03-01 08:00", chart_date="2024-02-29", poll="export"),
            observation_row("global", "snap-1", "2024-03-01 23:59:59.123456", entry_count=2),
        ],
    }
    for name, rows in samples.items():
        dataset = curated.DATASETS[name]
        load_rows(loader, dataset, rows, f"{name}.parquet", merge=False)
        expected = [{k: _as_loaded(v) for k, v in row.items()} for row in rows]
        assert _rows(conn, f"landing_{name}", dataset) == expected
    loader.merge()
    for name, rows in samples.items():
        dataset = curated.DATASETS[name]
        assert _rows(conn, name, dataset) == [{k: _as_loaded(v) for k, v in row.items()} for row in rows]
        assert query(conn, f"SELECT COUNT(*) FROM landing_{name}") == [(0,)]  # consumed, as a stream would be
    assert query(conn, "SELECT chart_date FROM chart_entries LIMIT 1") == [(date(2024, 3, 1),)]
