"""The pipeline's stages, run once from the command line. Each function hands the work
to the stage's own module; nothing here reimplements a stage.

A stage module that is not in this checkout yet makes its command fail with
:class:`StageNotReadyError`, never with a stand-in.
"""
from __future__ import annotations

import contextlib
import importlib
import io
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
import warnings
from types import ModuleType
from typing import Any, Callable, Sequence

# `spotify-charts run` hands its arguments to this module's main(argv): the end-to-end local
# pipeline (localdev/PIPELINE.md). `python -m localdev.run_local` is the producer-only run.
RUN_MODULE = "localdev.pipeline.cli"
GLUE_JOB_MODULE = "glue_streaming.job"
GLUE_ACTIVE_STATES = frozenset({"STARTING", "RUNNING", "STOPPING", "WAITING"})
GLUE_FAILED_STATES = frozenset({"FAILED", "ERROR", "TIMEOUT", "STOPPED", "EXPIRED"})


class StageNotReadyError(RuntimeError):
    """The module a command delegates to is not available yet."""


class StageFailedError(RuntimeError):
    """A stage ran and reported a failure."""


def stage_module(name: str, what: str) -> ModuleType:
    """Import a stage's module; a missing module (not a broken one) is 'not ready'."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name and (name == error.name or name.startswith(error.name + ".")):
            raise StageNotReadyError(f"{what} is not available in this checkout yet (no module {name})") from None
        raise


def run_local_pipeline(argv: Sequence[str]) -> int:
    return stage_module(RUN_MODULE, "the local pipeline run").main(list(argv))


def deploy(argv: Sequence[str]) -> int:
    return stage_module("infra.deploy", "the deploy command").main(list(argv))


# -- producer -------------------------------------------------------------------------

def poll_in_process(event: dict[str, Any], verbose: bool = False) -> dict[str, Any]:
    """One producer poll with this environment's configuration (see producer/config.py).

    stdout stays for the command's own output: the Lambda's JSON logs go to stderr
    (warnings and errors only, unless ``verbose``) and its EMF metric lines are dropped
    (shown on stderr with ``verbose``).
    """
    if not verbose:  # read when the producer's modules are first imported
        os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
        os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    handler = stage_module("producer.handler", "the producer")
    from localdev.lambda_context import LocalLambdaContext
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


def poll_function(function_name: str, event: dict[str, Any], client=None) -> dict[str, Any]:
    """Invoke a deployed producer Lambda synchronously; returns its summary."""
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

def glue_job_argv(arguments: dict[str, str | None]) -> list[str]:
    """``python -m glue_streaming.job --name value ...`` for the given job arguments."""
    stage_module(GLUE_JOB_MODULE, "the Glue job")
    argv = [sys.executable, "-m", GLUE_JOB_MODULE]
    for name, value in arguments.items():
        if value is not None:
            argv += [f"--{name}", str(value)]
    return argv


def run_glue_job(arguments: dict[str, str | None], on_stderr_line: Callable[[str], None]) -> dict[str, Any]:
    """Run the job once in a child process (its own JVM); returns its run metrics.

    Every line the job logs goes to ``on_stderr_line``. The child is stopped by pid if
    this process is interrupted. It runs with the local Spark settings, S3 connector
    included, so ``s3://`` paths reach the endpoint ``AWS_ENDPOINT_URL`` names (or AWS).
    """
    from localdev.local_spark import s3a
    from localdev.local_spark.session import submit_environ

    if any(str(value).startswith("s3://") for value in arguments.values()):
        s3a.require_jars()  # a clear error now rather than Spark's "No FileSystem for scheme"
    env = {**os.environ}
    env.update(submit_environ(env))
    # stdout (one line of run metrics) goes to a file: reading two pipes in turn could block.
    with tempfile.TemporaryFile("w+", encoding="utf-8") as stdout:
        process = subprocess.Popen(glue_job_argv(arguments), stdout=stdout, stderr=subprocess.PIPE,
                                   text=True, bufsize=1, env=env)
        try:
            for line in process.stderr:
                on_stderr_line(line.rstrip("\n"))
            code = process.wait()
        except BaseException:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            raise
        finally:
            process.stderr.close()
        stdout.seek(0)
        output = stdout.read()
    if code != 0:
        raise StageFailedError(f"the Glue job exited with code {code}")
    return last_json_line(output)


def last_json_line(text: str) -> dict[str, Any]:
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise StageFailedError("the Glue job printed no run metrics")


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


# -- Snowpipe -------------------------------------------------------------------------

def load_pending(queue_url: str, stage_dir: str | None = None, prefix: str = "") -> dict[str, Any]:
    """Drain the Snowpipe queue once into the local engine (localdev.local_snowflake.snowpipe)."""
    snowpipe = stage_module("localdev.local_snowflake.snowpipe", "the local Snowpipe runner")
    from dataclasses import asdict

    from snowflake.charts import connection
    from snowflake.charts.migrate import default_variables, migrate

    if not connection.is_local():
        raise StageFailedError(f"set {connection.LOCAL_URL_VAR}: on Snowflake the pipes and the merge task "
                               "load files themselves; this command feeds the local engine")
    with connection.connect() as conn:
        migrate(conn, local=True, variables=default_variables())
        runner = snowpipe.LocalSnowpipe(conn, queue_url, stage_dir or snowpipe.DEFAULT_STAGE_DIR, prefix=prefix)
        stats = runner.drain(1)
    return asdict(stats)
