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
"""
from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Callable, Mapping, TextIO

from local_spotify import catalog
from localdev.local_spotify_process import LocalSpotifyProcess
from localdev.localstack import LocalStack, ensure_localstack
from localdev.local_spark.glue_runner import GlueJobError, GluePaths, GlueRun, run_glue_job
from localdev.pipeline.stack_glue_paths import stack_glue_paths
from producer.state import StateStore
from snowflake.charts import connection
from localdev.local_snowflake.engine import fakesnow_server, local_environ
from snowflake.charts.migrate import default_variables, migrate
from localdev.local_snowflake.snowpipe import MERGE_EVERY_FILES, LocalSnowpipe, RunStats
from spotify_charts.report import all_charts_text
from spotify_charts.stages import StageFailedError, invoke_function
from spotify_charts.text import movements_text

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCAL_DIR = REPO_ROOT / ".local"  # gitignored
DEFAULT_WORK_DIR = LOCAL_DIR / "pipeline"
DEFAULT_BUILD_DIR = LOCAL_DIR / "build"  # the deploy command's artifacts, reused between runs

# Where Firehose delivers, where the curated files Snowpipe loads are, the producer's state.
# The Glue job's own paths come from the template (``stack_glue_paths``).
RAW_PREFIX = "raw/chart_entries/"
CURATED_PREFIX = "curated/"
STATE_PREFIX = "producer-state/"
# Every bucket whose objects a LocalStack restart must not lose (the Glue checkpoint is
# in the curated bucket, under _checkpoints/).
KEPT_BUCKETS = ("RawBucketName", "StateBucketName", "QuarantineBucketName", "CuratedBucketName")
# Credentials the local Spotify server is told to expect: not real ones.
LOCAL_CLIENT_ID, LOCAL_CLIENT_SECRET = "local-client-id", "local-client-secret"
# The template's smallest interval; the schedule is then set to ``poll_schedule``.
DEPLOYED_POLL_MINUTES = "5"


class PipelineError(RuntimeError):
    """A stage of the local pipeline failed; the message says which and why."""


def live_spotify(environ: Mapping[str, str] | None = None) -> bool:
    """Spotify credentials are configured and no local API is asked for: poll the real Spotify."""
    env = os.environ if environ is None else environ
    return bool(env.get("SPOTIFY_CLIENT_ID") and env.get("SPOTIFY_CLIENT_SECRET") and not env.get("SPOTIFY_API_URL"))


def market_playlists(markets: tuple[str, ...]) -> str:
    """``PLAYLISTS`` for the local server's market playlists: ``id:label,...``."""
    return ",".join(f"{catalog.MARKETS_BY_LABEL[m].playlist_id}:{m}" for m in markets)


@dataclass
class PipelineSettings:
    markets: tuple[str, ...] = ("global", "us")  # local server: the charts to poll
    playlists: str | None = None  # "id:label,..." (live Spotify); default: the markets' playlists
    start_date: date = date(2024, 3, 1)  # local server: first chart day (2024-03-14 and -25 are gaps in the data)
    work_dir: Path = DEFAULT_WORK_DIR  # Snowpipe's stage, logs (cleared on start)
    build_dir: Path = DEFAULT_BUILD_DIR
    stack_name: str = field(default_factory=lambda: f"charts-{uuid.uuid4().hex[:6]}")
    poll_schedule: str = "rate(1 minute)"  # LocalStack's scheduler checks rules once a minute
    spark_master: str = "local[2]"
    localstack_endpoint: str | None = None  # default: AWS_ENDPOINT_URL / LOCALSTACK_HOST / :4566
    live: bool = field(default_factory=live_spotify)

    def __post_init__(self) -> None:
        unknown = [m for m in self.markets if m not in catalog.MARKETS_BY_LABEL]
        if unknown:
            raise PipelineError(f"unknown markets {unknown}; choose from {', '.join(catalog.MARKETS_BY_LABEL)}")
        if self.live and not self.playlists:
            self.playlists = os.environ.get("PLAYLISTS")
            if not self.playlists:
                raise PipelineError("live Spotify: set PLAYLISTS (or --playlists) to the playlists your app may read")
        self.playlists = self.playlists or market_playlists(self.markets)
        self.work_dir = Path(self.work_dir)

    @property
    def logs(self) -> Path:
        return self.work_dir / "logs"


def poll_text(summary: dict[str, Any]) -> str:
    """One poll's summary in words: what the charts did, what went to Firehose, what moved."""
    return (f"changed {len(summary['changed'])}, unchanged {len(summary['unchanged'])}, failed "
            f"{len(summary['failed'])}, deferred {len(summary['deferred'])}; {summary['records_sent']} records and "
            f"{summary.get('observations_sent', 0)} observations to Firehose; movements: "
            f"{movements_text(summary['movements'])}")


def minutes(seconds: float) -> str:
    """``7m12s`` (``42.0s`` under a minute)."""
    return f"{seconds:.1f}s" if seconds < 60 else f"{int(seconds // 60)}m{int(seconds % 60):02d}s"


def print_line(out: TextIO) -> Callable[[str, str], None]:
    def say(stage: str, message: str) -> None:
        print(f"{stage:<10} {message}", file=out, flush=True)
    return say


class LocalPipeline:
    def __init__(self, settings: PipelineSettings | None = None, *, localstack: LocalStack | None = None,
                 out: TextIO | None = None):
        self.settings = settings or PipelineSettings()
        self.say = print_line(out or sys.stdout)
        self.localstack = localstack  # given: used as is and never stopped here
        self.spotify: LocalSpotifyProcess | None = None
        self.snowflake_url: str | None = None
        self.db = None  # an open connection to the local engine
        self.outputs: dict[str, str] = {}
        self.queue_url: str | None = None
        self.schedule_rule: str | None = None
        self._schedule_target: dict | None = None
        self.polls: list[dict[str, Any]] = []
        self.glue_runs: list[GlueRun] = []
        self.loads: list[RunStats] = []
        self.seconds: dict[str, float] = defaultdict(float)  # busy time per stage: poll, glue, load
        self.quiet_polls = False  # one progress line per several polls instead of one per poll
        self._clients: dict[str, Any] = {}
        self.unloaded_files = 0  # curated files published whose notification is not consumed yet
        self._deploying = False  # a deploy started: the stack may exist
        self._exit = ExitStack()

    # -- lifecycle ---------------------------------------------------------------------
    def __enter__(self) -> "LocalPipeline":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> "LocalPipeline":
        try:
            self._prepare_work_dir()
            self._start_spotify()
            self._start_localstack()
            self._start_snowflake()
            self.deploy()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop what was started, in reverse order (each by pid); safe to call twice."""
        self._exit.close()

    def _prepare_work_dir(self) -> None:
        s = self.settings
        shutil.rmtree(s.work_dir / "stage", ignore_errors=True)  # a new stack starts empty: so does this
        s.logs.mkdir(parents=True, exist_ok=True)

    def _start_spotify(self) -> None:
        s = self.settings
        if s.live:
            self.say("spotify", "live Spotify Web API (SPOTIFY_CLIENT_ID/SECRET set, no SPOTIFY_API_URL)")
            return
        self.spotify = LocalSpotifyProcess(
            "--start-date", s.start_date.isoformat(), log_path=s.logs / "local_spotify.log",
            env={"LOCAL_SPOTIFY_CLIENT_ID": LOCAL_CLIENT_ID, "LOCAL_SPOTIFY_CLIENT_SECRET": LOCAL_CLIENT_SECRET})
        self._exit.enter_context(self.spotify)
        self.say("spotify", f"local server {self.spotify.base_url} (pid {self.spotify.pid}) replaying "
                            f"{', '.join(s.markets)} from {s.start_date}")

    def _start_localstack(self) -> None:
        if self.localstack is None:
            self.localstack = ensure_localstack(self.settings.localstack_endpoint)
            self._exit.callback(self.localstack.stop)
            owned = self.localstack.mode != "reused"
        else:
            owned = False
        if not owned:  # someone else's LocalStack outlives us: delete what we deploy there
            self._exit.callback(self.teardown)
        self.say("localstack", f"{self.localstack.mode} at {self.localstack.endpoint}")

    def _start_snowflake(self) -> None:
        self.snowflake_url = self._exit.enter_context(
            fakesnow_server(log_path=str(self.settings.logs / "fakesnow.log")))
        environ = local_environ(self.snowflake_url)
        self.db = connection.connect(environ)
        self._exit.callback(self.db.close)
        migrate(self.db, local=True, variables=default_variables(environ))
        self.say("snowflake", f"local engine (fakesnow) {self.snowflake_url}, migrations applied")

    # -- AWS side ----------------------------------------------------------------------
    def aws(self, service: str):
        """A boto3 client for the LocalStack in use (cached)."""
        if service not in self._clients:
            self._clients[service] = self.localstack.client(service)
        return self._clients[service]

    def aws_environ(self) -> dict[str, str]:
        """This process's environment, with boto3 pointed at LocalStack and nothing else of AWS."""
        clean = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        return {**clean, **self.localstack.environ()}

    def deploy(self) -> dict[str, str]:
        """Package and deploy the stack (``python -m infra.deploy``), then make it usable here:
        the Spotify secret's value, the schedule, the Snowpipe queue's URL."""
        s = self.settings
        argv = [sys.executable, "-m", "infra.deploy", "--stack-name", s.stack_name, "--build-dir", str(s.build_dir),
                "--poll-seconds", "1", "--json", "--playlists", s.playlists,
                "-p", f"PollIntervalMinutes={DEPLOYED_POLL_MINUTES}"]
        if self.spotify is not None:
            argv += ["-p", f"SpotifyApiUrl={self.spotify.api_url}", "-p", f"SpotifyTokenUrl={self.spotify.token_url}"]
        started = time.monotonic()
        self._deploying = True
        self.say("deploy", f"stack {s.stack_name} (packaging, change sets; log {s.logs / 'deploy.log'}) ...")
        with open(s.logs / "deploy.log", "a") as log:
            result = subprocess.run(argv, cwd=REPO_ROOT, env=self.aws_environ(), stdout=subprocess.PIPE,
                                    stderr=log, text=True, timeout=900)
        if result.returncode != 0:
            raise PipelineError(f"deploy failed (exit {result.returncode}); see {s.logs / 'deploy.log'}")
        self.outputs = json.loads(result.stdout)
        self._configure_stack()
        self.say("deploy", f"stack {s.stack_name} ready in {time.monotonic() - started:.1f} s: producer "
                           f"{self.outputs['ProducerFunctionName']}, stream {self.outputs['DeliveryStreamName']}")
        return self.outputs

    def _configure_stack(self) -> None:
        self.aws("secretsmanager").put_secret_value(
            SecretId=self.outputs["SpotifySecretArn"], SecretString=json.dumps(self._spotify_secret()))
        function_arn = self.aws("lambda").get_function(
            FunctionName=self.outputs["ProducerFunctionName"])["Configuration"]["FunctionArn"]
        rules = self.aws("events").list_rule_names_by_target(TargetArn=function_arn)["RuleNames"]
        if len(rules) != 1:
            raise PipelineError(f"expected one schedule rule for the producer, found {rules}")
        self.schedule_rule, self._schedule_target = rules[0], None
        self.set_schedule(False)  # polls are driven from here until keep_running() turns it on
        queue_name = self.outputs["SnowpipeQueueArn"].rsplit(":", 1)[1]
        self.queue_url = self.aws("sqs").get_queue_url(QueueName=queue_name)["QueueUrl"]
        self.unloaded_files = 0

    def _spotify_secret(self) -> dict[str, str]:
        if not self.settings.live:
            return {"client_id": LOCAL_CLIENT_ID, "client_secret": LOCAL_CLIENT_SECRET}
        secret = {"client_id": os.environ["SPOTIFY_CLIENT_ID"], "client_secret": os.environ["SPOTIFY_CLIENT_SECRET"]}
        if os.environ.get("SPOTIFY_REFRESH_TOKEN"):
            secret["refresh_token"] = os.environ["SPOTIFY_REFRESH_TOKEN"]
        return secret

    def set_schedule(self, enabled: bool) -> None:
        """The producer's EventBridge rule: invoking nothing, or the producer at ``poll_schedule``.

        Done through the rule's target, not its state: LocalStack 2026.3 creates a rule's
        timer when its targets are put and never stops it (DisableRule and PutRule change
        the rule, not the timer). With no target the timer invokes nothing; turning the
        schedule on re-creates the rule (same name and ARN, the new expression), so the
        next PutTargets starts a timer at that rate. On AWS DisableRule/PutRule would do.
        """
        events, name = self.aws("events"), self.schedule_rule
        if self._schedule_target is None:  # the stack's own target, kept to put it back
            [self._schedule_target] = events.list_targets_by_rule(Rule=name)["Targets"]
        if events.list_targets_by_rule(Rule=name)["Targets"]:
            events.remove_targets(Rule=name, Ids=[self._schedule_target["Id"]])
        if enabled:
            description = events.describe_rule(Name=name).get("Description", "")
            events.delete_rule(Name=name)
            events.put_rule(Name=name, ScheduleExpression=self.settings.poll_schedule, State="ENABLED",
                            Description=description)
            events.put_targets(Rule=name, Targets=[self._schedule_target])

    def teardown(self) -> None:
        """Delete the stacks and their data (``python -m infra.teardown``)."""
        if not self._deploying:
            return
        argv = [sys.executable, "-m", "infra.teardown", "--stack-name", self.settings.stack_name, "--yes",
                "--poll-seconds", "1"]
        with open(self.settings.logs / "deploy.log", "a") as log:
            result = subprocess.run(argv, cwd=REPO_ROOT, env=self.aws_environ(), stdout=log, stderr=log, timeout=600)
        self.say("teardown", f"stack {self.settings.stack_name} "
                             + ("deleted" if result.returncode == 0 else f"NOT deleted (exit {result.returncode})"))
        self.outputs, self._deploying = {}, False

    # -- stages ------------------------------------------------------------------------
    def chart_date(self) -> date | None:
        return self.spotify.control.date() if self.spotify else None

    def advance_day(self, days: int = 1) -> date:
        if self.spotify is None:
            raise PipelineError("live Spotify: chart days pass in real time (use --keep-running)")
        return self.spotify.control.advance(days)

    def poll(self) -> dict[str, Any]:
        """One poll by the deployed producer Lambda (``lambda.invoke``); returns its summary."""
        started = time.monotonic()
        try:
            payload = invoke_function(self.outputs["ProducerFunctionName"], {}, self.aws("lambda"))
        except StageFailedError as error:
            raise PipelineError(f"the producer Lambda failed: {error}") from None
        self.polls.append(payload)
        self.seconds["poll"] += time.monotonic() - started
        if payload.get("skipped"):  # another poll (e.g. the schedule's) held the poll lease
            self.say("poll", f"skipped: {payload['skipped']}")
        elif not self.quiet_polls:
            day = self.chart_date()
            self.say("poll", f"{'[' + str(day) + '] ' if day else ''}{poll_text(payload)} "
                             f"({time.monotonic() - started:.1f} s)")
        return payload

    def glue_paths(self) -> GluePaths:
        """The Glue job's s3:// paths on this stack, as its template passes them on Glue."""
        return stack_glue_paths(self.outputs)

    def run_glue(self, *, env: dict[str, str] | None = None, kill_when: Callable[[], bool] | None = None) -> GlueRun:
        """Run the Glue job over the raw objects that are new since its last run: it reads
        and writes s3:// on LocalStack itself, checkpoint included, as it does on Glue.

        The curated files it published are counted even when it dies: on AWS too they are
        on S3 and notified, and an interrupted PUT never shows up as an object.
        """
        paths = self.glue_paths()
        self.say("glue", f"running the job on {paths.source} ({self.settings.spark_master}) ...")
        published_before = self._curated_files()
        try:
            run = run_glue_job(paths, self.settings.logs / "glue.log", spark_master=self.settings.spark_master,
                               env={**self.aws_environ(), **(env or {})}, kill_when=kill_when)
        except GlueJobError as error:
            self.glue_runs.append(error.run)
            self.say("glue", f"FAILED: {error}")
            self._count_published(published_before)
            raise
        self.glue_runs.append(run)
        self.seconds["glue"] += run.seconds
        self.say("glue", f"{run.count('files_read')} raw objects: {run.count('records_read')} records read, "
                         f"{run.count('curated')} chart entries and {run.count('observations')} observations "
                         f"curated, {run.count('quarantined')} quarantined in {run.count('batches')} batches "
                         f"({run.seconds:.1f} s)")
        self._count_published(published_before)
        return run

    def _curated_files(self) -> set[str]:
        """The keys of the curated Parquet files (those the bucket notifies Snowpipe of)."""
        bucket = self.outputs["CuratedBucketName"]
        pages = self.aws("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=CURATED_PREFIX)
        return {o["Key"] for page in pages for o in page.get("Contents", []) if o["Key"].endswith(".parquet")}

    def _count_published(self, before: set[str]) -> None:
        published = self._curated_files() - before
        self.unloaded_files += len(published)
        self.say("publish", f"{len(published)} new curated files in s3://{self.outputs['CuratedBucketName']}/"
                            f"{CURATED_PREFIX}")

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
        self.seconds["load"] += time.monotonic() - started
        self.say("load", f"{stats.messages} notifications: {stats.files_loaded} files loaded ({stats.rows_loaded} "
                         f"rows), {stats.files_already_loaded} already loaded, {stats.ignored_keys} ignored, "
                         f"{stats.failed_messages} failed ({time.monotonic() - started:.1f} s)")
        return stats

    def snowpipe(self, merge_every_files: int = MERGE_EVERY_FILES) -> LocalSnowpipe:
        """A local Snowpipe runner on this pipeline's queue and engine (run one at a time)."""
        return LocalSnowpipe(self.db, self.queue_url, self.settings.work_dir / "stage", prefix=CURATED_PREFIX,
                             merge_every_files=merge_every_files, sqs=self.aws("sqs"), s3=self.aws("s3"))

    def run_days(self, days: int, glue_every: int = 2, *, progress_seconds: float | None = None,
                 background_glue: bool = False) -> None:
        """``days`` chart days in accelerated time: each day the server moves on and the
        producer polls; Glue + load after every ``glue_every`` polls and at the end.

        With ``progress_seconds``, one ``replay`` progress line at most that often instead
        of a line per poll. With ``background_glue``, the stages run side by side, as on
        AWS: the producer keeps polling while Glue runs (one run at a time, started when
        ``glue_every`` polls are due and the previous run has ended, so each run takes what
        landed meanwhile) and the local Snowpipe loads each file as it is notified; after
        the last poll, a last Glue run and the load of what is left."""
        started = last_line = time.monotonic()
        self.quiet_polls = progress_seconds is not None
        since_glue = 0
        stop = threading.Event()
        workers: list[threading.Thread] = []  # the Glue run in the background, if one is going
        failures: list[BaseException] = []

        def in_background(name: str, work: Callable[[], Any]) -> threading.Thread:
            def run() -> None:
                try:
                    work()
                except BaseException as error:  # handed to the polling thread
                    failures.append(error)
            thread = threading.Thread(target=run, name=name, daemon=True)
            thread.start()
            return thread

        # Beside the polls, merges wait for bigger backlogs: a MERGE costs about the same for
        # 100 files as for 500, and more as the tables grow.
        snowpipe = self.snowpipe(merge_every_files=5 * MERGE_EVERY_FILES) if background_glue else None
        loading = in_background("snowpipe", lambda: snowpipe.poll(stop, wait_seconds=1)) if snowpipe else None
        try:
            for day in range(days):
                if failures:
                    raise failures[0]
                if day:
                    self.advance_day()
                self.poll()
                since_glue += 1
                if self.quiet_polls and (time.monotonic() - last_line >= progress_seconds or day == days - 1):
                    self.say("replay", self.progress_text(day + 1, days, time.monotonic() - started))
                    last_line = time.monotonic()
                if snowpipe is None and (since_glue >= glue_every or day == days - 1):
                    self.run_glue()
                    self.load()
                    since_glue = 0
                elif snowpipe is not None and since_glue >= glue_every and not any(w.is_alive() for w in workers):
                    workers[:] = [in_background("glue", lambda: self.run_glue(kill_when=stop.is_set))]
                    since_glue = 0
            if snowpipe is not None:  # the last Glue run, then what Snowpipe has not loaded yet
                for worker in workers:
                    worker.join()
                if failures:
                    raise failures[0]
                self.run_glue()
                stop.set()
                loading.join()
                if failures:
                    raise failures[0]
                self._count_background_load(snowpipe.stats)
                self.load()
        finally:
            stop.set()  # an interrupted replay kills a Glue run still going in the background
            for thread in [*workers, *([loading] if loading else [])]:
                thread.join(timeout=30)  # a killed Glue run ends at once; a load gets a bounded wait
            self.quiet_polls = False
        self.say("replay", f"{days} chart days in {minutes(time.monotonic() - started)}; busy time "
                           + ", ".join(f"{stage} {minutes(self.seconds[stage])}"
                                       for stage in ("poll", "glue", "load"))
                           + (" (Glue and the load beside the polls)" if background_glue else ""))

    def _count_background_load(self, stats: RunStats) -> None:
        """What the Snowpipe running beside the polls loaded (called once it has stopped)."""
        self.loads.append(stats)
        self.unloaded_files = max(0, self.unloaded_files - stats.files_loaded - stats.files_already_loaded)
        self.seconds["load"] += stats.busy_seconds
        self.say("load", f"beside the polls: {stats.messages} notifications: {stats.files_loaded} files loaded "
                         f"({stats.rows_loaded} rows) in {stats.merges} merges, {stats.files_already_loaded} already "
                         f"loaded, {stats.failed_messages} failed ({stats.busy_seconds:.1f} s busy)")

    def progress_text(self, done: int, total: int, elapsed: float) -> str:
        """``[2023-09-12] 118/560 chart days (21%), ...; 1m41s elapsed, about 6m20s left``."""
        day = self.chart_date()
        sent = sum(p["records_sent"] for p in self.polls)
        observed = sum(p.get("observations_sent", 0) for p in self.polls)
        failed = sum(1 for p in self.polls if p["failed"])
        left = elapsed / done * (total - done) if done else 0.0
        return (f"{'[' + str(day) + '] ' if day else ''}{done}/{total} chart days ({done / total:.0%}), "
                f"{sent:,} chart entries and {observed:,} observations sent, {failed} polls with failed charts; "
                f"{minutes(elapsed)} elapsed" + (f", about {minutes(left)} left" if done < total else ""))

    def keep_running(self, stop: threading.Event, *, glue_seconds: float = 120.0,
                     day_seconds: float | None = 120.0, check_seconds: float = 5.0) -> None:
        """Polls on the EventBridge schedule until ``stop`` is set; Glue + load every
        ``glue_seconds``; with the local server, a new chart day every ``day_seconds``."""
        self.set_schedule(True)
        self.say("schedule", f"producer polls on its EventBridge schedule ({self.settings.poll_schedule}); "
                             f"Glue + load every {glue_seconds:g} s"
                             + (f"; a new chart day every {day_seconds:g} s" if self.spotify and day_seconds else "")
                             + ". Ctrl-C stops everything.")
        next_glue = time.monotonic() + glue_seconds
        next_day = time.monotonic() + (day_seconds or float("inf"))
        seen = (self.last_poll() or {}).get("poll_id")
        while not stop.wait(check_seconds):
            now = time.monotonic()
            if self.spotify is not None and day_seconds and now >= next_day:
                self.say("spotify", f"chart date is now {self.advance_day()}")
                next_day = now + day_seconds
            last = self.last_poll()
            if last and last.get("poll_id") != seen:
                seen = last["poll_id"]
                self.say("poll", f"scheduled: {poll_text(last)}")
            if now >= next_glue:
                self.run_glue()
                self.load()
                next_glue = time.monotonic() + glue_seconds

    def serve(self, stop: threading.Event) -> None:
        """Keep everything up, polling nothing, until ``stop`` is set (or Ctrl-C): the views
        and the dashboard stay readable, from here or another terminal."""
        self.say("serve", "the views and the dashboard stay up, nothing polls; Ctrl-C stops everything")
        while not stop.wait(1.0):
            pass

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
        }

    def write_environment(self) -> Path:
        """``work_dir/environment.sh``: ``export`` lines of :meth:`environment` (LocalStack's
        dummy credentials, no secret); returns its path."""
        path = self.settings.work_dir / "environment.sh"
        lines = [f"# The local pipeline of {time.strftime('%Y-%m-%d %H:%M')} (pid {os.getpid()}); valid while it runs."]
        lines += [f"export {name}={shlex.quote(value)}" for name, value in self.environment().items()]
        path.write_text("\n".join(lines) + "\n")
        return path

    def last_poll(self) -> dict[str, Any] | None:
        """The summary of the producer's latest poll (its heartbeat in the state bucket)."""
        return StateStore(self.outputs["StateBucketName"], STATE_PREFIX, self.aws("s3")).load_last_poll()

    # -- LocalStack restart (fault tests) ---------------------------------------------
    def restart_localstack(self) -> float:
        """Restart LocalStack between stages and bring the pipeline back; returns the seconds.

        LocalStack's community edition keeps nothing across a restart, so before it the
        objects of every bucket (raw, producer state, quarantine, curated with the Glue
        job's checkpoint) are read into memory; after it the stack is deployed again and
        they are put back. The curated files' notifications reach the new queue; the local
        Snowpipe skips files it loaded before. The Snowflake engine lives outside LocalStack.
        The new stack's buckets have new names: a Glue run after the restart sees the raw
        objects under new paths and reads them again; its dedupe curates nothing twice.
        """
        started = time.monotonic()
        s3 = self.aws("s3")
        kept = {output: self._read_objects(s3, self.outputs[output]) for output in KEPT_BUCKETS}
        counts = ", ".join(f"{len(objects)} {output.removesuffix('BucketName').lower()}"
                           for output, objects in kept.items())
        self.say("restart", f"kept the objects of every bucket ({counts}); restarting LocalStack ...")
        self.localstack.restart()  # host mode only: raises LocalStackError otherwise
        self._clients.clear()
        self.deploy()
        s3 = self.aws("s3")
        for output, objects in kept.items():
            for key, body in objects.items():
                s3.put_object(Bucket=self.outputs[output], Key=key, Body=body)
        self.unloaded_files = len(self._curated_files())  # each one notified again
        seconds = time.monotonic() - started
        self.say("restart", f"LocalStack restarted, stack redeployed, objects restored ({counts}) ({seconds:.1f} s)")
        return seconds

    @staticmethod
    def _read_objects(s3, bucket: str) -> dict[str, bytes]:
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return {o["Key"]: s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
                for page in pages for o in page.get("Contents", [])}

    # -- the views ---------------------------------------------------------------------
    def query(self, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
        cursor = self.db.cursor()
        cursor.execute(sql, params or None)
        names = [d[0].lower() for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]

    def report_text(self, rows: int = 10) -> str:
        """Each chart's report (``spotify_charts.report.all_charts_text``)."""
        return all_charts_text(self.db, rows)
