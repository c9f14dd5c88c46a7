"""The Glue job, run here on local Spark over the stack's ``s3://`` paths (LocalStack
keeps no real Glue job), and the curated files each run publishes."""
from __future__ import annotations

from contextlib import ExitStack
from typing import Callable

from localdev.local_spark.glue_runner import GlueJobError, GluePaths, GlueRun, run_glue_job
from localdev.local_spark.glue_worker import GlueWorker
from localdev.pipeline.progress import Say
from localdev.pipeline.settings import CURATED_PREFIX, PipelineSettings
from localdev.pipeline.stack import Stack
from localdev.pipeline.stack_glue_paths import stack_glue_paths


class GlueRuns:
    """Runs the job; ``published(n)`` hears of the ``n`` curated files each run put in the bucket.

    With ``settings.long_lived_spark`` the runs share one Spark session in a worker process
    (``glue_worker``), started at the first run and stopped with the pipeline; otherwise each
    run is a process and JVM of its own (``glue_runner``)."""

    def __init__(self, settings: PipelineSettings, say: Say, stack: Stack, published: Callable[[int], None]):
        self.settings, self.say, self.stack, self.published = settings, say, stack, published
        self.runs: list[GlueRun] = []
        self.busy_seconds = 0.0
        # Staged on this machine's disk, then published to S3 by one PUT a file: Spark's writer
        # commits by renames, and a rename on S3A is a copy and a delete, several requests a file.
        self.staging = settings.work_dir / "glue-staging"
        self.worker = GlueWorker() if settings.long_lived_spark else None

    def start(self, cleanup: ExitStack) -> None:
        if self.worker is not None:
            cleanup.callback(self.worker.stop)

    def paths(self) -> GluePaths:
        """The Glue job's s3:// paths on this stack, as its template passes them on Glue."""
        return stack_glue_paths(self.stack.outputs)

    def run(self, *, env: dict[str, str] | None = None, kill_when: Callable[[], bool] | None = None) -> GlueRun:
        """Run the Glue job over the raw objects that are new since its last run: it reads
        and writes s3:// on LocalStack itself, checkpoint included, as it does on Glue.

        The curated files it published are counted even when it dies: on AWS too they are
        on S3 and notified, and an interrupted PUT never shows up as an object.
        """
        paths = self.paths()
        self.say("glue", f"running the job on {paths.source} ({self.settings.spark_master}) ...")
        published_before = self.curated_files()
        try:
            run = (self.worker.run if self.worker else run_glue_job)(
                paths, self.settings.logs / "glue.log", spark_master=self.settings.spark_master,
                env={**self.stack.aws_environ(), **(env or {})}, kill_when=kill_when,
                job_arguments={"staging_path": self.staging.as_uri()})
        except GlueJobError as error:
            self.runs.append(error.run)
            self.say("glue", f"FAILED: {error}")
            self._count_published(published_before)
            raise
        self.runs.append(run)
        self.busy_seconds += run.seconds
        self.say("glue", f"{run.count('files_read')} raw objects: {run.count('records_read')} records read, "
                         f"{run.count('curated')} chart entries and {run.count('observations')} observations "
                         f"curated, {run.count('quarantined')} quarantined in {run.count('batches')} batches "
                         f"({run.seconds:.1f} s)")
        self._count_published(published_before)
        return run

    def curated_files(self) -> set[str]:
        """The keys of the curated Parquet files (those the bucket notifies Snowpipe of)."""
        bucket = self.stack.outputs["CuratedBucketName"]
        pages = self.stack.aws("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=CURATED_PREFIX)
        return {o["Key"] for page in pages for o in page.get("Contents", []) if o["Key"].endswith(".parquet")}

    def _count_published(self, before: set[str]) -> None:
        published = self.curated_files() - before
        self.published(len(published))
        self.say("publish", f"{len(published)} new curated files in s3://{self.stack.outputs['CuratedBucketName']}/"
                            f"{CURATED_PREFIX}")
