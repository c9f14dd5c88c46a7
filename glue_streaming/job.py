"""The Glue job's entry script: arguments -> session -> a streaming query over the raw
files new since the last run, whose foreachBatch applies the pure transforms
(``transforms.py``) and publishes their output -> ``job.commit()``. On Glue (which passes
``--JOB_NAME``) with getResolvedOptions and a GlueContext; elsewhere with argparse and a
plain SparkSession (glue_streaming/README.md, "Run it locally")."""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial
from typing import Callable, Sequence

from pyspark import StorageLevel, inheritable_thread_target
from pyspark.sql import DataFrame, Observation, SparkSession
from pyspark.sql import functions as F

from firehose import ledger
from firehose.run_lease import run_lease
from glue_streaming import curated
from glue_streaming import metrics as M
from glue_streaming import transforms as T
from glue_streaming.publish import HadoopFiles, publish

log = logging.getLogger("glue_streaming")

REQUIRED_JOB_ARGUMENTS: tuple[str, ...] = ("source_path", "target_path", "quarantine_path", "checkpoint_path")
# Optional arguments and their defaults (Glue passes every value as a string).
OPTIONAL_JOB_ARGUMENTS: dict[str, str] = {
    "metrics_namespace": "",  # CloudWatch namespace, e.g. SpotifyCharts/Glue; empty: no CloudWatch
    "max_files_per_trigger": "0",  # split a large backlog into batches of this many files; 0: one batch
    "shuffle_partitions": "0",  # 0: one per core Spark has (AQE, off in streaming, would not coalesce them)
    "staging_path": "",  # a batch's files before publication (scratch); empty: <checkpoint>/staging
    "lease_seconds": "60",  # the checkpoint's run lease lasts this long unless renewed (firehose/run_lease.py)
    "lease_wait_seconds": "180",  # a run waits this long for another run's lease, then fails
}
# The job's own arguments, without "--" (Glue adds JOB_NAME and its own --xxx arguments).
JOB_ARGUMENTS: tuple[str, ...] = REQUIRED_JOB_ARGUMENTS + tuple(OPTIONAL_JOB_ARGUMENTS)
LOCAL_ONLY_ARGUMENTS: dict[str, str] = {"spark_master": "local[*]", "driver_memory": "2g", "job_name": "local"}
QUERY_ID_PROPERTY = "sql.streaming.queryId"  # set by Spark on the thread that runs a batch


class JobArgumentError(ValueError):
    """A job argument has an unusable value."""


@dataclass(frozen=True)
class JobPaths:
    source: str
    target: str
    quarantine: str
    checkpoint: str
    staging_root: str = ""

    @property
    def stream_checkpoint(self) -> str:
        return f"{self.checkpoint}/stream"

    @property
    def run_metrics(self) -> str:
        return f"{self.checkpoint}/run_metrics"

    def staging(self, batch_id: str) -> str:
        return f"{self.staging_root or self.checkpoint + '/staging'}/{batch_id}"


@dataclass(frozen=True)
class JobSettings:
    paths: JobPaths
    job_name: str
    metrics_namespace: str
    max_files_per_trigger: int
    shuffle_partitions: int
    lease_seconds: int = 60
    lease_wait_seconds: int = 180

    @classmethod
    def from_arguments(cls, args: dict[str, str]) -> "JobSettings":
        values = {**OPTIONAL_JOB_ARGUMENTS, **{k: v for k, v in args.items() if v is not None}}
        missing = [name for name in REQUIRED_JOB_ARGUMENTS if not values.get(name)]
        if missing:
            raise JobArgumentError(f"missing job arguments: {', '.join('--' + m for m in missing)}")
        return cls(JobPaths(*(values[name].rstrip("/") for name in (*REQUIRED_JOB_ARGUMENTS, "staging_path"))),
                   job_name=values.get("JOB_NAME") or values.get("job_name") or "local",
                   metrics_namespace=values["metrics_namespace"],
                   max_files_per_trigger=_non_negative_int(values, "max_files_per_trigger"),
                   shuffle_partitions=_non_negative_int(values, "shuffle_partitions"),
                   lease_seconds=max(3, _non_negative_int(values, "lease_seconds")),
                   lease_wait_seconds=_non_negative_int(values, "lease_wait_seconds"))


def _non_negative_int(values: dict[str, str], name: str) -> int:
    try:
        number = int(values[name])
    except ValueError:
        raise JobArgumentError(f"--{name} must be an integer, got {values[name]!r}") from None
    if number < 0:
        raise JobArgumentError(f"--{name} must be >= 0, got {number}")
    return number


