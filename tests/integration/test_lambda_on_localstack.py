"""A CloudFormation-deployed Lambda + EventBridge schedule really runs on LocalStack.

In host mode this exercises the local-process executor (localdev/localstack_plugins):
the probe function is deployed from a zip on S3 and invoked through the Lambda API
and by its ``rate(1 minute)`` schedule. The schedule test is last: it waits for
LocalStack's scheduler, which ticks about once a minute.
"""
from __future__ import annotations

import base64
import io
import json
import time
import uuid
import zipfile
from pathlib import Path

import pytest


HERE = Path(__file__).parent
TEMPLATE = HERE / "templates" / "probe_function.yaml"
PROBE = HERE / "functions" / "probe.py"
TIMEOUT_SECONDS = 3
SCHEDULE_WAIT_SECONDS = 75  # LocalStack's scheduler loop runs every 59.9 s


def probe_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.write(PROBE, "probe.py")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def module_started():
    return time.monotonic()


@pytest.fixture(scope="module")
def probe(localstack, deploy_stack_per_module, module_started):
    """The deployed probe stack's outputs; the function's zip comes from an artifacts bucket."""
    s3 = localstack.client("s3")
    artifacts = f"artifacts-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=artifacts)
    s3.put_object(Bucket=artifacts, Key="probe.zip", Body=probe_zip())
    started = time.monotonic()
    outputs = deploy_stack_per_module(
        TEMPLATE, {"CodeBucket": artifacts, "CodeKey": "probe.zip", "TimeoutSeconds": TIMEOUT_SECONDS}
    )
    outputs["deploy_seconds"] = time.monotonic() - started
    yield outputs
    s3.delete_object(Bucket=artifacts, Key="probe.zip")
    s3.delete_bucket(Bucket=artifacts)


def invoke(client, function_name: str, event: dict) -> tuple[dict, object]:
    response = client.invoke(FunctionName=function_name, Payload=json.dumps(event).encode(), LogType="Tail")
    return response, json.loads(response["Payload"].read())


def test_function_is_active_and_invoke_returns_the_handler_result(localstack, aws_client, probe, record_timing):
    record_timing("stack deploy (change set, Lambda active)", probe["deploy_seconds"])
    lam = aws_client("lambda")
    config = lam.get_function_configuration(FunctionName=probe["FunctionName"])
    assert config["State"] == "Active", config.get("StateReason")

    started = time.monotonic()
    response, result = invoke(lam, probe["FunctionName"], {"action": "echo", "marker": "cold"})
    record_timing("first invoke (cold: process start + imports)", time.monotonic() - started)
    assert response["StatusCode"] == 200 and "FunctionError" not in response, result
    assert result["event"] == {"action": "echo", "marker": "cold"}
    assert result["function_name"] == probe["FunctionName"]
    assert result["memory_limit_in_mb"] == 256
    assert 0 < result["remaining_ms"] <= TIMEOUT_SECONDS * 1000
    if localstack.mode == "host":  # the function's boto3 talks to this LocalStack, not to AWS
        assert result["endpoint"] == localstack.endpoint

    warm = []
    for _ in range(5):
        started = time.monotonic()
        response, again = invoke(lam, probe["FunctionName"], {"action": "echo", "marker": "warm"})
        warm.append(time.monotonic() - started)
        assert again["event"]["marker"] == "warm"
        assert again["request_id"] != result["request_id"]
    if localstack.mode == "host":
        assert again["pid"] == result["pid"], "a warm invoke reuses the execution environment"
    record_timing("warm invoke (median of 5)", sorted(warm)[2])


def test_invocation_logs_come_back_and_reach_cloudwatch(aws_client, probe):
    marker = uuid.uuid4().hex
    response, _ = invoke(aws_client("lambda"), probe["FunctionName"], {"action": "echo", "marker": marker})
    tail = base64.b64decode(response["LogResult"]).decode()
    assert f"printed {marker}" in tail
    assert f'"marker":"{marker}"' in tail.replace(" ", "")  # powertools' JSON log line
    assert "REPORT RequestId:" in tail

    logs = aws_client("logs")
    group = f"/aws/lambda/{probe['FunctionName']}"
    deadline = time.monotonic() + 20
    messages: list[str] = []
    while time.monotonic() < deadline and not any(marker in m for m in messages):
        time.sleep(0.5)
        try:
            events = logs.filter_log_events(logGroupName=group)["events"]
        except logs.exceptions.ResourceNotFoundException:
            continue
        messages = [e["message"] for e in events]
    assert any(f"printed {marker}" in m for m in messages), f"marker not in {group}"


