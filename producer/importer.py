"""Importing one uploaded object: each of its chart files loaded, left unchanged, replacing
another, or rejected; see producer/IMPORTS.md for the design.

Per file: parse it (producer.chart_export); look its chart and date up in the ledger; send its
records (FirehoseWriter) unless the ledger already holds that snapshot; keep them in the
producer's sent ledger (firehose/ledger.py), which the reconciler compares with what was
curated; then write the ledger. The ledger is written only after Firehose accepted every record
of the file and they were recorded as sent, and it names the upload and entry that sent it, so
an invocation retried after a crash finds "this very file was sent" and does not send it again.
What became of each file goes to the upload's results object, which the ``spotify-charts
import`` command polls.

When the invocation's time runs short the importer saves the results and writes a continuation
object; its notification invokes the Lambda again, which resumes at the first file without a
result. Retried or duplicated invocations are harmless: results are merged with S3 conditional
writes (what was written first wins), records carry content-derived keys, the ledger catches
what was sent.
"""
from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import PurePosixPath
from typing import Any, Callable
from urllib.parse import unquote_plus

from firehose import contract, ledger
from firehose.writer import FirehoseWriter
from producer.chart_export import ChartExport, ChartFileError, chart_records, parse_chart_file, parse_chart_name
from producer.event_publisher import PublishReport
from producer.import_events import ImportEvents
from producer.import_store import CONTINUE, INCOMING, HeldChart, ImportStore, ObjectChangedError
from producer.state import StateStore
from producer.upload_files import (OBJECT_TOO_LARGE, UploadEntry, UploadError, UploadFiles, UploadLimits,
                                   check_entry_name, file_name, open_upload)

LOADED, UNCHANGED, REPLACED, REJECTED = "loaded", "unchanged", "replaced", "rejected"
OUTCOMES = (LOADED, UNCHANGED, REPLACED, REJECTED)
IN_PROGRESS, DONE = "in_progress", "done"
# Two different files for one chart and date in one upload: which one is meant is unknown.
CONFLICT = "conflict"
# Results are saved at least this often while an upload is imported (and when it stops).
SAVE_EVERY_SECONDS = 5.0
_UNSAFE_NAME_CHARACTERS = re.compile(r"[^A-Za-z0-9._() -]")


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class FileOutcome:
    """What became of one file of an upload (one item of the results' ``files``)."""

    entry: int
    name: str
    chart: str | None  # the alias, when the name states one
    date: str | None
    outcome: str  # one of OUTCOMES
    rows: int | None = None
    reason: str | None = None  # why rejected (or why unchanged, for a repeat within one upload)
    code: str | None = None  # the rejection's kind (a metric dimension)
    snapshot_id: str | None = None
    missing_ranks: list[int] | None = None  # ranks the file skips, as Spotify's files sometimes do
    kept_at: str | None = None  # a rejected file's key under rejected/

    def to_json(self) -> dict[str, Any]:
        return {name: value for name, value in asdict(self).items() if value is not None}


@dataclass
class UploadResults:
    """The results object of one upload: ``results/uploads/<upload>.json``."""

    upload: str  # the object's key
    etag: str  # the version of it these results are about
    started_at: str
    status: str = IN_PROGRESS
    entries: int | None = None  # files in the upload (None until the object was opened)
    files: dict[int, FileOutcome] = field(default_factory=dict)
    invocations: int = 1
    updated_at: str | None = None
    finished_at: str | None = None

    @property
    def next_entry(self) -> int | None:
        """The first file without a result (None when every file has one)."""
        if self.entries is None:
            return 0
        return next((i for i in range(self.entries) if i not in self.files), None)

    def to_json(self) -> dict[str, Any]:
        counts = Counter(f.outcome for f in self.files.values())
        return {"upload": self.upload, "etag": self.etag, "status": self.status, "entries": self.entries,
                "next_entry": self.next_entry, "counts": {o: counts.get(o, 0) for o in OUTCOMES},
                "started_at": self.started_at, "updated_at": self.updated_at, "finished_at": self.finished_at,
                "invocations": self.invocations,
                "files": [self.files[i].to_json() for i in sorted(self.files)]}

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> "UploadResults":
        files = {f["entry"]: FileOutcome(**f) for f in body["files"]}
        return cls(body["upload"], body["etag"], body["started_at"], body["status"], body["entries"], files,
                   body["invocations"], body["updated_at"], body["finished_at"])

    def merged_into(self, first: "UploadResults") -> "UploadResults":
        """These results added to ``first`` (saved before them): its outcomes win."""
        merged = replace(first, files={**self.files, **first.files},
                         invocations=max(first.invocations, self.invocations))
        if merged.next_entry is None and merged.entries is not None:
            merged.status, merged.finished_at = DONE, first.finished_at or self.finished_at or self.updated_at
        return merged


