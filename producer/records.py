"""Turning Spotify playlist entries into contract records.

A read of a chart also gives one observation record (:func:`observation_record`),
changed or not: the snapshot seen, when, by which poll.

Every entry keeps its 1-based index in the playlist as its position, so skipped
entries never shift the others. Tracks, episodes, local files and unavailable
tracks are recorded with their ``entry_type``; entries with nothing in them
(``null``, or an item of a type the contract does not know) are skipped with a
reason the poll counts and logs.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping

from firehose import contract


@dataclass(frozen=True)
class SkippedEntry:
    position: int
    reason: str


def entry_item(entry: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """The track or episode of an entry: under ``item`` since 2026, ``track`` before."""
    if not entry:
        return None
    item = entry.get("item")
    return item if item is not None else entry.get("track")


def entry_type(entry: Mapping[str, Any], item: Mapping[str, Any]) -> str | None:
    if entry.get("is_local") or item.get("is_local"):
        return contract.ENTRY_LOCAL
    kind = item.get("type", "track")
    if kind == "episode":
        return contract.ENTRY_EPISODE
    if kind != "track":
        return None
    if item.get("is_playable") is False or item.get("restrictions") or not item.get("id"):
        return contract.ENTRY_UNAVAILABLE
    return contract.ENTRY_TRACK


def entry_to_record(
    entry: Mapping[str, Any] | None,
    position: int,
    *,
    poll_id: str,
    observed_at: datetime,
    playlist_id: str,
    chart_label: str,
    playlist_name: str,
    snapshot_id: str,
) -> dict[str, Any] | SkippedEntry:
    """One record for one entry, or the reason it carries nothing to record."""
    item = entry_item(entry)
    if item is None:
        return SkippedEntry(position, "null_entry")
    kind = entry_type(entry, item)
    if kind is None:
        return SkippedEntry(position, f"unknown_item_type:{item.get('type')}")
    if kind == contract.ENTRY_EPISODE:
        show = item.get("show") or {}
        people = [show] if show else []
        album: Mapping[str, Any] = {}
        release_date, precision = item.get("release_date"), item.get("release_date_precision")
    else:
        people = [a for a in item.get("artists") or [] if a]
        album = item.get("album") or {}
        release_date, precision = album.get("release_date"), album.get("release_date_precision")
    added_at = entry.get("added_at")
    return contract.make_record(
        poll_id=poll_id,
        observed_at=contract.format_timestamp(observed_at),
        playlist_id=playlist_id,
        chart_label=chart_label,
        playlist_name=playlist_name,
        snapshot_id=snapshot_id,
        position=position,
        entry_type=kind,
        track_id=item.get("id"),
        track_name=item.get("name"),
        artist_ids=[p.get("id") for p in people],
        artist_names=[p.get("name") or "" for p in people],
        album_id=album.get("id"),
        album_name=album.get("name"),
        album_release_date=release_date or None,
        album_release_date_precision=precision or None,
        duration_ms=item.get("duration_ms"),
        explicit=item.get("explicit"),
        isrc=(item.get("external_ids") or {}).get("isrc"),
        popularity=item.get("popularity"),
        # Spotify sends "1970-01-01T00:00:00Z" for entries whose date it lost: treat as unknown.
        added_at=contract.format_timestamp(contract.parse_timestamp(added_at))
        if added_at and not added_at.startswith("1970-01-01") else None,
    )


def utc_from_epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def observation_record(*, poll_id: str, observed_at: datetime, playlist_id: str, chart_label: str,
                       playlist_name: str, snapshot_id: str, entry_count: int) -> dict[str, Any]:
    """The record of one successful read of a chart: which snapshot, when, by which poll."""
    return contract.make_observation(
        poll_id=poll_id,
        observed_at=contract.format_timestamp(observed_at),
        playlist_id=playlist_id,
        chart_label=chart_label,
        playlist_name=playlist_name,
        snapshot_id=snapshot_id,
        entry_count=entry_count,
    )
