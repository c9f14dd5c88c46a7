"""Batching writer for a Firehose DirectPut delivery stream.

``PutRecordBatch`` takes at most 500 records and 4 MiB per call, and may accept
some records of a call and refuse others (``FailedPutCount`` > 0). The writer
packs calls within those limits, retries only the refused records with
exponential backoff and jitter, and raises :class:`FirehoseDeliveryError` naming
what still failed. Nothing is dropped silently.
"""
from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Iterator, Sequence

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from firehose.contract import MAX_RECORD_BYTES, RecordTooLargeError
from firehose.settings import MAX_BATCH_BYTES, MAX_BATCH_RECORDS

# Whole-call errors worth retrying; anything else (bad stream name, access denied) is final.
_RETRYABLE_CALL_ERRORS = frozenset(
    {"ServiceUnavailableException", "ThrottlingException", "InternalFailure", "LimitExceededException"}
)


class FirehoseDeliveryError(RuntimeError):
    """Some records were still refused after every retry.

    ``failed_indices`` index into the sequence given to :meth:`FirehoseWriter.put`;
    ``reasons`` counts the last error code of each failed record.
    """

    def __init__(self, stream_name: str, failed_indices: list[int], reasons: Counter, total: int,
                 report: "DeliveryReport"):
        self.stream_name = stream_name
        self.report = report
        self.failed_indices = failed_indices
        self.reasons = reasons
        why = ", ".join(f"{code} x{count}" for code, count in reasons.most_common())
        super().__init__(
            f"{len(failed_indices)} of {total} records were not accepted by delivery stream "
            f"{stream_name!r} after retries ({why})"
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
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.stream_name = stream_name
        self.client = client or boto3.client(
            "firehose", config=Config(retries={"mode": "standard", "max_attempts": 3})
        )
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.sleep = sleep

    def put(self, records: Sequence[bytes]) -> DeliveryReport:
        """Deliver every record or raise :class:`FirehoseDeliveryError` (after delivering the rest)."""
        for data in records:
            if len(data) > MAX_RECORD_BYTES:
                raise RecordTooLargeError(
                    f"a record of {len(data)} bytes is over the {MAX_RECORD_BYTES}-byte Firehose limit"
                )
        report = DeliveryReport()
        pending = list(range(len(records)))
        last_error: dict[int, str] = {}
        for attempt in range(self.max_attempts):
            if attempt:
                self.sleep(self._backoff(attempt))
                report.retried_records += len(pending)
            refused: list[int] = []
            for batch in batches([len(records[i]) for i in pending]):
                indices = [pending[i] for i in batch]
                refused.extend(self._put_batch(records, indices, report, last_error))
            pending = refused
            if not pending:
                return report
        raise FirehoseDeliveryError(
            self.stream_name, pending, Counter(last_error[i] for i in pending), len(records), report
        )

    def _put_batch(self, records: Sequence[bytes], indices: list[int], report: DeliveryReport,
                   last_error: dict[int, str]) -> list[int]:
        """One PutRecordBatch call; returns the indices it refused."""
        report.calls += 1
        try:
            response = self.client.put_record_batch(
                DeliveryStreamName=self.stream_name,
                Records=[{"Data": records[i]} for i in indices],
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "ClientError")
            if code not in _RETRYABLE_CALL_ERRORS:
                raise
            report.failed_calls += 1
            report.error_codes[code] += len(indices)
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

    def _backoff(self, attempt: int) -> float:
        """Full-jitter exponential backoff (AWS architecture blog's recommendation)."""
        return random.uniform(0, min(self.max_delay, self.base_delay * 2 ** attempt))