def parse_local_arguments(argv: Sequence[str]) -> dict[str, str]:
    parser = argparse.ArgumentParser(prog="python -m glue_streaming.job", description="The Glue job, run locally.")
    for name in REQUIRED_JOB_ARGUMENTS:
        parser.add_argument(f"--{name}", required=True)
    for name, default in {**OPTIONAL_JOB_ARGUMENTS, **LOCAL_ONLY_ARGUMENTS}.items():
        parser.add_argument(f"--{name}", default=default)
    return vars(parser.parse_args(argv))


def _glue_arguments(argv: Sequence[str], get_resolved_options) -> dict[str, str]:
    # getResolvedOptions fails on absent names, so ask only for the optional ones given.
    optional = [name for name in OPTIONAL_JOB_ARGUMENTS if f"--{name}" in argv]
    return get_resolved_options(list(argv), ["JOB_NAME", *REQUIRED_JOB_ARGUMENTS, *optional])


def on_glue(argv: Sequence[str]) -> bool:
    """Glue passes ``--JOB_NAME`` to every run (``awsglue`` installs anywhere: its import says nothing)."""
    return "--JOB_NAME" in argv


def run(spark: SparkSession, settings: JobSettings) -> M.RunMetrics:
    """Process every raw file not yet processed, as one or more micro-batches."""
    spark.conf.set("spark.sql.session.timeZone", "UTC")  # the output format relies on these
    spark.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
    spark.conf.set("spark.sql.shuffle.partitions", str(settings.shuffle_partitions
                                                       or spark.sparkContext.defaultParallelism))
    # On a batch's few rows AQE's re-planning and one job per stage cost more than they save.
    spark.conf.set("spark.sql.adaptive.enabled", "false")
    paths, run_metrics, started = settings.paths, M.RunMetrics(started_at=_utc_now()), time.monotonic()
    files = HadoopFiles(spark)
    if files.exists(paths.source):  # on S3: absent until the first object arrives
        reader = spark.readStream.format("binaryFile").schema(T.RAW_FILE_SCHEMA).option("recursiveFileLookup", "true")
        if settings.max_files_per_trigger:
            reader = reader.option("maxFilesPerTrigger", settings.max_files_per_trigger)
        # In a streaming query current_timestamp() is the batch's time from the offset log:
        # a replayed batch gets the time of its first attempt.
        raw_files = reader.load(paths.source).withColumn("batch_at", F.current_timestamp())

        def handle_batch(batch_frame: DataFrame, batch_number: int) -> None:
            query_id = batch_frame.sparkSession.sparkContext.getLocalProperty(QUERY_ID_PROPERTY)
            if not query_id:  # Spark sets it for every batch; without it file names would not be stable
                raise RuntimeError(f"Spark did not set {QUERY_ID_PROPERTY} for batch {batch_number}")
            # Batch numbers restart with a new checkpoint; the query id (kept in the checkpoint)
            # keeps batch ids, and so file names, unique across checkpoints.
            batch_id = f"{batch_number:06d}-{query_id.replace('-', '')[:8]}"
            batch_metrics = process_batch(spark, batch_frame, batch_id, paths)
            log.info("batch %s", json.dumps(batch_metrics.summary()))
            run_metrics.batches.append(batch_metrics)

        query = (raw_files.writeStream.foreachBatch(handle_batch)
                 .option("checkpointLocation", paths.stream_checkpoint)
                 .trigger(availableNow=True)
                 .queryName(f"glue_streaming_{settings.job_name}")
                 .start())
        query.awaitTermination()  # raises StreamingQueryException if a batch failed
    else:
        log.warning("source path %s does not exist (yet): nothing to process", paths.source)
    run_metrics.seconds, run_metrics.finished_at = time.monotonic() - started, _utc_now()
    stamp = run_metrics.started_at.replace("-", "").replace(":", "").replace(".", "")
    files.write_text(f"{paths.run_metrics}/run-{stamp}.json", json.dumps(run_metrics.to_dict(), indent=1))
    if settings.metrics_namespace:
        M.put_cloudwatch(run_metrics, settings.metrics_namespace, settings.job_name)
    return run_metrics


