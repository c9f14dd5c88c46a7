"""The import Lambda's objects in the imports bucket, and nothing else.

Layout (the stack's notifications and the Lambda's IAM policy follow it):

* ``incoming/<upload>``: what users upload (read only; the Lambda never writes or deletes here).
* ``rejected/<upload>/<file name>``: a rejected file's original bytes, and
  ``<file name>.reason.json`` beside it.
* ``results/uploads/<upload>.json``: what became of each file of an upload (``UploadResults``).
* ``results/held/<chart alias>/<chart date>.json``: the ledger, which snapshot of each chart
  and date was last sent (``HeldChart``).
* ``results/history/<chart alias>.json``: what chart events need of each chart's editions
  (``producer.chart_history``); written only when chart events are published. Not expired.
* ``results/continue/<upload>/<etag>-<next entry>.json``: a continuation; its ObjectCreated
  notification invokes the Lambda again, which resumes the upload there.

``<upload>`` is the uploaded object's key without ``incoming/``. The ledger and the results
are written with S3 conditional writes (If-None-Match / If-Match), so two invocations that
race on one object find out instead of overwriting each other.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import boto3
from botocore.exceptions import ClientError

from firehose.s3_json import LOST_WRITE_CODES, ObjectChangedError, error_code, get_json, if_unchanged, put_json

INCOMING = "incoming/"
REJECTED = "rejected/"
RESULTS = "results/"
UPLOADS = RESULTS + "uploads/"
HELD = RESULTS + "held/"
CONTINUE = RESULTS + "continue/"
HISTORY = RESULTS + "history/"

@dataclass(frozen=True)
class HeldChart:
    """The ledger's entry for one chart and date: the snapshot last sent, and by which file."""

    chart: str  # the alias
    chart_date: str
    snapshot_id: str
    revision: int  # how many snapshots this chart and date has had sent, this one included
    poll_id: str
    observed_at: str  # of the observation sent: the views take the latest one
    rows: int
    upload: str  # the upload key and etag, and the entry, that sent it
    etag: str
    entry: int
    outcome: str  # 'loaded' or 'replaced'
    # The file's track ids: a later file replacing it takes them off the chart's history
    # (producer.chart_history). None in ledgers written before it was kept.
    tracks: list[str] | None = None


def _quoted(etag: str) -> str:
    """An ETag as HTTP conditions carry it (notifications give it bare)."""
    return etag if etag.startswith('"') else f'"{etag}"'


class ImportStore:
    def __init__(self, bucket: str, client=None):
        self.bucket = bucket
        self.client = client or boto3.client("s3")

    # -- the uploaded object ---------------------------------------------------------------

    def read_upload(self, key: str, etag: str, max_bytes: int) -> bytes | int:
        """The object's bytes if it is still version ``etag``; its size instead when that is over
        ``max_bytes`` (not read). ObjectChangedError if it was overwritten since."""
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key, IfMatch=_quoted(etag))
        except ClientError as error:
            if error_code(error) in LOST_WRITE_CODES:
                raise ObjectChangedError(f"{key} is no longer version {etag}") from None
            raise
        if response["ContentLength"] > max_bytes:
            response["Body"].close()
            return response["ContentLength"]
        return response["Body"].read()

    def object_etag(self, key: str) -> str:
        return self.client.head_object(Bucket=self.bucket, Key=key)["ETag"].strip('"')

    # -- rejected files ----------------------------------------------------------------------

    def rejected_key(self, upload: str, name: str) -> str:
        return f"{REJECTED}{upload}/{name}"

    def keep_rejected(self, upload: str, name: str, data: bytes | None, reason: dict[str, Any]) -> str:
        """Keep a rejected file's bytes (None: too large or unreadable, the upload keeps them)
        and its reason; returns the file's key."""
        key = self.rejected_key(upload, name)
        if data is not None:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType="text/csv")
        self._put_json(key + ".reason.json", reason)
        return key

    def keep_rejected_object(self, upload_key: str, etag: str, upload: str, name: str,
                             reason: dict[str, Any]) -> str:
        """Keep a whole rejected upload (copied within S3, never read) and its reason."""
        key = self.rejected_key(upload, name)
        try:
            self.client.copy_object(Bucket=self.bucket, Key=key, CopySourceIfMatch=_quoted(etag),
                                    CopySource={"Bucket": self.bucket, "Key": upload_key})
        except ClientError as error:  # e.g. over the 5 GB a single copy takes: the upload keeps it
            reason = {**reason, "not_copied": f"{error_code(error)}: the upload stays at {upload_key}"}
        self._put_json(key + ".reason.json", reason)
        return key

    # -- the ledger --------------------------------------------------------------------------

    def held(self, chart: str, chart_date: str) -> tuple[HeldChart | None, str | None]:
        """The ledger entry of a chart and date, and its object's ETag (None, None: none held)."""
        body, etag = self._get_json(self._held_key(chart, chart_date))
        return (HeldChart(**body) if body is not None else None), etag

    def hold(self, held: HeldChart, etag: str | None) -> None:
        """Write a ledger entry if the entry is still the one read with ``etag`` (None: none yet);
        ObjectChangedError otherwise."""
        condition = if_unchanged(etag)
        self._put_json(self._held_key(held.chart, held.chart_date), asdict(held), **condition)

    def _held_key(self, chart: str, chart_date: str) -> str:
        return f"{HELD}{chart}/{chart_date}.json"

    # -- chart histories (chart events) ------------------------------------------------------

    def history(self, chart: str) -> tuple[dict[str, Any] | None, str | None]:
        """A chart's history for chart events and its ETag (None, None: none yet)."""
        return self._get_json(f"{HISTORY}{chart}.json")

    def save_history(self, chart: str, body: dict[str, Any], etag: str | None) -> str:
        """Write it if it is still the version read (``etag``; None: none yet); returns the new
        ETag, or ObjectChangedError when another import wrote it meanwhile."""
        condition = if_unchanged(etag)
        return self._put_json(f"{HISTORY}{chart}.json", body, **condition)

    # -- results and continuations ----------------------------------------------------------

    def results_key(self, upload: str) -> str:
        return f"{UPLOADS}{upload}.json"

    def results(self, upload: str) -> tuple[dict[str, Any] | None, str | None]:
        return self._get_json(self.results_key(upload))

    def save_results(self, upload: str, body: dict[str, Any], etag: str | None) -> str:
        """Write the results if they are still the version read (``etag``; None: none yet);
        returns the new ETag, or ObjectChangedError."""
        condition = if_unchanged(etag)
        return self._put_json(self.results_key(upload), body, **condition)

    def continuation_key(self, upload: str, etag: str, next_entry: int) -> str:
        # One key per point of an upload: a repeated continuation overwrites, never adds a branch.
        return f"{CONTINUE}{upload}/{etag}-{next_entry:06d}.json"

    def put_continuation(self, upload: str, body: dict[str, Any]) -> str:
        key = self.continuation_key(upload, body["etag"], body["next_entry"])
        self._put_json(key, body)
        return key

    def continuation(self, key: str) -> dict[str, Any] | None:
        return self._get_json(key)[0]

    # -- JSON objects ------------------------------------------------------------------------

    def _get_json(self, key: str) -> tuple[Any, str | None]:
        return get_json(self.client, self.bucket, key)

    def _put_json(self, key: str, value: Any, **condition: str) -> str:
        return put_json(self.client, self.bucket, key, value, **condition)
