"""``spotify-charts export``: the daily charts of some charts over a date range, with their
movements and streams, from the views, as CSV, JSON or Parquet: an open export of what
the pipeline holds.

One row per chart, date and position (``EXPORT_COLUMNS``), in that order. CSV writes
``artist_names`` as a JSON array (an artist name may hold a comma); JSON is one array
of objects, written as it is read; Parquet needs pyarrow. The views are read a month of
one chart at a time, so a long export shows its progress and never holds it all.
"""
from __future__ import annotations

import csv
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Iterator, TextIO

from spotify_charts import views
from spotify_charts.commands import CommandError
from spotify_charts.progress import ProgressBar

FORMATS = ("csv", "json", "parquet")
EXPORT_COLUMNS = ("chart_label", "chart_date", "position", "track_id", "track_name", "artist_names", "status",
                  "previous_position", "change", "streams", "previous_chart_date", "missing_days")
CHUNK_DAYS = 31


class ExportError(CommandError):
    """The export cannot be written as asked."""


def months(first: date, last: date) -> Iterator[tuple[date, date]]:
    """[first, last] in consecutive ranges of at most CHUNK_DAYS days."""
    start = first
    while start <= last:
        end = min(last, start + timedelta(days=CHUNK_DAYS - 1))
        yield start, end
        start = end + timedelta(days=1)


def export_rows(db, charts: list[views.ChartInfo], first: date, last: date,
                progress: ProgressBar | None = None) -> Iterator[dict[str, Any]]:
    """Every row of the charts' daily charts dated ``first`` to ``last``, chart by chart."""
    done = 0
    for chart in charts:
        for start, end in months(max(first, chart.first_date), min(last, chart.last_date)):
            rows = views.daily_chart_range(db, chart.playlist_id, start, end, EXPORT_COLUMNS)
            yield from rows
            done += len({r["chart_date"] for r in rows})
            if progress is not None:
                progress.update(done, f"{chart.chart_label} {end}")


def _text(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def write_csv(rows: Iterator[dict[str, Any]], out: TextIO) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    for row in rows:
        writer.writerow([json.dumps(row[c], ensure_ascii=False) if c == "artist_names" else _text(row[c])
                         for c in EXPORT_COLUMNS])
        count += 1
    return count


def write_json(rows: Iterator[dict[str, Any]], out: TextIO) -> int:
    out.write("[")
    count = 0
    for row in rows:
        out.write(("," if count else "") + "\n" + json.dumps({c: _text(row[c]) for c in EXPORT_COLUMNS},
                                                             ensure_ascii=False))
        count += 1
    out.write("\n]\n")
    return count


def write_parquet(rows: Iterator[dict[str, Any]], path: Path) -> int:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ExportError("--format parquet needs pyarrow: pip install pyarrow") from None
    schema = pa.schema([("chart_label", pa.string()), ("chart_date", pa.date32()), ("position", pa.int64()),
                        ("track_id", pa.string()), ("track_name", pa.string()),
                        ("artist_names", pa.list_(pa.string())), ("status", pa.string()),
                        ("previous_position", pa.int64()), ("change", pa.int64()), ("streams", pa.int64()),
                        ("previous_chart_date", pa.date32()), ("missing_days", pa.int64())])
    count = 0
    with pq.ParquetWriter(path, schema) as writer:
        batch: list[dict[str, Any]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= 10_000:
                writer.write_table(pa.Table.from_pylist(batch, schema))
                count, batch = count + len(batch), []
        if batch or not count:
            writer.write_table(pa.Table.from_pylist(batch, schema))
            count += len(batch)
    return count


def export(db, chart_names: list[str], first: date, last: date, fmt: str, out_path: Path | None,
           stdout: TextIO, stderr: TextIO) -> int:
    """Write the export; returns the rows written."""
    if fmt not in FORMATS:
        raise ExportError(f"--format must be one of {', '.join(FORMATS)}")
    if fmt == "parquet" and out_path is None:
        raise ExportError("--format parquet writes a file: give --out PATH")
    if last < first:
        raise ExportError(f"--to {last} is before --from {first}")
    charts = [views.find_chart(db, name) for name in chart_names]
    days = sum(views.daily_chart_count(db, c.playlist_id, first, last) for c in charts)
    progress = ProgressBar(days, "daily charts", "export", out=stderr)
    rows = export_rows(db, charts, first, last, progress)
    if fmt == "parquet":
        count = write_parquet(rows, out_path)
    else:
        with (open(out_path, "w", encoding="utf-8", newline="") if out_path else _Unclosed(stdout)) as out:
            count = (write_csv if fmt == "csv" else write_json)(rows, out)
    progress.finish(f"{count:,} rows" + (f" in {out_path}" if out_path else ""))
    return count


class _Unclosed:
    """``stdout`` in a ``with``: not closed at the end."""

    def __init__(self, stream: TextIO):
        self.stream = stream

    def __enter__(self) -> TextIO:
        return self.stream

    def __exit__(self, *exc) -> None:
        self.stream.flush()
