"""The Glue job, run locally in one long-lived process: run after run in the same Spark
session instead of a JVM each (``glue_runner``), for a replay's many runs.

A JVM of its own costs each run about 15 s on this machine before the job reads a file,
and its code is interpreted again every time. ``GlueWorker`` starts
``python -m localdev.local_spark.glue_worker`` once; for each run it sends the run's
arguments on the worker's stdin, and the worker calls the job's own entry point,
``glue_streaming.job.main``, with them: the same argument parsing, run lease, session
settings, streaming query and checkpoint as ``python -m glue_streaming.job`` (its
``getOrCreate`` finds the session the first run started). The run's result (exit code,
the job's stdout with its run-metrics line) comes back in a file named by the request.

The worker runs in a process group of its own, as ``glue_runner``'s child does: ``stop``
and ``kill_when`` (the machine running the job dies) end the worker and its JVM; the next
run starts a new one. A run that fails also ends the worker, so no run inherits the
state of a failed one.
"""
from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import IO, Callable, Mapping

from localdev.local_spark.glue_runner import (
    GLUE_JOB_MODULE, REPO_ROOT, GluePaths, GlueRun, LogFollower, checked, job_environ, last_json_line, prepare,
    stop_group)
from localdev.process import python_module

WORKER_MODULE = "localdev.local_spark.glue_worker"
CLOSE_TIMEOUT = 30.0  # a worker told to stop (its stdin closed) stops Spark, then exits


class GlueWorker:
    """Runs the Glue job in one worker process, started at the first run. The worker's
    environment is the one of that run (``env``, as ``run_glue_job`` takes it): a run with
    another environment or log starts a new worker. ``stop()`` when done (safe twice)."""

    def __init__(self, job_module: str = GLUE_JOB_MODULE):
        self.job_module = job_module
        self.process: subprocess.Popen | None = None
        self.key: tuple | None = None  # (environment, log path) the running worker was started with
        self.runs = 0  # runs handed to the current worker
        self._log: IO[bytes] | None = None
        self._results: tempfile.TemporaryDirectory | None = None

    def run(self, paths: GluePaths, log_path: Path, *, spark_master: str = "local[2]",
            job_arguments: Mapping[str, str] | None = None, env: Mapping[str, str] | None = None,
            kill_when: Callable[[], bool] | None = None,
            on_log_line: Callable[[str], None] | None = None) -> GlueRun:
        """As ``glue_runner.run_glue_job``: one run over what is new in ``paths.source``."""
        arguments = prepare(paths, log_path, spark_master, job_arguments)
        self._ensure(dict(env or {}), log_path)
        self.runs += 1
        result = Path(self._results.name) / f"run-{self.runs}.json"
        run = GlueRun(log_path=log_path, pid=self.process.pid)
        started = time.monotonic()
        with LogFollower(log_path, on_log_line) as follow:
            try:
                self.process.stdin.write((json.dumps({"argv": arguments, "result": str(result)}) + "\n").encode())
                self.process.stdin.flush()
                outcome = self._wait(result, follow, kill_when)
            except BaseException:  # Ctrl-C, or the caller failing: never leave the JVM behind
                self.stop(wait=0)
                raise
            follow.read(final=True)
        run.seconds = time.monotonic() - started
        run.killed = outcome is None
        run.exit_code = -signal.SIGKILL if outcome is None else outcome["exit_code"]
        run.metrics = last_json_line(outcome["stdout"]) if outcome else {}
        if run.exit_code != 0:
            self.stop()  # the next run starts afresh, as it would in a JVM of its own
        return checked(run)

    def _ensure(self, env: dict[str, str], log_path: Path) -> None:
        """A running worker with this environment and log; another one is stopped first."""
        key = (tuple(sorted(env.items())), str(log_path))
        if self.process is not None and self.process.poll() is None and key == self.key:
            return
        self.stop()
        self._log = open(log_path, "ab")
        self._results = tempfile.TemporaryDirectory(prefix="glue-worker-")
        self.process = subprocess.Popen(python_module(WORKER_MODULE, self.job_module), stdin=subprocess.PIPE,
                                        stdout=self._log, stderr=self._log, env=job_environ(env), cwd=REPO_ROOT,
                                        start_new_session=True)
        self.key, self.runs = key, 0

    def _wait(self, result: Path, follow: LogFollower, kill_when: Callable[[], bool] | None) -> dict | None:
        """The run's outcome once its result file is there; None if ``kill_when`` had the
        worker's process group killed. A worker that dies without one counts as a failed run."""
        while not result.exists():
            follow.read()
            if kill_when is not None and kill_when():
                os.killpg(self.process.pid, signal.SIGKILL)
                self.stop(wait=0)
                return None
            if self.process.poll() is not None:
                return {"exit_code": self.process.returncode or 1, "stdout": ""}
            time.sleep(0.1)
        return json.loads(result.read_text())

    def stop(self, wait: float = CLOSE_TIMEOUT) -> None:
        """Close the worker's stdin (it stops Spark and exits), wait up to ``wait`` seconds,
        then stop its process group (SIGTERM, then SIGKILL); nothing of it outlives this call."""
        if self.process is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(wait)
            stop_group(self.process)
            self.process = None
        if self._log is not None:
            self._log.close()
        if self._results is not None:
            self._results.cleanup()
        self._log = self._results = None


# -- the worker process ------------------------------------------------------------------
def serve(job_module: str, requests: IO[str]) -> None:
    """Each request line: run the job's ``main`` with its ``argv``; write the outcome to its
    ``result`` file (whole or not at all: a rename)."""
    main = importlib.import_module(job_module).main
    for line in requests:
        request = json.loads(line)
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                exit_code = main([job_module, *request["argv"]])
        except SystemExit as error:  # argparse
            exit_code = error.code if isinstance(error.code, int) else 1
        except Exception:  # noqa: BLE001 - the run failed; its traceback goes to the log, as in a process of its own
            traceback.print_exc()
            exit_code = 1
        sys.stderr.flush()
        partial = Path(request["result"] + ".partial")
        partial.write_text(json.dumps({"exit_code": exit_code, "stdout": out.getvalue()}))
        os.replace(partial, request["result"])


if __name__ == "__main__":
    serve(sys.argv[1] if len(sys.argv) > 1 else GLUE_JOB_MODULE, sys.stdin)
