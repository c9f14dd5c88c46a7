"""A batch's curated manifest: every file it published and the contract keys in it
(``firehose/ledger.py``), next to the checkpoint, for reconciliation.

The producer keeps what it sent; this says what was curated; the reconciler compares them
and sends again what never arrived (Firehose drops what it could not deliver for 24 h).
Written before Spark commits the batch, from the batch's own rows: a replayed batch
writes the same manifest again.
"""
from __future__ import annotations

from typing import Iterable, Mapping

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from firehose import contract, ledger


def batch_keys(records: DataFrame) -> list:
    """(record_type, chart_date, playlist_id, snapshot_id, positions, polls) of the batch's
    valid records: one small aggregation, collected to the driver (a day holds a few
    hundred snapshots)."""
    return (records.where(F.col("problem").isNull())
            .groupBy("record_type", "chart_date", "playlist_id", "snapshot_id")
            .agg(F.sort_array(F.collect_set("position")).alias("positions"),
                 F.sort_array(F.collect_set("poll_id")).alias("polls"))
            .collect())


def manifest_files(rows: Iterable, published: Mapping[str, Mapping[str, str]]) -> list[ledger.CuratedFile]:
    """The curated files of a batch with their keys; ``published``: dataset -> {date: file}."""
    files: dict[str, ledger.CuratedFile] = {}
    for row in rows:
        dataset = ledger.OBSERVATIONS if row["record_type"] == contract.CHART_OBSERVATION else ledger.ENTRIES
        path = published.get(dataset, {}).get(str(row["chart_date"]))
        if path is None:
            raise ValueError(f"no published {dataset} file for {row['chart_date']}: the manifest would lie")
        file = files.setdefault(path, ledger.CuratedFile(path, dataset))
        if dataset == ledger.ENTRIES:
            file.entries.setdefault(row["playlist_id"], {})[row["snapshot_id"]] = [int(p) for p in row["positions"]]
        else:
            file.observations.setdefault(row["playlist_id"], []).extend(row["polls"])
    for file in files.values():
        for playlist, polls in file.observations.items():
            file.observations[playlist] = sorted(set(polls))
    return list(files.values())
