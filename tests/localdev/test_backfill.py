"""Backfill's own parts: a fresh area, the files Spark reads, the progress it follows
(the job itself stands in; tests/spotify_charts/test_stages.py runs the real one)."""
from __future__ import annotations

import io
import json

import pytest

from localdev import backfill
from localdev.local_spark.glue_runner import GlueRun


def test_backfill_wants_a_fresh_area(tmp_path):
    area = backfill.BackfillArea(tmp_path / "new")
    backfill.check_fresh(area, resume=False)  # does not exist: fine
    area.target.mkdir()
    backfill.check_fresh(area, resume=False)  # empty: fine
    (area.target / "chart_entries").mkdir()
    with pytest.raises(backfill.BackfillError, match="not empty"):
        backfill.check_fresh(area, resume=True)  # no checkpoint: nothing to resume
    area.checkpoint.mkdir()
    with pytest.raises(backfill.BackfillError, match="--resume"):
        backfill.check_fresh(area, resume=False)
    backfill.check_fresh(area, resume=True)


def test_backfill_counts_the_files_spark_reads_and_follows_the_job_s_batch_lines(tmp_path):
    raw = tmp_path / "raw"
    for name in ("dt=1/a", "dt=1/b", "dt=2/c", "_spark_metadata/0", "dt=2/.c.crc"):
        (raw / name).parent.mkdir(parents=True, exist_ok=True)
        (raw / name).write_text("{}")
    assert [p.name for p in backfill.raw_files(raw)] == ["a", "b", "c"]
    line = ('2026-11-20 22:24:19,248 INFO glue_streaming batch {"batch_id": "000000-ab", "files_read": 2, '
            '"records_read": 100, "curated": 90, "quarantined": 1}')
    assert json.loads(backfill.BATCH_LINE.search(line)[1])["files_read"] == 2

    def job(paths, log_path, *, spark_master, on_log_line, job_arguments):  # as glue_runner.run_glue_job
        assert job_arguments["max_files_per_trigger"] == "2" and paths.source == str(raw)
        assert log_path == tmp_path / "area" / "_backfill.log"  # the job's log is kept in the area
        on_log_line(line)  # the job's log lines, as they come
        on_log_line(line.replace('"files_read": 2', '"files_read": 1'))
        return GlueRun(exit_code=0, metrics={"files_read": 3, "records_read": 200, "curated": 180,
                                             "observations": 18, "quarantined": 2})

    out = io.StringIO()
    metrics = backfill.backfill(str(raw), tmp_path / "area", chunk_files=2, out=out, run_job=job)
    lines = out.getvalue().splitlines()
    assert "2/3 files  100 rows read, 90 curated, 1 quarantined" in lines[1]
    assert "3/3 files  200 rows read, 180 curated, 2 quarantined" in lines[-1]
    assert metrics["raw_files"] == 3 and metrics["curated"] == 180
