"""One micro-batch: raw files in, quarantine and curated datasets out, counts back.

Called from the streaming query's ``foreachBatch``. Spark records a batch's input
files in the checkpoint's offset log before calling us and commits the batch after
we return; if the process dies in between, the next run replays the same batch
number with the same files and the same batch time, and ``publish`` overwrites the
files the failed attempt wrote. Reading back already-curated data excludes rows
of the current batch id, so a replay computes exactly what the first attempt did.
"""
from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from datetime import date, timedelta

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from firehose import contract
from glue_streaming import curated
from glue_streaming import transforms as T
from glue_streaming.metrics import BatchMetrics
from glue_streaming.publish import publish
from glue_streaming.schema import dataset_schema
from glue_streaming.storage import HadoopFiles

log = logging.getLogger(__name__)

# Test hook: exit the process right after publishing this dataset (before the commit).
FAULT_ENV = "GLUE_STREAMING_EXIT_AFTER"
FAULT_EXIT_CODE = 86

# Columns chart_daily needs from chart entries (new and already curated).
_DAILY_INPUT = ("chart_date", "playlist_id", "chart_label", "snapshot_id", "observed_at", "position", "track_id")


@dataclass(frozen=True)
class JobPaths:
    source: str
    target: str
    quarantine: str
    checkpoint: str

    @classmethod
    def of(cls, source: str, target: str, quarantine: str, checkpoint: str) -> "JobPaths":
        return cls(*(p.rstrip("/") for p in (source, target, quarantine, checkpoint)))

    @property
    def stream_checkpoint(self) -> str:
        return f"{self.checkpoint}/stream"

    def dataset(self, dataset: curated.Dataset) -> str:
        """The folder of a dataset's partitions."""
        if dataset.name == curated.QUARANTINE:
            return self.quarantine
        return f"{self.target}/{dataset.name}"

    @property
    def run_metrics(self) -> str:
        return f"{self.checkpoint}/run_metrics"

    def staging(self, batch_id: str) -> str:
        return f"{self.checkpoint}/staging/{batch_id}"


def process_batch(
    spark: SparkSession, raw_files: DataFrame, batch_id: str, paths: JobPaths, lookback_days: int
) -> BatchMetrics:
    """Turn one batch of raw files (binaryFile rows plus a batch_at column) into output."""
    started = time.monotonic()
    metrics = BatchMetrics(batch_id=batch_id)
    parsed = T.parse_records(T.decode_files(raw_files)).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        summary = parsed.agg(
            F.count(F.lit(1)).alias("records"),
            F.count("problem").alias("quarantined"),
            F.countDistinct("source_file").alias("files"),
            F.min(F.when(F.col("problem").isNull(), F.col("chart_date"))).alias("first_date"),
            F.max(F.when(F.col("problem").isNull(), F.col("chart_date"))).alias("last_date"),
        ).first()
        if summary["records"]:
            batch_at = raw_files.select(F.unix_micros(F.max("batch_at"))).first()[0]
            writer = _BatchWriter(spark, paths, T.Batch(batch_id, batch_at), metrics)
            metrics.files_read = summary["files"]
            metrics.records_read = summary["records"]
            metrics.quarantined = summary["quarantined"]
            writer.publish(T.quarantine_rows(parsed, writer.batch), curated.QUARANTINE_DATASET)
            if summary["first_date"] is not None:
                window = _days(summary["first_date"] - timedelta(days=lookback_days),
                               summary["last_date"] + timedelta(days=lookback_days))
                previous = writer.read_chart_entries(window).select(*contract.NATURAL_KEY)
                entries = T.dedupe_entries(T.valid_entries(parsed), previous)
                entries = entries.persist(StorageLevel.MEMORY_AND_DISK)
                try:
                    _write_entries_and_derived(writer, entries)
                finally:
                    entries.unpersist()
            metrics.duplicates = metrics.records_read - metrics.quarantined - metrics.curated
            writer.files.delete(writer.staging)
    finally:
        parsed.unpersist()
        metrics.seconds = round(time.monotonic() - started, 3)
    return metrics


def _write_entries_and_derived(writer: "_BatchWriter", entries: DataFrame) -> None:
    metrics, batch = writer.metrics, writer.batch
    written = entries.agg(F.count(F.lit(1)).alias("rows"),
                          F.sort_array(F.collect_set("chart_date")).alias("dates")).first()
    metrics.curated = written["rows"]
    metrics.chart_dates = [d.isoformat() for d in written["dates"]]
    if not metrics.curated:
        return
    writer.publish(T.chart_entries_rows(entries, batch), curated.CHART_ENTRIES_DATASET)

    tracks = T.tracks_from_entries(entries, batch).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        metrics.tracks = tracks.count()
        writer.publish(tracks, curated.TRACKS_DATASET)
    finally:
        tracks.unpersist()

    # Complete-day aggregates: this batch's entries plus those curated earlier for the same dates.
    earlier = writer.read_chart_entries(written["dates"])
    day_entries = earlier.select(*_DAILY_INPUT).unionByName(entries.select(*_DAILY_INPUT))
    daily = T.chart_daily_from_entries(day_entries, batch).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        metrics.chart_daily = daily.count()
        writer.publish(daily, curated.CHART_DAILY_DATASET)
    finally:
        daily.unpersist()


class _BatchWriter:
    """Publishes one batch's datasets and reads back what earlier batches published."""

    def __init__(self, spark: SparkSession, paths: JobPaths, batch: T.Batch, metrics: BatchMetrics):
        self.spark, self.paths, self.batch, self.metrics = spark, paths, batch, metrics
        self.files = HadoopFiles(spark)
        self.staging = paths.staging(batch.batch_id)

    def publish(self, rows: DataFrame, dataset: curated.Dataset) -> None:
        self.metrics.files_written += publish(
            self.files, rows, dataset, self.paths.dataset(dataset), self.staging, self.batch.batch_id
        )
        _fault_point(dataset.name)

    def read_chart_entries(self, dates: list[date]) -> DataFrame:
        return read_curated(self.spark, self.files, self.paths, curated.CHART_ENTRIES_DATASET, dates,
                            exclude_batch_id=self.batch.batch_id)


def read_curated(
    spark: SparkSession, files: HadoopFiles, paths: JobPaths, dataset: curated.Dataset, dates: list[date],
    exclude_batch_id: str,
) -> DataFrame:
    """Rows of ``dataset`` already published for ``dates``, minus those of ``exclude_batch_id``
    (a failed earlier attempt of the current batch). Only the named date folders are read."""
    wanted = {f"{dataset.partition_column}={d.isoformat()}" for d in dates}
    folders = [e.path for e in files.list(paths.dataset(dataset)) if e.is_dir and e.name in wanted]
    schema = dataset_schema(dataset)
    if not folders:
        return spark.createDataFrame([], schema)
    # recursiveFileLookup: take chart_date from inside the files, not from folder names.
    frame = spark.read.schema(schema).option("recursiveFileLookup", "true").parquet(*folders)
    return frame.where(F.col("batch_id") != F.lit(exclude_batch_id))


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _fault_point(step: str) -> None:
    if os.environ.get(FAULT_ENV) == step:
        log.error("fault injection: exiting after publishing %s, before the checkpoint commit", step)
        logging.shutdown()
        os._exit(FAULT_EXIT_CODE)
