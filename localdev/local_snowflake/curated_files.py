"""Write curated-dataset Parquet files the way the Glue job does (for tests, demos, benchmarks).

Types follow ``glue_streaming/curated.py``: dates as DATE, timestamps as microsecond
UTC-adjusted INT64, longs as INT64, arrays as LIST<STRING>. Files go under
``<root>/<dataset>/chart_date=YYYY-MM-DD/<name>.parquet`` and hold the partition
column too, as the job's files do.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Mapping

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from glue_streaming import curated
from glue_streaming.lines import ARROW_TYPES


def arrow_schema(dataset: curated.Dataset) -> pa.Schema:
    return pa.schema([pa.field(c.name, ARROW_TYPES[c.type], nullable=c.nullable) for c in dataset.columns])


def to_table(dataset: curated.Dataset, rows: Iterable[Mapping[str, Any]]) -> pa.Table:
    """Rows (dicts holding every column of the dataset) as an Arrow table of its schema."""
    rows = list(rows)
    for row in rows:
        missing = set(dataset.column_names) - set(row)
        if missing:
            raise ValueError(f"{dataset.name} row lacks {sorted(missing)}")
    return pa.Table.from_pylist(rows, schema=arrow_schema(dataset))


def partition_key(dataset: curated.Dataset, partition_value: Any, file_name: str) -> str:
    """``<dataset>/<partition column>=<value>/<file_name>``: the key below the curated root."""
    return f"{dataset.name}/{dataset.partition_column}={partition_value}/{file_name}"


def write_file(root: Path | str, dataset: curated.Dataset, rows: Iterable[Mapping[str, Any]],
               file_name: str) -> list[Path]:
    """Write rows into one file per partition value; returns the paths written."""
    return write_table(root, dataset, to_table(dataset, rows), file_name)


def write_table(root: Path | str, dataset: curated.Dataset, table: pa.Table, file_name: str) -> list[Path]:
    """Write an Arrow table of the dataset's schema into one file per partition value."""
    written = []
    values = table.column(dataset.partition_column).unique().to_pylist()
    for value in sorted(values):
        part = table.filter(pc.equal(table.column(dataset.partition_column), value))
        path = Path(root) / partition_key(dataset, value, file_name)
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(part, path)
        written.append(path)
    return written