@dataclass
class ImportRun:
    """What one invocation did to one upload: its metrics and its summary."""

    upload: str
    outcomes: Counter = field(default_factory=Counter)
    rejected: Counter = field(default_factory=Counter)  # by reason code
    records_sent: int = 0
    firehose_retries: int = 0
    status: str | None = None  # of the results when the invocation left them
    continuation: str | None = None  # the continuation object written, if any
    skipped: str | None = None  # why nothing was done (already done, object changed)
    events: PublishReport = field(default_factory=PublishReport)  # chart events published, failed

    def count(self, outcome: FileOutcome) -> None:
        self.outcomes[outcome.outcome] += 1
        if outcome.outcome == REJECTED:
            self.rejected[outcome.code] += 1

    def summary(self) -> dict[str, Any]:
        return {"upload": self.upload, "status": self.status, "files": dict(self.outcomes),
                "records_sent": self.records_sent, "continuation": self.continuation, "skipped": self.skipped,
                "events": {"published": self.events.published, "failed": self.events.failed}}


@dataclass
class UploadJob:
    """One upload being imported by this invocation."""

    key: str
    etag: str
    results: UploadResults
    results_etag: str | None  # of the results object as last read or written
    run: ImportRun
    hop: int = 0  # continuations before this invocation
    last_saved: float = field(default_factory=time.monotonic)
    kept_names: set[str] = field(default_factory=set)  # names taken under rejected/<upload>/
    time_left: Callable[[], float] | None = None  # the invocation's, for publishing chart events

    @property
    def upload(self) -> str:
        return self.key[len(INCOMING):]


class StaleUploadError(RuntimeError):
    """The upload's key now holds another object, whose own import has started."""


class SentLedgerError(RuntimeError):
    """A file's records were accepted by Firehose but could not be kept in the sent ledger: the
    file is not held, and the invocation fails so that Lambda's retry sends it again."""


