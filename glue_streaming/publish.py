"""Write a dataset's rows of one micro-batch as Parquet files with names of our choosing.

Spark names its output files with a random id, so a retried batch would add new
files next to the ones its failed attempt left: duplicates downstream. Instead each
batch writes to a staging folder, one file per partition date, rows in key order,
and the file is then copied to ``<folder>/<partition>=<date>/<dataset>-<batch id>.parquet``.
A retry of the batch produces the same rows under the same names; a file its failed
attempt already published is left as it is (Parquet writers do not promise the
same bytes twice, and a loader may have taken the file already), the missing ones
are added; nothing else in the target changes. Each published file is complete
when it appears, so a loader never sees a partial file.

Nothing here needs an atomic rename, which S3 does not have: Spark's writer renames
only inside the batch's own staging folder (deleted and written again by a retry), and
publication copies each file to its final name (an S3 object appears whole when its
upload ends). The batch counts as done only once Spark writes its commit log entry,
after this returns.

Spark's ``partitionBy`` drops the partition column from the files; Snowflake's COPY
reads only columns inside a file, so the partition value is duplicated into a
hidden ``_partition`` column for the split and the real column stays in the file.
"""
from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import DataFrame, Observation
from pyspark.sql import functions as F

from glue_streaming import curated
from glue_streaming.storage import HadoopFiles

_SPLIT_COLUMN = "_partition"


@dataclass(frozen=True)
class Published:
    """What one publication wrote."""

    rows: int
    paths: list[str]  # the published files (those a failed attempt published included)
    partitions: list[str]  # their partition values, e.g. '2026-11-20'


class PublishError(RuntimeError):
    """Staged output does not have the expected shape."""


def published_name(dataset: curated.Dataset, batch_id: str) -> str:
    return f"{dataset.name}-{batch_id}.parquet"


def publish(
    files: HadoopFiles, rows: DataFrame, dataset: curated.Dataset, folder: str, staging: str, batch_id: str
) -> Published:
    """Write ``rows`` (already conformed to ``dataset``) under the dataset's ``folder``
    (``<target>/<dataset>`` or the quarantine path)."""
    staged = f"{staging}/{dataset.name}"
    files.delete(staged)  # what a failed attempt may have left
    written = Observation(f"{dataset.name}_rows")  # counted by the write itself: no extra pass
    (
        rows.observe(written, F.count(F.lit(1)).alias("rows"))
        .withColumn(_SPLIT_COLUMN, F.col(dataset.partition_column).cast("string"))
        # One task writes every date, one file each (rows sorted by date): a batch's
        # curated rows are few (a day of charts is about 2,500 entries) and a shuffle
        # to spread them would cost more than it saves.
        .coalesce(1)
        .sortWithinPartitions(_SPLIT_COLUMN, *dataset.key)  # a total order: same bytes on retry
        .write.mode("overwrite")
        .partitionBy(_SPLIT_COLUMN)
        .parquet(staged)
    )
    published, partitions = [], []
    for split in files.list(staged):
        if not (split.is_dir and split.name.startswith(f"{_SPLIT_COLUMN}=")):
            continue  # _SUCCESS and friends
        value = split.name.split("=", 1)[1]
        parts = [e for e in files.list(split.path) if e.name.endswith(".parquet")]
        if len(parts) != 1:
            raise PublishError(f"expected one staged file in {split.path}, found {len(parts)}")
        destination = f"{folder}/{dataset.partition_column}={value}/{published_name(dataset, batch_id)}"
        # A file a failed attempt already published holds these same rows: keep it, so its
        # bytes (and S3 ETag) never change once a loader may have seen it.
        files.publish_copy(parts[0].path, destination)
        published.append(destination)
        partitions.append(value)
    files.delete(staged)
    return Published(written.get["rows"], published, partitions)
