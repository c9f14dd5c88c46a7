"""A class-data archive for the local Spark JVM: Spark's classes parsed and verified once,
then mapped into every local run at start.

A local run starts a fresh JVM that loads some thousands of classes from Spark's jars as
it goes (streaming, Arrow, Parquet, code generation): about 2 s of a 10 s run on this
machine. Java's class-data sharing (a dynamic AppCDS archive, Java 13 and newer) keeps
those classes ready in one file. The archive is built once per machine by a training run
of the job on a small sample::

    python -m localdev.local_spark.class_archive        # `make venv` does it

and ``localdev.local_spark.session`` uses it when it is there. Glue runs its own JVMs: only local
mode uses an archive.

An archive belongs to one JVM build, one set of Spark jars and one set of JVM options;
its file name carries a digest of them, so a new Java or PySpark gets a new archive,
never a wrong one. A damaged archive can crash the JVM at start, so the training JVM
writes it under a temporary name and it is renamed only after that JVM exited cleanly.
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

from firehose import contract
from localdev.local_spark import user_cache_dir


CACHE_DIR_ENV = "GLUE_STREAMING_CACHE_DIR"
_TRAINING_DAYS = ("2026-01-01", "2026-01-02")  # two runs: the second reads the first one's output


class ClassArchiveError(RuntimeError):
    """The training run did not produce an archive."""


def cache_dir() -> Path:
    return user_cache_dir("jvm", CACHE_DIR_ENV)


def archive_path(java_options: str, class_path: Sequence[str] = ()) -> Path | None:
    """Where the archive for this Java, these Spark jars, ``java_options`` and the jars
    added to the class path (``class_path``) lives (None: no Java found)."""
    java = _java_binary()
    if java is None:
        return None
    digest = hashlib.sha256()
    for part in (java_options, *_file_stamps([java, *java.parent.parent.glob("lib/server/libjvm.so")]),
                 *_file_stamps(sorted(_spark_jars().glob("*.jar"))), *_file_stamps([Path(p) for p in class_path])):
        digest.update(part.encode("utf-8") + b"\0")
    return cache_dir() / f"spark-classes-{digest.hexdigest()[:16]}.jsa"


def existing_archive(java_options: str, class_path: Sequence[str] = ()) -> Path | None:
    """The archive for these options, if one was built."""
    path = archive_path(java_options, class_path)
    return path if path is not None and path.is_file() else None


def build(java_options: str, class_path: Sequence[str] = (), force: bool = False) -> Path:
    """Build the archive for ``java_options`` and ``class_path`` (unless it exists) and
    return its path. The training run's session adds the same class path."""
    target = archive_path(java_options, class_path)
    if target is None:
        raise ClassArchiveError("no Java found (JAVA_HOME or java on PATH)")
    if target.is_file() and not force:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    try:
        completed = subprocess.run([sys.executable, "-m", "localdev.local_spark.class_archive", "--train", str(partial)],
                                   capture_output=True, text=True)
        if completed.returncode != 0 or not partial.is_file():
            raise ClassArchiveError(f"training run failed ({completed.returncode}):\n{completed.stderr[-3000:]}")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def _train(partial: Path) -> int:
    """The training run (in its own process): the job on a small sample, twice, in a JVM
    that writes the classes it loaded to ``partial`` when it exits."""
    from pyspark import SparkContext

    from glue_streaming import job
    from localdev.local_spark.session import LOCAL_JAVA_OPTIONS, local_session

    spark = local_session("local[2]", java_options=f"{LOCAL_JAVA_OPTIONS} -XX:ArchiveClassesAtExit={partial}",
                          app_name="glue_streaming_class_archive")
    with tempfile.TemporaryDirectory(prefix="class_archive_") as work:
        arguments = {"source_path": f"{work}/raw", "target_path": f"{work}/curated",
                     "quarantine_path": f"{work}/quarantine", "checkpoint_path": f"{work}/checkpoint"}
        for day in _TRAINING_DAYS:
            _write_sample_object(Path(work) / "raw" / day, day)
            job.run(spark, job.JobSettings.from_arguments(arguments))
    jvm = SparkContext._gateway.proc  # the JVM PySpark started; it exits when its stdin closes
    spark.stop()
    jvm.stdin.close()
    return jvm.wait(timeout=600)  # the archive is complete once the JVM has exited


def _write_sample_object(folder: Path, day: str) -> None:
    """A gzip raw object of two polls of one small chart, plus a line that is not JSON."""
    lines = [
        contract.encode(contract.make_record(
            poll_id=f"poll-{hour}", observed_at=f"{day}T{hour:02d}:00:00.000Z", playlist_id="PL1",
            chart_label="global", playlist_name="Top 50 - Global", snapshot_id=f"snap-{day}", position=n,
            entry_type=contract.ENTRY_TRACK, track_id=f"T{n}", track_name=f"Song {n}", artist_ids=["A1"],
            artist_names=["Artist 1"], album_id=None, album_name=None, album_release_date=None,
            album_release_date_precision=None, duration_ms=180000, explicit=False, isrc=None, popularity=None,
            added_at=None))
        for hour in (0, 1) for n in range(1, 6)
    ]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "object-1").write_bytes(gzip.compress(b"".join(lines) + b"not json\n"))


def _java_binary() -> Path | None:
    home = os.environ.get("JAVA_HOME")
    found = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    return Path(found).resolve() if found and Path(found).is_file() else None


def _spark_jars() -> Path:
    from pyspark.find_spark_home import _find_spark_home

    return Path(_find_spark_home()).resolve() / "jars"


def _file_stamps(paths: list[Path]) -> list[str]:
    stamps = []
    for path in paths:
        status = path.stat()
        stamps.append(f"{path}:{status.st_size}:{status.st_mtime_ns}")
    return stamps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localdev.local_spark.class_archive",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--force", action="store_true", help="build again even if the archive exists")
    parser.add_argument("--train", type=Path, help=argparse.SUPPRESS)  # internal: the training process
    args = parser.parse_args(argv)
    if args.train:
        logging.basicConfig(level=logging.WARNING)
        return _train(args.train)
    from localdev.local_spark.session import LOCAL_JAVA_OPTIONS, extra_class_path

    class_path = extra_class_path()
    present = existing_archive(LOCAL_JAVA_OPTIONS, class_path)
    if present and not args.force:
        print(f"JVM class archive: {present} (already built)")
        return 0
    print("JVM class archive: training run of the job on a small sample...", flush=True)
    started = time.monotonic()
    path = build(LOCAL_JAVA_OPTIONS, class_path, force=args.force)
    print(f"JVM class archive: {path} ({path.stat().st_size / 2**20:.0f} MiB) in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
