"""The local tooling's commands in ``spotify-charts``: run, local-glue, load, backfill.

``pyproject.toml`` names each object below as a ``spotify_charts.commands`` entry
point, and ``spotify-charts`` finds them there (spotify_charts.commands): the monitoring
command line never imports the local tooling. Each handler imports its stage when it
runs, so listing the commands stays quick.
"""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import asdict

from spotify_charts.cli import GLUE_PATH_ARGUMENTS
from spotify_charts.commands import Command, CommandError, Passthrough, positive, print_json
from spotify_charts.settings import SettingsError


# -- run --------------------------------------------------------------------------------

RUN = Passthrough("run the whole pipeline locally (arguments: spotify-charts run --help)", "localdev.pipeline.cli")


# -- local-glue -------------------------------------------------------------------------

def local_glue_arguments(parser: argparse.ArgumentParser) -> None:
    for name in GLUE_PATH_ARGUMENTS:
        parser.add_argument(f"--{name}", default=os.environ.get(f"GLUE_{name.upper()}"), metavar="PATH")
    parser.add_argument("--max_files_per_trigger", default="0", help="files per micro-batch (0: one batch)")
    parser.add_argument("--spark_master", default="local[2]", help="local Spark master (default %(default)s)")
    parser.add_argument("--json", action="store_true", help="print the run metrics as JSON")
    parser.add_argument("--verbose", action="store_true", help="show the job's log")


def run_local_glue(args: argparse.Namespace) -> int:
    from localdev.local_spark.glue_runner import GlueJobError, GluePaths, run_glue_job

    missing = [name for name in GLUE_PATH_ARGUMENTS if not getattr(args, name)]
    if missing:
        raise SettingsError("the Glue job needs " + ", ".join(f"--{m} (or GLUE_{m.upper()})" for m in missing))
    paths = GluePaths(*(getattr(args, name) for name in GLUE_PATH_ARGUMENTS))  # folders or s3:// URLs

    def show(line: str) -> None:
        if args.verbose:
            print(line, file=sys.stderr)

    print("running the Glue job (Spark starts in a few seconds) ...", file=sys.stderr)
    try:
        run = run_glue_job(paths, spark_master=args.spark_master, on_log_line=show,
                           job_arguments={"max_files_per_trigger": args.max_files_per_trigger})
    except GlueJobError as error:
        raise CommandError(f"{error}{'' if args.verbose else ' (--verbose shows its log)'}") from None
    metrics = run.metrics
    if args.json:
        print_json(metrics)
    else:
        print(f"Glue run {metrics.get('started_at')} .. {metrics.get('finished_at')}: {metrics.get('batches')} batches, "
              f"{metrics.get('files_read')} files, {metrics.get('records_read')} records read, "
              f"{metrics.get('curated')} curated, {metrics.get('quarantined')} quarantined ({metrics.get('seconds')} s)")
    return 0


LOCAL_GLUE = Command(
    help="one run of the Glue job on local Spark",
    description="Run the Glue job once (python -m glue_streaming.job, on local Spark, in a child process) over "
                "the raw files that are new since its last run, and print its run metrics. Paths are local folders "
                "or s3:// URLs (the AWS endpoint of the environment, through Spark's S3 connector); they default to "
                "GLUE_SOURCE_PATH, GLUE_TARGET_PATH, GLUE_QUARANTINE_PATH, GLUE_CHECKPOINT_PATH.",
    add_arguments=local_glue_arguments, run=run_local_glue)


# -- load -------------------------------------------------------------------------------

def load_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--queue-url", default=os.environ.get("SNOWPIPE_QUEUE_URL"),
                        help="the queue the curated bucket notifies (default $SNOWPIPE_QUEUE_URL)")
    parser.add_argument("--stage-dir", default=None, help="local copy of loaded files (default: the runner's)")
    parser.add_argument("--prefix", default="", help="load only keys starting with this prefix")
    parser.add_argument("--json", action="store_true", help="print the counts as JSON")


def run_load(args: argparse.Namespace) -> int:
    from localdev.local_snowflake import snowpipe
    from snowflake.charts import connection
    from snowflake.charts.migrate import default_variables, migrate

    if not args.queue_url:
        raise SettingsError("--queue-url or SNOWPIPE_QUEUE_URL is required")
    if not connection.is_local():
        raise CommandError(f"set {connection.LOCAL_URL_VAR}: on Snowflake the pipes and the merge task "
                           "load files themselves; this command feeds the local engine")
    with connection.connect() as conn:
        migrate(conn, local=True, variables=default_variables())
        runner = snowpipe.LocalSnowpipe(conn, args.queue_url, args.stage_dir or snowpipe.DEFAULT_STAGE_DIR,
                                        prefix=args.prefix)
        stats = asdict(runner.drain(1))
    if args.json:
        print_json(stats)
    else:
        print(f"{stats['messages']} notifications: {stats['files_loaded']} files loaded ({stats['rows_loaded']} rows), "
              f"{stats['files_already_loaded']} already loaded, {stats['ignored_keys']} ignored, "
              f"{stats['failed_messages']} failed (left on the queue for a retry)")
    return 1 if stats["failed_messages"] else 0


LOAD = Command(
    help="load pending curated files (local Snowpipe)",
    description="Drain the Snowpipe notification queue once into the local engine: each notified curated file "
                "is copied by its pipe's COPY, then the merge task's MERGE runs (localdev.local_snowflake.snowpipe).",
    add_arguments=load_arguments, run=run_load)


# -- backfill ---------------------------------------------------------------------------

def backfill_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", help="raw folder or s3://bucket/prefix")
    parser.add_argument("target", help="new (or empty) folder for the curated area")
    parser.add_argument("--chunk-files", type=positive(int), default=50, help="raw files per chunk (default 50)")
    parser.add_argument("--resume", action="store_true", help="continue an interrupted backfill into TARGET")
    parser.add_argument("--spark-master", default="local[2]", help="local Spark master (default %(default)s)")
    parser.add_argument("--json", action="store_true", help="print the run metrics as JSON")
    parser.add_argument("--verbose", action="store_true", help="show the job's log (always in _backfill.log)")


def run_backfill(args: argparse.Namespace) -> int:
    from localdev.backfill import BackfillError, backfill
    from localdev.local_spark.glue_runner import GlueJobError

    try:
        metrics = backfill(args.source, args.target, chunk_files=args.chunk_files, resume=args.resume,
                           spark_master=args.spark_master, out=sys.stderr, verbose=args.verbose)
    except (BackfillError, GlueJobError) as error:
        raise CommandError(str(error)) from None
    if args.json:
        print_json(metrics)
    else:
        print(f"backfilled {metrics['raw_files']} raw files into {metrics['target']}: {metrics['records_read']} "
              f"records read, {metrics['curated']} curated, {metrics['quarantined']} quarantined "
              f"(in {metrics['quarantine']}), {metrics['batches']} batches")
    return 0


BACKFILL = Command(
    help="replay raw files into a fresh curated area (local Spark)",
    description="Replay raw files (a folder, or an s3:// prefix copied locally first) into a FRESH curated area "
                "with the Glue job on local Spark, in chunks, with its own checkpoint; a progress bar on stderr "
                "shows files and rows done. The area gets the datasets plus _quarantine/, _checkpoint/ and "
                "_backfill.log.",
    add_arguments=backfill_arguments, run=run_backfill)
