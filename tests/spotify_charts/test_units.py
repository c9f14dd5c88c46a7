"""Pure parts: text layout, the progress bar, movement lines, health checks."""
from __future__ import annotations

import io
import json
import re
from datetime import date, datetime, timedelta, timezone

import pytest

from spotify_charts import health
from spotify_charts.events import movements_of
from spotify_charts.live import movement_line
from spotify_charts.progress import ProgressBar
from spotify_charts.settings import MonitorSettings
from spotify_charts.text import cell_width, change_marker, fit, table, terminal_json, terminal_text
from tests.spotify_charts.conftest import TERMINAL_CONTROLS


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


def test_movements_of_a_top_200_export_show_their_streams_and_whole_label():
    """A chart export's movements (positions up to 200, streams stated) print with their
    streams; a long alias is printed whole, never cut to look like another chart's."""
    chart = {"playlist_id": "regional-ar-weekly", "chart_label": "regional-ar-weekly", "snapshot_id": "s2",
             "climbs": [{"key": "k", "name": "Up", "artists": ["D"], "position": 137, "previous_position": 200,
                         "change": 63, "streams": 1234567}],
             "exits": [{"key": "k2", "name": "Gone", "artists": ["C"], "position": None, "previous_position": 199,
                        "change": None}]}
    lines = [movement_line(m) for m in movements_of({**EVENT, "charts": [chart]})]
    assert lines == ["2026-01-02 03:04:05  regional-ar-weekly #137  ▲63     Up — D (was #200), 1,234,567 streams",
                     "2026-01-02 03:04:05  regional-ar-weekly  out  EXIT    Gone — C (was #199)"]
    assert movement_line({**movements_of(EVENT)[2], "streams": 0}).endswith("(was #12), 0 streams")


def test_streams_read_with_thousands_separators():
    from spotify_charts.text import streams_text

    assert [streams_text(n) for n in (None, 0, 999, 1000, 63286378)] == ["", "0", "999", "1,000", "63,286,378"]


def test_glue_health_reads_the_run_metrics_objects(tmp_path):
    assert health.last_glue_run(None, None).status == "unknown"
    folder = tmp_path / "run_metrics"
    folder.mkdir()
    assert health.read_run_metrics(str(tmp_path)) == []
    assert health.last_glue_run([], str(tmp_path)).status == "unknown"
    for stamp, quarantined in (("20240101T000000", 3), ("20240102T000000", 0)):
        (folder / f"run-{stamp}Z.json").write_text(json.dumps({
            "finished_at": f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}T00:00:00.000000Z", "files_read": 2,
            "records_read": 10, "curated": 7, "observations": 3 - quarantined, "quarantined": quarantined}))
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


def test_a_failing_source_shows_as_unknown_and_its_reason_is_logged_under_an_id(caplog):
    def broken():
        raise ConnectionError("engine down")

    check = health._guarded("pending_load", lambda: health.pending_load(None, broken))
    assert check.status == "unknown" and "could not read its source (error id " in check.summary
    assert "engine down" not in check.summary and "ConnectionError" not in check.summary  # the summary goes to a browser
    error_id = re.search(r"error id ([0-9a-f]{8})", check.summary).group(1)
    [logged] = [r for r in caplog.records if error_id in r.getMessage()]
    assert "engine down" in str(logged.exc_info[1]) and "pending_load" in logged.getMessage()


