"""Chart exports from upload to queryable views through the whole local pipeline, with the
time per stage, against DuckDB reading the same CSV files into the same daily-chart answer.

    .venv/bin/python benchmarks/bench_import.py                      # make bench-import: a year of two markets
    .venv/bin/python benchmarks/bench_import.py PATH ...             # any exports (files, folders, zips)
    .venv/bin/python benchmarks/bench_import.py --five-years         # ... then a five-year archive in one upload

What it runs is ``spotify-charts run --import``: the files go (packed into zip archives,
as ``spotify-charts import`` sends them) to the deployed stack's imports bucket on
LocalStack, whose S3 notification invokes the import Lambda, which puts their records on
Firehose; the Glue job curates them on local Spark; the local Snowpipe loads them into
fakesnow; the first query of the views ends the clock. Then every chart is compared with
the truth computed from the CSV files alone (benchmarks/truth/chart_exports.py).

The reference: DuckDB reads the same CSV files and computes, per chart and date, each
entry's status, previous position and streams (the daily_chart answer), in the same run.

``--five-years``: an archive of about 3,650 files in one zip (the year's files, shifted
back by one to four years and renamed: made from real ones, labelled as shifted) goes up
as one object to a stack whose import Lambda has a short timeout, so the import has to
continue over several invocations (producer/IMPORTS.md); it reports how many it took.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
import zipfile
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.truth.chart_exports import FILE_NAME, all_truths, export_files  # noqa: E402
from benchmarks.truth.compare_exports import compare_export  # noqa: E402
from localdev.pipeline import LocalPipeline, PipelineSettings  # noqa: E402
from localdev.pipeline.progress import minutes  # noqa: E402
from localdev.pipeline.settings import LOCAL_DIR  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "data"
YEAR_OF_TWO_MARKETS = [SHARED / "chart-export"]  # 732 files, 146,388 rows
BUNDLED = [REPO / "localdev" / "data" / "chart-exports-2024-05.zip"]
TARGET_MINUTES = 3.0
FIVE_YEAR_TIMEOUT_SECONDS = 60  # the import Lambda's timeout for --five-years: it must continue


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", type=Path,
                        help="chart exports (default: ../shared/data/chart-export, a year of two markets, "
                             "else the bundled month)")
    parser.add_argument("--five-years", action="store_true", help="then a five-year archive in one upload")
    parser.add_argument("--no-truth", action="store_true", help="skip the comparison with the CSV truth")
    parser.add_argument("--work-dir", default=str(LOCAL_DIR / "bench-import"))
    args = parser.parse_args()
    args.paths = args.paths or (YEAR_OF_TWO_MARKETS if YEAR_OF_TWO_MARKETS[0].is_dir() else BUNDLED)
    return args


def timed(action):
    started = time.monotonic()
    result = action()
    return result, time.monotonic() - started


def duckdb_daily_chart(folder: Path) -> tuple[int, float]:
    """The daily_chart answer (status, previous position, streams per chart and date) from the
    CSV files by DuckDB alone; (rows, seconds)."""
    import duckdb

    started = time.monotonic()
    rows = duckdb.sql(f"""
        WITH files AS (
            SELECT regexp_extract(filename, '([a-z]+-[a-z]+-(daily|weekly))-\\d{{4}}-\\d{{2}}-\\d{{2}}\\.csv$', 1) AS chart,
                   CAST(regexp_extract(filename, '(\\d{{4}}-\\d{{2}}-\\d{{2}})\\.csv$', 1) AS DATE) AS chart_date,
                   rank, uri, streams
            FROM read_csv('{folder}/*.csv', filename = true, union_by_name = true, header = true)
        ), editions AS (
            SELECT chart, chart_date, ROW_NUMBER() OVER (PARTITION BY chart ORDER BY chart_date) AS edition
            FROM (SELECT DISTINCT chart, chart_date FROM files)
        ), appearances AS (
            SELECT f.*, e.edition,
                   LAG(e.edition) OVER (PARTITION BY f.chart, f.uri ORDER BY e.edition) AS last_edition,
                   LAG(f.rank) OVER (PARTITION BY f.chart, f.uri ORDER BY e.edition) AS last_rank
            FROM files AS f JOIN editions AS e USING (chart, chart_date)
        )
        SELECT chart, chart_date, rank, uri, streams,
               CASE WHEN last_edition IS NULL THEN 'NEW' WHEN last_edition < edition - 1 THEN 'RE-ENTRY'
                    WHEN last_rank > rank THEN 'UP' WHEN last_rank < rank THEN 'DOWN' ELSE 'SAME' END AS status,
               IF(last_edition = edition - 1, last_rank, NULL) AS previous_position
        FROM appearances""").fetchall()
    return len(rows), time.monotonic() - started


def csv_folder(paths: list[Path], folder: Path) -> int:
    """Every export CSV under ``paths`` written flat into ``folder`` (DuckDB reads folders, not zips)."""
    count = 0
    for name, data in export_files(*paths):
        (folder / name).write_bytes(data)
        count += 1
    return count


def five_year_archive(paths: list[Path], archive: Path) -> int:
    """The year's files and copies shifted back 1 to 4 years (renamed, labelled 'shifted') in one zip."""
    count = 0
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in export_files(*paths):
            match = FILE_NAME.match(name)
            day = date.fromisoformat(match["date"])
            for back in range(5):
                try:
                    shifted = day.replace(year=day.year - back)
                except ValueError:  # 29 February
                    continue
                out.writestr(f"{match['alias']}-{shifted.isoformat()}.csv", data)
                count += 1
    return count


