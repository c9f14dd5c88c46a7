"""Small raw inputs for the Glue job tests: contract records written as Firehose would."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

from firehose import contract


def record(**overrides) -> dict:
    """A valid contract record; override any field."""
    values = dict(
        poll_id="poll-1", observed_at="2026-11-20T10:00:00.000Z", playlist_id="PL1", chart_label="global",
        playlist_name="Top 50 - Global", snapshot_id="snap-1", position=1, entry_type="track",
        track_id="T1", track_name="Song 1", artist_ids=["A1"], artist_names=["Artist 1"], album_id="AL1",
        album_name="Album 1", album_release_date="2026-01-02", album_release_date_precision="day",
        duration_ms=180000, explicit=False, isrc="QZABC2600001", popularity=None,
        added_at="2026-11-19T00:05:00Z",
    )
    values.update(overrides)
    return contract.make_record(**values)


def observation(**overrides) -> dict:
    """A valid observation record (a chart read: which snapshot, when); override any field."""
    values = dict(poll_id="poll-1", observed_at="2026-11-20T10:00:00.000Z", playlist_id="PL1", chart_label="global",
                  playlist_name="Top 50 - Global", snapshot_id="snap-1", entry_count=3)
    values.update(overrides)
    return contract.make_observation(**values)


def chart(positions: int = 3, **overrides) -> list[dict]:
    """One poll of one chart: ``positions`` entries, track Tn at position n."""
    return [record(position=n, track_id=f"T{n}", track_name=f"Song {n}", **overrides)
            for n in range(1, positions + 1)]


def encoded(records: list[dict]) -> list[bytes]:
    return [contract.encode(r) for r in records]


def write_object(folder: Path, key: str, lines: list[bytes | str], *, gzipped: bool = False) -> Path:
    """Write one raw object like Firehose: JSON lines, gzip or plain, no file extension."""
    data = b"".join(line if isinstance(line, bytes) else line.encode("utf-8") for line in lines)
    path = folder / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data) if gzipped else data)
    return path


def json_line(value) -> bytes:
    return (json.dumps(value, separators=(",", ":")) + "\n").encode()


def job_arguments(paths: dict[str, Path], **extra: str) -> dict[str, str]:
    """Job arguments for the folders of the ``job_paths`` fixture."""
    return {
        "source_path": str(paths["raw"]), "target_path": str(paths["curated"]),
        "quarantine_path": str(paths["quarantine"]), "checkpoint_path": str(paths["checkpoint"]),
        "shuffle_partitions": "4", **extra,
    }
