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
from pyspark.sql import DataFrame, Observation, SparkSession
from pyspark.sql import functions as F

from firehose import contract
from glue_streaming import curated
from glue_streaming import transforms as T
from glue_streaming.metrics import BatchMetrics
from glue_streaming.publish import Published, publish
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
    raw_summary = Observation("raw_files")
    raw_files = raw_files.observe(raw_summary, F.count(F.lit(1)).alias("files"),
                                  F.unix_micros(F.max("batch_at")).alias("batch_at"))
    # The one pass over the raw data; everything after works on this much smaller frame.
    collapsed = T.collapse_duplicates(T.read_records(raw_files)).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        is_problem = F.col("problem").isNotNull()
        summary = collapsed.agg(
            F.sum("copies").alias("records"),
            F.sum(F.when(is_problem, F.col("copies")).otherwise(0)).alias("quarantined"),
            F.min(F.when(~is_problem, F.col("chart_date"))).alias("first_date"),
            F.max(F.when(~is_problem, F.col("chart_date"))).alias("last_date"),
        ).first()
        metrics.files_read = raw_summary.get["files"]
        if not metrics.files_read:
            return metrics
        writer = _BatchWriter(spark, paths, T.Batch(batch_id, raw_summary.get["batch_at"]), metrics)
        metrics.records_read = summary["records"] or 0
        metrics.quarantined = summary["quarantined"] or 0
        if metrics.quarantined:
            writer.publish(T.quarantine_rows(collapsed, writer.batch), curated.QUARANTINE_DATASET)
        if summary["first_date"] is not None:
            first, last = summary["first_date"], summary["last_date"]
            previous = writer.read_chart_entries(_days(first - timedelta(days=lookback_days),
                                                       last + timedelta(days=lookback_days)))
            previous_keys = None if previous is None else previous.select(*contract.NATURAL_KEY)
            entries = T.new_entries(collapsed, previous_keys).persist(StorageLevel.MEMORY_AND_DISK)
            try:
                _write_entries_and_derived(writer, entries, _days(first, last))
            finally:
                entries.unpersist()
        metrics.duplicates = metrics.records_read - metrics.quarantined - metrics.curated
        writer.files.delete(writer.staging)
    finally:
        collapsed.unpersist()
        metrics.seconds = round(time.monotonic() - started, 3)
    return metrics


def _write_entries_and_derived(writer: "_BatchWriter", entries: DataFrame, valid_dates: list[date]) -> None:
    """Publish the new chart entries, then the tracks and day aggregates of the dates they
    fall on (``valid_dates``: the span of the batch's valid records, a superset)."""
    metrics, batch = writer.metrics, writer.batch
    # Complete-day aggregates need the entries curated earlier for the same dates: only
    # dates with a folder before this batch publishes can have any.
    earlier_dates = writer.dates_with_chart_entries(valid_dates)
    published = writer.publish(T.chart_entries_rows(entries, batch), curated.CHART_ENTRIES_DATASET)
    dates = sorted(date.fromisoformat(value) for value in published.partitions)  # dates with new entries
    metrics.curated, metrics.chart_dates = published.rows, [d.isoformat() for d in dates]
    if not dates:
        return
    metrics.tracks = writer.publish(T.tracks_from_entries(entries, batch), curated.TRACKS_DATASET).rows
    day_entries = entries.select(*_DAILY_INPUT)
    earlier = writer.read_chart_entries([d for d in dates if d in earlier_dates])
    if earlier is not None:
        day_entries = earlier.select(*_DAILY_INPUT).unionByName(day_entries)
    metrics.chart_daily = writer.publish(T.chart_daily_from_entries(day_entries, batch),
                                         curated.CHART_DAILY_DATASET).rows


class _BatchWriter:
    """Publishes one batch's datasets and reads back what earlier batches published."""

    def __init__(self, spark: SparkSession, paths: JobPaths, batch: T.Batch, metrics: BatchMetrics):
        self.spark, self.paths, self.batch, self.metrics = spark, paths, batch, metrics
        self.files = HadoopFiles(spark)
        self.staging = paths.staging(batch.batch_id)

    def publish(self, rows: DataFrame, dataset: curated.Dataset) -> Published:
        published = publish(self.files, rows, dataset, self.paths.dataset(dataset), self.staging,
                            self.batch.batch_id)
        self.metrics.files_written += published.paths
        _fault_point(dataset.name)
        return published

    def read_chart_entries(self, dates: list[date]) -> DataFrame | None:
        return read_curated(self.spark, self.files, self.paths, curated.CHART_ENTRIES_DATASET, dates,
                            exclude_batch_id=self.batch.batch_id)

    def dates_with_chart_entries(self, dates: list[date]) -> list[date]:
        folders = partition_folders(self.files, self.paths, curated.CHART_ENTRIES_DATASET, dates)
        return [d for d in dates if d.isoformat() in folders]


def partition_folders(files: HadoopFiles, paths: JobPaths, dataset: curated.Dataset, dates: list[date]
                      ) -> dict[str, str]:
    """The existing partition folders of ``dataset`` among ``dates``: ISO date -> path."""
    prefix = f"{dataset.partition_column}="
    wanted = {d.isoformat() for d in dates}
    return {e.name[len(prefix):]: e.path for e in files.list(paths.dataset(dataset))
            if e.is_dir and e.name.startswith(prefix) and e.name[len(prefix):] in wanted}


def read_curated(
    spark: SparkSession, files: HadoopFiles, paths: JobPaths, dataset: curated.Dataset, dates: list[date],
    exclude_batch_id: str,
) -> DataFrame | None:
    """Rows of ``dataset`` already published for ``dates``, minus those of ``exclude_batch_id``
    (a failed earlier attempt of the current batch), or None when none of the dates has a
    folder. Only the named date folders are read."""
    folders = list(partition_folders(files, paths, dataset, dates).values())
    if not folders:  # no frame at all: an empty one would still cost a join and a scan
        return None
    # recursiveFileLookup: take chart_date from inside the files, not from folder names.
    frame = spark.read.schema(dataset_schema(dataset)).option("recursiveFileLookup", "true").parquet(*folders)
    return frame.where(F.col("batch_id") != F.lit(exclude_batch_id))


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _fault_point(step: str) -> None:
    if os.environ.get(FAULT_ENV) == step:
        log.error("fault injection: exiting after publishing %s, before the checkpoint commit", step)
        logging.shutdown()
        os._exit(FAULT_EXIT_CODE)
