"""Imported chart exports for the report, live and dashboard tests: real charts.spotify.com
files from the project's bundle (localdev/data/chart-exports-2024-05.zip), turned into
the rows the import path curates from them (contract v3: origin 'chart_export',
playlist_id = chart_label = the file's alias, chart_date = the file's date, streams and
Spotify's stated fields, the credited artists as one name with a null id, one observation
per file) and loaded into the local engine through the pipes' COPY and the MERGE
(tests/snowflake/builders.py).

The bundle holds no viral chart: ``viral_file`` makes one in the viral format (50 rows,
no streams column) from a bundled Argentina file.
"""
from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from benchmarks.truth.chart_exports import FILE_NAME, TRACK_URI, export_files
from glue_streaming.curated import CHART_ENTRIES_DATASET, CHART_OBSERVATIONS_DATASET
from localdev.local_snowflake.loader import CuratedLoader
from tests.snowflake.builders import entry, load_rows, observation_row

BUNDLE = Path(__file__).resolve().parents[2] / "localdev" / "data" / "chart-exports-2024-05.zip"
# The titles charts.spotify.com gives these charts (what an export's playlist_name holds).
TITLES = {"regional-ar-daily": "Daily Top Songs Argentina", "regional-global-daily": "Daily Top Songs Global",
          "regional-global-weekly": "Weekly Top Songs Global", "viral-ar-daily": "Daily Viral Songs Argentina"}
IMPORTED_AT = "2024-06-02 08:00"  # when the user imported them: long after the charts' dates
VIRAL_HEADER = ("rank", "uri", "artist_names", "track_name", "source", "peak_rank", "previous_rank",
                "days_on_chart")


def bundled(*names: str) -> list[tuple[str, bytes]]:
    """(file name, bytes) of the named files of the bundle, in the order named."""
    files = dict(export_files(BUNDLE))
    return [(name, files[name]) for name in names]


def read_csv(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def viral_file(source: tuple[str, bytes], day: str) -> tuple[str, bytes]:
    """A viral chart file of ``day`` (Top 50, no streams) made from a bundled regional file."""
    out = io.StringIO()
    writer = csv.DictWriter(out, VIRAL_HEADER, extrasaction="ignore", quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
    writer.writeheader()
    writer.writerows(row for row in read_csv(source[1])[:50])
    return f"viral-ar-daily-{day}.csv", out.getvalue().encode()


def _optional_int(row: dict[str, str], name: str) -> int | None:
    return int(row[name]) if row.get(name) not in (None, "") else None


def export_rows(name: str, data: bytes, imported: str = IMPORTED_AT) -> tuple[list[dict], dict]:
    """The chart_entries rows and the observation of one export file."""
    match = FILE_NAME.match(name)
    alias, day = match["alias"], date.fromisoformat(match["date"])
    snapshot = hashlib.sha256(data).hexdigest()[:28]  # derived from the content, as the import does
    shared = {"playlist_id": alias, "playlist_name": TITLES[alias], "chart_date": day, "origin": "chart_export"}
    rows = read_csv(data)
    entries = [entry(alias, snapshot, imported, int(r["rank"]), r["track_name"], (r["artist_names"],),
                     poll_id=f"import-{name}", **shared, track_id=r["uri"].removeprefix(TRACK_URI),
                     artist_ids=[None], label=r["source"], streams=_optional_int(r, "streams"),
                     previous_rank=_optional_int(r, "previous_rank"), peak_rank=_optional_int(r, "peak_rank"),
                     days_on_chart=_optional_int(r, "days_on_chart"),
                     weeks_on_chart=_optional_int(r, "weeks_on_chart")) for r in rows]
    observation = {**observation_row(alias, snapshot, imported, poll=f"import-{name}", chart_date=str(day),
                                     entry_count=len(rows)), **shared}
    return entries, observation


@dataclass(frozen=True)
class Loaded:
    rows: int  # chart entries
    files: int  # curated files the engine loaded (one per dataset and chart date)


def load_exports(db, stage_dir: Path, files: list[tuple[str, bytes]], file_name: str = "exports") -> Loaded:
    """Load export files into the engine (their entries, then their observations)."""
    entries, observations = [], []
    for name, data in files:
        rows, observation = export_rows(name, data)
        entries += rows
        observations.append(observation)
    loader = CuratedLoader(db, stage_dir)
    paths = load_rows(loader, CHART_ENTRIES_DATASET, entries, f"{file_name}.parquet", merge=False)
    paths += load_rows(loader, CHART_OBSERVATIONS_DATASET, observations, f"{file_name}-observations.parquet")
    return Loaded(len(entries), len(paths))


GLOBAL_DAILY_MAY = tuple(f"regional-global-daily-2024-05-{day:02d}.csv" for day in range(1, 32))
GLOBAL_WEEKS = ("2024-03-28", "2024-04-25", "2024-05-30")


def dashboard_files() -> list[tuple[str, bytes]]:
    """What the dashboard tests import: the Global daily Top 200 of May 2024, the Global
    weekly files, two Argentina days and a viral chart made from them."""
    argentina = bundled("regional-ar-daily-2024-05-01.csv", "regional-ar-daily-2024-05-02.csv")
    return (bundled(*GLOBAL_DAILY_MAY) + bundled(*(f"regional-global-weekly-{d}.csv" for d in GLOBAL_WEEKS))
            + argentina + [viral_file(argentina[0], "2024-05-01"), viral_file(argentina[1], "2024-05-02")])
