"""The long-lived Glue worker's process handling, fast: a stand-in job module instead of
``glue_streaming.job`` (the real job in the worker runs in the local pipeline's tests
and ``make bench-history``)."""
from __future__ import annotations

import time

import pytest

from localdev.local_spark import glue_runner as glue
from localdev.local_spark.glue_worker import GlueWorker

# Counts its runs in the process (the worker keeps it: a session would be kept the same way),
# starts a grandchild once (as PySpark starts its JVM), and fails or hangs when asked.
STAND_IN_JOB = """\
import json, subprocess, sys, time
RUNS = []
def main(argv):
    if not RUNS:
        subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])
    RUNS.append(argv)
    print('run', len(RUNS), file=sys.stderr, flush=True)
    behaviour = argv[argv.index('--behaviour') + 1] if '--behaviour' in argv else 'ok'
    if behaviour == 'fail':
        raise RuntimeError('the batch failed')
    if behaviour == 'hang':
        time.sleep(60)
    print(json.dumps({'runs': len(RUNS), 'source': argv[argv.index('--source_path') + 1]}))
    return 0
"""


@pytest.fixture
def worker(tmp_path):
    (tmp_path / "stand_in_job.py").write_text(STAND_IN_JOB)
    worker = GlueWorker(job_module="stand_in_job")
    yield worker
    worker.stop()


def test_runs_share_one_worker_and_a_failed_or_killed_run_ends_it(tmp_path, worker):
    paths = glue.GluePaths(tmp_path / "raw", tmp_path / "curated", tmp_path / "q", tmp_path / "cp")
    env, log = {"PYTHONPATH": str(tmp_path)}, tmp_path / "glue.log"
    lines = []
    first = worker.run(paths, log, env=env, on_log_line=lines.append)
    second = worker.run(paths, log, env=env)
    assert first.metrics == {"runs": 1, "source": str(tmp_path / "raw")} and second.metrics["runs"] == 2
    assert first.pid == second.pid and glue.group_alive(first.pid)  # one process for both runs
    assert lines == ["run 1"] and (tmp_path / "raw").is_dir()

    with pytest.raises(glue.GlueJobError, match="exited with code 1"):
        worker.run(paths, log, env=env, job_arguments={"behaviour": "fail"})
    assert not glue.group_alive(first.pid)  # a failed run ends the worker, its grandchild too
    assert "RuntimeError: the batch failed" in log.read_text()
    third = worker.run(paths, log, env=env)
    assert third.metrics["runs"] == 1 and third.pid != first.pid  # a new worker, nothing inherited

    started = time.monotonic()
    with pytest.raises(glue.GlueJobError, match="killed") as error:
        worker.run(paths, log, env=env, job_arguments={"behaviour": "hang"},
                   kill_when=lambda: time.monotonic() - started > 1)
    assert error.value.run.killed and error.value.run.exit_code == -9
    assert not glue.group_alive(third.pid)


def test_another_environment_starts_another_worker_and_stop_leaves_nothing(tmp_path, worker):
    paths = glue.GluePaths(tmp_path / "raw", tmp_path / "curated", tmp_path / "q", tmp_path / "cp")
    log = tmp_path / "glue.log"
    first = worker.run(paths, log, env={"PYTHONPATH": str(tmp_path)})
    other = worker.run(paths, log, env={"PYTHONPATH": str(tmp_path), "AWS_ENDPOINT_URL": "http://127.0.0.1:9"})
    assert other.pid != first.pid and other.metrics["runs"] == 1 and not glue.group_alive(first.pid)
    worker.stop()
    worker.stop()  # safe twice
    assert not glue.group_alive(other.pid)
