"""A batch's Parquet files, published by copy under names derived from the batch id
(glue_streaming/README.md, "Exactly once"), through the Spark session's Hadoop FileSystem."""
from __future__ import annotations

import threading

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from firehose.s3_json import bucket_and_key, put_if_absent
from glue_streaming import curated

# Spark's partitionBy drops the partition column from the files, and Snowflake's COPY reads
# only columns inside a file: the split is on a copy of the column, the real one stays.
_SPLIT_COLUMN = "_partition"


class PublishError(RuntimeError):
    """Staged output does not have the expected shape."""


class HadoopFiles:
    """File operations on any path Spark can reach: ``file://`` locally, ``s3://`` on Glue."""

    def __init__(self, spark: SparkSession):
        jvm = spark.sparkContext._jvm
        self._conf = spark.sparkContext._jsc.hadoopConfiguration()
        # Looked up once: py4j asks the JVM about every package level of a class name,
        # and a batch publishing a file per date (a backfill: hundreds) would ask per file.
        self._path_class = jvm.org.apache.hadoop.fs.Path
        self._file_util = jvm.org.apache.hadoop.fs.FileUtil
        self._io_utils = jvm.org.apache.hadoop.io.IOUtils
        self._s3_client = None  # made at the first S3 publish (a run on local files needs none)
        self._lock = threading.Lock()

    def _resolve(self, path: str):
        jpath = self._path_class(path)
        return jpath.getFileSystem(self._conf), jpath

    def exists(self, path: str) -> bool:
        fs, jpath = self._resolve(path)
        return fs.exists(jpath)

    def glob(self, pattern: str) -> list[str]:
        fs, jpath = self._resolve(pattern)
        return sorted(status.getPath().toString() for status in (fs.globStatus(jpath) or []))

    def delete(self, path: str) -> None:
        fs, jpath = self._resolve(path)
        if fs.exists(jpath):
            fs.delete(jpath, True)

    def copy_if_absent(self, source: str, destination: str) -> None:
        """Copy one file to ``destination`` unless it exists. A file there is always complete:
        on S3 an object appears whole when its PUT ends; elsewhere the copy goes to a hidden
        name in the same folder first and is renamed (atomic there)."""
        src_fs, src = self._resolve(source)
        dst_fs, dst = self._resolve(destination)
        if dst.toUri().getScheme() in ("s3", "s3a", "s3n"):
            # One PUT that S3 refuses if the object exists (If-None-Match: *). S3A's
            # create(overwrite=False) probed first, a HEAD and LISTs per file: 15 ms a file on
            # LocalStack where the PUT alone takes 3, and LIST is S3's dearest request.
            stream = src_fs.open(src)
            try:
                body = bytes(self._io_utils.readFullyToByteArray(stream))
            finally:
                stream.close()
            put_if_absent(self._s3(), *bucket_and_key(destination), body)
            return
        if dst_fs.exists(dst):
            return
        partial = self._path_class(dst.getParent(), f".{dst.getName()}.partial")
        self._file_util.copy(src_fs, src, dst_fs, partial, False, True, self._conf)
        if not dst_fs.rename(partial, dst):
            raise OSError(f"could not rename {partial.toString()} to {destination}")

    def _s3(self):
        with self._lock:  # publish() runs in a thread per dataset
            if self._s3_client is None:
                import boto3  # Glue provides it; AWS_ENDPOINT_URL points it at a local endpoint

                self._s3_client = boto3.client("s3")
            return self._s3_client

    def write_text(self, path: str, text: str) -> None:
        fs, jpath = self._resolve(path)
        stream = fs.create(jpath, True)
        try:
            stream.write(bytearray(text.encode("utf-8")))
        finally:
            stream.close()


def publish(files: HadoopFiles, rows: DataFrame, dataset: curated.Dataset, folder: str, staging: str,
            batch_id: str) -> dict[str, str]:
    """Write ``rows`` (conformed to ``dataset``) as ``<folder>/<partition>=<value>/<dataset>-<batch
    id>.parquet``, one file per partition value; returns {partition value: published file}.
    A file a failed attempt of the batch already published is kept as it is: it holds these
    same rows, and its bytes (and S3 ETag) never change once a loader may have seen it."""
    staged = f"{staging}/{dataset.name}"
    files.delete(staged)  # what a failed attempt may have left
    (
        rows.withColumn(_SPLIT_COLUMN, F.col(dataset.partition_column).cast("string"))
        # One task writes every date, one file each: a batch's rows are few (a day of charts
        # is about 2,500 entries) and a shuffle to spread them would cost more than it saves.
        .coalesce(1)
        .sortWithinPartitions(_SPLIT_COLUMN, *dataset.key)
        .write.mode("overwrite")
        .partitionBy(_SPLIT_COLUMN)
        .parquet(staged)
    )
    by_value: dict[str, list[str]] = {}
    for path in files.glob(f"{staged}/{_SPLIT_COLUMN}=*/*.parquet"):
        by_value.setdefault(path.rsplit("/", 2)[-2].split("=", 1)[1], []).append(path)
    published = {}
    for value, parts in sorted(by_value.items()):
        if len(parts) != 1:
            raise PublishError(f"expected one staged file for {dataset.name} {value}, found {len(parts)}")
        published[value] = f"{folder}/{dataset.partition_column}={value}/{dataset.name}-{batch_id}.parquet"
        files.copy_if_absent(parts[0], published[value])
    files.delete(staged)
    return published
