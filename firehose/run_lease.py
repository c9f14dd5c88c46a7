"""One run at a time on a checkpoint (#21 item 8): the run lease.

Two runs of the job on one checkpoint can each plan the same batch number with different
files (the second saw more raw objects), then publish under the same file names: the
first published wins each name, the checkpoint may record the other's plan, and records
that only the other run read are lost. Spark's own guard (a checkpoint file written by
rename, refused if it exists) is not atomic on S3. The stack allows one Glue run at a
time (``MaxConcurrentRuns: 1``), but a run started by hand, a local run against the
deployed checkpoint, or a second job definition would not be stopped by it. So a run
first takes a lease on its checkpoint, and a second run waits for it (``wait_seconds``),
then fails with :class:`CheckpointLeaseHeldError`, before reading or writing anything.

* ``s3://`` checkpoints: an object ``<checkpoint>/run.lease`` written with S3 conditional
  writes (``If-None-Match: *`` to create it, ``If-Match: <ETag>`` to renew or take it
  over), as the producer's poll lease. The holder renews it every third of ``seconds``; a
  run that dies stops renewing, and its lease is taken over once expired, or at once by a
  run on the same machine that sees its process is gone. A holder that finds its lease
  taken over stops the process at once: the new holder replays its uncommitted batch.
* local folders: an exclusive ``flock`` on ``<checkpoint>/run.lease``; the kernel releases
  it when the holder's process ends, however it ends.
"""
from __future__ import annotations

import fcntl
import logging
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any, Callable

from firehose.s3_json import ObjectChangedError, bucket_and_key, get_json, if_unchanged, put_json

log = logging.getLogger("firehose.run_lease")

LEASE_NAME = "run.lease"
LOST_LEASE_EXIT_CODE = 75


class CheckpointLeaseHeldError(RuntimeError):
    """Another run holds the checkpoint's lease (and did not let go within the wait)."""


def run_lease(checkpoint: str, run_id: str, seconds: float = 60.0, wait_seconds: float = 180.0,
              s3_client: Any = None) -> "S3RunLease | LocalRunLease":
    """The lease for ``checkpoint``: on S3 or on a local folder (see the module)."""
    if checkpoint.startswith(("s3://", "s3a://")):
        return S3RunLease(checkpoint, run_id, seconds, wait_seconds, s3_client)
    return LocalRunLease(checkpoint, wait_seconds)


def _holder(run_id: str) -> dict[str, Any]:
    return {"run_id": run_id, "host": socket.gethostname(), "pid": os.getpid()}


def _gone(holder: dict[str, Any]) -> bool:
    """Whether the holder ran on this machine and its process has ended."""
    if holder.get("host") != socket.gethostname() or not isinstance(holder.get("pid"), int):
        return False
    try:
        os.kill(holder["pid"], 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # a process of someone else's: alive
        return False
    return False


class S3RunLease:
    """The lease object on S3, renewed in a thread while the run lasts."""

    def __init__(self, checkpoint: str, run_id: str, seconds: float, wait_seconds: float, client: Any = None,
                 *, clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep,
                 on_lost: Callable[[], None] | None = None):
        bucket, prefix = bucket_and_key(checkpoint)
        self.bucket, self.key = bucket, f"{prefix.rstrip('/')}/{LEASE_NAME}".lstrip("/")
        self.run_id, self.seconds, self.wait_seconds = run_id, seconds, wait_seconds
        if client is None:
            import boto3  # Glue provides it; AWS_ENDPOINT_URL points it at a local endpoint

            client = boto3.client("s3")
        self.client, self.clock, self.sleep = client, clock, sleep
        self.on_lost = on_lost or (lambda: os._exit(LOST_LEASE_EXIT_CODE))  # noqa: SLF001 - stop at once
        self.etag: str | None = None
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def __enter__(self) -> "S3RunLease":
        deadline = self.clock() + self.wait_seconds
        if not self._try_acquire():
            log.info("run lease s3://%s/%s held by %s: waiting up to %.0f s", self.bucket, self.key,
                     (self._read()[0] or {}).get("holder"), self.wait_seconds)
        while self.etag is None and not self._try_acquire():
            if self.clock() >= deadline:
                raise CheckpointLeaseHeldError(f"another run holds s3://{self.bucket}/{self.key}: {self._read()[0]}")
            self.sleep(min(2.0, max(0.1, self.seconds / 10)))
        self._renewer = threading.Thread(target=self._renew_until_stopped, name="run-lease", daemon=True)
        self._renewer.start()
        log.info("run lease s3://%s/%s taken by %s", self.bucket, self.key, self.run_id)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(timeout=30)
        if self.etag is not None and self._write(released=True, condition={"IfMatch": self.etag}) is None:
            log.error("run lease s3://%s/%s was taken over before this run ended", self.bucket, self.key)

    def _try_acquire(self) -> bool:
        current, etag = self._read()
        if current is not None and not current.get("released") and current["expires_at"] > self.clock() \
                and not _gone(current.get("holder", {})):
            return False
        self.etag = self._write(released=False, condition=if_unchanged(etag))
        return self.etag is not None

    def _renew_until_stopped(self) -> None:
        while not self._stop.wait(self.seconds / 3):
            etag = self._write(released=False, condition={"IfMatch": self.etag})
            if etag is None:
                log.error("run lease s3://%s/%s lost to another run: stopping this one", self.bucket, self.key)
                self.on_lost()
                return
            self.etag = etag

    def _read(self) -> tuple[dict[str, Any] | None, str | None]:
        return get_json(self.client, self.bucket, self.key)

    def _write(self, *, released: bool, condition: dict[str, str]) -> str | None:
        """Write the lease if ``condition`` holds; its new ETag, or None if another write won."""
        body = {"holder": _holder(self.run_id), "expires_at": self.clock() + self.seconds, "released": released}
        try:
            return put_json(self.client, self.bucket, self.key, body, **condition)
        except ObjectChangedError:
            return None


class LocalRunLease:
    """An exclusive flock on ``<checkpoint>/run.lease``, held while the run lasts."""

    def __init__(self, checkpoint: str, wait_seconds: float, *, sleep: Callable[[float], None] = time.sleep):
        self.path = Path(checkpoint.removeprefix("file://")) / LEASE_NAME
        self.wait_seconds, self.sleep = wait_seconds, sleep
        self._file = None

    def __enter__(self) -> "LocalRunLease":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "a")
        deadline = time.monotonic() + self.wait_seconds
        while True:
            try:
                fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    self._file.close()
                    raise CheckpointLeaseHeldError(f"another run holds {self.path}") from None
                self.sleep(0.2)

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