def test_function_writes_to_s3_on_localstack(aws_client, probe):
    key, body = f"probe/{uuid.uuid4().hex}.txt", "written from inside the function"
    response, result = invoke(
        aws_client("lambda"), probe["FunctionName"], {"action": "put", "key": key, "body": body}
    )
    assert "FunctionError" not in response, result
    stored = aws_client("s3").get_object(Bucket=probe["DataBucketName"], Key=key)
    assert stored["Body"].read().decode() == body


def test_handler_exception_is_a_function_error(aws_client, probe):
    response, error = invoke(
        aws_client("lambda"), probe["FunctionName"], {"action": "fail", "message": "chart feed broken"}
    )
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "chart feed broken"
    assert any("probe.py" in frame for frame in error["stackTrace"])
    assert "[ERROR] ValueError: chart feed broken" in base64.b64decode(response["LogResult"]).decode()


def test_timeout_is_reported_and_the_next_invoke_runs_cold(aws_client, probe):
    lam = aws_client("lambda")
    started = time.monotonic()
    response, error = invoke(lam, probe["FunctionName"], {"action": "sleep", "seconds": TIMEOUT_SECONDS + 5})
    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Sandbox.Timedout"
    assert f"Task timed out after {TIMEOUT_SECONDS}.00 seconds" in error["errorMessage"]
    assert time.monotonic() - started < TIMEOUT_SECONDS + 4, "the timeout must cut the handler short"

    response, result = invoke(lam, probe["FunctionName"], {"action": "echo", "marker": "after-timeout"})
    assert "FunctionError" not in response, result
    assert result["event"]["marker"] == "after-timeout"
    assert "Init Duration" in base64.b64decode(response["LogResult"]).decode(), "a timeout resets the runtime"


def test_functions_made_from_one_archive_share_one_unzipped_copy(localstack, aws_client, probe):
    if localstack.mode != "host":
        pytest.skip("the local-process executor runs in host mode only")
    lam = aws_client("lambda")
    twin = f"{probe['FunctionName']}-twin"
    role = lam.get_function_configuration(FunctionName=probe["FunctionName"])["Role"]
    lam.create_function(FunctionName=twin, Runtime="python3.12", Role=role, Handler="probe.handler",
                        Code={"ZipFile": probe_zip()}, Timeout=TIMEOUT_SECONDS)
    try:
        lam.get_waiter("function_active_v2").wait(FunctionName=twin, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100})
        _, original = invoke(lam, probe["FunctionName"], {"action": "echo"})
        _, copy = invoke(lam, twin, {"action": "echo"})
        assert original["task_root"] != copy["task_root"]  # each function has its own code location ...
        assert original["code_folder"] == copy["code_folder"]  # ... and both lead to one unzipped archive
        sha256 = lam.get_function_configuration(FunctionName=twin)["CodeSha256"]  # base64: may hold "/"
        assert copy["code_folder"].endswith(f"/lambda-shared-code/{base64.b64decode(sha256).hex()}")
    finally:
        lam.delete_function(FunctionName=twin)
    # Deleting a function removes its link only: the other runs on from a cold start.
    lam.update_function_configuration(FunctionName=probe["FunctionName"], Description="after the twin's deletion")
    lam.get_waiter("function_updated_v2").wait(FunctionName=probe["FunctionName"],
                                               WaiterConfig={"Delay": 0.2, "MaxAttempts": 100})
    response, result = invoke(lam, probe["FunctionName"], {"action": "echo", "marker": "after"})
    assert "FunctionError" not in response and result["event"]["marker"] == "after", result


def test_schedule_invokes_the_function(aws_client, probe, module_started, record_timing):
    """Runs last: LocalStack's scheduler fires rules once per ~60 s loop."""
    s3 = aws_client("s3")
    deadline = time.monotonic() + SCHEDULE_WAIT_SECONDS
    keys: list[str] = []
    while time.monotonic() < deadline and not keys:
        listing = s3.list_objects_v2(Bucket=probe["DataBucketName"], Prefix="scheduled/")
        keys = [o["Key"] for o in listing.get("Contents", [])]
        if not keys:
            time.sleep(1)
    assert keys, f"the rate(1 minute) schedule did not invoke the function within {SCHEDULE_WAIT_SECONDS} s"
    record_timing("first scheduled invoke after the module started", time.monotonic() - module_started)
    event = json.loads(s3.get_object(Bucket=probe["DataBucketName"], Key=keys[0])["Body"].read())
    assert event["source"] == "aws.events"
    assert event["detail-type"] == "Scheduled Event"
    assert any(probe["ScheduleRuleName"] in resource for resource in event["resources"])
