"""A local AWS endpoint (moto server) for tests and the local run.

boto3 reads ``AWS_ENDPOINT_URL``, so code under test is unchanged: only the
environment points it here. LocalStack (issue: integration tests) is the other
local endpoint; this one starts in under a second.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
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
