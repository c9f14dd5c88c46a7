"""The chart report on the Snowflake views (local engine, real connector), over real chart
history loaded through the Snowpipe loader. Every figure is checked against the bundled
chart data directly, computed here without the views."""
from __future__ import annotations

import json
import subprocess
from datetime import date

import pytest

from local_spotify.catalog import load_market
from snowflake.charts import connection
from spotify_charts.cli import main
from spotify_charts.text import cell_width
from tests.spotify_charts.chart_history import load_history
from tests.spotify_charts.conftest import SCRIPT, child_environ


FIRST, LAST = date(2024, 3, 1), date(2024, 3, 16)
DAY = date(2024, 3, 15)  # 2024-03-14 is missing from the data: compared with 2024-03-13
PREVIOUS = date(2024, 3, 13)


@pytest.fixture(scope="module")
def charts(engine_environ, tmp_path_factory):
    stage = tmp_path_factory.mktemp("stage")
    with connection.connect() as db:
        loaded = {label: load_history(db, stage, label, FIRST, LAST) for label in ("global", "jp")}
    return loaded


def expected_chart(label: str, day: date) -> dict:
    """Position, status, change, peak and days of every track, from the raw chart data."""
    days = {d: chart for d, chart in load_market(label).items() if FIRST <= d <= LAST}
    history = sorted(d for d in days if d <= day)
    previous = {t.track_id: t.position for t in days[history[-2]]}
    seen_before = {t.track_id for d in history[:-1] for t in days[d]}
    rows = {}
    for t in days[day]:
        positions = [u.position for d in history for u in days[d] if u.track_id == t.track_id]
        if t.track_id in previous:
            change = previous[t.track_id] - t.position
            status = "UP" if change > 0 else "DOWN" if change < 0 else "SAME"
        else:
            change, status = None, "RE-ENTRY" if t.track_id in seen_before else "NEW"
        rows[t.position] = {"track_id": t.track_id, "status": status, "change": change,
                            "peak_position": min(positions), "days_on_chart": len(positions)}
    exits = sorted(p for tid, p in previous.items() if tid not in {t.track_id for t in days[day]})
    return {"rows": rows, "exits": exits, "previous": history[-2]}


def run_json(*args: str, capsys) -> dict:
    assert main(["report", "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_the_report_matches_the_chart_data(charts, capsys):
    assert charts == {"global": 15 * 50, "jp": 15 * 50}  # 16 days, one missing
    report = run_json("--chart", "global", "--date", DAY.isoformat(), capsys=capsys)
    expected = expected_chart("global", DAY)
    assert report["chart_date"] == DAY.isoformat() and report["previous_chart_date"] == PREVIOUS.isoformat()
    assert report["missing_days"] == 1
    assert [e["position"] for e in report["entries"]] == list(range(1, 51))
    for entry in report["entries"]:
        want = expected["rows"][entry["position"]]
        got = {k: entry[k] for k in want}
        assert got == want, entry["position"]
    statuses = {e["status"] for e in report["entries"]}
    assert statuses >= {"UP", "DOWN", "SAME", "NEW", "RE-ENTRY"}  # this day has every kind
    assert [x["last_position"] for x in report["exits"]] == expected["exits"]
    assert [e["position"] for e in report["new_entries"]] == sorted(
        p for p, row in expected["rows"].items() if row["status"] in ("NEW", "RE-ENTRY"))

    changes = sorted((row["change"] for row in expected["rows"].values() if row["change"]), reverse=True)
    assert [m["change"] for m in report["climbers"]] == [c for c in changes if c > 0][:5]
    assert [m["change"] for m in report["fallers"]] == sorted(c for c in changes if c < 0)[:5]

    tracks_by_artist: dict[str, int] = {}
    for t in load_market("global")[DAY]:
        for artist in t.artists:
            tracks_by_artist[artist] = tracks_by_artist.get(artist, 0) + 1
    top = report["top_artists"][0]
    assert (top["artist_name"], top["tracks_on_chart"]) == max(tracks_by_artist.items(), key=lambda kv: kv[1])


def test_the_text_report_is_aligned_and_marks_changes(charts, capsys):
    assert main(["report", "--chart", "global", "--date", DAY.isoformat()]) == 0
    text = capsys.readouterr().out
    expected = expected_chart("global", DAY)["rows"]
    lines = text.splitlines()
    assert lines[0] == ("Top 50 - Global (global), daily chart of 2024-03-15: compared with the daily chart of "
                        "2024-03-13, 1 day(s) without a chart in between")
    header = next(i for i, line in enumerate(lines) if line.lstrip().startswith("POS"))
    table = lines[header + 1:header + 51]
    assert {cell_width(line) for line in table} == {cell_width(lines[header])}  # columns line up
    for line in table:
        position = int(line[:5])
        row = expected[position]
        marker = {"NEW": "NEW", "RE-ENTRY": "RE-ENTRY", "SAME": "="}.get(row["status"]) or \
            (f"▲{row['change']}" if row["change"] > 0 else f"▼{-row['change']}")
        assert line[7:15].rstrip() == marker
        assert line.split()[-2:] == [str(row["peak_position"]), str(row["days_on_chart"])]
    for title in ("Biggest climbers", "Biggest fallers", "New entries (", "Exits (", "Top artists"):
        assert any(line.startswith(title) for line in lines), title


def test_the_first_chart_says_every_track_is_new_without_contradicting_itself(charts, capsys):
    assert main(["report", "--chart", "global", "--date", FIRST.isoformat()]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("daily chart of 2024-03-01: the first chart in the data: every track is NEW")
    assert not any(line.startswith("New entries (") for line in lines)  # no "New entries (0)"
    new = lines.index("New entries")
    assert lines[new + 1].strip() == "all 50 (the first chart in the data)"


def test_wide_titles_stay_aligned(charts, capsys):
    """Japanese titles take two terminal cells per character: the columns after them still line up."""
    assert main(["report", "--chart", "jp", "--rows", "50"]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.lstrip().startswith("POS"))
    table = lines[header + 1:header + 51]
    assert any(cell_width(line) > len(line) for line in table)  # wide characters present
    assert {cell_width(line) for line in table} == {cell_width(lines[header])}  # columns still line up


def test_report_defaults_and_errors(charts, capsys):
    report = run_json(capsys=capsys)  # no chart: global; no date: the latest
    assert report["chart"]["chart_label"] == "global" and report["chart_date"] == LAST.isoformat()
    assert main(["report", "--chart", "global", "--date", "2024-03-14"]) == 1
    err = capsys.readouterr().err
    assert "no daily chart of global on 2024-03-14" in err and "from 2024-03-01 to 2024-03-16" in err
    assert main(["report", "--chart", "nowhere"]) == 1
    assert "charts loaded: global, jp" in capsys.readouterr().err
    assert main(["report", "--date", "15/03/2024"]) == 2


def test_the_installed_command_prints_the_report(charts):
    """The console script itself (a child process), as a user runs it."""
    result = subprocess.run([str(SCRIPT), "report", "--chart", "global", "--rows", "3"], capture_output=True, text=True,
                            env=child_environ(), timeout=60)
    assert result.returncode == 0, result.stderr
    assert "chart of 2024-03-16" in result.stdout and "... 47 more" in result.stdout
