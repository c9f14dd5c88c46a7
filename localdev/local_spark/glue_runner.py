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
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

from localdev.local_spark import s3a
from localdev.local_spark.session import submit_environ
from localdev.process import python_module

REPO_ROOT = Path(__file__).resolve().parents[2]
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


def run_glue_job(paths: GluePaths, log_path: Path | None = None, *, spark_master: str = "local[2]",
                 job_arguments: Mapping[str, str] | None = None, env: Mapping[str, str] | None = None,
                 kill_when: Callable[[], bool] | None = None,
                 on_log_line: Callable[[str], None] | None = None) -> GlueRun:
    """Run the job once over whatever is new in ``paths.source``; returns how it went.

    ``job_arguments``: more of the job's arguments (``max_files_per_trigger``, ...).
    ``env``: added to this process's environment for the child; its AWS variables
    (``AWS_ENDPOINT_URL``, credentials) are the ones ``s3://`` paths reach.
    Its log goes to ``log_path`` (appended; none kept if None), each line also to
    ``on_log_line`` as it comes (progress bars). ``kill_when`` (fault tests): checked
    every 0.1 s; when it returns True the job's whole process group gets SIGKILL, as if
    the machine running it died. Raises GlueJobError if the job fails, is killed, or
    ends without its run-metrics line.
    """
    argv = python_module(GLUE_JOB_MODULE, *prepare(paths, log_path, spark_master, job_arguments))
    child_env = job_environ(env)
    run = GlueRun(log_path=log_path)
    started = time.monotonic()
    with ExitStack() as files:
        log_file = log_path or Path(files.enter_context(tempfile.TemporaryDirectory())) / "glue.log"
        log = files.enter_context(open(log_file, "ab"))
        out = files.enter_context(tempfile.TemporaryFile())  # one line of run metrics
        follow = files.enter_context(LogFollower(log_file, on_log_line))
        process = subprocess.Popen(argv, stdout=out, stderr=log, env=child_env, cwd=REPO_ROOT,
                                   start_new_session=True)
        run.pid = process.pid
        try:
            run.killed = _wait(process, follow, kill_when)
        except BaseException:  # Ctrl-C, or the caller failing: never leave the JVM behind
            stop_group(process)
            raise
        stop_group(process)  # Spark's JVM if the Python side exited first
        follow.read(final=True)
        run.exit_code = process.returncode
        run.seconds = time.monotonic() - started
        out.seek(0)
        run.metrics = last_json_line(out.read().decode("utf-8", "replace"))
    return checked(run)


def prepare(paths: GluePaths, log_path: Path | None, spark_master: str,
            job_arguments: Mapping[str, str] | None) -> list[str]:
    """Check what a run needs (the S3 connector, the source folder, the log's folder);
    returns the job's arguments, as ``python -m glue_streaming.job`` takes them."""
    if paths.on_s3():
        s3a.require_jars()  # a clear error now rather than Spark's "No FileSystem for scheme"
    if not is_s3(paths.source):
        Path(paths.source).mkdir(parents=True, exist_ok=True)
    if log_path is not None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
    extra = [a for name, value in (job_arguments or {}).items() for a in (f"--{name}", str(value))]
    return [*paths.arguments(), "--spark_master", spark_master, "--driver_memory", "1g",
            "--shuffle_partitions", "2", *extra]


def job_environ(env: Mapping[str, str] | None) -> dict[str, str]:
    """The job process's environment: this one, ``env`` over it, the local Spark tuning."""
    child_env = {**os.environ, **(env or {})}
    child_env.update(submit_environ(child_env))
    return child_env


def checked(run: GlueRun) -> GlueRun:
    """``run``, or GlueJobError if it failed, was killed or ended without its run metrics."""
    where = f"; log: {run.log_path}" if run.log_path else ""
    if run.exit_code != 0:
        how = "killed" if run.killed else f"exited with code {run.exit_code}"
        raise GlueJobError(f"the Glue job {how} after {run.seconds:.1f} s{where}", run)
    if not run.metrics:
        raise GlueJobError(f"the Glue job printed no run metrics{where}", run)
    return run


def _wait(process: subprocess.Popen, follow: "LogFollower", kill_when: Callable[[], bool] | None) -> bool:
    """Follow the log until the job ends; True if ``kill_when`` had its process group killed."""
    while process.poll() is None:
        follow.read()
        if kill_when is not None and kill_when():
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return True
        time.sleep(0.1)
    return False


class LogFollower:
    """Hands each complete line the job appends to its log to ``on_line``, as it comes
    (read through a handle of its own: the job's handle is not moved)."""

    def __init__(self, log_path: Path, on_line: Callable[[str], None] | None):
        self.on_line = on_line
        self.log = open(log_path, "rb")
        self.log.seek(0, os.SEEK_END)  # an appended log: earlier runs' lines are not this run's
        self.partial = b""

    def __enter__(self) -> "LogFollower":
        return self

    def __exit__(self, *exc) -> None:
        self.log.close()

    def read(self, final: bool = False) -> None:
        if self.on_line is None:
            return
        *lines, self.partial = (self.partial + self.log.read()).split(b"\n")
        if final and self.partial:
            lines, self.partial = lines + [self.partial], b""
        for line in lines:
            self.on_line(line.decode("utf-8", "replace").rstrip("\r"))


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
