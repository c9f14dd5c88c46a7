"""Turning Spotify playlist entries into contract records.

A read of a chart also gives one observation record (:func:`observation_record`),
changed or not: the snapshot seen, when, by which poll.

Every entry keeps its 1-based index in the playlist as its position, so skipped
entries never shift the others. Tracks, episodes, local files and unavailable
tracks are recorded with their ``entry_type``; entries with nothing in them
(``null``, or an item of a type the contract does not know) are skipped with a
reason the poll counts and logs. So are malformed entries (:class:`MalformedEntryError`:
an entry, item, artist or album that is not an object, an ``added_at`` that is not a
timestamp): one bad entry costs that entry, never its chart.
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


class MalformedEntryError(ValueError):
    """An entry is not shaped as the API promises: it is skipped with this reason."""


_JSON_KINDS = ((bool, "a boolean"), (str, "a string"), ((int, float), "a number"), (list, "an array"),
               (dict, "an object"))


def json_kind(value: Any) -> str:
    """What a decoded JSON value is, in JSON's words: 'a string', 'an array', ..."""
    if value is None:
        return "null"
    for kind, name in _JSON_KINDS:
        if isinstance(value, kind):
            return name
    return f"a {type(value).__name__}"


def _object(value: Any, what: str) -> Mapping[str, Any]:
    """``value`` if it is an object; ``{}`` for null."""
    if value is None:
        return {}
    if not isinstance(value, dict):  # decoded JSON: a dict (and isinstance of Mapping costs 10 times more)
        raise MalformedEntryError(f"{what} is {json_kind(value)}, not an object")
    return value


def _objects(value: Any, what: str) -> list[Mapping[str, Any]]:
    """The non-empty objects of a list (null: none)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedEntryError(f"{what}s is {json_kind(value)}, not an array")
    return [o for o in (_object(v, what) for v in value) if o]


def entry_item(entry: Any) -> Mapping[str, Any] | None:
    """The track or episode of an entry: under ``item`` since 2026, ``track`` before."""
    if entry is None:
        return None
    entry = _object(entry, "entry")
    item = entry.get("item")
    item = item if item is not None else entry.get("track")
    return None if item is None else _object(item, "item")


def added_at_text(value: Any) -> str | None:
    """The contract's timestamp of an entry's ``added_at``; None when Spotify does not know it."""
    # Spotify sends "1970-01-01T00:00:00Z" for entries whose date it lost: treat as unknown.
    if value is None or value == "" or (isinstance(value, str) and value.startswith("1970-01-01")):
        return None
    if not isinstance(value, str):
        raise MalformedEntryError(f"added_at is {json_kind(value)}, not a timestamp")
    try:
        moment = contract.parse_timestamp(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        shown = value if len(value) <= 40 else value[:37] + "..."
        raise MalformedEntryError(f"added_at {shown!r} is not a UTC timestamp")
    return contract.format_timestamp(moment)


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
    """One record for one entry, or the reason it carries nothing to record.
    Raises MalformedEntryError, or the contract's RecordContractError, for a bad entry."""
    item = entry_item(entry)
    if item is None:
        return SkippedEntry(position, "null_entry")
    kind = entry_type(entry, item)
    if kind is None:
        return SkippedEntry(position, f"unknown_item_type:{item.get('type')}")
    if kind == contract.ENTRY_EPISODE:
        show = _object(item.get("show"), "show")
        people = [show] if show else []
        album: Mapping[str, Any] = {}
        release_date, precision = item.get("release_date"), item.get("release_date_precision")
    else:
        people = _objects(item.get("artists"), "artist")
        album = _object(item.get("album"), "album")
        release_date, precision = album.get("release_date"), album.get("release_date_precision")
    added_at = added_at_text(entry.get("added_at"))
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
        isrc=_object(item.get("external_ids"), "external_ids").get("isrc"),
        popularity=item.get("popularity"),
        added_at=added_at,
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
