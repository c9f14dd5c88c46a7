"""``LocalPipeline``: the whole pipeline on this machine, one method per stage.

    with LocalPipeline(PipelineSettings(markets=("global", "us"))) as pipeline:
        pipeline.poll()            # the DEPLOYED producer Lambda, through lambda.invoke
        pipeline.advance_day()     # the local Spotify server's chart date moves on
        pipeline.run_glue()        # the Glue job (local Spark) on the stack's s3:// paths
        pipeline.load()            # S3 notifications on SQS -> local Snowpipe -> fakesnow
        print(pipeline.report_text())

Entering starts, in order: the local Spotify-compatible server (unless live Spotify is
configured), LocalStack (``localdev.localstack``: reused, Docker or host mode), the local
Snowflake engine (fakesnow server), then deploys the real stack to LocalStack with
``python -m infra.deploy``. Leaving stops every process it started, by pid, and deletes
the stack when the LocalStack it used outlives it. Progress goes to ``out``, one line per
step: ``<stage>  <what happened, with counts>``.

The work is done by one part per responsibility, each a class in a module of its own:
``stack`` (``stack.Stack``: LocalStack, deploy, schedule, teardown, restart), ``clock``
(``producer_clock.ProducerClock``: the Spotify side and the producer's polls), ``imports``
(``chart_imports.ChartImports``: chart exports through the import Lambda), ``glue``
(``glue_runs.GlueRuns``), ``snowflake`` (``snowflake_load.SnowflakeLoad``: the engine and
the local Snowpipe), ``reconciliation`` (``reconciliation.Reconciliation``: the deployed
reconciler Lambda and the Snowflake side's refresh); module functions read the views (``views``) and run the pipeline
over time (``replay``). This class composes them and keeps one small interface for the
command, tests and benchmarks. A new source or stage is one more part, started here in
its place.
"""
from __future__ import annotations

import shutil
import sys
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import date
from pathlib import Path
from typing import Any, Callable, TextIO

from localdev.local_snowflake.engine import local_environ
from localdev.local_snowflake.snowpipe import RunStats
from localdev.local_spark.glue_runner import GluePaths, GlueRun
from localdev.localstack import LocalStack
from localdev.pipeline import replay, views
from localdev.pipeline.chart_imports import ChartImports
from localdev.pipeline.glue_runs import GlueRuns
from localdev.pipeline.producer_clock import ProducerClock
from localdev.pipeline.progress import print_line
from localdev.pipeline.reconciliation import ReconcileOutcome, Reconciliation
from localdev.pipeline.settings import STATE_PREFIX, PipelineSettings
from localdev.pipeline.snowflake_load import SnowflakeLoad
from localdev.pipeline.stack import Stack


