"""What a LocalStack restart keeps (host mode, same state dir, PERSISTENCE=1).

A fault test restarts LocalStack between pipeline stages; it needs to know what is
still there afterwards. LocalStack's community edition (localstack-core) has no
persistence implementation: PERSISTENCE=1 is accepted and nothing is kept, so after a
restart the stack must be deployed again and the producer's state rebuilt. This test
pins that down (it fails, and says so, if a LocalStack upgrade starts keeping state),
and checks that the function processes of the stopped LocalStack do not outlive it.
"""
from __future__ import annotations

import io
import json
import os
import time
import zipfile
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from localdev.localstack import health, localstack
from localdev.process import free_port

pytestmark = pytest.mark.localstack

PROBE = Path(__file__).parent / "functions" / "probe.py"


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def create_state(ls) -> int:
    """A bucket with an object, a queue, a secret, a function; returns the function's pid."""
    s3, sqs, secrets, iam, lam = (ls.client(s) for s in ("s3", "sqs", "secretsmanager", "iam", "lambda"))
    s3.create_bucket(Bucket="restart-state")
    s3.put_object(Bucket="restart-state", Key="producer-state/charts.json", Body=b"{}")
    sqs.create_queue(QueueName="restart-queue")
    secrets.create_secret(Name="restart-secret", SecretString=json.dumps({"client_id": "x", "client_secret": "y"}))
    role = iam.create_role(RoleName="restart-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.write(PROBE, "probe.py")
    lam.create_function(FunctionName="restart-fn", Runtime="python3.12", Role=role, Handler="probe.handler",
                        Code={"ZipFile": code.getvalue()}, Environment={"Variables": {"DATA_BUCKET": "restart-state"}})
    lam.get_waiter("function_active_v2").wait(FunctionName="restart-fn", WaiterConfig={"Delay": 1})
    result = json.loads(lam.invoke(FunctionName="restart-fn", Payload=b'{"action": "echo"}')["Payload"].read())
    return result["pid"]


def surviving_state(ls) -> dict[str, bool]:
    checks = {
        "s3 bucket": lambda: ls.client("s3").head_bucket(Bucket="restart-state"),
        "s3 object": lambda: ls.client("s3").head_object(Bucket="restart-state", Key="producer-state/charts.json"),
        "sqs queue": lambda: ls.client("sqs").get_queue_url(QueueName="restart-queue"),
        "secret": lambda: ls.client("secretsmanager").describe_secret(SecretId="restart-secret"),
        "iam role": lambda: ls.client("iam").get_role(RoleName="restart-role"),
        "lambda function": lambda: ls.client("lambda").get_function(FunctionName="restart-fn"),
    }
    survived = {}
    for name, check in checks.items():
        try:
            check()
            survived[name] = True
        except ClientError:
            survived[name] = False
    return survived


def test_restart_same_state_dir(tmp_path, record_timing):
    state_dir = tmp_path / "localstack"
    with localstack(f"http://127.0.0.1:{free_port()}", mode="host", state_dir=state_dir, persistence=True) as ls:
        function_pid = create_state(ls)
        assert all(surviving_state(ls).values()), "state was not created"

        started = time.monotonic()
        start_seconds = ls.restart()
        record_timing("LocalStack restart: stop + start", time.monotonic() - started)
        record_timing("LocalStack restart: start alone", start_seconds)
        assert health(ls.endpoint) is not None, "restarted LocalStack answers on the same endpoint"
        assert ls.state_dir == state_dir

        deadline = time.monotonic() + 5
        while process_alive(function_pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not process_alive(function_pid), "a function process outlived the LocalStack that started it"

        survived = surviving_state(ls)
        assert not any(survived.values()), (
            f"LocalStack now keeps state across restarts ({survived}): "
            "update this test and tell the restart fault test it need not redeploy"
        )
