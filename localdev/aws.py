"""A local AWS endpoint (moto server) for tests and the local run.

boto3 reads ``AWS_ENDPOINT_URL``, so code under test is unchanged: only the
environment points it here. LocalStack (``localdev.localstack``) is the other
local endpoint; this one starts in under a second.
"""
from __future__ import annotations

import os
from contextlib import contextmanager

import boto3

from firehose import contract, settings
from typing import Iterator

from localdev.process import ManagedProcess, free_port, http_ready, python_module

# Dummy credentials: local endpoints accept anything, and real ones must never be used here.
LOCAL_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


@contextmanager
def moto_server(port: int | None = None, log_path: str | None = None) -> Iterator[str]:
    """Run a moto server in a child process; yields its endpoint URL."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    argv = python_module("moto.server", "-H", "127.0.0.1", "-p", str(port))
    with ManagedProcess(argv, ready=http_ready(f"{url}/moto-api/"), name="moto-server",
                        env=LOCAL_AWS_ENV, log_path=log_path, start_timeout=30):
        yield url


def list_keys(bucket: str, prefix: str = "", client=None) -> list[str]:
    """Every key under ``prefix``, in key order."""
    s3 = client or boto3.client("s3")
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


def read_records(bucket: str, prefix: str = "", client=None, record_type: str | None = None) -> list[dict]:
    """Every JSON-lines record stored under ``prefix`` (what Firehose landed), in key order;
    only those of ``record_type`` (``contract.CHART_ENTRY``, ...) when given."""
    s3 = client or boto3.client("s3")
    records = [record for key in list_keys(bucket, prefix, s3)
               for record in contract.decode_lines(s3.get_object(Bucket=bucket, Key=key)["Body"].read())]
    if record_type is None:
        return records
    # Version 1 records have no record_type: they are chart entries.
    return [r for r in records if r.get("record_type", contract.CHART_ENTRY) == record_type]


def local_aws_environ(endpoint_url: str) -> dict[str, str]:
    """Environment variables that point boto3 at a local endpoint."""
    return {**LOCAL_AWS_ENV, "AWS_ENDPOINT_URL": endpoint_url}


def apply_environ(values: dict[str, str]) -> dict[str, str | None]:
    """Set environment variables; returns the previous values for restore_environ."""
    previous = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    return previous


def restore_environ(previous: dict[str, str | None]) -> None:
    for key, value in previous.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def delete_delivery_stream(stream: str) -> None:
    """Delete a stream: moto allows 50 at once, and a test session's moto server lives long."""
    boto3.client("firehose").delete_delivery_stream(DeliveryStreamName=stream)


def create_delivery_stream(bucket: str, stream: str, prefix: str = settings.RAW_PREFIX) -> None:
    """A raw bucket and a DirectPut stream into it, with the stack's settings.

    Local endpoints ignore buffering and compression and write each batch as one
    plain object; the settings are passed anyway so the call is the stack's.
    """
    boto3.client("s3").create_bucket(Bucket=bucket)
    boto3.client("firehose").create_delivery_stream(
        DeliveryStreamName=stream,
        DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::000000000000:role/firehose-local",
            "BucketARN": f"arn:aws:s3:::{bucket}",
            "Prefix": prefix,
            "ErrorOutputPrefix": settings.ERROR_OUTPUT_PREFIX,
            "BufferingHints": {"IntervalInSeconds": settings.BUFFER_INTERVAL_SECONDS,
                               "SizeInMBs": settings.BUFFER_SIZE_MIB},
            "CompressionFormat": settings.COMPRESSION,
        },
    )
