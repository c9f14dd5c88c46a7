"""``spotify-charts import``: put chart exports where the deployed import path takes them,
then say what became of each file.

A deployment's imports bucket (stack output ``ImportsBucketName``) notifies the import
Lambda of every object under ``incoming/``; the Lambda writes what became of each file of
``incoming/<upload>`` to ``results/uploads/<upload>.json`` (producer/IMPORTS.md). So this
command:

1. collects the files (CSV, ``.csv.gz``, ``.zip`` archives; folders are searched) and
   packs loose CSV files into zip archives (one S3 request and one Lambda invocation for
   hundreds of files instead of one each: a year of two markets is 732 files),
2. uploads each one to ``incoming/<upload id>/<file name>`` with a progress bar (a new
   upload id per run: uploading a file again is a new object, which the Lambda finds
   already held, "unchanged"),
3. waits for each upload's results object and prints, per chart file: loaded,
   unchanged (already held), replaced (a corrected file), or rejected with its reason
   (kept under ``rejected/`` with a JSON reason beside it).

Files are read as bytes and never parsed here: the Lambda is the one judge of a file.
"""
from __future__ import annotations

import json
import tempfile
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, TextIO

from producer.import_store import INCOMING, UPLOADS
from spotify_charts.commands import CommandError
from spotify_charts.progress import ProgressBar

# The bucket's layout is the import Lambda's (producer/import_store.py): one definition.
INCOMING_PREFIX, RESULTS_PREFIX = INCOMING, UPLOADS
IMPORTABLE_SUFFIXES = (".csv", ".csv.gz", ".zip")
OUTCOMES = ("loaded", "replaced", "unchanged", "rejected")
# A pack of loose CSV files stays well inside the import Lambda's limits (producer/IMPORTS.md).
PACK_MAX_FILES = 5_000
PACK_MAX_BYTES = 64 * 1024 * 1024


class NothingToImportError(CommandError):
    """No chart export among the paths given."""


def collect_files(paths: Iterable[Path | str]) -> list[Path]:
    """The importable files named by ``paths`` (files as given; folders searched, sorted)."""
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(IMPORTABLE_SUFFIXES))
        elif path.is_file():
            found.append(path)
        else:
            raise CommandError(f"{path}: no such file or folder")
    if not found:
        raise NothingToImportError("no chart export (.csv, .csv.gz or .zip) among the paths given")
    return found


def pack_csv_files(files: list[Path], folder: Path) -> list[Path]:
    """``files`` with loose CSV files packed into zip archives under ``folder`` (each entry
    under its own name; two files of one name go to different packs). A single CSV, and
    archives and gzip files, are uploaded as they are."""
    loose = [f for f in files if f.suffix == ".csv"]
    if len(loose) < 2:
        return files
    packs: list[list[Path]] = []
    for path in loose:
        pack = next((p for p in packs if len(p) < PACK_MAX_FILES and path.name not in {f.name for f in p}
                     and sum(f.stat().st_size for f in p) + path.stat().st_size <= PACK_MAX_BYTES), None)
        if pack is None:
            packs.append(pack := [])
        pack.append(path)
    archives = []
    for number, pack in enumerate(packs, start=1):
        archive = folder / f"chart-exports-{number:03d}-of-{len(packs):03d}.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
            for path in pack:
                out.write(path, path.name)
        archives.append(archive)
    return [f for f in files if f.suffix != ".csv"] + archives


@dataclass
class Upload:
    path: Path
    key: str  # the object under incoming/
    results: dict[str, Any] | None = None  # the Lambda's results object, once done

    @property
    def results_key(self) -> str:
        """Where the import Lambda says what became of the upload (producer/IMPORTS.md)."""
        return f"{RESULTS_PREFIX}{self.key.removeprefix(INCOMING_PREFIX)}.json"

    @property
    def files(self) -> list[dict[str, Any]]:
        return (self.results or {}).get("files", [])


@dataclass
class ImportSummary:
    uploads: list[Upload]
    counts: dict[str, int] = field(default_factory=dict)  # outcome -> chart files
    unfinished: list[Upload] = field(default_factory=list)  # no results within the wait

    @property
    def ok(self) -> bool:
        return not self.unfinished and not self.counts.get("rejected")