def process_batch(spark: SparkSession, raw_files: DataFrame, batch_id: str, paths: JobPaths) -> M.BatchMetrics:
    """One micro-batch (binaryFile rows plus batch_at): read, check, publish, count. A
    replay of the batch has the same files and batch_at, so it computes the same rows."""
    started, metrics = time.monotonic(), M.BatchMetrics(batch_id=batch_id)
    raw = Observation("raw_files")
    raw_files = raw_files.observe(raw, F.count(F.lit(1)).alias("files"),
                                  F.unix_micros(F.max("batch_at")).alias("batch_at"))
    # The one pass over the raw data; the writes below read these rows.
    records = T.read_records(raw_files).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        counts = T.record_counts(records).first()
        metrics.files_read = raw.get["files"]
        metrics.records_read, metrics.quarantined = counts["records"], counts[curated.QUARANTINE]
        metrics.curated, metrics.observations = counts[curated.CHART_ENTRIES], counts[curated.CHART_OBSERVATIONS]
        batch, files = T.Batch(batch_id, raw.get["batch_at"]), HadoopFiles(spark)
        staging = paths.staging(batch_id)
        published: dict[str, dict[str, str]] = {}  # dataset -> {partition value: file} (filled from threads)

        def write(dataset: curated.Dataset, rows_of: Callable[[DataFrame, T.Batch], DataFrame]) -> None:
            folder = paths.quarantine if dataset is curated.QUARANTINE_DATASET else f"{paths.target}/{dataset.name}"
            published[dataset.name] = publish(files, rows_of(records, batch), dataset, folder, staging, batch_id)

        # Small, independent writes side by side (their planning, scheduling and copying overlap), each
        # thread with this thread's Spark local properties. A dataset without rows writes nothing.
        with ThreadPoolExecutor(max_workers=len(T.DATASET_ROWS)) as pool:
            writes = [pool.submit(inheritable_thread_target(partial(write, dataset, rows_of)))
                      for dataset, rows_of in T.DATASET_ROWS if counts[dataset.name]]
        for done in writes:
            done.result()  # the first write's error, if any, once all have ended
        metrics.chart_dates = sorted({day for name in curated.DATASETS for day in published.get(name, {})})
        metrics.files_written = [path for name in curated.ALL_DATASETS for path in published.get(name, {}).values()]
        # For reconciliation, before Spark commits the batch: a replay writes the same manifest.
        manifest = ledger.curated_files(T.manifest_keys(records).collect(), published)
        files.write_text(ledger.manifest_key(paths.checkpoint, batch_id), ledger.manifest_json(batch_id, manifest))
        files.delete(staging)
    finally:
        records.unpersist()
        metrics.seconds = round(time.monotonic() - started, 3)
    return metrics


def _utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    argv = list(sys.argv if argv is None else argv)
    if on_glue(argv):
        from awsglue.utils import getResolvedOptions

        args = _glue_arguments(argv, getResolvedOptions)
    else:
        args = parse_local_arguments(argv[1:])
    settings = JobSettings.from_arguments(args)
    # One run at a time on the checkpoint, taken before Spark starts: a run that must wait
    # or give up costs no JVM.
    with run_lease(settings.paths.checkpoint, f"{settings.job_name}-{uuid.uuid4().hex[:12]}",
                   settings.lease_seconds, settings.lease_wait_seconds):
        spark, glue_job = _session(argv, args)
        run_metrics = run(spark, settings)
        print(run_metrics.log_line(), flush=True)  # the run's counts, the last line on stdout
        if glue_job is not None:
            glue_job.commit()
    return 0


def _session(argv: Sequence[str], args: dict[str, str]):
    """(the Spark session, Glue's Job object or None): Glue's on Glue, else a plain local one."""
    if not on_glue(argv):
        # Local-only tuning, if any, comes from the environment (PYSPARK_SUBMIT_ARGS). Python
        # workers need this interpreter's packages (pyarrow); PySpark defaults to "python3".
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        spark = (SparkSession.builder.master(args["spark_master"]).appName("glue_streaming")
                 .config("spark.driver.memory", args["driver_memory"])  # local mode: the driver runs the tasks
                 .getOrCreate())
        spark.sparkContext.setLogLevel("WARN")
        return spark, None
    from awsglue.context import GlueContext
    from awsglue.job import Job
    from pyspark.context import SparkContext

    glue_context = GlueContext(SparkContext.getOrCreate())
    glue_job = Job(glue_context)
    glue_job.init(args["JOB_NAME"], args)
    return glue_context.spark_session, glue_job


if __name__ == "__main__":
    sys.exit(main())
