"""The local pipeline's own parts, fast: the command line, the Glue runner's process
handling, the Glue job's paths on a deployed stack."""
from __future__ import annotations

import sys
import time
from datetime import date

import pytest

from localdev.pipeline import PipelineError, PipelineSettings
from localdev.local_spark import glue_runner as glue
from localdev.pipeline import cli
from localdev.pipeline.stack_glue_paths import StackPathsError, stack_glue_paths


def test_command_line_defaults_and_refusals(monkeypatch):
    for name in ("SPOTIFY_CLIENT_ID", "SPOTIFY_CLIENT_SECRET", "SPOTIFY_API_URL"):
        monkeypatch.delenv(name, raising=False)
    args = cli.parse_args([])
    # By default 4 weeks of real daily charts: 2024-03-01..28, with 2 gap days and 2 unchanged days.
    assert (args.days, args.glue_every, args.keep_running, args.serve) == (28, 14, False, False)
    assert args.start_date == date(2024, 3, 1) and args.markets == "global,us"
    assert cli.parse_args(["--keep-running"]).days == 0
    history = cli.parse_args(["--history"])  # the whole real history, then serve it
    assert (history.start_date, history.days, history.glue_every, history.serve) == (
        date(2023, 5, 18), 560, 140, True)
    assert history.markets.split(",") == ["global", "us", "gb", "es", "it", "fr", "mx", "ar", "jp", "kr"]
    assert cli.parse_args(["--history", "--keep-running"]).serve is False
    assert cli.parse_args(["--history", "--markets", "us"]).markets == "us"
    with pytest.raises(SystemExit):
        cli.parse_args(["--serve", "--keep-running"])
    settings = cli.settings_from(cli.parse_args(["--markets", "global,gb"]))
    assert settings.playlists == "37i9dQZEVXbMDoHDwVN2tF:global,37i9dQZEVXbLnolsZ8PSNw:gb"
    assert not settings.live and len(settings.stack_name) <= 26
    with pytest.raises(SystemExit):
        cli.parse_args(["--glue-every", "0"])
    with pytest.raises(PipelineError, match="unknown markets"):
        PipelineSettings(markets=("mars",))


def test_live_spotify_needs_credentials_and_no_local_api_and_refuses_accelerated_days(monkeypatch):
    monkeypatch.setenv("SPOTIFY_CLIENT_ID", "id")
    monkeypatch.setenv("SPOTIFY_CLIENT_SECRET", "secret")
    monkeypatch.delenv("SPOTIFY_API_URL", raising=False)
    monkeypatch.delenv("PLAYLISTS", raising=False)
    with pytest.raises(SystemExit):
        cli.parse_args(["--days", "2"])
    with pytest.raises(PipelineError, match="PLAYLISTS"):
        PipelineSettings()
    monkeypatch.setenv("PLAYLISTS", "abc:mine")
    assert PipelineSettings().live and PipelineSettings().playlists == "abc:mine"
    monkeypatch.setenv("SPOTIFY_API_URL", "http://127.0.0.1:9/v1/")
    assert not PipelineSettings().live


def test_a_child_that_fails_or_is_killed_leaves_no_process_behind(tmp_path, monkeypatch):
    """The Glue runner's process handling, with a stand-in child instead of Spark."""
    script = tmp_path / "child.py"
    script.write_text("import os, subprocess, sys, time\n"
                      "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
                      "assert 'spark.driver.extraJavaOptions' in os.environ['PYSPARK_SUBMIT_ARGS']  # local tuning\n"
                      "print('batch 1', file=sys.stderr, flush=True)\n"
                      "print('{\"records_read\": 0}', flush=True)\n"
                      "print('batch 2', end='', file=sys.stderr, flush=True)\n"
                      "time.sleep(float(sys.argv[-1]))\n")
    paths = glue.GluePaths(tmp_path / "raw", tmp_path / "curated", tmp_path / "q", tmp_path / "cp")
    (tmp_path / "glue.log").write_text("an earlier run\n")
    monkeypatch.setattr(glue, "python_module", lambda module, *args: [sys.executable, str(script), "0"])
    lines = []
    run = glue.run_glue_job(paths, tmp_path / "glue.log", on_log_line=lines.append)
    assert run.exit_code == 0 and run.metrics == {"records_read": 0}
    assert not glue.group_alive(run.pid)  # the grandchild (Spark's JVM, here a sleeper) was stopped too
    assert lines == ["batch 1", "batch 2"]  # this run's log lines, the last one even without its newline
    assert (tmp_path / "glue.log").read_text() == "an earlier run\nbatch 1\nbatch 2"

    monkeypatch.setattr(glue, "python_module", lambda module, *args: [sys.executable, "-c", "pass"])
    with pytest.raises(glue.GlueJobError, match="printed no run metrics"):  # exit 0, yet no metrics: not done
        glue.run_glue_job(paths)

    monkeypatch.setattr(glue, "python_module", lambda module, *args: [sys.executable, str(script), "60"])
    started = time.monotonic()
    with pytest.raises(glue.GlueJobError, match="killed") as error:
        glue.run_glue_job(paths, tmp_path / "glue.log", kill_when=lambda: time.monotonic() - started > 1)
    assert error.value.run.killed and error.value.run.exit_code == -9
    assert not glue.group_alive(error.value.run.pid)


def test_the_glue_job_runs_on_the_s3_paths_the_template_gives_it():
    outputs = {"RawBucketName": "raw-b", "CuratedBucketName": "cur-b", "QuarantineBucketName": "q-b"}
    paths = stack_glue_paths(outputs)
    assert paths.arguments() == ["--source_path", "s3://raw-b/raw/chart_entries/",
                                 "--target_path", "s3://cur-b/curated/", "--quarantine_path", "s3://q-b/quarantine/",
                                 "--checkpoint_path", "s3://cur-b/_checkpoints/curate-charts/"]
    assert paths.on_s3()
    with pytest.raises(StackPathsError, match="QuarantineBucketName"):
        stack_glue_paths({"RawBucketName": "raw-b", "CuratedBucketName": "cur-b"})


def test_near_the_end_of_a_replay_glue_starts_as_soon_as_the_polls_waiting_outnumber_those_left():
    from localdev.pipeline.replay import glue_due

    # Early on: only every glue_every polls.
    assert not glue_due(139, 400, 140) and glue_due(140, 400, 140)
    # Near the end: once what waits is at least what is left (so the last run after the replay is small).
    assert not glue_due(59, 60, 140) and glue_due(60, 60, 140) and glue_due(3, 2, 140)
    assert not glue_due(0, 0, 140)  # nothing waiting: no run

    # Run starts over a 560-day replay where each run lasts 50 polls: the polls left for the last run.
    started, busy_until, waiting = [], -1, 0
    for day in range(560):
        waiting += 1
        if day >= busy_until and glue_due(waiting, 560 - day - 1, 140):
            started.append(day)
            busy_until, waiting = day + 50, 0
    assert started[:3] == [139, 279, 419] and waiting <= 25
