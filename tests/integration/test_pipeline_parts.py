"""The local pipeline's own parts: S3 <-> folder sync, the command line, the Glue runner's
process handling. Fast; the moto-backed sync test is marked integration (it starts moto)."""
from __future__ import annotations

import sys
import time

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from localdev.pipeline import PipelineError, PipelineSettings
from localdev.pipeline import cli, glue, s3_sync
from tests.conftest import unique_name


def write_parquet(path, rows: int = 3) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"n": list(range(rows))}), path)
    return path.read_bytes()


def test_local_path_replaces_what_hadoop_cannot_take_and_keeps_hidden_names_hidden(tmp_path):
    key = "dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/2026/11/20/22/stream-1"
    assert s3_sync.local_path(tmp_path, key) == tmp_path / "dt=--timestamp-yyyy-MM-dd-/hour=--timestamp-HH-/2026/11/20/22/stream-1"
    assert s3_sync.local_path(tmp_path, "_spark/x").parts[-2] == "_spark"  # Spark skips it on S3 too


def test_only_whole_parquet_files_count_as_complete(tmp_path):
    body = write_parquet(tmp_path / "whole.parquet")
    assert s3_sync.is_complete_parquet(tmp_path / "whole.parquet")
    (tmp_path / "cut.parquet").write_bytes(body[: len(body) // 2])
    assert not s3_sync.is_complete_parquet(tmp_path / "cut.parquet")
    (tmp_path / "empty.parquet").write_bytes(b"")
    assert not s3_sync.is_complete_parquet(tmp_path / "empty.parquet")


@pytest.mark.integration
def test_mirror_and_upload_are_incremental_and_idempotent(aws_endpoint, tmp_path):
    s3 = boto3.client("s3")
    bucket = unique_name("sync")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="raw/dt=!{timestamp:yyyy-MM-dd}/a", Body=b"one\n")
    s3.put_object(Bucket=bucket, Key="other/b", Body=b"not mirrored\n")
    mirror = tmp_path / "mirror"
    first = s3_sync.mirror_prefix(s3, bucket, "raw/", mirror)
    assert [p.relative_to(mirror).as_posix() for p in first] == ["dt=--timestamp-yyyy-MM-dd-/a"]
    assert first[0].read_bytes() == b"one\n"
    s3.put_object(Bucket=bucket, Key="raw/c", Body=b"two\n")
    assert [p.name for p in s3_sync.mirror_prefix(s3, bucket, "raw/", mirror)] == ["c"]  # only the new one
    assert not [p for p in mirror.rglob(".*")]  # no partial downloads left

    out = tmp_path / "out"
    write_parquet(out / "chart_entries" / "chart_date=2024-03-12" / "chart_entries-0.parquet")
    (out / "chart_entries" / "chart_date=2024-03-12" / ".chart_entries-0.parquet.crc").write_bytes(b"crc")
    (out / "_SUCCESS").write_bytes(b"")
    whole = write_parquet(out / "tracks" / "chart_date=2024-03-12" / "tracks-0.parquet")
    (out / "tracks" / "chart_date=2024-03-12" / "tracks-1.parquet").write_bytes(whole[:20])  # cut short
    report = s3_sync.upload_tree(s3, out, bucket, "curated/")
    assert report.uploaded == ["curated/chart_entries/chart_date=2024-03-12/chart_entries-0.parquet",
                               "curated/tracks/chart_date=2024-03-12/tracks-0.parquet"]
    assert report.incomplete == ["curated/tracks/chart_date=2024-03-12/tracks-1.parquet"]
    again = s3_sync.upload_tree(s3, out, bucket, "curated/")
    assert (again.uploaded, again.unchanged) == ([], 2)  # same bytes: nothing to upload, nothing notified
    write_parquet(out / "tracks" / "chart_date=2024-03-12" / "tracks-0.parquet", rows=5)
    assert s3_sync.upload_tree(s3, out, bucket, "curated/").uploaded == [
        "curated/tracks/chart_date=2024-03-12/tracks-0.parquet"]

    kept = tmp_path / "kept"
    assert s3_sync.download_prefix(s3, bucket, "curated/", kept) == 2
    other = unique_name("restored")
    s3.create_bucket(Bucket=other)
    assert s3_sync.upload_folder(s3, kept, other) == 2
    assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket=other)["Contents"]) == sorted(
        o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="curated/")["Contents"])


def test_command_line_defaults_and_refusals(monkeypatch):
    for name in ("SPOTIFY_CLIENT_ID", "SPOTIFY_CLIENT_SECRET", "SPOTIFY_API_URL"):
        monkeypatch.delenv(name, raising=False)
    args = cli.parse_args([])
    assert (args.days, args.glue_every, args.keep_running) == (4, 2, False)
    assert cli.parse_args(["--keep-running"]).days == 0
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
    script.write_text("import subprocess, sys, time\n"
                      "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
                      "print('{\"records_read\": 0}', flush=True)\n"
                      "time.sleep(float(sys.argv[-1]))\n")
    paths = glue.GluePaths(tmp_path / "raw", tmp_path / "curated", tmp_path / "q", tmp_path / "cp")
    monkeypatch.setattr(glue, "python_module", lambda module, *args: [sys.executable, str(script), "0"])
    run = glue.run_glue_job(paths, tmp_path / "glue.log")
    assert run.exit_code == 0 and run.metrics == {"records_read": 0}
    assert not glue.group_alive(run.pid)  # the grandchild (Spark's JVM, here a sleeper) was stopped too

    monkeypatch.setattr(glue, "python_module", lambda module, *args: [sys.executable, str(script), "60"])
    started = time.monotonic()
    with pytest.raises(glue.GlueJobError, match="killed") as error:
        glue.run_glue_job(paths, tmp_path / "glue.log", kill_when=lambda: time.monotonic() - started > 1)
    assert error.value.run.killed and error.value.run.exit_code == -9
    assert not glue.group_alive(error.value.run.pid)