def import_to_views(pipeline: LocalPipeline, paths: list[Path]) -> dict[str, float]:
    """Upload -> import Lambda -> Firehose, Glue, load, first query: seconds per stage."""
    stages = {}
    _, stages["upload + import Lambda + Firehose"] = timed(lambda: pipeline.import_charts(paths))
    _, stages["Glue job (local Spark, S3A)"] = timed(pipeline.run_glue)
    _, stages["load (local Snowpipe: COPY + MERGE)"] = timed(pipeline.load)
    _, stages["first query of the views"] = timed(lambda: pipeline.query(
        "SELECT chart_label, MAX(chart_date) AS last FROM daily_chart GROUP BY chart_label"))
    return stages


def print_truth(pipeline: LocalPipeline, paths: list[Path]) -> bool:
    truths, seconds = timed(lambda: all_truths(*paths))
    ok = True
    print(f"\n== truth: the views against the CSV files ({len(truths)} charts, computed in {seconds:.1f} s) ==")
    for truth in truths.values():
        result = compare_export(pipeline.db, truth)
        ok &= result.ok
        print(result.line())
    print("every chart right" if ok else "SOME CHARTS DIFFER")
    return ok


def five_years(args: argparse.Namespace, work: Path) -> None:
    archive = work / "chart-exports-five-years-shifted.zip"
    files = five_year_archive(args.paths, archive)
    settings = PipelineSettings(markets=("global",), work_dir=work / "five-years",
                                stack_parameters={"ImportTimeoutSeconds": str(FIVE_YEAR_TIMEOUT_SECONDS)})
    print(f"\n== five years in one upload: {files:,} files ({archive.stat().st_size:,} bytes), the import Lambda's "
          f"timeout {FIVE_YEAR_TIMEOUT_SECONDS} s ==", flush=True)
    with LocalPipeline(settings) as pipeline:
        summary, seconds = timed(lambda: pipeline.import_charts([archive]))
        [upload] = summary.uploads
        invocations = upload.results.get("invocations", "?")
        print(f"five-year archive: {sum(summary.counts.values()):,} files in one upload, "
              f"{summary.counts.get('loaded', 0):,} loaded, {summary.counts.get('rejected', 0)} rejected, over "
              f"{invocations} Lambda invocations (continuations), {seconds:.1f} s")


def main() -> int:
    args = parse_args()
    work = Path(args.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-import-") as folder:
        files = csv_folder(args.paths, Path(folder))
        (reference_rows, reference_seconds) = duckdb_daily_chart(Path(folder))
    print(f"import: {files} chart files from {', '.join(map(str, args.paths))}; the machine may be shared", flush=True)
    started = time.monotonic()
    with LocalPipeline(PipelineSettings(markets=("global",), work_dir=work / "year")) as pipeline:
        set_up = time.monotonic() - started
        stages = import_to_views(pipeline, args.paths)
        rows = pipeline.query("SELECT COUNT(*) AS n FROM daily_chart WHERE chart_label LIKE 'regional-%%' "
                              "OR chart_label LIKE 'viral-%%'")[0]["n"]
        ok = True if args.no_truth else print_truth(pipeline, args.paths)
    total = sum(stages.values())
    print("\n== figures ==")
    print(f"set-up (LocalStack, stack deploy, engine): {minutes(set_up)}")
    for name, seconds in stages.items():
        print(f"  {seconds / total:6.1%}  {minutes(seconds):>7}  {name}")
    print(f"duckdb: the same daily-chart answer from the same CSV files: {reference_rows:,} rows in "
          f"{reference_seconds:.2f} s; the pipeline {rows:,} rows in {total:.1f} s "
          f"(ratio {total / reference_seconds:,.0f}x: upload, Lambda, Firehose, Glue, Snowpipe and MERGE against "
          "one in-process query)")
    if args.five_years:
        five_years(args, work)
    within = total / 60 <= TARGET_MINUTES
    print(f"import: {files} files, {rows:,} chart rows from upload to queryable views in {total / 60:.1f} min "
          f"(target {TARGET_MINUTES:.0f}: {'within' if within else 'OVER'})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
