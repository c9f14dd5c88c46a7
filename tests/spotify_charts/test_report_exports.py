"""The chart report of imported chart exports (Top 200 with streams, daily and weekly, and a
viral chart without streams) on the Snowflake views (local engine, real connector), loaded
as the import path curates them. Every figure is checked against the CSV files themselves,
through the project-free truth of benchmarks/truth/chart_exports.py."""
from __future__ import annotations

import json
from datetime import date

import pytest

from benchmarks.truth.chart_exports import all_truths
from snowflake.charts import connection
from spotify_charts.cli import main
from spotify_charts.report import all_charts_text
from spotify_charts.text import cell_width
from tests.spotify_charts.chart_exports import GLOBAL_WEEKS, bundled, load_exports, read_csv, viral_file

AR_DATES = ("2024-05-01", "2024-05-02", "2024-05-04", "2024-05-05")  # 2024-05-03 not held: a gap
WEEKS = GLOBAL_WEEKS  # the bundle's weekly files: 5 weeks apart
AR = "regional-ar-daily"
WEEKLY = "regional-global-weekly"
VIRAL = "viral-ar-daily"
AFTER_GAP = date(2024, 5, 4)


@pytest.fixture(scope="module")
def files():
    ar = bundled(*(f"{AR}-{d}.csv" for d in AR_DATES))
    return (ar + bundled(*(f"{WEEKLY}-{d}.csv" for d in WEEKS), "regional-global-daily-2024-05-31.csv")
            + [viral_file(ar[0], "2024-05-01"), viral_file(ar[1], "2024-05-02")])


@pytest.fixture(scope="module")
def truth(files, tmp_path_factory):
    """What the files alone say, chart by chart."""
    folder = tmp_path_factory.mktemp("exports")
    for name, data in files:
        (folder / name).write_bytes(data)
    return all_truths(folder)


@pytest.fixture(scope="module")
def loaded(engine_environ, files, tmp_path_factory):
    with connection.connect() as db:
        return load_exports(db, tmp_path_factory.mktemp("stage"), files).rows


def run_json(*args: str, capsys) -> dict:
    assert main(["report", "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def run_text(*args: str, capsys) -> list[str]:
    assert main(["report", *args]) == 0
    return capsys.readouterr().out.splitlines()


def file_streams(alias: str, day: str) -> dict[str, int]:
    """track id -> streams, as the file of ``day`` states them."""
    [(_, data)] = bundled(f"{alias}-{day}.csv")
    return {r["uri"].removeprefix("spotify:track:"): int(r["streams"]) for r in read_csv(data)}


def chart_table(lines: list[str]) -> tuple[str, list[str]]:
    """The header line of the chart table and its rows."""
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("POS"))
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].strip() or "more (--rows" in lines[i]),
               len(lines))
    return lines[start], lines[start + 1:end]


def test_a_top_200_export_reports_its_files_movements_and_streams(loaded, truth, capsys):
    assert loaded == 4 * 200 + 3 * 200 + 200 + 2 * 50
    report = run_json("--chart", AR, "--date", AFTER_GAP.isoformat(), capsys=capsys)
    assert report["chart"]["origin"] == "chart_export" and report["chart"]["cadence"] == "daily"
    assert report["has_streams"] and report["previous_chart_date"] == "2024-05-02" and report["missing_days"] == 1
    [edition] = [c for c in truth[AR].charts if c.day == AFTER_GAP]
    assert [(e["position"], e["track_id"], e["status"], e["previous_position"], e["change"])
            for e in report["entries"]] == [(r.position, r.track[0], r.status, r.previous_position, r.change)
                                            for r in edition.rows]
    assert len(report["entries"]) == 200
    assert {e["track_id"]: e["streams"] for e in report["entries"]} == file_streams(AR, "2024-05-04")
    # Movers and new entries carry the day's streams; exits their streams on the chart they left.
    today, before = file_streams(AR, "2024-05-04"), file_streams(AR, "2024-05-02")
    movers = report["climbers"] + report["fallers"] + report["new_entries"]
    assert movers and all(m["streams"] == today[m["track_id"]] for m in movers)
    assert [(x["last_position"], x["track_id"]) for x in report["exits"]] == [(p, t[0]) for p, t in edition.exits]
    assert report["exits"] and all(x["last_streams"] == before[x["track_id"]] for x in report["exits"])


def test_the_text_report_shows_200_positions_with_aligned_streams(loaded, truth, capsys):
    lines = run_text("--chart", AR, "--date", AFTER_GAP.isoformat(), "--rows", "200", capsys=capsys)
    assert lines[0] == ("Daily Top Songs Argentina (regional-ar-daily), imported chart export, daily chart of "
                        "2024-05-04: compared with the daily chart of 2024-05-02, 1 day(s) without a chart in between")
    header, rows = chart_table(lines)
    assert header.split() == ["POS", "MOVE", "TRACK", "ARTISTS", "STREAMS", "PEAK", "DAYS"]
    assert len(rows) == 200 and not any("more (--rows" in line for line in lines)
    assert {cell_width(line) for line in rows} == {cell_width(header)}  # every column lines up
    streams = file_streams(AR, "2024-05-04")
    report = run_json("--chart", AR, "--date", AFTER_GAP.isoformat(), capsys=capsys)
    right = cell_width(header[:header.index("STREAMS") + len("STREAMS")])  # the column's right edge
    for line, entry in zip(rows, report["entries"]):
        _, count, _, _ = line.rsplit(maxsplit=3)  # ... STREAMS PEAK DAYS
        assert count == f"{streams[entry['track_id']]:,}", line
        assert cell_width(line[:line.rfind(count) + len(count)]) == right  # right-aligned under its header
    # The sections give the streams too, formatted the same, right after where the track was.
    climbers = lines[lines.index("Biggest climbers") + 1:lines.index("Biggest fallers") - 1]
    assert [line.split(")", 1)[1].split()[0] for line in climbers] == [
        f"{m['streams']:,}" for m in report["climbers"]]
    exits = lines[lines.index(f"Exits ({len(report['exits'])})") + 1:]
    assert [line.split()[2] for line in exits[:len(report["exits"])]] == [
        f"{x['last_streams']:,}" for x in report["exits"]]


