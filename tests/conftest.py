"""Fixtures shared by every test folder: a local AWS endpoint and its resources.

The moto server runs in a child process for the whole session and is stopped
by pid at the end; each test gets its own bucket and delivery stream names.
"""
from __future__ import annotations

import uuid

import pytest

from localdev.aws import apply_environ, create_delivery_stream, local_aws_environ, moto_server, restore_environ


@pytest.fixture(scope="session")
def aws_endpoint(tmp_path_factory):
    """A moto server; boto3 in this process points at it through AWS_ENDPOINT_URL."""
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with moto_server(log_path=str(log)) as url:
        previous = apply_environ(local_aws_environ(url))
        try:
            yield url
        finally:
            restore_environ(previous)


def unique_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def delivery_stream(aws_endpoint):
    """(bucket, stream) of a fresh raw bucket and a DirectPut stream into it."""
    bucket, stream = unique_name("raw"), unique_name("charts")
    create_delivery_stream(bucket, stream, prefix="raw/")
    return bucket, stream
