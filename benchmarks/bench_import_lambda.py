"""Benchmark: the import Lambda's own work on chart exports, no AWS: reading each file out of
its zip, parsing and checking it (producer.chart_export), building its contract records and
encoding them as Firehose would carry them. Prints the time for the files given and
extrapolated to a five-year archive (3,600 files), beside a reference measured in the same
run: Python's csv module merely reading the same files.

    .venv/bin/python benchmarks/bench_import_lambda.py [PATH ...] [--rounds 3] [--archive-files 3600]

PATH: folders of CSV files or zips of them (default: the bundled month,
localdev/data/chart-exports-2024-05.zip). What it does not count: S3 and Firehose requests
(three a file: the ledger read, PutRecordBatch, the ledger write), which is where a deployed
import spends most of its time (producer/IMPORTS.md).
"""
from __future__ import annotations

import argparse
import csv
import io
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from firehose import contract  # noqa: E402
from producer.chart_export import ChartFileError, chart_records, parse_chart_file  # noqa: E402
from producer.upload_files import open_upload  # noqa: E402

BUNDLE = Path(__file__).resolve().parent.parent / "localdev" / "data" / "chart-exports-2024-05.zip"


def load(paths: list[Path]) -> list[tuple[str, bytes]]:
    """(name, bytes) of every CSV file under the paths, zips read as the Lambda reads them."""
    files = []
    for path in paths:
        if path.is_dir():
            files += [(p.name, p.read_bytes()) for p in sorted(path.glob("*.csv"))]
        elif path.suffix == ".zip":
            upload = open_upload(path.name, path.read_bytes())
            files += [(entry.name, upload.read(entry)) for entry in upload.entries]
        else:
            files.append((path.name, path.read_bytes()))
    return files


def import_work(files: list[tuple[str, bytes]], imported_at: datetime) -> tuple[float, float, int, int]:
    """Seconds parsing, seconds building and encoding records, rows, records bytes."""
    parse_seconds = build_seconds = 0.0
    rows = encoded = 0
    for name, data in files:
        started = time.perf_counter()
        try:
            chart = parse_chart_file(name, data)
        except ChartFileError as error:
            print(f"  skipped {name}: {error.reason}")
            continue
        parsed = time.perf_counter()
        encoded += sum(len(contract.encode(record)) for record in chart_records(chart, imported_at))
        build_seconds += time.perf_counter() - parsed
        parse_seconds += parsed - started
        rows += len(chart.rows)
    return parse_seconds, build_seconds, rows, encoded


def csv_reference(files: list[tuple[str, bytes]]) -> float:
    """Seconds for the csv module to read every row of every file: the floor of any parser."""
    started = time.perf_counter()
    for _, data in files:
        for _ in csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")):
            pass
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", type=Path, default=[BUNDLE])
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds; the median is printed (default 3)")
    parser.add_argument("--archive-files", type=int, default=3600, help="files to extrapolate to (default 3600)")
    args = parser.parse_args()
    files = load(args.paths)
    if not files:
        print("no CSV files found", file=sys.stderr)
        return 1
    print(f"{len(files)} files, {sum(len(d) for _, d in files) / 1e6:.1f} MB, from "
          + ", ".join(str(p) for p in args.paths))
    imported_at = datetime.now(timezone.utc)
    rounds = []
    for round_ in range(args.rounds):
        reference = csv_reference(files)
        parse_seconds, build_seconds, rows, encoded = import_work(files, imported_at)
        rounds.append((parse_seconds, build_seconds, reference))
        print(f"  round {round_ + 1}: parse {parse_seconds:.2f} s, records {build_seconds:.2f} s, "
              f"csv reference {reference:.2f} s", flush=True)
    parse_seconds, build_seconds, reference = (statistics.median(r[i] for r in rounds) for i in range(3))
    total = parse_seconds + build_seconds
    per_file = total / len(files)
    print(f"rows {rows:,}, records {rows + len(files):,} ({encoded / 1e6:.1f} MB encoded)")
    print(f"parse + check: {parse_seconds:.2f} s ({parse_seconds / len(files) * 1000:.1f} ms a file), "
          f"{parse_seconds / reference:.1f}x the csv module's bare read ({reference:.2f} s)")
    print(f"records + encode: {build_seconds:.2f} s ({build_seconds / len(files) * 1000:.1f} ms a file)")
    print(f"together: {total:.2f} s, {per_file * 1000:.1f} ms a file; "
          f"{args.archive_files:,} files: {per_file * args.archive_files:.0f} s of the Lambda's CPU "
          "(a 15-minute invocation is 900 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
