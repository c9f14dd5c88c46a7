"""One micro-batch: raw files in, quarantine and curated datasets out, counts back.

Called from the streaming query's ``foreachBatch``. Spark records a batch's input
files in the checkpoint's offset log before calling us and commits the batch after
we return; if the process dies in between, the next run replays the same batch
number with the same files and the same batch time, and ``publish`` overwrites the
files the failed attempt wrote. Reading back already-curated data excludes rows
of the current batch id, so a replay computes exactly what the first attempt did.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Callable

from pyspark import InheritableThread, StorageLevel
from pyspark.sql import DataFrame, Observation, SparkSession
from pyspark.sql import functions as F

from glue_streaming import curated
from glue_streaming import transforms as T
from glue_streaming.metrics import BatchMetrics
from glue_streaming.publish import Published, publish
from glue_streaming.schema import dataset_schema
from glue_streaming.storage import HadoopFiles


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
    entries = None
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
        writer = _BatchWriter(spark, paths, T.Batch(batch_id, raw_summary.get["batch_at"]))
        metrics.records_read = summary["records"] or 0
        metrics.quarantined = summary["quarantined"] or 0
        writes: list[Callable[[], None]] = []
        if metrics.quarantined:
            writes.append(lambda: writer.publish(T.quarantine_rows(collapsed, writer.batch),
                                                 curated.QUARANTINE_DATASET))
        if summary["first_date"] is not None:
            first, last = summary["first_date"], summary["last_date"]
            # Entries earlier batches curated around these dates: for the dedupe and for the
            # complete-day aggregates (listed now, before this batch publishes anything).
            days = _days(first - timedelta(days=lookback_days), last + timedelta(days=lookback_days))
            previous = writer.read_curated(curated.CHART_ENTRIES_DATASET, days)
            entries = T.new_entries(collapsed, previous).persist(StorageLevel.MEMORY_AND_DISK)
            writes += _entries_and_derived(writer, entries, previous)
            observations = T.new_observations(collapsed, writer.read_curated(curated.CHART_OBSERVATIONS_DATASET, days))
            writes.append(lambda: writer.publish(T.chart_observations_rows(observations, writer.batch),
                                                 curated.CHART_OBSERVATIONS_DATASET))
        # Small, independent writes: side by side, each one's planning, scheduling and
        # file copying overlap the others' work.
        in_parallel(*writes)
        writer.record(metrics)
        metrics.duplicates = metrics.records_read - metrics.quarantined - metrics.curated - metrics.observations
        writer.files.delete(writer.staging)
    finally:
        if entries is not None:
            entries.unpersist()
        collapsed.unpersist()
        metrics.seconds = round(time.monotonic() - started, 3)
    return metrics


def _entries_and_derived(writer: "_BatchWriter", entries: DataFrame, previous: DataFrame | None
                         ) -> list[Callable[[], None]]:
    """The writes of the new chart entries and of what derives from them: the entries,
    then the complete-day aggregates of the dates they fall on (``previous``: entries
    curated by earlier batches around those dates); and, beside them, the tracks they name."""
    batch = writer.batch

    def publish_entries_then_daily() -> None:
        # Day aggregates after the entries they sum up: a run killed in between has
        # published entries without aggregates, never aggregates without their entries.
        published = writer.publish(T.chart_entries_rows(entries, batch), curated.CHART_ENTRIES_DATASET)
        dates = sorted(date.fromisoformat(value) for value in published.partitions)  # with new entries
        if dates:
            writer.publish(T.chart_daily_from_entries(T.entries_of_days(entries, previous, dates), batch),
                           curated.CHART_DAILY_DATASET)

    def publish_tracks() -> None:  # no new entries: no rows, no files
        writer.publish(T.tracks_from_entries(entries, batch), curated.TRACKS_DATASET)

    return [publish_entries_then_daily, publish_tracks]


def in_parallel(*steps: Callable[[], None]) -> None:
    """Run ``steps`` in threads of their own (Spark runs their jobs side by side); the
    first step's error, if any, is raised once all have ended."""
    if len(steps) <= 1:
        for step in steps:
            step()
        return
    errors: list[BaseException | None] = [None] * len(steps)

    def run(index: int) -> None:
        try:
            steps[index]()
        except BaseException as error:  # handed to the calling thread
            errors[index] = error

    # InheritableThread: the JVM side of the thread gets this thread's local properties.
    threads = [InheritableThread(target=run, args=(index,)) for index in range(len(steps))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for error in errors:
        if error is not None:
            raise error


class _BatchWriter:
    """Publishes one batch's datasets and reads back what earlier batches published."""

    def __init__(self, spark: SparkSession, paths: JobPaths, batch: T.Batch):
        self.spark, self.paths, self.batch = spark, paths, batch
        self.files = HadoopFiles(spark)
        self.staging = paths.staging(batch.batch_id)
        self.published: dict[str, Published] = {}  # by dataset name (filled from several threads)

    def publish(self, rows: DataFrame, dataset: curated.Dataset) -> Published:
        published = publish(self.files, rows, dataset, self.paths.dataset(dataset), self.staging,
                            self.batch.batch_id)
        self.published[dataset.name] = published
        return published

    def record(self, metrics: BatchMetrics) -> None:
        """Counts and files of what was published into ``metrics``, in dataset order."""
        def rows(dataset: curated.Dataset) -> int:
            return self.published[dataset.name].rows if dataset.name in self.published else 0

        metrics.curated = rows(curated.CHART_ENTRIES_DATASET)
        metrics.observations = rows(curated.CHART_OBSERVATIONS_DATASET)
        metrics.tracks = rows(curated.TRACKS_DATASET)
        metrics.chart_daily = rows(curated.CHART_DAILY_DATASET)
        metrics.chart_dates = sorted({day for name in (curated.CHART_ENTRIES, curated.CHART_OBSERVATIONS)
                                      if name in self.published for day in self.published[name].partitions})
        for name in curated.ALL_DATASETS:
            if name in self.published:
                metrics.files_written += self.published[name].paths

    def read_curated(self, dataset: curated.Dataset, dates: list[date]) -> DataFrame | None:
        """Rows of ``dataset`` earlier batches published for ``dates``."""
        return read_curated(self.spark, self.files, self.paths, dataset, dates, exclude_batch_id=self.batch.batch_id)


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
