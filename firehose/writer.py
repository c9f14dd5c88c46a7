"""Batching writer for a Firehose DirectPut delivery stream.

``PutRecordBatch`` takes at most 500 records and 4 MiB per call, and may accept
some records of a call and refuse others (``FailedPutCount`` > 0). The writer
packs calls within those limits, retries only the refused records with
exponential backoff and jitter, and raises :class:`FirehoseDeliveryError` naming
what still failed. Nothing is dropped silently.

Whatever goes wrong maps to the records it affects: a whole call that fails for a
passing reason (throttling, a connection error, a read timeout) is retried like refused
records; one that fails for good (access denied, no such stream, any other error) stops
the delivery, and its records and every record not sent yet are reported as failed.
With a deadline (``time_left``), no call starts that could end after it (a call lasts
at most ``call_timeout``: build the client with :data:`CLIENT_CONFIG`), and no backoff
sleeps past it: what is left is reported as failed (``DeadlineExceeded``).
"""
from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Iterator, Sequence

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionError as BotocoreConnectionError, HTTPClientError

from firehose.contract import MAX_RECORD_BYTES, RecordTooLargeError
from firehose.settings import MAX_BATCH_BYTES, MAX_BATCH_RECORDS

# Whole-call errors worth retrying; anything else (bad stream name, access denied) is final.
_RETRYABLE_CALL_ERRORS = frozenset(
    {"ServiceUnavailableException", "ThrottlingException", "InternalFailure", "LimitExceededException"}
)
# Connection errors and read timeouts: the call may or may not have reached Firehose, so a
# retry may send its records twice (at least once; readers dedupe on the natural key).
_RETRYABLE_EXCEPTIONS = (BotocoreConnectionError, HTTPClientError)
DEADLINE_EXCEEDED = "DeadlineExceeded"

# One PutRecordBatch of 4 MiB takes about a second; a call that has not answered in these
# times is retried by the writer, within its deadline (botocore itself does not retry).
CONNECT_TIMEOUT_SECONDS = 3
READ_TIMEOUT_SECONDS = 10
CALL_TIMEOUT_SECONDS = CONNECT_TIMEOUT_SECONDS + READ_TIMEOUT_SECONDS
CLIENT_CONFIG = Config(connect_timeout=CONNECT_TIMEOUT_SECONDS, read_timeout=READ_TIMEOUT_SECONDS,
                       retries={"mode": "standard", "total_max_attempts": 1})


class FirehoseDeliveryError(RuntimeError):
    """Some records were not accepted: refused after every retry, or never sent.

    ``failed_indices`` index into the sequence given to :meth:`FirehoseWriter.put`;
    ``reasons`` counts the last error code of each failed record; ``stopped_by`` says
    what ended the delivery early, if anything did (a final error, the deadline).
    """

    def __init__(self, stream_name: str, failed_indices: list[int], reasons: Counter, total: int,
                 report: "DeliveryReport", stopped_by: str | None = None):
        self.stream_name = stream_name
        self.report = report
        self.failed_indices = failed_indices
        self.reasons = reasons
        self.stopped_by = stopped_by
        why = ", ".join(f"{code} x{count}" for code, count in reasons.most_common())
        stop = f"; delivery stopped: {stopped_by}" if stopped_by else ""
        super().__init__(
            f"{len(failed_indices)} of {total} records were not accepted by delivery stream "
            f"{stream_name!r} after retries ({why}){stop}"
        )


@dataclass
class DeliveryReport:
    records: int = 0
    bytes: int = 0
    calls: int = 0
    retried_records: int = 0
    failed_calls: int = 0
    error_codes: Counter = field(default_factory=Counter)


def batches(sizes: Sequence[int], max_records: int = MAX_BATCH_RECORDS,
            max_bytes: int = MAX_BATCH_BYTES) -> Iterator[list[int]]:
    """Group record indices into calls within the record-count and byte limits."""
    batch: list[int] = []
    batch_bytes = 0
    for index, size in enumerate(sizes):
        if batch and (len(batch) == max_records or batch_bytes + size > max_bytes):
            yield batch
            batch, batch_bytes = [], 0
        batch.append(index)
        batch_bytes += size
    if batch:
        yield batch


class _FinalCallError(Exception):
    """A call failed for a reason a retry cannot fix (internal to the writer)."""

    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code


class FirehoseWriter:
    """Writes encoded records (bytes, one JSON line each) to one delivery stream."""

    def __init__(
        self,
        stream_name: str,
        client=None,
        *,
        max_attempts: int = 5,
        base_delay: float = 0.2,
        max_delay: float = 5.0,
        call_timeout: float = CALL_TIMEOUT_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.stream_name = stream_name
        self.client = client or boto3.client("firehose", config=CLIENT_CONFIG)
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.call_timeout = call_timeout
        self.sleep = sleep

    def put(self, records: Sequence[bytes], time_left: Callable[[], float] | None = None) -> DeliveryReport:
        """Deliver every record or raise :class:`FirehoseDeliveryError` naming those not accepted
        (after delivering all it could). ``time_left``: seconds until the deadline."""
        for data in records:
            if len(data) > MAX_RECORD_BYTES:
                raise RecordTooLargeError(
                    f"a record of {len(data)} bytes is over the {MAX_RECORD_BYTES}-byte Firehose limit"
                )
        report = DeliveryReport()
        pending = list(range(len(records)))
        last_error: dict[int, str] = {}
        stopped_by = None
        for attempt in range(self.max_attempts):
            if attempt:
                delay = self._backoff(attempt)
                if not self._fits(time_left, delay):
                    last_error.update((i, DEADLINE_EXCEEDED) for i in pending)
                    stopped_by = "the deadline, before a retry"
                    break
                self.sleep(delay)
                report.retried_records += len(pending)
            pending, stopped_by = self._attempt(records, pending, report, last_error, time_left)
            if not pending or stopped_by:
                break
        if pending:
            raise FirehoseDeliveryError(self.stream_name, pending, Counter(last_error[i] for i in pending),
                                        len(records), report, stopped_by)
        return report

    def _attempt(self, records: Sequence[bytes], pending: list[int], report: DeliveryReport,
                 last_error: dict[int, str], time_left: Callable[[], float] | None) -> tuple[list[int], str | None]:
        """Send the pending records once, in batches: (the records not accepted, what stopped
        the pass early: a final error or the deadline; None if nothing did)."""
        refused: list[int] = []
        groups = [[pending[i] for i in batch] for batch in batches([len(records[i]) for i in pending])]
        for number, indices in enumerate(groups):
            if self._fits(time_left, 0.0):
                try:
                    refused.extend(self._put_batch(records, indices, report, last_error))
                    continue
                except _FinalCallError as error:
                    code, stopped_by = error.code, f"{error.code}: {error}"
            else:
                code, stopped_by = DEADLINE_EXCEEDED, "the deadline"
            unsent = [i for group in groups[number:] for i in group]
            last_error.update((i, code) for i in unsent)
            return refused + unsent, stopped_by
        return refused, None

    def _put_batch(self, records: Sequence[bytes], indices: list[int], report: DeliveryReport,
                   last_error: dict[int, str]) -> list[int]:
        """One PutRecordBatch call; returns the indices it refused, or raises _FinalCallError."""
        report.calls += 1
        try:
            response = self.client.put_record_batch(
                DeliveryStreamName=self.stream_name,
                Records=[{"Data": records[i]} for i in indices],
            )
        except Exception as error:  # noqa: BLE001 - every failure maps to the records it affects
            code = call_error_code(error)
            report.failed_calls += 1
            report.error_codes[code] += len(indices)
            if not (code in _RETRYABLE_CALL_ERRORS or isinstance(error, _RETRYABLE_EXCEPTIONS)):
                raise _FinalCallError(code, str(error)) from error
            for i in indices:
                last_error[i] = code
            return indices
        refused = []
        for i, result in zip(indices, response["RequestResponses"]):
            code = result.get("ErrorCode")
            if code:
                refused.append(i)
                last_error[i] = code
                report.error_codes[code] += 1
            else:
                report.records += 1
                report.bytes += len(records[i])
        return refused

    def _fits(self, time_left: Callable[[], float] | None, delay: float) -> bool:
        """Whether a call started after ``delay`` seconds still ends before the deadline."""
        return time_left is None or time_left() - delay >= self.call_timeout

    def _backoff(self, attempt: int) -> float:
        """Full-jitter exponential backoff (AWS architecture blog's recommendation)."""
        return random.uniform(0, min(self.max_delay, self.base_delay * 2 ** attempt))


def call_error_code(error: Exception) -> str:
    """The service's error code of a failed call, else the exception's class name."""
    if isinstance(error, ClientError):
        return error.response.get("Error", {}).get("Code", "ClientError")
    return type(error).__name__
