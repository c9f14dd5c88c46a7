"""Local-only Spark tuning for the Glue job, kept out of the job itself.

Glue runs its own JVMs with its own settings; these apply to local runs only, which
start one JVM per run on local files. The job's local fallback builds a plain session;
the tuning reaches it from outside:

* in this process: :func:`local_session`;
* in a child ``python -m glue_streaming.job``: :func:`submit_environ`, which PySpark's
  launcher reads (``PYSPARK_SUBMIT_ARGS``) before it starts the JVM.

With the S3 connector's jars in their cache (``localdev.local_spark.s3a``, fetched by
``make venv``), local runs read and write ``s3://`` too, on the endpoint the AWS
environment names, as the job does on Glue.
"""
from __future__ import annotations

import logging
import os
import shlex
import sys
from typing import Mapping

from localdev.local_spark import s3a

log = logging.getLogger("localdev.local_spark")

# A run lasts seconds: the quick C1 JIT compiler pays off, C2's slower compiles never do.
# The JVM shares the cores with the Python workers: one compiler thread and the
# single-threaded collector leave them the CPU.
LOCAL_JAVA_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:CICompilerCount=1 -XX:+UseSerialGC"
LOCAL_SPARK_SETTINGS: dict[str, str] = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    # List the raw folders in the driver: a distributed listing job only costs time
    # when the "cluster" is this one process.
    "spark.sql.sources.parallelPartitionDiscovery.threshold": "100000",
    # Opening a local file costs next to nothing (Spark assumes 4 MB of reading, right for
    # S3): one task per core instead of many small ones, each paying a Python round trip.
    "spark.sql.files.openCostInBytes": str(64 * 1024),
    # Without Hadoop's native library (not in PySpark's wheel) the local file system sets
    # each new file's mode with a `chmod` process and resolves each checkpoint file with a
    # `readlink` one. Local files without .crc twins, no _SUCCESS markers (publish takes
    # the files it lists) and a checkpoint written through FileSystem (rename is atomic
    # on a local disk) avoid most of them.
    "spark.hadoop.fs.file.impl": "org.apache.hadoop.fs.RawLocalFileSystem",
    "spark.hadoop.mapreduce.fileoutputcommitter.marksuccessfuljobs": "false",
    "spark.sql.streaming.checkpointFileManagerClass":
        "org.apache.spark.sql.execution.streaming.FileSystemBasedCheckpointFileManager",
}


def s3_settings(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The S3 connector's settings, or none when its jars are not in the cache."""
    if s3a.missing_jars():
        log.info("no S3 connector jars: local runs cannot reach s3:// (`python -m localdev.local_spark.s3a fetch`)")
        return {}
    return s3a.spark_settings(environ)


def spark_settings(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The local tuning, the S3 connector for the AWS endpoint of ``environ`` (default:
    this process's environment) and the JVM's options."""
    return {**LOCAL_SPARK_SETTINGS, **s3_settings(environ), "spark.driver.extraJavaOptions": LOCAL_JAVA_OPTIONS}


def submit_environ(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for a child ``python -m glue_streaming.job`` that applies the tuning;
    ``environ``: the child's environment (its AWS endpoint is the one S3 paths reach)."""
    conf = " ".join(f"--conf {shlex.quote(f'{k}={v}')}" for k, v in spark_settings(environ=environ).items())
    return {"PYSPARK_SUBMIT_ARGS": f"{conf} pyspark-shell", "PYSPARK_PYTHON": sys.executable}


def local_session(master: str = "local[2]", driver_memory: str = "2g", app_name: str = "glue_streaming"):
    """A tuned local SparkSession in this process (tests, benchmarks)."""
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.master(master).appName(app_name).config("spark.driver.memory", driver_memory)
    for key, value in spark_settings().items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark
