"""Local Snowpipe: load curated files named by S3 event notifications, then merge.

Stands in for Snowflake's auto-ingest pipes and merge task on the local engine:

1. receive S3 event notifications from the SQS queue the stack points the curated
   bucket at (boto3, so ``AWS_ENDPOINT_URL`` selects moto or LocalStack);
2. skip ``s3:TestEvent`` messages, and keys no pipe loads (other prefixes, Spark's
   ``_SUCCESS`` markers, the quarantine dataset): Snowpipe ignores those too. They are
   logged and their messages deleted, as they can never load;
3. download each new object to a local stage folder that mirrors ``<bucket>/<key>``;
4. run the pipe's own ``COPY INTO`` (read from ``migrations/snowflake_only/V4__pipes.sql``)
   on that file. The engine's load history skips a file it loaded before, as
   Snowpipe's does;
5. run the merge task's ``MERGE`` statements (``R__merge_task.sql``) with each stream
   read as its landing table, then empty those landing tables (what consuming a stream
   does): once per backlog, as the task runs on a schedule, at the latest every
   ``MERGE_EVERY_FILES`` files;
6. delete a message only after all its files loaded and merged. A failed message
   becomes visible again after the visibility timeout and is retried (the queue's
   redrive policy, if any, moves it to a dead-letter queue in the end).

Safe to run twice, or to get a message twice: a loaded file is skipped, and the merges
are idempotent. Run one runner per engine (as Snowflake runs one task).

    python -m localdev.local_snowflake.snowpipe --queue-url URL --once      # drain and exit
    python -m localdev.local_snowflake.snowpipe --queue-url URL             # poll until Ctrl-C
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable
from urllib.parse import unquote_plus

import boto3

from snowflake.charts import connection
from localdev.local_snowflake.loader import CuratedLoader
from snowflake.charts.migrate import default_variables, migrate

log = logging.getLogger("localdev.local_snowflake.snowpipe")

DEFAULT_STAGE_DIR = Path(tempfile.gettempdir()) / "snowpipe-local-stage"
# Long enough for a download, a COPY and the merges; a crashed runner's messages come back after it.
VISIBILITY_TIMEOUT_S = 300
# A backlog is merged at least every this many files (see LocalSnowpipe._run).
MERGE_EVERY_FILES = 100


class MessageFormatError(ValueError):
    """An SQS message is not an S3 event notification."""


@dataclass(frozen=True)
class S3Object:
    bucket: str
    key: str


@dataclass
class RunStats:
    messages: int = 0
    test_events: int = 0
    ignored_keys: int = 0
    files_loaded: int = 0
    files_already_loaded: int = 0
    rows_loaded: int = 0
    failed_messages: int = 0
    merges: int = 0
    busy_seconds: float = 0.0  # spent loading and merging (not waiting for messages)


def parse_notification(body: str) -> list[S3Object] | None:
    """The created objects of an S3 event notification; None for an ``s3:TestEvent``.

    Accepts a notification delivered straight from S3 or wrapped by SNS.
    """
    try:
        message = json.loads(body)
    except json.JSONDecodeError as error:
        raise MessageFormatError(f"not JSON: {error}") from None
    if not isinstance(message, dict):
        raise MessageFormatError("not a JSON object")
    if message.get("Type") == "Notification" and "Message" in message:
        return parse_notification(message["Message"])  # S3 -> SNS -> SQS
    if message.get("Event") == "s3:TestEvent":
        return None
    if not isinstance(message.get("Records"), list):
        raise MessageFormatError("no Records")
    objects = []
    for record in message["Records"]:
        if not str(record.get("eventName", "")).startswith("ObjectCreated:"):
            continue  # removals and other events load nothing
        try:
            objects.append(S3Object(record["s3"]["bucket"]["name"], unquote_plus(record["s3"]["object"]["key"])))
        except (KeyError, TypeError):
            raise MessageFormatError("a record lacks s3.bucket.name or s3.object.key") from None
    return objects


@dataclass
class RefreshStats:
    """What a refresh (``LocalSnowpipe.refresh``) found and did."""

    files_listed: int = 0  # curated files a pipe loads
    files_loaded: int = 0  # not in the load history before: loaded now
    rows_loaded: int = 0
    failed: list[str] = field(default_factory=list)  # keys that could not load (corrupt, ...)


class LocalSnowpipe:
    """Consumes the curated bucket's notifications into the local engine."""

    def __init__(self, conn, queue_url: str, stage_dir: Path | str = DEFAULT_STAGE_DIR, *,
                 prefix: str = "", visibility_timeout: int = VISIBILITY_TIMEOUT_S,
                 merge_every_files: int = MERGE_EVERY_FILES, sqs=None, s3=None):
        self.loader = CuratedLoader(conn, stage_dir)
        self.queue_url = queue_url
        self.prefix = prefix
        self.visibility_timeout = visibility_timeout
        self.merge_every_files = merge_every_files
        self.sqs = sqs or boto3.client("sqs")
        self.s3 = s3 or boto3.client("s3")
        self.stats = RunStats()

    def load_object(self, obj: S3Object) -> bool:
        """Download and COPY one notified object; False if no pipe loads it (ignored)."""
        if not obj.key.startswith(self.prefix) or self.loader.definitions.match(obj.key) is None:
            log.info("ignored s3://%s/%s: no pipe loads it", obj.bucket, obj.key)
            self.stats.ignored_keys += 1
            return False
        path = f"{obj.bucket}/{obj.key}"
        local_path = self.loader.stage_dir / path
        local_path.parent.mkdir(parents=True, exist_ok=True)
        partial = local_path.with_name(local_path.name + ".download")
        self.s3.download_file(obj.bucket, obj.key, str(partial))
        os.replace(partial, local_path)  # the engine never reads a half-written file
        outcome = self.loader.copy(path)
        if outcome.loaded:
            self.stats.files_loaded += 1
            self.stats.rows_loaded += outcome.rows
        else:
            self.stats.files_already_loaded += 1
        return True

    def _copy_files(self, messages: Iterable[dict]) -> tuple[list[dict], list[dict], int]:
        """COPY the files of some messages: (messages that loaded, messages that failed, data files)."""
        started = time.monotonic()
        try:
            return self._copy_each(messages)
        finally:
            self.stats.busy_seconds += time.monotonic() - started

    def _copy_each(self, messages: Iterable[dict]) -> tuple[list[dict], list[dict], int]:
        done, failed, data_files = [], [], 0
        for message in messages:
            self.stats.messages += 1
            try:
                objects = parse_notification(message["Body"])
                if objects is None:
                    self.stats.test_events += 1
                    log.info("skipped s3:TestEvent")
                else:
                    data_files += sum(self.load_object(obj) for obj in objects)
                done.append(message)
            except Exception as error:  # noqa: BLE001 - one bad message must not stop the others
                self.stats.failed_messages += 1
                failed.append(message)
                log.error("message %s not loaded, left on the queue: %s", message.get("MessageId"), error)
        return done, failed, data_files

    def _merge_and_delete(self, done: list[dict], data_files: int) -> None:
        """Merge what was copied, then delete its messages. If the merge raises, nothing is
        deleted: the messages come back, their files are skipped as loaded, and the rows
        still in the landing tables merge next time."""
        if data_files:
            started = time.monotonic()
            self.loader.merge()
            self.stats.merges += 1
            self.stats.busy_seconds += time.monotonic() - started
        for start in range(0, len(done), 10):
            self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done[start:start + 10])
            ])

    def refresh(self, bucket: str) -> RefreshStats:
        """What ``ALTER PIPE ... REFRESH`` does on Snowflake (snowflake_only/R__load_reconciliation.sql):
        load every curated file of ``bucket`` (under this runner's prefix) that a pipe loads and
        the engine's load history does not hold, whatever became of its notification, then
        merge. A file that cannot load is listed in ``failed`` and left, as Snowpipe leaves it."""
        stats = RefreshStats()
        loaded = self.loader.loaded_paths()
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=self.prefix)
        for key in sorted(o["Key"] for page in pages for o in page.get("Contents", [])):
            if self.loader.definitions.match(key) is None:
                continue
            stats.files_listed += 1
            if f"{bucket}/{key}" in loaded:
                continue
            rows_before = self.stats.rows_loaded
            try:
                self.load_object(S3Object(bucket, key))
            except Exception as error:  # noqa: BLE001 - one bad file must not stop the others
                stats.failed.append(key)
                log.error("refresh: s3://%s/%s not loaded: %s", bucket, key, error)
                continue
            stats.files_loaded += 1
            stats.rows_loaded += self.stats.rows_loaded - rows_before
        if stats.files_loaded:
            self.loader.merge()
        return stats

    def receive(self, wait_seconds: int) -> list[dict]:
        return self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds,
            VisibilityTimeout=self.visibility_timeout,
        ).get("Messages", [])

    def _run(self, wait_seconds: int, stop: threading.Event | None) -> RunStats:
        """Receive, COPY, and MERGE once per backlog rather than once per receive (a MERGE
        costs about as much for 1 file as for 100), but at the latest after
        ``merge_every_files`` files or half the visibility timeout, so that messages are
        deleted long before they would come back. Without ``stop``: return when nothing
        is left but messages that already failed in this run."""
        failed_ids: set[str] = set()
        done: list[dict] = []
        data_files, oldest = 0, 0.0
        while stop is None or not stop.is_set():
            fresh = [m for m in self.receive(wait_seconds) if m["MessageId"] not in failed_ids]
            if fresh:
                if not done:
                    oldest = time.monotonic()
                loaded, failed, files = self._copy_files(fresh)
                done += loaded
                data_files += files
                failed_ids.update(m["MessageId"] for m in failed)
            caught_up = len(fresh) < 10
            due = data_files >= self.merge_every_files or time.monotonic() - oldest > self.visibility_timeout / 2
            if done and (caught_up or due):
                self._merge_and_delete(done, data_files)
                done, data_files = [], 0
            if not fresh and stop is None:
                break
        if done:
            self._merge_and_delete(done, data_files)
        return self.stats

    def drain(self, wait_seconds: int = 1) -> RunStats:
        """Process messages until the queue has none but those that already failed in this
        drain (they stay on the queue for a later run, or a dead-letter queue)."""
        return self._run(wait_seconds, stop=None)

    def poll(self, stop: threading.Event, wait_seconds: int = 10) -> RunStats:
        """Process messages as they come until ``stop`` is set (long polling)."""
        return self._run(wait_seconds, stop)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queue-url", default=os.environ.get("SNOWPIPE_QUEUE_URL"),
                        help="SQS queue the curated bucket notifies (default: $SNOWPIPE_QUEUE_URL)")
    parser.add_argument("--stage-dir", default=str(DEFAULT_STAGE_DIR),
                        help="local folder mirroring <bucket>/<key> of loaded files (default: %(default)s)")
    parser.add_argument("--prefix", default="", help="load only keys starting with this prefix")
    parser.add_argument("--once", action="store_true", help="drain the queue and exit")
    parser.add_argument("--wait", type=int, default=10, help="long-poll seconds per receive (max 20)")
    args = parser.parse_args(argv)
    if not args.queue_url:
        parser.error("--queue-url or SNOWPIPE_QUEUE_URL is required")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if not connection.is_local():
        parser.error(f"set {connection.LOCAL_URL_VAR}: this runner feeds the local engine; "
                     "on Snowflake the pipes and the merge task do this job")
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    started = time.monotonic()
    with connection.connect() as conn:
        migrate(conn, local=True, variables=default_variables())
        runner = LocalSnowpipe(conn, args.queue_url, args.stage_dir, prefix=args.prefix)
        stats = runner.drain(1) if args.once else runner.poll(stop, min(args.wait, 20))
    print(json.dumps({"snowpipe": asdict(stats), "seconds": round(time.monotonic() - started, 3)}))
    return 1 if stats.failed_messages else 0


if __name__ == "__main__":
    sys.exit(main())
