"""Reconciliation on the AWS side (#21 item 3): what the producer sent against what the Glue
job curated, and the curated files as the job published them.

One run (``Reconciler.run``):

1. lists the polls the producer recorded as sent (its sent ledger, ``firehose/ledger.py``)
   from the last ``window_days`` whose records are due in the curated data by now (sent
   more than ``grace_hours`` ago: the Glue job runs daily);
2. reads the Glue job's manifests written since the oldest of them, and looks up every
   record's contract key in them;
3. sends the records no manifest names to Firehose again, as they were sent (the MERGE on
   the natural key drops any that did arrive); a poll is checked again ``grace_hours``
   after each re-send, and after ``max_resends`` re-sends it is reported as unrepaired
   (records the Glue job quarantines, for instance, never reach the curated data);
4. checks the curated files those manifests name: they are written once and never
   overwritten, so a file with a later version than its first one (an overwrite, a
   corrupt copy, a delete marker) gets its first version back (a copy of that version:
   the bucket is versioned, and S3 notifies Snowpipe of the restored file). A file whose
   first version is gone is reported as unrepaired.

What Snowflake loaded is not visible from here: curated files that no pipe loaded (a lost
notification) are Snowflake's to find, with its COPY_HISTORY, and to load again
(snowflake_only/R__load_reconciliation.sql). Every step is safe to repeat: a run keeps
its progress (which polls are verified, re-sent how often, unrepaired) in the state bucket.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from botocore.exceptions import ClientError

from firehose import contract, ledger
from firehose.writer import FirehoseDeliveryError, FirehoseWriter

PROGRESS_KEY = "reconcile/progress.json"
# A manifest can only name a record sent before it was written; this much clock skew is allowed.
MANIFEST_SLACK = timedelta(hours=1)


class ReconcileError(RuntimeError):
    """A ledger or a store is not what reconciliation expects."""


@dataclass(frozen=True)
class ReconcileSettings:
    window_days: int = 14  # polls sent this long ago and since are checked
    grace_hours: float = 30.0  # a poll's records are due in the curated data this long after sending
    max_resends: int = 3  # re-sends before a poll is reported as unrepaired


@dataclass(frozen=True)
class SentPoll:
    key: str
    sent_at: datetime


@dataclass
class ReconcileRun:
    polls_checked: int = 0
    polls_verified: int = 0
    records_missing: int = 0
    records_resent: int = 0
    files_checked: int = 0
    files_restored: list[str] = field(default_factory=list)
    unrepaired: dict[str, str] = field(default_factory=dict)  # poll ledger key or curated file -> why
    stopped_early: bool = False  # out of time: the rest is checked next run

    def summary(self) -> dict[str, Any]:
        return {"polls_checked": self.polls_checked, "polls_verified": self.polls_verified,
                "records_missing": self.records_missing, "records_resent": self.records_resent,
                "files_checked": self.files_checked, "files_restored": self.files_restored,
                "unrepaired": self.unrepaired, "stopped_early": self.stopped_early}


class SentLedger:
    """The producer's sent ledger and the reconciler's progress, in the state bucket."""

    def __init__(self, bucket: str, prefix: str, client):
        self.bucket, self.prefix, self.client = bucket, prefix, client

    def polls(self, since: datetime, until: datetime) -> list[SentPoll]:
        """The polls sent between ``since`` and ``until``, oldest first (one listing per day)."""
        found, day = [], since.date()
        while day <= until.date():
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=f"{self.prefix}{ledger.SENT_FOLDER}{day:%Y-%m-%d}/")
            found += [SentPoll(o["Key"], o["LastModified"]) for page in pages for o in page.get("Contents", [])
                      if since <= o["LastModified"] <= until]
            day += timedelta(days=1)
        return sorted(found, key=lambda p: (p.sent_at, p.key))

    def records(self, key: str) -> list[dict[str, Any]]:
        return ledger.decode_sent(self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read())

    def load_progress(self) -> dict[str, Any]:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self.prefix + PROGRESS_KEY)["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return {"verified": {}, "resent": {}, "unrepaired": {}}
            raise
        return json.loads(body)

    def save_progress(self, progress: dict[str, Any]) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self.prefix + PROGRESS_KEY, ContentType="application/json",
                               Body=json.dumps(progress, sort_keys=True).encode())


@dataclass
class FileVersions:
    """One curated file's versions, oldest first, and whether a delete marker is its latest."""

    versions: list[dict[str, Any]] = field(default_factory=list)
    deleted: bool = False

    def changed(self) -> bool:
        """Whether what is current differs from the first (published) version."""
        current = next((v for v in self.versions if v.get("IsLatest")), None)
        return self.deleted or current is None or current["ETag"] != self.versions[0]["ETag"]


