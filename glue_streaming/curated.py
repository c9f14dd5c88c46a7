"""The curated datasets the Glue job writes, as plain data (no pyspark): the Snowflake
landing tables, the Glue catalog and the tests derive from them. What each holds, the
Parquet types, the layout: glue_streaming/README.md, "Datasets and columns"."""
from __future__ import annotations

from dataclasses import dataclass

from firehose import contract

DATE = contract.DATE
LOGICAL_TYPES = frozenset({contract.STRING, contract.LONG, contract.BOOLEAN, contract.TIMESTAMP,
                           contract.STRING_ARRAY, DATE})

CHART_ENTRIES = "chart_entries"
CHART_OBSERVATIONS = "chart_observations"
QUARANTINE = "quarantine"


# A column has what a record field has (name, logical type, nullability, doc).
Column = contract.Field


@dataclass(frozen=True)
class Dataset:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # what identifies a row (for records, the key Snowflake's MERGE dedupes on)
    partition_column: str  # a real column of every file too: Snowflake's COPY reads only those

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        return {c.name: c for c in self.columns}[name]


_RECORD_FIELDS = {f.name: f for f in contract.ALL_FIELDS}


def _record_columns(*names: str) -> tuple[Column, ...]:
    """The record contract's fields as columns: the same name, type, nullability and doc."""
    return tuple(_RECORD_FIELDS[n] for n in names)


# Columns every curated dataset of records carries, around the record's own.
_CHART_DATE = Column("chart_date", DATE, doc="The record's chart_date, else the UTC date of observed_at.")
_SOURCE_FILE = Column("source_file", contract.STRING, doc="Raw object the record was read from.")
BATCH_ID = Column("batch_id", contract.STRING,
                  doc="Micro-batch that wrote the row: '<batch number>-<query id prefix>'.")
BATCH_AT = Column("batch_at", contract.TIMESTAMP,
                  doc="When the micro-batch was planned (stable across retries of the batch).")
_CHART = ("playlist_id", "chart_label", "playlist_name", "snapshot_id", "poll_id", "observed_at")

CHART_ENTRIES_DATASET = Dataset(
    name=CHART_ENTRIES,
    columns=(
        _CHART_DATE,
        *_record_columns(*_CHART, "position", "entry_type", "track_id", "track_name", "artist_ids", "artist_names",
                         "album_id", "album_name", "album_release_date", "album_release_date_precision",
                         "duration_ms", "explicit", "isrc", "popularity", "added_at"),
        _SOURCE_FILE,
        BATCH_ID,
        BATCH_AT,
        # Contract version 3, after the others (Snowflake's V10 added them to the tables).
        *_record_columns("origin", *contract.EXPORT_FIELDS),  # origin: versions 1 and 2 came from playlists
    ),
    key=contract.NATURAL_KEY,
    partition_column="chart_date",
)

CHART_OBSERVATIONS_DATASET = Dataset(
    name=CHART_OBSERVATIONS,
    columns=(_CHART_DATE, *_record_columns(*_CHART, "entry_count"), _SOURCE_FILE, BATCH_ID, BATCH_AT,
             *_record_columns("origin")),  # contract version 3
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
