"""The JVM class archive's name: one per Java build, Spark jars and JVM options."""
import os

from localdev.local_spark import class_archive


def test_the_archive_name_changes_with_the_options_and_the_jars(tmp_path, monkeypatch):
    jars = tmp_path / "jars"
    jars.mkdir()
    (jars / "spark-core.jar").write_bytes(b"one")
    monkeypatch.setattr(class_archive, "_spark_jars", lambda: jars)
    monkeypatch.setenv(class_archive.CACHE_DIR_ENV, str(tmp_path / "cache"))

    first = class_archive.archive_path("-XX:TieredStopAtLevel=1")
    assert first is not None and first.parent == tmp_path / "cache" and first.suffix == ".jsa"
    assert class_archive.archive_path("-XX:TieredStopAtLevel=1") == first  # stable
    assert class_archive.archive_path("-XX:+UseParallelGC") != first  # other options, other archive

    (jars / "spark-core.jar").write_bytes(b"changed")  # a new Spark: its archive would not fit
    os.utime(jars / "spark-core.jar", ns=(1, 1))
    assert class_archive.archive_path("-XX:TieredStopAtLevel=1") != first


def test_an_archive_is_used_only_once_it_exists(tmp_path, monkeypatch):
    monkeypatch.setenv(class_archive.CACHE_DIR_ENV, str(tmp_path))
    path = class_archive.archive_path("-Xshare:auto")
    assert class_archive.existing_archive("-Xshare:auto") is None
    path.write_bytes(b"")  # (its content is the JVM's business)
    assert class_archive.existing_archive("-Xshare:auto") == path


def test_a_failed_training_run_leaves_neither_archive_nor_partial_file(tmp_path, monkeypatch):
    """A half-written archive can crash the JVM at start: it must never get the final name."""
    import subprocess

    import pytest

    monkeypatch.setenv(class_archive.CACHE_DIR_ENV, str(tmp_path))

    def training_that_dies(argv, **kwargs):  # writes part of an archive, then fails
        partial = argv[argv.index("--train") + 1]
        with open(partial, "wb") as out:
            out.write(b"half an archive")
        return subprocess.CompletedProcess(argv, 134, "", "JVM crashed")

    monkeypatch.setattr(class_archive.subprocess, "run", training_that_dies)
    with pytest.raises(class_archive.ClassArchiveError, match="JVM crashed"):
        class_archive.build("-Xshare:auto")
    assert list(tmp_path.iterdir()) == []


def test_the_test_session_runs_with_the_archive_when_one_was_built(spark):
    from localdev.local_spark.session import LOCAL_JAVA_OPTIONS

    options = spark.sparkContext.getConf().get("spark.driver.extraJavaOptions")
    archive = class_archive.existing_archive(LOCAL_JAVA_OPTIONS)
    expected = LOCAL_JAVA_OPTIONS + ("" if archive is None else f" -XX:SharedArchiveFile={archive}")
    assert options.endswith(expected)  # (Spark puts its own options first)
    flags = spark.sparkContext._jvm.java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()
    assert set(expected.split()) <= set(flags)  # the driver JVM really started with them
