"""Mirror an S3 prefix to a local folder and back, through boto3.

Spark on a developer machine reads only local paths (no S3 connector), so the local
run syncs the raw bucket down, runs the job on folders, and syncs the output up.
boto3 honours ``AWS_ENDPOINT_URL``, so the same code talks to LocalStack, moto or AWS.
Kept apart from the job: on Glue, Spark reads and writes ``s3://`` itself.

    python -m localdev.s3_mirror download s3://bucket/raw/ ./raw
    python -m localdev.s3_mirror upload ./curated s3://bucket/curated/

Both directions copy only what is missing or different, so repeating a sync is cheap
and changes nothing. Keys are kept as relative paths (local emulators put literal
``!{timestamp:...}`` text in keys; Spark reads such paths fine).
"""
from __future__ import annotations

import argparse
import hashlib
import os
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlparse


class MirrorError(ValueError):
    """A path or key cannot be mirrored safely."""


def split_s3_url(url: str) -> tuple[str, str]:
    """('bucket', 'prefix/') of ``s3://bucket/prefix``."""
    parsed = urlparse(url)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise MirrorError(f"not an s3:// URL: {url!r}")
    prefix = parsed.path.lstrip("/")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return parsed.netloc, prefix


def _client(client: Any) -> Any:
    if client is not None:
        return client
    import boto3

    return boto3.client("s3")


def _local_path(root: Path, relative_key: str) -> Path:
    parts = PurePosixPath(relative_key).parts
    if not parts or any(p in ("..", ".") for p in parts) or relative_key.startswith("/"):
        raise MirrorError(f"refusing to mirror key {relative_key!r} outside {root}")
    return root.joinpath(*parts)


def download(bucket: str, prefix: str, local_dir: str | os.PathLike, client: Any = None) -> list[Path]:
    """Copy every object under ``prefix`` that is missing locally (or differs in size).

    Files are written under a hidden temporary name first: Spark skips names that
    start with a dot, so it never reads a half-written file."""
    s3 = _client(client)
    root = Path(local_dir)
    written = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            key = obj["Key"]
            if key.endswith("/"):
                continue  # a "folder" marker object
            target = _local_path(root, key[len(prefix):])
            if target.exists() and target.stat().st_size == obj["Size"]:
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f".{target.name}.part")
            s3.download_file(bucket, key, str(partial))
            partial.replace(target)
            written.append(target)
    return written


def upload(local_dir: str | os.PathLike, bucket: str, prefix: str, client: Any = None) -> list[str]:
    """Put every local file whose object is missing or has other content (by MD5).

    Hidden files and Spark's bookkeeping (names starting with '.' or '_', '.crc')
    are skipped. Objects are single PUTs, so their ETag is the MD5 of the content."""
    s3 = _client(client)
    root = Path(local_dir)
    existing = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            existing[obj["Key"]] = obj["ETag"].strip('"')
    uploaded = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        relative = path.relative_to(root)
        if any(part.startswith((".", "_")) for part in relative.parts) or path.suffix == ".crc":
            continue
        key = prefix + relative.as_posix()
        data = path.read_bytes()
        if existing.get(key) == hashlib.md5(data).hexdigest():
            continue
        s3.put_object(Bucket=bucket, Key=key, Body=data)
        uploaded.append(key)
    return uploaded


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m localdev.s3_mirror", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="direction", required=True)
    down = sub.add_parser("download", help="s3://bucket/prefix -> local folder")
    down.add_argument("source")
    down.add_argument("local_dir")
    up = sub.add_parser("upload", help="local folder -> s3://bucket/prefix")
    up.add_argument("local_dir")
    up.add_argument("target")
    args = parser.parse_args(argv)
    if args.direction == "download":
        bucket, prefix = split_s3_url(args.source)
        changed = download(bucket, prefix, args.local_dir)
    else:
        bucket, prefix = split_s3_url(args.target)
        changed = upload(args.local_dir, bucket, prefix)
    print(f"{args.direction}: {len(changed)} file(s) copied")


if __name__ == "__main__":
    main()
