"""The curated datasets the Glue job writes, as plain data (no pyspark needed).

Every dataset is Parquet under ``<root>/<name>/<partition>=YYYY-MM-DD/*.parquet``.
Snowflake's ``COPY INTO ... MATCH_BY_COLUMN_NAME`` reads only the columns inside
a file, so the partition column is ALSO a real column of every file.

Parquet types (read cleanly by Snowflake and DuckDB):

=================  ==========================================
logical type       Parquet
=================  ==========================================
``string``         BYTE_ARRAY (UTF8)
``long``           INT64
``boolean``        BOOLEAN
``date``           INT32 (DATE)
``timestamp``      INT64 TIMESTAMP(MICROS, isAdjustedToUTC)
``array<string>``  LIST<BYTE_ARRAY (UTF8)>
=================  ==========================================

Columns that come from the record take their type and nullability from
:data:`firehose.contract.FIELDS`. The Snowflake landing tables are derived from
this module and a test checks them against the files the job writes.

Append-only semantics (what a loader must know):

* ``chart_entries``: one row per valid chart-entry line the job read. The job does not
  deduplicate: Firehose and Snowpipe are at-least-once, so the one owner of dedupe is
  Snowflake's MERGE on the contract's natural key ``playlist_id, snapshot_id,
  position`` (first observation wins), which sees all history.
* ``chart_observations``: one row per valid observation line (key ``playlist_id,
  poll_id``, deduplicated by the MERGE too): which snapshot each successful read saw,
  and when. A day's chart is the snapshot of its latest observation (the Snowflake
  views build it), so a day on which the chart did not change has a chart without any
  new entry.
* quarantine: one row per rejected line (or unreadable file).
"""
from __future__ import annotations

from dataclasses import dataclass

from firehose import contract

DATE = contract.DATE
LOGICAL_TYPES = frozenset({contract.STRING, contract.LONG, contract.BOOLEAN, contract.TIMESTAMP,
                           contract.STRING_ARRAY, DATE})

CHART_ENTRIES = "chart_entries"
CHART_OBSERVATIONS = "chart_observations"
QUARANTINE = "quarantine"


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # one of LOGICAL_TYPES
    nullable: bool = False
    doc: str = ""


@dataclass(frozen=True)
class Dataset:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # natural key: unique within one micro-batch's output
    partition_column: str

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.name} has no column {name!r}")


_RECORD_FIELDS = {f.name: f for f in contract.ALL_FIELDS}


def _from_record(name: str, *, nullable: bool | None = None) -> Column:
    """A column copied from the record contract (type, nullability, doc)."""
    field = _RECORD_FIELDS[name]
    return Column(field.name, field.type, field.nullable if nullable is None else nullable, field.doc)


def _record_columns(*names: str) -> tuple[Column, ...]:
    return tuple(_from_record(n) for n in names)


# Lineage columns every dataset carries.
BATCH_ID = Column("batch_id", contract.STRING, doc="Micro-batch that wrote the row: '<batch number>-<query id prefix>'.")
BATCH_AT = Column("batch_at", contract.TIMESTAMP,
                  doc="When the micro-batch was planned (stable across retries of the batch).")

TRACK_ATTRIBUTES = ("track_name", "artist_ids", "artist_names", "album_id", "album_name", "album_release_date",
                    "album_release_date_precision", "duration_ms", "explicit", "isrc", "popularity")

_CHART_DATE = Column("chart_date", DATE, doc="The record's chart_date, else the UTC date of observed_at.")
_ORIGIN = _from_record("origin")  # records of versions 1 and 2 (no origin) came from playlists

CHART_ENTRIES_DATASET = Dataset(
    name=CHART_ENTRIES,
    columns=(
        _CHART_DATE,
        *_record_columns("playlist_id", "chart_label", "playlist_name", "snapshot_id", "poll_id", "observed_at",
                         "position", "entry_type", "track_id"),
        *_record_columns(*TRACK_ATTRIBUTES),
        _from_record("added_at"),
        Column("source_file", contract.STRING, doc="Raw object the record was read from."),
        BATCH_ID,
        BATCH_AT,
        # Contract version 3 (Snowflake's V10 added them to the tables, after the others).
        _ORIGIN,
        *_record_columns(*contract.EXPORT_FIELDS),
    ),
    key=contract.NATURAL_KEY,
    partition_column="chart_date",
)

CHART_OBSERVATIONS_DATASET = Dataset(
    name=CHART_OBSERVATIONS,
    columns=(
        _CHART_DATE,
        *_record_columns("playlist_id", "chart_label", "playlist_name", "snapshot_id", "poll_id", "observed_at",
                         "entry_count"),
        Column("source_file", contract.STRING, doc="Raw object the record was read from."),
        BATCH_ID,
        BATCH_AT,
        _ORIGIN,  # contract version 3
    ),
    key=contract.OBSERVATION_KEY,
    partition_column="chart_date",
)

QUARANTINE_DATASET = Dataset(
    name=QUARANTINE,
    columns=(
        Column("raw_line", contract.STRING, True, "The line as read; null when the whole file was unreadable."),
        Column("reason", contract.STRING, doc="Why the line was rejected."),
        Column("source_file", contract.STRING),
        Column("line_number", contract.LONG, doc="1-based line number in the (decompressed) file; 0 for a file."),
        BATCH_ID,
        Column("quarantined_at", contract.TIMESTAMP, doc="batch_at of the batch that rejected the line."),
        Column("run_date", DATE, doc="UTC date of quarantined_at."),
    ),
    key=("source_file", "line_number"),
    partition_column="run_date",
)

# The curated datasets under --target_path, by name (quarantine goes to --quarantine_path).
DATASETS: dict[str, Dataset] = {d.name: d for d in (CHART_ENTRIES_DATASET, CHART_OBSERVATIONS_DATASET)}
ALL_DATASETS: dict[str, Dataset] = {**DATASETS, QUARANTINE: QUARANTINE_DATASET}