class ChartImporter:
    """Uploads chart exports to a deployment's imports bucket and reads back the results."""

    def __init__(self, bucket: str, s3, *, out: TextIO | None = None, poll_seconds: float = 1.0):
        self.bucket, self.s3, self.out = bucket, s3, out
        self.poll_seconds = poll_seconds

    def upload(self, files: list[Path], upload_id: str | None = None) -> list[Upload]:
        """Put every file under ``incoming/<upload id>/`` with a progress bar (bytes)."""
        upload_id = upload_id or f"{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
        bar = ProgressBar(sum(f.stat().st_size for f in files), "bytes", "upload", out=self.out)
        uploads, sent = [], 0
        for path in files:
            upload = Upload(path, f"{INCOMING_PREFIX}{upload_id}/{path.name}")

            def progress(chunk: int) -> None:  # boto3 calls it with each chunk's bytes
                nonlocal sent
                sent += chunk
                bar.update(sent, path.name)
            self.s3.upload_file(str(path), self.bucket, upload.key, Callback=progress)
            uploads.append(upload)
        bar.finish(f"{len(files)} files")
        return uploads

    def wait(self, uploads: list[Upload], timeout: float) -> ImportSummary:
        """Read each upload's results object until all are done or ``timeout`` passes."""
        bar = ProgressBar(len(uploads), "uploads imported", "import", out=self.out)
        deadline = time.monotonic() + timeout
        pending = list(uploads)
        while pending and time.monotonic() < deadline:
            for upload in list(pending):
                results = self._results(upload)
                if results is not None and results.get("status") == "done":
                    upload.results = results
                    pending.remove(upload)
            bar.update(len(uploads) - len(pending), _files_note(uploads))
            if pending:
                time.sleep(self.poll_seconds)
        bar.finish()
        counts = {outcome: 0 for outcome in OUTCOMES}
        for upload in uploads:
            for entry in upload.files:
                counts[entry["outcome"]] = counts.get(entry["outcome"], 0) + 1
        return ImportSummary(uploads, counts, pending)

    def _results(self, upload: Upload) -> dict[str, Any] | None:
        try:
            body = self.s3.get_object(Bucket=self.bucket, Key=upload.results_key)["Body"].read()
        except self.s3.exceptions.NoSuchKey:
            return None
        return json.loads(body)


def _files_note(uploads: list[Upload]) -> str:
    files = sum(len(u.files) for u in uploads)
    return f"{files} chart files" if files else ""


def outcome_lines(summary: ImportSummary) -> list[str]:
    """One line per chart file, then the totals."""
    lines = []
    for upload in summary.uploads:
        for entry in upload.files:
            where = f"{entry.get('chart') or '?'} {entry.get('date') or ''}".strip()
            rows = f" ({entry['rows']} rows)" if entry.get("rows") else ""
            reason = f": {entry['reason']}" if entry.get("reason") else ""
            name = entry.get("name") or upload.path.name
            lines.append(f"{entry['outcome']:<9} {where:<36} {name}{rows}{reason}")
    for upload in summary.unfinished:
        lines.append(f"{'pending':<9} {upload.path.name}: no results yet under s3://…/{upload.results_key}")
    totals = ", ".join(f"{n} {outcome}" for outcome, n in summary.counts.items() if n)
    lines.append(f"imported {len(summary.uploads)} uploads: {totals or 'no chart files'}"
                 + (f"; {len(summary.unfinished)} still in progress" if summary.unfinished else ""))
    return lines


def import_paths(paths: list[str], bucket: str, s3, *, timeout: float, out: TextIO,
                 say: Callable[[str], None]) -> ImportSummary:
    """Upload the chart exports under ``paths`` and report what became of each file."""
    importer = ChartImporter(bucket, s3, out=out)
    with tempfile.TemporaryDirectory(prefix="chart-exports-") as folder:
        uploads = importer.upload(pack_csv_files(collect_files(paths), Path(folder)))
    summary = importer.wait(uploads, timeout)
    for line in outcome_lines(summary):
        say(line)
    return summary
