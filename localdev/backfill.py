"""Backfill: replay raw files into a FRESH curated area with the Glue job on local Spark,
showing progress (``spotify-charts backfill``).

The job itself does the work (``python -m glue_streaming.job``, run by
:mod:`localdev.local_spark.glue_runner`): it runs over the raw
files in chunks of ``chunk_files`` (its ``max_files_per_trigger``), with a checkpoint of
its own inside the new area, and logs one line per chunk; the bar follows those lines
(files and rows done). Because the target is fresh, what lands there is exactly the
raw data replayed, deduplicated by the job; nothing already curated is touched.

The raw files are a local folder or an S3 prefix (``s3://bucket/prefix``), which the job
reads itself, as on Glue (locally through Spark's S3 connector, on the endpoint
``AWS_ENDPOINT_URL`` names: see ``localdev.local_spark.s3a``). Spark skips paths starting
with ``_``, so the area's own folders (``_quarantine``, ``_checkpoint``) never mix with
the datasets.

An interrupted backfill continues where it stopped with ``resume``: the checkpoint
remembers which files were done.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Callable, TextIO
from urllib.parse import urlparse

import boto3

from localdev.local_spark.glue_runner import GluePaths, GlueRun, run_glue_job
from spotify_charts.progress import ProgressBar

BATCH_LINE = re.compile(r"\bbatch (\{.*\})\s*$")  # the job's per-batch log line


class BackfillError(RuntimeError):
    """The backfill cannot start (target not fresh, no raw files, ...)."""


@dataclass(frozen=True)
class BackfillArea:
    """The folders of one backfill, all below ``target``."""

    target: Path

    @property
    def quarantine(self) -> Path:
        return self.target / "_quarantine"

    @property
    def checkpoint(self) -> Path:
        return self.target / "_checkpoint"

    @property
    def log(self) -> Path:
        return self.target / "_backfill.log"


def _read_by_spark(relative: PurePosixPath) -> bool:
    """Spark's file source skips names starting with _ or . (its metadata, hidden files)."""
    return not any(part.startswith(("_", ".")) for part in relative.parts)


def raw_files(folder: Path) -> list[Path]:
    """The files the job will read below ``folder``."""
    return sorted(p for p in folder.rglob("*") if p.is_file()
                  and _read_by_spark(PurePosixPath(p.relative_to(folder).as_posix())))


def raw_objects(url: str, s3=None) -> list[str]:
    """The keys of the objects the job will read below an ``s3://bucket/prefix`` URL."""
    parsed = urlparse(url)
    bucket, prefix = parsed.netloc, parsed.path.lstrip("/")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    s3 = s3 or boto3.client("s3")
    return [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for o in page.get("Contents", [])
            if not o["Key"].endswith("/") and _read_by_spark(PurePosixPath(o["Key"][len(prefix):]))]


def check_fresh(area: BackfillArea, resume: bool) -> None:
    if not area.target.exists() or not any(area.target.iterdir()):
        return
    if resume and area.checkpoint.exists():
        return
    hint = " (add --resume to continue an interrupted backfill into it)" if area.checkpoint.exists() else ""
    raise BackfillError(f"{area.target} is not empty: a backfill writes into a fresh curated area{hint}")


def backfill(source: str, target: str | Path, *, chunk_files: int = 50, resume: bool = False,
             spark_master: str = "local[2]", out: TextIO, verbose: bool = False,
             run_job: Callable[..., GlueRun] = run_glue_job) -> dict[str, Any]:
    """Replay ``source`` (a folder or an s3:// prefix) into ``target``; returns the job's run metrics.

    Raises BackfillError if it cannot start, GlueJobError if the job fails."""
    area = BackfillArea(Path(target).resolve())
    check_fresh(area, resume)
    area.target.mkdir(parents=True, exist_ok=True)
    if urlparse(source).scheme == "s3":
        source_path, total = source, len(raw_objects(source))
    else:
        source_folder = Path(source).resolve()
        if not source_folder.is_dir():
            raise BackfillError(f"{source} is not a folder (or an s3:// prefix)")
        source_path, total = str(source_folder), len(raw_files(source_folder))
    if not total:
        raise BackfillError(f"no raw files under {source}")

    bar = ProgressBar(total, "files", "replay", out)
    done = {"files": 0, "records": 0, "curated": 0, "quarantined": 0}

    def follow(line: str) -> None:
        if verbose:
            print(line, file=out)
        match = BATCH_LINE.search(line)
        if match:
            batch = json.loads(match[1])
            done["files"] += batch.get("files_read", 0)
            for key, name in (("records", "records_read"), ("curated", "curated"), ("quarantined", "quarantined")):
                done[key] += batch.get(name, 0)
            bar.update(done["files"], f"{done['records']:,} rows read, {done['curated']:,} curated, "
                                      f"{done['quarantined']:,} quarantined")

    bar.update(0, "starting Spark")
    paths = GluePaths(source_path, area.target, area.quarantine, area.checkpoint)
    metrics = run_job(paths, area.log, spark_master=spark_master, on_log_line=follow,
                      job_arguments={"max_files_per_trigger": str(chunk_files), "job_name": "backfill"}).metrics
    # A resumed run reads only what was left; show the whole replay as done.
    bar.done = total if resume else metrics.get("files_read", done["files"])
    bar.finish(f"{metrics.get('records_read', 0):,} rows read, {metrics.get('curated', 0):,} curated, "
               f"{metrics.get('quarantined', 0):,} quarantined")
    return {**metrics, "target": str(area.target), "quarantine": str(area.quarantine),
            "checkpoint": str(area.checkpoint), "raw_files": total}
