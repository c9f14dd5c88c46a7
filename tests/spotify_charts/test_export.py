"""``spotify-charts export`` round-trips: what it writes, read back, equals the views (CSV,
JSON and Parquet), over real chart exports loaded into the local engine through the real
pipes and MERGE (the bundled month's first days of two charts)."""
from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from snowflake.charts import connection
from spotify_charts import views
from spotify_charts.cli import main
from spotify_charts.export import EXPORT_COLUMNS, ExportError, export, months
from tests.snowflake.builders import entry, load_rows, observation_row
from glue_streaming.curated import CHART_ENTRIES_DATASET, CHART_OBSERVATIONS_DATASET
from localdev.local_snowflake.loader import CuratedLoader

FIRST, LAST = date(2024, 5, 1), date(2024, 5, 3)


@pytest.fixture(scope="module")
def charts(engine_environ, tmp_path_factory):
    """Two small charts, one with streams and a comma in an artist credit, over three days."""
    with connection.connect() as conn:
        load_charts(conn, tmp_path_factory.mktemp("stage"))
        yield conn


def load_charts(conn, stage: Path) -> None:
    loader = CuratedLoader(conn, stage)
    for chart, streams in (("regional-xx-daily", (900, 800, 700)), ("viral-xx-daily", (None, None, None))):
        for day, tracks in ((1, "ABC"), (2, "BCD"), (3, "DBA")):
            chart_date = date(2024, 5, day)
            rows = [entry(chart, f"{chart}-{day}", f"2024-06-01 10:0{day}", n + 1, track,
                          ("Tyler, The Creator",) if track == "A" else (f"Artist {track}",),
                          playlist_id=chart, chart_label=chart, chart_date=chart_date, origin="chart_export",
                          artist_ids=[None], streams=streams[n])
                    for n, track in enumerate(tracks)]
            seen = {**observation_row(chart, f"{chart}-{day}", f"2024-06-01 10:0{day}", entry_count=3,
                                      chart_date=chart_date.isoformat()),
                    "playlist_id": chart, "chart_label": chart, "origin": "chart_export"}
            load_rows(loader, CHART_ENTRIES_DATASET, rows, f"{chart}-{day}.parquet")
            load_rows(loader, CHART_OBSERVATIONS_DATASET, [seen], f"{chart}-{day}-seen.parquet")


def view_rows(db, chart: str) -> list[dict]:
    rows = views.daily_chart_range(db, chart, FIRST, LAST, EXPORT_COLUMNS)
    return [{**r, "chart_date": r["chart_date"].isoformat(),
             "previous_chart_date": r["previous_chart_date"] and r["previous_chart_date"].isoformat()} for r in rows]


def test_an_exported_csv_read_back_equals_the_views(charts, tmp_path):
    out = tmp_path / "charts.csv"
    progress = io.StringIO()
    count = export(charts, ["regional-xx-daily", "viral-xx-daily"], FIRST, LAST, "csv", out, io.StringIO(), progress)
    assert count == 18 and "6/6 daily charts" in progress.getvalue()
    with open(out, newline="", encoding="utf-8") as handle:
        read = list(csv.DictReader(handle))
    assert list(read[0]) == list(EXPORT_COLUMNS)

    def typed(row):
        ints = ("position", "previous_position", "change", "streams", "missing_days")
        return {**row, **{c: int(row[c]) if row[c] else None for c in ints},
                "artist_names": json.loads(row["artist_names"]), "previous_chart_date": row["previous_chart_date"] or None}
    expected = view_rows(charts, "regional-xx-daily") + view_rows(charts, "viral-xx-daily")
    assert [typed(r) for r in read] == expected
    assert expected[0]["artist_names"] == ["Tyler, The Creator"] and expected[0]["streams"] == 900
    assert {r["status"] for r in expected} >= {"NEW", "UP", "DOWN", "RE-ENTRY"}


def test_json_and_parquet_hold_the_same_rows(charts, tmp_path):
    expected = view_rows(charts, "regional-xx-daily")
    stdout = io.StringIO()
    export(charts, ["regional-xx-daily"], FIRST, LAST, "json", None, stdout, io.StringIO())
    assert json.loads(stdout.getvalue()) == expected
    path = tmp_path / "charts.parquet"
    export(charts, ["regional-xx-daily"], FIRST, LAST, "parquet", path, io.StringIO(), io.StringIO())
    table = pq.read_table(path).to_pylist()
    assert [{**r, "chart_date": r["chart_date"].isoformat(),
             "previous_chart_date": r["previous_chart_date"] and r["previous_chart_date"].isoformat()}
            for r in table] == expected


def test_the_command_line_and_its_errors(charts, tmp_path, capsys):
    out = tmp_path / "one-day.csv"
    assert main(["export", "--chart", "regional-xx-daily", "--from", "2024-05-02", "--to", "2024-05-02",
                 "--out", str(out)]) == 0
    assert len(out.read_text().splitlines()) == 4  # the header and three positions
    assert main(["export", "--chart", "nope", "--from", "2024-05-01", "--to", "2024-05-02"]) == 1
    assert "no chart 'nope'" in capsys.readouterr().err
    with pytest.raises(ExportError, match="parquet writes a file"):
        export(charts, ["regional-xx-daily"], FIRST, LAST, "parquet", None, io.StringIO(), io.StringIO())
    with pytest.raises(ExportError, match="before --from"):
        export(charts, ["regional-xx-daily"], LAST, FIRST, "csv", None, io.StringIO(), io.StringIO())


def test_long_ranges_are_read_a_month_at_a_time():
    assert list(months(date(2024, 1, 1), date(2024, 3, 5))) == [
        (date(2024, 1, 1), date(2024, 1, 31)), (date(2024, 2, 1), date(2024, 3, 2)), (date(2024, 3, 3), date(2024, 3, 5))]
