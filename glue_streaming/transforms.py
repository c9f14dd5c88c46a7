"""The job's transforms: pure ``DataFrame -> DataFrame`` functions, no I/O.

Flow of one micro-batch::

    raw files ──read_records──> records (one per line: a problem, or the typed fields)
    records ──collapse_duplicates──> collapsed (one per natural key of its record type; problem lines kept)
    collapsed ──quarantine_rows──> quarantine
    collapsed ──new_observations(keys curated earlier)──> chart_observations
    collapsed ──new_entries(keys curated earlier)──> new chart entries
    new chart entries ──tracks_from_entries──> tracks
    new + already curated entries ──entries_of_days(the new entries' dates)──> those days' entries
    those days' entries ──chart_daily_from_entries──> chart_daily

Every ordering used to pick a row is total, so a retried batch produces the same
rows (and the writer the same files) as the attempt it replaces.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from firehose import contract
from glue_streaming import curated, lines
from glue_streaming.schema import LINE_SCHEMA, dataset_schema

# Columns chart_daily needs from chart entries.
_DAILY_INPUT = ("chart_date", "playlist_id", "chart_label", "snapshot_id", "observed_at", "position", "track_id")


@dataclass(frozen=True)
class Batch:
    """Identity of one micro-batch, stamped on every row it writes."""

    batch_id: str  # '<batch number>-<query id prefix>'
    batch_at_micros: int  # the batch's planned time (from Spark's offset log: same on retry)

    @property
    def batch_at(self) -> Column:
        return F.timestamp_micros(F.lit(self.batch_at_micros))


def batch_id_for(batch_number: int, query_id: str) -> str:
    """Batch numbers restart with a new checkpoint; the query id (kept in the checkpoint)
    keeps ids, and so file names, unique across checkpoints."""
    return f"{batch_number:06d}-{query_id.replace('-', '')[:8]}"


def read_records(files: DataFrame) -> DataFrame:
    """Raw objects (binaryFile rows: path, content) -> one row per non-blank line:
    source_file, line_number, problem (null for a valid record), raw_line (kept for
    problems only), the fields of every record type typed (``record_type`` says which
    apply), and chart_date: the record's own, else the UTC date of observed_at.

    A file that cannot be read at all yields one row: line_number 0, raw_line null.
    Decompressing, parsing and checking run in Python with Arrow (``lines``): Arrow's
    JSON reader parses a whole object at once, and only lines it cannot certify are
    decided one by one by the contract."""
    return (
        files.select("path", "content").mapInArrow(lines.read_objects, LINE_SCHEMA)
        .withColumn("chart_date", F.coalesce("chart_date", F.to_date("observed_at")))
    )


def collapse_duplicates(records: DataFrame) -> DataFrame:
    """Valid records -> one row per natural key of their record type (a chart entry's
    playlist, snapshot and position; an observation's playlist and poll), the key's first
    observation, with ``copies``: how many lines carried the key (the sum of the rows'
    ``copies``: each Python task has collapsed its own entries already). Lines with a
    problem stay one row each.

    One aggregate over all lines (a single pass over the raw data): Spark combines
    duplicates before the shuffle, and most lines are duplicates (every poll repeats
    an unchanged snapshot). The ordering that picks the first observation is total,
    so a retried batch picks the same row."""
    problem = F.col("problem").isNotNull()
    observation = F.col("record_type") == contract.CHART_OBSERVATION
    group = [
        F.when(problem, F.col("source_file")).otherwise(F.col("playlist_id")).alias("_group_1"),
        F.when(problem, None).when(observation, F.col("poll_id")).otherwise(F.col("snapshot_id")).alias("_group_2"),
        F.when(problem, F.col("line_number")).otherwise(F.col("position")).alias("_group_3"),  # null: observation
        F.when(~problem, F.col("record_type")).alias("_record_type"),
        problem.alias("_is_problem"),
    ]
    # Spark aggregates these rows by sorting; a hash first lets its prefix sort decide
    # most comparisons (playlist ids all start alike).
    group.insert(0, F.xxhash64(*group).alias("_group_hash"))
    first = lines.FIRST_OBSERVATION  # unique per line
    rest = [c for c in records.columns if c not in first and c != "copies"]
    return (
        records.groupBy(*group)
        .agg(F.min(F.struct(*first, *rest)).alias("first"), F.sum("copies").alias("copies"))
        .select("first.*", "copies")
    )


def quarantine_rows(records: DataFrame, batch: Batch) -> DataFrame:
    """The rejected lines, with their reason, in the quarantine dataset's columns."""
    return conform(
        records.where(F.col("problem").isNotNull()).select(
            "raw_line",
            F.col("problem").alias("reason"),
            "source_file",
            "line_number",
            F.lit(batch.batch_id).alias("batch_id"),
            batch.batch_at.alias("quarantined_at"),
            F.to_date(batch.batch_at).alias("run_date"),
        ),
        curated.QUARANTINE_DATASET,
    )


def _new_of_type(collapsed: DataFrame, record_type: str, previous: DataFrame | None) -> DataFrame:
    """The valid records of ``record_type`` whose natural key is not among ``previous``
    (curated by earlier batches; None: there are none)."""
    key = list(contract.RECORD_TYPES[record_type].key)
    rows = (collapsed.where(F.col("problem").isNull() & (F.col("record_type") == record_type))
            .drop("problem", "raw_line", "schema_version", "copies"))
    if previous is None:
        return rows
    return rows.join(previous.select(*key), on=key, how="left_anti")


def new_entries(collapsed: DataFrame, previous: DataFrame | None) -> DataFrame:
    """The valid chart entries whose natural key is not among the ``previous`` entries."""
    return _new_of_type(collapsed, contract.CHART_ENTRY, previous)


def new_observations(collapsed: DataFrame, previous: DataFrame | None) -> DataFrame:
    """The valid observations whose key (playlist, poll) is not among the ``previous`` ones."""
    return _new_of_type(collapsed, contract.CHART_OBSERVATION, previous)


def entries_of_days(new: DataFrame, earlier: DataFrame | None, dates: list[date]) -> DataFrame:
    """The entries of ``dates`` (those the new entries fall on): the new ones and the
    ``earlier`` ones (curated by earlier batches; None: there are none), in the columns
    ``chart_daily_from_entries`` needs. The complete days, as known at this batch."""
    new_rows = new.select(*_DAILY_INPUT)
    if earlier is None:
        return new_rows
    return earlier.where(F.col("chart_date").isin(dates)).select(*_DAILY_INPUT).unionByName(new_rows)


def chart_entries_rows(entries: DataFrame, batch: Batch) -> DataFrame:
    return conform(with_batch(entries, batch), curated.CHART_ENTRIES_DATASET)


def chart_observations_rows(observations: DataFrame, batch: Batch) -> DataFrame:
    return conform(with_batch(observations, batch), curated.CHART_OBSERVATIONS_DATASET)


def tracks_from_entries(entries: DataFrame, batch: Batch) -> DataFrame:
    """One row per track in ``entries``: attributes of its latest entry, first/last seen."""
    latest = F.struct("observed_at", "playlist_id", "snapshot_id", "position")  # unique per entry
    tracks = (
        entries.where(F.col("track_id").isNotNull())
        .groupBy("track_id")
        .agg(
            F.max_by(F.struct(*curated.TRACK_ATTRIBUTES), latest).alias("latest"),
            F.min("observed_at").alias("first_seen_at"),
            F.max("observed_at").alias("last_seen_at"),
        )
        .select("track_id", "latest.*", "first_seen_at", "last_seen_at",
                F.to_date("last_seen_at").alias("chart_date"))
    )
    return conform(with_batch(tracks, batch), curated.TRACKS_DATASET)


def chart_daily_from_entries(entries: DataFrame, batch: Batch) -> DataFrame:
    """Per chart date, playlist and track: best, worst and last position, snapshots seen.

    ``entries`` must hold every curated entry of the dates to aggregate (not only the
    new ones), so each row is the complete day as known at this batch."""
    # The latest entry of the day; if a track is twice in that snapshot, its best position.
    latest = F.max(F.struct("observed_at", (-F.col("position")).alias("neg_position"), "chart_label"))
    daily = (
        entries.where(F.col("track_id").isNotNull())
        .groupBy("chart_date", "playlist_id", "track_id")
        .agg(
            F.min("position").alias("best_position"),
            F.max("position").alias("worst_position"),
            latest.alias("latest"),
            # size(collect_set): one aggregation, where countDistinct would add a stage.
            F.size(F.collect_set("snapshot_id")).alias("snapshots_seen"),
            F.min("observed_at").alias("first_seen_at"),
            F.max("observed_at").alias("last_seen_at"),
        )
        .select("*", F.col("latest.chart_label").alias("chart_label"),
                (-F.col("latest.neg_position")).alias("last_position"))
    )
    return conform(with_batch(daily, batch), curated.CHART_DAILY_DATASET)


def with_batch(frame: DataFrame, batch: Batch) -> DataFrame:
    return frame.withColumn("batch_id", F.lit(batch.batch_id)).withColumn("batch_at", batch.batch_at)


def conform(frame: DataFrame, dataset: curated.Dataset) -> DataFrame:
    """Exactly the dataset's columns, in order, with its types."""
    return frame.select(*[F.col(f.name).cast(f.dataType).alias(f.name) for f in dataset_schema(dataset).fields])
