"""What a sender recorded as sent, and what the Glue job recorded as curated: the two
ledgers reconciliation compares (producer/reconcile.py; #21 item 3).

Firehose drops records it could not deliver to S3 for 24 hours, a raw object can be
quarantined, a curated file can be overwritten: the producer's state moves on once
Firehose accepted a snapshot, so without a ledger nothing would notice. So:

* **sent**: once Firehose accepted a poll's records, the producer keeps them as sent,
  one object per poll (``<prefix>sent/<YYYY-MM-DD>/<HHMMSS>-<poll id>.jsonl.gz``: the
  records' JSON lines, gzip), so that they can be sent again as they were;
* **curated**: each Glue micro-batch writes a manifest next to its checkpoint
  (``<checkpoint>/manifests/<batch id>.json``) naming every curated file it published
  and the contract keys in it: for a chart-entries file, ``{playlist_id: {snapshot_id:
  [positions]}}``; for an observations file, ``{playlist_id: [poll ids]}``.

A sent record reached the curated data when its key (``contract.NATURAL_KEY`` for an
entry, ``contract.OBSERVATION_KEY`` for an observation) is in some manifest. Keys, not
counts: a record curated twice (Firehose and Snowpipe are at-least-once) counts once.
"""
from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable, Mapping

from firehose import contract

SENT_FOLDER = "sent/"
MANIFEST_FOLDER = "manifests/"
ENTRIES, OBSERVATIONS = "chart_entries", "chart_observations"  # the curated datasets with keys
SENT_GZIP_LEVEL = 6


class LedgerFormatError(ValueError):
    """A ledger object is not what its writer writes."""


def sent_key(prefix: str, sent_at: datetime, poll_id: str) -> str:
    """The sent-ledger key of a poll: by UTC day, then time, so that a listing is in order."""
    if "/" in poll_id or not poll_id:
        raise LedgerFormatError(f"poll id {poll_id!r} cannot name a ledger object")
    return f"{prefix}{SENT_FOLDER}{sent_at:%Y-%m-%d}/{sent_at:%H%M%S}-{poll_id}.jsonl.gz"


def encode_sent(records: Iterable[bytes]) -> bytes:
    """Records as the contract encodes them (``contract.encode``: one JSON line each), gzipped."""
    # zlib's default level: gzip's 9 took twice the CPU of every poll's ledger write (13 vs 6 ms
    # for a poll's 510 records) for objects 0.6% smaller.
    return gzip.compress(b"".join(records), compresslevel=SENT_GZIP_LEVEL, mtime=0)


def decode_sent(data: bytes) -> list[dict[str, Any]]:
    try:
        return list(contract.decode_lines(gzip.decompress(data)))
    except (OSError, EOFError, ValueError) as error:
        raise LedgerFormatError(f"not a sent-ledger object: {error}") from None


def manifest_key(checkpoint_prefix: str, batch_id: str) -> str:
    return f"{checkpoint_prefix.rstrip('/')}/{MANIFEST_FOLDER}{batch_id}.json"


@dataclass(frozen=True)
class CuratedFile:
    """One curated file a batch published, and the contract keys in it."""

    key: str  # the file's path as published (s3://bucket/curated/<dataset>/chart_date=.../<name>.parquet)
    dataset: str  # ENTRIES or OBSERVATIONS
    entries: dict[str, dict[str, list[int]]] = field(default_factory=dict)  # playlist -> snapshot -> positions
    observations: dict[str, list[str]] = field(default_factory=dict)  # playlist -> poll ids

    def to_dict(self) -> dict[str, Any]:
        keys = self.entries if self.dataset == ENTRIES else self.observations
        return {"key": self.key, "dataset": self.dataset, "keys": keys}

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> "CuratedFile":
        if value.get("dataset") == ENTRIES:
            return cls(value["key"], ENTRIES, entries=value["keys"])
        if value.get("dataset") == OBSERVATIONS:
            return cls(value["key"], OBSERVATIONS, observations=value["keys"])
        raise LedgerFormatError(f"unknown dataset in a manifest: {value.get('dataset')!r}")


def curated_files(rows: Iterable[Mapping[str, Any]], published: Mapping[str, Mapping[str, str]]) -> list[CuratedFile]:
    """A Glue batch's curated files with the keys in each. ``rows``: one per (record_type,
    chart_date, playlist_id, snapshot_id) with its ``positions`` and ``polls``;
    ``published``: dataset -> {chart date: file} (what the batch published)."""
    files: dict[str, CuratedFile] = {}
    for row in rows:
        dataset = OBSERVATIONS if row["record_type"] == contract.CHART_OBSERVATION else ENTRIES
        path = published.get(dataset, {}).get(str(row["chart_date"]))
        if path is None:
            raise LedgerFormatError(f"no published {dataset} file for {row['chart_date']}: the manifest would lie")
        file = files.setdefault(path, CuratedFile(path, dataset))
        if dataset == ENTRIES:
            file.entries.setdefault(row["playlist_id"], {})[row["snapshot_id"]] = [int(p) for p in row["positions"]]
        else:
            file.observations[row["playlist_id"]] = sorted({*file.observations.get(row["playlist_id"], []),
                                                            *row["polls"]})
    return list(files.values())


def manifest_json(batch_id: str, files: Iterable[CuratedFile]) -> str:
    files = sorted(files, key=lambda f: f.key)
    return json.dumps({"batch_id": batch_id, "files": [f.to_dict() for f in files]}, sort_keys=True,
                      separators=(",", ":"))


def read_manifest(text: str | bytes) -> list[CuratedFile]:
    try:
        value = json.loads(text)
        return [CuratedFile.from_dict(f) for f in value["files"]]
    except (ValueError, KeyError, TypeError) as error:
        raise LedgerFormatError(f"not a curated manifest: {error}") from None


class CuratedKeys:
    """Every contract key the manifests read so far name, and which file holds each."""

    def __init__(self) -> None:
        self.entries: dict[tuple[str, str, int], str] = {}
        self.observations: dict[tuple[str, str], str] = {}
        self._files: set[str] = set()  # every file named, those holding only repeated keys too

    def add(self, files: Iterable[CuratedFile]) -> None:
        for file in files:
            self._files.add(file.key)
            for playlist, snapshots in file.entries.items():
                for snapshot, positions in snapshots.items():
                    for position in positions:
                        self.entries.setdefault((playlist, snapshot, int(position)), file.key)
            for playlist, polls in file.observations.items():
                for poll in polls:
                    self.observations.setdefault((playlist, poll), file.key)

    def file_of(self, record: Mapping[str, Any]) -> str | None:
        """The curated file that holds ``record``'s key, or None if none does."""
        if record.get("record_type") == contract.CHART_OBSERVATION:
            return self.observations.get((record["playlist_id"], record["poll_id"]))
        return self.entries.get((record["playlist_id"], record["snapshot_id"], int(record["position"])))

    def files(self) -> set[str]:
        """Every curated file the manifests name (a file of records curated before included)."""
        return set(self._files)
