"""Entry point of the Glue streaming job: one pass over the raw files that are new
since the last run (Structured Streaming file source, ``trigger(availableNow=True)``,
checkpoint under ``--checkpoint_path``).

On AWS Glue 5.1, which passes ``--JOB_NAME`` (and its own ``--JOB_ID``, ...) to every
run, arguments come from ``awsglue``'s ``getResolvedOptions`` and the session from a
``GlueContext``; elsewhere the same module runs with argparse and a plain SparkSession::

    python -m glue_streaming.job --source_path P --target_path P \\
        --quarantine_path P --checkpoint_path P

Paths are ``s3://`` on Glue; locally ``s3://`` too (with an S3 connector in the session,
which local tooling adds from outside) or local folders.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Sequence

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from glue_streaming import metrics as M
from glue_streaming.batch import JobPaths, process_batch
from glue_streaming.run_lease import run_lease
from glue_streaming.schema import RAW_FILE_SCHEMA
from glue_streaming.storage import HadoopFiles
from glue_streaming.transforms import batch_id_for

log = logging.getLogger("glue_streaming")

REQUIRED_JOB_ARGUMENTS: tuple[str, ...] = ("source_path", "target_path", "quarantine_path", "checkpoint_path")
# Optional arguments and their defaults (Glue passes every value as a string).
OPTIONAL_JOB_ARGUMENTS: dict[str, str] = {
    "metrics_namespace": "",  # CloudWatch namespace, e.g. SpotifyCharts/Glue; empty: no CloudWatch
    "max_files_per_trigger": "0",  # split a large backlog into batches of this many files; 0: one batch
    "shuffle_partitions": "0",  # 0: one per core Spark has (AQE, off in streaming, would not coalesce them)
    "lease_seconds": "60",  # the checkpoint's run lease lasts this long unless renewed (run_lease.py)
    "lease_wait_seconds": "180",  # a run waits this long for another run's lease, then fails
}
# The job's own arguments, without "--" (Glue adds JOB_NAME and its own --xxx arguments).
JOB_ARGUMENTS: tuple[str, ...] = REQUIRED_JOB_ARGUMENTS + tuple(OPTIONAL_JOB_ARGUMENTS)
LOCAL_ONLY_ARGUMENTS: dict[str, str] = {"spark_master": "local[*]", "driver_memory": "2g", "job_name": "local"}

QUERY_ID_PROPERTY = "sql.streaming.queryId"  # set by Spark on the thread that runs a batch


class JobArgumentError(ValueError):
    """A job argument has an unusable value."""


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
        return cls(
            paths=JobPaths.of(*(values[name] for name in REQUIRED_JOB_ARGUMENTS)),
            job_name=values.get("JOB_NAME") or values.get("job_name") or "local",
            metrics_namespace=values["metrics_namespace"],
            max_files_per_trigger=_non_negative_int(values, "max_files_per_trigger"),
            shuffle_partitions=_non_negative_int(values, "shuffle_partitions"),
            lease_seconds=max(3, _non_negative_int(values, "lease_seconds")),
            lease_wait_seconds=_non_negative_int(values, "lease_wait_seconds"),
        )


def _non_negative_int(values: dict[str, str], name: str) -> int:
    try:
        number = int(values[name])
    except ValueError:
        raise JobArgumentError(f"--{name} must be an integer, got {values[name]!r}") from None
    if number < 0:
        raise JobArgumentError(f"--{name} must be >= 0, got {number}")
    return number


def parse_local_arguments(argv: Sequence[str]) -> dict[str, str]:
    parser = argparse.ArgumentParser(prog="python -m glue_streaming.job", description=__doc__.split("\n\n")[0])
    for name in REQUIRED_JOB_ARGUMENTS:
        parser.add_argument(f"--{name}", required=True)
    for name, default in {**OPTIONAL_JOB_ARGUMENTS, **LOCAL_ONLY_ARGUMENTS}.items():
        parser.add_argument(f"--{name}", default=default)
    return vars(parser.parse_args(argv))


def configure_session(spark: SparkSession, settings: JobSettings) -> None:
    """Session settings the output format relies on (also applied on Glue)."""
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    spark.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
    partitions = settings.shuffle_partitions or spark.sparkContext.defaultParallelism
    spark.conf.set("spark.sql.shuffle.partitions", str(partitions))
    # The streaming engine runs a batch's plans without AQE; only those that also read
    # curated files would get it, and on a batch's few rows its re-planning and one
    # job per stage cost more than it saves (1 new day after 30: 0.5 s of 6).
    spark.conf.set("spark.sql.adaptive.enabled", "false")


def local_session(master: str, driver_memory: str = "2g", app_name: str = "glue_streaming") -> SparkSession:
    """A plain local SparkSession, for running the job outside Glue. Local-only tuning,
    if any, comes from the environment (PYSPARK_SUBMIT_ARGS, spark-defaults.conf)."""
    # Python workers need this interpreter's packages (pyarrow); PySpark defaults to "python3".
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = (SparkSession.builder.master(master).appName(app_name)
             .config("spark.driver.memory", driver_memory)  # local mode: the driver runs the tasks too
             .getOrCreate())
    spark.sparkContext.setLogLevel("WARN")
    return spark


def run(spark: SparkSession, settings: JobSettings) -> M.RunMetrics:
    """Process every raw file not yet processed, as one or more micro-batches."""
    configure_session(spark, settings)
    paths = settings.paths
    run_metrics = M.RunMetrics(started_at=_utc_now())
    started = time.monotonic()

    files = HadoopFiles(spark)
    if not files.exists(paths.source):  # on S3: no object under the prefix yet
        log.warning("source path %s does not exist (yet): nothing to process", paths.source)
        return _finish(files, run_metrics, started, settings)

    reader = spark.readStream.format("binaryFile").schema(RAW_FILE_SCHEMA).option("recursiveFileLookup", "true")
    if settings.max_files_per_trigger:
        reader = reader.option("maxFilesPerTrigger", settings.max_files_per_trigger)
    # In a streaming query current_timestamp() is the batch's time from the offset log:
    # a replayed batch gets the time of its first attempt.
    raw_files = reader.load(paths.source).withColumn("batch_at", F.current_timestamp())

    def handle_batch(batch_frame, batch_number: int) -> None:
        query_id = batch_frame.sparkSession.sparkContext.getLocalProperty(QUERY_ID_PROPERTY)
        if not query_id:  # Spark sets it for every batch; without it file names would not be stable
            raise RuntimeError(f"Spark did not set {QUERY_ID_PROPERTY} for batch {batch_number}")
        batch_id = batch_id_for(batch_number, query_id)
        batch_metrics = process_batch(spark, batch_frame, batch_id, paths)
        log.info("batch %s", json.dumps({k: v for k, v in batch_metrics.__dict__.items() if k != "files_written"}))
        run_metrics.batches.append(batch_metrics)

    query = (
        raw_files.writeStream.foreachBatch(handle_batch)
        .option("checkpointLocation", paths.stream_checkpoint)
        .trigger(availableNow=True)
        .queryName(f"glue_streaming_{settings.job_name}")
        .start()
    )
    query.awaitTermination()  # raises StreamingQueryException if a batch failed
    return _finish(files, run_metrics, started, settings)


def _finish(files: HadoopFiles, run_metrics: M.RunMetrics, started: float, settings: JobSettings) -> M.RunMetrics:
    """Record the run's metrics: JSON next to the checkpoint, CloudWatch when asked."""
    run_metrics.seconds = time.monotonic() - started
    run_metrics.finished_at = _utc_now()
    stamp = run_metrics.started_at.replace("-", "").replace(":", "").replace(".", "")
    files.write_text(f"{settings.paths.run_metrics}/run-{stamp}.json", json.dumps(run_metrics.to_dict(), indent=1))
    if settings.metrics_namespace:
        M.put_cloudwatch(run_metrics, settings.metrics_namespace, settings.job_name)
    return run_metrics


