"""The Snowflake side: the local engine (a fakesnow server, migrated) and the local
Snowpipe that loads the curated files the stack's queue is notified of."""
from __future__ import annotations

import time
from contextlib import ExitStack
from dataclasses import asdict

from localdev.local_snowflake.engine import fakesnow_server, local_environ
from localdev.local_snowflake.snowpipe import MERGE_EVERY_FILES, LocalSnowpipe, RunStats
from localdev.pipeline.progress import Say
from localdev.pipeline.settings import CURATED_PREFIX, PipelineError, PipelineSettings
from localdev.pipeline.stack import Stack
from snowflake.charts import connection
from snowflake.charts.migrate import default_variables, migrate


class SnowflakeLoad:
    """The engine (``db``, ``url``) and the loads into it; ``unloaded_files`` counts the
    curated files published whose notification is not consumed yet."""

    def __init__(self, settings: PipelineSettings, say: Say, stack: Stack):
        self.settings, self.say, self.stack = settings, say, stack
        self.url: str | None = None
        self.db = None  # an open connection to the local engine
        self.unloaded_files = 0
        self.loads: list[RunStats] = []
        self.busy_seconds = 0.0

    def start(self, cleanup: ExitStack) -> None:
        self.url = cleanup.enter_context(fakesnow_server(log_path=str(self.settings.logs / "fakesnow.log")))
        environ = local_environ(self.url)
        self.db = connection.connect(environ)
        cleanup.callback(self.db.close)
        migrate(self.db, local=True, variables=default_variables(environ))
        self.say("snowflake", f"local engine (fakesnow) {self.url}, migrations applied")

    def published(self, files: int) -> None:
        """``files`` more curated files are on S3, each to be notified and loaded."""
        self.unloaded_files += files

    def snowpipe(self, merge_every_files: int = MERGE_EVERY_FILES) -> LocalSnowpipe:
        """A local Snowpipe runner on this pipeline's queue and engine (run one at a time)."""
        return LocalSnowpipe(self.db, self.stack.queue_url, self.settings.work_dir / "stage", prefix=CURATED_PREFIX,
                             merge_every_files=merge_every_files, sqs=self.stack.aws("sqs"), s3=self.stack.aws("s3"))

    def load(self, timeout: float = 60.0) -> RunStats:
        """Run the local Snowpipe until the notifications of every uploaded file were consumed."""
        started = time.monotonic()
        runner = self.snowpipe()
        stats = runner.stats
        # S3 notifies SQS asynchronously: a drain that finds the queue empty may be early.
        while True:
            runner.drain(wait_seconds=1)
            if stats.files_loaded + stats.files_already_loaded >= self.unloaded_files:
                break
            if stats.failed_messages or time.monotonic() - started > timeout:
                raise PipelineError(
                    f"load: {self.unloaded_files} published files, only "
                    f"{stats.files_loaded + stats.files_already_loaded} notified and loaded after {time.monotonic() - started:.0f} s ({asdict(stats)})")
        self.unloaded_files = 0
        self.loads.append(stats)
        self.busy_seconds += time.monotonic() - started
        self.say("load", f"{stats.messages} notifications: {stats.files_loaded} files loaded ({stats.rows_loaded} "
                         f"rows), {stats.files_already_loaded} already loaded, {stats.ignored_keys} ignored, "
                         f"{stats.failed_messages} failed ({time.monotonic() - started:.1f} s)")
        return stats

    def count_background_load(self, stats: RunStats) -> None:
        """What a Snowpipe running beside the polls loaded (called once it has stopped)."""
        self.loads.append(stats)
        self.unloaded_files = max(0, self.unloaded_files - stats.files_loaded - stats.files_already_loaded)
        self.busy_seconds += stats.busy_seconds
        self.say("load", f"beside the polls: {stats.messages} notifications: {stats.files_loaded} files loaded "
                         f"({stats.rows_loaded} rows) in {stats.merges} merges, {stats.files_already_loaded} already "
                         f"loaded, {stats.failed_messages} failed ({stats.busy_seconds:.1f} s busy)")
