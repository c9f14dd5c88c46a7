"""Rows of the curated datasets for tests, complete with every column of glue_streaming/curated.py."""
from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping

from firehose import contract
from glue_streaming import curated
from local_spotify.catalog import spotify_id
from localdev.local_snowflake.curated_files import write_file
from localdev.local_snowflake.loader import CuratedLoader

BATCH_AT = datetime(2024, 1, 10, 6, 0, tzinfo=timezone.utc)


def at(text: str) -> datetime:
    """'2024-01-02 08:00' as an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def entry(playlist: str, snapshot: str, observed: str, position: int, track: str | None,
          artists: tuple[str, ...] = ("Artist",), *, batch: str = "1-a", batch_at: datetime = BATCH_AT,
          source_file: str = "raw/f1", **overrides: Any) -> dict[str, Any]:
    """A chart_entries row; ``track`` is a short name (its id is derived), None for a local file."""
    observed_at = at(observed)
    row = {
        "chart_date": observed_at.date(),
        "playlist_id": spotify_id("playlist", playlist),
        "chart_label": playlist,
        "playlist_name": f"Top - {playlist}",
        "snapshot_id": snapshot,
        "poll_id": f"poll-{observed}",
        "observed_at": observed_at,
        "position": position,
        "entry_type": "track" if track else "local",
        "track_id": spotify_id("track", track) if track else None,
        "track_name": track or "a local file",
        "artist_ids": [spotify_id("artist", a) for a in artists],
        "artist_names": list(artists),
        "album_id": None,
        "album_name": None,
        "album_release_date": "2023-05-01",
        "album_release_date_precision": "day",
        "duration_ms": 180000,
        "explicit": False,
        "isrc": None,
        "popularity": None,
        "added_at": None,
        "source_file": source_file,
        "batch_id": batch,
        "batch_at": batch_at,
        "origin": "playlist",
        **{name: None for name in contract.EXPORT_FIELDS},  # what only a chart export states
    }
    row.update(overrides)
    return row


def observation_row(playlist: str, snapshot: str, observed: str, *, poll: str | None = None,
                    chart_date: str | None = None, entry_count: int = 4, batch: str = "1-a",
                    batch_at: datetime = BATCH_AT, source_file: str = "raw/f1") -> dict[str, Any]:
    """A chart_observations row: ``playlist`` read at ``observed`` showed ``snapshot``;
    ``chart_date`` if its source stated one (else the UTC date of ``observed``)."""
    observed_at = at(observed)
    return {
        "chart_date": date.fromisoformat(chart_date) if chart_date else observed_at.date(),
        "playlist_id": spotify_id("playlist", playlist),
        "chart_label": playlist,
        "playlist_name": f"Top - {playlist}",
        "snapshot_id": snapshot,
        "poll_id": poll or f"poll-{observed}",
        "observed_at": observed_at,
        "entry_count": entry_count,
        "source_file": source_file,
        "batch_id": batch,
        "batch_at": batch_at,
        "origin": "playlist",
    }


def query(db, sql: str, *params: Any) -> list[tuple]:
    cursor = db.cursor()
    cursor.execute(sql, params or None)
    return [tuple(row) for row in cursor.fetchall()]


def load_rows(loader: CuratedLoader, dataset: curated.Dataset, rows: Iterable[Mapping[str, Any]],
              file_name: str, *, merge: bool = True) -> list[str]:
    """Write rows as curated files below the loader's stage, COPY them with their pipe, merge."""
    paths = write_file(loader.stage_dir / "bucket", dataset, rows, file_name)
    relative = [Path(p).relative_to(loader.stage_dir).as_posix() for p in paths]
    for path in relative:
        loader.copy(path)
    if merge:
        loader.merge()
    return relative
