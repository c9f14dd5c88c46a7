"""The pipeline's stages run once from the command line, each by its own code: the
producer's handler (in this process, or the deployed Lambda), a run of the deployed
Glue job. Nothing here reimplements a stage.
"""
from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import sys
import time
import uuid
import warnings
from dataclasses import dataclass, field
from typing import Any

from spotify_charts.commands import CommandError

GLUE_ACTIVE_STATES = frozenset({"STARTING", "RUNNING", "STOPPING", "WAITING"})
GLUE_FAILED_STATES = frozenset({"FAILED", "ERROR", "TIMEOUT", "STOPPED", "EXPIRED"})


class StageFailedError(CommandError):
    """A stage ran and reported a failure (a function error, a failed job run)."""


# -- producer -------------------------------------------------------------------------

@dataclass
class LocalLambdaContext:
    """The context object Lambda passes a handler, for running it outside Lambda."""

    function_name: str = "chart-producer-local"
    timeout_seconds: float = 120.0
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/chart-producer-local"
    log_stream_name: str = "local"
    _started: float = field(default_factory=time.monotonic, repr=False)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self._started)) * 1000))


def poll_in_process(event: dict[str, Any], verbose: bool = False) -> dict[str, Any]:
    """One producer poll in this process, with this environment's configuration
    (see producer/config.py): the Lambda's own handler, wherever its settings point.

    stdout stays for the command's own output: the Lambda's JSON logs go to stderr
    (warnings and errors only, unless ``verbose``) and its EMF metric lines are dropped
    (shown on stderr with ``verbose``).
    """
    if not verbose:  # read when the producer's modules are first imported
        os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
        os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    from producer import handler
    from producer.observability import logger

    streams = [h for h in logger.handlers if isinstance(h, logging.StreamHandler)]
    previous_streams = [h.setStream(sys.stderr) for h in streams]
    previous_level = logger.log_level
    if not verbose:
        logger.setLevel("WARNING")
    try:
        with contextlib.redirect_stdout(sys.stderr if verbose else io.StringIO()), \
                warnings.catch_warnings():  # EMF lines are printed
            # A poll that fails before recording metrics makes Powertools warn; the error says more.
            warnings.filterwarnings("ignore", message="No application metrics to publish")
            return handler.lambda_handler(event, LocalLambdaContext())
    finally:
        logger.setLevel(previous_level)
        for h, stream in zip(streams, previous_streams):
            h.setStream(stream)


def invoke_function(function_name: str, event: dict[str, Any], client=None) -> dict[str, Any]:
    """Invoke a deployed Lambda function synchronously (the producer: one poll); returns
    its result, or raises StageFailedError with the function's error message."""
    import boto3

    client = client or boto3.client("lambda")
    response = client.invoke(FunctionName=function_name, InvocationType="RequestResponse",
                             Payload=json.dumps(event).encode())
    payload = json.loads(response["Payload"].read() or b"null")
    if response.get("FunctionError"):
        message = payload.get("errorMessage") if isinstance(payload, dict) else payload
        raise StageFailedError(f"{function_name} failed: {message}")
    return payload


# -- Glue -----------------------------------------------------------------------------

def start_glue_job_run(job_name: str, arguments: dict[str, str], wait: bool, client=None,
                       poll_seconds: float = 15.0) -> dict[str, Any]:
    """Start a run of a deployed Glue job; with ``wait``, check every ``poll_seconds`` until it ends."""
    import boto3

    client = client or boto3.client("glue")
    run_id = client.start_job_run(JobName=job_name, Arguments={f"--{k}": v for k, v in arguments.items()})["JobRunId"]
    state = "STARTING"
    while wait:
        run = client.get_job_run(JobName=job_name, RunId=run_id)["JobRun"]
        state = run["JobRunState"]
        if state in GLUE_FAILED_STATES:
            raise StageFailedError(f"Glue job run {run_id} ended {state}: {run.get('ErrorMessage', '')}")
        if state not in GLUE_ACTIVE_STATES:
            break
        time.sleep(poll_seconds)
    return {"job_name": job_name, "run_id": run_id, "state": state}