class LocalPipeline:
    def __init__(self, settings: PipelineSettings | None = None, *, localstack: LocalStack | None = None,
                 out: TextIO | None = None):
        self.settings = settings or PipelineSettings()
        self.say = print_line(out or sys.stdout)
        self.stack = Stack(self.settings, self.say, localstack)
        self.clock = ProducerClock(self.settings, self.say, self.stack)
        self.snowflake = SnowflakeLoad(self.settings, self.say, self.stack)
        self.glue = GlueRuns(self.settings, self.say, self.stack, published=self.snowflake.published)
        self.imports = ChartImports(self.say, self.stack)
        self.reconciliation = Reconciliation(self.say, self.stack, self.snowflake)
        self._exit = ExitStack()

    # -- lifecycle ---------------------------------------------------------------------
    def __enter__(self) -> "LocalPipeline":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> "LocalPipeline":
        try:
            shutil.rmtree(self.settings.work_dir / "stage", ignore_errors=True)  # a new stack starts empty: so does this
            self.settings.logs.mkdir(parents=True, exist_ok=True)
            self.clock.start(self._exit)
            # The Snowflake engine (its server and migrations, ~2 s) comes up beside LocalStack
            # and the deploy, which need nothing of it.
            with ThreadPoolExecutor(1, thread_name_prefix="snowflake-start") as pool:
                engine = pool.submit(self.snowflake.start, self._exit)
                try:
                    self.stack.start(self._exit)
                    self.glue.start(self._exit)
                    self.deploy()
                finally:
                    engine.result()  # started (and its stop registered), or its error
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop what was started, in reverse order (each by pid); safe to call twice."""
        self._exit.close()

    # -- the stack ---------------------------------------------------------------------
    def deploy(self) -> dict[str, str]:
        outputs = self.stack.deploy(self.clock.stack_parameters(), self.clock.secret())
        self.snowflake.unloaded_files = 0
        return outputs

    def restart_localstack(self) -> float:
        """Restart LocalStack between stages and bring the pipeline back (``Stack.restart``);
        returns the seconds. The curated files' notifications reach the new queue; the local
        Snowpipe skips files it loaded before. The Snowflake engine lives outside LocalStack.
        The new buckets have new names; the Glue checkpoint's file paths move with them (as
        on AWS, where a bucket keeps its name), so a Glue run after the restart reads only
        what is new; anything read twice would meet the MERGE on the natural key."""
        seconds = self.stack.restart()
        self.snowflake.unloaded_files = len(self.glue.curated_files())  # each one notified again
        return seconds

    def set_schedule(self, enabled: bool) -> None:
        self.stack.schedule.set(enabled)

    def aws(self, service: str):
        return self.stack.aws(service)

    @property
    def localstack(self) -> LocalStack | None:
        return self.stack.localstack

    @property
    def outputs(self) -> dict[str, str]:
        return self.stack.outputs

    @property
    def queue_url(self) -> str | None:
        return self.stack.queue_url

    @property
    def schedule_rule(self) -> str | None:
        return self.stack.schedule.rule if self.stack.schedule else None

    # -- the stages --------------------------------------------------------------------
    def chart_date(self) -> date | None:
        return self.clock.chart_date()

    def advance_day(self, days: int = 1) -> date:
        return self.clock.advance_day(days)

    def poll(self) -> dict[str, Any]:
        return self.clock.poll()

    def glue_paths(self) -> GluePaths:
        return self.glue.paths()

    def import_charts(self, paths: list[Path | str], *, each_file: bool = False):
        """Chart exports through the deployed import path (``chart_imports.ChartImports``)."""
        return self.imports.run(paths, each_file=each_file)

    def run_glue(self, *, env: dict[str, str] | None = None, kill_when: Callable[[], bool] | None = None) -> GlueRun:
        return self.glue.run(env=env, kill_when=kill_when)

    def load(self, timeout: float = 60.0) -> RunStats:
        return self.snowflake.load(timeout)

    def reconcile(self) -> ReconcileOutcome:
        """Both halves of reconciliation (``reconciliation.Reconciliation``): what was sent against
        what was curated (records sent again: the next Glue run curates them), curated files
        restored, and every curated file no pipe loaded, loaded."""
        return self.reconciliation.run()

    @property
    def spotify(self):
        return self.clock.spotify

    @property
    def polls(self) -> list[dict[str, Any]]:
        return self.clock.polls

    @property
    def unloaded_files(self) -> int:
        return self.snowflake.unloaded_files

    @property
    def seconds(self) -> dict[str, float]:
        """Busy time per stage: poll, glue, load."""
        return {"poll": self.clock.busy_seconds, "glue": self.glue.busy_seconds, "load": self.snowflake.busy_seconds}

    # -- over time: ``replay``'s functions, which take the pipeline first ------------------
    run_days = replay.run_days
    keep_running = replay.keep_running
    serve = replay.serve

    # -- what a user reads -------------------------------------------------------------
    @property
    def db(self):
        return self.snowflake.db

    @property
    def snowflake_url(self) -> str | None:
        return self.snowflake.url

    def query(self, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
        return views.query(self.db, sql, params)

    def report_text(self, rows: int = 10) -> str:
        return views.report_text(self.db, rows)

    def environment(self) -> dict[str, str]:
        """What another terminal needs so that ``spotify-charts report``, ``live`` and
        ``dashboard`` read this run: the local engine, LocalStack, the stack's names."""
        return {
            **local_environ(self.snowflake_url),
            **self.localstack.environ(),
            "STATE_BUCKET": self.outputs["StateBucketName"],
            "STATE_PREFIX": STATE_PREFIX,
            "PLAYLISTS": self.settings.playlists,
            "GLUE_CHECKPOINT_PATH": str(self.glue_paths().checkpoint),
            "SNOWPIPE_QUEUE_URL": self.queue_url,
            "IMPORTS_BUCKET": self.outputs["ImportsBucketName"],
        }

    def write_environment(self) -> Path:
        """``work_dir/environment.sh``: ``export`` lines of :meth:`environment`; returns its path."""
        return views.write_environment(self.settings.work_dir / "environment.sh", self.environment())
