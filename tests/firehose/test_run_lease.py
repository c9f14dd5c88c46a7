"""The checkpoint's run lease (firehose.run_lease.py): one Glue run at a time on a
checkpoint. On S3 (real boto3 against moto, conditional writes) and on local folders."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import boto3
import pytest

from firehose.run_lease import (LEASE_NAME, CheckpointLeaseHeldError, LocalRunLease, S3RunLease, run_lease)
from tests.conftest import unique_name


@pytest.fixture
def checkpoint(aws_endpoint) -> str:
    bucket = unique_name("curated")
    boto3.client("s3").create_bucket(Bucket=bucket)
    return f"s3://{bucket}/_checkpoints/curate-charts/"


def lease_object(checkpoint: str) -> dict:
    bucket, _, prefix = checkpoint.removeprefix("s3://").partition("/")
    return json.loads(boto3.client("s3").get_object(Bucket=bucket, Key=prefix + LEASE_NAME)["Body"].read())


def put_lease(checkpoint: str, body: dict) -> None:
    bucket, _, prefix = checkpoint.removeprefix("s3://").partition("/")
    boto3.client("s3").put_object(Bucket=bucket, Key=prefix + LEASE_NAME, Body=json.dumps(body).encode())


def test_a_second_run_waits_for_the_lease_then_gives_up_and_gets_it_once_released(checkpoint):
    first = run_lease(checkpoint, "first", seconds=30, wait_seconds=0)
    with first:
        assert lease_object(checkpoint)["holder"]["run_id"] == "first"
        started = time.monotonic()
        with pytest.raises(CheckpointLeaseHeldError, match="another run holds"):
            with run_lease(checkpoint, "second", seconds=30, wait_seconds=1.0):
                pass
        assert 1.0 <= time.monotonic() - started < 10
    assert lease_object(checkpoint)["released"] is True
    with run_lease(checkpoint, "second", seconds=30, wait_seconds=0):
        assert lease_object(checkpoint)["holder"]["run_id"] == "second"


def test_a_waiting_run_starts_as_soon_as_the_holder_lets_go(checkpoint):
    held, order = threading.Event(), []

    def first_run():
        with run_lease(checkpoint, "first", seconds=30, wait_seconds=0):
            held.set()
            time.sleep(1.5)
            order.append("first ends")

    thread = threading.Thread(target=first_run)
    thread.start()
    held.wait(10)
    with run_lease(checkpoint, "second", seconds=30, wait_seconds=30):
        order.append("second starts")
    thread.join()
    assert order == ["first ends", "second starts"]


def test_the_lease_of_a_run_that_died_is_taken_over(checkpoint):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    import socket

    # A run on this machine whose process is gone: at once, though its lease has not expired.
    put_lease(checkpoint, {"holder": {"run_id": "killed", "host": socket.gethostname(), "pid": dead.pid},
                           "expires_at": time.time() + 600, "released": False})
    with run_lease(checkpoint, "next", seconds=30, wait_seconds=0):
        assert lease_object(checkpoint)["holder"]["run_id"] == "next"
    # A run elsewhere (a Glue worker): only once its lease expired.
    put_lease(checkpoint, {"holder": {"run_id": "elsewhere", "host": "glue-worker-1", "pid": 1},
                           "expires_at": time.time() + 600, "released": False})
    with pytest.raises(CheckpointLeaseHeldError):
        with run_lease(checkpoint, "next", seconds=30, wait_seconds=0):
            pass
    put_lease(checkpoint, {"holder": {"run_id": "elsewhere", "host": "glue-worker-1", "pid": 1},
                           "expires_at": time.time() - 1, "released": False})
    with run_lease(checkpoint, "next", seconds=30, wait_seconds=0):
        pass


def test_the_holder_renews_its_lease_and_stops_if_another_run_took_it_over(checkpoint):
    lost = threading.Event()
    lease = S3RunLease(checkpoint, "slow", seconds=3, wait_seconds=0, on_lost=lost.set)
    with lease:
        first_expiry = lease_object(checkpoint)["expires_at"]
        time.sleep(1.5)  # a renewal every second
        assert lease_object(checkpoint)["expires_at"] > first_expiry
        put_lease(checkpoint, {"holder": {"run_id": "usurper", "host": "elsewhere", "pid": 1},
                               "expires_at": time.time() + 60, "released": False})
        assert lost.wait(5)  # its next renewal fails: the run is stopped (on_lost: os._exit by default)
    assert lease_object(checkpoint)["holder"]["run_id"] == "usurper"  # and it did not release another's lease


@pytest.mark.unit
def test_on_a_local_folder_the_lease_is_a_lock_the_kernel_releases_with_its_process(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; sys.path.insert(0, '.')\n"
        "from firehose.run_lease import LocalRunLease\n"
        f"lease = LocalRunLease({str(tmp_path)!r}, 0).__enter__()\n"
        "print('held', flush=True); time.sleep(60)")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert isinstance(run_lease(str(tmp_path), "x"), LocalRunLease)
        with pytest.raises(CheckpointLeaseHeldError):
            with LocalRunLease(str(tmp_path), wait_seconds=0.5):
                pass
    finally:
        holder.kill()  # as a killed Glue run dies: nothing released it
        holder.wait()
    with LocalRunLease(str(tmp_path), wait_seconds=0):
        pass
