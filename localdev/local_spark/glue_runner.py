"""The Glue job, run locally: ``python -m glue_streaming.job`` in a child process of its
own (its own JVM), stopped by pid, on ``s3://`` paths (the local AWS endpoint, through
the S3 connector of ``localdev.local_spark.s3a``) or on local folders.

The child gets its own process group, so stopping it also stops the Spark JVM that
PySpark starts under it; nothing outlives the run.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from localdev.local_spark import s3a
from localdev.local_spark.session import submit_environ
from localdev.process import python_module

GLUE_JOB_MODULE = "glue_streaming.job"
STOP_TIMEOUT = 15.0


class GlueJobError(RuntimeError):
    """The job exited with an error (or was killed); ``run`` says how far it got."""

    def __init__(self, message: str, run: "GlueRun"):
        super().__init__(message)
        self.run = run


@dataclass(frozen=True)
class GluePaths:
    """The job's four path arguments: ``s3://`` URLs, as on Glue, or local folders."""

    source: str | Path
    target: str | Path
    quarantine: str | Path
    checkpoint: str | Path

    def arguments(self) -> list[str]:
        return ["--source_path", str(self.source), "--target_path", str(self.target),
                "--quarantine_path", str(self.quarantine), "--checkpoint_path", str(self.checkpoint)]

    def on_s3(self) -> bool:
        return any(is_s3(path) for path in (self.source, self.target, self.quarantine, self.checkpoint))


def is_s3(path: str | Path) -> bool:
    return str(path).startswith(("s3://", "s3a://"))


@dataclass
class GlueRun:
    exit_code: int | None = None
    seconds: float = 0.0
    metrics: dict = field(default_factory=dict)  # the job's run-metrics line (empty if it died)
    killed: bool = False
    log_path: Path | None = None
    pid: int | None = None  # of the job's process, also its process group id

    def count(self, name: str) -> int:
        return int(self.metrics.get(name, 0) or 0)


def run_glue_job(paths: GluePaths, log_path: Path, *, spark_master: str = "local[2]",
                 env: dict[str, str] | None = None,
                 kill_when: Callable[[], bool] | None = None) -> GlueRun:
    """Run the job once over whatever is new in ``paths.source``.

    ``env``: added to this process's environment for the child; its AWS variables
    (``AWS_ENDPOINT_URL``, credentials) are the ones ``s3://`` paths reach.
    ``kill_when`` (fault tests): checked every 0.1 s; when it returns True the job's whole
    process group gets SIGKILL, as if the machine running it died.
    """
    if paths.on_s3():
        s3a.require_jars()  # a clear error now rather than Spark's "No FileSystem for scheme"
    if not is_s3(paths.source):
        Path(paths.source).mkdir(parents=True, exist_ok=True)
    child_env = {**os.environ, **(env or {})}
    child_env.update(submit_environ(child_env))
    argv = python_module(GLUE_JOB_MODULE, *paths.arguments(), "--spark_master", spark_master,
                         "--driver_memory", "1g", "--shuffle_partitions", "2")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    run = GlueRun(log_path=log_path)
    started = time.monotonic()
    with open(log_path, "ab") as log, open(log_path.with_suffix(".out"), "w+b") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=log, env=child_env,
                                   cwd=Path(__file__).resolve().parents[2], start_new_session=True)
        run.pid = process.pid
        try:
            while process.poll() is None:
                if kill_when is not None and kill_when():
                    os.killpg(process.pid, signal.SIGKILL)
                    run.killed = True
                    process.wait()
                    break
                time.sleep(0.1)
        except BaseException:  # Ctrl-C, or the caller failing: never leave the JVM behind
            stop_group(process)
            raise
        stop_group(process)  # Spark's JVM if the Python side exited first
        run.exit_code = process.returncode
        run.seconds = time.monotonic() - started
        out.seek(0)
        run.metrics = last_json_line(out.read().decode("utf-8", "replace"))
    if run.exit_code != 0:
        how = "killed" if run.killed else f"exited with code {run.exit_code}"
        raise GlueJobError(f"the Glue job {how} after {run.seconds:.1f} s; log: {log_path}", run)
    return run


def stop_group(process: subprocess.Popen) -> None:
    """SIGTERM the child's process group, wait a bounded time, then SIGKILL it."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None and not group_alive(process.pid):
            return
        time.sleep(0.1)
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def group_alive(pgid: int) -> bool:
    """Whether a process of the group still runs (zombies waiting for their reaper do not)."""
    proc = Path("/proc")
    if not proc.is_dir():  # not Linux: ask the kernel, zombies included
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True
    for stat in proc.glob("[0-9]*/stat"):
        try:
            state, _ppid, pgrp = stat.read_text().rsplit(")", 1)[1].split()[:3]
        except (OSError, ValueError):
            continue  # gone meanwhile
        if int(pgrp) == pgid and state != "Z":
            return True
    return False


def last_json_line(text: str) -> dict:
    for line in reversed(text.strip().splitlines()):
        if line.strip().startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                continue
    return {}