def test_polling_shows_each_charts_learned_flip_time_and_reads_today():
    from producer.schedule import ChartHistory, Flip, ScheduleSettings, histories_to_json

    now = datetime(2024, 3, 6, 15, 0, tzinfo=timezone.utc)
    day = 86_400.0
    flip = datetime(2024, 3, 1, 14, 30, tzinfo=timezone.utc).timestamp()
    learned = ChartHistory(last_read=now.timestamp() - 60, snapshot_id="s", seen_at=now.timestamp() - 60,
                           flips=tuple(Flip(flip + d * day - 30, flip + d * day + 30) for d in range(5)),
                           reads_day="2024-03-06", reads_today=9)
    new = ChartHistory(last_read=now.timestamp() - day, snapshot_id="t", seen_at=now.timestamp() - day,
                       reads_day="2024-03-05", reads_today=96)
    raw = histories_to_json({"id1": learned, "id2": new}, ScheduleSettings())
    check = health.polling_check(raw, {"id1": "global", "id2": "us"}, now)
    assert check.status == "ok"
    assert check.summary == "9 reads today over 2 charts: global flips ~14:30 UTC, us learning"
    global_, us = check.details["charts"]
    assert (global_["chart"], global_["flip_time"], global_["learned_from_flips"], global_["reads_today"]) == (
        "global", "14:30", 5, 9)
    assert (us["flip_time"], us["reads_today"], us["last_read_day"], us["reads_that_day"]) == (None, 0, "2024-03-05", 96)
    assert health.polling_check(None, {}, now).status == "unknown"  # a fixed schedule keeps no state
    assert "fixed schedule" in health.polling_check(None, {}, now).summary


def test_settings_come_from_the_producer_environment_with_overrides():
    env = {"STATE_BUCKET": "b", "STATE_PREFIX": "p", "PLAYLISTS": "id1:global,id2", "GLUE_CHECKPOINT_PATH": "/cp"}
    settings = MonitorSettings.from_env(env, state_bucket=None, state_prefix="other/")
    assert settings.state_bucket == "b" and settings.state_prefix == "other/"
    assert settings.labels == {"id1": "global", "id2": "id2"} and settings.glue_checkpoint == "/cp"
    assert MonitorSettings.from_env(env).state_prefix == "p/"
    assert MonitorSettings.from_env({"PLAYLISTS": ",,,"}).labels == {}


def test_health_timestamps_read_as_utc():
    assert health.when("2024-03-15T06:00:00.123Z") == "2024-03-15 06:00:00 UTC"
    assert health.when(datetime(2024, 3, 15, 8, tzinfo=timezone(timedelta(hours=2)))) == "2024-03-15 06:00:00 UTC"
    assert health.when(None) == "?" and health.when("soon") == "soon"


# -- hostile names: what a terminal would act on prints as plain text ---------------------

# Track and artist names come from Spotify, so from whoever names a track or a playlist.
HOSTILE = {
    "\x1b[2J\x1b[HCleared": "Cleared",  # erase the screen, cursor home
    "\x1b[31mRed\x1b[0m Song": "Red Song",  # colours
    "\x1b]0;pwned\x07Title": "Title",  # window title (OSC ... BEL)
    "\x1b]8;;https://evil.example/\x1b\\Click\x1b]8;;\x1b\\": "Click",  # hyperlink (OSC 8 ... ST)
    "\x9b1;31mC1 CSI": "C1 CSI",  # the one-byte CSI
    "Bell\x07\x08\x08\x08Back": "BellBack",  # bell, backspaces
    "Line\nBreak\rReturn\tTab": "Line Break Return Tab",
    "Next\x85Line\u2028Sep": "Next Line Sep",
    "Song \u202egnp.exe": "Song gnp.exe",  # right-to-left override
    "A\u2066B\u2069C\u202aD\u202c": "ABCD",  # isolates, embeddings
    "Reset\x1bc done\x1b": "Reset done",  # ESC c: full reset; a lone ESC
}
PLAIN = ("Beyoncé", "幾億光年", "e\u0301", "👨\u200d👩\u200d👧", "\u05e9\u05dc\u05d5\u05dd\u200f!", "AC/DC — T.N.T.")


@pytest.mark.parametrize("name, shown", HOSTILE.items())
def test_control_characters_and_escape_sequences_are_dropped(name, shown):
    assert " ".join(terminal_text(name).split()) == shown


@pytest.mark.parametrize("name", PLAIN)
def test_names_without_controls_print_unchanged(name):
    assert terminal_text(name) == name and fit(name, 40).rstrip() == name  # ZWJ, combining marks, RLM stay


