"""Pure parts: text layout, the progress bar, movement lines, health checks, backfill checks."""
from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone

import pytest

from spotify_charts import backfill, health
from spotify_charts.events import movements_of
from spotify_charts.live import movement_line
from spotify_charts.progress import ProgressBar
from spotify_charts.settings import MonitorSettings
from spotify_charts.text import cell_width, change_marker, fit, table


def test_wide_characters_take_two_cells_and_cells_are_cut_to_fit():
    assert cell_width("abc") == 3 and cell_width("幾億光年") == 8 and cell_width("Beyoncé") == 7
    assert cell_width("e\u0301") == 1  # a combining accent takes no cell
    assert fit("幾億光年", 6) == "幾億… " and cell_width(fit("幾億光年", 6)) == 6
    assert fit("12", 4, ">") == "  12" and fit("a\tb\nc", 6) == "a b c "
    lines = table(("A", "B"), [("タイム", 1), ("x", 22)], widths=(6, 3), align=("<", ">"))
    assert {cell_width(line) for line in lines} == {cell_width(lines[0])}


@pytest.mark.parametrize("status, change, marker", [
    ("UP", 3, "▲3"), ("DOWN", -2, "▼2"), ("SAME", 0, "="), ("NEW", None, "NEW"), ("RE-ENTRY", None, "RE-ENTRY"),
    (None, None, "")])
def test_change_markers(status, change, marker):
    assert change_marker(status, change) == marker


def test_the_progress_bar_prints_a_line_per_update_outside_a_terminal():
    out = io.StringIO()
    bar = ProgressBar(4, "files", "replay", out)
    bar.update(2, "100 rows")
    bar.done = 4
    bar.finish("200 rows")
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("replay [") and " 50%  2/4 files  100 rows" in lines[0]
    assert "100%  4/4 files  200 rows" in lines[-1] and "\r" not in out.getvalue()


EVENT = {"event": "chart_movements", "poll_id": "p1", "detected_at": "2026-01-02T03:04:05.678+00:00", "charts": [{
    "playlist_id": "pl", "chart_label": "global", "snapshot_id": "s2", "previous_snapshot_id": "s1",
    "new_entries": [{"key": "k1", "name": "Song", "artists": ["A", "B"], "position": 40, "previous_position": None,
                     "change": None}],
    "exits": [{"key": "k2", "name": "Gone", "artists": ["C"], "position": None, "previous_position": 48,
               "change": None}],
    "climbs": [{"key": "k3", "name": "Up", "artists": ["D"], "position": 3, "previous_position": 12, "change": 9}],
    "falls": [],
    "new_number_one": {"key": "k3b", "name": "Top", "artists": ["E"], "position": 1, "previous_position": 2,
                       "change": 1}}]}


def test_movements_are_flattened_in_reading_order_and_printed_one_per_line():
    moves = movements_of(EVENT)
    assert [m["kind"] for m in moves] == ["new_number_one", "new_entries", "climbs", "exits"]
    assert all(m["poll_id"] == "p1" and m["chart_label"] == "global" for m in moves)
    lines = [movement_line(m) for m in moves]
    assert lines == ["2026-01-02 03:04:05  global     #1  NEW #1  Top — E (was #2)",
                     "2026-01-02 03:04:05  global    #40  NEW     Song — A, B",
                     "2026-01-02 03:04:05  global     #3  ▲9      Up — D (was #12)",
                     "2026-01-02 03:04:05  global    out  EXIT    Gone — C (was #48)"]