class CuratedStore:
    """The Glue job's manifests and the curated files they name, in the curated bucket."""

    def __init__(self, bucket: str, manifest_prefix: str, client):
        self.bucket, self.manifest_prefix, self.client = bucket, manifest_prefix, client

    def keys_since(self, since: datetime) -> ledger.CuratedKeys:
        """Every key the manifests written since ``since`` name."""
        keys = ledger.CuratedKeys()
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.manifest_prefix)
        for page in pages:
            for item in page.get("Contents", []):
                if item["LastModified"] >= since and item["Key"].endswith(".json"):
                    body = self.client.get_object(Bucket=self.bucket, Key=item["Key"])["Body"].read()
                    keys.add(ledger.read_manifest(body))
        return keys

    def object_key(self, url: str) -> str:
        """The key of a curated file the manifests name as ``s3://<this bucket>/<key>``."""
        scheme, _, rest = url.partition("://")
        bucket, _, key = rest.partition("/")
        if scheme not in ("s3", "s3a") or bucket != self.bucket or not key:
            raise ReconcileError(f"a manifest names {url!r}, not a file of s3://{self.bucket}/")
        return key

    def versions(self, folder: str) -> dict[str, FileVersions]:
        """The versions of every object in ``folder``, by key."""
        found: dict[str, FileVersions] = {}
        pages = self.client.get_paginator("list_object_versions").paginate(Bucket=self.bucket, Prefix=folder)
        for page in pages:
            for version in page.get("Versions", []):  # S3 lists a key's versions newest first
                found.setdefault(version["Key"], FileVersions()).versions.insert(0, version)
            for marker in page.get("DeleteMarkers", []):
                found.setdefault(marker["Key"], FileVersions()).deleted |= bool(marker.get("IsLatest"))
        return found

    def restore(self, key: str, version_id: str) -> None:
        """Make version ``version_id`` of ``key`` current again (a copy of it: a new version,
        same bytes, so same ETag). S3 refuses a copy of an object onto itself that changes
        nothing but the version, so the copy restates the version's own metadata (REPLACE)."""
        head = self.client.head_object(Bucket=self.bucket, Key=key, VersionId=version_id)
        self.client.copy_object(Bucket=self.bucket, Key=key,
                                CopySource={"Bucket": self.bucket, "Key": key, "VersionId": version_id},
                                MetadataDirective="REPLACE", Metadata=head.get("Metadata", {}),
                                ContentType=head.get("ContentType", "application/octet-stream"))


class Reconciler:
    def __init__(self, sent: SentLedger, curated: CuratedStore, writer: FirehoseWriter,
                 settings: ReconcileSettings | None = None, *, now: Callable[[], datetime] | None = None,
                 logger=None):
        self.sent, self.curated, self.writer = sent, curated, writer
        self.settings = settings or ReconcileSettings()
        self.now = now or (lambda: datetime.now(timezone.utc))
        self.logger = logger

    def run(self, time_left: Callable[[], float]) -> ReconcileRun:
        now, run = self.now(), ReconcileRun()
        since = now - timedelta(days=self.settings.window_days)
        polls = self.sent.polls(since, now - timedelta(hours=self.settings.grace_hours))
        progress = _within(self.sent.load_progress(), {p.key for p in polls})
        due = [p for p in polls if p.key not in progress["verified"] and self._due(progress, p.key, now)]
        keys = self.curated.keys_since(since - MANIFEST_SLACK)
        for poll in due:
            if time_left() < 2 * self.writer.call_timeout:
                run.stopped_early = True
                break
            self._check_poll(poll, keys, progress, run, time_left)
        self._check_files(keys, run)
        run.unrepaired.update(progress["unrepaired"])
        self.sent.save_progress(progress)
        return run

    def _due(self, progress: dict[str, Any], key: str, now: datetime) -> bool:
        """Not re-sent within the grace period (what was re-sent needs a Glue run to show)."""
        resent = progress["resent"].get(key)
        return resent is None or datetime.fromisoformat(resent["at"]) <= now - timedelta(hours=self.settings.grace_hours)

    def _check_poll(self, poll: SentPoll, keys: ledger.CuratedKeys, progress: dict[str, Any], run: ReconcileRun,
                    time_left: Callable[[], float]) -> None:
        run.polls_checked += 1
        missing = [r for r in self.sent.records(poll.key) if keys.file_of(r) is None]
        run.records_missing += len(missing)
        if not missing:
            run.polls_verified += 1
            progress["verified"][poll.key] = self.now().isoformat()
            progress["resent"].pop(poll.key, None)
            progress["unrepaired"].pop(poll.key, None)
            return
        times = progress["resent"].get(poll.key, {}).get("times", 0)
        if times >= self.settings.max_resends:
            progress["unrepaired"][poll.key] = f"{len(missing)} records not curated after {times} re-sends"
            return
        sent = self._resend(missing, time_left)
        if sent:
            run.records_resent += sent
            progress["resent"][poll.key] = {"times": times + 1, "at": self.now().isoformat()}
        self._log("warning", "records never curated, sent again", poll=poll.key, missing=len(missing), resent=sent)

    def _resend(self, records: list[dict[str, Any]], time_left: Callable[[], float]) -> int:
        """Send the records again, as they were sent; how many Firehose accepted."""
        try:
            return self.writer.put([contract.encode(r) for r in records], time_left).records
        except FirehoseDeliveryError as error:  # the rest is still missing next run
            self._log("error", "re-send incomplete", error=str(error))
            return error.report.records

    def _check_files(self, keys: ledger.CuratedKeys, run: ReconcileRun) -> None:
        """Give every overwritten or deleted curated file its first (published) version back."""
        files = sorted(self.curated.object_key(url) for url in keys.files())
        versions: dict[str, list[dict[str, Any]]] = {}
        for folder in sorted({key.rsplit("/", 1)[0] + "/" for key in files}):
            versions.update(self.curated.versions(folder))
        for key in files:
            run.files_checked += 1
            history = versions.get(key)
            if history is None or not history.versions:
                run.unrepaired[key] = "the published version of this curated file is gone"
            elif history.changed():
                self.curated.restore(key, history.versions[0]["VersionId"])
                run.files_restored.append(key)
                self._log("warning", "curated file changed after publication: first version restored", key=key)

    def _log(self, level: str, message: str, **fields: Any) -> None:
        if self.logger is not None:
            getattr(self.logger, level)(message, extra=fields)


def _within(progress: dict[str, Any], keys: set[str]) -> dict[str, Any]:
    """The progress of the polls still in the window (older entries are dropped)."""
    return {name: {k: v for k, v in progress.get(name, {}).items() if k in keys}
            for name in ("verified", "resent", "unrepaired")}