def test_json_output_keeps_hostile_names_exactly_but_escaped():
    value = {"names": list(HOSTILE), "plain": list(PLAIN), "del": "x\x7fy"}
    text = terminal_json(value, indent=1)
    assert not TERMINAL_CONTROLS.search(text.replace("\n", ""))  # indent's own newlines aside
    assert json.loads(text) == value  # the same data
    assert "\\u202e" in text and "\\u001b" in text and "\\u009b" in text and "幾億光年" in text


def test_a_table_of_hostile_names_stays_aligned():
    lines = table(("TRACK", "ARTISTS", "N"), [(name, name, 1) for name in HOSTILE] + [(name, name, 2) for name in PLAIN],
                  widths=(14, 10, 2), align=("<", "<", ">"))
    assert not any(TERMINAL_CONTROLS.search(line) for line in lines)
    assert {cell_width(line) for line in lines} == {cell_width(lines[0])}


def test_a_movement_line_of_hostile_names_prints_as_text():
    move = {**movements_of(EVENT)[0], "name": "\x1b[2J\x1b[HTop", "artists": ["\u202eE", "\x1b]0;t\x07F"],
            "chart_label": "glo\x1b[5mbal"}
    line = movement_line(move)
    assert not TERMINAL_CONTROLS.search(line)
    assert line == "2026-01-02 03:04:05  global     #1  NEW #1  Top — E, F (was #2)"


def test_the_text_report_of_hostile_names_prints_as_text():
    from spotify_charts.report import ChartReport, render_text
    from spotify_charts.views import ChartInfo

    names = list(HOSTILE)

    def entry(i: int, name: str) -> dict:
        return {"position": i + 1, "status": "NEW", "change": None, "previous_position": None, "marker": "NEW",
                "track_id": f"t{i}", "track_name": name, "artist_names": [name, "Plain"], "peak_position": i + 1,
                "days_on_chart": 1, "last_chart_date": None, "last_chart_position": None}

    entries = [entry(i, name) for i, name in enumerate(names)]
    mover = {"position": 1, "previous_position": 9, "change": 8, "track_name": names[0], "artist_names": [names[1]]}
    report = ChartReport(
        chart=ChartInfo("pl", "glo\x1b[31mbal", "\u202eTop 50\x07", date(2024, 3, 1), date(2024, 3, 2), 2),
        chart_date=date(2024, 3, 2), previous_chart_date=date(2024, 3, 1), missing_days=0, snapshot_id="s",
        observed_at=None, entries=entries, climbers=[mover], fallers=[{**mover, "change": -8}], new_entries=entries,
        exits=[{"last_position": 50, "track_name": names[2], "artist_names": [names[3]]}],
        top_artists=[{"artist_name": name, "tracks_on_chart": 1, "best_position": 1, "new_tracks": 1} for name in names])
    text = render_text(report)
    assert not TERMINAL_CONTROLS.search(text.replace("\n", ""))
    assert text.splitlines()[0].startswith("Top 50 (global), daily chart of 2024-03-02")
    header = next(i for i, line in enumerate(text.splitlines()) if line.lstrip().startswith("POS"))
    rows = text.splitlines()[header:header + 1 + len(names)]
    assert {cell_width(line) for line in rows} == {cell_width(rows[0])}  # the columns line up
    assert "Cleared" in text and "Red Song" in text and "Song gnp.exe" in text


def test_movements_read_as_plain_words():
    from spotify_charts.text import movements_text

    assert movements_text({"new_entries": 4, "exits": 1, "climbs": 12, "falls": 0, "new_number_one": 1}) == (
        "4 new entries, 1 exit, 12 climbs, a new number one")
    assert movements_text({"new_entries": 0, "exits": 0, "climbs": 0, "falls": 0, "new_number_one": 0}) == (
        "no movements")
    assert movements_text({}) == movements_text(None) == "no movements"
    assert movements_text({"falls": 1, "new_number_one": 3}) == "1 fall, 3 new number ones"
