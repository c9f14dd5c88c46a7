"""What the local-only Spark settings buy (localdev/local_spark/session.py), measured in one run.

    .venv/bin/python benchmarks/bench_local_spark.py [--repeats 3]

Each trial is the local pipeline's Glue stage as `make run` runs it: the job
(``localdev.local_spark.glue_runner``, ``local[2]``) over 2 new raw objects, then over 1
more (100 records each: 2 charts x 50 positions), in a fresh folder. Two variants, in
alternating order so a busy machine weighs on each alike:

* ``tuned``: the local settings and JVM options (``session.submit_environ()``);
* ``plain``: the job's own plain session, no local tuning at all.

Figures: medians, and the ratio against ``tuned`` from the same run.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a script: make the project importable

from firehose import contract  # noqa: E402
from localdev.local_spark import glue_runner  # noqa: E402

VARIANTS = {  # environment of each variant's job runs
    "tuned": {},
    "plain": {"PYSPARK_SUBMIT_ARGS": "pyspark-shell"},  # no --conf: Spark's defaults
}


def write_poll(folder: Path, day: int) -> None:
    """One raw object as the local Firehose writes a poll: 2 charts x 50 positions."""
    lines = [contract.encode(contract.make_record(
        poll_id=f"poll-{day}", observed_at=f"2024-03-{day}T10:00:00.000Z", playlist_id=playlist, chart_label=label,
        playlist_name=f"Top 50 - {label}", snapshot_id=f"{playlist}-{day}", position=n,
        entry_type=contract.ENTRY_TRACK, track_id=f"{playlist}-T{(n + day) % 60}", track_name=f"Song {n}",
        artist_ids=["A1"], artist_names=["Artist 1"], album_id=None, album_name=None, album_release_date=None,
        album_release_date_precision=None, duration_ms=180000, explicit=False, isrc=None, popularity=None,
        added_at=None))
        for playlist, label in (("PL-global", "global"), ("PL-us", "us")) for n in range(1, 51)]
    path = folder / f"2024/03/{day}/object-{day}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(lines))


def glue_stage(environ: dict[str, str]) -> float:
    """Seconds of two job runs (2 new objects, then 1), as the pipeline's Glue stage."""
    with tempfile.TemporaryDirectory(prefix="bench_local_spark_") as work:
        work = Path(work)
        paths = glue_runner.GluePaths(work / "raw", work / "curated", work / "quarantine", work / "checkpoint")
        write_poll(paths.source, 12)
        write_poll(paths.source, 13)
        started = time.monotonic()
        first = glue_runner.run_glue_job(paths, work / "glue.log", env=environ)  # env wins over the tuning
        write_poll(paths.source, 15)
        second = glue_runner.run_glue_job(paths, work / "glue.log", env=environ)
        seconds = time.monotonic() - started
    if (first.count("curated"), second.count("curated")) != (200, 100):
        raise RuntimeError(f"unexpected runs: {first.metrics} {second.metrics}")
    return seconds


def compare(name: str, measure, variants: dict[str, dict[str, str]], repeats: int) -> None:
    seconds: dict[str, list[float]] = {variant: [] for variant in variants}
    for repeat in range(repeats):
        order = list(variants) if repeat % 2 == 0 else list(reversed(variants))
        for variant in order:
            seconds[variant].append(measure(variants[variant]))
            print(f"  {name}, {variant}: {seconds[variant][-1]:.1f} s", flush=True)
    reference = statistics.median(seconds["tuned"])
    print(f"[{name}] median of {repeats}, and its ratio to 'tuned':")
    for variant, values in seconds.items():
        median = statistics.median(values)
        print(f"  {variant:<11} {median:6.1f} s  x{median / reference:.2f}  ({', '.join(f'{v:.1f}' for v in values)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    compare("pipeline Glue stage (2 job runs)", glue_stage, VARIANTS, args.repeats)
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
