"""Chart events onto the SNS topic subscribers filter: the one place both Lambdas publish.

Each event is one message. Its message attributes are what SNS filter policies match
(``spotify-charts subscribe`` writes policies over the same names, :data:`ATTRIBUTES`):

=============  ============  ===============================================================
attribute      type          value
=============  ============  ===============================================================
``chart``      String        the chart's label (a playlist's ``PLAYLISTS`` label, an export's alias)
``event``      String        NEW_ENTRY, RE_ENTRY, EXIT, NEW_NUMBER_ONE, TOP_10_ENTRY or CLIMB
``track_id``   String        the Spotify track id
``artist_ids`` String.Array  the views' artist keys: Spotify artist ids, or an export's credited name
``position``   Number        the position on this edition (an EXIT's: its last one)
=============  ============  ===============================================================

The body is JSON with the rest (dates, names, previous position, change); email
subscribers get one line of text instead (``MessageStructure=json``).

``PublishBatch`` takes 10 messages a call; a pass sends its first call alone, then the
others side by side (a poll's 50-100 events take the time of a few calls, not of ten). Messages SNS refuses for a passing reason
(throttling, an internal error, a connection error or timeout) are retried with backoff;
those refused for good (``SenderFault``, access denied, no such topic) are not. With a
deadline no call starts that could end after it. :meth:`EventPublisher.publish` never
raises: what was not published is counted in its report, and the Lambdas log it and emit
``ChartEventsFailed``, which an alarm watches. A poll or an import never fails because of
its alerts.
"""
from __future__ import annotations

import json
import random
import time
import weakref
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import boto3
from botocore.exceptions import ConnectionError as BotocoreConnectionError, HTTPClientError

from firehose.writer import CALL_TIMEOUT_SECONDS, CLIENT_CONFIG, batches, call_error_code
from producer.chart_events import EXIT, ChartEvent

CHART, EVENT, TRACK_ID, ARTIST_IDS, POSITION = "chart", "event", "track_id", "artist_ids", "position"
ATTRIBUTES = (CHART, EVENT, TRACK_ID, ARTIST_IDS, POSITION)
MAX_BATCH_MESSAGES = 10  # PublishBatch's limit
MAX_BATCH_BYTES = 256 * 1024  # of one call's messages and attributes together
_RETRYABLE_CODES = frozenset({"Throttling", "ThrottlingException", "Throttled", "InternalError", "InternalFailure",
                              "ServiceUnavailable", "KMSThrottling", "KMSThrottlingException"})
DEADLINE_EXCEEDED = "DeadlineExceeded"


@dataclass(frozen=True)
class EditionRef:
    """Which chart and edition events belong to."""

    chart: str  # the label subscribers name
    playlist_id: str
    origin: str  # the contract's origin: 'playlist' or 'chart_export'
    chart_date: str  # YYYY-MM-DD
    snapshot_id: str
    previous_chart_date: str | None = None


