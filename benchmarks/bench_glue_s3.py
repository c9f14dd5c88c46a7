"""The Glue job on s3:// against the same job on local folders, in one run.

Both runs go through the local runner (``localdev.local_spark.glue_runner``: same
Spark settings, same JVM options); the only difference is where the files are. s3://
is a moto server on this machine, reached through Spark's S3A connector, so the
figure is what the S3 code path costs here (connector, HTTP, copy-based publication
and checkpoint), not AWS's latency. Runs alternate (local, S3, local, ...) so that the
machine's other tenants weigh on both alike; medians are printed, and their ratio.

    .venv/bin/python benchmarks/bench_glue_s3.py [--days 1] [--repeats 3]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a script: make the project importable

import boto3  # noqa: E402

from benchmarks import raw_generator  # noqa: E402
from localdev.aws import local_aws_environ, moto_server  # noqa: E402
from localdev.local_spark.glue_runner import GluePaths, run_glue_job  # noqa: E402


def upload(folder: Path, s3, bucket: str) -> int:
    files = [p for p in folder.rglob("*") if p.is_file()]
    for path in files:
        s3.upload_file(str(path), bucket, "raw/" + path.relative_to(folder).as_posix())
    return len(files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench_glue_s3_"))
    try:
        bench(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def bench(args: argparse.Namespace, work: Path) -> None:
    print(f"Glue job on s3:// (moto, S3A) vs local folders: {os.cpu_count()} CPUs (shared), Spark local[2]")
    records = raw_generator.write_days(work / "days", raw_generator.DEFAULT_START, args.days)
    last = raw_generator.DEFAULT_START + timedelta(days=args.days - 1)
    print(f"raw: {records:,} records, {args.days} day(s) {raw_generator.DEFAULT_START}..{last}, gzip")
    with moto_server(log_path=str(work / "moto.log")) as endpoint:
        env = local_aws_environ(endpoint)
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name=env["AWS_REGION"],
                          aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])
        s3.create_bucket(Bucket="bench-raw")
        s3.create_bucket(Bucket="bench-out")
        started = time.monotonic()
        objects = upload(work / "days", s3, "bench-raw")
        print(f"uploaded {objects} raw objects to moto in {time.monotonic() - started:.1f} s")
        seconds: dict[str, list[float]] = {"local": [], "s3": []}
        for n in range(args.repeats):
            for where in ("local", "s3"):
                if where == "local":
                    out = work / f"local-{n}"
                    paths = GluePaths(work / "days", out / "curated", out / "quarantine", out / "checkpoint")
                else:
                    out = f"s3://bench-out/run-{n}"
                    paths = GluePaths("s3://bench-raw/raw/", f"{out}/curated", f"{out}/quarantine", f"{out}/checkpoint")
                run = run_glue_job(paths, work / f"{where}-{n}.log", env=env)
                assert run.count("records_read") == records, run.metrics  # the same work both ways
                seconds[where].append(run.seconds)
                print(f"  run {n + 1} {where:<5} {run.seconds:6.1f} s  {run.count('curated'):,} curated")
    local, on_s3 = (statistics.median(seconds[w]) for w in ("local", "s3"))
    print(f"median: local folders {local:.1f} s ({records / local:,.0f} rows/s), "
          f"s3:// {on_s3:.1f} s ({records / on_s3:,.0f} rows/s); s3:// / local = {on_s3 / local:.2f}")


if __name__ == "__main__":
    main()
