"""The job's transforms: pure ``DataFrame -> DataFrame`` functions, no I/O. Raw files ->
``read_records`` (one row per line: a problem, or the typed fields) -> one function per
dataset. Spark types derive from the Arrow types of ``lines`` (pyspark converts them)."""
from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_schema, from_arrow_type
from pyspark.sql.types import StructField, StructType

from firehose import contract
from glue_streaming import curated, lines

# What binaryFile yields per raw object; a streaming source needs it up front.
RAW_FILE_SCHEMA = "path STRING NOT NULL, modificationTime TIMESTAMP NOT NULL, length BIGINT NOT NULL, content BINARY"
LINE_SCHEMA = from_arrow_schema(lines.ARROW_LINE_SCHEMA)


def dataset_schema(dataset: curated.Dataset) -> StructType:
    return StructType([StructField(c.name, from_arrow_type(lines.ARROW_TYPES[c.type]), c.nullable)
                       for c in dataset.columns])


@dataclass(frozen=True)
class Batch:
    """Identity of one micro-batch, stamped on every row it writes."""

    batch_id: str  # '<batch number>-<query id prefix>'
    batch_at_micros: int  # the batch's planned time (from Spark's offset log: the same on a replay)

    @property
    def batch_at(self) -> Column:
        return F.timestamp_micros(F.lit(self.batch_at_micros))


def read_records(files: DataFrame) -> DataFrame:
    """binaryFile rows -> one row per non-blank line (``lines.ARROW_LINE_SCHEMA``; an
    unreadable file is one row, line 0), with chart_date (the record's own, else the UTC
    date of observed_at) and origin (versions 1 and 2 came from playlists) filled in."""
    return (
        files.select("path", "content").mapInArrow(lines.read_objects, LINE_SCHEMA)
        .withColumn("chart_date", F.coalesce("chart_date", F.to_date("observed_at")))
        .withColumn("origin", F.coalesce("origin", F.lit(contract.ORIGIN_PLAYLIST)))
    )


def record_counts(records: DataFrame) -> DataFrame:
    """One row: how many records, and how many of them each dataset takes."""
    valid, record_type = F.col("problem").isNull(), F.col("record_type")
    return records.agg(
        F.count(F.lit(1)).alias("records"),
        F.count(F.when(~valid, True)).alias(curated.QUARANTINE),
        F.count(F.when(valid & (record_type == contract.CHART_ENTRY), True)).alias(curated.CHART_ENTRIES),
        F.count(F.when(valid & (record_type == contract.CHART_OBSERVATION), True)).alias(curated.CHART_OBSERVATIONS),
    )


def manifest_keys(records: DataFrame) -> DataFrame:
    """The valid records' contract keys, one row per snapshot (firehose/ledger.py, "curated")."""
    return (records.where(F.col("problem").isNull())
            .groupBy("record_type", "chart_date", "playlist_id", "snapshot_id")
            .agg(F.sort_array(F.collect_set("position")).alias("positions"),
                 F.sort_array(F.collect_set("poll_id")).alias("polls")))


def quarantine_rows(records: DataFrame, batch: Batch) -> DataFrame:
    """The rejected lines, with their reason, in the quarantine dataset's columns."""
    rejected = records.where(F.col("problem").isNotNull()).withColumnRenamed("problem", "reason")
    return conform(rejected.withColumns({"batch_id": F.lit(batch.batch_id), "quarantined_at": batch.batch_at,
                                         "run_date": F.to_date(batch.batch_at)}), curated.QUARANTINE_DATASET)


def chart_entries_rows(records: DataFrame, batch: Batch) -> DataFrame:
    """Every valid chart entry line: no dedupe here (Snowflake's MERGE owns it)."""
    return valid_rows(records, contract.CHART_ENTRY, batch, curated.CHART_ENTRIES_DATASET)


def chart_observations_rows(records: DataFrame, batch: Batch) -> DataFrame:
    return valid_rows(records, contract.CHART_OBSERVATION, batch, curated.CHART_OBSERVATIONS_DATASET)


# Each dataset and the transform that gives its rows, in the order a batch writes them.
DATASET_ROWS = ((curated.QUARANTINE_DATASET, quarantine_rows), (curated.CHART_ENTRIES_DATASET, chart_entries_rows),
                (curated.CHART_OBSERVATIONS_DATASET, chart_observations_rows))


def valid_rows(records: DataFrame, record_type: str, batch: Batch, dataset: curated.Dataset) -> DataFrame:
    """The valid records of ``record_type``, stamped with the batch, in ``dataset``'s columns."""
    valid = records.where(F.col("problem").isNull() & (F.col("record_type") == record_type))
    return conform(valid.withColumns({"batch_id": F.lit(batch.batch_id), "batch_at": batch.batch_at}), dataset)


def conform(frame: DataFrame, dataset: curated.Dataset) -> DataFrame:
    """Exactly the dataset's columns, in order, with its types."""
    return frame.select(*[F.col(f.name).cast(f.dataType).alias(f.name) for f in dataset_schema(dataset).fields])