class Importer:
    def __init__(self, store: ImportStore, writer: FirehoseWriter, sent: StateStore,
                 limits: UploadLimits = UploadLimits(), *, continue_below_seconds: float = 30.0,
                 clock: Callable[[], datetime] = utc_now, logger=None, events: ImportEvents | None = None):
        self.store = store
        self.writer = writer
        self.sent = sent  # the producer's state store: only its sent ledger is written
        self.limits = limits
        self.continue_below_seconds = continue_below_seconds
        self.clock = clock
        self.logger = logger
        self.events = events  # chart events to subscribers; None: none published

    # -- events ------------------------------------------------------------------------------

    def handle_event(self, event: dict[str, Any], time_left: Callable[[], float]) -> list[ImportRun]:
        """Import what an S3 notification names: uploads under incoming/, continuations."""
        runs = []
        for record in event.get("Records") or []:
            s3 = record.get("s3") or {}
            bucket, obj = (s3.get("bucket") or {}).get("name"), s3.get("object") or {}
            key = unquote_plus(obj.get("key", ""))  # notifications URL-encode keys
            if bucket != self.store.bucket or key.endswith("/"):
                self._log("warning", "ignored a notification", bucket=bucket, key=key)
            elif key.startswith(CONTINUE):
                runs += self._resume(key, time_left)
            elif key.startswith(INCOMING):
                etag = (obj.get("eTag") or self.store.object_etag(key)).strip('"')
                runs.append(self.import_object(key, etag, time_left))
            else:
                self._log("warning", "ignored a notification outside incoming/ and results/continue/", key=key)
        return runs

    def _resume(self, key: str, time_left: Callable[[], float]) -> list[ImportRun]:
        body = self.store.continuation(key)
        if body is None or not str(body.get("upload", "")).startswith(INCOMING):
            self._log("warning", "not a continuation of an upload", key=key)
            return []
        return [self.import_object(body["upload"], body["etag"], time_left, hop=body.get("hop", 1))]

    # -- one upload --------------------------------------------------------------------------

    def import_object(self, key: str, etag: str, time_left: Callable[[], float], hop: int = 0) -> ImportRun:
        """Import the files of object ``key`` (version ``etag``) from its first file without a
        result, until done or the time runs short (then a continuation follows)."""
        job = self._job(key, etag, hop)
        job.time_left = time_left
        if job.run.skipped:
            return job.run
        try:
            data = self.store.read_upload(key, etag, self.limits.max_object_bytes)
        except ObjectChangedError:
            job.run.skipped = "the object was overwritten since this notification: its newer version is imported"
            return job.run
        try:
            self._import_data(job, data, time_left)
        except StaleUploadError:
            job.run.skipped = "the object was overwritten while it was imported: its newer version is imported"
        return job.run

    def _import_data(self, job: UploadJob, data: bytes | int, time_left: Callable[[], float]) -> None:
        try:
            if isinstance(data, int):
                raise UploadError(OBJECT_TOO_LARGE, f"{data:,} bytes, over the {self.limits.max_object_bytes:,}"
                                                    "-byte limit of one upload")
            files = open_upload(job.key, data, self.limits)
        except UploadError as error:
            self._reject_upload(job, error)
            return
        job.results.entries = len(files.entries)
        self._save(job)  # at once: whoever polls the results sees the import started, and its size
        self._import_files(files, job, time_left)

    def _job(self, key: str, etag: str, hop: int) -> UploadJob:
        upload = key[len(INCOMING):]
        body, results_etag = self.store.results(upload)
        run = ImportRun(upload)
        if body is not None and body["etag"] == etag:
            results = UploadResults.from_json(body)
            if results.status == DONE:
                run.status, run.skipped = DONE, "already imported: nothing changes"
            results.invocations += 1
        else:  # a new upload, or its key now holds another object
            results = UploadResults(key, etag, started_at=self._now())
        run.status = run.status or results.status
        kept = {PurePosixPath(f.kept_at).name for f in results.files.values() if f.kept_at}
        return UploadJob(key, etag, results, results_etag, run, hop, kept_names=kept)

    def _import_files(self, files: UploadFiles, job: UploadJob, time_left: Callable[[], float]) -> None:
        groups = files.chart_groups()
        worked = False
        for entry in files.entries:
            if entry.index in job.results.files:
                continue
            if worked and time_left() < self.continue_below_seconds:
                self._continue(job, entry.index)
                return
            for outcome in self._import_group(files, groups.get(entry.index, [entry]), job):
                job.results.files[outcome.entry] = outcome
                job.run.count(outcome)
            worked = True
            if time.monotonic() - job.last_saved >= SAVE_EVERY_SECONDS:
                self._save(job)
        job.results.status, job.results.finished_at = DONE, self._now()
        self._save(job)

    def _continue(self, job: UploadJob, next_entry: int) -> None:
        self._save(job)
        body = {"upload": job.key, "etag": job.etag, "next_entry": next_entry, "hop": job.hop + 1,
                "written_at": self._now()}
        job.run.continuation = self.store.put_continuation(job.upload, body)
        self._log("info", "time is short: the upload continues in another invocation", **body)

    # -- files -------------------------------------------------------------------------------

    def _import_group(self, files: UploadFiles, members: list[UploadEntry], job: UploadJob) -> list[FileOutcome]:
        """One file, or every file of the upload naming the same chart and date: identical ones
        are one chart (the first imported, the rest unchanged); different ones conflict and
        are all rejected, since which one the user means cannot be known."""
        parsed: list[tuple[UploadEntry, bytes, ChartExport]] = []
        outcomes = []
        for entry in members:
            data = None
            try:
                data = files.read(entry)
                check_entry_name(entry.name)
                parsed.append((entry, data, parse_chart_file(entry.name, data, max_bytes=self.limits.max_file_bytes)))
            except ChartFileError as error:
                outcomes.append(self._reject(job, entry, data, error))
        if len({chart.snapshot_id for _, _, chart in parsed}) > 1:
            names = ", ".join(entry.name for entry, _, _ in parsed)
            error = ChartFileError(CONFLICT, f"this upload holds different files for {parsed[0][2].alias} "
                                             f"{parsed[0][2].chart_date}: {names}; upload the right one alone")
            outcomes += [self._reject(job, entry, data, error) for entry, data, _ in parsed]
        elif parsed:
            first, _, chart = parsed[0]
            outcomes.append(self._import_chart(job, first, chart))
            outcomes += [replace(_described(entry, same), outcome=UNCHANGED,
                                 reason=f"the same chart as {first.name} in this upload")
                         for entry, _, same in parsed[1:]]
        for outcome in outcomes:
            self._log("warning" if outcome.outcome == REJECTED else "info", "file imported", **outcome.to_json())
        return sorted(outcomes, key=lambda o: o.entry)

    def _import_chart(self, job: UploadJob, entry: UploadEntry, chart: ChartExport) -> FileOutcome:
        described = _described(entry, chart)
        held, held_etag = self.store.held(chart.alias, chart.chart_date.isoformat())
        if held is not None and held.snapshot_id == chart.snapshot_id:
            self._note(chart)  # its history may lack it (a crash before the last save, events enabled since)
            if (held.upload, held.etag, held.entry) == (job.key, job.etag, entry.index):
                return replace(described, outcome=held.outcome)  # sent by this upload before a retry
            return replace(described, outcome=UNCHANGED)
        revision = held.revision + 1 if held else 1
        observed_at = self.clock()
        records = chart_records(chart, observed_at, revision=revision)
        encoded = [contract.encode(record) for record in records]
        report = self.writer.put(encoded)
        job.run.records_sent += report.records
        job.run.firehose_retries += report.retried_records
        self._record_sent(entry, records[-1]["poll_id"], encoded)
        outcome = REPLACED if held else LOADED
        self._hold(HeldChart(
            chart=chart.alias, chart_date=chart.chart_date.isoformat(), snapshot_id=chart.snapshot_id,
            revision=revision, poll_id=records[-1]["poll_id"], observed_at=records[-1]["observed_at"],
            rows=len(chart.rows), upload=job.key, etag=job.etag, entry=entry.index, outcome=outcome,
            tracks=sorted({row.track_id for row in chart.rows})), held_etag)
        self._note(chart, held)
        return replace(described, outcome=outcome)

    def _record_sent(self, entry: UploadEntry, poll_id: str, records: list[bytes]) -> None:
        """Keep a file's accepted records in the sent ledger, one object per file under its
        observation's poll id, before the file is held: nothing is held without a trace the
        reconciler can follow. If that write fails, neither is the file: the invocation fails,
        and its retry sends the file again (the same poll id and keys, deduplicated downstream)."""
        try:
            self.sent.save_sent(poll_id, ledger.encode_sent(records))
        except Exception as error:  # noqa: BLE001 - whatever it is, the file must not be held
            self._log("error", "sent ledger not written", name=entry.name, entry=entry.index, error=str(error))
            raise SentLedgerError(f"{entry.name}: delivered, but not recorded as sent "
                                  f"({type(error).__name__}: {error}); not held, a retry sends it again") from error

    def _note(self, chart: ChartExport, replaced: HeldChart | None = None) -> None:
        if self.events is not None:
            self.events.note(chart, replaced)

    def _hold(self, held: HeldChart, etag: str | None, attempts: int = 5) -> None:
        """Write the ledger; if another import wrote it meanwhile, the later observation stays held
        (the views show the chart of the latest observation too)."""
        for _ in range(attempts):
            try:
                self.store.hold(held, etag)
                return
            except ObjectChangedError:
                current, etag = self.store.held(held.chart, held.chart_date)
                if current is not None and current.observed_at >= held.observed_at:
                    return
        raise ObjectChangedError(f"the ledger of {held.chart} {held.chart_date} kept changing")

    # -- rejections --------------------------------------------------------------------------

    def _reject(self, job: UploadJob, entry: UploadEntry, data: bytes | None, error: ChartFileError) -> FileOutcome:
        name = self._kept_name(job, entry)
        reason = {"upload": job.key, "etag": job.etag, "entry": entry.index, "file": entry.name,
                  "code": error.code, "reason": error.reason, "rejected_at": self._now()}
        if data is None:
            reason["not_kept"] = f"the file could not be read out of the upload, which stays at {job.key}"
        kept_at = self.store.keep_rejected(job.upload, name, data, reason)
        return replace(_described(entry), outcome=REJECTED, reason=error.reason, code=error.code, kept_at=kept_at)

    def _reject_upload(self, job: UploadJob, error: UploadError) -> None:
        name = _safe_name(file_name(job.key))
        reason = {"upload": job.key, "etag": job.etag, "file": name, "code": error.code, "reason": error.reason,
                  "rejected_at": self._now()}
        kept_at = self.store.keep_rejected_object(job.key, job.etag, job.upload, name, reason)
        outcome = FileOutcome(0, file_name(job.key), None, None, REJECTED, reason=error.reason, code=error.code,
                              kept_at=kept_at)
        self._log("warning", "upload rejected", **outcome.to_json())
        job.results.entries, job.results.files = 1, {0: outcome}
        job.results.status, job.results.finished_at = DONE, self._now()
        job.run.count(outcome)
        self._save(job)

    def _kept_name(self, job: UploadJob, entry: UploadEntry) -> str:
        """The rejected file's name under rejected/<upload>/: its own, made safe, and unique in the upload."""
        name = _safe_name(entry.name)
        if name in job.kept_names:
            path = PurePosixPath(name)
            name = f"{path.stem}~{entry.index}{path.suffix}"
        job.kept_names.add(name)
        return name

    # -- results -----------------------------------------------------------------------------

    def _save(self, job: UploadJob, attempts: int = 5) -> None:
        """Write the results; when another invocation wrote them meanwhile, merge (its outcomes win).
        First the chart events of the files held since the last save: their histories are
        written before the results say the files are done (see producer.import_events)."""
        if self.events is not None:
            job.run.events.add(self.events.flush(job.time_left))
        for _ in range(attempts):
            job.results.updated_at = self._now()
            try:
                job.results_etag = self.store.save_results(job.upload, job.results.to_json(), job.results_etag)
                job.last_saved = time.monotonic()
                job.run.status = job.results.status
                return
            except ObjectChangedError:
                body, job.results_etag = self.store.results(job.upload)
                if body is not None and body["etag"] != job.etag:
                    raise StaleUploadError(job.key) from None
                if body is not None:
                    job.results = job.results.merged_into(UploadResults.from_json(body))
        raise ObjectChangedError(f"the results of {job.key} kept changing")

    def _now(self) -> str:
        return contract.format_timestamp(self.clock())

    def _log(self, level: str, message: str, **fields: Any) -> None:
        if self.logger is not None:
            # Nested: LogRecord's own attribute names ('name', ...) may not be extra keys.
            getattr(self.logger, level)(message, extra={"import": fields})


def _described(entry: UploadEntry, chart: ChartExport | None = None) -> FileOutcome:
    """A file's outcome before its outcome is known: which chart and date it is."""
    if chart is None:
        try:
            name = parse_chart_name(PurePosixPath(entry.name).name)
        except ChartFileError:
            return FileOutcome(entry.index, entry.name, None, None, IN_PROGRESS)
        return FileOutcome(entry.index, entry.name, name.alias, name.chart_date.isoformat(), IN_PROGRESS)
    return FileOutcome(entry.index, entry.name, chart.alias, chart.chart_date.isoformat(), IN_PROGRESS,
                       rows=len(chart.rows), snapshot_id=chart.snapshot_id, missing_ranks=chart.missing_ranks or None)


def _safe_name(name: str) -> str:
    """A file name fit for a key under rejected/: no folders, no dot-dot, nothing a shell or a URL trips on."""
    safe = _UNSAFE_NAME_CHARACTERS.sub("_", name.replace("/", "_").replace("\\", "_"))
    return re.sub(r"^\.|\.\.+", "_", safe) or "_"
