"""The job's transforms: pure ``DataFrame -> DataFrame`` functions, no I/O.

Flow of one micro-batch::

    raw files ──read_records──> records (one per line: a problem, or the typed fields)
    records ──quarantine_rows──> quarantine
    records ──chart_entries_rows──> chart_entries
    records ──chart_observations_rows──> chart_observations

The job does not deduplicate: Snowflake's MERGE on the contract's natural keys does,
over all history (Firehose and Snowpipe are at-least-once anyway). A retried batch
reads the same files, so it produces the same rows (and the writer the same files) as
the attempt it replaces.
"""
from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from firehose import contract
from glue_streaming import curated, lines
from glue_streaming.schema import LINE_SCHEMA, dataset_schema

@dataclass(frozen=True)
class Batch:
    """Identity of one micro-batch, stamped on every row it writes."""

    batch_id: str  # '<batch number>-<query id prefix>'
    batch_at_micros: int  # the batch's planned time (from Spark's offset log: same on retry)

    @property
    def batch_at(self) -> Column:
        return F.timestamp_micros(F.lit(self.batch_at_micros))


def batch_id_for(batch_number: int, query_id: str) -> str:
    """Batch numbers restart with a new checkpoint; the query id (kept in the checkpoint)
    keeps ids, and so file names, unique across checkpoints."""
    return f"{batch_number:06d}-{query_id.replace('-', '')[:8]}"


def read_records(files: DataFrame) -> DataFrame:
    """Raw objects (binaryFile rows: path, content) -> one row per non-blank line:
    source_file, line_number, problem (null for a valid record), raw_line (kept for
    problems only), the fields of every record type typed (``record_type`` says which
    apply), chart_date: the record's own, else the UTC date of observed_at, and origin:
    the record's own, else a playlist (versions 1 and 2 had no other).

    A file that cannot be read at all yields one row: line_number 0, raw_line null.
    Decompressing, parsing and checking run in Python with Arrow (``lines``): Arrow's
    JSON reader parses a whole object at once, and only lines it cannot certify are
    decided one by one by the contract."""
    return (
        files.select("path", "content").mapInArrow(lines.read_objects, LINE_SCHEMA)
        .withColumn("chart_date", F.coalesce("chart_date", F.to_date("observed_at")))
        .withColumn("origin", F.coalesce("origin", F.lit(contract.ORIGIN_PLAYLIST)))  # versions 1 and 2
    )


def quarantine_rows(records: DataFrame, batch: Batch) -> DataFrame:
    """The rejected lines, with their reason, in the quarantine dataset's columns."""
    return conform(
        records.where(F.col("problem").isNotNull()).select(
            "raw_line",
            F.col("problem").alias("reason"),
            "source_file",
            "line_number",
            F.lit(batch.batch_id).alias("batch_id"),
            batch.batch_at.alias("quarantined_at"),
            F.to_date(batch.batch_at).alias("run_date"),
        ),
        curated.QUARANTINE_DATASET,
    )


def valid_records(records: DataFrame, record_type: str) -> DataFrame:
    """The valid records of ``record_type``, without the line's bookkeeping columns."""
    return (records.where(F.col("problem").isNull() & (F.col("record_type") == record_type))
            .drop("problem", "raw_line", "schema_version"))


def chart_entries_rows(records: DataFrame, batch: Batch) -> DataFrame:
    return conform(with_batch(valid_records(records, contract.CHART_ENTRY), batch), curated.CHART_ENTRIES_DATASET)


def chart_observations_rows(records: DataFrame, batch: Batch) -> DataFrame:
    return conform(with_batch(valid_records(records, contract.CHART_OBSERVATION), batch),
                   curated.CHART_OBSERVATIONS_DATASET)


def with_batch(frame: DataFrame, batch: Batch) -> DataFrame:
    return frame.withColumn("batch_id", F.lit(batch.batch_id)).withColumn("batch_at", batch.batch_at)


def conform(frame: DataFrame, dataset: curated.Dataset) -> DataFrame:
    """Exactly the dataset's columns, in order, with its types."""
    return frame.select(*[F.col(f.name).cast(f.dataType).alias(f.name) for f in dataset_schema(dataset).fields])
