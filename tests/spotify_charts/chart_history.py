"""Real chart history for the report and dashboard tests: the bundled daily Top 50
(local_spotify's catalog) as curated chart_entries files, loaded into the local engine
through the Snowpipe loader (the pipe's own COPY, then the merge task's MERGE).

One snapshot per chart day, observed at 06:00 UTC; days missing from the data stay
missing, as they would in the pipeline (the producer records nothing on them).
"""
from __future__ import annotations

import hashlib
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

from firehose import contract
from glue_streaming.curated import CHART_ENTRIES_DATASET
from local_spotify.catalog import MARKETS_BY_LABEL, load_market
from localdev.local_snowflake.curated_files import write_file
from localdev.local_snowflake.loader import CuratedLoader

BATCH_AT = datetime(2024, 12, 1, 6, 0, tzinfo=timezone.utc)


def snapshot_id(label: str, day: date) -> str:
    return hashlib.sha256(f"{label}/{day}".encode()).hexdigest()[:28]


def chart_rows(label: str, first: date, last: date, shift: timedelta = timedelta(0)) -> list[dict]:
    """chart_entries rows of every daily chart of ``label`` in [first, last] that the data has;
    ``shift`` moves the dates (e.g. so the history ends yesterday)."""
    market = MARKETS_BY_LABEL[label]
    rows = []
    for chart_day, tracks in load_market(label).items():
        if not first <= chart_day <= last:
            continue
        day = chart_day + shift
        observed = datetime.combine(day, time(6, 0), tzinfo=timezone.utc)
        for t in tracks:
            rows.append({
                "chart_date": day, "playlist_id": market.playlist_id, "chart_label": label,
                "playlist_name": market.name, "snapshot_id": snapshot_id(label, day),
                "poll_id": f"poll-{day}", "observed_at": observed, "position": t.position,
                "entry_type": "track", "track_id": t.track_id, "track_name": t.song,
                "artist_ids": list(t.artist_ids), "artist_names": list(t.artists),
                "album_id": t.album_id, "album_name": t.album_name, "album_release_date": t.release_date,
                "album_release_date_precision": t.release_date_precision, "duration_ms": t.duration_ms,
                "explicit": t.explicit, "isrc": t.isrc, "popularity": t.popularity,
                "added_at": observed - timedelta(days=1), "source_file": f"raw/{label}/{day}.json",
                "batch_id": "0-history", "batch_at": BATCH_AT,
                "origin": contract.ORIGIN_PLAYLIST, **{name: None for name in contract.EXPORT_FIELDS},
            })
    return rows


def rows_from_records(records: list[dict], source_file: str, batch_id: str) -> list[dict]:
    """chart_entries rows of producer records (what the Glue job curates from valid records)."""
    rows = []
    for record in records:
        observed = contract.parse_timestamp(record["observed_at"])
        # What a playlist's record of an older contract version leaves out (the Glue job fills the same).
        row = {"origin": contract.ORIGIN_PLAYLIST, **{name: None for name in contract.EXPORT_FIELDS},
               **{k: v for k, v in record.items() if k != "schema_version"}}
        row.update(chart_date=observed.date(), observed_at=observed, source_file=source_file,
                   batch_id=batch_id, batch_at=BATCH_AT,
                   added_at=contract.parse_timestamp(record["added_at"]) if record["added_at"] else None)
        rows.append(row)
    return rows


def load_rows(db, stage_dir: Path, rows: list[dict], file_name: str) -> int:
    """Load chart_entries rows as a curated file (the pipe's COPY, then the task's MERGE)."""
    loader = CuratedLoader(db, stage_dir)
    paths = write_file(loader.stage_dir / "curated", CHART_ENTRIES_DATASET, rows, file_name)
    loaded = sum(loader.copy(Path(path).relative_to(loader.stage_dir).as_posix()).rows for path in paths)
    loader.merge()
    return loaded


def load_history(db, stage_dir: Path, label: str, first: date, last: date, shift: timedelta = timedelta(0)) -> int:
    """Load the history of one chart; returns the rows loaded."""
    return load_rows(db, stage_dir, chart_rows(label, first, last, shift), f"{label}-history.parquet")