def test_glue_health_reads_the_run_metrics_objects(tmp_path):
    assert health.last_glue_run(None, None).status == "unknown"
    folder = tmp_path / "run_metrics"
    folder.mkdir()
    assert health.read_run_metrics(str(tmp_path)) == []
    assert health.last_glue_run([], str(tmp_path)).status == "unknown"
    for stamp, quarantined in (("20240101T000000", 3), ("20240102T000000", 0)):
        (folder / f"run-{stamp}Z.json").write_text(json.dumps({
            "finished_at": f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}T00:00:00.000000Z", "files_read": 2,
            "records_read": 10, "curated": 7, "quarantined": quarantined, "duplicates": 3 - quarantined}))
    runs = health.read_run_metrics(f"file://{tmp_path}")
    last = health.last_glue_run(runs, str(tmp_path))
    assert last.status == "ok" and last.details["runs"] == 2
    assert last.summary.startswith("finished 2024-01-02 00:00:00 UTC: 2 files, 10 records read")
    quarantine = health.quarantine(runs)
    assert quarantine.status == "ok" and quarantine.details == {"quarantined_total": 3, "quarantined_last_run": 0,
                                                                 "runs": 2}


def test_unconfigured_sources_are_unknown_not_errors():
    checks = {c.name: c for c in health.pipeline_health(None, {}, None, None, None)}
    assert {c.status for c in checks.values()} == {"unknown"}
    assert "STATE_BUCKET" in checks["last_poll"].summary
    assert "not configured" in checks["pending_load"].summary


def test_a_failing_source_shows_as_unknown_with_the_reason():
    def broken():
        raise ConnectionError("engine down")

    check = health._guarded("pending_load", lambda: health.pending_load(None, broken))
    assert check.status == "unknown" and "engine down" in check.summary


def test_settings_come_from_the_producer_environment_with_overrides():
    env = {"STATE_BUCKET": "b", "STATE_PREFIX": "p", "PLAYLISTS": "id1:global,id2", "GLUE_CHECKPOINT_PATH": "/cp"}
    settings = MonitorSettings.from_env(env, state_bucket=None, state_prefix="other/")
    assert settings.state_bucket == "b" and settings.state_prefix == "other/"
    assert settings.labels == {"id1": "global", "id2": "id2"} and settings.glue_checkpoint == "/cp"
    assert MonitorSettings.from_env(env).state_prefix == "p/"
    assert MonitorSettings.from_env({"PLAYLISTS": ",,,"}).labels == {}


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

    def job(arguments, follow):  # the job's log lines, as glue_streaming.job writes them
        assert arguments["max_files_per_trigger"] == "2" and arguments["source_path"] == str(raw)
        follow(line)
        follow(line.replace('"files_read": 2', '"files_read": 1'))
        return {"files_read": 3, "records_read": 200, "curated": 180, "quarantined": 2, "duplicates": 18}

    out = io.StringIO()
    metrics = backfill.backfill(str(raw), tmp_path / "area", chunk_files=2, out=out, run_job=job)
    lines = out.getvalue().splitlines()
    assert "2/3 files  100 rows read, 90 curated, 1 quarantined" in lines[1]
    assert "3/3 files  200 rows read, 180 curated, 2 quarantined" in lines[-1]
    assert metrics["raw_files"] == 3 and (tmp_path / "area" / "_backfill.log").read_text().count("glue_streaming batch") == 2


def test_health_timestamps_read_as_utc():
    assert health.when("2024-03-15T06:00:00.123Z") == "2024-03-15 06:00:00 UTC"
    assert health.when(datetime(2024, 3, 15, 8, tzinfo=timezone(timedelta(hours=2)))) == "2024-03-15 06:00:00 UTC"
    assert health.when(None) == "?" and health.when("soon") == "soon"


def test_movements_read_as_plain_words():
    from spotify_charts.text import movements_text

    assert movements_text({"new_entries": 4, "exits": 1, "climbs": 12, "falls": 0, "new_number_one": 1}) == (
        "4 new entries, 1 exit, 12 climbs, a new number one")
    assert movements_text({"new_entries": 0, "exits": 0, "climbs": 0, "falls": 0, "new_number_one": 0}) == (
        "no movements")
    assert movements_text({}) == movements_text(None) == "no movements"
    assert movements_text({"falls": 1, "new_number_one": 3}) == "1 fall, 3 new number ones"