@dataclass(frozen=True)
class EventMessage:
    edition: EditionRef
    event: ChartEvent

    def attributes(self) -> dict[str, dict[str, str]]:
        entry = self.event.entry
        values = {CHART: ("String", self.edition.chart), EVENT: ("String", self.event.event),
                  TRACK_ID: ("String", entry.track_id), POSITION: ("Number", str(entry.position))}
        if entry.artist_keys:  # SNS takes no empty array
            values[ARTIST_IDS] = ("String.Array", json.dumps(list(entry.artist_keys), ensure_ascii=False))
        return {name: {"DataType": kind, "StringValue": value} for name, (kind, value) in values.items()}

    def body(self) -> dict[str, Any]:
        event, entry = self.event, self.event.entry
        change = None if event.previous_position is None else event.previous_position - entry.position
        return {"event": event.event, "chart": self.edition.chart, "playlist_id": self.edition.playlist_id,
                "origin": self.edition.origin, "chart_date": self.edition.chart_date,
                "previous_chart_date": self.edition.previous_chart_date, "snapshot_id": self.edition.snapshot_id,
                "track_id": entry.track_id, "track_name": entry.track_name, "artist_names": list(entry.artist_names),
                "artist_ids": list(entry.artist_keys), "position": entry.position,
                "previous_position": event.previous_position, "change": change}

    def text(self) -> str:
        """One line for people (email)."""
        entry, event = self.event.entry, self.event
        where = f"last at #{entry.position}" if event.event == EXIT else f"#{entry.position}"
        if event.previous_position is not None and event.event != EXIT:
            where += f" (was #{event.previous_position})"
        artists = ", ".join(entry.artist_names)
        return (f"{event.event} on {self.edition.chart} {self.edition.chart_date}: {entry.track_name or entry.track_id}"
                f"{f' by {artists}' if artists else ''}, {where}")

    def batch_entry(self, entry_id: str) -> dict[str, Any]:
        body = json.dumps(self.body(), ensure_ascii=False, separators=(",", ":"))
        # A subject must be ASCII: the chart's label may not be.
        subject = f"{self.event.event} on {self.edition.chart}".encode("ascii", "replace").decode()[:99]
        return {"Id": entry_id, "Subject": subject, "MessageStructure": "json",
                "Message": json.dumps({"default": body, "email": self.text()}, ensure_ascii=False),
                "MessageAttributes": self.attributes()}


@dataclass
class PublishReport:
    published: int = 0
    failed: int = 0
    calls: int = 0
    retried: int = 0
    errors: Counter = field(default_factory=Counter)  # error code -> messages it finally failed

    def add(self, other: "PublishReport") -> None:
        self.published += other.published
        self.failed += other.failed
        self.calls += other.calls
        self.retried += other.retried
        self.errors.update(other.errors)

    def summary(self) -> dict[str, Any]:
        return {"published": self.published, "failed": self.failed, "calls": self.calls,
                **({"errors": dict(self.errors)} if self.errors else {})}


@dataclass(frozen=True)
class _NotSent:
    """A batch no call was made for, and why: an earlier final error's code, or the deadline."""

    code: str