def test_the_default_rows_show_a_top_50_whole_and_cut_a_top_200(loaded, capsys):
    lines = run_text("--chart", AR, capsys=capsys)
    _, rows = chart_table(lines)
    assert len(rows) == 50 and "  ... 150 more (--rows 0 shows all)" in lines
    viral = run_text("--chart", VIRAL, capsys=capsys)
    _, rows = chart_table(viral)
    assert len(rows) == 50 and not any("more (--rows" in line for line in viral)
    _, rows = chart_table(run_text("--chart", AR, "--rows", "0", capsys=capsys))
    assert len(rows) == 200
    assert main(["report", "--chart", AR, "--rows", "-1"]) == 2
    assert "must be at least 0" in capsys.readouterr().err


def test_a_weekly_chart_is_reported_as_weekly(loaded, truth, capsys):
    lines = run_text("--chart", WEEKLY, "--rows", "5", capsys=capsys)
    assert lines[0] == ("Weekly Top Songs Global (regional-global-weekly), imported chart export, weekly chart of "
                        "2024-05-30 (week 2024-05-24..2024-05-30): compared with the weekly chart of 2024-04-25, "
                        "4 week(s) without a chart in between")
    header, rows = chart_table(lines)
    assert header.split()[-3:] == ["STREAMS", "PEAK", "WEEKS"]  # a weekly chart counts weeks on it
    report = run_json("--chart", WEEKLY, capsys=capsys)
    assert report["chart"]["cadence"] == "weekly" and report["missing_days"] == 28  # 5 weeks apart, cadence 7
    stats = truth[WEEKLY].stats
    for entry in report["entries"]:
        want = stats[(entry["track_id"], "")]
        assert entry["days_on_chart"] == want.days_on_chart and entry["peak_position"] == want.peak_position
    assert [line.split()[-1] for line in rows] == [str(e["days_on_chart"]) for e in report["entries"][:5]]
    first = run_text("--chart", WEEKLY, "--date", WEEKS[0], "--rows", "1", capsys=capsys)
    assert first[0].endswith("weekly chart of 2024-03-28 (week 2024-03-22..2024-03-28): the first chart in the "
                             "data: every track is NEW")
    assert main(["report", "--chart", WEEKLY, "--date", "2024-05-29"]) == 1
    assert "no weekly chart of regional-global-weekly on 2024-05-29; it has 3 weekly charts" in capsys.readouterr().err


def test_a_chart_without_streams_shows_no_streams_column(loaded, truth, capsys):
    lines = run_text("--chart", VIRAL, capsys=capsys)
    assert lines[0] == ("Daily Viral Songs Argentina (viral-ar-daily), imported chart export, daily chart of "
                        "2024-05-02: compared with the daily chart of 2024-05-01")
    header, rows = chart_table(lines)
    assert header.split() == ["POS", "MOVE", "TRACK", "ARTISTS", "PEAK", "DAYS"]
    assert {cell_width(line) for line in rows} == {cell_width(header)}
    report = run_json("--chart", VIRAL, capsys=capsys)
    assert not report["has_streams"] and {e["streams"] for e in report["entries"]} == {None}
    [edition] = [c for c in truth[VIRAL].charts if c.day == date(2024, 5, 2)]
    assert [(e["position"], e["status"]) for e in report["entries"]] == [(r.position, r.status) for r in edition.rows]
    new = lines[lines.index(f"New entries ({len(report['new_entries'])})") + 1]
    assert new.split()[:2] == [f"#{report['new_entries'][0]['position']}", report["new_entries"][0]["status"]]
    assert new.split()[2] == report["new_entries"][0]["track_name"].split()[0]  # no empty streams cell before it


def test_without_a_chart_named_the_global_export_is_reported(loaded, capsys):
    report = run_json(capsys=capsys)  # no 'global' playlist here: the Global daily export
    assert report["chart"]["chart_label"] == "regional-global-daily" and report["chart_date"] == "2024-05-31"


def test_every_chart_s_report_shows_its_streams(loaded, capsys):
    with connection.connect() as db:
        text = all_charts_text(db, rows=3)
    # A chart with one file held is shown as its snapshot, with the file's streams.
    single = text[text.index("regional-global-daily: latest snapshot"):].split("\n\n")[0].splitlines()
    assert single[1].split() == ["POS", "MOVE", "TRACK", "ARTISTS", "STREAMS"]
    first = read_csv(bundled("regional-global-daily-2024-05-31.csv")[0][1])[0]
    assert single[2].split()[-1] == f"{int(first['streams']):,}"
    for header in ("(regional-ar-daily), imported chart export, daily chart of 2024-05-05",
                   "(regional-global-weekly), imported chart export, weekly chart of 2024-05-30",
                   "(viral-ar-daily), imported chart export, daily chart of 2024-05-02"):
        assert header in text
