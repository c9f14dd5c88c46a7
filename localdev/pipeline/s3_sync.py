"""Move files between S3 (LocalStack) and the local folders the Glue job runs on.

Spark on this machine reads ``file://`` paths only (no S3 connector), so the local
pipeline mirrors the raw prefix into a folder before each Glue run and uploads what
the job wrote afterwards, under the keys the job would write on AWS Glue. The bucket's
S3 event notifications then fire exactly as they would for the real job.

Both directions are incremental and safe to repeat: a mirrored object is downloaded
once; a local file is uploaded only when S3 does not hold the same bytes (ETag = MD5
for a single PUT), so a rerun that rewrites identical files uploads nothing.
"""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from botocore.exceptions import ClientError

# Hadoop paths cannot hold ':' (LocalStack's Firehose leaves "!{timestamp:...}" literally in
# its keys); keep a conservative character set and replace the rest.
_UNSAFE = re.compile(r"[^A-Za-z0-9._=/-]")
PARQUET_MAGIC = b"PAR1"


def local_path(folder: Path, relative_key: str) -> Path:
    """Where an object (its key below the mirrored prefix) lands in ``folder``.

    Only unsafe characters change, to '-': a name Spark skips ('_x', '.x') stays skipped,
    as Glue would skip it on S3.
    """
    return folder / _UNSAFE.sub("-", relative_key)


def mirror_prefix(s3, bucket: str, prefix: str, folder: Path) -> list[Path]:
    """Download the objects under ``s3://bucket/prefix`` not yet in ``folder``; returns the new files.

    A download goes to a hidden partial file first (Spark skips names starting with '.'),
    then is renamed: the job never reads half an object.
    """
    new_files = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            key = obj["Key"]
            if key.endswith("/"):
                continue
            path = local_path(folder, key[len(prefix):])
            if path.is_file() and path.stat().st_size == obj["Size"]:
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(f".{path.name}.partial")
            s3.download_file(bucket, key, str(partial))
            os.replace(partial, path)
            new_files.append(path)
    return new_files


@dataclass
class UploadReport:
    uploaded: list[str] = field(default_factory=list)  # keys written
    unchanged: int = 0  # files S3 already held byte for byte
    incomplete: list[str] = field(default_factory=list)  # local files skipped: not a whole Parquet file


def is_complete_parquet(path: Path) -> bool:
    """A whole Parquet file starts and ends with PAR1; a write cut short has no footer."""
    size = path.stat().st_size
    if size < 2 * len(PARQUET_MAGIC):
        return False
    with open(path, "rb") as handle:
        head = handle.read(len(PARQUET_MAGIC))
        handle.seek(-len(PARQUET_MAGIC), os.SEEK_END)
        return head == PARQUET_MAGIC and handle.read() == PARQUET_MAGIC


def upload_tree(s3, folder: Path, bucket: str, prefix: str) -> UploadReport:
    """Upload the Parquet files below ``folder`` to ``s3://bucket/prefix<relative path>``.

    Skipped: hidden and '_' names (Hadoop's .crc files, _SUCCESS, Spark metadata), files
    S3 already holds unchanged, and incomplete Parquet files (a job killed while copying
    one: on S3 an interrupted PUT never appears either, so the upload keeps that promise).
    """
    report = UploadReport()
    if not folder.is_dir():
        return report
    for path in sorted(folder.rglob("*.parquet")):
        relative = path.relative_to(folder)
        if not path.is_file() or any(part.startswith((".", "_")) for part in relative.parts):
            continue
        key = prefix + relative.as_posix()
        if not is_complete_parquet(path):
            report.incomplete.append(key)
            continue
        body = path.read_bytes()
        if _etag(s3, bucket, key) == hashlib.md5(body).hexdigest():
            report.unchanged += 1
            continue
        s3.put_object(Bucket=bucket, Key=key, Body=body)  # one PUT: atomic, ETag = MD5
        report.uploaded.append(key)
    return report


def _etag(s3, bucket: str, key: str) -> str | None:
    try:
        return s3.head_object(Bucket=bucket, Key=key)["ETag"].strip('"')
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise


def download_prefix(s3, bucket: str, prefix: str, folder: Path) -> int:
    """Keep a copy of every object under a prefix (keys kept as paths); returns the count."""
    count = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            path = folder / obj["Key"]
            path.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(bucket, obj["Key"], str(path))
            count += 1
    return count


def upload_folder(s3, folder: Path, bucket: str) -> int:
    """Put back what ``download_prefix`` kept (paths are keys); returns the count."""
    count = 0
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        s3.put_object(Bucket=bucket, Key=path.relative_to(folder).as_posix(), Body=path.read_bytes())
        count += 1
    return count
