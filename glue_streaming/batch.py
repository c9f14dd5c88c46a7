"""One micro-batch: raw files in, quarantine and curated datasets out, counts back.

Called from the streaming query's ``foreachBatch``. Spark records a batch's input
files in the checkpoint's offset log before calling us and commits the batch after
we return; if the process dies in between, the next run replays the same batch
number with the same files and the same batch time, so it computes exactly what the
first attempt did, and ``publish`` adds only the files the failed attempt did not.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from pyspark import InheritableThread, StorageLevel
from pyspark.sql import Column, DataFrame, Observation, SparkSession
from pyspark.sql import functions as F

from firehose import contract
from firehose import ledger
from glue_streaming import curated
from glue_streaming import transforms as T
from glue_streaming.manifest import batch_keys, manifest_files
from glue_streaming.metrics import BatchMetrics
from glue_streaming.publish import Published, publish
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


def process_batch(spark: SparkSession, raw_files: DataFrame, batch_id: str, paths: JobPaths) -> BatchMetrics:
    """Turn one batch of raw files (binaryFile rows plus a batch_at column) into output."""
    started = time.monotonic()
    metrics = BatchMetrics(batch_id=batch_id)
    raw_summary = Observation("raw_files")
    raw_files = raw_files.observe(raw_summary, F.count(F.lit(1)).alias("files"),
                                  F.unix_micros(F.max("batch_at")).alias("batch_at"))
    # The one pass over the raw data; the writes below read these rows.
    records = T.read_records(raw_files).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        def count(condition) -> Column:
            return F.count(F.when(condition, True))
        summary = records.agg(
            F.count(F.lit(1)).alias("records"),
            count(F.col("problem").isNotNull()).alias("quarantined"),
            count(F.col("problem").isNull() & (F.col("record_type") == contract.CHART_ENTRY)).alias("entries"),
            count(F.col("problem").isNull() & (F.col("record_type") == contract.CHART_OBSERVATION)).alias("observations"),
        ).first()
        metrics.files_read = raw_summary.get["files"]
        if not metrics.files_read:
            return metrics
        writer = _BatchWriter(spark, paths, T.Batch(batch_id, raw_summary.get["batch_at"]))
        metrics.records_read, metrics.quarantined = summary["records"], summary["quarantined"]
        outputs = [(summary["quarantined"], T.quarantine_rows, curated.QUARANTINE_DATASET),
                   (summary["entries"], T.chart_entries_rows, curated.CHART_ENTRIES_DATASET),
                   (summary["observations"], T.chart_observations_rows, curated.CHART_OBSERVATIONS_DATASET)]
        # Small, independent writes: side by side, each one's planning, scheduling and
        # file copying overlap the others' work. A dataset with no rows writes nothing.
        in_parallel(*[(lambda rows=rows, dataset=dataset: writer.publish(rows(records, writer.batch), dataset))
                      for n, rows, dataset in outputs if n])
        writer.record(metrics)
        writer.write_manifest(records)
        writer.files.delete(writer.staging)
    finally:
        records.unpersist()
        metrics.seconds = round(time.monotonic() - started, 3)
    return metrics


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

    def write_manifest(self, records: DataFrame) -> None:
        """The curated files this batch published and the keys in each (glue_streaming/manifest.py)."""
        published = {name: dict(zip(p.partitions, p.paths)) for name, p in self.published.items()}
        files = manifest_files(batch_keys(records), published)
        self.files.write_text(ledger.manifest_key(self.paths.checkpoint, self.batch.batch_id),
                              ledger.manifest_json(self.batch.batch_id, files))

    def record(self, metrics: BatchMetrics) -> None:
        """Counts and files of what was published into ``metrics``, in dataset order."""
        def rows(dataset: curated.Dataset) -> int:
            return self.published[dataset.name].rows if dataset.name in self.published else 0

        metrics.curated = rows(curated.CHART_ENTRIES_DATASET)
        metrics.observations = rows(curated.CHART_OBSERVATIONS_DATASET)
        metrics.chart_dates = sorted({day for name in (curated.CHART_ENTRIES, curated.CHART_OBSERVATIONS)
                                      if name in self.published for day in self.published[name].partitions})
        for name in curated.ALL_DATASETS:
            if name in self.published:
                metrics.files_written += self.published[name].paths