def _utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _glue_arguments(argv: Sequence[str], get_resolved_options) -> dict[str, str]:
    # getResolvedOptions fails on absent names, so ask only for the optional ones given.
    optional = [name for name in OPTIONAL_JOB_ARGUMENTS if f"--{name}" in argv]
    return get_resolved_options(list(argv), ["JOB_NAME", *REQUIRED_JOB_ARGUMENTS, *optional])


def on_glue(argv: Sequence[str]) -> bool:
    """Glue passes ``--JOB_NAME`` to every run. (Whether ``awsglue`` imports says nothing:
    its Python part installs anywhere, and ``GlueContext`` then fails without Glue's JVM.)"""
    return "--JOB_NAME" in argv


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
        print(run_metrics.log_line(), flush=True)
        if glue_job is not None:
            glue_job.commit()
    return 0


def _session(argv: Sequence[str], args: dict[str, str]):
    """(the Spark session, Glue's Job object or None): Glue's on Glue, else a local one."""
    if not on_glue(argv):
        return local_session(args["spark_master"], args["driver_memory"]), None
    from awsglue.context import GlueContext
    from awsglue.job import Job
    from pyspark.context import SparkContext

    glue_context = GlueContext(SparkContext.getOrCreate())
    glue_job = Job(glue_context)
    glue_job.init(args["JOB_NAME"], args)
    return glue_context.spark_session, glue_job


if __name__ == "__main__":
    sys.exit(main())