class EventPublisher:
    """Publishes :class:`EventMessage` s to one topic."""

    def __init__(self, topic_arn: str, client=None, *, max_attempts: int = 3, base_delay: float = 0.2,
                 max_delay: float = 2.0, call_timeout: float = CALL_TIMEOUT_SECONDS,
                 sleep: Callable[[float], None] = time.sleep, logger=None, max_concurrency: int = 4):
        self.topic_arn = topic_arn
        # Short timeouts and no botocore retries: the retries are here, within the deadline.
        self.client = client or boto3.client("sns", config=CLIENT_CONFIG)
        self.max_attempts = max_attempts
        self.base_delay, self.max_delay = base_delay, max_delay
        self.call_timeout = call_timeout
        self.sleep = sleep
        self.logger = logger
        self.max_concurrency = max_concurrency  # calls side by side after a pass's first
        self._executor: ThreadPoolExecutor | None = None

    def publish(self, messages: Sequence[EventMessage], time_left: Callable[[], float] | None = None) -> PublishReport:
        """Publish every message it can; never raises (the report counts what failed)."""
        report = PublishReport()
        if not messages:
            return report
        try:
            self._publish([message.batch_entry(str(i)) for i, message in enumerate(messages)], report, time_left)
        except Exception as error:  # noqa: BLE001 - alerts must never fail a poll or an import
            unsent = len(messages) - report.published - report.failed
            report.failed += unsent
            report.errors[type(error).__name__] += unsent
        if report.failed and self.logger is not None:
            self.logger.error("chart events not published", extra={"topic": self.topic_arn, **report.summary()})
        return report

    def _publish(self, entries: list[dict[str, Any]], report: PublishReport,
                 time_left: Callable[[], float] | None) -> None:
        pending, last_error = list(range(len(entries))), {}
        for attempt in range(self.max_attempts):
            if attempt:
                delay = random.uniform(0, min(self.max_delay, self.base_delay * 2 ** attempt))  # full jitter
                if not self._fits(time_left, delay):
                    last_error.update((i, DEADLINE_EXCEEDED) for i in pending)
                    break
                self.sleep(delay)
                report.retried += len(pending)
            pending = self._attempt(entries, pending, report, last_error, time_left)
            if not pending:
                return
        self._fail(report, pending, last_error)

    def _attempt(self, entries: list[dict[str, Any]], pending: list[int], report: PublishReport,
                 last_error: dict[int, str], time_left: Callable[[], float] | None) -> list[int]:
        """One pass over ``pending`` in batches: the first call alone, so that an error no call
        can get past (a missing topic, access denied) costs one call, then the rest side by side.
        No call starts after a final error or too near the deadline. Returns the messages worth
        another try; those failed for good, or left unsent, are counted failed here."""
        chunks = _batches(entries, pending)
        final: list[str] = []  # the first final error's code: no call starts after it

        def send(chunk: list[int]) -> Any:
            if final:
                return _NotSent(final[0])
            if not self._fits(time_left, 0.0):
                return _NotSent(DEADLINE_EXCEEDED)
            try:
                return self.client.publish_batch(TopicArn=self.topic_arn,
                                                 PublishBatchRequestEntries=[entries[i] for i in chunk])
            except Exception as error:  # noqa: BLE001 - every failure maps to the messages it affects
                if not _retryable(error):
                    final.append(call_error_code(error))
                return error

        answers = [send(chunks[0])] if chunks else []
        if len(chunks) > 1:
            answers += list(self._pool().map(send, chunks[1:]))
        retry: list[int] = []
        for chunk, answer in zip(chunks, answers):
            retry += self._settle(chunk, answer, report, last_error)
        return retry

    def _settle(self, chunk: list[int], answer: Any, report: PublishReport, last_error: dict[int, str]) -> list[int]:
        """Count one batch's answer (a response, the call's exception, or a call not made);
        returns the indices to retry."""
        if isinstance(answer, _NotSent):  # not sent
            last_error.update((i, answer.code) for i in chunk)
            self._fail(report, chunk, last_error)
            return []
        report.calls += 1
        if isinstance(answer, Exception):
            last_error.update((i, call_error_code(answer)) for i in chunk)
            if _retryable(answer):
                return chunk
            self._fail(report, chunk, last_error)
            return []
        report.published += len(answer.get("Successful") or [])
        retry, final = [], []
        for failure in answer.get("Failed") or []:
            index = int(failure["Id"])
            last_error[index] = failure.get("Code") or "Failed"
            (final if failure.get("SenderFault") else retry).append(index)
        self._fail(report, final, last_error)
        return retry

    def _pool(self) -> ThreadPoolExecutor:
        """Threads for the calls after the first, made once and reused by every publish."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=self.max_concurrency, thread_name_prefix="sns")
            weakref.finalize(self, self._executor.shutdown, wait=False)
        return self._executor

    @staticmethod
    def _fail(report: PublishReport, indices: list[int], last_error: dict[int, str]) -> None:
        report.failed += len(indices)
        report.errors.update(last_error.get(i, "Failed") for i in indices)

    def _fits(self, time_left: Callable[[], float] | None, delay: float) -> bool:
        """Whether a call started after ``delay`` seconds still ends before the deadline."""
        return time_left is None or time_left() - delay >= self.call_timeout


def _retryable(error: Exception) -> bool:
    """A passing failure: throttling, an internal error, a connection error or timeout."""
    return call_error_code(error) in _RETRYABLE_CODES or isinstance(error, (BotocoreConnectionError, HTTPClientError))


def _batches(entries: list[dict[str, Any]], indices: list[int]) -> list[list[int]]:
    """Indices in calls of at most 10 messages and 256 KiB (the Firehose writer's packing)."""
    sizes = [len(json.dumps(entries[i], ensure_ascii=False).encode("utf-8")) for i in indices]
    return [[indices[i] for i in batch] for batch in batches(sizes, MAX_BATCH_MESSAGES, MAX_BATCH_BYTES)]
