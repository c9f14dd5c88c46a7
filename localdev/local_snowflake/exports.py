"""Load charts.spotify.com CSV exports into the local engine without Spark or LocalStack
(the chart tests and benchmarks): files -> contract v3 records -> the Glue job's own line
reader -> curated Parquet -> the pipes' COPY and the task's MERGE (``CuratedLoader``).

Everything after the records is the pipeline's code: records are encoded as Firehose
delivers them and read by ``glue_streaming.lines.read_object`` (the job's parser and the
contract's checks), and the rows go in through the real COPY and MERGE statements.

:func:`export_records` is the import Lambda's own parser and record builder
(``producer.chart_export``), so the files mean here what they mean when imported.
"""
from __future__ import annotations

import hashlib
import re
import zipfile
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import pyarrow as pa
import pyarrow.compute as pc

from firehose import contract
from glue_streaming import curated
from producer.chart_export import chart_records, parse_chart_file
from glue_streaming.lines import read_object
from localdev.local_snowflake.curated_files import arrow_schema, write_table
from localdev.local_snowflake.loader import CuratedLoader

EXPORT_NAME = re.compile(
    r"^(?P<alias>(?:regional|viral)-[a-z]+-(?:daily|weekly))-(?P<date>\d{4}-\d{2}-\d{2})\.csv$")
OBSERVED_AT = datetime(2026, 1, 1, tzinfo=timezone.utc)  # when the stand-in "imported" the files
FILES_PER_MERGE = 100  # chart dates loaded between two MERGEs (the Snowpipe runner's backlog size)
Progress = Callable[[int, int, int], None]  # (dates done, dates, entries loaded)


class ExportLoadError(ValueError):
    """An export the stand-in parser cannot read (the real import Lambda rejects such files)."""


def export_files(*paths: Path | str) -> Iterator[tuple[str, bytes]]:
    """(file name, bytes) of every export CSV under the given files, folders and zips.
    (benchmarks/truth/chart_exports.py reads files the same way on purpose: the truth uses
    no project code, and this layer may not import benchmarks.)"""
    for path in map(Path, paths):
        if path.is_dir():
            yield from export_files(*sorted(p for p in path.iterdir() if p.suffix in (".csv", ".zip")))
        elif path.suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                for name in sorted(archive.namelist()):
                    if EXPORT_NAME.match(Path(name).name):
                        yield Path(name).name, archive.read(name)
        elif EXPORT_NAME.match(path.name):
            yield path.name, path.read_bytes()


def export_records(name: str, data: bytes, observed_at: datetime = OBSERVED_AT) -> list[dict[str, Any]]:
    """Contract v3 records of one export file, as the import Lambda builds them: its
    entries and one observation (``producer.chart_export``); a file the Lambda would
    reject raises ``ChartFileError``."""
    return chart_records(parse_chart_file(name, data), observed_at)


def curated_tables(records: Iterable[dict[str, Any]], source_file: str, batch_id: str,
                   batch_at: datetime) -> dict[str, pa.Table]:
    """The curated rows of raw records, by dataset, as the Glue job makes them: the job's
    line reader, chart_date defaulted to observed_at's date, the batch columns."""
    raw = b"".join(contract.encode(record) for record in records)
    lines = pa.Table.from_batches(list(read_object(source_file, raw)))
    problems = lines.filter(pc.is_valid(lines["problem"]))
    if problems.num_rows:
        raise ExportLoadError(f"{source_file}: {problems['problem'][0]}")
    lines = lines.set_column(lines.schema.get_field_index("chart_date"), "chart_date", pc.coalesce(
        lines["chart_date"], pc.cast(lines["observed_at"], pa.date32())))
    tables = {}
    for record_type, dataset in ((contract.CHART_ENTRY, curated.CHART_ENTRIES_DATASET),
                                 (contract.CHART_OBSERVATION, curated.CHART_OBSERVATIONS_DATASET)):
        rows = lines.filter(pc.equal(lines["record_type"], record_type))
        columns = {name: rows[name] for name in dataset.column_names if name in rows.column_names}
        columns["batch_id"] = pa.repeat(pa.scalar(batch_id), rows.num_rows)
        columns["batch_at"] = pa.repeat(pa.scalar(batch_at, pa.timestamp("us", tz="UTC")), rows.num_rows)
        schema = arrow_schema(dataset)
        tables[dataset.name] = pa.table([columns[f.name].cast(f.type) for f in schema], schema=schema)
    return tables


def _by_date(files: Iterable[tuple[str, bytes]]) -> dict[date, list[tuple[str, bytes]]]:
    grouped: dict[date, list[tuple[str, bytes]]] = {}
    for name, data in files:
        match = EXPORT_NAME.match(name)
        if match is None:
            raise ExportLoadError(f"{name}: not an export file name")
        grouped.setdefault(date.fromisoformat(match["date"]), []).append((name, data))
    return dict(sorted(grouped.items()))


def _batch_id(day: date, files: list[tuple[str, bytes]]) -> str:
    """A curated file name per date and content: files loaded later for the same date get a
    new name (the engine's load history skips a name it loaded before), the same files the
    same name (loading them again changes nothing)."""
    digest = hashlib.sha256()
    for name, data in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    return f"export-{day.isoformat()}-{digest.hexdigest()[:12]}"


def load_export_files(loader: CuratedLoader, files: Iterable[tuple[str, bytes]],
                      observed_at: datetime = OBSERVED_AT, progress: Progress | None = None) -> int:
    """Load (name, bytes) export files: one curated file per dataset and chart date, a
    MERGE every FILES_PER_MERGE dates and at the end. Returns the entries COPY loaded
    (files it loaded before are skipped); ``progress(dates done, dates, entries)`` is
    called after each date."""
    entries, pending = 0, 0
    by_date = _by_date(files)
    for done, (day, day_files) in enumerate(by_date.items(), start=1):
        records = [record for name, data in day_files for record in export_records(name, data, observed_at)]
        batch_id = _batch_id(day, day_files)
        for dataset, table in curated_tables(records, f"exports/{day.isoformat()}", batch_id, observed_at).items():
            for path in write_table(loader.stage_dir / "bucket" / "curated", curated.DATASETS[dataset], table,
                                    f"{batch_id}.parquet"):
                outcome = loader.copy(path.relative_to(loader.stage_dir).as_posix())
                entries += outcome.rows if outcome.loaded and dataset == curated.CHART_ENTRIES else 0
        pending += 1
        if pending >= FILES_PER_MERGE or done == len(by_date):
            loader.merge()
            pending = 0
        if progress:
            progress(done, len(by_date), entries)
    return entries


def load_exports(conn, paths: Iterable[Path | str], stage_dir: Path | str, progress: Progress | None = None) -> int:
    """Load every export CSV under ``paths`` (files, folders, zips) into the database of
    ``conn``, staging curated files in ``stage_dir``. Returns the entries loaded."""
    return load_export_files(CuratedLoader(conn, stage_dir), export_files(*paths), progress=progress)
