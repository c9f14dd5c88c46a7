"""Small JSON objects on S3 with their ETags, written conditionally (``If-None-Match: *`` to
create, ``If-Match: <ETag>`` to replace the version read): how the producer's state and poll
lease, the import ledger and the Glue run lease keep their state, with no database. And
``put_if_absent``: how the Glue job publishes a curated file once."""
from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

MISSING_CODES = frozenset({"NoSuchKey", "404"})
# A conditional write lost to another: the object exists or changed (412), or another
# conditional write to it is under way (409).
CONDITION_FAILED_CODES = frozenset({"PreconditionFailed", "412", "ConditionalRequestConflict", "409"})
# ... or, for a replacement, the object was deleted meanwhile (404).
LOST_WRITE_CODES = CONDITION_FAILED_CODES | MISSING_CODES


class ObjectChangedError(RuntimeError):
    """A conditional write lost: the object is no longer the version the writer expected (another
    writer changed or deleted it, or is writing it now)."""


def bucket_and_key(url: str) -> tuple[str, str]:
    """``s3://bucket/key`` (or ``s3a://``, ``s3n://``) -> ``("bucket", "key")``."""
    bucket, _, key = url.split("://", 1)[1].partition("/")
    return bucket, key


def error_code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def get_json(client: Any, bucket: str, key: str) -> tuple[Any, str | None]:
    """The object's JSON and ETag; ``(None, None)`` when there is no such object."""
    try:
        response = client.get_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error_code(error) in MISSING_CODES:
            return None, None
        raise
    return json.loads(response["Body"].read()), response["ETag"]


def put_json(client: Any, bucket: str, key: str, value: Any, **condition: str) -> str:
    """Write ``value`` as compact UTF-8 JSON; returns the new ETag. With a condition
    (``IfNoneMatch="*"`` or ``IfMatch=etag``) a lost write raises :class:`ObjectChangedError`."""
    body = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    try:
        return client.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json",
                                 **condition)["ETag"]
    except ClientError as error:
        if condition and error_code(error) in LOST_WRITE_CODES:
            raise ObjectChangedError(f"s3://{bucket}/{key} changed since it was read") from None
        raise


def if_unchanged(etag: str | None) -> dict[str, str]:
    """The condition of a write that replaces the version read (``etag``), or creates the object
    if there was none (``etag`` None): it loses if anyone wrote in between."""
    return {"IfMatch": etag} if etag else {"IfNoneMatch": "*"}


def put_if_absent(client: Any, bucket: str, key: str, body: bytes) -> bool:
    """Create the object unless it exists (``If-None-Match: *``, one request); False if it
    existed, or another writer was creating it at that moment."""
    try:
        client.put_object(Bucket=bucket, Key=key, Body=body, IfNoneMatch="*")
    except ClientError as error:
        if error_code(error) in CONDITION_FAILED_CODES:
            return False
        raise
    return True
